"""The trial report: Markdown tables beside the published numbers, Kaplan–Meier and forest plots.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._analysis import TrialResult
from ._hai import hai_lines
from ._published import ENDPOINT_KINDS
from ._signals import LEVEL_NAMES

__all__ = ["figures", "forest_figure", "forest_rows", "markdown", "write_report"]

ENDPOINT_TITLES = {
    "mortality": "28-day mortality", "imv_or_death": "invasive ventilation or death",
    "discharge": "discharged alive", "organ_support_free_days": "organ-support-free days",
    "secondary_infection": "secondary infection",
    "ordinal_day14": "WHO clinical progression scale, day 14",
    "ordinal_day28": "WHO clinical progression scale, day 28",
    "time_to_improvement": "time to improvement by 2 WHO points or discharge",
    "time_to_recovery": "time to recovery (NIAID 1-3)",
    "days_alive_free_of_ventilation": "days alive and free of ventilation by day 28",
}


def _fmt(value: float, digits: int = 2) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def format_ci(estimate: float, low: float = np.nan, high: float = np.nan) -> str:
    """``0.84 (0.77–0.92)``, or the estimate alone without an interval, or ``—``."""
    if not np.isfinite(estimate):
        return "—"
    return f"{estimate:.2f} ({low:.2f}–{high:.2f})" if np.isfinite(low) else f"{estimate:.2f}"


def _ci(row) -> str:
    return format_ci(row["estimate"], row.get("ci_low", np.nan), row.get("ci_high", np.nan))


def _title(endpoint: str, followup_days: float) -> str:
    title = ENDPOINT_TITLES[endpoint]
    return title.replace("28-day", f"{followup_days:g}-day").replace(
        "by day 28", f"by day {followup_days:g}")


def arm_cell(row, *, compact: bool = False) -> str:
    """One arm's value of an endpoint (a row of :attr:`TrialResult.arms`), as its measure is;
    ``compact``: without counts and quartile labels (the console)."""
    measure, n = row["measure"], int(row["n"])
    if measure == "risk":
        return f"{int(row['events'])}/{n} ({100 * row['value']:.1f} %)"
    if compact:  # each text is built only for its own measure (a time row has no quartiles)
        if measure == "median days":
            return f"median {_fmt(row['value'], 1)} d"
        if measure == "median level":
            return f"median {_fmt(row['value'], 0)} ({row['q1']:g}–{row['q3']:g})"
        return f"mean {row['value']:.1f} d"
    if measure == "median days":
        return (f"median {_fmt(row['value'], 1)} d ({_fmt(row['ci_low'], 1)}–"
                f"{_fmt(row['ci_high'], 1)}); {int(row['events'])}/{n}")
    if measure == "median level":
        return f"median {_fmt(row['value'], 0)} (IQR {row['q1']:g}–{row['q3']:g}; n {n})"
    text = f"mean {row['value']:.1f}"
    if "median" in row and np.isfinite(row.get("median", np.nan)):
        text += f", median {row['median']:g} (IQR {row['q1']:g}–{row['q3']:g})"
    return text + f" (n {n})"


def published_text(pub) -> str:
    """A published result as the file gives it: the arms' risks or days (control vs treated),
    then the estimate with its CI and measure."""
    parts = []
    if pub.control is not None and pub.treated is not None:
        parts.append(f"{100 * pub.control:.0f} % vs {100 * pub.treated:.0f} %")
    if pub.control_days is not None and pub.treated_days is not None:
        parts.append(f"{pub.control_days:g} vs {pub.treated_days:g} d")
    if pub.value is not None:
        parts.append(f"{format_ci(pub.value, *(pub.ci or (np.nan, np.nan)))} {pub.measure}")
    return "; ".join(parts)


def markdown(result: TrialResult) -> str:
    """The trial's analysis as Markdown."""
    design, counts = result.design, result.counts
    days = result.followup_days
    lines = [f"# {design.title or design.name}", ""]
    if design.reference:
        lines += [f"Design from: {design.reference}", ""]
    lines += [f"{counts['randomised']} virtual patients randomised "
              f"({', '.join(f'{a.name} {a.ratio}' for a in design.arms)}) out of "
              f"{counts['screened']} screened inpatients ({counts['admitted']} admitted); "
              f"seed {design.seed}; follow-up {days:g} days"
              + "".join(f" ({name}: {result.endpoint_days(name):g} days)"
                        for name in design.endpoint_followup) + ".", ""]
    note = result.control_risk_note()
    if note:
        lines += [f"**Control risk:** {note}.", ""]
    failure = result.failure_message()
    if failure:
        lines += [f"**Solver failures:** {failure}.", ""]
    lines += ["Eligibility: " + "; ".join(c.describe() for c in design.enrolment.eligibility)
              + f" — at the first check from {design.enrolment.after}"
              + (f" + {design.enrolment.delay}" if design.enrolment.delay_h else "")
              + f", within {design.enrolment.window}.", ""]
    lines += [*_mix_lines(result), *_background_lines(result)]
    lines += second_dose_lines(result)
    lines += ["## Outcomes by arm", "", "| endpoint | " + " | ".join(design.arm_names) + " |",
              "|---|" + "---|" * len(design.arm_names)]
    arms = result.arms
    for endpoint in design.endpoints:
        cells = []
        for arm in design.arm_names:
            row = arms[(arms.endpoint == endpoint) & (arms.arm == arm)].iloc[0]
            cells.append(arm_cell(row))
        lines.append(f"| {_title(endpoint, result.endpoint_days(endpoint))} | "
                     + " | ".join(cells) + " |")
    lines += ["", "## Comparisons", "",
              "| endpoint | arm vs control | measure | simulated (95 % CI) | p | published |",
              "|---|---|---|---|---|---|"]
    for _, row in result.comparisons.iterrows():
        published = ""
        value = row.get("published", np.nan)
        if value is not None and np.isfinite(value):
            ci = row.get("published_ci")
            ci = ci if isinstance(ci, list | tuple | np.ndarray) else (np.nan, np.nan)
            published = f"{format_ci(value, *ci)} {row['published_measure']}"
        p = "—" if not np.isfinite(row["p_value"]) else f"{row['p_value']:.2g}"
        lines.append(f"| {_title(row['endpoint'], result.endpoint_days(row['endpoint']))} | "
                     f"{row['arm']} vs {row['control']} | "
                     f"{row['measure']} | {_ci(row)} | {p} | {published} |")
    published_risks = [(endpoint, arm, pub) for endpoint, arm, pub in design.published_entries()
                       if pub.control is not None and pub.treated is not None
                       and endpoint in design.endpoints]
    if published_risks:
        lines += ["", "## Beside the published trial", "",
                  "| endpoint | arm | simulated control | published control | simulated treated | "
                  "published treated |", "|---|---|---|---|---|---|"]
        get = arms.set_index(["endpoint", "arm"])["value"]
        for endpoint, treated, pub in published_risks:
            lines.append(f"| {_title(endpoint, result.endpoint_days(endpoint))} | {treated} | "
                         f"{100 * get[(endpoint, design.control)]:.1f}"
                         f" % | {100 * pub.control:.0f} % | {100 * get[(endpoint, treated)]:.1f} %"
                         f" | {100 * pub.treated:.0f} % |")
    lines += _days_lines(result)
    lines += _ordinal_lines(result)
    if len(result.subgroups):
        lines += ["", f"## Subgroups ({_title(design.primary, days)})", "",
                  "| subgroup | level | n | treated | control | risk ratio (95 % CI) | "
                  "heterogeneity p | published |", "|---|---|---|---|---|---|---|---|"]
        for _, row in result.subgroups.iterrows():
            lines.append(f"| {_header(result.subgroups, row['subgroup'])} | {row['level']} | "
                         f"{row['n']} | "
                         f"{_pct(row['risk_treated'])} | {_pct(row['risk_control'])} | "
                         f"{_ci(row)} | {_fmt(row['heterogeneity_p'], 2)} | "
                         f"{_published_subgroup(row)} |")
    lines += _interaction_lines(result)
    lines += hai_lines(result)
    lines += ["", "Risk ratios: Katz log CI; hazard ratios: Cox model (lifelines) with log-rank "
              "p; proportional odds ratio: cumulative logit (statsmodels OrderedModel), odds of "
              "a better WHO level (or more days), > 1 favours the treated arm; improvement and "
              "recovery rate ratios: Fine–Gray (deaths held at risk as never improving), > 1 "
              "sooner in the treated arm; the counterfactual ratio simulates every patient "
              "under both arms. Endpoint definitions: docs/trials.md.", ""]
    return "\n".join(lines)


def _days_lines(result: TrialResult) -> list[str]:
    """Published days per arm (median time to recovery, median or mean days) beside the
    simulated ones."""
    design, arms = result.design, result.arms.set_index(["endpoint", "arm"])
    rows = []
    for endpoint, treated, pub in design.published_entries():
        if pub.control_days is None or pub.treated_days is None \
                or endpoint not in design.endpoints:
            continue
        # a time's value is its median; days: the mean for a mean difference, else the median
        column = ("value" if ENDPOINT_KINDS[endpoint] == "time" or "mean" in pub.measure
                  else "median")
        got = [arms.loc[(endpoint, arm), column] for arm in (design.control, treated)]
        rows.append(f"| {_title(endpoint, result.endpoint_days(endpoint))} | {treated} | "
                    f"{_fmt(got[0], 1)} | {pub.control_days:g} | {_fmt(got[1], 1)} | "
                    f"{pub.treated_days:g} |")
    if not rows:
        return []
    return ["", "## Days beside the published trial", "",
            "| endpoint | arm | simulated control | published control | simulated treated | "
            "published treated |", "|---|---|---|---|---|---|", *rows]


def _ordinal_lines(result: TrialResult) -> list[str]:
    """Patients at each WHO level per arm, for each ordinal endpoint."""
    table = result.ordinal
    if not len(table):
        return []
    arms = result.design.arm_names
    lines = []
    for endpoint, part in table.groupby("endpoint", sort=False):
        lines += ["", f"## {ENDPOINT_TITLES[endpoint]}: patients per level", "",
                  "| WHO level | " + " | ".join(arms) + " |", "|---|" + "---|" * len(arms)]
        for level, rows in part.groupby("level", sort=True):
            cells = rows.set_index("arm").loc[arms]
            lines.append(f"| {level} {rows['meaning'].iloc[0]} | " + " | ".join(
                f"{int(r['count'])} ({_pct(r['share'])})" for _, r in cells.iterrows()) + " |")
    return lines


def describe_start(entry) -> str:
    """``at randomisation``, ``when oxygen (from admission) + 12 h``, ..."""
    rule = entry.start
    if rule.day_since_onset is not None:
        text = f"on day {rule.day_since_onset:g} after onset (not before {rule.anchor})"
    elif rule.when:
        text = ("when " + " and ".join(c.describe() for c in rule.when)
                + f" (from {rule.anchor}, within {rule.within})")
    else:
        text = f"at {rule.anchor}"
    return text + (f" + {rule.delay}" if rule.delay_h else "")


def _mix_lines(result: TrialResult) -> list[str]:
    """The declared baseline mix beside the randomised one."""
    table = result.baseline_mix()
    if not len(table):
        return []
    mix = result.design.enrolment.baseline_mix
    parts = [f"{row['stratum']} {_pct(row['share'])} (declared {_pct(row['declared'])})"
             for _, row in table.iterrows()]
    return [f"Baseline mix ({mix.signal} at randomisation): " + "; ".join(parts)
            + (f". Source: {mix.source}" if mix.source else "") + ".", ""]


def _background_lines(result: TrialResult) -> list[str]:
    """One line per background co-treatment: regimen, start, declared and received shares."""
    if not result.background:
        return []
    lines = ["Background treatment, given in every arm:", ""]
    shares = result.background_shares()
    for entry in result.background:
        mine = shares[shares["background"] == entry.name].set_index("arm")
        treatment = entry.treatment
        regimen = treatment.regimen or f"{treatment.drug} {treatment.amount}"
        per_arm = ", ".join(f"{arm} {_pct(mine.loc[arm, 'share'])}"
                            for arm in result.design.arm_names)
        lines.append(f"- **{entry.name}**: {regimen}, {describe_start(entry)}; declared "
                     f"{100 * entry.fraction:.0f} % of patients, received by "
                     f"{_pct(mine.loc['all arms', 'share'])} of those randomised ({per_arm})"
                     + (f". Source: {entry.source}" if entry.source else "") + ".")
    return [*lines, ""]


def second_dose_lines(result: TrialResult) -> list[str]:
    """One line per arm with a second-dose rule: the rule and who got the dose."""
    table = result.second_doses()
    if not len(table):
        return []
    lines = ["Second doses:", ""]
    for row in table.itertuples():
        lines.append(f"- **{row.arm}**: {row.rule}; given to {row.given} of {row.treated} "
                     f"treated patients ({_pct(row.share)}; {row.n} allocated).")
    return [*lines, ""]


def _interaction_lines(result: TrialResult) -> list[str]:
    """The study drug's effect with and without each background co-treatment."""
    table = result.interactions
    if not len(table):
        return []
    days = result.followup_days
    lines = ["", "## With and without background treatment", "",
             "| background | endpoint | arm vs control | level | n | treated | control | "
             "effect (95 % CI) | p | interaction (95 % CI) | interaction p |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        days_measure = row["measure"] != "risk ratio"
        value = (lambda v: _fmt(v, 1)) if days_measure else _pct
        first = row["level"] == "on"
        interaction = (format_ci(row["interaction"], row["interaction_low"],
                                 row["interaction_high"]) if first else "")
        lines.append(f"| {row['background']} | {_title(row['endpoint'], days)} | {row['arm']} vs "
                     f"{row['control']} | {row['level']} | {row['n']} | {value(row['treated'])} "
                     f"| {value(row['control_value'])} | {_ci(row)} | "
                     f"{_fmt(row['p_value'], 2)} | {interaction} | "
                     f"{_fmt(row['interaction_p'], 2) if first else ''} |")
    measures = sorted(set(table["interaction_measure"]))
    lines += ["", "Effect: risk ratio (or difference in mean organ-support-free days) of the arm "
              "vs control within patients on and off the background treatment; interaction: "
              + " or ".join(measures) + ", with a z-test (on the log scale for a ratio; Altman & "
              "Bland 2003 BMJ 326:219)."]
    return lines


def _published_subgroup(row) -> str:
    """The published result of one subgroup level: ``treated vs control; ratio (CI)``, or
    empty when the trial file gives none."""
    ratio = row.get("published")
    if ratio is None or not np.isfinite(ratio):
        return ""
    ci = row.get("published_ci")
    text = format_ci(ratio, *(ci if isinstance(ci, list) else (np.nan, np.nan)))
    treated, control = row.get("published_treated"), row.get("published_control")
    if treated is not None and control is not None and np.isfinite(treated) \
            and np.isfinite(control):
        text = f"{100 * treated:.1f} % vs {100 * control:.1f} %; {text}"
    return text


def _pct(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{100 * value:.1f} %"


def figures(result: TrialResult, folder: str | Path) -> dict[str, Path]:
    """Kaplan–Meier curves of survival per arm, the cumulative incidence of improvement and
    recovery when the trial has those endpoints, and a forest plot of the subgroups (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for arm, table in result.kaplan_meier("mortality").items():
        ax.step(table["day"], table["survival"], where="post", label=arm)
        ax.fill_between(table["day"], table["low"], table["high"], step="post", alpha=0.2)
    ax.set_xlabel("days since randomisation")
    ax.set_ylabel("alive (Kaplan–Meier)")
    ax.set_xlim(0, result.endpoint_days("mortality"))
    ax.set_title(f"{result.design.name}: survival by arm", fontsize=10)
    ax.legend(frameon=False)
    fig.tight_layout()
    paths["kaplan_meier"] = folder / "kaplan_meier.png"
    fig.savefig(paths["kaplan_meier"], dpi=120)
    plt.close(fig)
    timed = [e for e in result.design.endpoints if ENDPOINT_KINDS[e] == "time"]
    if timed:
        paths["improvement"] = folder / "improvement.png"
        _incidence(result, timed, paths["improvement"])
    sub = result.subgroups
    if len(sub):
        paths["forest"] = folder / "subgroups.png"
        _forest(result, paths["forest"])
    return paths


def _incidence(result: TrialResult, endpoints: list[str], path: Path) -> None:
    """Cumulative incidence of improvement or recovery per arm (deaths never improve)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0 * len(endpoints), 4.0), layout="constrained")
    for ax, endpoint in zip(fig.subplots(1, len(endpoints), squeeze=False)[0], endpoints,
                            strict=True):
        for arm, table in result.kaplan_meier(endpoint).items():
            ax.step(table["day"], 1 - table["survival"], where="post", label=arm)
            ax.fill_between(table["day"], 1 - table["high"], 1 - table["low"], step="post",
                            alpha=0.2)
        ax.set_xlabel("days since randomisation")
        ax.set_ylabel("cumulative incidence")
        ax.set_xlim(0, result.endpoint_days(endpoint))
        ax.set_ylim(0, 1)
        ax.set_title(ENDPOINT_TITLES[endpoint], fontsize=10)
        ax.legend(frameon=False)
    fig.savefig(path, dpi=120)


def _header(sub: pd.DataFrame, name: str) -> str:
    """A subgroup's heading: its name, without a code hint like ``(1 = male)`` once its levels
    are named."""
    rows = sub[sub.subgroup == name]
    named = "signal" in rows and rows["signal"].iloc[0] in LEVEL_NAMES
    return re.sub(r"\s*\([^()]*\)$", "", name) if named else name


def forest_rows(result: TrialResult) -> pd.DataFrame:
    """The rows of the forest plot, top to bottom: ``label``, ``n``, ``estimate``, ``ci_low``,
    ``ci_high``, ``kind`` (``overall``, ``header`` or ``level``)."""
    overall = result.primary()
    n_all = len(result._population(result.design.primary))
    rows = [{"label": "all patients", "n": n_all, "estimate": overall["estimate"],
             "ci_low": overall["ci_low"], "ci_high": overall["ci_high"], "kind": "overall"}]
    sub = result.subgroups
    for name in dict.fromkeys(sub.subgroup):
        rows.append({"label": _header(sub, name), "n": np.nan, "estimate": np.nan,
                     "ci_low": np.nan, "ci_high": np.nan, "kind": "header"})
        for r in sub[sub.subgroup == name].itertuples():
            rows.append({"label": str(r.level), "n": r.n, "estimate": r.estimate,
                         "ci_low": r.ci_low, "ci_high": r.ci_high, "kind": "level"})
    return pd.DataFrame(rows)


def forest_figure(result: TrialResult):
    """Risk ratio of the primary endpoint per subgroup level: one row each, under a bold
    heading per subgroup, with n and the ratio (95 % CI) written beside it."""
    from matplotlib.figure import Figure

    rows = forest_rows(result)
    fig = Figure(figsize=(8.0, 0.3 * len(rows) + 1.3), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1].astype(float)
    for yi, row in zip(y, rows.itertuples(), strict=True):
        if np.isfinite(row.ci_low) and np.isfinite(row.ci_high) and row.ci_low > 0:
            ax.plot([row.ci_low, row.ci_high], [yi, yi], color="0.3", lw=1.2)
        if np.isfinite(row.estimate) and row.estimate > 0:
            ax.plot(row.estimate, yi, "s", color="C3" if row.kind == "overall" else "C0", ms=5)
        if row.kind != "header":
            ax.text(1.02, yi, format_ci(row.estimate, row.ci_low, row.ci_high),
                    transform=ax.get_yaxis_transform(), va="center", fontsize=8)
    ax.axvline(1.0, color="0.6", ls="--", lw=1)
    design = result.design
    pub = design.published_for(design.primary, design.treated_arms[0])
    if pub is not None and pub.ratio is not None:
        ax.axvline(pub.ratio, color="C3", ls=":", label=f"published {pub.ratio:.2f}")
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_xscale("log")
    _ratio_ticks(ax)
    labels = [row.label if row.kind == "header" else
              f"{'    ' if row.kind == 'level' else ''}{row.label} (n = {int(row.n)})"
              for row in rows.itertuples()]
    ax.set_yticks(y, labels, fontsize=8)
    for tick, row in zip(ax.get_yticklabels(), rows.itertuples(), strict=True):
        if row.kind != "level":
            tick.set_fontweight("bold")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(f"risk ratio, {ENDPOINT_TITLES[result.design.primary]} (log scale)")
    ax.set_title("risk ratio (95 % CI)", loc="right", fontsize=8, x=1.2)
    return fig


#: Ratios labelled on a log axis (those inside the drawn range are used).
RATIO_TICKS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def _ratio_ticks(ax) -> None:
    """Plain ratio labels (0.5, 0.7, 1, 1.5) on a log axis, no minor ticks: none overlap."""
    from matplotlib.ticker import NullLocator

    low, high = ax.get_xlim()
    ticks = [t for t in RATIO_TICKS if low <= t <= high] or [1.0]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def _forest(result: TrialResult, path: Path) -> None:
    forest_figure(result).savefig(path, dpi=120)


def write_report(result: TrialResult, folder: str | Path) -> dict[str, Path]:
    """``report.md`` with the figures beside it."""
    folder = Path(folder)
    paths = figures(result, folder)
    text = markdown(result)
    text += "\n" + "\n".join(f"![{name}]({path.name})" for name, path in paths.items()) + "\n"
    paths["report"] = folder / "report.md"
    paths["report"].write_text(text)
    return paths
