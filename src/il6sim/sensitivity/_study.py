"""A sensitivity study of il6sim: which uncertain parameters drive a scenario's outcomes.

The scenario's patient (a preset such as ``covid19-severe``) is simulated at every row of a
Morris or Sobol design over the uncertain parameters (:mod:`._space`), untreated and, with
``treat``, treated from ``at_day``; each run is summarised by :func:`il6sim.clinical.outcomes`.
The outputs analysed are :data:`OUTPUTS`; ``treatment_effect`` is the fall in the probability of
death that the treatment brings (percentage points). Evaluations run through
:func:`il6sim.runner.run_chunked`: stored as they finish, resumed, optionally on Dask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import default_model
from ..runner import PopulationTask, run_chunked
from ..scenario import load_scenario
from . import _analysis
from ._space import Uncertain, parameter_space

#: Analysed outputs: name → (column of :func:`il6sim.clinical.outcomes`, description).
OUTPUTS = {
    "death_probability": "probability of death by the end of the scenario",
    "storm_hours": "hours in cytokine storm",
    "peak_il6": "peak serum IL-6 (pg/mL)",
    "peak_crp": "peak CRP (mg/L)",
    "min_pf": "lowest P/F ratio (mmHg)",
    "treatment_effect": "fall in the probability of death with the treatment (percentage points)",
}


@dataclass(frozen=True)
class Study:
    """What a study varies and measures."""

    scenario: str = "covid19-severe"
    method: str = "morris"
    n: int = 10
    seed: int = 0
    treat: str | None = "tocilizumab"
    at_day: float = 4.5
    parameters: tuple[str, ...] | None = None

    def space(self) -> list[Uncertain]:
        """The uncertain parameters, centred on the scenario's own values where it sets them."""
        model = default_model()
        scenario = load_scenario(self.scenario)
        names = list(self.parameters) if self.parameters is not None else None
        space = parameter_space(model, names)
        overrides = {k: model.convert_parameter(k, v)
                     for k, v in scenario.parameter_overrides().items()}
        centred = []
        for u in space:
            value = overrides.get(u.name)
            if value is not None and u.basis != "declared range" and value > 0:
                factor = np.sqrt(u.high / u.low)
                u = Uncertain(u.name, value / factor, value * factor, u.basis)
            centred.append(u)
        return centred

    def outputs(self) -> list[str]:
        return [o for o in OUTPUTS if o != "treatment_effect" or self.treat]


def _doses(study: Study) -> pd.DataFrame | None:
    if not study.treat:
        return None
    from ..pharmacology import drug_names, expand_regimen, load_drug

    scenario = load_scenario(study.scenario)
    weight = float(scenario.parameter_overrides().get("body_weight", 70.0))
    regimen = load_drug(study.treat).default_regimen if study.treat in drug_names() \
        else study.treat
    return expand_regimen(regimen, weight_kg=weight, start_h=24.0 * study.at_day)


def evaluate(study: Study, space: list[Uncertain], design: np.ndarray, out_dir: Path, *,
             scheduler=None, progress: bool = True) -> pd.DataFrame:
    """Outcomes at every design row (log10 values); one row per design row."""
    table = pd.DataFrame(10.0 ** design, columns=[u.name for u in space])
    runs = {"untreated": None, "treated": _doses(study)} if study.treat else {"untreated": None}
    found = {}
    for arm, doses in runs.items():
        task = PopulationTask.from_scenario(study.scenario, table, doses=doses, seed=study.seed)
        found[arm] = run_chunked(task, len(table), out_dir=out_dir / arm, scheduler=scheduler,
                                 progress=progress).set_index("patient").sort_index()
    y = found["untreated"][[o for o in OUTPUTS if o != "treatment_effect"]].copy()
    if study.treat:
        y["treatment_effect"] = 100.0 * (found["untreated"]["death_probability"]
                                         - found["treated"]["death_probability"])
    failed = (found["untreated"]["status"] != "ok").to_numpy()
    if study.treat:
        failed |= (found["treated"]["status"] != "ok").to_numpy()
    y = y.reset_index(drop=True)
    y["failed"] = failed
    return y


def _complete(study: Study, space: list[Uncertain], design: np.ndarray, y: pd.DataFrame
              ) -> tuple[np.ndarray, pd.DataFrame, int]:
    """Drop the Morris trajectories with a run the solver failed (each trajectory is ``k + 1``
    consecutive rows); Sobol needs every run, so a failure there is an error."""
    failed = y.pop("failed").to_numpy()
    if not failed.any():
        return design, y, 0
    if study.method == "sobol":
        raise InputError(f"{int(failed.sum())} of {len(failed)} Sobol runs failed in the "
                         "solver; fix: vary fewer parameters (--params) or narrow their ranges")
    rows = len(space) + 1
    bad = failed.reshape(-1, rows).any(axis=1)
    if bad.all() or (~bad).sum() < 2:
        raise InputError(f"solver failures in {int(bad.sum())} of {len(bad)} Morris "
                         "trajectories leave fewer than 2; fix: raise --n or narrow ranges")
    keep = np.repeat(~bad, rows)
    return design[keep], y[keep].reset_index(drop=True), int(bad.sum())


def run_study(study: Study, out_dir: str | Path, *, scheduler=None, progress: bool = True,
              top: int = 10) -> pd.DataFrame:
    """Indices of every output (one table: ``output`` column plus the method's indices).

    Sobol without an explicit parameter list first screens all uncertain parameters with
    Morris (``n`` = 10 trajectories) and keeps the ``top`` by μ* of the ranking output
    (``treatment_effect`` with a treatment, else ``death_probability``).
    """
    out_dir = Path(out_dir)
    if study.method not in ("morris", "sobol"):
        raise InputError(f"method '{study.method}'; fix: use morris or sobol")
    if study.method == "sobol" and study.parameters is None:
        screen = run_study(Study(study.scenario, "morris", 10, study.seed, study.treat,
                                 study.at_day), out_dir / "screening", scheduler=scheduler,
                           progress=progress)
        rank_by = "treatment_effect" if study.treat else "death_probability"
        names = screen[screen.output == rank_by].head(top)["parameter"].tolist()
        study = Study(study.scenario, "sobol", study.n, study.seed, study.treat, study.at_day,
                      tuple(names))
    space = study.space()
    spec = _analysis.problem([u.name for u in space], [u.log_bounds for u in space])
    design = (_analysis.morris_design(spec, study.n, study.seed) if study.method == "morris"
              else _analysis.sobol_design(spec, study.n, study.seed))
    y = evaluate(study, space, design, out_dir / "runs", scheduler=scheduler, progress=progress)
    design, y, dropped = _complete(study, space, design, y)
    basis = {u.name: u.basis for u in space}
    low = {u.name: u.low for u in space}
    high = {u.name: u.high for u in space}
    tables = []
    for output in study.outputs():
        if study.method == "morris":
            found = _analysis.morris_indices(spec, design, y[output].to_numpy(), study.seed)
        else:
            found = _analysis.sobol_indices(spec, y[output].to_numpy(), study.seed)
        found.insert(0, "output", output)
        found["low"] = found.parameter.map(low)
        found["high"] = found.parameter.map(high)
        found["basis"] = found.parameter.map(basis)
        tables.append(found)
    indices = pd.concat(tables, ignore_index=True)
    indices.attrs["dropped_trajectories"] = dropped
    out_dir.mkdir(parents=True, exist_ok=True)
    indices.to_csv(out_dir / f"{study.method}.csv", index=False)
    y.to_parquet(out_dir / f"{study.method}_outputs.parquet")
    return indices
