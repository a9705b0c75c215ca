"""Finding and reading trial files: shipped names (``il6sim/data/trials``) or YAML paths."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..limits import file_size_problem
from ..scenario import read_yaml
from ..scenario._schema import suggest
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
    field = (first.get("ctx") or {}).get("field", field)  # a problem deeper than its validator
    if kind.startswith("il6sim"):
        problem = first["msg"]
    elif kind == "extra_forbidden":
        problem = "unknown key; fix: remove it or check its spelling (docs/trials.md lists keys)"
    elif kind == "missing":
        problem = f"required key is missing; fix: add '{first['loc'][-1]}:'"
    else:
        problem = f"{first['msg'].lower()} (got {first.get('input')!r}); fix: correct that value"
    return f"field '{field}': {problem}"


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
        return TrialSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise InputError(f"trial '{source}', {describe_validation(exc)}") from None


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
