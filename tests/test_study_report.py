"""``il6sim study``: the one-command study report (quick variant).

One quick run (about a minute on 2 cores) is shared by the module and by the xdist workers (the
first one to take the lock builds it); the failure and resumption tests patch the section list and
run cheap subsets, or rerun in a copy of the shared folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import il6sim.report.sections as sections_module
from il6sim.cli import app
from il6sim.report import StudySettings, run_study
from il6sim.report._cache import load_section, section_fingerprint
from il6sim.report.sections import SECTIONS

runner = CliRunner()
FIGURE = "data:image/png;base64,"


def _sections_html(page: str) -> dict[str, str]:
    """Each section's HTML by its key."""
    found = re.findall(r'<section id="([a-z]+)">(.*?)</section>', page, flags=re.S)
    return dict(found)


@contextmanager
def _exclusive(lock_path: Path):
    """Hold an exclusive lock on ``lock_path`` (POSIX ``flock``) while the block runs."""
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick study per test session, shared by the xdist workers.

    The first worker to get the lock runs ``il6sim study --quick`` and keeps its exit code and
    output beside the folder; a worker that comes later reads them instead of running the same
    study again (it took about 270 s per worker in CI). The folder is under this session's
    temporary root (the workers' common parent under xdist), so each session builds its own."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # basetemp is <session root>/popen-gwN
        root = root.parent
    shared = root / "quick-study"
    shared.mkdir(exist_ok=True)
    out, record = shared / "out", shared / "cli.json"
    with _exclusive(shared / ".lock"):
        if not record.exists():
            result = runner.invoke(app, ["study", "--quick", "--out", str(out)])
            record.write_text(json.dumps({"exit_code": result.exit_code,
                                          "output": result.output}))
    saved = json.loads(record.read_text())
    return out, SimpleNamespace(exit_code=saved["exit_code"], output=saved["output"])


def test_quick_study_writes_every_section_with_figures(quick_run):
    out, result = quick_run
    assert result.exit_code == 0, result.output
    assert "Report written to" in result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    html = _sections_html(page)
    summary = json.loads((out / "study.json").read_text(encoding="utf-8"))
    for spec in SECTIONS:
        assert spec.title in page, spec.title
        status = summary["sections"][spec.key]["status"]
        if status == "unavailable":  # an il6sim without the trial engine: said plainly
            assert spec.key == "trial" and "not installed" in html[spec.key]
            continue
        assert status == "ok", (spec.key, summary["sections"][spec.key]["error"])
        assert html[spec.key].count(FIGURE) >= 1, spec.key
        assert summary["sections"][spec.key]["numbers"], spec.key


def test_report_is_self_contained_and_captions_name_claims(quick_run):
    out, _ = quick_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<link" not in page and "<script" not in page
    assert not re.search(r'src="(?!data:)', page)  # every image is embedded
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert len(captions) == page.count(FIGURE) >= 6
    for caption in captions:
        assert re.search(r"\bC\d\d\b", caption), caption
        assert re.search(r"\d", caption.split('<span class="claims">')[0]), caption
    assert "Claims shown in this report" in page


def test_key_numbers_are_computed_in_the_run(quick_run):
    out, _ = quick_run
    numbers = {key: s["numbers"] for key, s in
               json.loads((out / "study.json").read_text())["sections"].items()}
    biology = numbers["biology"]
    assert 500 < biology["il6_peak"] < 2000 and biology["targets_passed"] >= 20
    assert f"{biology['il6_peak']:.0f} pg/mL" in (out / "report.html").read_text()
    assert numbers["covid"]["severe_il6_peak"] > 5 * numbers["covid"]["mild_il6_peak"]
    assert numbers["blockade"]["pk_passed"] == numbers["blockade"]["pk_total"]
    assert 0.5 < numbers["cohort"]["il6_auc"] < 1


def test_rerun_reuses_every_saved_section(quick_run, tmp_path, monkeypatch):
    out, _ = quick_run
    copy = tmp_path / "again"
    shutil.copytree(out, copy)

    def must_not_run(ctx):
        raise AssertionError("a saved section was recomputed")

    saved = [s for s in SECTIONS if (copy / "sections" / f"{s.key}.json").exists()]
    monkeypatch.setattr(sections_module, "SECTIONS",
                        tuple(replace(s, build=must_not_run) if s in saved else s
                              for s in SECTIONS))
    result = run_study(copy, StudySettings.default(quick=True),
                       sections=[s.key for s in saved])
    assert [s.status for s in result.sections] == ["ok"] * len(saved)
    assert all(s.cached for s in result.sections)
    page = (copy / "report.html").read_text(encoding="utf-8")
    html = _sections_html(page)
    assert all(html[s.key].count(FIGURE) >= 1 for s in saved)
    assert "reused from an earlier run" in page


def test_a_failing_section_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    def broken(ctx):
        ctx.step("about to fail")
        raise RuntimeError("injected failure for the test")

    monkeypatch.setattr(sections_module, "SECTIONS",
                        tuple(replace(s, build=broken) if s.key == "biology" else s
                              for s in SECTIONS))
    out = tmp_path / "out"
    result = runner.invoke(app, ["study", "--quick", "--out", str(out), "--only",
                                 "biology,timing"])
    assert result.exit_code == 1, result.output
    assert "section 'biology' failed: RuntimeError: injected failure" in result.output
    html = _sections_html((out / "report.html").read_text(encoding="utf-8"))
    assert "This section failed" in html["biology"] and "injected failure" in html["biology"]
    assert html["timing"].count(FIGURE) >= 1
    assert not (out / "sections" / "biology.json").exists()  # failures are retried next time
    assert (out / "sections" / "timing.json").exists()


def test_saved_section_is_ignored_when_its_settings_change(tmp_path):
    from il6sim.report._blocks import SectionResult
    from il6sim.report._cache import save_section

    quick, full = StudySettings.default(quick=True), StudySettings.default()
    uses = ("cohort_boot", "seed")
    old = section_fingerprint("cohort", quick.subset(uses), "model")
    save_section(tmp_path, SectionResult("cohort", "t"), old)
    assert load_section(tmp_path, "cohort", old).cached
    assert load_section(tmp_path, "cohort", section_fingerprint(
        "cohort", full.subset(uses), "model")) is None
    assert load_section(tmp_path, "cohort", section_fingerprint(
        "cohort", quick.subset(uses), "another model")) is None


@pytest.mark.parametrize("case", ["file", "section"])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, case):
    if case == "file":
        target = tmp_path / "report.html"
        target.write_text("not a folder")
        args, words = ["--out", str(target)], "is a file, not a folder"
    else:
        args, words = ["--out", str(tmp_path / "o"), "--only", "biologyy"], "unknown section"
    result = runner.invoke(app, ["study", "--quick", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and words in result.stderr, result.stderr
    assert "fix:" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_every_claim_a_caption_names_is_shown_by_the_run(quick_run):
    """A caption names a claim only when the run's numbers pass the claim's check; the others
    are said as not shown (issue 18: no "Demonstrates C13" under a risk ratio of 1.00)."""
    out, _ = quick_run
    page = (out / "report.html").read_text(encoding="utf-8")
    for path in (out / "sections").glob("*.json"):
        for block in json.loads(path.read_text(encoding="utf-8"))["section"]["blocks"]:
            if block["kind"] != "figure":
                continue
            assert block["checks"], block["title"]
            assert block["claims"] == list(dict.fromkeys(
                c["claim"] for c in block["checks"] if c["shown"])), block["title"]
    for caption in re.findall(r'<span class="claims">(.*?)</span>', page, flags=re.S):
        named = caption.split("this run does not show")[0]
        for claim in re.findall(r"does not show (C\d\d)", caption):
            assert f"Demonstrates {claim}" not in named and f"; {claim} (" not in named
