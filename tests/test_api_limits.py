"""The Python entry points apply the command line's limits (:mod:`il6sim.limits`).

``il6sim.simulate`` and ``il6sim.equilibrate`` refuse, before any work, what ``il6sim simulate``
and the scenario files refuse: each case below is one :class:`~il6sim.errors.InputError` with a
``fix:``, raised within seconds (before it could hang or allocate). A generated batch (an array
or a DataFrame) instead keeps its other patients and reports the one outside the limits as
failed, like a solver failure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import il6sim
from il6sim import limits
from il6sim.errors import InputError

LPS = [il6sim.Dose(0.0, "lps", 2.0)]

#: (keyword arguments of simulate, words the message must contain)
REFUSED = {
    "t_end-1e9": ({"t_end": 1e9, "dt": 1.0}, "beyond the limit"),
    "t_end-nan": ({"t_end": float("nan")}, "t_end"),
    "dt-1ns": ({"t_end": 48.0, "dt": 1e-9}, "below the limit of 1 s"),
    "dt-inf": ({"dt": float("inf")}, "dt"),
    "t_eval-inf": ({"t_eval": [0.0, np.inf]}, "t_eval"),
    "t_eval-decreasing": ({"t_eval": [0.0, 2.0, 1.0]}, "not decrease"),
    "t_eval-negative": ({"t_eval": [-1.0, 2.0]}, "start at 0 h"),
    "t_eval-too-many": ({"t_eval": np.zeros(limits.MAX_TIME_POINTS + 1)}, "above the limit"),
    "memory": ({"params": np.tile(il6sim.default_model().default_parameters(), (20_000, 1)),
                "t_end": 24 * 365.0, "dt": 0.25}, "GiB"),
    "age-minus-10": ({"params": {"age": -10}}, "parameter 'age'"),
    "switch-5": ({"params": {"switch_il6": 5}}, "give 0 (off) or 1 (on)"),
    "weight-1e-300": ({"params": {"body_weight": "1e-300 kg"}}, "outside 1–500 kg"),
    "rate-1e300": ({"params": {"k_cytokine_tp": 1e300}}, "more than"),
    "rate-nan": ({"params": {"k_cytokine_tp": float("nan")}}, "not a finite number"),
    "second-patient": ({"params": [{}, {"age": 200}]}, "patient 1: parameter 'age'"),
    "dose-1e300": ({"doses": [il6sim.Dose(0.0, "lps", 1e300)]}, "above the limit"),
    "dose-time-inf": ({"doses": [il6sim.Dose(float("inf"), "lps", 2.0)]}, "not a finite time"),
    "dose-time-1e9": ({"doses": [il6sim.Dose(1e9, "lps", 2.0)]}, "beyond the limit"),
    "5000-doses": ({"doses": [il6sim.Dose(0.001 * k, "lps", 2.0) for k in range(5000)]},
                   "exceed the limit"),
    "rtol-0": ({"rtol": 0.0}, "rtol"),
    "initial-states-shape": ({"initial_states": np.zeros(3)}, "initial_states"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_simulate_refuses_what_the_command_line_refuses(case):
    kwargs, words = REFUSED[case]
    kwargs = {"doses": LPS, "t_end": 2.0, "dt": 1.0, **kwargs}
    with pytest.raises(InputError) as raised:
        il6sim.simulate(**kwargs)
    message = str(raised.value)
    assert words in message and "fix:" in message and "\n" not in message, message


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"params": {"age": 130}}, "parameter 'age'"),
    ({"t_relax": float("nan")}, "t_relax"),
    ({"t_relax": 0.0}, "t_relax"),
])
def test_equilibrate_refuses_what_the_command_line_refuses(kwargs, words):
    with pytest.raises(InputError, match=words):
        il6sim.equilibrate(**kwargs)


def test_a_generated_batch_keeps_its_other_patients_and_reports_the_bad_one(model):
    matrix = np.tile(model.default_parameters(), (3, 1))
    matrix[1, model.param_index["age"]] = -10.0
    result = il6sim.simulate(matrix, LPS, t_end=4.0, dt=1.0, model=model)
    assert result.status[0] == result.status[2] == "ok"
    assert result.status[1].startswith("failed: parameter 'age': -10 year is outside")
    assert np.isnan(result.outputs[1]).all() and np.isfinite(result.outputs[[0, 2]]).all()
    assert result.parameters[1, model.param_index["age"]] == -10.0  # what was asked for
    np.testing.assert_array_equal(result.outputs[0], result.outputs[2])


def test_a_dataframe_batch_is_a_generated_batch(model):
    table = pd.DataFrame({"switch_il6": [1.0, 0.5]})
    result = il6sim.simulate(table, LPS, t_end=2.0, dt=1.0, model=model)
    assert result.status[0] == "ok"
    assert result.status[1].startswith("failed: parameter 'switch_il6'")


def test_equilibrate_reports_a_bad_row_of_a_batch(model):
    matrix = np.tile(model.default_parameters(), (2, 1))
    matrix[0, model.param_index["switch_tnf"]] = 7.0
    rest = il6sim.equilibrate(matrix, model=model)
    assert not rest.converged[0] and np.isnan(rest.states[0]).all()
    assert rest.status[0].startswith("failed: parameter 'switch_tnf'")
    assert rest.converged[1] and rest.status[1] == "ok"


def test_values_inside_the_limits_are_accepted(model):
    result = il6sim.simulate({"age": 120, "body_weight": "1 kg", "switch_il6": 0},
                             [il6sim.Dose(0.0, "lps", limits.MAX_DOSE_AMOUNT["ng/kg"] / 1e4)],
                             t_end=1.0, dt=0.5, model=model)
    assert result.status == ["ok"]
