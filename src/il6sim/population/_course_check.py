"""The COVID-19 course of a virtual hospitalised population against the published course.

:func:`course_table` draws patients around the shipped calibrated population (or the prior),
simulates each untreated course and, for the blockade rows, the same patients given tocilizumab
8 mg/kg IV at admission, and computes every row of ``data/targets/covid_course.yaml``: timing
(incubation, onset to dyspnoea, ARDS, ICU and death), viral shedding, plausibility (no virus
persisting, no inflammation that neither resolves nor kills), admission laboratory values by
outcome, IL-6 sources and the rise of serum IL-6 after IL-6R blockade. Each row has its source,
accepted range and whether the model lies inside it; ``il6sim population course`` prints it.

Definitions (the statistic each target's ``quantity`` describes, read from simulated courses):

- *onset*: symptom onset as the population reads it (:mod:`._course`); times are from onset;
- *dyspnoea*: P/F below 300 (SpO2 about 92 % on air); *ARDS*: P/F below 200 (moderate ARDS,
  which Wuhan cohorts diagnosed); *ICU*: P/F below 150 (invasive ventilation, WHO scale);
- *RNA shedding*: viral load at or above 100 virion/mL (PCR detection); *culturable virus*: at or
  above 10^6.63 copies/mL, below which culture succeeds in under 5 % of samples (van Kampen JJA
  2021 Nat Commun 12:267);
- *severe*: invasive ventilation (P/F < 150) during the stay, or death;
- *non-resolving inflammation*: a survivor whose IL-6 is still above 20 pg/mL at the end of the
  run (weeks after admission). The two plausibility rows count the patients whom the admission
  rule leaves out as lingering (:data:`il6sim.population._course.LINGERING_IL6`), so they show
  how many implausible courses the model makes, not how many are left after the filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd
import yaml

from ..clinical import VENTILATION_PF
from ..engine import simulate
from ..errors import InputError
from ..limits import MAX_POPULATION_PATIENTS, sampling_problem
from ._calibrated import load_calibrated
from ._course import LINGERING_IL6, _values_at, first_time, read_course
from ._sample import dose_table, draw, parameter_table, patient_normals
from ._spec import load_population_spec
from ._targets import CohortTargets, cohort_targets

__all__ = ["CourseRun", "course_table", "load_course_targets", "simulate_course_check"]

DYSPNOEA_PF, ARDS_PF = 300.0, 200.0
RNA_DETECTION = 1e2          # virion/mL
CULTURE_THRESHOLD = 10**6.63  # copies/mL (van Kampen 2021)
TREATMENT_CRP = 75.0         # mg/L: RECOVERY's tocilizumab eligibility (Lancet 2021 397:1637)
TOCILIZUMAB_MG_PER_KG = 8.0


@dataclass
class CourseRun:
    """Untreated and treated courses of the same patients, with what the hospital records."""

    table: pd.DataFrame
    course: pd.DataFrame
    cohort: CohortTargets
    untreated: object
    treated: object
    dose_h: np.ndarray

    @property
    def admitted(self) -> np.ndarray:
        return self.course["admitted"].to_numpy(bool)

    @property
    def died(self) -> np.ndarray:
        return self.course["died"].to_numpy(bool)


def load_course_targets() -> list[dict]:
    """The rows of ``data/targets/covid_course.yaml``."""
    text = (files("il6sim") / "data" / "targets" / "covid_course.yaml").read_text()
    return yaml.safe_load(text)["targets"]


COHORT_MARKERS = ("il6", "tnf", "il10", "il1b", "ferritin", "fibrinogen", "ldh", "crp",
                  "creatinine")


def shipped_cohort_targets() -> CohortTargets:
    """Admission values of the shipped Tongji cohort for the course rows (first value within
    48 h; sampling delays and assay limits read from the file)."""
    from ..cohort import load_cohort

    return cohort_targets(load_cohort(), ["il6", "crp"],
                          optional=[m for m in COHORT_MARKERS if m not in ("il6", "crp")])


def simulate_course_check(n: int = 300, *, seed: int = 0, days: float = 60.0,
                          calibrated: bool = True, population: str = "covid19-hospitalised",
                          cohort: CohortTargets | None = None) -> CourseRun:
    """Simulate ``n`` patients untreated and with tocilizumab at admission for ``days``.

    Laboratory values at admission are read at the cohort's own delay to the first sample and
    censored at its assay limits (``cohort``; the shipped one by default)."""
    if n < 20:
        raise InputError(f"--n {n} is too small to estimate medians by outcome; fix: give 20 or "
                         "more patients")
    if not 56.0 <= days <= 365.0:
        raise InputError(f"--days {days:g} must lie between 56 and 365 (the plausibility rows "
                         "look 49 days past onset); fix: give e.g. --days 60")
    if n > MAX_POPULATION_PATIENTS:
        raise InputError(f"--n {n} is above the limit of {MAX_POPULATION_PATIENTS:,} patients; "
                         f"fix: give at most {MAX_POPULATION_PATIENTS:,}")
    spec = load_population_spec(population)
    memory = sampling_problem(days * 24.0, spec.sampling_h, 2 * n)  # untreated and treated
    if memory:
        raise InputError(f"--n {n} over {days:g} days: {memory}")
    cohort = cohort or shipped_cohort_targets()
    indices = np.arange(n)
    z = (load_calibrated(spec).draw(seed, indices) if calibrated
         else patient_normals(seed, indices, len(spec.coordinates)))
    table = draw(spec, z, patients=indices)
    parameters, doses = parameter_table(spec, table), dose_table(spec, table)
    untreated = simulate(parameters, doses, t_end=days * 24.0, dt=spec.sampling_h,
                         settings={"course-check": "untreated"}, backend="fast")
    markers = {**spec.markers, **spec.validation_markers, "il1b": "il1b"}
    course = read_course(spec, table, untreated, markers, cohort.read_delay_h, cohort.limits)
    step = spec.sampling_h
    admission = course["admission_h"].to_numpy(float)
    dose_h = np.where(np.isfinite(admission), np.round(admission / step) * step, 0.0)
    drug = pd.DataFrame({"patient": indices, "time_h": dose_h, "agent": "tocilizumab",
                         "route": "iv", "unit": "mg",
                         "amount": TOCILIZUMAB_MG_PER_KG * table["weight"].to_numpy(float)})
    treated = simulate(parameters, pd.concat([doses, drug], ignore_index=True),
                       t_end=days * 24.0, dt=step, settings={"course-check": "tocilizumab"},
                       backend="fast")
    return CourseRun(table, course, cohort, untreated, treated, dose_h)


def _median(values) -> float:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _last_time(time: np.ndarray, condition: np.ndarray) -> np.ndarray:
    hit = condition.any(axis=1)
    last = len(time) - 1 - np.argmax(condition[:, ::-1], axis=1)
    return np.where(hit, time[last], np.nan)


def _statistics(run: CourseRun, spread: dict[str, tuple[float, float]] | None = None
                ) -> dict[str, tuple[float, int]]:
    """Every statistic the target file may name: ``{id: (value, patients it is computed on)}``.
    A median over patients also puts the patients' quartiles ``(q25, q75)`` in ``spread``."""
    course, result = run.course, run.untreated
    time = result.time
    admitted, died = run.admitted, run.died
    onset = course["onset_h"].to_numpy(float)
    pf = result.output("pf_ratio")

    def since_onset(threshold):
        return (first_time(time, pf < threshold) - onset) / 24.0

    out: dict[str, tuple[float, int]] = {}

    def put(key, values, mask):
        values = np.asarray(values, float)[mask]
        out[key] = (_median(values), int(np.isfinite(values).sum()))
        finite = values[np.isfinite(values)]
        if spread is not None and len(finite):
            spread[key] = tuple(float(q) for q in np.percentile(finite, [25, 75]))

    put("course.incubation_median", onset / 24.0, admitted)
    put("course.onset_to_dyspnoea", since_onset(DYSPNOEA_PF), admitted)
    put("course.onset_to_ards", since_onset(ARDS_PF), admitted)
    put("course.onset_to_icu", since_onset(VENTILATION_PF), admitted)
    put("course.onset_to_death", (course["death_h"].to_numpy(float) - onset) / 24.0,
        admitted & died)

    viral = result.output("viral_load")
    shedding = (_last_time(time, viral >= RNA_DETECTION) - onset) / 24.0
    culturable = (_last_time(time, viral >= CULTURE_THRESHOLD) - onset) / 24.0
    # a course still shedding at the end of the run is censored: count it as the run's end
    put("course.viral_shedding_duration", shedding, admitted & ~died)
    put("course.culturable_virus_end", culturable, admitted)
    # plausibility rows count the patients the admission rule drops as lingering
    hospital = admitted | course["lingering"].to_numpy(bool)
    day49 = onset + 49 * 24.0
    survivors = hospital & ~died & (day49 <= time[-1])
    persisting = _values_at(time, viral, day49) >= RNA_DETECTION
    out["course.persistent_virus_day49"] = (
        100.0 * float(persisting[survivors].mean()) if survivors.any() else float("nan"),
        int(survivors.sum()))
    severe = admitted & (died | course["ventilated"].to_numpy(bool))
    mild = admitted & ~severe
    ratio = _median(shedding[severe & ~died]) / _median(shedding[mild])
    out["course.severe_longer_shedding"] = (ratio, int((severe & ~died).sum() + mild.sum()))

    il6 = result.output("il6")
    resolved = hospital & ~died
    out["course.nonresolving_inflammation"] = (
        100.0 * float((il6[resolved, -1] > LINGERING_IL6).mean()) if resolved.any()
        else float("nan"), int(resolved.sum()))

    for marker in (m for m in COHORT_MARKERS if m != "crp"):  # CRP has no admission rows
        values = course[marker].to_numpy(float)
        put(f"course.{marker}_admission_nonsurvivors", values, admitted & died)
        put(f"course.{marker}_admission_survivors", values, admitted & ~died)
    il6_adm = course["il6"].to_numpy(float)
    out["course.il6_admission_diff_nonsurv_minus_surv"] = (
        _median(il6_adm[admitted & died]) - _median(il6_adm[admitted & ~died]),
        int(admitted.sum()))

    admission = course["admission_h"].to_numpy(float)
    end = np.fmin(np.where(died, course["death_h"].to_numpy(float), np.inf),
                  admission + 28 * 24.0)
    stay = (time[None, :] >= admission[:, None]) & (time[None, :] <= end[:, None])
    peak = np.where(stay, il6, -np.inf).max(axis=1)
    put("course.peak_il6_nonsurvivors", peak, admitted & died)
    creatinine = result.output("creatinine_level")
    put("course.peak_creatinine_nonsurvivors", np.where(stay, creatinine, -np.inf).max(axis=1),
        admitted & died)
    hypoxaemic = (stay & (pf < DYSPNOEA_PF)).any(axis=1)
    out["course.hypoxaemic_share"] = (100.0 * float(hypoxaemic[admitted].mean())
                                      if admitted.any() else float("nan"), int(admitted.sum()))

    out.update(_source_shares(run, stay, severe))
    out.update(_blockade(run))
    return out


def _source_shares(run: CourseRun, stay: np.ndarray, severe: np.ndarray) -> dict:
    """Share of IL-6 made by non-myeloid cells (endothelium, fibroblasts) over the stay of the
    patients with severe disease."""
    fluxes = run.untreated.fluxes()
    made = {name: np.where(stay, fluxes[f"prod_il6_{name}"], 0.0).sum(axis=1)
            for name in ("macrophages", "t_cells", "b_cells", "endothelium", "fibroblasts")}
    total = sum(made.values())
    stromal = made["endothelium"] + made["fibroblasts"]
    share = np.where(total > 0, stromal / np.where(total > 0, total, 1.0), np.nan)
    return {"course.il6_sources_nonmyeloid": (100.0 * _median(share[severe]),
                                              int(severe.sum()))}


def _blockade(run: CourseRun) -> dict:
    """Serum IL-6 3 days after tocilizumab at admission over its value at the dose, in admitted
    patients with CRP ≥ 75 mg/L at admission (RECOVERY's criterion for hyperinflammation)."""
    time = run.treated.time
    crp = run.course["crp"].to_numpy(float)
    eligible = run.admitted & (crp >= TREATMENT_CRP) & (run.dose_h + 72.0 <= time[-1])
    il6 = run.treated.output("il6")
    before = _values_at(time, il6, run.dose_h)
    after = _values_at(time, il6, run.dose_h + 72.0)
    fold = (after / before)[eligible]
    count = int(np.isfinite(fold).sum())
    return {"course.il6_rise_after_tocilizumab": (_median(fold), count),
            "course.il6_rise_after_tocilizumab_fraction": (
                100.0 * float(np.mean(fold > 1.0)) if count else float("nan"), count)}


def _from_cohort(target: dict, cohort: CohortTargets) -> dict:
    """Center (median) and range (interquartile range) of a ``cohort:`` row from the cohort."""
    marker, group = target["cohort"]["marker"], target["cohort"]["group"]
    values = cohort.values
    if marker not in values:
        raise InputError(f"course target '{target['id']}': the cohort has no '{marker}' "
                         "values at admission; fix: give a cohort that measures it")
    died = values["died"].to_numpy(bool)
    chosen = values.loc[died if group == "died" else ~died, marker].dropna().to_numpy(float)
    low, center, high = np.percentile(chosen, [25, 50, 75])
    if low <= chosen.min():  # a quarter or more at the assay floor: "at or below" the floor
        low = 0.0
    return {**target, "center": float(center), "low": float(low), "high": float(high),
            "cohort_n": len(chosen)}


def course_table(run: CourseRun, targets: list[dict] | None = None) -> pd.DataFrame:
    """One row per target: model value, accepted range, within or not, source and role;
    ``model_q25``/``model_q75``: the patients' quartiles where the value is a median over
    patients (NaN for shares and ratios of medians)."""
    targets = load_course_targets() if targets is None else targets
    spread: dict[str, tuple[float, float]] = {}
    values = _statistics(run, spread)
    rows = []
    for target in targets:
        if "cohort" in target:
            target = _from_cohort(target, run.cohort)
        if target["id"] not in values:
            raise InputError(f"course target '{target['id']}' has no statistic in "
                             "il6sim.population._course_check; fix: add it there or remove "
                             "the row from covid_course.yaml")
        value, count = values[target["id"]]
        rows.append({"id": target["id"], "quantity": target["quantity"],
                     "unit": target["unit"], "model": value, "n": count,
                     "center": target["center"], "low": target["low"], "high": target["high"],
                     "within": bool(np.isfinite(value)
                                    and target["low"] <= value <= target["high"]),
                     "role": target["role"], "verified": bool(target.get("verified", False)),
                     "source": target["source"],
                     "model_q25": spread.get(target["id"], (np.nan, np.nan))[0],
                     "model_q75": spread.get(target["id"], (np.nan, np.nan))[1]})
    return pd.DataFrame(rows)
