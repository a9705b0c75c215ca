"""Trial-file errors (issue 19, item 4): every problem is one line that names the file, the
field and the fix, lists every valid name (never cut), and comes before any work starts — before
the "randomising ..." banner, before the output folder, before the first simulation.

Each case is the problem a user met (the issue's list) or one of its kind; the command is
``il6sim trial FILE --n 20 --out DIR``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.model import default_model
from il6sim.pharmacology import label_regimens
from il6sim.trial import ENDPOINTS, load_trial
from il6sim.trial._signals import CLINICAL, COVARIATES

BASE = {
    "name": "errors-test", "size": 20, "seed": 1,
    "enrolment": {"eligibility": [{"signal": "pf_ratio", "below": 300}]},
    "arms": [{"name": "control"},
             {"name": "tocilizumab", "treatment": {"regimen": "tocilizumab-covid-8mgkg"}}],
    "control": "control",
}
SIGNALS = sorted({*CLINICAL, *COVARIATES, *default_model().output_names})
TOCI = {"regimen": "tocilizumab-covid-8mgkg"}


def _with(path: str, value) -> dict:
    """BASE with ``value`` at ``path`` (``arms.1.start``)."""
    data = copy.deepcopy(BASE)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


#: case → (trial file contents, field named, text the message must hold, valid names listed)
CASES = {
    "unknown-signal-in-eligibility": (
        _with("enrolment.eligibility.0.signal", "pf_ratoi"),
        "enrolment.eligibility[0].signal", "did you mean 'pf_ratio'", SIGNALS),
    "unknown-signal-in-start-rule": (
        _with("arms.1.start", {"when": [{"signal": "oxygen_need", "is": True}]}),
        "arms[1].start.when[0].signal", "unknown signal 'oxygen_need'", SIGNALS),
    "unknown-signal-in-second-dose": (
        _with("arms.1.second_dose", {"when": [{"signal": "who_improvment", "below": 1}]}),
        "arms[1].second_dose.when[0].signal", "did you mean 'who_improvement'", SIGNALS),
    "unknown-signal-in-background": (
        _with("background", [{"name": "steroids", "treatment": {
            "regimen": "dexamethasone-6mg-10d"}, "fraction": 0.8,
            "start": {"when": [{"signal": "o2", "is": True}]}}]),
        "background[0].start.when[0].signal", "unknown signal 'o2'", SIGNALS),
    "unknown-subgroup-signal": (
        _with("subgroups", [{"name": "by ventilation", "signal": "ventilated"}]),
        "subgroups[0].signal", "unknown signal 'ventilated'", SIGNALS),
    "threshold-in-wrong-unit": (
        _with("enrolment.eligibility.0", {"signal": "crp", "at_least": "75 mmHg"}),
        "enrolment.eligibility[0]", "not a number in mg/L", []),
    "unknown-regimen": (
        _with("arms.1.treatment", {"regimen": "tocilizumab-8mgkg"}),
        "arms[1].treatment", "unknown regimen 'tocilizumab-8mgkg'", sorted(label_regimens())),
    "custom-schedule-without-amount": (
        _with("arms.1.treatment", {"drug": "tocilizumab"}),
        "arms[1].treatment", "needs an amount", []),
    "primary-not-among-endpoints": (
        {**BASE, "primary": "ordinal_day28", "endpoints": ["mortality"]},
        "primary", "write endpoints: [ordinal_day28, mortality]", []),
    "unknown-primary": ({**BASE, "primary": "survival"}, "primary",
                        "unknown endpoint 'survival'", list(ENDPOINTS)),
    "risk-difference-as-ratio": (
        {**BASE, "published": {"mortality": {"measure": "risk difference", "ratio": -0.078}}},
        "published.mortality.ratio", "difference", []),
    "risk-difference-typed-as-a-ratio": (
        {**BASE, "published": {"mortality": {"control": 0.358, "treated": 0.280,
                                             "ratio": 0.078}}},
        "published.mortality.ratio", "far from the 0.78 its arms give", []),
    "risk-difference-with-its-sign-turned": (
        {**BASE, "published": {"mortality": {"control": 0.358, "treated": 0.280,
                                             "measure": "risk difference",
                                             "difference": 0.078}}},
        "published.mortality.difference", "treated − control = -0.078", []),
    "unknown-key-in-an-arm": (
        _with("arms.1.doses", 2), "arms[1].doses", "unknown key",
        ["description", "name", "published", "ratio", "second_dose", "start", "treatment"]),
    "ratio-zero": (_with("arms.0.ratio", 0), "arms[0].ratio", "positive number", []),
    "second-dose-without-treatment": (
        _with("arms.0.second_dose", {"when": [{"signal": "oxygen", "is": True}]}),
        "arms[0].second_dose", "needs a treatment", []),
    "second-dose-window-inverted": (
        _with("arms.1.second_dose", {"window": ["24 h", "8 h"],
                                     "when": [{"signal": "oxygen", "is": True}]}),
        "arms[1].second_dose.window", "not [earliest, latest]", []),
    "published-result-of-the-control-arm": (
        _with("arms.0.published", {"mortality": {"ratio": 0.9}}),
        "arms[0].published", "control arm", []),
    "published-arm-unknown": (
        {**BASE, "published": {"mortality": {"ratio": 0.9, "arm": "sarilumab"}}},
        "published.mortality.arm", "not an arm", ["tocilizumab"]),
}


@pytest.fixture
def no_simulation(monkeypatch):
    """Fails the test if any patient is simulated."""
    import il6sim.trial._task as task

    calls = []
    monkeypatch.setattr(task, "simulate", lambda *a, **k: calls.append(1) or (_ for _ in ()
                                                                              ).throw(
        AssertionError("a patient was simulated before the file was refused")))
    return calls


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_trial_file_is_refused_in_one_line_before_any_work(case, tmp_path, no_simulation):
    data, field, text, names = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["trial", str(path), "--n", "20", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "randomising" not in result.stdout and not out.exists()
    assert not no_simulation
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"error: trial '{path}', field '{field}': "), line
    assert text in line and "fix:" in line, line
    assert "..." not in line, line
    for name in names:  # every valid name, never cut
        assert re.search(rf"\b{re.escape(name)}\b", line), f"{name} missing: {line}"


def test_the_fix_of_a_missing_primary_works(tmp_path):
    """The issue met "fix: add it" that then failed as unknown; the fix named now loads."""
    data, *_ = CASES["primary-not-among-endpoints"]
    path = Path(tmp_path / "primary.yaml")
    path.write_text(yaml.safe_dump({**data, "endpoints": ["ordinal_day28", "mortality"]}))
    assert load_trial(str(path)).primary == "ordinal_day28"


def test_a_published_result_that_fits_its_arms_is_accepted():
    ok = {**BASE, "published": {"mortality": {"control": 0.358, "treated": 0.280,
                                              "ratio": 0.74, "ci": [0.6, 0.9]}}}
    assert load_trial(ok).published["mortality"].ratio == 0.74
    difference = {**BASE, "published": {"mortality": {
        "control": 0.358, "treated": 0.280, "measure": "risk difference",
        "difference": -0.078}}}
    assert load_trial(difference).published["mortality"].difference == -0.078
