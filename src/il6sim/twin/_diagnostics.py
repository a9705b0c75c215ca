"""How far a twin's importance-weighted posterior draws can be trusted.

Two numbers, from the normalised importance weights ``w`` of the fit
(:mod:`il6sim.twin._posterior`):

* the effective sample size ``1 / sum w^2`` (Kong 1992): the number of equally weighted draws
  the weighted set is worth;
* the Pareto shape ``k`` of the largest weights, from Pareto-smoothed importance sampling
  (PSIS; Vehtari et al. 2024), computed with ArviZ (:func:`arviz.psislw`). Above 0.7 the
  importance-sampling estimates are unreliable whatever the sample size looks like; above 0.5
  they converge slowly.

A fit is flagged when the ESS is below :data:`MIN_EFFECTIVE_DRAWS` or below
:data:`MIN_EFFECTIVE_FRACTION` of the draws, or when ``k`` exceeds :data:`MAX_PARETO_K`; its
credible and predictive intervals would then rest on a few draws and be too narrow, so the
command line, the figure and ``twin-eval`` say so, and the fit widens them: :func:`temper`
raises the weights to the smallest power ``tau`` (0 < tau <= 1) that gives the required ESS
(a tempered, flatter posterior between the proposal and the target, as in annealed importance
sampling: Neal RM 2001 Stat Comput 11:125). The intervals are then conservative.

References
----------
Kong A (1992) A note on importance sampling using standardized weights. Technical report 348,
Department of Statistics, University of Chicago.
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024) Pareto smoothed importance sampling.
J Mach Learn Res 25(72):1–58.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["MAX_PARETO_K", "MIN_EFFECTIVE_DRAWS", "MIN_EFFECTIVE_FRACTION",
           "SamplingDiagnostics", "diagnose", "pareto_k", "temper"]

#: Below this many effective draws a fit's intervals are flagged.
MIN_EFFECTIVE_DRAWS = 50
#: ... or below this fraction of the draws.
MIN_EFFECTIVE_FRACTION = 0.05
#: Above this Pareto k the importance-sampling estimates are unreliable (Vehtari et al. 2024).
MAX_PARETO_K = 0.7


@dataclass(frozen=True)
class SamplingDiagnostics:
    """Diagnostics of a set of importance-weighted draws (see the module docstring).

    ``pareto_k`` is ``None`` when ArviZ is not installed or too few draws carry weight.
    """

    draws: int
    effective_draws: float
    pareto_k: float | None
    #: power the weights were raised to in order to widen a flagged fit (1: not tempered)
    tempering: float = 1.0

    @property
    def low(self) -> bool:
        """True when the draws are too few or too uneven to trust the intervals."""
        few = (self.effective_draws < MIN_EFFECTIVE_DRAWS
               or self.effective_draws < MIN_EFFECTIVE_FRACTION * self.draws)
        return bool(few or (self.pareto_k is not None and self.pareto_k > MAX_PARETO_K))

    def describe(self) -> str:
        """``'12 effective draws of 600 (2.0 %), PSIS Pareto k 0.93'``."""
        share = self.effective_draws / self.draws if self.draws else 0.0
        k = "" if self.pareto_k is None else f", PSIS Pareto k {self.pareto_k:.2f}"
        return f"{self.effective_draws:.0f} effective draws of {self.draws} ({share:.1%}){k}"

    def warning(self) -> str | None:
        """A one-line warning when :attr:`low`, else ``None``."""
        if not self.low:
            return None
        widened = (f"; intervals widened by tempering the weights (power {self.tempering:.2f})"
                   if self.tempering < 1.0 else
                   "; the posterior and forecast intervals rest on a few draws and are too narrow")
        return (f"low effective sample size: {self.describe()} (flagged below "
                f"{MIN_EFFECTIVE_DRAWS} or {MIN_EFFECTIVE_FRACTION:.0%} of the draws, or k > "
                f"{MAX_PARETO_K}){widened}")

    def to_dict(self) -> dict:
        return {**asdict(self), "low_ess": self.low}


def pareto_k(log_weights: np.ndarray) -> float | None:
    """The PSIS Pareto shape ``k`` of ``log_weights`` (ArviZ), or ``None`` without ArviZ, with
    fewer than 10 finite weights or with all weights equal."""
    log_weights = np.asarray(log_weights, float)
    log_weights = log_weights[np.isfinite(log_weights)]
    if log_weights.size < 10 or np.ptp(log_weights) < 1e-9:
        return None  # too few weights, or all equal: no tail to fit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ArviZ announces its refactor on import
            import arviz
    except ImportError:  # pragma: no cover - arviz is a declared dependency
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ warns when k is large: that is the point
        _, k = arviz.psislw(log_weights - log_weights.max())
    return float(np.asarray(k).reshape(-1)[0])


def diagnose(weights: np.ndarray) -> SamplingDiagnostics:
    """Effective sample size and PSIS Pareto k of normalised importance ``weights``."""
    weights = np.asarray(weights, float)
    total = weights.sum()
    ess = float(total**2 / np.sum(weights**2)) if total > 0 else 0.0
    with np.errstate(divide="ignore"):
        k = pareto_k(np.log(weights)) if total > 0 else None
    return SamplingDiagnostics(draws=len(weights), effective_draws=ess, pareto_k=k)


def _ess(weights: np.ndarray) -> float:
    total = weights.sum()
    return float(total**2 / np.sum(weights**2)) if total > 0 else 0.0


def temper(weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalised weights ``w**tau / sum`` with the largest ``tau`` in (0, 1] whose effective
    sample size reaches the flag's floor (:data:`MIN_EFFECTIVE_DRAWS`, or
    :data:`MIN_EFFECTIVE_FRACTION` of the draws, whichever is larger, capped at the number of
    draws with weight); ``tau = 1`` leaves them unchanged."""
    weights = np.asarray(weights, float)
    carried = int(np.count_nonzero(weights > 0))
    floor = min(max(MIN_EFFECTIVE_DRAWS, MIN_EFFECTIVE_FRACTION * len(weights)), carried)
    if carried == 0 or _ess(weights) >= floor:
        return weights, 1.0
    logw = np.where(weights > 0, np.log(np.where(weights > 0, weights, 1.0)), -np.inf)

    def powered(tau: float) -> np.ndarray:
        w = np.exp(tau * (logw - logw[np.isfinite(logw)].max()))
        return w / w.sum()

    low, high = 0.0, 1.0  # ESS falls as tau rises; find the largest tau meeting the floor
    for _ in range(60):
        mid = 0.5 * (low + high)
        if _ess(powered(mid)) >= floor:
            low = mid
        else:
            high = mid
    tau = max(low, 1e-6)
    return powered(tau), tau
