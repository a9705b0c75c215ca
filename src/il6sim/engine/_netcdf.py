"""Results as CF-style NetCDF4 files, readable by any NetCDF tool (ncdump, Panoply, xarray).

Layout (CF Conventions 1.10 where they apply; Eaton B et al. NetCDF Climate and Forecast (CF)
Metadata Conventions, https://cfconventions.org):

* dimensions ``patient`` and ``time``; the coordinate ``time`` has ``units = "hours"``,
  ``axis = "T"`` and a ``long_name`` (hours since the start of the simulation: a model has no
  calendar date, so there is no ``since <date>``);
* one variable per read-out, named after it (``il6(patient, time)``), with ``units`` (the
  model's declared unit, ``1`` for dimensionless) and ``long_name`` (its description);
* one variable per state, ``state_<name>(patient, time)``, and per parameter,
  ``parameter_<name>(patient)``, each with ``units`` and ``long_name``;
* ``status(patient)``: ``ok`` or why the patient failed;
* global attributes ``Conventions``, ``title``, ``source``, ``history``, ``il6sim_version``,
  ``scenario``, ``seed``, and ``il6sim``: the JSON metadata (names, units, doses, settings) that
  :meth:`SimulationResult.load` needs to rebuild the result exactly.

Files are written as NetCDF4 (HDF5) with h5netcdf, or the netCDF4 library when that is the one
installed. Files of the earlier layout (all read-outs in one ``outputs`` variable) still load.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .results import SimulationResult

STATE_PREFIX = "state_"
PARAMETER_PREFIX = "parameter_"
CONVENTIONS = "CF-1.10"


def _engine() -> str:
    """The installed NetCDF4 writer: ``h5netcdf`` (preferred) or ``netcdf4``."""
    from importlib.util import find_spec

    for module, engine in (("h5netcdf", "h5netcdf"), ("netCDF4", "netcdf4")):
        if find_spec(module) is not None:
            return engine
    raise InputError("writing NetCDF4 needs the package h5netcdf; fix: pip install h5netcdf, "
                     "or save as .parquet")


def _declarations() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """``(kind, name) → description`` and ``name → unit`` of the model's states and
    parameters."""
    from ..model import default_model

    model = default_model()
    units = {p.name: p.unit for p in model.parameters}
    units.update({s.name: s.unit for s in model.states})
    found = {("output", o.name): o.description for o in model.outputs}
    found.update({("state", s.name): s.description for s in model.states})
    found.update({("parameter", p.name): p.description for p in model.parameters})
    return found, units


def _units(unit: str) -> str:
    return "1" if unit in ("", "dimensionless") else unit


def _attrs(kind: str, name: str, unit: str, descriptions: dict) -> dict[str, str]:
    return {"units": _units(unit), "long_name": descriptions.get((kind, name), name),
            "il6sim_kind": kind, "il6sim_name": name}


def cf_dataset(result: SimulationResult, metadata: dict[str, Any]) -> Any:
    """The result as an :class:`xarray.Dataset` in the layout above."""
    import xarray as xr

    descriptions, declared = _declarations()
    variables: dict[str, Any] = {}
    for j, name in enumerate(result.output_names):
        variables[name] = (("patient", "time"), result.outputs[:, :, j],
                           _attrs("output", name, result.output_units[j], descriptions))
    for j, name in enumerate(result.state_names):
        variables[STATE_PREFIX + name] = (
            ("patient", "time"), result.states[:, :, j],
            _attrs("state", name, declared.get(name, ""), descriptions))
    for j, name in enumerate(result.param_names):
        variables[PARAMETER_PREFIX + name] = (
            ("patient",), result.parameters[:, j],
            _attrs("parameter", name, declared.get(name, ""), descriptions))
    variables["status"] = (("patient",), np.array(result.status, dtype=object),
                           {"long_name": "ok, or why the patient's simulation failed"})
    version = str(result.settings.get("il6sim_version", metadata.get("version", "unknown")))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return xr.Dataset(
        variables,
        coords={
            "patient": ("patient", np.arange(result.n_patients),
                        {"long_name": "patient index in the simulated batch"}),
            "time": ("time", np.asarray(result.time, float),
                     {"units": "hours", "axis": "T",
                      "long_name": "time since the start of the simulation"}),
        },
        attrs={
            "Conventions": CONVENTIONS,
            "title": "il6sim simulation result",
            "source": f"il6sim {version}",
            "history": f"{now}: written by il6sim {version} (SimulationResult.save)",
            "il6sim_version": version,
            "scenario": str(result.settings.get("scenario", "")),
            "seed": "none" if result.seed is None else str(result.seed),
            "il6sim": json.dumps(metadata),
        },
    )


def write_netcdf(result: SimulationResult, metadata: dict[str, Any], path: Path) -> None:
    """Write ``result`` to ``path`` as CF-style NetCDF4 (compressed, full precision)."""
    dataset = cf_dataset(result, metadata)
    encoding = {name: {"zlib": True, "complevel": 4} for name, var in dataset.data_vars.items()
                if var.dtype.kind == "f"}
    dataset.to_netcdf(path, engine=_engine(), format="NETCDF4", encoding=encoding)


def read_netcdf(path: Path) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(metadata, time, outputs, states, parameters)`` of a file written by il6sim."""
    import xarray as xr

    with xr.open_dataset(path, decode_times=False) as ds:
        if "il6sim" not in ds.attrs:
            raise InputError(f"'{path}' is not an il6sim result; fix: give a file il6sim saved")
        meta = json.loads(ds.attrs["il6sim"])
        time = ds["time"].values.astype(float)
        if "outputs" in ds.data_vars:  # the earlier layout: one variable per kind
            return (meta, time, ds["outputs"].values, ds["states"].values,
                    ds["parameters"].values)
        outputs = np.stack([ds[name].values for name in meta["output_names"]], axis=-1)
        states = np.stack([ds[STATE_PREFIX + name].values for name in meta["state_names"]],
                          axis=-1)
        parameters = np.stack([ds[PARAMETER_PREFIX + name].values
                               for name in meta["param_names"]], axis=-1)
    return meta, time, outputs, states, parameters
