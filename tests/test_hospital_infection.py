"""Hospital-acquired bacterial infection (HAI) as an event: the hazard's dependence on each state
against its target (data/targets/hospital_infection.yaml), the event path (the onset becomes an
inoculum and the course after it changes; no onset, no change), seeded counts per arm, the
design key's errors, and the checked targets on a small RECOVERY-tocilizumab run."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
import yaml

from il6sim.clinical import _hai as hai
from il6sim.clinical import hai_hazard, hai_onset
from il6sim.clinical._secondary import IL6_DEFENCE_WEIGHT
from il6sim.engine import simulate
from il6sim.engine.results import SimulationResult
from il6sim.errors import InputError
from il6sim.model import default_model
from il6sim.trial import TrialTask, load_trial
from il6sim.trial._hai import HaiPlan, with_hai

TARGETS = {row["id"]: row for row in yaml.safe_load(
    (files("il6sim") / "data" / "targets" / "hospital_infection.yaml").read_text())["targets"]}
SHIPPED = load_trial("recovery-tocilizumab")


def design(**changes) -> dict:
    """The RECOVERY-tocilizumab design without its control-risk calibration, changed."""
    data = SHIPPED.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("anchor_control_risk", None)
    data.update(changes)
    return data


def course(pf=400.0, lymphocytes=2.0, signal=1.0, gc=0.0, hours=48.0) -> SimulationResult:
    """One constructed patient holding the given state for ``hours`` (hourly grid)."""
    time = np.arange(0.0, hours + 1.0)
    names = ["pf_ratio", "lymphocytes", "classic_signal_leukocytes"]
    outputs = np.empty((1, len(time), 3))
    outputs[..., 0], outputs[..., 1], outputs[..., 2] = pf, lymphocytes, signal
    outputs[0, 0, 2] = 1.0  # the resting signal at the first time
    states = np.full((1, len(time), 1), gc)
    return SimulationResult(time=time, outputs=outputs, states=states,
                            parameters=np.zeros((1, 0)), output_names=names,
                            output_units=["mmHg", "cell/nL", "1"], state_names=["gc_response"],
                            param_names=[], status=["ok"], doses=pd.DataFrame())


def daily(result: SimulationResult) -> float:
    """The hazard per day at the last time."""
    return float(hai_hazard(result)[0, -1] * 24.0)


# ----------------------------------------------------------------------------- the hazard
def test_fitted_constants_follow_their_target_rows():
    ward = TARGETS["hai.ward_rate"]
    assert pytest.approx(-np.log(1 - ward["center"]) / 10.6, rel=0.01) == hai.WARD_PER_DAY
    assert pytest.approx(TARGETS["hai.vap_rate"]["center"] / 1000) == hai.VENTILATOR_PER_DAY
    assert pytest.approx(
        TARGETS["hai.dexamethasone_ratio"]["center"]) == 1 + hai.GLUCOCORTICOID_WEIGHT * 0.86
    assert pytest.approx(TARGETS["hai.lymphopenia_ratio"]["center"]) == 1 + hai.LYMPHOPENIA_WEIGHT
    for row in TARGETS.values():
        assert row["role"] in ("fitted", "checked") and row["low"] <= row["center"] <= row["high"]


def test_hazard_off_the_ventilator_and_on_it():
    assert daily(course()) == pytest.approx(hai.WARD_PER_DAY)
    on = daily(course(pf=120.0))  # below the intubation threshold: on the ventilator
    assert on == pytest.approx(hai.WARD_PER_DAY + hai.VENTILATOR_PER_DAY)
    per_1000 = (on - hai.WARD_PER_DAY) * 1000
    row = TARGETS["hai.vap_rate"]
    assert row["low"] <= per_1000 <= row["high"]


@pytest.mark.parametrize(("state", "target", "expected"), [
    ({"signal": 0.0}, "hai.il6_blockade_ratio_ra", 1 + IL6_DEFENCE_WEIGHT),
    ({"gc": 0.86}, "hai.dexamethasone_ratio", None),
    ({"lymphocytes": 0.6}, "hai.lymphopenia_ratio", None),
])
def test_each_suppression_raises_the_hazard_by_its_target(state, target, expected):
    ratio = daily(course(**state)) / daily(course())
    row = TARGETS[target]
    if expected is not None:  # the deficit weight is the RA one; full blockade gives 1.81
        assert ratio == pytest.approx(expected)
    else:
        assert row["low"] <= ratio <= row["high"]
        assert ratio == pytest.approx(row["center"], rel=1e-6)


def test_the_device_counts_from_48_hours_of_ventilation():
    hazard = hai_hazard(course(pf=120.0, hours=96.0))[0] * 24.0
    assert hai.VAP_AFTER_H == 48.0
    np.testing.assert_allclose(hazard[:48], hai.WARD_PER_DAY)
    np.testing.assert_allclose(hazard[48:], hai.WARD_PER_DAY + hai.VENTILATOR_PER_DAY)


def test_no_hazard_after_death_or_discharge_and_the_onset():
    result = course(hours=96.0)
    hazard = hai_hazard(result, death_h=np.array([24.0]))
    assert hazard[0, 24:].max() == 0.0 and hazard[0, :24].min() > 0.0
    hazard = hai_hazard(result)
    total = float((hazard[0, 1:]).sum())  # hourly grid
    onsets = hai_onset(np.vstack([hazard, hazard]), result.time, np.array([total / 2, 1e9]))
    assert 40.0 <= onsets[0] <= 56.0 and np.isnan(onsets[1])


# ----------------------------------------------------------------------------- the event path
def test_onset_becomes_an_inoculum_and_nothing_changes_without_one():
    """Two healthy patients from rest; one whose hazard fires early, one that never fires."""
    model = default_model()
    plan = HaiPlan.make(load_trial(design(hospital_infection={})), model)
    params = pd.DataFrame({"body_weight": [70.0, 70.0]})

    def run(table, doses, initial):
        return simulate(table, doses, t_end=96.0, dt=1.0, initial_states=initial)

    first = run(params, None, None)
    states = first.states[:, 0, :]
    result, columns = plan.apply(
        first, params, None, states, threshold=np.array([1e-4, np.inf]),
        threshold_left=np.array([np.inf, np.inf]), rest=first.output(
            "classic_signal_leukocytes")[:, 0], keep_pathogen=np.zeros(2, bool),
        mortality_h=96.0, simulate_again=run)
    assert columns["hospital_infection"].tolist() == [1.0, 0.0]
    onset = columns["hai_day"].iloc[0] * 24.0
    assert 0.0 < onset < 12.0
    before = result.time < onset - 1e-9
    np.testing.assert_allclose(result.outputs[0][before], first.outputs[0][before], rtol=1e-4,
                               atol=1e-9)
    bacteria = result.output("bacteria_site")[0]
    assert first.output("bacteria_site")[0].max() < 1.0 and bacteria.max() >= 1e5
    assert result.output("crp")[0].max() > 2 * first.output("crp")[0].max()
    assert result.output("antibiotic_level")[0].max() > 1.0  # usual-care antibiotic given
    np.testing.assert_array_equal(result.outputs[1], first.outputs[1])  # no onset: unchanged
    assert columns["died_without_hai"].tolist() == [0.0, 0.0]
    ends = with_hai(pd.DataFrame({"status": ["ok", "ok"], "secondary_infection": [0.0, 0.0],
                                  "secondary_infection_probability": [0.0, 0.0]}), columns, 96.0)
    assert ends["secondary_infection"].tolist() == [1.0, 0.0]


# ----------------------------------------------------------------------------- in a trial
@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return TrialTask(load_trial(design(hospital_infection={})))(np.arange(400))


def test_seeded_counts_per_arm(rows):
    enrolled = rows[rows["enrolled"]]
    counts = {arm: int(enrolled[f"hospital_infection@{arm}"].sum())
              for arm in ("usual care", "tocilizumab")}
    # under the fitted death hazard (clinical._death), the population calibrated on death
    # probability with prior death thresholds and the published support mix (each candidate
    # enrols only in its drawn stratum), 400 candidates give 53 randomised since P/F is read from
    # the shunt equation (2026-12-03; 22 before, when fewer patients reached the oxygen stratum)
    assert len(enrolled) == 53, len(enrolled)
    assert counts == {"usual care": 17, "tocilizumab": 17}, counts
    again = TrialTask(load_trial(design(hospital_infection={})))(np.arange(200, 400))
    pd.testing.assert_series_equal(
        again["hospital_infection@tocilizumab"].reset_index(drop=True),
        rows["hospital_infection@tocilizumab"].iloc[200:].reset_index(drop=True))
    infected = enrolled[enrolled["hospital_infection@usual care"] > 0.5]
    assert (infected["secondary_infection@usual care"] == 1.0).all()
    assert ((infected["hai_day@usual care"] > 0) & (infected["hai_day@usual care"] <= 28)).all()


def test_design_key_errors():
    with pytest.raises(InputError, match=r"hospital_infection\.pathogen.*fix"):
        load_trial(design(hospital_infection={"pathogen": "Not A Name"}))
    with pytest.raises(InputError, match=r"hospital_infection.*fix"):
        load_trial(design(hospital_infection={"site": "lung"}))
    with pytest.raises(InputError, match=r"hospital_infection\.antibiotic\.start.*fix"):
        load_trial(design(hospital_infection={"antibiotic": {"start": "-2 h"}}))
    with pytest.raises(InputError, match=r"hospital_infection.*fix"):
        TrialTask(load_trial(design(hospital_infection={"pathogen": "no-such-bug"})))


def test_summary_counts_infections_deaths_caused_and_harm():
    """Four made-up patients' potential outcomes, counted by hand."""
    from il6sim.trial import TrialResult
    from il6sim.trial._hai import hai_lines, hai_summary

    spec = load_trial(design(hospital_infection={}))
    patients = pd.DataFrame({
        "arm": ["usual care", "tocilizumab"] * 2,
        "died@usual care": [0.0, 1.0, 0.0, 0.0], "died@tocilizumab": [1.0, 0.0, 0.0, 1.0],
        "hospital_infection@usual care": [0.0, 1.0, 1.0, 0.0],
        "hospital_infection@tocilizumab": [1.0, 0.0, 1.0, 0.0],
        "died_without_hai@usual care": [0.0, 1.0, 0.0, 0.0],
        "died_without_hai@tocilizumab": [0.0, 0.0, 0.0, 1.0]})
    table = hai_summary(TrialResult(spec, patients, {})).set_index("arm")
    assert table.loc["usual care", ["infected", "deaths_infected", "caused"]].tolist() == [2, 1, 0]
    treated = table.loc["tocilizumab"]
    assert [treated[k] for k in ("infected", "deaths_infected", "caused", "harmed", "helped",
                                 "harmed_infected")] == [2, 1, 1, 2, 1, 1]
    lines = hai_lines(TrialResult(spec, patients, {}))
    assert any("| tocilizumab | 4 | 2 (50.0 %) | 1 | 1 | 2 (1) | 1 |" in line for line in lines)
    plain = load_trial(design(hospital_infection=None))
    assert not len(hai_summary(TrialResult(plain, patients, {})))
    from il6sim.trial._hai import hai_measurements

    measured = hai_measurements(patients.assign(baseline_imv=[1.0, 0.0, 1.0, 0.0]))
    assert measured == {"hai.covid_usual_care_share": 0.5, "hai.covid_tocilizumab_ratio": 1.0,
                        "hai.vap_share_ventilated": 0.5, "hai.vap_attributable_mortality": 0.0}


# ----------------------------------------------------------------------------- checked targets
@pytest.fixture(scope="module")
def recovery():
    """RECOVERY-tocilizumab as shipped, 600 patients, with infections."""
    from il6sim.trial import run_trial

    assert SHIPPED.hospital_infection is not None  # on in the shipped COVID-19 trials
    return run_trial(SHIPPED, n_patients=600, chunk_size=256).patients


def within(name: str, value: float) -> None:
    row = TARGETS[name]
    assert row["role"] == "checked"
    assert row["low"] <= value <= row["high"], f"{name}: {value:.3f} not in {row['low']}-" \
        f"{row['high']}"


@pytest.mark.slow
def test_checked_targets_on_recovery_tocilizumab(recovery):
    """Measured 2 Dec 2026 (main b8a7bbc, fitted death hazard, control risk predicted): ratio
    1.12, none of the 43 infected on usual care dying because of it."""
    from il6sim.trial._hai import hai_measurements

    measured = hai_measurements(recovery)
    assert set(measured) == {k for k, row in TARGETS.items() if row["role"] == "checked"}
    for name in ("hai.covid_tocilizumab_ratio", "hai.vap_attributable_mortality"):
        within(name, measured[name])


#: Why the shares infected fall short (measured 2 Dec 2026, main b8a7bbc).
SHORT = ("the control arm dies at 48 % (RECOVERY 35 %), many within days, so patients spend "
         "less time in hospital and on the ventilator at risk")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="7.2 % infected on usual care, not 8-22 %: " + SHORT)
def test_checked_share_infected_on_usual_care(recovery):
    from il6sim.trial._hai import hai_measurements

    within("hai.covid_usual_care_share",
           hai_measurements(recovery)["hai.covid_usual_care_share"])


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="20 % of patients ventilated at randomisation infected "
                   "within 28 d, not 25-55 % (pooled 45.4 %): " + SHORT)
def test_checked_share_of_ventilated_patients_infected(recovery):
    from il6sim.trial._hai import hai_measurements

    within("hai.vap_share_ventilated", hai_measurements(recovery)["hai.vap_share_ventilated"])
