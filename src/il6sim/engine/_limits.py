"""The limits of :mod:`il6sim.limits` applied to the engine's Python entry points.

``il6sim.simulate`` and ``il6sim.equilibrate`` refuse what the command line and the scenario
files refuse, before anything is allocated or integrated:

* the output grid (``t_end``/``dt`` or ``t_eval``): finite, from 0 h, not decreasing, within
  :data:`~il6sim.limits.MAX_RUN_HOURS`, at most :data:`~il6sim.limits.MAX_TIME_POINTS` points
  and :data:`~il6sim.limits.MAX_RESULT_BYTES` of result for the batch;
* doses: finite times within the run limit, at most :data:`~il6sim.limits.MAX_DOSE_EVENTS` per
  patient, each amount (in its route's unit) within :func:`~il6sim.limits.dose_amount_problem`;
* solver settings: ``rtol`` in [1e-14, 0.1], ``t_relax`` finite and positive, at most
  :data:`~il6sim.limits.MAX_RELAX_HOURS`;
* parameters, by :func:`~il6sim.limits.parameter_problem` (finite, not negative, switches 0/1,
  age and body weight of a person, at most 10⁶ × the declared value).

Call-level problems raise :class:`~il6sim.errors.InputError`. Parameter problems depend on how
the parameters were given: overrides typed as a mapping (or a list of mappings) raise, naming
the patient and the parameter; a generated batch (an array or a DataFrame) keeps going and
each patient outside the limits is reported as failed with the reason, like a solver failure,
so that one bad draw does not stop a population.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import limits
from ..errors import InputError
from ..model import Model
from .doses import amount_in_route_unit

#: Relative tolerances the solvers are asked for.
RTOL_RANGE = (1e-14, 0.1)


def typed_overrides(params: Any) -> bool:
    """Whether parameters were typed as overrides (a mapping or a list of mappings)."""
    if isinstance(params, Mapping):
        return True
    if params is None or isinstance(params, np.ndarray | pd.DataFrame):
        return False
    try:
        items = list(params)
    except TypeError:
        return False
    return bool(items) and all(isinstance(item, Mapping) for item in items)


def parameter_problems(model: Model, matrix: np.ndarray) -> list[str | None]:
    """Per patient: the first parameter outside :func:`il6sim.limits.parameter_problem`, as
    ``"parameter 'age': -10 year is outside 0–120 year; fix: ..."``, or ``None``."""
    declared = model.default_parameters()
    names = model.param_names
    switch = np.array([n.startswith(limits.SWITCH_PREFIX) for n in names])
    covariate = np.array([n in limits.COVARIATE_RANGES for n in names])
    low = np.zeros(len(names))
    high = np.maximum(limits.MAX_PARAMETER_FACTOR * np.abs(declared),
                      np.where(declared == 0, limits.MAX_PARAMETER_ABSOLUTE, 0.0))
    for j, name in enumerate(names):
        if covariate[j]:
            low[j], high[j], _ = limits.COVARIATE_RANGES[name]
    with np.errstate(invalid="ignore"):
        outside = ~np.isfinite(matrix) | (matrix < low) | (matrix > high)
        outside[:, switch] = ~np.isin(matrix[:, switch], (0.0, 1.0))
    problems: list[str | None] = [None] * len(matrix)
    for i in np.flatnonzero(outside.any(axis=1)):
        j = int(np.flatnonzero(outside[i])[0])
        decl = model.parameters[j]
        value = float(matrix[i, j])
        problem = limits.parameter_problem(decl.name, value, decl.unit, decl.value)
        problems[i] = f"parameter '{decl.name}': {problem}"
    return problems


def refuse_typed(problems: list[str | None]) -> None:
    """Raise the first problem of parameters typed as overrides."""
    for i, problem in enumerate(problems):
        if problem:
            who = f"patient {i}: " if len(problems) > 1 else ""
            raise InputError(who + problem)


def time_grid(t_end: float, dt: float, t_eval: Any, n_patients: int, n_columns: int
              ) -> np.ndarray:
    """The output times, checked: ``t_eval`` if given, else ``0, dt, ..., t_end``."""
    if t_eval is None:
        for name, value in (("t_end", t_end), ("dt", dt)):
            if not isinstance(value, int | float | np.number) or not math.isfinite(value) \
                    or value <= 0:
                raise InputError(f"{name} = {value!r} h; fix: give a finite number of hours "
                                 "above 0 for t_end and dt")
        problem = (limits.time_problem(float(t_end), "t_end")
                   or limits.sampling_problem(float(t_end), float(dt), n_patients))
        if problem:
            raise InputError(problem)
        grid = np.round(np.arange(0.0, t_end + dt / 2, dt), 10)
    else:
        try:
            grid = np.asarray(t_eval, dtype=float)
        except (TypeError, ValueError):
            raise InputError("t_eval is not a list of numbers; fix: give output times in "
                             "hours, e.g. np.arange(0, 49, 1.0)") from None
        if grid.ndim != 1 or len(grid) == 0:
            raise InputError("t_eval must be a non-empty 1-D list of times; fix: e.g. "
                             "np.arange(0, 49, 1.0)")
        if len(grid) > limits.MAX_TIME_POINTS:
            raise InputError(f"t_eval has {len(grid):,} times, above the limit of "
                             f"{limits.MAX_TIME_POINTS:,}; fix: give fewer output times")
        if not np.isfinite(grid).all() or grid[0] < 0 or np.any(np.diff(grid) < 0):
            raise InputError("t_eval must be finite, start at 0 h or later and not decrease; "
                             "fix: give sorted output times in hours")
        problem = limits.time_problem(float(grid[-1]), "the last output time")
        if problem:
            raise InputError(problem)
    size = len(grid) * n_columns * max(n_patients, 1) * 8.0
    if size > limits.MAX_RESULT_BYTES:
        raise InputError(f"the result would need about {size / 1024**3:.1f} GiB ({len(grid):,} "
                         f"times × {n_patients:,} patients), above the limit of "
                         f"{limits.MAX_RESULT_BYTES / 1024**3:.0f} GiB; fix: sample less often "
                         "or simulate fewer patients at a time")
    return grid


def check_doses(model: Model, table: pd.DataFrame) -> None:
    """Dose times, counts per patient and amounts (in the route's unit) within the limits."""
    if table.empty:
        return
    for time_h in table.time_h.to_numpy(float):
        problem = limits.time_problem(float(time_h), "dose time")
        if problem:
            raise InputError(problem)
    shared = int((table.patient == -1).sum())
    own = table.patient[table.patient != -1].value_counts()
    count = shared + (int(own.max()) if len(own) else 0)
    problem = limits.dose_count_problem(count, "doses for one patient")
    if problem:
        raise InputError(problem)
    checked: set[tuple[str, str, float, str]] = set()
    for row in table.itertuples():
        key = (row.agent, row.route, float(row.amount), row.unit)
        if key in checked:
            continue
        checked.add(key)
        route = model.route(row.agent, row.route)
        problem = limits.dose_amount_problem(amount_in_route_unit(model, row), route.dose_unit)
        if problem:
            raise InputError(f"dose of {row.agent} at {row.time_h:g} h: {problem}")


def check_rtol(rtol: float) -> None:
    low, high = RTOL_RANGE
    if not isinstance(rtol, int | float | np.number) or not low <= rtol <= high:
        raise InputError(f"rtol = {rtol!r}; fix: give a relative tolerance from {low:g} to "
                         f"{high:g}, e.g. 1e-6")


def check_relax(t_relax: float) -> None:
    if not isinstance(t_relax, int | float | np.number) or not 0 < t_relax \
            <= limits.MAX_RELAX_HOURS:
        raise InputError(f"t_relax = {t_relax!r} h; fix: give a finite number of hours above 0 "
                         f"and at most {limits.MAX_RELAX_HOURS:g}, e.g. 20000")
