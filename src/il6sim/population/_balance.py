"""Weights that make simulated admissions look like a real cohort, and the selected population.

**Prevalence weights.** Each virtual patient gets a weight (its prevalence in the calibrated
population; Schmidt BJ 2013 BMC Bioinformatics 14:221). The weights are the distribution closest to
the prior (smallest Kullback–Leibler divergence) under which, separately for survivors and non-
survivors, the share of patients in each quantile bin of each marker and covariate equals the
cohort's, and the death fraction equals the cohort's — entropy balancing (Hainmueller J 2012 Polit
Anal 20:25). A virtual patient belongs to the non-survivors with its model probability of death
(``death_probability``, a function of its simulated physiology) and to the survivors with the rest:
calibration never sees the drawn outcome, so no patient is kept or dropped because of the luck of
its draw. The weights are solved through the convex dual. Each constraint is met to within the
cohort's own sampling error rather than exactly (a quadratic penalty in units of the binomial
variance of the cohort's share), so a target the simulations cannot reach is approached as closely
as possible rather than failing. Bins are quantiles of the observed values (about 15 patients per
bin, 2–6 bins), plus one bin below the cohort's smallest and one above its largest value, whose
share is zero: virtual patients beyond the range the cohort saw get (almost) no weight. A value
missing in the cohort counts as missing at random within its outcome group.

**Selected population.** Patients are then accepted with probability ``min(1, f · w / max w)``
(Allen RJ 2016 CPT Pharmacometrics Syst Pharmacol 5:140). With ``f = 1`` the selected patients
follow the weighted distribution exactly but are few; a larger ``f`` keeps more patients at the
cost of flattening the largest weights. As in Allen 2016, ``f`` is chosen to give the best fit:
here the smallest mean KS statistic over the calibrated columns and outcome groups (each patient
counted in each group with its membership probability, :func:`membership`) plus the error in the
mean death probability (:func:`select`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..errors import InputError

__all__ = ["ACCEPTANCE_FACTORS", "Constraints", "Margin", "accept", "constraint_matrix",
           "effective_size", "entropy_weights", "margins", "membership", "published_margin",
           "select"]

#: Scale factors ``f`` tried for the acceptance probability ``min(1, f · w / max w)``.
ACCEPTANCE_FACTORS = (1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 50.0)


@dataclass(frozen=True)
class Margin:
    """The cohort's distribution of one column in one outcome group, as bin shares."""

    column: str
    died: int | None  # None: every admitted patient, whatever the outcome
    edges: np.ndarray  # bin k is edges[k-1] <= x < edges[k]; bin 0 and the last lie outside
    shares: np.ndarray  # share of the group's observed values in each bin
    n_observed: int

    def bins(self, values: np.ndarray) -> np.ndarray:
        """Bin index of each value (−1 where missing)."""
        index = np.searchsorted(self.edges, values, side="right")
        return np.where(np.isfinite(values), index, -1)


def margins(real: pd.DataFrame, columns: list[str], *, per_bin: int = 15,
            max_bins: int = 6) -> list[Margin]:
    """Quantile-bin shares of each column in each outcome group (``real['died']``)."""
    out = []
    for died in (0, 1):
        group = real[real["died"] == died]
        for column in columns:
            observed = group[column].dropna().to_numpy(float)
            if len(observed) < 2:
                continue
            if set(np.unique(observed)) <= {0.0, 1.0}:
                edges = np.array([0.5])
            else:
                k = int(np.clip(len(observed) // per_bin, 2, max_bins))
                inner = np.quantile(observed, np.linspace(0, 1, k + 1)[1:-1])
                top = np.nextafter(observed.max(), np.inf)
                edges = np.unique(np.r_[observed.min(), inner, top])
            index = np.searchsorted(edges, observed, side="right")
            shares = np.bincount(index, minlength=len(edges) + 1) / len(observed)
            out.append(Margin(column, died, edges, shares, len(observed)))
    return out


def published_margin(column: str, distribution, scale: float, cases: int, *,
                     bins: int = 5) -> Margin:
    """Equal-share bins of a published distribution (quantiles of ``distribution`` times
    ``scale``), for all admitted patients; its targets carry the sampling error of ``cases``
    observations. Used for the incubation period, so that the calibration cannot reach the
    cohort's markers through a viral growth that no published incubation allows."""
    quantiles = np.linspace(0, 1, bins + 1)[1:-1]
    edges = distribution.transform(stats.norm.ppf(quantiles)) * scale
    shares = np.r_[0.0, np.full(bins, 1.0 / bins)]
    return Margin(column, None, np.r_[0.0, edges], shares, cases)


@dataclass(frozen=True)
class Constraints:
    """Rows ``A`` (constraints × patients), targets, the targets' sampling variances and labels."""

    A: np.ndarray
    targets: np.ndarray
    variances: np.ndarray
    labels: list[str]


def membership(sim: pd.DataFrame) -> dict[int, np.ndarray]:
    """Each patient's membership of the survivors (``0``) and non-survivors (``1``): its model
    probability of death within follow-up (``death_probability``) and its complement.

    Raises
    ------
    InputError
        ``sim`` has no ``death_probability`` column, or it is missing or outside [0, 1].
    """
    if "death_probability" not in sim.columns:
        raise InputError("the simulated patients have no 'death_probability' column; fix: "
                         "simulate them with il6sim.population.simulate_course")
    p = sim["death_probability"].to_numpy(float)
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise InputError("'death_probability' of the simulated patients is missing or outside "
                         "[0, 1]; fix: pass admitted patients only")
    return {0: 1.0 - p, 1: p}


def constraint_matrix(sim: pd.DataFrame, margins_: list[Margin], death_fraction: float,
                      n_patients: int) -> Constraints:
    """The constraints that make ``sim`` look like the cohort.

    Row ``died=g`` holds the group's share; each margin adds one row per bin but the first (the
    group row implies it): each patient's membership of group ``g`` (:func:`membership`) times
    the indicator of that bin, with target
    ``share(g) · share(bin | g)``. Each target's variance is its binomial sampling variance in the
    cohort (``n_patients`` patients; ``n_observed`` values of the margin).
    """
    member = membership(sim)
    rows, targets, variances, labels = [], [], [], []
    for g, share in ((0, 1.0 - death_fraction), (1, death_fraction)):
        rows.append(member[g])
        targets.append(share)
        variances.append(share * (1 - share) / n_patients)
        labels.append(f"died={g}")
    everyone = np.ones(len(sim))
    for margin in margins_:
        if margin.died is None:
            share, weight, group = 1.0, everyone, "all"
        else:
            share = death_fraction if margin.died else 1.0 - death_fraction
            weight, group = member[margin.died], f"died={margin.died}"
        index = margin.bins(sim[margin.column].to_numpy(float))
        for k in range(2 if margin.died is None else 1, len(margin.shares)):
            p = margin.shares[k]
            rows.append(weight * (index == k))
            targets.append(share * p)
            variances.append(share**2 * max(p * (1 - p), 1.0 / margin.n_observed)
                             / margin.n_observed)
            labels.append(f"{margin.column}|{group}|bin {k}")
    return Constraints(np.array(rows), np.array(targets), np.array(variances), labels)


def entropy_weights(constraints: Constraints, log_base: np.ndarray | None = None, *,
                    tolerance: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``w`` (sum 1) minimising ``KL(w ‖ base) + ½ Σ (A w − t)² / (tolerance² · var)``.

    A constraint is thus met to within the cohort's own sampling error (``tolerance`` = 1) rather
    than exactly, which keeps the weights from collapsing onto a few patients; ``tolerance`` → 0
    is exact entropy balancing. Solves the dual ``min_λ log Σ base·exp(λ·a) − λ·t +
    ½ Σ tolerance²·var·λ²`` with L-BFGS.

    Returns
    -------
    weights, and the standardised constraint errors ``(A w − t) / sqrt(var)``.
    """
    A, t = constraints.A, constraints.targets
    ridge = tolerance**2 * constraints.variances
    n = A.shape[1]
    log_base = np.zeros(n) if log_base is None else np.asarray(log_base, float)

    def dual(lam):
        z = log_base + A.T @ lam
        log_sum = special.logsumexp(z)
        w = np.exp(z - log_sum)
        return log_sum - lam @ t + 0.5 * lam @ (ridge * lam), A @ w - t + ridge * lam

    solution = optimize.minimize(dual, np.zeros(len(t)), jac=True, method="L-BFGS-B",
                                 options={"maxiter": 5000, "gtol": 1e-10})
    z = log_base + A.T @ solution.x
    w = np.exp(z - special.logsumexp(z))
    return w, (A @ w - t) / np.sqrt(constraints.variances)


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²``."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.sum() > 0 else 0.0


def accept(weights: np.ndarray, uniforms: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """Allen 2016 acceptance: patient ``i`` is kept when ``u_i < min(1, factor · w_i / max w)``."""
    w = np.asarray(weights, float)
    return np.asarray(uniforms) < np.minimum(1.0, factor * w / w.max())


def select(weights: np.ndarray, uniforms: np.ndarray, score: Callable[[np.ndarray], float],
           factors: tuple[float, ...] = ACCEPTANCE_FACTORS) -> tuple[np.ndarray, pd.DataFrame]:
    """The accepted patients for the factor with the lowest ``score(mask)``, and the table of
    ``factor, n_selected, score`` tried."""
    rows, best = [], None
    for factor in factors:
        mask = accept(weights, uniforms, factor)
        value = score(mask) if mask.any() else np.inf
        rows.append({"factor": factor, "n_selected": int(mask.sum()), "score": value})
        if best is None or value < best[0]:
            best = (value, mask)
    return best[1], pd.DataFrame(rows)
