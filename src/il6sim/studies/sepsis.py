"""A virtual septic-shock cohort: antibiotic timing and IL-6 as a marker of death (issue 16).

The cohort file (``il6sim/data/studies/septic-shock.yaml``) gives, with sources, the pathogens,
inoculum, age, comorbidity and host parameters of adults whose bacterial infection reaches septic
shock. :func:`run_septic_shock` draws ``n`` of them with a seeded generator and

1. simulates each untreated until the mean arterial pressure without vasopressors first falls
   below 65 mmHg: the onset of hypotension, time zero of Kumar A 2006 Crit Care Med 34:1589
   (patients who never get there within ``onset_within`` have sepsis without shock and are left
   out, with their count kept);
2. simulates the same patient once per antibiotic delay, treated from onset as the Surviving
   Sepsis Campaign asks (30 mL/kg crystalloid over 3 h; norepinephrine titrated to 65 mmHg is the
   model's read-out) with the first antibiotic dose after the delay.

Outcomes are the model's (:func:`il6sim.clinical.outcomes`); the probability of death is used
directly (no draws), so a mortality is the mean probability and the AUC of IL-6 for death is
computed with each patient weighted by its probability of dying and of surviving (the expected
AUC over death draws). :meth:`SepticShockResult.targets` compares the cohort with the published
figures listed in the file (``role``: fitted or checked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..clinical import outcomes, septic_shock
from ..engine import simulate
from ..errors import InputError
from ..model import default_model
from ..model.units import ureg
from ..scenario._pathogens import pathogen_parameters

__all__ = ["SepticShockResult", "load_septic_shock_spec", "run_septic_shock"]

#: MAP without vasopressors (mmHg) whose first crossing marks the onset of hypotension.
ONSET_MAP = 65.0
#: Most patients one call draws (each is simulated once per delay, in one batch).
MAX_COHORT = 5000


def load_septic_shock_spec() -> dict[str, Any]:
    """The shipped cohort file ``data/studies/septic-shock.yaml``, parsed."""
    return yaml.safe_load((files("il6sim") / "data" / "studies" / "septic-shock.yaml").read_text())


def _hours(text: Any) -> float:
    return float(ureg.Quantity(str(text)).to("h").magnitude)


def _lognormal(rng: np.random.Generator, median: float, cv: float, size: int) -> np.ndarray:
    return median * rng.lognormal(0.0, np.sqrt(np.log1p(cv * cv)), size)


def _log_uniform(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)


def draw_patients(spec: dict[str, Any], n: int, seed: int) -> pd.DataFrame:
    """``n`` patients from the cohort file: one row each (pathogen, inoculum, covariates and
    the model parameters that vary), drawn from ``default_rng(seed)``."""
    if not 1 <= n <= MAX_COHORT:
        raise InputError(f"n = {n}; fix: ask for 1 to {MAX_COHORT} patients")
    rng = np.random.default_rng(seed)
    names = list(spec["pathogens"])
    shares = np.array([spec["pathogens"][k]["share"] for k in names], float)
    table = pd.DataFrame({"pathogen": rng.choice(names, size=n, p=shares / shares.sum())})
    table["inoculum"] = _log_uniform(rng, spec["inoculum"]["low"], spec["inoculum"]["high"], n)
    age = spec["covariates"]["age"]
    table["age"] = np.clip(rng.normal(age["mean"], age["sd"], n), age["low"], age["high"])
    como = spec["covariates"]["comorbidity"]
    logit = (np.log(como["probability"] / (1 - como["probability"]))
             + como["logit_slope_per_year"] * (table.age - como["reference_age"]))
    table["comorbidity"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    model = default_model()
    for name, entry in spec["parameters"].items():
        if "low" in entry:
            table[name] = _log_uniform(rng, entry["low"], entry["high"], n)
            continue
        median = model.parameter(name).value if entry["median"] == "model" else entry["median"]
        values = _lognormal(rng, float(median), entry["cv"], n)
        table[name] = values * np.where(table.comorbidity, entry.get("comorbidity_factor", 1), 1)
    return table


def _parameters(table: pd.DataFrame, spec: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for _, row in table.iterrows():
        values = dict(pathogen_parameters(row.pathogen))
        values["age"] = float(row.age)
        values.update({name: float(row[name]) for name in spec["parameters"]})
        rows.append(values)
    return rows


def _doses(table: pd.DataFrame, spec: dict[str, Any], onset: np.ndarray | None,
           delay: float) -> pd.DataFrame:
    rows = [dict(time_h=0.0, agent="bacteria", route="inoculation", amount=float(a), patient=i)
            for i, a in enumerate(table.inoculum)]
    if onset is not None:
        fluids, abx = spec["fluids"], spec["antibiotic"]
        per_bolus = float(ureg.Quantity(fluids["volume"]).to("mL/kg").magnitude) / fluids["boluses"]
        for i, t0 in enumerate(onset):
            weight = 70.0  # the model's default body weight (kg)
            rows += [dict(time_h=t0 + k * _hours(fluids["every"]), agent="fluid", route="iv",
                          amount=per_bolus * weight, patient=i) for k in range(fluids["boluses"])]
            rows += [dict(time_h=t0 + delay + k * _hours(abx["every"]), agent="antibiotic",
                          route="iv", amount=float(ureg.Quantity(abx["amount"]).to("mg").m),
                          patient=i) for k in range(abx["doses"])]
    return pd.DataFrame(rows)


@dataclass
class SepticShockResult:
    """The cohort: ``patients`` (one row per patient in shock) and ``table`` (one row per
    patient and antibiotic delay), with the settings that made it."""

    patients: pd.DataFrame
    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def mortality(self) -> pd.Series:
        """Mean probability of death by the horizon, by antibiotic delay (h)."""
        return self.table.groupby("delay_h").death_probability.mean()

    def statistic(self, target: dict[str, Any]) -> float:
        """The model's value of one target row of the cohort file."""
        kind = target["statistic"]
        arm = self.table[self.table.delay_h == float(target["delay_h"])]
        if arm.empty:
            raise InputError(f"target {target['id']}: delay {target['delay_h']} h was not run")
        if kind == "mortality_at_delay":
            return float(arm.death_probability.mean())
        if kind == "survival_loss_per_hour":
            later = float(target["to_delay_h"])
            m = self.mortality()
            return float(100 * (m[later] - m[float(target["delay_h"])])
                         / (later - float(target["delay_h"])))
        p = arm.death_probability.to_numpy()
        if kind == "il6_auc_at_onset":
            return weighted_auc(arm.il6_at_onset.to_numpy(), p)
        if kind == "il6_ratio_late":
            late = arm.il6_late.to_numpy()
            died = np.median(np.repeat(late, np.round(100 * p).astype(int)))
            survived = np.median(np.repeat(late, np.round(100 * (1 - p)).astype(int)))
            return float(died / survived)
        raise InputError(f"target {target['id']}: unknown statistic '{kind}'")

    def targets(self) -> pd.DataFrame:
        """Every target of the cohort file with the model's value and whether it is within."""
        return target_table(self.settings["targets"], self.statistic)


def weighted_auc(score: np.ndarray, p_death: np.ndarray) -> float:
    """AUC of ``score`` for death when patient ``i`` dies with probability ``p_death[i]``:
    every pair of different patients counts with weight ``p_i (1 - p_j)`` (ties one half)."""
    s, p = np.asarray(score, float), np.asarray(p_death, float)
    above = (s[:, None] > s[None, :]) + 0.5 * (s[:, None] == s[None, :])
    pairs = p[:, None] * (1 - p)[None, :]
    np.fill_diagonal(pairs, 0.0)
    return float((pairs * above).sum() / pairs.sum())


def run_septic_shock(n: int = 120, *, seed: int = 0, delays_h: list[float] | None = None,
                     backend: str = "fast") -> SepticShockResult:
    """Draw ``n`` patients, find their onset of hypotension and treat each at every delay.

    Returns a :class:`SepticShockResult`; ``settings`` keeps the seed, delays, horizon, the
    number drawn and the number in shock, and the cohort file's targets.
    """
    spec = load_septic_shock_spec()
    delays = [float(d) for d in (delays_h or spec["delays_h"])]
    drawn = draw_patients(spec, n, seed)
    params = _parameters(drawn, spec)
    window = _hours(spec["onset_within"])
    untreated = simulate(params, _doses(drawn, spec, None, 0.0), t_end=window, dt=0.25,
                         backend=backend)
    below = untreated.output("map") < ONSET_MAP
    keep = below.any(axis=1) & untreated.ok
    onset = untreated.time[np.argmax(below, axis=1)][keep]
    patients = drawn[keep].reset_index(drop=True)
    patients["onset_h"] = onset
    params = [p for p, k in zip(params, keep, strict=True) if k]
    horizon, step = _hours(spec["horizon"]), _hours(spec["sampling"])
    late = 60.0  # h after onset: the middle of the 48-72 h window of Weidhase 2019
    frames = []
    for delay in delays:
        t_eval = np.unique(np.concatenate([np.arange(0.0, horizon + 1e-9, step), onset,
                                           onset + late]))
        result = simulate(params, _doses(patients, spec, onset, delay), t_eval=t_eval,
                          backend=backend, seed=seed)
        out = outcomes(result, seed=seed)
        il6 = result.output("il6")
        at = {name: np.array([il6[i, np.searchsorted(result.time, t)]
                              for i, t in enumerate(times)])
              for name, times in (("il6_at_onset", onset), ("il6_late", onset + late))}
        frames.append(pd.DataFrame({
            "patient": np.arange(len(patients)), "delay_h": delay,
            "pathogen": patients.pathogen, "onset_h": onset, **at,
            "death_probability": out.death_probability, "died": out.death_time_h.notna(),
            "peak_sofa": out.peak_sofa, "septic_shock": septic_shock(result).any(axis=1),
            "peak_norepinephrine": np.nanmax(result.output("norepinephrine"), axis=1),
            "peak_lactate": np.nanmax(result.output("lactate_level"), axis=1),
            "status": result.status}))
    settings = {"seed": seed, "n_drawn": n, "n_in_shock": int(keep.sum()), "delays_h": delays,
                "horizon_h": horizon, "backend": backend, "targets": spec["targets"]}
    return SepticShockResult(patients, pd.concat(frames, ignore_index=True), settings)


def target_table(targets: list[dict], statistic) -> pd.DataFrame:
    """Each target row of a cohort file with the model's value (``statistic(target)``) and
    whether it lies in the row's range."""
    rows = []
    for target in targets:
        value = statistic(target)
        rows.append({"id": target["id"], "model": value, "low": target["low"],
                     "high": target["high"], "center": target["center"],
                     "within": bool(target["low"] <= value <= target["high"]),
                     "role": target["role"], "unit": target.get("unit", ""),
                     "source": target["source"]})
    return pd.DataFrame(rows)
