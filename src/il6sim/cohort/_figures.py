"""Figures of the biomarker report (matplotlib object API; no global backend is changed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from ._biomarkers import oriented_score
from ._calibration import calibration_measures, reliability_table
from ._markers import MARKER_BY_NAME

__all__ = ["plot_calibration", "plot_death_incidence", "plot_il6_by_outcome",
           "plot_reliability", "plot_roc", "plot_time_auc"]


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def plot_roc(X: pd.DataFrame, y: pd.Series, aucs: pd.DataFrame, markers, path: Path) -> Path:
    """ROC curves (scikit-learn ``roc_curve``) of single markers, each on patients who have it."""
    fig = Figure(figsize=(6.0, 5.5))
    ax = fig.add_subplot()
    auc_of = aucs.set_index("marker")["auc"]
    for marker in markers:
        if marker not in auc_of:
            continue
        usable = X[marker].notna()
        fpr, tpr, _ = roc_curve(y[usable], oriented_score(marker, X.loc[usable, marker]))
        label = f"{MARKER_BY_NAME[marker].label} (AUC {auc_of[marker]:.2f}, n={usable.sum()})"
        ax.plot(fpr, tpr, lw=1.6, label=label)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="1 − specificity", ylabel="sensitivity", xlim=(0, 1), ylim=(0, 1.01),
           title="In-hospital death: first value within the window")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def plot_il6_by_outcome(il6: pd.Series, y: pd.Series, cutoff: float, path: Path) -> Path:
    """IL-6 (log scale) by outcome: box plot and the individual values, with a cut-off line."""
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    groups = [il6[(y == k) & il6.notna()] for k in (0, 1)]
    ax.boxplot(groups, positions=[0, 1], widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only
    for k, values in enumerate(groups):
        ax.scatter(k + rng.uniform(-0.15, 0.15, len(values)), values, s=9, alpha=0.6)
    ax.axhline(cutoff, color="grey", ls="--", lw=1, label=f"{cutoff:g} pg/mL (Herold 2020)")
    ax.set_yscale("log")
    ax.set_xticks([0, 1], [f"survived (n={len(groups[0])})", f"died (n={len(groups[1])})"])
    ax.set(ylabel="IL-6, pg/mL", title="First IL-6 within the window")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_time_auc(table: pd.DataFrame, path: Path) -> Path:
    """AUC (95% CI) of each marker by days before the outcome event."""
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot()
    bins = list(dict.fromkeys(table["bin"]))
    for k, (marker, part) in enumerate(table.groupby("marker", sort=False)):
        x = np.arange(len(bins)) + (k - 1.5) * 0.06
        part = part.set_index("bin").reindex(bins)
        err = np.vstack([part["auc"] - part["auc_low"], part["auc_high"] - part["auc"]])
        ax.errorbar(x, part["auc"], yerr=err, marker="o", capsize=3,
                    label=MARKER_BY_NAME[marker].label)
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.set_xticks(np.arange(len(bins)), bins)
    ax.set(xlabel="days before death or discharge", ylabel="AUC (95% CI)", ylim=(0.4, 1.02),
           title="Discrimination by time before the outcome")
    ax.legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def plot_death_incidence(panels: list[tuple[str, dict, float]], path: Path) -> Path:
    """Cumulative incidence of in-hospital death (Aalen–Johansen, discharge a competing event),
    one panel per stratification: ``(title, fitters, log-rank p)``."""
    fig = Figure(figsize=(5.0 * len(panels), 4.2))
    for k, (title, fitters, p) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        for label, ajf in fitters.items():
            cif = ajf.cumulative_density_
            ax.step(cif.index, cif.iloc[:, 0], where="post",
                    label=f"{label} (n={len(ajf.durations)})")
        ax.set(xlabel="days since admission",
               ylabel="cumulative incidence of in-hospital death",
               ylim=(0, 1.02), title=f"{title} (log-rank p={p:.1e})")
        ax.legend(fontsize=8, loc="upper left", title="discharge: competing event",
                  title_fontsize=7)
    return _save(fig, path)


def plot_calibration(table: pd.DataFrame, y: pd.Series, probability: pd.Series,
                     il6: pd.Series, path: Path) -> Path:
    """Left: calibration of out-of-fold probabilities. Right: ROC of the model vs IL-6 alone."""
    fig = Figure(figsize=(10.0, 4.4))
    ax = fig.add_subplot(1, 2, 1)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.plot(table["mean_predicted"], table["observed"], marker="o")
    ax.set(xlabel="mean predicted probability of death", ylabel="observed proportion died",
           xlim=(0, 1), ylim=(0, 1), title="Calibration (grouped CV, out-of-fold)")
    ax = fig.add_subplot(1, 2, 2)
    fpr, tpr, _ = roc_curve(y, probability)
    ax.plot(fpr, tpr, label=f"Il6Prognosis, all patients (n={len(y)})")
    has = il6.notna()
    if has.sum() >= 6 and y[has].nunique() == 2:
        fpr, tpr, _ = roc_curve(y[has], probability[has])
        ax.plot(fpr, tpr, label=f"Il6Prognosis, patients with IL-6 (n={has.sum()})")
        fpr, tpr, _ = roc_curve(y[has], il6[has])
        ax.plot(fpr, tpr, label="IL-6 alone")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="1 − specificity", ylabel="sensitivity", title="Model vs IL-6 alone")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def plot_reliability(curves, path: Path, *, title: str = "Reliability diagram",
                     n_bins: int = 10) -> Path:
    """Reliability diagram: observed share who died against the mean predicted probability
    (scikit-learn ``calibration_curve``, ``n_bins`` quantile bins), one line per curve, with
    the mean predicted vs observed and the calibration slope in the legend; below, the
    distribution of the predictions.

    ``curves`` is a sequence of ``(label, y, probability)`` or ``(label, y, probability,
    measures)``, where ``measures`` (``mean_predicted``, ``observed``, ``slope``) replace the
    legend's numbers (e.g. means over cross-validation repeats when ``probability`` stacks the
    repeats).
    """
    fig = Figure(figsize=(5.6, 6.4), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=(3.2, 1.0))
    ax = fig.add_subplot(grid[0])
    low = fig.add_subplot(grid[1], sharex=ax)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfect calibration")
    bins = np.linspace(0.0, 1.0, 21)
    for label, y, probability, *given in curves:
        table = reliability_table(y, probability, n_bins)
        m = given[0] if given else calibration_measures(y, probability)
        text = (f"{label}: mean {m['mean_predicted']:.1%} vs observed {m['observed']:.1%}, "
                f"slope {m['slope']:.2f}")
        line, = ax.plot(table["mean_predicted"], table["observed"], marker="o", ms=4, lw=1.4,
                        label=text)
        finite = np.asarray(probability, dtype=float)
        low.hist(finite[np.isfinite(finite)], bins=bins, histtype="step", lw=1.4,
                 color=line.get_color())
    ax.set(ylabel="observed share who died", xlim=(0, 1), ylim=(0, 1), title=title)
    ax.tick_params(labelbottom=False)
    ax.legend(fontsize=7, loc="upper left")
    low.set(xlabel="predicted probability of death", ylabel="predictions")
    fig.savefig(path, dpi=120)
    return Path(path)
