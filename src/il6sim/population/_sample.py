"""Drawing virtual patients from a declaration, and turning them into engine input.

Each patient ``i`` has its own random stream, ``SeedSequence(seed, spawn_key=(round, i))``
(NumPy; O'Neill ME 2014, PCG, HMC-CS-2014-0905), from which it draws one standard-normal
coordinate per random quantity (:attr:`PopulationSpec.coordinates`). A patient's values therefore
depend only on the seed and its index: ``sample(100)`` is the first 100 rows of ``sample(1000)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..model import Model, default_model
from ._spec import PopulationSpec

__all__ = ["COURSE_COLUMNS", "ONSET_COLUMN", "dose_table", "draw", "parameter_table",
           "patient_normals", "patient_uniforms"]

#: Columns with the drawn delays of the course, in hours.
COURSE_COLUMNS = {"onset_to_admission": "onset_to_admission_h",
                  "hypoxaemia_to_admission": "hypoxaemia_to_admission_h"}
#: Column with the patient's symptom threshold (in the unit of the onset read-out).
ONSET_COLUMN = "onset_threshold"


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"random_state = {seed!r}; fix: give a whole number of 0 or more")
    return int(seed)


def patient_normals(seed: int, indices: np.ndarray, dim: int, *, stream: int = 0) -> np.ndarray:
    """``(len(indices), dim)`` standard normals; row ``k`` depends only on ``(seed, stream,
    indices[k])``."""
    seed = _check_seed(seed)
    out = np.empty((len(indices), dim))
    for row, index in enumerate(indices):
        sequence = np.random.SeedSequence(seed, spawn_key=(int(stream), int(index)))
        out[row] = np.random.default_rng(sequence).standard_normal(dim)
    return out


def patient_uniforms(seed: int, indices: np.ndarray, *, stream: int) -> np.ndarray:
    """One uniform number per patient in ``indices``, depending only on ``(seed, stream,
    index)`` (the normal of :func:`patient_normals` through its distribution function)."""
    return stats.norm.cdf(patient_normals(seed, indices, 1, stream=stream)[:, 0])


def draw(spec: PopulationSpec, z: np.ndarray, patients: np.ndarray | None = None,
         *, model: Model | None = None) -> pd.DataFrame:
    """The table of virtual patients for coordinates ``z`` (``(n, len(spec.coordinates))``).

    Returns
    -------
    pandas.DataFrame
        one row per patient: ``patient``; ``inoculum`` (in the dose route's unit); each
        covariate; ``onset_threshold`` (the level of the onset read-out at which this patient's
        symptoms start, in the read-out's unit); the drawn delays (``onset_to_admission_h``,
        ``hypoxaemia_to_admission_h``); ``death_threshold`` (unit-exponential, see
        :mod:`._course`); one column per declared model parameter (declared unit).
    """
    model = model or default_model()
    z = np.atleast_2d(np.asarray(z, float))
    if z.shape[1] != len(spec.coordinates):
        raise InputError(f"coordinates have {z.shape[1]} columns but population '{spec.name}' "
                         f"has {len(spec.coordinates)}; fix: draw them with sample()")
    column = {name: z[:, k] for k, name in enumerate(spec.coordinates)}
    n = len(z)
    table = pd.DataFrame({"patient": np.arange(n) if patients is None else np.asarray(patients)})
    route = model.route(spec.infection_agent, spec.infection_route)
    scale = 1.0
    if spec.inoculum.unit and spec.inoculum.unit != route.dose_unit:
        from ..model.units import ureg

        scale = float(ureg.Quantity(1.0, spec.inoculum.unit).to(route.dose_unit).magnitude)
    table["inoculum"] = spec.inoculum.transform(column["inoculum"]) * scale
    covariates: dict[str, np.ndarray] = {}
    for name, distribution in spec.covariates.items():
        covariates[name] = distribution.transform(column[f"covariate:{name}"], covariates)
        table[name] = covariates[name]
    table[ONSET_COLUMN] = spec.onset_threshold.transform(column["course:onset"]) \
        * spec.onset_scale
    for name, distribution in spec.course.items():
        table[COURSE_COLUMNS[name]] = (distribution.transform(column[f"course:{name}"])
                                       * spec.course_scale_h[name])
    table["death_threshold"] = stats.expon.isf(stats.norm.cdf(column["death_threshold"]))
    for name, parameter in spec.parameters.items():
        if parameter.covariate is not None:
            values = covariates[parameter.covariate] * parameter.covariate_scale
        elif parameter.distribution is None:
            values = np.full(n, parameter.value)
        else:
            coordinate = column[f"parameter:{name}"]
            if spec.plausible_sd is not None:
                coordinate = np.clip(coordinate, -spec.plausible_sd, spec.plausible_sd)
            values = parameter.distribution.transform(coordinate, covariates,
                                                      median=parameter.median)
        for covariate, factor in parameter.effects.items():
            values = np.where(covariates[covariate] > 0.5, values * factor, values)
        table[name] = values
    return table


def parameter_table(spec: PopulationSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Engine input: one row per patient, the base scenario's overrides plus the population's
    parameter columns (declared units), ready for :func:`il6sim.simulate`."""
    missing = [name for name in spec.parameters if name not in table]
    if missing:
        raise InputError(f"population table lacks parameter column '{missing[0]}'; fix: use a "
                         f"table made by VirtualPopulation('{spec.name}')")
    out = pd.DataFrame({name: np.full(len(table), value)
                        for name, value in spec.base_overrides.items()
                        if name not in spec.parameters}, index=table.index)
    for name in spec.parameters:
        out[name] = table[name].to_numpy(float)
    return out.reset_index(drop=True)


def dose_table(spec: PopulationSpec, table: pd.DataFrame, *, model: Model | None = None
               ) -> pd.DataFrame:
    """The infecting dose of each patient at time 0 (rows ``patient`` = position in ``table``)."""
    model = model or default_model()
    route = model.route(spec.infection_agent, spec.infection_route)
    n = len(table)
    return pd.DataFrame({"patient": np.arange(n), "time_h": np.zeros(n),
                         "agent": spec.infection_agent, "route": spec.infection_route,
                         "amount": table["inoculum"].to_numpy(float), "unit": route.dose_unit})
