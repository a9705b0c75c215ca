"""Named YAML data files shipped in ``il6sim/data/<kind>/`` (pathogens, drugs)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml

from .errors import InputError
from .limits import data_name_problem


def _folder(kind: str):
    return files("il6sim") / "data" / kind


def list_datafiles(kind: str) -> dict[str, str]:
    """``name → description`` of every ``data/<kind>/*.yaml`` file."""
    out = {}
    for entry in sorted(_folder(kind).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text())
            out[data["name"]] = data.get("description", "")
    return out


def read_datafile(kind: str, name: str, what: str) -> tuple[dict[str, Any], str]:
    """The parsed file ``data/<kind>/<name>.yaml`` and its file name; an unknown name is an
    :class:`InputError` suggesting the closest ``what`` (e.g. "drug")."""
    problem = data_name_problem(name, what)
    if problem:
        raise InputError(problem)
    resource = _folder(kind) / f"{name}.yaml"
    if not resource.is_file():
        from .scenario._schema import suggest

        raise InputError(f"unknown {what} '{name}'; fix: {suggest(name, list_datafiles(kind))}")
    return yaml.safe_load(resource.read_text()), resource.name
