"""Trial endpoints on the WHO scale: their statistics against hand calculations and
statsmodels/lifelines, the endpoints on a constructed course, published measures checked
against the endpoint's kind, per-endpoint follow-up, and a small trial end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, CoxPHFitter
from lifelines.statistics import logrank_test
from statsmodels.miscmodels.ordinal_model import OrderedModel
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.engine import SimulationResult
from il6sim.errors import InputError
from il6sim.trial import load_trial, run_trial
from il6sim.trial._endpoints import arm_endpoints
from il6sim.trial._stats import (
    cox_and_logrank,
    kaplan_meier,
    median_difference,
    median_time,
    odds_ratio,
    proportional_odds,
    risk_difference,
)


# ----------------------------------------------------------------------------- statistics
def test_the_proportional_odds_ratio_of_two_levels_is_the_2x2_odds_ratio():
    """With two levels the cumulative logit model is logistic regression: the ratio is the
    sample odds ratio of the better level and its SE Woolf's."""
    treated = np.r_[np.zeros(30), np.ones(20)]      # 30 of 50 at the better (lower) level
    control = np.r_[np.zeros(20), np.ones(30)]
    got = proportional_odds(treated, control)
    odds = (30 / 20) / (20 / 30)
    se = np.sqrt(1 / 30 + 1 / 20 + 1 / 20 + 1 / 30)
    assert got["estimate"] == pytest.approx(odds, rel=1e-4)
    assert got["ci_low"] == pytest.approx(odds * np.exp(-1.959964 * se), rel=1e-3)
    assert got["ci_high"] == pytest.approx(odds * np.exp(1.959964 * se), rel=1e-3)


def test_the_proportional_odds_ratio_matches_statsmodels_and_favours_the_better_arm():
    rng = np.random.default_rng(7)
    treated, control = rng.integers(0, 11, 120), rng.integers(2, 11, 100)
    got = proportional_odds(treated, control)
    y = pd.Series(pd.Categorical(np.r_[treated, control], ordered=True))
    x = pd.DataFrame({"treated": np.r_[np.ones(120), np.zeros(100)]})
    fit = OrderedModel(y, x, distr="logit").fit(method="bfgs", disp=False)
    assert got["estimate"] == pytest.approx(np.exp(-fit.params["treated"]), rel=1e-4)
    assert got["p_value"] == pytest.approx(fit.pvalues["treated"], rel=1e-3)
    assert got["estimate"] > 1 and got["ci_low"] < got["estimate"] < got["ci_high"]
    assert np.isnan(proportional_odds(np.full(5, 3.0), np.full(5, 3.0))["estimate"])
    assert np.isnan(proportional_odds(np.array([]), np.array([1.0, 2.0]))["estimate"])


def _competing(seed: int = 3, n: int = 80):
    """Times to improvement with deaths (never improving) and no other censoring."""
    rng = np.random.default_rng(seed)
    treated = np.r_[np.ones(n // 2, bool), np.zeros(n // 2, bool)]
    time = rng.exponential(np.where(treated, 8.0, 12.0))
    dead = rng.random(n) < 0.25
    event = ~dead & (time <= 28.0)
    return np.where(event, time, np.nan), event, treated, dead


def test_improvement_curves_are_one_minus_the_aalen_johansen_incidence():
    time, event, _treated, dead = _competing()
    curve = kaplan_meier(time, event, 28.0)
    death_time = np.random.default_rng(0).uniform(0, 28, len(time))
    duration = np.where(event, time, np.where(dead, death_time, 28.0))
    code = np.where(event, 1, np.where(dead, 2, 0))
    aj = AalenJohansenFitter(calculate_variance=False).fit(duration, code, event_of_interest=1)
    incidence = aj.cumulative_density_.iloc[:, 0]
    for day, survival in zip(curve["day"], curve["survival"], strict=True):
        assert 1 - survival == pytest.approx(incidence[incidence.index <= day].iloc[-1],
                                             abs=1e-12)


def test_the_fine_gray_ratio_is_cox_on_deaths_held_at_risk_with_robust_variance():
    time, event, treated, _dead = _competing()
    got = cox_and_logrank(time, event, treated, 28.0, robust=True)
    frame = pd.DataFrame({"days": np.where(event, time, 28.0), "event": event.astype(int),
                          "treated": treated.astype(int)})
    cox = CoxPHFitter().fit(frame, "days", "event", robust=True).summary.loc["treated"]
    assert got["estimate"] == pytest.approx(cox["exp(coef)"])
    assert got["ci_low"] == pytest.approx(cox["exp(coef) lower 95%"])
    plain = cox_and_logrank(time, event, treated, 28.0)
    assert plain["estimate"] == pytest.approx(got["estimate"])      # same point estimate
    assert plain["ci_low"] != pytest.approx(got["ci_low"])          # another variance
    arm, base = frame[frame.treated == 1], frame[frame.treated == 0]
    assert got["p_value"] == pytest.approx(logrank_test(arm.days, base.days, arm.event,
                                                        base.event).p_value)


def test_the_median_time_is_where_half_have_had_the_event():
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan, np.nan])
    event = np.isfinite(time)
    assert median_time(time, event, 28.0)[0] == 4.0                  # 4 of 7 by day 4
    assert np.isnan(median_time(time[:3], event[:3] & False, 28.0)[0])


def test_risk_difference_has_newcombes_interval():
    """Newcombe RG 1998 Stat Med 17:873, Table II example (a): 56/70 vs 48/80, method 10."""
    got = risk_difference(56, 70, 48, 80)
    assert got["estimate"] == pytest.approx(0.2)
    assert (round(got["ci_low"], 4), round(got["ci_high"], 4)) == (0.0524, 0.3339)


def test_odds_ratio_and_median_difference_by_hand():
    got = odds_ratio(30, 50, 20, 50)
    se = np.sqrt(1 / 30 + 1 / 20 + 1 / 20 + 1 / 30)
    assert got["estimate"] == pytest.approx(2.25)
    assert got["ci_high"] == pytest.approx(2.25 * np.exp(1.959964 * se), rel=1e-6)
    diff = median_difference(np.array([1.0, 5.0, 9.0]), np.array([0.0, 2.0, 3.0, 10.0]))
    assert diff["estimate"] == pytest.approx(5.0 - 2.5) and np.isnan(diff["ci_low"])


# ----------------------------------------------------------------------------- endpoints
OUTPUTS = {"pf_ratio": 450.0, "platelet_count": 250.0, "bilirubin_level": 10.0, "map": 90.0,
           "gcs": 15.0, "creatinine_level": 80.0, "il6": 2.0, "crp": 1.0,
           "ferritin_level": 100.0, "ldh_level": 180.0, "bacteria_site": 0.0,
           "bacteraemia": 0.0, "viral_load": 0.0, "classic_signal_leukocytes": 50.0}


def _course(pf: np.ndarray, time: np.ndarray) -> SimulationResult:
    values = np.stack([pf if k == "pf_ratio" else np.full(len(time), v)
                       for k, v in OUTPUTS.items()], axis=-1)[None]
    return SimulationResult(time=time, outputs=values, states=np.zeros((1, len(time), 0)),
                            parameters=np.zeros((1, 0)), output_names=list(OUTPUTS),
                            output_units=[""] * len(OUTPUTS), state_names=[], param_names=[],
                            status=["ok"], doses=pd.DataFrame())


def test_the_who_endpoints_of_a_constructed_course():
    """Ventilated with P/F 120 (WHO 8) to day 3, 170 on the ventilator (7) to day 5, oxygen
    (5) to day 8, then well: discharged 24 h later."""
    time = np.arange(0, 30 * 24 + 1, 2.0)
    day = time / 24
    pf = np.select([day < 3, day < 5, day < 8], [120.0, 170.0, 250.0], 450.0)
    ends = arm_endpoints(_course(pf, time), threshold_left=np.array([1e9]),
                         rest_signal=np.array([50.0]), infection_uniform=np.array([0.99]),
                         followup_h=28 * 24.0).iloc[0]
    assert ends["who_day0"] == 8
    assert ends["improvement_day"] == pytest.approx(5.0)              # 8 -> 5 on weaning
    assert ends["recovery_day"] == pytest.approx(8.0)                 # NIAID 3: criteria met
    assert ends["discharge_day"] == pytest.approx(9.0)
    assert ends["ordinal_day14"] == 0 and ends["ordinal_day28"] == 0
    assert ends["days_alive_free_of_ventilation"] == 23               # off the ventilator day 5
    assert ends["died"] == 0 and ends["imv_or_death"] == 1


def test_a_death_counts_as_never_improving_and_ends_ventilator_free_days():
    time = np.arange(0, 30 * 24 + 1, 2.0)
    pf = np.where(time < 48, 250.0, 120.0)                            # oxygen, then ventilated
    ends = arm_endpoints(_course(pf, time), threshold_left=np.array([1e-6]),
                         rest_signal=np.array([50.0]), infection_uniform=np.array([0.99]),
                         followup_h=28 * 24.0).iloc[0]
    assert ends["died"] == 1 and ends["ordinal_day14"] == 10
    assert ends["improved"] == 0 and np.isnan(ends["improvement_day"])
    assert ends["recovered"] == 0
    assert ends["days_alive_free_of_ventilation"] == 0


def test_each_endpoint_is_read_within_its_own_followup():
    time = np.arange(0, 61 * 24 + 1, 2.0)
    pf = np.where(time < 40 * 24, 250.0, 450.0)                       # well from day 40
    ends = arm_endpoints(_course(pf, time), threshold_left=np.array([1e9]),
                         rest_signal=np.array([50.0]), infection_uniform=np.array([0.99]),
                         followup_h=28 * 24.0, horizons={"discharge": 60 * 24.0}).iloc[0]
    assert ends["discharge_day"] == pytest.approx(41.0)
    assert ends["recovered"] == 0                                     # 28 d: not yet


# ----------------------------------------------------------------------------- trial files
SHIPPED = load_trial("recovery-tocilizumab")


def design(**changes) -> dict:
    data = SHIPPED.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in ("anchor_control_risk", "background", "subgroups"):
        data.pop(key, None)
    data.update(changes)
    return data


@pytest.mark.parametrize(("published", "field", "message"), [
    ({"mortality": {"ratio": -0.04, "measure": "risk difference"}}, "published.mortality.ratio",
     "not a positive number"),
    ({"mortality": {"ratio": 0.96, "measure": "risk difference"}}, "published.mortality.ratio",
     "a risk difference is a difference, not a ratio; fix: write difference: 0.96"),
    ({"mortality": {"difference": 0.9, "measure": "risk ratio"}},
     "published.mortality.difference", "a risk ratio is a ratio, not a difference"),
    ({"mortality": {"ratio": 1.5, "measure": "proportional odds ratio"}},
     "published.mortality.measure", "is not a measure of mortality; fix: use one of risk ratio"),
    ({"organ_support_free_days": {"ratio": 1.6, "measure": "risk ratio"}},
     "published.organ_support_free_days.measure", "difference in mean days"),
    ({"mortality": {"ratio": 0.9, "measure": "relative hazard"}}, "published.mortality.measure",
     "unknown measure 'relative hazard'; fix: use one of risk ratio"),
    ({"mortality": {"ratio": 0.9, "ci": [1.1, 0.8]}}, "published.mortality.ci", "not [low, high]"),
])
def test_a_published_measure_that_does_not_fit_its_endpoint_is_refused(tmp_path, published,
                                                                       field, message):
    import yaml

    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(design(published=published)))
    with pytest.raises(InputError) as caught:
        load_trial(str(path))
    text = str(caught.value)
    assert text.startswith(f"trial '{path}', field '{field}': "), text
    assert message in text and "\n" not in text


def test_published_measures_of_each_kind_are_accepted():
    spec = load_trial(design(
        endpoints=["mortality", "ordinal_day28", "time_to_recovery",
                   "organ_support_free_days"],
        published={"mortality": {"difference": -0.04, "ci": [-0.07, -0.01],
                                 "measure": "Risk Difference"},
                   "ordinal_day28": {"ratio": 1.5, "measure": "proportional odds ratio"},
                   "time_to_recovery": {"ratio": 1.29, "ci": [1.12, 1.49],
                                        "measure": "recovery rate ratio", "control_days": 15,
                                        "treated_days": 10},
                   "organ_support_free_days": {"ratio": 1.64, "measure":
                                               "proportional odds ratio"}}))
    assert spec.published["mortality"].measure == "risk difference"
    assert spec.published["mortality"].value == -0.04


@pytest.mark.parametrize(("changes", "message"), [
    ({"endpoint_followup": {"mortality": "90 d"}, "endpoints": ["discharge"],
      "primary": "discharge"}, "field 'endpoint_followup.mortality': 'mortality' is not among"),
    ({"endpoint_followup": {"ordinal_day14": "20 d"}, "endpoints": ["ordinal_day14"],
      "primary": "ordinal_day14"}, "is read on day 14 whatever the follow-up"),
    ({"endpoint_followup": {"mortality": "soon"}}, "field 'endpoint_followup.mortality'"),
    ({"primary": "happiness"}, "field 'primary': unknown endpoint 'happiness'; fix: use one of"),
])
def test_bad_endpoint_followup_and_primary_get_one_line(changes, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_trial(design(**changes))


def test_the_horizon_is_the_longest_followup():
    spec = load_trial(design(followup="21 d", endpoint_followup={"mortality": "90 d"},
                             endpoints=["mortality", "ordinal_day28"], primary="mortality"))
    assert spec.followup_for("discharge") == 21 * 24 and spec.followup_for("mortality") == 90 * 24
    assert spec.followup_for("ordinal_day28") == 28 * 24 and spec.horizon_h == 90 * 24


# ----------------------------------------------------------------------------- end to end
ORDINAL = design(
    endpoints=["mortality", "ordinal_day14", "ordinal_day28", "time_to_improvement",
               "time_to_recovery", "days_alive_free_of_ventilation", "discharge"],
    primary="ordinal_day28", endpoint_followup={"mortality": "45 d"},
    published={"ordinal_day28": {"ratio": 1.2, "ci": [0.9, 1.5],
                                 "measure": "proportional odds ratio"},
               "time_to_recovery": {"ratio": 1.29, "ci": [1.12, 1.49],
                                    "measure": "recovery rate ratio", "control_days": 15,
                                    "treated_days": 10},
               "discharge": {"difference": 0.07, "measure": "risk difference"}})


@pytest.fixture(scope="module")
def ordinal_trial(tmp_path_factory):
    out = tmp_path_factory.mktemp("ordinal")
    return run_trial(ORDINAL, n_patients=40, out_dir=out), out


def test_a_small_trial_reports_every_who_endpoint(ordinal_trial):
    result, _out = ordinal_trial
    patients = result.patients
    arms = result.arms.set_index(["endpoint", "arm"])
    assert set(result.design.endpoints) == set(arms.index.get_level_values(0))
    distribution = result.ordinal
    for (endpoint, arm), part in distribution.groupby(["endpoint", "arm"]):
        assert part["count"].sum() == arms.loc[(endpoint, arm), "n"]
    assert patients[["who_day0", "ordinal_day14", "ordinal_day28"]].isin(range(11)).all().all()
    died = patients["died"] > 0.5
    assert (patients.loc[died, "death_day"] <= 45).all()
    assert (patients.loc[patients["discharged"] > 0.5, "discharge_day"] <= 28).all()
    late = died & (patients["death_day"] > 28)
    assert (patients.loc[died & ~late, "ordinal_day28"] == 10).all()


def test_the_trial_statistics_are_the_libraries_on_the_patients(ordinal_trial):
    result, _out = ordinal_trial
    patients, rows = result.patients, result.comparisons.set_index(["endpoint", "measure"])
    treated = (patients["arm"] == "tocilizumab").to_numpy()
    y = pd.Series(pd.Categorical(patients["ordinal_day28"], ordered=True))
    fit = OrderedModel(y, pd.DataFrame({"treated": treated.astype(float)}), distr="logit"
                       ).fit(method="bfgs", disp=False)
    po = rows.loc[("ordinal_day28", "proportional odds ratio")]
    assert po["estimate"] == pytest.approx(np.exp(-fit.params["treated"]), rel=1e-3)
    assert po["published"] == 1.2 and po["published_measure"] == "proportional odds ratio"
    improved = patients["recovered"].to_numpy(float) > 0.5
    frame = pd.DataFrame({"days": np.where(improved, patients["recovery_day"], 28.0),
                          "event": improved.astype(int), "treated": treated.astype(int)})
    cox = CoxPHFitter().fit(frame, "days", "event", robust=True).summary.loc["treated"]
    fg = rows.loc[("time_to_recovery", "recovery rate ratio (Fine-Gray; log-rank p)")]
    assert fg["estimate"] == pytest.approx(cox["exp(coef)"], rel=1e-6)
    assert fg["published"] == 1.29
    rd = rows.loc[("discharge", "risk difference")]                   # asked for by the file
    share = patients.groupby("arm")["discharged"].mean()
    assert rd["estimate"] == pytest.approx(share["tocilizumab"] - share["usual care"])
    assert rd["published"] == 0.07
    vfd = rows.loc[("days_alive_free_of_ventilation",
                    "difference in mean days (Mann-Whitney p)")]
    means = patients.groupby("arm")["days_alive_free_of_ventilation"].mean()
    assert vfd["estimate"] == pytest.approx(means["tocilizumab"] - means["usual care"])


def test_report_and_console_name_each_measure(ordinal_trial, tmp_path):
    import yaml

    result, out = ordinal_trial
    text = result.markdown()
    assert "patients per level" in text and "45-day mortality" in text
    assert "| proportional odds ratio |" in text
    assert "1.29 (1.12–1.49) recovery rate ratio" in text
    assert "## Days beside the published trial" in text
    path = tmp_path / "ordinal.yaml"
    path.write_text(yaml.safe_dump(ORDINAL))
    run = CliRunner().invoke(app, ["trial", str(path), "--n", "40", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "ratio (95 % CI)" not in run.output
    for name in ("proportional odds ratio", "recovery rate ratio", "improvement rate ratio",
                 "risk difference", "difference in mean days", "(0 uninfected ... 10 dead)"):
        assert name in run.output
    assert (out / "ordinal.csv").is_file() and (out / "improvement.png").is_file()
