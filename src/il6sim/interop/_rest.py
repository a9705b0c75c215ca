"""Which parameters the exported resting state depends on, and what the SBML file says about it.

An SBML file holds the patient's resting state as fixed initial values: SBML has no construct
for "the steady state of these rate rules", so a simulator that loads the file does not
recompute it when a parameter is edited. A parameter *moves the resting state* when changing it
by 1 % (or by 0.01 in its unit when it is 0) leaves the exported initial state off rest by more
than the engine's steady-state tolerance (largest ``|dy/dt| / max(|y|, 1e-6)`` above
:data:`il6sim.engine.api.STEADY_STATE_TOLERANCE` per hour, the check
:func:`il6sim.equilibrate` uses). Patient covariates such as ``age`` do; doses, drug constants
and the constants of an infection that is absent at rest do not.

Each parameter's notes and annotation in the file say which it is; editing one that moves the
rest without re-exporting starts the simulation away from rest (docs/sbml.md).
"""

from __future__ import annotations

import numpy as np

from ..model import Model

#: Relative change of each parameter used to probe the resting state.
PROBE = 0.01

#: Patient covariates: the parameters a user is most likely to edit in another tool.
COVARIATES = ("age", "body_weight")


def rest_dependence(model: Model, p: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """Per parameter: whether a 1 % change of it moves the resting state ``y0``.

    All parameters are probed in one batched right-hand-side call.
    """
    from ..engine.api import STEADY_STATE_TOLERANCE

    n = len(p)
    probes = np.tile(np.asarray(p, float)[:, None], (1, n))
    probes[np.arange(n), np.arange(n)] += np.where(p != 0, PROBE * np.abs(p), PROBE)
    rates = model.rhs(0.0, np.tile(np.asarray(y0, float)[:, None], (1, n)), probes)
    scale = np.maximum(np.abs(y0), 1e-6)[:, None]
    with np.errstate(invalid="ignore"):
        residual = np.nanmax(np.abs(rates) / scale, axis=0)
    return residual > STEADY_STATE_TOLERANCE


def rest_note(name: str, moves: bool) -> str:
    """The "Resting state" line of a parameter's notes."""
    if moves:
        return (f"editing {name} moves the resting state. The initial values in this file are "
                "the rest for the value above and are not recomputed by a simulator: re-export "
                f"with il6sim export-sbml ... --set {name}=VALUE, or find the new rest in your "
                "tool (libRoadRunner: steadyState on a file without doses)")
    return "editing it leaves the initial values at rest"


def covariate_note(model: Model, moves: np.ndarray) -> str:
    """The model-level note on covariates that move the resting state."""
    names = [c for c in COVARIATES if c in model.param_index and moves[model.param_index[c]]]
    count = int(np.sum(moves))
    listed = ", ".join(names) if names else "none of the covariates"
    return (f"the initial values are this patient's resting state; {count} parameters move it "
            f"(among the covariates: {listed}; each parameter's notes say whether it does). "
            "A simulator does not recompute it after an edit: re-export with --set instead")
