"""Command line: ``il6sim validate`` (the validation scorecard).

Every option is checked before any simulation (one line ``error: ...``, exit code 2). The
trials run into ``--runs`` (default ``out/validate``) and each finished target set is stored
there, so an interrupted scorecard resumes when run again with the same options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._cli_errors import (
    check_output_file,
    check_output_folder,
    check_positive,
    reporting_errors,
)
from ..errors import InputError
from ..limits import MAX_POPULATION_PATIENTS, MAX_TRIAL_PATIENTS

__all__ = ["register"]

HELP = ("Validation scorecard: every shipped trial and target set, predicted vs published, "
        "fitted vs held out.")

#: ``--quick``: patients per trial and in the course.
QUICK_TRIAL_N, QUICK_COURSE_N = 100, 40
OUT_SUFFIXES = (".csv", ".json", ".md")


def check_options(*, n: int | None, full: bool, quick: bool, course_n: int | None, seed: int,
                  only: str | None, trials: list[str] | None) -> tuple[int | None, int]:
    """Refuse, before any work, options the scorecard cannot run; returns the trial size
    (None: published sizes) and the course size."""
    from ._scorecard import DEFAULT_COURSE_N, DEFAULT_TRIAL_N

    if sum((n is not None, full, quick)) > 1:
        raise InputError("--n, --full and --quick each set the trial size; fix: give one of "
                         "them")
    if quick and course_n is not None:
        raise InputError("--quick sets --course-n; fix: give one of them")
    if only not in (None, "trials", "targets"):
        raise InputError(f"--only '{only}' is not a part of the scorecard; fix: give --only "
                         "trials or --only targets")
    if trials and only == "targets":
        raise InputError("--trial with --only targets runs no trial; fix: leave out one of "
                         "them")
    check_positive("--n", n, MAX_TRIAL_PATIENTS, minimum=2)
    size = None if full else QUICK_TRIAL_N if quick else DEFAULT_TRIAL_N if n is None else n
    course = QUICK_COURSE_N if quick else DEFAULT_COURSE_N if course_n is None else course_n
    if seed < 0:
        raise InputError(f"--seed {seed} is negative; fix: give a whole number of 0 or more")
    if only != "trials":
        check_positive("--course-n", course, MAX_POPULATION_PATIENTS, minimum=20)
        _check_course_memory(course)
    return size, course


def _check_course_memory(n: int) -> None:
    from ..limits import sampling_problem
    from ..population._spec import load_population_spec

    problem = sampling_problem(60.0 * 24.0, load_population_spec("covid19-hospitalised")
                               .sampling_h, 2 * n)
    if problem:
        raise InputError(f"--course-n {n}: {problem}")


def validate(
    n: Annotated[int | None, typer.Option(
        "--n", help="Patients randomised per trial (default 600; the scorecard's intervals "
                    "narrow with more).", show_default=False)] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Run each trial at its published size.")] = False,
    quick: Annotated[bool, typer.Option(
        "--quick", help=f"A smoke run: {QUICK_TRIAL_N} patients per trial, "
                        f"{QUICK_COURSE_N} in the course.")] = False,
    course_n: Annotated[int | None, typer.Option(
        "--course-n", help="Virtual patients of the COVID-19 course rows (default 300).",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the course's patients.")] = 0,
    only: Annotated[str | None, typer.Option(
        "--only", help="Run one part: trials or targets.", show_default=False)] = None,
    trial: Annotated[list[str] | None, typer.Option(
        "--trial", help="A trial name or YAML file to score instead of the shipped trials "
                        "(repeatable); a file of your own is scored unchanged.",
        show_default=False)] = None,
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print the scorecard as Markdown.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the rows: .csv, .json (with the summary), or .md (the "
                      "document docs/validation.md is).", show_default=False)] = None,
    runs: Annotated[Path, typer.Option(
        "--runs", help="Folder where trials run and target rows are kept; running again "
                       "resumes.")] = Path("out/validate"),
) -> None:
    """Validation scorecard: every shipped trial and target set, predicted vs published,
    fitted vs held out.

    How each row is judged: docs/validation.md.
    """
    import sys

    from rich.console import Console

    from .._console import wide_console
    from ..trial import load_trial
    from ._format import command_line, markdown_rows, rich_table, summary_line
    from ._scorecard import run_scorecard

    size, course = check_options(n=n, full=full, quick=quick, course_n=course_n, seed=seed,
                                 only=only, trials=trial)
    check_output_file(out, "--out", OUT_SUFFIXES)
    check_output_folder(runs, "--runs")
    for entry in trial or []:
        load_trial(entry)  # a bad trial file is refused before anything runs
    log = Console(stderr=True, highlight=False)
    card = run_scorecard(n=size, course_n=course, seed=seed, only=only, trials=trial,
                         runs_dir=runs, progress=lambda line: log.print(line, markup=False))
    card.settings["command"] = command_line(card.settings, str(out) if out else None,
                                            markdown=out is not None
                                            and out.suffix.lower() == ".md")
    if markdown:
        sys.stdout.write("\n".join(markdown_rows(card.rows)) + "\n")
    else:
        wide_console().print(rich_table(card.rows))
    typer.echo(f"summary: {summary_line(card.summary)}")
    if out is not None:
        card.save(out)
        typer.echo(f"scorecard written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command("validate", epilog="Example: il6sim validate --n 600 --out "
                                   "out/validate/scorecard.csv; il6sim validate --markdown "
                                   "--out docs/validation.md")(reporting_errors(validate))
