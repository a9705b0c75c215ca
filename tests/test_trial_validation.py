"""The validation trials (ACTT-1, COVACTA, EMPACTA): trial files of published designs that
nothing in il6sim was calibrated to. Each file loads and validates, every published result is
held out (``role: checked``, no ``anchor_control_risk``), and a small seeded run produces every
declared endpoint and prints each published result beside the simulated one on the same
measure. The slow test runs them at 600 patients and checks the comparison is complete; it
asserts no agreement with the published numbers (the table in docs/trials.md reports that).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from il6sim.trial import load_trial, run_trial
from il6sim.trial._outcomes import compare_kind
from il6sim.trial._published import FINE_GRAY, simulated_measure

VALIDATION = ("actt-1", "covacta", "empacta")


@pytest.mark.parametrize("name", VALIDATION)
def test_validation_trial_files_load_and_hold_every_result_out(name):
    design = load_trial(name)
    assert design.anchor_control_risk is None, "a validation trial must not be anchored"
    results = [*design.published.values(),
               *(p for s in design.subgroups for p in s.published.values())]
    assert results and all(r.role == "checked" for r in results)
    assert set(design.published) <= set(design.endpoints)
    assert design.primary in design.published


def test_actt1_is_the_published_design():
    """1:1 remdesivir 10 days vs placebo, time to recovery primary, 1062 patients, the recovery
    rate ratio by NIAID score at baseline as published (Beigel 2020, Table 2)."""
    design = load_trial("actt-1")
    assert design.size == 541 + 521
    assert [(a.name, a.ratio) for a in design.arms] == [("placebo", 1), ("remdesivir", 1)]
    assert design.arms[1].treatment.regimen == "remdesivir-10d"
    assert design.primary == "time_to_recovery"
    levels = design.subgroups[0].published
    assert {k: v.ratio for k, v in levels.items()} == {
        "4 (no oxygen)": 1.29, "5 (oxygen)": 1.45, "6 (high flow or NIV)": 1.09,
        "7 (ventilation or ECMO)": 0.98}


def test_covacta_is_the_published_design():
    design = load_trial("covacta")
    assert design.size == 294 + 144
    assert [(a.name, a.ratio) for a in design.arms] == [("placebo", 1), ("tocilizumab", 2)]
    assert design.primary == "ordinal_day28"
    assert design.published["mortality"].measure == "risk difference"


def _check_like_for_like(result):
    """Every declared endpoint has a comparison, and each published result sits on the row of
    the simulated measure it asks for, with a finite simulated estimate."""
    comparisons = result.comparisons
    assert set(result.design.endpoints) <= set(comparisons.endpoint)
    for endpoint, published in result.design.published.items():
        rows = comparisons[(comparisons.endpoint == endpoint)
                           & comparisons.published_measure.notna()]
        assert list(rows.published_measure) == [published.measure], endpoint
        assert rows.measure.iloc[0] == simulated_measure(endpoint, published)
        assert np.isfinite(rows.estimate.iloc[0]), endpoint
        if published.value is not None:
            assert rows.published.iloc[0] == pytest.approx(published.value)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return {name: run_trial(name, n_patients=60, out_dir=tmp_path_factory.mktemp(name))
            for name in VALIDATION}


@pytest.mark.parametrize("name", VALIDATION)
def test_a_small_run_compares_each_published_result_like_for_like(small, name):
    result = small[name]
    assert len(result.patients) == 60
    _check_like_for_like(result)


def test_actt1_subgroups_report_the_recovery_rate_ratio_beside_the_published(small):
    """A time-to-event primary is analysed per subgroup level by its Fine-Gray rate ratio, and
    the published ratio of each NIAID level is printed beside it."""
    result = small["actt-1"]
    sub = result.subgroups
    niaid = sub[sub.subgroup == "NIAID ordinal score at baseline"]
    assert list(niaid.level) == ["4 (no oxygen)", "5 (oxygen)", "6 (high flow or NIV)",
                                 "7 (ventilation or ECMO)"]
    assert niaid.published.tolist() == [1.29, 1.45, 1.09, 0.98]
    assert niaid.n.sum() == len(result.patients)
    # each level's ratio is the trial's own Fine-Gray statistic on that level's patients
    support = {"4 (no oxygen)": 0, "5 (oxygen)": 1, "6 (high flow or NIV)": 2,
               "7 (ventilation or ECMO)": 3}
    level = niaid.loc[niaid.n.idxmax()]
    data = result.patients[result.patients.baseline_respiratory_support
                           == support[level.level]]
    expected = compare_kind("time_to_recovery", data[data.arm == "remdesivir"],
                            data[data.arm == "placebo"], "", 28.0)[0]
    assert expected["measure"] == FINE_GRAY["time_to_recovery"]
    assert level.estimate == pytest.approx(expected["estimate"])


@pytest.mark.slow
@pytest.mark.parametrize("name", VALIDATION)
def test_validation_trials_at_600_patients(tmp_path, name):
    """The size the docs table uses: every comparison present and finite."""
    result = run_trial(name, n_patients=600, out_dir=tmp_path)
    _check_like_for_like(result)
    assert isinstance(result.comparisons, pd.DataFrame)


@pytest.mark.parametrize("name", ["covacta", "empacta"])
def test_tocilizumab_trials_give_the_conditional_second_dose(small, name):
    """COVACTA and EMPACTA allowed a second infusion 8-24 h after the first if the patient
    worsened or did not improve: it is declared, recorded per patient and counted per arm."""
    doses = small[name].second_doses()
    assert list(doses.arm) == ["tocilizumab"]
    row = doses.iloc[0]
    assert 0 <= row.given <= row.treated
    assert row.given == int((small[name].patients.query("arm == 'tocilizumab'")
                             .second_dose > 0.5).sum())


#: COVACTA's share of patients given the second infusion: "approximately one quarter" (Rosas IO
#: 2021 N Engl J Med 384:1503, abstract), and how far the simulated share may be from it.
COVACTA_SECOND_DOSE, SECOND_DOSE_TOLERANCE = 0.25, 0.10


def test_covacta_gives_the_second_dose_about_as_often_as_published(tmp_path):
    """COVACTA's rule (a second infusion 8-24 h after the first if signs or symptoms worsened,
    read as the WHO level one category above that at the first dose) gives it to about the
    published quarter of the treated, at the published size (seeded: 47 of 292). Reading "did
    not improve" as a WHO level not lower than at the first dose gave it to 94 %."""
    result = run_trial("covacta", n_patients=438, out_dir=tmp_path)
    row = result.second_doses().set_index("arm").loc["tocilizumab"]
    assert row.treated > 250
    assert abs(row.given / row.treated - COVACTA_SECOND_DOSE) <= SECOND_DOSE_TOLERANCE


def test_an_icu_design_with_every_rule_runs_from_a_file_and_reports_like_for_like(tmp_path):
    """Issue 19's whole design in one file: entry within 24 h of starting organ support (ICU),
    2:1 allocation, a second dose 8-24 h later only without improvement, an ordinal primary with
    its published proportional-odds ratio (COVACTA's, used here only as a value to compare),
    run from the YAML file through the command line; the report gives the simulated PO ratio on
    the published measure and the share given the second dose."""
    import yaml
    from typer.testing import CliRunner

    from il6sim.cli import app

    data = load_trial("covacta").model_dump(mode="json", by_alias=True, exclude_none=True)
    data["name"] = "icu-organ-support"
    data["enrolment"] = {"after": "organ_support", "window": "24 h",
                         "exclusion": [{"signal": "imv", "is": True,
                                        "label": "already on invasive ventilation"}]}
    data.pop("subgroups")
    path = tmp_path / "icu.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["trial", str(path), "--n", "30", "--out", str(out)])
    assert run.exit_code in (0, 1), run.output  # 1: a solver failure, said in one line
    result = run_trial(path, n_patients=30, out_dir=out)  # resumes the same run
    patients = result.patients
    assert (patients["baseline_organ_support"] == 1).all()  # randomised as support starts
    assert (patients["baseline_imv"] == 0).all()
    assert (patients["arm"] == "tocilizumab").sum() == 20  # 2:1 in permuted blocks
    treated = patients[patients["arm"] == "tocilizumab"]
    assert set(treated["second_dose"].dropna().unique()) <= {0.0, 1.0}
    assert patients.loc[patients["arm"] == "placebo", "second_dose"].fillna(0).eq(0).all()
    _check_like_for_like(result)
    row = result.comparisons.query("endpoint == 'ordinal_day28' and published_measure.notna()")
    assert row.measure.iloc[0] == "proportional odds ratio" and row.published.iloc[0] == 1.19
    report = (out / "report.md").read_text()
    assert "proportional odds ratio" in report and "second dose" in report.lower()
