"""Section 4: tocilizumab and sarilumab — PK against the labels, the IL-6/sIL-6R rise, and
blockade in chronic inflammation and in severe COVID-19."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...plotting import plot_comparison
from .. import _checks as check
from ._common import DAY, at, peak, preset, run

KEY = "blockade"
TITLE = "Tocilizumab and sarilumab: PK and the IL-6 / sIL-6R rise"
INTRO = ("Both antibodies bind membrane and soluble IL-6R (il6sim pk): every label regimen is "
         "simulated to steady state against the published PK, then given to a host with "
         "rheumatoid-arthritis-like chronic inflammation and to the severe COVID-19 host during "
         "its storm.")
STEPS = 3
USES = ("backend", "seed")

#: Regimens shown in the chronic-inflammation figure (label regimens, il6sim/data/drugs).
RA_REGIMENS = ("tocilizumab-8mgkg-iv-q4w", "tocilizumab-162mg-sc-qw", "sarilumab-200mg-sc-q2w")
#: Single-dose regimens given in the COVID-19 storm, and the day they start.
COVID_REGIMENS = ("tocilizumab-covid-8mgkg", "sarilumab-400mg-iv-once")
COVID_DAY = 8.0


def build(ctx) -> None:
    from ...pharmacology import pk_table

    ctx.step("PK of the label regimens (24 weeks to steady state)")
    table = pk_table()
    ctx.number(pk_passed=int(table.passed.sum()), pk_total=len(table))
    shown = table[["regimen", "metric", "unit", "model", "published", "passed", "source"]]
    ctx.table(shown, name="pk", title="PK/PD at steady state (70 kg) against the labels",
              caption=(f"{int(table.passed.sum())} of {len(table)} values within the published "
                       "mean ± SD (or above the bound); units in the unit column "
                       "(antibodies µg/mL, dexamethasone ng/mL; auc over one interval)."))
    ctx.step("chronic inflammation (RA-like)")
    _chronic(ctx, table)
    ctx.step("severe COVID-19 treated in the storm")
    _covid(ctx)
    n = ctx.result.numbers
    tcz = f"{COVID_REGIMENS[0]}, day {COVID_DAY:g}"
    ctx.summary(f"{n['pk_passed']} of {n['pk_total']} PK/PD values match the labels; total "
                f"sIL-6R rises up to {max(n['ra_sil6r_fold'].values()):.1f}-fold; tocilizumab "
                f"on day {COVID_DAY:g} of severe COVID-19 lowers the CRP peak from "
                f"{n['covid_crp_peak']['untreated']:.0f} to {n['covid_crp_peak'][tcz]:.0f} mg/L "
                f"and the probability of death from "
                f"{n['covid_death_probability']['untreated']:.1%} to "
                f"{n['covid_death_probability'][tcz]:.1%}.")


def _pk_value(table: pd.DataFrame, regimen: str, metric: str) -> float:
    row = table[(table.regimen == regimen) & (table.metric == metric)]
    return float(row.model.iloc[0]) if len(row) else float("nan")


def _chronic(ctx, pk: pd.DataFrame) -> None:
    scenario = preset("chronic-inflammation-ra")
    runs = {"untreated": run(scenario, ctx.settings)}
    for regimen in RA_REGIMENS:
        runs[regimen] = run(scenario, ctx.settings, treatment=(regimen, 0.0))
    untreated = runs["untreated"]
    crp0 = at(untreated, "crp", 0)
    week2 = {r: at(runs[r], "crp", 14 * DAY) for r in RA_REGIMENS}
    nadir = {r: float(np.nanmin(runs[r].output("crp")[0][runs[r].time > 0]))
             for r in RA_REGIMENS}
    sil6r = {r: peak(runs[r], "sil6r_total") / at(untreated, "sil6r_total", 0)
             for r in RA_REGIMENS}
    il6 = {r: peak(runs[r], "il6") / at(untreated, "il6", 0) for r in RA_REGIMENS}
    ctx.number(ra_crp_untreated=crp0, ra_crp_week2=week2, ra_sil6r_fold=sil6r, ra_il6_fold=il6,
               tcz_iv_cmax=_pk_value(pk, RA_REGIMENS[0], "cmax"),
               sar_cmax=_pk_value(pk, RA_REGIMENS[2], "cmax"))
    path = plot_comparison(runs, ["drug_conc", "drug_occupancy_sil6r", "sil6r_total", "il6",
                                  "crp", "tnf"], ctx.path("chronic.png"),
                           title="RA-like chronic inflammation: label regimens from day 0")
    crp_text = "; ".join(f"{r} {week2[r]:.2g}" for r in RA_REGIMENS)
    rise = ", ".join(f"{sil6r[r]:.1f}×" for r in RA_REGIMENS)
    ctx.figure(path, name="chronic", title="Receptor blockade in chronic inflammation",
               caption=(f"Steady-state Cmax of tocilizumab 8 mg/kg IV q4w is "
                        f"{ctx.result.numbers['tcz_iv_cmax']:.0f} µg/mL and of sarilumab 200 mg "
                        f"SC q2w {ctx.result.numbers['sar_cmax']:.0f} µg/mL (Table 4.1). Bound "
                        f"sIL-6R is cleared with the antibody, so total sIL-6R rises ({rise} "
                        f"the untreated level), and serum IL-6 rises (up to "
                        f"{max(il6.values()):.1f}× untreated) because the blocked receptor no "
                        f"longer clears it. CRP falls from {crp0:.2g} mg/L to (mg/L at week 2) "
                        f"{crp_text}."),
               claims=[check.c14_chronic_crp(at(untreated, "crp", 14 * DAY), week2, nadir)])


def _covid(ctx) -> None:
    from ...clinical import outcomes

    scenario = preset("covid19-severe")
    runs = {"untreated": run(scenario, ctx.settings)}
    for regimen in COVID_REGIMENS:
        runs[f"{regimen}, day {COVID_DAY:g}"] = run(scenario, ctx.settings,
                                                   treatment=(regimen, COVID_DAY))
    table = pd.concat([outcomes(r, ctx.settings.seed) for r in runs.values()],
                      ignore_index=True)
    table.insert(0, "run", list(runs))
    labels = list(runs)
    day = COVID_DAY * DAY
    free_fold = (peak(runs[labels[1]], "il6_free") / at(runs[labels[0]], "il6_free", day))
    ctx.number(covid_crp_peak=dict(zip(labels, table.peak_crp, strict=True)),
               covid_storm_hours=dict(zip(labels, table.storm_hours, strict=True)),
               covid_death_probability=dict(zip(labels, table.death_probability, strict=True)),
               covid_secondary_infection=dict(zip(labels, table.secondary_infection_probability,
                                                  strict=True)),
               covid_free_il6_fold=free_fold,
               covid_sil6r_peak=peak(runs[labels[1]], "sil6r_total"),
               covid_crp_ratio_2d=(at(runs[labels[1]], "crp", day + 2 * DAY)
                                   / at(runs[labels[0]], "crp", day + 2 * DAY)))
    n = ctx.result.numbers
    path = plot_comparison(runs, ["il6_free", "crp", "pf_ratio", "lymphocytes", "sil6r_total",
                                  "drug_conc"], ctx.path("covid_treated.png"),
                           title=f"Severe COVID-19: IL-6R blockade on day {COVID_DAY:g}")
    tcz, sar = labels[1], labels[2]
    death, storm, crp, sec = (n["covid_death_probability"], n["covid_storm_hours"],
                              n["covid_crp_peak"], n["covid_secondary_infection"])
    ctx.figure(path, name="covid_treated", title="Blockade during the storm",
               caption=(f"Tocilizumab 8 mg/kg IV on day {COVID_DAY:g}: free IL-6 rises to "
                        f"{free_fold:.1f}× its value at the dose (receptor clearance blocked) "
                        f"and total sIL-6R to {n['covid_sil6r_peak']:.0f} ng/mL, while CRP peaks "
                        f"at {crp[tcz]:.0f} instead of {crp['untreated']:.0f} mg/L, storm hours "
                        f"go from {storm['untreated']:.0f} to {storm[tcz]:.0f} and the "
                        f"probability of death from {death['untreated']:.1%} to "
                        f"{death[tcz]:.1%} (sarilumab 400 mg IV: {death[sar]:.1%}). 28-day "
                        f"secondary-infection risk {sec['untreated']:.1%} → {sec[tcz]:.1%}."),
               claims=[check.c13_storm(n["covid_crp_ratio_2d"],
                                       (storm["untreated"], storm[tcz]),
                                       (death["untreated"], death[tcz])),
                       check.c15_secondary_infection(sec["untreated"], sec[tcz])])
    ctx.table(table[["run", "peak_il6", "peak_crp", "min_pf", "peak_sofa", "storm_hours",
                     "death_probability", "secondary_infection_probability"]],
              name="covid_treated_outcomes", title="Severe COVID-19: outcomes by arm")
