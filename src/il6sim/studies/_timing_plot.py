"""The timing × selection heat map of a timing study (see :mod:`.timing`).

Rows are phenotypes, columns days of treatment; the colour is the paired change of one outcome
(treated − control; blue = benefit, red = harm) and each cell is annotated with that change and
with IL-6 and CRP at the time of treatment (the selection information a clinician would have).
Cells where the untreated patient is in a cytokine storm at treatment are outlined. Drawn with
matplotlib's object API (no pyplot state), like :mod:`il6sim.plotting`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

#: Heat-map metrics: stem -> (colour-bar label, scale of the shown number, annotation format).
METRICS = {
    "death_probability": ("change in probability of death (percentage points)", 100.0, "{:+.2g}"),
    "peak_sofa": ("change in peak SOFA (points)", 1.0, "{:+.0f}"),
    "storm_hours": ("change in cytokine-storm time (hours)", 1.0, "{:+.0f}"),
    "ventilation_hours": ("change in time needing ventilation (hours)", 1.0, "{:+.0f}"),
    "pathogen_hours": ("change in time with the pathogen present (hours)", 1.0, "{:+.0f}"),
    "secondary_infection_probability": (
        "change in probability of a secondary infection (percentage points)", 100.0, "{:+.2g}"),
}


def _norm(values: np.ndarray, metric: str):
    from matplotlib.colors import CenteredNorm, SymLogNorm

    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    if metric == "death_probability":
        # changes span 10^-3 to 10 percentage points: a symmetric log scale keeps small harms
        # and large benefits both visible (linear within ±0.01 pp)
        return SymLogNorm(linthresh=0.01, vmin=-top, vmax=top, base=10)
    return CenteredNorm(vcenter=0.0, halfrange=top)


def plot_timing(table: pd.DataFrame, *, metric: str = "death_probability",
                title: str | None = None):
    """Heat map of ``delta_<metric>`` (phenotype × day) with IL-6/CRP at treatment.

    Returns a :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if metric not in METRICS:
        raise InputError(f"--metric '{metric}' is not known; fix: one of {', '.join(METRICS)}")
    if f"delta_{metric}" not in table:
        raise InputError(f"--metric '{metric}' is not in this table; fix: use death_probability")
    label, scale, fmt = METRICS[metric]
    order = list(dict.fromkeys(table.phenotype))

    def wide(column: str) -> pd.DataFrame:
        return table.pivot(index="phenotype", columns="day", values=column).loc[order]

    delta = wide(f"delta_{metric}") * scale
    il6, crp = wide("il6_at_treatment"), wide("crp_at_treatment")
    storm = wide("storm_at_treatment").astype(bool)
    groups = table.drop_duplicates("phenotype").set_index("phenotype").group.loc[order]

    n_rows, n_cols = delta.shape
    fig = Figure(figsize=(2.0 + 1.25 * n_cols, 1.2 + 0.62 * n_rows), layout="constrained")
    ax = fig.add_subplot()
    values = delta.to_numpy(float)
    norm = _norm(values, metric)
    image = ax.imshow(values, cmap="RdBu_r", norm=norm, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            if not np.isfinite(values[i, j]):
                ax.text(j, i, "failed", ha="center", va="center", fontsize=7)
                continue
            dark = abs(norm(values[i, j]) - 0.5) > 0.3
            change = "0" if values[i, j] == 0 else fmt.format(values[i, j])
            ax.text(j, i, f"{change}\nIL-6 {il6.iat[i, j]:.3g} · "
                    f"CRP {crp.iat[i, j]:.3g}", ha="center", va="center", fontsize=6.5,
                    color="white" if dark else "black")
            if storm.iat[i, j]:
                ax.add_patch(Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False,
                                       edgecolor="black", linewidth=1.6))
    ax.set_xticks(range(n_cols), [f"day {d:g}" for d in delta.columns])
    ax.set_yticks(range(n_rows), [f"{name}\n({groups[name]})" if groups[name] else name
                                  for name in order], fontsize=8)
    ax.set_xlabel("start of treatment (days after infection)")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.9)
    if metric == "death_probability":
        top = norm.vmax
        ticks = [t for t in (0.01, 0.1, 1.0, 10.0, 100.0) if t <= top]
        colorbar.set_ticks([-t for t in reversed(ticks)] + [0.0] + ticks,
                           labels=[f"{-t:g}" for t in reversed(ticks)] + ["0"]
                           + [f"+{t:g}" for t in ticks])
    colorbar.set_label(f"{label}\nblue = benefit, red = harm", fontsize=8)
    ax.set_title((title + "\n" if title else "")
                 + "cell: change; IL-6 (pg/mL) and CRP (mg/L) at treatment; "
                 "outlined: in cytokine storm at treatment", fontsize=8.5)
    return fig
