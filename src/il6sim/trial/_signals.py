"""What a protocol can test: model read-outs, covariates and clinical signals over time.

Every signal is an array ``(patients, times)`` on the screening run's grid, in a fixed unit:

- any model read-out (``il6sim model`` lists them) in its declared unit: ``il6`` (pg/mL),
  ``crp`` (mg/L), ``pf_ratio`` (mmHg), ``spo2`` (%, on room air), ``sf_ratio``, ``ldh_level``,
  ``lymphocytes``, ``ferritin_level``, ...;
- a covariate of the population: ``age`` (year), ``weight`` (kg), ``male``, ``comorbidity``;
- clinical signals defined here: ``days_since_onset`` and ``days_since_admission`` (d),
  ``respiratory_support`` (0 none, 1 oxygen, 2 non-invasive support, 3 invasive ventilation),
  ``oxygen`` (support ≥ 1), ``non_invasive`` (support ≥ 2: high-flow oxygen, CPAP or
  non-invasive ventilation, or more), ``imv`` (invasive ventilation), ``organ_support``
  (non-invasive or invasive respiratory support, or a blood pressure that needs vasopressors),
  ``hours_since_organ_support`` (h), ``sofa`` and ``cumulative_death_hazard`` (the SOFA-based
  death hazard accumulated since the start of the run: infection for screening, randomisation
  for an arm's course; :func:`il6sim.clinical.death_hazard`);
- ``who_level``: the WHO Clinical Progression Scale (0–10, :func:`il6sim.clinical.who_scale`;
  10 once the patient's death threshold is crossed), and ``who_improvement``: points it has
  fallen since the course's reference time (an arm's first dose for a second-dose condition,
  admission when screening): ``{signal: who_improvement, below: 1}`` is "no improvement".

**Respiratory support from P/F.** The model has no oxygen prescription, so support is read from
the oxygenation it would need: P/F < 300 (SpO2 < 91.7 % on air by the one conversion of
:mod:`il6sim.model._oxygen`, Severinghaus JW 1979 J Appl Physiol 46:599; the RECOVERY hypoxia
criterion "SpO2 < 92 %") needs oxygen; P/F < 200 (Berlin moderate ARDS,
ARDS Definition Task Force 2012 JAMA 307:2526) high-flow or non-invasive ventilation; P/F < 150
invasive ventilation (:data:`il6sim.clinical.VENTILATION_PF`). A mean arterial pressure below 65
mmHg needs vasopressors (Singer M 2016 JAMA 315:801).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..clinical import VENTILATION_PF, death_hazard, sofa
from ..clinical._ordinal import HIGH_FLOW_PF, OXYGEN_PF, VASOPRESSOR_MAP, who_scale
from ..engine.results import SimulationResult
from ..errors import InputError
from ..model import Model
from ..model.units import ureg
from ..population._course import first_time
from ._entry import Criterion

#: P/F (mmHg) below which a patient needs oxygen, non-invasive support, invasive ventilation
#: (the thresholds of the WHO scale, :mod:`il6sim.clinical._ordinal`; ``VASOPRESSOR_MAP``, the
#: mean arterial pressure below which vasopressors are needed, comes from there too).
SUPPORT_PF = (OXYGEN_PF, HIGH_FLOW_PF, VENTILATION_PF)
#: Population covariates a criterion may name, with their units.
COVARIATES = {"age": "year", "weight": "kg", "male": "", "comorbidity": ""}


class Course:
    """One chunk's screening run (or an arm's course) and the times the population rule gave
    each patient (``course``: ``onset_h``, ``admission_h`` on the run's clock).

    ``death_threshold`` (default: the table's ``death_threshold``) is what the run's
    cumulative death hazard must reach for death; ``reference_h`` (default: admission) is the
    time per patient from which ``who_improvement`` counts."""

    def __init__(self, result: SimulationResult, table: pd.DataFrame, course: pd.DataFrame, *,
                 death_threshold: np.ndarray | None = None,
                 reference_h: np.ndarray | None = None):
        self.result, self.table, self.course = result, table, course
        self.time = result.time
        self.death_threshold = (table["death_threshold"].to_numpy(float)
                                if death_threshold is None else np.asarray(death_threshold))
        self.reference_h = (course["admission_h"].to_numpy(float) if reference_h is None
                            else np.asarray(reference_h, float))
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = _compute(self, name)
        return self._cache[name]

    def hours(self, column: str) -> np.ndarray:
        return self.course[column].to_numpy(float)[:, None]


def _support(c: Course) -> np.ndarray:
    pf = c.result.output("pf_ratio")
    return sum((pf < cut).astype(float) for cut in SUPPORT_PF)


def _organ_support(c: Course) -> np.ndarray:
    return ((c["respiratory_support"] >= 2) | (c.result.output("map") < VASOPRESSOR_MAP)
            ).astype(float)


def _since_organ_support(c: Course) -> np.ndarray:
    on = c["organ_support"] > 0
    first = first_time(c.time, on)[:, None]
    since = c.time[None, :] - first
    return np.where(since >= 0, since, np.nan)


def _who_level(c: Course) -> np.ndarray:
    death_h = first_time(c.time, c["cumulative_death_hazard"] >= c.death_threshold[:, None])
    return who_scale(c.result, death_h=death_h)


def _who_improvement(c: Course) -> np.ndarray:
    """WHO level at the reference time (the last grid time at or before it) minus now; NaN
    before the reference time."""
    level = c["who_level"]
    at = np.clip(np.searchsorted(c.time, c.reference_h + 1e-9) - 1, 0, len(c.time) - 1)
    before = level[np.arange(len(at)), at]
    out = before[:, None] - level
    return np.where(c.time[None, :] >= c.reference_h[:, None] - 1e-9, out, np.nan)


#: Clinical signals: name → (unit, how to compute it from a :class:`Course`).
CLINICAL: dict[str, tuple[str, Callable[[Course], np.ndarray]]] = {
    "days_since_onset": ("d", lambda c: (c.time[None, :] - c.hours("onset_h")) / 24.0),
    "days_since_admission": ("d", lambda c: (c.time[None, :] - c.hours("admission_h")) / 24.0),
    "respiratory_support": ("", _support),
    "oxygen": ("", lambda c: (c["respiratory_support"] >= 1).astype(float)),
    "non_invasive": ("", lambda c: (c["respiratory_support"] >= 2).astype(float)),
    "imv": ("", lambda c: (c["respiratory_support"] >= 3).astype(float)),
    "organ_support": ("", _organ_support),
    "hours_since_organ_support": ("h", _since_organ_support),
    "sofa": ("", lambda c: sofa(c.result).astype(float)),
    "cumulative_death_hazard": ("", lambda c: np.cumsum(
        death_hazard(c.result) * np.diff(c.time, prepend=c.time[0]), axis=1)),
    "who_level": ("", _who_level),
    "who_improvement": ("", _who_improvement),
}


#: Names of the values of categorical signals: subgroups and reports show these, not codes.
LEVEL_NAMES: dict[str, dict[float, str]] = {
    "respiratory_support": {0: "no oxygen", 1: "oxygen only", 2: "non-invasive support",
                            3: "invasive ventilation"},
    "male": {0: "female", 1: "male"},
    **{name: {0: "no", 1: "yes"} for name in ("oxygen", "non_invasive", "imv", "organ_support",
                                               "comorbidity")},
}


def _compute(c: Course, name: str) -> np.ndarray:
    shape = (len(c.table), len(c.time))
    if name in CLINICAL:
        return np.broadcast_to(CLINICAL[name][1](c), shape)
    if name in COVARIATES:
        return np.broadcast_to(c.table[name].to_numpy(float)[:, None], shape)
    return c.result.output(name)


def signal_unit(name: str, model: Model) -> str:
    """The unit of a signal; an unknown name is an :class:`InputError` listing the choices."""
    if name in CLINICAL:
        return CLINICAL[name][0]
    if name in COVARIATES:
        return COVARIATES[name]
    if name in model.output_index:
        return model.outputs[model.output_index[name]].unit
    from ..scenario._schema import suggest_all

    raise InputError(f"unknown signal '{name}'; fix: "
                     + suggest_all(name, [*CLINICAL, *COVARIATES, *model.output_names]))



def threshold(criterion: Criterion, model: Model, where: str) -> float | bool:
    """The criterion's threshold in its signal's unit (a number without unit is taken as in
    that unit). ``where`` is the criterion's field (``enrolment.eligibility[0]``); errors name
    it."""
    try:
        unit = signal_unit(criterion.signal, model)
    except InputError as exc:
        raise InputError(f"{where}.signal: {exc}") from None
    value: Any = criterion.threshold
    if criterion.comparator == "is_":
        return bool(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        quantity = ureg.Quantity(str(value).strip())
        if quantity.dimensionless and not unit:
            return float(quantity.magnitude)
        return float(quantity.to(unit or "dimensionless").magnitude)
    except Exception:  # pint raises many kinds (TokenError, OverflowError, ...) on odd text
        raise InputError(
            f"{where}: threshold {value!r} for '{criterion.signal}' is not a number in "
            f"{unit or 'no unit'}; fix: write e.g. {criterion.signal}: "
            f"{'75 ' + unit if unit else '1'}") from None


def holds(criterion: Criterion, course: Course, value: float | bool) -> np.ndarray:
    """Where the criterion holds, ``(patients, times)`` (NaN signal values never hold)."""
    values = course[criterion.signal]
    if criterion.comparator == "is_":
        return (values > 0.5) == bool(value)
    with np.errstate(invalid="ignore"):
        return {"below": values < value, "at_most": values <= value,
                "above": values > value, "at_least": values >= value}[criterion.comparator]
