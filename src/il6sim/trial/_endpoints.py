"""Endpoints of one arm, read from the course simulated from randomisation (time 0).

- **mortality**: death within follow-up. The patient dies when the SOFA-based death hazard
  (:func:`il6sim.clinical.death_hazard`) accumulated since infection crosses the patient's own
  unit-exponential threshold; the part accumulated before randomisation is carried in, and the
  same threshold is used in every arm (common random numbers), so a death avoided or caused by
  the treatment is the treatment's doing.
- **imv_or_death**: invasive ventilation (P/F < 150) or death within follow-up, in patients not
  ventilated at randomisation (RECOVERY's secondary endpoint).
- **discharge**: alive and well enough to leave hospital within follow-up: off oxygen
  (P/F ≥ 300), no organ support and SOFA ≤ 2, held for :data:`DISCHARGE_STABLE_H`; the day of
  discharge is the end of that stable period.
- **organ_support_free_days**: days alive and free of organ support within follow-up, −1 for a
  patient who dies (REMAP-CAP; Angus DC 2020 JAMA 324:1317).
- **secondary_infection**: a new infection drawn from the hazard of
  :func:`il6sim.clinical.secondary_infection_hazard` over follow-up (hospital setting, relative
  to the patient's resting leukocyte IL-6 signal), with one uniform number per patient shared by
  all arms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..clinical import death_hazard, secondary_infection_probability, sofa
from ..engine.results import SimulationResult
from ..population._course import first_time
from ._signals import SUPPORT_PF, VASOPRESSOR_MAP

#: Hours a patient must be stable before discharge.
DISCHARGE_STABLE_H = 24.0
#: Largest SOFA score compatible with discharge (no more than mild single-organ dysfunction).
DISCHARGE_MAX_SOFA = 2


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


def arm_endpoints(result: SimulationResult, *, threshold_left: np.ndarray,
                  rest_signal: np.ndarray, infection_uniform: np.ndarray,
                  followup_h: float) -> pd.DataFrame:
    """One row per patient of ``result`` (time 0 = randomisation).

    Parameters
    ----------
    threshold_left : each patient's death threshold minus the hazard accumulated before
        randomisation.
    rest_signal : each patient's resting leukocyte IL-6 signal (before infection).
    infection_uniform : one uniform number per patient; a secondary infection occurs when it
        falls below the arm's probability.
    followup_h : hours of follow-up.
    """
    time = result.time
    inside = time <= followup_h + 1e-9
    dt = np.diff(time, prepend=time[0])
    cumulative = np.cumsum(death_hazard(result) * dt, axis=1)
    death_h = first_time(time, (cumulative >= threshold_left[:, None]) & inside)
    alive = ~(time[None, :] >= death_h[:, None])
    pf = result.output("pf_ratio")
    imv = pf < SUPPORT_PF[2]
    organ_support = (pf < SUPPORT_PF[1]) | (result.output("map") < VASOPRESSOR_MAP)
    well = (pf >= SUPPORT_PF[0]) & ~organ_support & (sofa(result) <= DISCHARGE_MAX_SOFA) & alive
    discharge_h = _stable_since(time, well & inside, DISCHARGE_STABLE_H)
    died = np.isfinite(death_h)
    free_h = ((~organ_support & alive & inside) * dt).sum(axis=1)
    infection_p = secondary_infection_probability(result, "hospital", rest=rest_signal)
    ok = np.array([s == "ok" for s in result.status])
    out = pd.DataFrame({
        "status": result.status,
        "died": died,
        "death_day": death_h / 24.0,
        "imv_or_death": died | (imv & inside).any(axis=1),
        "discharged": np.isfinite(discharge_h),
        "discharge_day": discharge_h / 24.0,
        "organ_support_free_days": np.where(died, -1.0, np.floor(free_h / 24.0)),
        "secondary_infection": infection_uniform < infection_p,
        "secondary_infection_probability": infection_p,
        "peak_il6": np.nanmax(np.where(inside, result.output("il6"), np.nan), axis=1),
        "peak_crp": np.nanmax(np.where(inside, result.output("crp"), np.nan), axis=1),
        "min_pf": np.nanmin(np.where(inside, pf, np.nan), axis=1),
    })
    for column in out.columns.drop("status"):  # yes/no as 1/0; a failed simulation: NaN
        out[column] = out[column].astype(float).where(ok)
    return out
