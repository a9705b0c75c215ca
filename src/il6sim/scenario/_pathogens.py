"""Pathogen profiles: cited parameter values for one pathogen, kept as data.

A profile (``il6sim/data/pathogens/<name>.yaml``) lists parameter values with units and sources.
A scenario names it with ``pathogen: <name>``; the profile's values apply first and the
scenario's ``patient`` overrides apply on top, so host and pathogen stay separate.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .._datafiles import list_datafiles, read_datafile


def list_pathogens() -> dict[str, str]:
    """Shipped pathogen profiles: name → description."""
    return list_datafiles("pathogens")


@cache
def pathogen_parameters(name: str) -> dict[str, Any]:
    """The parameter values (``"value unit"`` strings or numbers) of a pathogen profile."""
    data, _ = read_datafile("pathogens", name, "pathogen")
    return {key: entry["value"] for key, entry in data["parameters"].items()}
