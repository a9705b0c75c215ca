"""Small helpers shared by the sections: run a preset variant, read a statistic off a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DAY", "at", "peak", "preset", "run", "targets_table", "time_of_peak", "trough"]

DAY = 24.0


def preset(name: str, overrides: Mapping[str, Any] | None = None):
    """A shipped scenario, with ``--set``-style overrides (duration, knockouts, parameters)."""
    from ...scenario import load_scenario

    scenario = load_scenario(name)
    return scenario.with_overrides(dict(overrides)) if overrides else scenario


def run(scenario, settings, treatment: tuple[str, float] | None = None):
    """Simulate ``scenario`` (optionally treated with ``(regimen, start_day)``)."""
    if treatment is not None:
        scenario = scenario.with_treatment(treatment[0], f"{treatment[1]} d")
    return scenario.run(backend=settings.backend)


def peak(result, name: str, patient: int = 0) -> float:
    return float(np.nanmax(result.output(name)[patient]))


def trough(result, name: str, patient: int = 0) -> float:
    return float(np.nanmin(result.output(name)[patient]))


def time_of_peak(result, name: str, patient: int = 0) -> float:
    """Hours from the start to the peak."""
    return float(result.time[int(np.nanargmax(result.output(name)[patient]))])


def at(result, name: str, hours: float, patient: int = 0) -> float:
    """The read-out at ``hours`` (linear interpolation)."""
    return float(np.interp(hours, result.time, result.output(name)[patient]))


def targets_table(rows: list[dict], targets: list) -> pd.DataFrame:
    """Calibration rows (:func:`il6sim.calibration.evaluate_targets`) as a display table."""
    by_id = {t.id: t for t in targets}
    return pd.DataFrame({
        "target": [r["id"] for r in rows],
        "read-out": [by_id[r["id"]].output for r in rows],
        "statistic": [by_id[r["id"]].statistic for r in rows],
        "model": [r["value"] for r in rows],
        "accepted range": [f"{r['low']:g}–{r['high']:g}" for r in rows],
        "within": [bool(r["passes"]) for r in rows],
        "source": [r["source"] for r in rows],
    })
