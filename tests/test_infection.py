"""Infection presets: each runs without solver failure and stays non-negative, and every
published time-course target (il6sim/data/targets/infection.yaml) is met within its range."""

from __future__ import annotations

import numpy as np
import pytest

from il6sim.calibration import load_targets, run_target_scenarios
from il6sim.scenario import list_presets, load_scenario

INFECTION_PRESETS = [
    "bacterial-pneumonia",
    "bacterial-sepsis",
    "influenza",
    "covid19-mild",
    "covid19-severe",
    "hiv-chronic",
]
TARGETS = load_targets("infection")


def test_all_infection_presets_are_shipped():
    assert set(INFECTION_PRESETS) <= set(list_presets())


@pytest.fixture(scope="module")
def preset_runs():
    return {name: load_scenario(name).run() for name in INFECTION_PRESETS}


@pytest.mark.parametrize("name", INFECTION_PRESETS)
def test_preset_runs_at_least_28_days_and_stays_non_negative(preset_runs, name):
    result = preset_runs[name]
    assert result.status == ["ok"], result.status
    assert result.time[-1] >= 28 * 24
    scale = np.nanmax(np.abs(result.states), axis=1, keepdims=True)
    assert np.all(result.states >= -1e-6 * np.maximum(scale, 1e-9)), name


@pytest.fixture(scope="module")
def target_runs():
    return run_target_scenarios(TARGETS)


@pytest.mark.parametrize("target", TARGETS, ids=[t.id for t in TARGETS])
def test_infection_target(target, target_runs):
    value = target.measure(target_runs)
    assert target.low <= value <= target.high, (
        f"{target.id} = {value:.4g}, published range [{target.low:g}, {target.high:g}] "
        f"({target.source})"
    )
