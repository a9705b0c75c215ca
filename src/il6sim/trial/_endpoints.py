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
- **ordinal_day14**, **ordinal_day28**: the WHO Clinical Progression Scale (0–10,
  :func:`il6sim.clinical.who_scale`) on day 14 or 28 after randomisation, the worst level of
  that day (``who_day0``: the level at randomisation).
- **time_to_improvement**: the first time the WHO level is 2 or more below its value at
  randomisation, or discharge, within follow-up; a patient who dies first never improves.
- **time_to_recovery**: the first time at NIAID level 1–3 (ACTT-1's recovery; Beigel JH 2020 N
  Engl J Med 383:1813; :func:`il6sim.clinical.niaid_scale`) within follow-up.
- **days_alive_free_of_ventilation**: whole days alive and off invasive ventilation
  (:func:`il6sim.clinical.on_ventilator`) within follow-up; days after death count as neither.

Each endpoint is read within its own follow-up (``horizons``; :meth:`TrialSpec.followup_for`),
from one run as long as the longest.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..clinical import death_hazard, secondary_infection_probability
from ..clinical._ordinal import (
    DISCHARGE_MAX_SOFA,
    DISCHARGE_STABLE_H,
    daily_worst,
    discharge_time,
    niaid_from_who,
    on_ventilator,
    ready_for_discharge,
    who_scale,
)
from ..engine.results import SimulationResult
from ..population._course import first_time
from ._signals import SUPPORT_PF, VASOPRESSOR_MAP

__all__ = ["DISCHARGE_MAX_SOFA", "DISCHARGE_STABLE_H", "arm_endpoints"]

#: Days on which the WHO level is recorded (``ordinal_day<N>``).
ORDINAL_DAYS = (14, 28)


def _until(result: SimulationResult, hours: float) -> SimulationResult:
    """The part of ``result`` up to ``hours``."""
    keep = result.time <= hours + 1e-9
    if keep.all():
        return result
    return replace(result, time=result.time[keep], outputs=result.outputs[:, keep],
                   states=result.states[:, keep])


def arm_endpoints(result: SimulationResult, *, threshold_left: np.ndarray,
                  rest_signal: np.ndarray, infection_uniform: np.ndarray,
                  followup_h: float, horizons: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per patient of ``result`` (time 0 = randomisation).

    Parameters
    ----------
    threshold_left : each patient's death threshold minus the hazard accumulated before
        randomisation.
    rest_signal : each patient's resting leukocyte IL-6 signal (before infection).
    infection_uniform : one uniform number per patient; a secondary infection occurs when it
        falls below the arm's probability.
    followup_h : hours of follow-up.
    horizons : hours of follow-up of single endpoints (the others: ``followup_h``).
    """
    horizons = horizons or {}
    time = result.time
    dt = np.diff(time, prepend=time[0])

    def within(endpoint: str) -> np.ndarray:
        return time <= horizons.get(endpoint, followup_h) + 1e-9

    def by(endpoint: str, hours: np.ndarray) -> np.ndarray:
        return hours <= horizons.get(endpoint, followup_h) + 1e-9  # NaN: False

    cumulative = np.cumsum(death_hazard(result) * dt, axis=1)
    death_h = first_time(time, cumulative >= threshold_left[:, None])
    alive = ~(time[None, :] >= death_h[:, None])
    pf = result.output("pf_ratio")
    imv = pf < SUPPORT_PF[2]
    organ_support = (pf < SUPPORT_PF[1]) | (result.output("map") < VASOPRESSOR_MAP)
    discharge_h = discharge_time(result, death_h)
    died, discharged = by("mortality", death_h), by("discharge", discharge_h)
    inside = time <= followup_h + 1e-9
    osfd = within("organ_support_free_days")
    free_h = ((~organ_support & alive & osfd) * dt).sum(axis=1)
    infection_p = secondary_infection_probability(
        _until(result, horizons.get("secondary_infection", followup_h)), "hospital",
        rest=rest_signal)
    ok = np.array([s == "ok" for s in result.status])
    out = pd.DataFrame({
        "status": result.status,
        "died": died,
        "death_day": np.where(died, death_h / 24.0, np.nan),
        "imv_or_death": by("imv_or_death", death_h)
        | (imv & within("imv_or_death")).any(axis=1),
        "discharged": discharged,
        "discharge_day": np.where(discharged, discharge_h / 24.0, np.nan),
        "organ_support_free_days": np.where(by("organ_support_free_days", death_h), -1.0,
                                            np.floor(free_h / 24.0)),
        "secondary_infection": infection_uniform < infection_p,
        "secondary_infection_probability": infection_p,
        "peak_il6": np.nanmax(np.where(inside, result.output("il6"), np.nan), axis=1),
        "peak_crp": np.nanmax(np.where(inside, result.output("crp"), np.nan), axis=1),
        "min_pf": np.nanmin(np.where(inside, pf, np.nan), axis=1),
        **_ordinal_endpoints(result, death_h, discharge_h, alive, dt, within),
    })
    for column in out.columns.drop("status"):  # yes/no as 1/0; a failed simulation: NaN
        out[column] = out[column].astype(float).where(ok)
    return out


def _ordinal_endpoints(result: SimulationResult, death_h: np.ndarray, discharge_h: np.ndarray,
                       alive: np.ndarray, dt: np.ndarray, within) -> dict[str, np.ndarray]:
    """The WHO-scale endpoints: levels on days 0, 14 and 28, improvement by 2 points,
    recovery (NIAID 1–3) and days alive and free of ventilation."""
    time = result.time
    who = who_scale(result, death_h=death_h, discharge_h=discharge_h)
    days = daily_worst(who, time, max(ORDINAL_DAYS))
    better = (who <= who[:, :1] - 2) | (time[None, :] >= discharge_h[:, None])
    improvement_h = first_time(time, better & within("time_to_improvement"))
    niaid = niaid_from_who(who, ready_for_discharge(result))
    recovery_h = first_time(time, (niaid <= 3) & within("time_to_recovery"))
    free = ~on_ventilator(result.output("pf_ratio")) & alive \
        & within("days_alive_free_of_ventilation")
    return {
        "who_day0": who[:, 0],
        **{f"ordinal_day{day}": days[:, day] for day in ORDINAL_DAYS},
        "improved": np.isfinite(improvement_h), "improvement_day": improvement_h / 24.0,
        "recovered": np.isfinite(recovery_h), "recovery_day": recovery_h / 24.0,
        "days_alive_free_of_ventilation": np.floor((free * dt).sum(axis=1) / 24.0),
    }
