"""``simulate()`` and ``equilibrate()``: the engine's public entry points.

Both take a batch of parameter sets (N × P, or overrides of the declared values) and return one
result per patient. A patient whose integration fails is kept, flagged with the reason and
filled with NaN; the batch never crashes because of one member. Both apply the limits of
:mod:`il6sim.limits` before any work (:mod:`._limits`): what the command line refuses, they
refuse too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import Model, default_model
from ._limits import (
    check_doses,
    check_relax,
    check_rtol,
    parameter_problems,
    refuse_typed,
    time_grid,
    typed_overrides,
)
from .doses import Dose, amount_in_route_unit, dose_table
from .fast import backend_settings, equilibrate_batch, resolve_backend, simulate_batch
from .reference import integrate_patient, steady_state_patient
from .results import SimulationResult

ParameterInput = None | Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame | np.ndarray

#: Relative rate (per hour) below which a state counts as at rest.
STEADY_STATE_TOLERANCE = 1e-8


def parameter_matrix(model: Model, params: ParameterInput = None) -> np.ndarray:
    """Turn any accepted parameter input into an ``(N, P)`` matrix in declared units.

    ``None`` gives the declared values for one patient; a mapping gives one patient with those
    overrides; a list of mappings or a DataFrame (one row per patient, columns named after
    parameters) gives one patient per entry; an array must already be ``(N, P)``.
    """
    if params is None:
        return model.default_parameters()[None, :]
    if isinstance(params, np.ndarray):
        matrix = np.atleast_2d(np.asarray(params, float))
        if matrix.shape[1] != len(model.parameters):
            raise InputError(
                f"parameter array has {matrix.shape[1]} columns but the model has "
                f"{len(model.parameters)} parameters; fix: pass rows like default_parameters()"
            )
        return matrix
    if isinstance(params, pd.DataFrame):
        rows = params.to_dict(orient="records")
    elif isinstance(params, Mapping):
        rows = [params]
    else:
        rows = list(params)
    return np.array([model.parameter_vector(row) for row in rows])


@dataclass
class Equilibrium:
    """Resting states of a batch: ``states`` (N, S), the largest relative rate left per patient
    (``residual``, per hour) and whether it is below :data:`STEADY_STATE_TOLERANCE`;
    ``status`` says ``"ok"`` or why a patient has no resting state (``"failed: ..."``)."""

    states: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    status: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.status:
            self.status = ["ok" if c else f"failed: no steady state (residual {r:.2g}/h)"
                           for c, r in zip(self.converged, self.residual, strict=True)]


def _screened(model: Model, params: ParameterInput) -> tuple[np.ndarray, np.ndarray, list]:
    """``(matrix, working matrix, problems)``: parameters typed as overrides that break a limit
    raise :class:`InputError`; in a generated batch each such patient is kept with its problem
    and simulated with the declared values in its place (its result is then discarded)."""
    matrix = parameter_matrix(model, params)
    problems = parameter_problems(model, matrix)
    if typed_overrides(params):
        refuse_typed(problems)
    bad = [i for i, problem in enumerate(problems) if problem]
    work = matrix
    if bad:
        work = matrix.copy()
        work[bad] = model.default_parameters()
    return matrix, work, problems


def equilibrate(
    params: ParameterInput = None,
    *,
    model: Model | None = None,
    t_relax: float = 20_000.0,
    backend: str = "reference",
) -> Equilibrium:
    """Find each patient's healthy steady state (no input), with a convergence check.

    The state is relaxed by integrating for ``t_relax`` hours and then polished with a
    Newton-type root finder on the exact Jacobian; ``converged`` says whether every rate fell
    below :data:`STEADY_STATE_TOLERANCE` relative to the state's size. ``backend`` is
    ``"reference"`` (SciPy) or ``"fast"`` (compiled, :mod:`il6sim.engine.fast`).

    Raises
    ------
    InputError
        ``t_relax`` not a finite number of hours in (0, 10⁶], or a parameter typed as an
        override outside :mod:`il6sim.limits`. In an array or DataFrame batch such a patient
        is kept instead: NaN states, ``converged`` False and the reason in ``status``.
    """
    model = model or default_model()
    check_relax(t_relax)
    _, matrix, problems = _screened(model, params)
    if resolve_backend(backend, model) == "fast":
        states, residual = equilibrate_batch(model, matrix, t_relax=t_relax)
    else:
        states = np.empty((len(matrix), len(model.states)))
        residual = np.empty(len(matrix))
        for i, p in enumerate(matrix):
            states[i], residual[i] = steady_state_patient(
                model, model.initial_guess(), p, t_relax=t_relax, tol=STEADY_STATE_TOLERANCE
            )
    rest = Equilibrium(states, residual, residual < STEADY_STATE_TOLERANCE)
    for i, problem in enumerate(problems):
        if problem:
            rest.states[i], rest.residual[i], rest.converged[i] = np.nan, np.inf, False
            rest.status[i] = f"failed: {problem}"
    return rest


def _dose_jumps(model: Model, doses: pd.DataFrame, patient: int, p: np.ndarray):
    jumps = []
    for row in doses.itertuples():
        if row.patient not in (-1, patient):
            continue
        amount = amount_in_route_unit(model, row)
        index, delta = model.dose_jump(row.agent, row.route, amount, p)
        jumps.append((float(row.time_h), index, float(delta)))
    return jumps


def _route_drug_doses(model: Model, matrix: np.ndarray, table: pd.DataFrame):
    """Doses naming a drug (``tocilizumab``) set the model's drug slot for their patients."""
    from ..pharmacology import apply_drug_doses

    return apply_drug_doses(model, matrix, table)


def simulate(
    params: ParameterInput = None,
    doses: pd.DataFrame | Sequence[Dose | Mapping] | None = None,
    *,
    t_end: float = 48.0,
    dt: float = 0.25,
    t_eval: np.ndarray | None = None,
    model: Model | None = None,
    initial_states: np.ndarray | None = None,
    rtol: float = 1e-6,
    method: str = "LSODA",
    seed: int | None = None,
    settings: Mapping[str, Any] | None = None,
    backend: str = "reference",
) -> SimulationResult:
    """Simulate a batch of patients from rest (or ``initial_states``) with dose events.

    Parameters
    ----------
    params : parameter sets, see :func:`parameter_matrix`.
    doses : dose events (:class:`~il6sim.engine.doses.Dose` or a table), applied to every patient
        (``patient = -1``) or to one patient index. An agent may be a drug's name
        (``tocilizumab``, see :mod:`il6sim.pharmacology`): the drug file then sets the model's
        drug parameters for the patients who receive it.
    t_end, dt : simulate ``[0, t_end]`` hours, reporting every ``dt`` hours (or at ``t_eval``).
    initial_states : ``(N, S)`` states at time 0; by default each patient is equilibrated first.
    rtol, method : tolerance and :func:`scipy.integrate.solve_ivp` method of the reference solver.
    seed : stored with the result (the population that produced ``params`` used it).
    backend : ``"reference"`` (SciPy, per patient) or ``"fast"`` (generated C code and SUNDIALS
        CVODE, patients in parallel; :mod:`il6sim.engine.fast`). ``method`` applies to the
        reference only; the fast backend falls back to the reference, with a warning, when it
        cannot be built here.

    Returns
    -------
    SimulationResult
        read-outs in clinical units, states, parameters, doses, status, seed and settings.

    Raises
    ------
    InputError
        before any work, for what :mod:`il6sim.limits` refuses on the command line: an output
        grid that is not finite, runs past two years or needs too many points or too much
        memory; doses that are not finite, too many or too large; ``rtol`` outside
        [1e-14, 0.1]; parameters typed as overrides (a mapping or a list of mappings) outside
        their limits. In an array or DataFrame batch a patient outside the limits is kept
        instead, with NaN rows and ``"failed: parameter ..."`` in ``status``.
    """
    model = model or default_model()
    check_rtol(rtol)
    given, matrix, problems = _screened(model, params)
    table = dose_table(doses)
    matrix, routed = _route_drug_doses(model, matrix, table)
    check_doses(model, routed)
    backend = resolve_backend(backend, model)
    n, s, o = len(matrix), len(model.states), len(model.outputs)
    t_eval = time_grid(t_end, dt, t_eval, n, s + o)
    if initial_states is None:
        rest = equilibrate(matrix, model=model, backend=backend)
        initial_states = rest.states
        status = list(rest.status)
    else:
        initial_states = np.atleast_2d(np.asarray(initial_states, float))
        if initial_states.shape[1:] != (s,) or len(initial_states) not in (1, n):
            raise InputError(f"initial_states has shape {initial_states.shape}, not ({n}, {s}); "
                             "fix: pass one row of states per patient, in model.state_names "
                             "order")
        status = ["ok"] * n

    if backend == "fast":
        solver = backend_settings(model)
        states, outputs, status = simulate_batch(
            model, matrix, routed, t_eval, initial_states, status, rtol=rtol
        )
    else:
        solver = {"backend": "reference-scipy", "method": method}
        initial_states = np.broadcast_to(initial_states, (n, s))
        states = np.full((n, len(t_eval), s), np.nan)
        outputs = np.full((n, len(t_eval), o), np.nan)
        for i, p in enumerate(matrix):
            if problems[i]:
                continue
            jumps = _dose_jumps(model, routed, i, p)
            try:
                states[i] = integrate_patient(
                    model, initial_states[i], p, t_eval, jumps, rtol=rtol, method=method
                )
            except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
                status[i] = f"failed: {exc}"
                continue
            values = model.output_values(states[i].T, p[:, None])
            outputs[i] = np.column_stack([values[name] for name in model.output_names])
    bad = [i for i, problem in enumerate(problems) if problem]
    if bad:
        states[bad], outputs[bad] = np.nan, np.nan
        matrix = matrix.copy()
        matrix[bad] = given[bad]  # the values asked for, not the stand-ins simulated
        for i in bad:
            status[i] = f"failed: {problems[i]}"

    return SimulationResult(
        time=t_eval,
        outputs=outputs,
        states=states,
        parameters=matrix,
        output_names=model.output_names,
        output_units=[x.unit for x in model.outputs],
        state_names=model.state_names,
        param_names=model.param_names,
        status=status,
        doses=table,
        seed=seed,
        settings={
            **solver,
            "rtol": rtol,
            "il6sim_version": version("il6sim"),
            **(settings or {}),
        },
    )
