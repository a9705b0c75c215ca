"""Section 5: the timing × selection map of IL-6 blockade (``il6sim timing``)."""

from __future__ import annotations

from ...studies import plot_timing, run_timing
from .. import _checks as check

KEY = "timing"
TITLE = "When and in whom: the timing × selection map"
INTRO = ("Each patient phenotype (il6sim/data/studies/timing.yaml: bacterial, early/mild viral, "
         "intermediate and hyperinflamed COVID-19 hosts) is simulated untreated and treated with "
         "tocilizumab 8 mg/kg IV once on each day; both arms share the patient's death draw, so "
         "each cell is the effect of the drug alone.")
STEPS = 2
USES = ("backend", "seed", "timing_days")


def build(ctx) -> None:
    from scipy.stats import spearmanr

    ctx.step("simulating the grid")
    result = run_timing(days=ctx.settings.timing_days, seed=ctx.settings.seed,
                        backend=ctx.settings.backend)
    t = result.table
    ctx.step("drawing the maps")
    hyper = t[t.group == "viral, hyperinflamed"].sort_values("day")
    storm = hyper[hyper.storm_at_treatment]
    mild = t[t.group == "viral, early/mild"]
    selection_day = float(storm.day.iloc[0]) if len(storm) else float(t.day.max())
    viral = t[t.group.str.startswith("viral") & (t.day == selection_day)]
    rho = float(spearmanr(viral.il6_at_treatment, -viral.delta_death_probability).statistic)
    best = hyper.loc[hyper.delta_death_probability.idxmin()]
    mild_gain = float(-mild.delta_death_probability.min() * 100)
    ctx.number(n_simulated=result.settings["n_simulated"],
               hyperinflamed_days=hyper.day.tolist(),
               hyperinflamed_delta_death_pp=(hyper.delta_death_probability * 100).tolist(),
               hyperinflamed_storm_at_treatment=hyper.storm_at_treatment.tolist(),
               best_day=float(best.day), best_delta_death_pp=float(best.delta_death_probability
                                                                   * 100),
               mild_best_gain_pp=mild_gain, selection_day=selection_day, selection_rho=rho)
    cells = ", ".join(f"day {d:g}: {v * 100:+.2g}{' (in storm)' if s else ''}"
                      for d, v, s in zip(hyper.day, hyper.delta_death_probability,
                                         hyper.storm_at_treatment, strict=True))
    shrinking = len(storm) > 1 and bool((storm.delta_death_probability.diff().dropna() > 0).all())
    later = (" The later in the storm, the smaller the gain (organ damage already done)."
             if shrinking else "")
    mild_text = (f"the largest gain is {mild_gain:.2g} points" if mild_gain > 0
                 else "blockade brings no gain")
    storm_deltas = storm.delta_death_probability.tolist()
    c16 = check.c16_timing(storm_deltas, float(mild.delta_death_probability.min()), rho)
    ctx.figure(plot_timing(t, metric="death_probability", title=result.title()),
               name="timing_death", title="Change in the probability of death",
               caption=(f"{result.settings['n_simulated']} virtual patients. In the hyperinflamed "
                        f"COVID-19 host tocilizumab changes the probability of death by "
                        f"(percentage points) {cells}; the largest gain comes on day "
                        f"{best.day:g}{'' if best.storm_at_treatment else ', before the storm'}."
                        f"{later} In early/mild viral disease {mild_text}. On day "
                        f"{selection_day:g}, IL-6 at treatment ranks the benefit across the viral "
                        f"phenotypes (Spearman ρ {rho:.2f})"
                        + (": whom and when both matter." if c16.shown else ".")),
               claims=[c16, check.c13_timing(storm_deltas)])
    ctx.summary(f"tocilizumab lowers the probability of death by up to "
                f"{-best.delta_death_probability * 100:.1f} points in the hyperinflamed COVID-19 "
                f"host (best on day {best.day:g}) and by at most {max(mild_gain, 0):.2g} in "
                f"early/mild viral disease; IL-6 at treatment ranks the benefit (ρ {rho:.2f}).")
    early = t[t.day == t.day.min()]
    slower = early[early.delta_pathogen_hours > 0].phenotype.tolist()
    ctx.number(early_slower_clearance=slower)
    bacterial = t[(t.group == "bacterial") & (t.day == t.day.min())]
    covid_early = t[t.scenario.str.startswith("covid19") & (t.day <= 4)]
    c08 = check.c08_timing_clearance((bacterial.delta_pathogen_hours > 0).tolist())
    c15 = check.c15_timing_costs((covid_early.delta_pathogen_hours > 0).tolist())
    ctx.figure(plot_timing(t, metric="pathogen_hours", title=result.title()),
               name="timing_pathogen", title="Change in the time with the pathogen present",
               caption=(f"Blockade from day {t.day.min():g} leaves the pathogen longer in "
                        f"{len(slower)} of {early.phenotype.nunique()} phenotypes "
                        f"({', '.join(slower) or 'none'})"
                        + (": IL-6 helps clear bacteria and drives the T-cell and antibody "
                           "responses that clear virus." if c08.shown and c15.shown else ".")),
               claims=[c15, c08])
    if "delta_secondary_infection_probability" in t:
        cost = mild.delta_secondary_infection_probability
        mild_cost = float(cost.max() * 100)
        outweighs = int((cost > -mild.delta_death_probability).sum())
        costs = check.c15_timing_costs([], cost.tolist(),
                                       mild.delta_death_probability.tolist())
        gain = check.c16_storm_gain_outweighs(
            storm.delta_death_probability.tolist(),
            storm.delta_secondary_infection_probability.tolist())
        ctx.number(mild_secondary_infection_pp=mild_cost, mild_cost_outweighs_gain=outweighs)
        ctx.figure(plot_timing(t, metric="secondary_infection_probability",
                               title=result.title()),
                   name="timing_infection", title="Change in the risk of a secondary infection",
                   caption=(f"Blocking IL-6 removes part of the leukocyte IL-6 defence: in "
                            f"early/mild viral disease the added secondary-infection risk is up "
                            f"to {mild_cost:.2g} percentage points, more than the survival gain "
                            f"in {outweighs} of {len(mild)} early/mild cells."),
                   claims=[costs, gain])
    wide = result.pivot("delta_death_probability") * 100
    wide.columns = [f"day {d:g}" for d in wide.columns]
    ctx.table(wide.reset_index(), name="timing",
              title="Change in the probability of death (percentage points)",
              caption="Treated − untreated, same patient and death draw (il6sim timing).")
