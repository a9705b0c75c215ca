"""Engine behaviour: batches, doses as data, failures kept per patient, save → load identical."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import lps
from il6sim.engine import Dose, SimulationResult, simulate
from il6sim.errors import InputError


def test_batch_matches_single_patients(model):
    batch = simulate(
        [{"body_weight": 60.0}, {"body_weight": "90 kg"}], doses=lps(2.0), t_end=8.0, model=model
    )
    single = simulate({"body_weight": 90.0}, doses=lps(2.0), t_end=8.0, model=model)
    assert batch.outputs.shape[0] == 2
    assert np.allclose(batch.output("il6")[1], single.output("il6")[0], rtol=1e-6)
    # a heavier patient gets more endotoxin for the same ng/kg dose, and a higher IL-6 peak
    assert batch.output("il6")[1].max() > batch.output("il6")[0].max()


def test_dose_of_zero_equals_no_dose(model):
    none = simulate(t_end=12.0, model=model)
    zero = simulate(doses=[Dose(0.0, "lps", 0.0)], t_end=12.0, model=model)
    assert np.allclose(none.outputs, zero.outputs)


def test_dose_units_are_converted(model):
    ng = simulate(doses=[Dose(0.0, "lps", 2.0, unit="ng/kg")], t_end=6.0, model=model)
    ug = simulate(doses=[Dose(0.0, "lps", 0.002, unit="ug/kg")], t_end=6.0, model=model)
    assert np.allclose(ng.outputs, ug.outputs)
    with pytest.raises(InputError, match="cannot be converted to 'ng/kg'"):
        simulate(doses=[Dose(0.0, "lps", 2.0, unit="mg/L")], t_end=6.0, model=model)


def test_integration_is_split_at_dose_times(model):
    """A dose at 10 h leaves 0-10 h at rest and starts the response exactly at 10 h."""
    result = simulate(doses=[Dose(10.0, "lps", 2.0)], t_end=14.0, dt=0.5, model=model)
    lps_level = result.output("lps")[0]
    assert np.all(lps_level[result.time < 10.0] < 1e-12)
    assert lps_level[result.time == 10.0][0] > 40.0  # post-dose value reported at the dose time


def test_negative_or_unknown_doses_are_rejected(model):
    with pytest.raises(InputError, match="amount -1"):
        simulate(doses=[Dose(0.0, "lps", -1.0)], model=model)
    with pytest.raises(InputError, match=r"dose agent|no dose route"):
        simulate(doses=[Dose(0.0, "aspirin", 1.0)], model=model)


def test_a_failing_patient_is_flagged_not_fatal(model):
    bad = model.default_parameters().copy()
    bad[model.param_index["k_deg_tnf"]] = np.nan
    result = simulate(
        np.stack([model.default_parameters(), bad]), doses=lps(2.0), t_end=4.0, model=model
    )
    assert result.status[0] == "ok"
    assert result.status[1].startswith("failed")
    assert np.isnan(result.output("il6")[1]).all()
    assert np.isfinite(result.output("il6")[0]).all()


@pytest.mark.parametrize("suffix", [".parquet", ".nc"])
def test_save_then_load_gives_identical_results(tmp_path, endotoxemia, suffix):
    path = endotoxemia.save(tmp_path / f"result{suffix}")
    loaded = SimulationResult.load(path)
    assert np.array_equal(loaded.time, endotoxemia.time)
    assert np.array_equal(loaded.outputs, endotoxemia.outputs)
    assert np.array_equal(loaded.states, endotoxemia.states)
    assert np.array_equal(loaded.parameters, endotoxemia.parameters)
    assert loaded.output_names == endotoxemia.output_names
    assert loaded.status == endotoxemia.status
    assert loaded.settings == endotoxemia.settings
    assert loaded.doses.to_dict("list") == endotoxemia.doses.to_dict("list")


def test_saving_to_an_unknown_format_is_a_clear_error(tmp_path, endotoxemia):
    with pytest.raises(InputError, match=r"\.parquet or \.nc"):
        endotoxemia.save(tmp_path / "result.xlsx")
