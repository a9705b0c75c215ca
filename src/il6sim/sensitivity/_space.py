"""Which parameters are uncertain and over what range (the input space of a sensitivity study).

A parameter's TOML declaration may give ``range = [low, high]`` (its justification is in its
source); ``ranges`` in ``il6sim/data/sensitivity.yaml`` gives narrower ranges for well-measured
resting physiology. Otherwise the range is ``value / f`` to ``value × f``, with the factor
``f`` of its kind from ``il6sim/data/sensitivity.yaml``: a "model assumption", a calibrated
value, or a literature value. Switches, covariates, conventions and drug-file values are not varied.
Ranges are sampled uniformly in log10 (a rate known to a factor is as likely halved as doubled).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import yaml

from ..errors import InputError
from ..model import Model, default_model
from ..model.spec import Param


@dataclass(frozen=True)
class Uncertain:
    """One varied parameter: its name, range in its declared unit and where the range is from."""

    name: str
    low: float
    high: float
    basis: str

    @property
    def log_bounds(self) -> tuple[float, float]:
        return float(np.log10(self.low)), float(np.log10(self.high))


@cache
def _rules() -> dict:
    return yaml.safe_load((files("il6sim") / "data" / "sensitivity.yaml").read_text())


def kind(param: Param) -> str:
    """``calibrated``, ``model_assumption`` or ``literature`` from the declaration's source."""
    source = param.source.lower()
    if source.startswith("calibrated"):
        return "calibrated"
    if "assumption" in source:
        return "model_assumption"
    return "literature"


def _fixed(param: Param, rules: dict) -> bool:
    fixed = rules["fixed"]
    source = param.source.lower()
    return (param.block in fixed["blocks"] or param.name in fixed["names"]
            or any(source.startswith(s) for s in fixed["sources"]) or param.value <= 0)


def parameter_space(model: Model | None = None, names: list[str] | None = None
                    ) -> list[Uncertain]:
    """The uncertain parameters (all of them, or ``names``) with their ranges."""
    model = model or default_model()
    rules = _rules()
    chosen = []
    for param in model.parameters:
        if names is not None and param.name not in names:
            continue
        declared = param.range or rules.get("ranges", {}).get(param.name)
        if declared is not None:
            low, high = (float(v) for v in declared)
            if low <= 0:
                raise InputError(f"parameter '{param.name}' range [{low:g}, {high:g}] reaches "
                                 "0 or below; fix: give a positive range (ranges are log-scaled)")
            chosen.append(Uncertain(param.name, low, high, "declared range"))
        elif not _fixed(param, rules) or (names is not None and param.value > 0):
            factor = float(rules["factors"][kind(param)])
            chosen.append(Uncertain(param.name, param.value / factor, param.value * factor,
                                    f"{kind(param).replace('_', ' ')}: ×/÷ {factor:g}"))
    if names is not None:
        missing = sorted(set(names) - {u.name for u in chosen})
        if missing:
            raise InputError(f"unknown or non-positive parameters {missing}; fix: use names from "
                             "`il6sim model` with a value above 0")
    return chosen
