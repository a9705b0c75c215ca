"""Scenario files and presets: validation messages, unit handling, running, plotting."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from il6sim import list_presets, load_scenario
from il6sim.engine import SimulationResult
from il6sim.errors import InputError
from il6sim.model import default_model
from il6sim.plotting import axis_label, plot_comparison, plot_result, target_geometry
from il6sim.scenario import Scenario, knockout_switches

GOOD = """\
name: short-challenge
description: A short LPS challenge used by the tests.
knockouts: [il6]
patient:
  body_weight: 80000 g
doses:
  - {time: 30 min, agent: lps, route: iv, amount: 2000 pg/kg}
duration: 2 h
sampling: 15 min
outputs: [il6, tnf]
"""

# (file contents, field named in the message, words the message must contain)
BAD = {
    "unknown key": ("name: x\ndosse: []\n", "dosse", ["unknown key", "did you mean 'doses'?"]),
    "negative dose": (
        "name: x\ndoses:\n  - {time: 0 h, agent: lps, route: iv, amount: -2 ng/kg}\n",
        "doses[0].amount", ["negative dose -2 ng/kg", "fix: give an amount of 0 or more"],
    ),
    "wrong unit": (
        "name: x\ndoses:\n  - {time: 0 h, agent: lps, route: iv, amount: 2 mg/L}\n",
        "doses[0].amount", ["2 mg/L", "ng/kg"],
    ),
    "unknown parameter": (
        "name: x\npatient:\n  body_wieght: 70 kg\n",
        "patient.body_wieght", ["unknown parameter", "did you mean 'body_weight'?"],
    ),
    "parameter unit": (
        "name: x\npatient:\n  body_weight: 70 L\n", "patient.body_weight", ["kg"],
    ),
    "unknown output": ("name: x\noutputs: [il6, crpp]\n", "outputs[1]", ["'crp'"]),
    "unknown agent": (
        "name: x\ndoses:\n  - {time: 0 h, agent: lsp, amount: 2}\n",
        "doses[0].agent", ["unknown agent", "'lps'"],
    ),
    "unknown route": (
        "name: x\ndoses:\n  - {time: 0 h, agent: lps, route: oral, amount: 2}\n",
        "doses[0].route", ["iv"],
    ),
    "unknown knockout": ("name: x\nknockouts: [il-6]\n", "knockouts[0]", ["'il6'"]),
    "time unit": ("name: x\nduration: 2 kg\n", "duration", ["not a time"]),
    "negative time": (
        "name: x\ndoses:\n  - {time: -1 h, agent: lps, amount: 2}\n", "doses[0].time", ["0 h"],
    ),
    "sampling > duration": (
        "name: x\nduration: 1 h\nsampling: 2 h\n", "sampling", ["longer than the duration"],
    ),
    "missing name": ("doses: []\n", "name", ["missing", "add 'name:'"]),
    "unknown dose key": (
        "name: x\ndoses:\n  - {time: 0 h, agent: lps, amout: 2}\n",
        "doses[0].amout", ["did you mean 'amount'?"],
    ),
    "not a list": ("name: x\noutputs: il6\n", "outputs", ["expected a list"]),
}


@pytest.fixture(scope="module")
def model():
    return default_model()


def write(tmp_path, text, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_is_one_line_naming_the_field(tmp_path, case):
    text, field, words = BAD[case]
    path = write(tmp_path, text, "x.yaml")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(f"scenario '{path}', field '{field}': "), message
    assert "fix:" in message and "\n" not in message
    for word in words:
        assert word in message, message


def test_invalid_yaml_names_line_and_column(tmp_path):
    path = write(tmp_path, "name: x\nduration: 4 h\n  sampling: 1 h\n")
    with pytest.raises(InputError, match=r"line 3, column \d+: invalid YAML"):
        load_scenario(path)


def test_duplicate_key_and_non_mapping_are_rejected(tmp_path):
    with pytest.raises(InputError, match="'name' is given twice"):
        load_scenario(write(tmp_path, "name: a\nname: b\n"))
    with pytest.raises(InputError, match="not a mapping"):
        load_scenario(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(InputError, match="empty"):
        load_scenario(write(tmp_path, ""))


def test_unknown_preset_and_missing_file():
    with pytest.raises(InputError, match=r"unknown preset 'endotoxemia'.*'endotoxemia-2ngkg'"):
        load_scenario("endotoxemia")
    with pytest.raises(InputError, match="does not exist"):
        load_scenario("no/such/file.yaml")


def test_presets_are_listed_with_descriptions_and_load():
    presets = list_presets()
    assert {"healthy", "endotoxemia-2ngkg"} <= set(presets)
    assert all(description for description in presets.values())
    for name in presets:
        assert load_scenario(name).name == name
    healthy = load_scenario("healthy")
    assert healthy.doses == [] and healthy.duration_h == 28 * 24 and healthy.sampling_h == 1
    endotoxemia = load_scenario("endotoxemia-2ngkg")
    assert endotoxemia.duration_h == 48
    assert endotoxemia.dose_table().iloc[0][["agent", "amount", "unit"]].tolist() == [
        "lps", 2.0, "ng/kg"]


def test_units_are_converted(tmp_path):
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.duration_h == 2.0 and scenario.sampling_h == 0.25
    doses = scenario.dose_table()
    assert doses.time_h.tolist() == [0.5]
    assert doses.amount.tolist() == pytest.approx([2.0]) and doses.unit.tolist() == ["ng/kg"]
    overrides = scenario.parameter_overrides()
    assert overrides["body_weight"] == pytest.approx(80.0)
    assert overrides["switch_il6"] == 0.0


def test_knockout_names_map_to_switches(model):
    switches = knockout_switches(model)
    assert switches["il6"] == "switch_il6"
    assert {"tnf", "il1b", "il10", "classic_signalling", "trans_signalling"} <= set(switches)


def test_run_sets_knockout_switch_and_records_the_scenario(tmp_path, model):
    result = load_scenario(write(tmp_path, GOOD)).run()
    params = dict(zip(result.param_names, result.parameters[0], strict=True))
    assert params["switch_il6"] == 0.0
    assert params["switch_tnf"] == model.parameter("switch_tnf").value
    assert params["body_weight"] == pytest.approx(80.0)
    assert result.settings["scenario"] == "short-challenge"
    assert result.settings["scenario_definition"]["knockouts"] == ["il6"]
    assert result.time[-1] == pytest.approx(2.0) and np.diff(result.time) == pytest.approx(0.25)
    assert result.doses.amount.tolist() == pytest.approx([2.0])


def test_with_overrides_like_the_command_line(tmp_path):
    scenario = load_scenario(write(tmp_path, GOOD))
    changed = scenario.with_overrides(
        {"body_weight": "90", "duration": "3h", "knockouts": "tnf"})
    assert changed.parameter_overrides()["body_weight"] == 90.0
    assert changed.duration_h == 3.0 and changed.knockouts == ["il6", "tnf"]
    with pytest.raises(InputError, match=r"patient\.body_wieght"):
        scenario.with_overrides({"body_wieght": "90"})


def test_from_dict_and_targets_filter():
    scenario = Scenario.from_dict({
        "name": "lps", "doses": [{"time": 0, "agent": "lps", "amount": 2}],
        "targets": "endotoxemia"})
    assert scenario.source == "<dict>"
    assert scenario.load_targets()  # the calibration target set, filtered to 2 ng/kg and rest
    with pytest.raises(InputError, match="field 'targets': no target set"):
        Scenario.from_dict({"name": "x", "targets": "endotoxaemia"})
    keep = [SimpleNamespace(scenario="rest"), SimpleNamespace(scenario="lps_2ngkg"),
            SimpleNamespace(scenario="lps"), SimpleNamespace(dose_ngkg=2.0), SimpleNamespace()]
    drop = [SimpleNamespace(scenario="lps_4ngkg"), SimpleNamespace(dose_ngkg=4.0),
            SimpleNamespace(scenario="sepsis")]
    assert all(scenario._target_applies(t) for t in keep)
    assert not any(scenario._target_applies(t) for t in drop)


# ----- plotting (synthetic results: no simulation needed) --------------------------------------
def fake_result(n=1, hours=48.0):
    time = np.linspace(0, hours, 97)
    il6 = 2 + 1000 * np.exp(-((time - 2) ** 2) / 2)
    crp = 1 + 30 * (1 - np.exp(-time / 10))
    outputs = np.stack([np.column_stack([il6, crp]) * (1 + 0.1 * i) for i in range(n)])
    return SimulationResult(
        time=time, outputs=outputs, states=np.zeros((n, len(time), 0)),
        parameters=np.zeros((n, 0)), output_names=["il6", "crp"], output_units=["pg/mL", "mg/L"],
        state_names=[], param_names=[], status=["ok"] * n, doses=pd.DataFrame(),
        settings={"scenario": "fake"},
    )


TARGETS = [
    SimpleNamespace(output="il6", time_h=2.0, low=500.0, high=2000.0, label="IL-6 peak"),
    SimpleNamespace(output="il6", time_h=None, low=1.0, high=5.0, label="IL-6 at rest, any time"),
    SimpleNamespace(output="crp", time_h=24.0, low=10.0, high=None, label="CRP above 10"),
    SimpleNamespace(output="crp", time_h=12.0, low=3.0, high=1000.0, label="fold",
                    statistic="fold_over_rest_at", center=20.0),
    SimpleNamespace(output="il6", time_h=None, low=1.5, high=3.0, label="peak time",
                    statistic="time_of_peak", center=2.0),
    SimpleNamespace(output="tnf", time_h=1.0, low=1.0, high=2.0, label="not plotted"),
]


def test_plot_result_with_targets(tmp_path):
    path = plot_result(fake_result(), ["il6", "crp"], tmp_path / "plots" / "r.png",
                       targets=TARGETS, title="test")
    assert path.exists() and path.stat().st_size > 10_000


def test_plot_comparison_and_batches(tmp_path):
    runs = {"untreated": fake_result(), "treated": fake_result(n=30, hours=24 * 7)}
    path = plot_comparison(runs, ["il6", "crp"], tmp_path / "cmp.png", targets=TARGETS)
    assert path.exists() and path.stat().st_size > 10_000
    with pytest.raises(InputError, match="no output 'il7'"):
        plot_result(fake_result(), ["il7"], tmp_path / "x.png")
    with pytest.raises(InputError, match=r"\.png"):
        plot_result(fake_result(), ["il6"], tmp_path / "x.unknownformat")


def test_target_geometry_and_labels():
    reference = (np.array([0.0, 1.0, 2.0]), np.array([2.0, 100.0, 50.0]))
    rest = SimpleNamespace(output="il6", statistic="rest", time_h=None, low=1, high=5, center=2)
    fraction = SimpleNamespace(output="il6", statistic="fraction_of_peak_at", time_h=6.0,
                               low=0.0, high=0.1, center=0.03)
    mark = target_geometry(rest)
    assert (mark.kind, mark.time_h, mark.low, mark.high, mark.center) == ("point", 0, 1, 5, 2)
    # a fraction of the peak is a ratio: a marker on the curve at 6 h, never a band in pg/mL
    mark = target_geometry(fraction, reference)
    assert (mark.kind, mark.time_h, mark.low, mark.high) == ("marker", 6.0, 0.0, 0.1)
    assert mark.y == pytest.approx(50.0) and "% of peak" in mark.text
    assert target_geometry(fraction).kind == "note"
    assert axis_label("il6", "pg/mL") == "IL-6 (pg/mL)"
    assert axis_label("neutrophils", "cell/nL") == "Blood neutrophils (10⁹/L)"
