"""The WHO Clinical Progression Scale and the NIAID ordinal scale, read from the physiology.

The model prescribes no oxygen, ventilator, vasopressor or dialysis, so each is read from what
the patient's physiology would need, with the rules below (constants named, with sources).
Time 0 of the result is taken to be in hospital (a trial's randomisation); the patient stays
in hospital until discharge and is readmitted whenever support is needed again.

**WHO Clinical Progression Scale** (WHO Working Group on the Clinical Characterisation and
Management of COVID-19 infection 2020 Lancet Infect Dis 20:e192), 0 uninfected … 10 dead:

====  ======================================================  =================================
WHO   meaning                                                 rule in il6sim
====  ======================================================  =================================
0     uninfected; no viral RNA detected                       discharged, no pathogen detected,
                                                              CRP < 10 mg/L, SOFA 0
1     ambulatory, asymptomatic; viral RNA detected            discharged, a pathogen detected,
                                                              CRP < 10 mg/L, SOFA 0
2     ambulatory, symptomatic; independent                    discharged, CRP ≥ 10 mg/L or
                                                              SOFA 1
3     ambulatory, symptomatic; assistance needed              discharged, SOFA 2 (the most the
                                                              discharge rule allows)
4     hospitalised, no oxygen therapy                         in hospital, P/F ≥ 300
5     hospitalised, oxygen by mask or nasal prongs            P/F < 300
6     hospitalised, non-invasive ventilation or high flow     P/F < 200, or vasopressors
                                                              without ventilation
7     mechanical ventilation, P/F ≥ 150                       on the ventilator, P/F ≥ 150
8     mechanical ventilation, P/F < 150 or vasopressors       on the ventilator with P/F < 150,
                                                              or with vasopressors or renal
                                                              replacement
9     mechanical ventilation, P/F < 150 and vasopressors,     on the ventilator with P/F < 150
      dialysis or ECMO                                        and vasopressors or renal
                                                              replacement
10    dead                                                    from the time of death
====  ======================================================  =================================

- *Oxygen, high flow and intubation* follow the trial signals (:mod:`il6sim.trial._signals`):
  P/F < 300 needs oxygen (SpO2 < 91.7 % on air, the "SpO2 < 92 %" of RECOVERY, by the one
  conversion of :mod:`il6sim.model._oxygen`: Severinghaus JW 1979 J Appl Physiol 46:599),
  P/F < 200 high-flow oxygen or non-invasive ventilation (Berlin moderate ARDS, ARDS Definition
  Task Force 2012 JAMA 307:2526), P/F < 150 invasive ventilation
  (:data:`il6sim.clinical.VENTILATION_PF`).
- *Weaning.* A ventilated patient stays on the ventilator until P/F reaches
  :data:`WEANING_PF` (200 mmHg; readiness to wean at P/F 150–200, Boles JM 2007 Eur Respir J
  29:1033), so level 7 (ventilated with P/F ≥ 150) exists and brief rises of P/F above 150 do
  not extubate. A patient already below 150 mmHg at time 0 starts on the ventilator. Time on
  the ventilator is therefore always time with P/F < 200, inside the trial's organ support.
- *Vasopressors* when the mean arterial pressure without them is below 65 mmHg (Singer M 2016
  JAMA 315:801), as in the trial's organ support; the scale lists them only with ventilation,
  so a patient on vasopressors who is not ventilated is scored 6 (ICU organ support without
  invasive ventilation).
- *Renal replacement* when creatinine reaches 354 µmol/L (4.0 mg/dL: KDIGO stage 3 by its
  absolute criterion; KDIGO AKI Work Group 2012 Kidney Int Suppl 2:1), counted with the
  ventilated levels as the scale words it (level 8 if P/F ≥ 150, 9 if below).
- *Discharge* is the trial's rule (:func:`discharge_time`): alive, off oxygen (P/F ≥ 300),
  without organ support and with SOFA ≤ 2, held for 24 h; the end of that period.
- *After discharge* the model has no symptoms or functional status; it has the pathogen load
  (:func:`il6sim.clinical.infected`), inflammation and organ function. CRP < 10 mg/L and SOFA 0
  are taken as no symptoms (CRP's upper limit of normal; Pepys MB, Hirschfield GM 2003 J Clin
  Invest 111:1805); CRP ≥ 10 mg/L or one SOFA point (e.g. P/F 300–400 mmHg: breathless on
  exertion) as symptoms, and SOFA 2 (residual organ dysfunction) as needing assistance.

**NIAID ordinal scale** (ACTT-1; Beigel JH 2020 N Engl J Med 383:1813), 1 … 8, mapped from the
WHO level (:func:`niaid_from_who`): WHO 0–2 → 1 (not hospitalised, no limitation); 3 → 2
(limitation of activities); 4 → 3 if the patient meets the discharge criteria (no longer
needs ongoing medical care) else 4; 5 → 5; 6 → 6; 7–9 → 7 (invasive ventilation); 10 → 8.
ACTT-1's *recovery* is the first time at NIAID 1–3.

Day scores (:func:`daily_worst`) are the worst level in the 24 h ending on that day, as ACTT-1
recorded them.
"""

from __future__ import annotations

import numpy as np

from ..engine.results import SimulationResult
from ._death import death_time
from ._definitions import VENTILATION_PF, infected, sofa

__all__ = [
    "NIAID_LEVELS",
    "WHO_LEVELS",
    "daily_worst",
    "discharge_time",
    "niaid_from_who",
    "niaid_scale",
    "on_ventilator",
    "ready_for_discharge",
    "who_scale",
]

#: P/F (mmHg) below which a patient needs oxygen: SpO2 91.7 % on air by
#: :func:`il6sim.model._oxygen.spo2_from_pf` (RECOVERY: "SpO2 < 92 % on air").
OXYGEN_PF = 300.0
#: P/F (mmHg) below which a patient needs high-flow oxygen or non-invasive ventilation.
HIGH_FLOW_PF = 200.0
#: P/F (mmHg) at which a ventilated patient is weaned (Boles JM 2007 Eur Respir J 29:1033).
WEANING_PF = 200.0
#: Mean arterial pressure without vasopressors (mmHg) below which they are needed.
VASOPRESSOR_MAP = 65.0
#: Creatinine (µmol/L) from which renal replacement is assumed (KDIGO stage 3, 4.0 mg/dL).
RRT_CREATININE = 354.0
#: CRP (mg/L) below which a discharged patient counts as without symptoms.
SYMPTOM_CRP = 10.0
#: SOFA from which a discharged patient counts as needing assistance (WHO level 3).
ASSISTANCE_SOFA = 2
#: Hours a patient must meet the discharge criteria before discharge.
DISCHARGE_STABLE_H = 24.0
#: Largest SOFA score compatible with discharge (no more than mild single-organ dysfunction).
DISCHARGE_MAX_SOFA = 2

WHO_LEVELS = {
    0: "uninfected; no viral RNA detected",
    1: "ambulatory, asymptomatic; viral RNA detected",
    2: "ambulatory, symptomatic; independent",
    3: "ambulatory, symptomatic; assistance needed",
    4: "hospitalised, no oxygen therapy",
    5: "hospitalised, oxygen by mask or nasal prongs",
    6: "hospitalised, non-invasive ventilation or high-flow oxygen",
    7: "mechanical ventilation, P/F >= 150",
    8: "mechanical ventilation, P/F < 150 or vasopressors",
    9: "mechanical ventilation, P/F < 150 and vasopressors, dialysis or ECMO",
    10: "dead",
}
NIAID_LEVELS = {
    1: "not hospitalised, no limitation of activities",
    2: "not hospitalised, limitation of activities and/or home oxygen",
    3: "hospitalised, no oxygen, no longer requiring ongoing medical care",
    4: "hospitalised, no oxygen, requiring ongoing medical care",
    5: "hospitalised, requiring supplemental oxygen",
    6: "hospitalised, non-invasive ventilation or high-flow oxygen",
    7: "hospitalised, invasive mechanical ventilation or ECMO",
    8: "dead",
}
#: NIAID level of each WHO level 0..10 (WHO 4 gives 3 or 4, see :func:`niaid_from_who`).
WHO_TO_NIAID = np.array([1, 1, 1, 2, 4, 5, 6, 7, 7, 7, 8])


def on_ventilator(pf: np.ndarray, *, weaning_pf: float = WEANING_PF) -> np.ndarray:
    """Whether each patient is on invasive ventilation at each time (N, T): intubated when P/F
    falls below :data:`VENTILATION_PF`, weaned when it reaches ``weaning_pf``."""
    pf = np.asarray(pf, float)
    below, weaned = pf < VENTILATION_PF, pf >= weaning_pf
    on = np.zeros(pf.shape, bool)
    on[:, 0] = below[:, 0]
    for j in range(1, pf.shape[1]):
        on[:, j] = below[:, j] | (on[:, j - 1] & ~weaned[:, j])
    return on


def ready_for_discharge(result: SimulationResult) -> np.ndarray:
    """The discharge criteria at each time (N, T), alive or not: off oxygen (P/F ≥ 300), no
    organ support (no vasopressors) and SOFA ≤ :data:`DISCHARGE_MAX_SOFA`."""
    return ((result.output("pf_ratio") >= OXYGEN_PF)
            & (result.output("map") >= VASOPRESSOR_MAP)
            & (sofa(result) <= DISCHARGE_MAX_SOFA))


def _stable_since(time: np.ndarray, well: np.ndarray, hours: float) -> np.ndarray:
    """First time at which ``well`` has held for ``hours`` (NaN if never)."""
    dt = np.diff(time, prepend=time[0])
    run = np.zeros(well.shape[0])
    out = np.full(well.shape[0], np.nan)
    for j in range(1, len(time)):
        run = np.where(well[:, j] & well[:, j - 1], run + dt[j], 0.0)
        done = np.isnan(out) & (run >= hours)
        out[done] = time[j]
    return out


def discharge_time(result: SimulationResult, death_h: np.ndarray | None = None, *,
                   until_h: float = np.inf) -> np.ndarray:
    """Time of discharge (h) per patient, NaN if none by ``until_h``: the end of the first
    :data:`DISCHARGE_STABLE_H` hours during which the patient is alive and meets the discharge
    criteria (:func:`ready_for_discharge`). ``death_h`` (NaN: survives) defaults to
    :func:`il6sim.clinical.death_time` with seed 0."""
    time = result.time
    if death_h is None:
        death_h = death_time(result)
    alive = ~(time[None, :] >= np.asarray(death_h, float)[:, None])
    well = ready_for_discharge(result) & alive & (time[None, :] <= until_h + 1e-9)
    return _stable_since(time, well, DISCHARGE_STABLE_H)


def _events(result: SimulationResult, death_h, discharge_h) -> tuple[np.ndarray, np.ndarray]:
    if death_h is None:
        death_h = death_time(result)
    death_h = np.asarray(death_h, float)
    if discharge_h is None:
        discharge_h = discharge_time(result, death_h)
    return death_h, np.asarray(discharge_h, float)


def who_scale(result: SimulationResult, *, death_h: np.ndarray | None = None,
              discharge_h: np.ndarray | None = None, weaning_pf: float = WEANING_PF
              ) -> np.ndarray:
    """WHO Clinical Progression Scale level (0–10) of each patient at each time, ``(N, T)``
    floats (NaN for a failed simulation), by the rules of the module docstring.

    Parameters
    ----------
    death_h : time of death per patient (h; NaN: survives); default
        :func:`il6sim.clinical.death_time` with seed 0.
    discharge_h : time of discharge per patient (h; NaN: none); default :func:`discharge_time`.
    weaning_pf : P/F at which a ventilated patient is weaned (``VENTILATION_PF``: no
        hysteresis, on the ventilator exactly while P/F < 150).
    """
    death_h, discharge_h = _events(result, death_h, discharge_h)
    time = result.time[None, :]
    pf = result.output("pf_ratio")
    pressors = result.output("map") < VASOPRESSOR_MAP
    rrt = result.output("creatinine_level") >= RRT_CREATININE
    score = sofa(result)
    ventilated = on_ventilator(pf, weaning_pf=weaning_pf)
    severe = pf < VENTILATION_PF
    other = pressors | rrt
    hospital = np.where(
        ventilated, 7 + (severe | other) + (severe & other),
        np.where((pf < HIGH_FLOW_PF) | pressors, 6, np.where(pf < OXYGEN_PF, 5, 4)))
    symptomatic = result.output("crp") >= SYMPTOM_CRP
    home = np.where(score >= ASSISTANCE_SOFA, 3, np.where(
        symptomatic | (score >= 1), 2, np.where(infected(result), 1, 0)))
    needs_care = (pf < OXYGEN_PF) | pressors | ventilated
    discharged = (time >= discharge_h[:, None]) & ~needs_care
    level = np.where(discharged, home, hospital).astype(float)
    level[time >= death_h[:, None]] = 10.0
    level[~result.ok] = np.nan
    return level


def niaid_from_who(who: np.ndarray, ready: np.ndarray | None = None) -> np.ndarray:
    """NIAID ordinal level (1–8) from the WHO level; ``ready`` (same shape, optional) marks
    hospitalised patients without oxygen who meet the discharge criteria: WHO 4 then gives
    NIAID 3 (no longer requiring ongoing medical care) instead of 4. NaN stays NaN."""
    who = np.asarray(who, float)
    finite = np.isfinite(who)
    out = np.full(who.shape, np.nan)
    out[finite] = WHO_TO_NIAID[who[finite].astype(int)]
    if ready is not None:
        out[finite & (who == 4) & np.asarray(ready, bool)] = 3.0
    return out


def niaid_scale(result: SimulationResult, *, death_h: np.ndarray | None = None,
                discharge_h: np.ndarray | None = None, weaning_pf: float = WEANING_PF
                ) -> np.ndarray:
    """NIAID ordinal level (1–8) of each patient at each time, ``(N, T)``: :func:`who_scale`
    mapped by :func:`niaid_from_who`, with the discharge criteria as "no longer requiring
    ongoing medical care"."""
    death_h, discharge_h = _events(result, death_h, discharge_h)
    who = who_scale(result, death_h=death_h, discharge_h=discharge_h, weaning_pf=weaning_pf)
    return niaid_from_who(who, ready_for_discharge(result))


def daily_worst(scale: np.ndarray, time: np.ndarray, days: int) -> np.ndarray:
    """Day scores ``(N, days + 1)``: day 0 is the level at time 0, day d the worst (highest)
    level in the 24 h ending at 24·d hours; NaN for a day the run does not reach."""
    scale = np.asarray(scale, float)
    out = np.full((scale.shape[0], days + 1), np.nan)
    out[:, 0] = scale[:, 0]
    for day in range(1, days + 1):
        inside = (time > 24.0 * (day - 1) + 1e-9) & (time <= 24.0 * day + 1e-9)
        if time[-1] >= 24.0 * day - 1e-9 and inside.any():
            out[:, day] = np.max(scale[:, inside], axis=1)
    return out
