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
ColumnOption = Annotated[list[str] | None, typer.Option(
    "--column", help="Name the header of your file that holds a field or lab: NAME=HEADER "
                     "(repeatable), e.g. --column patient_id=ID --column il6='IL-6 (pg/mL)'. "
                     "Names: patient_id, sample_time, age, sex, admission_time, "
                     "discharge_time, outcome and the labs of il6sim.cohort.MARKERS.",
    show_default=False)]
PlotOption = Annotated[Path | None, typer.Option(
    "--plot", help="Reliability diagram to write (PNG, PDF, SVG); default: next to --out, "
                   "named <name>_reliability.png.", show_default=False)]
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def parse_columns(values: list[str] | None) -> dict[str, str] | None:
    """``--column NAME=HEADER`` options as ``{name: header}`` for :func:`load_cohort`."""
    if not values:
        return None
    mapping: dict[str, str] = {}
    for value in values:
        name, sep, header = value.partition("=")
        name, header = name.strip(), header.strip().strip("'\"")
        if not sep or not name or not header:
            raise InputError(f"--column {value!r} is not NAME=HEADER; fix: e.g. "
                             "--column patient_id=ID")
        if name in mapping:
            raise InputError(f"--column {name} is given twice; fix: give each name once")
        mapping[name] = header
    return mapping


def _plot_path(plot: Path | None, out: Path) -> Path:
    return plot if plot is not None else out.with_name(f"{out.stem}_reliability.png")


def _check_window(window_hours: float) -> None:
    if not math.isfinite(window_hours) or window_hours <= 0 or window_hours > MAX_RUN_HOURS:
        raise InputError(f"--window-hours {window_hours:g} is not a time after admission; fix: "
                         "give a number of hours above 0, e.g. --window-hours 48")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=120)


def _load(console: Console, path: Path | None, *, require_outcome: bool = True,
          columns: list[str] | None = None):
    from . import load_cohort

    mapping = parse_columns(columns)
    with console.status("reading cohort"):
        cohort = load_cohort(path, require_outcome=require_outcome, columns=mapping)
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
    column: ColumnOption = None,
) -> None:
    """IL-6 and other biomarkers vs in-hospital death: report with AUCs, cut-offs, survival.

    Writes report.md, report.html, cohort_*.png figures and CSV tables to --out.
    """
    from . import run_biomarkers

    _check_window(window_hours)
    check_output_folder(out, "--out")
    check_positive("--bootstrap", bootstrap, 1_000_000, minimum=0)
    check_positive("--cv-repeats", cv_repeats, 1000, minimum=1)  # the report needs the CV
    parse_columns(column)
    console = _console()
    data = _load(console, cohort, columns=column)
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
    if "model_calibration_slope" in s:
        table.add_row("Il6Prognosis grouped-CV calibration",
                      _calibration_text(s, "model_calibration_", "model_raw_calibration_",
                                        s["model_deaths"] / s["model_n"]))
    console.print(table)
    console.print(f"Report: {report.markdown} and {report.html}")


def _calibration_text(s: dict, prefix: str, raw_prefix: str, observed: float) -> str:
    """'mean predicted 48.5 % vs observed 48.9 %, slope 0.95 (0.90–1.00); before
    recalibration ...' from a summary with calibration keys."""
    def one(p: str) -> str:
        return (f"mean predicted {s[p + 'mean_predicted']:.1%}, slope {s[p + 'slope']:.2f} "
                f"({s[p + 'slope_min']:.2f}–{s[p + 'slope_max']:.2f} over repeats), "
                f"calibration in the large {s[p + 'citl']:+.2f}")
    text = f"observed {observed:.1%}; recalibrated: {one(prefix)}"
    if raw_prefix + "slope" in s:
        text += f"; before recalibration: {one(raw_prefix)}"
    return text


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
    calibration: Annotated[str, typer.Option(
        "--calibration", help="Recalibration of the probabilities on out-of-fold predictions: "
                              "logistic, isotonic or none.")] = "logistic",
    column: ColumnOption = None,
    plot: PlotOption = None,
) -> None:
    """Fit the prognostic model (probability of in-hospital death) and save it.

    Reports grouped cross-validated AUC, Brier score and calibration (with a reliability
    diagram) first, then fits on every patient with a lab in the window.
    """
    from . import Il6Prognosis, cross_validate_prognosis
    from ._cohort import lab_counts

    if method not in ("ensemble", "logistic", "boosting"):
        raise InputError(f"--method {method!r} is not known; fix: use ensemble, logistic or "
                         "boosting")
    if calibration not in ("logistic", "isotonic", "none"):
        raise InputError(f"--calibration {calibration!r} is not known; fix: use logistic, "
                         "isotonic or none")
    _check_window(window_hours)
    check_positive("--cv-repeats", cv_repeats, 1000, minimum=0)
    check_output_file(out, "--out", (".skops",))
    check_output_file(plot, "--plot", PLOT_SUFFIXES)
    parse_columns(column)
    console = _console()
    data = _load(console, cohort, columns=column)
    X_all, _ = data.dataset(window_hours)
    X, y = data.dataset(window_hours, require_labs=True)
    left_out = int((lab_counts(X_all) == 0).sum())
    if left_out:
        console.print(f"note: {left_out} patients without any laboratory value in the first "
                      f"{window_hours:g} h (before discharge or death) are left out: the model "
                      "does not score such patients.")
    if y.nunique() < 2:
        found = (f"every patient with an outcome has outcome {int(y.iloc[0])}" if len(y)
                 else "no patient has an outcome (0 survived, 1 died)")
        raise InputError(f"{Path(data.source).name}, field 'outcome': {found}; fix: fit on a "
                         "cohort with patients who died (1) and who survived (0)")
    model = Il6Prognosis(method=method, random_state=seed, calibration=calibration)
    info: dict[str, Any] = {"cohort": data.source, "window_hours": window_hours,
                            "n_patients": len(y), "deaths": int(y.sum()), "seed": seed,
                            "left_out_without_labs": left_out}
    if cv_repeats > 0:
        with console.status(f"{cv_repeats}×5-fold grouped cross-validation"):
            cv = cross_validate_prognosis(X, y, estimator=model, n_repeats=cv_repeats, seed=seed)
        summary = cv.summary()
        info.update(summary)
        console.print(f"Grouped CV ({cv_repeats}×5-fold, by patient): AUC {cv.auc:.3f} "
                      f"(95% CI {cv.auc_low:.3f}–{cv.auc_high:.3f}), Brier score "
                      f"{cv.brier:.3f}")
        console.print("Calibration (grouped CV): " + _calibration_text(
            summary, "calibration_", "raw_calibration_", float(y.mean())))
        from ._figures import plot_reliability

        curves = [("recalibrated" if calibration != "none" else "Il6Prognosis",
                   *cv.pooled(), {**cv.calibration(), "observed": float(y.mean())})]
        if calibration != "none" and cv.raw_oof_repeats is not None:
            curves.append(("before recalibration", *cv.pooled(raw=True),
                           {**cv.calibration(raw=True), "observed": float(y.mean())}))
        figure = plot_reliability(curves, _plot_path(plot, out),
                                  title=f"Il6Prognosis, grouped CV ({cv_repeats}×5-fold, "
                                        f"repeats pooled), n={len(y)}")
        console.print(f"Reliability diagram: {figure}")
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
    column: ColumnOption = None,
    plot: PlotOption = None,
) -> None:
    """Predict the probability of in-hospital death for the patients of a new file.

    Writes one row per patient. A patient without any lab in the model's window (before
    discharge or death) is not scored: empty probability, scored = 0, and a warning. If the
    file has outcomes, also prints AUC, Brier score and calibration, and writes a reliability
    diagram.
    """
    import warnings

    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from . import Il6Prognosis, calibration_table
    from ._calibration import calibration_measures
    from ._cohort import lab_counts

    check_output_file(out, "--out", (".csv",))
    check_output_file(plot, "--plot", PLOT_SUFFIXES)
    parse_columns(column)
    console = _console()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Il6Prognosis.load(model_file)
    for warning in caught:
        console.print(f"[yellow]warning:[/] {warning.message}", highlight=False)
    data = _load(console, cohort, require_outcome=False, columns=column)
    window = model.training_info_.get("window_hours", 48.0)
    X = data.first_values(window)
    expected = list(getattr(model, "feature_names_in_", X.columns))
    absent = [c for c in expected if c not in X]
    if absent:
        console.print(f"note: {len(absent)} model inputs absent, treated as missing: "
                      + ", ".join(absent))
    X = X.reindex(columns=expected)
    n_labs = lab_counts(X).to_numpy()
    scored = n_labs > 0
    if not scored.all():
        ids = ", ".join(str(i) for i in X.index[~scored][:10]) + (
            ", ..." if (~scored).sum() > 10 else "")
        console.print(f"[yellow]warning:[/] {(~scored).sum()} of {len(X)} patients have no "
                      f"laboratory value within {window:g} h of admission (before discharge or "
                      "death) and are not scored (probability_death empty, scored = 0 in "
                      f"{out.name}): {ids}", highlight=False)
    seen = model.training_overlap(X[scored])
    if seen:
        console.print(f"[yellow]warning:[/] {seen} of {int(scored.sum())} patients in "
                      f"{cohort.name} were in the model's training data: measures on them "
                      "(AUC, Brier score) are not a test of the model; use the cross-validated "
                      "figures of 'prognosis fit' or a cohort of new patients", highlight=False)
    column_of_death = list(model.classes_).index(1)
    probability = np.full(len(X), np.nan)
    raw = np.full(len(X), np.nan)
    if scored.any():
        probability[scored] = model.predict_proba(X[scored])[:, column_of_death]
        raw[scored] = model.raw_proba(X[scored])[:, column_of_death]
    if getattr(model, "calibrator_", None) is None:
        status = getattr(model, "calibration_", {}).get("status", "not recalibrated")
        console.print(f"note: this model's probabilities are not recalibrated ({status}).")
    outcome = data.patient_info["outcome"].reindex(X.index)
    predicted = pd.array(np.where(scored, probability >= 0.5, False).astype(int), dtype="Int64")
    predicted[~scored] = pd.NA
    table = pd.DataFrame({"probability_death": probability, "probability_death_raw": raw,
                          "predicted_death": predicted, "n_labs": n_labs,
                          "scored": scored.astype(int), "outcome": outcome.astype("Int64")},
                         index=X.index)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out)
    console.print(f"Predictions for {int(scored.sum())} of {len(table)} patients written to "
                  f"{out}")
    known = outcome.notna().to_numpy() & scored
    if not known.any():
        console.print("No outcomes in the file (for scored patients): no performance measures.")
        return
    y, p = outcome[known].astype(int).to_numpy(), probability[known]
    console.print(f"Outcomes known for {known.sum()} scored patients ({y.sum()} died); "
                  f"{(~known).sum()} unscored or without outcome left out of the measures.")
    auc = roc_auc_score(y, p) if np.unique(y).size == 2 else float("nan")
    m = calibration_measures(y, p)
    console.print(f"AUC {auc:.3f}   Brier score {m['brier']:.3f}   "
                  f"accuracy at 0.5 {np.mean((p >= 0.5) == y):.3f}")
    slope = (f"slope {m['slope']:.2f}, intercept {m['intercept']:+.2f}"
             if np.isfinite(m["slope"]) else "slope not estimable (outcomes perfectly separated "
                                              "or one class)")
    console.print(f"Calibration: mean predicted {m['mean_predicted']:.1%} vs observed "
                  f"{m['observed']:.1%}; {slope}, calibration in the large {m['citl']:+.2f}")
    calibration = calibration_table(y, p, n_groups=5)
    rich_table = Table(title="Calibration (quintiles of predicted risk)", title_justify="left")
    for name in ("predicted range", "n", "mean predicted", "observed"):
        rich_table.add_column(name, justify="right")
    for row in calibration.itertuples():
        rich_table.add_row(row.group, str(row.n), f"{row.mean_predicted:.3f}",
                           f"{row.observed:.3f}")
    console.print(rich_table)
    from ._figures import plot_reliability

    curves = [("Il6Prognosis", y, p)]
    if getattr(model, "calibrator_", None) is not None:
        curves = [("recalibrated", y, p), ("before recalibration", y, raw[known])]
    figure = plot_reliability(curves, _plot_path(plot, out),
                              title=f"Il6Prognosis on {cohort.name}, n={len(y)}")
    console.print(f"Reliability diagram: {figure}")


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
