"""The biomarker report: every analysis on one cohort, written as Markdown, HTML, PNG and CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt
from sklearn.metrics import roc_auc_score

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
from ._cohort import Cohort
from ._figures import plot_calibration, plot_il6_by_outcome, plot_km, plot_roc, plot_time_auc
from ._markers import MARKER_BY_NAME
from ._prognosis import Il6Prognosis, cross_validate_prognosis
from ._survival import cox_model, il6_strata, kaplan_meier, survival_data

__all__ = ["BiomarkerReport", "calibration_table", "run_biomarkers"]

TIME_MARKERS = ("il6", "crp", "ldh", "lymphocyte_pct")
ROC_FIGURE_MARKERS = ("il6", "crp", "ldh", "lymphocyte_pct", "lymphocytes", "ferritin", "il10",
                      "tnf")


@dataclass
class BiomarkerReport:
    """Result of :func:`run_biomarkers`: key numbers, tables, figure and report paths."""

    out_dir: Path
    summary: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
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

    References
    ----------
    Yan L. et al. (2020) Nat. Mach. Intell. 2:283. Herold T. et al. (2020) J. Allergy Clin.
    Immunol. 146:128. Davidson-Pilon C. (2019) lifelines, JOSS 4:1317. Pedregosa F. et al. (2011)
    scikit-learn, JMLR 12:2825.
    """
    say = progress or (lambda message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = BiomarkerReport(out_dir=out)
    X, y = cohort.dataset(window_hours)
    markers = [m for m in ROC_MARKERS if X[m].notna().any()]
    s = report.summary
    s.update(n_patients=cohort.n_patients, n_rows=cohort.n_rows_read, n_analysed=len(y),
             n_died=int(y.sum()), n_no_outcome=cohort.n_patients - len(y),
             window_hours=window_hours, n_boot=n_boot, seed=seed)

    say("comparing markers by outcome")
    compare = outcome_comparison(X, y, markers)
    X_any, y_any = cohort.dataset(None)
    compare_any = outcome_comparison(X_any, y_any, ["il6"]).assign(window="any time")
    report.tables["outcome_comparison"] = compare.assign(window=f"≤{window_hours:g} h")
    report.tables["outcome_comparison_il6_any_time"] = compare_any

    say(f"ROC/AUC with {n_boot} bootstrap resamples")
    aucs = auc_table(X, y, markers, n_boot=n_boot, seed=seed)
    report.tables["auc"] = aucs

    say("time-dependent AUC")
    time_table, excluded = time_dependent_auc(
        cohort, [m for m in TIME_MARKERS if m in markers], n_boot=n_boot, seed=seed)
    report.tables["time_dependent_auc"] = time_table
    s.update(time_auc_excluded_after_outcome=excluded["after_outcome"])

    say("Kaplan–Meier and Cox models")
    surv = survival_data(cohort, window_hours)
    km_panels, km_tables = [], []
    for title, cutoff in (("IL-6 tertiles", None),
                          (f"IL-6 cut-off {HEROLD_IL6_CUTOFF:g} pg/mL", HEROLD_IL6_CUTOFF)):
        fitters, table, p = kaplan_meier(surv, il6_strata(surv["il6"], cutoff))
        km_panels.append((title, fitters, p))
        km_tables.append(table.assign(stratification=title, logrank_p=p))
    report.tables["km_il6"] = pd.concat(km_tables, ignore_index=True)
    cox_tables = []
    for name, covariates in (("IL-6 + age", ["il6", "age"]),
                             ("IL-6 + age + LDH + CRP + lymphocyte %",
                              ["il6", "age", "ldh", "crp", "lymphocyte_pct"])):
        _, table = cox_model(surv, covariates, log2=("il6", "ldh", "crp"))
        cox_tables.append(table.assign(model=name))
    report.tables["cox"] = pd.concat(cox_tables, ignore_index=True)

    say(f"prognostic model: {cv_repeats}×5-fold grouped cross-validation")
    cv = cross_validate_prognosis(X, y, estimator=Il6Prognosis(random_state=seed),
                                  n_repeats=cv_repeats, seed=seed, n_boot=n_boot)
    report.tables["prognosis_cv"] = pd.DataFrame([cv.summary()])
    report.tables["prognosis_oof"] = pd.DataFrame({"probability": cv.probability, "outcome": y})
    report.tables["calibration"] = calibration_table(y, cv.probability)
    report.tables["baselines"] = _baselines(X, y, cv.probability, n_boot, seed)

    _summarise(report, compare, compare_any, aucs, cv)
    say("writing figures and report")
    report.figures = {
        "roc": plot_roc(X, y, aucs, [m for m in ROC_FIGURE_MARKERS if m in markers],
                        out / "cohort_roc.png"),
        "il6_by_outcome": plot_il6_by_outcome(X["il6"], y, HEROLD_IL6_CUTOFF,
                                              out / "cohort_il6_by_outcome.png"),
        "time_auc": plot_time_auc(time_table, out / "cohort_time_auc.png"),
        "km": plot_km(km_panels, out / "cohort_km_il6.png"),
        "calibration": plot_calibration(report.tables["calibration"], y, cv.probability,
                                        X["il6"], out / "cohort_prognosis.png"),
    }
    for name, table in report.tables.items():
        table.to_csv(out / f"{name}.csv", index=name == "prognosis_oof")
    cohort.problems.to_csv(out / "problems.csv", index=False)
    text = _markdown(cohort, report)
    report.markdown = out / "report.md"
    report.markdown.write_text(text, encoding="utf-8")
    report.html = out / "report.html"
    report.html.write_text(_html(text), encoding="utf-8")
    return report


def _baselines(X, y, probability, n_boot, seed) -> pd.DataFrame:
    """Model vs IL-6 alone (on patients with IL-6), Herold's IL-6 > 80 rule and Yan's rule."""
    has = X["il6"].notna()
    rows = []
    for name, yy, score in (("Il6Prognosis (all patients, out-of-fold)", y, probability),
                            ("Il6Prognosis (patients with IL-6, out-of-fold)", y[has],
                             probability[has]),
                            ("IL-6 alone (patients with IL-6)", y[has], X.loc[has, "il6"])):
        auc, low, high = bootstrap_auc(yy, score, n_boot, seed)
        rows.append({"method": name, "n": len(yy), "auc": auc, "auc_low": low, "auc_high": high})
    model_rule = (probability >= 0.5).astype(float)
    for name, predicted in (("Il6Prognosis, probability ≥ 0.5", model_rule),
                            (f"Herold 2020: IL-6 > {HEROLD_IL6_CUTOFF:g} pg/mL", herold_rule(X)),
                            ("Yan 2020 rule: LDH, hs-CRP, lymphocyte %", yan_rule(X))):
        perf = rule_performance(y, predicted)
        usable = predicted.notna()
        auc = roc_auc_score(y[usable], predicted[usable]) if usable.any() else np.nan
        rows.append({"method": name, "n": perf["n"], "auc": auc, **{
            k: perf[k] for k in ("sensitivity", "specificity", "ppv", "npv", "accuracy")},
            "n_not_applicable": perf["n_not_applicable"]})
    return pd.DataFrame(rows).astype({"n_not_applicable": "Int64"})


def _summarise(report, compare, compare_any, aucs, cv) -> None:
    s = report.summary
    il6 = aucs.set_index("marker").loc["il6"] if "il6" in set(aucs["marker"]) else None
    if il6 is not None:
        s.update(il6_n=int(il6["n"]), il6_n_died=int(il6["n_died"]), il6_auc=il6["auc"],
                 il6_auc_low=il6["auc_low"], il6_auc_high=il6["auc_high"],
                 il6_youden_cutoff=il6["cutoff"], il6_sensitivity=il6["sensitivity"],
                 il6_specificity=il6["specificity"])
        row = compare.set_index("marker").loc["il6"]
        s.update(il6_median_survived=row["median_survived"], il6_median_died=row["median_died"],
                 il6_mannwhitney_p=row["mannwhitney_p"])
    cox = report.tables["cox"]
    first = cox[(cox["model"] == "IL-6 + age") & (cox["covariate"] == "log2_il6")]
    if len(first):
        s.update(cox_hr_log2_il6=float(first["hr"].iloc[0]),
                 cox_hr_log2_il6_low=float(first["hr_low"].iloc[0]),
                 cox_hr_log2_il6_high=float(first["hr_high"].iloc[0]))
    s.update({f"model_{k}": v for k, v in cv.summary().items()})
    s["model_brier_mean_repeat"] = float(np.mean(cv.repeat_brier))


# --------------------------------------------------------------------------- Markdown and HTML
def _fmt(value, digits: int = 3) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "–"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if abs(value) != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.{digits}g}" if abs(value) >= 10 else f"{value:.{digits}f}"


def _table(df: pd.DataFrame, columns: dict[str, str] | None = None) -> str:
    columns = columns or {c: c for c in df.columns}
    head = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(_fmt(row[c]) for c in columns) + " |" for _, row in df.iterrows()]
    return "\n".join([head, rule, *body])


def _ci(row, key="auc") -> str:
    return f"{row[key]:.3f} ({row[key + '_low']:.3f}–{row[key + '_high']:.3f})"


def _markdown(cohort: Cohort, report: BiomarkerReport) -> str:
    s, t = report.summary, report.tables
    window = f"{s['window_hours']:g} h"
    problems = cohort.problem_summary()
    censored = cohort.censored_counts()
    lines = [
        "# Biomarkers of in-hospital death: report", "",
        f"Cohort `{Path(cohort.source).name}`: {s['n_rows']} rows (blood samples), "
        f"{s['n_patients']} patients, {s['n_died']} died in hospital; {s['n_no_outcome']} "
        f"patients without an outcome left out. Baseline = first value of each lab within "
        f"{window} of admission. Bootstrap: {s['n_boot']} patient resamples, seed {s['seed']}.", "",
        "## Data problems", "",
        f"{len(cohort.problems)} problems (full list in `problems.csv`). Implausible values are "
        "excluded from every analysis; duplicate rows are counted once.", "",
        _table(problems, {"kind": "kind", "column": "column", "count": "count", "fix": "fix"})
        if len(problems) else "None found.", "",
    ]
    if len(censored):
        lines += ["Censored values (analysed at their limit): " + "; ".join(
            f"{m}: {r.left} below, {r.right} above the measuring range"
            for m, r in censored.iterrows()) + ".", ""]
    comp = pd.concat([t["outcome_comparison"], t["outcome_comparison_il6_any_time"]])
    rows = list(comp.itertuples())
    comp = comp.assign(survived=[f"{r.median_survived:.3g} ({r.q1_survived:.3g}–"
                                 f"{r.q3_survived:.3g}), n={r.n_survived}" for r in rows],
                       died=[f"{r.median_died:.3g} ({r.q1_died:.3g}–{r.q3_died:.3g}), "
                             f"n={r.n_died}" for r in rows])
    lines += [
        "## Markers by outcome", "",
        "Median (IQR) in survivors and non-survivors; two-sided Mann–Whitney U test.", "",
        _table(comp, {"label": "marker", "unit": "unit", "window": "window",
                      "survived": "survived", "died": "died", "mannwhitney_p": "p"}), "",
        "![IL-6 by outcome](cohort_il6_by_outcome.png)", "",
        "## Discrimination (ROC)", "",
        "AUC with percentile-bootstrap 95% CI, each marker on the patients who have it; the score "
        "is oriented a priori (lower lymphocytes = worse). Cut-off maximising Youden's J.", "",
        _table(t["auc"].assign(auc_ci=[_ci(r) for _, r in t["auc"].iterrows()],
                               rule=[f"{r.direction} {r.cutoff:.3g} {r.unit}"
                                     for r in t["auc"].itertuples()]),
               {"label": "marker", "n": "n", "n_died": "died", "auc_ci": "AUC (95% CI)",
                "rule": "Youden cut-off", "sensitivity": "sensitivity",
                "specificity": "specificity"}), "",
        "![ROC curves](cohort_roc.png)", "",
        "## Time-dependent discrimination", "",
        "AUC of the latest sample in each bin of days before death or discharge "
        f"({s['time_auc_excluded_after_outcome']} values dated after the outcome left out).", "",
        _table(t["time_dependent_auc"].assign(
            label=[MARKER_BY_NAME[m].label for m in t["time_dependent_auc"]["marker"]],
            auc_ci=[_ci(r) if not np.isnan(r["auc"]) else "–"
                    for _, r in t["time_dependent_auc"].iterrows()]),
            {"label": "marker", "bin": "days before outcome", "n": "n", "n_died": "died",
             "auc_ci": "AUC (95% CI)"}), "",
        "![AUC by time before outcome](cohort_time_auc.png)", "",
        "## Survival by IL-6", "",
        "Time = days from admission to death or discharge; **discharge is treated as censoring "
        "for death**. Discharge is really a competing event, so 1 − KM overstates the cumulative "
        "incidence of in-hospital death and Cox hazard ratios are cause-specific.", "",
        _table(t["km_il6"], {"stratification": "strata", "group": "group (pg/mL)", "n": "n",
                             "deaths": "deaths", "survival_14d": "S(14 d)",
                             "survival_28d": "S(28 d)", "logrank_p": "log-rank p"}), "",
        "![Kaplan–Meier by IL-6](cohort_km_il6.png)", "",
        "Cox proportional-hazards models (lifelines), complete cases; log2 = hazard ratio per "
        "doubling.", "",
        _table(t["cox"].assign(hr_ci=[f"{r.hr:.3g} ({r.hr_low:.3g}–{r.hr_high:.3g})"
                                      for r in t["cox"].itertuples()]),
               {"model": "model", "covariate": "covariate", "hr_ci": "HR (95% CI)", "p": "p",
                "n": "n", "events": "deaths", "concordance": "C-index"}), "",
    ]
    cv = t["prognosis_cv"].iloc[0]
    lines += [
        "## Prognostic model (Il6Prognosis)", "",
        f"Soft-voting ensemble of penalised logistic regression (log labs, missing indicators) and "
        f"shallow gradient boosting on all first-{window} labs, age and sex. "
        f"{int(cv['repeats'])}×5-fold stratified grouped cross-validation (groups = patients): "
        f"AUC {_ci(cv)} (out-of-fold probabilities averaged over repeats; single repeats "
        f"{cv['auc_min_repeat']:.3f}–{cv['auc_max_repeat']:.3f}); Brier score "
        f"{s['model_brier_mean_repeat']:.3f} (mean over repeats).", "",
        _table(t["baselines"], {"method": "method", "n": "n", "auc": "AUC",
                                "auc_low": "AUC low", "auc_high": "AUC high",
                                "sensitivity": "sensitivity", "specificity": "specificity",
                                "n_not_applicable": "not applicable"}), "",
        "Herold et al.'s cut-off predicted respiratory failure, not death. Yan et al.'s rule was "
        "derived from the last samples of Tongji patients that include this cohort, so it is not "
        "an independent test here; the rows give the AUC of the yes/no rule.", "",
        "Calibration (out-of-fold, quintiles of predicted risk):", "",
        _table(t["calibration"], {"group": "predicted range", "n": "n",
                                  "mean_predicted": "mean predicted", "observed": "observed"}), "",
        "![Calibration and ROC](cohort_prognosis.png)", "",
        "## References", "",
        "- Yan L. et al. (2020) An interpretable mortality prediction model for COVID-19 patients. "
        "Nat. Mach. Intell. 2:283–288 (data source, MIT licence).",
        "- Herold T. et al. (2020) Elevated levels of IL-6 and CRP predict the need for mechanical "
        "ventilation in COVID-19. J. Allergy Clin. Immunol. 146:128–136.",
        "- Youden W.J. (1950) Index for rating diagnostic tests. Cancer 3:32–35.",
        "- Davidson-Pilon C. (2019) lifelines: survival analysis in Python. JOSS 4:1317.",
        "- Pedregosa F. et al. (2011) Scikit-learn: machine learning in Python. JMLR 12:2825.", "",
    ]
    return "\n".join(lines)


def _html(markdown: str) -> str:
    body = MarkdownIt("commonmark").enable("table").render(markdown)
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;"
             "padding:2px 6px}img{max-width:100%}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Biomarker report</title>"
            f"<style>{style}</style></head><body>\n{body}</body></html>\n")
