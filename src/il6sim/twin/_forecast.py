"""Forecasts of a fitted twin: lab bands and the probability of death, untreated and treated.

The MAP and the weighted posterior draws of the fit (:mod:`il6sim.twin._posterior`; the heaviest
``n_draws``, weights ``w_i`` renormalised) are simulated in one batch from admission to the
horizon. A lab's forecast interval is the posterior
predictive one: each draw's trajectory with the log-normal measurement error of
:data:`~il6sim.twin.LAB_MARKERS` added (Monte Carlo), weighted, so it can be compared with a
future measurement. The probability of
death over the horizon, given alive now, is ``sum_i w_i (1 - exp(-H_i))`` with ``H_i`` the
SOFA-based death hazard of draw ``i`` (:func:`il6sim.clinical.death_hazard`) integrated from now
to the horizon. Beside it, :meth:`Forecast.death_probability` reports a *recalibrated*
probability: a post-hoc logistic recalibration of that number against the shipped cohort's
outcomes (:mod:`il6sim.twin._recalibration`), not a change of the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..clinical import death_hazard
from ..engine.results import SimulationResult
from ._priors import LAB_MARKERS

__all__ = ["ArmForecast", "Forecast", "simulate_forecast"]

#: Measurement-error samples per posterior draw in predictive intervals.
NOISE_SAMPLES = 40



@dataclass
class ArmForecast:
    """One arm: ``labs`` ``{marker: (draws, times)}``, per-draw risk of death over the horizon,
    the regimen (``None`` untreated), which draws integrated, and ``map_labs``
    ``{marker: (times,)}`` of the MAP parameters."""

    name: str
    regimen: str | None
    labs: dict[str, np.ndarray]
    risk: np.ndarray
    ok: np.ndarray
    map_labs: dict[str, np.ndarray]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of each column of ``values`` (M, T) with row ``weights`` (M,)
    (inverse of the weighted empirical distribution, midpoint rule)."""
    order = np.argsort(values, axis=0)
    ranked = np.take_along_axis(values, order, axis=0)
    w = weights[order]
    cumulative = (np.cumsum(w, axis=0) - 0.5 * w) / w.sum(axis=0)
    return np.stack([[np.interp(p, cumulative[:, t], ranked[:, t])
                      for t in range(values.shape[1])] for p in np.atleast_1d(q)])


@dataclass
class Forecast:
    """Forecast of one patient's twin (see :meth:`~il6sim.twin.DigitalTwin.forecast`).

    ``days`` are days since admission; ``now_days`` is where the forecast starts; ``draws``
    (natural scale) carry importance ``weights`` summing to 1.
    """

    @property
    def effective_draws(self) -> float:
        """Effective sample size of the weighted draws, ``1 / sum w^2``."""
        return float(1.0 / np.sum(self.weights**2)) if self.weights.sum() > 0 else 0.0


    patient_id: str
    age: float
    outcome: int | None
    days: np.ndarray
    now_days: float
    horizon_days: float
    draws: np.ndarray
    weights: np.ndarray
    arms: dict[str, ArmForecast]
    observations: pd.DataFrame
    fit_days: float | None
    sigma: dict[str, float]
    seed: int = 0
    notes: list[str] = field(default_factory=list)
    diagnostics: Any = None  # the fit's SamplingDiagnostics (ESS, PSIS Pareto k)

    # ------------------------------------------------------------------ bands
    def band(self, marker: str, arm: str = "untreated", level: float = 0.9, *,
             noise: bool = True) -> pd.DataFrame:
        """``days``, ``low``, ``median``, ``high`` of ``marker``: the central ``level`` interval
        of the posterior predictive (``noise=True``: a new measurement) or of the model curve."""
        forecast = self.arms[arm]
        weights = np.where(forecast.ok, self.weights, 0.0)
        log = np.log(np.maximum(forecast.labs[marker][weights > 0], 1e-12))
        weights = weights[weights > 0]
        if noise:
            rng = np.random.default_rng([self.seed, 7])
            eps = rng.standard_normal((log.shape[0], NOISE_SAMPLES)) * self.sigma[marker]
            log = (log[:, None, :] + eps[:, :, None]).reshape(-1, log.shape[1])
            weights = np.repeat(weights, NOISE_SAMPLES)
        q = weighted_quantile(log, weights, [0.5 - level / 2, 0.5, 0.5 + level / 2])
        return pd.DataFrame({"days": self.days, "low": np.exp(q[0]), "median": np.exp(q[1]),
                             "high": np.exp(q[2])})

    def coverage(self, level: float = 0.9, arm: str = "untreated") -> pd.DataFrame:
        """The patient's labs after ``now_days`` (within the horizon) against the forecast.

        Columns: ``time_days``, ``days_ahead``, ``marker``, ``value``, ``censored``, ``low``,
        ``high``, ``covered`` (a censored value counts as covered when the interval reaches its
        side of the limit).
        """
        later = self.observations
        later = later[(later["time_days"] > self.now_days)
                      & (later["time_days"] <= self.now_days + self.horizon_days)]
        rows = []
        for marker, group in later.groupby("marker", sort=False):
            band = self.band(marker, arm, level)
            low = np.interp(group["time_days"], band["days"], band["low"])
            high = np.interp(group["time_days"], band["days"], band["high"])
            value = group["value"].to_numpy(float)
            censored = group["censored"].fillna("").to_numpy(str)
            covered = np.where(censored == "left", low <= value,
                               np.where(censored == "right", high >= value,
                                        (low <= value) & (value <= high)))
            rows.append(group.assign(days_ahead=group["time_days"] - self.now_days, low=low,
                                     high=high, covered=covered))
        columns = ["time_days", "days_ahead", "marker", "value", "censored", "low", "high",
                   "covered"]
        if not rows:
            return pd.DataFrame(columns=columns)
        return pd.concat(rows, ignore_index=True)[columns]

    # ------------------------------------------------------------------ death
    def death_probability(self, level: float = 0.9, *,
                          recalibration: Any = "shipped") -> pd.DataFrame:
        """Per arm: ``probability`` of death within the horizon given alive now (posterior
        mean of the model's hazard), the central ``level`` interval of the per-draw risk,
        draws used and failed, and ``recalibrated``: ``probability`` mapped by the post-hoc
        recalibration against the shipped cohort (``recalibration``: ``"shipped"``, a
        :class:`~il6sim.twin._recalibration.TwinRecalibration` or ``None``), NaN where it does
        not apply (:meth:`recalibration_note` says why)."""
        rows = []
        for name, arm in self.arms.items():
            weights = np.where(arm.ok, self.weights, 0.0)
            if weights.sum() > 0:
                weights = weights / weights.sum()
                probability = float(np.sum(weights * np.nan_to_num(arm.risk)))
                lo, hi = weighted_quantile(arm.risk[:, None], weights,
                                           [0.5 - level / 2, 0.5 + level / 2])[:, 0]
                ess = float(1.0 / np.sum(weights**2))
            else:
                probability = lo = hi = ess = np.nan
            rows.append({"arm": name, "probability": probability, "low": float(lo),
                         "high": float(hi), "effective_draws": ess, "draws": int(arm.ok.sum()),
                         "failed": int((~arm.ok).sum())})
        table = pd.DataFrame(rows)
        recal = _recalibration(recalibration)
        usable = recal is not None and self.recalibration_note(recalibration) is None
        table["recalibrated"] = (recal.apply(table["probability"].to_numpy()) if usable
                                 else np.nan)
        return table

    def recalibration_note(self, recalibration: Any = "shipped") -> str | None:
        """Why the recalibrated probability is not reported (another horizon or model
        version than the recalibration was fitted to), or ``None``."""
        from ._recalibration import model_fingerprint

        recal = _recalibration(recalibration)
        if recal is None:
            return "no recalibration given"
        return recal.validity(horizon_days=self.horizon_days, model=model_fingerprint())

    # ------------------------------------------------------------------ figure
    def plot(self, path: str | Path, level: float = 0.9) -> Path:
        """Four panels (IL-6, CRP, LDH, lymphocytes): labs used for the fit (filled), later labs
        (open), the forecast median and ``level`` predictive band of each arm."""
        from ._plot import plot_forecast

        return plot_forecast(self, Path(path), level)


def _recalibration(recalibration: Any):
    if isinstance(recalibration, str) and recalibration == "shipped":
        from ._recalibration import load_twin_recalibration

        return load_twin_recalibration()
    return recalibration


def _arm(name: str, regimen: str | None, result: SimulationResult, now_days: float
         ) -> ArmForecast:
    """Row 0 of ``result`` is the MAP; the draws follow."""
    hours = result.time
    after = hours >= now_days * 24.0 - 1e-9
    hazard = death_hazard(result)[:, after]
    cumulative = np.trapezoid(hazard, hours[after], axis=1)
    ok = result.ok & np.all(np.isfinite(result.outputs[:, after]), axis=(1, 2))
    labs = {m: result.output(spec.output) for m, spec in LAB_MARKERS.items()}
    return ArmForecast(name, regimen, {m: v[1:] for m, v in labs.items()},
                       1.0 - np.exp(-cumulative[1:]), ok[1:], {m: v[0] for m, v in labs.items()})


def simulate_forecast(twin, *, horizon_days: float, n_draws: int, regimen: str | None,
                      weight_kg: float, step_days: float, seed: int | None) -> Forecast:
    """Simulate the MAP and the ``n_draws`` heaviest posterior draws of a fitted ``twin``
    untreated and, with ``regimen``, treated from ``twin.now_days_``; see
    :meth:`~il6sim.twin.DigitalTwin.forecast`."""
    seed = twin.random_state if seed is None else seed
    now = twin.now_days_
    end = now + horizon_days
    days = np.union1d(np.round(np.arange(0.0, end + step_days / 2, step_days), 10), [now, end])
    order = np.argsort(-twin.weights_, kind="stable")[:n_draws]
    order = order[twin.weights_[order] > 0]
    weights = twin.weights_[order] / twin.weights_[order].sum()
    theta = np.vstack([twin.theta_, twin.draws_[order]])  # row 0: the MAP
    arms = {"untreated": _arm("untreated", None, twin.simulator_.run(theta, days), now)}
    if regimen is not None:
        from ..pharmacology import expand_regimen

        doses = expand_regimen(regimen, weight_kg=weight_kg, start_h=now * 24.0,
                               until_h=end * 24.0)
        treated = twin.simulator_.run(theta, days, extra_doses=doses)
        arms[regimen] = _arm(regimen, regimen, treated, now)
    series = twin.series_
    diagnostics = getattr(twin, "diagnostics_", None)
    warning = diagnostics.warning() if diagnostics is not None else None
    return Forecast(patient_id=series.patient_id, age=series.age, outcome=series.outcome,
                    days=days, now_days=now, horizon_days=horizon_days, draws=theta[1:],
                    weights=weights, arms=arms, observations=series.observations,
                    fit_days=twin.fit_days_, sigma=dict(twin.sigma_), seed=seed,
                    notes=[warning] if warning else [], diagnostics=diagnostics)
