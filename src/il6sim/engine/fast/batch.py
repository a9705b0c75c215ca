"""Python side of the fast engine: inputs to C arrays, patients to worker threads, results back.

Patients are cut into fixed chunks that worker threads hand to the compiled driver (a ctypes call
releases the GIL, so threads run the C code in parallel). Every patient is integrated on its own,
so a result does not depend on the batch, the chunk size or the number of workers.
"""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pint

from ...errors import InputError
from ...model.spec import Model
from ...model.units import ureg
from ..doses import amount_in_route_unit
from .build import build_library, find_toolchain, load_library
from .codegen import generate_c

#: Most patients per call into the compiled driver (the unit of work a thread takes).
DEFAULT_CHUNK = 16
#: CVODE's limit on internal steps between two output times.
DEFAULT_MAX_STEPS = 100_000
#: CVODE's limit on internal steps for the whole relaxation to rest (a healthy patient needs a
#: few hundred; one without a healthy rest state, e.g. unchecked growth, is stopped here).
EQUILIBRATE_MAX_STEPS = 20_000
#: The equilibration first relaxes at this looser tolerance and keeps the Newton-polished state
#: when Newton moved no state by more than :data:`SETTLED` (relative): the relaxation only has
#: to bring the state to rest, Newton's method (``xtol`` 1e-13) then removes the integration
#: error. Otherwise the patient is relaxed again at ``rtol`` (1e-8, as the reference). On 2,000
#: COVID-19 hosts and 2,000 patients with all rates perturbed (sigma 0.3) the rest states equal
#: those of the plain 1e-8 relaxation to 3e-14, with the same convergence flags, at 1e-6, 1e-5
#: and 1e-4; 1e-5 keeps a 100-fold margin below SETTLED. Cost per COVID-19 rest state
#: (callgrind): 7.6 M instructions without the shortcut, 3.2 M with it.
RELAX_RTOL_FIRST = 1e-5
#: Largest relative change Newton may make to a state relaxed at :data:`RELAX_RTOL_FIRST` for
#: the result to be kept (1e-3: far above that relaxation's own error and far below the
#: distance of a trajectory that is still moving or oscillating).
SETTLED = 1e-3
#: Smallest state size in the equilibrium residual ``max |f(y)| / max(|y|, floor)``, as in
#: :func:`il6sim.engine.reference.steady_state_patient` (truly zero states carry round-off only).
RESIDUAL_SCALE_FLOOR = 1e-6

_CVODE_FLAGS = {
    -1: "too much work (max_steps reached)", -2: "too much accuracy requested",
    -3: "repeated error-test failures (or h = hmin)", -4: "repeated Newton convergence failures",
    -6: "Jacobian/linear solver setup failed", -7: "linear solve failed",
    -8: "right-hand side failed", -9: "right-hand side not finite at the first call",
    -10: "right-hand side repeatedly not finite", -1000: "non-finite parameter or initial state",
    -1001: "out of memory",
}


def default_workers() -> int:
    """``$IL6SIM_WORKERS`` or the number of CPU cores this process may use."""
    if os.environ.get("IL6SIM_WORKERS"):
        return max(1, int(os.environ["IL6SIM_WORKERS"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def flag_message(flag: int) -> str:
    """A readable reason for a driver return code."""
    return f"CVODE flag {flag}: {_CVODE_FLAGS.get(flag, 'solver error')}"


@dataclass
class FastEngine:
    """A model compiled for the fast backend: the loaded library and its sizes."""

    library_path: Path
    lib: ctypes.CDLL = field(repr=False)
    n_states: int
    n_params: int
    n_stats: int
    sundials_major: int
    n_outputs: int
    lu_slots: int
    sundials_version: str
    #: the linear solver CVODE uses: "sparse" (generated sparse LU) or "dense" (SUNDIALS' dense
    #: LU); see :meth:`configure`
    linear_solver: str = "sparse"
    #: whether CVODE's vectors use the engine's own kernels (else SUNDIALS' serial operations)
    vector_kernels: bool = True

    def configure(self, *, linear_solver: str | None = None, vector_kernels: bool | None = None,
                  max_backward_error: float | None = None) -> FastEngine:
        """Choose, for later runs in this process, the linear solver (``"sparse"``, the default,
        or SUNDIALS' ``"dense"`` LU), the vector operations (the engine's kernels, the default,
        or SUNDIALS' serial ones) and the largest componentwise backward error accepted from
        the sparse LU before a setup falls back to dense LU (``None``: the default,
        :data:`~il6sim.engine.fast.sparse_lu.MAX_BACKWARD_ERROR`; 0 forces the fallback) — for
        comparisons and tests; results agree to the solver tolerance either way.
        :attr:`linear_solver` and :attr:`vector_kernels` then say what is in effect (the
        defaults fall back to SUNDIALS' own when its operations cannot be located in the
        SUNDIALS build)."""
        linear_solver = linear_solver or self.linear_solver
        if linear_solver not in ("sparse", "dense"):
            raise InputError(f"unknown linear solver '{linear_solver}'; fix: use 'sparse' or "
                             "'dense'")
        kernels = self.vector_kernels if vector_kernels is None else bool(vector_kernels)
        threshold = -1.0 if max_backward_error is None else float(max_backward_error)
        effect = self.lib.il6_configure(int(linear_solver == "sparse"), int(kernels), threshold)
        self.linear_solver = "sparse" if effect & 1 else "dense"
        self.vector_kernels = bool(effect & 2)
        return self

    def set_linear_solver(self, kind: str) -> str:
        """Shorthand for :meth:`configure` with ``linear_solver``; returns the one in effect."""
        return self.configure(linear_solver=kind).linear_solver

    def rhs(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The compiled ``f(y; p)`` for one patient (for checks; not a fast path)."""
        y, p = np.ascontiguousarray(y, float), np.ascontiguousarray(p, float)
        dy = np.empty(self.n_states)
        self.lib.il6_eval_rhs(_ptr(y, ctypes.c_double), _ptr(p, ctypes.c_double),
                              _ptr(dy, ctypes.c_double))
        return dy

    def jacobian(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The compiled exact Jacobian ``df/dy`` for one patient, dense (S, S)."""
        y, p = np.ascontiguousarray(y, float), np.ascontiguousarray(p, float)
        J = np.empty((self.n_states, self.n_states))  # written column-major
        self.lib.il6_eval_jac(_ptr(y, ctypes.c_double), _ptr(p, ctypes.c_double),
                              _ptr(J, ctypes.c_double))
        return J.T.copy()

    def lu_solve(self, y: np.ndarray, p: np.ndarray, b: np.ndarray, c: float = 1.0,
                 d: float = 0.0) -> tuple[np.ndarray, float] | None:
        """``(d·I + c·J(y))⁻¹ b`` with the generated sparse LU and its componentwise backward
        error, or ``None`` when a pivot is zero or not finite (for checks; not a fast path)."""
        y, p = np.ascontiguousarray(y, float), np.ascontiguousarray(p, float)
        b = np.ascontiguousarray(b, float)
        x = np.empty(self.n_states)
        omega = ctypes.c_double()
        failed = self.lib.il6_eval_lu_solve(
            _ptr(y, ctypes.c_double), _ptr(p, ctypes.c_double), float(c), float(d),
            _ptr(b, ctypes.c_double), _ptr(x, ctypes.c_double), ctypes.byref(omega))
        return None if failed else (x, omega.value)

    def outputs(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The compiled read-outs for one patient, in :attr:`Model.output_names` order."""
        y, p = np.ascontiguousarray(y, float), np.ascontiguousarray(p, float)
        o = np.empty(self.n_outputs)
        self.lib.il6_eval_outputs(_ptr(y, ctypes.c_double), _ptr(p, ctypes.c_double),
                                  _ptr(o, ctypes.c_double))
        return o


_ENGINES: dict[int, tuple[weakref.ref, FastEngine]] = {}
_LOCK = threading.Lock()


def compile_model(model: Model) -> FastEngine:
    """Generate, compile (cached on disk) and load the fast engine for ``model``.

    Raises :class:`~il6sim.engine.fast.build.FastEngineUnavailableError` when no compiler or
    SUNDIALS is found or the build fails.
    """
    with _LOCK:
        cached = _ENGINES.get(id(model))
        if cached is not None and cached[0]() is model:
            return cached[1]
        toolchain = find_toolchain()
        generated = generate_c(model)
        path = build_library(generated, toolchain)
        lib = load_library(path)
        sizes = (ctypes.c_int * 6)()
        lib.il6_sizes(sizes)
        engine = FastEngine(path, lib, *sizes, toolchain.sundials_version)
        engine.configure(linear_solver="sparse", vector_kernels=True)
        if (engine.n_states, engine.n_params, engine.n_outputs) != (
            len(model.states), len(model.parameters), len(model.outputs)
        ):
            raise RuntimeError(f"compiled library {path} does not match the model's sizes")
        _ENGINES[id(model)] = (weakref.ref(model), engine)
        return engine


def _ptr(array: np.ndarray, ctype: Any) -> Any:
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _amounts_in_route_unit(model: Model, agent: str, route: str, unit: str,
                           amounts: np.ndarray) -> np.ndarray:
    """Dose amounts in the route's dose unit, as :func:`amount_in_route_unit` does row by row."""
    dose_unit = model.route(agent, route).dose_unit
    if not unit or unit == dose_unit:
        return amounts
    try:
        return np.asarray(ureg.Quantity(amounts, unit).to(dose_unit).magnitude, float)
    except pint.errors.PintError:
        raise InputError(
            f"dose of {agent} is in '{unit}', which cannot be converted to "
            f"'{dose_unit}'; fix: give the amount in {dose_unit}"
        ) from None


def dose_events(
    model: Model, doses: pd.DataFrame, matrix: np.ndarray
) -> list[list[tuple[float, int, float]]]:
    """Each patient's jumps ``(time, state index, delta)``, as the reference's ``_dose_jumps``
    (same values, same order).

    A row for everyone is converted to the route's unit once and its jump evaluated for all
    patients at once; rows for one patient each (e.g. a per-patient inoculum) are converted and
    evaluated together, one call per agent, route and unit (the same floating-point
    operations, element by element).
    """
    n = len(matrix)
    events: list[list[tuple[float, int, float]]] = [[] for _ in range(n)]
    table = doses.reset_index(drop=True)
    patients = table.patient.to_numpy(dtype=np.int64)
    single = (patients >= 0) & (patients < n)
    jump_of_row: dict[int, tuple[int, float]] = {}
    for (agent, route, unit), group in table[single].groupby(
            ["agent", "route", "unit"], sort=False, dropna=False):
        amounts = _amounts_in_route_unit(model, agent, route, unit,
                                         group.amount.to_numpy(dtype=float))
        who = group.patient.to_numpy(dtype=np.int64)
        index, delta = model.dose_jump(agent, route, amounts, matrix[who].T)
        delta = np.broadcast_to(np.asarray(delta, float), (len(group),))
        for position, value in zip(group.index, delta, strict=True):
            jump_of_row[position] = (index, float(value))
    for position, row in enumerate(table.itertuples()):
        if position in jump_of_row:
            events[row.patient].append((float(row.time_h), *jump_of_row[position]))
        elif row.patient == -1:
            amount = amount_in_route_unit(model, row)
            index, delta = model.dose_jump(row.agent, row.route, amount, matrix.T)
            delta = np.broadcast_to(np.asarray(delta, float), (n,))
            for patient in range(n):
                events[patient].append((float(row.time_h), index, float(delta[patient])))
    return events


def _csr(events: list[list[tuple[float, int, float]]], t0: float, t_end: float):
    """Jumps that can change an output (t0 <= time < t_end), time-sorted per patient, as CSR."""
    kept = [sorted((e for e in ev if t0 <= e[0] < t_end), key=lambda e: e[0]) for ev in events]
    ptr = np.zeros(len(kept) + 1, dtype=np.int_)
    ptr[1:] = np.cumsum([len(k) for k in kept])
    flat = [e for k in kept for e in k]
    times = np.array([e[0] for e in flat], dtype=float)
    index = np.array([e[1] for e in flat], dtype=np.int_)
    delta = np.array([e[2] for e in flat], dtype=float)
    return ptr, times, index, delta


def _run_chunks(n: int, chunk: int, workers: int, work: Callable[[int, int], None]) -> None:
    """Call ``work(a, b)`` on consecutive spans of at most ``chunk`` patients, on ``workers``
    threads; with several workers the spans are shortened so that each worker gets about four
    (a batch of 50 on 2 threads: 8 spans of 7, not 16 + 16 / 16 + 2)."""
    if workers > 1:
        chunk = max(1, min(chunk, -(-n // (4 * workers))))
    spans = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
    if workers <= 1 or len(spans) <= 1:
        for a, b in spans:
            work(a, b)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(spans))) as pool:
        for future in [pool.submit(work, a, b) for a, b in spans]:
            future.result()


@dataclass
class BatchIntegration:
    """Driver results: states (N, T, S), read-outs (N, T, O; ``None`` unless asked for),
    flag (N, 0 = ok), t_fail (N, where a failed patient stopped) and solver stats (N, 7; see
    :attr:`STAT_NAMES`)."""

    states: np.ndarray
    outputs: np.ndarray | None
    flag: np.ndarray
    t_fail: np.ndarray
    stats: np.ndarray

    STAT_NAMES = ("steps", "rhs_evaluations", "jacobian_evaluations", "error_test_failures",
                  "lu_factorizations", "dense_lu_fallbacks", "newton_convergence_failures")


def integrate(
    model: Model,
    matrix: np.ndarray,
    initial_states: np.ndarray,
    t_eval: np.ndarray,
    events: list[list[tuple[float, int, float]]],
    *,
    rtol: float = 1e-6,
    atol: np.ndarray | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    outputs: bool = False,
) -> BatchIntegration:
    """Integrate every patient from ``initial_states`` over ``t_eval`` with its dose ``events``.

    ``atol`` defaults to the reference's rule, ``max(rtol·1e-2·|y0|, 1e-12)`` per state;
    ``outputs`` also evaluates the read-outs (compiled) at every output time. Failed patients
    (``flag != 0``) have NaN rows.
    """
    engine = compile_model(model)
    t_eval = np.ascontiguousarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or len(t_eval) == 0 or np.any(np.diff(t_eval) <= 0):
        raise InputError("output times must increase strictly; fix: pass sorted, distinct times")
    P = np.ascontiguousarray(matrix, dtype=float)
    Y0 = np.ascontiguousarray(initial_states, dtype=float)
    n, s, T = len(P), engine.n_states, len(t_eval)
    if atol is None:
        atol = np.maximum(rtol * 1e-2 * np.abs(Y0), 1e-12)
    A = np.ascontiguousarray(np.broadcast_to(atol, Y0.shape), dtype=float)
    ptr, jt, ji, jd = _csr(events, float(t_eval[0]), float(t_eval[-1]))
    # the driver writes every row of a patient that succeeds, and rows of failed patients are set
    # to NaN below: no need to fill (that pass over up to GBs would run on one thread)
    out = np.empty((n, T, s))
    read = np.empty((n, T, engine.n_outputs)) if outputs else None
    flag = np.zeros(n, dtype=np.intc)
    t_fail = np.zeros(n)
    stats = np.zeros((n, engine.n_stats))

    def work(a: int, b: int) -> None:
        engine.lib.il6_simulate(
            b - a, _ptr(P[a:b], ctypes.c_double), _ptr(Y0[a:b], ctypes.c_double),
            _ptr(A[a:b], ctypes.c_double), T, _ptr(t_eval, ctypes.c_double),
            _ptr(ptr[a:], ctypes.c_long), _ptr(jt, ctypes.c_double), _ptr(ji, ctypes.c_long),
            _ptr(jd, ctypes.c_double), float(rtol), int(max_steps),
            _ptr(out[a:b], ctypes.c_double),
            _ptr(read[a:b], ctypes.c_double) if read is not None else None,
            _ptr(flag[a:b], ctypes.c_int),
            _ptr(t_fail[a:b], ctypes.c_double), _ptr(stats[a:b], ctypes.c_double),
        )
        failed = flag[a:b] != 0
        out[a:b][failed] = np.nan
        if read is not None:
            read[a:b][failed] = np.nan

    _run_chunks(n, chunk, workers or default_workers(), work)
    return BatchIntegration(out, read, flag, t_fail, stats)


def equilibrate_batch(
    model: Model,
    matrix: np.ndarray,
    guess: np.ndarray | None = None,
    *,
    tol: float = 1e-8,
    rounds: int = 3,
    details: dict[str, int] | None = None,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Rest states and residuals of every patient, relaxing again (from where the last round
    ended, up to ``rounds`` times) any patient whose residual is still above ``tol`` — as the
    reference backend does for slow pools such as target-cell regeneration.

    ``details``, if given, receives counts: ``patients``, ``relaxed_again`` (patients whose
    quick relaxation had not settled, see :data:`RELAX_RTOL_FIRST`) and ``rounds``.
    """
    counts = {"patients": len(matrix), "relaxed_again": 0, "rounds": 1}
    states, residual = _equilibrate_once(model, matrix, guess, counts=counts, **options)
    for _ in range(rounds - 1):
        redo = np.isfinite(states).all(axis=1) & ~(residual < tol)
        if not redo.any():
            break
        counts["rounds"] += 1
        states[redo], residual[redo] = _equilibrate_once(
            model, matrix[redo], states[redo], counts=counts, **options
        )
    if details is not None:
        details.update(counts)
    return states, residual


def _equilibrate_once(
    model: Model,
    matrix: np.ndarray,
    guess: np.ndarray | None = None,
    *,
    t_relax: float = 20_000.0,
    rtol: float = 1e-8,
    rtol_first: float = RELAX_RTOL_FIRST,
    settled: float = SETTLED,
    xtol: float = 1e-13,
    scale_floor: float = RESIDUAL_SCALE_FLOOR,
    max_steps: int = EQUILIBRATE_MAX_STEPS,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    counts: dict[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rest states and residuals (largest relative rate, per hour) of every patient.

    Same method as the reference: relax by integration, polish by Newton's method on the exact
    Jacobian, keep the polished state only if it is non-negative; first tried with a quicker
    relaxation at ``rtol_first`` whose result is kept only if it had settled (``settled``).
    ``rtol_first <= rtol`` turns the shortcut off.
    """
    engine = compile_model(model)
    P = np.ascontiguousarray(matrix, dtype=float)
    n = len(P)
    G = np.ascontiguousarray(
        np.broadcast_to(model.initial_guess() if guess is None else guess, (n, engine.n_states)),
        dtype=float,
    )
    states = np.empty((n, engine.n_states))
    residual = np.empty(n)
    flag = np.zeros(n, dtype=np.intc)
    mode = np.zeros(n, dtype=np.intc)

    def work(a: int, b: int) -> None:
        engine.lib.il6_equilibrate(
            b - a, _ptr(P[a:b], ctypes.c_double), _ptr(G[a:b], ctypes.c_double),
            float(t_relax), float(rtol), float(rtol_first), float(settled), int(max_steps),
            float(xtol), float(scale_floor), _ptr(states[a:b], ctypes.c_double),
            _ptr(residual[a:b], ctypes.c_double), _ptr(flag[a:b], ctypes.c_int),
            _ptr(mode[a:b], ctypes.c_int),
        )

    _run_chunks(n, chunk, workers or default_workers(), work)
    if counts is not None and rtol_first > rtol:
        counts["relaxed_again"] += int(np.count_nonzero(mode == 1))
    return states, residual


def simulate_batch(
    model: Model,
    matrix: np.ndarray,
    doses: pd.DataFrame,
    t_eval: np.ndarray,
    initial_states: np.ndarray,
    status: list[str],
    *,
    rtol: float,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """States (N, T, S), read-outs (N, T, O) and status for :func:`il6sim.engine.simulate`.

    ``status`` holds each patient's status before integration (from equilibration); a patient
    whose integration fails gets ``"failed: <reason>"`` and NaN rows, as in the reference.
    """
    events = dose_events(model, doses, matrix)
    shape = (len(matrix), len(model.states))
    initial_states = np.broadcast_to(np.atleast_2d(initial_states), shape)
    result = integrate(
        model, matrix, initial_states, t_eval, events, rtol=rtol, workers=workers, chunk=chunk,
        outputs=True,
    )
    status = list(status)
    for i in np.flatnonzero(result.flag):
        status[i] = f"failed: {flag_message(int(result.flag[i]))} at t = {result.t_fail[i]:.4g} h"
    return result.states, result.outputs, status
