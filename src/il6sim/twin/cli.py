"""Command line of the digital twin: ``il6sim twin`` and ``il6sim twin-eval``.

:func:`register` adds both commands to a :class:`typer.Typer` app. Any
:class:`~il6sim.errors.Il6simError` (unknown patient, bad file, bad regimen) is printed as
``error: <message>`` with exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .._cli_errors import (
    check_output_file,
    check_output_folder,
    check_positive,
    reporting_errors,
)
from ..cohort.cli import CohortArgument, ColumnOption, parse_columns
from ..errors import InputError
from ..limits import COVARIATE_RANGES, MAX_RUN_HOURS

__all__ = ["register"]

DEFAULT_REGIMEN = "tocilizumab-covid-8mgkg"

FitDaysOption = Annotated[float | None, typer.Option(
    "--fit-days", help="Fit the labs of the first N days after admission and forecast from "
                       "there (default: all labs, forecast from the last one).",
    show_default=False)]
HorizonOption = Annotated[float, typer.Option(
    "--horizon", help="Days to forecast ahead (labs and probability of death).")]
DrawsOption = Annotated[int, typer.Option(
    "--draws", help="Draws simulated per forecast (importance-weighted by the posterior).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the starts and draws.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=120)


def _load(console: Console, path: Path | None, *, require_outcome: bool = True,
          columns: list[str] | None = None):
    """The cohort, announced in one line (its data problems are 'il6sim biomarkers' business)."""
    from ..cohort import load_cohort

    mapping = parse_columns(columns)
    with console.status("reading cohort"):
        cohort = load_cohort(path, require_outcome=require_outcome, columns=mapping)
    console.print(f"{cohort!r}; 'il6sim biomarkers' lists the data problems")
    return cohort


def _parameter_table(twin) -> Table:
    table = Table(title="Fitted patient parameters (MAP; posterior median and 90% credible "
                        "interval from the weighted draws)", title_justify="left")
    for name in ("parameter", "unit", "prior median", "MAP", "median", "90% interval",
                 "Laplace SD / prior SD"):
        table.add_column(name, justify="left" if name in ("parameter", "unit") else "right")
    for row in twin.summary().itertuples():
        table.add_row(row.parameter, row.unit, f"{row.prior_median:.3g}", f"{row.map:.3g}",
                      f"{row.median:.3g}", f"{row.low:.3g}–{row.high:.3g}",
                      f"{row.sd_ratio:.2f}")
    return table


def _forecast_table(forecast, ahead=(1, 3, 7, 14)) -> Table:
    table = Table(title="Forecast: median (90% predictive interval) of a new measurement",
                  title_justify="left")
    table.add_column("lab")
    table.add_column("arm")
    days = [d for d in ahead if d <= forecast.horizon_days]
    for d in days:
        table.add_column(f"day {forecast.now_days + d:.3g} (+{d:g} d)", justify="right")
    for marker in ("il6", "crp", "ldh", "lymphocytes"):
        for arm in forecast.arms:
            band = forecast.band(marker, arm)
            cells = []
            for d in days:
                t = forecast.now_days + d
                lo, mid, hi = (float(_interp(t, band, c)) for c in ("low", "median", "high"))
                cells.append(f"{mid:.3g} ({lo:.3g}–{hi:.3g})")
            table.add_row(marker, arm, *cells)
    return table


def _interp(t, band, column):
    import numpy as np

    return np.interp(t, band["days"], band[column])


def _death_table(forecast) -> Table:
    table = Table(title=f"Probability of death within {forecast.horizon_days:g} days, given "
                        "alive now: the model's SOFA hazard, and that number recalibrated "
                        "against the shipped cohort (post hoc, not mechanistic)",
                  title_justify="left")
    for name in ("arm", "model probability", "90% interval over draws", "recalibrated",
                 "draws (effective)"):
        table.add_column(name, justify="left" if name == "arm" else "right")
    for row in forecast.death_probability().itertuples():
        recalibrated = "–" if row.recalibrated != row.recalibrated else f"{row.recalibrated:.1%}"
        table.add_row(row.arm, f"{row.probability:.1%}", f"{row.low:.1%}–{row.high:.1%}",
                      recalibrated,
                      f"{row.draws} ok, {row.failed} failed ({row.effective_draws:.0f})")
    return table


# --------------------------------------------------------------------------- twin
def twin(
    cohort: CohortArgument = None,
    patient: Annotated[str, typer.Option("--patient", help="PATIENT_ID of the patient.",
                                         show_default=False)] = "",
    fit_days: FitDaysOption = None,
    horizon: HorizonOption = 14.0,
    draws: DrawsOption = 200,
    regimen: Annotated[str, typer.Option(
        "--regimen", help="IL-6 blockade started now for the treated arm (a label regimen, "
                          "see il6sim.pharmacology.label_regimens), or 'none'.")] = (
        DEFAULT_REGIMEN),
    weight: Annotated[float, typer.Option(
        "--weight", help="Body weight (kg) for weight-based doses; the cohort has none.")] = 70.0,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the forecast figure (PNG, "
                                                             "PDF, SVG).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for parameters.csv, forecast.csv, death.csv, labs.csv.")] = None,
    seed: SeedOption = 0,
    column: ColumnOption = None,
) -> None:
    """Fit the model to one patient's own labs and forecast them, and death, with and without
    IL-6 blockade started now.

    The twin fits seven patient parameters (time since infection, interferon capacity, ...)
    to the patient's IL-6, CRP, LDH and lymphocyte counts, with their uncertainty.
    """
    from . import DigitalTwin, patient_series

    check_output_folder(out, "--out")
    check_output_file(plot, "--plot", (".png", ".pdf", ".svg"))
    if not patient:
        raise InputError("--patient is required; fix: give a PATIENT_ID, e.g. --patient 2")
    low, high, _ = COVARIATE_RANGES["body_weight"]
    check_positive("--weight", weight, high, minimum=low)
    check_positive("--fit-days", fit_days, MAX_RUN_HOURS / 24, minimum=1e-3)
    check_positive("--horizon", horizon, MAX_RUN_HOURS / 24, minimum=1e-3)
    check_positive("--draws", draws, 100_000, minimum=2)
    if fit_days is not None and fit_days <= 0:
        raise InputError(f"--fit-days {fit_days:g}: must be above 0; fix: e.g. --fit-days 3")
    if horizon <= 0 or draws < 2:
        raise InputError("--horizon must be above 0 and --draws at least 2; fix: e.g. "
                         "--horizon 14 --draws 100")
    chosen = None if regimen.strip().lower() == "none" else regimen.strip()
    if chosen is not None:
        from ..pharmacology import expand_regimen

        expand_regimen(chosen, weight_kg=weight)  # a bad regimen fails before the fit
    parse_columns(column)
    console = _console()
    data = _load(console, cohort, require_outcome=False, columns=column)
    series = patient_series(data, patient)
    outcome = {1: "died", 0: "survived"}.get(series.outcome, "outcome unknown")
    console.print(f"Patient {series.patient_id}: age {series.age:g}, {outcome}"
                  + (f" on day {series.end_days:.1f}" if series.end_days is not None else "")
                  + f"; {len(series.observations)} timed IL-6/CRP/LDH/lymphocyte values")
    started = time.perf_counter()
    with console.status("fitting the twin"):
        model = DigitalTwin(random_state=seed).fit(series, fit_days)
    console.print(f"Fitted {len(model.observations_)} labs up to day {model.now_days_:.3g} in "
                  f"{time.perf_counter() - started:.1f} s (negative log posterior "
                  f"{model.cost_:.3g}; {model.diagnostics_.describe()}).")
    warning = model.diagnostics_.warning()
    if warning:
        console.print(f"[bold yellow]warning:[/] {warning}.", highlight=False)
    console.print(_parameter_table(model))
    with console.status("forecasting"):
        forecast = model.forecast(horizon, n_draws=draws, regimen=chosen, weight_kg=weight,
                                  seed=seed)
    console.print(_forecast_table(forecast))
    console.print(_death_table(forecast))
    note = forecast.recalibration_note()
    if note:
        console.print(f"note: recalibrated probability not reported: {note}", highlight=False)
    else:
        console.print("note: 'recalibrated' maps the model's probability onto the deaths "
                      "observed in the shipped cohort (logistic recalibration fitted on day-3 "
                      "forecasts, docs/twin.md); the model's own hazard is unchanged.",
                      highlight=False)
    later = forecast.coverage()
    if len(later):
        console.print(f"Later labs (not fitted) inside the 90% interval: "
                      f"{int(later['covered'].sum())}/{len(later)}.")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        model.summary().to_csv(out / "parameters.csv", index=False)
        bands = [forecast.band(m, arm).assign(marker=m, arm=arm)
                 for m in ("il6", "crp", "ldh", "lymphocytes") for arm in forecast.arms]
        import pandas as pd

        pd.concat(bands, ignore_index=True).to_csv(out / "forecast.csv", index=False)
        forecast.death_probability().to_csv(out / "death.csv", index=False)
        model.observations_.to_csv(out / "labs.csv", index=False)
        plot = plot or out / "twin.png"
        console.print(f"Tables written to {out}")
    if plot is not None:
        console.print(f"Figure: {forecast.plot(plot)}")


# --------------------------------------------------------------------------- twin-eval
def twin_eval(
    cohort: CohortArgument = None,
    fit_days: Annotated[float, typer.Option(
        "--fit-days", help="Fit each patient's labs of the first N days after admission.")] = 3.0,
    horizon: HorizonOption = 14.0,
    draws: DrawsOption = 200,
    max_patients: Annotated[int | None, typer.Option(
        "--max-patients", help="Evaluate a random (seeded) subset of this size.",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option(
        "--out", help="Folder for the tables; per-patient fits are cached in OUT/cache, so "
                      "a second run resumes.")] = Path("twin-eval"),
    seed: SeedOption = 0,
    save_recalibration: Annotated[Path | None, typer.Option(
        "--save-recalibration", help="Write the logistic recalibration of the twin's "
                                     "probability of death fitted on these patients (YAML; "
                                     "the shipped one is il6sim/data/"
                                     "twin_death_recalibration.yaml).",
        show_default=False)] = None,
    column: ColumnOption = None,
) -> None:
    """Fit every patient on their first days: coverage of their later labs by the forecast, the
    AUC for death of the twin next to the statistical model (Il6Prognosis), and the
    calibration of its probability of death, raw and recalibrated (reliability.png).

    About 3 s per patient on one core; interrupted runs resume from OUT/cache.
    """
    from . import evaluate_twin

    check_output_folder(out, "--out")
    check_output_file(save_recalibration, "--save-recalibration", (".yaml", ".yml"))
    parse_columns(column)
    check_positive("--fit-days", fit_days, MAX_RUN_HOURS / 24, minimum=1e-3)
    check_positive("--horizon", horizon, MAX_RUN_HOURS / 24, minimum=1e-3)
    check_positive("--draws", draws, 100_000, minimum=2)
    if max_patients is not None and max_patients < 1:
        raise InputError("--max-patients must be 1 or more; fix: e.g. --max-patients 20")
    console = _console()
    data = _load(console, cohort, columns=column)
    with console.status("evaluating") as status:
        result = evaluate_twin(data, fit_days=fit_days, horizon_days=horizon, n_draws=draws,
                               max_patients=max_patients, cache_dir=out / "cache", seed=seed,
                               progress=lambda message: status.update(message))
    out.mkdir(parents=True, exist_ok=True)
    result.patients.to_csv(out / "patients.csv", index=False)
    result.coverage.to_csv(out / "coverage_labs.csv", index=False)
    coverage = result.coverage_table()
    coverage.to_csv(out / "coverage.csv", index=False)
    result.comparison.to_csv(out / "auc.csv", index=False)
    residuals = result.residual_table()
    residuals.to_csv(out / "residuals.csv", index=False)
    summary = {**result.summary(), **result.settings}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    table = Table(title="Later labs inside the forecast's 90% predictive interval",
                  title_justify="left")
    for name in ("marker", "days ahead", "n", "covered", "below", "above"):
        table.add_column(name, justify="left" if name == "marker" else "right")
    for row in coverage.itertuples():
        table.add_row(row.marker, row.ahead, str(row.n), f"{row.covered:.0%}",
                      f"{row.below:.0%}", f"{row.above:.0%}")
    console.print(table)
    table = Table(title="AUC for in-hospital death on the same patients", title_justify="left")
    for name in ("model", "inputs", "n", "died", "AUC (95% CI)"):
        table.add_column(name, justify="left" if name in ("model", "inputs") else "right")
    for row in result.comparison.itertuples():
        table.add_row(row.model, row.inputs, str(row.n), str(row.deaths),
                      f"{row.auc:.3f} ({row.auc_low:.3f}–{row.auc_high:.3f})")
    console.print(table)
    summary_line = ", ".join(f"{r.marker} {r.rms:.2f} (n={r.n})" for r in residuals.itertuples())
    console.print(f"RMS standardised residual of the fitted labs: {summary_line}")
    if "twin_mean_p_death" in summary:
        console.print(f"Twin's mean probability of death {summary['twin_mean_p_death']:.1%}; "
                      f"observed in-hospital death {summary['observed_death_rate']:.1%}.")
    _print_calibration(console, result, summary, out, save_recalibration)
    failed = (result.patients["status"] != "ok").sum() if len(result.patients) else 0
    low = result.patients.get("low_ess")
    if low is not None and low.fillna(False).astype(bool).any():
        console.print(f"[bold yellow]warning:[/] {int(low.fillna(False).astype(bool).sum())} of "
                      f"{len(result.patients)} fits have a low effective sample size (ESS below "
                      "50 or 5 % of the draws, or PSIS Pareto k above 0.7): their intervals are "
                      "too narrow (columns effective_draws, pareto_k, low_ess of patients.csv).")
    console.print(f"{len(result.patients)} patients ({failed} failed) in "
                  f"{result.settings['seconds']:.0f} s (cached fits are not redone); tables in "
                  f"{out}")


def _print_calibration(console: Console, result, summary: dict, out: Path,
                       save_recalibration: Path | None) -> None:
    """Calibration lines, the reliability figure and the optional recalibration file."""
    recal = result.recalibration
    if recal is None:
        console.print("Too few patients who died or survived (5 each) to measure calibration.")
        return
    raw, cv = recal.statistics["raw"], recal.statistics["cv"]
    console.print(f"Calibration of the twin's probability of death: raw mean "
                  f"{raw['mean_predicted']:.1%}, slope {raw['slope']:.2f}, calibration in the "
                  f"large {raw['citl']:+.2f}; recalibrated (logistic, {recal.statistics['repeats']}"
                  f"×{recal.statistics['folds']}-fold grouped CV, out of fold) mean "
                  f"{cv['mean_predicted']:.1%}, slope {cv['slope']:.2f} ({cv['slope_min']:.2f}–"
                  f"{cv['slope_max']:.2f}); fitted on all: logit p' = {recal.intercept:.2f} + "
                  f"{recal.slope:.2f}·logit p.")
    note = result.settings.get("recalibration_note")
    if note:
        console.print(f"note: shipped recalibration not applied: {note}", highlight=False)
    elif "twin_mean_p_death_recalibrated" in summary:
        console.print(f"Shipped recalibration applied: mean "
                      f"{summary['twin_mean_p_death_recalibrated']:.1%}.")
    from ..cohort import plot_reliability

    table = recal.patients
    figure = plot_reliability(
        [("recalibrated, out of fold", table["outcome"], table["p_recalibrated_cv"],
          {**cv, "observed": raw["observed"]}),
         ("model (raw)", table["outcome"], table["p_death"])],
        out / "reliability.png",
        title=f"Twin: death within {result.settings['horizon_days']:g} d, n={len(table)}")
    console.print(f"Reliability diagram: {figure}")
    if save_recalibration is not None:
        console.print(f"Recalibration written to {recal.save(save_recalibration)}")


def register(app: typer.Typer) -> None:
    """Add ``twin`` and ``twin-eval`` to ``app``."""
    app.command("twin", epilog="Example: il6sim twin --patient 2 --fit-days 3 --plot twin.png")(
        reporting_errors(twin))
    app.command("twin-eval", epilog="Example: il6sim twin-eval --fit-days 3 --max-patients 40 "
                                    "--out out/twin-eval")(reporting_errors(twin_eval))
