"""Background (standard-of-care) co-treatments in trials: schema errors, seeded fractions, doses
in every arm, doses before randomisation, the subgroup signal and the interaction test.

Until a glucocorticoid drug file ships, the background here is an existing regimen
(tocilizumab) in trials whose study arm gives no other antibody, or the same one.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.errors import InputError
from il6sim.trial import TrialResult, TrialTask, load_trial
from il6sim.trial._background import drawn
from il6sim.trial._stats import (
    difference_of_differences,
    heterogeneity,
    ratio_of_risk_ratios,
    risk_ratio,
)

SHIPPED = load_trial("recovery-tocilizumab")
REGIMEN = "tocilizumab-covid-8mgkg"
SHAM = {"name": "sham", "treatment": {"drug": "tocilizumab", "amount": "0 mg", "doses": 1}}


def entry(**changes) -> dict:
    """One background entry (tocilizumab at randomisation to half the patients), changed."""
    return {"name": "steroid", "treatment": {"regimen": REGIMEN}, "fraction": 0.5,
            "source": "test", **changes}


def design(**changes) -> dict:
    """The RECOVERY design without its control-risk calibration or background, changed."""
    data = SHIPPED.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("anchor_control_risk", None)
    data["background"] = []
    data.update(changes)
    return data


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("background", "field", "message"), [
    ([entry(fraction=1.5)], "background[0].fraction", "not a number from 0 to 1"),
    ([entry(fraction=float("nan"))], "background[0].fraction", "not a number from 0 to 1"),
    ([entry(fraction=-0.1)], "background[0].fraction", "not a number from 0 to 1"),
    ([entry(fraction="82 %")], "background[0].fraction", "not a number from 0 to 1"),
    ([{k: v for k, v in entry().items() if k != "name"}], "background[0].name",
     "required key is missing"),
    ([entry(name="Cortico steroids")], "background[0].name", "lower-case identifier"),
    ([entry(), entry(fraction=0.2)], "background[1].name", "already background[0]"),
    ([entry(start={"at": "discharge"})], "background[0].start.at",
     "'randomisation' or 'admission'"),
    ([entry(start={"at": "randomisation", "after": "admission"})], "background[0].start",
     "disagree"),
    ([entry(colour="red")], "background[0].colour", "unknown key"),
    ([{k: v for k, v in entry().items() if k != "treatment"}], "background[0].treatment",
     "required key is missing"),
])
def test_a_bad_background_entry_gets_one_line_naming_the_field(background, field, message):
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        load_trial(design(background=background))
    text = str(caught.value)
    assert f"field '{field}'" in text and "fix:" in text and "\n" not in text


@pytest.mark.parametrize(("background", "arms", "field", "message"), [
    ([entry(treatment={"regimen": "dexamethasone-60mg"})], None, "background[0].treatment",
     "unknown regimen 'dexamethasone-60mg'"),
    ([entry(start={"when": [{"signal": "crpp", "at_least": 75}]})], None,
     "background[0].start.when[0].signal", "unknown signal 'crpp'"),
    ([entry(start={"when": [{"signal": "crp", "at_least": "75 kg"}]})], None,
     "background[0].start.when[0]", "not a number in mg/L"),
    ([entry()], [{"name": "usual care"},
                 {"name": "s", "treatment": {"regimen": "sarilumab-400mg-iv-once"}}],
     "background[0].treatment", "cannot be given with arm 's'"),
])
def test_background_names_and_drugs_are_checked_before_any_simulation(background, arms, field,
                                                                      message):
    changes = {"background": background, **({"arms": arms} if arms else {})}
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        TrialTask(load_trial(design(**changes)))
    text = str(caught.value)
    assert f"field '{field}'" in text and "fix:" in text and "\n" not in text


def test_the_cli_refuses_a_bad_background_with_exit_2_before_simulating(tmp_path):
    path, out = tmp_path / "x.yaml", tmp_path / "out"
    path.write_text(yaml.safe_dump(design(background=[entry(fraction=1.2)])))
    result = CliRunner().invoke(app, ["trial", str(path), "--n", "8", "--out", str(out)])
    assert result.exit_code == 2
    assert f"error: trial '{path}', field 'background[0].fraction'" in result.output
    assert "Traceback" not in result.output and not (out / "screening").exists()


def test_a_subgroup_may_split_on_a_background_and_only_a_declared_one():
    TrialTask(load_trial(design(background=[entry()],
                                subgroups=[{"name": "s", "signal": "on_steroid"}])))
    with pytest.raises(InputError, match=r"subgroups\[0\]'.*'on_steroid' is no background"):
        TrialTask(load_trial(design(subgroups=[{"name": "s", "signal": "on_steroid"}])))


@pytest.mark.parametrize("name", ["recovery-tocilizumab", "remap-cap-il6"])
def test_the_shipped_trials_give_corticosteroids_with_a_source(name):
    spec = load_trial(name)
    (entry_,) = spec.background
    assert entry_.name == "corticosteroids" and entry_.source
    assert entry_.treatment.regimen.startswith("dexamethasone-6mg")
    assert entry_.fraction == {"recovery-tocilizumab": 0.82, "remap-cap-il6": 0.93}[name]
    TrialTask(spec)  # the glucocorticoid goes with every arm's antibody
    again = load_trial(spec.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert again == spec


# ----------------------------------------------------------------------------- draws
def test_fractions_are_drawn_as_declared_and_independently_per_entry():
    spec = load_trial(design(background=[entry(fraction=0.82), entry(name="b", fraction=0.3),
                                         entry(name="none", fraction=0.0),
                                         entry(name="all", fraction=1.0)]))
    n = 5000
    got = drawn(spec, np.arange(n))
    for name, p in (("steroid", 0.82), ("b", 0.3)):
        sd = np.sqrt(n * p * (1 - p))
        assert abs(got[name].sum() - n * p) < 4 * sd, (name, got[name].sum())
    assert not got["none"].any() and got["all"].all()
    both = (got["steroid"] & got["b"]).mean()
    assert both == pytest.approx(0.82 * 0.3, abs=4 * np.sqrt(0.25 / n))  # independent draws
    np.testing.assert_array_equal(drawn(spec, np.arange(100, 200))["steroid"],
                                  got["steroid"][100:200])  # by candidate, not by chunk
    other = spec.model_copy(update={"seed": spec.seed + 1})
    assert not np.array_equal(drawn(other, np.arange(n))["steroid"], got["steroid"])


@pytest.fixture(scope="module")
def at_randomisation():
    """40 candidates with half on a background at randomisation, and the same without it
    (without hospital-acquired infections, whose onsets follow each course)."""
    arms = [{"name": "usual care"}, SHAM]
    with_it = TrialTask(load_trial(design(arms=arms, background=[entry()],
                                          hospital_infection=None)))
    rows = with_it(np.arange(80))
    plain = TrialTask(load_trial(design(arms=arms, hospital_infection=None)))(np.arange(80))
    return with_it, rows[rows["enrolled"]], plain[plain["enrolled"]]


def test_a_background_at_randomisation_reaches_its_patients_in_every_arm(at_randomisation):
    task, rows, plain = at_randomisation
    on = rows["on_steroid"].to_numpy() > 0.5
    assert 0 < on.sum() < len(rows)
    np.testing.assert_array_equal(on, drawn(task.design, rows["patient"].to_numpy())["steroid"])
    np.testing.assert_allclose(rows.loc[on, "steroid_start_day"], 0.0)
    assert rows.loc[~on, "steroid_start_day"].isna().all()
    # the same patients and randomisation times: the background starts at randomisation
    np.testing.assert_array_equal(rows["patient"], plain["patient"])
    np.testing.assert_allclose(rows["randomised_h"], plain["randomised_h"])
    for arm in ("usual care", "sham"):  # off: untouched; on: IL-6 blocked in both arms
        np.testing.assert_allclose(rows[f"peak_crp@{arm}"].to_numpy()[~on],
                                   plain[f"peak_crp@{arm}"].to_numpy()[~on], rtol=1e-6)
        # on: the blocked IL-6 lowers CRP. (The secondary-infection probability rises only
        # when blockade takes leukocyte IL-6 signalling below rest; since P/F is read from the
        # shunt equation these three patients are randomised inflamed enough that it does not.)
        assert (rows[f"peak_crp@{arm}"].to_numpy()[on]
                < plain[f"peak_crp@{arm}"].to_numpy()[on]).all()
    np.testing.assert_allclose(rows["died@sham"], rows["died@usual care"])


def test_a_background_from_admission_is_in_the_state_at_randomisation():
    """A single dose at admission, before randomisation: the screening course is simulated
    with it, the arms carry it in the state, and the arm course equals one simulation from
    infection with the dose at its absolute time."""
    from il6sim.engine import simulate
    from il6sim.pharmacology import expand_regimen
    from il6sim.population._sample import dose_table, parameter_table

    spec = load_trial(design(
        arms=[{"name": "usual care"}, SHAM],
        enrolment={"after": "admission", "delay": "2 d", "window": "21 d",
                   "eligibility": [{"signal": "oxygen", "is": True}]},
        background=[entry(fraction=1.0, start={"at": "admission", "delay": "6 h"})],
        hospital_infection=None))  # the arm course is compared with one simulation
    task = TrialTask(spec)
    rows = task(np.arange(48))
    enrolled = rows[rows["enrolled"]]
    assert len(enrolled) >= 3
    assert (enrolled["on_steroid"] == 1).all()
    np.testing.assert_allclose(enrolled["steroid_start_day"] * 24 + enrolled["randomised_h"],
                               enrolled["admission_h"] + 6, atol=1e-6)
    assert (enrolled["steroid_start_day"] < 0).all() and (enrolled["baseline_drug_conc"] > 0).all()
    table = task.candidates(enrolled["patient"].to_numpy()[:3])
    for k, (_, row) in enumerate(enrolled.iloc[:3].iterrows()):
        t0 = row["randomised_h"]
        doses = expand_regimen(REGIMEN, weight_kg=float(row["weight"]),
                               start_h=row["admission_h"] + 6).assign(patient=0)
        doses = pd.concat([dose_table(task.spec, table.iloc[[k]]), doses], ignore_index=True)
        whole = simulate(parameter_table(task.spec, table.iloc[[k]]), doses,
                         t_end=t0 + spec.followup_h, dt=task.spec.sampling_h, backend="fast")
        after = whole.time >= t0 - 1e-9
        assert np.nanmax(whole.output("crp")[0, after]) == pytest.approx(
            row["peak_crp@usual care"], rel=1e-3)
        assert np.nanmin(whole.output("pf_ratio")[0, after]) == pytest.approx(
            row["min_pf@usual care"], rel=1e-3)


def test_a_background_when_a_signal_holds_starts_then():
    spec = load_trial(design(arms=[{"name": "usual care"}, SHAM], background=[entry(
        fraction=1.0, start={"when": [{"signal": "crp", "at_least": "150 mg/L"}],
                             "within": "5 d", "delay": "12 h"})]))
    rows = TrialTask(spec)(np.arange(60))
    enrolled = rows[rows["enrolled"]]
    high = enrolled["baseline_crp"] >= 150
    start = enrolled["steroid_start_day"]
    np.testing.assert_allclose(start[high], 0.5)  # already above at randomisation: + 12 h
    assert (start[~high].dropna() > 0.5).all() and (start.dropna() <= 5.5 + 1e-9).all()
    np.testing.assert_array_equal(enrolled["on_steroid"], start.notna().astype(float))


# ----------------------------------------------------------------------------- statistics
def test_the_ratio_of_risk_ratios_matches_a_hand_calculation():
    on, off = (30, 100, 50, 100), (40, 100, 40, 100)
    out = ratio_of_risk_ratios(on, off)
    se = np.sqrt(1 / 30 - 1 / 100 + 1 / 50 - 1 / 100 + 1 / 40 - 1 / 100 + 1 / 40 - 1 / 100)
    z = np.log(0.6) / se  # RR on 0.6, off 1.0
    assert out["estimate"] == pytest.approx(0.6)
    assert out["ci_low"] == pytest.approx(np.exp(np.log(0.6) - 1.959964 * se), rel=1e-6)
    assert out["ci_high"] == pytest.approx(np.exp(np.log(0.6) + 1.959964 * se), rel=1e-6)
    assert out["p_value"] == pytest.approx(0.04238, abs=1e-4)  # 2 * Phi(-|z|), z = -2.030
    assert z == pytest.approx(-2.0297, abs=1e-3)
    # for two subgroups the z-test is Cochran's Q on their Katz intervals
    a, b = risk_ratio(*on), risk_ratio(*off)
    q = heterogeneity([a["estimate"], b["estimate"]], [a["ci_low"], b["ci_low"]],
                      [a["ci_high"], b["ci_high"]])
    assert out["p_value"] == pytest.approx(q, rel=1e-6)
    assert np.isnan(ratio_of_risk_ratios((0, 100, 50, 100), off)["estimate"])


def test_the_difference_of_differences_matches_a_hand_calculation():
    rng = np.random.default_rng(0)
    cells = [rng.normal(mu, 3.0, 50) for mu in (12.0, 8.0, 10.0, 9.0)]
    out = difference_of_differences((cells[0], cells[1]), (cells[2], cells[3]))
    means = [c.mean() for c in cells]
    se = np.sqrt(sum(c.var(ddof=1) / len(c) for c in cells))
    assert out["estimate"] == pytest.approx((means[0] - means[1]) - (means[2] - means[3]))
    assert out["ci_high"] - out["ci_low"] == pytest.approx(2 * 1.959964 * se, rel=1e-6)
    from scipy import stats
    assert out["p_value"] == pytest.approx(2 * stats.norm.sf(abs(out["estimate"]) / se))


def test_the_trial_reports_the_drug_effect_on_and_off_a_background():
    """A constructed patient table: the interactions table gives each level's risk ratio and
    the ratio of risk ratios of the hand calculation above; the report and CSV show them."""
    spec = load_trial(design(background=[entry()], endpoints=["mortality"],
                             subgroups=[{"name": "on steroid", "signal": "on_steroid"}],
                             published={}))
    cells = {("tocilizumab", 1): (30, 100), ("usual care", 1): (50, 100),
             ("tocilizumab", 0): (40, 100), ("usual care", 0): (40, 100)}
    parts = []
    for (arm, on), (events, n) in cells.items():
        died = np.r_[np.ones(events), np.zeros(n - events)]
        parts.append(pd.DataFrame({"arm": arm, "on_steroid": float(on), "baseline_imv": 0.0,
                                   "died": died, "death_day": np.where(died > 0, 5.0, np.nan),
                                   "died@tocilizumab": died, "died@usual care": died}))
    result = TrialResult(spec, pd.concat(parts, ignore_index=True),
                         {"screened": 400, "admitted": 400, "randomised": 400})
    table = result.interactions.set_index("level")
    assert table.loc["on", "estimate"] == pytest.approx(0.6)
    assert table.loc["off", "estimate"] == pytest.approx(1.0)
    assert table.loc["on", "treated"] == pytest.approx(0.3)
    assert table.loc["on", "control_value"] == pytest.approx(0.5)
    assert (table["n"] == 200).all()
    np.testing.assert_allclose(table["interaction"], 0.6)
    np.testing.assert_allclose(table["interaction_p"], 0.04238, atol=1e-4)
    sub = result.subgroups.set_index("level")  # the subgroup signal gives the same split
    assert sub.loc["1", "estimate"] == pytest.approx(0.6)
    shares = result.background_shares().set_index("arm")
    assert shares.loc["all arms", "share"] == pytest.approx(0.5)
    text = result.markdown()
    assert "## With and without background treatment" in text
    assert "0.60 (0.37–0.98)" in text and "ratio of risk ratios (on / off)" in text
    assert "declared 50 % of patients, received by 50.0 %" in text


def test_a_small_trial_with_a_background_runs_end_to_end(tmp_path):
    """A RECOVERY-like trial (tocilizumab vs usual care) with half the patients on a background
    antibody at randomisation: the shares in each arm are near the declared one, the CLI prints
    the interaction table and the report, CSV and patient table carry it."""
    path, out = tmp_path / "bg.yaml", tmp_path / "out"
    data = design(background=[entry()], subgroups=[{"name": "on steroid",
                                                   "signal": "on_steroid"}])
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["trial", str(path), "--n", "120", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "with and without background treatment" in result.output
    patients = pd.read_parquet(out / "patients.parquet")
    assert len(patients) == 120 and set(patients["on_steroid"]) == {0.0, 1.0}
    candidates = patients["candidate"].to_numpy()
    np.testing.assert_array_equal(patients["on_steroid"] > 0.5,
                                  drawn(load_trial(data), candidates)["steroid"])
    for _, group in patients.groupby("arm"):  # 60 per arm: 0.5 within 4 binomial SDs
        assert abs(group["on_steroid"].mean() - 0.5) < 4 * np.sqrt(0.25 / len(group))
    interactions = pd.read_csv(out / "interactions.csv")
    assert set(interactions["level"]) == {"on", "off"}
    assert interactions["n"].sum() == patients["died"].notna().sum()
    report = (out / "report.md").read_text()
    assert "## With and without background treatment" in report and "**steroid**" in report


def test_a_control_risk_calibration_keeps_the_background_shares_and_odds_ratio():
    """Stratified acceptance: the accepted patients have the target risk, the strata's shares
    as drawn and the odds ratio of death between strata unchanged (expected values from the
    acceptance probabilities; risk above and below the target)."""
    from il6sim.trial._background import stratified_acceptance

    rng = np.random.default_rng(1)
    keys = np.where(rng.uniform(size=20000) < 0.82, "c=1", "c=0").astype(object)
    for risk_on, risk_off, target in ((0.65, 0.85, 0.35), (0.10, 0.30, 0.35)):
        died = rng.uniform(size=len(keys)) < np.where(keys == "c=1", risk_on, risk_off)
        rates = stratified_acceptance(died, keys, target)
        kept, odds = {}, {}
        for key in ("c=1", "c=0"):
            d = died[keys == key]
            deaths, survivors = rates[key][0] * d.sum(), rates[key][1] * (~d).sum()
            kept[key] = (deaths, survivors)
            odds[key] = (deaths / survivors, d.sum() / (~d).sum())
        total = sum(a + b for a, b in kept.values())
        assert sum(kept["c=1"]) / total == pytest.approx((keys == "c=1").mean(), abs=1e-9)
        assert sum(a for a, _ in kept.values()) / total == pytest.approx(target, abs=1e-9)
        assert odds["c=1"][0] / odds["c=0"][0] == pytest.approx(odds["c=1"][1] / odds["c=0"][1])
        probabilities = np.array(list(rates.values()))
        assert (probabilities >= 0).all() and (probabilities <= 1 + 1e-12).all()
        assert np.isclose(probabilities, 1.0).any()  # as many patients kept as possible
    assert stratified_acceptance(np.zeros(10, bool), np.array(["c=1"] * 10, object), 0.3) is None
