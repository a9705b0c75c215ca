"""Sepsis that behaves like sepsis (issue 16): septic shock reached and reversed by the declared
treatments, antibiotic timing against mortality, IL-6 as a marker of death, and the harm of
blocking IL-6 too early in a bacterial infection (claims C09, C10, C15, C16).

Published figures: the preset-level ones in ``data/targets/sepsis.yaml`` (checked), the
cohort-level ones in ``data/studies/septic-shock.yaml`` (fitted or checked, as each row says).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from il6sim.calibration import load_targets, run_target_scenarios
from il6sim.clinical import outcomes, septic_shock, sofa_components
from il6sim.engine import simulate
from il6sim.pharmacology import expand_regimen
from il6sim.scenario import load_scenario
from il6sim.studies.sepsis import load_septic_shock_spec, run_septic_shock, weighted_auc

DAY = 24.0
TARGETS = load_targets("sepsis")

#: Cohort rows the model does not reproduce, with the value measured when they were listed.
COHORT_GAPS = {
    "sepsis.il6_ratio_nonsurvivors_48_72h": "0.97 (n 150): after the antibiotic IL-6 falls within "
    "a day or two to about 7 pg/mL in every virtual patient (microthrombi clear with t1/2 "
    "14 h); those who die differ in the SOFA hazard they accumulated, not in a "
    "persistent source (no failed source control, no secondary infection, no self-sustaining "
    "inflammation after bacteria go)",
}


def _run(name, overrides=None, doses=None, days=None, dt=1.0):
    scenario = load_scenario(name)
    return simulate(scenario.parameter_overrides() | (overrides or {}),
                    scenario.dose_table() if doses is None else doses,
                    t_end=(days * DAY) if days else scenario.duration_h, dt=dt, backend="fast")


@pytest.fixture(scope="module")
def shock():
    return _run("septic-shock")


def test_septic_shock_is_reached_despite_fluids_and_reversed_by_the_antibiotic(shock):
    t = shock.time
    in_shock = septic_shock(shock)[0]
    assert in_shock.any()
    first = t[in_shock][0]
    assert 18.0 <= first <= 30.0  # after the fluid boluses of 18-20 h
    # during shock: norepinephrine holds MAP at the 65 mmHg target, lactate above 2 mmol/L
    assert shock.output("map_treated")[0][in_shock].min() == pytest.approx(65.0, abs=0.1)
    assert shock.output("norepinephrine")[0][in_shock].max() > 0.1
    # reversed within days: off vasopressors and lactate normal by day 4
    late = t >= 4 * DAY
    assert not in_shock[late].any()
    assert shock.output("norepinephrine")[0][late].max() < 1e-3
    assert shock.output("lactate_level")[0][late].max() < 2.0
    # organ dysfunction beyond the circulation: kidney and brain (SOFA points)
    organs = {k: v[0].max() for k, v in sofa_components(shock).items()}
    assert organs["cardiovascular"] == 4 and organs["renal"] >= 1 and organs["cns"] >= 1
    # Sepsis-3 septic-shock mortality is above 40 % (Shankar-Hari 2016: 42.3 %)
    assert 0.25 <= outcomes(shock).death_probability.iloc[0] <= 0.60


def test_without_the_antibiotic_the_shock_is_not_reversed(shock):
    scenario = load_scenario("septic-shock")
    doses = scenario.dose_table()
    untreated = _run("septic-shock", doses=doses[doses.agent != "antibiotic"], days=4)
    assert septic_shock(untreated)[0][untreated.time >= 3 * DAY].all()
    assert outcomes(untreated).death_probability.iloc[0] > 0.95


def test_fluids_raise_the_pressure_only_while_they_stay_in_the_vessels():
    scenario = load_scenario("septic-shock")
    doses = scenario.dose_table()
    dry = _run("septic-shock", doses=doses[doses.agent != "fluid"], days=2, dt=0.25)
    wet = _run("septic-shock", days=2, dt=0.25)
    t = wet.time
    gain = wet.output("map")[0] - dry.output("map")[0]
    assert gain[(t > 18) & (t < 21)].max() > 5.0  # mmHg while the boluses run
    assert abs(gain[t >= 30]).max() < 3.0  # gone within hours: the leak takes them
    assert wet.state("fluid_iv")[0][t >= 30].max() < 0.05


def test_vasoplegia_needs_microbes_in_blood_so_viral_storms_keep_their_old_pressure():
    """COVID-19 presets have no bacteria or endotoxin in blood: no iNOS, no vasoplegia, no
    phagocyte IL-6; their pressure is the capillary-leak pressure of the earlier model."""
    for name in ("covid19-severe", "covid19-mild"):
        result = _run(name, dt=6.0)
        assert np.abs(result.state("vasoplegia")).max() < 1e-9, name
        assert np.abs(result.state("sys_phago_act")).max() < 1e-9, name
        model_map = result.output("map")[0]
        leak = result.output("leak")[0] / 100
        assert np.allclose(model_map, 90.0 * (1 - 0.5 * leak), rtol=1e-6), name


@pytest.fixture(scope="module")
def sepsis_target_runs():
    return run_target_scenarios(TARGETS, backend="fast")


#: Preset rows the model misses, with the value measured (2026-12-03).
TARGET_GAPS = {
    "sepsis.shock_tnf_peak": "5,557 pg/mL: site macrophages make TNF-alpha at the endotoxin "
    "scale for as long as bacteria activate them (no lasting tolerance: "
    "tests/test_endotoxin_tolerance.py), and the preset's blood holds about 1e6 CFU/mL",
}


@pytest.mark.parametrize("target", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=TARGET_GAPS[t.id]))
    if t.id in TARGET_GAPS else t for t in TARGETS], ids=[t.id for t in TARGETS])
def test_sepsis_target(target, sepsis_target_runs):
    value = target.measure(sepsis_target_runs)
    assert target.low <= value <= target.high, (
        f"{target.id} = {value:.4g}, published range [{target.low:g}, {target.high:g}] "
        f"({target.source})"
    )


# ---- the septic-shock cohort --------------------------------------------------------------------
N_COHORT = 150


@pytest.fixture(scope="module")
def cohort():
    return run_septic_shock(N_COHORT, seed=0)


def test_cohort_file_rows_have_a_source_a_range_and_a_role():
    for row in load_septic_shock_spec()["targets"]:
        assert row["low"] <= row["center"] <= row["high"], row["id"]
        assert row["role"] in ("fitted", "checked") and len(row["source"]) > 40, row["id"]


def test_cohort_is_septic_shock_and_mortality_rises_with_every_hour_of_delay(cohort):
    table = cohort.table
    assert (table.status == "ok").all()
    assert table.septic_shock.mean() > 0.95
    assert cohort.settings["n_in_shock"] >= 0.35 * N_COHORT
    mortality = cohort.mortality()
    assert np.all(np.diff(mortality.to_numpy()) > 0), mortality
    # each patient: a later antibiotic never lowers the probability of death
    wide = table.pivot(index="patient", columns="delay_h", values="death_probability")
    assert (np.diff(wide.to_numpy(), axis=1) >= -1e-6).all()
    odds = mortality / (1 - mortality)
    per_hour = (odds[6.0] / odds[1.0]) ** (1 / 5)
    print(f"\nseptic-shock cohort: mortality by delay {mortality.round(3).to_dict()}; "
          f"odds ratio per hour (1-6 h) {per_hour:.2f}")


def _cohort_rows():
    for row in load_septic_shock_spec()["targets"]:
        marks = ()
        if row["id"] in COHORT_GAPS:
            marks = pytest.mark.xfail(strict=True, reason=COHORT_GAPS[row["id"]])
        yield pytest.param(row["id"], id=row["id"].removeprefix("sepsis."), marks=marks)


@pytest.mark.parametrize("row_id", list(_cohort_rows()))
def test_cohort_target_within_its_published_range(cohort, row_id):
    row = cohort.targets().set_index("id").loc[row_id]
    assert row.within, f"{row_id}: model {row.model:.3g} outside {row.low:g}-{row.high:g}"


def test_weighted_auc_is_the_usual_auc_for_certain_outcomes():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    score, died = rng.normal(size=40), rng.random(40) < 0.4
    assert weighted_auc(score, died.astype(float)) == pytest.approx(roc_auc_score(died, score))


def test_claim_C10_il6_at_shock_onset_marks_the_patients_who_die(cohort):
    """C10: across septic-shock patients IL-6 at onset is higher in those who die, because the
    phagocytes that clear blood make it in proportion to the bacteria in blood that drive the
    vasoplegia; the AUC is in the published range (Mat Nor 2016: 0.70, 0.62-0.78)."""
    arm = cohort.table[cohort.table.delay_h == 1.0]
    p, il6 = arm.death_probability.to_numpy(), arm.il6_at_onset.to_numpy()
    died_mean = np.average(il6, weights=p)
    survived_mean = np.average(il6, weights=1 - p)
    # 1.2 under the hand-set SOFA hazard; 1.18 under the fitted one (clinical._death), whose
    # flatter slope lets moderate organ dysfunction kill too
    assert died_mean > 1.15 * survived_mean
    assert 0.6 <= weighted_auc(il6, p) <= 0.8


# ---- the sepsis cohort: mortality by shock and by SOFA, IL-6 at presentation -------------------
#: Sepsis-cohort rows the model does not reproduce, with the value measured when they were listed.
SEPSIS_COHORT_GAPS: dict[str, str] = {}  # none since 2026-12-03 (the shunt equation)


@pytest.fixture(scope="module")
def sepsis_cohort():
    from il6sim.studies._sepsis_cohort import run_sepsis_cohort

    return run_sepsis_cohort(150, seed=0)


def _sepsis_cohort_rows():
    from il6sim.studies._sepsis_cohort import load_sepsis_cohort_spec

    for row in load_sepsis_cohort_spec()["targets"]:
        assert row["low"] <= row["center"] <= row["high"], row["id"]
        assert row["role"] in ("fitted", "checked") and len(row["source"]) > 40, row["id"]
        marks = ()
        if row["id"] in SEPSIS_COHORT_GAPS:
            marks = pytest.mark.xfail(strict=True, reason=SEPSIS_COHORT_GAPS[row["id"]])
        yield pytest.param(row["id"], id=row["id"].removeprefix("sepsis."), marks=marks)


@pytest.mark.parametrize("row_id", list(_sepsis_cohort_rows()))
def test_sepsis_cohort_target_within_its_published_range(sepsis_cohort, row_id):
    row = sepsis_cohort.targets().set_index("id").loc[row_id]
    assert row.within, f"{row_id}: model {row.model:.3g} outside {row.low:g}-{row.high:g}"


def test_sepsis_cohort_mortality_rises_with_organ_failure_and_shock(sepsis_cohort):
    """Claim C10 across sepsis: shock and a higher SOFA mark death (Ferreira 2001), and IL-6 at
    presentation is higher in those who die."""
    table = sepsis_cohort.table
    assert (table.status == "ok").all() and sepsis_cohort.settings["n_sepsis"] >= 100
    assert 0.1 <= table.septic_shock.mean() <= 0.5
    by_shock = sepsis_cohort.mortality_by_shock()
    assert by_shock[True] > 10 * by_shock[False]
    bands = sepsis_cohort.mortality_by_highest_sofa()
    assert np.all(np.diff(bands.mortality.dropna().to_numpy()) > 0), bands
    p = table.death_probability.to_numpy()
    il6 = table.il6_at_presentation.to_numpy()
    assert np.average(il6, weights=p) > 1.3 * np.average(il6, weights=1 - p)
    print(f"\nsepsis cohort: mortality by shock {by_shock.round(3).to_dict()}; by highest SOFA "
          f"{bands.mortality.round(3).to_dict()}")


def test_cli_sepsis_cohort_prints_mortality_by_shock_and_sofa(tmp_path):
    from typer.testing import CliRunner

    from il6sim.cli import app

    result = CliRunner().invoke(app, ["sepsis", "--cohort", "sepsis", "--n", "20", "--out",
                                      str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "by highest SOFA" in result.output and "sepsis.cohort_il6_auc_at_presentation" in (
        result.output)
    assert (tmp_path / "s" / "sepsis.csv").is_file()
    bad = CliRunner().invoke(app, ["sepsis", "--cohort", "icu"])
    assert bad.exit_code == 2 and "--cohort icu" in bad.output


# ---- both faces of IL-6 in bacterial infection (C08, C09, C15, C16) ------------------------------
def test_claim_C15_without_il6_a_contained_pneumonia_becomes_septic_shock():
    """IL-6 (marrow neutrophil release, CRP opsonisation of pneumococci) holds the pneumonia at
    one lobe until the antibiotic arrives; without it the same infection reaches capacity, floods
    the blood and causes septic shock (IL-6-deficient mice die of pneumococcal pneumonia: van der
    Poll T 1997 J Infect Dis 176:439)."""
    control = _run("bacterial-pneumonia", days=14)
    knocked = _run("bacterial-pneumonia", {"switch_il6": 0}, days=14)
    at_24h = control.time == 24.0
    assert knocked.output("bacteria_site")[0][at_24h] > 1.5 * control.output("bacteria_site")[0][
        at_24h]
    assert knocked.output("bacteraemia")[0].max() > 3 * control.output("bacteraemia")[0].max()
    assert not septic_shock(control).any() and septic_shock(knocked).any()
    # x10 under the hand-set SOFA hazard; x7.9 under the fitted one (clinical._death: 0.23 vs
    # 0.029, the contained pneumonia's organ dysfunction now carries some risk)
    assert outcomes(knocked).death_probability.iloc[0] > 5 * outcomes(
        control).death_probability.iloc[0]


def test_claim_C09_excess_trans_signalling_causes_coagulopathy_and_organ_failure():
    """C09 from mechanism: at septic-shock IL-6 levels IL-6:sIL-6R engages enough endothelial
    gp130 to make PAI-1 (Kang S 2020 PNAS 117:22351); microthrombi consume platelets, raise
    lactate and injure the kidney. Blocking trans-signalling alone (sgp130Fc-like switch) removes
    them; the lower trans-signalling of COVID-19 never reaches the threshold."""
    control = _run("septic-shock", days=7)
    blocked = _run("septic-shock", {"switch_trans_signalling": 0}, days=7)
    assert control.output("microthrombosis")[0].max() > 20.0  # percent
    assert blocked.output("microthrombosis")[0].max() < 0.1
    assert control.output("platelet_count")[0].min() < 150.0  # SOFA coagulation >= 1
    assert blocked.output("platelet_count")[0].min() > 150.0
    assert (control.output("lactate_level")[0].max()
            > blocked.output("lactate_level")[0].max() + 1.0)
    assert (control.output("creatinine_level")[0].max()
            > 1.2 * blocked.output("creatinine_level")[0].max())
    for name in ("covid19-severe", "covid19-mild"):
        assert _run(name, dt=6.0).output("microthrombosis")[0].max() < 0.5, name


def test_claim_C09_C16_blockade_in_the_hyperinflammatory_phase_spares_organs_and_lowers_death():
    """Tocilizumab given with the antibiotic at shock onset (the hyperinflammatory phase) lowers
    microthrombosis, lactate, kidney injury and death, where the same drug at infection raises
    death (test below): the two faces of IL-6 in one infection."""
    scenario = load_scenario("septic-shock")
    params, base = scenario.parameter_overrides(), scenario.dose_table()
    onset = float(base.loc[base.agent == "antibiotic", "time_h"].min())
    treated = pd.concat([base, expand_regimen("tocilizumab-covid-8mgkg", start_h=onset)],
                        ignore_index=True).assign(patient=1)
    doses = pd.concat([base.assign(patient=0), treated], ignore_index=True)
    result = simulate([params, params], doses, t_end=28 * DAY, dt=1.0, backend="fast")
    peak = {k: result.output(k).max(axis=1)
            for k in ("microthrombosis", "lactate_level", "creatinine_level")}
    assert peak["microthrombosis"][1] < peak["microthrombosis"][0] - 2.0  # percent
    assert peak["lactate_level"][1] < peak["lactate_level"][0] - 0.2
    assert peak["creatinine_level"][1] < peak["creatinine_level"][0] - 5.0  # umol/L
    assert result.output("platelet_count")[1].min() > result.output("platelet_count")[0].min()
    death = outcomes(result).death_probability.to_numpy()
    assert death[1] < death[0] - 0.01, death  # measured 0.022 (2026-12-02)


@pytest.mark.parametrize("start_h", [0.0, 3.0])
def test_claim_C15_early_tocilizumab_in_septic_shock_raises_death_and_bacterial_burden(start_h):
    scenario = load_scenario("septic-shock")
    params, base = scenario.parameter_overrides(), scenario.dose_table()
    treated = pd.concat([base, expand_regimen("tocilizumab-covid-8mgkg", start_h=start_h)],
                        ignore_index=True).assign(patient=1)
    doses = pd.concat([base.assign(patient=0), treated], ignore_index=True)
    result = simulate([params, params], doses, t_end=28 * DAY, dt=1.0, backend="fast")
    bacteria = np.clip(result.state("bac_t") + result.state("bac_b"), 0, None)
    burden = np.trapezoid(np.log10(1 + bacteria), result.time, axis=1)
    assert burden[1] > burden[0]
    assert result.output("crp")[1].max() < 0.5 * result.output("crp")[0].max()  # no acute phase
    death = outcomes(result).death_probability.to_numpy()
    assert death[1] > death[0] + 0.01, death


# ---- clinical read-outs of the haemodynamics --------------------------------------------------
def _clinical(**outputs):
    """A one-patient result with the given read-outs (healthy elsewhere)."""
    from il6sim.engine import SimulationResult

    values = {"pf_ratio": 450.0, "platelet_count": 250.0, "bilirubin_level": 10.0, "map": 90.0,
              "gcs": 15.0, "creatinine_level": 80.0, "il6": 2.0, "bacteria_site": 0.0,
              "bacteraemia": 0.0, "viral_load": 0.0, "norepinephrine": 0.0,
              "lactate_level": 1.0} | outputs
    n = max(np.size(v) for v in values.values())
    stacked = np.stack([np.broadcast_to(np.asarray(v, float), (n,)) for v in values.values()],
                       axis=-1)[None]
    return SimulationResult(time=np.arange(n, dtype=float), outputs=stacked,
                            states=np.zeros((1, n, 0)), parameters=np.zeros((1, 0)),
                            output_names=list(values), output_units=[""] * len(values),
                            state_names=[], param_names=[], status=["ok"], doses=pd.DataFrame())


def test_sofa_scores_the_norepinephrine_dose_and_shock_needs_lactate_and_infection():
    from il6sim.clinical import death_hazard, sofa

    r = _clinical(map=[85, 68, 60, 60, 50], norepinephrine=[0, 0, 0.05, 0.3, 0.09],
                  lactate_level=[1, 1, 3, 1.5, 4], bacteraemia=[0, 10, 10, 10, 10],
                  vasoplegia_fraction=[0, 0, 30, 30, 30])
    # MAP < 70: 1; below 65 the dose decides: <= 0.1 ug/kg/min 3, above 4 (Singer 2016 Table 1)
    assert sofa_components(r)["cardiovascular"][0].tolist() == [0, 1, 3, 4, 3]
    # Sepsis-3 septic shock: sepsis (SOFA rise >= 2) with MAP < 65 and lactate > 2 mmol/L
    assert septic_shock(r)[0].tolist() == [False, False, True, False, True]
    # refractory septic shock adds hazard only above 0.1 ug/kg/min, and only when vasoplegic
    from il6sim.clinical import HAZARD_BASE, HAZARD_SLOPE

    assert sofa(r).max() <= 10  # below HAZARD_KNOT; no age parameter: the reference age
    base = HAZARD_BASE / 24 * np.exp(HAZARD_SLOPE * sofa(r)[0])
    extra = death_hazard(r)[0] - base
    assert np.allclose(extra, [0, 0, 0, 0.107 * 0.2, 0])
    leak_only = _clinical(map=[60, 50], norepinephrine=[0.3, 0.3], vasoplegia_fraction=[0, 0])
    assert np.allclose(death_hazard(leak_only)[0],
                       HAZARD_BASE / 24 * np.exp(HAZARD_SLOPE * sofa(leak_only)[0]))


def test_the_norepinephrine_read_out_holds_map_at_the_target_and_is_blunted_by_vasoplegia():
    from il6sim.model import default_model

    model = default_model()
    y, p = model.initial_guess(), model.default_parameters()
    index = model.state_index
    y[index["vascular_leak"]] = 0.7  # MAP 90 * (1 - 0.35) = 58.5 mmHg
    out = model.output_values(y, p)
    assert float(out["map"]) == pytest.approx(58.5, rel=1e-3)
    assert float(out["map_treated"]) == pytest.approx(65.0, rel=1e-4)
    assert float(out["norepinephrine"]) == pytest.approx((65 / 58.5 - 1) / 1.818, rel=1e-3)
    y[index["vasoplegia"]] = 0.5
    blunted = model.output_values(y, p)
    assert float(blunted["map"]) == pytest.approx(58.5 * 0.75, rel=1e-3)
    assert float(blunted["norepinephrine"]) == pytest.approx(
        (65 / (58.5 * 0.75) - 1) * (1 + 4.0 * 0.5) / 1.818, rel=1e-3)


def test_cli_sepsis_prints_the_cohort_targets(tmp_path):
    from typer.testing import CliRunner

    from il6sim.cli import app

    result = CliRunner().invoke(app, ["sepsis", "--n", "20", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "reached septic shock" in result.output and "sepsis.survival_loss_per_hour" in (
        result.output)
    assert (tmp_path / "s" / "targets.csv").is_file()
    bad = CliRunner().invoke(app, ["sepsis", "--n", "5"])
    assert bad.exit_code == 2 and "--n 5" in bad.output


def test_sofa_is_a_read_out_for_summaries_and_figures_and_the_preset_overlays_its_targets(shock,
                                                                                         tmp_path):
    from il6sim.clinical import sofa
    from il6sim.plotting import plot_result

    assert np.array_equal(shock.output("sofa"), sofa(shock).astype(float))
    assert shock.unit("sofa") == ""
    scenario = load_scenario("septic-shock")
    assert "sofa" in scenario.outputs
    overlaid = {t.id for t in scenario.load_targets()}
    assert {"sepsis.shock_map_nadir", "sepsis.shock_lactate_peak"} <= overlaid
    assert not any(t.startswith("sepsis.cap_") for t in overlaid)
    path = plot_result(shock, list(scenario.outputs), tmp_path / "shock.png",
                       targets=scenario.load_targets())
    assert path.stat().st_size > 20_000


# ---- Gram-negative pneumonia: Klebsiella pneumoniae ---------------------------------------------
def test_klebsiella_pneumonia_progresses_without_antibiotics_because_of_its_capsule():
    """A lobar K. pneumoniae pneumonia (1e7 CFU, one lobe) outgrows the resident macrophages,
    whose killing its capsule halves, and untreated becomes fatal septic shock; ceftriaxone from
    12 h cures it; the same bacterium without the capsule's resistance is cleared unaided."""
    from il6sim.scenario._pathogens import pathogen_parameters

    kleb = dict(pathogen_parameters("klebsiella-pneumoniae")) | {
        "age": 60.0, "K_bac_capacity": "1e8 CFU/mL"}
    uncapsulated = kleb | {"k_kill_mac": 0.01}
    rows = [dict(time_h=0.0, agent="bacteria", route="inoculation", amount=1e7, patient=i)
            for i in range(3)]
    rows += [dict(time_h=12.0 + 24 * k, agent="antibiotic", route="iv", amount=2000.0,
                  patient=1) for k in range(7)]
    result = simulate([kleb, kleb, uncapsulated], pd.DataFrame(rows), t_end=7 * DAY, dt=1.0,
                      backend="fast")
    site, death = result.output("bacteria_site"), outcomes(result).death_probability.to_numpy()
    day1 = result.time == DAY
    assert site[0][day1] > 1e7 and result.output("bacteraemia")[0].max() > 1e4
    assert septic_shock(result)[0].any() and death[0] > 0.9
    # cured: < 0.01 under the hand-set hazard; the fitted one (clinical._death) gives a week of
    # mild organ dysfunction about 1.3 %
    assert site[1][result.time >= 2 * DAY].max() < 1.0 and death[1] < 0.02
    assert site[2][day1] < 1.0 and death[2] < 0.02
