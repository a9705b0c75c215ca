"""Per-arm summaries and arm comparisons of the endpoints that are not yes/no: WHO levels on a
day, times to improvement or recovery, and counts of days (:mod:`._analysis` uses these).

- ordinal (``ordinal_day14``, ``ordinal_day28``): per arm the median level with its quartiles
  and the distribution over levels 0–10 (:func:`ordinal_distribution`); compared by the
  proportional-odds ratio of a better level (:func:`il6sim.trial._stats.proportional_odds`);
- time (``time_to_improvement``, ``time_to_recovery``): per arm the Kaplan–Meier median days
  with its 95 % CI, deaths held at risk as never reaching the event; compared by the Fine–Gray
  rate ratio (> 1: sooner in the treated arm) with the log-rank p;
- days (``organ_support_free_days``, ``days_alive_free_of_ventilation``): per arm the mean,
  median and quartiles; compared by the difference in means with the Mann–Whitney p, and on
  request of a published result by the difference in medians or the proportional-odds ratio
  of more days (REMAP-CAP's analysis of organ-support-free days).

Yes/no endpoints get an odds ratio or a risk difference here when their published result is
given on that measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..clinical import WHO_LEVELS
from ._published import (
    ENDPOINT_KINDS,
    FINE_GRAY,
    MEAN_DAYS,
    MEDIAN_DAYS,
    ODDS_RATIO,
    PROPORTIONAL_ODDS,
    RISK_DIFFERENCE,
)
from ._stats import (
    BINARY,
    TIME,
    cox_and_logrank,
    mann_whitney,
    median_difference,
    median_time,
    odds_ratio,
    proportional_odds,
    risk_difference,
)

__all__ = ["arm_row", "compare_kind", "ordinal_distribution"]

_EMPTY = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}


def _quartiles(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {"median": np.nan, "q1": np.nan, "q3": np.nan}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3)}


def arm_row(endpoint: str, group: pd.DataFrame, days: float) -> dict:
    """One arm's summary of a non-binary endpoint (columns of :attr:`TrialResult.arms`)."""
    kind = ENDPOINT_KINDS[endpoint]
    row = {"events": np.nan, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if kind == "time":
        column, time = TIME[endpoint]
        event = group[column].to_numpy(float) > 0.5
        median, low, high = median_time(group[time].to_numpy(float), event, days)
        return {**row, "events": int(event.sum()), "value": median, "ci_low": low,
                "ci_high": high, "measure": "median days"}
    values = group[endpoint].to_numpy(float)
    quartiles = _quartiles(values)
    if kind == "ordinal":
        return {**row, "value": quartiles["median"], **quartiles, "measure": "median level"}
    return {**row, "value": float(np.mean(values)) if len(values) else np.nan, **quartiles,
            "measure": "mean days"}


def compare_kind(endpoint: str, treated: pd.DataFrame, control: pd.DataFrame, wanted: str,
                 days: float) -> list[dict]:
    """Comparison rows (``measure`` and the statistic) of a treated arm against control;
    ``wanted`` is the measure a published result asks for."""
    kind = ENDPOINT_KINDS[endpoint]
    if kind == "binary":
        column = BINARY[endpoint][0]
        counts = (int((treated[column] > 0.5).sum()), len(treated),
                  int((control[column] > 0.5).sum()), len(control))
        if wanted == ODDS_RATIO:
            return [{"measure": ODDS_RATIO, **odds_ratio(*counts)}]
        if wanted == RISK_DIFFERENCE:
            return [{"measure": RISK_DIFFERENCE, **risk_difference(*counts)}]
        return []
    if kind == "time":
        column, time = TIME[endpoint]
        both = pd.concat([treated, control])
        arm = np.r_[np.ones(len(treated), bool), np.zeros(len(control), bool)]
        stat = cox_and_logrank(both[time].to_numpy(float), both[column].to_numpy(float) > 0.5,
                               arm, days, robust=True) if len(both) else dict(_EMPTY)
        return [{"measure": FINE_GRAY[endpoint], **stat}]
    values_t = treated[endpoint].to_numpy(float)
    values_c = control[endpoint].to_numpy(float)
    if kind == "ordinal":
        return [{"measure": PROPORTIONAL_ODDS, **proportional_odds(values_t, values_c)}]
    rows = [{"measure": MEAN_DAYS, **mann_whitney(values_t, values_c)}]
    if wanted == MEDIAN_DAYS:
        rows.append({"measure": MEDIAN_DAYS, **median_difference(values_t, values_c)})
    if wanted == PROPORTIONAL_ODDS:  # more days is better: the odds of a higher count
        rows.append({"measure": PROPORTIONAL_ODDS, **proportional_odds(-values_t, -values_c)})
    return rows


def ordinal_distribution(result) -> pd.DataFrame:
    """Patients at each WHO level (0–10) per ordinal endpoint and arm of ``result`` (a
    :class:`~il6sim.trial.TrialResult`): ``endpoint, arm, level, meaning, count, share``."""
    rows = []
    for endpoint in result.design.endpoints:
        if ENDPOINT_KINDS[endpoint] != "ordinal":
            continue
        data = result._population(endpoint)
        for arm in result.design.arm_names:
            values = data.loc[data["arm"] == arm, endpoint].to_numpy(float)
            values = values[np.isfinite(values)]
            for level, meaning in WHO_LEVELS.items():
                count = int((values == level).sum())
                rows.append({"endpoint": endpoint, "arm": arm, "level": level,
                             "meaning": meaning, "count": count,
                             "share": count / len(values) if len(values) else np.nan})
    return pd.DataFrame(rows)
