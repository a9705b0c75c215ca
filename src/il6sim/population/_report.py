"""The calibration report: overlay figures (real vs virtual), tables and a Markdown summary.

Figures use matplotlib's object API (no global backend is changed); empirical CDFs and
histograms are drawn on a log axis for right-skewed markers (``MarkerSpec.log``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..cohort._markers import MARKER_BY_NAME
from ._goodness import GROUPS, onset_table

__all__ = ["parameter_shift", "write_report"]

_COLORS = {"real": "#222222", "virtual": "#d62728", "weighted": "#1f77b4"}


def _label(column: str) -> tuple[str, bool]:
    spec = MARKER_BY_NAME.get(column)
    if spec is None:
        names = {"age": "age, years", "days_to_death": "admission to death, days"}
        return names.get(column, column), column == "days_to_death"
    return f"{spec.label}, {spec.unit}", spec.log


def _ecdf(ax, values: np.ndarray, weights: np.ndarray | None = None, **style) -> None:
    values = np.asarray(values, float)
    w = np.ones(len(values)) if weights is None else np.asarray(weights, float)
    keep = np.isfinite(values) & (w > 1e-4 * w.max() if len(w) else True)  # drop ~0 weights
    values, w = values[keep], w[keep]
    if not len(values):
        return
    order = np.argsort(values)
    cumulative = np.cumsum(w[order]) / w.sum()
    ax.step(np.r_[values[order][0], values[order]], np.r_[0.0, cumulative], where="post", **style)


def _panel_title(ks: pd.DataFrame, column: str, group: str) -> str:
    row = ks[(ks["marker"] == column) & (ks["group"] == group)]
    if row.empty or not np.isfinite(row["ks"].iloc[0]):
        return group
    row = row.iloc[0]
    return f"{group}: KS {row['ks']:.2f} (p {row['p_value']:.2g})"


def plot_ecdfs(real, selected, plausible, weights, columns, ks, path: Path, *,
               title: str) -> Path:
    """Rows: outcome groups; columns: markers. Cohort, selected and weighted ECDFs."""
    fig = Figure(figsize=(3.0 * len(columns), 5.6))
    axes = fig.subplots(2, len(columns), squeeze=False)
    for j, column in enumerate(columns):
        label, log = _label(column)
        for i, (died, group) in enumerate(GROUPS.items()):
            ax = axes[i, j]
            real_values = real.loc[real["died"] == died, column]
            mask = (plausible["died"] == died).to_numpy()
            _ecdf(ax, real_values, color=_COLORS["real"], lw=1.8,
                  label=f"cohort (n={real_values.notna().sum()})")
            sim = selected.loc[selected["died"] == died, column]
            _ecdf(ax, sim, color=_COLORS["virtual"], lw=1.4,
                  label=f"virtual, selected (n={sim.notna().sum()})")
            _ecdf(ax, plausible.loc[mask, column], weights[mask], color=_COLORS["weighted"],
                  lw=1.0, ls="--", label="virtual, weighted")
            if log:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(_panel_title(ks, column, group), fontsize=8)
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
            if j == 0:
                ax.set_ylabel("cumulative fraction", fontsize=8)
        axes[0, j].legend(fontsize=6, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_validation(real, selected, columns, ks, path: Path) -> Path:
    """One panel per marker: cohort (black) and selected virtual patients (red), survivors
    solid and non-survivors dashed, with both KS statistics in the title."""
    ncols = min(4, len(columns))
    nrows = int(np.ceil(len(columns) / ncols))
    fig = Figure(figsize=(3.2 * ncols, 3.0 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, column in zip(axes, columns, strict=False):
        label, log = _label(column)
        titles = []
        for died, group in GROUPS.items():
            style = "-" if died == 0 else "--"
            _ecdf(ax, real.loc[real["died"] == died, column], color=_COLORS["real"], lw=1.6,
                  ls=style, label=f"cohort, {group}")
            _ecdf(ax, selected.loc[selected["died"] == died, column], color=_COLORS["virtual"],
                  lw=1.3, ls=style, label=f"virtual, {group}")
            row = ks[(ks["marker"] == column) & (ks["group"] == group)]
            if len(row) and np.isfinite(row["ks"].iloc[0]):
                titles.append(f"{group[0].upper()} {row['ks'].iloc[0]:.2f}")
        if log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title("KS " + ", ".join(titles), fontsize=8)
        ax.set_xlabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(columns):]:
        ax.set_visible(False)
    axes[0].set_ylabel("cumulative fraction", fontsize=8)
    axes[0].legend(fontsize=6, loc="lower right")
    fig.suptitle("Not calibrated (validation): cohort vs virtual patients at admission "
                 "(S survived, D died)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_histograms(real, selected, columns, path: Path) -> Path:
    """Histograms (density) of cohort and selected virtual patients per marker and outcome."""
    fig = Figure(figsize=(3.0 * len(columns), 5.6))
    axes = fig.subplots(2, len(columns), squeeze=False)
    for j, column in enumerate(columns):
        label, log = _label(column)
        pooled = np.r_[real[column].dropna().to_numpy(float),
                       selected[column].dropna().to_numpy(float)]
        if not len(pooled):
            continue
        low, high = np.nanmin(pooled), np.nanmax(pooled)
        if log and low > 0:
            edges = np.geomspace(low, high * 1.0001, 16)
        else:
            edges = np.linspace(low, high + 1e-9, 16)
        for i, (died, group) in enumerate(GROUPS.items()):
            ax = axes[i, j]
            ax.hist(real.loc[real["died"] == died, column].dropna(), bins=edges, density=True,
                    color="#bbbbbb", label="cohort")
            ax.hist(selected.loc[selected["died"] == died, column].dropna(), bins=edges,
                    density=True, histtype="step", lw=1.6, color=_COLORS["virtual"],
                    label="virtual (selected)")
            if log and low > 0:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(group, fontsize=8)
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0, j].legend(fontsize=6)
    fig.suptitle("Admission values: cohort vs virtual patients", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def parameter_shift(plausible: pd.DataFrame, population: pd.DataFrame, spec) -> pd.DataFrame:
    """Median of each varied parameter in the prior round, and in the selected survivors and
    non-survivors: what the cohort taught about the declared variability."""
    prior = plausible[plausible["round"] == 0]
    rows = []
    for name, parameter in spec.parameters.items():
        if parameter.distribution is None:
            continue
        rows.append({
            "parameter": name, "prior_median": prior[name].median(),
            "selected_median": population[name].median(),
            "survivors_median": population.loc[population["died"] == 0, name].median(),
            "non_survivors_median": population.loc[population["died"] == 1, name].median(),
        })
    table = pd.DataFrame(rows)
    table["fold_change"] = table["selected_median"] / table["prior_median"]
    return table


def _markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(value):
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if isinstance(value, int | np.integer):
            return str(int(value))
        if isinstance(value, float | np.floating):
            return "" if not np.isfinite(value) else f"{value:.{digits}g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write_report(population, out: str | Path) -> dict[str, Path]:
    """Write ``report.md``, ``goodness_of_fit.csv``, ``deaths.csv``, ``course.csv``,
    ``onset.csv``, ``associations.csv``, ``parameters.csv`` and the figures ``ecdf.png``,
    ``histograms.png`` and ``validation_ecdf.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary, ks, spec = population.summary_, population.goodness_of_fit_, population.spec_
    real = population.targets_.values
    plausible = population.plausible_[population.plausible_["admitted"]]
    weights = plausible["weight"].to_numpy()
    selected = population.population_
    calibrated = list(summary["calibrated"])
    continuous = [c for c in calibrated if c != "male"]
    validation = [m for m in spec.validation_markers if m in real] + (
        ["days_to_death"] if "days_to_death" in real else [])
    paths = {
        "ecdf": plot_ecdfs(real, selected, plausible, weights, continuous, ks,
                           out / "ecdf.png", title="Calibrated: admission values, cohort vs "
                           "virtual patients"),
        "histograms": plot_histograms(real, selected, continuous, out / "histograms.png"),
    }
    if validation:
        paths["validation_ecdf"] = plot_validation(real, selected, validation, ks,
                                                   out / "validation_ecdf.png")
    shifts = parameter_shift(population.plausible_, selected, spec)
    onset = onset_table(selected, spec)
    ks.to_csv(out / "goodness_of_fit.csv", index=False)
    population.deaths_.to_csv(out / "deaths.csv", index=False)
    population.course_.to_csv(out / "course.csv", index=False)
    population.associations_.to_csv(out / "associations.csv", index=False)
    shifts.to_csv(out / "parameters.csv", index=False)
    onset.to_csv(out / "onset.csv", index=False)
    paths.update({"goodness_of_fit": out / "goodness_of_fit.csv", "deaths": out / "deaths.csv",
                  "course": out / "course.csv", "associations": out / "associations.csv",
                  "parameters": out / "parameters.csv", "onset": out / "onset.csv"})
    rounds = pd.DataFrame(summary["rounds"])
    text = [
        f"# Virtual population `{spec.name}` calibrated to `{Path(summary['cohort']).name}`",
        "",
        f"{summary['n_simulated']} virtual patients simulated in {len(rounds)} rounds "
        f"(seed {summary['seed']}), {summary['n_admitted']} admitted by the clinical rule, "
        f"{summary['n_selected']} selected. Cohort: {summary['cohort_patients']} patients with "
        f"a known outcome; admission values are the first within "
        f"{summary['window_hours']:g} h. Calibrated per outcome group: "
        f"{', '.join(calibrated)} and the death fraction. Run time "
        f"{summary.get('seconds', float('nan')):.0f} s.",
        "",
        *([f"The death fraction is the population's, declared in the population file "
           f"({spec.death_fraction:.3f}: {spec.death_fraction_source}), not the cohort's: the "
           "markers are fitted within each outcome group, and the outcome mix follows the "
           "declaration.", ""] if spec.death_fraction is not None else []),
        "## Death fraction", "", _markdown_table(population.deaths_), "",
        "## Goodness of fit (two-sample Kolmogorov–Smirnov)", "",
        "`ks`, `p_value`: selected virtual patients vs cohort; `ks_weighted`: the weighted "
        "plausible population; `ks_prior`: the admitted patients of the prior round, "
        "unweighted (before calibration). For fitted rows the p-value is optimistic (the "
        "cohort chose the patients); the other rows are validation.", "",
        _markdown_table(ks), "",
        "![calibrated markers](ecdf.png)", "", "![histograms](histograms.png)", "",
    ]
    if validation:
        text += ["![validation markers](validation_ecdf.png)", ""]
    text += [
        "## Course of the selected patients (not calibrated)", "",
        "Share admitted at hypoxaemia (rather than by the usual delay after symptom onset); "
        "median days from infection to symptom onset, from onset to the peak of the onset "
        f"read-out ({spec.onset_output}), from onset to hypoxaemia and from hypoxaemia to "
        "ventilation (P/F < 150) among the patients who reach them, from onset to admission and "
        "from admission to death (the cohort's in the next column); share ventilated and median "
        "peak SOFA during the stay.", "",
        _markdown_table(population.course_), "",
        "Symptom onset is read from each simulated course (the first time "
        f"{spec.onset_output} reaches the patient's threshold, or hypoxaemia if earlier), so "
        "the time from infection to onset is a validation against the declared incubation "
        "period (one-sample KS test):", "",
        _markdown_table(onset) if len(onset) else "(no incubation period declared)", "",
        "## Discrimination and how the markers go together", "",
        "The AUC of each admission value for death follows from its distributions in the two "
        "outcome groups, which were calibrated (a consistency check). The Spearman correlations "
        "between markers were not imposed: the calibration matches each marker's distribution, "
        "not their joint behaviour, which comes from the model. Cohort vs virtual (selected).",
        "",
        _markdown_table(population.associations_), "",
    ]
    text += [
        "## Rounds", "",
        "Effective sample size (Kish) of the weights and the largest constraint error in units "
        "of the cohort's sampling error, after each round.", "",
        _markdown_table(rounds), "",
        "## Selection (Allen 2016 acceptance)", "",
        "Score: mean KS over the calibrated columns and groups (each patient counted in each "
        "group with its model probability of death, never its drawn outcome) plus the error "
        "in the mean probability of death; "
        f"chosen factor {summary['acceptance_factor']:g}.", "",
        _markdown_table(population.acceptance_), "",
        "## What the calibration moved", "",
        "Medians of the varied parameters in the prior round and in the selected patients.", "",
        _markdown_table(shifts), "",
        "## Admission sampling delays (from the cohort)", "",
        _markdown_table(pd.DataFrame({"marker": list(summary["read_delay_h"]),
                                      "hours": list(summary["read_delay_h"].values())})), "",
        "Method: docs/population.md.",
    ]
    (out / "report.md").write_text("\n".join(text) + "\n")
    paths["report"] = out / "report.md"
    return paths
