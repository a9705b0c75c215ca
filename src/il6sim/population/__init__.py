"""Virtual patients: populations declared as data and calibrated to real cohorts.

>>> from il6sim.population import VirtualPopulation
>>> from il6sim.cohort import load_cohort
>>> pop = VirtualPopulation("covid19-hospitalised", n=16000, random_state=0)
>>> table = pop.sample(100)                  # prior draws: covariates, times, parameters
>>> pop.fit(load_cohort())                   # simulate, admit, weight, select
>>> pop.goodness_of_fit_                     # KS per marker and outcome group
>>> pop.save("population.parquet")

Declarations live in ``il6sim/data/populations/*.yaml``; the method is described in
:mod:`il6sim.population._population` and ``docs/population.md``.
"""

from ._calibrated import CalibratedSource, load_calibrated, save_calibrated
from ._course import COURSE_RESULT_COLUMNS, read_course, simulate_course
from ._io import load_table, save_table
from ._population import VirtualPopulation
from ._spec import PopulationSpec, list_population_specs, load_population_spec
from ._targets import CohortTargets, cohort_targets

__all__ = [
    "COURSE_RESULT_COLUMNS",
    "CalibratedSource",
    "CohortTargets",
    "PopulationSpec",
    "VirtualPopulation",
    "cohort_targets",
    "list_population_specs",
    "load_calibrated",
    "load_population_spec",
    "load_table",
    "read_course",
    "save_calibrated",
    "save_table",
    "simulate_course",
]
