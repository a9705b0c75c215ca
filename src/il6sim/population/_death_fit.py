"""Fit of the death hazard's constants to published mortality (:mod:`il6sim.clinical._death`).

The untreated calibrated COVID-19 population is simulated once; its SOFA, age and refractory-shock
terms (:func:`il6sim.clinical.hazard_terms`) do not depend on the hazard, so each trial set of
coefficients is scored in closed form, as an *expectation over each patient's death draw*: a
patient admitted at ``a`` is in the hospital's books with weight ``exp(−H(a))`` (alive at
admission; the population admits only the living) and dies within follow-up with probability
``1 − exp(−(H(a + 28 d) − H(a)))``. The statistics (:data:`POPULATION_STATISTICS`) are
weighted means of that probability over the admitted patients, overall, by invasive ventilation
(P/F < 150 during the stay) and by age band, and the median of the mixture of admission-to-death
times. ``scipy.optimize.least_squares`` fits ``log HAZARD_BASE``, ``HAZARD_SLOPE``,
``HAZARD_HIGH_SLOPE`` and ``HAZARD_AGE`` (bounded 0–1 per decade) to the ``role: fitted`` rows of
``data/targets/death.yaml``, each residual divided by its row's ``sd``; the held-SOFA rows
(:func:`held_sofa_mortality`) pin the hazard above the COVID-19 patients' usual SOFA range.

Reference: Karagiannidis C 2020 Lancet Respir Med 8:853 (mortality by ventilation and age);
Yan L 2020 Nat Mach Intell 2:283 (the shipped cohort's times to death).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import least_squares

from ..clinical import VENTILATION_PF, cumulative_hazard, hazard_from_terms, hazard_terms
from ..engine import simulate
from ._calibrated import load_calibrated
from ._course import implausible, read_course
from ._sample import dose_table, draw, parameter_table
from ._spec import load_population_spec

__all__ = ["DeathFitData", "death_fit_data", "death_statistics", "fit_death_hazard",
           "held_sofa_mortality", "load_death_targets"]

#: days after admission on which the admission-to-death distribution is evaluated
_GRID_DAYS = np.arange(0.0, 28.0 + 1e-9, 0.25)


def load_death_targets() -> list[dict]:
    """The rows of ``data/targets/death.yaml``."""
    text = (files("il6sim") / "data" / "targets" / "death.yaml").read_text()
    return yaml.safe_load(text)["targets"]


@dataclass
class DeathFitData:
    """What the fit needs of an untreated population: hazard terms, admission, ventilation."""

    time: np.ndarray
    terms: dict
    admission_h: np.ndarray
    admitted: np.ndarray
    ventilated: np.ndarray
    age: np.ndarray
    followup_h: float


def death_fit_data(n: int = 600, *, seed: int = 0,
                   population: str = "covid19-hospitalised") -> DeathFitData:
    """Simulate ``n`` untreated patients of the calibrated ``population`` (the shipped
    calibration) and keep what :func:`death_statistics` reads."""
    spec = load_population_spec(population)
    indices = np.arange(n)
    table = draw(spec, load_calibrated(spec).draw(seed, indices), patients=indices)
    result = simulate(parameter_table(spec, table), dose_table(spec, table),
                      t_end=spec.duration_h, dt=spec.sampling_h, backend="fast",
                      settings={"death-fit": population})
    course = read_course(spec, table, result, {}, {}, {})
    admission = course["admission_h"].to_numpy(float)
    ok = np.array([s == "ok" for s in result.status])
    admitted = ok & (admission <= spec.latest_admission_h) & ~implausible(course)
    stay = ((result.time[None, :] >= admission[:, None])
            & (result.time[None, :] <= admission[:, None] + spec.followup_h))
    ventilated = ((result.output("pf_ratio") < VENTILATION_PF) & stay).any(axis=1)
    return DeathFitData(result.time, hazard_terms(result), np.nan_to_num(admission),
                        admitted, ventilated, table["age"].to_numpy(float), spec.followup_h)


def held_sofa_mortality(sofa: float, days: float, **coefficients) -> float:
    """Probability of death of a patient of the reference age whose SOFA is held at ``sofa``
    for ``days`` (rows ``statistic: held_sofa``)."""
    terms = {"sofa": np.array([[float(sofa)]]), "age_decades": np.zeros((1, 1)),
             "refractory": np.zeros((1, 1))}
    return float(1.0 - np.exp(-hazard_from_terms(terms, **coefficients)[0, 0] * days * 24.0))


def death_statistics(data: DeathFitData, *, base: float, slope: float, high_slope: float,
                     age: float) -> dict[str, float]:
    """The population statistics of ``data/targets/death.yaml`` under the given coefficients
    (module docstring): death fractions overall, by ventilation and by age band, and the
    median days from admission to death."""
    rate = hazard_from_terms(data.terms, base=base, slope=slope, high_slope=high_slope, age=age)
    cumulative = cumulative_hazard(data.time, rate)
    rows = np.arange(len(data.admission_h))

    def at(hours):
        index = np.clip(np.searchsorted(data.time, hours), 0, len(data.time) - 1)
        return cumulative[rows, index]

    at_admission = at(data.admission_h)
    weight = np.where(data.admitted, np.exp(-at_admission), 0.0)
    dead_by = np.stack([1.0 - np.exp(-(at(data.admission_h + day * 24.0) - at_admission))
                        for day in _GRID_DAYS], axis=1)
    dies = dead_by[:, -1]

    def fraction(group):
        return float(np.sum(weight * dies * group) / np.sum(weight * group))

    mixture = (weight[:, None] * dead_by).sum(axis=0) / np.sum(weight * dies)
    return {
        "death_fraction": fraction(np.ones_like(dies)),
        "death_fraction_ventilated": fraction(data.ventilated),
        "death_fraction_not_ventilated": fraction(~data.ventilated),
        "death_fraction_age_70_79": fraction((data.age >= 70) & (data.age < 80)),
        "death_fraction_age_80_plus": fraction(data.age >= 80),
        "admission_to_death_median": float(np.interp(0.5, mixture, _GRID_DAYS)),
    }


def fit_death_hazard(data: DeathFitData, targets: list[dict] | None = None) -> dict:
    """Weighted least-squares fit of ``base``, ``slope``, ``high_slope`` and ``age`` to the
    fitted rows (population statistics and held-SOFA rows).

    Returns ``{"base", "slope", "high_slope", "age", "rows": DataFrame(id, target, model, sd,
    low, high)}``."""
    rows = [t for t in (targets or load_death_targets()) if t["role"] == "fitted"]

    def values(coefficients):
        stats = death_statistics(data, **coefficients)
        stats["slope_per_point"] = coefficients["slope"]
        return [held_sofa_mortality(r["sofa"], r["days"], **coefficients)
                if r["statistic"] == "held_sofa" else stats[r["statistic"]] for r in rows]

    def coefficients(x):
        return {"base": float(np.exp(x[0])), "slope": float(x[1]), "high_slope": float(x[2]),
                "age": float(x[3])}

    def residuals(x):
        return np.array([(v - r["center"]) / r["sd"]
                         for v, r in zip(values(coefficients(x)), rows, strict=True)])

    fit = least_squares(residuals, x0=[np.log(3e-3), 0.25, 0.5, 0.1],
                        bounds=([np.log(1e-6), 0.05, 0.0, 0.0], [np.log(1.0), 1.0, 2.0, 1.0]))
    best = coefficients(fit.x)
    table = pd.DataFrame([{"id": r["id"], "target": r["center"], "model": v, "sd": r["sd"],
                           "low": r["low"], "high": r["high"]}
                          for v, r in zip(values(best), rows, strict=True)])
    return {**best, "rows": table}
