"""Every calibration target (healthy baseline, human endotoxemia) within its published range.

The ranges and sources are in ``il6sim/data/targets/endotoxemia.yaml``; the fitted parameters
name these target ids in ``calibrated_to`` and are refitted by ``scripts/calibrate_endotoxemia.py``.
"""

from __future__ import annotations

import pytest

from il6sim.calibration import load_targets, run_target_scenarios

TARGETS = load_targets("endotoxemia")


@pytest.fixture(scope="module")
def scenario_results(model):
    return run_target_scenarios(TARGETS, model=model)


@pytest.mark.parametrize("target", TARGETS, ids=[t.id for t in TARGETS])
def test_calibration_target(target, scenario_results):
    value = target.measure(scenario_results)
    assert target.low <= value <= target.high, (
        f"{target.id} = {value:.4g}, published range [{target.low:g}, {target.high:g}] "
        f"({target.source})"
    )


def test_il6_peak_rises_with_the_endotoxin_dose(model):
    """Suffredini 1999 J Infect Dis 179:1278: dose-related rises across 1, 2 and 4 ng/kg."""
    from helpers import run_with

    peaks = [run_with({}, dose_ngkg=d, t_end=8.0).output("il6").max() for d in (1.0, 2.0, 4.0)]
    assert peaks[0] < peaks[1] < peaks[2]


def test_lymph_free_return_to_rest_within_two_days(endotoxemia):
    """After the response every cytokine is back within 2-fold of rest by 48 h."""
    for name in ("il6", "tnf", "il10", "il1b"):
        trace = endotoxemia.output(name)[0]
        assert trace[-1] < 2 * trace[0], name
