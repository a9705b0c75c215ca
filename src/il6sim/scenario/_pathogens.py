"""Pathogen profiles: cited parameter values for one pathogen, kept as data.

A profile (``il6sim/data/pathogens/<name>.yaml``) lists parameter values with units and sources.
A scenario names it with ``pathogen: <name>``; the profile's values apply first and the
scenario's ``patient`` overrides apply on top, so host and pathogen stay separate.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from ..errors import InputError


def _folder():
    return files("il6sim") / "data" / "pathogens"


def list_pathogens() -> dict[str, str]:
    """Shipped pathogen profiles: name → description."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text())
            out[data["name"]] = data.get("description", "")
    return out


@cache
def pathogen_parameters(name: str) -> dict[str, Any]:
    """The parameter values (``"value unit"`` strings or numbers) of a pathogen profile."""
    resource = _folder() / f"{name}.yaml"
    if not resource.is_file():
        from ._schema import suggest

        raise InputError(f"unknown pathogen '{name}'; fix: {suggest(name, list_pathogens())}")
    data = yaml.safe_load(resource.read_text())
    return {key: entry["value"] for key, entry in data["parameters"].items()}
