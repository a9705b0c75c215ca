"""Scorecard rows of the shipped target sets (``il6sim/data/targets/*.yaml``).

Each set is computed by the function its own command uses, never re-implemented here:

- calibration-style sets (``endotoxemia``, ``infection``, and any new file of that form):
  :func:`il6sim.calibration.run_target_scenarios` and
  :func:`~il6sim.calibration.evaluate_targets` (``il6sim targets NAME``). The files have no role
  field: a row is ``fitted`` when a model parameter names it in ``calibrated_to`` (the TOML
  files), else ``checked``;
- ``pharmacology``: :func:`il6sim.pharmacology.pk_table` (``il6sim pk``); its header says the rows
  whose source reads "calibration target" were used to fit that drug's clearance, the rest
  are checked only;
- ``covid_course``: :func:`il6sim.population._course_check.course_table` over a virtual
  population (``il6sim population course``); each row carries ``role``; the predicted interval
  is the patients' interquartile range where the value is a median over patients;
- ``death``: the rows of the death hazard that the hazard and the untreated calibrated
  population give (:func:`il6sim.population._death_fit.death_statistics` over 600 patients,
  the held-SOFA and refractory-shock readings, the SOFA slope), as ``tests/test_death.py``
  reads them; rows that point at a row of another set (``statistic: course``,
  ``sepsis_cohort``, ``trial_subgroup``) are scored in that set and left out here;
- ``hospital_infection``: the fitted rows from the constants of :mod:`il6sim.clinical._hai`,
  the checked rows by :func:`il6sim.trial._hai.hai_measurements` on the shipped
  RECOVERY-tocilizumab trial (``il6sim trial recovery-tocilizumab``); each row carries ``role``.

A row passes when the model value lies in the row's accepted range (published mean ± SD for
PK, or at/above its bound), exactly as the set's own command judges it.
"""

from __future__ import annotations

import math
from importlib.resources import files

import numpy as np
import yaml

from ._rows import ScoreRow

__all__ = ["COURSE_SET", "DEATH_SET", "HAI_SET", "PK_SET", "calibration_rows", "course_rows",
           "death_rows", "hai_rows", "pk_rows", "planned_target_rows", "target_set_names"]

PK_SET, COURSE_SET, HAI_SET = "pharmacology", "covid_course", "hospital_infection"
DEATH_SET = "death"
#: Statistics of the death set that are another set's row (scored there).
DEATH_POINTERS = ("course", "sepsis_cohort", "trial_subgroup")
#: Untreated patients of the calibrated population behind the death set's population rows.
DEATH_N = 600
#: Statistics that are ratios (their direction below/above 1 is judged).
FOLD_STATISTICS = ("peak_fold_over_control", "fold_over_rest_at")
RANGE = "model value in the accepted range"
ROLE_FROM_CALIBRATED = "no role field; fitted = named in a parameter's calibrated_to"
ROLE_FROM_PK_HEADER = "file header: rows marked 'calibration target' were fitted"


#: Order of the shipped sets in the scorecard (any other set follows, by name).
SET_ORDER = ("endotoxemia", "infection", PK_SET, COURSE_SET)


def target_set_names() -> list[str]:
    """Every shipped target set (file name without ``.yaml``): those of :data:`SET_ORDER`
    in that order, then any other by name."""
    folder = files("il6sim") / "data" / "targets"
    names = [e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml")]
    return sorted(names, key=lambda n: (SET_ORDER.index(n) if n in SET_ORDER
                                        else len(SET_ORDER), n))


def _calibrated_role(target_id: str, calibrated: set[str]) -> str:
    return "fitted" if target_id in calibrated else "checked"


def _unit(target, units: dict[str, str]) -> str:
    """The unit of a target's statistic: hours for a time, ``fold``/``fraction`` for a ratio,
    else the read-out's clinical unit."""
    if target.statistic.startswith("time_of"):
        return "h"
    if target.statistic in FOLD_STATISTICS:
        return "fold"
    if target.statistic == "fraction_of_peak_at":
        return "fraction of peak"
    if target.statistic == "last_day_attenuation":
        return "fraction of the first day's rise"
    return units.get(target.output, "")


def calibration_rows(name: str, calibrated: set[str]) -> list[ScoreRow]:
    """Rows of a calibration-style target set (``il6sim targets NAME``)."""
    from ..calibration import evaluate_targets, load_targets, run_target_scenarios
    from ..model import default_model

    units = {o.name: o.unit for o in default_model().outputs}
    targets = load_targets(name)
    evaluated = evaluate_targets(targets, run_target_scenarios(targets))
    rows = []
    for target, row in zip(targets, evaluated, strict=True):
        rows.append(ScoreRow(
            source=f"targets {name}", quantity=target.id,
            role=_calibrated_role(target.id, calibrated), role_from=ROLE_FROM_CALIBRATED,
            tolerance=RANGE, predicted=float(row["value"]), published=float(target.center),
            published_low=target.low, published_high=target.high,
            published_interval="accepted range", unit=_unit(target, units),
            ratio=target.statistic in FOLD_STATISTICS, passed=bool(row["passes"]),
            reference=target.source,
            note="" if target.verified else "source not verified in a primary text"))
    return rows


def _pk_role(source: str) -> str:
    return "fitted" if "calibration target" in source else "checked"


def pk_rows() -> list[ScoreRow]:
    """Rows of the PK/PD targets (``il6sim pk``)."""
    from ..pharmacology import pk_table
    from ..pharmacology._validation import load_pk_targets

    table = pk_table()
    rows = []
    for target, row in zip(load_pk_targets(), table.itertuples(), strict=True):
        if target.at_least is not None:
            published, low, high = target.at_least, target.at_least, math.inf
            interval, tolerance = "lower bound", "model value at or above the bound"
        else:
            published = target.mean
            low, high = target.mean - target.sd, target.mean + target.sd
            interval, tolerance = "mean ± SD", "model value within mean ± SD"
        rows.append(ScoreRow(
            source=f"targets {PK_SET}", quantity=f"{row.regimen} {row.metric}",
            role=_pk_role(row.source), role_from=ROLE_FROM_PK_HEADER, tolerance=tolerance,
            predicted=float(row.model), published=float(published), published_low=low,
            published_high=high, published_interval=interval, unit=row.unit,
            passed=bool(row.passed), reference=row.source))
    return rows


def course_rows(n: int, seed: int = 0) -> list[ScoreRow]:
    """Rows of the COVID-19 course (``il6sim population course --n N --seed SEED``)."""
    from ..population._course_check import course_table, simulate_course_check

    table = course_table(simulate_course_check(n, seed=seed))
    rows = []
    for row in table.itertuples():
        iqr = np.isfinite(row.model_q25) and np.isfinite(row.model_q75)
        rows.append(ScoreRow(
            source=f"targets {COURSE_SET}", quantity=row.id, role=row.role,
            role_from="target file (role field)", tolerance=RANGE, predicted=float(row.model),
            predicted_low=float(row.model_q25), predicted_high=float(row.model_q75),
            predicted_interval="IQR of patients" if iqr else "",
            published=float(row.center), published_low=float(row.low),
            published_high=float(row.high), published_interval="accepted range",
            unit=row.unit, ratio=row.unit == "fold", passed=bool(row.within), n=int(row.n),
            reference=row.source,
            note="" if row.verified else "source not verified in a primary text"))
    return rows


def planned_target_rows(name: str, calibrated: set[str]) -> list[tuple[str, str, str]]:
    """``(source, quantity, role)`` of every row set ``name`` gives, read from its file only
    (no simulation): the scorecard's structure."""
    text = (files("il6sim") / "data" / "targets" / f"{name}.yaml").read_text()
    data = yaml.safe_load(text)
    source = f"targets {name}"
    if name == PK_SET:
        return [(source, f"{e['regimen']} {e['metric']}", _pk_role(e["source"])) for e in data]
    entries = data["targets"]
    if name == DEATH_SET:
        return [(source, e["id"], e["role"]) for e in entries
                if e["statistic"] not in DEATH_POINTERS]
    if name in (COURSE_SET, HAI_SET):
        return [(source, e["id"], e["role"]) for e in entries]
    return [(source, e["id"], _calibrated_role(e["id"], calibrated)) for e in entries]


def hai_rows(patients) -> list[ScoreRow]:
    """Rows of the hospital-acquired infection targets: the fitted ones as the constants of
    :mod:`il6sim.clinical._hai` give them back, the checked ones measured on ``patients`` (a
    RECOVERY-tocilizumab run, every patient in both arms)."""
    from ..clinical import _hai as hai
    from ..clinical._secondary import IL6_DEFENCE_WEIGHT
    from ..trial._hai import hai_measurements

    entries = yaml.safe_load((files("il6sim") / "data" / "targets" / f"{HAI_SET}.yaml")
                             .read_text())["targets"]
    values = {
        "hai.ward_rate": 1.0 - math.exp(-hai.WARD_PER_DAY * 10.6),
        "hai.vap_rate": 1000.0 * hai.VENTILATOR_PER_DAY,
        "hai.dexamethasone_ratio": 1.0 + hai.GLUCOCORTICOID_WEIGHT * 0.86,
        "hai.lymphopenia_ratio": 1.0 + hai.LYMPHOPENIA_WEIGHT,
        # the mean deficit of 24 weeks of 8 mg/kg q4w in the RA preset is 0.44 (clinical._secondary)
        "hai.il6_blockade_ratio_ra": 1.0 + IL6_DEFENCE_WEIGHT * 0.44,
        **hai_measurements(patients)}
    rows = []
    for e in entries:
        value = float(values[e["id"]])
        rows.append(ScoreRow(
            source=f"targets {HAI_SET}", quantity=e["id"], role=e["role"],
            role_from="target file (role field)", tolerance=RANGE, predicted=value,
            published=float(e["center"]), published_low=float(e["low"]),
            published_high=float(e["high"]), published_interval="accepted range",
            unit=str(e["unit"]), ratio="ratio" in e["id"],
            passed=bool(e["low"] <= value <= e["high"]),
            n=None if e["role"] == "fitted" else len(patients), reference=e["source"],
            note="" if e.get("verified") else "source not verified in a primary text"))
    return rows


def death_rows() -> list[ScoreRow]:
    """Rows of the death hazard's targets (module docstring), read as ``tests/test_death.py``
    reads them."""
    from ..clinical import _death as death
    from ..population._death_fit import (
        death_fit_data,
        death_statistics,
        held_sofa_mortality,
        load_death_targets,
    )

    shipped = {"base": death.HAZARD_BASE, "slope": death.HAZARD_SLOPE,
               "high_slope": death.HAZARD_HIGH_SLOPE, "age": death.HAZARD_AGE}
    population = death_statistics(death_fit_data(DEATH_N, seed=0), **shipped)
    rows = []
    for e in load_death_targets():
        statistic = e["statistic"]
        if statistic in DEATH_POINTERS:
            continue
        if statistic == "held_sofa":
            value = held_sofa_mortality(e["sofa"], e["days"], **shipped)
        elif statistic == "slope_per_point":
            value = death.HAZARD_SLOPE
        elif statistic == "held_norepinephrine":
            extra = (death.REFRACTORY_SHOCK_HAZARD * (e["norepinephrine"] - 0.1) * 24.0
                     * e["days"])
            value = 1.0 - math.exp(-extra)
        else:
            value = population[statistic]
        rows.append(ScoreRow(
            source=f"targets {DEATH_SET}", quantity=e["id"], role=e["role"],
            role_from="target file (role field)", tolerance=RANGE, predicted=float(value),
            published=float(e["center"]), published_low=float(e["low"]),
            published_high=float(e["high"]), published_interval="accepted range",
            unit=str(e.get("unit", "fraction")), passed=bool(e["low"] <= value <= e["high"]),
            n=DEATH_N if statistic.startswith(("death_fraction", "admission")) else None,
            reference=e["source"]))
    return rows
