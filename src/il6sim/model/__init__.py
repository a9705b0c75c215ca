"""The il6sim model: declarations, blocks and the built default model."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .blocks import CORE_BLOCKS
from .spec import Block, DoseRoute, Flux, Model, Output, Param, State, build_model, load_parameters

PARAMETER_DIR = Path(__file__).parent / "parameters"


def declared_parameters() -> list[Param]:
    """Every parameter declared in ``model/parameters/*.toml``."""
    return [p for path in sorted(PARAMETER_DIR.glob("*.toml")) for p in load_parameters(path)]


@lru_cache(maxsize=1)
def default_model() -> Model:
    """The full il6sim model, built once per process."""
    return build_model(CORE_BLOCKS, declared_parameters())


__all__ = [
    "Block",
    "DoseRoute",
    "Flux",
    "Model",
    "Output",
    "Param",
    "State",
    "build_model",
    "declared_parameters",
    "default_model",
    "load_parameters",
]
