"""The founding article's statements about infection, shown by running the model.

C04 T-cell activation, C05 plasma cells, C06 Th17/Treg, C08 bacterial clearance, C09 sepsis,
C10 IL-6 as a severity marker, C11 viral IL-6 time courses, C12 severe COVID-19, C17 network.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from il6sim.clinical import outcomes, sofa_components
from il6sim.engine import simulate
from il6sim.population import load_calibrated, load_population_spec
from il6sim.population._sample import dose_table, draw, parameter_table
from il6sim.report._checks import c10_population, c11_acute_viral, c11_chronic_viral
from il6sim.scenario import load_scenario

DAY = 24.0


def _run(preset, overrides=None, *, days=None, dt=None, doses=None):
    scenario = load_scenario(preset)
    return simulate(
        scenario.parameter_overrides() | (overrides or {}),
        scenario.dose_table() if doses is None else doses,
        t_end=(days * DAY) if days else scenario.duration_h,
        dt=dt or scenario.sampling_h,
    )


# C04-C06 are shown where IL-6 is raised while the adaptive response expands: the severe
# preset. In the mild preset IL-6 is back near rest when T and B cells expand (about a week
# after onset, as observed), so knocking it out changes the response by less than 10 %.
@pytest.fixture(scope="module")
def covid_adaptive():
    return _run("covid19-severe")


@pytest.fixture(scope="module")
def covid_adaptive_no_il6():
    return _run("covid19-severe", {"switch_il6": 0})


@pytest.fixture(scope="module")
def covid_mild():
    return _run("covid19-mild")


def test_claim_C04_il6_promotes_t_cell_activation(covid_adaptive, covid_adaptive_no_il6):
    with_il6 = covid_adaptive.output("cd4_activated")[0].max()
    without = covid_adaptive_no_il6.output("cd4_activated")[0].max()
    assert without < 0.8 * with_il6, (with_il6, without)


def test_claim_C05_il6_drives_plasma_cells_and_antibody(covid_adaptive, covid_adaptive_no_il6):
    for read_out in ("plasma_cell_count", "antibody_titre"):
        with_il6 = covid_adaptive.output(read_out)[0].max()
        without = covid_adaptive_no_il6.output(read_out)[0].max()
        assert without < 0.8 * with_il6, (read_out, with_il6, without)


def test_claim_C06_il6_with_tgfb_tilts_th17_over_treg_and_the_seed_reading_is_a_switch(
    covid_adaptive, covid_adaptive_no_il6
):
    ratio_with = covid_adaptive.output("th17_treg_ratio")[0].max()
    ratio_without = covid_adaptive_no_il6.output("th17_treg_ratio")[0].max()
    assert ratio_with > 1.5 * ratio_without  # literature: IL-6 favours Th17, restrains Treg
    literature = covid_adaptive.state("treg")[0].max()
    seed_reading = _run("covid19-severe", {"il6_promotes_treg": 1}).state("treg")[0].max()
    assert seed_reading > literature  # the article's reading: IL-6 promotes Treg


def _first_below(time, values, threshold):
    """First time after the peak at which ``values`` fall below ``threshold`` (inf if never)."""
    after = np.arange(len(values)) >= np.argmax(values)
    below = after & (values < threshold)
    return float(time[np.argmax(below)]) if below.any() else np.inf


def test_claim_C08_il6_recruits_neutrophils_and_speeds_bacterial_clearance():
    scenario = load_scenario("bacterial-pneumonia")
    doses = scenario.dose_table()
    host_defence_only = doses[doses.agent == "bacteria"]  # no antibiotic
    runs = {
        ko: _run("bacterial-pneumonia", {"switch_il6": ko}, days=4, dt=1.0, doses=host_defence_only)
        for ko in (1, 0)
    }
    bacteria = {ko: r.output("bacteria_site")[0] for ko, r in runs.items()}
    # hours until the site is sterile (< 1 CFU/mL after the peak); never within 4 days: inf
    cleared = {ko: _first_below(r.time, bacteria[ko], 1.0) for ko, r in runs.items()}
    assert runs[1].output("il6")[0].max() > 50 * runs[1].output("il6")[0][0]  # IL-6 rises
    assert runs[0].output("neutrophils_site")[0].max() < runs[1].output("neutrophils_site")[0].max()
    assert bacteria[0].max() > bacteria[1].max()
    assert cleared[0] > cleared[1]
    print(f"\nC08: bacterial peak {bacteria[1].max():.3g} vs {bacteria[0].max():.3g} CFU/mL "
          f"without IL-6; sterile at {cleared[1]:g} h vs {cleared[0]:g} h")


def test_claim_C09_overwhelming_infection_reaches_sepsis_with_il6_far_above_the_mild_course():
    mild_doses = load_scenario("bacterial-pneumonia").dose_table()
    mild_doses.loc[mild_doses.agent == "bacteria", "amount"] = 1e5
    mild = outcomes(_run("bacterial-pneumonia", doses=mild_doses)).iloc[0]
    septic = outcomes(_run("bacterial-sepsis")).iloc[0]
    assert not mild.sepsis and septic.sepsis
    assert septic.sofa_rise >= 2
    assert septic.peak_il6 > 10 * mild.peak_il6


def test_claim_C10_il6_tracks_organ_dysfunction_and_predicts_death_in_a_population():
    """Inpatients drawn from the shipped calibrated population (varied age, interferon capacity,
    viral kinetics, inoculum and organ susceptibility): peak IL-6 tracks peak SOFA and predicts
    death."""
    spec = load_population_spec("covid19-hospitalised")
    indices = np.arange(60)
    table = draw(spec, load_calibrated(spec).draw(7, indices), patients=indices)
    result = simulate(parameter_table(spec, table), dose_table(spec, table), t_end=35 * DAY,
                      dt=12.0)
    outcome = outcomes(result, seed=7)
    died = outcome.death_time_h.notna().to_numpy()
    rho = spearmanr(outcome.peak_il6, outcome.peak_sofa).statistic
    # rho > 0.4: a moderate rank correlation, as in patients, not a lockstep; the population
    # needs deaths and survivors; AUC > 0.7 (the study report's caption applies this check)
    both = 0 < died.sum() < len(indices)
    auc = roc_auc_score(died, outcome.peak_il6) if both else np.nan
    verdict = c10_population(rho, auc, int(died.sum()), len(indices))
    print(f"C10: {verdict.seen}")
    assert verdict.shown, verdict.seen


def test_claim_C11_each_virus_raises_il6_with_its_own_time_course():
    flu = _run("influenza")
    covid = _run("covid19-mild")
    hiv = _run("hiv-chronic")
    il6_flu, il6_covid = flu.output("il6")[0], covid.output("il6")[0]
    # each raises IL-6 > 3x; influenza peaks first (by day 4, SARS-CoV-2 by day 10) and has
    # resolved by day 10 (the study report's caption applies the same check)
    acute = c11_acute_viral(il6_flu.max() / il6_flu[0], il6_covid.max() / il6_covid[0],
                            flu.time[np.argmax(il6_flu)] / DAY,
                            covid.time[np.argmax(il6_covid)] / DAY,
                            il6_flu[np.searchsorted(flu.time, 10 * DAY)] / il6_flu[0])
    assert acute.shown, acute.seen
    il6_hiv = hiv.output("il6")[0]
    late = il6_hiv[hiv.time >= 120 * DAY]
    chronic = c11_chronic_viral(late.min() / il6_hiv[0], late.max() / il6_hiv[0])
    assert chronic.shown, chronic.seen  # chronic low-grade elevation: 1.2-10x rest


def test_claim_C12_severe_covid_has_late_hyperinflammation_ards_and_multi_organ_dysfunction(
    covid_mild,
):
    severe = _run("covid19-severe")
    day = severe.time / DAY
    il6_severe, il6_mild = severe.output("il6")[0], covid_mild.output("il6")[0]
    # the surge lasts to day 12 after infection (about a week after onset); clinically it lasts
    # longer: the course runs fast (il6sim population course, timing rows)
    week2 = (day >= 8) & (day <= 12)
    # severe vs uncomplicated: ratio of means 2.9 (Coomes EA 2020 Rev Med Virol 30:1)
    assert il6_severe[week2].min() > 2.9 * il6_mild[week2].max()  # late surge ...
    assert day[np.argmax(il6_severe)] > day[np.argmax(il6_mild)]  # ... after the mild peak
    assert severe.output("crp")[0].max() > 5 * covid_mild.output("crp")[0].max()
    assert severe.output("pf_ratio")[0].min() < 200 < 300 < covid_mild.output("pf_ratio")[0].min()
    failing = [organ for organ, points in sofa_components(severe).items() if points.max() >= 2]
    assert len(failing) >= 2, failing
    assert severe.output("lymphocytes")[0].min() < 1.0 < covid_mild.output("lymphocytes")[0].min()


@pytest.mark.parametrize(
    ("knockout", "preset"),
    [
        ("switch_tnf", "endotoxemia-2ngkg"),
        ("switch_il10", "endotoxemia-2ngkg"),
        ("switch_il6", "endotoxemia-2ngkg"),
        ("switch_trans_signalling", "covid19-severe"),
        ("switch_ifn", "covid19-mild"),
    ],
)
def test_claim_C17_each_knockout_changes_the_other_cytokines(knockout, preset):
    """Each mediator knocked out under the stimulus that calls it up changes at least two of the
    other cytokines' peaks by more than 10 %."""
    cytokines = ["il6", "tnf", "il1b", "il10", "ifn"]
    days = 2 if preset.startswith("endotoxemia") else 14
    control = _run(preset, days=days, dt=0.5)
    knocked = _run(preset, {knockout: 0}, days=days, dt=0.5)
    own = knockout.removeprefix("switch_")  # (trans-signalling is not a cytokine: all count)
    changed = [
        c
        for c in cytokines
        if c != own
        and not np.isclose(knocked.output(c)[0].max(), control.output(c)[0].max(), rtol=0.1)
    ]
    assert len(changed) >= 2, (knockout, changed)
