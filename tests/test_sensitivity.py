"""Global sensitivity analysis: SALib wrappers against an analytic model with known indices, the
parameter space, a small il6sim study (with resume) and the command line's checks."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.errors import InputError
from il6sim.model.spec import ModelError, load_parameters
from il6sim.sensitivity import (
    Study,
    morris_design,
    morris_indices,
    parameter_space,
    problem,
    run_study,
    sobol_design,
    sobol_indices,
)

PI = np.pi


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami T, Homma T 1990 (ISUMA '90): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442,
    0.244) for a = 7, b = 0.1 on [-pi, pi]^3; a fourth input is a dummy with no effect."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI = problem(["x1", "x2", "x3", "dummy"], [(-PI, PI)] * 4)


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    design = sobol_design(ISHIGAMI, 2048, seed=1)
    found = sobol_indices(ISHIGAMI, ishigami(design), seed=1).set_index("parameter")
    expected_s1 = {"x1": 0.314, "x2": 0.442, "x3": 0.0, "dummy": 0.0}
    expected_st = {"x1": 0.558, "x2": 0.442, "x3": 0.244, "dummy": 0.0}
    for name in expected_s1:
        assert found.loc[name, "S1"] == pytest.approx(expected_s1[name], abs=0.05)
        assert found.loc[name, "ST"] == pytest.approx(expected_st[name], abs=0.05)


def test_morris_screening_separates_influential_inputs_from_a_dummy():
    design = morris_design(ISHIGAMI, 40, seed=2)
    found = morris_indices(ISHIGAMI, design, ishigami(design), seed=2).set_index("parameter")
    assert found.loc["dummy", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    for name in ("x1", "x2", "x3"):
        assert found.loc[name, "mu_star"] > 0.5


def test_the_parameter_space_follows_declarations_and_defaults():
    space = {u.name: u for u in parameter_space()}
    assert "switch_il6" not in space and "age" not in space and "drug_CL" not in space
    calibrated = space["k_renal_il6"]                     # calibrated: x/÷ 1.5
    assert calibrated.high / calibrated.low == pytest.approx(1.5**2)
    assumed = space["k_cd4_activation"]                   # model assumption: x/÷ 3
    assert assumed.high / assumed.low == pytest.approx(9.0)
    with pytest.raises(InputError, match="unknown or non-positive"):
        parameter_space(names=["k_cd4_activation", "no_such_parameter"])


def test_a_declared_range_must_hold_the_value(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('k = { value = 5.0, unit = "1/h", description = "d", source = "s", '
                    'range = [1.0, 2.0] }\n')
    with pytest.raises(ModelError, match="outside its range"):
        load_parameters(path)
    path.write_text('k = { value = 1.5, unit = "1/h", description = "d", source = "s", '
                    'range = [1.0, 2.0] }\n')
    assert load_parameters(path)[0].range == (1.0, 2.0)


def test_a_small_il6sim_study_ranks_a_driver_above_an_irrelevant_parameter(tmp_path):
    """In severe COVID-19 the macrophage IL-6 rate moves peak IL-6; the growth rate of bacteria
    (there are none) moves nothing. Running again resumes the stored runs with the same result."""
    study = Study("covid19-severe", "morris", 2, 0, "tocilizumab", 4.5,
                  ("r_il6_mac_act", "r_bac_growth", "k_endo_act"))
    first = run_study(study, tmp_path, progress=False)
    assert set(first.output) == {"death_probability", "storm_hours", "peak_il6", "peak_crp",
                                 "min_pf", "treatment_effect"}
    mu = first.set_index(["output", "parameter"])["mu_star"]
    assert mu[("peak_il6", "r_il6_mac_act")] > 1.0
    assert (first[first.parameter == "r_bac_growth"]["mu_star"] == 0).all()
    again = run_study(study, tmp_path, progress=False)
    assert again.equals(first)


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "fast"], "use morris or sobol"),
    (["--method", "sobol", "--n", "6"], "not a power of 2"),
    (["--n", "0"], "--n"),
    (["--at-day", "nan"], "--at-day"),
    (["--params", "no_such_parameter"], "unknown or non-positive"),
    (["--scenario", "no-such-preset"], "no-such-preset"),
])
def test_bad_options_get_one_line_before_any_run(tmp_path, args, message):
    result = CliRunner().invoke(app, ["sensitivity", *args, "--out", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s" / "runs").exists()
