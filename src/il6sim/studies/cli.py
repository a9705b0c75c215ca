"""Command line of the studies: ``il6sim timing``.

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

from .._cli_errors import check_output_folder

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
) -> None:
    """Timing × selection map of a treatment (IL-6 blockade or dexamethasone): each phenotype
    untreated vs treated on each day.

    Writes timing.csv, timing.parquet (one row per phenotype × day), timing.json (settings)
    and the heat map timing.png to --out, and prints the map.
    """
    from ._timing_plot import METRICS
    from .timing import parse_days, resolve_treatment, run_timing

    if metric not in METRICS:
        from ..errors import InputError

        raise InputError(f"--metric '{metric}' is not known; fix: one of {', '.join(METRICS)}")
    check_output_folder(out, "--out")
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
    console.print("Written: " + ", ".join(str(p) for p in paths.values()))


def register(app: typer.Typer) -> None:
    """Add the ``timing`` command to ``app``."""
    app.command("timing", epilog="Example: il6sim timing --drug tocilizumab --days 0,4,8,12 "
                                 "--out out/timing")(timing)
