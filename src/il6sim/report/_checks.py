"""The checks that decide whether a run shows a claim: numbers in, a :class:`Verdict` out.

A study figure names a claim (``Demonstrates C13``) only when this run's numbers pass that
claim's check; otherwise its caption says what was seen and that this run does not show the
claim. Each check is the one its claim test applies (the test named in the docstring calls the
same function or applies the same thresholds), so a caption and the test suite cannot disagree.
Checks take plain numbers, so a report section, a test and a reader can all call them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._claims import CLAIMS

__all__ = [
    "Verdict", "c01_sources", "c02_signalling_branches", "c03_acute_phase_timing",
    "c03_needs_il6_signalling", "c07_il6_restrains", "c08_clearance", "c08_timing_clearance",
    "c09_sepsis", "c10_cohort", "c10_population", "c11_acute_viral", "c11_chronic_viral",
    "c12_severe_covid", "c13_storm", "c13_timing", "c13_trial", "c14_chronic_crp",
    "c15_secondary_infection", "c15_timing_costs", "c15_trial", "c16_storm_gain_outweighs",
    "c16_subgroups", "c16_timing", "c17_network", "c18_hazard", "c18_prediction", "c19_trial",
]


@dataclass(frozen=True)
class Verdict:
    """Whether a run shows ``claim``, and what it saw (``seen``: numbers in words)."""

    claim: str
    shown: bool
    seen: str

    def __post_init__(self) -> None:
        if self.claim not in CLAIMS:
            raise ValueError(f"unknown claim id {self.claim!r}; known: C01–C19")

    def sentence(self) -> str:
        """The caption's words: what was seen, and whether that shows the claim."""
        if self.shown:
            return f"{self.seen}: shows {self.claim}"
        return f"{self.seen}: this run does not show {self.claim}"


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _ci(estimate: float, low: float, high: float) -> str:
    return f"{estimate:.2f} ({low:.2f}–{high:.2f})"


# ----- biology (tests/test_claims_core.py, tests/test_claims_infection.py) ---------------------
def c01_sources(rest: Mapping[str, float], at_2h: Mapping[str, float],
                production_fold: Mapping[str, float]) -> Verdict:
    """C01 (test_claim_C01_...): all five cell types make IL-6 (each ≥ 0.1 % at rest), the
    macrophage share rises after endotoxin, endothelium and fibroblasts more than double."""
    five = len(rest) == 5 and all(v > 1e-3 for v in rest.values())
    rises = at_2h.get("macrophages", 0) > rest.get("macrophages", 1)
    induced = all(production_fold.get(s, 0) > 2 for s in ("endothelium", "fibroblasts"))
    seen = (f"{sum(v > 1e-3 for v in rest.values())} of {len(rest)} sources above 0.1 % at rest; "
            f"macrophage share {rest.get('macrophages', math.nan):.0%} → "
            f"{at_2h.get('macrophages', math.nan):.0%} at 2 h; endothelium and fibroblasts "
            f"{production_fold.get('endothelium', math.nan):.1f}× and "
            f"{production_fold.get('fibroblasts', math.nan):.1f}× their resting output")
    return Verdict("C01", five and rises and induced, seen)


def c02_signalling_branches(trans_crp_ratio: float, trans_endothelial_ratio: float,
                            both_crp_ratio: float, trans_classic_ratio: float) -> Verdict:
    """C02 (test_claim_C02_...): blocking trans-signalling keeps classic signalling (> 50 %)
    and the CRP peak (> 75 %) but lowers endothelial activation; blocking both also loses CRP
    (below half of the trans-blocked peak). Ratios are to the control run's peaks."""
    shown = (trans_classic_ratio > 0.5 and trans_crp_ratio > 0.75
             and trans_endothelial_ratio < 1 and both_crp_ratio < 0.5 * trans_crp_ratio)
    seen = (f"trans blocked: CRP peak {trans_crp_ratio:.0%}, endothelial activation "
            f"{trans_endothelial_ratio:.0%}, hepatic classic signalling {trans_classic_ratio:.0%} "
            f"of control; both blocked: CRP peak {both_crp_ratio:.0%}")
    return Verdict("C02", shown, seen)


def c03_acute_phase_timing(crp_peak_h: float, crp_6h: float, crp_24h: float,
                           crp_fold: float, fibrinogen_fold: float,
                           fibrinogen_peak_h: float) -> Verdict:
    """C03, timing (test_claim_C03_...): CRP peaks 12–48 h after endotoxin, still rising from
    6 to 24 h, more than 5× rest; fibrinogen rises (> 3 %) and peaks later."""
    shown = (12 <= crp_peak_h <= 48 and crp_6h < crp_24h and crp_fold > 5
             and fibrinogen_fold > 1.03 and fibrinogen_peak_h > crp_peak_h)
    seen = (f"CRP {crp_fold:.0f}× rest, peak at {crp_peak_h:.0f} h; fibrinogen "
            f"{fibrinogen_fold:.2f}× rest, peak at {fibrinogen_peak_h:.0f} h")
    return Verdict("C03", shown, seen)


def c03_needs_il6_signalling(crp_fold: float, fibrinogen_fold: float) -> Verdict:
    """C03, mechanism (test_claim_C03_...): without IL-6 signalling the CRP peak stays below
    1.2× and fibrinogen below 1.05× rest (folds of the blocked run over its own rest)."""
    shown = crp_fold < 1.2 and fibrinogen_fold < 1.05
    seen = (f"without IL-6 signalling CRP peaks at {crp_fold:.2f}× and fibrinogen at "
            f"{fibrinogen_fold:.2f}× rest")
    return Verdict("C03", shown, seen)


def c07_il6_restrains(tnf_fold: float, il1b_fold: float, il10_fold: float) -> Verdict:
    """C07 (test_claim_C07_...): without IL-6 the TNF-α and IL-1β peaks are > 1.1× the
    control's and the IL-10 peak is lower."""
    shown = tnf_fold > 1.1 and il1b_fold > 1.1 and il10_fold < 1
    seen = (f"without IL-6 the TNF-α peak is {tnf_fold:.2f}×, IL-1β {il1b_fold:.2f}× and "
            f"IL-10 {il10_fold:.2f}× the control's")
    return Verdict("C07", shown, seen)


def c17_network(changes: Mapping[str, Mapping[str, float]]) -> Verdict:
    """C17 (test_claim_C17_...): each knock-out changes the peaks of at least two other
    cytokines by more than 10 %. ``changes``: knock-out → {cytokine: peak fold over control}."""
    counts = {ko: sum(not math.isclose(f, 1.0, rel_tol=0.1) for f in folds.values())
              for ko, folds in changes.items()}
    shown = bool(counts) and all(n >= 2 for n in counts.values())
    seen = "; ".join(f"{ko}: {n} other cytokine peaks change by > 10 %"
                     for ko, n in counts.items())
    return Verdict("C17", shown, seen)


# ----- infections --------------------------------------------------------------------------
def c08_clearance(il6_fold: float, neutrophils_site: tuple[float, float],
                  bacteria_peak: tuple[float, float], cleared_h: tuple[float, float]) -> Verdict:
    """C08 (test_claim_C08_...): pairs are (with IL-6, IL-6 knock-out). IL-6 rises > 50× rest;
    without IL-6 fewer neutrophils reach the site, the bacterial peak is higher and bacteria
    are cleared later (never cleared counts as later)."""
    with_h, without_h = cleared_h
    later = (math.isfinite(with_h) and not math.isfinite(without_h)) or (
        _finite(with_h, without_h) and without_h > with_h)
    shown = (il6_fold > 50 and neutrophils_site[1] < neutrophils_site[0]
             and bacteria_peak[1] > bacteria_peak[0] and later)
    seen = (f"IL-6 {il6_fold:.0f}× rest; without IL-6 site neutrophils peak "
            f"{neutrophils_site[1]:.3g} vs {neutrophils_site[0]:.3g}, bacteria "
            f"{bacteria_peak[1]:.3g} vs {bacteria_peak[0]:.3g} CFU/mL, cleared at "
            f"{without_h:.0f} vs {with_h:.0f} h")
    return Verdict("C08", shown, seen)


def c09_sepsis(contained_sepsis: bool, septic_sepsis: bool, sofa_rise: float,
               septic_il6_peak: float, contained_il6_peak: float) -> Verdict:
    """C09 (test_claim_C09_...): the overwhelming infection meets Sepsis-3 (SOFA rise ≥ 2), the
    contained one does not, and IL-6 peaks more than 10× higher."""
    fold = septic_il6_peak / contained_il6_peak if contained_il6_peak > 0 else math.nan
    shown = bool(septic_sepsis and not contained_sepsis and sofa_rise >= 2 and fold > 10)
    seen = (f"sepsis {'met' if septic_sepsis else 'not met'} (SOFA rise {sofa_rise:.0f}) vs "
            f"{'met' if contained_sepsis else 'not met'} in the contained infection; IL-6 peak "
            f"{fold:.1f}× (check: > 10×)")
    return Verdict("C09", shown, seen)


def c11_acute_viral(flu_fold: float, covid_fold: float, flu_peak_day: float,
                    covid_peak_day: float, flu_day10_fold: float) -> Verdict:
    """C11, acute (test_claim_C11_...): influenza and SARS-CoV-2 each raise IL-6 > 3× rest;
    influenza peaks by day 4, SARS-CoV-2 later (by day 10); influenza has resolved (< 1.3×)
    by day 10."""
    shown = (flu_fold > 3 and covid_fold > 3 and flu_peak_day <= 4 < covid_peak_day <= 10
             and flu_day10_fold < 1.3)
    seen = (f"IL-6 {flu_fold:.1f}× rest on day {flu_peak_day:.1f} (influenza) and "
            f"{covid_fold:.1f}× on day {covid_peak_day:.1f} (SARS-CoV-2); influenza "
            f"{flu_day10_fold:.2f}× rest on day 10")
    return Verdict("C11", shown, seen)


def c11_chronic_viral(late_min_fold: float, late_max_fold: float) -> Verdict:
    """C11, chronic (test_claim_C11_...): from day 120 of untreated HIV, IL-6 stays above
    1.2× and below 10× its resting value."""
    shown = late_min_fold > 1.2 and late_max_fold < 10
    seen = f"IL-6 {late_min_fold:.2f}–{late_max_fold:.2f}× rest from day 120"
    return Verdict("C11", shown, seen)


# ----- COVID-19 -----------------------------------------------------------------------------
def c12_severe_covid(severe_week2_min: float, mild_week2_max: float, severe_peak_day: float,
                     mild_peak_day: float, crp_fold: float, severe_pf_min: float,
                     mild_pf_min: float, failing_organs: int, severe_lymphocytes_min: float,
                     mild_lymphocytes_min: float) -> Verdict:
    """C12 (test_claim_C12_...): days 8–12 the severe host's IL-6 stays > 2.9× the mild host's
    maximum, peaking later; its CRP peak is > 5× the mild one; P/F falls below 200 (mild stays
    above 300); two or more organ systems score ≥ 2; lymphocytes fall below 1 ×10⁹/L (mild
    stays above)."""
    ratio = severe_week2_min / mild_week2_max if mild_week2_max > 0 else math.nan
    shown = (ratio > 2.9 and severe_peak_day > mild_peak_day and crp_fold > 5
             and severe_pf_min < 200 and mild_pf_min > 300 and failing_organs >= 2
             and severe_lymphocytes_min < 1.0 < mild_lymphocytes_min)
    seen = (f"days 8–12 IL-6 {ratio:.1f}× the mild maximum, CRP peak {crp_fold:.1f}×, lowest "
            f"P/F {severe_pf_min:.0f} vs {mild_pf_min:.0f}, {failing_organs} organ systems "
            f"failing, lymphocytes {severe_lymphocytes_min:.2f} vs {mild_lymphocytes_min:.2f}")
    return Verdict("C12", shown, seen)


def c10_population(rho: float, auc: float, deaths: int, n: int) -> Verdict:
    """C10 (test_claim_C10_...): across a virtual population peak IL-6 tracks peak SOFA
    (Spearman ρ > 0.4) and, with both outcomes present, ranks death with AUC > 0.7."""
    both = 0 < deaths < n
    shown = bool(rho > 0.4 and both and _finite(auc) and auc > 0.7)
    seen = (f"Spearman ρ {rho:.2f}, {deaths} deaths of {n}, AUC "
            + (f"{auc:.2f}" if _finite(auc) else "not computable"))
    return Verdict("C10", shown, seen)


# ----- blockade -------------------------------------------------------------------------------
def c13_storm(crp_ratio_2d: float, storm_hours: tuple[float, float],
              death: tuple[float, float]) -> Verdict:
    """C13 (test_C13_blockade_in_hyperinflamed_covid_shortens_the_storm): pairs are (untreated,
    treated). Two days after the dose CRP is below half the untreated value, the storm lasts
    less than half as long and death is less likely."""
    shown = (crp_ratio_2d < 0.5 and storm_hours[1] < 0.5 * storm_hours[0]
             and death[1] < death[0])
    seen = (f"CRP two days after the dose {crp_ratio_2d:.2f}× untreated, storm "
            f"{storm_hours[0]:.0f} → {storm_hours[1]:.0f} h, probability of death "
            f"{death[0]:.1%} → {death[1]:.1%}")
    return Verdict("C13", shown, seen)


def c14_chronic_crp(untreated_week2: float, week2: Mapping[str, float],
                    nadir: Mapping[str, float]) -> Verdict:
    """C14 (test_C14_every_regimen_lowers_crp_in_chronic_inflammation): every regimen brings CRP
    below 5 mg/L (and below untreated) by week 2 and to less than 0.6× untreated at its
    nadir."""
    ok = {r: week2[r] < min(5.0, untreated_week2) and nadir[r] < 0.6 * untreated_week2
          for r in week2}
    shown = bool(ok) and all(ok.values())
    seen = (f"CRP at week 2 {', '.join(f'{v:.2g}' for v in week2.values())} mg/L against "
            f"{untreated_week2:.2g} untreated ({sum(ok.values())} of {len(ok)} regimens pass)")
    return Verdict("C14", shown, seen)


def c15_secondary_infection(risk_untreated: float, risk_treated: float) -> Verdict:
    """C15 (test_secondary_infection_ratio_of_tocilizumab_in_severe_covid): blockade raises
    the secondary-infection risk by a ratio within the meta-analysis CI, 1.05–1.74."""
    ratio = risk_treated / risk_untreated if risk_untreated > 0 else math.nan
    shown = _finite(ratio) and 1.05 <= ratio <= 1.74
    seen = (f"secondary-infection risk {risk_untreated:.1%} → {risk_treated:.1%} (ratio "
            f"{ratio:.2f}; check: 1.05–1.74)")
    return Verdict("C15", shown, seen)


# ----- timing (tests/test_timing.py) ---------------------------------------------------------
def c16_timing(storm_deltas: Sequence[float], mild_best_delta: float, rho: float) -> Verdict:
    """C16 (test_C16_timing_and_selection_matter): treated in the storm, each day lowers the
    probability of death by ≥ 1 point, less the later it comes; early/mild disease gains at most
    a hundredth of the storm's smallest gain; IL-6 at treatment ranks the benefit (ρ ≥ 0.9).
    Deltas are treated − untreated probabilities (negative: benefit)."""
    deltas = list(storm_deltas)
    gains = bool(deltas) and all(d <= -0.01 for d in deltas)
    shrinking = all(b > a for a, b in itertools.pairwise(deltas))
    mild = bool(deltas) and mild_best_delta > 0.01 * max(deltas)
    shown = gains and shrinking and mild and rho >= 0.9
    cells = ", ".join(f"{100 * d:+.1f}" for d in deltas) or "no day in storm"
    seen = (f"storm days {cells} points, early/mild at best {100 * mild_best_delta:+.2f}, "
            f"Spearman ρ {rho:.2f}")
    return Verdict("C16", shown, seen)


def c13_timing(storm_deltas: Sequence[float]) -> Verdict:
    """C13 (test_C16_timing_and_selection_matter): blockade on each day of the storm lowers the
    probability of death by at least one percentage point."""
    deltas = list(storm_deltas)
    shown = bool(deltas) and all(d <= -0.01 for d in deltas)
    cells = ", ".join(f"{100 * d:+.1f}" for d in deltas) or "no day in storm"
    return Verdict("C13", shown, f"death probability change in the storm {cells} points")


def c08_timing_clearance(bacterial_day0_slower: Sequence[bool]) -> Verdict:
    """C08 (test_C16_early_blockade_slows_pathogen_clearance): blockade from infection leaves
    bacteria longer in every bacterial phenotype."""
    values = list(bacterial_day0_slower)
    shown = bool(values) and all(values)
    return Verdict("C08", shown, f"bacteria stay longer in {sum(values)} of {len(values)} "
                                 "bacterial phenotypes treated on day 0")


def c15_timing_costs(covid_early_slower: Sequence[bool],
                     mild_infection_deltas: Sequence[float] | None = None,
                     mild_death_deltas: Sequence[float] | None = None) -> Verdict:
    """C15 (test_C16_early_blockade_slows_pathogen_clearance, test_C16_blockade_in_mild_...):
    early blockade (days ≤ 4) keeps SARS-CoV-2 longer in every COVID-19 phenotype; with the
    secondary-infection outcome, in early/mild disease the added infection risk is positive and
    larger than the survival gain in every cell."""
    slower = list(covid_early_slower)
    shown = bool(slower) and all(slower)
    seen = f"virus stays longer in {sum(slower)} of {len(slower)} early COVID-19 cells"
    if mild_infection_deltas is not None and mild_death_deltas is not None:
        pairs = list(zip(mild_infection_deltas, mild_death_deltas, strict=True))
        costs = [i > 0 and i > -d for i, d in pairs]
        shown = bool(costs) and all(costs)
        seen = (f"added secondary-infection risk outweighs the survival gain in {sum(costs)} "
                f"of {len(costs)} early/mild cells")
    return Verdict("C15", shown, seen)


# ----- trial and cohort -------------------------------------------------------------------
def c19_trial(randomised: int, efficacy_estimate: float, safety_estimate: float) -> Verdict:
    """C19: a randomised trial ran and estimated efficacy (the primary endpoint) and safety
    (secondary infection)."""
    shown = randomised > 0 and _finite(efficacy_estimate, safety_estimate)
    return Verdict("C19", shown, f"{randomised} randomised; efficacy and safety "
                                 f"{'estimated' if shown else 'not both estimated'}")


def c13_trial(estimate: float, low: float, high: float) -> Verdict:
    """C13: the randomised mortality risk ratio excludes 1 on the side of benefit (upper
    95 % limit below 1)."""
    shown = _finite(estimate, low, high) and high < 1.0
    return Verdict("C13", shown, f"mortality risk ratio {_ci(estimate, low, high)}")


def c15_trial(estimate: float, low: float, high: float) -> Verdict:
    """C15: the randomised secondary-infection risk ratio excludes 1 on the side of harm
    (lower 95 % limit above 1)."""
    shown = _finite(estimate, low, high) and low > 1.0
    return Verdict("C15", shown, f"secondary-infection risk ratio {_ci(estimate, low, high)}")


def c16_subgroups(heterogeneity: Mapping[str, float]) -> Verdict:
    """C16: the treatment effect differs between the levels of at least one subgroup
    (Cochran's Q p < 0.05)."""
    finite = {k: p for k, p in heterogeneity.items() if _finite(p)}
    shown = any(p < 0.05 for p in finite.values())
    best = min(finite.items(), key=lambda kv: kv[1]) if finite else None
    seen = ("no subgroup test" if best is None else
            f"smallest heterogeneity p {best[1]:.2g} ({best[0]}; check: < 0.05)")
    return Verdict("C16", shown, seen)


def c18_prediction(label: str, auc: float, low: float, high: float) -> Verdict:
    """C18: a biomarker or model predicts death: the AUC's 95 % CI lies above 0.5."""
    shown = _finite(auc, low, high) and low > 0.5
    return Verdict("C18", shown, f"{label} AUC {auc:.3f} ({low:.3f}–{high:.3f})")


def c10_cohort(median_died: float, median_survived: float, p_value: float,
               auc_low: float) -> Verdict:
    """C10 in real patients: first IL-6 is higher in those who died (Mann–Whitney p < 0.05)
    and ranks death (AUC's lower 95 % limit above 0.5)."""
    shown = (_finite(median_died, median_survived, p_value, auc_low)
             and median_died > median_survived and p_value < 0.05 and auc_low > 0.5)
    seen = (f"median IL-6 {median_died:.3g} vs {median_survived:.3g} pg/mL (p = "
            f"{p_value:.1e}), AUC lower limit {auc_low:.3f}")
    return Verdict("C10", shown, seen)


def c16_storm_gain_outweighs(storm_death_deltas: Sequence[float],
                             storm_infection_deltas: Sequence[float]) -> Verdict:
    """C16 (test_C16_blockade_in_mild_disease_costs_more_than_it_gains): in the storm the
    survival gain of blockade is larger than the secondary-infection risk it adds, every day."""
    pairs = list(zip(storm_death_deltas, storm_infection_deltas, strict=True))
    ok = [-d > i for d, i in pairs]
    shown = bool(ok) and all(ok)
    return Verdict("C16", shown, f"in the storm the survival gain exceeds the added infection "
                                 f"risk on {sum(ok)} of {len(ok)} days")


def c18_hazard(label: str, hr: float, low: float, high: float) -> Verdict:
    """C18: a biomarker predicts death over time: its Cox hazard ratio's 95 % CI lies above 1."""
    shown = _finite(hr, low, high) and low > 1.0
    return Verdict("C18", shown, f"{label} hazard ratio {_ci(hr, low, high)}")
