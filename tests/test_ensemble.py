"""Parameter ensemble: the ABC-MCMC sampler on a constraint with a known feasible region, the
stored ensemble's file checks, and the shipped ensemble reproducing every calibration target."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.ensemble import load_ensemble, target_values
from il6sim.ensemble._abc import abc_mcmc
from il6sim.errors import InputError


def _below_line(points: np.ndarray) -> np.ndarray:
    return points.sum(axis=1) < 0.8


def test_abc_mcmc_keeps_every_chain_inside_the_feasible_region_and_explores_it():
    """Box [0, 1]^2 with the constraint x + y < 0.8 (a triangle of area 0.32): every final
    point meets it, and the chains spread over the triangle (mean near its centroid 0.27)."""
    found = abc_mcmc(np.array([0.1, 0.1]), np.zeros(2), np.ones(2), _below_line,
                     chains=400, steps=60, step=0.15, seed=3)
    assert _below_line(found.points).all()
    assert found.points.mean(axis=0) == pytest.approx([0.8 / 3, 0.8 / 3], abs=0.04)
    assert found.points.max(axis=0).min() > 0.6
    assert 0.05 < found.acceptance.mean() < 0.95


def test_abc_mcmc_refuses_a_start_that_fails_its_constraints():
    with pytest.raises(InputError, match="does not meet its own targets"):
        abc_mcmc(np.array([0.9, 0.9]), np.zeros(2), np.ones(2), _below_line,
                 chains=2, steps=2, step=0.1, seed=0)


def test_a_missing_or_damaged_ensemble_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_ensemble(tmp_path / "none")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError, match="cannot be read"):
        load_ensemble(tmp_path / "bad")
    result = CliRunner().invoke(app, ["ensemble", "show", "--file", str(tmp_path / "bad")])
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.xfail(strict=True, reason=(
    "2 of the 40 shipped members give the mild COVID-19 preset a P/F trough of 274-300 (limit "
    "300) since P/F is read from the shunt equation (2026-12-03); the ensemble was built on the "
    "old P/F and needs rebuilding (il6sim ensemble build, docs/sensitivity.md)"))
def test_the_shipped_ensemble_members_reproduce_every_calibration_target():
    """A seeded subset (3 members) of the shipped ensemble meets every endotoxemia and
    infection target; the slow test checks every member."""
    ensemble = load_ensemble()
    chosen = ensemble.members.sample(3, random_state=0)
    assert target_values(chosen[ensemble.parameters])["passes"].all()
    spread = ensemble.members[ensemble.parameters].max() / ensemble.members[
        ensemble.parameters].min()
    assert (spread > 1.05).sum() >= len(ensemble.parameters) // 2  # members differ


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "2 of the 40 shipped members give the mild COVID-19 preset a P/F trough of 274-300 (limit "
    "300) since P/F is read from the shunt equation (2026-12-03); the ensemble was built on the "
    "old P/F and needs rebuilding (il6sim ensemble build, docs/sensitivity.md)"))
def test_every_member_of_the_shipped_ensemble_reproduces_every_calibration_target():
    ensemble = load_ensemble()
    assert target_values(ensemble.members[ensemble.parameters])["passes"].all()


def _tiny_ensemble(tmp_path, values=(0.9, 1.1)):
    """Two members that scale the endothelial activation rate (not varied between patients)."""
    import json

    import pandas as pd

    from il6sim.model import default_model

    nominal = default_model().parameter("k_endo_act")
    members = pd.DataFrame({"member": [0, 1], "k_endo_act": [nominal.value * v for v in values]})
    members.to_parquet(tmp_path / "tiny.parquet", index=False)
    (tmp_path / "tiny.json").write_text(json.dumps({
        "created": "test", "parameters": {"k_endo_act": {
            "value": nominal.value, "unit": nominal.unit, "low": nominal.value / 3,
            "high": nominal.value * 3, "basis": "test"}}}))
    return tmp_path / "tiny"


def test_a_trial_runs_per_member_and_reports_both_intervals(tmp_path):
    """Each member runs the same 24 patients; the table holds the nominal sampling CI and the
    members' interval; the command prints it and adds it to report.md."""
    import yaml

    from il6sim.trial import load_trial, run_trial
    from il6sim.trial._ensemble import run_ensemble_trial, uncertainty_table

    ensemble = load_ensemble(_tiny_ensemble(tmp_path))
    data = load_trial("recovery-tocilizumab").model_dump(mode="json", exclude_none=True)
    data.pop("anchor_control_risk", None)  # no pilot: keeps the test small
    design = load_trial(data)
    trial_file = tmp_path / "recovery.yaml"
    trial_file.write_text(yaml.safe_dump(data))
    nominal = run_trial(design, n_patients=24, chunk_size=64)
    ratios = run_ensemble_trial(design, ensemble, 2, n_patients=24, out_dir=None,
                                chunk_size=64)
    assert set(ratios.member) == {0, 1}
    table = uncertainty_table(nominal, ratios).set_index("endpoint")
    row = table.loc["mortality"]
    assert row.members == 2 and row.model_low <= row.model_high
    assert row.sampling_low <= row.ratio <= row.sampling_high
    result = CliRunner().invoke(app, ["trial", str(trial_file), "--n", "24",
                                      "--ensemble-file", str(tmp_path / "tiny"),
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "ensemble members" in " ".join(result.output.split())  # the console table's title
    assert "Model uncertainty" in (tmp_path / "run" / "report.md").read_text()
    assert (tmp_path / "run" / "ensemble.csv").exists()


def test_an_ensemble_may_not_override_what_the_population_varies(tmp_path):
    from il6sim.trial import load_trial, run_trial

    with pytest.raises(InputError, match="varied between patients"):
        run_trial(load_trial("recovery-tocilizumab"), n_patients=4,
                  model_overrides={"ifn_capacity": 0.5})
