"""Calibration of predicted probabilities: measures, reliability curves and recalibration.

A probability of death is *calibrated* when, among patients given a risk of about ``p``, about
``p`` die. Three measures, computed with statsmodels (Van Calster et al. 2019; Steyerberg 2019,
ch. 15):

* **mean predicted vs observed** (calibration in the large, as a difference of proportions);
* **calibration slope** ``b`` and **intercept** ``a`` of the logistic regression
  ``logit P(death) = a + b · logit(p)`` (Cox 1958): ``b = 1`` when the spread of the predictions
  is right, ``b < 1`` when they are too extreme (overconfident), ``b > 1`` too timid;
* **calibration in the large** ``a₀`` of ``logit P(death) = a₀ + logit(p)`` (``logit(p)`` an
  offset): 0 when the predictions are right on average.

:func:`fit_recalibration` fits a *recalibration* ``p ↦ p'`` on predictions that were not fitted
to the same patients (out of fold): ``"logistic"``, the Cox/Platt logistic recalibration
``logit p' = a + b · logit p`` (two parameters, scikit-learn ``LogisticRegression`` without
penalty; Platt 1999), or ``"isotonic"``, a monotone step function (scikit-learn
``IsotonicRegression``; Zadrozny & Elkan 2002), which needs more patients. The reliability curve
is scikit-learn's ``calibration_curve`` with quantile bins.

References
----------
Cox DR (1958) Two further applications of a model for binary regression. Biometrika 45:562–565.
Platt J (1999) Probabilistic outputs for support vector machines and comparisons to regularized
likelihood methods. In: Advances in Large Margin Classifiers, MIT Press, 61–74.
Zadrozny B, Elkan C (2002) Transforming classifier scores into accurate multiclass probability
estimates. Proc. KDD 2002:694–699. doi:10.1145/775047.775151.
Van Calster B et al. (2019) Calibration: the Achilles heel of predictive analytics. BMC Med
17:230. doi:10.1186/s12916-019-1466-7.
Steyerberg EW (2019) Clinical Prediction Models, 2nd ed., ch. 15. Springer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

__all__ = ["CALIBRATION_METHODS", "EPSILON", "apply_recalibration", "calibration_measures",
           "clipped_logit", "fit_recalibration", "logistic_coefficients", "recalibrate_logistic",
           "reliability_table"]

#: Recalibration methods of :func:`fit_recalibration` (``"none"``: keep the probabilities).
CALIBRATION_METHODS = ("logistic", "isotonic", "none")

#: Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before taking logits.
EPSILON = 1e-6


def clipped_logit(probability) -> np.ndarray:
    """``logit(p)`` with ``p`` clipped to ``[EPSILON, 1 - EPSILON]`` (finite for 0 and 1)."""
    return logit(np.clip(np.asarray(probability, dtype=float), EPSILON, 1.0 - EPSILON))


def calibration_measures(y, probability) -> dict[str, float]:
    """Calibration and discrimination of ``probability`` for binary outcomes ``y``.

    Returns
    -------
    dict
        ``n``, ``events``, ``observed`` (share of events), ``mean_predicted``, ``difference``
        (mean predicted − observed), ``slope`` and ``intercept`` (logistic regression of ``y``
        on ``logit(p)``), ``citl`` (calibration in the large: intercept with ``logit(p)`` as
        offset), ``brier``, ``auc``. A measure that cannot be estimated (one outcome class,
        constant predictions, perfect separation) is NaN.
    """
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    p = np.asarray(probability, dtype=float)
    keep = np.isfinite(y) & np.isfinite(p)
    y, p = y[keep], p[keep]
    out = {"n": len(y), "events": int(y.sum()), "observed": float(np.mean(y)) if len(y)
           else np.nan, "mean_predicted": float(np.mean(p)) if len(p) else np.nan,
           "slope": np.nan, "intercept": np.nan, "citl": np.nan, "brier": np.nan, "auc": np.nan}
    out["difference"] = out["mean_predicted"] - out["observed"]
    if len(y) == 0:
        return out
    out["brier"] = float(brier_score_loss(y, p))
    if np.unique(y).size < 2:
        return out
    out["auc"] = float(roc_auc_score(y, p))
    lp = clipped_logit(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation and convergence warnings: result is NaN
        try:
            citl = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(),
                          offset=lp).fit()
            out["citl"] = float(citl.params[0])
            if np.ptp(lp) > 0:
                fit = sm.Logit(y, sm.add_constant(lp, has_constant="add")).fit(disp=0)
                if fit.mle_retvals.get("converged", True):
                    out["intercept"], out["slope"] = (float(v) for v in fit.params)
        except Exception:  # statsmodels raises on perfect separation
            pass
    return out


def reliability_table(y, probability, n_bins: int = 10) -> pd.DataFrame:
    """Observed share of events against the mean predicted probability in ``n_bins`` quantile
    bins (scikit-learn ``calibration_curve``; bins without patients are left out).

    Columns ``mean_predicted``, ``observed``.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(probability, dtype=float)
    keep = np.isfinite(y) & np.isfinite(p)
    if keep.sum() == 0 or np.unique(y[keep]).size < 2:
        return pd.DataFrame(columns=["mean_predicted", "observed"])
    bins = max(1, min(n_bins, int(keep.sum()) // 5))
    observed, predicted = calibration_curve(y[keep], p[keep], n_bins=bins, strategy="quantile")
    return pd.DataFrame({"mean_predicted": predicted, "observed": observed})


def fit_recalibration(probability, y, method: str = "logistic"):
    """A recalibration fitted to (out-of-fold) ``probability`` and outcomes ``y``.

    Returns a fitted scikit-learn estimator for :func:`apply_recalibration`:
    ``LogisticRegression`` on ``logit(p)`` (``method="logistic"``) or ``IsotonicRegression`` on
    ``p`` (``"isotonic"``). A logistic slope below 0 (out of fold the model ranks worse than
    chance) is set to 0 with the intercept at the observed log-odds: every patient then gets the
    observed risk instead of a reversed ranking.
    """
    y = np.asarray(y, dtype=int)
    if method == "logistic":
        model = LogisticRegression(C=np.inf, max_iter=1000).fit(
            clipped_logit(probability)[:, None], y)
        if model.coef_[0, 0] < 0:
            model.coef_[:] = 0.0
            model.intercept_[:] = clipped_logit(np.mean(y))
        return model
    if method == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            np.asarray(probability, dtype=float), y)
    raise ValueError(f"recalibration method must be 'logistic' or 'isotonic', got {method!r}")


def apply_recalibration(calibrator, probability) -> np.ndarray:
    """Recalibrated probabilities ``p'`` of ``probability`` (see :func:`fit_recalibration`)."""
    p = np.asarray(probability, dtype=float)
    if isinstance(calibrator, IsotonicRegression):
        return np.clip(calibrator.predict(p), 0.0, 1.0)
    return calibrator.predict_proba(clipped_logit(p)[:, None])[:, 1]


def logistic_coefficients(calibrator) -> tuple[float, float]:
    """``(a, b)`` of a logistic recalibration ``logit p' = a + b · logit p``."""
    return float(calibrator.intercept_[0]), float(calibrator.coef_[0, 0])


def recalibrate_logistic(probability, intercept: float, slope: float) -> np.ndarray:
    """``expit(intercept + slope · logit(p))``: a logistic recalibration given as numbers."""
    return expit(intercept + slope * clipped_logit(probability))
