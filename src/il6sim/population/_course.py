"""Simulate each virtual patient's infection and read what a hospital would record.

**Symptom onset** is read from the simulated course, not drawn: it is the first time the
declared read-out (``course.onset.output``, viral load for COVID-19) reaches the patient's own
threshold (``onset_threshold``, drawn from ``course.onset.above``; the spread between patients is
how differently people perceive and report the same infection), or hypoxaemia if that comes
first (breathlessness is a symptom). With viral load as the read-out, symptoms start as the
virus nears its peak, as observed (He X 2020 Nat Med 26:672; Néant N 2021 PNAS
118:e2017962118). The resulting time from infection to onset is a validation read-out, compared
with the published incubation period (Lauer SA 2020 Ann Intern Med 172:577), never an input.
A patient whose read-out never reaches the threshold and who never becomes hypoxaemic has no
symptoms and is not admitted.

**Admission rule.** Time 0 is the infecting dose. The patient is admitted at the earlier of
(a) symptom onset plus the usual delay to admission and (b) hypoxaemia — the first time the
declared read-out (P/F) falls below its threshold — plus a delay until the patient reaches
hospital. A patient not admitted within ``admission.latest`` of infection, or who dies before
admission, is not in the hospital population; nor is one who was not healthy before the infection
(resting serum IL-6 above :data:`RESTING_IL6_MAX`: ``unwell_before_infection``), nor one whose
course is implausible: alive at
the end of a run that reaches past the follow-up, still carrying virus or raised IL-6
(``lingering``; Allen 2016 plausibility, :data:`LINGERING_IL6`). Sources of each time are in
the declaration (Wang 2020, RECOVERY 2021).

**Laboratory values** are read at admission plus the cohort's median delay to the first sample
of each marker (Tongji: CRP ≈ 9 h, IL-6 ≈ 26 h), interpolated linearly on the sampling grid, and
clipped at the assay limits the cohort reports (IL-6 1.5 pg/mL).

**Outcome.** Death uses the SOFA-based hazard of :func:`il6sim.clinical.death_hazard`: the
patient dies when the cumulative hazard since infection crosses the patient's own
unit-exponential ``death_threshold`` (drawn once with the patient, so a trial can give the same
patient the same threshold in every arm). Death within ``admission.followup`` of admission is
in-hospital death. Beside the drawn outcome, ``death_probability`` is the patient's probability
of dying within follow-up given alive at admission, ``1 − exp(−(H(end) − H(admission)))``, a
function of the simulated physiology alone; calibration uses it, never the drawn outcome
(:mod:`._balance`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..clinical import VENTILATION_PF, cumulative_hazard, death_hazard, sofa
from ..engine import simulate
from ..model import Model, default_model
from ._sample import ONSET_COLUMN, dose_table, parameter_table
from ._spec import PopulationSpec

__all__ = ["COURSE_RESULT_COLUMNS", "first_time", "read_course", "simulate_course"]

#: Columns added to each patient by :func:`simulate_course` (besides one per marker).
#: ``onset_peak_h``: time of the peak of the onset read-out (the viral peak), to compare with
#: onset; ``ventilation_h``: first time P/F falls below 150 (invasive ventilation, WHO scale).
COURSE_RESULT_COLUMNS = ("status", "onset_h", "hypoxaemia_h", "admission_h", "death_h",
                         "admitted", "died", "days_to_death", "peak_sofa", "ventilated",
                         "onset_peak_h", "ventilation_h", "lingering", "unwell_before_infection",
                         "death_probability")

#: Plausibility (Allen RJ 2016 CPT Pharmacometrics Syst Pharmacol 5:140; Rieger TR 2018 Prog
#: Biophys Mol Biol 139:15): a patient alive at the end of a run that reaches past the follow-up
#: who still carries virus (at or above PCR detection, virion/mL) or raised IL-6 (pg/mL) has a
#: course no hospital sees (one that neither resolves nor kills) and is not admitted.
LINGERING_VIRAL_LOAD = 100.0
LINGERING_IL6 = 20.0
#: Plausibility before infection: a person whose serum IL-6 before the infecting dose (the
#: model's resting state, time 0, pg/mL) is above this is not a healthy adult
#: (``unwell_before_infection``) and is not in the population. Healthy adults: median 1.5,
#: interquartile range 0.7-3.5 pg/mL (Marques-Vidal P 2011 PLoS One 6:e21002), mean 5.2 in older
#: adults (Said EA 2021 J Med Virol 93:2127); 10 leaves room for the oldest and the comorbid.
RESTING_IL6_MAX = 10.0



def implausible(course: pd.DataFrame) -> np.ndarray:
    """Patients of a :func:`read_course` frame that the plausibility rules leave out of the
    population: unwell before the infection, or lingering after it."""
    return (course["lingering"].to_numpy(bool)
            | course["unwell_before_infection"].to_numpy(bool))


def _values_at(time: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Row-wise linear interpolation of ``values`` (N, T) at times ``at`` (N,); NaN outside."""
    inside = np.isfinite(at) & (at >= time[0]) & (at <= time[-1])
    t = np.where(inside, at, time[0])
    right = np.clip(np.searchsorted(time, t, side="right"), 1, len(time) - 1)
    left = right - 1
    frac = (t - time[left]) / (time[right] - time[left])
    rows = np.arange(len(values))
    out = values[rows, left] * (1 - frac) + values[rows, right] * frac
    return np.where(inside, out, np.nan)


def first_time(time: np.ndarray, condition: np.ndarray) -> np.ndarray:
    """First time at which ``condition`` (N, T) holds, per patient; NaN if never."""
    hit = condition.any(axis=1)
    return np.where(hit, time[np.argmax(condition, axis=1)], np.nan)


def simulate_course(spec: PopulationSpec, table: pd.DataFrame, *,
                    read_delay_h: Mapping[str, float] | None = None,
                    limits: Mapping[str, tuple[float | None, float | None]] | None = None,
                    backend: str = "fast", chunk_size: int = 250,
                    model: Model | None = None) -> pd.DataFrame:
    """Admission, laboratory values at admission and outcome of each patient in ``table``.

    Parameters
    ----------
    spec, table : the declaration and its patients (:meth:`VirtualPopulation.sample`).
    read_delay_h : hours from admission to the first sample of each marker (default 0).
    limits : ``{marker: (lower, upper)}`` assay limits; values beyond are set to the limit.
    backend : engine backend (``"fast"`` by default; ``"reference"`` for checks).
    chunk_size : patients simulated at once (memory grows with it).

    Returns
    -------
    pandas.DataFrame
        ``table``'s index; :data:`COURSE_RESULT_COLUMNS` (times in hours; ``died``: death
        within follow-up of admission; ``days_to_death`` from admission) and one column per
        calibration and validation marker (cohort names and units).
    """
    model = model or default_model()
    read_delay_h, limits = dict(read_delay_h or {}), dict(limits or {})
    markers = {**spec.markers, **spec.validation_markers}
    frames = []
    for start in range(0, len(table), chunk_size):
        chunk = table.iloc[start:start + chunk_size]
        result = simulate(parameter_table(spec, chunk), dose_table(spec, chunk, model=model),
                          t_end=spec.duration_h, dt=spec.sampling_h, model=model,
                          backend=backend, settings={"population": spec.name})
        frames.append(read_course(spec, chunk, result, markers, read_delay_h, limits))
    return pd.concat(frames) if frames else pd.DataFrame(columns=COURSE_RESULT_COLUMNS)


def read_course(spec: PopulationSpec, chunk: pd.DataFrame, result, markers: Mapping[str, str],
                read_delay_h: Mapping[str, float], limits: Mapping[str, tuple]) -> pd.DataFrame:
    """Admission, outcome and laboratory values (``markers``: cohort name → read-out) of the
    patients of ``chunk`` from their simulated courses ``result`` (see the module docstring)."""
    time = result.time
    signal = result.output(spec.onset_output)
    threshold = chunk[ONSET_COLUMN].to_numpy(float)[:, None]
    hypoxaemia = first_time(time, result.output(spec.hypoxaemia_output) < spec.hypoxaemia_below)
    onset = np.fmin(first_time(time, signal >= threshold), hypoxaemia)
    by_symptoms = onset + chunk["onset_to_admission_h"].to_numpy(float)
    by_hypoxaemia = hypoxaemia + chunk["hypoxaemia_to_admission_h"].to_numpy(float)
    admission = np.fmin(by_symptoms, by_hypoxaemia)
    cumulative = cumulative_hazard(time, death_hazard(result))
    death = first_time(time, cumulative >= chunk["death_threshold"].to_numpy(float)[:, None])
    ok = np.array([s == "ok" for s in result.status])
    alive_past_followup = (time[-1] >= admission + spec.followup_h) & ~(death <= time[-1])
    lingering = alive_past_followup & ((signal[:, -1] >= LINGERING_VIRAL_LOAD)
                                       | (result.output("il6")[:, -1] > LINGERING_IL6))
    unwell_before = result.output("il6")[:, 0] > RESTING_IL6_MAX
    admitted = (ok & (admission <= spec.latest_admission_h) & ~(death < admission)
                & ~lingering & ~unwell_before)
    died = admitted & (death <= admission + spec.followup_h)
    end = np.fmin(admission + spec.followup_h, time[-1])
    at_admission = _values_at(time, cumulative, admission)
    at_end = _values_at(time, cumulative, end)
    probability = np.where(admitted, -np.expm1(-np.maximum(at_end - at_admission, 0.0)), np.nan)
    in_stay = (time[None, :] >= admission[:, None]) & (time[None, :] <= end[:, None])
    score = np.where(in_stay, sofa(result), -1)
    pf = result.output("pf_ratio")
    ventilated = (pf < VENTILATION_PF) & in_stay
    out = pd.DataFrame({
        "status": result.status, "onset_h": onset, "hypoxaemia_h": hypoxaemia,
        "admission_h": admission, "death_h": death, "admitted": admitted, "died": died,
        "days_to_death": np.where(died, (death - admission) / 24.0, np.nan),
        "peak_sofa": np.where(admitted, score.max(axis=1), np.nan),
        "ventilated": admitted & ventilated.any(axis=1),
        "onset_peak_h": time[np.argmax(np.nan_to_num(signal, nan=-np.inf), axis=1)],
        "ventilation_h": first_time(time, pf < VENTILATION_PF),
        "lingering": lingering,
        "unwell_before_infection": unwell_before,
        "death_probability": probability,
    }, index=chunk.index)
    for marker, output in markers.items():
        values = _values_at(time, result.output(output), admission + read_delay_h.get(marker, 0.0))
        low, high = limits.get(marker, (None, None))
        values = np.clip(values, low if low is not None else -np.inf,
                         high if high is not None else np.inf)
        out[marker] = np.where(admitted, values, np.nan)
    return out
