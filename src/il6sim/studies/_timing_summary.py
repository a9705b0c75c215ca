"""The timing map in words: a Markdown summary computed from a :class:`~.timing.TimingResult`.

Every number in it is read from the grid's table, so the page that documents the map
(``il6sim timing --markdown FILE``; the shipped ``docs/timing-results.md``) is regenerated with
the model rather than typed. It reports what the grid shows and what it does not: the
untreated course of each phenotype, the change in the probability of death by day of
treatment, who gains (selection), when (timing), the slower clearance of the pathogen after
early treatment and, when the table has it, the added risk of a secondary infection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

if TYPE_CHECKING:
    from .timing import TimingResult

#: IL-6 at treatment (pg/mL) that marks a phenotype out as inflamed when the drug is given.
HIGH_IL6 = 40.0
#: Day on which selection by IL-6 is reported (the middle of the default grid) when present.
SELECTION_DAY = 8.0


def _points(delta: float) -> str:
    """A change in probability as signed percentage points."""
    return f"{100 * delta:+.2g}"


def _best_and_worst(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The cells with the largest fall and the largest rise in the probability of death."""
    change = rows.delta_death_probability
    return rows.loc[change.idxmin()], rows.loc[change.idxmax()]


def _cell(row: pd.Series) -> str:
    return f"{row.phenotype}, day {row.day:g}"


def _untreated(table: pd.DataFrame) -> str:
    first = table.drop_duplicates("phenotype")
    lines = ["| phenotype | group | death probability | peak SOFA | storm (h) | ventilated (h) "
             "| peak IL-6 (pg/mL) | peak CRP (mg/L) |", "|---|---|---|---|---|---|---|---|"]
    for row in first.itertuples():
        lines.append(
            f"| {row.phenotype} | {row.group} | {row.death_probability_control:.3f} "
            f"| {row.peak_sofa_control:.0f} | {row.storm_hours_control:.0f} "
            f"| {row.ventilation_hours_control:.0f} | {row.peak_il6_control:.3g} "
            f"| {row.peak_crp_control:.3g} |")
    return "\n".join(lines)


def _death_map(table: pd.DataFrame) -> str:
    days = sorted(table.day.unique())
    lines = ["| phenotype | " + " | ".join(f"day {d:g}" for d in days) + " |",
             "|---|" + "---|" * len(days)]
    for name, rows in table.groupby("phenotype", sort=False):
        by_day = rows.set_index("day")
        cells = [_points(by_day.delta_death_probability[d])
                 + ("\\*" if by_day.storm_at_treatment[d] else "") for d in days]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _timing_in(storm_prone: pd.DataFrame, family: str) -> list[str]:
    """Benefit by day during the storm and the best cell before it, for the storm-prone
    phenotypes of one family (viral or bacterial)."""
    in_storm = storm_prone[storm_prone.storm_at_treatment]
    if not len(in_storm):
        return []
    per_day = in_storm.groupby("day").agg(
        change=("delta_death_probability", "mean"), ratio=("death_risk_ratio", "mean"))
    found = [f"**Timing, {family}.** Treated during the storm, the storm-prone {family} "
             "phenotypes change their probability of death by " + "; ".join(
                 f"day {d:g}: {_points(r.change)} points (risk ratio {r.ratio:.2f})"
                 for d, r in per_day.iterrows()) + " (means over phenotypes)."]
    first_storm_day = in_storm.groupby("phenotype").day.min()
    early = storm_prone[storm_prone.day < storm_prone.phenotype.map(first_storm_day)]
    if len(early):
        best, worst = _best_and_worst(early)
        found.append(
            f"Before their storm (IL-6 at treatment {early.il6_at_treatment.min():.2g}–"
            f"{early.il6_at_treatment.max():.2g} pg/mL, CRP {early.crp_at_treatment.min():.2g}–"
            f"{early.crp_at_treatment.max():.2g} mg/L) the same phenotypes change by "
            f"{_points(best.delta_death_probability)} ({_cell(best)}) to "
            f"{_points(worst.delta_death_probability)} points ({_cell(worst)}).")
    return found


def _findings(table: pd.DataFrame) -> list[str]:
    found = []
    ok = table[table.status == "ok"]
    storm_prone = ok[ok.storm_hours_control > 0]
    names = list(dict.fromkeys(storm_prone.phenotype))
    found.append(f"**Who storms untreated.** {len(names)} of {ok.phenotype.nunique()} phenotypes "
                 "have a cytokine storm without treatment"
                 + (f": {', '.join(names)}." if names else "."))
    for family in ("viral", "bacterial"):
        found.extend(_timing_in(storm_prone[storm_prone.group.str.startswith(family)], family))
    mild = ok[ok.group.str.contains("mild")]
    if len(mild):
        found.append(
            "**Early/mild viral disease** changes by "
            f"{_points(mild.delta_death_probability.min())} to "
            f"{_points(mild.delta_death_probability.max())} points, whenever it is treated.")
    bacterial = ok[ok.group == "bacterial"]
    if len(bacterial):
        best, worst = _best_and_worst(bacterial)
        found.append(
            f"**Bacterial infection.** Largest harm: {_points(worst.delta_death_probability)} "
            f"points ({_cell(worst)}); largest gain: "
            f"{_points(best.delta_death_probability)} points ({_cell(best)}).")
    viral = ok[ok.group.str.startswith("viral")]
    day = SELECTION_DAY if SELECTION_DAY in set(viral.day) else (
        float(np.median(viral.day.unique())) if len(viral) else None)
    on_day = viral[viral.day == day] if day is not None else viral
    if on_day.phenotype.nunique() >= 3:
        rho = spearmanr(on_day.il6_at_treatment, -on_day.delta_death_probability).statistic
        high = on_day.il6_at_treatment >= HIGH_IL6
        text = (f"**Selection.** On day {day:g}, the rank correlation between IL-6 at treatment "
                f"and the gain across the {on_day.phenotype.nunique()} viral phenotypes is "
                f"{rho:.2f}")
        if high.any() and (~high).any():
            text += (f"; the {int(high.sum())} with IL-6 ≥ {HIGH_IL6:g} pg/mL change by "
                     f"{_points(on_day.delta_death_probability[high].min())} to "
                     f"{_points(on_day.delta_death_probability[high].max())} points, the "
                     f"others by {_points(on_day.delta_death_probability[~high].min())} to "
                     f"{_points(on_day.delta_death_probability[~high].max())}")
        found.append(text + ".")
    early_cells = ok[ok.day <= 4]
    if len(early_cells):
        slower = early_cells.groupby("phenotype", sort=False).delta_pathogen_hours.agg(
            ["min", "max"])
        slower = slower[slower["max"] > 0]
        if len(slower):
            found.append("**Pathogen clearance.** Treated on days 0–4, the pathogen stays longer "
                         "in " + ", ".join(f"{n} ({r['min']:.0f}–{r['max']:.0f} h)"
                                           for n, r in slower.iterrows()) + ".")
    if "delta_secondary_infection_probability" in ok:
        calm = ok[~ok.storm_at_treatment].delta_secondary_infection_probability
        hot = ok[ok.storm_at_treatment].delta_secondary_infection_probability
        text = ("**Secondary infection** (reported beside death, not inside it): blockade "
                f"changes its probability by {_points(calm.min())} to {_points(calm.max())} "
                "points when given outside a storm")
        if len(hot):
            text += f" and by {_points(hot.min())} to {_points(hot.max())} during one"
        found.append(text + ".")
    return found


def timing_markdown(result: TimingResult, command: str = "il6sim timing") -> str:
    """The Markdown page of ``result``: settings, untreated courses, the death map and the
    findings, every number computed from ``result.table``."""
    table, settings = result.table, result.settings
    days = ",".join(f"{d:g}" for d in settings.get("days", sorted(table.day.unique())))
    parts = [
        f"# {result.title()}",
        f"Generated by `{command}` (drug {settings.get('drug', '?')}, days {days}, seed "
        f"{settings.get('seed', '?')}, phenotypes {settings.get('phenotypes', '?')}, il6sim "
        f"{settings.get('il6sim_version', '?')}); every number below is computed from this "
        "run's table (one virtual patient per phenotype, both arms simulated from infection). "
        "Change in the probability of death by the horizon in percentage points "
        "(treated − untreated; negative is benefit); \\* in cytokine storm at treatment.",
        "## Untreated", _untreated(table),
        "## Change in the probability of death by day of treatment", _death_map(table),
        "## What the map shows", "\n\n".join(f"- {line}" for line in _findings(table)),
    ]
    return "\n\n".join(parts) + "\n"
