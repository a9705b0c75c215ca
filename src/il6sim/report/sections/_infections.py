"""Section 2: bacterial vs viral courses (the infection presets)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...plotting import plot_comparison, plot_result
from .. import _checks as check
from ._common import DAY, at, peak, preset, run, targets_table, time_of_peak, trough

KEY = "infections"
TITLE = "Bacterial vs viral courses"
INTRO = ("The infection presets (il6sim presets): pneumococcal pneumonia and E. coli sepsis, "
         "influenza A, mild COVID-19 and untreated HIV-1. Each names a pathogen profile with "
         "cited within-host parameters and a host; the course, and whether it becomes sepsis, "
         "comes from the mechanism, never from a label.")
STEPS = 5
USES = ("backend", "seed")


def build(ctx) -> None:
    from ...clinical import outcomes

    ctx.step("bacterial presets")
    week = {"duration": "7 d"}
    pneumonia = run(preset("bacterial-pneumonia", week), ctx.settings)
    sepsis = run(preset("bacterial-sepsis", week), ctx.settings)
    o = {name: outcomes(r, ctx.settings.seed).iloc[0]
         for name, r in (("pneumonia", pneumonia), ("sepsis", sepsis))}
    ctx.number(pneumonia_il6_peak=o["pneumonia"].peak_il6, sepsis_il6_peak=o["sepsis"].peak_il6,
               pneumonia_sepsis=bool(o["pneumonia"].sepsis), sepsis_sepsis=bool(o["sepsis"].sepsis),
               sepsis_sofa_rise=o["sepsis"].sofa_rise,
               pneumonia_sofa_rise=o["pneumonia"].sofa_rise)
    n = ctx.result.numbers
    runs = {"pneumonia (S. pneumoniae, 60 y)": pneumonia, "sepsis (E. coli, 75 y)": sepsis}
    path = plot_comparison(runs, ["bacteria_site", "bacteraemia", "il6", "neutrophils", "crp",
                                  "map"], ctx.path("bacterial.png"),
                           title="Bacterial infection: contained vs overwhelming")
    verdict = {True: "meets", False: "does not meet"}
    ctx.figure(path, name="bacterial", title="Contained pneumonia vs sepsis",
               caption=(f"IL-6 rises with the bacterial load: {n['pneumonia_il6_peak']:.0f} pg/mL "
                        f"in pneumonia, {n['sepsis_il6_peak']:.0f} pg/mL "
                        f"({n['sepsis_il6_peak'] / n['pneumonia_il6_peak']:.1f}×) with a large "
                        f"E. coli inoculum in an older host, which spills into blood, drops the "
                        f"blood pressure and raises SOFA by {n['sepsis_sofa_rise']:.0f} points "
                        f"({verdict[n['sepsis_sepsis']]} Sepsis-3; the pneumonia "
                        f"{verdict[n['pneumonia_sepsis']]} it, SOFA rise "
                        f"{n['pneumonia_sofa_rise']:.0f}). Antibiotics from 24 h and 12 h."),
               claims=[check.c09_sepsis(bool(n["pneumonia_sepsis"]), bool(n["sepsis_sepsis"]),
                                        n["sepsis_sofa_rise"], n["sepsis_il6_peak"],
                                        n["pneumonia_il6_peak"])])

    ctx.step("IL-6 knock-out in pneumonia")
    _clearance(ctx)
    ctx.step("viral presets")
    _viral(ctx)
    ctx.step("infection targets")
    from ...calibration import evaluate_targets, load_targets, run_target_scenarios

    targets = load_targets("infection")
    rows = evaluate_targets(targets, run_target_scenarios(targets))
    ctx.number(infection_targets_passed=sum(r["passes"] for r in rows),
               infection_targets_total=len(rows))
    table = targets_table(rows, targets)
    table.insert(1, "preset", [t.scenario.removeprefix("preset:") for t in targets])
    ctx.summary(f"IL-6 peaks at {n['pneumonia_il6_peak']:.0f} pg/mL in pneumonia and "
                f"{n['sepsis_il6_peak']:.0f} pg/mL in E. coli sepsis (SOFA rise "
                f"{n['sepsis_sofa_rise']:.0f}); influenza peaks on day "
                f"{ctx.result.numbers['flu_il6_peak_day']:.1f}, mild COVID-19 on day "
                f"{ctx.result.numbers['covid_il6_peak_day']:.1f}; HIV keeps IL-6 "
                f"{ctx.result.numbers['hiv_il6_fold_late_min']:.1f}× above rest.")
    ctx.table(table, name="infection_targets",
              title="Published figures each infection preset is calibrated to",
              caption=(f"{ctx.result.numbers['infection_targets_passed']} of {len(rows)} within "
                       "their accepted ranges (il6sim targets infection, recomputed now)."))


def _clearance(ctx) -> None:
    from ...engine import simulate

    scenario = preset("bacterial-pneumonia")
    doses = scenario.dose_table()
    doses = doses[doses.agent == "bacteria"]  # host defence alone: no antibiotic
    params = scenario.parameter_overrides()
    runs = {}
    for label, switch in (("with IL-6", 1.0), ("IL-6 knock-out", 0.0)):
        runs[label] = simulate(params | {"switch_il6": switch}, doses, t_end=4 * DAY, dt=1.0,
                               backend=ctx.settings.backend)
    cleared = {}
    for label, r in runs.items():
        below = r.output("bacteria_site")[0] < 1.0
        cleared[label] = float(r.time[np.argmax(below)]) if below.any() else float("nan")
    with_ = runs["with IL-6"]
    ctx.number(c08_il6_fold=peak(with_, "il6") / at(with_, "il6", 0),
               c08_bacteria_peak={k: peak(r, "bacteria_site") for k, r in runs.items()},
               c08_neutrophils_site_peak={k: peak(r, "neutrophils_site") for k, r in runs.items()},
               c08_cleared_h=cleared)
    n = ctx.result.numbers
    keys = ("with IL-6", "IL-6 knock-out")
    path = plot_comparison(runs, ["bacteria_site", "neutrophils_site", "il6", "crp"],
                           ctx.path("clearance.png"),
                           title="Pneumococcal pneumonia without antibiotics: IL-6 knock-out")
    verdict = check.c08_clearance(
        n["c08_il6_fold"], tuple(n["c08_neutrophils_site_peak"][k] for k in keys),
        tuple(n["c08_bacteria_peak"][k] for k in keys), tuple(cleared[k] for k in keys))
    ctx.figure(path, name="clearance",
               title=("IL-6 helps clear bacteria" if verdict.shown
                      else "Bacterial clearance with and without IL-6"),
               caption=(f"Host defence alone (no antibiotic). IL-6 rises "
                        f"{n['c08_il6_fold']:.0f}-fold over rest. Without IL-6, neutrophils at "
                        f"the site peak at {n['c08_neutrophils_site_peak']['IL-6 knock-out']:.3g} "
                        f"instead of {n['c08_neutrophils_site_peak']['with IL-6']:.3g}, the "
                        f"bacterial peak is {n['c08_bacteria_peak']['IL-6 knock-out']:.3g} "
                        f"instead of {n['c08_bacteria_peak']['with IL-6']:.3g} CFU/mL, and "
                        f"bacteria are cleared at {cleared['IL-6 knock-out']:.0f} h instead of "
                        f"{cleared['with IL-6']:.0f} h."),
               claims=[verdict])


def _viral(ctx) -> None:
    fortnight = {"duration": "14 d"}
    flu = run(preset("influenza", fortnight), ctx.settings)
    covid = run(preset("covid19-mild", fortnight), ctx.settings)
    hiv = run(preset("hiv-chronic"), ctx.settings)
    late = hiv.time >= 120 * DAY
    hiv_il6 = hiv.output("il6")[0]
    ctx.number(flu_il6_peak_day=time_of_peak(flu, "il6") / DAY,
               covid_il6_peak_day=time_of_peak(covid, "il6") / DAY,
               flu_il6_fold=peak(flu, "il6") / at(flu, "il6", 0),
               covid_il6_fold=peak(covid, "il6") / at(covid, "il6", 0),
               flu_il6_day10_fold=at(flu, "il6", 10 * DAY) / at(flu, "il6", 0),
               hiv_il6_fold_late_min=float(hiv_il6[late].min() / hiv_il6[0]),
               hiv_il6_fold_late_max=float(hiv_il6[late].max() / hiv_il6[0]),
               hiv_set_point=at(hiv, "viral_load", 120 * DAY),
               hiv_viral_peak=peak(hiv, "viral_load"),
               hiv_viral_peak_day=time_of_peak(hiv, "viral_load") / DAY,
               hiv_il6_rest=at(hiv, "il6", 0), hiv_il6_peak=peak(hiv, "il6"),
               hiv_il6_peak_day=time_of_peak(hiv, "il6") / DAY,
               hiv_pf_min=trough(hiv, "pf_ratio"),
               hiv_pf_min_day=float(hiv.time[int(np.nanargmin(hiv.output("pf_ratio")[0]))]) / DAY)
    n = ctx.result.numbers
    runs = {"influenza A (30 y)": flu, "COVID-19, mild (40 y)": covid}
    path = plot_comparison(runs, ["infected_cells", "ifn", "il6", "crp"], ctx.path("viral.png"),
                           title="Acute viral infections")
    acute = check.c11_acute_viral(n["flu_il6_fold"], n["covid_il6_fold"], n["flu_il6_peak_day"],
                                  n["covid_il6_peak_day"], n["flu_il6_day10_fold"])
    ctx.figure(path, name="viral",
               title=("Influenza and SARS-CoV-2: acute, with different timing" if acute.shown
                      else "Influenza and SARS-CoV-2"),
               caption=(f"Influenza raises IL-6 {n['flu_il6_fold']:.1f}-fold with a peak on day "
                        f"{n['flu_il6_peak_day']:.1f}, back to {n['flu_il6_day10_fold']:.2f}× "
                        f"rest by day 10; SARS-CoV-2 in a 40-year-old with a normal interferon "
                        f"response peaks later, on day {n['covid_il6_peak_day']:.1f}, "
                        f"{n['covid_il6_fold']:.1f}-fold over rest."),
               claims=[acute])
    path = plot_result(hiv, ["viral_load", "il6", "crp", "pf_ratio"], ctx.path("hiv.png"),
                       title="Untreated HIV-1 over six months")
    ctx.figure(path, name="hiv", title=hiv_title(n), caption=hiv_caption(n),
               claims=[check.c11_chronic_viral(n["hiv_il6_fold_late_min"],
                                               n["hiv_il6_fold_late_max"])])
    table = pd.DataFrame([
        {"course": label, "IL-6 peak (pg/mL)": peak(r, "il6"),
         "IL-6 peak day": time_of_peak(r, "il6") / DAY, "CRP peak (mg/L)": peak(r, "crp"),
         "lowest P/F": float(np.nanmin(r.output("pf_ratio")[0]))}
        for label, r in (("influenza", flu), ("COVID-19 mild", covid), ("HIV-1", hiv))])
    ctx.table(table, name="viral_summary", title="Viral courses at a glance")


def hiv_title(n: dict) -> str:
    """The HIV figure's title from the run: 'chronic low-grade' only when the late IL-6 is."""
    chronic = check.c11_chronic_viral(n["hiv_il6_fold_late_min"], n["hiv_il6_fold_late_max"])
    return ("HIV-1: an acute IL-6 peak, then chronic low-grade IL-6" if chronic.shown
            else "HIV-1: IL-6 over six months")


def hiv_caption(n: dict) -> str:
    """The HIV figure's caption, every number from the run: the acute phase (viral and IL-6
    peaks, lowest P/F) before the chronic set point and the late IL-6 fold."""
    chronic = check.c11_chronic_viral(n["hiv_il6_fold_late_min"], n["hiv_il6_fold_late_max"])
    hypoxaemic = n["hiv_pf_min"] < 300
    return (f"Acute viraemia peaks at {n['hiv_viral_peak']:.3g} copies/mL on day "
            f"{n['hiv_viral_peak_day']:.0f}; with it IL-6 peaks at {n['hiv_il6_peak']:.0f} pg/mL "
            f"({n['hiv_il6_peak'] / n['hiv_il6_rest']:.0f}× rest) on day "
            f"{n['hiv_il6_peak_day']:.0f} and P/F falls to {n['hiv_pf_min']:.0f} on day "
            f"{n['hiv_pf_min_day']:.0f}"
            + (" (acute HIV-1 infection rarely causes hypoxaemia in patients: the model's acute "
               "phase is more severe than the clinical one)" if hypoxaemic else "")
            + f". The virus then settles at a set point of {n['hiv_set_point']:.3g} copies/mL "
            f"(day 120) and IL-6 stays {n['hiv_il6_fold_late_min']:.2f}–"
            f"{n['hiv_il6_fold_late_max']:.2f}× its resting value from day 120 on"
            + (": a chronic, low-grade elevation after the acute peak." if chronic.shown
               else "."))
