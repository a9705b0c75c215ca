"""Command line: ``il6sim trial`` (run a trial file), ``il6sim trials`` (list shipped ones) and
``il6sim policy`` (search treatment rules).

Errors (bad trial file, unknown name, a folder holding another run) print one line
``error: ...`` with exit code 2; an interrupted run resumes with the same ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from .._cli_errors import check_output_folder, check_positive, report_error, reporting_errors
from ..limits import MAX_TRIAL_PATIENTS

#: Exit code of a trial in which some simulations failed in the solver (report still written).
SOLVER_FAILURE_EXIT_CODE = 1

__all__ = ["register"]


def _console() -> Console:
    """Wide enough for the headline table's published column (it has a measure column since
    the ordinal endpoints): at least 160 columns, whatever the terminal or ``COLUMNS`` says."""
    return Console(highlight=False, soft_wrap=False, width=max(160, Console().width))


def headline_table(result, treated: str | None = None) -> Table:
    """Each endpoint's value per arm and its comparison for one treated arm (default: the
    first), on the published result's measure, simulated beside published."""
    from ._published import simulated_measure
    from ._report import _title, arm_cell, format_ci, published_text

    design = result.design
    treated = treated or design.treated_arms[0]
    table = Table(title=f"{design.name}: {treated} vs {design.control}, "
                        f"{result.counts['randomised']} randomised "
                        f"({result.counts['screened']} screened)", title_justify="left")
    for column in ("endpoint", f"{design.control}", f"{treated}", "measure",
                   "estimate (95 % CI)", "p", "published"):
        table.add_column(column, justify="left" if column in ("endpoint", "measure")
                         else "right", no_wrap=column in ("measure", "p"),
                         min_width=22 if column == "endpoint" else None)
    arms = result.arms.set_index(["endpoint", "arm"])
    rows = result.comparisons
    for endpoint in design.endpoints:
        control, arm = arms.loc[(endpoint, design.control)], arms.loc[(endpoint, treated)]
        pub = design.published_for(endpoint, treated)
        measure = simulated_measure(endpoint, pub)
        row = rows[(rows.endpoint == endpoint) & (rows.arm == treated)
                   & (rows.measure == measure)].iloc[0]
        p = row["p_value"]
        table.add_row(_title(endpoint, result.endpoint_days(endpoint)),
                      arm_cell(control, compact=True),
                      arm_cell(arm, compact=True), measure.split(" (")[0],
                      format_ci(row["estimate"], row["ci_low"], row["ci_high"]),
                      "—" if not np.isfinite(p) else f"{p:.2g}",
                      "" if pub is None else published_text(pub))
    return table


def ordinal_table(result, endpoint: str) -> Table:
    """Share of patients at each WHO level per arm on the endpoint's day."""
    from ._report import ENDPOINT_TITLES

    table = Table(title=f"{result.design.name}: {ENDPOINT_TITLES[endpoint]}, % of patients "
                        "per level (0 uninfected ... 10 dead)", title_justify="left")
    table.add_column("arm")
    part = result.ordinal[result.ordinal.endpoint == endpoint]
    levels = sorted(part.level.unique())
    for level in levels:
        table.add_column(str(level), justify="right")
    for arm in result.design.arm_names:
        shares = part[part.arm == arm].set_index("level")["share"]
        table.add_row(arm, *("—" if not np.isfinite(shares[lv]) else f"{100 * shares[lv]:.0f}"
                             for lv in levels))
    return table


def published_subgroup_table(result) -> Table | None:
    """The primary endpoint in each subgroup level the trial file gives a published result for,
    simulated beside published (None when it gives none)."""
    from ._report import _title, format_ci

    sub = result.subgroups
    if not len(sub) or "published" not in sub or sub["published"].isna().all():
        return None
    design = result.design
    table = Table(title=f"{design.name}: {_title(design.primary, result.followup_days)} by "
                        "subgroup, simulated vs published", title_justify="left")
    for column in ("subgroup", "level", "n", "control", "treated", "ratio (95 % CI)",
                   "published control", "published treated", "published ratio (95 % CI)"):
        table.add_column(column, justify="left" if column in ("subgroup", "level") else "right")
    for _, row in sub[sub["published"].notna()].iterrows():
        ci = row["published_ci"] if isinstance(row["published_ci"], list) else (np.nan, np.nan)

        def pct(v) -> str:
            return "—" if v is None or not np.isfinite(v) else f"{100 * v:.1f} %"

        table.add_row(row["subgroup"], str(row["level"]), str(row["n"]),
                      pct(row["risk_control"]), pct(row["risk_treated"]),
                      format_ci(row["estimate"], row["ci_low"], row["ci_high"]),
                      pct(row["published_control"]), pct(row["published_treated"]),
                      format_ci(row["published"], *ci))
    return table


def interaction_table(result) -> Table:
    """The study drug's effect with and without each background co-treatment, and the
    interaction test (:attr:`il6sim.trial.TrialResult.interactions`)."""
    from ._report import _title, format_ci

    table = Table(title=f"{result.design.name}: with and without background treatment",
                  title_justify="left")
    for column in ("background", "endpoint", "arm", "level", "n", "treated", "control",
                   "effect (95 % CI)", "interaction (95 % CI)", "p"):
        table.add_column(column, justify="right" if column in ("n", "treated", "control")
                         else "left", no_wrap=column in ("background", "level", "p"))
    for _, row in result.interactions.iterrows():
        risk = row["measure"] == "risk ratio"

        def value(v: float, risk: bool = risk) -> str:
            return "—" if not np.isfinite(v) else f"{100 * v:.1f} %" if risk else f"{v:.1f} d"

        first = row["level"] == "on"
        table.add_row(row["background"] if first else "",
                      _title(row["endpoint"], result.followup_days) if first else "",
                      f"{row['arm']} vs {row['control']}" if first else "", row["level"],
                      str(row["n"]), value(row["treated"]), value(row["control_value"]),
                      format_ci(row["estimate"], row["ci_low"], row["ci_high"]),
                      format_ci(row["interaction"], row["interaction_low"],
                                row["interaction_high"]) if first else "",
                      ("—" if not np.isfinite(row["interaction_p"]) else
                       f"{row['interaction_p']:.2g}") if first else "")
    return table


def trial(
    trial_file: Annotated[str, typer.Argument(
        metavar="TRIAL", help="A shipped trial name (il6sim trials) or a trial YAML file.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for chunks, patients.parquet, tables, report.md and figures; "
                      "running again with it resumes. Default: out/trial/<name>.",
        show_default=False)] = None,
    n: Annotated[int | None, typer.Option(
        "--n", help="Patients to randomise (default: the file's size).",
        show_default=False)] = None,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", help="Candidates per stored chunk (results do not depend on it).")] = 128,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address (tcp://HOST:PORT); default: this process.",
        show_default=False)] = None,
    population_file: Annotated[Path | None, typer.Option(
        "--population", help="calibrated.parquet from `il6sim population fit` to draw "
                             "patients from (default: the shipped calibration).",
        show_default=False)] = None,
    ensemble: Annotated[int | None, typer.Option(
        "--ensemble", help="Also run the trial once per member of the parameter ensemble "
                           "(this many members) and report the model-uncertainty interval "
                           "beside the sampling CI.", show_default=False)] = None,
    ensemble_file: Annotated[Path | None, typer.Option(
        "--ensemble-file", help="Ensemble from `il6sim ensemble build` (default: shipped).",
        show_default=False)] = None,
) -> None:
    """Run an in-silico randomised trial and compare it with the published one."""
    from ._load import load_trial
    from ._report import write_report
    from ._run import check_trial, run_trial

    console = _console()
    check_output_folder(out, "--out")
    check_positive("--n", n, MAX_TRIAL_PATIENTS, minimum=2)
    check_positive("--chunk-size", chunk_size, 1_000_000)
    members = None
    if ensemble is not None or ensemble_file is not None:
        from ..ensemble import load_ensemble

        members = load_ensemble(ensemble_file)
        check_positive("--ensemble", ensemble or len(members), len(members), minimum=2)
    design = load_trial(trial_file)
    out = out or Path("out") / "trial" / design.name
    check_output_folder(out, "--out")
    check_trial(design, population_file=population_file)  # the whole file, before any work
    size = design.size if n is None else n
    console.print(f"[bold]{design.title or design.name}[/bold]: randomising {size} virtual "
                  f"patients ({', '.join(design.arm_names)}); results in {out}")
    result = run_trial(design, n_patients=n, out_dir=out, chunk_size=chunk_size,
                       scheduler=scheduler, progress=True, population_file=population_file)
    for arm in result.design.treated_arms:
        console.print(headline_table(result, arm))
    note = result.control_risk_note()
    if note:
        console.print(note)
    for endpoint in dict.fromkeys(result.ordinal.get("endpoint", [])):
        console.print(ordinal_table(result, endpoint))
    for row in result.second_doses().itertuples():
        share = "—" if not np.isfinite(row.share) else f"{100 * row.share:.0f} %"
        console.print(f"second dose in {row.arm}: {row.given} of {row.treated} treated "
                      f"patients ({share}) — {row.rule}")
    by_subgroup = published_subgroup_table(result)
    if by_subgroup is not None:
        console.print(by_subgroup)
    if len(result.interactions):
        console.print(interaction_table(result))
    _hai_console(result, console)
    paths = write_report(result, out)
    if members is not None:
        _ensemble_report(result, members, ensemble or len(members), n, out, console,
                         chunk_size=chunk_size, scheduler=scheduler,
                         population_file=population_file)
    console.print(f"wrote {paths['report']}, figures and tables in {out}")
    failure = result.failure_message()
    if failure:
        report_error(f"{failure}; fix: check the trial's population and doses, or report it")
        raise typer.Exit(SOLVER_FAILURE_EXIT_CODE)


def _ensemble_report(result, members, count: int, n, out: Path, console, **options) -> None:
    """Run the trial per ensemble member and print/write the two intervals side by side."""
    from ._ensemble import run_ensemble_trial, uncertainty_table
    from ._report import _title, format_ci

    console.print(f"running the trial for {count} ensemble members (model uncertainty) ...")
    ratios = run_ensemble_trial(result.design, members, count, n_patients=n, out_dir=out,
                                progress=True, **options)
    table = uncertainty_table(result, ratios)
    table.to_csv(out / "ensemble.csv", index=False)
    shown = Table(title=f"{result.design.name}: sampling and model uncertainty "
                        f"({count} ensemble members)", title_justify="left")
    for column in ("endpoint", "arm", "ratio (95 % sampling CI)", "counterfactual ratio",
                   "model-uncertainty interval (members 2.5–97.5 %)"):
        shown.add_column(column, justify="left" if column in ("endpoint", "arm") else "right")
    lines = ["", "## Model uncertainty (parameter ensemble)", "",
             "| endpoint | arm | ratio (95 % sampling CI) | counterfactual ratio | "
             "model-uncertainty interval |", "|---|---|---|---|---|"]
    for row in table.itertuples():
        cells = (_title(row.endpoint, result.followup_days), row.arm,
                 format_ci(row.ratio, row.sampling_low, row.sampling_high),
                 f"{row.counterfactual:.2f}", f"{row.model_low:.2f}–{row.model_high:.2f}")
        shown.add_row(*cells)
        lines.append("| " + " | ".join(cells) + " |")
    console.print(shown)
    lines += ["", f"Each of {count} members of the parameter ensemble (il6sim ensemble show) "
              "ran the same patients; the interval is the 2.5–97.5 percentiles of their "
              "counterfactual ratios (no randomisation error).", ""]
    report = out / "report.md"
    report.write_text(report.read_text(encoding="utf-8") + "\n".join(lines), encoding="utf-8")


def policy(
    trial_file: Annotated[str, typer.Argument(
        metavar="TRIAL", help="Trial whose population and enrolment to use (name or YAML).")] =
    "recovery-tocilizumab",
    n: Annotated[int, typer.Option("--n", help="Patients, each simulated under every rule.")] =
    200,
    drugs: Annotated[str, typer.Option(
        "--drugs", help="Comma-separated drugs (default regimen of each).")] =
    "tocilizumab,sarilumab",
    out: Annotated[Path, typer.Option("--out", help="Folder for the tables, report and map; "
                                                    "running again resumes.")] =
    Path("out/policy"),
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Candidates per chunk.")] = 64,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address; default: this process.",
        show_default=False)] = None,
) -> None:
    """Search treatment rules (drug x trigger x delay) and report who benefits and who is
    harmed."""
    from ._policy import search_policies

    console = _console()
    check_output_folder(out, "--out")
    check_positive("--n", n, MAX_TRIAL_PATIENTS)
    check_positive("--chunk-size", chunk_size, 1_000_000)
    names = [d.strip() for d in drugs.split(",") if d.strip()]
    console.print(f"evaluating {len(names)} drug(s) x 6 triggers x 3 delays on {n} patients "
                  f"of {trial_file}; results in {out}")
    result = search_policies(trial_file, n_patients=n, drugs=names, out_dir=out / "run",
                             progress=True, chunk_size=chunk_size, scheduler=scheduler)
    table = Table(title="Rules by 28-day mortality if every patient followed them",
                  title_justify="left")
    for column in ("rule", "mortality", "RR vs usual care", "treated", "harmed", "helped"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for _, row in result.rules.head(8).iterrows():
        table.add_row(row["rule"], f"{100 * row['mortality']:.1f} %", f"{row['risk_ratio']:.2f}",
                      f"{100 * row['treated']:.0f} %", f"{100 * row['harmed']:.1f} %",
                      f"{100 * row['helped']:.1f} %")
    console.print(table)
    best = result.best
    console.print(f"best rule: [bold]{best['rule']}[/bold] (usual care "
                  f"{100 * best['mortality_usual_care']:.1f} %)")
    out.mkdir(parents=True, exist_ok=True)
    result.rules.to_csv(out / "rules.csv", index=False)
    result.harm.to_csv(out / "harm.csv", index=False)
    figure = result.figure(out / "policy_map.png")
    (out / "report.md").write_text(result.markdown() + f"\n![policy map]({figure.name})\n")
    console.print(f"wrote {out / 'report.md'}, {out / 'rules.csv'}, {out / 'harm.csv'} and "
                  f"{figure}")


def trials() -> None:
    """List the shipped trial files."""
    from ._load import list_trials

    table = Table(title="Shipped trials (il6sim/data/trials)", title_justify="left")
    table.add_column("name")
    table.add_column("title", overflow="fold")
    for name, title in list_trials().items():
        table.add_row(name, title)
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``trial`` and ``trials`` to ``app``."""
    app.command("trial", epilog="Example: il6sim trial recovery-tocilizumab --n 400 "
                                "--out out/recovery")(reporting_errors(trial))
    app.command("trials", epilog="Example: il6sim trials")(reporting_errors(trials))
    app.command("policy", epilog="Example: il6sim policy recovery-tocilizumab --n 200 "
                                 "--out out/policy")(reporting_errors(policy))


def _hai_console(result, console) -> None:
    """One line per arm on hospital-acquired infections (every patient in every arm)."""
    from ._hai import hai_summary

    for _, row in hai_summary(result).iterrows():
        harm = "" if not np.isfinite(row["harmed"]) else (
            f"; vs control {int(row['harmed'])} harmed ({int(row['harmed_infected'])} with an "
            f"infection), {int(row['helped'])} helped")
        console.print(f"hospital-acquired infections, {row['arm']}: {row['infected']}/{row['n']} "
                      f"({100 * row['infected_share']:.1f} %), {row['deaths_infected']} died, "
                      f"{row['caused']} because of it{harm}")
