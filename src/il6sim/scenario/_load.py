"""Loading scenarios from YAML files or presets, and running them.

Every problem with a scenario becomes one :class:`~il6sim.errors.InputError` line naming the
file and field, e.g. ``scenario 'x.yaml', field 'doses[0].amount': negative dose -2 ng/kg;
fix: give an amount of 0 or more``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import PrivateAttr, ValidationError

from .. import limits
from ..errors import Il6simError, InputError
from ..model import Model, default_model
from ._schema import (
    DoseSpec,
    ScenarioFieldError,
    ScenarioSpec,
    check_against_model,
    dose_amount,
    resolve_knockout,
    suggest,
)

#: Scenario keys that ``--set key=value`` changes directly (anything else is a parameter).
SETTABLE_KEYS = ("name", "description", "duration", "sampling", "targets")

_UNION_TAGS = {"float", "int", "str", "bool", "list", "dict", "none"}


class Scenario(ScenarioSpec):
    """A validated scenario: patient, knockouts, doses, duration and sampling.

    Make one with :func:`load_scenario` (a file or preset) or :meth:`from_dict`.
    """

    _source: str = PrivateAttr(default="<dict>")

    @property
    def source(self) -> str:
        """Where the scenario came from: a path, a preset name or ``<dict>``."""
        return self._source

    # ----- construction -----------------------------------------------------------------
    @classmethod
    def from_dict(
        cls, data: Any, *, source: str = "<dict>", model: Model | None = None
    ) -> Scenario:
        """Validate a scenario given as a mapping (as read from YAML).

        Raises
        ------
        InputError
            one line naming ``source``, the field at fault and the fix.
        """
        where = f"scenario '{source}'"
        if not isinstance(data, Mapping):
            kind = "empty" if data is None else f"a {type(data).__name__}"
            raise InputError(
                f"{where}: the file is {kind}, not a mapping of keys; "
                "fix: write keys such as 'name:', 'doses:' and 'duration:' at the top level"
            )
        try:
            scenario = cls.model_validate(dict(data))
        except ValidationError as exc:
            raise InputError(f"{where}, {_describe(exc)}") from None
        scenario._source = source
        scenario.check(model)
        return scenario

    def check(self, model: Model | None = None) -> None:
        """Check names and units against ``model`` (default: the default model)."""
        try:
            check_against_model(self, model or default_model())
            self._check_targets()
        except ScenarioFieldError as exc:
            raise self._error(exc) from None

    def _check_targets(self) -> None:
        if not self.targets:
            return
        try:
            from ..calibration.targets import load_targets
        except ImportError:  # overlays are skipped without the calibration package
            return
        try:
            load_targets(self.targets)
        except Il6simError as exc:
            raise ScenarioFieldError("targets", str(exc)) from None

    def _error(self, exc: ScenarioFieldError) -> InputError:
        return InputError(f"scenario '{self.source}', field '{exc.field}': {exc.message}")

    def with_overrides(
        self, overrides: Mapping[str, Any], *, model: Model | None = None
    ) -> Scenario:
        """A copy with ``key=value`` changes, as given by ``il6sim simulate --set``.

        Keys in :data:`SETTABLE_KEYS` change the scenario itself; ``knockouts`` takes a
        comma-separated list that is added; any other key is a parameter override. Values that
        read as numbers are numbers (in the parameter's declared unit); others keep their unit.
        """
        data = self.to_dict()
        for key, value in overrides.items():
            if key in ("duration", "sampling"):
                data[key] = _number_or_text(value)
            elif key in SETTABLE_KEYS:
                data[key] = value
            elif key == "knockouts":
                data["knockouts"] = [*data["knockouts"],
                                     *[k.strip() for k in str(value).split(",") if k.strip()]]
            else:
                data["patient"][key] = _number_or_text(value)
        scenario = type(self).from_dict(data, source=self.source, model=model)
        return scenario

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (JSON- and YAML-safe)."""
        return self.model_dump(mode="json")

    # ----- what the engine needs ----------------------------------------------------------
    def parameter_overrides(self, model: Model | None = None) -> dict[str, float]:
        """Patient overrides in declared units, with each knockout's switch set to 0."""
        model = model or default_model()
        values = {}
        if self.pathogen is not None:
            from ._pathogens import pathogen_parameters

            values.update({name: model.convert_parameter(name, v)
                           for name, v in pathogen_parameters(self.pathogen).items()})
        values.update({name: model.convert_parameter(name, v) for name, v in self.patient.items()})
        for i, name in enumerate(self.knockouts):
            try:
                values[resolve_knockout(model, name, f"knockouts[{i}]")] = 0.0
            except ScenarioFieldError as exc:
                raise self._error(exc) from None
        return values

    def dose_table(self, model: Model | None = None) -> pd.DataFrame:
        """The doses as a table (``time_h, agent, route, amount, unit``) in each route's unit."""
        model = model or default_model()
        rows = []
        for i, dose in enumerate(self.doses):
            amount, unit = dose_amount(model, dose, f"doses[{i}]")
            rows.append({"time_h": dose.time_h, "agent": dose.agent, "route": dose.route,
                         "amount": amount, "unit": unit})
        table = pd.DataFrame(rows, columns=["time_h", "agent", "route", "amount", "unit"])
        if self.treatment is None:
            return table
        from ..pharmacology import expand_regimen

        weight = self.parameter_overrides(model).get(
            "body_weight", model.parameter("body_weight").value
        )
        treatment = expand_regimen(
            self.treatment.regimen_or_schedule(), weight_kg=weight,
            start_h=self.treatment.start_h, until_h=self.duration_h,
        )
        return pd.concat([table, treatment[table.columns]], ignore_index=True)

    def with_treatment(self, regimen: str | None, start: str | float = "0 h") -> Scenario:
        """A copy treated with ``regimen`` (a label regimen or a drug's name) from ``start``;
        ``regimen=None`` gives the untreated copy."""
        data = self.to_dict()
        data["treatment"] = None if regimen is None else {"regimen": regimen, "start": start}
        return type(self).from_dict(data, source=self.source)

    def run(self, model: Model | None = None, **kwargs: Any):
        """Simulate the scenario for one patient.

        Parameters
        ----------
        model : the model to use (default: :func:`il6sim.default_model`).
        **kwargs : passed on to :func:`il6sim.engine.simulate` (e.g. ``rtol``).

        Returns
        -------
        SimulationResult
            with ``settings['scenario']`` (the name) and ``settings['scenario_definition']``.
        """
        from ..engine import simulate

        model = model or default_model()
        self.check(model)
        settings = {"scenario": self.name, "scenario_definition": self.to_dict(),
                    **kwargs.pop("settings", {})}
        return simulate(
            self.parameter_overrides(model), self.dose_table(model), t_end=self.duration_h,
            dt=self.sampling_h, model=model, settings=settings, **kwargs,
        )

    def load_targets(self) -> list[Any] | None:
        """The targets named by ``targets:`` that apply to this scenario, for plot overlays.

        Kept: targets at rest (``scenario: rest``), targets for this scenario's name (or
        ``preset:<name>``), and
        targets for the same single LPS dose (``scenario: lps_2ngkg`` or ``dose_ngkg: 2``).
        ``None`` when no target set is named or the calibration package is not available.
        """
        if not self.targets:
            return None
        try:
            from ..calibration.targets import load_targets
        except ImportError:
            return None
        return [t for t in load_targets(self.targets) if self._target_applies(t)]

    def _lps_dose_ngkg(self) -> float | None:
        lps = [d for d in self.doses if d.agent == "lps"]
        if len(lps) != 1 or lps[0].time_h != 0:
            return None
        try:
            amount, unit = dose_amount(default_model(), lps[0], "doses[0]")
        except (ScenarioFieldError, Il6simError):
            return None
        return amount if unit == "ng/kg" else None

    def _target_applies(self, target: Any) -> bool:
        dose = self._lps_dose_ngkg()
        target_dose = getattr(target, "dose_ngkg", None)
        scenario = getattr(target, "scenario", None)
        if target_dose is None and isinstance(scenario, str):
            match = re.fullmatch(r"lps_(\d+(?:\.\d+)?)ngkg", scenario)
            if match:
                target_dose = float(match.group(1))
            elif scenario.removeprefix("preset:") not in ("rest", self.name):
                return False
        if target_dose is None:
            return True
        return dose is not None and abs(float(target_dose) - dose) <= 1e-9 * max(1.0, dose)


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.strip()
    return value


# ----- pydantic errors as one line ----------------------------------------------------------
def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in _UNION_TAGS or "[" in str(part):
            break
        else:
            text += f".{part}" if text else str(part)
    return text


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    if len(loc) > 1 and loc[0] == "doses":
        return list(DoseSpec.model_fields)
    return list(ScenarioSpec.model_fields)


def _field_hint(loc: tuple[Any, ...]) -> str:
    is_dose = len(loc) > 1 and loc[0] == "doses"
    fields = DoseSpec.model_fields if is_dose else ScenarioSpec.model_fields
    key = next((p for p in reversed(loc) if isinstance(p, str) and p in fields), None)
    return (fields[key].description or "") if key else ""


def _describe(exc: ValidationError) -> str:
    """``field '<path>': <problem>; fix: <fix>`` for the first error of a validation."""
    errors = exc.errors(include_url=False)
    # an unknown key usually explains a "missing" one (a typo), so report it first
    first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    loc = tuple(first["loc"])
    field = _location(loc) or "<top level>"
    kind = first["type"]
    if kind.startswith("il6sim"):
        problem = first["msg"]
    elif kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _allowed_keys(loc), n=1, cutoff=0.5)
        fix = (f"did you mean '{close[0]}'?" if close
               else suggest(key, _allowed_keys(loc), what="the keys"))
        problem = f"unknown key; fix: {fix}"
    elif kind == "missing":
        hint = _field_hint(loc)
        problem = f"required key is missing; fix: add '{loc[-1]}:'" + (f" ({hint})" if hint else "")
    else:
        same = [e for e in errors if _location(tuple(e["loc"])) == _location(loc)]
        expected = {
            "list_type": "a list, e.g. [il6, crp]",
            "dict_type": "a mapping of name: value",
            "string_type": "text",
            "model_type": "a mapping of keys",
        }.get(kind)
        if expected is None and len(same) > 1:
            expected = "a number or text with a unit"
        expected = expected or first["msg"].lower()
        hint = _field_hint(loc)
        if loc[0] == "patient" and len(loc) > 1:
            hint = "a number in the parameter's declared unit, or text with a unit such as '70 kg'"
        problem = (f"expected {expected}, got {first['input']!r}; fix: give "
                   + (hint if hint else expected))
    more = len({_location(tuple(e["loc"])) for e in errors}) - 1
    tail = f" ({more} more problem(s) after this one)" if more else ""
    return f"field '{field}': {problem}{tail}"


# ----- files and presets -----------------------------------------------------------------
class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key given twice in one mapping, and a document that
    expands (through aliases) to more than :data:`~il6sim.limits.MAX_YAML_NODES` nodes."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node


def _check_expanded_size(root: yaml.Node) -> None:
    """Count the nodes of ``root`` as if every alias were copied out (an alias "bomb" of a few
    lines expands to billions); refuse more than ``MAX_YAML_NODES`` or a node that contains
    itself."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise yaml.YAMLError("a node refers to itself through an alias")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = total
        if total > limits.MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"the file expands to more than {limits.MAX_YAML_NODES:,} values through its "
                "aliases (*name)")
        return total

    size(root)


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(text: str, source: str, *, what: str = "scenario") -> Any:
    """Parse YAML text; a syntax error becomes one line naming ``what`` and ``source`` with its
    line and column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        fix = ("keep only one of them" if "given twice" in problem
               else "check the indentation, colons and quotes there")
        raise InputError(
            f"{what} '{source}'{where}: invalid YAML ({problem}); fix: {fix}"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(
            f"{what} '{source}': invalid YAML ({exc}); fix: write the values out instead of "
            "repeating aliases (*name), or check the file"
        ) from None
    except RecursionError:
        raise InputError(
            f"{what} '{source}': invalid YAML (nested too deeply); fix: flatten the file"
        ) from None


def _preset_dir():
    return files("il6sim") / "presets"


def _preset_paths() -> dict[str, Any]:
    return {
        entry.name.rsplit(".", 1)[0]: entry
        for entry in _preset_dir().iterdir()
        if entry.name.endswith((".yaml", ".yml"))
    }


def list_presets() -> dict[str, str]:
    """The built-in scenarios: preset name → description, sorted by name."""
    presets = {}
    for name, entry in sorted(_preset_paths().items()):
        data = read_yaml(entry.read_text(encoding="utf-8"), name)
        presets[name] = str(data.get("description", "")) if isinstance(data, Mapping) else ""
    return presets


def load_scenario(scenario: str | Path, *, model: Model | None = None) -> Scenario:
    """Load a scenario from a YAML file or by preset name (see :func:`list_presets`).

    Parameters
    ----------
    scenario : a path to a ``.yaml`` file, or the name of a preset such as ``'healthy'``.
    model : the model to check names and units against (default: the default model).

    Raises
    ------
    InputError
        for a missing file, an unknown preset, invalid YAML or an invalid field.
    """
    text = str(scenario)
    path = Path(scenario)
    if path.is_file():
        problem = limits.file_size_problem(path.stat().st_size, f"scenario '{text}'")
        if problem:
            raise InputError(problem)
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"scenario '{text}' cannot be read ({exc}); fix: check the file"
            ) from None
        return Scenario.from_dict(read_yaml(content, text), source=text, model=model)
    presets = _preset_paths()
    if text in presets:
        content = presets[text].read_text(encoding="utf-8")
        return Scenario.from_dict(read_yaml(content, text), source=text, model=model)
    if path.suffix in (".yaml", ".yml") or "/" in text or "\\" in text:
        raise InputError(
            f"scenario file '{text}' does not exist; fix: check the path, or use a preset "
            f"({', '.join(sorted(presets))})"
        )
    raise InputError(
        f"unknown preset '{text}' (and no such file); fix: "
        f"{suggest(text, presets, what='a YAML file or one of the presets')}"
    )
