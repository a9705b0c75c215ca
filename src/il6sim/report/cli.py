"""Command line of the study report: ``il6sim study``.

:func:`register` adds the command to the ``il6sim`` app. A bad ``--out`` (a file, a folder that
cannot be written) or an unknown ``--only`` section is ``error: <message>`` with exit code 2;
a section that fails is reported in the report and here, the others still run, and the command
exits with code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .._cli_errors import reporting_errors

__all__ = ["register"]


class _Bars:
    """One rich progress bar per section, fed by :func:`il6sim.report.run_study`'s callback."""

    def __init__(self, progress: Progress, titles: dict[str, str]) -> None:
        self.progress = progress
        self.titles = titles
        self.tasks: dict[str, Any] = {}
        self.steps: dict[str, int] = {}

    def __call__(self, event: str, key: str, detail: Any) -> None:
        title = self.titles[key]
        if event == "start":
            total = max(int(detail), 1)
            self.tasks[key] = self.progress.add_task(title, total=total)
        elif event == "step":
            task = self.tasks[key]
            self.steps[key] = self.steps.get(key, 0) + 1  # steps started; the earlier ones done
            total = self.progress.tasks[task].total
            self.progress.update(task, description=f"{title}: {detail}",
                                 completed=min(self.steps[key] - 1, total - 1))
        elif event == "detail":
            self.progress.update(self.tasks[key], description=f"{title}: {detail}")
        elif event == "done":
            task, result = self.tasks[key], detail
            note = {"ok": "done", "failed": "[red]failed[/]",
                    "unavailable": "[yellow]not available[/]"}[result.status]
            if result.cached:
                note = "reused from the last run"
            self.progress.update(task, description=f"{title}: {note}",
                                 completed=self.progress.tasks[task].total)
            if result.status != "ok":
                self.progress.console.print(f"section '{key}' {result.status}: {result.error}",
                                            markup=False, highlight=False)


def _summary(result) -> Table:
    table = Table(title="il6sim study", title_justify="left")
    for column in ("section", "status", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for section in result.sections:
        status = section.status + (" (reused)" if section.cached else "")
        table.add_row(section.title, status, f"{section.seconds:.1f}")
    return table


@reporting_errors
def study(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: report.html, "
                                      "study.json, and each section's figures and tables.")
                   ] = Path("out/study"),
    quick: Annotated[bool, typer.Option(
        "--quick", help="Shortened study (fewer patients and resamples; about a minute).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random draw.")] = 0,
    only: Annotated[str | None, typer.Option(
        "--only", help="Comma-separated section keys to run (biology, infections, covid, "
                       "blockade, timing, trial, cohort).", show_default=False)] = None,
) -> None:
    """Run the flagship study and write one self-contained HTML report (out/study/report.html).

    Seven sections: IL-6 biology and endotoxin, bacterial vs viral courses, mild vs severe
    COVID-19, tocilizumab/sarilumab PK and PD, the timing × selection map, the RECOVERY-like
    trial and the real-cohort prognosis. Finished sections are saved in --out and reused by the
    next run with the same settings; a failed section is reported and the others still run.
    """
    from . import StudySettings, check_out_dir, run_study, select_sections
    from .sections import SECTIONS

    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    select_sections(names)  # bad input is reported before anything runs
    check_out_dir(out)
    settings = StudySettings.default(quick=quick, seed=seed)
    console = Console(highlight=False)
    count = len(names) if names else len(SECTIONS)
    console.print(f"il6sim study{' (quick)' if quick else ''}: {count} sections → "
                  f"{out / 'report.html'}; building the model first")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=24),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bars = _Bars(progress, {s.key: s.title for s in SECTIONS})
        command = "il6sim study" + (" --quick" if quick else "") + (f" --seed {seed}"
                                                                       if seed else "")
        result = run_study(out, settings, sections=names, progress=bars, command=command)
    console.print(_summary(result))
    console.print(f"Report written to {result.report} ({result.seconds:.0f} s); key numbers in "
                  f"{result.summary}.")
    if result.failed:
        console.print(f"{len(result.failed)} section(s) failed; their errors are in the report. "
                      "Run the command again to retry them (finished sections are reused).")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``study`` command to ``app``."""
    app.command("study", epilog="Example: il6sim study --out out/study  (then open "
                                "out/study/report.html)")(study)
