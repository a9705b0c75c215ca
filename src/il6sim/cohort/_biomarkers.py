"""Discrimination of in-hospital death by single biomarkers: group comparison, ROC/AUC, cut-offs.

ROC curves and AUCs are computed with scikit-learn (:func:`~sklearn.metrics.roc_auc_score`,
:func:`~sklearn.metrics.roc_curve`); this module only orients the scores, resamples patients for
confidence intervals and picks cut-offs.

References
----------
Youden W.J. (1950) Index for rating diagnostic tests. Cancer 3:32–35.
Herold T. et al. (2020) Elevated levels of IL-6 and CRP predict the need for mechanical ventilation
in COVID-19. J. Allergy Clin. Immunol. 146:128–136. doi:10.1016/j.jaci.2020.05.008.
Yan L. et al. (2020) An interpretable mortality prediction model for COVID-19 patients.
Nat. Mach. Intell. 2:283–288. doi:10.1038/s42256-020-0180-7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from sklearn.metrics import roc_auc_score, roc_curve

from ._cohort import Cohort
from ._markers import MARKER_BY_NAME

__all__ = [
    "HEROLD_IL6_CUTOFF", "ROC_MARKERS", "TIME_BINS", "YoudenCutoff", "auc_table",
    "bootstrap_auc", "herold_rule", "oriented_score", "outcome_comparison", "rule_performance",
    "time_dependent_auc", "yan_rule", "youden_cutoff",
]

#: Markers analysed by default: IL-6, the markers of the Yan et al. (2020) rule, other cytokines.
ROC_MARKERS: tuple[str, ...] = ("il6", "crp", "ldh", "lymphocytes", "lymphocyte_pct", "ferritin",
                                "il10", "tnf", "il2r", "il8", "d_dimer", "procalcitonin",
                                "neutrophils")

#: IL-6 cut-off (pg/mL) of Herold et al. (2020) for later respiratory failure (mechanical
#: ventilation) — not for death; used here as a published reference threshold.
HEROLD_IL6_CUTOFF = 80.0

#: Bins of days before the outcome event (death or discharge): [low, high).
TIME_BINS: tuple[tuple[float, float], ...] = ((0, 3), (3, 6), (6, 10), (10, np.inf))


def bin_label(low: float, high: float) -> str:
    """``(0, 3)`` -> ``"0–2 d"``; ``(10, inf)`` -> ``"≥10 d"`` (whole days before the outcome)."""
    return f"≥{low:g} d" if np.isinf(high) else f"{low:g}–{high - 1:g} d"


def oriented_score(marker: str, values) -> np.ndarray:
    """Values as a risk score: negated for markers where lower means worse (lymphocytes ...).

    The direction comes from the marker catalogue (``MarkerSpec.worse``), fixed before looking
    at outcomes, so that an AUC below 0.5 shows a marker going the unexpected way.
    """
    sign = -1.0 if MARKER_BY_NAME[marker].worse == "low" else 1.0
    return sign * np.asarray(values, dtype=float)


def bootstrap_auc(y, score, n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """ROC AUC and percentile-bootstrap 95% CI (patients resampled with replacement).

    Resamples that contain one class only are skipped. Returns ``(auc, low, high)``; the interval
    is NaN when ``n_boot`` is 0.
    """
    y = np.asarray(y)
    score = np.asarray(score, dtype=float)
    auc = float(roc_auc_score(y, score))
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() != y[idx].max():
            stats.append(roc_auc_score(y[idx], score[idx]))
    if not stats:
        return auc, float("nan"), float("nan")
    low, high = np.percentile(stats, [2.5, 97.5])
    return auc, float(low), float(high)


@dataclass(frozen=True)
class YoudenCutoff:
    """Cut-off maximising sensitivity + specificity − 1 (Youden's J).

    ``direction`` is ``">="`` (values at or above the cut-off predict death) or ``"<="``.
    """

    cutoff: float
    direction: str
    sensitivity: float
    specificity: float

    @property
    def j(self) -> float:
        return self.sensitivity + self.specificity - 1.0


def youden_cutoff(y, values, worse: str = "high") -> YoudenCutoff:
    """Optimal cut-off by Youden's J from :func:`sklearn.metrics.roc_curve`.

    Parameters
    ----------
    y
        1 = died, 0 = survived.
    values
        Marker values.
    worse
        ``"high"`` if high values predict death, ``"low"`` if low values do.
    """
    sign = -1.0 if worse == "low" else 1.0
    fpr, tpr, thresholds = roc_curve(np.asarray(y), sign * np.asarray(values, dtype=float))
    best = int(np.argmax(tpr - fpr))
    return YoudenCutoff(float(sign * thresholds[best]), "<=" if sign < 0 else ">=",
                        float(tpr[best]), float(1.0 - fpr[best]))


def rule_performance(y, predicted) -> dict[str, float]:
    """Sensitivity, specificity, PPV, NPV, accuracy and balanced accuracy of a yes/no rule.

    Rows where ``predicted`` is missing (rule not applicable) are counted in ``n_not_applicable``
    and left out.
    """
    y = pd.Series(np.asarray(y, dtype=float))
    predicted = pd.Series(np.asarray(predicted, dtype=float))
    usable = predicted.notna() & y.notna()
    yy, pp = y[usable].astype(int), predicted[usable].astype(int)
    tp, tn = int(((pp == 1) & (yy == 1)).sum()), int(((pp == 0) & (yy == 0)).sum())
    fp, fn = int(((pp == 1) & (yy == 0)).sum()), int(((pp == 0) & (yy == 1)).sum())

    def ratio(a: int, b: int) -> float:
        return a / b if b else float("nan")

    sens, spec = ratio(tp, tp + fn), ratio(tn, tn + fp)
    return {"n": int(usable.sum()), "n_not_applicable": int((~usable).sum()),
            "sensitivity": sens, "specificity": spec, "ppv": ratio(tp, tp + fp),
            "npv": ratio(tn, tn + fn), "accuracy": ratio(tp + tn, int(usable.sum())),
            "balanced_accuracy": (sens + spec) / 2.0}


def herold_rule(X: pd.DataFrame, cutoff: float = HEROLD_IL6_CUTOFF) -> pd.Series:
    """1 if IL-6 > ``cutoff`` pg/mL (Herold et al. 2020), 0 if not, missing without IL-6."""
    il6 = X["il6"]
    return (il6 > cutoff).astype(float).where(il6.notna())


def yan_rule(X: pd.DataFrame) -> pd.Series:
    """Decision rule of Yan et al. (2020), Fig. 2: 1 = predicted death.

    Death if LDH > 365 U/L; otherwise survival if hs-CRP < 41.2 mg/L; otherwise death if
    lymphocytes ≤ 14.7 %. Missing where a needed value is missing. The rule was derived from
    (largely) the same Tongji patients' *last* samples, so it is not an independent test here.
    """
    ldh, crp, lym = X["ldh"], X["crp"], X["lymphocyte_pct"]
    out = pd.Series(np.nan, index=X.index)
    normal_ldh = ldh <= 365
    out[normal_ldh & (crp < 41.2)] = 0.0
    out[normal_ldh & (crp >= 41.2) & (lym > 14.7)] = 0.0
    out[normal_ldh & (crp >= 41.2) & (lym <= 14.7)] = 1.0
    out[ldh > 365] = 1.0
    return out


def outcome_comparison(X: pd.DataFrame, y: pd.Series, markers=ROC_MARKERS) -> pd.DataFrame:
    """Median and IQR of each marker in survivors and non-survivors; two-sided Mann–Whitney p."""
    rows = []
    for marker in markers:
        values = X[marker]
        died, survived = values[(y == 1) & values.notna()], values[(y == 0) & values.notna()]
        if len(died) < 2 or len(survived) < 2:
            continue
        spec = MARKER_BY_NAME[marker]
        row = {"marker": marker, "label": spec.label, "unit": spec.unit}
        for name, group in (("survived", survived), ("died", died)):
            q1, median, q3 = np.percentile(group, [25, 50, 75])
            row.update({f"n_{name}": len(group), f"median_{name}": median,
                        f"q1_{name}": q1, f"q3_{name}": q3})
        row["mannwhitney_p"] = float(mannwhitneyu(died, survived, alternative="two-sided").pvalue)
        rows.append(row)
    return pd.DataFrame(rows)


def auc_table(X: pd.DataFrame, y: pd.Series, markers=ROC_MARKERS, *, n_boot: int = 1000,
              seed: int = 0) -> pd.DataFrame:
    """AUC (bootstrap 95% CI) and Youden cut-off of each marker, on patients who have it.

    The score is oriented by the catalogue (lower lymphocytes = worse). Sorted by AUC.
    """
    rows = []
    for marker in markers:
        usable = X[marker].notna() & y.notna()
        yy, values = y[usable].astype(int), X.loc[usable, marker]
        if yy.nunique() < 2:
            continue
        spec = MARKER_BY_NAME[marker]
        auc, low, high = bootstrap_auc(yy, oriented_score(marker, values), n_boot, seed)
        cut = youden_cutoff(yy, values, spec.worse or "high")
        rows.append({"marker": marker, "label": spec.label, "unit": spec.unit,
                     "worse": spec.worse or "high", "n": len(yy), "n_died": int(yy.sum()),
                     "n_missing": int((~usable).sum()), "auc": auc, "auc_low": low,
                     "auc_high": high, "cutoff": cut.cutoff, "direction": cut.direction,
                     "sensitivity": cut.sensitivity, "specificity": cut.specificity})
    return pd.DataFrame(rows).sort_values("auc", ascending=False).reset_index(drop=True)


def time_dependent_auc(cohort: Cohort, markers=("il6", "crp", "ldh", "lymphocyte_pct"), *,
                       bins=TIME_BINS, n_boot: int = 1000, seed: int = 0,
                       min_per_class: int = 5) -> tuple[pd.DataFrame, dict[str, int]]:
    """AUC of each marker by days before the outcome event (death or discharge).

    For each patient and bin, the *latest* sample inside the bin (the one nearest to the outcome)
    is used. Samples dated after the discharge/death time, and patients without an outcome, are
    left out and counted. Bins with fewer than ``min_per_class`` patients in either class are
    reported with a missing AUC.

    Returns
    -------
    table
        ``marker``, ``bin``, ``n``, ``n_died``, ``auc``, ``auc_low``, ``auc_high``.
    excluded
        Counts of values left out: ``after_outcome``, ``no_outcome``.
    """
    long = cohort.long(list(markers))
    outcome = cohort.patient_info["outcome"]
    long = long.assign(outcome=long["patient_id"].map(outcome))
    excluded = {"after_outcome": int((long["days_to_end"] < 0).sum()),
                "no_outcome": int(long["outcome"].isna().sum())}
    long = long[(long["days_to_end"] >= 0) & long["outcome"].notna()]
    rows = []
    for marker in markers:
        values = long[long["marker"] == marker]
        for low, high in bins:
            inside = values[(values["days_to_end"] >= low) & (values["days_to_end"] < high)]
            latest = inside.sort_values("days_to_end").groupby("patient_id").first()
            yy = latest["outcome"].astype(int)
            row = {"marker": marker, "bin": bin_label(low, high), "n": len(yy),
                   "n_died": int(yy.sum()), "auc": np.nan, "auc_low": np.nan, "auc_high": np.nan}
            if min(yy.sum(), len(yy) - yy.sum()) >= min_per_class:
                auc, lo, hi = bootstrap_auc(yy, oriented_score(marker, latest["value"]),
                                            n_boot, seed)
                row.update(auc=auc, auc_low=lo, auc_high=hi)
            rows.append(row)
    return pd.DataFrame(rows), excluded
