"""``PopulationTask``: a virtual population simulated with the fast engine, summarised per patient.

The task holds a table of per-patient parameter values, a dose table over the whole population,
a duration and a seed. Given any set of population indices it simulates exactly those patients
and returns their clinical outcomes (:func:`il6sim.clinical.outcomes`, death draws seeded by the
population index) and chosen read-out summaries, so :func:`~il6sim.runner.run_chunked` gives the
same table whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from ..clinical import outcomes
from ..engine import dose_table, simulate
from ..engine.results import SimulationResult
from ..errors import InputError
from ..model import default_model
from ..pharmacology import drug_parameters, list_drugs, load_drug
from ..scenario import Scenario, load_scenario
from ._fingerprint import model_fingerprint
from ._seeding import _check_seed

#: Summaries a read-out can be reduced to, per patient.
STATISTICS = ("max", "min", "final", "time_of_max")

#: Read-out summaries added to the clinical outcomes by default (peak IL-6, CRP and minimum P/F
#: are already among the outcomes).
DEFAULT_READOUTS: dict[str, tuple[str, str]] = {
    "peak_il6_time_h": ("il6", "time_of_max"),
    "min_lymphocytes": ("lymphocytes", "min"),
    "peak_ferritin": ("ferritin_level", "max"),
    "peak_viral_load": ("viral_load", "max"),
}


def summarise(result: SimulationResult, output: str, statistic: str) -> np.ndarray:
    """One value per patient: ``statistic`` (one of :data:`STATISTICS`) of a read-out over time;
    NaN for a failed patient."""
    values = result.output(output)
    failed = np.isnan(values).all(axis=1)
    safe = np.where(np.isnan(values), -np.inf if statistic != "min" else np.inf, values)
    if statistic == "max":
        out = safe.max(axis=1)
    elif statistic == "min":
        out = safe.min(axis=1)
    elif statistic == "final":
        out = values[:, -1]
    else:
        out = result.time[np.argmax(safe, axis=1)]
    return np.where(failed, np.nan, out)


class PopulationTask:
    """Simulate patients of a virtual population with the fast engine; one row per patient.

    Parameters
    ----------
    parameters : one row per patient (row ``i`` is patient ``i``), columns named after model
        parameters, numbers in each parameter's declared unit (``il6sim model`` lists them). A
        table with no columns gives identical patients.
    doses : dose events over the whole population (see :func:`il6sim.engine.dose_table`):
        ``patient = -1`` for everyone or a population index. An agent may name a drug
        (``tocilizumab``; :func:`il6sim.pharmacology.expand_regimen` makes such tables).
    duration_h, sampling_h : simulate ``[0, duration_h]`` hours, read out every ``sampling_h``.
    seed : seeds each patient's death draw with ``(seed, population index)``.
    base : overrides for every patient (any unit), under the table's columns.
    readouts : extra columns, ``{column: (read-out, statistic)}`` with a statistic from
        :data:`STATISTICS`; default :data:`DEFAULT_READOUTS`.
    backend, rtol : passed to :func:`il6sim.engine.simulate` (``"fast"`` or ``"reference"``).

    Calling the task with population indices returns :func:`il6sim.clinical.outcomes` for those
    patients (``patient`` = population index) plus the ``readouts`` columns.

    Examples
    --------
    >>> rngs = patient_rngs(1, range(100))
    >>> table = pd.DataFrame({"age": [rng.uniform(40, 90) for rng in rngs]})
    >>> task = PopulationTask.from_scenario("covid19-severe", table, seed=1)
    >>> run_chunked(task, 100, out_dir="out/pop")          # doctest: +SKIP
    """

    def __init__(
        self,
        parameters: pd.DataFrame,
        doses: Any = None,
        *,
        duration_h: float,
        sampling_h: float = 6.0,
        seed: int = 0,
        base: Mapping[str, Any] | None = None,
        readouts: Mapping[str, tuple[str, str]] | None = None,
        backend: str = "fast",
        rtol: float = 1e-6,
    ):
        model = default_model()
        self.parameters = _check_parameters(model, parameters)
        self.doses = _check_doses(model, dose_table(doses), len(self.parameters))
        for name, value in (("duration_h", duration_h), ("sampling_h", sampling_h)):
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise InputError(f"{name} = {value!r}; fix: give a number of hours above 0")
        self.duration_h, self.sampling_h = float(duration_h), float(sampling_h)
        self.seed = _check_seed(seed)
        self.base = {k: model.convert_parameter(k, v) for k, v in (base or {}).items()}
        self.readouts = _check_readouts(model, DEFAULT_READOUTS if readouts is None else readouts)
        if backend not in ("fast", "reference"):
            raise InputError(f"backend = {backend!r}; fix: use 'fast' or 'reference'")
        self.backend, self.rtol = backend, float(rtol)

    @classmethod
    def from_scenario(
        cls,
        scenario: str | PathLike | Scenario,
        parameters: pd.DataFrame,
        *,
        doses: Any = None,
        **options: Any,
    ) -> PopulationTask:
        """A population of a scenario's patient: its overrides and knock-outs as ``base``, its
        doses for everyone plus ``doses``, its duration and sampling; ``parameters`` varies
        patients around it. ``options`` go to the constructor."""
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        scenario.check()
        common = dose_table(scenario.dose_table())
        table = pd.concat([common, dose_table(doses)], ignore_index=True) if doses is not None \
            else common
        options = {"duration_h": scenario.duration_h, "sampling_h": scenario.sampling_h, **options}
        base = {**scenario.parameter_overrides(), **options.pop("base", {})}
        return cls(parameters, table, base=base, **options)

    def __len__(self) -> int:
        return len(self.parameters)

    def config(self) -> dict[str, Any]:
        """Everything that determines the results (for :func:`~il6sim.runner.run_chunked`)."""
        return {
            "model": model_fingerprint(default_model()),
            "parameters": self.parameters,
            "doses": self.doses,
            "duration_h": self.duration_h,
            "sampling_h": self.sampling_h,
            "seed": self.seed,
            "base": dict(sorted(self.base.items())),
            "readouts": {k: list(v) for k, v in self.readouts.items()},
            "backend": self.backend,
            "rtol": self.rtol,
            "drugs": {name: drug_parameters(name, default_model())
                      for name in sorted(set(self.doses.agent) & set(list_drugs()))},
        }

    def patient_table(self, indices: np.ndarray) -> pd.DataFrame:
        """The parameter overrides of these patients (``base`` under the table)."""
        table = self.parameters.iloc[indices].reset_index(drop=True)
        for name, value in self.base.items():
            if name not in table.columns:
                table[name] = value
        return table

    def patient_doses(self, indices: np.ndarray) -> pd.DataFrame:
        """The dose rows that reach these patients, with ``patient`` as the position in
        ``indices`` (``-1`` rows are kept)."""
        position = pd.Series(np.arange(len(indices)), index=indices)
        mine = self.doses[(self.doses.patient == -1) | self.doses.patient.isin(indices)].copy()
        personal = mine.patient != -1
        mine.loc[personal, "patient"] = position[mine.patient[personal]].to_numpy()
        return mine.reset_index(drop=True)

    def __call__(self, indices: np.ndarray) -> pd.DataFrame:
        """Outcomes and read-out summaries of the patients at these population indices."""
        indices = np.asarray(indices, dtype=np.int64)
        if len(indices) == 0 or indices.min() < 0 or indices.max() >= len(self):
            raise InputError(
                f"patient indices must lie in 0..{len(self) - 1}; fix: give indices of rows of "
                "the parameter table"
            )
        result = simulate(
            self.patient_table(indices), self.patient_doses(indices), t_end=self.duration_h,
            dt=self.sampling_h, seed=self.seed, backend=self.backend, rtol=self.rtol,
        )
        table = outcomes(result, seed=self.seed, patients=indices)
        for column, (output, statistic) in self.readouts.items():
            table[column] = summarise(result, output, statistic)
        return table

    def __repr__(self) -> str:
        return (f"PopulationTask({len(self)} patients, {len(self.doses)} doses, "
                f"{self.duration_h:g} h, seed={self.seed}, backend={self.backend!r})")


def _check_parameters(model, parameters: Any) -> pd.DataFrame:
    if not isinstance(parameters, pd.DataFrame) or len(parameters) == 0:
        raise InputError(
            "parameters must be a DataFrame with one row per patient; fix: pass e.g. "
            "pd.DataFrame({'age': ages}) (pd.DataFrame(index=range(n)) for identical patients)"
        )
    for column in parameters.columns:
        model.parameter(str(column))  # unknown names: InputError naming the column
        values = parameters[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values) \
                or not np.isfinite(values.to_numpy(float)).all():
            raise InputError(
                f"parameters column '{column}' must hold finite numbers in "
                f"{model.parameter(str(column)).unit}; fix: convert the values to that unit"
            )
    return parameters.reset_index(drop=True).astype(float)


def _check_doses(model, table: pd.DataFrame, n: int) -> pd.DataFrame:
    bad = table[(table.patient < -1) | (table.patient >= n)]
    if len(bad):
        raise InputError(
            f"a dose targets patient {int(bad.patient.iloc[0])} but the population has {n} "
            f"patients; fix: give patient indices 0..{n - 1}, or -1 for everyone"
        )
    drugs = set(list_drugs())
    for agent, route in table[["agent", "route"]].drop_duplicates().itertuples(index=False):
        if agent in drugs:
            load_drug(agent).check_route(route)
        else:
            model.route(agent, route)
    return table


def _check_readouts(model, readouts: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    checked = {}
    for column, spec in readouts.items():
        if not (isinstance(spec, tuple | list) and len(spec) == 2):
            raise InputError(
                f"readouts['{column}'] = {spec!r}; fix: give (read-out, statistic)"
            )
        output, statistic = spec
        if output not in model.output_index:
            raise InputError(
                f"readouts['{column}'] names unknown read-out '{output}'; fix: use one of "
                f"{', '.join(model.output_names)}"
            )
        if statistic not in STATISTICS:
            raise InputError(
                f"readouts['{column}'] has statistic '{statistic}'; fix: use one of "
                f"{', '.join(STATISTICS)}"
            )
        checked[str(column)] = (str(output), str(statistic))
    return checked
