"""Command line of the sensitivity studies: ``il6sim sensitivity``.

Options are checked before any simulation (one ``error: ...; fix: ...`` line, exit 2); the runs
are stored under ``--out`` as they finish, so the same command resumes a stopped study.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._cli_errors import check_output_folder, check_positive
from .._console import wide_console
from ..errors import InputError

__all__ = ["register"]

#: Largest design a command may ask for (simulations per arm).
MAX_RUNS = 200_000


def sensitivity(
    scenario: Annotated[str, typer.Option(
        "--scenario", help="Preset or scenario file whose patient is varied.")] =
    "covid19-severe",
    method: Annotated[str, typer.Option(
        "--method", help="morris (screening of every uncertain parameter) or sobol (first-order "
                         "and total indices of the top parameters).")] = "morris",
    n: Annotated[int, typer.Option(
        "--n", help="Morris trajectories, or the Sobol base sample (a power of 2).")] = 10,
    treat: Annotated[str, typer.Option(
        "--treat", help="Drug or regimen whose effect on death is an output; 'none' for "
                        "none.")] = "tocilizumab",
    at_day: Annotated[float, typer.Option(
        "--at-day", help="Day after infection the treatment starts.")] = 4.5,
    params: Annotated[str | None, typer.Option(
        "--params", help="Comma-separated parameters to vary (default: every uncertain "
                         "parameter; Sobol: the --top of a Morris screening).",
        show_default=False)] = None,
    top: Annotated[int, typer.Option(
        "--top", help="Sobol without --params: how many screened parameters to keep.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the design.")] = 0,
    out: Annotated[Path, typer.Option(
        "--out", help="Folder for runs, indices (CSV), report.md and figure; running again "
                      "resumes.")] = Path("out/sensitivity"),
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address (tcp://HOST:PORT); default: this process.",
        show_default=False)] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown tables.")] = False,
) -> None:
    """Which uncertain parameters drive death, the storm, IL-6, CRP, P/F and a treatment's
    effect in one patient: Morris screening or Sobol indices (SALib) over the declared ranges."""
    from ..scenario import load_scenario
    from ._report import figure, markdown_tables
    from ._study import Study, run_study

    check_output_folder(out, "--out")
    if method not in ("morris", "sobol"):
        raise InputError(f"--method '{method}'; fix: use morris or sobol")
    check_positive("--n", n, MAX_RUNS, minimum=2)
    check_positive("--top", top, 500, minimum=2)
    if not math.isfinite(at_day) or at_day < 0 or at_day > 60:
        raise InputError(f"--at-day {at_day}; fix: give a day between 0 and 60")
    if method == "sobol" and n & (n - 1):
        raise InputError(f"--n {n} is not a power of 2; fix: e.g. --n 64 for Sobol")
    load_scenario(scenario)
    names = tuple(p.strip() for p in params.split(",") if p.strip()) if params else None
    study = Study(scenario, method, n, seed, None if treat == "none" else treat, at_day, names)
    space = study.space()  # checks --params and --treat before any run
    runs = n * (len(space) + 1) if method == "morris" else n * (2 * min(top, len(space)) + 2)
    if runs > MAX_RUNS:
        raise InputError(f"{runs} simulations per arm; fix: lower --n or vary fewer parameters "
                         f"(at most {MAX_RUNS})")
    console = wide_console()
    console.print(f"{method}: {len(space)} uncertain parameters of {scenario}, about {runs} "
                  f"runs per arm; results in {out}")
    indices = run_study(study, out, scheduler=scheduler, top=top)
    dropped = indices.attrs.get("dropped_trajectories", 0)
    if dropped:
        console.print(f"[yellow]warning[/yellow]: {dropped} of {n} Morris trajectories had a "
                      "run the solver failed and were left out")
    text = markdown_tables(indices, method)
    (out / "report.md").write_text(text, encoding="utf-8")
    path = figure(indices, method, out / f"{method}.png", title=f"{scenario}: {method}")
    if markdown:
        typer.echo(text)
    else:
        for output, part in indices.groupby("output", sort=False):
            table = Table(title=f"{output}: top parameters ({method})", title_justify="left")
            columns = (["parameter", "mu_star", "sigma", "basis"] if method == "morris"
                       else ["parameter", "S1", "ST", "basis"])
            for column in columns:
                table.add_column(column, justify="left" if column in ("parameter", "basis")
                                 else "right")
            for row in part.head(8).itertuples():
                table.add_row(*[f"{getattr(row, c):.3g}" if isinstance(getattr(row, c), float)
                                else str(getattr(row, c)) for c in columns])
            console.print(table)
    console.print(f"wrote {out / 'report.md'}, {path} and {out / (method + '.csv')}")


def register(app: typer.Typer) -> None:
    """Add the ``sensitivity`` command to ``app``."""
    app.command("sensitivity", epilog="Example: il6sim sensitivity --scenario covid19-severe "
                                      "--method morris --n 10 --out out/sensitivity")(sensitivity)
