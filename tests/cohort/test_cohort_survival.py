"""Kaplan–Meier and Cox results checked against lifelines and hand-computed answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import logrank_test

from il6sim.cohort import cox_model, il6_strata, kaplan_meier, load_cohort, survival_data


def test_kaplan_meier_hand_computed_and_logrank_matches_lifelines():
    data = pd.DataFrame({"days": [1, 2, 3, 4, 5, 2, 6, 8, 9, 10],
                         "died": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]})
    groups = pd.Series(["A"] * 5 + ["B"] * 5)
    fitters, table, p = kaplan_meier(data, groups)
    sf = fitters["A"].survival_function_.iloc[:, 0]
    # S(1) = 4/5; S(3) = 4/5 * 2/3 (patient at 2 censored); S(4) = S(3) * 1/2
    assert sf.loc[1] == pytest.approx(0.8)
    assert sf.loc[3] == pytest.approx(0.8 * 2 / 3)
    assert sf.loc[4] == pytest.approx(0.8 * 2 / 3 / 2)
    row = table.set_index("group")
    assert row.loc["A", "n"] == 5 and row.loc["A", "deaths"] == 3
    assert row.loc["A", "survival_14d"] == pytest.approx(0.8 * 2 / 3 / 2)
    assert row.loc["A", "median_days"] == 4.0
    a, b = data[groups == "A"], data[groups == "B"]
    direct = logrank_test(a["days"], b["days"], a["died"], b["died"])
    assert p == pytest.approx(direct.p_value)


def test_il6_strata_tertiles_and_cutoff():
    il6 = pd.Series([5.0, 1.0, 9.0, np.nan, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0])
    tertiles = il6_strata(il6)
    assert tertiles[1] == "T1: 1–3" and tertiles[0] == "T2: 4–6" and tertiles[2] == "T3: 7–9"
    assert pd.isna(tertiles[3]) and tertiles.value_counts().tolist() == [3, 3, 3]
    cut = il6_strata(pd.Series([81.0, 80.0, np.nan]), cutoff=80)
    assert cut[0] == "IL-6 > 80" and cut[1] == "IL-6 ≤ 80" and pd.isna(cut[2])


def simulated_survival(n=3000, seed=0):
    """Exponential death times with hazard exp(0.5 log2 IL-6 + 0.03 age), random censoring."""
    rng = np.random.default_rng(seed)
    il6 = 2.0 ** rng.normal(4, 1.5, n)
    age = rng.uniform(30, 90, n)
    hazard = 0.01 * np.exp(0.5 * np.log2(il6) + 0.03 * (age - 60))
    death, censor = rng.exponential(1 / hazard), rng.uniform(1, 30, n)
    return pd.DataFrame({"il6": il6, "age": age, "days": np.minimum(death, censor),
                         "died": (death <= censor).astype(int)})


def test_cox_recovers_known_hazard_ratio_and_matches_lifelines():
    data = simulated_survival()
    fitter, table = cox_model(data, ["il6", "age"])
    assert fitter.concordance_index_ == pytest.approx(table["concordance"].iloc[0])
    row = table.set_index("covariate")
    assert row.loc["log2_il6", "hr"] == pytest.approx(np.exp(0.5), rel=0.08)
    assert row.loc["age", "hr"] == pytest.approx(np.exp(0.03), rel=0.01)
    assert row.loc["log2_il6", "hr_low"] < np.exp(0.5) < row.loc["log2_il6", "hr_high"]
    direct = CoxPHFitter().fit(data.assign(il6=np.log2(data["il6"])), "days", "died")
    assert row.loc["log2_il6", "hr"] == pytest.approx(direct.hazard_ratios_["il6"], rel=1e-6)
    assert row.loc["log2_il6", "p"] == pytest.approx(direct.summary.loc["il6", "p"], rel=1e-6)
    assert table["n"].iloc[0] == 3000 and table["events"].iloc[0] == data["died"].sum()


def test_cox_uses_complete_cases():
    data = simulated_survival(n=400, seed=1)
    data.loc[:49, "il6"] = np.nan
    _, table = cox_model(data, ["il6", "age"])
    assert table["n"].iloc[0] == 350


def test_survival_data_from_cohort(cohort_csv):
    cohort = load_cohort(cohort_csv)
    data = survival_data(cohort, 48)
    patients = cohort.patients().set_index("patient_id")
    assert len(data) == 40 and data.attrs["excluded"] == 0
    assert np.allclose(data["days"], patients["length_of_stay_days"])
    assert (data["died"] == patients["outcome"]).all()
