"""The console summary of a run (``il6sim simulate``).

Each read-out gets its start, its clinically meaningful extreme and its final value: the peak
for a mediator or a load, the nadir for read-outs whose fall is the harm (P/F ratio,
lymphocytes, blood pressure, ...). Round-off below a billionth of a read-out's range is shown
as 0, so a cleared viral load reads 0, not −2.7e-19.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.table import Table

from .plotting import unit_label

__all__ = ["NADIR_OUTPUTS", "extreme", "summary_table"]

#: Read-outs whose lowest value is the one that matters (a fall is the harm).
NADIR_OUTPUTS = frozenset({"pf_ratio", "sf_ratio", "lymphocytes", "map", "platelet_count",
                           "gcs", "target_cells_left"})

#: Values smaller than this fraction of a read-out's largest magnitude are round-off: shown as 0.
ROUND_OFF = 1e-9


def _clean(values: np.ndarray) -> np.ndarray:
    """``values`` with round-off around zero (below :data:`ROUND_OFF` of the largest) set to 0."""
    scale = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    return np.where(np.abs(values) <= ROUND_OFF * scale, 0.0, values)


def extreme(name: str, values: np.ndarray) -> tuple[str, int]:
    """``('nadir', index)`` for :data:`NADIR_OUTPUTS`, else ``('peak', index)``."""
    if name in NADIR_OUTPUTS:
        return "nadir", int(np.nanargmin(values))
    return "peak", int(np.nanargmax(values))


def _fmt(value: float) -> str:
    return "0" if value == 0 else f"{value:.4g}"


def summary_table(result: Any, outputs: list[str]) -> Table:
    """Start, peak or nadir (and when), and final value of each read-out (median patient)."""
    days = float(result.time[-1]) > 72
    scale, tunit = (24.0, "d") if days else (1.0, "h")
    table = Table(title=f"{result.settings.get('scenario', 'simulation')}", title_justify="left")
    for column in ("output", "unit", "start", "peak or nadir", f"at ({tunit})", "final"):
        table.add_column(column, justify="left" if column in ("output", "unit") else "right")
    for name in outputs:
        values = np.nanmedian(result.output(name), axis=0)
        if not np.isfinite(values).any():
            table.add_row(name, unit_label(result.unit(name)), "nan", "nan", "", "nan")
            continue
        values = _clean(values)
        kind, at = extreme(name, values)
        flat = np.nanmax(values) - np.nanmin(values) <= 1e-6 * max(abs(values[at]), 1e-12)
        table.add_row(
            name, unit_label(result.unit(name)), _fmt(values[0]),
            f"{kind} {_fmt(values[at])}",
            "–" if flat else f"{result.time[at] / scale:.3g}", _fmt(values[-1]),
        )
    return table
