"""The WHO Clinical Progression Scale and the NIAID scale on constructed trajectories: one test
per rule of :mod:`il6sim.clinical._ordinal`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from il6sim.clinical import (
    daily_worst,
    discharge_time,
    niaid_from_who,
    niaid_scale,
    on_ventilator,
    who_scale,
)
from il6sim.engine import SimulationResult

HEALTHY = {"pf_ratio": 450.0, "platelet_count": 250.0, "bilirubin_level": 10.0, "map": 90.0,
           "gcs": 15.0, "creatinine_level": 80.0, "il6": 2.0, "crp": 1.0,
           "ferritin_level": 100.0, "ldh_level": 180.0, "bacteria_site": 0.0,
           "bacteraemia": 0.0, "viral_load": 0.0}
NONE = np.array([np.nan])


def _result(time=None, status="ok", **outputs) -> SimulationResult:
    """One patient whose read-outs are the given arrays (others healthy), at ``time`` hours
    (default 0, 1, 2, ...)."""
    n = max(len(np.atleast_1d(v)) for v in outputs.values()) if outputs else 1
    values = np.stack([np.broadcast_to(np.asarray(outputs.get(k, v), float), (n,))
                       for k, v in HEALTHY.items()], axis=-1)[None]
    return SimulationResult(
        time=np.arange(n, dtype=float) if time is None else np.asarray(time, float),
        outputs=values, states=np.zeros((1, n, 0)), parameters=np.zeros((1, 0)),
        output_names=list(HEALTHY), output_units=[""] * len(HEALTHY), state_names=[],
        param_names=[], status=[status], doses=pd.DataFrame())


def _who(result, death=np.nan, discharge=np.nan, **options) -> list[float]:
    return who_scale(result, death_h=np.array([death]), discharge_h=np.array([discharge]),
                     **options)[0].tolist()


def test_respiratory_support_follows_pf_with_weaning_at_200():
    # no oxygen, oxygen, high flow, intubated, still ventilated, weaned onto oxygen, off oxygen
    r = _result(pf_ratio=[350, 250, 180, 120, 170, 210, 350])
    assert _who(r) == [4, 5, 6, 8, 7, 5, 4]
    assert on_ventilator(np.array([[120, 170, 199, 200, 160, 140]])).tolist() == \
        [[True, True, True, False, False, True]]


def test_without_hysteresis_ventilation_is_exactly_pf_below_150():
    r = _result(pf_ratio=[120, 170, 140])
    assert _who(r, weaning_pf=150.0) == [8, 6, 8]


def test_a_patient_below_150_at_time_0_starts_on_the_ventilator():
    assert _who(_result(pf_ratio=[140, 160])) == [8, 7]
    assert _who(_result(pf_ratio=[160, 160])) == [6, 6]


def test_vasopressors_raise_a_ventilated_patient_to_8_or_9_and_others_to_6():
    assert _who(_result(pf_ratio=350, map=[70, 60])) == [4, 6]          # no ventilation
    assert _who(_result(pf_ratio=[120, 170], map=60)) == [9, 8]        # P/F < 150 and pressors
    assert _who(_result(pf_ratio=[120, 170], map=66)) == [8, 7]


def test_renal_replacement_counts_with_ventilation_only():
    creatinine = 360.0  # >= 354 umol/L: KDIGO stage 3
    assert _who(_result(pf_ratio=[120, 170], creatinine_level=creatinine)) == [9, 8]
    assert _who(_result(pf_ratio=350, creatinine_level=[300, creatinine])) == [4, 4]


def test_death_is_10_from_the_time_of_death():
    r = _result(pf_ratio=[250, 120, 110, 100])
    assert _who(r, death=2.0) == [5, 8, 10, 10]


def test_discharged_levels_0_to_3_from_pathogen_crp_and_organ_function():
    r = _result(crp=[1, 1, 1, 20, 1, 1], viral_load=[0, 0, 100, 0, 0, 0],
                creatinine_level=[80, 80, 80, 80, 150, 200])           # renal SOFA 1, 2
    assert _who(r, discharge=1.0) == [4, 0, 1, 2, 2, 3]


def test_a_discharged_patient_who_needs_oxygen_again_is_readmitted():
    r = _result(pf_ratio=[450, 450, 250, 450])
    assert _who(r, discharge=1.0) == [4, 0, 5, 0]


def test_discharge_is_the_end_of_24_h_meeting_the_criteria_alive():
    time = np.arange(0, 72, 4.0)
    pf = np.where(time < 8, 250.0, 350.0)
    r = _result(time=time, pf_ratio=pf)
    assert discharge_time(r, NONE)[0] == 8.0 + 24.0
    interrupted = np.where((time < 8) | (time == 20), 250.0, 350.0)
    assert discharge_time(_result(time=time, pf_ratio=interrupted), NONE)[0] == 24.0 + 24.0
    assert np.isnan(discharge_time(r, np.array([30.0]))[0])            # dies first
    assert np.isnan(discharge_time(_result(time=time, pf_ratio=350, map=60), NONE)[0])
    sofa_three = _result(time=time, pf_ratio=350, platelet_count=40)  # coagulation 3 points
    assert np.isnan(discharge_time(sofa_three, NONE)[0])
    assert np.isnan(discharge_time(r, NONE, until_h=30.0)[0])


def test_the_default_discharge_and_death_come_from_the_clinical_definitions():
    time = np.arange(0, 60, 2.0)
    r = _result(time=time, pf_ratio=np.where(time < 10, 250.0, 450.0))
    assert who_scale(r)[0, -1] == 0.0 and who_scale(r)[0, 0] == 5.0


def test_niaid_is_a_mapping_of_the_who_levels():
    who = np.arange(11.0)
    assert niaid_from_who(who).tolist() == [1, 1, 1, 2, 4, 5, 6, 7, 7, 7, 8]
    ready = who == 4
    assert niaid_from_who(who, ready).tolist() == [1, 1, 1, 2, 3, 5, 6, 7, 7, 7, 8]
    assert np.isnan(niaid_from_who(np.array([np.nan]))[0])


def test_niaid_3_is_in_hospital_meeting_the_discharge_criteria():
    r = _result(pf_ratio=350, platelet_count=[40, 200, 200])           # SOFA 3, then 0
    niaid = niaid_scale(r, death_h=NONE, discharge_h=np.array([2.0]))[0].tolist()
    assert niaid == [4, 3, 1]         # discharged with P/F 350 (SOFA 1): WHO 2, NIAID 1


def test_day_scores_are_the_worst_level_of_the_24_h_ending_that_day():
    time = np.arange(0, 50, 12.0)                                      # 0, 12, 24, 36, 48
    scale = np.array([[5, 7, 4, 6, 5]], float)
    assert daily_worst(scale, time, 3).tolist()[0][:3] == [5, 7, 6]
    assert np.isnan(daily_worst(scale, time, 3)[0, 3])                  # not reached


def test_a_failed_simulation_has_no_level():
    r = _result(status="failed: solver", pf_ratio=[350, 350])
    assert np.isnan(_who(r)).all()


@pytest.mark.parametrize("level", range(11))
def test_every_who_level_is_reachable(level):
    cases = {
        0: ({}, np.nan, 0.0), 1: ({"viral_load": 100.0}, np.nan, 0.0),
        2: ({"crp": 20.0}, np.nan, 0.0), 3: ({"creatinine_level": 200.0}, np.nan, 0.0),
        4: ({}, np.nan, np.nan), 5: ({"pf_ratio": 250.0}, np.nan, np.nan),
        6: ({"pf_ratio": 180.0}, np.nan, np.nan),
        7: ({"pf_ratio": [120.0, 170.0]}, np.nan, np.nan),
        8: ({"pf_ratio": 120.0}, np.nan, np.nan),
        9: ({"pf_ratio": 120.0, "map": 60.0}, np.nan, np.nan),
        10: ({}, 0.0, np.nan),
    }
    outputs, death, discharge = cases[level]
    assert _who(_result(**outputs), death=death, discharge=discharge)[-1] == level
