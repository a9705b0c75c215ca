"""Command line: biomarkers, prognosis fit/predict on a throwaway typer app."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import typer
from cohort_helpers import HEADER, write_csv
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from il6sim.cohort import load_cohort
from il6sim.cohort.cli import register

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    register(app)
    return app


def run(app, *args):
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_error(result, words):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output + result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["biomarkers"], ["prognosis", "fit"],
                                     ["prognosis", "predict"], ["prognosis"]])
def test_every_command_help_shows_an_example(app, command):
    result = run(app, *command, "--help")
    assert result.exit_code == 0
    assert "Example: il6sim" in result.output


def test_biomarkers_on_synthetic_file(app, cohort_csv, tmp_path):
    out = tmp_path / "report"
    result = run(app, "biomarkers", cohort_csv, "--out", out, "--bootstrap", 10,
                 "--cv-repeats", 1)
    assert result.exit_code == 0, result.output
    assert "No data problems found." in result.output
    assert "IL-6 AUC (95% CI)" in result.output and "Il6Prognosis grouped-CV AUC" in result.output
    for name in ("report.md", "report.html", "cohort_roc.png", "cohort_km_il6.png",
                 "cohort_time_auc.png", "cohort_prognosis.png", "auc.csv", "cox.csv",
                 "problems.csv", "baselines.csv"):
        assert (out / name).stat().st_size > 0, name
    auc = pd.read_csv(out / "auc.csv").set_index("marker")
    X, y = load_cohort(cohort_csv).dataset(48)
    assert auc.loc["il6", "auc"] == pytest.approx(roc_auc_score(y, X["il6"]))
    assert auc.loc["lymphocyte_pct", "auc"] == pytest.approx(
        roc_auc_score(y, -X["lymphocyte_pct"]))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<table>" in html and 'src="cohort_roc.png"' in html


def test_fit_then_predict_with_and_without_outcomes(app, cohort_csv, rows, tmp_path):
    model = tmp_path / "model.skops"
    result = run(app, "prognosis", "fit", cohort_csv, "--out", model, "--cv-repeats", 1)
    assert result.exit_code == 0, result.output
    assert "Grouped CV (1×5-fold, by patient): AUC" in result.output
    assert "Calibration (grouped CV): observed 50.0%; recalibrated: mean predicted" in " ".join(
        result.output.split())
    assert model.exists()
    assert (tmp_path / "model_reliability.png").stat().st_size > 10_000

    predictions = tmp_path / "pred.csv"
    result = run(app, "prognosis", "predict", model, cohort_csv, "--out", predictions)
    assert result.exit_code == 0, result.output
    assert "AUC" in result.output and "Brier score" in result.output
    assert "Calibration (quintiles of predicted risk)" in result.output
    said = " ".join(result.output.split())
    assert "warning: 40 of 40 patients" in said and "in the model's training data" in said
    assert "Calibration: mean predicted" in said and "slope" in said
    assert (tmp_path / "pred_reliability.png").stat().st_size > 10_000
    table = pd.read_csv(predictions)
    assert list(table.columns) == ["patient_id", "probability_death", "probability_death_raw",
                                   "predicted_death", "n_labs", "scored", "outcome"]
    assert len(table) == 40 and table["probability_death"].between(0, 1).all()
    assert table["probability_death_raw"].between(0, 1).all()
    assert (table["n_labs"] == 7).all() and (table["scored"] == 1).all()

    no_outcome = write_csv(tmp_path / "new.csv", rows,
                           [c for c in HEADER if c not in ("outcome", "Discharge time")])
    result = run(app, "prognosis", "predict", model, no_outcome, "--out", tmp_path / "p2.csv")
    assert result.exit_code == 0, result.output
    assert "No outcomes in the file" in result.output
    again = pd.read_csv(tmp_path / "p2.csv")
    assert again["outcome"].isna().all()
    np.testing.assert_allclose(again["probability_death"], table["probability_death"])


def test_errors_are_one_line_with_exit_code_2(app, cohort_csv, rows, tmp_path):
    assert_clean_error(run(app, "biomarkers", tmp_path / "none.csv", "--out", tmp_path),
                       "not found")
    no_id = write_csv(tmp_path / "noid.csv", rows, [c for c in HEADER if c != "PATIENT_ID"])
    assert_clean_error(run(app, "prognosis", "fit", no_id, "--out", tmp_path / "m.skops"),
                       "required column 'PATIENT_ID'")
    assert_clean_error(run(app, "prognosis", "predict", cohort_csv, cohort_csv),
                       "is not an il6sim prognosis model file")
    assert_clean_error(run(app, "prognosis", "fit", cohort_csv, "--method", "forest"),
                       "--method 'forest' is not known")


def test_biomarkers_on_shipped_cohort(app, tmp_path):
    out = tmp_path / "shipped"
    result = run(app, "biomarkers", "--out", out, "--bootstrap", 10, "--cv-repeats", 1)
    assert result.exit_code == 0, result.output
    assert "156 data problems" in result.output
    summary = pd.read_csv(out / "auc.csv").set_index("marker")
    # one patient's only IL-6 in the first 48 h is dated after death: not a baseline
    assert summary.loc["il6", "n"] == 116 and summary.loc["il6", "n_died"] == 48
    assert summary.loc["il6", "auc"] == pytest.approx(0.873, abs=0.001)
    assert summary.loc["ldh", "auc"] > summary.loc["il6", "auc"]
    cv = pd.read_csv(out / "prognosis_cv.csv").iloc[0]
    assert cv["auc"] >= 0.95
    baselines = pd.read_csv(out / "baselines.csv").set_index("method")
    il6_alone = baselines.loc["IL-6 alone (patients with IL-6)", "auc"]
    model_same_patients = baselines.loc["Il6Prognosis (patients with IL-6, out-of-fold)", "auc"]
    assert model_same_patients > il6_alone
    assert re.search(r"IL-6 AUC \(95% CI\)\s+│ 0\.873 \(", result.output)
    assert (out / "cohort_reliability.png").stat().st_size > 10_000
    assert "Il6Prognosis grouped-CV calibration" in result.output
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "16 patients without any laboratory value in the first 48 h" in text
    assert "| recalibrated (default) |" in text and "cohort_reliability.png" in text


def test_biomarkers_without_il6_column_skips_il6_sections(app, rows, tmp_path):
    path = write_csv(tmp_path / "no_il6.csv", rows, [c for c in HEADER if c != "Interleukin 6"])
    out = tmp_path / "report"
    result = run(app, "biomarkers", path, "--out", out, "--bootstrap", 10, "--cv-repeats", 1)
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "survival by IL-6 and IL-6 baselines skipped" in text
    assert "## Survival by IL-6" not in text
    assert not (out / "cohort_km_il6.png").exists()
    assert "il6" not in set(pd.read_csv(out / "auc.csv")["marker"])


def test_biomarkers_needs_both_outcomes(app, rows, tmp_path):
    for row in rows:
        row["outcome"] = "0" if int(row["PATIENT_ID"]) > 4 else row["outcome"]
    path = write_csv(tmp_path / "few.csv", rows, HEADER)
    assert_clean_error(run(app, "biomarkers", path, "--out", tmp_path / "r"),
                       "needs at least 5 patients who died and 5 who survived")


# --------------------------------------------------------------------------- hygiene (issue 15)
def test_predict_does_not_score_a_patient_without_a_lab_in_the_window(app, cohort_csv, rows,
                                                                      tmp_path):
    """Patient 1 died 3 h after admission (its samples are dated after death); patient 2's
    samples all come after the 48 h window: neither is scored, both are flagged and warned."""
    model = tmp_path / "model.skops"
    assert run(app, "prognosis", "fit", cohort_csv, "--out", model, "--cv-repeats", 0
               ).exit_code == 0
    time = "%Y-%m-%d %H:%M:%S"
    for row in rows:
        admission = datetime.strptime(row["Admission time"], time)
        if row["PATIENT_ID"] == "1":
            row["Discharge time"] = (admission + timedelta(hours=3)).strftime(time)
        if row["PATIENT_ID"] == "2":
            taken = datetime.strptime(row["RE_DATE"], time) + timedelta(days=3)
            row["RE_DATE"] = taken.strftime(time)
    new = write_csv(tmp_path / "new.csv", rows, HEADER)
    out = tmp_path / "pred.csv"
    result = run(app, "prognosis", "predict", model, new, "--out", out)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert ("warning: 2 of 40 patients have no laboratory value within 48 h of admission "
            "(before discharge or death) and are not scored") in said
    assert "Predictions for 38 of 40 patients" in said
    table = pd.read_csv(out).set_index("patient_id")
    assert table.loc[[1, 2], "scored"].tolist() == [0, 0]
    assert table.loc[[1, 2], "probability_death"].isna().all()
    assert table.loc[[1, 2], "predicted_death"].isna().all()
    assert table.loc[[1, 2], "n_labs"].tolist() == [0, 0]
    assert table.drop(index=[1, 2])["probability_death"].notna().all()
    assert "Outcomes known for 38 scored patients" in said


def test_fit_leaves_out_patients_without_a_lab_in_the_window(app, rows, tmp_path):
    time = "%Y-%m-%d %H:%M:%S"
    for row in rows:
        if row["PATIENT_ID"] in ("3", "4"):
            admission = datetime.strptime(row["Admission time"], time)
            row["Admission time"] = (admission - timedelta(days=5)).strftime(time)
    path = write_csv(tmp_path / "c.csv", rows, HEADER)
    result = run(app, "prognosis", "fit", path, "--out", tmp_path / "m.skops",
                 "--cv-repeats", "0")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "note: 2 patients without any laboratory value in the first 48 h" in said
    assert "Model fitted on 38 patients" in said


def test_missing_column_error_names_the_option_that_fixes_it(app, rows, tmp_path):
    renamed = [{("ID" if k == "PATIENT_ID" else k): v for k, v in row.items()} for row in rows]
    path = write_csv(tmp_path / "c.csv", renamed)
    model = tmp_path / "m.skops"
    result = run(app, "prognosis", "fit", path, "--out", model, "--cv-repeats", 0)
    assert_clean_error(result, "required column 'PATIENT_ID' (patient_id) is missing; fix:")
    assert "--column patient_id=" in result.stderr
    result = run(app, "prognosis", "fit", path, "--out", model, "--cv-repeats", 0,
                 "--column", "patient_id=ID")
    assert result.exit_code == 0, result.output
    result = run(app, "prognosis", "predict", model, path, "--out", tmp_path / "p.csv",
                 "--column", "patient_id=ID")
    assert result.exit_code == 0, result.output
    assert_clean_error(run(app, "prognosis", "fit", path, "--column", "patient_id"),
                       "--column 'patient_id' is not NAME=HEADER; fix:")
    assert_clean_error(run(app, "biomarkers", path, "--column", "interleukin=ID",
                           "--out", tmp_path / "r"), "'interleukin' is not a known name; fix:")
    assert_clean_error(run(app, "prognosis", "fit", path, "--column", "patient_id=NoSuch"),
                       "header 'NoSuch' (for 'patient_id') is not in the file; fix:")
