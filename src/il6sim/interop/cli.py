"""Command line: ``il6sim export-sbml SCENARIO --out model.xml`` and
``il6sim export petab --out DIR`` (the endotoxemia calibration as a PEtab v1 problem).

:func:`register` adds the command to the ``il6sim`` app. Errors (an unknown scenario, an
invalid file) are :class:`~il6sim.errors.Il6simError` and are printed by the app's command
group as ``error: <message>`` with exit code 2. libsbml is imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._cli_errors import check_output_file
from ..errors import InputError

__all__ = ["register"]

EPILOG = (
    "Example: il6sim export-sbml endotoxemia-2ngkg --out endotoxemia.xml "
    "(then open endotoxemia.xml in COPASI, or tellurium: te.loadSBMLModel('endotoxemia.xml'))"
)


def export_sbml_command(
    scenario: Annotated[str, typer.Argument(
        help="A scenario YAML file or a preset name (see `il6sim presets`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="SBML file to write (.xml or .sbml).")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override name=value as in `il6sim simulate` (a parameter, or "
        "knockouts=il6,tnf). Repeatable.")] = None,
    fluxes: Annotated[bool, typer.Option(
        "--fluxes", help="Also export every flux as a read-out parameter flux_<name>.")] = False,
) -> None:
    """Export a scenario as SBML Level 3 Version 2 (patient, resting state, doses as events)."""
    from ..cli import _parse_sets
    from ..scenario import load_scenario

    try:
        from .sbml import check_sbml, export_scenario_sbml
    except ModuleNotFoundError as exc:
        raise InputError(
            f"the SBML export needs the package '{exc.name}'; "
            "fix: pip install python-libsbml libroadrunner"
        ) from None

    check_output_file(out, "--out", (".xml", ".sbml"))
    loaded = load_scenario(scenario)
    sets = _parse_sets(set_)
    if sets:
        loaded = loaded.with_overrides(sets)
    text = export_scenario_sbml(loaded, out, include_fluxes=fluxes)
    warnings = check_sbml(text)
    events = len(loaded.doses)
    typer.echo(
        f"SBML written to {out} (scenario {loaded.name}, {events} dose event(s), "
        f"libsbml checks passed with {len(warnings)} warning(s))"
    )


HELP = (
    "Export a scenario as SBML Level 3 Version 2 (patient, resting state, doses as events).\n\n"
    "One rate rule per state (the model's own equations), every parameter with its unit and "
    "source, the read-outs in clinical units as assignment rules (out_il6 in pg/mL, out_crp "
    "in mg/L, ...); the file passes libsbml's consistency checks."
)


EXPORT_HELP = "Export the calibration problem for other tools (PEtab)."


def export_petab_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for problem.yaml, the "
                                                          "SBML model, the tables and notes.")],
    targets: Annotated[str, typer.Option(
        "--targets", help="Calibration target set (data/targets/) to state as measurements.")]
    = "endotoxemia",
) -> None:
    """Write the calibration to a target set as a PEtab v1 problem (pyPESTO, AMICI).

    The model as SBML, observables, measurements (the targets that are values at a time),
    conditions (rest and each LPS dose) and parameters (the calibrated ones estimated within
    bounds, the rest fixed); README.md lists the targets PEtab cannot state.
    """
    from .._cli_errors import check_output_folder
    from ..limits import data_name_problem

    check_output_folder(out, "--out")
    problem = data_name_problem(targets, "target set")
    if problem:
        raise InputError(problem)
    try:
        from ._petab import export_petab
        from .sbml import check_sbml  # noqa: F401  (libsbml present)
    except ModuleNotFoundError as exc:
        raise InputError(f"the PEtab export needs the package '{exc.name}'; fix: pip install "
                         "python-libsbml") from None
    from ..calibration import load_targets

    try:  # an unknown set is refused before the model is built
        load_targets(targets)
    except (KeyError, TypeError):
        raise InputError(f"'{targets}' is not a set of calibration targets (scenario, read-out, "
                         "statistic); fix: give e.g. --targets endotoxemia") from None
    paths = export_petab(out, target_set=targets)
    typer.echo(f"PEtab problem written to {paths['problem']} (model, conditions, observables, "
               f"measurements, parameters; notes in {paths['readme']})")


def register(app: typer.Typer) -> None:
    """Add ``export-sbml`` and the ``export`` group (``export petab``) to ``app``."""
    app.command("export-sbml", help=HELP, epilog=EPILOG)(export_sbml_command)
    group = typer.Typer(help=EXPORT_HELP, no_args_is_help=True, add_completion=False)
    group.command("petab", epilog="Example: il6sim export petab --out out/petab (then "
                                  "petablint -y out/petab/problem.yaml)")(export_petab_command)
    app.add_typer(group, name="export", epilog="Example: il6sim export petab --out out/petab")
