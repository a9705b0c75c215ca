"""When and in whom IL-6 blockade helps: a day-of-treatment × phenotype grid (claim C16).

For every phenotype (:mod:`._phenotypes`) and every day of treatment, the same virtual patient
is simulated twice from infection (time 0): untreated (control) and with the drug's regimen
started on that day. Both arms share the patient's death draw (common random numbers,
:func:`il6sim.clinical.outcomes` seeded by the phenotype's index), so the paired difference is
the effect of the drug alone. The whole grid is one batch of the engine.

The table has one row per cell with the selection information at the time of treatment (IL-6,
CRP, P/F and whether the patient is in a cytokine storm, read from the control arm) and, for
each outcome, its control value, treated value and ``delta_`` (treated − control): the
probability of death by the horizon, peak SOFA, storm hours, ventilation, peak IL-6 and CRP,
and hours with the pathogen present (blockade can slow clearance: IL-6 helps clear bacteria,
van der Poll T 1997 J Infect Dis 176:439, and drives antibody production); and, when
:func:`il6sim.clinical.outcomes` gives it, the probability of a secondary infection.

Background: benefit of tocilizumab in hospitalised COVID-19 with hypoxia and CRP ≥ 75 mg/L
(RECOVERY Collaborative Group 2021 Lancet 397:1637) and in critically ill patients treated
within 24 h of organ support (REMAP-CAP 2021 N Engl J Med 384:1491), no benefit in broader
populations (Stone JH 2020 N Engl J Med 383:2333). In bacterial infection the animal evidence
is mixed: IL-6 deficiency worsens pneumococcal pneumonia (van der Poll 1997) while anti-IL-6
improved survival after caecal ligation and puncture (Riedemann NC 2003 J Immunol 170:503);
no human trial of IL-6 blockade in bacterial sepsis exists (reference/targets.md, section 8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..clinical import cytokine_storm, infected, needs_ventilation, outcomes
from ..errors import InputError
from ..model import Model, default_model
from ..model.units import ureg
from ._phenotypes import PhenotypeSet, load_phenotypes

__all__ = [
    "DEFAULT_DAYS",
    "OPTIONAL_OUTCOMES",
    "OUTCOMES",
    "TimingResult",
    "parse_days",
    "resolve_treatment",
    "run_timing",
]

#: Days of treatment (after infection) of the default grid.
DEFAULT_DAYS = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0)
#: Default drug when neither a drug nor a regimen is given.
DEFAULT_DRUG = "tocilizumab"

#: Outcomes compared between arms: column stem -> meaning.
OUTCOMES = {
    "death_probability": "probability of death by the horizon (SOFA-based hazard)",
    "peak_sofa": "highest SOFA score (0-24)",
    "storm_hours": "hours in cytokine storm (clinical.STORM_DEFINITION)",
    "ventilated": "needed invasive ventilation (P/F < 150) at any time",
    "ventilation_hours": "hours with P/F < 150",
    "peak_il6": "peak plasma IL-6 (pg/mL)",
    "peak_crp": "peak CRP (mg/L)",
    "pathogen_hours": "hours with the pathogen present (bacteria or virus above threshold)",
    "died": "death drawn with the patient's common random number",
}
#: Outcomes compared when :func:`il6sim.clinical.outcomes` provides them (newer versions).
OPTIONAL_OUTCOMES = {
    "secondary_infection_probability": "probability of a secondary (hospital) infection, the "
                                       "cost of blocking IL-6 (il6sim.clinical, claim C15)",
}

#: Selection information read from the control arm at the time of treatment.
AT_TREATMENT = ("il6_at_treatment", "crp_at_treatment", "pf_at_treatment", "storm_at_treatment")


def parse_days(days: str | Sequence[float], *, field_name: str = "--days") -> tuple[float, ...]:
    """Days of treatment from ``"0,2,4"`` or a sequence; sorted, unique, each 0 or more."""
    if isinstance(days, str):
        parts = [part.strip() for part in days.split(",") if part.strip()]
        values = []
        for part in parts:
            try:
                values.append(float(part))
            except ValueError:
                raise InputError(
                    f"{field_name}: '{part}' is not a number of days; fix: write e.g. 0,2,4,8"
                ) from None
    else:
        values = [float(day) for day in days]
    if not values:
        raise InputError(f"{field_name} is empty; fix: give days of treatment, e.g. 0,2,4,8")
    for day in values:
        if not np.isfinite(day) or day < 0:
            raise InputError(
                f"{field_name}: day {day:g} is not allowed; fix: give days of 0 or more "
                "(0 = at infection)"
            )
    return tuple(sorted(set(values)))


def resolve_treatment(drug: str | None = None, regimen: str | None = None) -> tuple[str, str]:
    """``(drug, regimen)``: the regimen's drug, or the drug's default regimen.

    An unknown drug or regimen, or a regimen of another drug, is an :class:`InputError`.
    """
    from ..pharmacology import label_regimens, list_drugs, load_drug
    from ..scenario._schema import suggest

    if drug is not None and drug not in list_drugs():
        raise InputError(f"--drug: unknown drug '{drug}'; fix: {suggest(drug, list_drugs())}")
    if regimen is not None:
        known = label_regimens()
        if regimen not in known:
            raise InputError(
                f"--regimen: unknown regimen '{regimen}'; fix: {suggest(regimen, known)}"
            )
        owner = known[regimen].drug
        if drug is not None and drug != owner:
            raise InputError(
                f"--regimen '{regimen}' is a {owner} regimen, not {drug}; fix: leave out --drug "
                f"or choose one of {', '.join(load_drug(drug).regimens) or 'its regimens'}"
            )
        return owner, regimen
    drug = drug or DEFAULT_DRUG
    default = load_drug(drug).default_regimen
    if default is None:
        raise InputError(f"{drug} has no default regimen; fix: give --regimen")
    return drug, default


@dataclass
class TimingResult:
    """The grid: ``table`` (one row per phenotype × day) and the ``settings`` that made it."""

    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def pivot(self, column: str = "delta_death_probability") -> pd.DataFrame:
        """``column`` as a phenotype × day table (rows in the phenotype file's order)."""
        if column not in self.table:
            raise InputError(
                f"column '{column}' is not in the timing table; fix: one of "
                + ", ".join(self.table.columns)
            )
        order = list(dict.fromkeys(self.table.phenotype))
        wide = self.table.pivot(index="phenotype", columns="day", values=column)
        return wide.loc[order]

    def save(self, folder: str | Path, *, metric: str = "death_probability") -> dict[str, Path]:
        """Write ``timing.csv``, ``timing.parquet``, ``timing.json`` (settings), the heat map
        ``timing.png`` (colour: ``delta_<metric>``) and the summary ``timing.md``
        (:meth:`markdown`) to ``folder``; returns the paths."""
        from ._timing_plot import plot_timing

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {kind: folder / f"timing.{kind}"
                 for kind in ("csv", "parquet", "json", "png", "md")}
        paths["md"].write_text(self.markdown(), encoding="utf-8")
        self.table.to_csv(paths["csv"], index=False)
        self.table.to_parquet(paths["parquet"], index=False)
        paths["json"].write_text(json.dumps(self.settings, indent=2) + "\n", encoding="utf-8")
        plot_timing(self.table, metric=metric, title=self.title()).savefig(paths["png"], dpi=150)
        return paths

    def markdown(self) -> str:
        """The map in words: untreated courses, the death map, who gains and when, each number
        computed from :attr:`table` (:func:`._timing_summary.timing_markdown`)."""
        from ._timing_summary import timing_markdown

        return timing_markdown(self)

    def title(self) -> str:
        s = self.settings
        return (f"{s.get('regimen', 'IL-6 blockade')} by day of treatment and phenotype "
                f"(outcomes by day {s.get('horizon_h', 0) / 24:g})")


def _body_weight_kg(model: Model, overrides: dict[str, float]) -> float:
    value = model.parameter_vector(overrides)[model.param_index["body_weight"]]
    return float(ureg.Quantity(value, model.parameter("body_weight").unit).to("kg").magnitude)


def _at(result, name: str, rows: np.ndarray, hours: np.ndarray) -> np.ndarray:
    values = result.output(name)
    return np.array([np.interp(h, result.time, values[r]) for r, h in zip(rows, hours,
                                                                         strict=True)])


def _arm_outcomes(result, seed: int, patients: np.ndarray) -> pd.DataFrame:
    table = outcomes(result, seed, patients=patients)
    dt = np.diff(result.time, prepend=result.time[0])
    table["ventilation_hours"] = (needs_ventilation(result) * dt).sum(axis=1)
    table["pathogen_hours"] = (infected(result) * dt).sum(axis=1)
    table["died"] = table.death_time_h.notna()
    return table


def run_timing(
    phenotypes: str | Path | PhenotypeSet | None = None,
    *,
    select: Sequence[str] | None = None,
    drug: str | None = None,
    regimen: str | None = None,
    days: str | Sequence[float] = DEFAULT_DAYS,
    seed: int = 0,
    backend: str = "fast",
    model: Model | None = None,
) -> TimingResult:
    """Simulate the day-of-treatment × phenotype grid, untreated vs treated, as one batch.

    Parameters
    ----------
    phenotypes : a phenotype file, a loaded :class:`PhenotypeSet`, or ``None`` for the shipped
        ``data/studies/timing.yaml``; ``select`` keeps only the named phenotypes.
    drug, regimen : the blockade; a regimen's drug, or a drug's default regimen (default:
        tocilizumab 8 mg/kg IV once, as in RECOVERY). Weight-based doses use each phenotype's
        body weight; repeated regimens run to the horizon.
    days : days after infection on which treatment starts (each below the horizon).
    seed : seed of the death draws (``died``); the same for both arms of a patient.
    backend : engine backend (``"fast"`` by default; ``"reference"`` for SciPy).

    Returns
    -------
    TimingResult
        ``table`` with one row per cell (see the module docstring) and ``settings``.
    """
    from ..engine import simulate
    from ..pharmacology import expand_regimen

    model = model or default_model()
    study = phenotypes if isinstance(phenotypes, PhenotypeSet) else load_phenotypes(
        phenotypes, model=model)
    study = study.select(list(select or []))
    days = parse_days(days, field_name="days" if not isinstance(days, str) else "--days")
    late = [d for d in days if d * 24.0 >= study.horizon_h]
    if late:
        raise InputError(
            f"day {late[0]:g} is not before the horizon ({study.horizon_h / 24:g} d of "
            f"'{study.source}'); fix: give days below {study.horizon_h / 24:g}"
        )
    drug, regimen = resolve_treatment(drug, regimen)

    params, tables, arms = [], [], []
    for k, phenotype in enumerate(study.phenotypes):
        overrides = phenotype.scenario.parameter_overrides(model)
        base = phenotype.scenario.dose_table(model)
        weight = _body_weight_kg(model, overrides)
        for day in (None, *days):
            patient = len(params)
            params.append(overrides)
            tables.append(base.assign(patient=patient))
            if day is not None:
                treatment = expand_regimen(regimen, weight_kg=weight, start_h=24.0 * day,
                                           until_h=study.horizon_h)
                tables.append(treatment[treatment.time_h <= study.horizon_h].assign(
                    patient=patient))
            arms.append((k, day))
    doses = pd.concat(tables, ignore_index=True)
    result = simulate(params, doses, t_end=study.horizon_h, dt=study.sampling_h, model=model,
                      seed=seed, backend=backend, settings={"study": "timing"})

    index = np.array([k for k, _ in arms])
    arm_table = _arm_outcomes(result, seed, index)
    table = _cells(study, arms, arm_table, result, drug, regimen)
    settings = {
        "study": "timing", "phenotypes": study.source, "drug": drug, "regimen": regimen,
        "days": list(days), "horizon_h": study.horizon_h, "sampling_h": study.sampling_h,
        "seed": seed, "backend": result.settings.get("backend", backend),
        "n_simulated": len(params), "il6sim_version": version("il6sim"),
    }
    return TimingResult(table, settings)


def _cells(study: PhenotypeSet, arms, arm_table: pd.DataFrame, result, drug: str,
           regimen: str) -> pd.DataFrame:
    """Pair every treated arm with its phenotype's control arm."""
    control_of = {k: i for i, (k, day) in enumerate(arms) if day is None}
    treated = np.array([i for i, (_, day) in enumerate(arms) if day is not None])
    controls = np.array([control_of[arms[i][0]] for i in treated])
    hours = np.array([24.0 * arms[i][1] for i in treated])
    storm = cytokine_storm(result)
    storm_at = [bool(storm[c, np.searchsorted(result.time, h, side="right") - 1])
                for c, h in zip(controls, hours, strict=True)]
    phenotypes = [study.phenotypes[arms[i][0]] for i in treated]
    table = pd.DataFrame({
        "phenotype": [p.name for p in phenotypes],
        "group": [p.group for p in phenotypes],
        "scenario": [p.scenario.name for p in phenotypes],
        "day": hours / 24.0,
        "treatment_h": hours,
        "drug": drug,
        "regimen": regimen,
        "il6_at_treatment": _at(result, "il6", controls, hours),
        "crp_at_treatment": _at(result, "crp", controls, hours),
        "pf_at_treatment": _at(result, "pf_ratio", controls, hours),
        "storm_at_treatment": storm_at,
    })
    for stem in [*OUTCOMES, *(name for name in OPTIONAL_OUTCOMES if name in arm_table)]:
        control = arm_table[stem].to_numpy()[controls]
        treated_value = arm_table[stem].to_numpy()[treated]
        table[f"{stem}_control"] = control
        table[f"{stem}_treated"] = treated_value
        if control.dtype == bool:
            table[f"delta_{stem}"] = treated_value.astype(int) - control.astype(int)
        else:
            table[f"delta_{stem}"] = treated_value - control
    table["death_risk_ratio"] = (table.death_probability_treated
                                 / table.death_probability_control)
    status = arm_table.status.to_numpy()
    table["status"] = [
        "ok" if status[c] == "ok" and status[t] == "ok"
        else "; ".join(f"{arm}: {status[i]}" for arm, i in (("control", c), ("treated", t))
                       if status[i] != "ok")
        for c, t in zip(controls, treated, strict=True)
    ]
    return table
