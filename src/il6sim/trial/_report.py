"""The trial report: Markdown tables beside the published numbers, Kaplan–Meier and forest plots.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._analysis import TrialResult

__all__ = ["figures", "markdown", "write_report"]

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
                  "heterogeneity p |", "|---|---|---|---|---|---|---|"]
        for _, row in result.subgroups.iterrows():
            lines.append(f"| {row['subgroup']} | {row['level']} | {row['n']} | "
                         f"{_pct(row['risk_treated'])} | {_pct(row['risk_control'])} | "
                         f"{_ci(row)} | {_fmt(row['heterogeneity_p'], 2)} |")
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
    if not result.design.background:
        return []
    lines = ["Background treatment, given in every arm:", ""]
    shares = result.background_shares()
    for entry in result.design.background:
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
        _forest(sub, result, paths["forest"])
    return paths


def _forest(sub: pd.DataFrame, result: TrialResult, path: Path) -> None:
    import matplotlib.pyplot as plt

    overall = result.primary()
    labels = ["all patients", *[f"{s}: {lvl}" for s, lvl in zip(sub.subgroup, sub.level,
                                                                  strict=True)]]
    est = [overall["estimate"], *sub["estimate"]]
    low = [overall["ci_low"], *sub["ci_low"]]
    high = [overall["ci_high"], *sub["ci_high"]]
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(labels) + 1.2))
    y = np.arange(len(labels))[::-1]
    for yi, e, lo, hi in zip(y, est, low, high, strict=True):
        if np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo, hi], [yi, yi], color="0.3")
        if np.isfinite(e) and e > 0:
            ax.plot(e, yi, "s", color="C0" if yi != y[0] else "C3")
    ax.axvline(1.0, color="0.6", ls="--")
    pub = result.design.published.get(result.design.primary)
    if pub is not None and pub.ratio is not None:
        ax.axvline(pub.ratio, color="C3", ls=":", label=f"published {pub.ratio:.2f}")
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_xscale("log")
    ax.set_yticks(y, [label[:60] for label in labels], fontsize=7)
    ax.set_xlabel(f"risk ratio, {ENDPOINT_TITLES[result.design.primary]} (log scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(result: TrialResult, folder: str | Path) -> dict[str, Path]:
    """``report.md`` with the figures beside it."""
    folder = Path(folder)
    paths = figures(result, folder)
    text = markdown(result)
    text += "\n" + "\n".join(f"![{name}]({path.name})" for name, path in paths.items()) + "\n"
    paths["report"] = folder / "report.md"
    paths["report"].write_text(text)
    return paths
