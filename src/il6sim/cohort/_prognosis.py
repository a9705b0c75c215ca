"""Prognostic model of in-hospital death from the first laboratory values after admission.

:class:`Il6Prognosis` is a scikit-learn classifier. Its default is a soft-voting ensemble of

* an L2-penalised logistic regression on log-transformed skewed labs, median-imputed, with a
  missing-value indicator per lab (IL-6 is missing for more than half of the patients), and
* a shallow, strongly regularised histogram gradient-boosting classifier, which handles missing
  values natively.

Averaging two models pulls probabilities towards the middle (under grouped cross-validation on
the shipped cohort the unrecalibrated ensemble has a calibration slope of 1.4: too timid), and a
model fitted on one set of patients is usually too extreme on the next. So by default the
probabilities are **recalibrated**: the same model is cross-validated inside :meth:`fit`
(stratified folds grouped by patient), and a logistic recalibration
``logit p' = a + b · logit p`` is fitted to those out-of-fold probabilities
(:mod:`il6sim.cohort._calibration`; Cox 1958, Platt 1999). Model choice and defaults are
explained in ``docs/cohort.md``.

References
----------
Yan L. et al. (2020) An interpretable mortality prediction model for COVID-19 patients.
Nat. Mach. Intell. 2:283–288. doi:10.1038/s42256-020-0180-7.
Pedregosa F. et al. (2011) Scikit-learn: machine learning in Python. JMLR 12:2825–2830.
Cox DR (1958) Two further applications of a model for binary regression. Biometrika 45:562.
Platt J (1999) Probabilistic outputs for support vector machines. In: Advances in Large Margin
Classifiers, MIT Press, 61–74.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import skew
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._biomarkers import bootstrap_auc
from ._calibration import (
    CALIBRATION_METHODS,
    apply_recalibration,
    calibration_measures,
    fit_recalibration,
)
from ._markers import MARKER_BY_NAME
from ._model_file import fingerprints, load_model, save_model, training_overlap

__all__ = ["CrossValidation", "Il6Prognosis", "compare_methods", "cross_validate_prognosis"]

_METHODS = ("ensemble", "logistic", "boosting")


def _single_thread():
    """One OpenMP thread for gradient boosting: on a few hundred patients threads only add
    overhead, and they can stall badly when other processes compete for the cores."""
    return threadpool_limits(limits=1, user_api="openmp")


class _ZeroEmptyColumns(TransformerMixin, BaseEstimator):
    """Replace columns without any value in the training data by zeros.

    A lab absent from the training file carries no information; a constant keeps the column
    count stable (gradient boosting cannot bin an all-missing column).
    """

    def fit(self, X, y=None):
        self.empty_ = ~np.isfinite(np.asarray(X, dtype=float)).any(axis=0)
        return self

    def transform(self, X):
        X = np.array(X, dtype=float)
        X[:, self.empty_] = 0.0
        return X


class _LogSkewed(TransformerMixin, BaseEstimator):
    """``log(max(x, 0) + offset)`` on the columns flagged in ``log_columns`` (NaN kept)."""

    def __init__(self, log_columns=None):
        self.log_columns = log_columns

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        mask = np.asarray(self.log_columns, dtype=bool)
        offsets = np.ones(X.shape[1])
        for j in np.flatnonzero(mask):
            positive = X[:, j][np.isfinite(X[:, j]) & (X[:, j] > 0)]
            offsets[j] = positive.min() if positive.size else 1.0
        self.mask_, self.offsets_ = mask, offsets
        return self

    def transform(self, X):
        X = np.array(X, dtype=float)
        cols = self.mask_
        X[:, cols] = np.log(np.clip(X[:, cols], 0.0, None) + self.offsets_[cols])
        return X


class Il6Prognosis(ClassifierMixin, BaseEstimator):
    """Probability of in-hospital death from laboratory values in the first hours after admission.

    Parameters
    ----------
    method : {"ensemble", "logistic", "boosting"}, default="ensemble"
        ``"logistic"``: penalised logistic regression on log labs with missing-value indicators;
        ``"boosting"``: histogram gradient boosting (native missing values); ``"ensemble"``:
        the average of their probabilities (soft voting).
    C : float, default=0.1
        Inverse L2 penalty of the logistic regression (on standardised features).
    learning_rate : float, default=0.05
        Learning rate of the boosting part.
    n_trees : int, default=200
        Boosting iterations.
    random_state : int or None, default=None
        Seed of the boosting part (the logistic part is deterministic) and of the shuffled
        recalibration folds (0 when ``None``, so that a fit is repeatable).
    calibration : {"logistic", "isotonic", "none"}, default="logistic"
        Recalibration of the probabilities, fitted to out-of-fold predictions of the same model
        (``calibration_folds`` stratified folds grouped by patient): ``"logistic"``
        ``logit p' = a + b · logit p``; ``"isotonic"`` a monotone step function (needs many
        patients); ``"none"`` the model's own probabilities. Binary outcomes only.
    calibration_folds : int, default=5
        Folds of the internal cross-validation (fewer when a class has fewer patients; with
        fewer than 2 per class the probabilities are not recalibrated and ``calibration_`` says
        so).

    Attributes
    ----------
    classes_ : ndarray
        Class labels (``[0, 1]`` for survived/died).
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame (e.g. ``Cohort.first_values(48)``).
    log_columns_ : ndarray of bool
        Columns analysed on a log scale: catalogue markers marked skewed (IL-6, CRP, LDH ...);
        for columns with other names, non-negative columns with skewness > 1.
    model_ : estimator
        The fitted scikit-learn model (probabilities before recalibration).
    calibrator_ : estimator or None
        The recalibration (``LogisticRegression`` on ``logit p`` or ``IsotonicRegression``), or
        ``None`` (``calibration="none"``, too few patients, or a model file written before
        il6sim recalibrated).
    calibration_ : dict
        How the recalibration was fitted: ``method``, ``folds``, ``status`` and the
        calibration measures of the out-of-fold probabilities before recalibration
        (``raw_slope``, ``raw_citl``, ``raw_mean_predicted``, ``observed``, ...), and for
        ``"logistic"`` its ``intercept`` ``a`` and ``slope`` ``b``.
    training_info_ : dict
        Free-form description of the training data (set by the command line: file, window ...).
    training_fingerprints_ : ndarray of str
        One SHA-256 digest per training row (patient id and values), to detect scoring the
        training patients (:meth:`training_overlap`).

    Notes
    -----
    ``X`` is typically ``Cohort.first_values(48)``: ``age``, ``male`` and one column per lab, with
    missing values as NaN. Numeric arrays work as well. Probabilities are for ``classes_[1]``.
    :meth:`save` writes a skops file that cannot run code when loaded (see
    :mod:`il6sim.cohort._model_file`).

    Examples
    --------
    >>> from il6sim.cohort import load_cohort, Il6Prognosis
    >>> X, y = load_cohort().dataset(window_hours=48)
    >>> model = Il6Prognosis(random_state=0).fit(X, y)
    >>> risk = model.predict_proba(X)[:, 1]
    """

    def __init__(self, *, method: str = "ensemble", C: float = 0.1, learning_rate: float = 0.05,
                 n_trees: int = 200, random_state: int | None = None,
                 calibration: str = "logistic", calibration_folds: int = 5) -> None:
        self.method = method
        self.C = C
        self.learning_rate = learning_rate
        self.n_trees = n_trees
        self.random_state = random_state
        self.calibration = calibration
        self.calibration_folds = calibration_folds

    def __setstate__(self, state):
        """Model files written before recalibration existed load as ``calibration="none"``."""
        state = dict(state)
        if "calibration" not in state:
            state.update(calibration="none", calibration_folds=5, calibrator_=None,
                         calibration_={"method": "none", "status": "saved before il6sim "
                                       "recalibrated probabilities"})
        super().__setstate__(state)

    # ------------------------------------------------------------------ scikit-learn API
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _build(self, log_columns: np.ndarray):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        if self.calibration not in CALIBRATION_METHODS:
            raise ValueError(f"calibration must be one of {CALIBRATION_METHODS}, got "
                             f"{self.calibration!r}")
        logistic = make_pipeline(
            _ZeroEmptyColumns(),
            _LogSkewed(log_columns),
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=5000),
        )
        boosting = make_pipeline(_ZeroEmptyColumns(), HistGradientBoostingClassifier(
            learning_rate=self.learning_rate, max_iter=self.n_trees, max_leaf_nodes=8,
            min_samples_leaf=10, l2_regularization=1.0, early_stopping=False,
            random_state=self.random_state))
        if self.method == "logistic":
            return logistic
        if self.method == "boosting":
            return boosting
        return VotingClassifier([("logistic", logistic), ("boosting", boosting)], voting="soft")

    def fit(self, X, y):
        """Fit on features ``X`` (DataFrame or array, NaN allowed) and outcomes ``y``."""
        labels = list(X.index) if isinstance(X, pd.DataFrame) else None
        X, y = validate_data(self, X, y, dtype=float, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        rows = fingerprints(X, labels)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"y has one class only ({self.classes_[0]!r}); need both outcomes")
        self.log_columns_ = self._log_columns(X)
        with _single_thread():
            self.model_ = self._build(self.log_columns_).fit(X, y)
            self._fit_calibration(X, y, labels)
        self.training_info_ = {}
        self.training_fingerprints_ = rows
        return self

    def _fit_calibration(self, X: np.ndarray, y: np.ndarray, labels) -> None:
        """Fit :attr:`calibrator_` to out-of-fold probabilities of the same model."""
        self.calibrator_ = None
        self.calibration_ = {"method": self.calibration, "status": "not recalibrated"}
        if self.calibration == "none":
            return
        counts = np.unique(y, return_counts=True)[1]
        if counts.size != 2:
            self.calibration_["status"] = "not recalibrated: outcome is not binary"
            return
        folds = int(min(self.calibration_folds, counts.min()))
        if folds < 2:
            self.calibration_["status"] = "not recalibrated: fewer than 2 patients in a class"
            return
        groups = np.asarray(labels) if labels is not None else np.arange(len(y))
        seed = 0 if self.random_state is None else self.random_state
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        oof = cross_val_predict(self._build(self.log_columns_), X, y, groups=groups,
                                cv=splitter, method="predict_proba")[:, 1]
        self.calibrator_ = fit_recalibration(oof, y == self.classes_[1], self.calibration)
        raw = calibration_measures(y == self.classes_[1], oof)
        info = {"method": self.calibration, "folds": folds, "status": "recalibrated",
                **{f"raw_{k}": v for k, v in raw.items() if k not in ("n", "events",
                                                                     "observed")},
                "n": raw["n"], "events": raw["events"], "observed": raw["observed"]}
        if self.calibration == "logistic":
            info["intercept"] = float(self.calibrator_.intercept_[0])
            info["slope"] = float(self.calibrator_.coef_[0, 0])
        self.calibration_ = info

    def training_overlap(self, X) -> int:
        """How many rows of ``X`` are patients this model was fitted on (same id and values);
        measures of fit on them (AUC, Brier score) are not a test of the model."""
        check_is_fitted(self, "model_")
        return training_overlap(self, X)

    def _log_columns(self, X: np.ndarray) -> np.ndarray:
        names = getattr(self, "feature_names_in_", None)
        flags = np.zeros(X.shape[1], dtype=bool)
        for j in range(X.shape[1]):
            spec = MARKER_BY_NAME.get(str(names[j])) if names is not None else None
            if spec is not None:
                flags[j] = spec.log
                continue
            column = X[:, j][np.isfinite(X[:, j])]
            if column.size > 2 and np.unique(column).size > 2 and column.min() >= 0:
                flags[j] = bool(skew(column) > 1.0)
        return flags

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``; column 1 = death
        (recalibrated, see ``calibration``)."""
        probability = self.raw_proba(X)
        calibrator = getattr(self, "calibrator_", None)
        if calibrator is None:
            return probability
        died = apply_recalibration(calibrator, probability[:, 1])
        return np.column_stack([1.0 - died, died])

    def raw_proba(self, X) -> np.ndarray:
        """Class probabilities of the fitted model before recalibration."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=float, ensure_all_finite="allow-nan", reset=False)
        with _single_thread():
            return self.model_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Most probable class."""
        probability = self.predict_proba(X)
        return self.classes_[np.argmax(probability, axis=1)]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fitted model as a skops file (format version and library versions
        recorded; loading it cannot run code)."""
        check_is_fitted(self, "model_")
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Il6Prognosis:
        """Read a model written by :meth:`save`.

        Raises
        ------
        InputError
            The file does not exist, is an old (pickle) model file, is not an il6sim prognosis
            model, names a type il6sim does not trust, or has another format version. A
            different scikit-learn version only warns.
        """
        return load_model(path)


class CrossValidation:
    """Out-of-fold predictions of repeated grouped cross-validation (see
    :func:`cross_validate_prognosis`).

    Attributes
    ----------
    probability : pandas.Series
        Out-of-fold probability of death per patient, averaged over repeats.
    y : pandas.Series
        Observed outcome.
    raw_probability : pandas.Series or None
        The same before recalibration (:meth:`Il6Prognosis.raw_proba` of the same fitted
        models), when the estimator has it.
    repeat_auc, repeat_brier : list of float
        AUC and Brier score of each repeat.
    oof_repeats, raw_oof_repeats : pandas.DataFrame or None
        Out-of-fold probabilities of each repeat (one column per repeat), recalibrated and
        before recalibration (:meth:`pooled`).
    repeat_calibration, repeat_raw_calibration : list of dict
        :func:`~il6sim.cohort._calibration.calibration_measures` of each repeat's out-of-fold
        probabilities (recalibrated and before recalibration).
    auc, auc_low, auc_high : float
        AUC of the averaged out-of-fold probabilities and its bootstrap 95% CI.
    brier : float
        Brier score, mean over repeats (each repeat's out-of-fold probabilities).
    """

    def __init__(self, probability, y, repeat_auc, repeat_brier, n_boot, seed, *,
                 raw_probability=None, repeat_calibration=(), repeat_raw_calibration=(),
                 oof_repeats=None, raw_oof_repeats=None):
        self.probability, self.y = probability, y
        self.raw_probability = raw_probability
        self.oof_repeats, self.raw_oof_repeats = oof_repeats, raw_oof_repeats
        self.repeat_auc, self.repeat_brier = repeat_auc, repeat_brier
        self.repeat_calibration = list(repeat_calibration)
        self.repeat_raw_calibration = list(repeat_raw_calibration)
        self.auc, self.auc_low, self.auc_high = bootstrap_auc(y, probability, n_boot, seed)
        self.brier = float(np.mean(repeat_brier))

    def calibration(self, raw: bool = False) -> dict[str, float]:
        """Calibration measures averaged over repeats (``slope_min``/``slope_max``: range over
        repeats); ``raw=True``: before recalibration. Empty when not measured."""
        repeats = self.repeat_raw_calibration if raw else self.repeat_calibration
        if not repeats:
            return {}
        table = pd.DataFrame(repeats)
        out = {k: float(table[k].mean()) for k in ("observed", "mean_predicted", "difference",
                                                   "slope", "intercept", "citl", "brier")}
        out.update(slope_min=float(table["slope"].min()), slope_max=float(table["slope"].max()))
        return out

    def pooled(self, raw: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Outcomes and out-of-fold probabilities of every repeat stacked (for a reliability
        diagram: averaging probabilities over repeats would pull them together)."""
        table = self.raw_oof_repeats if raw else self.oof_repeats
        if table is None:
            table = pd.DataFrame({0: self.raw_probability if raw else self.probability})
        return (np.tile(np.asarray(self.y, dtype=float), table.shape[1]),
                table.to_numpy().ravel(order="F"))

    def summary(self) -> dict[str, float]:
        out = {"n": len(self.y), "deaths": int(self.y.sum()), "auc": self.auc,
               "auc_low": self.auc_low, "auc_high": self.auc_high, "brier": self.brier,
               "auc_min_repeat": min(self.repeat_auc), "auc_max_repeat": max(self.repeat_auc),
               "repeats": len(self.repeat_auc)}
        for prefix, raw in (("calibration_", False), ("raw_calibration_", True)):
            out.update({prefix + k: v for k, v in self.calibration(raw).items()
                        if k != "observed"})
        return out


def cross_validate_prognosis(X: pd.DataFrame, y: pd.Series, groups=None, *,
                             estimator: Il6Prognosis | None = None, n_splits: int = 5,
                             n_repeats: int = 5, seed: int = 0,
                             n_boot: int = 1000) -> CrossValidation:
    """Repeated stratified grouped K-fold cross-validation (groups = patients).

    Parameters
    ----------
    X, y
        Features and outcome (e.g. ``Cohort.dataset(48)``).
    groups
        Group of each row; default ``X.index`` (the patient id), so that no patient is in both
        the training and the test fold.
    estimator
        Model to evaluate; default ``Il6Prognosis(random_state=seed)``.
    n_splits, n_repeats, seed
        Folds, repeats (each with a different shuffle, seeds ``seed + r``) and base seed.
    n_boot
        Bootstrap resamples for the AUC confidence interval.

    Notes
    -----
    The recalibration of :class:`Il6Prognosis` is fitted inside each training fold (its own
    inner grouped cross-validation), so the out-of-fold probabilities test it too. Calibration
    slope, intercept and mean predicted risk are measured on each repeat
    (:meth:`CrossValidation.calibration`), before and after recalibration.
    """
    estimator = estimator if estimator is not None else Il6Prognosis(random_state=seed)
    groups = np.asarray(X.index if groups is None else groups)
    y = pd.Series(np.asarray(y), index=X.index, name="outcome")
    has_raw = hasattr(estimator, "raw_proba")
    total, total_raw = np.zeros(len(X)), np.zeros(len(X))
    repeat_auc, repeat_brier, calibration, raw_calibration = [], [], [], []
    repeats, raw_repeats = {}, {}
    for repeat in range(n_repeats):
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + repeat)
        oof, oof_raw = np.empty(len(X)), np.empty(len(X))
        for train, test in folds.split(X, y, groups):
            model = clone(estimator).fit(X.iloc[train], y.iloc[train])
            oof[test] = model.predict_proba(X.iloc[test])[:, 1]
            if has_raw:
                oof_raw[test] = model.raw_proba(X.iloc[test])[:, 1]
        repeat_auc.append(float(roc_auc_score(y, oof)))
        repeat_brier.append(float(brier_score_loss(y, oof)))
        calibration.append(calibration_measures(y, oof))
        if has_raw:
            raw_calibration.append(calibration_measures(y, oof_raw))
        total += oof
        total_raw += oof_raw if has_raw else 0.0
        repeats[repeat], raw_repeats[repeat] = oof, oof_raw
    probability = pd.Series(total / n_repeats, index=X.index, name="probability")
    raw = (pd.Series(total_raw / n_repeats, index=X.index, name="raw_probability")
           if has_raw else None)
    return CrossValidation(probability, y, repeat_auc, repeat_brier, n_boot, seed,
                           raw_probability=raw, repeat_calibration=calibration,
                           repeat_raw_calibration=raw_calibration,
                           oof_repeats=pd.DataFrame(repeats, index=X.index),
                           raw_oof_repeats=(pd.DataFrame(raw_repeats, index=X.index)
                                            if has_raw else None))


def compare_methods(X: pd.DataFrame, y: pd.Series, admission: pd.Series | None = None, *,
                    n_repeats: int = 5, seed: int = 0, train_fraction: float = 0.6,
                    done: Mapping[str, CrossValidation] | None = None) -> pd.DataFrame:
    """Compare the ``method`` options of :class:`Il6Prognosis` at their default settings.

    Two views, fixed in advance (no tuning): repeated grouped 5-fold cross-validation, and a
    temporal split — fit on the first ``train_fraction`` of patients by admission time, test on
    the later ones (a proxy for patients admitted after the model was built).

    Parameters
    ----------
    done
        Cross-validations already run with the same ``n_repeats`` and ``seed``, by method name
        (reused instead of being run again).

    Returns
    -------
    pandas.DataFrame
        ``method``, ``cv_auc`` (mean over repeats), ``cv_auc_min``, ``cv_auc_max``, ``cv_brier``,
        ``temporal_auc``, ``temporal_brier``, ``temporal_n_test``.
    """
    done = dict(done or {})
    rows = []
    order = X.index if admission is None else admission.reindex(X.index).sort_values().index
    cut = int(len(order) * train_fraction)
    train, test = order[:cut], order[cut:]
    for method in _METHODS:
        estimator = Il6Prognosis(method=method, random_state=seed)
        cv = done.get(method) or cross_validate_prognosis(
            X, y, estimator=estimator, n_repeats=n_repeats, seed=seed, n_boot=0)
        row = {"method": method, "cv_auc": float(np.mean(cv.repeat_auc)),
               "cv_auc_min": min(cv.repeat_auc), "cv_auc_max": max(cv.repeat_auc),
               "cv_brier": cv.brier, "temporal_auc": np.nan, "temporal_brier": np.nan,
               "temporal_n_test": len(test)}
        if y.loc[train].nunique() == 2 and y.loc[test].nunique() == 2:
            model = clone(estimator).fit(X.loc[train], y.loc[train])
            p = model.predict_proba(X.loc[test])[:, 1]
            row.update(temporal_auc=float(roc_auc_score(y.loc[test], p)),
                       temporal_brier=float(brier_score_loss(y.loc[test], p)))
        rows.append(row)
    return pd.DataFrame(rows)
