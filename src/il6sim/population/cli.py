"""Command line: ``il6sim population fit | sample | course | list``.

:func:`register` adds the group to the ``il6sim`` app. Any :class:`~il6sim.errors.Il6simError`
is printed as ``error: <message>`` on stderr with exit code 2, never a traceback. Every option
(counts, seed, days, window, output path) is checked before the cohort is read or a patient is
drawn (:func:`check_options`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .._cli_errors import check_output_file, check_output_folder, reporting_errors
from ..errors import InputError
from ..limits import MAX_POPULATION_PATIENTS, MAX_RUN_HOURS
from ._defaults import DEFAULT_PATIENTS

__all__ = ["register"]

SpecOption = Annotated[str, typer.Option(
    "--spec", help="Population declaration: a shipped name ('il6sim population list') or a "
                   "YAML file.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every draw (whole number).")]


def check_options(*, n: int, min_n: int = 1, rounds: int | None = None, seed: int = 0,
                  days: float | None = None, window_hours: float | None = None) -> None:
    """Refuse, before any work, option values outside what a population command can do:
    ``--n`` below ``min_n`` or above :data:`~il6sim.limits.MAX_POPULATION_PATIENTS`,
    ``--rounds`` below 1 or above ``--n``, a negative ``--seed``, ``--days`` outside 56–365 or
    not a number, ``--window-hours`` not above 0 or beyond two years."""
    if not min_n <= n <= MAX_POPULATION_PATIENTS:
        raise InputError(f"--n {n} is outside {min_n}–{MAX_POPULATION_PATIENTS:,}; fix: give a "
                         f"whole number of patients from {min_n} to {MAX_POPULATION_PATIENTS:,}")
    if rounds is not None and not 1 <= rounds <= n:
        raise InputError(f"--rounds {rounds} is outside 1–{n} (one round needs at least one of "
                         f"the --n {n} patients); fix: give --rounds from 1 to {n}")
    if seed < 0:
        raise InputError(f"--seed {seed} is negative; fix: give a whole number of 0 or more")
    if days is not None and not (math.isfinite(days) and 56.0 <= days <= 365.0):
        raise InputError(f"--days {days:g} must lie between 56 and 365 (the plausibility rows "
                         "look 49 days past onset); fix: give e.g. --days 60")
    if window_hours is not None and not (math.isfinite(window_hours)
                                         and 0 < window_hours <= MAX_RUN_HOURS):
        raise InputError(f"--window-hours {window_hours:g} is not a time after admission; fix: "
                         "give a number of hours above 0, e.g. --window-hours 48")


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=120)


def ks_rich_table(ks) -> Table:
    """The goodness-of-fit table for the terminal."""
    table = Table(title="Admission values, virtual (selected) vs cohort: two-sample KS",
                  title_justify="left")
    for name in ("marker", "group", "fitted", "n real", "n virtual", "median real",
                 "median virtual", "KS", "p", "KS weighted", "KS prior"):
        table.add_column(name, justify="left" if name in ("marker", "group") else "right",
                         no_wrap=name in ("marker", "group", "p"),
                         min_width=7 if name == "p" else None)
    for row in ks.itertuples():
        table.add_row(row.marker, row.group, "yes" if row.fitted else "no", str(row.n_real),
                      str(row.n_sim), f"{row.median_real:.3g}", f"{row.median_sim:.3g}",
                      f"{row.ks:.3f}", f"{row.p_value:.2g}", f"{row.ks_weighted:.3f}",
                      f"{row.ks_prior:.3f}")
    return table


def fit(
    cohort: Annotated[Path | None, typer.Argument(
        help="Cohort CSV (one row per blood sample, Tongji Hospital export format). Default: "
             "the shipped Wuhan 2020 development cohort.", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for population.parquet, "
                                                    "plausible.parquet and the report.")] =
    Path("out/population"),
    n: Annotated[int, typer.Option("--n", help="Virtual patients to simulate (all rounds).")] =
    DEFAULT_PATIENTS,
    rounds: Annotated[int, typer.Option("--rounds", help="Adaptive sampling rounds.")] = 8,
    seed: SeedOption = 0,
    spec: SpecOption = "covid19-hospitalised",
    window_hours: Annotated[float, typer.Option(
        "--window-hours", help="Admission values: first value within this many hours.")] = 48.0,
) -> None:
    """Calibrate a virtual population to a real cohort and report the fit."""
    check_options(n=n, rounds=rounds, seed=seed, window_hours=window_hours)
    check_output_folder(out, "--out")
    if cohort is not None and not cohort.is_file():
        raise InputError(f"cohort '{cohort}' is not a file; fix: give the path of a cohort CSV "
                         "or leave it out for the shipped cohort")
    from ..cohort import load_cohort
    from ._population import VirtualPopulation
    from ._report import write_report

    console = _console()
    population = VirtualPopulation(spec, n=n, rounds=rounds, random_state=seed,
                                   window_hours=window_hours)
    _ = population.spec_  # validate the declaration before reading the cohort
    with console.status("reading cohort"):
        data = load_cohort(cohort)
    console.print(f"[bold]{data!r}[/bold]")
    with console.status("simulating") as status:
        population.fit(data, progress=lambda message: status.update(message))
    summary = population.summary_
    console.print(
        f"{summary['n_simulated']} simulated, {summary['n_admitted']} admitted, "
        f"{summary['n_selected']} selected (effective sample size of the weights "
        f"{summary['effective_sample_size']:.0f}) in {summary['seconds']:.0f} s")
    console.print(ks_rich_table(population.goodness_of_fit_))
    deaths = population.deaths_
    against = "the declared target" if population.spec_.death_fraction else "the cohort"
    for row in deaths.itertuples():
        if row.population == "target (declared)":
            source = population.spec_.death_fraction_source.split(";")[0]
            console.print(f"death fraction, calibration target (declared in the population "
                          f"file, not the cohort's): {row.fraction:.3f} ({source})")
            continue
        extra = (f" (95 % CI {row.ci_low:.3f}–{row.ci_high:.3f})" if row.population == "cohort"
                 else f" (binomial test against {against}: p {row.p_value:.2g})"
                 if row.population == "virtual (selected)" else "")
        counts = (f" ({int(row.deaths)}/{int(row.n)})" if math.isfinite(row.deaths)
                  else " (the calibration target of the weights)")
        console.print(f"death fraction, {row.population}: {row.fraction:.3f}{counts}{extra}")
    paths = write_report(population, out)
    population.save(out / "population.parquet")
    population.save(out / "plausible.parquet", plausible=True)
    population.save_calibrated(out / "calibrated.parquet")
    console.print(f"wrote {out / 'population.parquet'}, {out / 'plausible.parquet'}, "
                  f"{out / 'calibrated.parquet'} (for trials), "
                  f"{paths['report']} and figures")


def sample(
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    n: Annotated[int, typer.Option("--n", help="Number of virtual patients.")] = 100,
    seed: SeedOption = 0,
    spec: SpecOption = "covid19-hospitalised",
) -> None:
    """Draw virtual patients from a declaration (no simulation) and write them to Parquet."""
    check_options(n=n, seed=seed)
    check_output_file(out, "--out", (".parquet",))
    from ._population import VirtualPopulation

    population = VirtualPopulation(spec, random_state=seed)
    table = population.sample(n)
    population.save_sample(table, out)
    _console().print(f"wrote {len(table)} patients ({table.shape[1]} columns) to {out}")


def course(
    n: Annotated[int, typer.Option("--n", help="Virtual patients to draw (20 or more).")] = 300,
    seed: SeedOption = 0,
    days: Annotated[float, typer.Option("--days", help="Days to follow each course (56-365).")]
    = 60.0,
    prior: Annotated[bool, typer.Option(
        "--prior", help="Draw from the declaration's prior instead of the shipped calibration.")]
    = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the table as CSV here.", show_default=False)] = None,
) -> None:
    """The simulated COVID-19 course against the published one, row by row
    (data/targets/covid_course.yaml)."""
    check_options(n=n, min_n=20, seed=seed, days=days)
    check_output_file(out, "--out", (".csv",))
    from ._course_check import course_table, simulate_course_check
    console = _console()
    with console.status(f"simulating {n} patients untreated and with tocilizumab"):
        run = simulate_course_check(n, seed=seed, days=days, calibrated=not prior)
    table = course_table(run)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    if markdown:
        print(course_markdown(table))
    else:
        console.print(course_rich_table(table))
    console.print(f"{int(table.within.sum())} of {len(table)} rows inside their range "
                  f"({n} patients drawn, {int(run.admitted.sum())} admitted, seed {seed})")


def _course_value(value: float) -> str:
    return "n/a" if value != value else f"{value:.3g}"


def course_rows(table):
    """Cells of the course table: id, model, range, within, n, role, verified."""
    for row in table.itertuples():
        yield (row.id.removeprefix("course."), _course_value(row.model),
               f"{row.low:.3g}–{row.high:.3g} {row.unit}", "yes" if row.within else "NO",
               str(row.n), row.role, "yes" if row.verified else "no")


COURSE_COLUMNS = ("row", "model", "accepted range", "within", "n", "role", "source read")


def course_rich_table(table) -> Table:
    """The course table for the terminal."""
    rich = Table(title="COVID-19 course: virtual inpatients vs published values",
                 title_justify="left")
    for name in COURSE_COLUMNS:
        rich.add_column(name, no_wrap=name == "row")
    for cells in course_rows(table):
        rich.add_row(*cells)
    return rich


def course_markdown(table) -> str:
    """The course table as Markdown (README, docs)."""
    lines = ["| " + " | ".join(COURSE_COLUMNS) + " |",
             "|" + "---|" * len(COURSE_COLUMNS)]
    lines += ["| " + " | ".join(f"`{c}`" if k == 0 else c for k, c in enumerate(cells)) + " |"
              for cells in course_rows(table)]
    return "\n".join(lines)


def list_() -> None:
    """List the shipped population declarations."""
    from ._spec import list_population_specs

    table = Table(title="Population declarations (il6sim/data/populations)",
                  title_justify="left")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for name, description in list_population_specs().items():
        table.add_row(name, description)
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``population`` group (``fit``, ``sample``, ``list``) to ``app``."""
    group = typer.Typer(help="Virtual populations calibrated to real cohorts.",
                        no_args_is_help=True, add_completion=False)
    group.command("fit", epilog="Example: il6sim population fit --out out/population --n 16000 "
                                "--seed 0")(reporting_errors(fit))
    group.command("sample", epilog="Example: il6sim population sample --n 100 --out "
                                   "patients.parquet")(reporting_errors(sample))
    group.command("course", epilog="Example: il6sim population course --n 300 --seed 0 "
                                   "--markdown")(reporting_errors(course))
    group.command("list", epilog="Example: il6sim population list")(reporting_errors(list_))
    app.add_typer(group, name="population",
                  epilog="Example: il6sim population fit COHORT.csv --out out/population")
