"""The trial report: Markdown tables beside the published numbers, Kaplan–Meier and forest plots.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._analysis import TrialResult
from ._signals import LEVEL_NAMES

__all__ = ["figures", "forest_figure", "forest_rows", "markdown", "write_report"]

ENDPOINT_TITLES = {
    "mortality": "28-day mortality", "imv_or_death": "invasive ventilation or death",
    "discharge": "discharged alive", "organ_support_free_days": "organ-support-free days",
    "secondary_infection": "secondary infection",
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
    return title.replace("28-day", f"{followup_days:g}-day")


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
              f"seed {design.seed}; follow-up {days:g} days.", ""]
    failure = result.failure_message()
    if failure:
        lines += [f"**Solver failures:** {failure}.", ""]
    lines += ["Eligibility: " + "; ".join(c.describe() for c in design.enrolment.eligibility)
              + f" — at the first check from {design.enrolment.after}"
              + (f" + {design.enrolment.delay}" if design.enrolment.delay_h else "")
              + f", within {design.enrolment.window}.", ""]
    lines += _background_lines(result)
    lines += ["## Outcomes by arm", "", "| endpoint | " + " | ".join(design.arm_names) + " |",
              "|---|" + "---|" * len(design.arm_names)]
    arms = result.arms
    for endpoint in design.endpoints:
        cells = []
        for arm in design.arm_names:
            row = arms[(arms.endpoint == endpoint) & (arms.arm == arm)].iloc[0]
            if row["measure"] == "risk":
                cells.append(f"{int(row['events'])}/{int(row['n'])} ({100 * row['value']:.1f} %)")
            else:
                cells.append(f"{row['value']:.1f} (n {int(row['n'])})")
        lines.append(f"| {_title(endpoint, days)} | " + " | ".join(cells) + " |")
    lines += ["", "## Comparisons", "",
              "| endpoint | arm vs control | measure | simulated (95 % CI) | p | published |",
              "|---|---|---|---|---|---|"]
    for _, row in result.comparisons.iterrows():
        published = ""
        if isinstance(row.get("published_ci"), list | tuple | np.ndarray):
            low, high = row["published_ci"]
            published = f"{row['published']:.2f} ({low:.2f}–{high:.2f}) {row['published_measure']}"
        p = "—" if not np.isfinite(row["p_value"]) else f"{row['p_value']:.2g}"
        lines.append(f"| {_title(row['endpoint'], days)} | {row['arm']} vs {row['control']} | "
                     f"{row['measure']} | {_ci(row)} | {p} | {published} |")
    published_risks = {k: v for k, v in design.published.items()
                       if v.control is not None and v.treated is not None}
    if published_risks:
        lines += ["", "## Beside the published trial", "",
                  "| endpoint | arm | simulated control | published control | simulated treated | "
                  "published treated |", "|---|---|---|---|---|---|"]
        for endpoint, pub in published_risks.items():
            treated = pub.arm or design.treated_arms[0]
            if endpoint not in design.endpoints:
                continue
            get = arms.set_index(["endpoint", "arm"])["value"]
            lines.append(f"| {_title(endpoint, days)} | {treated} | "
                         f"{100 * get[(endpoint, design.control)]:.1f}"
                         f" % | {100 * pub.control:.0f} % | {100 * get[(endpoint, treated)]:.1f} %"
                         f" | {100 * pub.treated:.0f} % |")
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
    lines += ["", "Risk ratios: Katz log CI; hazard ratios: Cox model (lifelines) with log-rank "
              "p; the counterfactual ratio simulates every patient under both arms. Endpoint "
              "definitions: docs/trials.md.", ""]
    return "\n".join(lines)


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
    """Kaplan–Meier curves of survival per arm and a forest plot of the subgroups (PNG)."""
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
    ax.set_xlim(0, result.followup_days)
    ax.set_title(f"{result.design.name}: survival by arm", fontsize=10)
    ax.legend(frameon=False)
    fig.tight_layout()
    paths["kaplan_meier"] = folder / "kaplan_meier.png"
    fig.savefig(paths["kaplan_meier"], dpi=120)
    plt.close(fig)
    sub = result.subgroups
    if len(sub):
        paths["forest"] = folder / "subgroups.png"
        _forest(result, paths["forest"])
    return paths


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
    pub = result.design.published.get(result.design.primary)
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
