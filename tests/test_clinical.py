"""Clinical definitions: SOFA thresholds, Berlin ARDS, Sepsis-3, storm, death hazard."""

from __future__ import annotations

import numpy as np
import pandas as pd

from il6sim.clinical import _definitions as clinical
from il6sim.clinical import death_time
from il6sim.engine import SimulationResult


def _result(**outputs):
    """A one-patient result whose read-outs are given arrays (others at healthy values)."""
    healthy = {
        "pf_ratio": 450.0,
        "platelet_count": 250.0,
        "bilirubin_level": 10.0,
        "map": 90.0,
        "gcs": 15.0,
        "creatinine_level": 80.0,
        "il6": 2.0,
        "crp": 1.0,
        "ferritin_level": 100.0,
        "ldh_level": 180.0,
        "bacteria_site": 0.0,
        "bacteraemia": 0.0,
        "viral_load": 0.0,
    }
    n = max(len(np.atleast_1d(v)) for v in outputs.values()) if outputs else 1
    names = list(healthy)
    values = np.stack(
        [np.broadcast_to(np.asarray(outputs.get(k, healthy[k]), float), (n,)) for k in names],
        axis=-1,
    )[None]
    return SimulationResult(
        time=np.arange(n, dtype=float),
        outputs=values,
        states=np.zeros((1, n, 0)),
        parameters=np.full((1, 1), 60.0),
        output_names=names,
        output_units=[""] * len(names),
        state_names=[],
        param_names=["age"],
        status=["ok"],
        doses=pd.DataFrame(),
    )


def test_sofa_points_follow_the_published_cut_points():
    r = _result(pf_ratio=[450, 350, 250, 150, 80])
    assert clinical.sofa_components(r)["respiratory"][0].tolist() == [0, 1, 2, 3, 4]
    r = _result(platelet_count=[200, 120, 70, 30, 10])
    assert clinical.sofa_components(r)["coagulation"][0].tolist() == [0, 1, 2, 3, 4]
    r = _result(creatinine_level=[90, 150, 250, 350, 500])
    assert clinical.sofa_components(r)["renal"][0].tolist() == [0, 1, 2, 3, 4]
    r = _result(bilirubin_level=[10, 25, 50, 150, 300])
    assert clinical.sofa_components(r)["liver"][0].tolist() == [0, 1, 2, 3, 4]
    r = _result(gcs=[15, 14, 11, 8, 4])
    assert clinical.sofa_components(r)["cns"][0].tolist() == [0, 1, 2, 3, 4]
    r = _result(map=[85, 68, 60, 50])
    assert clinical.sofa_components(r)["cardiovascular"][0].tolist() == [0, 1, 3, 4]


def test_berlin_categories_and_ventilation():
    r = _result(pf_ratio=[450, 290, 190, 90])
    assert clinical.ards_category(r)[0].tolist() == [0, 1, 2, 3]
    assert clinical.needs_ventilation(r)[0].tolist() == [False, False, False, True]


def test_sepsis_needs_infection_and_a_sofa_rise_of_two():
    no_infection = _result(pf_ratio=[450, 250, 250])
    assert not clinical.sepsis(no_infection).any()
    infected = _result(pf_ratio=[450, 350, 250], bacteria_site=[10, 10, 10])
    assert clinical.sepsis(infected)[0].tolist() == [False, False, True]


def test_storm_needs_hypoxaemia_and_two_raised_markers():
    r = _result(pf_ratio=[250, 250, 350], il6=[100, 100, 100], crp=[150, 50, 150])
    assert clinical.cytokine_storm(r)[0].tolist() == [True, False, False]


def test_death_draws_are_reproducible_and_shared_across_arms():
    r = _result(
        pf_ratio=np.full(200, 80.0),
        platelet_count=np.full(200, 15.0),
        creatinine_level=np.full(200, 500.0),
    )
    assert np.array_equal(death_time(r, seed=3), death_time(r, seed=3), equal_nan=True)
