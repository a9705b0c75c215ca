"""Section 3: mild vs severe COVID-19, the cytokine storm, and IL-6 as a severity marker."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...plotting import plot_comparison
from .. import _checks as check
from .._plots import plot_clinical_course, plot_severity_population
from ._common import DAY, peak, preset, run, time_of_peak, trough

KEY = "covid"
TITLE = "Mild vs severe COVID-19 and the cytokine storm"
INTRO = ("The same virus in two hosts: covid19-mild (40 years, normal type-I interferon "
         "response) and covid19-severe (75 years, interferon capacity 0.2). Severity comes from "
         "age, interferon and inoculum; then a virtual population with varied hosts shows IL-6 "
         "as a marker of severity and death.")
STEPS = 3
USES = ("backend", "seed", "population_n")


def build(ctx) -> None:
    from ...clinical import cytokine_storm, outcomes, sofa, sofa_components

    ctx.step("mild and severe courses")
    mild = run(preset("covid19-mild"), ctx.settings)
    severe = run(preset("covid19-severe"), ctx.settings)
    week2 = (severe.time >= 8 * DAY) & (severe.time <= 12 * DAY)  # as test_claim_C12
    failing = [organ for organ, points in sofa_components(severe).items()
               if points[0].max() >= 2]
    table = pd.concat([outcomes(mild, ctx.settings.seed), outcomes(severe, ctx.settings.seed)],
                      ignore_index=True)
    table.insert(0, "course", ["mild", "severe"])
    ctx.number(mild_il6_peak=peak(mild, "il6"), severe_il6_peak=peak(severe, "il6"),
               severe_il6_week2_min=float(severe.output("il6")[0][week2].min()),
               mild_il6_week2_max=float(mild.output("il6")[0][(mild.time >= 8 * DAY)
                                                             & (mild.time <= 12 * DAY)].max()),
               mild_il6_peak_day=time_of_peak(mild, "il6") / DAY,
               severe_il6_peak_day=time_of_peak(severe, "il6") / DAY,
               mild_crp_peak=peak(mild, "crp"), severe_crp_peak=peak(severe, "crp"),
               mild_pf_min=trough(mild, "pf_ratio"), severe_pf_min=trough(severe, "pf_ratio"),
               mild_lymphocytes_min=trough(mild, "lymphocytes"),
               severe_lymphocytes_min=trough(severe, "lymphocytes"),
               severe_failing_organs=failing,
               storm_hours={"mild": float(table.storm_hours[0]),
                            "severe": float(table.storm_hours[1])})
    n = ctx.result.numbers
    c12 = check.c12_severe_covid(
        n["severe_il6_week2_min"], n["mild_il6_week2_max"], n["severe_il6_peak_day"],
        n["mild_il6_peak_day"], n["severe_crp_peak"] / n["mild_crp_peak"], n["severe_pf_min"],
        n["mild_pf_min"], len(failing), n["severe_lymphocytes_min"], n["mild_lymphocytes_min"])
    runs = {"mild (40 y, normal interferon)": mild, "severe (75 y, interferon 0.2)": severe}
    path = plot_comparison(runs, ["viral_load", "il6", "crp", "ferritin_level", "pf_ratio",
                                  "lymphocytes"], ctx.path("covid.png"),
                           title="COVID-19: mild vs severe host")
    ctx.figure(path, name="covid", title="Mild vs severe COVID-19",
               caption=(f"The viral peaks are close, but the severe host mounts a late "
                        f"hyperinflammation: IL-6 peaks on day {n['severe_il6_peak_day']:.1f} at "
                        f"{n['severe_il6_peak']:.0f} pg/mL (mild: day "
                        f"{n['mild_il6_peak_day']:.1f}, {n['mild_il6_peak']:.0f} pg/mL) and stays "
                        f"above {n['severe_il6_week2_min']:.0f} pg/mL through days 8–12; CRP "
                        f"{n['severe_crp_peak']:.0f} vs {n['mild_crp_peak']:.0f} mg/L; P/F falls "
                        f"to {n['severe_pf_min']:.0f} (ARDS below 300, severe below 100) vs "
                        f"{n['mild_pf_min']:.0f}; lymphocytes {n['severe_lymphocytes_min']:.2f} "
                        f"vs {n['mild_lymphocytes_min']:.2f} ×10⁹/L."),
               claims=[c12])

    ctx.step("clinical course")
    course = {label: (r.time, sofa(r)[0], cytokine_storm(r)[0]) for label, r in
              (("mild", mild), ("severe", severe))}
    fig = plot_clinical_course(course)
    organs = ", ".join(failing) if failing else "none"
    ctx.figure(fig, name="covid_sofa", title="Organ dysfunction and the cytokine storm",
               caption=(f"SOFA score over time; shaded: cytokine storm (P/F < 300 with two of "
                        f"IL-6, CRP, ferritin and LDH raised). The severe course spends "
                        f"{n['storm_hours']['severe']:.0f} h in storm (mild: "
                        f"{n['storm_hours']['mild']:.0f} h) and its SOFA peaks at "
                        f"{table.peak_sofa[1]:.0f} (mild: {table.peak_sofa[0]:.0f}), with "
                        f"{len(failing)} organ systems scoring 2 or more ({organs})."),
               claims=[c12])
    shown = table[["course", "peak_il6", "peak_crp", "min_pf", "peak_sofa", "ards_category",
                   "storm_hours", "ventilated", "death_probability",
                   "secondary_infection_probability"]]
    ctx.table(shown, name="covid_outcomes", title="Clinical outcomes (il6sim.clinical.outcomes)")

    ctx.step("virtual population")
    _population(ctx)
    ctx.summary(f"the severe host's IL-6 peaks at {n['severe_il6_peak']:.0f} pg/mL on day "
                f"{n['severe_il6_peak_day']:.1f} (mild: {n['mild_il6_peak']:.0f}), P/F falls to "
                f"{n['severe_pf_min']:.0f} with {n['storm_hours']['severe']:.0f} h of cytokine "
                f"storm; across {n['population_n']} virtual patients peak IL-6 tracks peak SOFA "
                f"(ρ {n['population_rho']:.2f})"
                + (f" and ranks death with AUC {n['population_auc']:.2f}."
                   if np.isfinite(n["population_auc"]) else "."))


def _population(ctx) -> None:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from ...clinical import outcomes
    from ...engine import Dose, simulate

    rng = np.random.default_rng(ctx.settings.seed)
    size = ctx.settings.population_n
    ages = rng.uniform(30, 90, size)
    ifn = 10 ** rng.uniform(-1, 0.2, size)
    inoculum = 10 ** rng.uniform(2, 5, size)
    base = preset("covid19-mild").parameter_overrides()
    params = [base | {"age": a, "ifn_capacity": c} for a, c in zip(ages, ifn, strict=True)]
    doses = [Dose(0.0, "virus", v, route="inoculation", patient=i)
             for i, v in enumerate(inoculum)]
    result = simulate(params, doses, t_end=28 * DAY, dt=12.0, backend=ctx.settings.backend,
                      seed=ctx.settings.seed)
    table = outcomes(result, seed=ctx.settings.seed)
    died = table.death_time_h.notna().to_numpy()
    rho = float(spearmanr(table.peak_il6, table.peak_sofa).statistic)
    auc = float(roc_auc_score(died, table.peak_il6)) if 0 < died.sum() < size else float("nan")
    ctx.number(population_n=size, population_deaths=int(died.sum()), population_rho=rho,
               population_auc=auc)
    ranks = (f"ranks death ({int(died.sum())} deaths drawn from the SOFA hazard) with AUC "
             f"{auc:.2f}" if np.isfinite(auc) else
             f"cannot be scored for death: the death draw gave {int(died.sum())} deaths "
             "(a larger population, as in the default study, has both outcomes)")
    fig = plot_severity_population(table, rho=rho, auc=auc)
    c10 = check.c10_population(rho, auc, int(died.sum()), size)
    ctx.figure(fig, name="covid_population",
               title=("IL-6 marks severity and predicts death" if c10.shown
                      else "Peak IL-6 against severity and death"),
               caption=(f"{size} virtual COVID-19 patients (age 30–90 y, interferon capacity "
                        f"0.1–1.6, inoculum 10²–10⁵; seed {ctx.settings.seed}), 28 days each. "
                        f"Peak IL-6 tracks peak organ dysfunction (Spearman ρ {rho:.2f}) and "
                        f"{ranks}."),
               claims=[c10])
