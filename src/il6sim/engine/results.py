"""Simulation results: labelled arrays in clinical units that save to and load from files.

A :class:`SimulationResult` keeps everything needed to reproduce it: parameters, doses,
solver settings, seed, il6sim version and per-patient status. It saves to Parquet (one row per
patient and time, with the rest in the file's metadata) or CF-style NetCDF4 (one variable per
read-out, state and parameter with ``units`` and ``long_name``; :mod:`._netcdf`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

_STATE_PREFIX = "state:"
#: IL-6 source fluxes counted with another cell type's share: the phagocytes that clear blood
#: (Kupffer cells, splenic macrophages, monocytes) are macrophages in claim C01's list.
IL6_SOURCE_LINEAGE = {"sys_phagocytes": "macrophages"}
_META_KEY = b"il6sim"
#: Clinical scores a result computes from its read-outs (:mod:`il6sim.clinical`) for summaries
#: and figures, beside the model's read-outs: name -> (unit, label).
CLINICAL_OUTPUTS = {"sofa": ("", "SOFA score")}


@dataclass
class SimulationResult:
    """Trajectories of a batch of patients.

    Attributes
    ----------
    time : (T,) hours since the start of the simulation.
    outputs : (N, T, O) read-outs in clinical units (``output_units``).
    states : (N, T, S) model states in their declared units.
    parameters : (N, P) parameter values used, in declared units.
    status : per patient, ``"ok"`` or ``"failed: <reason>"``; failed rows are NaN.
    doses : the dose table applied.
    seed, settings : how the result was made (solver, tolerances, version, scenario).
    """

    time: np.ndarray
    outputs: np.ndarray
    states: np.ndarray
    parameters: np.ndarray
    output_names: list[str]
    output_units: list[str]
    state_names: list[str]
    param_names: list[str]
    status: list[str]
    doses: pd.DataFrame
    seed: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_patients(self) -> int:
        return self.outputs.shape[0]

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of patients whose integration succeeded."""
        return np.array([s == "ok" for s in self.status])

    def output(self, name: str) -> np.ndarray:
        """One read-out, shape ``(N, T)``; ``"sofa"``: the SOFA score (:data:`CLINICAL_OUTPUTS`)."""
        if name not in self.output_names:
            if name == "sofa":
                from ..clinical import sofa  # it builds on this module

                return sofa(self).astype(float)
            raise InputError(f"no output '{name}'; fix: use one of {', '.join(self.output_names)}")
        return self.outputs[:, :, self.output_names.index(name)]

    def state(self, name: str) -> np.ndarray:
        """One model state, shape ``(N, T)``."""
        if name not in self.state_names:
            raise InputError(f"no state '{name}'; fix: use one of {', '.join(self.state_names)}")
        return self.states[:, :, self.state_names.index(name)]

    def unit(self, output: str) -> str:
        if output not in self.output_names and output in CLINICAL_OUTPUTS:
            return CLINICAL_OUTPUTS[output][0]
        return self.output_units[self.output_names.index(output)]

    # ----- fluxes ---------------------------------------------------------------------------
    def fluxes(self, model=None) -> dict[str, np.ndarray]:
        """Every named flux over time, ``{name: (N, T)}``, recomputed from states and parameters.

        Units are in ``model.flux_units`` (the first changed state's unit per hour).
        """
        from ..model import default_model

        model = model or default_model()
        n, t, _ = self.states.shape
        y = self.states.reshape(n * t, -1).T
        p = np.repeat(self.parameters, t, axis=0).T
        return {k: v.reshape(n, t) for k, v in model.flux_values(y, p).items()}

    def il6_source_shares(self, model=None) -> pd.DataFrame:
        """Share of IL-6 production by cell type over time (claim C01).

        Returns a table with columns patient, time_h and one column per source (macrophages,
        t_cells, b_cells, endothelium, fibroblasts); the shares of a row sum to 1. The
        phagocytes that clear blood count with macrophages (:data:`IL6_SOURCE_LINEAGE`).
        """
        from ..model import default_model

        model = model or default_model()
        fluxes = self.fluxes(model)
        sources = {}
        for flux in model.fluxes:
            if flux.name.startswith("prod_il6_"):
                # rates are concentrations per hour in the compartment of the IL-6 they make;
                # multiply by that compartment's volume to compare amounts made per hour
                compartment = model.states[model.state_index[next(iter(flux.changes))]].compartment
                volume_name = "V_plasma" if compartment == "plasma" else "V_tissue"
                volume = self.parameters[:, model.param_index[volume_name]][:, None]
                source = flux.name.removeprefix("prod_il6_")
                source = IL6_SOURCE_LINEAGE.get(source, source)
                sources[source] = sources.get(source, 0.0) + fluxes[flux.name] * volume
        total = sum(sources.values())
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = {k: np.where(total > 0, v / total, np.nan) for k, v in sources.items()}
        n, t = total.shape
        frame = {"patient": np.repeat(np.arange(n), t), "time_h": np.tile(self.time, n)}
        frame.update({k: v.reshape(-1) for k, v in shares.items()})
        return pd.DataFrame(frame)

    # ----- tables and labelled arrays -----------------------------------------------------
    def to_frame(self, *, states: bool = False) -> pd.DataFrame:
        """A wide table: one row per patient and time, one column per read-out (and state)."""
        n, t = self.n_patients, len(self.time)
        data: dict[str, Any] = {
            "patient": np.repeat(np.arange(n), t),
            "time_h": np.tile(self.time, n),
        }
        for i, name in enumerate(self.output_names):
            data[name] = self.outputs[:, :, i].reshape(-1)
        if states:
            for i, name in enumerate(self.state_names):
                data[_STATE_PREFIX + name] = self.states[:, :, i].reshape(-1)
        return pd.DataFrame(data)

    def to_xarray(self):
        """An :class:`xarray.Dataset` with dimensions patient, time, output, state, parameter."""
        import xarray as xr

        return xr.Dataset(
            {
                "outputs": (("patient", "time", "output"), self.outputs),
                "states": (("patient", "time", "state"), self.states),
                "parameters": (("patient", "parameter"), self.parameters),
                "status": (("patient",), np.array(self.status, dtype=str)),
            },
            coords={
                "patient": np.arange(self.n_patients),
                "time": ("time", self.time, {"units": "hour"}),
                "output": self.output_names,
                "state": self.state_names,
                "parameter": self.param_names,
                "output_unit": ("output", self.output_units),
            },
            attrs={"il6sim": json.dumps(self._metadata(include_arrays=False))},
        )

    # ----- save and load --------------------------------------------------------------------
    def _metadata(self, *, include_arrays: bool) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "output_names": self.output_names,
            "output_units": self.output_units,
            "state_names": self.state_names,
            "param_names": self.param_names,
            "status": self.status,
            "doses": self.doses.to_dict(orient="list"),
            "seed": self.seed,
            "settings": self.settings,
        }
        if include_arrays:
            meta["parameters"] = self.parameters.tolist()
            meta["time"] = self.time.tolist()
        return meta

    def save(self, path: str | Path) -> Path:
        """Write to ``.parquet`` or ``.nc`` (chosen by the suffix; ``.nc`` is CF-style NetCDF4
        with one variable per read-out, state and parameter, see :mod:`._netcdf`)."""
        path = Path(path)
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.to_frame(states=True), preserve_index=False)
            meta = dict(table.schema.metadata or {})
            meta[_META_KEY] = json.dumps(self._metadata(include_arrays=True)).encode()
            pq.write_table(table.replace_schema_metadata(meta), path)
        elif path.suffix in (".nc", ".netcdf"):
            from ._netcdf import write_netcdf

            write_netcdf(self, self._metadata(include_arrays=False), path)
        else:
            raise InputError(
                f"cannot save results as '{path.suffix}'; fix: end the file name in .parquet or .nc"
            )
        return path

    @classmethod
    def _from_arrays(cls, meta, time, outputs, states, parameters) -> SimulationResult:
        return cls(
            time=time, outputs=outputs, states=states, parameters=parameters,
            output_names=meta["output_names"], output_units=meta["output_units"],
            state_names=meta["state_names"], param_names=meta["param_names"],
            status=meta["status"], doses=pd.DataFrame(meta["doses"]), seed=meta["seed"],
            settings=meta["settings"],
        )

    @classmethod
    def load(cls, path: str | Path) -> SimulationResult:
        """Read a result written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"results file '{path}' does not exist; fix: check the path")
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(_META_KEY)
            if raw is None:
                raise InputError(f"'{path}' is not an il6sim result; fix: give a file il6sim saved")
            meta = json.loads(raw)
            frame = table.to_pandas()
            n, t = len(meta["status"]), len(meta["time"])
            outputs = frame[meta["output_names"]].to_numpy().reshape(n, t, -1)
            states = (
                frame[[_STATE_PREFIX + s for s in meta["state_names"]]].to_numpy().reshape(n, t, -1)
            )
            return cls._from_arrays(
                meta, np.asarray(meta["time"], float), outputs, states,
                np.asarray(meta["parameters"], float).reshape(n, -1),
            )
        if path.suffix in (".nc", ".netcdf"):
            from ._netcdf import read_netcdf

            return cls._from_arrays(*read_netcdf(path))
        raise InputError(
            f"cannot read results from '{path.suffix}'; fix: give a .parquet or .nc file"
        )
