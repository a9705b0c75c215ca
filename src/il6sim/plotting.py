"""Plots of simulation results: one panel per read-out, in clinical units, with target overlays.

Figures are drawn with matplotlib's object API on the Agg canvas, so plotting never touches
pyplot's global state or needs a display.

A *target* is any object with the attributes ``output`` (read-out name), ``time_h`` (hours,
or ``None`` for a range that applies at any time, such as a peak), ``low`` and ``high`` (either
may be ``None``) and ``label``; ``center`` and ``statistic`` are used when present. The
calibration targets of :mod:`il6sim.calibration.targets` have these attributes; their
statistics are drawn as follows (see :func:`target_geometry`): ``rest`` at time 0, ``peak`` and
``value_at`` at ``time_h``, ``time_of_peak`` as a band of times, and ``fraction_of_peak_at`` /
``fold_over_rest_at`` scaled by the plotted run's own peak or resting value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

#: Display names of read-outs (anything else is shown by its name).
LABELS = {
    "il6": "IL-6", "il6_free": "free IL-6", "il6_site": "IL-6 at the site",
    "tnf": "TNF-α", "tnf_site": "TNF-α at the site", "il1b": "IL-1β", "il10": "IL-10",
    "ifn": "type-I IFN", "lps": "endotoxin (LPS)", "crp": "CRP", "fibrinogen": "fibrinogen",
    "neutrophils": "blood neutrophils", "neutrophils_site": "neutrophils at the site",
    "sil6r_total": "soluble IL-6R", "sgp130_total": "soluble gp130", "stat3": "hepatocyte STAT3",
    "macrophages_active": "activated macrophages",
    "endothelial_activation": "endothelial activation",
    "classic_signal_liver": "classic signalling (liver)",
    "classic_signal_leukocytes": "classic signalling (leukocytes)",
    "trans_signal": "trans-signalling",
}

#: How units are written on axes (clinical conventions).
UNIT_LABELS = {"cell/nL": "10⁹/L", "cell/uL": "cells/µL", "percent": "%", "ug/mL": "µg/mL"}

#: Read-outs in these units span decades after a challenge and get a log axis when useful.
LOG_UNITS = {"pg/mL", "ng/mL"}

#: Above this duration (hours) the time axis is in days.
DAYS_ABOVE_H = 72.0

#: Above this many patients a batch is drawn as median and 5–95 % band instead of lines.
MAX_LINES = 20


def axis_label(name: str, unit: str) -> str:
    """``'IL-6 (pg/mL)'``: the read-out's display name and its clinical unit."""
    return f"{LABELS.get(name, name.replace('_', ' '))} ({UNIT_LABELS.get(unit, unit)})"


def _time_axis(time_h: np.ndarray) -> tuple[float, str]:
    if len(time_h) and float(np.nanmax(time_h)) > DAYS_ABOVE_H:
        return 24.0, "time (days)"
    return 1.0, "time (h)"


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


def _number(target: Any, name: str) -> float | None:
    value = getattr(target, name, None)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _center(low: float | None, high: float | None, center: float | None) -> float | None:
    if center is None and low is not None and high is not None:
        center = math.sqrt(low * high) if low > 0 and high > 0 else (low + high) / 2
    if center is None:
        center = low if low is not None else high
    return center


def target_geometry(target: Any, reference: tuple[np.ndarray, np.ndarray] | None = None):
    """How a target is drawn: ``(kind, x_h, low, high, center)`` or ``None``.

    ``kind`` is ``'point'`` (a value with its range at time ``x_h``), ``'hband'`` (a range of
    values at any time) or ``'vband'`` (a range of times, for ``time_of_peak``). Relative
    statistics (``fraction_of_peak_at``, ``fold_over_rest_at``) are placed on the ``reference``
    trajectory ``(time_h, values)``, and skipped without one.
    """
    low, high = _number(target, "low"), _number(target, "high")
    center = _number(target, "center")
    time_h = _number(target, "time_h")
    statistic = str(getattr(target, "statistic", "value") or "value")
    if statistic == "time_of_peak":
        return "vband", None, low, high, _center(low, high, center)
    if statistic in ("fraction_of_peak_at", "fold_over_rest_at"):
        if reference is None or time_h is None or not np.isfinite(reference[1]).any():
            return None
        y = reference[1]
        factor = float(np.nanmax(y)) if statistic == "fraction_of_peak_at" else float(y[0])
        low, high, center = (None if v is None else v * factor for v in (low, high, center))
    elif statistic == "rest":
        time_h = 0.0
    center = _center(low, high, center)
    if center is None:
        return None
    return ("hband" if time_h is None else "point"), time_h, low, high, center


def _draw_targets(ax, targets: Sequence[Any], scale: float,
                  reference: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[list[float], list[float]]:
    """Targets as points with ranges, or shaded bands; returns the centres and bounds drawn."""
    centers: list[float] = []
    bounds: list[float] = []
    drawn = [(t, g) for t in targets if (g := target_geometry(t, reference)) is not None]
    show_labels = len(drawn) <= 4
    for i, (target, (kind, time_h, low, high, center)) in enumerate(drawn):
        label = str(getattr(target, "label", "") or "target") if show_labels else (
            f"targets ({len(drawn)})" if i == 0 else None)
        if kind == "vband":
            if low is not None and high is not None:
                ax.axvspan(low / scale, high / scale, color="tab:orange", alpha=0.12, lw=0,
                           label=label)
            else:
                ax.axvline(center / scale, color="tab:orange", ls=":", lw=1.0, label=label)
            continue
        centers.append(center)
        bounds += [v for v in (low, high) if v is not None]
        if kind == "hband":
            if low is not None and high is not None:
                ax.axhspan(low, high, color="0.5", alpha=0.15, lw=0, label=label)
            else:
                ax.axhline(center, color="0.4", ls="--", lw=1.0, label=label)
            continue
        below = center - low if low is not None else 0.0
        above = high - center if high is not None else 0.0
        marker = "o" if (low is not None) == (high is not None) else ("^" if high is None else "v")
        ax.errorbar([time_h / scale], [center], yerr=[[max(below, 0.0)], [max(above, 0.0)]],
                    fmt=marker, color="black", ms=4, capsize=3, lw=1.0, label=label)
    return centers, bounds


def _median(values: np.ndarray) -> np.ndarray:
    values = np.atleast_2d(values)
    finite = np.isfinite(values).any(axis=1)
    if not finite.any():
        return np.full(values.shape[1], np.nan)
    return np.nanmedian(values[finite], axis=0)


def _set_scale(ax, unit: str, data: Iterable[float], centers: Sequence[float] = (),
               bounds: Sequence[float] = ()) -> None:
    """Y limits that show the runs and target centres; log-y for cytokine-like read-outs
    spanning more than ~1.5 decades. A target bound far outside (an open-ended range such as
    "more than threefold") may run off the panel rather than squash the curves."""
    core = np.asarray([v for v in (*data, *centers) if np.isfinite(v)], float)
    if core.size == 0:
        return
    top = float(core.max())
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
        centers, bounds = _draw_targets(ax, grouped.get(name, []), scale, reference)
        _set_scale(ax, unit, np.ravel(values), centers, bounds)
        ax.set_ylabel(axis_label(name, unit))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if grouped.get(name):
            ax.legend(fontsize="small")
    return _save(fig, path)


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
        centers, bounds = _draw_targets(ax, grouped.get(name, []), scale, reference)
        _set_scale(ax, unit, drawn, centers, bounds)
        ax.set_ylabel(axis_label(name, unit))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return _save(fig, path)
