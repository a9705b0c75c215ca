"""The validation scorecard (``il6sim validate``, :mod:`il6sim.validation`).

- the judgements on a row (direction of a ratio, interval overlap, pass) on hand-made values;
- the roles read from the trial files, the target files and the parameters' ``calibrated_to``;
- a target set computed, stored and read back (resume), and the rows it gives equal to the
  structure read from the files;
- a trial file of one's own scored unchanged through the command line, at a small size, and
  resumed from its folder;
- options refused before any work (one line, exit code 2);
- docs/validation.md has the current command's columns and rows, its endotoxemia rows are what
  the model gives now, and the README's summary is the document's.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.validation import (
    ScoreRow,
    _scorecard,
    calibrated_names,
    direction_class,
    intervals_overlap,
    planned_rows,
    published_entries,
    summarise,
    target_set_names,
)
from il6sim.validation._format import MARKDOWN_COLUMNS, markdown_rows, summary_line
from il6sim.validation._targets import calibration_rows, planned_target_rows

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "validation.md"
README = ROOT / "README.md"
TRIALS = ROOT / "src" / "il6sim" / "data" / "trials"
NAN = math.nan

runner = CliRunner()


def run_cli(*args):
    return runner.invoke(app, [str(a) for a in args])


# ----------------------------------------------------------------------------- judgements
@pytest.mark.parametrize("point, low, high, expected", [
    (0.85, 0.76, 0.94, "<1"), (1.22, 1.12, 1.33, ">1"), (0.92, 0.84, 1.01, "~1"),
    (0.78, NAN, NAN, "<1"), (1.3, NAN, NAN, ">1"), (1.0, NAN, NAN, "~1"), (NAN, NAN, NAN, ""),
])
def test_direction_class(point, low, high, expected):
    assert direction_class(point, low, high) == expected


def test_a_difference_is_judged_against_zero():
    assert direction_class(1.5, 0.2, 2.8, null=0.0) == ">0"
    assert direction_class(-0.5, -1.0, 0.3, null=0.0) == "~0"
    days = ScoreRow(source="trial t", quantity="q", role="checked", role_from="test",
                    tolerance="", predicted=1.2, predicted_low=0.1, predicted_high=2.3,
                    published=2.0, published_low=0.5, published_high=3.5, ratio=True, null=0.0)
    assert (days.direction, days.published_direction, days.passed) == ("agree", ">0", True)


@pytest.mark.parametrize("predicted, published, expected", [
    ((1.0, 0.8, 1.2), (0.85, 0.76, 0.94), True),
    ((1.3, 1.1, 1.5), (0.85, 0.76, 0.94), False),
    ((0.83, 0.6, 1.15), (0.78, NAN, NAN), True),      # published point inside the CI
    ((0.5, 0.3, 0.7), (0.78, NAN, NAN), False),
    ((2.0, NAN, NAN), (1.0, 0.5, 3.0), True),         # model value in the accepted range
    ((2.0, NAN, NAN), (1.0, NAN, NAN), None),
])
def test_intervals_overlap(predicted, published, expected):
    assert intervals_overlap(predicted, published) is expected


def _ratio_row(predicted, published, role="checked"):
    return ScoreRow(source="trial t", quantity="q", role=role, role_from="test",
                    tolerance="", predicted=predicted[0], predicted_low=predicted[1],
                    predicted_high=predicted[2], published=published[0],
                    published_low=published[1], published_high=published[2], ratio=True)


def test_a_trial_ratio_passes_only_with_the_same_direction_and_overlapping_intervals():
    same = _ratio_row((0.8, 0.7, 0.9), (0.85, 0.76, 0.94))
    assert (same.direction, same.overlap, same.passed) == ("agree", True, True)
    wide = _ratio_row((1.0, 0.7, 1.3), (0.85, 0.76, 0.94))  # includes 1: not "< 1"
    assert (wide.direction, wide.overlap, wide.passed) == ("disagree", True, False)
    assert (wide.predicted_direction, wide.published_direction) == ("~1", "<1")
    apart = _ratio_row((0.5, 0.4, 0.6), (0.85, 0.76, 0.94))
    assert (apart.direction, apart.overlap, apart.passed) == ("agree", False, False)
    missing = _ratio_row((NAN, NAN, NAN), (0.85, 0.76, 0.94))
    assert (missing.direction, missing.passed) == ("", False)
    no_effect = _ratio_row((1.05, 0.9, 1.2), (0.92, 0.84, 1.01))  # both include 1
    assert (no_effect.direction, no_effect.passed) == ("agree", True)
    # a published point without a CI (REMAP-CAP's risks): its side of 1 against the CI
    remap = _ratio_row((0.97, 0.85, 1.1), (0.78, NAN, NAN))
    assert (remap.direction, remap.overlap, remap.passed) == ("disagree", False, False)
    remap = _ratio_row((0.8, 0.7, 0.9), (0.78, NAN, NAN))
    assert (remap.direction, remap.overlap, remap.passed) == ("agree", True, True)


def test_a_target_row_passes_by_its_own_test_and_is_judged_for_direction_only_as_a_ratio():
    row = ScoreRow(source="targets x", quantity="x.il6", role="fitted", role_from="test",
                   tolerance="in range", predicted=7.0, published=5.0, published_low=1.0,
                   published_high=6.0, passed=False)
    assert (row.direction, row.overlap, row.passed) == ("", False, False)
    fold = ScoreRow(source="targets x", quantity="x.fold", role="checked", role_from="test",
                    tolerance="in range", predicted=2.0, published=2.5, published_low=1.2,
                    published_high=4.0, ratio=True, passed=True)
    assert (fold.direction, fold.overlap, fold.passed) == ("agree", True, True)
    # a published range including 1 claims no direction: a model point is not judged
    flat = ScoreRow(source="targets x", quantity="x.flat", role="checked", role_from="test",
                    tolerance="in range", predicted=0.98, published=1.0, published_low=0.85,
                    published_high=1.2, ratio=True, passed=True)
    assert (flat.direction, flat.published_direction, flat.passed) == ("", "~1", True)


def test_summary_counts_held_out_and_fitted_apart():
    rows = [_ratio_row((0.8, 0.7, 0.9), (0.85, 0.76, 0.94)),
            _ratio_row((1.0, 0.7, 1.3), (0.85, 0.76, 0.94)),
            _ratio_row((0.8, 0.7, 0.9), (0.85, 0.76, 0.94), role="fitted"),
            ScoreRow(source="targets x", quantity="x", role="checked", role_from="test",
                     tolerance="", predicted=1.0, published=1.0, passed=True)]
    summary = {s["role"]: s for s in summarise(rows)}
    assert summary["checked"]["rows"] == 3 and summary["checked"]["passed"] == 2
    assert summary["checked"]["trial_ratios"] == 2
    assert summary["checked"]["direction_and_overlap"] == 1
    assert summary["fitted"]["rows"] == 1 and summary["fitted"]["passed"] == 1
    assert summary["all"]["rows"] == 4
    line = summary_line(summarise(rows))
    assert line.startswith("held out: 2 of 3 (67 %) rows pass, 1 of 2 (50 %) trial ratios")


# ----------------------------------------------------------------------------- roles
def test_trial_roles_come_from_the_file_and_from_calibrated_to():
    from il6sim.trial import load_trial

    calibrated = calibrated_names()
    assert "trial:recovery-dexamethasone:mortality" in calibrated
    entries = list(published_entries(load_trial("recovery-dexamethasone"), calibrated))
    roles = {(e.endpoint, e.level): e.role for e in entries}
    assert roles[("mortality", None)] == "fitted"
    assert roles[("discharge", None)] == "checked"
    assert roles[("mortality", "invasive ventilation")] == "checked"
    assert len([e for e in entries if e.level is not None]) == 5  # 3 support + 2 onset levels
    # a role named only in calibrated_to counts as fitted
    entries = list(published_entries(load_trial("recovery-tocilizumab"),
                                     {"trial:recovery-tocilizumab:discharge"}))
    assert {e.endpoint: e.role for e in entries} == {
        "mortality": "checked", "discharge": "fitted", "imv_or_death": "checked"}


def test_target_roles_follow_calibrated_to_the_course_role_field_and_the_pk_header():
    calibrated = calibrated_names()
    endotoxemia = {q: r for _, q, r in planned_target_rows("endotoxemia", calibrated)}
    assert endotoxemia["baseline.il6"] == "fitted"            # r_il6_mac_rest
    assert endotoxemia["endotoxemia.crp_rising"] == "checked"  # no parameter names it
    course = {q: r for _, q, r in planned_target_rows("covid_course", calibrated)}
    assert course["course.il6_rise_after_tocilizumab"] == "fitted"
    assert course["course.incubation_median"] == "fitted"      # beta_virus of the population
    assert course["course.onset_to_dyspnoea"] == "checked"
    pk = planned_target_rows("pharmacology", calibrated)
    fitted = [q for _, q, r in pk if r == "fitted"]
    assert "siltuximab-11mgkg-iv-q3w cmax" in fitted
    assert "tocilizumab-8mgkg-iv-q4w cmax" not in fitted


def test_the_plan_covers_every_trial_and_target_set():
    rows = planned_rows()
    sources = list(dict.fromkeys(source for source, _, _ in rows))
    assert sources == [f"trial {n}" for n in _scorecard.shipped_trials()] + \
        [f"targets {n}" for n in target_set_names()]
    assert target_set_names()[:2] == ["endotoxemia", "infection"]
    assert {role for _, _, role in rows} == {"fitted", "checked"}


# ----------------------------------------------------------------------------- target sets
def _dump(rows) -> str:
    """Rows as JSON (NaN written as NaN, so equal rows compare equal)."""
    return json.dumps([r.as_dict() for r in rows])


@pytest.fixture(scope="module")
def endotoxemia_rows():
    return calibration_rows("endotoxemia", calibrated_names())


def test_target_set_rows_are_stored_and_read_back(tmp_path, monkeypatch, endotoxemia_rows):
    monkeypatch.setattr(_scorecard, "target_set_names", lambda: ["endotoxemia"])
    monkeypatch.setattr(_scorecard, "calibration_rows", lambda name, calibrated:
                        endotoxemia_rows)
    said: list[str] = []
    first = _scorecard.run_scorecard(only="targets", runs_dir=tmp_path, progress=said.append)
    stored = list((tmp_path / "targets").glob("endotoxemia-*.json"))
    assert len(stored) == 1
    assert not any("stored result" in line for line in said)

    def refuse(name, calibrated):
        raise AssertionError("computed again instead of read back")

    monkeypatch.setattr(_scorecard, "calibration_rows", refuse)
    said.clear()
    second = _scorecard.run_scorecard(only="targets", runs_dir=tmp_path, progress=said.append)
    assert any("stored result" in line for line in said)
    assert _dump(second.rows) == _dump(first.rows)
    # a damaged file is computed again
    stored[0].write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(_scorecard, "calibration_rows", lambda name, calibrated:
                        endotoxemia_rows)
    third = _scorecard.run_scorecard(only="targets", runs_dir=tmp_path)
    assert len(third.rows) == len(first.rows)
    assert json.loads(stored[0].read_text(encoding="utf-8"))


def test_endotoxemia_rows_match_the_plan_and_the_targets_command(endotoxemia_rows):
    plan = planned_target_rows("endotoxemia", calibrated_names())
    assert [(r.source, r.quantity, r.role) for r in endotoxemia_rows] == plan
    assert all(r.passed == (r.published_low <= r.predicted <= r.published_high)
               for r in endotoxemia_rows)
    folds = [r for r in endotoxemia_rows if r.ratio]
    assert {r.unit for r in folds} == {"fold"}
    assert all(bool(r.direction) == (r.published_direction != "~1") for r in folds)


# ----------------------------------------------------------------------------- a trial file
def _own_trial(tmp_path: Path) -> Path:
    """recovery-tocilizumab renamed, with a published subgroup level of its own (and no
    control-risk calibration, whose pilot would screen 256 eligible patients)."""
    data = yaml.safe_load((TRIALS / "recovery-tocilizumab.yaml").read_text(encoding="utf-8"))
    data["name"] = "my-trial"
    data.pop("anchor_control_risk", None)
    data["subgroups"] = [{"name": "age", "signal": "age", "cuts": [70],
                          "published": {"< 70": {"ratio": 0.9, "ci": [0.7, 1.1]}}}]
    data["published"]["discharge"]["role"] = "fitted"
    path = tmp_path / "my-trial.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_trial_file_of_ones_own_is_scored_unchanged_and_resumes(tmp_path):
    path, runs, out = _own_trial(tmp_path), tmp_path / "runs", tmp_path / "card.json"
    result = run_cli("validate", "--trial", path, "--only", "trials", "--n", 24,
                     "--runs", runs, "--out", out)
    assert result.exit_code == 0, result.output
    card = json.loads(out.read_text(encoding="utf-8"))
    quantities = [r["quantity"] for r in card["rows"]]
    assert quantities == ["28-day mortality, tocilizumab vs usual care",
                          "discharged alive, tocilizumab vs usual care",
                          "invasive ventilation or death, tocilizumab vs usual care",
                          "28-day mortality, age: < 70"]
    assert [r["role"] for r in card["rows"]] == ["checked", "fitted", "checked", "checked"]
    for row in card["rows"][:3]:
        assert row["source"] == "trial my-trial" and row["n"] > 0
        assert row["predicted_low"] <= row["predicted"] <= row["predicted_high"]
        assert row["published_interval"] == "95 % CI"
    assert card["settings"]["trial_n"] == 24
    assert {s["role"] for s in card["summary"]} == {"checked", "fitted", "all"}
    folders = list((runs / "trials").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("my-trial-n24-")
    chunks = sorted(p.name for p in folders[0].rglob("*.parquet"))
    again = run_cli("validate", "--trial", path, "--only", "trials", "--n", 24, "--runs", runs,
                    "--markdown")
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in folders[0].rglob("*.parquet")) == chunks
    assert "| trial my-trial | 28-day mortality, age: < 70 |" in again.stdout


# ----------------------------------------------------------------------------- bad options
@pytest.mark.parametrize("args, field", [
    (["--n", "1"], "--n"), (["--n", "20", "--full"], "--full"),
    (["--quick", "--course-n", "50"], "--quick"), (["--only", "figures"], "--only"),
    (["--course-n", "5"], "--course-n"), (["--seed", "-1"], "--seed"),
    (["--out", "card.txt"], "--out"), (["--trial", "no-such-trial.yaml"], "no-such-trial"),
    (["--only", "targets", "--trial", "recovery-tocilizumab"], "--trial"),
])
def test_bad_options_are_refused_before_any_work(tmp_path, args, field):
    runs = tmp_path / "runs"
    result = run_cli("validate", *args, "--runs", runs)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error:") and field in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not runs.exists()


def test_a_runs_folder_that_is_a_file_is_refused(tmp_path):
    runs = tmp_path / "runs"
    runs.write_text("", encoding="utf-8")
    result = run_cli("validate", "--only", "targets", "--runs", runs)
    assert result.exit_code == 2 and "--runs" in result.stderr


# ----------------------------------------------------------------------------- the docs
def _doc_table(text: str) -> list[list[str]]:
    """Rows of the scorecard table in docs/validation.md (header first), as cells."""
    section = text.split("## Scorecard", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip().replace("\\|", "|")
             for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]] for line in lines]


def test_docs_table_was_made_by_the_current_command():
    text = DOC.read_text(encoding="utf-8")
    command = re.search(r"Generated by `(il6sim validate[^`]*)`", text)
    assert command, "docs/validation.md does not say which command made it"
    assert "--markdown --out docs/validation.md" in command.group(1)
    table = _doc_table(text)
    assert tuple(table[0]) == MARKDOWN_COLUMNS
    roles = {"fitted": "fitted", "checked": "held out"}
    shown = [(cells[0], re.sub(r" \((?:[^()]|\([^()]*\))*\)$", "", cells[1])
              if cells[0].startswith("targets")
              else cells[1], cells[7]) for cells in table[2:]]
    plan = [(s, q, roles[r]) for s, q, r in planned_rows()]
    diff = "\n".join(difflib.unified_diff([" | ".join(r) for r in shown],
                                          [" | ".join(r) for r in plan], "docs", "plan",
                                          lineterm=""))
    assert shown == plan, ("docs/validation.md has other rows than the command now gives; "
                           f"fix: il6sim validate --markdown --out docs/validation.md\n{diff}")


def test_docs_endotoxemia_rows_are_what_the_model_gives_now(endotoxemia_rows):
    text = DOC.read_text(encoding="utf-8")
    shown = [line for line in text.splitlines() if line.startswith("| targets endotoxemia |")]
    current = markdown_rows(endotoxemia_rows)[2:]
    diff = "\n".join(difflib.unified_diff(shown, current, "docs", "model now", lineterm=""))
    assert shown == current, ("docs/validation.md's endotoxemia rows are stale; fix: il6sim "
                              f"validate --markdown --out docs/validation.md\n{diff}")


def test_readme_shows_the_summary_of_the_docs():
    summary = re.search(r"\*\*Summary\.\*\* (.+)", DOC.read_text(encoding="utf-8")).group(1)
    assert summary in README.read_text(encoding="utf-8"), (
        "README's scorecard summary differs from docs/validation.md; fix: copy the summary "
        "line of docs/validation.md into README.md")


# ----------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_quick_scorecard_gives_every_planned_row(tmp_path):
    """Every trial and target set at the --quick size (several minutes)."""
    out = tmp_path / "card.csv"
    result = run_cli("validate", "--quick", "--runs", tmp_path / "runs", "--out", out)
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_csv(out)
    assert list(zip(table.source, table.quantity, table.role, strict=True)) == planned_rows()
    assert "summary: held out:" in result.stdout
    shutil.rmtree(tmp_path / "runs")
