"""Command line of the studies: ``il6sim timing`` and ``il6sim sepsis``.

:func:`register` adds the command to the ``il6sim`` app, whose command group prints any
:class:`~il6sim.errors.Il6simError` (unknown drug, regimen or phenotype, a negative day, a bad
phenotype file) as ``error: <message>`` with exit code 2, never a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .._cli_errors import check_output_file, check_output_folder

__all__ = ["register"]


def _table(result, metric: str) -> Table:
    """Phenotype × day: change in ``metric`` with IL-6/CRP at treatment; storm cells marked."""
    from ._timing_plot import METRICS

    _, scale, fmt = METRICS[metric]
    wide = result.pivot(f"delta_{metric}") * scale
    il6, crp = result.pivot("il6_at_treatment"), result.pivot("crp_at_treatment")
    storm = result.pivot("storm_at_treatment").astype(bool)
    table = Table(show_lines=True)
    table.add_column("phenotype", no_wrap=True)
    for day in wide.columns:
        table.add_column(f"day {day:g}", justify="right")
    for name, row in wide.iterrows():
        cells = []
        for day, value in row.items():
            change = "0" if value == 0 else fmt.format(value)
            mark = "*" if storm.loc[name, day] else ""
            cells.append(f"{change}{mark}\n{il6.loc[name, day]:.3g}/{crp.loc[name, day]:.3g}")
        table.add_row(str(name), *cells)
    return table


def timing(
    drug: Annotated[str | None, typer.Option(
        "--drug", help="Drug (il6sim/data/drugs): tocilizumab, sarilumab, siltuximab, "
                       "dexamethasone. Default: the regimen's drug, else tocilizumab.",
        show_default=False)] = None,
    regimen: Annotated[str | None, typer.Option(
        "--regimen", help="Label regimen, e.g. tocilizumab-covid-8mgkg (default: the drug's "
                          "default regimen).", show_default=False)] = None,
    days: Annotated[str, typer.Option(
        "--days", help="Days after infection on which treatment starts, comma-separated "
                       "(fractions allowed: 0.25 is 6 h).")] = "0,2,4,6,8,10,12",
    phenotypes: Annotated[Path | None, typer.Option(
        "--phenotypes", help="Phenotype YAML file (default: the shipped "
                             "il6sim/data/studies/timing.yaml).", show_default=False)] = None,
    phenotype: Annotated[list[str] | None, typer.Option(
        "--phenotype", "-p", help="Only this phenotype of the file. Repeatable.",
        show_default=False)] = None,
    metric: Annotated[str, typer.Option(
        "--metric", help="Outcome coloured in the heat map and printed: death_probability, "
                         "peak_sofa, storm_hours, ventilation_hours, pathogen_hours, "
                         "secondary_infection_probability.")
    ] = "death_probability",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the death draws (both arms "
                                                     "share it).")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("timing"),
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", help="Also write the map in words (untreated courses, the death map, "
                           "who gains and when; every number from this run) to this Markdown "
                           "file, e.g. docs/timing-results.md.", show_default=False)] = None,
) -> None:
    """Timing × selection map of a treatment (IL-6 blockade or dexamethasone): each phenotype
    untreated vs treated on each day.

    Writes timing.csv, timing.parquet (one row per phenotype × day), timing.json (settings),
    the heat map timing.png and the summary timing.md to --out, and prints the map.
    """
    from ._timing_plot import METRICS
    from .timing import parse_days, resolve_treatment, run_timing

    if metric not in METRICS:
        from ..errors import InputError

        raise InputError(f"--metric '{metric}' is not known; fix: one of {', '.join(METRICS)}")
    check_output_folder(out, "--out")
    if markdown is not None:
        check_output_file(markdown, "--markdown")
    day_list = parse_days(days)
    resolve_treatment(drug, regimen)  # report a bad drug or regimen before simulating
    console = Console(highlight=False, soft_wrap=False, width=140)
    start = time.perf_counter()
    with console.status("simulating the grid"):
        result = run_timing(phenotypes, select=phenotype, drug=drug, regimen=regimen,
                            days=day_list, seed=seed)
        paths = result.save(out, metric=metric)
    console.print(result.title(), style="bold")
    console.print(_table(result, metric))
    console.print(f"Cells: {METRICS[metric][0]}; below it IL-6 (pg/mL) / CRP (mg/L) at "
                  "treatment; * in cytokine storm at treatment.")
    failed = int((result.table.status != "ok").sum())
    console.print(f"{result.settings['n_simulated']} patients simulated in "
                  f"{time.perf_counter() - start:.1f} s"
                  + (f"; {failed} cells failed (see the status column)" if failed else ""))
    if markdown is not None:
        markdown.write_text(paths["md"].read_text(encoding="utf-8"), encoding="utf-8")
        paths["markdown"] = markdown
    console.print("Written: " + ", ".join(str(p) for p in paths.values()))


def sepsis(
    n: Annotated[int, typer.Option("--n", help="Patients drawn (about half reach shock).")] = 150,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws.")] = 0,
    cohort: Annotated[str, typer.Option(
        "--cohort", help="shock: the septic-shock cohort, treated at each antibiotic delay "
                         "after hypotension; sepsis: every patient with sepsis, followed from "
                         "presentation (mortality by shock and by highest SOFA).")] = "shock",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output folder for the tables (cohort.csv, patients.csv or "
                            "sepsis.csv, and targets.csv).", show_default=False)] = None,
) -> None:
    """Sepsis cohorts against the published figures: septic shock by antibiotic delay and IL-6 at
    shock onset (--cohort shock), or sepsis from presentation by shock and SOFA (--cohort sepsis).

    Draws --n patients from il6sim/data/studies/septic-shock.yaml. --cohort shock treats the ones
    who reach hypotension at each antibiotic delay and prints the mortality by delay;
    --cohort sepsis (data/studies/sepsis-cohort.yaml) treats every patient with sepsis from a
    drawn presentation time. Both print the cohort's targets (fitted or checked); --out also
    writes the tables.
    """
    from ..errors import InputError
    from .sepsis import MAX_COHORT

    if not 10 <= n <= MAX_COHORT:
        raise InputError(f"--n {n} is outside 10-{MAX_COHORT}; fix: give a cohort size in that "
                         "range")
    if cohort not in ("shock", "sepsis"):
        raise InputError(f"--cohort {cohort} is not a cohort; fix: give --cohort shock or "
                         "--cohort sepsis")
    if out is not None:
        check_output_folder(out, "--out")
    console = Console(highlight=False, soft_wrap=False, width=140)
    start = time.perf_counter()
    with console.status("simulating the cohort"):
        tables = (_shock_cohort if cohort == "shock" else _sepsis_cohort)(n, seed, console)
    console.print(f"({time.perf_counter() - start:.1f} s)")
    targets = tables["targets.csv"]
    table = Table(show_lines=False)
    for column in ("target", "model", "published range", "within", "role"):
        table.add_column(column)
    for row in targets.itertuples():
        table.add_row(row.id, f"{row.model:.3g}", f"{row.low:g}-{row.high:g} {row.unit}".strip(),
                      "yes" if row.within else "NO", row.role)
    console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            frame.to_csv(out / name, index=False)
        console.print(f"Written: {out}/" + ", ".join(tables))


def _shock_cohort(n: int, seed: int, console: Console) -> dict:
    from .sepsis import run_septic_shock

    result = run_septic_shock(n, seed=seed)
    console.print(f"{result.settings['n_in_shock']} of {n} drawn patients reached septic shock "
                  f"(seed {seed})")
    console.print("mortality by day 28 by antibiotic delay after hypotension: " + ", ".join(
        f"{d:g} h {m:.1%}" for d, m in result.mortality().items()))
    return {"cohort.csv": result.table, "patients.csv": result.patients,
            "targets.csv": result.targets()}


def _sepsis_cohort(n: int, seed: int, console: Console) -> dict:
    from ._sepsis_cohort import run_sepsis_cohort

    result = run_sepsis_cohort(n, seed=seed)
    console.print(f"{result.settings['n_sepsis']} of {n} drawn patients reached sepsis "
                  f"(seed {seed})")
    by_shock = result.mortality_by_shock()
    console.print("mortality by day 28: " + ", ".join(
        f"{'septic shock' if k else 'sepsis without shock'} {m:.1%}"
        for k, m in by_shock.items()))
    bands = result.mortality_by_highest_sofa()
    console.print("by highest SOFA: " + ", ".join(
        f"{b.left}-{b.right - 1}: {r.mortality:.1%} (n {int(r.patients)})"
        for b, r in bands.iterrows() if r.patients))
    return {"sepsis.csv": result.table, "targets.csv": result.targets()}


def register(app: typer.Typer) -> None:
    """Add the ``timing`` and ``sepsis`` commands to ``app``."""
    app.command("timing", epilog="Example: il6sim timing --drug tocilizumab --days 0,4,8,12 "
                                 "--out out/timing")(timing)
    app.command("sepsis", epilog="Example: il6sim sepsis --n 150 --out out/sepsis")(sepsis)
