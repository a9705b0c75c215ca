"""The README's target tables are exactly what the current model gives.

Each table is written by ``il6sim targets NAME --readme README.md`` between its markers
(:mod:`il6sim.calibration.readme`); the test regenerates it and compares the text, so a table
left behind by a model change fails with the command that fixes it. (It replaces a check that
each model value was within 2 % of ``il6sim targets``: the text is now the command's output.)
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from il6sim.calibration.readme import end_marker, shown_table, start_marker, target_table
from il6sim.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", ["endotoxemia", "infection", "endotoxin_tolerance"])
def test_readme_target_table_is_what_the_model_gives_now(name):
    shown = shown_table(README.read_text(encoding="utf-8"), name)
    current = target_table(name)
    diff = "\n".join(difflib.unified_diff(shown.splitlines(), current.splitlines(), "README.md",
                                          "model now", lineterm=""))
    assert shown == current, (f"README.md's {name} target table is stale; fix: il6sim targets "
                              f"{name} --readme README.md\n{diff}")


def test_the_command_rewrites_only_the_table_between_the_markers(tmp_path):
    table = target_table("endotoxemia")
    stale = table.replace("| `baseline.il6` | il6 | rest |", "| `baseline.il6` | il6 | old |")
    text = f"# title\n\nbefore\n\n{start_marker('endotoxemia')}\n{stale}\n" \
           f"{end_marker('endotoxemia')}\n\nafter\n"
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["targets", "endotoxemia", "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    assert "rewritten" in result.output
    assert readme.read_text(encoding="utf-8") == text.replace(stale, table)
    again = CliRunner().invoke(app, ["targets", "endotoxemia", "--readme", str(readme)])
    assert "already current" in again.output


def test_a_readme_without_the_markers_is_refused_before_any_work(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no tables here\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["targets", "infection", "--readme", str(readme)])
    assert result.exit_code == 2
    assert "has no block for 'infection'" in result.output and "fix:" in result.output
    assert readme.read_text(encoding="utf-8") == "# no tables here\n"
