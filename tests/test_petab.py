"""PEtab export of the endotoxemia calibration (``il6sim export petab``).

The problem is loaded and linted by the ``petab`` library (Schmiester L et al. 2021 PLoS
Comput Biol 17:e1008646), the reference implementation of the format; the tables are checked
against the target file and the parameters' ``calibrated_to``.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from il6sim.calibration import load_targets
from il6sim.cli import app
from il6sim.interop._petab import MEASURABLE
from il6sim.model import default_model

petab = pytest.importorskip("petab.v1")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("petab")
    result = CliRunner().invoke(app, ["export", "petab", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_problem_passes_the_petab_linter(exported):
    problem = petab.Problem.from_yaml(str(exported / "problem.yaml"))
    assert petab.lint_problem(problem) is False  # False: no errors
    assert len(problem.measurement_df) > 0 and len(problem.x_free_ids) > 0


def test_measurements_are_the_targets_that_are_values_at_a_time(exported):
    targets = load_targets("endotoxemia")
    measurable = [t for t in targets if t.statistic in MEASURABLE and not t.knockout]
    measured = pd.read_csv(exported / "measurements.tsv", sep="\t")
    assert list(measured.datasetId) == [t.id.replace(".", "_") for t in measurable]
    for target, row in zip(measurable, measured.itertuples(), strict=True):
        assert row.measurement == pytest.approx(target.center)
        assert row.observableId == f"obs_{target.output}"
        if target.statistic == "rest":
            assert math.isinf(row.time) and row.simulationConditionId == "rest"
        else:
            assert row.time == target.time_h and row.preequilibrationConditionId == "rest"
        assert row.noiseParameters == pytest.approx(
            (math.log10(target.high) - math.log10(target.low)) / 4)
    notes = (exported / "README.md").read_text(encoding="utf-8")
    for target in targets:
        if target not in measurable:
            assert f"`{target.id}`" in notes


def test_calibrated_parameters_are_estimated_within_bounds_and_the_rest_fixed(exported):
    ids = {t.id for t in load_targets("endotoxemia")}
    model = default_model()
    calibrated = {p.name for p in model.parameters if ids & set(p.calibrated_to)}
    table = pd.read_csv(exported / "parameters.tsv", sep="\t").set_index("parameterId")
    assert set(table.index) == set(model.param_index)
    estimated = table[table.estimate == 1]
    assert set(estimated.index) == calibrated and "k_mac_act" in calibrated
    assert (estimated.parameterScale == "log10").all()
    assert ((estimated.lowerBound < estimated.nominalValue)
            & (estimated.nominalValue < estimated.upperBound)).all()
    assert (estimated.objectivePriorType == "parameterScaleUniform").all()
    fixed = table[table.estimate == 0]
    for name, row in fixed.iterrows():
        assert row.nominalValue == pytest.approx(model.parameters[model.param_index[name]].value)


def test_conditions_set_the_lps_dose(exported):
    conditions = pd.read_csv(exported / "conditions.tsv", sep="\t").set_index("conditionId")
    assert conditions.dose1_amount.to_dict() == {"rest": 0.0, "lps_2ngkg": 2.0,
                                                 "lps_4ngkg": 4.0}


@pytest.mark.parametrize("args, text", [
    (["--targets", "../x"], "not a target set name"),
    (["--targets", "pharmacology"], "not a set of calibration targets"),
    (["--targets", "nope"], "no target set 'nope'"),
])
def test_bad_options_are_refused_before_any_work(tmp_path, args, text):
    out = tmp_path / "p"
    result = CliRunner().invoke(app, ["export", "petab", "--out", str(out), *args])
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and text in result.stderr
    assert not out.exists()
