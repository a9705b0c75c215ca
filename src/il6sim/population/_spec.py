"""A virtual population declared as data: ``il6sim/data/populations/<name>.yaml``.

A declaration names a base scenario (pathogen and patient), the infection dose that starts each
course, covariate distributions, the clinical course (how symptom onset is read from each
simulated course, and the delays that decide admission), the model parameters that vary between
patients (each with its distribution and source) and the cohort markers the population is
calibrated to. :func:`load_population_spec` validates it;
every problem is one :class:`~il6sim.errors.InputError` line naming the file, the field and the
fix. The file format is described in ``docs/population.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import pint
import yaml

from ..errors import InputError
from ..model import Model, default_model
from ..model.units import ureg
from ._distributions import Distribution, Field, parse_distribution

__all__ = ["COURSE_TIMES", "ParameterSpec", "PopulationSpec", "list_population_specs",
           "load_population_spec"]

#: The delays of the clinical course every declaration draws per patient (see :mod:`._course`).
COURSE_TIMES = ("onset_to_admission", "hypoxaemia_to_admission")
#: Keys of ``course.onset``: the read-out, the per-patient threshold it must reach, the source of
#: the rule and (optional) a published incubation period the simulated onset is compared with.
ONSET_KEYS = ("output", "above", "source", "incubation", "incubation_cases")
_TOP_KEYS = {"name", "description", "scenario", "infection", "duration", "sampling", "covariates",
             "course", "admission", "parameters", "markers", "validation_markers",
             "death_fraction", "plausible_sd"}
_REQUIRED = ("name", "scenario", "infection", "duration", "sampling", "covariates", "course",
             "admission", "parameters", "markers")


@dataclass(frozen=True)
class ParameterSpec:
    """How one model parameter is set per patient: from a covariate, by a distribution around
    its ``median`` (declared unit; default the base scenario's value), or to one ``value`` for
    the whole population (a population-level departure from the model default), times
    ``effects`` (multipliers for patients with a yes/no covariate)."""

    name: str
    covariate: str | None = None
    covariate_scale: float = 1.0
    distribution: Distribution | None = None
    median: float | None = None
    value: float | None = None
    effects: Mapping[str, float] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class PopulationSpec:
    """A validated population declaration (see the module docstring)."""

    name: str
    description: str
    scenario: str
    infection_agent: str
    infection_route: str
    inoculum: Distribution
    duration_h: float
    sampling_h: float
    covariates: Mapping[str, Distribution]
    course: Mapping[str, Distribution]
    course_scale_h: Mapping[str, float]
    onset_output: str
    onset_threshold: Distribution
    onset_scale: float
    onset_source: str
    incubation: Distribution | None
    incubation_scale_h: float
    #: Cases behind the published incubation period; when given, the fit calibrates the
    #: simulated onset to it (:func:`._balance.published_margin`), else it is only compared.
    incubation_cases: int | None
    hypoxaemia_output: str
    hypoxaemia_below: float
    hypoxaemia_source: str
    latest_admission_h: float
    followup_h: float
    parameters: Mapping[str, ParameterSpec]
    markers: Mapping[str, str]
    validation_markers: Mapping[str, str]
    base_overrides: Mapping[str, float]
    #: The population's in-hospital death fraction, when it is declared rather than taken from
    #: the calibration cohort (a cohort sampled with more deaths than the population it comes
    #: from: its marker distributions by outcome still fit, its death fraction does not).
    death_fraction: float | None = None
    death_fraction_source: str = ""
    #: The plausible range of each varied model parameter, in standard deviations of its
    #: declared (prior) distribution; a value beyond is set to the bound (None: unbounded).
    #: The prior says where people are plausible (Allen RJ 2016 CPT Pharmacometrics Syst
    #: Pharmacol 5:140 bound every parameter of their plausible patients); adaptive rounds of
    #: the fit and the calibrated kernel reach far tails otherwise (docs/population.md).
    plausible_sd: float | None = None
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def coordinates(self) -> list[str]:
        """Names of the standard-normal coordinates of one patient, in order."""
        varied = [f"parameter:{name}" for name, p in self.parameters.items() if p.distribution]
        return ["inoculum", *(f"covariate:{c}" for c in self.covariates), "course:onset",
                *(f"course:{c}" for c in self.course), *varied, "death_threshold"]


# ----------------------------------------------------------------------------- loading
def _folder():
    return files("il6sim") / "data" / "populations"


def list_population_specs() -> dict[str, str]:
    """``name → description`` of every shipped population declaration."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text())
            out[data["name"]] = " ".join(str(data.get("description", "")).split())
    return out


def load_population_spec(spec: str | Path | Mapping[str, Any] = "covid19-hospitalised", *,
                         model: Model | None = None) -> PopulationSpec:
    """Read and validate a population declaration.

    Parameters
    ----------
    spec : a shipped name (``il6sim population list``), a path to a YAML file, or the mapping
        itself.
    model : the model whose parameter and read-out names are checked (default model).

    Raises
    ------
    InputError
        the file is missing or invalid; the message names the field and the fix.
    """
    if isinstance(spec, Mapping):
        return _parse(spec, "<dict>", model or default_model())
    text = str(spec)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise InputError(f"population file '{text}' not found; fix: give the path to a YAML "
                             "declaration or a shipped name ('il6sim population list')")
        source, content = str(path), path.read_text()
    else:
        resource = _folder() / f"{text}.yaml"
        if not resource.is_file():
            from ..scenario._schema import suggest

            raise InputError(f"unknown population '{text}'; fix: "
                             f"{suggest(text, list_population_specs())}")
        source, content = text, resource.read_text()
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise InputError(f"population '{source}' is not valid YAML ("
                         + " ".join(str(exc).split()) + "); fix: check the file") from None
    return _parse(data, source, model or default_model())


def _hours(where: Field, value: Any) -> float:
    try:
        hours = float(ureg.Quantity(str(value)).to("hour").magnitude)
    except (pint.errors.PintError, ValueError, TypeError, AttributeError, AssertionError):
        raise InputError(f"{where}: {value!r} is not a time; fix: write e.g. '28 d' or '2 h'"
                         ) from None
    if hours <= 0:
        raise InputError(f"{where}: {value!r} must be above 0; fix: give a positive time")
    return hours


def _unit_scale(where: Field, unit: str, target: str) -> float:
    try:
        return float(ureg.Quantity(1.0, unit or "dimensionless").to(target).magnitude)
    except (pint.errors.PintError, ValueError, TypeError, AttributeError, AssertionError):
        raise InputError(f"{where('unit')}: '{unit}' cannot be converted to {target}; fix: give a "
                         f"unit compatible with {target}") from None


def _mapping(where: Field, data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or not data:
        raise InputError(f"{where}: expected a mapping of {what}; fix: write one '{what[:-1]}: "
                         "...' entry per line")
    return data


def _parse(data: Any, source: str, model: Model) -> PopulationSpec:
    top = f"population '{source}'"
    if not isinstance(data, Mapping):
        raise InputError(f"{top}: the file is not a mapping of keys; fix: write keys such as "
                         "'name:', 'covariates:' and 'parameters:' at the top level")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise InputError(f"{top}, field '{unknown[0]}': unknown key; fix: use only "
                         f"{', '.join(sorted(_TOP_KEYS))}")
    for key in _REQUIRED:
        if key not in data:
            raise InputError(f"{top}, field '{key}': missing; fix: add '{key}:' (see "
                             "docs/population.md)")

    def field_(name: str) -> Field:
        return Field(top, name)

    from ..scenario import load_scenario

    try:
        scenario = load_scenario(str(data["scenario"]))
    except InputError as exc:
        raise InputError(f"{field_('scenario')}: {exc}") from None
    base = scenario.parameter_overrides(model)

    infection = _mapping(field_("infection"), data["infection"], "keys")
    for key in ("agent", "route", "amount"):
        if key not in infection:
            raise InputError(f"{field_('infection')}: needs '{key}'; fix: give agent, route and "
                             "amount (a distribution)")
    try:
        route = model.route(str(infection["agent"]), str(infection["route"]))
    except InputError as exc:  # the model names the agent or route at fault
        raise InputError(f"{field_('infection')}: {exc}") from None
    inoculum = parse_distribution(field_("infection.amount"), infection["amount"])
    if inoculum.unit:
        _unit_scale(field_("infection.amount"), inoculum.unit, route.dose_unit)

    covariates: dict[str, Distribution] = {}
    for name, entry in _mapping(field_("covariates"), data["covariates"], "covariates").items():
        covariates[str(name)] = parse_distribution(field_(f"covariates.{name}"), entry,
                                                   known=tuple(covariates))
    course: dict[str, Distribution] = {}
    scale: dict[str, float] = {}
    given = _mapping(field_("course"), data["course"], "times")
    if "incubation" in given:
        raise InputError(f"{field_('course.incubation')}: symptom onset is read from each "
                         "simulated course, not drawn; fix: declare course.onset {output, above, "
                         "source} and give the published incubation period as "
                         "course.onset.incubation (compared, never drawn)")
    onset = _onset(field_, given.get("onset"), model)
    for name in COURSE_TIMES:
        if name not in given:
            raise InputError(f"{field_('course')}: needs '{name}'; fix: declare "
                             f"{', '.join(COURSE_TIMES)}")
        where = field_(f"course.{name}")
        course[name] = parse_distribution(where, given[name])
        scale[name] = _unit_scale(where, course[name].unit or "h", "hour")
    extra = sorted(set(given) - {"onset", *COURSE_TIMES})
    if extra:
        raise InputError(f"{field_('course.' + str(extra[0]))}: unknown key; fix: use only "
                         f"onset, {', '.join(COURSE_TIMES)}")

    admission = _mapping(field_("admission"), data["admission"], "keys")
    hypoxaemia = _mapping(field_("admission.hypoxaemia"), admission.get("hypoxaemia"), "keys")
    output = str(hypoxaemia.get("output", ""))
    if output not in model.output_names:
        from ..scenario._schema import suggest

        raise InputError(f"{field_('admission.hypoxaemia.output')}: unknown read-out "
                         f"'{output}'; fix: {suggest(output, model.output_names)}")
    below = hypoxaemia.get("below")
    if isinstance(below, bool) or not isinstance(below, int | float):
        raise InputError(f"{field_('admission.hypoxaemia.below')}: {below!r} is not a number; "
                         "fix: give the threshold in the read-out's unit, e.g. 300")
    for key in ("latest", "followup"):
        if key not in admission:
            raise InputError(f"{field_('admission')}: needs '{key}'; fix: add e.g. '{key}: 21 d'")

    parameters = {str(name): _parse_parameter(field_(f"parameters.{name}"), str(name), entry,
                                              covariates, base, model)
                  for name, entry in _mapping(field_("parameters"), data["parameters"],
                                              "parameters").items()}
    for name, spec in parameters.items():
        if name in covariates and spec.covariate != name:
            raise InputError(f"{field_('parameters.' + name)}: '{name}' is also a covariate; fix: "
                             f"write '{name}: {{covariate: {name}}}' or rename the covariate")
    markers = _markers(field_("markers"), data["markers"], model)
    validation = _markers(field_("validation_markers"), data.get("validation_markers") or {},
                          model, allow_empty=True)
    duration = _hours(field_("duration"), data["duration"])
    latest = _hours(field_("admission.latest"), admission["latest"])
    followup = _hours(field_("admission.followup"), admission["followup"])
    if latest + followup > duration + 1e-9:
        raise InputError(f"{field_('duration')}: {duration / 24:g} d is shorter than the latest "
                         f"admission plus follow-up ({(latest + followup) / 24:g} d); fix: "
                         "lengthen the duration or shorten 'latest'/'followup'")
    return PopulationSpec(
        name=str(data["name"]), description=" ".join(str(data.get("description", "")).split()),
        scenario=str(data["scenario"]), infection_agent=str(infection["agent"]),
        infection_route=str(infection["route"]), inoculum=inoculum, duration_h=duration,
        sampling_h=_hours(field_("sampling"), data["sampling"]), covariates=covariates,
        course=course, course_scale_h=scale, **onset, hypoxaemia_output=output,
        hypoxaemia_below=float(below), hypoxaemia_source=str(hypoxaemia.get("source", "")),
        latest_admission_h=latest, followup_h=followup, parameters=parameters, markers=markers,
        validation_markers=validation, base_overrides=base,
        **_death_fraction(field_("death_fraction"), data.get("death_fraction")),
        plausible_sd=_plausible_sd(field_("plausible_sd"), data.get("plausible_sd")),
        source=source, raw=dict(data))


def _plausible_sd(where: Field, value: Any) -> float | None:
    """``plausible_sd: 3``: bound each varied parameter to that many prior SD (optional)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1.0 <= value <= 10.0:
        raise InputError(f"{where} = {value!r}; fix: give a number of prior standard deviations "
                         "between 1 and 10 (e.g. plausible_sd: 3), or remove it")
    return float(value)


def _death_fraction(where: Field, data: Any) -> dict[str, Any]:
    """``death_fraction: {value: 0.22, source: ...}``: the population's in-hospital death
    fraction, used by the calibration instead of the cohort's own (absent: the cohort's)."""
    if data is None:
        return {}
    example = "e.g. death_fraction: {value: 0.22, source: \"a representative cohort\"}"
    if not isinstance(data, Mapping) or set(data) - {"value", "source"}:
        raise InputError(f"{where}: expected a mapping with value and source; fix: {example}")
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise InputError(f"{where('value')}: {value!r} is not a fraction between 0 and 1; fix: "
                         f"{example}")
    source = str(data.get("source") or "").strip()
    if not source:
        raise InputError(f"{where('source')}: missing; fix: name the cohort the fraction comes "
                         f"from, {example}")
    return {"death_fraction": float(value), "death_fraction_source": source}


def _onset(field_, data: Any, model: Model) -> dict[str, Any]:
    """``course.onset``: symptom onset is the first time ``output`` reaches the patient's own
    threshold, drawn from ``above`` (a distribution in the read-out's unit)."""
    where = field_("course.onset")
    if data is None:
        raise InputError(f"{where}: missing; fix: declare how symptom onset is read from the "
                         "course, e.g. {output: viral_load, above: {distribution: lognormal, "
                         "median: 1.0e+6, gsd: 3, unit: virion/mL}, source: ...}")
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping with output, above and source; fix: see "
                         "docs/population.md")
    unknown = sorted(set(data) - set(ONSET_KEYS))
    if unknown:
        raise InputError(f"{field_('course.onset.' + str(unknown[0]))}: unknown key; fix: use "
                         f"only {', '.join(ONSET_KEYS)}")
    output = str(data.get("output", ""))
    if output not in model.output_names:
        from ..scenario._schema import suggest

        raise InputError(f"{field_('course.onset.output')}: unknown read-out '{output}'; fix: "
                         f"{suggest(output, model.output_names)}")
    if "above" not in data:
        raise InputError(f"{where}: needs 'above', the threshold distribution; fix: add e.g. "
                         "above: {distribution: lognormal, median: 1.0e+6, gsd: 3, unit: "
                         "virion/mL}")
    threshold = parse_distribution(field_("course.onset.above"), data["above"])
    unit = model.outputs[model.output_index[output]].unit
    onset_scale = _unit_scale(field_("course.onset.above"), threshold.unit or unit, unit)
    incubation, incubation_scale = None, 1.0
    if data.get("incubation") is not None:
        incubation = parse_distribution(field_("course.onset.incubation"), data["incubation"])
        incubation_scale = _unit_scale(field_("course.onset.incubation"),
                                       incubation.unit or "h", "hour")
    cases = data.get("incubation_cases")
    if cases is not None and (isinstance(cases, bool) or not isinstance(cases, int) or cases < 2
                              or incubation is None):
        raise InputError(f"{field_('course.onset.incubation_cases')} = {cases!r}; fix: give the "
                         "number of cases behind course.onset.incubation (a whole number of 2 "
                         "or more), or remove it")
    return {"onset_output": output, "onset_threshold": threshold, "onset_scale": onset_scale,
            "onset_source": str(data.get("source", "") or ""), "incubation": incubation,
            "incubation_scale_h": incubation_scale, "incubation_cases": cases}


def _parse_parameter(where: Field, name: str, entry: Any, covariates: Mapping[str, Distribution],
                     base: Mapping[str, float], model: Model) -> ParameterSpec:
    if name not in model.param_names:
        from ..scenario._schema import suggest

        raise InputError(f"{where}: unknown model parameter; fix: "
                         f"{suggest(name, model.param_names)}")
    if not isinstance(entry, Mapping):
        raise InputError(f"{where}: expected a mapping; fix: write {{covariate: age}}, "
                         "{value: 0.2, source: ...} or {distribution: lognormal, cv: 0.3, "
                         "source: ...}")
    entry = dict(entry)
    source = str(entry.get("source", "") or "")
    effects = entry.pop("effects", None) or {}
    if not isinstance(effects, Mapping):
        raise InputError(f"{where('effects')}: expected a mapping such as {{male: 0.7}}; "
                         "fix: write covariate: multiplier pairs")
    for covariate, factor in effects.items():
        if covariate not in covariates or covariates[covariate].kind != "bernoulli":
            yes_no = [c for c, d in covariates.items() if d.kind == "bernoulli"]
            raise InputError(f"{where('effects.' + str(covariate))}: not a yes/no covariate; "
                             f"fix: use one of {', '.join(yes_no) or '(none declared)'}")
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise InputError(f"{where('effects.' + str(covariate))}: {factor!r} is not a positive "
                             "multiplier; fix: give a number above 0")
    effects = {str(k): float(v) for k, v in effects.items()}
    declared_unit = model.parameter(name).unit
    if "covariate" in entry:
        covariate = str(entry["covariate"])
        if covariate not in covariates:
            raise InputError(f"{where('covariate')}: '{covariate}' is not declared under "
                             "covariates; fix: declare it or correct the name")
        extra = set(entry) - {"covariate", "source"}
        if extra:
            raise InputError(f"{where}: '{sorted(extra)[0]}' cannot be combined with covariate; "
                             "fix: set a parameter from a covariate or give it a distribution")
        scale = _unit_scale(where, covariates[covariate].unit, declared_unit)
        return ParameterSpec(name, covariate=covariate, covariate_scale=scale, effects=effects,
                             source=source)
    if "value" in entry:
        extra = set(entry) - {"value", "unit", "source"}
        if extra:
            raise InputError(f"{where}: '{sorted(extra)[0]}' cannot be combined with value; fix: "
                             "give one value for everyone or a distribution")
        value = entry["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InputError(f"{where('value')}: {value!r} is not a number of 0 or more; fix: "
                             "give the value in the declared unit")
        scale = _unit_scale(where, str(entry.get("unit") or declared_unit), declared_unit)
        return ParameterSpec(name, value=float(value) * scale, effects=effects, source=source)
    distribution = parse_distribution(where, entry, median_optional=True)
    median = distribution.values.get("median")
    if median is not None and distribution.unit:
        median = median * _unit_scale(where, distribution.unit, declared_unit)
    if median is None:
        median = base.get(name, model.parameter(name).value)
    return ParameterSpec(name, distribution=distribution, median=float(median), effects=effects,
                         source=source)


def _markers(where: Field, data: Any, model: Model, *, allow_empty: bool = False) -> dict[str, str]:
    from ..cohort._markers import MARKER_BY_NAME
    from ..scenario._schema import suggest

    if allow_empty and not data:
        return {}
    out = {}
    for marker, output in _mapping(where, data, "markers").items():
        if marker not in MARKER_BY_NAME:
            raise InputError(f"{where(str(marker))}: unknown cohort marker; fix: "
                             f"{suggest(str(marker), MARKER_BY_NAME)}")
        if output not in model.output_names:
            raise InputError(f"{where(str(marker))}: unknown read-out '{output}'; fix: "
                             f"{suggest(str(output), model.output_names)}")
        out[str(marker)] = str(output)
    return out
