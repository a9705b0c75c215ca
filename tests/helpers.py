"""Helpers shared by test modules (importable because pyproject puts tests/ on the path)."""

from __future__ import annotations

from il6sim.engine import Dose, simulate


def lps(dose_ngkg: float = 2.0) -> list[Dose]:
    """An intravenous endotoxin bolus at time 0."""
    return [Dose(0.0, "lps", dose_ngkg, unit="ng/kg")]


def run_with(overrides, dose_ngkg=2.0, t_end=48.0, dt=0.1):
    """An endotoxemia course with parameter overrides (knock-outs are switches set to 0)."""
    return simulate(overrides, doses=lps(dose_ngkg), t_end=t_end, dt=dt)
