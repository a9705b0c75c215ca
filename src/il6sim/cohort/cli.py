"""Command line for real patients: ``il6sim biomarkers`` and ``il6sim prognosis fit|predict``.

:func:`register` adds the commands to a :class:`typer.Typer` app. Each command prints
``error: <message>`` on stderr and exits with code 2 for any :class:`~il6sim.errors.Il6simError`
(bad file, missing column, wrong model file), never a traceback. Heavy libraries are imported
inside the commands so that the rest of the command line starts fast.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .._cli_errors import check_output_file, check_output_folder, check_positive, reporting_errors
from ..errors import InputError
from ..limits import MAX_RUN_HOURS

__all__ = ["register"]

CohortArgument = Annotated[Path | None, typer.Argument(
    help="Cohort CSV (one row per blood sample, Tongji Hospital export format). "
         "Default: the shipped Wuhan 2020 development cohort.", show_default=False)]
WindowOption = Annotated[float, typer.Option(
    "--window-hours", help="Baseline = first value of each lab within this many hours of "
                           "admission.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of bootstrap and CV splits.")]


def _check_window(window_hours: float) -> None:
    if not math.isfinite(window_hours) or window_hours <= 0 or window_hours > MAX_RUN_HOURS:
        raise InputError(f"--window-hours {window_hours:g} is not a time after admission; fix: "
                         "give a number of hours above 0, e.g. --window-hours 48")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=120)


def _load(console: Console, path: Path | None, *, require_outcome: bool = True):
    from . import load_cohort

    with console.status("reading cohort"):
        cohort = load_cohort(path, require_outcome=require_outcome)
    console.print(f"[bold]{cohort!r}[/bold]")
    _print_problems(console, cohort)
    return cohort


def _print_problems(console: Console, cohort, limit: int = 12) -> None:
    summary = cohort.problem_summary()
    if summary.empty:
        console.print("No data problems found.")
        return
    table = Table(title=f"{len(cohort.problems)} data problems (by kind and column)",
                  title_justify="left")
    for name in ("kind", "column", "count", "fix"):
        table.add_column(name, overflow="fold")
    for row in summary.head(limit).itertuples():
        table.add_row(row.kind, row.column, str(row.count), row.fix)
    console.print(table)
    if len(summary) > limit:
        console.print(f"... {len(summary) - limit} more kinds; the full table is "
                      "Cohort.problems (written as problems.csv by 'il6sim biomarkers').")


# --------------------------------------------------------------------------- biomarkers
def biomarkers(
    cohort: CohortArgument = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder for the report.")] = Path(
        "biomarkers"),
    seed: SeedOption = 0,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", help="Bootstrap resamples per AUC confidence interval.")] = 1000,
    window_hours: WindowOption = 48.0,
    cv_repeats: Annotated[int, typer.Option(
        "--cv-repeats", help="Repeats of 5-fold grouped CV of the prognostic model.")] = 5,
) -> None:
    """IL-6 and other biomarkers vs in-hospital death: report with AUCs, cut-offs, survival.

    Writes report.md, report.html, cohort_*.png figures and CSV tables to --out.
    """
    from . import run_biomarkers

    _check_window(window_hours)
    check_output_folder(out, "--out")
    check_positive("--bootstrap", bootstrap, 1_000_000, minimum=0)
    check_positive("--cv-repeats", cv_repeats, 1000, minimum=1)  # the report needs the CV
    console = _console()
    data = _load(console, cohort)
    with console.status("analysing") as status:
        report = run_biomarkers(data, out, seed=seed, n_boot=bootstrap,
                                window_hours=window_hours, cv_repeats=cv_repeats,
                                progress=lambda message: status.update(message))
    s = report.summary
    table = Table(title="Key results", title_justify="left")
    table.add_column("quantity")
    table.add_column("value")
    if "il6_auc" in s:
        table.add_row("IL-6 AUC (95% CI)", f"{s['il6_auc']:.3f} ({s['il6_auc_low']:.3f}–"
                      f"{s['il6_auc_high']:.3f}), n={s['il6_n']}, died={s['il6_n_died']}")
        table.add_row("IL-6 Youden cut-off", f"≥ {s['il6_youden_cutoff']:.3g} pg/mL (sensitivity "
                      f"{s['il6_sensitivity']:.2f}, specificity {s['il6_specificity']:.2f})")
        table.add_row("IL-6 median survived / died",
                      f"{s['il6_median_survived']:.3g} / {s['il6_median_died']:.3g} pg/mL "
                      f"(Mann–Whitney p={s['il6_mannwhitney_p']:.1e})")
    if "cox_hr_log2_il6" in s:
        table.add_row("Cox HR per doubling of IL-6 (age-adjusted)",
                      f"{s['cox_hr_log2_il6']:.2f} ({s['cox_hr_log2_il6_low']:.2f}–"
                      f"{s['cox_hr_log2_il6_high']:.2f})")
    table.add_row("Il6Prognosis grouped-CV AUC (95% CI)",
                  f"{s['model_auc']:.3f} ({s['model_auc_low']:.3f}–{s['model_auc_high']:.3f})")
    table.add_row("Il6Prognosis grouped-CV Brier score", f"{s['model_brier']:.3f}")
    console.print(table)
    console.print(f"Report: {report.markdown} and {report.html}")


# --------------------------------------------------------------------------- prognosis
def fit(
    cohort: CohortArgument = None,
    out: Annotated[Path, typer.Option("--out", help="Model file to write (.skops: a format that "
                                                    "cannot run code when loaded).")] = Path(
        "prognosis.skops"),
    seed: SeedOption = 0,
    window_hours: WindowOption = 48.0,
    cv_repeats: Annotated[int, typer.Option(
        "--cv-repeats", help="Repeats of 5-fold grouped CV before fitting (0: skip).")] = 5,
    method: Annotated[str, typer.Option(
        "--method", help="ensemble, logistic or boosting.")] = "ensemble",
) -> None:
    """Fit the prognostic model (probability of in-hospital death) and save it.

    Reports grouped cross-validated AUC and Brier score first, then fits on every patient.
    """
    from . import Il6Prognosis, cross_validate_prognosis

    if method not in ("ensemble", "logistic", "boosting"):
        raise InputError(f"--method {method!r} is not known; fix: use ensemble, logistic or "
                         "boosting")
    _check_window(window_hours)
    check_positive("--cv-repeats", cv_repeats, 1000, minimum=0)
    check_output_file(out, "--out", (".skops",))
    console = _console()
    data = _load(console, cohort)
    X, y = data.dataset(window_hours)
    if y.nunique() < 2:
        found = (f"every patient with an outcome has outcome {int(y.iloc[0])}" if len(y)
                 else "no patient has an outcome (0 survived, 1 died)")
        raise InputError(f"{Path(data.source).name}, field 'outcome': {found}; fix: fit on a "
                         "cohort with patients who died (1) and who survived (0)")
    model = Il6Prognosis(method=method, random_state=seed)
    info: dict[str, Any] = {"cohort": data.source, "window_hours": window_hours,
                            "n_patients": len(y), "deaths": int(y.sum()), "seed": seed}
    if cv_repeats > 0:
        with console.status(f"{cv_repeats}×5-fold grouped cross-validation"):
            cv = cross_validate_prognosis(X, y, estimator=model, n_repeats=cv_repeats, seed=seed)
        info.update(cv.summary())
        console.print(f"Grouped CV ({cv_repeats}×5-fold, by patient): AUC {cv.auc:.3f} "
                      f"(95% CI {cv.auc_low:.3f}–{cv.auc_high:.3f}), Brier score "
                      f"{cv.brier:.3f}")
    with console.status("fitting on all patients"):
        model.fit(X, y)
    model.training_info_ = info
    path = model.save(out)
    console.print(f"Model fitted on {len(y)} patients ({int(y.sum())} died), saved to {path}")


def predict(
    model_file: Annotated[Path, typer.Argument(help="Model written by 'prognosis fit'.")],
    cohort: Annotated[Path, typer.Argument(help="New cohort CSV, same format; outcomes "
                                                "optional.")],
    out: Annotated[Path, typer.Option("--out", help="Predictions CSV to write.")] = Path(
        "predictions.csv"),
) -> None:
    """Predict the probability of in-hospital death for the patients of a new file.

    Writes one row per patient. If the file has outcomes, also prints AUC, Brier score and a
    calibration table.
    """
    import numpy as np
    import pandas as pd
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from . import Il6Prognosis, calibration_table

    check_output_file(out, "--out", (".csv",))
    console = _console()
    model = Il6Prognosis.load(model_file)
    data = _load(console, cohort, require_outcome=False)
    window = model.training_info_.get("window_hours", 48.0)
    X = data.first_values(window)
    expected = list(getattr(model, "feature_names_in_", X.columns))
    absent = [c for c in expected if c not in X]
    if absent:
        console.print(f"note: {len(absent)} model inputs absent, treated as missing: "
                      + ", ".join(absent))
    X = X.reindex(columns=expected)
    seen = model.training_overlap(X)
    if seen:
        console.print(f"[yellow]warning:[/] {seen} of {len(X)} patients in {cohort.name} were in "
                      "the model's training data: measures on them (AUC, Brier score) are not a "
                      "test of the model; use the cross-validated figures of 'prognosis fit' or "
                      "a cohort of new patients", highlight=False)
    probability = model.predict_proba(X)[:, list(model.classes_).index(1)]
    outcome = data.patient_info["outcome"].reindex(X.index)
    labs = X.drop(columns=[c for c in ("age", "male") if c in X])
    table = pd.DataFrame({"probability_death": probability,
                          "predicted_death": (probability >= 0.5).astype(int),
                          "n_labs": labs.notna().sum(axis=1).to_numpy(),
                          "outcome": outcome.astype("Int64")}, index=X.index)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out)
    console.print(f"Predictions for {len(table)} patients written to {out}")
    known = outcome.notna().to_numpy()
    if not known.any():
        console.print("No outcomes in the file: no performance measures.")
        return
    y, p = outcome[known].astype(int).to_numpy(), probability[known]
    console.print(f"Outcomes known for {known.sum()} patients ({y.sum()} died); "
                  f"{(~known).sum()} without outcome left out of the measures.")
    auc = roc_auc_score(y, p) if np.unique(y).size == 2 else float("nan")
    console.print(f"AUC {auc:.3f}   Brier score {brier_score_loss(y, p):.3f}   "
                  f"accuracy at 0.5 {np.mean((p >= 0.5) == y):.3f}")
    calibration = calibration_table(y, p, n_groups=5)
    rich_table = Table(title="Calibration (quintiles of predicted risk)", title_justify="left")
    for name in ("predicted range", "n", "mean predicted", "observed"):
        rich_table.add_column(name, justify="right")
    for row in calibration.itertuples():
        rich_table.add_row(row.group, str(row.n), f"{row.mean_predicted:.3f}",
                           f"{row.observed:.3f}")
    console.print(rich_table)


def register(app: typer.Typer) -> None:
    """Add ``biomarkers`` and the ``prognosis`` group (``fit``, ``predict``) to ``app``."""
    app.command("biomarkers", epilog="Example: il6sim biomarkers --out out/biomarkers --seed 0")(
        reporting_errors(biomarkers))
    group = typer.Typer(help="Prognostic model of in-hospital death from first labs.",
                        no_args_is_help=True, add_completion=False)
    group.command("fit", epilog="Example: il6sim prognosis fit --out model.skops")(
        reporting_errors(fit))
    group.command("predict", epilog="Example: il6sim prognosis predict model.skops new.csv "
                                    "--out predictions.csv")(reporting_errors(predict))
    app.add_typer(group, name="prognosis",
                  epilog="Example: il6sim prognosis fit --out model.skops")
