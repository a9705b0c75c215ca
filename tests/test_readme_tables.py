"""The README's target tables show what the current model gives: each row's model value is
within 2 % of the value `il6sim targets` computes now (the tables were refreshed by hand from that
command's output; this test catches a table left behind by a model change)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from il6sim.calibration import evaluate_targets, load_targets, run_target_scenarios

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_values() -> dict[str, float]:
    values = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        found = re.match(r"\| `((?:baseline|endotoxemia|infection)\.[\w.]+)` \|", line)
        if not found:
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        model_cell = cells[3] if found.group(1).startswith(("baseline", "endotoxemia")) \
            else cells[4]
        values[found.group(1)] = float(model_cell.replace(",", ""))
    return values


@pytest.mark.parametrize("name", ["endotoxemia", "infection"])
def test_readme_target_tables_match_the_model(name):
    targets = load_targets(name)
    shown = _readme_values()
    t_end = max([48.0] + [t.time_h or 0.0 for t in targets]) + 24.0 if name == "infection" \
        else 48.0
    rows = evaluate_targets(targets, run_target_scenarios(targets, t_end=t_end))
    assert {row["id"] for row in rows} <= set(shown), "a target is missing from the README"
    for row in rows:
        assert shown[row["id"]] == pytest.approx(row["value"], rel=0.02, abs=1e-3), row["id"]
