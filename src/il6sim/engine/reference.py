"""The reference backend: one stiff SciPy integration per patient, with the exact Jacobian.

Slow but simple and trustworthy; the fast batched backend is checked against it.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import root

from ..model.spec import Model


def absolute_tolerance(y_scale: np.ndarray, rtol: float) -> np.ndarray:
    """Per-state absolute tolerance: ``rtol`` of the state's resting size, floored at 1e-12."""
    return np.maximum(rtol * 1e-2 * np.abs(y_scale), 1e-12)


def integrate_patient(
    model: Model,
    y0: np.ndarray,
    p: np.ndarray,
    t_eval: np.ndarray,
    jumps: list[tuple[float, int, float]],
    *,
    rtol: float,
    method: str,
) -> np.ndarray:
    """Integrate one patient from ``t_eval[0]``, applying state ``jumps`` (time, index, delta).

    Returns the states at ``t_eval``, shape ``(len(t_eval), n_states)``. Raises
    ``RuntimeError`` with the solver's message if a segment fails.
    """
    atol = absolute_tolerance(y0, rtol)
    out = np.empty((len(t_eval), len(y0)))
    boundaries = sorted({t for t, _, _ in jumps if t_eval[0] < t < t_eval[-1]})
    edges = [t_eval[0], *boundaries, t_eval[-1]]
    y = np.array(y0, dtype=float)

    def apply_jumps(time: float) -> None:
        for t_jump, index, delta in jumps:
            if t_jump == time:
                y[index] += delta

    apply_jumps(edges[0])
    last = len(edges) - 2
    for segment, (start, stop) in enumerate(pairwise(edges)):
        # an output time at a dose belongs to the segment after the dose (post-dose value)
        inside = (t_eval >= start) & ((t_eval < stop) | (segment == last))
        times = np.unique(np.concatenate([t_eval[inside], [stop]]))
        sol = solve_ivp(
            model.rhs,
            (start, stop),
            y,
            method=method,
            t_eval=times,
            jac=model.jacobian,
            rtol=rtol,
            atol=atol,
            args=(p,),
        )
        if not sol.success:
            raise RuntimeError(f"solver failed after t = {start:.4g} h: {sol.message}")
        out[inside] = sol.y.T[np.isin(times, t_eval[inside])]
        y = sol.y[:, -1].copy()
        apply_jumps(stop)
    return out


def steady_state_patient(
    model: Model, guess: np.ndarray, p: np.ndarray, *, t_relax: float, tol: float
) -> tuple[np.ndarray, float]:
    """Relax to rest by integration, then polish with a Newton-type root finder.

    Returns the state and the largest relative rate ``max |dy/dt| / scale`` (per hour).
    """
    rtol = 1e-8
    atol = absolute_tolerance(np.maximum(np.abs(guess), 1e-6), rtol)
    y = np.asarray(guess, dtype=float)
    residual = np.inf
    for _ in range(3):  # slow pools (e.g. target-cell regeneration) may need longer relaxation
        sol = solve_ivp(model.rhs, (0.0, t_relax), y, method="LSODA", jac=model.jacobian,
                        rtol=rtol, atol=atol, args=(p,))
        y = sol.y[:, -1]
        if not np.all(np.isfinite(y)):
            return y, np.inf
        polished = root(lambda x: model.rhs(0.0, x, p), y,
                        jac=lambda x: model.jacobian(0.0, x, p), method="hybr",
                        options={"xtol": 1e-13})
        if polished.success and np.all(polished.x >= -1e-12 * np.maximum(1.0, np.abs(y))):
            y = polished.x
        scale = np.maximum(np.abs(y), 1e-6)  # states that are truly zero carry round-off only
        residual = float(np.max(np.abs(model.rhs(0.0, y, p)) / scale))
        if residual < tol:
            break
    return np.maximum(y, 0.0), residual
