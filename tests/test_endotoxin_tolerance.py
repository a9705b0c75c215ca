"""In-vivo endotoxin tolerance: five daily LPS challenges against Draisma 2009 (checked rows).

The rows are in ``il6sim/data/targets/endotoxin_tolerance.yaml``; no parameter is fitted to them.
The model fails them (strict expected failures below, with the values measured): its macrophage
tolerance is lost within hours, and slower processes make each day's response larger, not
smaller.
"""

from __future__ import annotations

import pytest

from il6sim.calibration import load_targets, run_target_scenarios
from il6sim.calibration.targets import DAY_H, _scenario_doses
from il6sim.errors import InputError

TARGETS = load_targets("endotoxin_tolerance")
#: Measured on main 2026-12-03 (reference backend): attenuation of the day-5 rise.
MEASURED = {"tolerance.day5_tnf": -0.36, "tolerance.day5_il6": -0.55,
            "tolerance.day5_il10": -1.56}


@pytest.fixture(scope="module")
def results(model):
    return run_target_scenarios(TARGETS, model=model)


def test_daily_challenges_are_one_bolus_a_day():
    doses = _scenario_doses("lps_2ngkg_daily5")
    assert [d.time_h for d in doses] == [DAY_H * day for day in range(5)]
    assert {(d.agent, d.amount) for d in doses} == {("lps", 2.0)}
    assert len(_scenario_doses("lps_4ngkg")) == 1
    with pytest.raises(InputError, match="lps_<dose>ngkg_daily<N>"):
        _scenario_doses("lps_2ngkg_weekly5")


def test_the_run_covers_the_last_day(results):
    run = results["lps_2ngkg_daily5"]
    assert run.time[-1] >= 5 * DAY_H - 1e-9


@pytest.mark.parametrize("target", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=(
        f"no lasting tolerance: the day-5 rise is {MEASURED[t.id]:+.2f} attenuated (negative: "
        "larger than day 1) against the published "
        f"{t.center:.2f}; macrophage tolerance is induced by the activated fraction and lost with "
        "t1/2 3 h (ex vivo tolerance of blood: Dillingh 2014; it resolves within 24 h, Kox M 2011 "
        "Crit Care Med 39:1866), while in vivo, where tissue macrophages carry it, it builds over "
        "five daily challenges (Draisma 2009)")))
    for t in TARGETS], ids=[t.id for t in TARGETS])
def test_tolerance_row_within_its_published_range(target, results):
    value = target.measure(results)
    assert target.low <= value <= target.high, f"{target.id} = {value:.3g}"
