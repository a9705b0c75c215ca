"""Il6Prognosis: scikit-learn compliance, missing values, persistence, grouped cross-validation."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from il6sim.cohort import Il6Prognosis, compare_methods, cross_validate_prognosis, load_cohort
from il6sim.errors import InputError


# Every check applies: the estimator accepts numeric arrays as well as DataFrames.
@parametrize_with_checks([Il6Prognosis(method="logistic"),
                          Il6Prognosis(n_trees=20, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture
def xy(cohort_csv):
    X, y = load_cohort(cohort_csv).dataset(48)
    X.loc[X.index[::2], "il6"] = np.nan          # IL-6 missing for half the patients
    return X, y


def test_fit_with_missing_values_on_named_labs(xy):
    X, y = xy
    model = Il6Prognosis(random_state=0).fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)
    logged = dict(zip(model.feature_names_in_, model.log_columns_, strict=True))
    assert logged["il6"] and logged["crp"] and logged["ldh"]
    assert not logged["age"] and not logged["male"] and not logged["albumin"]
    p = model.predict_proba(X)
    assert p.shape == (40, 2) and np.allclose(p.sum(axis=1), 1)
    assert list(model.classes_) == [0, 1]
    empty = pd.DataFrame(np.nan, index=[0], columns=X.columns)
    assert np.isfinite(model.predict_proba(empty)).all()


def test_missing_indicator_is_used(xy):
    """IL-6 missing only in survivors: the logistic model must learn from missingness."""
    X, y = xy
    X = X[["age", "il6"]].copy()
    X["age"] = 60.0
    X["il6"] = np.where(y == 1, 50.0, np.nan)
    model = Il6Prognosis(method="logistic", C=1.0).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    assert p[y == 1].min() > 0.8 and p[y == 0].max() < 0.2


def test_unknown_method_raises(xy):
    with pytest.raises(ValueError, match="method must be one of"):
        Il6Prognosis(method="forest").fit(*xy)


def test_save_load_gives_identical_predictions(tmp_path, xy):
    X, y = xy
    model = Il6Prognosis(random_state=0).fit(X, y)
    model.training_info_ = {"window_hours": 48}
    path = model.save(tmp_path / "sub" / "model.skops")
    assert zipfile.is_zipfile(path)  # skops: JSON and arrays, no pickle
    loaded = Il6Prognosis.load(path)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.training_info_ == {"window_hours": 48}
    assert loaded.get_params() == model.get_params()
    assert np.array_equal(loaded.training_fingerprints_, model.training_fingerprints_)


def test_save_unfitted_raises(tmp_path):
    with pytest.raises(NotFittedError):
        Il6Prognosis().save(tmp_path / "m.skops")


def _skops_file(path, payload):
    import skops.io as sio

    sio.dump(payload, path)
    return path


def test_load_rejects_wrong_files(tmp_path, xy):
    with pytest.raises(InputError, match="not found"):
        Il6Prognosis.load(tmp_path / "missing.skops")
    (tmp_path / "text.skops").write_text("PATIENT_ID,outcome\n1,0\n")
    with pytest.raises(InputError, match="is not an il6sim prognosis model file"):
        Il6Prognosis.load(tmp_path / "text.skops")
    model = Il6Prognosis(method="logistic").fit(*xy)
    with (tmp_path / "old.joblib").open("wb") as handle:
        pickle.dump({"format": "il6sim-prognosis-model", "format_version": 1}, handle)
    with pytest.raises(InputError, match=r"old \(joblib/pickle\) prognosis model file.*fix:"):
        Il6Prognosis.load(tmp_path / "old.joblib")
    _skops_file(tmp_path / "dict.skops", {"something": 1})
    with pytest.raises(InputError, match="is not an il6sim prognosis model file"):
        Il6Prognosis.load(tmp_path / "dict.skops")
    payload = {"format": "il6sim-prognosis-model", "format_version": 99,
               "sklearn_version": "0", "model": model}
    _skops_file(tmp_path / "future.skops", payload)
    with pytest.raises(InputError, match="format version 99, this il6sim reads version 2"):
        Il6Prognosis.load(tmp_path / "future.skops")
    payload["format_version"] = 2
    _skops_file(tmp_path / "other-sklearn.skops", payload)
    with pytest.warns(UserWarning, match="saved with scikit-learn 0"):
        Il6Prognosis.load(tmp_path / "other-sklearn.skops")
    good = model.save(tmp_path / "good.skops").read_bytes()
    (tmp_path / "cut.skops").write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match=r"damaged|not an il6sim"):
        Il6Prognosis.load(tmp_path / "cut.skops")


def test_a_file_naming_a_foreign_type_is_not_loaded(tmp_path, xy):
    """skops would have to construct the type (any callable, in a file from someone else):
    only il6sim's own list is trusted, and nothing is constructed before the check."""
    payload = {"format": "il6sim-prognosis-model", "format_version": 2,
               "sklearn_version": "0", "model": Fraction(1, 3)}
    path = _skops_file(tmp_path / "foreign.skops", payload)
    with pytest.raises(InputError, match=r"contains types il6sim does not trust "
                                         r"\(fractions.Fraction\).*fix:"):
        Il6Prognosis.load(path)


def test_scoring_the_training_patients_is_detected(xy):
    X, y = xy
    model = Il6Prognosis(method="logistic").fit(X.iloc[:30], y.iloc[:30])
    assert model.training_overlap(X.iloc[:30]) == 30
    assert model.training_overlap(X.iloc[30:]) == 0
    changed = X.iloc[:30].copy()
    changed["age"] += 1.0  # same ids, other values: other patients (e.g. another hospital)
    assert model.training_overlap(changed) == 0


def test_cross_validation_is_grouped_by_patient():
    """Two identical rows per patient and random outcomes: only a leak makes them predictable."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(80, 60))
    outcome = rng.integers(0, 2, 80)
    X = pd.DataFrame(np.repeat(features, 2, axis=0),
                     index=pd.Index(np.repeat(np.arange(80), 2), name="patient_id"))
    y = pd.Series(np.repeat(outcome, 2), index=X.index)
    memoriser = Il6Prognosis(method="logistic", C=100.0, calibration="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grouped = cross_validate_prognosis(X, y, estimator=memoriser, n_repeats=1, n_boot=0)
        leaky = cross_validate_prognosis(X, y, groups=np.arange(160), estimator=memoriser,
                                         n_repeats=1, n_boot=0)
    assert grouped.auc < 0.7
    assert leaky.auc > 0.85


def test_cross_validation_on_shipped_cohort_reaches_target(shipped):
    X, y = shipped.dataset(48)
    cv = cross_validate_prognosis(X, y, n_repeats=1, n_boot=100, seed=0)
    summary = cv.summary()
    assert summary["n"] == 280 and summary["deaths"] == 137
    assert cv.auc >= 0.95
    assert cv.auc_low < cv.auc < cv.auc_high
    assert cv.brier < 0.08
    assert cv.probability.between(0, 1).all() and cv.probability.index.equals(X.index)


def test_compare_methods_reports_each_variant(xy, cohort_csv):
    X, y = xy
    admission = load_cohort(cohort_csv).patient_info["admission_time"]
    table = compare_methods(X, y, admission, n_repeats=1, seed=0)
    assert table["method"].tolist() == ["ensemble", "logistic", "boosting"]
    assert (table["temporal_n_test"] == 16).all()     # last 40% of 40 patients by admission
    assert (table["cv_auc"] > 0.8).all() and (table["temporal_auc"] > 0.8).all()
    assert table["cv_brier"].between(0, 0.25).all()
