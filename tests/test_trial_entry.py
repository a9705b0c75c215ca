"""Entry as trials define it: entry events and windows, exclusion at entry, the baseline mix.

Entry rules are checked on constructed courses (P/F and blood pressure chosen by hand), the mix
on seeded draws and on a small run of the model.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from il6sim.errors import InputError
from il6sim.trial import TrialTask, load_trial, run_trial
from il6sim.trial._entry import quotas
from il6sim.trial._run import select
from il6sim.trial._signals import Course

BASE = load_trial("recovery-tocilizumab").model_dump(mode="json", by_alias=True,
                                                     exclude_none=True)
TIME = np.arange(0.0, 601.0, 2.0)
#: Admission at 100 h; oxygen from 150 h (P/F 250), non-invasive support from 200 h (P/F 180),
#: invasive ventilation from 260 h (P/F 120); vasopressors (MAP 60) from 300 h in patient 1.
ADMISSION, OXYGEN, NON_INVASIVE, IMV, SHOCK = 100.0, 150.0, 200.0, 260.0, 300.0


def design(enrolment: dict, **changes) -> dict:
    data = {**BASE, "enrolment": enrolment, **changes}
    data.pop("anchor_control_risk", None)
    return data


def course(pf: np.ndarray, map_: np.ndarray, admission: float = ADMISSION) -> Course:
    """A screening course of ``len(pf)`` patients with these P/F and MAP rows (alive)."""
    n = len(pf)
    outputs = {"pf_ratio": np.asarray(pf, float), "map": np.asarray(map_, float)}
    result = SimpleNamespace(time=TIME, status=["ok"] * n, output=outputs.__getitem__)
    table = pd.DataFrame({"death_threshold": np.full(n, np.inf), "age": 60.0, "weight": 70.0,
                          "male": 1.0, "comorbidity": 0.0})
    timeline = pd.DataFrame({"admitted": True, "admission_h": np.full(n, admission),
                             "onset_h": np.full(n, 50.0)})
    c = Course(result, table, timeline)
    c._cache["cumulative_death_hazard"] = np.zeros((n, len(TIME)))
    return c


def worsening(n: int = 2) -> Course:
    pf = np.select([TIME >= IMV, TIME >= NON_INVASIVE, TIME >= OXYGEN], [120.0, 180.0, 250.0],
                   400.0)
    map_ = np.tile(np.full(len(TIME), 80.0), (n, 1))
    map_[1, TIME >= SHOCK] = 60.0
    return course(np.tile(pf, (n, 1)), map_)


def randomised_h(enrolment: dict, c: Course, drawn=None) -> np.ndarray:
    index, _ = TrialTask(load_trial(design(enrolment)))._enrolment(c, drawn)
    return np.where(index >= 0, TIME[np.maximum(index, 0)], np.nan)


@pytest.mark.parametrize(("after", "event"), [
    ("admission", ADMISSION),
    ("oxygen", OXYGEN), ("non_invasive", NON_INVASIVE), ("imv", IMV),
    ("organ_support", NON_INVASIVE),  # non-invasive respiratory support is organ support
])
def test_each_entry_event_starts_enrolment(after, event):
    got = randomised_h({"after": after, "delay": "4 h", "window": "1 d"}, worsening())
    assert got.tolist() == [event + 4.0, event + 4.0]


def test_onset_counts_from_symptom_onset_and_randomises_in_hospital_only():
    """Onset at 50 h, admission at 100 h: a 1-day window from onset closes before admission,
    a 3-day one opens at admission."""
    assert np.isnan(randomised_h({"after": "onset", "window": "1 d"}, worsening())).all()
    assert randomised_h({"after": "onset", "window": "3 d"}, worsening()).tolist() == [
        ADMISSION, ADMISSION]


def test_the_window_counts_from_the_entry_event():
    """REMAP-CAP: within 24 h of starting organ support. Eligible only from day 5 after
    admission (220 h): inside a 24 h window from non-invasive support (200 h), outside 12 h."""
    late = [{"signal": "days_since_admission", "at_least": 5}]
    inside = randomised_h({"after": "organ_support", "window": "24 h", "eligibility": late},
                          worsening())
    outside = randomised_h({"after": "organ_support", "window": "12 h", "eligibility": late},
                           worsening())
    assert inside.tolist() == [220.0, 220.0]
    assert np.isnan(outside).all()


def test_organ_support_by_vasopressors_alone_is_an_entry_event():
    """Patient 1 needs vasopressors from 300 h with normal oxygenation: organ support."""
    pf = np.full((2, len(TIME)), 400.0)
    map_ = np.full((2, len(TIME)), 80.0)
    map_[1, TIME >= SHOCK] = 60.0
    got = randomised_h({"after": "organ_support", "window": "24 h"}, course(pf, map_))
    assert np.isnan(got[0]) and got[1] == SHOCK


def test_a_patient_who_never_reaches_the_event_is_not_eligible():
    pf = np.full((1, len(TIME)), 400.0)
    assert np.isnan(randomised_h({"after": "oxygen"}, course(pf, np.full((1, len(TIME)), 80.0))))


def test_ventilated_at_entry_is_an_exclusion():
    """On invasive ventilation from admission to 200 h: excluded while ventilated, randomised at
    the first check after extubation; without the exclusion, at admission."""
    pf = np.where((TIME >= ADMISSION) & (TIME < 200.0), 120.0, 250.0)[None, :]
    c = course(pf, np.full((1, len(TIME)), 80.0))
    excluded = {"exclusion": [{"signal": "imv", "is": True, "label": "ventilated at entry"}]}
    assert randomised_h(excluded, c).tolist() == [200.0]
    assert randomised_h({}, c).tolist() == [ADMISSION]


# ----------------------------------------------------------------------------- baseline mix
MIX = {"signal": "respiratory_support", "strata": [
    {"name": "oxygen", "levels": [1], "share": 0.45},
    {"name": "non-invasive", "levels": [2], "share": 0.41},
    {"name": "invasive ventilation", "levels": [3], "share": 0.14}]}


def test_each_patient_is_randomised_at_the_first_check_in_its_drawn_stratum():
    got = randomised_h({"after": "admission", "baseline_mix": MIX}, worsening(3),
                       drawn=np.array([0, 1, 2]))
    assert got.tolist() == [OXYGEN, NON_INVASIVE, IMV]


def test_strata_are_drawn_with_the_declared_shares_from_the_seed():
    task = TrialTask(load_trial(design({"baseline_mix": MIX})))
    patients = np.arange(20000)
    drawn = task.strata_drawn(patients)
    counts = np.bincount(drawn, minlength=3)
    assert counts.tolist() == [8910, 8268, 2822]  # seeded: the same in every run
    assert np.allclose(counts / len(patients), [0.45, 0.41, 0.14], atol=0.01)
    assert np.array_equal(task.strata_drawn(patients[::-1]), drawn[::-1])  # per candidate


def test_quotas_add_up_and_select_fills_them_in_candidate_order():
    assert quotas(np.array([0.45, 0.41, 0.14]), 100).tolist() == [45, 41, 14]
    assert quotas(np.array([0.239, 0.604, 0.157]), 7).sum() == 7
    trial = load_trial(design({"baseline_mix": MIX}))
    rng = np.random.default_rng(0)
    candidates = pd.DataFrame({"candidate": np.arange(400), "enrolled": rng.random(400) < 0.8,
                               "accepted": 1.0, "baseline_stratum": rng.integers(0, 3, 400)})
    chosen = select(trial, candidates, 50)
    assert np.bincount(chosen["baseline_stratum"].astype(int)).tolist() == [23, 20, 7]
    assert chosen["candidate"].is_monotonic_increasing and chosen["enrolled"].all()


@pytest.fixture(scope="module")
def mixed():
    """30 RECOVERY-tocilizumab patients with the published support mix (simple oxygen 45 %,
    non-invasive 41 %, invasive ventilation 14 %)."""
    trial = load_trial(design({**BASE["enrolment"], "baseline_mix": MIX},
                              subgroups=[{"name": "support", "signal": "stratum"}]))
    return run_trial(trial, n_patients=30, chunk_size=512)


def test_the_randomised_mix_is_the_declared_one(mixed):
    patients = mixed.patients
    assert np.bincount(patients["baseline_stratum"].astype(int)).tolist() == [14, 12, 4]
    level = patients["baseline_respiratory_support"].to_numpy()
    assert np.array_equal(level, patients["baseline_stratum"].to_numpy() + 1)
    assert mixed.baseline_mix()["n"].tolist() == [14, 12, 4]
    assert set(mixed.subgroups["level"]) == {"oxygen", "non-invasive", "invasive ventilation"}


def test_a_mixed_trial_does_not_depend_on_the_chunk_size(mixed):
    """The strata drawn, the quotas and the blocks depend on results only, not on chunks."""
    trial = load_trial(design({**BASE["enrolment"], "baseline_mix": MIX},
                              subgroups=[{"name": "support", "signal": "stratum"}]))
    again = run_trial(trial, n_patients=30, chunk_size=96).patients
    pd.testing.assert_frame_equal(again, mixed.patients)


# ----------------------------------------------------------------------------- bad files
@pytest.mark.parametrize(("mix", "field", "message"), [
    ({**MIX, "strata": [{**MIX["strata"][0], "share": 0.6}, *MIX["strata"][1:]]},
     "enrolment.baseline_mix.strata", "add up to 1.15"),
    ({**MIX, "strata": [*MIX["strata"][:2], {**MIX["strata"][2], "levels": [2]}]},
     "enrolment.baseline_mix.strata[2].levels", "already in strata[1]"),
    ({**MIX, "strata": [*MIX["strata"][:2], {**MIX["strata"][2], "name": "oxygen"}]},
     "enrolment.baseline_mix.strata[2].name", "already strata[0]"),
    ({**MIX, "strata": [{**MIX["strata"][0], "share": 0}, *MIX["strata"][1:]]},
     "enrolment.baseline_mix.strata[0].share", "not a number above 0"),
    ({**MIX, "strata": [{**MIX["strata"][0], "levels": []}, *MIX["strata"][1:]]},
     "enrolment.baseline_mix.strata[0].levels", "non-empty"),
    ({**MIX, "shares": [0.5]}, "enrolment.baseline_mix.shares", "unknown key"),
])
def test_a_bad_mix_gets_one_line_naming_the_file_and_field(tmp_path, mix, field, message):
    import yaml

    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(design({"baseline_mix": mix})))
    with pytest.raises(InputError) as caught:
        load_trial(path)
    text = str(caught.value)
    assert "\n" not in text and "fix" in text and message in text
    assert f"trial '{path}', field '{field}'" in text


def test_a_bad_entry_event_names_the_field(tmp_path):
    with pytest.raises(InputError, match=r"field 'enrolment.after'.*'ventilation'") as caught:
        load_trial(design({"after": "ventilation"}))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("data", "message"), [
    (design({"baseline_mix": {**MIX, "signal": "suport"}}),
     "field 'enrolment.baseline_mix.signal': unknown signal 'suport'"),
    (design({}, subgroups=[{"name": "x", "signal": "stratum"}]),
     "field 'subgroups[0].signal': signal 'stratum' is the stratum of enrolment.baseline_mix"),
])
def test_model_level_mix_problems_come_before_any_simulation(tmp_path, data, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_trial(data, n_patients=10, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
