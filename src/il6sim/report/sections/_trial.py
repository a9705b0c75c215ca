"""Section 6: the RECOVERY-like randomised trial of tocilizumab (:mod:`il6sim.trial`).

The trial engine is an optional part of il6sim; when it is not installed the section says so
(checked at run time by importing it) and the rest of the report is unaffected.
"""

from __future__ import annotations

from .. import _checks as check
from .._blocks import SectionUnavailable

KEY = "trial"
TITLE = "The RECOVERY-like trial"
INTRO = ("A randomised in-silico trial on virtual patients calibrated to the real cohort: "
         "hospitalised COVID-19 with hypoxia and raised CRP, usual care vs usual care plus "
         "tocilizumab (trial file recovery-tocilizumab), with RECOVERY's eligibility, timing and "
         "endpoints and the trial's statistics.")
STEPS = 3
USES = ("backend", "trial_patients")  # the seed is the trial file's own

TRIAL = "recovery-tocilizumab"


def _engine():
    try:
        from ...trial import load_trial, run_trial
    except ImportError:
        raise SectionUnavailable(
            "the trial engine (il6sim.trial) is not installed in this il6sim; the other "
            "sections are complete. With an il6sim that has il6sim.trial, run the study "
            "again: only this section will run.") from None
    return load_trial, run_trial


def build(ctx) -> None:
    load_trial, run_trial = _engine()
    size = ctx.settings.trial_patients
    ctx.step(f"screening and simulating {size} randomised patients")
    design = load_trial(TRIAL)

    def progress(done: int, total: int) -> None:
        ctx.detail(f"screened {done} of {total} planned virtual inpatients")

    result = run_trial(design, n_patients=size, progress=progress,
                       out_dir=ctx.work_dir / f"run-n{size}", backend=ctx.settings.backend)
    ctx.step("analysing")
    _numbers(ctx, result)
    ctx.step("figures")
    _figures(ctx, result)
    _tables(ctx, result)


def _row(table, endpoint: str, measure: str = "risk ratio") -> dict:
    rows = table[(table.endpoint == endpoint) & (table.measure == measure)]
    return rows.iloc[0].to_dict() if len(rows) else {}


def _numbers(ctx, result) -> None:
    design, arms = result.design, result.arms
    risk = arms.set_index(["endpoint", "arm"])["value"]
    treated, control = design.treated_arms[0], design.control
    primary = _row(result.comparisons, design.primary)
    infection = _row(result.comparisons, "secondary_infection")
    published = design.published_for(design.primary, design.treated_arms[0])
    ctx.number(counts=result.counts, control_arm=control, treated_arm=treated,
               primary_endpoint=design.primary,
               primary_risk={arm: float(risk[(design.primary, arm)])
                             for arm in design.arm_names},
               primary_rr=primary.get("estimate"), primary_rr_low=primary.get("ci_low"),
               primary_rr_high=primary.get("ci_high"), primary_p=primary.get("p_value"),
               published_rr=None if published is None else published.ratio,
               published_ci=None if published is None or published.ci is None
               else list(published.ci),
               infection_rr=infection.get("estimate"),
               infection_rr_low=infection.get("ci_low"),
               infection_rr_high=infection.get("ci_high"))
    n = ctx.result.numbers
    pub = ""
    if published is not None and published.ratio is not None and published.ci is not None:
        risks = (f"{published.control:.0%} vs {published.treated:.0%}, "
                 if published.control is not None and published.treated is not None else "")
        pub = (f"; published: {risks}{published.ratio:.2f} ({published.ci[0]:.2f}–"
               f"{published.ci[1]:.2f})")
    ctx.summary(f"{result.counts['randomised']} randomised virtual inpatients: "
                f"{result.followup_days:g}-day mortality {n['primary_risk'][control]:.1%} with "
                f"{control} vs {n['primary_risk'][treated]:.1%} with {treated}, risk ratio "
                f"{n['primary_rr']:.2f} ({n['primary_rr_low']:.2f}–{n['primary_rr_high']:.2f})"
                f"{pub}.")


def _figures(ctx, result) -> None:
    from ...trial import figures

    design, n = result.design, ctx.result.numbers
    counts = result.counts
    eligibility = "; ".join(c.describe() for c in design.enrolment.eligibility)
    control, treated = n["control_arm"], n["treated_arm"]
    published = design.published_for(design.primary, design.treated_arms[0])
    pub = ""
    if published is not None and published.ratio is not None and published.ci is not None:
        risks = (f"{published.control:.0%} vs {published.treated:.0%}, "
                 if published.control is not None and published.treated is not None else "")
        pub = (f" The published trial reported {risks}{published.measure} "
               f"{published.ratio:.2f} ({published.ci[0]:.2f}–{published.ci[1]:.2f}).")
    paths = figures(result, ctx.path("figures"))
    ctx.figure(paths["kaplan_meier"], name="trial_km", title="Survival by arm",
               caption=(f"{counts['randomised']} virtual inpatients randomised "
                        f"{':'.join(str(a.ratio) for a in design.arms)} out of "
                        f"{counts['screened']} screened (eligible: {eligibility}; within "
                        f"{design.enrolment.window} of {design.enrolment.after}); seed "
                        f"{design.seed}. {result.followup_days:g}-day mortality "
                        f"{n['primary_risk'][control]:.1%} ({control}) vs "
                        f"{n['primary_risk'][treated]:.1%} ({treated}): risk ratio "
                        f"{n['primary_rr']:.2f} (95% CI {n['primary_rr_low']:.2f}–"
                        f"{n['primary_rr_high']:.2f}, p = {n['primary_p']:.2g}).{pub} Safety: "
                        f"secondary-infection risk ratio {n['infection_rr']:.2f} "
                        f"({n['infection_rr_low']:.2f}–{n['infection_rr_high']:.2f})."),
               claims=[check.c19_trial(counts["randomised"], n["primary_rr"],
                                       n["infection_rr"]),
                       check.c13_trial(n["primary_rr"], n["primary_rr_low"],
                                       n["primary_rr_high"]),
                       check.c15_trial(n["infection_rr"], n["infection_rr_low"],
                                       n["infection_rr_high"])])
    if "forest" in paths:
        sub = result.subgroups
        by_subgroup = {name.split(" (")[0]: p for name, p in
                       sub.groupby("subgroup", sort=False)["heterogeneity_p"].first().items()}
        het = "; ".join(f"{name} p = {p:.2g}" for name, p in by_subgroup.items())
        ctx.figure(paths["forest"], name="trial_subgroups", title="Who benefits: subgroups",
                   caption=(f"Risk ratio of {result.followup_days:g}-day mortality by subgroup "
                            f"at randomisation (red square: all patients; dotted: published "
                            f"ratio). Heterogeneity (Cochran's Q): {het}."),
                   claims=[check.c19_trial(counts["randomised"], n["primary_rr"],
                                           n["infection_rr"]),
                           check.c16_subgroups(by_subgroup)])


def _tables(ctx, result) -> None:
    import numpy as np
    import pandas as pd

    design, arms = result.design, result.arms
    rows = []
    for endpoint in design.endpoints:
        row = {"endpoint": endpoint}
        for arm in design.arm_names:
            r = arms[(arms.endpoint == endpoint) & (arms.arm == arm)].iloc[0]
            row[arm] = (f"{int(r['events'])}/{int(r['n'])} ({r['value']:.1%})"
                        if r["measure"] == "risk" else f"{r['value']:.1f} days (n {int(r['n'])})")
        rows.append(row)
    ctx.table(pd.DataFrame(rows), name="trial_arms", title="Outcomes by arm",
              caption="Events / patients (risk); organ-support-free days as the mean.")
    comparisons = result.comparisons
    published = [f"{p:.2f} ({c[0]:.2f}–{c[1]:.2f}) {m}"
                 if isinstance(c, list | tuple | np.ndarray) else ""
                 for p, c, m in zip(comparisons.get("published", [np.nan] * len(comparisons)),
                                    comparisons.get("published_ci", [None] * len(comparisons)),
                                    comparisons.get("published_measure",
                                                    [""] * len(comparisons)), strict=True)]
    shown = comparisons[["endpoint", "arm", "control", "measure", "estimate", "ci_low",
                         "ci_high", "p_value"]].assign(published=published)
    ctx.table(shown, name="trial_comparisons",
              title="Comparisons with the control arm, beside the published trial",
              caption=("Katz risk ratios, Cox hazard ratios with log-rank p; the counterfactual "
                       "ratio simulates every patient under both arms."))
    if len(result.interactions):
        shares = result.background_shares()
        received = "; ".join(f"{row.background} {row.share:.0%} (declared {row.declared:.0%})"
                             for row in shares[shares.arm == "all arms"].itertuples())
        ctx.table(result.interactions[["background", "endpoint", "arm", "level", "n", "treated",
                                       "control_value", "measure", "estimate", "ci_low",
                                       "ci_high", "interaction", "interaction_low",
                                       "interaction_high", "interaction_p"]],
                  name="trial_interactions",
                  title="The study drug with and without background treatment",
                  caption=(f"Standard of care given in every arm, received by: {received}. "
                           "Effect within patients on and off it; interaction: ratio of the two "
                           "risk ratios (difference of differences for organ-support-free "
                           "days) with a z-test (Altman & Bland 2003 BMJ 326:219)."))
