"""The few figures of the study that no il6sim package draws already.

Drawn with matplotlib's object API (no pyplot state, no display), like :mod:`il6sim.plotting`;
each function returns a :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["plot_clinical_course", "plot_severity_population", "plot_source_shares"]

_SOURCE_LABELS = {"macrophages": "macrophages", "t_cells": "T cells", "b_cells": "B cells",
                  "endothelium": "endothelium", "fibroblasts": "fibroblasts"}


def plot_source_shares(shares: pd.DataFrame, folds: Mapping[str, np.ndarray], *,
                       until_h: float):
    """Left: share of IL-6 made by each cell type (stacked); right: each source's production
    relative to its own resting rate.

    ``shares`` is :meth:`SimulationResult.il6_source_shares` of one patient; ``folds`` maps a
    source to its production rate over rest at the same times.
    """
    from matplotlib.figure import Figure

    keep = (shares.time_h <= until_h).to_numpy()
    part = shares[keep]
    sources = [c for c in part.columns if c not in ("patient", "time_h")]
    fig = Figure(figsize=(10.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.stackplot(part.time_h, *(part[s] * 100 for s in sources),
                   labels=[_SOURCE_LABELS.get(s, s) for s in sources], alpha=0.85)
    left.set(xlabel="time after endotoxin (h)", ylabel="share of IL-6 made (%)",
             ylim=(0, 100), xlim=(0, until_h), title="share of IL-6 made by each cell type")
    left.legend(fontsize=8, loc="lower right")
    for source in sources:
        right.plot(part.time_h, np.asarray(folds[source])[keep],
                   label=_SOURCE_LABELS.get(source, source))
    right.set_yscale("log")
    right.set(xlabel="time after endotoxin (h)", ylabel="production rate (× its rest)",
              xlim=(0, until_h), title="IL-6 production by each cell type")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    return fig


def plot_severity_population(table: pd.DataFrame, *, rho: float, auc: float):
    """Peak IL-6 against peak SOFA in a virtual population, coloured by the death draw."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    died = table.death_time_h.notna().to_numpy()
    for mask, label, colour in ((~died, "survived", "tab:blue"), (died, "died", "tab:red")):
        ax.scatter(table.peak_il6[mask], table.peak_sofa[mask], s=16, alpha=0.7,
                   color=colour, label=f"{label} (n={mask.sum()})")
    ax.set_xscale("log")
    ax.set(xlabel="peak IL-6 (pg/mL)", ylabel="peak SOFA score",
           title=f"Virtual COVID-19 patients: Spearman ρ {rho:.2f}"
                 + (f", AUC for death {auc:.2f}" if np.isfinite(auc) else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_clinical_course(runs: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """SOFA score over time per run, with the hours in cytokine storm shaded.

    ``runs`` maps a label to ``(time_h, sofa, storm)`` of one patient.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for k, (label, (time_h, sofa, storm)) in enumerate(runs.items()):
        colour = f"C{k}"
        days = np.asarray(time_h) / 24.0
        ax.step(days, sofa, where="post", color=colour, lw=1.8, label=f"{label}: SOFA")
        storm = np.asarray(storm, bool)
        if storm.any():
            ax.fill_between(days, 0, 1, where=storm, step="post", color=colour, alpha=0.15,
                            transform=ax.get_xaxis_transform(), label=f"{label}: cytokine storm")
    ax.set(xlabel="time (days)", ylabel="SOFA score (0–24)", ylim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return fig
