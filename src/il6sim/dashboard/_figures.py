"""Figures of the dashboard as inline SVG text, drawn by matplotlib on the server.

Drawn with matplotlib's object API (no pyplot state, no display); text stays text in the SVG
(``svg.fonttype = none``), so figures are small and searchable in the page.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["explore_figure", "svg_text", "trial_figure"]

#: Colour of each arm (untreated, treated) in the explorer.
ARM_COLOURS = {"untreated": "#4c72b0", "treated": "#dd8452"}


def svg_text(fig) -> str:
    """``fig`` as an SVG element (no XML prologue), to put inside an HTML page."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    return _inline(buffer.getvalue())


def svg_file_text(path: Path) -> str:
    """The SVG file at ``path`` as an element to put inside an HTML page."""
    return _inline(path.read_text(encoding="utf-8"))


def _inline(text: str) -> str:
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def explore_figure(days: Sequence[float], curves: Mapping[str, Mapping[str, Sequence[Any]]],
                   panels: Sequence[tuple[str, str, str, bool]], *, title: str,
                   treated_label: str | None, treatment_day: float | None) -> str:
    """Untreated and treated courses, one panel per read-out, as SVG text.

    ``curves`` is ``{arm: {read-out: values}}`` with ``arm`` ``untreated`` and optionally
    ``treated``; ``panels`` gives (read-out, title, unit, log axis) for each panel.
    """
    fig = _figure(10.5, 6.0)
    axes = fig.subplots(2, 3, sharex=True).ravel()
    x = np.asarray(days, float)
    labels = {"untreated": "untreated", "treated": treated_label or "treated"}
    for ax, (name, panel_title, unit, log) in zip(axes, panels, strict=True):
        for arm, values in curves.items():
            y = np.asarray(values[name], dtype=float)
            ax.plot(x, y, color=ARM_COLOURS[arm], lw=1.8, label=labels[arm])
        if treatment_day is not None:
            ax.axvline(treatment_day, color="0.4", ls="--", lw=1.0)
        if log and all(np.nanmin(np.asarray(v[name], dtype=float)) > 0 for v in curves.values()):
            ax.set_yscale("log")
        ax.set_title(f"{panel_title} ({unit})", fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[3:]:
        ax.set_xlabel("days since infection")
    handles, legend = axes[0].get_legend_handles_labels()
    if treatment_day is not None:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.4", ls="--", lw=1.0))
        legend.append("first dose")
    fig.legend(handles, legend, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=10)
    return svg_text(fig)


def trial_figure(arms, *, title: str) -> str:
    """Risk of each endpoint by arm with its 95 % interval, as SVG.

    ``arms`` is the long table of :attr:`il6sim.trial.TrialResult.arms` (``endpoint``, ``arm``,
    ``value``, ``ci_low``, ``ci_high``, ``measure``); only rows measured as a risk are drawn.
    """
    risks = arms[arms["measure"] == "risk"]
    endpoints = list(dict.fromkeys(risks["endpoint"]))
    names = list(dict.fromkeys(risks["arm"]))
    fig = _figure(7.0, 0.9 + 0.28 * max(len(endpoints) * len(names), 1))
    ax = fig.subplots()
    height = 0.8 / max(len(names), 1)
    for i, arm in enumerate(names):
        mine = risks[risks["arm"] == arm].set_index("endpoint").reindex(endpoints)
        y = np.arange(len(endpoints)) + (i - (len(names) - 1) / 2) * height
        value = mine["value"].to_numpy(float)
        error = np.abs(np.vstack([value - mine["ci_low"].to_numpy(float),
                                  mine["ci_high"].to_numpy(float) - value]))
        ax.barh(y, value, height=height * 0.9, color=f"C{i % 10}", alpha=0.85, label=arm,
                xerr=error, error_kw={"elinewidth": 1.0, "capsize": 2, "ecolor": "0.2"})
    ax.set_yticks(np.arange(len(endpoints)), [e.replace("_", " ") for e in endpoints])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("risk (95 % interval)")
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return svg_text(fig)
