"""Command line: biomarkers, prognosis fit/predict on a throwaway typer app."""

from __future__ import annotations

import re

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
    assert model.exists()

    predictions = tmp_path / "pred.csv"
    result = run(app, "prognosis", "predict", model, cohort_csv, "--out", predictions)
    assert result.exit_code == 0, result.output
    assert "AUC" in result.output and "Brier score" in result.output
    assert "Calibration (quintiles of predicted risk)" in result.output
    said = " ".join(result.output.split())
    assert "warning: 40 of 40 patients" in said and "in the model's training data" in said
    table = pd.read_csv(predictions)
    assert list(table.columns) == ["patient_id", "probability_death", "predicted_death",
                                   "n_labs", "outcome"]
    assert len(table) == 40 and table["probability_death"].between(0, 1).all()
    assert (table["n_labs"] == 7).all()

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
    assert summary.loc["il6", "n"] == 117 and summary.loc["il6", "n_died"] == 49
    assert summary.loc["il6", "auc"] == pytest.approx(0.876, abs=0.001)
    assert summary.loc["ldh", "auc"] > summary.loc["il6", "auc"]
    cv = pd.read_csv(out / "prognosis_cv.csv").iloc[0]
    assert cv["auc"] >= 0.95
    baselines = pd.read_csv(out / "baselines.csv").set_index("method")
    il6_alone = baselines.loc["IL-6 alone (patients with IL-6)", "auc"]
    model_same_patients = baselines.loc["Il6Prognosis (patients with IL-6, out-of-fold)", "auc"]
    assert model_same_patients > il6_alone
    assert re.search(r"IL-6 AUC \(95% CI\)\s+│ 0\.876 \(", result.output)


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
