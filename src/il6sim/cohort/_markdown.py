"""Markdown and HTML text of the biomarker report (see :func:`il6sim.cohort.run_biomarkers`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt

from ._markers import MARKER_BY_NAME

if TYPE_CHECKING:  # pragma: no cover
    from ._cohort import Cohort
    from ._report import BiomarkerReport

__all__ = ["render_html", "render_markdown"]

REFERENCES = [
    "- Yan L. et al. (2020) An interpretable mortality prediction model for COVID-19 patients. "
    "Nat. Mach. Intell. 2:283–288 (data source, MIT licence).",
    "- Herold T. et al. (2020) Elevated levels of IL-6 and CRP predict the need for mechanical "
    "ventilation in COVID-19. J. Allergy Clin. Immunol. 146:128–136.",
    "- Youden W.J. (1950) Index for rating diagnostic tests. Cancer 3:32–35.",
    "- Davidson-Pilon C. (2019) lifelines: survival analysis in Python. JOSS 4:1317.",
    "- Pedregosa F. et al. (2011) Scikit-learn: machine learning in Python. JMLR 12:2825.",
]


def fmt(value, digits: int = 3) -> str:
    """A number for a table: 3 significant digits, scientific notation when tiny or huge."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return "–"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if abs(value) != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.{digits}g}" if abs(value) >= 10 else f"{value:.{digits}f}"


def table(df: pd.DataFrame, columns: dict[str, str]) -> str:
    """Markdown table of ``df`` with ``{column: heading}``."""
    if df.empty:
        return "No data."
    head = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(fmt(row[c]) for c in columns) + " |" for _, row in df.iterrows()]
    return "\n".join([head, rule, *body])


def _ci(row, key: str = "auc") -> str:
    if pd.isna(row[key]):
        return "–"
    return f"{row[key]:.3f} ({row[key + '_low']:.3f}–{row[key + '_high']:.3f})"


def _image(report: BiomarkerReport, name: str, alt: str) -> list[str]:
    path = report.figures.get(name)
    return [f"![{alt}]({path.name})", ""] if path is not None else []


def _problems(cohort: Cohort) -> list[str]:
    problems = cohort.problem_summary()
    lines = ["## Data problems", "",
             f"{len(cohort.problems)} problems (full list in `problems.csv`). Implausible values "
             "are excluded from every analysis; duplicate rows are counted once.", "",
             table(problems, {"kind": "kind", "column": "column", "count": "count", "fix": "fix"})
             if len(problems) else "None found.", ""]
    censored = cohort.censored_counts()
    if len(censored):
        lines += ["Censored values (analysed at their limit): " + "; ".join(
            f"{m}: {r.left} below, {r.right} above the measuring range"
            for m, r in censored.iterrows()) + ".", ""]
    return lines


def _markers(report: BiomarkerReport) -> list[str]:
    t = report.tables
    comp = pd.concat([t["outcome_comparison"], t["outcome_comparison_il6_any_time"]])
    rows = list(comp.itertuples())
    comp = comp.assign(
        survived=[f"{r.median_survived:.3g} ({r.q1_survived:.3g}–{r.q3_survived:.3g}), "
                  f"n={r.n_survived}" for r in rows],
        died=[f"{r.median_died:.3g} ({r.q1_died:.3g}–{r.q3_died:.3g}), n={r.n_died}"
              for r in rows]) if rows else comp
    auc = t["auc"]
    auc = auc.assign(auc_ci=[_ci(r) for _, r in auc.iterrows()],
                     rule=[f"{r.direction} {r.cutoff:.3g} {r.unit}" for r in auc.itertuples()])
    timed = t["time_dependent_auc"]
    if len(timed):
        timed = timed.assign(label=[MARKER_BY_NAME[m].label for m in timed["marker"]],
                             auc_ci=[_ci(r) for _, r in timed.iterrows()])
    return [
        "## Markers by outcome", "",
        "Median (IQR) in survivors and non-survivors; two-sided Mann–Whitney U test.", "",
        table(comp, {"label": "marker", "unit": "unit", "window": "window",
                     "survived": "survived", "died": "died", "mannwhitney_p": "p"}), "",
        *_image(report, "il6_by_outcome", "IL-6 by outcome"),
        "## Discrimination (ROC)", "",
        "AUC with percentile-bootstrap 95% CI, each marker on the patients who have it; the score "
        "is oriented a priori (lower lymphocytes = worse). Cut-off maximising Youden's J.", "",
        table(auc, {"label": "marker", "n": "n", "n_died": "died", "auc_ci": "AUC (95% CI)",
                    "rule": "Youden cut-off", "sensitivity": "sensitivity",
                    "specificity": "specificity"}), "",
        *_image(report, "roc", "ROC curves"),
        "## Time-dependent discrimination", "",
        "AUC of the latest sample in each bin of days before death or discharge "
        f"({report.summary['time_auc_excluded_after_outcome']} values dated after the outcome "
        "left out).", "",
        table(timed, {"label": "marker", "bin": "days before outcome", "n": "n",
                      "n_died": "died", "auc_ci": "AUC (95% CI)"}) if len(timed) else "No data.",
        "", *_image(report, "time_auc", "AUC by time before outcome"),
    ]


def _survival(report: BiomarkerReport) -> list[str]:
    t = report.tables
    if "death_incidence_il6" not in t:
        return []
    cox = t["cox"]
    if len(cox):
        cox = cox.assign(hr_ci=[f"{r.hr:.3g} ({r.hr_low:.3g}–{r.hr_high:.3g})"
                                for r in cox.itertuples()])
    return [
        "## In-hospital death by IL-6", "",
        "Time = days from admission to death or discharge. Discharge alive is a **competing "
        "event** (a discharged patient can no longer die in hospital), so the curves are the "
        "Aalen–Johansen cumulative incidence of in-hospital death; the column 1 − KM shows what "
        "one minus a Kaplan–Meier curve censored at discharge would report instead. The "
        "log-rank test and the Cox hazard ratios are cause-specific.", "",
        table(t["death_incidence_il6"],
              {"stratification": "strata", "group": "group (pg/mL)", "n": "n",
               "deaths": "deaths", "discharged": "discharged", "death_14d": "CIF(14 d)",
               "death_28d": "CIF(28 d)", "km_death_28d": "1 − KM(28 d)",
               "logrank_p": "log-rank p"}), "",
        *_image(report, "km", "Cumulative incidence of in-hospital death by IL-6"),
        "Cox proportional-hazards models (lifelines), complete cases; log2 = hazard ratio per "
        "doubling.", "",
        table(cox, {"model": "model", "covariate": "covariate", "hr_ci": "HR (95% CI)",
                    "p": "p", "n": "n", "events": "deaths", "concordance": "C-index"}), "",
    ]


def _model(report: BiomarkerReport) -> list[str]:
    s, t = report.summary, report.tables
    window = f"{s['window_hours']:g} h"
    return [
        "## Prognostic model (Il6Prognosis)", "",
        "Soft-voting ensemble of penalised logistic regression (log labs, missing indicators) and "
        f"shallow gradient boosting on all first-{window} labs, age and sex, with a logistic "
        "recalibration of its probabilities fitted on out-of-fold predictions; "
        f"{s['model_n']} patients with a lab in the window. "
        f"{s['cv_repeats']}×5-fold stratified grouped cross-validation (groups = patients): "
        f"AUC {s['model_auc']:.3f} (95% CI {s['model_auc_low']:.3f}–{s['model_auc_high']:.3f}; "
        "out-of-fold probabilities averaged over repeats; single repeats "
        f"{s['model_auc_min_repeat']:.3f}–{s['model_auc_max_repeat']:.3f}); Brier score "
        f"{s['model_brier']:.3f} (mean over repeats).", "",
        table(t["baselines"], {"method": "method", "n": "n", "auc": "AUC",
                               "auc_low": "AUC low", "auc_high": "AUC high",
                               "sensitivity": "sensitivity", "specificity": "specificity",
                               "n_not_applicable": "not applicable"}), "",
        "Herold et al.'s cut-off predicted respiratory failure, not death. Yan et al.'s rule was "
        "derived from the last samples of Tongji patients that include this cohort, so it is not "
        "an independent test here. For yes/no rules the AUC is (sensitivity + specificity) / 2.",
        "",
        "Model variants at their default settings (no tuning): grouped CV AUC (mean and range "
        "over repeats) and Brier score; temporal split = fit on the first 60% of patients by "
        "admission time, test on the rest.", "",
        table(t["model_comparison"], {"method": "method", "cv_auc": "CV AUC",
                                      "cv_auc_min": "min", "cv_auc_max": "max",
                                      "cv_brier": "CV Brier", "temporal_auc": "temporal AUC",
                                      "temporal_brier": "temporal Brier",
                                      "temporal_n_test": "temporal n test"}), "",
        *_calibration(report),
        "Calibration (out-of-fold, quintiles of predicted risk):", "",
        table(t["calibration"], {"group": "predicted range", "n": "n",
                                 "mean_predicted": "mean predicted", "observed": "observed"}), "",
        *_image(report, "prognosis", "Calibration and ROC"),
        *_image(report, "reliability", "Reliability diagram"),
    ]


def _calibration(report: BiomarkerReport) -> list[str]:
    """Calibration of the out-of-fold probabilities, before and after recalibration."""
    s = report.summary
    if "model_calibration_slope" not in s:
        return []
    rows = []
    for name, prefix in (("recalibrated (default)", "model_calibration_"),
                         ("before recalibration", "model_raw_calibration_")):
        if prefix + "slope" in s:
            rows.append({"probabilities": name, "mean": s[prefix + "mean_predicted"],
                         "slope": s[prefix + "slope"], "slope_min": s[prefix + "slope_min"],
                         "slope_max": s[prefix + "slope_max"], "citl": s[prefix + "citl"]})
    observed = s["model_deaths"] / s["model_n"]
    return [
        f"Calibration under grouped cross-validation (observed death {observed:.1%}; "
        "measures of each repeat's out-of-fold probabilities, averaged; slope = b of "
        "logit P(death) = a + b·logit(p), 1 when the spread is right, below 1 when too extreme; "
        "calibration in the large = a with slope fixed at 1). The recalibration (logistic, on "
        "out-of-fold probabilities of the training folds) is fitted inside each training fold, "
        "so it is tested too.", "",
        table(pd.DataFrame(rows), {"probabilities": "probabilities", "mean": "mean predicted",
                                   "slope": "slope", "slope_min": "min", "slope_max": "max",
                                   "citl": "calibration in the large"}), "",
    ]


def render_markdown(cohort: Cohort, report: BiomarkerReport) -> str:
    """The whole report as Markdown (figures referenced by file name, next to the report)."""
    s = report.summary
    lines = [
        "# Biomarkers of in-hospital death: report", "",
        f"Cohort `{Path(cohort.source).name}`: {s['n_rows']} rows (blood samples), "
        f"{s['n_patients']} patients, {s['n_died']} died in hospital; {s['n_no_outcome']} "
        "patients without an outcome left out. Baseline = first value of each lab within "
        f"{s['window_hours']:g} h of admission. Bootstrap: {s['n_boot']} patient resamples, "
        f"seed {s['seed']}.", "",
        *[f"Note: {note}" for note in report.notes], "",
        *_problems(cohort), *_markers(report), *_survival(report), *_model(report),
        "## References", "", *REFERENCES, "",
    ]
    return "\n".join(lines)


def render_html(markdown: str) -> str:
    """Stand-alone HTML page of the Markdown report (markdown-it-py, CommonMark + tables)."""
    body = MarkdownIt("commonmark").enable("table").render(markdown)
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;"
             "padding:2px 6px}img{max-width:100%}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Biomarker report</title>"
            f"<style>{style}</style></head><body>\n{body}</body></html>\n")
