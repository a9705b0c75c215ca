"""In-silico studies built on the engine: when and in whom IL-6 blockade helps.

- :func:`run_timing` — the day-of-treatment × phenotype grid of claim C16 (:mod:`.timing`),
  untreated vs treated for the same patient, with IL-6/CRP at treatment as selection
  information; :func:`plot_timing` draws its heat map.
- :func:`load_phenotypes` — patient phenotypes as data (``il6sim/data/studies/timing.yaml``,
  or a file of your own).
"""

from ._phenotypes import Phenotype, PhenotypeSet, load_phenotypes
from ._timing_plot import plot_timing
from .timing import DEFAULT_DAYS, OUTCOMES, TimingResult, parse_days, run_timing

__all__ = [
    "DEFAULT_DAYS",
    "OUTCOMES",
    "Phenotype",
    "PhenotypeSet",
    "TimingResult",
    "load_phenotypes",
    "parse_days",
    "plot_timing",
    "run_timing",
]
