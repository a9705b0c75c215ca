"""SOFA, Berlin ARDS, Sepsis-3, cytokine storm, ventilation and recovery from trajectories (the
death hazard is in :mod:`._death`).

All functions take a :class:`~il6sim.engine.SimulationResult` and return arrays of shape
``(patients, times)`` or one value per patient. Thresholds are named constants with sources.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.results import SimulationResult
from ..errors import InputError

# ---- SOFA (Vincent JL 1996 Intensive Care Med 22:707; Singer M 2016 JAMA 315:801 Table 1) ----
#: P/F (mmHg) cut-points for 1..4 points; 3 and 4 assume respiratory support, which the model's
#: patients receive whenever P/F < 200.
PF_CUTS = (400.0, 300.0, 200.0, 100.0)
#: platelets (10⁹/L) cut-points for 1..4 points.
PLATELET_CUTS = (150.0, 100.0, 50.0, 20.0)
#: bilirubin (µmol/L) cut-points for 1..4 points (1.2, 2.0, 6.0, 12.0 mg/dL).
BILIRUBIN_CUTS = (20.0, 33.0, 102.0, 204.0)
#: creatinine (µmol/L) cut-points for 1..4 points (1.2, 2.0, 3.5, 5.0 mg/dL).
CREATININE_CUTS = (110.0, 171.0, 300.0, 440.0)
#: Glasgow coma scale cut-points for 1..4 points (GCS 13-14, 10-12, 6-9, < 6).
GCS_CUTS = (15.0, 13.0, 10.0, 6.0)
#: Mean arterial pressure without vasopressors (mmHg): < 70 is 1 point; a pressure below the
#: 65 mmHg target is held there by norepinephrine (the model's ``norepinephrine`` read-out, the
#: dose titration needs), which scores 3 at ≤ 0.1 µg/kg/min and 4 above. Results saved without
#: that read-out use the pressure alone: < 65 scores 3 and < 55 scores 4 (the same points in a
#: patient without vasoplegia, :mod:`il6sim.model.blocks.haemodynamics`).
MAP_POINTS = ((70.0, 1), (65.0, 3), (55.0, 4))
#: MAP (mmHg) below which vasopressors are needed (Singer M 2016 JAMA 315:801).
VASOPRESSOR_MAP = 65.0
#: norepinephrine dose (µg/kg/min) above which the cardiovascular SOFA score is 4.
NOREPINEPHRINE_HIGH = 0.1
#: blood lactate (mmol/L) above which septic shock is diagnosed (Singer 2016).
SHOCK_LACTATE = 2.0

SOFA_COMPONENTS = ("respiratory", "coagulation", "liver", "cardiovascular", "cns", "renal")


def _points_below(values: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """0 at or above cuts[0], then one point for each cut the value falls below."""
    return sum((values < c).astype(int) for c in cuts)


def _points_above(values: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    return sum((values >= c).astype(int) for c in cuts)


def sofa_components(result: SimulationResult) -> dict[str, np.ndarray]:
    """Each SOFA organ score (0–4) over time, ``{organ: (N, T)}``."""
    pf = result.output("pf_ratio")
    map_ = result.output("map")
    cardiovascular = np.zeros(map_.shape, dtype=int)
    if "norepinephrine" in result.output_names:
        pressor = np.where(result.output("norepinephrine") > NOREPINEPHRINE_HIGH, 4, 3)
        cardiovascular = np.where(map_ < MAP_POINTS[0][0], MAP_POINTS[0][1], cardiovascular)
        cardiovascular = np.where(map_ < VASOPRESSOR_MAP, pressor, cardiovascular)
    else:
        for threshold, points in MAP_POINTS:
            cardiovascular = np.where(map_ < threshold, points, cardiovascular)
    gcs = np.round(result.output("gcs"))  # the Glasgow coma scale is an integer score
    return {
        "respiratory": _points_below(pf, PF_CUTS),
        "coagulation": _points_below(result.output("platelet_count"), PLATELET_CUTS),
        "liver": _points_above(result.output("bilirubin_level"), BILIRUBIN_CUTS),
        "cardiovascular": cardiovascular,
        "cns": _points_below(gcs, GCS_CUTS),
        "renal": _points_above(result.output("creatinine_level"), CREATININE_CUTS),
    }


def sofa(result: SimulationResult) -> np.ndarray:
    """Total SOFA score (0–24) over time, shape ``(N, T)``."""
    return sum(sofa_components(result).values())


# ---- infection, sepsis, ARDS ------------------------------------------------------------------
#: a pathogen counts as present above these loads (per mL at the site or in blood)
INFECTION_THRESHOLDS = {"bacteria_site": 1.0, "bacteraemia": 0.1, "viral_load": 1.0}


def infected(result: SimulationResult) -> np.ndarray:
    """Whether a pathogen is present over time (N, T)."""
    present = np.zeros(result.output("il6").shape, dtype=bool)
    for name, threshold in INFECTION_THRESHOLDS.items():
        present |= result.output(name) > threshold
    return present


def sepsis(result: SimulationResult) -> np.ndarray:
    """Sepsis-3 over time: infection plus a SOFA rise of 2 or more from the patient's value at
    time 0 (Singer M 2016 JAMA 315:801)."""
    score = sofa(result)
    return infected(result) & (score - score[:, :1] >= 2)


def septic_shock(result: SimulationResult) -> np.ndarray:
    """Sepsis-3 septic shock over time (N, T): sepsis with vasopressors needed to hold MAP at
    65 mmHg and lactate above 2 mmol/L (Singer M 2016 JAMA 315:801; Shankar-Hari M 2016 JAMA
    315:775). The model's fluids are whatever the scenario gives; shock is read after them."""
    if "lactate_level" not in result.output_names:
        raise InputError("this result has no lactate read-out (saved by an il6sim without "
                         "haemodynamics); fix: simulate it again")
    return (
        sepsis(result)
        & (result.output("map") < VASOPRESSOR_MAP)
        & (result.output("lactate_level") > SHOCK_LACTATE)
    )


def ards_category(result: SimulationResult) -> np.ndarray:
    """Berlin ARDS category over time: 0 none, 1 mild (P/F ≤ 300), 2 moderate (≤ 200), 3 severe
    (≤ 100), assuming bilateral opacities and PEEP ≥ 5 cmH2O (Ranieri VM 2012 JAMA 307:2526)."""
    pf = result.output("pf_ratio")
    return (pf <= 300).astype(int) + (pf <= 200) + (pf <= 100)


# ---- cytokine storm ---------------------------------------------------------------------------
STORM_DEFINITION = (
    "Cytokine storm (il6sim definition, after the Caricchio 2021 consensus and Webb 2020 cHIS): "
    "worsening oxygenation (P/F < 300) together with at least two of IL-6 >= 40 pg/mL "
    "(Zhang 2020: 37.65 pg/mL predicts death), CRP >= 100 mg/L, ferritin >= 900 ug/L and "
    "LDH >= 740 U/L (3x the upper limit of normal)."
)
STORM_MARKERS = {"il6": 40.0, "crp": 100.0, "ferritin_level": 900.0, "ldh_level": 740.0}


def cytokine_storm(result: SimulationResult) -> np.ndarray:
    """Whether the patient meets :data:`STORM_DEFINITION` at each time (N, T)."""
    raised = sum((result.output(name) >= cut).astype(int) for name, cut in STORM_MARKERS.items())
    return (result.output("pf_ratio") < 300) & (raised >= 2)


# ---- ventilation, death, recovery --------------------------------------------------------------
#: P/F below which invasive ventilation is needed (WHO clinical progression scale 8: P/F < 150;
#: WHO Working Group 2020 Lancet Infect Dis 20:e192)
VENTILATION_PF = 150.0


def needs_ventilation(result: SimulationResult) -> np.ndarray:
    """Whether the patient needs invasive ventilation at each time (N, T)."""
    return result.output("pf_ratio") < VENTILATION_PF


def cumulative_hazard(time: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Cumulative hazard (N, T) of a rate per hour (N, T) on the sampling times ``time`` (h):
    each step's rate times the step before it (left-closed; 0 at the first time)."""
    return np.cumsum(rate * np.diff(time, prepend=time[0]), axis=1)


def _cumulative(result: SimulationResult, rate: np.ndarray) -> np.ndarray:
    return cumulative_hazard(result.time, rate)


def _patient_ids(result: SimulationResult, patients: np.ndarray | None) -> np.ndarray:
    if patients is None:
        return np.arange(result.n_patients)
    ids = np.asarray(patients)
    if ids.shape != (result.n_patients,) or not np.issubdtype(ids.dtype, np.integer):
        raise InputError(
            f"patients has shape {ids.shape} (dtype {ids.dtype}) but the result has "
            f"{result.n_patients} patients; fix: give one integer index per patient"
        )
    return ids


def recovery_time(result: SimulationResult, *, window_h: float = 24.0) -> np.ndarray:
    """First time (h) after the worst SOFA at which SOFA ≤ 1 and P/F ≥ 300 hold for ``window_h``
    (or to the end of the run), without infection; NaN if never."""
    well = (sofa(result) <= 1) & (result.output("pf_ratio") >= 300) & ~infected(result)
    worst = np.argmax(sofa(result), axis=1)
    out = np.full(result.n_patients, np.nan)
    for i in range(result.n_patients):
        for j in range(worst[i], len(result.time)):
            stop = result.time[j] + window_h
            span = (result.time >= result.time[j]) & (result.time <= stop)
            if well[i, span].all():
                out[i] = result.time[j]
                break
    return out


def outcomes(
    result: SimulationResult, seed: int = 0, *, patients: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per patient: peak IL-6, peak SOFA, sepsis, ARDS, storm hours, ventilation,
    probability and time of death, recovery time and the probability of a secondary infection
    (hospital setting, :mod:`il6sim.clinical._secondary`).

    ``patients`` (optional) gives each patient's index in a larger population; it fills the
    ``patient`` column and seeds the death draw (:func:`death_time`), so a patient's outcomes do
    not depend on which batch it was simulated in.
    """
    from ._death import death_hazard, death_time  # they build on this module
    from ._secondary import secondary_infection_probability

    ids = _patient_ids(result, patients)
    dt = np.diff(result.time, prepend=result.time[0])
    score = sofa(result)
    cumulative = _cumulative(result, death_hazard(result))
    ventilation = needs_ventilation(result)
    return pd.DataFrame(
        {
            "patient": ids,
            "status": result.status,
            "peak_il6": np.nanmax(result.output("il6"), axis=1),
            "peak_crp": np.nanmax(result.output("crp"), axis=1),
            "min_pf": np.nanmin(result.output("pf_ratio"), axis=1),
            "peak_sofa": score.max(axis=1),
            "sofa_rise": (score - score[:, :1]).max(axis=1),
            "sepsis": sepsis(result).any(axis=1),
            "septic_shock": (septic_shock(result).any(axis=1)
                             if "lactate_level" in result.output_names else False),
            "ards_category": ards_category(result).max(axis=1),
            "storm_hours": (cytokine_storm(result) * dt).sum(axis=1),
            "ventilated": ventilation.any(axis=1),
            "death_probability": 1.0 - np.exp(-cumulative[:, -1]),
            "death_time_h": death_time(result, seed, patients=ids),
            "recovery_time_h": recovery_time(result),
            "secondary_infection_probability": secondary_infection_probability(
                result, "hospital"
            ),
        }
    )
