"""The il6sim command line: errors as one line with exit code 2, simulate, presets, model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from il6sim import SimulationResult, load_scenario
from il6sim.cli import app
from il6sim.model import default_model
from waiting import LONG_WAIT_S

runner = CliRunner()

SHORT = """\
name: short
doses:
  - {time: 0 h, agent: lps, amount: 2 ng/kg}
duration: 1 h
sampling: 0.5 h
outputs: [il6, crp]
"""

BAD = {
    "unknown key": ("name: x\ndosse: []\n", "field 'dosse': unknown key"),
    "negative dose": ("name: x\ndoses:\n  - {time: 0 h, agent: lps, amount: -2 ng/kg}\n",
                      "field 'doses[0].amount': negative dose"),
    "wrong unit": ("name: x\ndoses:\n  - {time: 0 h, agent: lps, amount: 2 mg/L}\n",
                   "field 'doses[0].amount'"),
    "unknown parameter": ("name: x\npatient: {body_wieght: 70 kg}\n",
                          "did you mean 'body_weight'?"),
    "bad yaml": ("name: x\ndoses: [\n  - {time: 0 h\n", "invalid YAML"),
}


def il6sim_command() -> list[str]:
    """The installed ``il6sim`` script next to this interpreter (or the same entry point)."""
    script = Path(sys.executable).parent / "il6sim"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from il6sim.cli import main; main()"]


def assert_clean_error(exit_code: int, stderr: str, words: str) -> None:
    assert exit_code == 2, stderr
    assert stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    assert words in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_exits_2_without_traceback(tmp_path, case):
    text, words = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["simulate", str(path), "--out", str(tmp_path / "x.parquet")])
    assert_clean_error(result.exit_code, result.stderr, words)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "x.parquet").exists()


def test_unknown_preset_bad_set_and_bad_suffix_exit_2(tmp_path):
    out = str(tmp_path / "x.parquet")
    result = runner.invoke(app, ["simulate", "endotoxemia", "--out", out])
    assert_clean_error(result.exit_code, result.stderr, "did you mean 'endotoxemia-2ngkg'?")
    result = runner.invoke(app, ["simulate", "healthy", "--out", out, "--set", "body_weight"])
    assert_clean_error(result.exit_code, result.stderr, "name=value")
    result = runner.invoke(app, ["simulate", "healthy", "--out", str(tmp_path / "x.csv")])
    assert_clean_error(result.exit_code, result.stderr, ".parquet or .nc")


def test_real_process_reports_error_with_exit_code_2(tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD["negative dose"][0])
    proc = subprocess.run(
        [*il6sim_command(), "simulate", "bad.yaml", "--out", "x.parquet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=LONG_WAIT_S,
    )
    assert_clean_error(proc.returncode, proc.stderr, "negative dose -2 ng/kg")


def test_simulate_preset_saves_reloadable_result_and_plot(tmp_path):
    out, png = tmp_path / "r.parquet", tmp_path / "r.png"
    result = runner.invoke(
        app, ["simulate", "endotoxemia-2ngkg", "--out", str(out), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "peak" in result.stdout and "il6" in result.stdout and str(out.name) in result.stdout
    assert png.stat().st_size > 10_000
    saved = SimulationResult.load(out)
    direct = load_scenario("endotoxemia-2ngkg").run()
    for name in ("time", "outputs", "states", "parameters"):
        assert np.array_equal(getattr(saved, name), getattr(direct, name)), name
    assert saved.output_names == direct.output_names
    assert saved.settings["scenario"] == "endotoxemia-2ngkg"


def test_set_and_knockouts_reach_the_saved_parameters(tmp_path):
    scenario = tmp_path / "short.yaml"
    scenario.write_text(SHORT)
    out = tmp_path / "r.nc"
    result = runner.invoke(app, ["simulate", str(scenario), "--out", str(out),
                                 "--set", "body_weight=90kg", "--set", "knockouts=il6,tnf"])
    assert result.exit_code == 0, result.output
    saved = SimulationResult.load(out)
    params = dict(zip(saved.param_names, saved.parameters[0], strict=True))
    assert params["body_weight"] == pytest.approx(90.0)
    assert params["switch_il6"] == 0.0 and params["switch_tnf"] == 0.0
    assert saved.settings["scenario_definition"]["knockouts"] == ["il6", "tnf"]


def test_presets_command_lists_presets():
    result = runner.invoke(app, ["presets"])
    assert result.exit_code == 0
    assert "healthy" in result.stdout and "endotoxemia-2ngkg" in result.stdout


def _markdown_rows(markdown: str) -> dict[str, str]:
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| name"):
            rows.setdefault(line.split(" | ")[0][2:], line)
    return rows


def test_model_markdown_lists_every_parameter_with_unit_and_source(tmp_path):
    model = default_model()
    result = runner.invoke(app, ["model", "--markdown"])
    assert result.exit_code == 0
    text = result.stdout
    for section in ("## States", "## Parameters", "## Fluxes", "## Outputs", "## Dose routes"):
        assert section in text
    rows = _markdown_rows(text[text.index("## Parameters"):text.index("## Fluxes")])
    for p in model.parameters:
        assert p.name in rows, p.name
        cells = rows[p.name].split(" | ")
        assert cells[2] == p.unit and p.source.replace("|", "\\|") in rows[p.name]
    out = tmp_path / "MODEL.md"
    assert runner.invoke(app, ["model", "--out", str(out)]).exit_code == 0
    assert out.read_text() == text
    assert runner.invoke(app, ["model"]).exit_code == 0


def _command_paths(command, prefix=()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*prefix, name))


def test_every_help_shows_an_example():
    paths = list(_command_paths(typer.main.get_command(app)))
    assert {("simulate",), ("presets",), ("model",)} <= set(paths)
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, path


def test_group_turns_errors_of_any_subcommand_into_one_line():
    from pydantic import BaseModel

    from il6sim.cli import Il6simGroup
    from il6sim.errors import ModelError

    class Item(BaseModel):
        size: int

    extra = typer.Typer(cls=Il6simGroup)

    @extra.command()
    def pydantic_error() -> None:
        Item(size="big")

    @extra.command()
    def model_error() -> None:
        raise ModelError("flux 'x' is wrong; fix: correct it")

    for name, words in (("pydantic-error", "field 'size'"), ("model-error", "flux 'x'")):
        result = runner.invoke(extra, [name])
        assert_clean_error(result.exit_code, result.stderr, words)


def test_targets_command_reports_every_target_within_range():
    from typer.testing import CliRunner

    from il6sim.calibration import load_targets
    from il6sim.cli import app

    result = CliRunner().invoke(app, ["targets", "--markdown"])
    assert result.exit_code == 0, result.output
    for target in load_targets("endotoxemia"):
        assert f"| {target.id} |" in result.output
    assert "| NO |" not in result.output


def test_a_solver_failure_is_an_error_exit_not_a_warning(capsys):
    """A run whose integration fails is saved (NaN after the failure) but the command exits 1
    with one line saying so, instead of 0 with a warning above a table of NaN."""
    from il6sim.cli import SOLVER_FAILURE_EXIT_CODE, _exit_on_solver_failure, solver_failures
    from il6sim.engine import simulate
    from il6sim.model import default_model

    model = default_model()
    params = model.default_parameters()[None, :].repeat(2, axis=0)
    params[1, model.param_index["k_cytokine_tp"]] = np.nan  # the engine refuses, per patient
    result = simulate(params, t_end=2.0, dt=1.0, model=model)
    assert result.status[0] == "ok" and result.status[1].startswith("failed")
    assert solver_failures({"run": result}) == [f"run: {result.status[1]}"]
    _exit_on_solver_failure({"ok": simulate(t_end=2.0, dt=1.0, model=model)})
    with pytest.raises(typer.Exit) as stopped:
        _exit_on_solver_failure({"run": result})
    assert stopped.value.exit_code == SOLVER_FAILURE_EXIT_CODE
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: the solver failed (run: failed")


def test_an_os_error_while_writing_is_one_line(tmp_path):
    """What the up-front checks cannot see (a full disk, a folder removed meanwhile) is still
    one line: here a device that refuses every write."""
    result = CliRunner().invoke(app, ["model", "--out", "/dev/full"])
    assert result.exit_code == 2, result.output
    assert "error: cannot use" in result.output and "No space left" in result.output
    assert "fix:" in result.output
    assert "Traceback" not in result.output
