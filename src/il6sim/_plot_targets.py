"""Target overlays of time-course panels, drawn by what kind of number each target is.

A panel's y axis is a concentration (or count) in the read-out's unit, its x axis is time. A
target is drawn on that panel only in a form whose units match:

* **value** targets (``rest``, ``peak``, ``trough``, ``value_at``, or a plain range with no
  statistic) are concentrations: a point with its range at ``time_h``, or a horizontal band
  when they hold at any time;
* **time** targets (``time_of_peak``, ``time_of_trough``) are times: a vertical band on the
  time axis;
* **relative** targets at a time (``fraction_of_peak_at``, ``fold_over_rest_at``) are ratios:
  an annotated marker on the model's curve at ``time_h`` (the ratio is written, never turned
  into a concentration band);
* anything else (``peak_fold_over_control``: a ratio between two runs) has no place on the
  panel and is listed in a note box inside it.

The legend names the targets when there are four or fewer, else it counts them per kind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TargetMark", "draw_targets", "target_geometry"]

VALUE_STATISTICS = frozenset({"value", "rest", "peak", "trough", "value_at"})
TIME_STATISTICS = {"time_of_peak": "peak", "time_of_trough": "nadir"}
RELATIVE_STATISTICS = {"fraction_of_peak_at": "of peak", "fold_over_rest_at": "× rest"}

#: Legend words per drawn kind (used when the targets are counted, not named).
KIND_WORDS = {"point": "value targets", "hband": "value targets", "vband": "time targets",
              "marker": "relative targets (annotated)"}


@dataclass(frozen=True)
class TargetMark:
    """How one target is drawn.

    ``kind`` is ``'point'``, ``'hband'`` (values, in the read-out's unit), ``'vband'``
    (``low``/``high``/``center`` in hours), ``'marker'`` (a ratio at ``time_h``, drawn at
    height ``y`` on the reference curve) or ``'note'`` (listed, not drawn). ``low``,
    ``high`` and ``center`` are in the target's own unit; ``text`` says it in words.
    """

    kind: str
    time_h: float | None
    low: float | None
    high: float | None
    center: float | None
    y: float | None = None
    text: str = ""


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


def _range(low: float | None, high: float | None, fmt: str = "{:g}") -> str:
    if low is not None and high is not None:
        return f"{fmt.format(low)}–{fmt.format(high)}"
    if low is not None:
        return f"≥ {fmt.format(low)}"
    return f"≤ {fmt.format(high)}" if high is not None else "?"


def _name(target: Any) -> str:
    return str(getattr(target, "id", None) or getattr(target, "label", "") or "target")


def _words(target: Any, statistic: str, low: float | None, high: float | None) -> str:
    """The target in its own units, e.g. ``'endotoxemia.il6_return: ≤ 10 % of peak at 6 h'``."""
    time_h = _number(target, "time_h")
    at = f" at {time_h:g} h" if time_h is not None else ""
    if statistic == "fraction_of_peak_at":
        what = f"{_range(*(None if v is None else 100 * v for v in (low, high)))} % of peak{at}"
    elif statistic == "fold_over_rest_at":
        what = f"{_range(low, high)}× rest{at}"
    elif statistic == "peak_fold_over_control":
        knockout = getattr(target, "knockout", None)
        what = f"peak {_range(low, high)}× control" + (f" ({knockout} knock-out)"
                                                       if knockout else "")
    elif statistic in TIME_STATISTICS:
        what = f"{TIME_STATISTICS[statistic]} at {_range(low, high)} h"
    else:
        what = f"{statistic} {_range(low, high)}{at}"
    return f"{_name(target)}: {what}"


def target_geometry(target: Any, reference: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> TargetMark | None:
    """How ``target`` is drawn (see the module docstring), or ``None`` without numbers.

    ``reference`` is ``(time_h, values)`` of the plotted run: relative targets sit on it.
    """
    low, high = _number(target, "low"), _number(target, "high")
    center = _center(low, high, _number(target, "center"))
    time_h = _number(target, "time_h")
    statistic = str(getattr(target, "statistic", "value") or "value")
    if center is None:
        return None
    text = _words(target, statistic, low, high)
    if statistic in TIME_STATISTICS:
        return TargetMark("vband", None, low, high, center, text=text)
    if statistic in RELATIVE_STATISTICS:
        if reference is None or time_h is None or not np.isfinite(reference[1]).any():
            return TargetMark("note", time_h, low, high, center, text=text)
        y = float(np.interp(time_h, reference[0], reference[1]))
        return TargetMark("marker", time_h, low, high, center, y=y, text=text)
    if statistic not in VALUE_STATISTICS:
        return TargetMark("note", time_h, low, high, center, text=text)
    if statistic == "rest":
        time_h = 0.0
    return TargetMark("hband" if time_h is None else "point", time_h, low, high, center,
                      text=text)


def _legend_labels(drawn: Sequence[tuple[Any, TargetMark]]) -> list[str | None]:
    """One label per drawn target: its own when few, else one counted entry per kind."""
    if len(drawn) <= 4:
        return [str(getattr(t, "label", "") or _name(t)) if m.kind in ("point", "hband")
                else m.text for t, m in drawn]
    counts: dict[str, int] = {}
    for _, mark in drawn:
        counts[KIND_WORDS[mark.kind]] = counts.get(KIND_WORDS[mark.kind], 0) + 1
    seen: set[str] = set()
    labels: list[str | None] = []
    for _, mark in drawn:
        words = KIND_WORDS[mark.kind]
        labels.append(None if words in seen else f"{words} ({counts[words]})")
        seen.add(words)
    return labels


def draw_targets(ax, targets: Sequence[Any], scale: float,
                 reference: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> tuple[list[float], list[float], list[TargetMark]]:
    """Draw ``targets`` on ``ax`` (time axis divided by ``scale``).

    Returns the value centres and bounds drawn (for the y limits) and every mark, notes
    included.
    """
    marks = [(t, m) for t in targets if (m := target_geometry(t, reference)) is not None]
    drawn = [(t, m) for t, m in marks if m.kind != "note"]
    centers: list[float] = []
    bounds: list[float] = []
    for (_, mark), label in zip(drawn, _legend_labels(drawn), strict=True):
        if mark.kind == "vband":
            if mark.low is not None and mark.high is not None:
                ax.axvspan(mark.low / scale, mark.high / scale, color="tab:orange", alpha=0.12,
                           lw=0, label=label)
            else:
                ax.axvline(mark.center / scale, color="tab:orange", ls=":", lw=1.0, label=label)
        elif mark.kind == "marker":
            ax.plot([mark.time_h / scale], [mark.y], marker="D", ms=6, mfc="white",
                    mec="tab:purple", ls="none", label=label)
            ax.annotate(mark.text.split(": ", 1)[-1], (mark.time_h / scale, mark.y),
                        xytext=(6, 6), textcoords="offset points", fontsize="x-small",
                        color="tab:purple")
            centers.append(mark.y)
        elif mark.kind == "hband":
            centers.append(mark.center)
            bounds += [v for v in (mark.low, mark.high) if v is not None]
            if mark.low is not None and mark.high is not None:
                ax.axhspan(mark.low, mark.high, color="0.5", alpha=0.15, lw=0, label=label)
            else:
                ax.axhline(mark.center, color="0.4", ls="--", lw=1.0, label=label)
        else:  # point
            centers.append(mark.center)
            bounds += [v for v in (mark.low, mark.high) if v is not None]
            below = mark.center - mark.low if mark.low is not None else 0.0
            above = mark.high - mark.center if mark.high is not None else 0.0
            shape = ("o" if (mark.low is not None) == (mark.high is not None)
                     else ("^" if mark.high is None else "v"))
            ax.errorbar([mark.time_h / scale], [mark.center],
                        yerr=[[max(below, 0.0)], [max(above, 0.0)]], fmt=shape, color="black",
                        ms=4, capsize=3, lw=1.0, label=label)
    notes = [m.text for _, m in marks if m.kind == "note"]
    if notes:
        ax.text(0.98, 0.03, "not on this axis:\n" + "\n".join(notes), transform=ax.transAxes,
                ha="right", va="bottom", fontsize="x-small", color="0.25",
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.85})
    return centers, bounds, [m for _, m in marks]
