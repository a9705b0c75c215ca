"""A virtual sepsis cohort: mortality by organ failure and by shock, and IL-6 at presentation.

The cohort file (``il6sim/data/studies/sepsis-cohort.yaml``) draws its patients from the
septic-shock file's population (pathogens, inoculum, age, comorbidity, host parameters) and adds
when they come to hospital. :func:`run_sepsis_cohort`

1. simulates each patient untreated until Sepsis-3 sepsis begins (SOFA 2 or more: Singer M 2016
   JAMA 315:801); patients who never get there within ``onset_within`` are left out, counted;
2. draws the time from that onset to presentation (``presentation_delay``) and treats from
   presentation as the Surviving Sepsis Campaign asks: the first antibiotic dose within the hour,
   and the 30 mL/kg crystalloid of the septic-shock file when the pressure is already below
   65 mmHg;
3. reads, per patient, IL-6 and SOFA at presentation, the highest SOFA, whether Sepsis-3 septic
   shock occurred, and the probability of death by the horizon (used directly, no draws).

Mortality by shock and by highest SOFA is the mean probability of death of the patients in that
group; AUCs weight each pair of patients by the probabilities (:func:`.sepsis.weighted_auc`).
:meth:`SepsisCohortResult.targets` compares the cohort with the published figures of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..clinical import outcomes, septic_shock, sofa
from ..engine import simulate
from ..errors import InputError
from .sepsis import (
    ONSET_MAP,
    _doses,
    _hours,
    _log_uniform,
    _parameters,
    draw_patients,
    load_septic_shock_spec,
    target_table,
    weighted_auc,
)

__all__ = ["SepsisCohortResult", "load_sepsis_cohort_spec", "run_sepsis_cohort"]

#: SOFA score whose first reach marks the onset of sepsis (Sepsis-3: a rise of 2 from 0).
SEPSIS_SOFA = 2


def load_sepsis_cohort_spec() -> dict[str, Any]:
    """The shipped cohort file ``data/studies/sepsis-cohort.yaml``, parsed."""
    return yaml.safe_load(
        (files("il6sim") / "data" / "studies" / "sepsis-cohort.yaml").read_text())


@dataclass
class SepsisCohortResult:
    """The cohort: ``table`` (one row per patient with sepsis) and the ``settings`` that made
    it (seed, numbers drawn and with sepsis, horizon, the file's targets)."""

    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def mortality_by_shock(self) -> pd.Series:
        """Mean probability of death with and without Sepsis-3 septic shock."""
        return self.table.groupby("septic_shock").death_probability.mean()

    def mortality_by_highest_sofa(self, edges: tuple[int, ...] = (2, 6, 9, 12, 25)) -> pd.DataFrame:
        """Patients and mean probability of death by band of highest SOFA (``[lo, hi)``)."""
        band = pd.cut(self.table.peak_sofa, list(edges), right=False)
        grouped = self.table.groupby(band, observed=False).death_probability
        return pd.DataFrame({"patients": grouped.size(), "mortality": grouped.mean()})

    def statistic(self, target: dict[str, Any]) -> float:
        """The model's value of one target row of the cohort file."""
        table, kind = self.table, target["statistic"]
        p = table.death_probability.to_numpy()
        if kind == "mortality_septic_shock":
            chosen = table.septic_shock.to_numpy()
        elif kind == "mortality_without_shock":
            chosen = ~table.septic_shock.to_numpy()
        elif kind == "mortality_highest_sofa_above":
            chosen = table.peak_sofa.to_numpy() > float(target["threshold"])
        elif kind == "auc_highest_sofa":
            return weighted_auc(table.peak_sofa.to_numpy(), p)
        elif kind == "il6_auc_at_presentation":
            return weighted_auc(table.il6_at_presentation.to_numpy(), p)
        else:
            raise InputError(f"target {target['id']}: unknown statistic '{kind}'")
        return float(p[chosen].mean()) if chosen.any() else float("nan")

    def targets(self) -> pd.DataFrame:
        """Every target of the cohort file with the model's value and whether it is within."""
        return target_table(self.settings["targets"], self.statistic)


def _at(values: np.ndarray, time: np.ndarray, when: np.ndarray) -> np.ndarray:
    """``values[i]`` at the first sample at or after ``when[i]``."""
    index = np.minimum(np.searchsorted(time, when), len(time) - 1)
    return values[np.arange(len(when)), index]


def run_sepsis_cohort(n: int = 150, *, seed: int = 0,
                      backend: str = "fast") -> SepsisCohortResult:
    """Draw ``n`` patients, find their onset of sepsis, and treat each from presentation.

    Returns a :class:`SepsisCohortResult` (seeded: the draws of the septic-shock file and the
    presentation delays come from ``default_rng(seed)``).
    """
    spec, population = load_sepsis_cohort_spec(), load_septic_shock_spec()
    drawn = draw_patients(population, n, seed)
    params = _parameters(drawn, population)
    window = _hours(spec["onset_within"]) + _hours(spec["presentation_delay"]["high"])
    untreated = simulate(params, _doses(drawn, population, None, 0.0), t_end=window, dt=0.25,
                         backend=backend)
    score = sofa(untreated)
    septic = (score >= SEPSIS_SOFA) & (untreated.time <= _hours(spec["onset_within"]))[None, :]
    keep = septic.any(axis=1) & untreated.ok
    onset = untreated.time[np.argmax(septic, axis=1)]
    delay_spec = spec["presentation_delay"]
    rng = np.random.default_rng([seed, 1])
    delay = _log_uniform(rng, _hours(delay_spec["low"]), _hours(delay_spec["high"]), n)
    presentation = onset + delay
    hypotensive = _at(untreated.output("map"), untreated.time, presentation) < ONSET_MAP
    patients = drawn[keep].reset_index(drop=True)
    doses = _doses(patients, population, presentation[keep], _hours(spec["antibiotic_after"]))
    no_fluids = (doses.agent == "fluid") & ~hypotensive[keep][doses.patient.to_numpy()]
    doses = doses[~no_fluids].reset_index(drop=True)
    chosen = [p for p, k in zip(params, keep, strict=True) if k]
    horizon, step = _hours(spec["horizon"]), _hours(spec["sampling"])
    t_eval = np.unique(np.concatenate([np.arange(0.0, horizon + 1e-9, step),
                                       presentation[keep]]))
    result = simulate(chosen, doses, t_eval=t_eval, backend=backend, seed=seed)
    out = outcomes(result, seed=seed)
    table = patients[["pathogen", "inoculum", "age", "comorbidity"]].assign(
        onset_h=onset[keep], presentation_h=presentation[keep],
        hypotensive_at_presentation=hypotensive[keep],
        il6_at_presentation=_at(result.output("il6"), result.time, presentation[keep]),
        sofa_at_presentation=_at(sofa(result), result.time, presentation[keep]),
        peak_sofa=out.peak_sofa.to_numpy(), septic_shock=septic_shock(result).any(axis=1),
        death_probability=out.death_probability.to_numpy(), status=result.status)
    settings = {"seed": seed, "n_drawn": n, "n_sepsis": int(keep.sum()), "horizon_h": horizon,
                "backend": backend, "targets": spec["targets"]}
    return SepsisCohortResult(table, settings)

