"""Section 7: the real COVID-19 cohort — IL-6 and other labs as predictors of death, and the
prognostic model (``il6sim biomarkers``; figures and numbers from :mod:`il6sim.cohort`)."""

from __future__ import annotations

from .. import _checks as check

KEY = "cohort"
TITLE = "Real patients: ROC of IL-6 and the prognostic model"
INTRO = ("The shipped cohort of 280 COVID-19 inpatients in Wuhan (Yan L et al., Nat Mach Intell "
         "2020;2:283; MIT licence): first value of each laboratory marker after admission "
         "against in-hospital death, survival by IL-6, and the Il6Prognosis model under grouped "
         "cross-validation. The full biomarker report (all tables, data problems) is written "
         "next to this report in sections/cohort/.")
STEPS = 8
USES = ("seed", "cohort_boot", "cohort_cv_repeats", "cohort_window_hours")


def _time_trend(table) -> str:
    """'IL-6 0.99 (0–2 d) → 0.84 (≥10 d), ...': each marker's AUC nearest to and farthest from
    the outcome."""
    from ...cohort import MARKERS

    labels = {m.name: m.label for m in MARKERS}
    parts = []
    for marker, rows in table.groupby("marker", sort=False):
        near, far = rows.iloc[0], rows.iloc[-1]
        parts.append(f"{labels.get(marker, marker)} {near.auc:.2f} ({near.bin}) → "
                     f"{far.auc:.2f} ({far.bin})")
    return "; ".join(parts) if parts else "no bins with both outcomes"


def _nearest_il6(table):
    """The C18 verdict of IL-6's AUC in the bin nearest the outcome (or of the first marker)."""
    rows = table[table["marker"] == "il6"] if "il6" in set(table["marker"]) else table
    if not len(rows):
        return check.c18_prediction("no marker", float("nan"), float("nan"), float("nan"))
    row = rows.iloc[0]
    return check.c18_prediction(f"{row['marker']} {row['bin']} before the outcome", row["auc"],
                                row["auc_low"], row["auc_high"])


def build(ctx) -> None:
    from ...cohort import load_cohort, run_biomarkers

    settings = ctx.settings
    ctx.step("reading the cohort")
    cohort = load_cohort()
    report = run_biomarkers(cohort, ctx.work_dir, seed=settings.seed,
                            n_boot=settings.cohort_boot,
                            window_hours=settings.cohort_window_hours,
                            cv_repeats=settings.cohort_cv_repeats, progress=ctx.step)
    s = report.summary
    ctx.number(**{k: v for k, v in s.items() if isinstance(v, int | float)})
    auc = report.tables["auc"]
    window = f"{s['window_hours']:g} h"
    best = auc.sort_values("auc", ascending=False).head(3)
    strongest = ", ".join(f"{r.label} {r.auc:.3f}" for r in best.itertuples())
    figures = report.figures
    il6_auc = check.c18_prediction("first IL-6", s["il6_auc"], s["il6_auc_low"],
                                   s["il6_auc_high"])
    c10 = check.c10_cohort(s.get("il6_median_died", float("nan")),
                           s.get("il6_median_survived", float("nan")),
                           s.get("il6_mannwhitney_p", float("nan")), s["il6_auc_low"])
    ctx.figure(figures["roc"], name="cohort_roc", title="ROC curves on the real cohort",
               caption=(f"{s['n_analysed']} patients, {s['n_died']} died; first value within "
                        f"{window} of admission, each marker on the patients who have it. IL-6 "
                        f"alone: AUC {s['il6_auc']:.3f} (95% CI {s['il6_auc_low']:.3f}–"
                        f"{s['il6_auc_high']:.3f}, {s['n_boot']} bootstrap resamples; "
                        f"n={s['il6_n']}), Youden cut-off {s['il6_youden_cutoff']:.3g} pg/mL "
                        f"(sensitivity {s['il6_sensitivity']:.2f}, specificity "
                        f"{s['il6_specificity']:.2f}). Strongest single markers: {strongest}."),
               claims=[il6_auc, c10])
    if "il6_by_outcome" in figures:
        ctx.figure(figures["il6_by_outcome"], name="cohort_il6", title="IL-6 by outcome",
                   caption=(f"Median first IL-6 {s['il6_median_survived']:.3g} pg/mL in "
                            f"survivors vs {s['il6_median_died']:.3g} in those who died "
                            f"(Mann–Whitney p = {s['il6_mannwhitney_p']:.1e})"
                            + (": high IL-6 marks severity in real patients." if c10.shown
                               else ".")),
                   claims=[c10, il6_auc])
    if "km" in figures and "cox_hr_log2_il6" in s:
        ctx.figure(figures["km"], name="cohort_km", title="In-hospital death by IL-6",
                   caption=(f"Cumulative incidence of in-hospital death (Aalen–Johansen; "
                            f"discharge alive is a competing event) by IL-6 tertiles and by "
                            f"80 pg/mL. Cause-specific Cox hazard ratio per doubling of IL-6, "
                            f"age-adjusted: "
                            f"{s['cox_hr_log2_il6']:.2f} ({s['cox_hr_log2_il6_low']:.2f}–"
                            f"{s['cox_hr_log2_il6_high']:.2f})."),
                   claims=[check.c18_hazard("IL-6 (per doubling, age-adjusted)",
                                            s["cox_hr_log2_il6"], s["cox_hr_log2_il6_low"],
                                            s["cox_hr_log2_il6_high"])])
    if "time_auc" in figures:
        ctx.figure(figures["time_auc"], name="cohort_time_auc",
                   title="Discrimination by days before the outcome",
                   caption=("AUC (95% CI) of the latest value in each bin of days before death or "
                            "discharge, " + _time_trend(report.tables["time_dependent_auc"])
                            + "."),
                   claims=[_nearest_il6(report.tables["time_dependent_auc"])])
    base = report.tables["baselines"].set_index("method")
    il6_row = base.loc["IL-6 alone (patients with IL-6)"] if (
        "IL-6 alone (patients with IL-6)" in base.index) else None
    versus = (f"; on the {int(il6_row.n)} patients with IL-6, IL-6 alone reaches "
              f"{il6_row.auc:.3f}" if il6_row is not None else "")
    ctx.figure(figures["prognosis"], name="cohort_prognosis",
               title="Prognostic model: calibration and ROC",
               caption=(f"Il6Prognosis (penalised logistic regression + shallow gradient boosting "
                        f"on all first-{window} labs, age and sex), "
                        f"{s['model_repeats']}×5-fold grouped cross-validation: AUC "
                        f"{s['model_auc']:.3f} ({s['model_auc_low']:.3f}–{s['model_auc_high']:.3f})"
                        f", Brier {s['model_brier']:.3f}{versus}. Left: out-of-fold calibration "
                        "by quintile of predicted risk."),
               claims=[check.c18_prediction("Il6Prognosis (cross-validated)", s["model_auc"],
                                            s["model_auc_low"], s["model_auc_high"])])
    ctx.summary(f"on {s['n_analysed']} real inpatients ({s['n_died']} died) the first IL-6 "
                f"predicts in-hospital death with AUC {s['il6_auc']:.3f} "
                f"({s['il6_auc_low']:.3f}–{s['il6_auc_high']:.3f}), cut-off "
                f"{s['il6_youden_cutoff']:.3g} pg/mL; Il6Prognosis (all labs) reaches a "
                f"cross-validated AUC of {s['model_auc']:.3f}.")
    columns = {"label": "marker", "unit": "unit", "n": "n", "n_died": "died", "auc": "AUC",
               "auc_low": "AUC low", "auc_high": "AUC high", "cutoff": "Youden cut-off",
               "direction": "worse if", "sensitivity": "sensitivity",
               "specificity": "specificity"}
    ctx.table(auc.head(12)[list(columns)].rename(columns=columns), name="cohort_auc",
              title="Single markers, ranked by AUC (first 12)",
              caption="Percentile-bootstrap 95% CI; score oriented a priori.")
    ctx.table(report.tables["baselines"], name="cohort_baselines",
              title="Prognostic model against IL-6 alone and published rules")
