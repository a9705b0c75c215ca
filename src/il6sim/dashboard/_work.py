"""The dashboard's long runs, each ``work(payload, report) -> result``, run by
:mod:`il6sim.dashboard._jobs` in a separate process.

Results are plain data (JSON-safe: numbers, text, lists, dicts; no NaN) with the figure as SVG
text, so the server can pass them to the page as they are.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ._jobs import Report

__all__ = ["records", "run_trial_job", "run_twin_job", "trial_engine"]


def _plain(value: Any) -> Any:
    """``value`` as JSON-safe Python (numpy scalars unwrapped, NaN and infinity as ``None``)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def records(table: pd.DataFrame) -> dict[str, Any]:
    """A table as ``{"columns": [...], "rows": [[...], ...]}`` of JSON-safe values."""
    return {"columns": [str(c) for c in table.columns],
            "rows": [[_plain(v) for v in row] for row in table.itertuples(index=False)]}


# --------------------------------------------------------------------------- digital twin
def run_twin_job(payload: dict[str, Any], report: Report) -> dict[str, Any]:
    """Fit the twin to ``payload['series']`` and forecast, untreated and with
    ``payload['regimen']`` (or ``None``) started now.

    ``payload``: ``series`` (:class:`~il6sim.twin.PatientSeries`), ``fit_days``,
    ``horizon_days``, ``draws``, ``regimen``, ``body_weight``.
    """
    from ..engine.fast import available
    from ..model import default_model
    from ..twin import DigitalTwin
    from ._figures import svg_file_text

    series = payload["series"]
    labs = len(series.until(payload["fit_days"]))
    expected = "about 5–15 s" if available(default_model()) else (
        "the fast engine cannot be built here, so the slow reference solver runs: minutes")
    report(0.05, f"fitting the twin to {labs} labs of patient {series.patient_id} ({expected})")
    started = time.perf_counter()
    twin = DigitalTwin(random_state=0).fit(series, payload["fit_days"])
    fit_seconds = time.perf_counter() - started
    report(0.7, f"forecasting {payload['horizon_days']:g} days with "
                f"{payload['draws']} posterior draws")
    forecast = twin.forecast(payload["horizon_days"], n_draws=payload["draws"],
                             regimen=payload["regimen"], weight_kg=payload["body_weight"],
                             seed=0)
    report(0.9, "drawing the forecast")
    with tempfile.TemporaryDirectory() as folder:
        svg = svg_file_text(forecast.plot(Path(folder) / "twin.svg"))
    death = forecast.death_probability()
    later = forecast.coverage()
    return {
        "patient": series.patient_id, "age": series.age,
        "outcome": {1: "died", 0: "survived"}.get(series.outcome, "unknown"),
        "labs_fitted": len(twin.observations_), "now_days": twin.now_days_,
        "fit_seconds": round(fit_seconds, 2), "effective_draws": forecast.effective_draws,
        "svg": svg,
        "death": records(death[["arm", "probability", "low", "high", "draws", "failed"]]),
        "parameters": records(twin.summary()),
        "later_labs": len(later),
        "later_labs_covered": int(later["covered"].sum()) if len(later) else 0,
    }


# --------------------------------------------------------------------------- trial
def trial_engine():
    """The trial package (:mod:`il6sim.trial`), or ``None`` when it is not installed."""
    try:
        from .. import trial
    except ModuleNotFoundError as exc:
        if exc.name not in ("il6sim.trial",):
            raise
        return None
    if not all(hasattr(trial, name) for name in ("list_trials", "load_trial", "run_trial")):
        return None
    return trial


def run_trial_job(payload: dict[str, Any], report: Report) -> dict[str, Any]:
    """Run trial ``payload['trial']`` with ``payload['n_patients']`` virtual patients (seed
    ``payload['seed']``, ``None``: the trial file's), its chunks in ``payload['out_dir']``."""
    from ._figures import trial_figure

    trial = trial_engine()
    if trial is None:
        from ..errors import InputError

        raise InputError("the trial engine (il6sim.trial) is not available in this "
                         "installation; fix: update il6sim")
    spec = trial.load_trial(payload["trial"])
    if payload.get("seed") is not None:
        spec = trial.trial_from_dict({**spec.model_dump(mode="json"), "seed": payload["seed"]},
                                     source=payload["trial"])
    n = payload["n_patients"]
    report(0.01, f"screening virtual patients for {n} to randomise (seed {spec.seed})")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        report(0.01 + 0.97 * done / max(total, 1),
               f"{done} of {total} candidates screened in this round")

    result = trial.run_trial(spec, n_patients=n, progress=progress, cancel=threading.Event(),
                             out_dir=payload.get("out_dir"))
    arms = result.arms
    drawable = {"endpoint", "arm", "value", "ci_low", "ci_high", "measure"} <= set(arms.columns)
    svg = (trial_figure(arms, title=f"{spec.name}: risk by arm, {n} patients")
           if drawable else "")
    return {"trial": payload["trial"], "title": spec.title, "seed": spec.seed, "n_patients": n,
            "seconds": round(time.perf_counter() - started, 1),
            "arms": records(arms), "comparisons": records(result.comparisons),
            "markdown": result.markdown(), "svg": svg}
