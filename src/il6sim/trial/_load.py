"""Finding and reading trial files: shipped names (``il6sim/data/trials``) or YAML paths."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ..errors import InputError
from ..limits import file_size_problem
from ..scenario import read_yaml
from ..scenario._schema import suggest, suggest_all
from ._design import TrialSpec

__all__ = ["list_trials", "load_trial"]


def _folder():
    return files("il6sim") / "data" / "trials"


def list_trials() -> dict[str, str]:
    """Shipped trial files: ``{name: title}``."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = read_yaml(entry.read_text(encoding="utf-8"), entry.name, what="trial")
            out[entry.name.removesuffix(".yaml")] = str(data.get("title", ""))
    return out


def describe_validation(exc: ValidationError) -> str:
    """``field '<path>': <problem>; fix: ...`` for the first problem of a validation."""
    errors = exc.errors(include_url=False)
    first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    field = _path(first["loc"])
    kind = first["type"]
    deeper = (first.get("ctx") or {}).get("field")  # a problem deeper than its validator
    if deeper is not None:
        outer = _path(first["loc"]) if first["loc"] else ""
        field = deeper if not outer or deeper.startswith(outer) else f"{outer}.{deeper}"
    if kind.startswith("il6sim"):
        problem = first["msg"]
    elif kind == "extra_forbidden":
        keys = _allowed_keys(tuple(first["loc"]))
        problem = (f"unknown key; fix: {suggest_all(str(first['loc'][-1]), keys)} "
                   "(docs/trials.md)" if keys else
                   "unknown key; fix: remove it or check its spelling (docs/trials.md)")
    elif kind == "missing":
        problem = f"required key is missing; fix: add '{first['loc'][-1]}:'"
    else:
        problem = f"{first['msg'].lower()} (got {first.get('input')!r}); fix: correct that value"
    return f"field '{field}': {problem}"


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys the model at ``loc[:-1]`` accepts (``("arms", 1, "colour")`` → an arm's)."""
    model: Any = TrialSpec
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = None if field is None else _model_in(field.annotation)
    return sorted(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``list[Arm]``, ``Arm | None``, ...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _path(loc: tuple) -> str:
    """``background[0].fraction`` for the location ``("background", 0, "fraction")``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "<top level>"


def trial_from_dict(data: Any, source: str = "<dict>") -> TrialSpec:
    """Validate a trial given as a mapping; one-line :class:`InputError` on a problem."""
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise InputError(f"trial '{source}' is {kind}, not a mapping of keys; fix: start from "
                         "a shipped trial (il6sim trial --list)")
    try:
        spec = TrialSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise InputError(f"trial '{source}', {describe_validation(exc)}") from None
    spec._source = source
    return spec


def load_trial(trial: str | Path | Mapping[str, Any]) -> TrialSpec:
    """A trial design from a shipped name (``"recovery-tocilizumab"``), a YAML path or a
    mapping.

    Raises
    ------
    InputError
        unknown name, unreadable file, invalid YAML or an invalid field (one line naming it).
    """
    if isinstance(trial, Mapping):
        return trial_from_dict(trial)
    text = str(trial)
    path = Path(text)
    if path.is_file():
        problem = file_size_problem(path.stat().st_size, f"trial '{text}'")
        if problem:
            raise InputError(problem)
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read trial file '{text}' ({exc}); fix: give a readable "
                             "UTF-8 YAML file") from None
        return trial_from_dict(read_yaml(content, text, what="trial"), text)
    shipped = _folder() / f"{text}.yaml"
    if "/" not in text and not text.endswith((".yaml", ".yml")) and shipped.is_file():
        return trial_from_dict(read_yaml(shipped.read_text(encoding="utf-8"), text,
                                         what="trial"), text)
    if path.suffix in (".yaml", ".yml") or "/" in text:
        raise InputError(f"trial file '{text}' does not exist; fix: check the path")
    raise InputError(f"unknown trial '{text}'; fix: {suggest(text, list_trials())}")
