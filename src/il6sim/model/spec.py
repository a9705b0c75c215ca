"""Declarations (State, Param, Flux, Output, DoseRoute, Block) and the model they build.

A model is declared once, by name, in biology blocks (:mod:`il6sim.model.blocks`). Building it

1. reads every parameter (value, unit, description, source) from the TOML files in
   ``model/parameters/``;
2. evaluates each flux once on :mod:`pint` quantities whose magnitudes are :mod:`sympy` symbols.
   A flux that adds nM to pg/mL, or whose contribution to d(state)/dt is not in
   ``state unit / hour``, raises :class:`~il6sim.errors.UnitError` naming the flux — a wrong unit
   is an error when the model is built, not a wrong number later;
3. keeps the resulting symbolic right-hand side (unit conversions folded in as constants) and
   generates from it the numeric right-hand side, its exact sparse Jacobian, every flux and
   read-out as a function, and the model table. The SBML export uses the same expressions.

Nothing is written twice: the equations exist only as the flux declarations.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pint
import sympy as sp

from ..errors import InputError, ModelError, UnitError
from .units import TIME_UNIT, Quantity, ureg

RateFunction = Callable[[Any, Any], Any]
Coefficient = float | int | Callable[[Any], Any]


@dataclass(frozen=True)
class State:
    """A dynamic variable: name, unit, compartment and meaning.

    ``guess`` is a starting value for :func:`il6sim.equilibrate` (in ``unit``).
    """

    name: str
    unit: str
    compartment: str
    description: str
    guess: float = 0.0


@dataclass(frozen=True)
class Param:
    """A parameter as declared in a ``parameters/*.toml`` file."""

    name: str
    value: float
    unit: str
    description: str
    source: str
    claims: tuple[str, ...] = ()
    calibrated_to: tuple[str, ...] = ()
    block: str = ""
    #: plausible range ``(low, high)`` in the declared unit, from the declaration's ``range``
    #: (its justification is in ``source``); None: the default of :mod:`il6sim.sensitivity`.
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Flux:
    """A named process with a rate and the states it changes.

    ``rate(s, p)`` returns a quantity; ``changes`` maps each affected state to a stoichiometric
    coefficient (a number, or a function of the parameters such as a volume ratio).
    ``coefficient × rate`` must have the unit ``state unit / hour``. The first changed state
    takes a plain-number coefficient; the flux is reported in that state's unit per hour.
    """

    name: str
    rate: RateFunction
    changes: Mapping[str, Coefficient]
    description: str
    block: str = ""


@dataclass(frozen=True)
class Output:
    """A read-out computed from states and parameters, in a clinical unit.

    ``label`` is the short display name of figures and tables (``"P/F ratio"``, ``"CRP"``);
    without one, :attr:`display_label` is the description with a capital first letter.
    """

    name: str
    unit: str
    expression: RateFunction
    description: str
    label: str = ""

    @property
    def display_label(self) -> str:
        """The label shown on axes and in tables."""
        if self.label:
            return self.label
        text = self.description or self.name.replace("_", " ")
        text = re.sub(r"\s*\([^()]*\)$", "", text)  # a unit or aside in brackets at the end
        return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class DoseRoute:
    """How a dose of ``agent`` by ``route`` (given in ``dose_unit``) changes ``state``.

    ``to_state(amount, p)`` returns the jump of ``state`` in the state's own unit.
    """

    agent: str
    route: str
    dose_unit: str
    state: str
    to_state: Callable[[Any, Any], Any]
    description: str


@dataclass(frozen=True)
class Block:
    """One biology block: its states, fluxes, read-outs and dose routes."""

    name: str
    states: tuple[State, ...] = ()
    fluxes: tuple[Flux, ...] = ()
    outputs: tuple[Output, ...] = ()
    routes: tuple[DoseRoute, ...] = ()


def _declared_range(path: Path, name: str, entry: dict) -> tuple[float, float] | None:
    """A declaration's ``range = [low, high]``, checked to hold the value."""
    if "range" not in entry:
        return None
    bounds = entry["range"]
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(isinstance(b, int | float) for b in bounds)):
        raise ModelError(f"{path.name}: parameter '{name}' range {bounds!r}; fix: give "
                         "range = [low, high] with two numbers")
    low, high = float(bounds[0]), float(bounds[1])
    if not low <= float(entry["value"]) <= high:
        raise ModelError(f"{path.name}: parameter '{name}' value {entry['value']} lies outside "
                         f"its range [{low:g}, {high:g}]; fix: widen the range or the value")
    return low, high


def load_parameters(path: Path) -> list[Param]:
    """Read parameter declarations from a TOML file (one table per parameter)."""
    with open(path, "rb") as handle:
        table = tomllib.load(handle)
    params = []
    for name, entry in table.items():
        missing = {"value", "unit", "description", "source"} - set(entry)
        if missing:
            raise ModelError(
                f"{path.name}: parameter '{name}' lacks {sorted(missing)}; "
                "fix: give value, unit, description and source"
            )
        params.append(
            Param(
                name=name,
                value=float(entry["value"]),
                unit=str(entry["unit"]),
                description=str(entry["description"]),
                source=str(entry["source"]),
                claims=tuple(entry.get("claims", ())),
                calibrated_to=tuple(entry.get("calibrated_to", ())),
                block=path.stem,
                range=_declared_range(path, name, entry),
            )
        )
    return params


class _Namespace:
    """Attribute access to named quantities; an unknown name is a model error naming it."""

    def __init__(self, kind: str, items: Mapping[str, Any], owner: str):
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_items", dict(items))
        object.__setattr__(self, "_owner", owner)

    def __getattr__(self, name: str) -> Any:
        items = object.__getattribute__(self, "_items")
        if name in items:
            return items[name]
        kind = object.__getattribute__(self, "_kind")
        owner = object.__getattribute__(self, "_owner")
        raise ModelError(
            f"{owner} uses unknown {kind} '{name}'; fix: declare it or correct the name"
        )


def _evaluate(owner: str, func: Callable[..., Any], *args: Any) -> Quantity:
    try:
        value = func(*args)
    except pint.DimensionalityError as exc:
        raise UnitError(f"{owner}: inconsistent units ({exc}); fix: convert the terms") from None
    if not isinstance(value, pint.Quantity):
        value = Quantity(value, "dimensionless")
    return value


def _to_unit(owner: str, value: Quantity, unit: str) -> sp.Expr:
    try:
        converted = value.to(unit)
    except pint.DimensionalityError:
        raise UnitError(
            f"{owner} has unit '{value.units:~}' but must be in '{unit}'; "
            "fix: correct the rate expression or the parameter units"
        ) from None
    return sp.sympify(converted.magnitude)


@dataclass
class Model:
    """A built model: declarations, symbolic right-hand side and compiled numeric functions.

    Use :func:`il6sim.model.build_model` (or :func:`il6sim.default_model`) to make one.
    Arrays follow one convention: states ``y`` have shape ``(n_states,)`` or
    ``(n_states, n_patients)``; parameters ``p`` have shape ``(n_params,)`` or
    ``(n_params, n_patients)``.
    """

    states: tuple[State, ...]
    parameters: tuple[Param, ...]
    fluxes: tuple[Flux, ...]
    outputs: tuple[Output, ...]
    routes: tuple[DoseRoute, ...]
    blocks: tuple[str, ...]
    flux_expressions: dict[str, sp.Expr] = field(repr=False)
    flux_units: dict[str, str] = field(repr=False)
    rhs_expressions: list[sp.Expr] = field(repr=False)
    output_expressions: dict[str, sp.Expr] = field(repr=False)
    route_expressions: dict[tuple[str, str], sp.Expr] = field(repr=False)
    state_symbols: list[sp.Symbol] = field(repr=False)
    param_symbols: list[sp.Symbol] = field(repr=False)
    dose_symbol: sp.Symbol = field(repr=False)

    def __post_init__(self) -> None:
        self.state_index = {s.name: i for i, s in enumerate(self.states)}
        self.param_index = {p.name: i for i, p in enumerate(self.parameters)}
        self.output_index = {o.name: i for i, o in enumerate(self.outputs)}
        self.flux_index = {f.name: i for i, f in enumerate(self.fluxes)}
        args = [self.state_symbols, self.param_symbols]
        self._rhs = sp.lambdify(args, self.rhs_expressions, "numpy", cse=True)
        jacobian = sp.Matrix(self.rhs_expressions).jacobian(self.state_symbols)
        entries = [(i, j, e) for (i, j), e in np.ndenumerate(np.array(jacobian)) if e != 0]
        self.jacobian_pattern = np.array([(i, j) for i, j, _ in entries], dtype=int).reshape(-1, 2)
        self._jac = sp.lambdify(args, [e for _, _, e in entries], "numpy", cse=True)
        self._outputs = sp.lambdify(args, list(self.output_expressions.values()), "numpy", cse=True)
        self._fluxes = sp.lambdify(args, list(self.flux_expressions.values()), "numpy", cse=True)
        self._routes = {
            key: sp.lambdify([self.dose_symbol, self.param_symbols], expr, "numpy")
            for key, expr in self.route_expressions.items()
        }

    # ----- names and values -------------------------------------------------------------
    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.outputs]

    @property
    def flux_names(self) -> list[str]:
        return [f.name for f in self.fluxes]

    def default_parameters(self) -> np.ndarray:
        """The declared parameter values, shape ``(n_params,)``."""
        return np.array([p.value for p in self.parameters], dtype=float)

    def parameter(self, name: str) -> Param:
        """The declaration of one parameter."""
        try:
            return self.parameters[self.param_index[name]]
        except KeyError:
            raise InputError(
                f"unknown parameter '{name}'; fix: use one of the names in `il6sim model`"
            ) from None

    def parameter_vector(self, overrides: Mapping[str, Any] | None = None) -> np.ndarray:
        """Declared values with ``overrides`` applied.

        An override is a number in the declared unit or a string with a unit (``"80 kg"``),
        converted to the declared unit.
        """
        values = self.default_parameters()
        for name, value in (overrides or {}).items():
            values[self.param_index[self.parameter(name).name]] = self.convert_parameter(
                name, value
            )
        return values

    def convert_parameter(self, name: str, value: Any) -> float:
        """One parameter value in its declared unit (numbers are taken as already in it)."""
        unit = self.parameter(name).unit
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            quantity = ureg.Quantity(str(value))
            return float(quantity.to(unit).magnitude)
        except (pint.errors.PintError, ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"parameter '{name}' = {value!r} cannot be read in unit '{unit}' ({exc}); "
                f"fix: write a number in {unit} or a value with a compatible unit"
            ) from None

    def initial_guess(self) -> np.ndarray:
        """Starting values for equilibration, shape ``(n_states,)``."""
        return np.array([s.guess for s in self.states], dtype=float)

    # ----- numeric functions --------------------------------------------------------------
    def rhs(self, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """d(state)/dt in state units per hour."""
        out = self._rhs(y, p)
        return np.array(np.broadcast_arrays(*out)) if np.ndim(y) > 1 else np.array(out, float)

    def jacobian(self, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Exact dense Jacobian ``d rhs / d y`` for one patient, shape ``(n_states, n_states)``."""
        n = len(self.states)
        jac = np.zeros((n, n))
        jac[self.jacobian_pattern[:, 0], self.jacobian_pattern[:, 1]] = self._jac(y, p)
        return jac

    def flux_values(self, y: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        """Every flux's rate (unit: :attr:`flux_units`), keyed by flux name."""
        values = self._fluxes(y, p)
        shape = np.shape(y)[1:]
        return {
            name: np.broadcast_to(np.asarray(v, float), shape)
            for name, v in zip(self.flux_expressions, values, strict=True)
        }

    def output_values(self, y: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        """Every read-out in its clinical unit, keyed by output name."""
        values = self._outputs(y, p)
        shape = np.shape(y)[1:]
        return {
            name: np.broadcast_to(np.asarray(v, float), shape)
            for name, v in zip(self.output_expressions, values, strict=True)
        }

    def dose_jump(self, agent: str, route: str, amount: float, p: np.ndarray) -> tuple[int, Any]:
        """The state index and the jump a dose of ``amount`` (in the route's dose unit) causes."""
        key = (agent, route)
        if key not in self._routes:
            known = ", ".join(f"{a} ({r})" for a, r in self._routes)
            raise InputError(
                f"dose agent '{agent}' by route '{route}' is not in the model; "
                f"fix: use one of {known}"
            )
        route_decl = next(r for r in self.routes if (r.agent, r.route) == key)
        return self.state_index[route_decl.state], self._routes[key](amount, p)

    def route(self, agent: str, route: str) -> DoseRoute:
        """The declaration of a dose route."""
        for r in self.routes:
            if (r.agent, r.route) == (agent, route):
                return r
        known = ", ".join(f"{r.agent} ({r.route})" for r in self.routes)
        raise InputError(f"no dose route '{agent}' by '{route}'; fix: use one of {known}")


def _check_names(blocks: Iterable[Block], params: list[Param]) -> None:
    seen: dict[str, str] = {}
    for kind, names in (
        ("state", [s.name for b in blocks for s in b.states]),
        ("parameter", [p.name for p in params]),
        ("flux", [f.name for b in blocks for f in b.fluxes]),
        ("output", [o.name for b in blocks for o in b.outputs]),
    ):
        for name in names:
            key = name if kind in ("state", "parameter") else f"{kind}:{name}"
            if key in seen:
                raise ModelError(f"{kind} '{name}' is declared twice; fix: rename one of them")
            seen[key] = kind


def build_model(blocks: Iterable[Block], params: Iterable[Param]) -> Model:
    """Assemble a model from blocks and parameter declarations, checking names and units.

    SymPy may give the same expression another, equal printed form in another process (its
    results depend on what it has cached), so nothing identifies a model by its printed
    expressions (:func:`il6sim.runner.model_fingerprint` evaluates them)."""
    blocks = tuple(blocks)
    params = list(params)
    _check_names(blocks, params)
    states = tuple(s for b in blocks for s in b.states)
    fluxes = tuple(
        Flux(f.name, f.rate, f.changes, f.description, f.block or b.name)
        for b in blocks
        for f in b.fluxes
    )
    outputs = tuple(o for b in blocks for o in b.outputs)
    routes = tuple(r for b in blocks for r in b.routes)

    for item in [*states, *params]:
        try:
            ureg.Unit(item.unit)
        except pint.errors.PintError:
            raise UnitError(
                f"'{item.name}' has unknown unit '{item.unit}'; fix: use a pint unit string"
            ) from None

    state_symbols = [sp.Symbol(s.name, real=True) for s in states]
    param_symbols = [sp.Symbol(p.name, real=True) for p in params]
    s_quantities = {
        s.name: Quantity(sym, s.unit) for s, sym in zip(states, state_symbols, strict=True)
    }
    p_quantities = {
        p.name: Quantity(sym, p.unit) for p, sym in zip(params, param_symbols, strict=True)
    }
    by_name = {s.name: s for s in states}

    rhs: dict[str, sp.Expr] = {s.name: sp.Integer(0) for s in states}
    flux_expressions: dict[str, sp.Expr] = {}
    flux_units: dict[str, str] = {}
    for flux in fluxes:
        owner = f"flux '{flux.name}'"
        s_ns = _Namespace("state", s_quantities, owner)
        p_ns = _Namespace("parameter", p_quantities, owner)
        if not flux.changes:
            raise ModelError(f"{owner} changes no state; fix: give its stoichiometry in 'changes'")
        rate = _evaluate(owner, flux.rate, s_ns, p_ns)
        first = next(iter(flux.changes))
        for target, coefficient in flux.changes.items():
            if target not in by_name:
                raise ModelError(f"{owner} changes unknown state '{target}'; fix: declare it")
            factor = coefficient(p_ns) if callable(coefficient) else coefficient
            unit = f"({by_name[target].unit}) / {TIME_UNIT}"
            term = _to_unit(f"{owner} (term for d{target}/dt)", factor * rate, unit)
            rhs[target] = rhs[target] + term
        if callable(flux.changes[first]):
            raise ModelError(
                f"{owner}: the coefficient of its first state '{first}' must be a number; "
                "fix: list first the state whose unit the flux is reported in"
            )
        flux_units[flux.name] = f"{by_name[first].unit}/h"
        flux_expressions[flux.name] = _to_unit(
            owner, rate, f"({by_name[first].unit}) / {TIME_UNIT}"
        )

    output_expressions = {}
    for output in outputs:
        owner = f"output '{output.name}'"
        s_ns = _Namespace("state", s_quantities, owner)
        p_ns = _Namespace("parameter", p_quantities, owner)
        output_expressions[output.name] = _to_unit(
            owner, _evaluate(owner, output.expression, s_ns, p_ns), output.unit
        )

    dose_symbol = sp.Symbol("dose_amount", real=True)
    route_expressions = {}
    for route in routes:
        owner = f"dose route '{route.agent}' ({route.route})"
        if route.state not in by_name:
            raise ModelError(f"{owner} targets unknown state '{route.state}'; fix: declare it")
        p_ns = _Namespace("parameter", p_quantities, owner)
        jump = _evaluate(owner, route.to_state, Quantity(dose_symbol, route.dose_unit), p_ns)
        route_expressions[(route.agent, route.route)] = _to_unit(
            owner, jump, by_name[route.state].unit
        )

    return Model(
        states=states,
        parameters=tuple(params),
        fluxes=fluxes,
        outputs=outputs,
        routes=routes,
        blocks=tuple(b.name for b in blocks),
        flux_expressions=flux_expressions,
        flux_units=flux_units,
        rhs_expressions=[rhs[s.name] for s in states],
        output_expressions=output_expressions,
        route_expressions=route_expressions,
        state_symbols=state_symbols,
        param_symbols=param_symbols,
        dose_symbol=dose_symbol,
    )
