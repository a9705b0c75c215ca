"""Clinical definitions computed from model trajectories, each with its source.

Everything here reads a :class:`~il6sim.engine.SimulationResult` and applies published
definitions to the model's read-outs; nothing is set per preset:

- :func:`sofa` — the Sequential Organ Failure Assessment, 0–24 (Vincent JL 1996 Intensive Care
  Med 22:707; thresholds as in Singer M 2016 JAMA 315:801, Table 1), from P/F, platelets,
  bilirubin, mean arterial pressure, Glasgow coma scale and creatinine;
- :func:`ards_category` — the Berlin definition (Ranieri VM 2012 JAMA 307:2526);
- :func:`sepsis` — Sepsis-3: infection plus an acute SOFA rise of 2 or more (Singer 2016);
  :func:`septic_shock` — sepsis with vasopressors needed for MAP ≥ 65 mmHg and lactate
  > 2 mmol/L;
- :func:`cytokine_storm` — the documented storm definition below;
- :func:`death_hazard` / :func:`death_time` — death as a hazard of SOFA, age and refractory
  shock, its constants fitted to published mortality (:mod:`._death`, data/targets/death.yaml);
- :func:`needs_ventilation`, :func:`recovery_time` and :func:`outcomes`;
- :func:`who_scale` — the WHO Clinical Progression Scale, 0–10 (WHO Working Group 2020 Lancet
  Infect Dis 20:e192), and :func:`niaid_scale` — the NIAID 8-point scale (Beigel JH 2020 N Engl
  J Med 383:1813), read from the physiology with the rules of :mod:`._ordinal`;
- :func:`spo2_from_pf` / :func:`pf_from_spo2` — the one oxygen-dissociation conversion
  (Severinghaus JW 1979 J Appl Physiol 46:599, on room air; :mod:`il6sim.model._oxygen`);
- :func:`secondary_infection_hazard` / :func:`secondary_infection_probability` — the cost of
  blocking IL-6, from the leukocyte IL-6 defence deficit (claim C15);
- :func:`hai_hazard` / :func:`hai_onset` — a hospital-acquired bacterial infection as an event:
  its hazard from ventilation, the IL-6 defence deficit, glucocorticoid response and
  lymphopenia (:mod:`._hai`); trials turn the event into a bacterial inoculum.
"""

from ..model._oxygen import pf_from_spo2, spo2_from_pf
from ._death import (
    HAZARD_AGE,
    HAZARD_BASE,
    HAZARD_HIGH_SLOPE,
    HAZARD_KNOT,
    HAZARD_REFERENCE_AGE,
    HAZARD_SLOPE,
    REFRACTORY_SHOCK_HAZARD,
    death_hazard,
    death_time,
    hazard_from_terms,
    hazard_terms,
)
from ._definitions import (
    SOFA_COMPONENTS,
    STORM_DEFINITION,
    VENTILATION_PF,
    ards_category,
    cumulative_hazard,
    cytokine_storm,
    infected,
    needs_ventilation,
    outcomes,
    recovery_time,
    sepsis,
    septic_shock,
    sofa,
    sofa_components,
)
from ._hai import hai_hazard, hai_onset
from ._ordinal import (
    NIAID_LEVELS,
    WHO_LEVELS,
    daily_worst,
    discharge_time,
    niaid_from_who,
    niaid_scale,
    on_ventilator,
    ready_for_discharge,
    who_scale,
)
from ._secondary import (
    IL6_DEFENCE_WEIGHT,
    SECONDARY_BASE_PER_DAY,
    defence_deficit,
    secondary_infection_hazard,
    secondary_infection_probability,
)

__all__ = [
    "HAZARD_AGE",
    "HAZARD_BASE",
    "HAZARD_HIGH_SLOPE",
    "HAZARD_KNOT",
    "HAZARD_REFERENCE_AGE",
    "HAZARD_SLOPE",
    "IL6_DEFENCE_WEIGHT",
    "NIAID_LEVELS",
    "REFRACTORY_SHOCK_HAZARD",
    "SECONDARY_BASE_PER_DAY",
    "SOFA_COMPONENTS",
    "STORM_DEFINITION",
    "VENTILATION_PF",
    "WHO_LEVELS",
    "ards_category",
    "cumulative_hazard",
    "cytokine_storm",
    "daily_worst",
    "death_hazard",
    "death_time",
    "defence_deficit",
    "discharge_time",
    "hai_hazard",
    "hai_onset",
    "hazard_from_terms",
    "hazard_terms",
    "infected",
    "needs_ventilation",
    "niaid_from_who",
    "niaid_scale",
    "on_ventilator",
    "outcomes",
    "pf_from_spo2",
    "ready_for_discharge",
    "recovery_time",
    "secondary_infection_hazard",
    "secondary_infection_probability",
    "sepsis",
    "septic_shock",
    "sofa",
    "sofa_components",
    "spo2_from_pf",
    "who_scale",
]
