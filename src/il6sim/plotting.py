"""Plots of simulation results: one panel per read-out, in clinical units, with target overlays.

Figures are drawn with matplotlib's object API on the Agg canvas, so plotting never touches
pyplot's global state or needs a display. Axis labels come from the model's output
declarations (:attr:`il6sim.model.spec.Output.display_label`, e.g. ``'P/F ratio (mmHg)'``), with
units written the clinical way (``µg/L``, ``10⁹/L``). Pathogen loads are drawn on log axes.

A *target* is any object with the attributes ``output`` (read-out name), ``time_h`` (hours,
or ``None`` for a range that applies at any time, such as a peak), ``low`` and ``high`` (either
may be ``None``) and ``label``; ``center``, ``statistic`` and ``id`` are used when present. The
calibration targets of :mod:`il6sim.calibration.targets` have these attributes. Each target is
drawn by its kind, in its own units (:func:`target_geometry`): values as points or bands,
times as bands on the time axis, ratios as annotated markers on the curve, and ratios between
runs listed in a note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._plot_targets import TargetMark, draw_targets, target_geometry
from .errors import InputError

__all__ = ["TargetMark", "axis_label", "comparison_figure", "output_label", "plot_comparison",
           "plot_result", "result_figure", "target_geometry", "unit_label"]

#: How units are written on axes (clinical conventions); others get ``u`` → ``µ``.
UNIT_LABELS = {"cell/nL": "10⁹/L", "cell/uL": "cells/µL", "cell/mL": "cells/mL",
               "percent": "%", "virion/mL": "virions/mL", "dimensionless": ""}

#: Read-outs in these units span decades after a challenge and get a log axis when useful.
LOG_UNITS = {"pg/mL", "ng/mL"}

#: Pathogen loads: always on a log axis (down to :data:`LOAD_DECADES` below the peak).
LOAD_UNITS = {"CFU/mL", "virion/mL", "cell/mL", "copies/mL"}
LOAD_DECADES = 8

#: Above this duration (hours) the time axis is in days.
DAYS_ABOVE_H = 72.0

#: Above this many patients a batch is drawn as median and 5–95 % band instead of lines.
MAX_LINES = 20


def output_label(name: str) -> str:
    """``'P/F ratio'``: the display label the model declares for read-out ``name``."""
    from .engine.results import CLINICAL_OUTPUTS
    from .model import default_model

    model = default_model()
    index = model.output_index.get(name)
    if index is None:
        return CLINICAL_OUTPUTS.get(name, ("", name))[1]
    return model.outputs[index].display_label


def unit_label(unit: str) -> str:
    """``'µg/L'`` for ``'ug/L'``, ``'10⁹/L'`` for ``'cell/nL'``: a unit as clinicians write it."""
    if unit in UNIT_LABELS:
        return UNIT_LABELS[unit]
    return re.sub(r"(?<![A-Za-z])u(?=(g|mol|L|IU)\b)", "µ", unit)


def axis_label(name: str, unit: str) -> str:
    """``'IL-6 (pg/mL)'``: the read-out's declared label and its clinical unit."""
    shown = unit_label(unit)
    return f"{output_label(name)} ({shown})" if shown else output_label(name)


def _time_axis(time_h: np.ndarray) -> tuple[float, str]:
    if len(time_h) and float(np.nanmax(time_h)) > DAYS_ABOVE_H:
        return 24.0, "Time (days)"
    return 1.0, "Time (h)"


def _grid(n: int) -> tuple[int, int]:
    ncols = 1 if n == 1 else 2 if n <= 4 else 3
    return math.ceil(n / ncols), ncols


def _figure(n: int, title: str | None):
    from matplotlib.figure import Figure

    nrows, ncols = _grid(n)
    fig = Figure(figsize=(5.0 * ncols, 3.3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig, axes[:n]


def _draw_batch(ax, x: np.ndarray, values: np.ndarray, color: Any, label: str | None) -> None:
    """One line per patient, or the median and a 5–95 % band for large batches."""
    values = np.atleast_2d(values)
    values = values[np.isfinite(values).any(axis=1)]
    if len(values) == 0:
        return
    if len(values) == 1:
        ax.plot(x, values[0], color=color, lw=1.8, label=label)
    elif len(values) <= MAX_LINES:
        for i, row in enumerate(values):
            ax.plot(x, row, color=color, lw=1.0, alpha=0.6, label=label if i == 0 else None)
    else:
        low, mid, high = np.nanpercentile(values, [5, 50, 95], axis=0)
        ax.fill_between(x, low, high, color=color, alpha=0.2, lw=0)
        ax.plot(x, mid, color=color, lw=1.8, label=f"{label} (median, 5–95 %)" if label else None)


def _median(values: np.ndarray) -> np.ndarray:
    values = np.atleast_2d(values)
    finite = np.isfinite(values).any(axis=1)
    if not finite.any():
        return np.full(values.shape[1], np.nan)
    return np.nanmedian(values[finite], axis=0)


def _set_scale(ax, unit: str, data: Iterable[float], centers: Sequence[float] = (),
               bounds: Sequence[float] = ()) -> None:
    """Y limits that show the runs and target centres; log-y for cytokine-like read-outs
    spanning more than ~1.5 decades, and always for pathogen loads (down to
    :data:`LOAD_DECADES` below the peak). A target bound far outside (an open-ended range such
    as "more than threefold") may run off the panel rather than squash the curves."""
    core = np.asarray([v for v in (*data, *centers) if np.isfinite(v)], float)
    if core.size == 0:
        return
    top = float(core.max())
    if unit in LOAD_UNITS and top > 0:
        positive = core[core > 0]
        bottom = max(float(positive.min()), top / 10.0**LOAD_DECADES)
        ax.set_yscale("log")
        ax.set_ylim(bottom / 2, top * 2)
        return
    floor = top / 1e4 if top > 0 else -np.inf
    kept = [b for b in bounds
            if np.isfinite(b) and min(core.min(), 0) <= b <= 3 * max(top, 0)]
    values = np.concatenate([core, np.asarray(kept, float)])
    top = float(values.max())
    positive = values[values > 0]
    if unit in LOG_UNITS and top > 0 and positive.size:
        bottom = max(float(positive.min()), floor)
        if top / bottom >= 30:
            ax.set_yscale("log")
            ax.set_ylim(bottom / 1.5, top * 1.5)
            return
    low = float(values.min())
    # a flat line (a run at rest) is shown as flat: at least ±10 % of its level
    span = max(top - low, 0.2 * max(abs(top), abs(low)), 1e-12)
    middle = (top + low) / 2
    ax.set_ylim(min(low, middle - span / 2) - 0.05 * span,
                max(top, middle + span / 2) + 0.05 * span)
    ax.ticklabel_format(axis="y", useOffset=False)


def _targets_by_output(targets: Iterable[Any] | None) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for target in targets or ():
        grouped.setdefault(str(getattr(target, "output", "")), []).append(target)
    return grouped


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=120)
    except ValueError as exc:
        raise InputError(
            f"cannot save the plot as '{path}' ({exc}); "
            "fix: end the file name in .png, .pdf or .svg"
        ) from None
    return path


def _check_outputs(outputs: Sequence[str]) -> list[str]:
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    if not outputs:
        raise InputError("no outputs to plot; fix: name at least one read-out, e.g. ['il6']")
    return outputs


def plot_result(
    result: Any,
    outputs: Sequence[str],
    path: str | Path,
    *,
    targets: Iterable[Any] | None = None,
    title: str | None = None,
) -> Path:
    """Plot read-outs of one :class:`~il6sim.engine.SimulationResult`, one panel each.

    Parameters
    ----------
    result : the simulation result (one patient or a batch).
    outputs : read-out names, e.g. ``['il6', 'tnf', 'il10', 'crp']``.
    path : image file to write (``.png``, ``.pdf``, ``.svg``).
    targets : optional targets to overlay (see the module docstring); targets for read-outs that
        are not plotted are ignored.
    title : figure title (default: the scenario name stored in the result, if any).

    Returns
    -------
    Path
        the file written.

    Examples
    --------
    >>> from il6sim import load_scenario, plot_result
    >>> result = load_scenario("endotoxemia-2ngkg").run()          # doctest: +SKIP
    >>> plot_result(result, ["il6", "crp"], "endotoxemia.png")     # doctest: +SKIP
    """
    return _save(result_figure(result, outputs, targets=targets, title=title), path)


def result_figure(result: Any, outputs: Sequence[str], *, targets: Iterable[Any] | None = None,
                  title: str | None = None):
    """The figure of :func:`plot_result`, not saved (a matplotlib ``Figure``)."""
    outputs = _check_outputs(outputs)
    title = title if title is not None else result.settings.get("scenario")
    scale, xlabel = _time_axis(result.time)
    x = np.asarray(result.time, float) / scale
    grouped = _targets_by_output(targets)
    fig, axes = _figure(len(outputs), title)
    for ax, name in zip(axes, outputs, strict=True):
        values = result.output(name)
        unit = result.unit(name)
        _draw_batch(ax, x, values, "tab:blue", "model" if grouped.get(name) else None)
        reference = (np.asarray(result.time, float), _median(values))
        centers, bounds, _ = draw_targets(ax, grouped.get(name, []), scale, reference)
        _set_scale(ax, unit, np.ravel(values), centers, bounds)
        ax.set_ylabel(axis_label(name, unit))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if grouped.get(name):
            ax.legend(fontsize="small")
    return fig


def plot_comparison(
    results: Mapping[str, Any],
    outputs: Sequence[str],
    path: str | Path,
    *,
    targets: Iterable[Any] | None = None,
    title: str | None = None,
) -> Path:
    """Overlay several runs (e.g. treated vs untreated), one panel per read-out.

    Parameters
    ----------
    results : run label → :class:`~il6sim.engine.SimulationResult`; each run has its own
        colour (a batch is drawn as its median and 5–95 % band).
    outputs, path, targets, title : as in :func:`plot_result`.

    Returns
    -------
    Path
        the file written.

    Examples
    --------
    >>> runs = {"untreated": a, "tocilizumab": b}
    >>> plot_comparison(runs, ["il6", "crp"], "cmp.png")  # doctest: +SKIP
    """
    return _save(comparison_figure(results, outputs, targets=targets, title=title), path)


def comparison_figure(results: Mapping[str, Any], outputs: Sequence[str], *,
                      targets: Iterable[Any] | None = None, title: str | None = None):
    """The figure of :func:`plot_comparison`, not saved (a matplotlib ``Figure``)."""
    outputs = _check_outputs(outputs)
    if not results:
        raise InputError("no results to compare; fix: pass a mapping of label → result")
    longest = max(float(np.nanmax(r.time)) for r in results.values())
    scale, xlabel = _time_axis(np.array([longest]))
    grouped = _targets_by_output(targets)
    colors = [f"C{i % 10}" for i in range(len(results))]
    fig, axes = _figure(len(outputs), title)
    for ax, name in zip(axes, outputs, strict=True):
        drawn: list[float] = []
        unit = ""
        reference = None
        for color, (label, result) in zip(colors, results.items(), strict=True):
            values = result.output(name)
            unit = result.unit(name)
            _draw_batch(ax, np.asarray(result.time, float) / scale, values, color, label)
            drawn += list(np.ravel(values))
            if reference is None:  # relative targets refer to the first run
                reference = (np.asarray(result.time, float), _median(values))
        centers, bounds, _ = draw_targets(ax, grouped.get(name, []), scale, reference)
        _set_scale(ax, unit, drawn, centers, bounds)
        ax.set_ylabel(axis_label(name, unit))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig
