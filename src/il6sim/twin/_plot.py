"""Figure of a twin forecast: one panel per lab, data against forecast bands, death risk below.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state, no display).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._priors import LAB_MARKERS

__all__ = ["plot_forecast"]

_TITLES = {"il6": "IL-6", "crp": "CRP", "ldh": "LDH", "lymphocytes": "Lymphocytes"}
_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple")


def plot_forecast(forecast, path: Path, level: float = 0.9) -> Path:
    """Write the forecast figure to ``path`` (format from the suffix) and return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 7.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    obs = forecast.observations
    fitted = obs["time_days"] <= forecast.now_days
    for ax, (marker, spec) in zip(axes, LAB_MARKERS.items(), strict=True):
        for colour, (name, _arm) in zip(_COLOURS, forecast.arms.items(), strict=False):
            band = forecast.band(marker, name, level)
            curve = forecast.band(marker, name, level, noise=False)
            future = band["days"] >= forecast.now_days
            ax.fill_between(band["days"][future], band["low"][future], band["high"][future],
                            color=colour, alpha=0.18, linewidth=0)
            ax.plot(curve["days"][future], curve["median"][future], color=colour, lw=1.8,
                    label=f"{name} (median, {level:.0%} predictive)")
        ax.plot(forecast.days, forecast.arms["untreated"].map_labs[marker], color="0.3", lw=1.0,
                ls=":",
                label="twin at the MAP estimate (untreated)")
        mine = obs[obs["marker"] == marker]
        for sel, face, label in ((fitted, "black", "labs used for the fit"),
                                 (~fitted, "white", "later labs (not used)")):
            points = mine[sel.loc[mine.index]]
            if len(points):
                ax.scatter(points["time_days"], points["value"], s=28, zorder=5,
                           facecolor=face, edgecolor="black", label=label)
            censored = points[points["censored"].fillna("") != ""]
            if len(censored):
                ax.scatter(censored["time_days"], censored["value"], marker="x", s=40,
                           color="crimson", zorder=6, label="censored (assay limit)")
        ax.axvline(forecast.now_days, color="0.5", ls="--", lw=1)
        if marker != "lymphocytes":
            ax.set_yscale("log")
        ax.set_title(f"{_TITLES[marker]} ({spec.unit})", fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[2:]:
        ax.set_xlabel("days since admission")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    risk = forecast.death_probability()
    text = "; ".join(f"{r.arm}: {r.probability:.1%}" for r in risk.itertuples())
    recalibrated = ""
    if risk["recalibrated"].notna().any():  # the post-hoc recalibration, beside the model's
        recalibrated = ("\nrecalibrated to the shipped cohort (post hoc): " + "; ".join(
            f"{r.arm}: {r.recalibrated:.0%}" for r in risk.itertuples()))
    diagnostics = forecast.diagnostics
    text += (f" ({diagnostics.describe()})" if diagnostics is not None else
             f" ({forecast.effective_draws:.0f} effective draws of {len(forecast.weights)})")
    outcome = {1: "died", 0: "survived"}.get(forecast.outcome, "outcome unknown")
    title = (f"Digital twin of patient {forecast.patient_id} (age {forecast.age:.0f}, "
             f"{outcome}); fitted on day 0-{forecast.now_days:.3g}\nP(death within "
             f"{forecast.horizon_days:g} d, model) {text}{recalibrated}")
    low = diagnostics is not None and diagnostics.low
    if low:
        title += ("\nWARNING: low effective sample size — the bands and intervals rest on a "
                  "few draws and are too narrow")
    fig.suptitle(title, fontsize=10, color="darkred" if low else "black")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    if not np.isfinite(risk["probability"]).all():
        forecast.notes.append("some arms had no successful draws")
    return path
