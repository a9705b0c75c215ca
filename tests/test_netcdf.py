"""NetCDF output is CF-style NetCDF4: one variable per read-out, state and parameter with
``units`` and ``long_name``, a time coordinate with units, global attributes naming the model
version and the scenario; it is read back here with xarray and with h5py (HDF5, no il6sim)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr

import il6sim
from il6sim.engine import SimulationResult
from il6sim.engine._netcdf import PARAMETER_PREFIX, STATE_PREFIX
from il6sim.errors import InputError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(result, path): two patients of the endotoxemia preset, the second one failed."""
    scenario = il6sim.load_scenario("endotoxemia-2ngkg")
    result = scenario.run()
    model = il6sim.default_model()
    matrix = np.tile(result.parameters[0], (2, 1))
    matrix[1, model.param_index["age"]] = -1.0  # refused per patient: kept, failed, NaN
    batch = il6sim.simulate(matrix, result.doses, t_end=6.0, dt=0.5, model=model, seed=7,
                            settings={"scenario": scenario.name})
    path = tmp_path_factory.mktemp("nc") / "result.nc"
    batch.save(path)
    return batch, path


def test_the_file_is_netcdf4_with_cf_attributes(saved):
    result, path = saved
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # NetCDF4 is HDF5, not netCDF3
    with xr.open_dataset(path, decode_times=False) as ds:
        assert ds.attrs["Conventions"] == "CF-1.10"
        assert ds.attrs["il6sim_version"] == result.settings["il6sim_version"]
        assert ds.attrs["scenario"] == "endotoxemia-2ngkg"
        assert ds.attrs["seed"] == "7"
        assert "il6sim" in ds.attrs["source"] and ds.attrs["history"]
        time = ds["time"]
        assert time.attrs["units"] == "hours" and time.attrs["axis"] == "T"
        np.testing.assert_array_equal(time.values, result.time)
        assert list(ds["status"].values) == result.status


def test_one_variable_per_output_state_and_parameter_with_units_and_long_name(saved, model):
    result, path = saved
    with xr.open_dataset(path) as ds:
        for decl in model.outputs:
            variable = ds[decl.name]
            assert variable.dims == ("patient", "time")
            assert variable.attrs["units"] == (decl.unit if decl.unit != "dimensionless"
                                               else "1")
            assert variable.attrs["long_name"] == decl.description
            np.testing.assert_array_equal(variable.values, result.output(decl.name))
        for decl in model.states:
            variable = ds[STATE_PREFIX + decl.name]
            assert variable.dims == ("patient", "time") and variable.attrs["long_name"]
            assert variable.attrs["units"] in (decl.unit, "1")
        for decl in model.parameters:
            variable = ds[PARAMETER_PREFIX + decl.name]
            assert variable.dims == ("patient",)
            assert variable.attrs["units"] in (decl.unit, "1")
            assert variable.attrs["long_name"] == decl.description
        il6 = ds["il6"].values
    assert np.isfinite(il6[0]).all() and np.isnan(il6[1]).all()  # the failed patient


def test_a_plain_hdf5_reader_sees_the_units(saved):
    _, path = saved
    with h5py.File(path, "r") as handle:
        assert handle["il6"].attrs["units"] in ("pg/mL", b"pg/mL")
        assert handle["crp"].shape == (2, len(handle["time"]))


def test_load_gives_the_result_back_exactly(saved):
    result, path = saved
    loaded = SimulationResult.load(path)
    for name in ("time", "outputs", "states", "parameters"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
    assert loaded.status == result.status and loaded.seed == result.seed
    assert loaded.settings == result.settings
    assert loaded.output_names == result.output_names and loaded.param_names == result.param_names


def test_a_file_of_the_earlier_layout_still_loads(saved, tmp_path):
    result, _ = saved
    old = tmp_path / "old.nc"
    result.to_xarray().to_netcdf(old, engine="h5netcdf")  # outputs/states/parameters arrays
    loaded = SimulationResult.load(old)
    np.testing.assert_array_equal(loaded.outputs, result.outputs)


def test_a_netcdf_file_not_written_by_il6sim_is_a_clear_error(tmp_path):
    other = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(other, engine="h5netcdf")
    with pytest.raises(InputError, match="not an il6sim result"):
        SimulationResult.load(other)


def test_without_a_netcdf4_writer_saving_says_what_to_install(saved, tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(InputError, match="pip install h5netcdf"):
        saved[0].save(tmp_path / "x.nc")
