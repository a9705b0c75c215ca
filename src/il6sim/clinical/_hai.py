"""Hospital-acquired bacterial infection (HAI): a hazard read from the patient's simulated state.

A hospitalised patient acquires a new bacterial infection (hospital-acquired or ventilator-
associated pneumonia, bacteraemia) at a rate that depends on the device and on immune
suppression, each read from the model along the patient's own course (per day):

    h(t) = (WARD + VENTILATOR * imv(t))
           * (1 + IL6_DEFENCE_WEIGHT * D(t))
           * (1 + GLUCOCORTICOID_WEIGHT * g(t))
           * (1 + LYMPHOPENIA_WEIGHT * [lymphocytes(t) < LYMPHOPENIA_THRESHOLD])

- ``imv(t)``: on invasive ventilation (:func:`il6sim.clinical.on_ventilator`) for more than
  :data:`VAP_AFTER_H` hours in a row (ventilator-associated pneumonia is defined from 48 h after
  intubation; Kalil AC 2016 Clin Infect Dis 63:e61), the device;
- ``D(t)``: the leukocyte IL-6 defence deficit (:func:`il6sim.clinical.defence_deficit`), 0
  at rest or whenever inflammation raises the signal, near 1 under full receptor blockade;
- ``g(t)``: the genomic glucocorticoid-receptor response (state ``gc_response``, 0–1; about
  0.86 during dexamethasone 6 mg daily);
- lymphopenia: blood lymphocytes below 1.0 × 10⁹/L.

The hazard is zero after death or discharge (the patient has left hospital). Where each
constant comes from is in ``il6sim/data/targets/hospital_infection.yaml`` (role fitted: the
value is set from that row; role checked: compared in tests/test_hospital_infection.py).

What the infection does once acquired is not part of this hazard: the trial simulation gives
the patient a bacterial inoculum at the onset (:mod:`il6sim.trial._hai`), and whether it kills
comes from the model (bacterial growth against neutrophils, CRP opsonisation and antibiotics,
sepsis, SOFA and the death hazard). So the acute-phase and neutrophil defence that IL-6
blockade blunts acts twice, as in patients: the deficit raises the hazard, and the blunted
neutrophil release and CRP let the bacteria grow further once they are there.
"""

from __future__ import annotations

import numpy as np

from ..engine.results import SimulationResult
from ._ordinal import on_ventilator
from ._secondary import IL6_DEFENCE_WEIGHT, defence_deficit

__all__ = [
    "GLUCOCORTICOID_WEIGHT",
    "LYMPHOPENIA_THRESHOLD",
    "LYMPHOPENIA_WEIGHT",
    "VAP_AFTER_H",
    "VENTILATOR_PER_DAY",
    "WARD_PER_DAY",
    "hai_hazard",
    "hai_onset",
]

#: Hazard per day of a hospital-acquired bacterial infection off the ventilator (1/d): 4.7 % of
#: COVID-19 inpatients (43 patients) acquired a bacterial superinfection, diagnosed a mean 10.6
#: days after admission (Garcia-Vidal C 2021 Clin Microbiol Infect 27:83), so
#: −ln(1 − 0.047) / 10.6 d.
WARD_PER_DAY = -np.log(1.0 - 0.047) / 10.6
#: Added hazard per day on invasive ventilation (1/d): 32.8 ventilator-associated pneumonias per
#: 1000 ventilator-days in COVID-19 (OutcomeRea, 503 patients; Ann Intensive Care 2023
#: 13:109, doi 10.1186/s13613-023-01207-9).
VENTILATOR_PER_DAY = 32.8 / 1000
#: Relative rise of the hazard at a full glucocorticoid response (dimensionless): ICU-acquired
#: ventilator-associated pneumonia 17.1 % vs 13.2 % with vs without dexamethasone after
#: propensity matching (rate ratio 1.30; Reyes LF 2022 J Crit Care 69:154014), at the model's
#: response of 0.86 during 6 mg daily: 0.30 / 0.86.
GLUCOCORTICOID_WEIGHT = 0.30 / 0.86
#: Lymphopenia that raises the hazard (10⁹/L) and its relative rise (dimensionless): ICU-
#: acquired infection sub-distribution hazard ratio 1.37 (1.12–1.67) with persistent
#: lymphopenia (Adrie C 2017 Ann Intensive Care 7:30; median count 0.8 × 10⁹/L).
LYMPHOPENIA_THRESHOLD, LYMPHOPENIA_WEIGHT = 1.0, 0.37
#: Hours of continuous ventilation before the device adds to the hazard (h): the IDSA/ATS
#: definition of ventilator-associated pneumonia, more than 48 h after intubation (Kalil 2016).
#: A patient ventilated at the start of the run counts from the start.
VAP_AFTER_H = 48.0


def _device(result: SimulationResult) -> np.ndarray:
    """On invasive ventilation for more than :data:`VAP_AFTER_H` hours in a row (N, T)."""
    on = on_ventilator(result.output("pf_ratio"))
    since = np.zeros(on.shape)
    dt = np.diff(result.time, prepend=result.time[0])
    for j in range(1, on.shape[1]):
        since[:, j] = np.where(on[:, j] & on[:, j - 1], since[:, j - 1] + dt[j], 0.0)
    return on & (since >= VAP_AFTER_H - 1e-9)


def hai_hazard(result: SimulationResult, *, rest: np.ndarray | None = None,
               death_h: np.ndarray | None = None, discharge_h: np.ndarray | None = None
               ) -> np.ndarray:
    """Hazard of a hospital-acquired bacterial infection per hour over time (N, T).

    ``rest``: each patient's resting leukocyte IL-6 signal (:func:`defence_deficit`);
    ``death_h`` / ``discharge_h``: hours of death and discharge (NaN: none), after which the
    hazard is zero.
    """
    time = result.time
    device = _device(result)
    base = WARD_PER_DAY + VENTILATOR_PER_DAY * device
    suppression = (1.0 + IL6_DEFENCE_WEIGHT * np.nan_to_num(defence_deficit(result, rest))) \
        * (1.0 + GLUCOCORTICOID_WEIGHT * np.clip(result.state("gc_response"), 0.0, 1.0)) \
        * (1.0 + LYMPHOPENIA_WEIGHT
           * (result.output("lymphocytes") < LYMPHOPENIA_THRESHOLD))
    hazard = base * suppression / 24.0
    for end in (death_h, discharge_h):
        if end is not None:
            hazard = np.where(time[None, :] >= np.asarray(end, float)[:, None], 0.0, hazard)
    return hazard


def hai_onset(hazard: np.ndarray, time: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Hour of onset per patient (NaN: none): the first time the hazard accumulated from the
    start of the run reaches the patient's unit-exponential ``threshold`` (one per patient,
    shared by every arm, so that arms differ only by their courses)."""
    dt = np.diff(time, prepend=time[0])
    cumulative = np.cumsum(hazard * dt, axis=1)
    crossed = cumulative >= np.asarray(threshold, float)[:, None]
    return np.where(crossed.any(axis=1), time[np.argmax(crossed, axis=1)], np.nan)
