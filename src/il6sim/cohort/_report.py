"""The biomarker report: every analysis on one cohort, written as Markdown, HTML, PNG and CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ..errors import InputError
from ._biomarkers import (
    HEROLD_IL6_CUTOFF,
    ROC_MARKERS,
    auc_table,
    bootstrap_auc,
    herold_rule,
    outcome_comparison,
    rule_performance,
    time_dependent_auc,
    yan_rule,
)
from ._cohort import Cohort, lab_counts
from ._figures import (
    plot_calibration,
    plot_death_incidence,
    plot_il6_by_outcome,
    plot_reliability,
    plot_roc,
    plot_time_auc,
)
from ._markdown import render_html, render_markdown
from ._prognosis import Il6Prognosis, compare_methods, cross_validate_prognosis
from ._survival import cox_model, death_incidence, il6_strata, survival_data

__all__ = ["BiomarkerReport", "calibration_table", "run_biomarkers"]

TIME_MARKERS = ("il6", "crp", "ldh", "lymphocyte_pct")
ROC_FIGURE_MARKERS = ("il6", "crp", "ldh", "lymphocyte_pct", "lymphocytes", "ferritin", "il10",
                      "tnf")
COX_MODELS = (("IL-6 + age", ["il6", "age"]),
              ("IL-6 + age + LDH + CRP + lymphocyte %",
               ["il6", "age", "ldh", "crp", "lymphocyte_pct"]))
MIN_PER_CLASS = 5


@dataclass
class BiomarkerReport:
    """Result of :func:`run_biomarkers`: key numbers, tables, figure and report paths."""

    out_dir: Path
    summary: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    markdown: Path | None = None
    html: Path | None = None


def calibration_table(y, probability, n_groups: int = 5) -> pd.DataFrame:
    """Observed proportion of deaths by group of predicted risk (quantile groups)."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(probability)})
    groups = pd.qcut(frame["p"].rank(method="first"), min(n_groups, len(frame)), labels=False)
    table = frame.groupby(groups).agg(n=("y", "size"), mean_predicted=("p", "mean"),
                                      observed=("y", "mean"),
                                      low=("p", "min"), high=("p", "max"))
    table.insert(0, "group", [f"{lo:.3f}–{hi:.3f}" for lo, hi in zip(table["low"],
                                                                     table["high"], strict=True)])
    return table.drop(columns=["low", "high"]).reset_index(drop=True)


def run_biomarkers(cohort: Cohort, out_dir: str | Path, seed: int = 0, *, n_boot: int = 1000,
                   window_hours: float = 48, cv_repeats: int = 5,
                   progress: Callable[[str], None] | None = None) -> BiomarkerReport:
    """Run the biomarker and prognosis analyses and write ``report.md``, ``report.html``,
    figures (``cohort_*.png``) and tables (``*.csv``) into ``out_dir``.

    Parameters
    ----------
    cohort
        From :func:`load_cohort`.
    out_dir
        Output folder (created).
    seed
        Seed of the bootstrap resampling and of the cross-validation splits.
    n_boot
        Bootstrap resamples per AUC confidence interval.
    window_hours
        Baseline window: first value of each lab within this many hours of admission.
    cv_repeats
        Repeats of the 5-fold grouped cross-validation of :class:`Il6Prognosis`.
    progress
        Called with a short message before each step (e.g. to update a progress display).

    Raises
    ------
    InputError
        Fewer than 5 patients who died or 5 who survived (with a known outcome).

    Notes
    -----
    Sections that need IL-6 (survival by IL-6, IL-6 baselines) are skipped, with a note in the
    report, when fewer than 6 patients have an IL-6 value in the window.

    References
    ----------
    Yan L. et al. (2020) Nat. Mach. Intell. 2:283. Herold T. et al. (2020) J. Allergy Clin.
    Immunol. 146:128. Davidson-Pilon C. (2019) lifelines, JOSS 4:1317. Pedregosa F. et al. (2011)
    scikit-learn, JMLR 12:2825.
    """
    say = progress or (lambda message: None)
    X, y = cohort.dataset(window_hours)
    died, survived = int(y.sum()), int(len(y) - y.sum())
    if min(died, survived) < MIN_PER_CLASS:
        raise InputError(f"{Path(cohort.source).name}: the biomarker report needs at least "
                         f"{MIN_PER_CLASS} patients who died and {MIN_PER_CLASS} who survived "
                         f"with a known outcome; found {died} and {survived}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = BiomarkerReport(out_dir=out)
    markers = [m for m in ROC_MARKERS if X[m].notna().any()]
    il6_ok = X["il6"].notna().sum() >= 6 and y[X["il6"].notna()].nunique() == 2
    s = report.summary
    s.update(n_patients=cohort.n_patients, n_rows=cohort.n_rows_read, n_analysed=len(y),
             n_died=died, n_no_outcome=cohort.n_patients - len(y), window_hours=window_hours,
             n_boot=n_boot, seed=seed, cv_repeats=cv_repeats)

    say("comparing markers by outcome")
    report.tables["outcome_comparison"] = outcome_comparison(X, y, markers).assign(
        window=f"≤{window_hours:g} h")
    X_any, y_any = cohort.dataset(None)
    report.tables["outcome_comparison_il6_any_time"] = outcome_comparison(
        X_any, y_any, ["il6"]).assign(window="any time")

    say(f"ROC/AUC with {n_boot} bootstrap resamples")
    report.tables["auc"] = auc_table(X, y, markers, n_boot=n_boot, seed=seed)

    say("time-dependent AUC")
    time_table, excluded = time_dependent_auc(
        cohort, [m for m in TIME_MARKERS if m in markers], n_boot=n_boot, seed=seed)
    report.tables["time_dependent_auc"] = time_table
    s.update(time_auc_excluded_after_outcome=excluded["after_outcome"])

    km_panels = []
    if il6_ok:
        say("Kaplan–Meier and Cox models")
        km_panels = _survival_tables(report, survival_data(cohort, window_hours))
    else:
        report.notes.append("Fewer than 6 patients with IL-6 in the window: survival by IL-6 "
                            "and IL-6 baselines skipped.")

    say(f"prognostic model: {cv_repeats}×5-fold grouped cross-validation")
    scored = lab_counts(X) > 0  # the model does not score patients without a lab
    s.update(n_model=int(scored.sum()), n_no_lab_in_window=int((~scored).sum()))
    if not scored.all():
        report.notes.append(f"{int((~scored).sum())} patients without any laboratory value in "
                            f"the first {window_hours:g} h (before discharge or death) are left "
                            "out of the prognostic model (it does not score them).")
    Xm, ym = X[scored], y[scored]
    cv = cross_validate_prognosis(Xm, ym, estimator=Il6Prognosis(random_state=seed),
                                  n_repeats=cv_repeats, seed=seed, n_boot=n_boot)
    report.tables["prognosis_cv"] = pd.DataFrame([cv.summary()])
    report.tables["prognosis_oof"] = pd.DataFrame({"probability": cv.probability,
                                                   "raw_probability": cv.raw_probability,
                                                   "outcome": ym})
    report.tables["calibration"] = calibration_table(ym, cv.probability)
    report.tables["baselines"] = _baselines(Xm, ym, cv.probability, n_boot, seed, il6_ok)
    say("comparing model variants (grouped CV and temporal split)")
    report.tables["model_comparison"] = compare_methods(
        Xm, ym, cohort.patient_info["admission_time"], n_repeats=cv_repeats, seed=seed,
        done={"ensemble": cv})
    _summarise(report, cv)

    say("writing figures and report")
    figures = report.figures
    auc = report.tables["auc"]
    figures["roc"] = plot_roc(X, y, auc, [m for m in ROC_FIGURE_MARKERS if m in markers],
                              out / "cohort_roc.png")
    if len(time_table):
        figures["time_auc"] = plot_time_auc(time_table, out / "cohort_time_auc.png")
    if il6_ok:
        figures["il6_by_outcome"] = plot_il6_by_outcome(X["il6"], y, HEROLD_IL6_CUTOFF,
                                                        out / "cohort_il6_by_outcome.png")
        figures["km"] = plot_death_incidence(km_panels, out / "cohort_km_il6.png")
    figures["prognosis"] = plot_calibration(report.tables["calibration"], ym, cv.probability,
                                            Xm["il6"], out / "cohort_prognosis.png")
    observed = {"observed": float(ym.mean())}
    figures["reliability"] = plot_reliability(
        [("recalibrated", *cv.pooled(), {**cv.calibration(), **observed}),
         ("before recalibration", *cv.pooled(raw=True), {**cv.calibration(raw=True), **observed})],
        out / "cohort_reliability.png",
        title=f"Il6Prognosis, grouped CV ({cv_repeats}×5-fold, repeats pooled), n={len(ym)}")
    for name, table in report.tables.items():
        table.to_csv(out / f"{name}.csv", index=name == "prognosis_oof")
    cohort.problems.to_csv(out / "problems.csv", index=False)
    text = render_markdown(cohort, report)
    report.markdown = out / "report.md"
    report.markdown.write_text(text, encoding="utf-8")
    report.html = out / "report.html"
    report.html.write_text(render_html(text), encoding="utf-8")
    return report


def _survival_tables(report: BiomarkerReport, surv: pd.DataFrame) -> list:
    """Cumulative incidence of in-hospital death (Aalen–Johansen, discharge competing) by
    IL-6 tertiles and by the 80 pg/mL cut-off; Cox models."""
    panels, km_tables = [], []
    for title, cutoff in (("IL-6 tertiles", None),
                          (f"IL-6 cut-off {HEROLD_IL6_CUTOFF:g} pg/mL", HEROLD_IL6_CUTOFF)):
        groups = il6_strata(surv["il6"], cutoff)
        if groups.nunique() < 2:
            continue
        fitters, table, p = death_incidence(surv, groups)
        panels.append((title, fitters, p))
        km_tables.append(table.assign(stratification=title, logrank_p=p))
    report.tables["death_incidence_il6"] = (pd.concat(km_tables, ignore_index=True)
                                            if km_tables else pd.DataFrame())
    cox_tables = []
    for name, covariates in COX_MODELS:
        complete = surv[[*covariates, "died"]].dropna()
        if len(complete) < 10 or complete["died"].sum() < 3:
            report.notes.append(f"Cox model {name}: too few complete cases "
                                f"({len(complete)}, {int(complete['died'].sum())} deaths).")
            continue
        _, table = cox_model(surv, covariates, log2=("il6", "ldh", "crp"))
        cox_tables.append(table.assign(model=name))
    report.tables["cox"] = pd.concat(cox_tables, ignore_index=True) if cox_tables else (
        pd.DataFrame())
    return panels


def _baselines(X, y, probability, n_boot, seed, il6_ok: bool) -> pd.DataFrame:
    """Model vs IL-6 alone (on patients with IL-6), Herold's IL-6 > 80 rule and Yan's rule."""
    has = X["il6"].notna()
    scores = [("Il6Prognosis (all patients, out-of-fold)", y, probability)]
    if il6_ok:
        scores += [("Il6Prognosis (patients with IL-6, out-of-fold)", y[has], probability[has]),
                   ("IL-6 alone (patients with IL-6)", y[has], X.loc[has, "il6"])]
    rows = []
    for name, yy, score in scores:
        auc, low, high = bootstrap_auc(yy, score, n_boot, seed)
        rows.append({"method": name, "n": len(yy), "auc": auc, "auc_low": low, "auc_high": high})
    rules = [("Il6Prognosis, probability ≥ 0.5", (probability >= 0.5).astype(float)),
             (f"Herold 2020: IL-6 > {HEROLD_IL6_CUTOFF:g} pg/mL", herold_rule(X)),
             ("Yan 2020 rule: LDH, hs-CRP, lymphocyte %", yan_rule(X))]
    for name, predicted in rules:
        usable = predicted.notna()
        if y[usable].nunique() < 2:
            continue
        perf = rule_performance(y, predicted)
        rows.append({"method": name, "n": perf["n"],
                     "auc": roc_auc_score(y[usable], predicted[usable]),
                     **{k: perf[k] for k in ("sensitivity", "specificity", "ppv", "npv",
                                             "accuracy")},
                     "n_not_applicable": perf["n_not_applicable"]})
    return pd.DataFrame(rows).astype({"n_not_applicable": "Int64"})


def _summarise(report: BiomarkerReport, cv) -> None:
    """Key numbers of the report (printed by the command line, quoted in the docs)."""
    s, t = report.summary, report.tables
    aucs = t["auc"].set_index("marker") if len(t["auc"]) else pd.DataFrame()
    if "il6" in aucs.index:
        il6 = aucs.loc["il6"]
        s.update(il6_n=int(il6["n"]), il6_n_died=int(il6["n_died"]), il6_auc=il6["auc"],
                 il6_auc_low=il6["auc_low"], il6_auc_high=il6["auc_high"],
                 il6_youden_cutoff=il6["cutoff"], il6_sensitivity=il6["sensitivity"],
                 il6_specificity=il6["specificity"])
        row = t["outcome_comparison"].set_index("marker").loc["il6"]
        s.update(il6_median_survived=row["median_survived"], il6_median_died=row["median_died"],
                 il6_mannwhitney_p=row["mannwhitney_p"])
    cox = t.get("cox", pd.DataFrame())
    if len(cox):
        first = cox[(cox["model"] == "IL-6 + age") & (cox["covariate"] == "log2_il6")]
        if len(first):
            s.update(cox_hr_log2_il6=float(first["hr"].iloc[0]),
                     cox_hr_log2_il6_low=float(first["hr_low"].iloc[0]),
                     cox_hr_log2_il6_high=float(first["hr_high"].iloc[0]))
    s.update({f"model_{k}": v for k, v in cv.summary().items()})
