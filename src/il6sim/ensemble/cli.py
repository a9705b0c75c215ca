"""Command line of the parameter ensemble: ``il6sim ensemble build|show|check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._cli_errors import check_output_file, check_positive, reporting_errors
from .._console import wide_console
from ..errors import InputError

__all__ = ["register"]

FileOption = Annotated[Path | None, typer.Option(
    "--file", help="An ensemble built with `il6sim ensemble build` (default: the shipped one).",
    show_default=False)]


def build(
    out: Annotated[Path, typer.Option("--out", help="Ensemble file stem: writes .parquet and "
                                                    ".json; the screening is kept beside it.")],
    chains: Annotated[int, typer.Option("--chains", help="Chains = members.")] = 48,
    steps: Annotated[int, typer.Option("--steps", help="ABC-MCMC steps per chain.")] = 40,
    step: Annotated[float, typer.Option("--step", help="Proposal SD as a fraction of each "
                                                       "parameter's log range.")] = 0.15,
    per_output: Annotated[int, typer.Option(
        "--per-output", help="Most influential parameters kept per ranked output.")] = 4,
    params: Annotated[str | None, typer.Option(
        "--params", help="Comma-separated parameters instead of the screening's choice.",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of screening and sampler.")] = 0,
) -> None:
    """Sample parameter sets that all meet every endotoxemia and infection target (ABC-MCMC)."""
    from ._build import build_ensemble

    check_output_file(out.with_suffix(".parquet"), "--out")
    check_positive("--chains", chains, 10_000)
    check_positive("--steps", steps, 10_000)
    check_positive("--per-output", per_output, 50)
    if not 0 < step <= 1:
        raise InputError(f"--step {step}; fix: give a fraction in (0, 1], e.g. 0.15")
    names = [p.strip() for p in params.split(",") if p.strip()] if params else None
    members, info = build_ensemble(out, names=names, chains=chains, steps=steps, step=step,
                                   per_output=per_output, seed=seed)
    console = wide_console()
    console.print(f"{len(members)} members over {len(info['parameters'])} parameters; "
                  f"acceptance {info['acceptance_per_step'][0]:.0%} at the first step, "
                  f"{info['acceptance_per_step'][-1]:.0%} at the last")
    console.print(f"wrote {out.with_suffix('.parquet')} and {out.with_suffix('.json')}")


def summary_table(ensemble) -> Table:
    """Per parameter: calibrated value, prior range and the members' spread."""
    table = Table(title=f"ensemble: {len(ensemble)} members ({ensemble.info['created']})",
                  title_justify="left")
    for column in ("parameter", "unit", "calibrated", "prior", "members (min–median–max)",
                   "basis"):
        table.add_column(column)
    for name, meta in ensemble.info["parameters"].items():
        values = ensemble.members[name]
        table.add_row(name, meta["unit"], f"{meta['value']:.3g}",
                      f"{meta['low']:.3g}–{meta['high']:.3g}",
                      f"{values.min():.3g}–{values.median():.3g}–{values.max():.3g}",
                      meta["basis"])
    return table


def show(file: FileOption = None) -> None:
    """The ensemble's parameters, prior ranges and spread of its members."""
    from ._store import load_ensemble

    wide_console().print(summary_table(load_ensemble(file)))


def check(
    file: FileOption = None,
    members: Annotated[int | None, typer.Option(
        "--members", help="Check only the first N members (default: all).",
        show_default=False)] = None,
) -> None:
    """Rerun every calibration target for each member; exit 1 if any member misses one."""
    from ._build import target_values
    from ._store import load_ensemble

    ensemble = load_ensemble(file)
    if members is not None:
        check_positive("--members", members, len(ensemble))
    chosen = ensemble.members.head(members or len(ensemble))
    values = target_values(chosen[ensemble.parameters])
    passed = int(values["passes"].sum())
    wide_console().print(f"{passed} of {len(chosen)} members meet every target")
    if passed < len(chosen):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``ensemble`` group (``build``, ``show``, ``check``) to ``app``."""
    group = typer.Typer(help="Parameter sets that all reproduce the calibration targets.",
                        no_args_is_help=True, add_completion=False)
    group.command("build", epilog="Example: il6sim ensemble build --out "
                                  "out/ensemble/covid19")(reporting_errors(build))
    group.command("show", epilog="Example: il6sim ensemble show")(reporting_errors(show))
    group.command("check", epilog="Example: il6sim ensemble check --members 5")(
        reporting_errors(check))
    app.add_typer(group, name="ensemble", epilog="Example: il6sim ensemble show")
