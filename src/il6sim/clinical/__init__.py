"""Clinical definitions computed from model trajectories, each with its source.

Everything here reads a :class:`~il6sim.engine.SimulationResult` and applies published
definitions to the model's read-outs; nothing is set per preset:

- :func:`sofa` — the Sequential Organ Failure Assessment, 0–24 (Vincent JL 1996 Intensive Care
  Med 22:707; thresholds as in Singer M 2016 JAMA 315:801, Table 1), from P/F, platelets,
  bilirubin, mean arterial pressure, Glasgow coma scale and creatinine;
- :func:`ards_category` — the Berlin definition (Ranieri VM 2012 JAMA 307:2526);
- :func:`sepsis` — Sepsis-3: infection plus an acute SOFA rise of 2 or more (Singer 2016);
- :func:`cytokine_storm` — the documented storm definition below;
- :func:`needs_ventilation`, :func:`death_time`, :func:`recovery_time` and :func:`outcomes`;
- :func:`secondary_infection_hazard` / :func:`secondary_infection_probability` — the cost of
  blocking IL-6, from the leukocyte IL-6 defence deficit (claim C15).
"""

from ._definitions import (
    SOFA_COMPONENTS,
    STORM_DEFINITION,
    VENTILATION_PF,
    ards_category,
    cytokine_storm,
    death_hazard,
    death_time,
    infected,
    needs_ventilation,
    outcomes,
    recovery_time,
    sepsis,
    sofa,
    sofa_components,
)
from ._secondary import (
    IL6_DEFENCE_WEIGHT,
    SECONDARY_BASE_PER_DAY,
    defence_deficit,
    secondary_infection_hazard,
    secondary_infection_probability,
)

__all__ = [
    "IL6_DEFENCE_WEIGHT",
    "SECONDARY_BASE_PER_DAY",
    "SOFA_COMPONENTS",
    "STORM_DEFINITION",
    "VENTILATION_PF",
    "ards_category",
    "cytokine_storm",
    "death_hazard",
    "death_time",
    "defence_deficit",
    "infected",
    "needs_ventilation",
    "outcomes",
    "recovery_time",
    "secondary_infection_hazard",
    "secondary_infection_probability",
    "sepsis",
    "sofa",
    "sofa_components",
]
