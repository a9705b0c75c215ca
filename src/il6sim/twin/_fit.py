"""Fit the twin to one patient: maximum a posteriori, Laplace, importance-weighted draws.

The negative log-posterior is a sum of squares (:func:`scipy.optimize.least_squares`, trust
region reflective, on log parameters within bounds):

* each uncensored lab: ``(log y - log f(t)) / sigma`` (the log-normal measurement model of
  :data:`~il6sim.twin.LAB_MARKERS`);
* each censored lab (``<1.5`` or ``>5000`` pg/mL IL-6): ``sqrt(-2 log Phi(z))`` with ``z`` the
  standardised distance of the model from the limit on the allowed side, i.e. the Tobit
  likelihood of a value known only to lie beyond the limit;
* each parameter: ``(log theta - log median) / log_sd`` (the log-normal prior).

The course of a COVID-19 host response is threshold-like (a storm happens or not), so the fit
starts from the best of a scrambled Sobol sample of the prior and refines the best few starts.
The Jacobian is by forward differences, all perturbed parameter sets simulated in one batch.
The covariance of the log parameters is ``(J^T J)^-1`` at the optimum (Gauss-Newton Laplace
approximation; MacKay 2003, ch. 27). Because the course can switch between a storm and none
within that Gaussian, it is not trusted alone: it shapes the proposal of importance sampling
whose weights use the exact posterior of every draw (:mod:`il6sim.twin._posterior`; Geweke
1989), and credible intervals and forecasts use the weighted draws.

References
----------
Tobin J (1958) Estimation of relationships for limited dependent variables. Econometrica 26:24.
MacKay DJC (2003) Information Theory, Inference and Learning Algorithms, ch. 27 (Laplace's
method). Cambridge University Press.
Geweke J (1989) Bayesian inference in econometric models using Monte Carlo integration.
Econometrica 57:1317.
Branch MA, Coleman TF, Li Y (1999) A subspace, interior, and conjugate gradient method for
large-scale bound-constrained minimization problems. SIAM J Sci Comput 21:1 (scipy's ``trf``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import log_ndtr
from scipy.stats import norm, qmc

from ..errors import InputError
from ._data import PatientSeries
from ._diagnostics import diagnose, temper
from ._posterior import importance_sample
from ._priors import LAB_MARKERS, TWIN_PARAMETERS
from ._simulator import TwinSimulator

__all__ = ["DigitalTwin"]

#: Residual given to each lab of a draw whose integration failed (a large, finite penalty).
FAILED_RESIDUAL = 30.0
_TINY = 1e-12


class DigitalTwin:
    """A patient's digital twin: the mechanistic model fitted to their own lab series.

    Parameters
    ----------
    n_starts : Sobol points drawn from the prior to pick starting points from.
    n_local : best starting points refined by least squares.
    max_nfev : function evaluations per local fit.
    fd_step : forward-difference step on log parameters.
    n_draws : posterior draws per round of importance sampling (:mod:`il6sim.twin._posterior`).
    sigma_model : model error (log SD) of every lab; ``None``: each marker's estimate in
        :data:`~il6sim.twin.LAB_MARKERS`; 0 for data the model itself made.
    backend, rtol : engine backend and tolerance.
    random_state : seed of the Sobol sample and of :meth:`sample`.

    Attributes (after :meth:`fit`)
    ------------------------------
    series_ : the patient (:class:`~il6sim.twin.PatientSeries`).
    fit_days_ : labs up to this many days after admission were fitted (``None``: all).
    now_days_ : the time the forecast starts from (``fit_days_``, or the last lab fitted).
    sigma_ : log-scale SD of each lab used.
    theta_ : MAP parameters (natural scale, order of :data:`~il6sim.twin.TWIN_PARAMETERS`).
    cov_ : covariance of ``log theta_`` in the Laplace approximation.
    draws_, weights_ : posterior draws (natural scale) and their importance weights (sum 1;
        tempered to widen the intervals when the fit is flagged, see ``diagnostics_``).
    effective_draws_ : effective sample size of the weights used, ``1 / sum w^2``.
    diagnostics_ : :class:`~il6sim.twin._diagnostics.SamplingDiagnostics` of the untempered
        draws (ESS, PSIS Pareto k, ``low``, the ``tempering`` power applied and a ``warning()``).
    cost_ : half the sum of squared residuals (negative log posterior up to a constant).
    observations_ : the labs fitted, with the twin's value and the standardised residual.
    """

    def __init__(self, *, n_starts: int = 32, n_local: int = 2, max_nfev: int = 40,
                 fd_step: float = 2e-3, n_draws: int = 200, sigma_model: float | None = None,
                 backend: str = "fast", rtol: float = 1e-6, random_state: int = 0):
        self.n_starts = n_starts
        self.sigma_model = sigma_model
        self.n_draws = n_draws
        self.n_local = n_local
        self.max_nfev = max_nfev
        self.fd_step = fd_step
        self.backend = backend
        self.rtol = rtol
        self.random_state = random_state

    # ------------------------------------------------------------------ objective
    def _setup(self, series: PatientSeries, fit_days: float | None) -> None:
        obs = series.until(fit_days)
        obs = obs[obs["marker"].isin(list(LAB_MARKERS))]
        if obs.empty:
            window = "" if fit_days is None else f" in the first {fit_days:g} days"
            raise InputError(f"patient {series.patient_id} has no IL-6, CRP, LDH or lymphocyte "
                             f"value{window}; fix: give a larger --fit-days or another patient")
        self.simulator_ = TwinSimulator(series.age, backend=self.backend, rtol=self.rtol)
        self._days = obs["time_days"].to_numpy(float)
        self._markers = obs["marker"].tolist()
        self._log_y = np.log(obs["value"].to_numpy(float))
        self.sigma_ = {name: spec.sigma if self.sigma_model is None
                       else spec.sigma_with(self.sigma_model)
                       for name, spec in LAB_MARKERS.items()}
        self._sigma = np.array([self.sigma_[m] for m in self._markers])
        self._censored = obs["censored"].fillna("").to_numpy(str)
        self._obs = obs.reset_index(drop=True)
        self._prior_mean = np.log([p.median for p in TWIN_PARAMETERS])
        self._prior_sd = np.array([p.log_sd for p in TWIN_PARAMETERS])
        self._lower = np.log([p.bounds[0] for p in TWIN_PARAMETERS])
        self._upper = np.log([p.bounds[1] for p in TWIN_PARAMETERS])
        self._cache: dict[bytes, np.ndarray] = {}

    def _data_residuals(self, log_pred: np.ndarray) -> np.ndarray:
        """Standardised residuals (N, J) of the labs for log model values ``log_pred``."""
        z = (self._log_y - log_pred) / self._sigma
        out = z.copy()
        left = self._censored == "left"  # true value <= limit: model should be below it
        right = self._censored == "right"
        out[:, left] = np.sqrt(-2.0 * log_ndtr(z[:, left]))
        out[:, right] = np.sqrt(-2.0 * log_ndtr(-z[:, right]))
        return out

    def residuals(self, Z: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Residual vectors (N, J + K) of log-parameter rows ``Z`` whose model values at the
        fitted labs are ``pred`` (N, J); a failed draw's labs get :data:`FAILED_RESIDUAL`."""
        Z = np.atleast_2d(Z)
        data = self._data_residuals(np.log(np.maximum(pred, _TINY)))
        data[~np.isfinite(data)] = FAILED_RESIDUAL
        prior = (Z - self._prior_mean) / self._prior_sd
        return np.hstack([data, prior])

    def log_posterior(self, Z: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior density of log parameters ``Z`` (N,)."""
        return -0.5 * np.sum(self.residuals(Z, pred) ** 2, axis=1)

    def _residuals_batch(self, Z: np.ndarray) -> np.ndarray:
        Z = np.atleast_2d(Z)
        return self.residuals(Z, self.simulator_.labs(np.exp(Z), self._days, self._markers))

    def _fun(self, z: np.ndarray) -> np.ndarray:
        key = z.tobytes()
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = self._residuals_batch(z)[0]
        return self._cache[key]

    def _jac(self, z: np.ndarray) -> np.ndarray:
        f0 = self._fun(z)
        steps = np.where(z + self.fd_step <= self._upper, self.fd_step, -self.fd_step)
        perturbed = z[None, :] + np.diag(steps)
        f = self._residuals_batch(perturbed)
        return ((f - f0[None, :]) / steps[:, None]).T

    # ------------------------------------------------------------------ fitting
    def _starts(self) -> np.ndarray:
        k = len(TWIN_PARAMETERS)
        sobol = qmc.Sobol(k, scramble=True, seed=self.random_state)
        u = sobol.random(self.n_starts)
        z = self._prior_mean + self._prior_sd * norm.ppf(0.025 + 0.95 * u)
        z = np.vstack([self._prior_mean, z])
        return np.clip(z, self._lower + 1e-6, self._upper - 1e-6)

    def fit(self, series: PatientSeries, fit_days: float | None = None) -> DigitalTwin:
        """Fit the patient's labs up to ``fit_days`` after admission (all labs for ``None``)."""
        self._setup(series, fit_days)
        starts = self._starts()
        costs = 0.5 * np.sum(self._residuals_batch(starts) ** 2, axis=1)
        best = None
        for i in np.argsort(costs)[: self.n_local]:
            solution = least_squares(
                self._fun, starts[i], jac=self._jac, bounds=(self._lower, self._upper),
                method="trf", x_scale=self._prior_sd, max_nfev=self.max_nfev,
                xtol=1e-6, ftol=1e-8, gtol=1e-8)
            if best is None or solution.cost < best.cost:
                best = solution
        self.series_ = series
        self.fit_days_ = fit_days
        self.now_days_ = float(fit_days if fit_days is not None else self._days.max())
        self.z_ = best.x
        self.theta_ = np.exp(best.x)
        self.cost_ = float(best.cost)
        self.nfev_ = int(best.nfev)
        self.cov_ = self._laplace(best.x)
        z, self.weights_, self.rounds_ = importance_sample(self, self.n_draws,
                                                           self.random_state)
        self.draws_ = np.exp(z)
        raw = diagnose(self.weights_)
        self.weights_, tau = temper(self.weights_) if raw.low else (self.weights_, 1.0)
        self.effective_draws_ = (float(1.0 / np.sum(self.weights_**2))
                                 if self.weights_.sum() > 0 else 0.0)
        self.diagnostics_ = replace(raw, tempering=tau)
        residuals = best.fun[: len(self._days)]
        pred = self.simulator_.labs(self.theta_[None, :], self._days, self._markers)[0]
        self.observations_ = self._obs.assign(twin=pred, residual=residuals)
        return self

    def _laplace(self, z: np.ndarray) -> np.ndarray:
        J = self._jac(z)
        H = J.T @ J
        try:
            return np.linalg.inv(H)
        except np.linalg.LinAlgError:
            return np.linalg.pinv(H)

    # ------------------------------------------------------------------ results
    def summary(self, level: float = 0.9) -> pd.DataFrame:
        """One row per parameter: prior median, MAP, posterior median and central ``level``
        credible interval (weighted draws), and the Laplace posterior/prior SD ratio (below 1:
        the labs inform the parameter)."""
        from ._forecast import weighted_quantile

        q = weighted_quantile(np.log(self.draws_), self.weights_,
                              [0.5 - level / 2, 0.5, 0.5 + level / 2])
        return pd.DataFrame({
            "parameter": [p.name for p in TWIN_PARAMETERS],
            "unit": [p.unit for p in TWIN_PARAMETERS],
            "prior_median": [p.median for p in TWIN_PARAMETERS],
            "map": self.theta_,
            "median": np.exp(q[1]),
            "low": np.exp(q[0]),
            "high": np.exp(q[2]),
            "sd_ratio": np.sqrt(np.diag(self.cov_)) / self._prior_sd,
        })

    def forecast(self, horizon_days: float = 14.0, *, n_draws: int = 200,
                 regimen: str | None = None, weight_kg: float = 70.0, step_days: float = 0.25,
                 seed: int | None = None):
        """Forecast labs and death from admission to ``now_days_ + horizon_days``.

        Parameters
        ----------
        horizon_days : days after :attr:`now_days_` to forecast (and to integrate death over).
        n_draws : posterior draws simulated (those with the largest weights), in one batch.
        regimen : an IL-6 blockade regimen of :func:`il6sim.pharmacology.expand_regimen`
            (e.g. ``"tocilizumab-covid-8mgkg"``) started now; adds a treated arm with the same
            draws.
        weight_kg : body weight for weight-based regimens.
        step_days : spacing of the forecast grid.

        Returns
        -------
        Forecast
        """
        from ._forecast import simulate_forecast

        if horizon_days <= 0 or n_draws < 2:
            raise InputError("forecast: horizon_days must be above 0 and n_draws at least 2; "
                             "fix: e.g. horizon_days=14, n_draws=100")
        return simulate_forecast(self, horizon_days=horizon_days, n_draws=n_draws,
                                 regimen=regimen, weight_kg=weight_kg, step_days=step_days,
                                 seed=seed)
