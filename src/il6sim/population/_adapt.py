"""Adaptive rounds: simulate more plausible patients where the cohort needs them.

Round 0 draws the coordinates from the declared prior, ``z ~ N(0, I)``. After weighting, round
``k`` draws from a Gaussian fitted to the weighted coordinates of the admitted patients (mean and
covariance, the covariance shrunk towards its diagonal by ``D / (ESS + D)`` and inflated so the
new round explores around them), as in population Monte Carlo (Cappé O 2004 J Comput Graph
Stat 13:907). All rounds are pooled into one plausible population, which is then weighted as a
whole (:mod:`._balance`). As in Allen 2016, the weights are relative to the plausible population,
not to the prior density: the prior says where patients are plausible, the cohort how common
they are. (Correcting each patient by prior/mixture density was tried and left out: in 28
dimensions those ratios span many orders of magnitude and left an effective sample of tens.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._balance import effective_size
from ._sample import patient_normals

__all__ = ["Proposal", "draw_round", "refit_proposal"]


@dataclass(frozen=True)
class Proposal:
    """A Gaussian over the coordinates and the number of patients drawn from it."""

    mean: np.ndarray
    cov: np.ndarray
    n: int

    @classmethod
    def prior(cls, dim: int, n: int) -> Proposal:
        return cls(np.zeros(dim), np.eye(dim), n)


def refit_proposal(z: np.ndarray, weights: np.ndarray, n: int, *, inflation: float = 1.5
                   ) -> Proposal:
    """A Gaussian around weighted coordinates ``z`` (rows) for the next round of ``n``."""
    w = np.asarray(weights, float) / np.sum(weights)
    mean = w @ z
    centred = z - mean
    cov = (centred * w[:, None]).T @ centred
    dim = z.shape[1]
    ess = effective_size(w)
    keep = ess / (ess + dim)
    cov = keep * cov + (1 - keep) * np.diag(np.diag(cov))
    cov = inflation * cov + 1e-6 * np.eye(dim)
    return Proposal(mean, cov, n)


def draw_round(seed: int, stream: int, first_index: int, proposal: Proposal) -> np.ndarray:
    """Coordinates of ``proposal.n`` patients numbered from ``first_index`` (own streams)."""
    indices = np.arange(first_index, first_index + proposal.n)
    eps = patient_normals(seed, indices, len(proposal.mean), stream=stream)
    if stream == 0:
        return eps
    factor = np.linalg.cholesky(proposal.cov)
    return proposal.mean + eps @ factor.T

