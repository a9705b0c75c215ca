"""Morris screening and Sobol indices of any vectorised model, with SALib.

:func:`morris_design` / :func:`morris_indices` and :func:`sobol_design` / :func:`sobol_indices`
split sampling from analysis, so the model evaluations in between can be stored, resumed and
run on Dask (:mod:`il6sim.sensitivity._study`). Inputs are sampled uniformly in the bounds given
(the study passes log10 bounds). Methods: Morris MD 1991 Technometrics 33:161 with the μ* of
Campolongo F 2007 Environ Model Softw 22:1509; Saltelli A 2010 Comput Phys Commun 181:259 for
first-order and total Sobol indices (SALib: Herman J, Usher W 2017 J Open Source Softw 2:97).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from ..errors import InputError

MORRIS_LEVELS = 4


def problem(names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict:
    """A SALib problem definition."""
    if len(names) != len(bounds) or not names:
        raise InputError("a sensitivity problem needs one bound per input; fix: give both")
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def morris_design(spec: dict, trajectories: int, seed: int) -> np.ndarray:
    """``trajectories × (k + 1)`` input rows of a Morris screening."""
    if trajectories < 2:
        raise InputError(f"Morris needs at least 2 trajectories (got {trajectories}); fix: "
                         "give 2 or more (10 is usual)")
    return morris_sample.sample(spec, trajectories, num_levels=MORRIS_LEVELS, seed=seed)


def morris_indices(spec: dict, design: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """μ*, μ, σ and the μ* confidence half-width per input, sorted by μ*."""
    found = morris_analyze.analyze(spec, design, np.asarray(y, float), num_levels=MORRIS_LEVELS,
                                   seed=seed, print_to_console=False)
    table = pd.DataFrame({"parameter": spec["names"], "mu_star": found["mu_star"],
                          "mu": found["mu"], "sigma": found["sigma"],
                          "mu_star_conf": found["mu_star_conf"]})
    return table.sort_values("mu_star", ascending=False, ignore_index=True)


def sobol_design(spec: dict, base: int, seed: int) -> np.ndarray:
    """``base × (2k + 2)`` input rows of a Saltelli design (``base`` a power of 2)."""
    if base < 2 or base & (base - 1):
        raise InputError(f"Sobol base sample {base} is not a power of 2; fix: e.g. 64 or 256")
    return sobol_sample.sample(spec, base, calc_second_order=True, seed=seed)


def sobol_indices(spec: dict, y: np.ndarray, seed: int) -> pd.DataFrame:
    """First-order (S1) and total (ST) indices with confidence half-widths, sorted by ST."""
    found = sobol_analyze.analyze(spec, np.asarray(y, float), calc_second_order=True, seed=seed,
                                  print_to_console=False)
    table = pd.DataFrame({"parameter": spec["names"], "S1": found["S1"],
                          "S1_conf": found["S1_conf"], "ST": found["ST"],
                          "ST_conf": found["ST_conf"]})
    return table.sort_values("ST", ascending=False, ignore_index=True)
