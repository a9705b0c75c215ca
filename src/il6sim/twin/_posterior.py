"""Posterior draws of a fitted twin by adaptive, defensive importance sampling.

The Laplace approximation alone is not trusted: a COVID-19 course is threshold-like (a storm
happens or not), so the MAP often sits at the edge of a regime where the local curvature says
little about the posterior (a parameter that no longer matters inside the storm regime is pulled
by its prior to the edge, and there the outputs change abruptly). Draws therefore come from a
mixture proposal on log parameters, truncated to the bounds:

* a multivariate t (5 degrees of freedom) with the Laplace covariance at the MAP (heavy tails),
* a normal with half that SD at the MAP (a posterior cut off close to the MAP),
* the prior itself (defensive importance sampling, Hesterberg 1995: directions the data leave
  to the prior, e.g. the interferon capacity once a storm is under way),

and each draw is weighted by its exact posterior (the fitted labs are simulated for every draw,
in one batch) over the proposal density. While the effective sample size ``1 / sum w^2`` is
below :data:`TARGET_ESS_FRACTION` of the draws of a round, the next round's t and normal parts
move to the weighted mean and covariance (adaptive importance sampling, Cappé 2004); all rounds
are weighted against their equal mixture (deterministic-mixture weights, Owen & Zhou 2000).

References
----------
Hesterberg T (1995) Weighted average importance sampling and defensive mixture distributions.
Technometrics 37:185.
Cappé O, Guillin A, Marin JM, Robert CP (2004) Population Monte Carlo. J Comput Graph Stat
13:907.
Owen A, Zhou Y (2000) Safe and effective importance sampling. J Am Stat Assoc 95:135.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, multivariate_t

__all__ = ["MAX_ROUNDS", "TARGET_ESS_FRACTION", "importance_sample"]

#: Stop adapting once the effective sample size reaches this fraction of a round's draws.
TARGET_ESS_FRACTION = 0.25
#: Rounds of adaptive importance sampling at most.
MAX_ROUNDS = 3
#: Degrees of freedom of the t part.
PROPOSAL_DF = 5
#: Share of draws from the t, the narrow normal and the prior.
MIXTURE = (0.4, 0.4, 0.2)
#: Inflation of the weighted covariance for the next round (keeps it wider than the few draws
#: that carry most of the weight).
INFLATION = 1.5


class _Proposal:
    """The three-part mixture at ``mean`` with covariance ``cov`` (log parameters)."""

    def __init__(self, twin, mean: np.ndarray, cov: np.ndarray):
        k = len(mean)
        cov = cov + 1e-10 * np.eye(k)
        self.parts = (multivariate_t(mean, cov, df=PROPOSAL_DF, allow_singular=True),
                      multivariate_normal(mean, cov / 4.0, allow_singular=True),
                      multivariate_normal(twin._prior_mean, np.diag(twin._prior_sd**2)))
        self.lower, self.upper = twin._lower, twin._upper

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws within the bounds (rejection keeps the mixture's shape)."""
        rows: list[np.ndarray] = []
        while sum(len(r) for r in rows) < n:
            part = rng.choice(3, size=2 * n, p=MIXTURE)
            z = np.empty((2 * n, len(self.lower)))
            for j, dist in enumerate(self.parts):
                m = int((part == j).sum())
                if m:
                    z[part == j] = np.reshape(dist.rvs(m, random_state=rng), (m, -1))
            rows.append(z[np.all((z >= self.lower) & (z <= self.upper), axis=1)])
        return np.vstack(rows)[:n]

    def logpdf(self, z: np.ndarray) -> np.ndarray:
        """Log density of the untruncated mixture (the truncation constant is common to all
        draws and cancels in self-normalised weights)."""
        parts = [np.log(w) + np.atleast_1d(d.logpdf(z))
                 for w, d in zip(MIXTURE, self.parts, strict=True)]
        return logsumexp(parts, axis=0)


def _weights(log_w: np.ndarray) -> np.ndarray:
    if not np.isfinite(log_w).any():
        return np.zeros(len(log_w))
    w = np.exp(log_w - np.max(log_w[np.isfinite(log_w)]))
    w[~np.isfinite(log_w)] = 0.0
    return w / w.sum()


def importance_sample(twin, n_draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Log-parameter draws, their normalised weights and the number of rounds used."""
    rng = np.random.default_rng([seed, 11])
    proposals = [_Proposal(twin, twin.z_, twin.cov_)]
    draws: list[np.ndarray] = []
    log_post: list[np.ndarray] = []
    for round_ in range(MAX_ROUNDS):
        z = proposals[-1].sample(n_draws, rng)
        pred = twin.simulator_.labs(np.exp(z), twin._days, twin._markers)
        lp = twin.log_posterior(z, pred)
        lp[~np.all(np.isfinite(pred), axis=1)] = -np.inf  # failed integrations
        draws.append(z)
        log_post.append(lp)
        all_z = np.vstack(draws)
        log_q = logsumexp([p.logpdf(all_z) for p in proposals], axis=0) - np.log(len(proposals))
        weights = _weights(np.concatenate(log_post) - log_q)
        ess = 1.0 / np.sum(weights**2) if weights.sum() > 0 else 0.0
        if ess >= TARGET_ESS_FRACTION * n_draws or round_ == MAX_ROUNDS - 1:
            return all_z, weights, round_ + 1
        mean = weights @ all_z
        centred = all_z - mean
        cov = INFLATION * (centred * weights[:, None]).T @ centred
        proposals.append(_Proposal(twin, mean, cov + 1e-4 * np.diag(twin._prior_sd**2)))
    raise AssertionError("unreachable")  # pragma: no cover
