"""The scenario file schema (pydantic v2) and the checks that need the model.

A scenario is validated in two passes:

1. :class:`ScenarioSpec` checks the shape of the file: known keys only (``extra='forbid'``),
   times with a time unit, amounts that are not negative;
2. :func:`check_against_model` checks the names and units that only the model knows:
   parameter names and units in ``patient``, dose agents, routes and units, outputs and
   knockouts.

Both raise messages of the form ``<problem>; fix: <what to do>``; :mod:`._load` prefixes them
with the file and field so the user sees one plain line.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

import pint
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .. import limits
from ..model import Model
from ..model.units import ureg

#: Read-outs shown when a scenario does not list its own.
DEFAULT_OUTPUTS = ("il6", "tnf", "il10", "crp")

#: Prefix of the parameters that switch a mediator or pathway on (1) or off (0).
SWITCH_PREFIX = "switch_"

Number = float | int


class ScenarioFieldError(ValueError):
    """A model-dependent check failed: ``field`` is the dotted path, ``message`` the problem."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def suggest(name: str, choices: Iterable[str], *, what: str = "one of") -> str:
    """A ``fix:`` hint: the close matches of ``name`` among ``choices``, or the whole list."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"use {what} {shown}"


def suggest_all(name: str, choices: Iterable[str]) -> str:
    """A ``fix:`` hint that never cuts the list: the close matches of ``name``, then every
    valid name."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.6)
    hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "? ") if close else ""
    return f"{hint}use one of {', '.join(choices)}"


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("il6sim", message)


def _as_float(value: int | float) -> float:
    """A number as a float; an integer too large for one becomes infinity (refused later)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def parse_time(value: Any, *, what: str) -> float:
    """A time in hours from a number (hours) or a string with a unit (``"30 min"``, ``"2 d"``)."""
    if isinstance(value, bool):
        raise _fail(f"{what} {value!r} is not a time; fix: write a number of hours or e.g. '2 h'")
    if isinstance(value, int | float):
        hours = _as_float(value)
        problem = limits.time_problem(hours, what)
        if problem:
            raise _fail(problem)
        return hours
    try:
        quantity = ureg.Quantity(str(value).strip())
        hours = float(quantity.to("hour").magnitude)
    except Exception:  # pint raises many kinds (TokenError, OverflowError, ...) on odd text
        raise _fail(
            f"{what} {value!r} is not a time; "
            "fix: write a number with a unit h, min or d, e.g. '6 h'"
        ) from None
    problem = limits.time_problem(hours, what)
    if problem:
        raise _fail(problem)
    return hours


def parse_quantity(value: Any) -> tuple[float, str]:
    """``(magnitude, unit)`` of a number (unit ``""``) or a string such as ``"2 ng/kg"``."""
    if isinstance(value, bool):
        raise _fail(f"{value!r} is not an amount; fix: write a number or e.g. '2 ng/kg'")
    if isinstance(value, int | float):
        return _as_float(value), ""
    try:
        quantity = ureg.Quantity(str(value).strip())
    except Exception:  # pint raises many kinds (TokenError, OverflowError, ...) on odd text
        raise _fail(
            f"cannot read {value!r} as an amount with a unit; fix: write e.g. '2 ng/kg'"
        ) from None
    unit = "" if quantity.units == ureg.dimensionless else str(quantity.units)
    magnitude = _as_float(quantity.magnitude)
    if not math.isfinite(magnitude):
        raise _fail(f"amount {value!r} is not finite; fix: give a finite amount")
    return magnitude, unit


class DoseSpec(BaseModel):
    """One dose: when, what, by which route and how much."""

    model_config = ConfigDict(extra="forbid")

    time: Number | str = Field(description="time of the dose, e.g. '0 h', '30 min', '1 d'")
    agent: str = Field(description="what is given, e.g. 'lps'")
    route: str = Field("iv", description="how it is given, e.g. 'iv'")
    amount: Number | str = Field(description="how much, in a unit convertible to the route's")

    @field_validator("time")
    @classmethod
    def _time(cls, value: Any) -> Any:
        hours = parse_time(value, what="dose time")
        if hours < 0:
            raise _fail(
                f"dose time {value!r} is before the start; fix: give a time of 0 h or later"
            )
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        magnitude, _ = parse_quantity(value)
        if magnitude < 0:
            raise _fail(f"negative dose {value}; fix: give an amount of 0 or more")
        if magnitude != magnitude or magnitude in (float("inf"), float("-inf")):
            raise _fail(f"dose {value} is not finite; fix: give a finite amount")
        return value

    @property
    def time_h(self) -> float:
        return parse_time(self.time, what="dose time")


def _data_name(value: Any, what: str) -> Any:
    problem = None if value is None else limits.data_name_problem(value, what)
    if problem:
        raise _fail(problem)
    return value


class TreatmentSpec(BaseModel):
    """IL-6 blockade added to a scenario: a label regimen (or a drug's default regimen), or a
    custom schedule of one drug, starting at ``start``.

    ``amount``, ``interval``, ``doses``, ``cap`` and ``until`` shape a custom schedule, and
    with a label regimen replace that regimen's own (``{regimen: tocilizumab-covid-8mgkg,
    interval: 12 h, doses: 2}``: the label dose twice, 12 h apart). ``cap`` is the most one
    dose may be (a weight-based dose above it is cut to it, as the 800 mg of the tocilizumab
    label); ``until`` the latest time after the first dose at which a dose is still given.
    """

    model_config = ConfigDict(extra="forbid")

    regimen: str | None = Field(None, description="label regimen or drug name, e.g. "
                                "'tocilizumab-covid-8mgkg' or 'tocilizumab'")
    drug: str | None = Field(None, description="drug of a custom schedule, e.g. 'sarilumab'")
    amount: str | None = Field(None, description="custom dose, e.g. '200 mg' or '8 mg/kg'")
    route: str = Field("iv", description="custom route: 'iv' or 'sc'")
    interval: str | None = Field(None, description="custom interval, e.g. '14 d' (none: once)")
    doses: int | None = Field(None, ge=1, description="number of custom doses (none: until "
                              "the end, or until 'until')")
    cap: str | None = Field(None, description="most one dose may be, e.g. '800 mg'")
    until: Number | str | None = Field(None, description="no dose later than this after the "
                                       "first one, e.g. '14 d'")
    start: Number | str = Field("0 h", description="time of the first dose, e.g. '8 d'")

    @field_validator("start")
    @classmethod
    def _start(cls, value: Any) -> Any:
        if parse_time(value, what="treatment start") < 0:
            raise _fail(f"treatment start {value!r} is before time 0; fix: give 0 h or later")
        return value

    @field_validator("until")
    @classmethod
    def _until(cls, value: Any) -> Any:
        if value is not None and parse_time(value, what="treatment until") < 0:
            raise _fail(f"treatment until {value!r} is negative; fix: give 0 h or more")
        return value

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: Any) -> Any:
        if value is not None and parse_time(value, what="treatment interval") <= 0:
            raise _fail(f"treatment interval {value!r} is not positive; fix: e.g. '12 h'")
        return value

    @field_validator("cap")
    @classmethod
    def _cap(cls, value: Any) -> Any:
        if value is None:
            return value
        magnitude, unit = parse_quantity(value)
        try:
            ok = magnitude > 0 and ureg.Quantity(magnitude, unit).check("[mass]")
        except Exception:  # pint raises many kinds on odd units
            ok = False
        if not ok:
            raise _fail(f"cap {value!r} is not a positive mass; fix: e.g. cap: 800 mg")
        return value

    @model_validator(mode="after")
    def _doses_need_interval(self) -> TreatmentSpec:
        if self.doses is not None and self.doses > 1 and self.interval is None:
            raise _fail(f"{self.doses} doses need an interval between them; fix: add e.g. "
                        "interval: 12 h")
        return self

    @property
    def start_h(self) -> float:
        return parse_time(self.start, what="treatment start")

    def regimen_or_schedule(self):
        """The :class:`~il6sim.pharmacology.Regimen` (custom, or a label regimen with its
        schedule changed) or label regimen name."""
        from dataclasses import replace

        from ..pharmacology import Regimen, drug_names, label_regimens, load_drug

        if (self.regimen is None) == (self.drug is None):
            raise ScenarioFieldError(
                "treatment", "give either 'regimen' (a label regimen or drug name) or 'drug' "
                "with 'amount'; fix: e.g. 'regimen: tocilizumab-covid-8mgkg'",
            )
        until = None if self.until is None else f"{parse_time(self.until, what='until')} h"
        if self.regimen is not None:
            name = self.regimen
            if name in drug_names():
                default = load_drug(name).default_regimen
                if default is None:
                    raise ScenarioFieldError(
                        "treatment.regimen", f"drug '{name}' has no default regimen; "
                        "fix: name a label regimen (see `il6sim pk`)",
                    )
                name = default
            changes = {key: getattr(self, key) for key in ("amount", "interval", "doses",
                                                             "cap", "route")
                       if key in self.model_fields_set}
            if until is not None:
                changes["until"] = until
            if not changes:
                return name
            known = label_regimens()
            if name not in known:  # expand_regimen names the fix
                return name
            label = known[name]
            if "interval" in changes and "doses" not in changes and label.doses == 1:
                changes["doses"] = None  # a repeated label dose: until 'until' or the end
            return replace(label, **changes)
        if self.amount is None:
            raise ScenarioFieldError(
                "treatment.amount", "a custom schedule needs an amount; fix: e.g. '200 mg'"
            )
        return Regimen(self.drug, self.amount, self.route, self.interval, self.doses,
                       cap=self.cap, until=until)


class ScenarioSpec(BaseModel):
    """The contents of a scenario YAML file (see the module docstring of :mod:`il6sim.scenario`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="short identifier, e.g. 'endotoxemia-2ngkg'")
    description: str = Field("", description="one sentence: what the scenario represents")
    knockouts: list[str] = Field(default_factory=list, description="mediators/pathways set to 0")
    pathogen: str | None = Field(None, description="pathogen profile in data/pathogens")
    patient: dict[str, Number | str] = Field(default_factory=dict,
                                             description="parameter overrides")
    doses: list[DoseSpec] = Field(default_factory=list, description="dose events")
    treatment: TreatmentSpec | None = Field(None, description="IL-6 blockade (regimen, start)")
    duration: Number | str = Field("48 h", description="simulated time, e.g. '48 h' or '28 d'")
    sampling: Number | str = Field("0.25 h", description="reporting interval, e.g. '15 min'")
    outputs: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTPUTS),
                               description="read-outs to print and plot")
    targets: str | None = Field(None, description="name of a target set to overlay on plots")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise _fail("the name is empty; fix: give a short identifier such as 'my-scenario'")
        return value

    @field_validator("pathogen")
    @classmethod
    def _pathogen(cls, value: Any) -> Any:
        return _data_name(value, "pathogen")

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        return _data_name(value, "target set")

    @field_validator("doses")
    @classmethod
    def _doses(cls, value: list[DoseSpec]) -> list[DoseSpec]:
        problem = limits.dose_count_problem(len(value))
        if problem:
            raise _fail(problem)
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if parse_time(value, what="duration") <= 0:
            raise _fail(f"duration {value!r} is not positive; fix: give a duration above 0 h")
        return value

    @field_validator("sampling")
    @classmethod
    def _sampling(cls, value: Any, info: ValidationInfo) -> Any:
        hours = parse_time(value, what="sampling")
        if hours <= 0:
            raise _fail(f"sampling {value!r} is not positive; fix: give an interval above 0 h")
        duration = info.data.get("duration")
        if duration is None:
            return value
        duration_h = parse_time(duration, what="duration")
        if hours > duration_h:
            raise _fail(
                f"sampling {value!r} is longer than the duration {duration!r}; "
                "fix: give a sampling interval no longer than the duration"
            )
        problem = limits.sampling_problem(duration_h, hours)
        if problem:
            raise _fail(problem)
        return value

    @property
    def duration_h(self) -> float:
        return parse_time(self.duration, what="duration")

    @property
    def sampling_h(self) -> float:
        return parse_time(self.sampling, what="sampling")


def knockout_switches(model: Model) -> dict[str, str]:
    """Knockout names and the switch parameter each one sets to 0 (``il6 -> switch_il6``)."""
    return {
        p.name[len(SWITCH_PREFIX):]: p.name
        for p in model.parameters
        if p.name.startswith(SWITCH_PREFIX)
    }


def resolve_knockout(model: Model, name: str, field: str = "knockouts") -> str:
    """The switch parameter for a knockout name (``il6`` or ``switch_il6``)."""
    switches = knockout_switches(model)
    if name in switches:
        return switches[name]
    if name in switches.values():
        return name
    raise ScenarioFieldError(
        field, f"unknown knockout '{name}'; fix: {suggest(name, switches)}"
    )


def dose_amount(model: Model, dose: DoseSpec, field: str) -> tuple[float, str]:
    """The amount of one dose in its route's dose unit, and that unit. A dose may name a drug
    (``tocilizumab``): its route is checked against the drug file, its unit against the
    model's drug slot."""
    from ..errors import InputError
    from ..pharmacology import drug_names, load_drug, slot_agent

    agent = dose.agent
    if agent in drug_names():
        try:
            load_drug(agent).check_route(dose.route)
        except InputError as exc:
            raise ScenarioFieldError(f"{field}.route", str(exc)) from None
        agent = slot_agent(agent)
    try:
        route = model.route(agent, dose.route)
    except Exception:
        agents = sorted({r.agent for r in model.routes})
        if dose.agent not in agents:
            raise ScenarioFieldError(
                f"{field}.agent",
                f"unknown agent '{dose.agent}'; fix: {suggest(dose.agent, agents)}",
            ) from None
        routes = sorted(r.route for r in model.routes if r.agent == dose.agent)
        raise ScenarioFieldError(
            f"{field}.route",
            f"agent '{dose.agent}' cannot be given by route '{dose.route}'; "
            f"fix: {suggest(dose.route, routes)}",
        ) from None
    magnitude, unit = parse_quantity(dose.amount)
    if not unit:
        converted = magnitude
    else:
        try:
            converted = ureg.Quantity(magnitude, unit).to(route.dose_unit).magnitude
        except pint.errors.PintError:
            raise ScenarioFieldError(
                f"{field}.amount",
                f"'{dose.amount}' cannot be converted to {route.dose_unit}, the dose unit of "
                f"{dose.agent} ({dose.route}); fix: give the amount in {route.dose_unit}, "
                f"e.g. '{magnitude:g} {route.dose_unit}'",
            ) from None
        problem = limits.dose_unit_problem(unit, route.dose_unit)
        if problem:
            raise ScenarioFieldError(f"{field}.amount", problem)
    problem = limits.dose_amount_problem(float(converted), route.dose_unit)
    if problem:
        raise ScenarioFieldError(f"{field}.amount", problem)
    return float(converted), route.dose_unit


def check_against_model(spec: ScenarioSpec, model: Model) -> None:
    """Check every name and unit of a scenario against ``model``.

    Raises
    ------
    ScenarioFieldError
        naming the field (``patient.body_wieght``, ``doses[0].amount``, ...) and the fix.
    """
    if spec.pathogen is not None:
        from ._pathogens import pathogen_parameters

        try:
            profile = pathogen_parameters(spec.pathogen)
        except Exception as exc:
            raise ScenarioFieldError("pathogen", str(exc)) from None
        for name, value in profile.items():
            model.convert_parameter(name, value)
    for name, value in spec.patient.items():
        field = f"patient.{name}"
        if name not in model.param_index:
            raise ScenarioFieldError(
                field, f"unknown parameter '{name}'; fix: {suggest(name, model.param_names)}"
            )
        declared = model.parameter(name)
        try:
            converted = model.convert_parameter(name, value)
        except Exception:
            raise ScenarioFieldError(
                field,
                f"{value!r} cannot be read in the unit of '{name}' ({declared.unit}); "
                f"fix: write a number in {declared.unit} or a value with a compatible unit",
            ) from None
        problem = limits.parameter_problem(name, converted, declared.unit, declared.value)
        if problem:
            raise ScenarioFieldError(field, problem)
    for i, name in enumerate(spec.knockouts):
        resolve_knockout(model, name, f"knockouts[{i}]")
    for i, dose in enumerate(spec.doses):
        dose_amount(model, dose, f"doses[{i}]")
    if spec.treatment is not None:
        from ..errors import InputError
        from ..pharmacology import expand_regimen

        if spec.treatment.start_h >= spec.duration_h:
            raise ScenarioFieldError(
                "treatment.start", f"treatment starts at {spec.treatment.start_h:g} h, at or "
                f"after the end of the run ({spec.duration_h:g} h); fix: start it earlier or "
                "lengthen the duration")
        try:
            events = expand_regimen(spec.treatment.regimen_or_schedule(),
                                    until_h=spec.duration_h)
        except InputError as exc:
            raise ScenarioFieldError("treatment", str(exc)) from None
        problem = limits.dose_count_problem(len(events) + len(spec.doses),
                                            "doses (with the treatment)")
        if problem:
            raise ScenarioFieldError("treatment", problem)
    from ..engine.results import CLINICAL_OUTPUTS

    for i, name in enumerate(spec.outputs):
        if name not in model.output_index and name not in CLINICAL_OUTPUTS:
            raise ScenarioFieldError(
                f"outputs[{i}]",
                f"unknown output '{name}'; fix: {suggest(name, model.output_names)}",
            )
