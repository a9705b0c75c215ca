"""Single-marker analyses checked against scikit-learn/scipy and hand-computed answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from cohort_helpers import TIME, write_csv
from scipy.stats import mannwhitneyu
from sklearn.metrics import roc_auc_score, roc_curve

from il6sim.cohort import (
    auc_table,
    bootstrap_auc,
    herold_rule,
    load_cohort,
    oriented_score,
    outcome_comparison,
    rule_performance,
    time_dependent_auc,
    yan_rule,
    youden_cutoff,
)


def test_bootstrap_auc_point_estimate_is_sklearns():
    y, score = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]  # the roc_auc_score docstring example
    auc, low, high = bootstrap_auc(y, score, n_boot=200, seed=3)
    assert auc == 0.75
    assert 0.0 <= low <= auc <= high <= 1.0
    assert bootstrap_auc(y, score, n_boot=200, seed=3) == (auc, low, high)
    assert np.isnan(bootstrap_auc(y, score, n_boot=0)[1])


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC (Hanley & McNeil 1982, Radiology 143:29)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2))
    return float(np.sqrt(var / (n_pos * n_neg)))


@pytest.mark.parametrize("n", [60, 600])
def test_bootstrap_ci_width_matches_hanley_mcneil(n):
    rng = np.random.default_rng(n)
    y = np.repeat([0, 1], n // 2)
    score = rng.normal(y * 1.0, 1.0)
    auc, low, high = bootstrap_auc(y, score, n_boot=400, seed=0)
    expected_width = 2 * 1.96 * hanley_mcneil_se(auc, n // 2, n // 2)
    assert low < auc < high
    assert (high - low) == pytest.approx(expected_width, rel=0.25)


def test_oriented_score_for_low_is_worse_markers():
    y = np.array([0, 0, 0, 1, 1, 1])
    lymph = np.array([2.0, 1.5, 1.2, 0.5, 0.9, 1.3])
    assert roc_auc_score(y, oriented_score("lymphocytes", lymph)) == pytest.approx(
        1 - roc_auc_score(y, lymph))
    assert np.array_equal(oriented_score("il6", lymph), lymph)


def test_youden_cutoff_known_answer():
    values = np.arange(1.0, 10.0)
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1, 1])
    # >= 4: sens 5/5, spec 3/4 (J 0.75); >= 6: sens 4/5, spec 4/4 (J 0.80) -> best
    cut = youden_cutoff(y, values)
    assert (cut.cutoff, cut.direction) == (6.0, ">=")
    assert (cut.sensitivity, cut.specificity) == (0.8, 1.0)
    assert cut.j == pytest.approx(0.8)
    low = youden_cutoff(y, 10.0 - values, worse="low")
    assert (low.cutoff, low.direction, low.sensitivity, low.specificity) == (4.0, "<=", 0.8, 1.0)


def test_youden_cutoff_matches_brute_force_on_random_data():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 300)
    values = rng.normal(y, 1.2)
    cut = youden_cutoff(y, values)
    best = max(((values[y == 1] >= c).mean() + (values[y == 0] < c).mean() - 1, c)
               for c in np.unique(values))
    assert cut.j == pytest.approx(best[0])
    assert cut.sensitivity == pytest.approx((values[y == 1] >= cut.cutoff).mean())
    assert cut.specificity == pytest.approx((values[y == 0] < cut.cutoff).mean())
    fpr, tpr, _ = roc_curve(y, values)
    assert cut.j == pytest.approx(np.max(tpr - fpr))


@pytest.fixture
def synthetic_xy(cohort_csv):
    return load_cohort(cohort_csv).dataset(48)


def test_auc_table_matches_sklearn_per_marker(synthetic_xy):
    X, y = synthetic_xy
    X.loc[X.index[:5], "il6"] = np.nan
    table = auc_table(X, y, ["il6", "lymphocyte_pct", "albumin"], n_boot=50, seed=0)
    row = table.set_index("marker")
    assert row.loc["il6", "n"] == 35 and row.loc["il6", "n_missing"] == 5
    have = X["il6"].notna()
    assert row.loc["il6", "auc"] == pytest.approx(roc_auc_score(y[have], X.loc[have, "il6"]))
    assert row.loc["lymphocyte_pct", "auc"] == pytest.approx(
        roc_auc_score(y, -X["lymphocyte_pct"]))
    assert row.loc["lymphocyte_pct", "direction"] == "<="
    assert (table["auc"] > 0.8).all()       # strong synthetic signal, oriented correctly
    assert table["auc"].is_monotonic_decreasing


def test_outcome_comparison_matches_scipy(synthetic_xy):
    X, y = synthetic_xy
    table = outcome_comparison(X, y, ["il6", "ldh"]).set_index("marker")
    died, survived = X.loc[y == 1, "il6"], X.loc[y == 0, "il6"]
    assert table.loc["il6", "median_died"] == pytest.approx(died.median())
    assert table.loc["il6", "q3_survived"] == pytest.approx(survived.quantile(0.75))
    assert table.loc["il6", "mannwhitney_p"] == pytest.approx(
        mannwhitneyu(died, survived).pvalue)
    assert table.loc["il6", "n_died"] == 20


def test_rule_performance_confusion_matrix():
    y = [1, 1, 1, 0, 0, 0, 0, 1]
    predicted = [1, 1, 0, 0, 0, 1, np.nan, np.nan]
    perf = rule_performance(y, predicted)
    assert perf["n"] == 6 and perf["n_not_applicable"] == 2
    assert perf["sensitivity"] == pytest.approx(2 / 3)
    assert perf["specificity"] == pytest.approx(2 / 3)
    assert perf["ppv"] == pytest.approx(2 / 3) and perf["npv"] == pytest.approx(2 / 3)


def test_published_rules():
    X = pd.DataFrame({
        "ldh": [400, 300, 300, 300, np.nan, np.nan, 300],
        "crp": [10, 10, 50, 50, 10, 50, np.nan],
        "lymphocyte_pct": [30, 5, 20, 10, 5, 5, 5],
        "il6": [81, 80, np.nan, 5, 200, 1, 1],
    })
    assert yan_rule(X).tolist()[:4] == [1.0, 0.0, 0.0, 1.0]
    assert yan_rule(X).iloc[4:].isna().all()   # LDH or CRP missing: rule not applicable
    herold = herold_rule(X)
    assert herold.iloc[:2].tolist() == [1.0, 0.0] and np.isnan(herold.iloc[2])


def _row(pid, died, admission, day, value):
    end = admission + timedelta(days=12)
    return {"PATIENT_ID": str(pid), "RE_DATE": (admission + timedelta(days=day)).strftime(TIME),
            "Admission time": admission.strftime(TIME), "Discharge time": end.strftime(TIME),
            "outcome": str(died), "age": "60", "gender": "1", "Interleukin 6": str(value)}


def test_time_dependent_auc_uses_latest_sample_in_each_bin(tmp_path):
    rows = []
    for pid in range(1, 21):
        died, admission = pid % 2, datetime(2020, 2, 1) + timedelta(hours=pid)
        rows.append(_row(pid, died, admission, 1.0, 10 - 5 * died))    # 11 d before: reversed
        rows.append(_row(pid, died, admission, 4.0, 7 + pid % 3))      # 8 d before: no signal
        rows.append(_row(pid, died, admission, 10.5, 10 - 5 * died))   # 1.5 d: earlier in bin
        rows.append(_row(pid, died, admission, 11.0, 10 + 90 * died))  # 1 d: latest in bin
        rows.append(_row(pid, died, admission, 12.5, 1))               # after discharge
    cohort = load_cohort(write_csv(tmp_path / "t.csv", rows))
    table, excluded = time_dependent_auc(cohort, ["il6"], n_boot=20, seed=0)
    auc = table.set_index("bin")["auc"]
    assert list(table["bin"]) == ["0–2 d", "3–5 d", "6–9 d", "≥10 d"]
    assert auc["0–2 d"] == 1.0 and auc["≥10 d"] == 0.0
    assert np.isnan(auc["3–5 d"]) and table.set_index("bin").loc["3–5 d", "n"] == 0
    assert 0.2 < auc["6–9 d"] < 0.8
    assert excluded == {"after_outcome": 20, "no_outcome": 0}
