"""The ``il6sim`` command line: simulate scenarios, list presets, print the model.

Every :class:`~il6sim.errors.Il6simError` is printed as ``error: <message>`` on stderr and the
command exits with code 2, without a traceback. Other packages add commands through a
``register(app)`` function (the cohort commands do); they are listed in
:data:`PACKAGE_COMMANDS` and their package is imported only when one of them runs, so that
``il6sim --version`` and ``il6sim --help`` import no numerical library (numpy, pandas, scipy,
sympy, libsbml, dask, ...): the commands import what they need inside.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from pydantic_core import ValidationError
from rich.table import Table
from typer.core import TyperGroup

from ._cli_errors import (
    ERROR_EXIT_CODE,
    check_output_file,
    report_error,
)
from ._console import wide_console
from .errors import Il6simError, InputError

#: Commands that live with their packages: name → (package, the line ``il6sim --help`` shows).
#: ``il6sim.<package>.cli.register(app)`` adds them; the package is imported only when one of
#: them runs or shows its own help (tests/test_cli.py checks this table against register()).
PACKAGE_COMMANDS: dict[str, tuple[str, str]] = {
    "biomarkers": ("cohort", "IL-6 and other biomarkers vs in-hospital death: report with "
                             "AUCs, cut-offs, survival."),
    "prognosis": ("cohort", "Prognostic model of in-hospital death from first labs."),
    "export-sbml": ("interop", "Export a scenario as SBML Level 3 Version 2 (patient, resting "
                               "state, doses as events)."),
    "export": ("interop", "Export the calibration problem for other tools (PEtab)."),
    "twin": ("twin", "Fit the model to one patient's own labs and forecast them, and death, "
                     "with and without IL-6 blockade started now."),
    "twin-eval": ("twin", "Fit every patient on their first days: coverage of their later labs "
                          "by the forecast, the AUC for death of the twin next to the "
                          "statistical model (Il6Prognosis), and the calibration of its "
                          "probability of death, raw and recalibrated (reliability.png)."),
    "timing": ("studies", "Timing × selection map of a treatment (IL-6 blockade or "
                          "dexamethasone): each phenotype untreated vs treated on each day."),
    "sepsis": ("studies", "Sepsis cohorts against the published figures: septic shock by "
                          "antibiotic delay and IL-6 at shock onset (--cohort shock), or sepsis "
                          "from presentation by shock and SOFA (--cohort sepsis)."),
    "sensitivity": ("sensitivity", "Which uncertain parameters drive death, the storm, IL-6, CRP, "
                                   "P/F and a treatment's effect in one patient: Morris "
                                   "screening or Sobol indices (SALib) over the declared "
                                   "ranges."),
    "ensemble": ("ensemble", "Parameter sets that all reproduce the calibration targets."),
    "population": ("population", "Virtual populations calibrated to real cohorts."),
    "trial": ("trial", "Run an in-silico randomised trial and compare it with the published "
                       "one."),
    "trials": ("trial", "List the shipped trial files."),
    "policy": ("trial", "Search treatment rules (drug x trigger x delay) and report who "
                        "benefits and who is harmed."),
    "study": ("report", "Run the flagship study and write one self-contained HTML report "
                        "(out/study/report.html)."),
    "serve": ("dashboard", "Open the browser dashboard: explore an infection treated vs "
                           "untreated, fit a patient's digital twin, run a virtual trial."),
    "validate": ("validation", "Validation scorecard: every shipped trial and target set, "
                               "predicted vs published, fitted vs held out."),
}


def _package_present(package: str) -> bool:
    """Whether ``il6sim.<package>`` is installed (found without importing it)."""
    return importlib.util.find_spec(f"il6sim.{package}") is not None


class Il6simGroup(TyperGroup):
    """The command group: turns il6sim errors of any sub-command into ``error: ...``, exit 2,
    and loads the commands of :data:`PACKAGE_COMMANDS` when they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return [*own, *[name for name, (package, _) in PACKAGE_COMMANDS.items()
                        if name not in own and _package_present(package)]]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command; a package command not yet loaded is a stand-in carrying its help line
        (enough to list it), loaded for real by :meth:`resolve_command`."""
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in PACKAGE_COMMANDS:
            return command
        package, help_line = PACKAGE_COMMANDS[cmd_name]
        if not _package_present(package):
            return None
        return click.Command(cmd_name, help=help_line)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = click.utils.make_str(args[0]) if args else ""
        if name in PACKAGE_COMMANDS and name not in self.commands:
            self.load_package(PACKAGE_COMMANDS[name][0])
        return super().resolve_command(ctx, args)

    def load_package(self, package: str) -> None:
        """Add the commands of ``il6sim.<package>.cli`` (its ``register(app)``), if present."""
        from importlib import import_module

        module_name = f"il6sim.{package}.cli"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name not in (f"il6sim.{package}", module_name):
                raise
            return
        holder = typer.Typer(add_completion=False)
        module.register(holder)
        for name, command in typer.main.get_group(holder).commands.items():
            self.add_command(command, name)

    def invoke(self, ctx: Any) -> Any:
        import yaml

        try:
            return super().invoke(ctx)
        except Il6simError as exc:
            report_error(str(exc))
        except ValidationError as exc:  # an input a sub-command validated without converting
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or exc.title
            report_error(f"field '{field}': {first['msg']}; fix: correct that field")
        except yaml.YAMLError as exc:
            report_error("invalid YAML (" + " ".join(str(exc).split()) + "); fix: check the file")
        except OSError as exc:  # checked up front, but a disk can fill or a folder vanish
            where = f"'{exc.filename}'" if exc.filename else "a file"
            report_error(f"cannot use {where} ({exc.strerror or type(exc).__name__}); fix: "
                         "check the path, its permissions and the free disk space")
        raise typer.Exit(ERROR_EXIT_CODE)


app = typer.Typer(
    name="il6sim",
    cls=Il6simGroup,
    help="A computable model of the interleukin-6 system in infection.",
    epilog="Example: il6sim simulate endotoxemia-2ngkg --out result.parquet --plot result.png",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"il6sim {version('il6sim')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """A computable model of the interleukin-6 system in infection."""


def _parse_sets(items: list[str] | None) -> dict[str, str]:
    sets: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(
                f"--set '{item}' is not name=value; fix: write e.g. --set body_weight=80kg"
            )
        sets[name.strip()] = value.strip()
    return sets


@app.command(
    epilog="Example: il6sim simulate endotoxemia-2ngkg --out result.parquet --plot result.png "
    "--set body_weight=90kg --set duration=72h; il6sim simulate covid19-severe --treat "
    "tocilizumab --at-day 8 --out treated.parquet --plot f.png",
)
def simulate(
    scenario: Annotated[str, typer.Argument(help="A scenario YAML file or a preset name "
                                                 "(see `il6sim presets`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Result file: .parquet or .nc.")],
    plot: Annotated[Path | None, typer.Option(
        "--plot", "-p", help="Also draw the scenario's outputs to this image.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override name=value: a parameter (body_weight=80kg), "
        "duration, sampling, name, or knockouts=il6,tnf. Repeatable.")] = None,
    treat: Annotated[str | None, typer.Option(
        "--treat", help="Add IL-6 blockade: a drug (its default regimen) or a label regimen; "
        "the untreated run is saved and plotted beside it.")] = None,
    at_day: Annotated[float | None, typer.Option(
        "--at-day", help="Day of the first dose of --treat (default 0).",
        show_default=False)] = None,
) -> None:
    """Simulate a scenario (file or preset) and save the result; print peak and final values."""
    import numpy as np

    from ._summary import summary_table
    from .plotting import plot_result
    from .scenario import load_scenario

    check_output_file(out, "--out", (".parquet", ".nc"))
    check_output_file(plot, "--plot", (".png", ".svg", ".pdf", ".jpg"))
    if treat is not None and out.with_name(f"{out.stem}-untreated{out.suffix}").is_dir():
        check_output_file(out.with_name(f"{out.stem}-untreated{out.suffix}"), "--out")
    if at_day is not None:
        if treat is None:
            raise InputError(f"--at-day {at_day:g} without --treat; fix: add --treat DRUG "
                             "(e.g. --treat tocilizumab) or leave out --at-day")
        if not np.isfinite(at_day):
            raise InputError(f"--at-day {at_day} is not a finite day; fix: give a day such as 8")
        if at_day < 0:
            raise InputError(f"--at-day {at_day:g} is before the start; fix: give a day of 0 "
                             "or later")
    loaded = load_scenario(scenario)
    sets = _parse_sets(set_)
    if sets:
        loaded = loaded.with_overrides(sets)
    if treat is not None:
        at_day = at_day or 0.0
        if at_day * 24.0 >= loaded.duration_h:
            raise InputError(f"--at-day {at_day:g} is at or after the end of the run "
                             f"({loaded.duration_h / 24:g} d); fix: give an earlier day or a "
                             "longer run (--set duration=...)")
        _simulate_treated(loaded, treat, at_day, out, plot)
        return
    result = loaded.run()
    out.parent.mkdir(parents=True, exist_ok=True)
    result.save(out)
    console = wide_console()
    console.print(summary_table(result, list(loaded.outputs)))
    typer.echo(f"result saved to {out}")
    if plot is not None:
        targets = loaded.load_targets()
        plot_result(result, list(loaded.outputs), plot, targets=targets)
        typer.echo(f"plot saved to {plot}")
    _exit_on_solver_failure({loaded.name: result})


#: Exit code of a run whose solver failed (its result is saved, NaN after the failure).
SOLVER_FAILURE_EXIT_CODE = 1


def solver_failures(runs: dict[str, Any]) -> list[str]:
    """``"<run>: <reason>"`` for every patient of ``runs`` whose integration failed."""
    return [f"{label}: {status}" for label, result in runs.items()
            for status in result.status if status != "ok"]


def _exit_on_solver_failure(runs: dict[str, Any]) -> None:
    failures = solver_failures(runs)
    if failures:
        report_error(f"the solver failed ({failures[0]}); the values after the failure are NaN "
                     "in the saved result; fix: check the parameters and doses, or report it")
        raise typer.Exit(SOLVER_FAILURE_EXIT_CODE)


#: Read-outs plotted beside the scenario's own for a treated run, by kind of drug.
_DRUG_READOUTS = {
    "antibody": ["drug_conc", "sil6r_total"],
    "glucocorticoid": ["glucocorticoid_conc", "glucocorticoid_response"],
    "antiviral": ["antiviral_conc", "antiviral_inhibition"],
}


def _simulate_treated(loaded: Any, treat: str, at_day: float, out: Path, plot: Path | None):
    """Run the scenario untreated and treated; save both, compare outcomes, plot both."""
    import numpy as np

    from ._summary import summary_table
    from .clinical import outcomes
    from .plotting import plot_comparison

    treated_scenario = loaded.with_treatment(treat, f"{at_day} d")
    runs = {"untreated": loaded.with_treatment(None).run(), treat: treated_scenario.run()}
    out.parent.mkdir(parents=True, exist_ok=True)
    untreated_path = out.with_name(f"{out.stem}-untreated{out.suffix}")
    runs[treat].save(out)
    runs["untreated"].save(untreated_path)
    console = wide_console()
    console.print(summary_table(runs[treat], list(loaded.outputs)))
    table = Table(title=f"outcomes: untreated vs {treat} from day {at_day:g}",
                  title_justify="left")
    columns = ["peak_il6", "peak_crp", "min_pf", "peak_sofa", "storm_hours", "ventilated",
               "death_probability"]
    table.add_column("run")
    for column in columns:
        table.add_column(column, justify="right")
    for label, result in runs.items():
        row = outcomes(result).iloc[0]
        table.add_row(label, *[f"{row[c]:.3g}" if not isinstance(row[c], (bool, np.bool_))
                               else str(bool(row[c])) for c in columns])
    console.print(table)
    typer.echo(f"results saved to {out} (treated) and {untreated_path} (untreated)")
    if plot is not None:
        from .pharmacology import drug_names, label_regimens, load_drug

        drug = treat if treat in drug_names() else label_regimens()[treat].drug
        drug_outputs = _DRUG_READOUTS[load_drug(drug).kind]
        shown = list(dict.fromkeys([*loaded.outputs, *drug_outputs]))
        plot_comparison(runs, shown, plot, title=f"{loaded.name}: {treat} from day {at_day:g}")
        typer.echo(f"plot saved to {plot}")
    _exit_on_solver_failure(runs)


@app.command(epilog="Example: il6sim pk --markdown")
def pk(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
) -> None:
    """Simulate every label regimen with PK targets and compare its PK/PD with the published values.

    Exit code 1 if any value falls outside the published mean ± SD (or below its bound).
    """
    from .pharmacology import pk_markdown, pk_table

    rows = pk_table()
    columns = ["regimen", "metric", "model", "published", "passed", "source"]
    if markdown:
        typer.echo(pk_markdown(rows))
    else:
        table = Table(title="Drug PK/PD: model vs published (70 kg)",
                      title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows.itertuples():
            table.add_row(row.regimen, f"{row.metric} ({row.unit})", f"{row.model:.4g}",
                          row.published, "yes" if row.passed else "NO", row.source)
        wide_console().print(table)
    if not rows.passed.all():
        raise typer.Exit(1)


@app.command(epilog="Example: il6sim presets")
def presets() -> None:
    """List the built-in scenarios (presets) with their descriptions."""
    from .scenario import list_presets

    table = Table(title="il6sim presets", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    for name, description in list_presets().items():
        table.add_row(name, description)
    wide_console().print(table)


@app.command(epilog="Example: il6sim model --markdown --out MODEL.md")
def model(
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print Markdown (GitHub tables) instead of terminal tables.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the Markdown tables to this file.")] = None,
) -> None:
    """Print the model: states, parameters, fluxes, outputs and dose routes."""
    from .model import default_model
    from .model_table import model_table_markdown, model_tables

    check_output_file(out, "--out")
    built = default_model()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(model_table_markdown(built), encoding="utf-8")
        typer.echo(f"model table written to {out}")
        return
    if markdown:
        typer.echo(model_table_markdown(built), nl=False)
        return
    console = wide_console()
    for title, (columns, rows) in model_tables(built).items():
        table = Table(title=f"{title} ({len(rows)})", title_justify="left", show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)


@app.command(epilog="Example: il6sim targets endotoxemia --markdown")
def targets(
    name: Annotated[str, typer.Argument(help="Target set in data/targets/.")] = "endotoxemia",
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
    readme: Annotated[Path | None, typer.Option(
        "--readme", help="Also rewrite this set's table in this file (README.md), between its "
                         "'<!-- targets:NAME ... -->' markers.", show_default=False)] = None,
) -> None:
    """Simulate each calibration target's scenario and compare the model with the published range.

    Exit code 1 if any target falls outside its range.
    """
    from .calibration import evaluate_targets, load_targets, run_target_scenarios

    if readme is not None:
        from .calibration.readme import shown_table

        check_output_file(readme, "--readme", (".md",))
        if not readme.is_file():
            raise InputError(f"--readme '{readme}' does not exist; fix: give the README to update")
        shown_table(readme.read_text(encoding="utf-8"), name)  # its markers, before any work
    target_list = load_targets(name)
    rows = evaluate_targets(target_list, run_target_scenarios(target_list))
    if readme is not None:
        from .calibration.readme import write_target_table

        changed = write_target_table(readme, name, rows)
        typer.echo(f"{readme}: table of '{name}' {'rewritten' if changed else 'already current'}")
    header = ["target", "model", "range", "within", "source"]
    lines = [[r["id"], f"{r['value']:.4g}", f"{r['low']:g}–{r['high']:g}",
              "yes" if r["passes"] else "NO", r["source"]] for r in rows]
    if markdown:
        typer.echo("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for line in lines:
            typer.echo("| " + " | ".join(line) + " |")
    else:
        table = Table(title=f"calibration targets: {name}", title_justify="left")
        for column in header:
            table.add_column(column, overflow="fold")
        for line in lines:
            table.add_row(*line)
        wide_console().print(table)
    if not all(r["passes"] for r in rows):
        raise typer.Exit(1)


def _click_exceptions() -> Any:
    """The exception classes of the click that Typer runs (its own copy since Typer 0.2x)."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older Typer runs click itself
        import click.exceptions as exceptions
    return exceptions


def main() -> None:
    """Entry point of the ``il6sim`` script.

    Click's own usage errors (an option value that is not a number, an unknown option, a
    missing argument) are reported like every other error: one line ``error: ...; fix: ...``
    on stderr and exit code 2, instead of a framed box with the usage above it.
    """
    import sys

    errors = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except errors.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `il6sim`: the help, as before
            exc.show()
            sys.exit(exc.exit_code)
        where = exc.ctx.command_path if exc.ctx is not None else "il6sim"
        message = " ".join(exc.format_message().split()).rstrip(".")
        report_error(f"{message}; fix: see '{where} --help'")
        sys.exit(ERROR_EXIT_CODE)
    except errors.ClickException as exc:
        message = " ".join(exc.format_message().split()).rstrip(".")
        report_error(f"{message}; fix: check the command line")
        sys.exit(exc.exit_code)
    except typer.Abort:
        report_error("aborted; fix: run the command again")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
