"""Goodness of fit of a virtual population to a cohort: KS per marker and outcome, deaths.

The two-sample Kolmogorov–Smirnov test (:func:`scipy.stats.ks_2samp`) compares each marker's
admission values in the selected virtual patients with the cohort's, separately for survivors
and non-survivors. For markers the population was calibrated to, the p-value is optimistic (the
same data chose the patients); for validation markers it is an honest test. The weighted
statistic (plausible population with its prevalence weights) shows the fit before selection, and
the prior statistic (admitted patients of the first, prior round, unweighted) the fit before any
calibration.

The course of the selected patients is never calibrated: its timing (symptom onset against the
published incubation period, the viral peak against onset, onset to hypoxaemia and to
ventilation, admission to death) is a validation of the model (:func:`course_summary`,
:func:`onset_table`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from ._balance import membership

__all__ = ["GROUPS", "association_table", "course_summary", "death_summary", "ks_table",
           "membership_ks", "onset_table", "weighted_ks"]

GROUPS = {0: "survived", 1: "died"}


def weighted_ks(values: np.ndarray, weights: np.ndarray, reference: np.ndarray) -> float:
    """Largest distance between the weighted ECDF of ``values`` and the ECDF of ``reference``."""
    keep = np.isfinite(values)
    values, weights = values[keep], weights[keep]
    reference = np.sort(reference[np.isfinite(reference)])
    if len(values) == 0 or len(reference) == 0 or weights.sum() <= 0:
        return np.nan
    order = np.argsort(values)
    values, cumulative = values[order], np.cumsum(weights[order]) / weights.sum()
    grid = np.union1d(values, reference)
    weighted = np.concatenate([[0.0], cumulative])[np.searchsorted(values, grid, side="right")]
    plain = np.searchsorted(reference, grid, side="right") / len(reference)
    return float(np.abs(weighted - plain).max())


def ks_table(real: pd.DataFrame, selected: pd.DataFrame, columns: Iterable[str], *,
             fitted: Iterable[str] = (), plausible: pd.DataFrame | None = None,
             weights: np.ndarray | None = None, prior: pd.DataFrame | None = None
             ) -> pd.DataFrame:
    """One row per column and outcome group: sizes, medians, KS statistic and p-value.

    Parameters
    ----------
    real : cohort values with ``died`` (1/0) and one column per marker.
    selected : virtual patients with the same columns.
    columns : markers (and covariates) to compare.
    fitted : the columns the population was calibrated to (flagged in the table).
    plausible, weights : the weighted plausible population, for the ``ks_weighted`` column.
    prior : admitted patients of the prior round, unweighted, for the ``ks_prior`` column (the
        fit before calibration).
    """
    fitted, rows = set(fitted), []
    for column in columns:
        for died, group in GROUPS.items():
            y = real.loc[real["died"] == died, column].dropna().to_numpy(float)
            x = selected.loc[selected["died"] == died, column].dropna().to_numpy(float)
            if not len(x) and not len(y):
                continue
            row = {"marker": column, "group": group, "fitted": column in fitted,
                   "n_real": len(y), "n_sim": len(x),
                   "median_real": np.median(y) if len(y) else np.nan,
                   "median_sim": np.median(x) if len(x) else np.nan,
                   "ks": np.nan, "p_value": np.nan, "ks_weighted": np.nan, "ks_prior": np.nan}
            if len(x) and len(y):
                test = stats.ks_2samp(x, y)
                row["ks"], row["p_value"] = float(test.statistic), float(test.pvalue)
            if plausible is not None and weights is not None:
                mask = (plausible["died"] == died).to_numpy()
                row["ks_weighted"] = weighted_ks(plausible.loc[mask, column].to_numpy(float),
                                                 weights[mask], y)
            if prior is not None:
                before = prior.loc[prior["died"] == died, column].dropna().to_numpy(float)
                if len(before) and len(y):
                    row["ks_prior"] = float(stats.ks_2samp(before, y).statistic)
            rows.append(row)
    return pd.DataFrame(rows)


def membership_ks(real: pd.DataFrame, selected: pd.DataFrame, columns: Iterable[str]) -> float:
    """Mean KS statistic over columns and outcome groups with each virtual patient counted in each
    group with its membership (model death probability or its complement;
    :func:`._balance.membership`), never by its drawn outcome (the selection score)."""
    member = membership(selected)
    values = []
    for column in columns:
        x = selected[column].to_numpy(float)
        for died in GROUPS:
            y = real.loc[real["died"] == died, column].to_numpy(float)
            distance = weighted_ks(x, member[died], y)
            values.append(1.0 if np.isnan(distance) else distance)
    return float(np.mean(values))


def death_summary(real: pd.DataFrame, selected: pd.DataFrame, plausible: pd.DataFrame,
                  weights: np.ndarray, *, prior: pd.DataFrame | None = None,
                  declared: float | None = None) -> pd.DataFrame:
    """Death fraction in the cohort, the selected and the weighted plausible population (drawn
    outcomes, and the weighted mean model probability of death that the weights are calibrated
    to), with the cohort's Wilson 95 % interval and an exact binomial test of the selected
    fraction against the calibration target: the ``declared`` population fraction (a row of its
    own) if given, else the cohort's."""
    deaths, n = int(real["died"].sum()), len(real)
    interval = stats.binomtest(deaths, n).proportion_ci(method="wilson")
    selected_deaths, m = int(selected["died"].sum()), len(selected)
    real_fraction = deaths / n
    target = real_fraction if declared is None else declared
    test = stats.binomtest(selected_deaths, m, target) if m else None
    rows = [
        {"population": "cohort", "n": n, "deaths": deaths, "fraction": real_fraction,
         "ci_low": interval.low, "ci_high": interval.high, "p_value": np.nan},
        *([{"population": "target (declared)", "n": np.nan, "deaths": np.nan,
            "fraction": declared, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}]
          if declared is not None else []),
        {"population": "virtual (selected)", "n": m, "deaths": selected_deaths,
         "fraction": selected_deaths / m if m else np.nan, "ci_low": np.nan, "ci_high": np.nan,
         "p_value": test.pvalue if test else np.nan},
        {"population": "virtual (weighted plausible)", "n": len(plausible),
         "deaths": int(plausible["died"].sum()),
         "fraction": float(np.sum(weights * plausible["died"].to_numpy(float))),
         "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan},
        {"population": "virtual (weighted plausible, model probability)", "n": len(plausible),
         "deaths": np.nan,
         "fraction": float(np.sum(weights * plausible["death_probability"].to_numpy(float))),
         "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan},
    ]
    if prior is not None and len(prior):
        rows.append({"population": "virtual (prior round, unweighted)", "n": len(prior),
                     "deaths": int(prior["died"].sum()), "fraction": float(prior["died"].mean()),
                     "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan})
    return pd.DataFrame(rows)


def course_summary(selected: pd.DataFrame, real: pd.DataFrame) -> pd.DataFrame:
    """The clinical course of the selected patients by outcome (medians, days): how they were
    admitted; infection to symptom onset; the peak of the onset read-out (the viral peak) minus
    onset; onset to hypoxaemia and hypoxaemia to ventilation (P/F < 150), among the patients who
    reach them; onset to admission; admission to death (with the cohort's); and ventilation and
    peak SOFA during the stay."""
    rows = []
    for died, group in GROUPS.items():
        chosen = selected[selected["died"] == died]
        by_symptoms = chosen["onset_h"] + chosen["onset_to_admission_h"]
        cohort = real.loc[real["died"] == died, "days_to_death"].dropna()
        rows.append({
            "group": group, "n": len(chosen),
            "admitted_at_hypoxaemia": float((chosen["admission_h"] < by_symptoms - 1e-9).mean()),
            "infection_to_onset_days": _median(chosen["onset_h"] / 24),
            "peak_minus_onset_days": _days(chosen, "onset_h", "onset_peak_h"),
            "onset_to_hypoxaemia_days": _days(chosen, "onset_h", "hypoxaemia_h"),
            "hypoxaemia_to_ventilation_days": _days(chosen, "hypoxaemia_h", "ventilation_h"),
            "onset_to_admission_days": _median((chosen["admission_h"] - chosen["onset_h"]) / 24),
            "admission_to_death_days": _median(chosen["days_to_death"]),
            "cohort_admission_to_death_days": _median(cohort),
            "ventilated": float(chosen["ventilated"].mean()),
            "peak_sofa": _median(chosen["peak_sofa"]),
        })
    return pd.DataFrame(rows)


def _days(frame: pd.DataFrame, start: str, end: str) -> float:
    """Median days from ``start`` to ``end`` (hours); NaN where a file predates the column."""
    if start not in frame or end not in frame:
        return np.nan
    return _median((frame[end] - frame[start]) / 24)


def onset_table(selected: pd.DataFrame, spec) -> pd.DataFrame:
    """Infection to symptom onset in the selected patients (all and by outcome) against the
    declared incubation period (``course.onset.incubation``; one-sample KS test against its
    distribution), in that declaration's unit: a validation, since onset is read from the
    simulated course."""
    reference = spec.incubation
    if reference is None:
        return pd.DataFrame()
    quartiles = reference.transform(stats.norm.ppf([0.25, 0.5, 0.75]))
    rows = [{"population": "published", "n": np.nan, "median": quartiles[1],
             "q25": quartiles[0], "q75": quartiles[2], "ks": np.nan, "p_value": np.nan}]
    groups = {"virtual (selected)": selected,
              **{f"virtual ({g})": selected[selected["died"] == d] for d, g in GROUPS.items()}}
    for name, frame in groups.items():
        onset = (frame["onset_h"] / spec.incubation_scale_h).dropna().to_numpy()
        if len(onset) == 0:
            continue
        z = np.log(np.maximum(onset, 1e-9) / reference.values["median"]) / reference.sigma
        test = stats.kstest(z, "norm")
        q25, median, q75 = np.percentile(onset, [25, 50, 75])
        rows.append({"population": name, "n": len(onset), "median": median, "q25": q25,
                     "q75": q75, "ks": test.statistic, "p_value": test.pvalue})
    table = pd.DataFrame(rows)
    table.insert(2, "unit", reference.unit or "h")
    return table


def _median(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.median()) if len(values) else np.nan


def association_table(real: pd.DataFrame, selected: pd.DataFrame, markers: Iterable[str]
                      ) -> pd.DataFrame:
    """The AUC of each marker for death (scikit-learn ``roc_auc_score``, oriented by the marker's
    a-priori direction; it follows from the calibrated per-group distributions) and the Spearman
    correlation of each pair of markers (not imposed by the calibration, which matches each
    marker's distribution but not how markers go together), in the cohort and in the selected
    virtual patients."""
    from sklearn.metrics import roc_auc_score

    from ..cohort._markers import MARKER_BY_NAME

    markers, rows = list(markers), []
    for marker in markers:
        sign = -1.0 if MARKER_BY_NAME[marker].worse == "low" else 1.0
        row = {"quantity": f"AUC for death: {marker}"}
        for name, frame in (("cohort", real), ("virtual", selected)):
            known = frame[[marker, "died"]].dropna()
            row[name] = (roc_auc_score(known["died"], sign * known[marker])
                         if known["died"].nunique() == 2 else np.nan)
        rows.append(row)
    for i, first in enumerate(markers):
        for second in markers[i + 1:]:
            rows.append({"quantity": f"Spearman: {first}, {second}",
                         "cohort": real[[first, second]].corr("spearman").iloc[0, 1],
                         "virtual": selected[[first, second]].corr("spearman").iloc[0, 1]})
    return pd.DataFrame(rows)
