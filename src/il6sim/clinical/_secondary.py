"""Secondary (opportunistic or hospital-acquired) infection: the cost of blocking IL-6 (C15).

How it is modelled: a new infection is not simulated as a second pathogen; its hazard is read
from the patient's trajectory. IL-6 classic signalling on leukocytes supports host defence
(neutrophil mobilisation, Th17 and mucosal immunity, the acute-phase response: Dalrymple SA 1995
Infect Immun 63:2262; van der Poll T 1997 J Infect Dis 176:439). The *defence deficit* is the
fraction of the patient's resting leukocyte IL-6 signal that is missing,
``D(t) = clip(1 - s(t) / s(0), 0, 1)`` (``s`` = ``classic_signal_leukocytes``; 0 at rest or
whenever inflammation raises it, up to 1 under full receptor blockade). The hazard is

    h(t) = base(setting) * (1 + IL6_DEFENCE_WEIGHT * D(t))

Calibration (tests/test_secondary_infection.py):

- ``base``: hospital — 12.1 % secondary infections over 28 days in hospitalised COVID-19 on
  standard care (267/2204; J Kunming Med Univ 2024, reference/targets.md section 7); community —
  3.9 serious infections per 100 patient-years on placebo + DMARD (Actemra PI 6.1, section 8);
- ``IL6_DEFENCE_WEIGHT``: 5.3 versus 3.9 per 100 PY with tocilizumab 8 mg/kg + DMARD (rate ratio
  1.36; Actemra PI 6.1) over 24 weeks of q4w dosing in the ``chronic-inflammation-ra`` preset,
  where the mean deficit is 0.44 (receptor-mediated clearance is blocked too, so serum IL-6
  rises and keeps the unblocked receptors partly signalling);
- validated, not fitted: 4 mg/kg (4.4 per 100 PY, ratio 1.13), SC versus IV (SUMMACTA: equal
  rates) and tocilizumab in hospitalised COVID-19 (19.1 % versus 12.1 %, ratio 1.35 (1.05–1.74)).

Not modelled: device-related (ventilator-associated) risk, corticosteroids and other
immunosuppressants, and the pathogen of the new infection.
"""

from __future__ import annotations

import numpy as np

from ..engine.results import SimulationResult
from ..errors import InputError
from ._definitions import _cumulative

#: Base hazard per day by care setting (see module docstring for the sources).
SECONDARY_BASE_PER_DAY = {
    "hospital": -np.log(1.0 - 267 / 2204) / 28.0,
    "community": 3.9 / 100 / 365.25,
}
#: Relative rise of the hazard at a full IL-6 defence deficit; calibrated to the RA label rates.
IL6_DEFENCE_WEIGHT = 0.81


def defence_deficit(result: SimulationResult, rest: np.ndarray | None = None) -> np.ndarray:
    """Missing fraction of each patient's resting leukocyte IL-6 signal over time (N, T).

    ``rest`` is each patient's resting signal (N,); by default the value at the first time,
    which is the rest state of a run that starts healthy. A run restarted mid-course (a trial
    arm from randomisation) passes the rest value of the whole course.
    """
    signal = result.output("classic_signal_leukocytes")
    rest = signal[:, :1] if rest is None else np.asarray(rest, float).reshape(-1, 1)
    return np.clip(1.0 - signal / np.where(rest > 0, rest, np.nan), 0.0, 1.0)


def secondary_infection_hazard(
    result: SimulationResult, setting: str = "hospital", *, rest: np.ndarray | None = None
) -> np.ndarray:
    """Hazard of a secondary infection per hour over time (N, T); ``rest`` as in
    :func:`defence_deficit`."""
    if setting not in SECONDARY_BASE_PER_DAY:
        raise InputError(
            f"unknown care setting '{setting}'; fix: one of {', '.join(SECONDARY_BASE_PER_DAY)}"
        )
    base = SECONDARY_BASE_PER_DAY[setting] / 24.0
    return base * (1.0 + IL6_DEFENCE_WEIGHT * defence_deficit(result, rest))


def secondary_infection_probability(
    result: SimulationResult, setting: str = "hospital", *, rest: np.ndarray | None = None
) -> np.ndarray:
    """Probability of at least one secondary infection by the end of the run, per patient;
    ``rest`` as in :func:`defence_deficit`."""
    cumulative = _cumulative(result, secondary_infection_hazard(result, setting, rest=rest))
    return 1.0 - np.exp(-cumulative[:, -1])
