"""Trial statistics: risks, risk ratios, hazard ratios, Kaplan–Meier, log-rank, subgroups.

Everything is computed by maintained libraries: risk ratios and their 95 % CIs with
:func:`scipy.stats.contingency.relative_risk` (Katz log method; Katz D 1978 Biometrics 34:469),
the χ² test with :func:`scipy.stats.chi2_contingency`, proportions' Wilson intervals with
:meth:`scipy.stats.binomtest`, Kaplan–Meier curves, the log-rank test and Cox hazard ratios with
lifelines (Davidson-Pilon C 2019 JOSS 4:1317), organ-support-free days with the Mann–Whitney U
test. Heterogeneity between subgroups is Cochran's Q on the log risk ratios (Cochran WG 1954
Biometrics 10:101), as in trial forest plots. The interaction of the study drug with a
background treatment is the ratio of the two subgroups' risk ratios (or the difference of their
differences in means), with a z-test on the log scale (Altman DG, Bland JM 2003 BMJ 326:219);
for two subgroups its p equals Cochran's Q p.

Ordinal and time-to-event endpoints of the WHO scale (:mod:`il6sim.trial._endpoints`): the
proportional-odds (cumulative logit) ratio with statsmodels ``OrderedModel`` (McCullagh P 1980
J R Stat Soc B 42:109); times to improvement or recovery with death as a competing event by
keeping the dead at risk to the end of follow-up as never improving. With no other censoring
(every patient is followed to the horizon) that risk set is exactly Fine and Gray's (Fine JP,
Gray RJ 1999 J Am Stat Assoc 94:496), so the Cox fit on it (robust variance, as theirs) is the
subdistribution hazard ratio and Kaplan–Meier on it is one minus the Aalen–Johansen cumulative
incidence (tested against lifelines' ``AalenJohansenFitter``). Risk differences have
Newcombe's hybrid score interval (Newcombe RG 1998 Stat Med 17:873, method 10); odds ratios
Woolf's log interval.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import relative_risk

#: Endpoints analysed as yes/no within follow-up, with their time column (for KM and Cox).
BINARY = {"mortality": ("died", "death_day"), "imv_or_death": ("imv_or_death", None),
          "discharge": ("discharged", "discharge_day"),
          "secondary_infection": ("secondary_infection", None)}
#: Time-to-event endpoints (deaths held at risk as never reaching the event), as BINARY.
TIME = {"time_to_improvement": ("improved", "improvement_day"),
        "time_to_recovery": ("recovered", "recovery_day")}


def proportion(events: int, n: int) -> tuple[float, float, float]:
    """Risk with its Wilson 95 % interval (Wilson EB 1927 JASA 22:209)."""
    if n == 0:
        return (np.nan, np.nan, np.nan)
    ci = stats.binomtest(int(events), int(n)).proportion_ci(0.95, method="wilson")
    return (events / n, ci.low, ci.high)


def risk_ratio(events_t: int, n_t: int, events_c: int, n_c: int) -> dict[str, float]:
    """Risk ratio (treated / control) with 95 % CI (Katz) and the χ² p-value."""
    out = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    if min(n_t, n_c) == 0:
        return out
    if events_c > 0 and events_t > 0:
        result = relative_risk(int(events_t), int(n_t), int(events_c), int(n_c))
        ci = result.confidence_interval(0.95)
        out.update(estimate=result.relative_risk, ci_low=ci.low, ci_high=ci.high)
    elif events_c > 0:
        out.update(estimate=0.0)
    table = np.array([[events_t, n_t - events_t], [events_c, n_c - events_c]])
    if (table.sum(axis=0) > 0).all():
        out["p_value"] = stats.chi2_contingency(table, correction=False)[1]
    return out


def cox_and_logrank(time: np.ndarray, event: np.ndarray, treated: np.ndarray,
                    horizon: float, *, robust: bool = False) -> dict[str, float]:
    """Hazard ratio (treated vs control) from a Cox model with its 95 % CI, and the log-rank
    p-value; follow-up censored at ``horizon`` days (a patient without the event, dead or
    alive, is at risk to the horizon). ``robust``: the sandwich variance (Fine–Gray's)."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    duration = np.where(event, np.minimum(time, horizon), horizon)
    frame = pd.DataFrame({"days": duration, "event": event.astype(int),
                          "treated": treated.astype(int)})
    out = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    if frame["event"].sum() == 0 or frame["treated"].nunique() < 2:
        return out
    arm, control = frame[frame["treated"] == 1], frame[frame["treated"] == 0]
    test = logrank_test(arm["days"], control["days"], arm["event"], control["event"])
    out["p_value"] = float(test.p_value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cox = CoxPHFitter().fit(frame, "days", "event", robust=robust)
        except Exception:  # lifelines raises several kinds on degenerate data
            return out
    row = cox.summary.loc["treated"]
    out.update(estimate=float(row["exp(coef)"]), ci_low=float(row["exp(coef) lower 95%"]),
               ci_high=float(row["exp(coef) upper 95%"]))
    return out


def kaplan_meier(time: np.ndarray, event: np.ndarray, horizon: float) -> pd.DataFrame:
    """Survival (1 − cumulative incidence) over days with its 95 % band (lifelines)."""
    from lifelines import KaplanMeierFitter

    duration = np.where(event, np.minimum(time, horizon), horizon)
    fit = KaplanMeierFitter().fit(duration, event.astype(bool))
    table = fit.survival_function_.join(fit.confidence_interval_)
    table.columns = ["survival", "low", "high"]
    return table.rename_axis("day").reset_index()


def median_time(time: np.ndarray, event: np.ndarray, horizon: float
                ) -> tuple[float, float, float]:
    """Kaplan–Meier median time to the event with its 95 % CI (lifelines; NaN where the curve
    does not reach one half); no event by ``horizon`` counts as at risk to it."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    if len(time) == 0:
        return (np.nan, np.nan, np.nan)
    duration = np.where(event, np.minimum(time, horizon), horizon)
    fit = KaplanMeierFitter().fit(duration, event.astype(bool))
    ci = median_survival_times(fit.confidence_interval_).to_numpy(float)[0]
    values = np.array([fit.median_survival_time_, *ci], float)
    values[~np.isfinite(values)] = np.nan
    return tuple(float(v) for v in values)


def proportional_odds(levels_t: np.ndarray, levels_c: np.ndarray) -> dict[str, float]:
    """Proportional-odds ratio of a *better* (lower) level, treated vs control, with its 95 %
    Wald CI and p (statsmodels ``OrderedModel``, logit link); > 1 favours the treated arm. NaN
    when one arm is empty, all levels are equal, or the fit does not converge."""
    out = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    t = np.asarray(levels_t, float)
    c = np.asarray(levels_c, float)
    t, c = t[np.isfinite(t)], c[np.isfinite(c)]
    y = np.concatenate([t, c])
    if min(len(t), len(c)) == 0 or len(np.unique(y)) < 2:
        return out
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    endog = pd.Series(pd.Categorical(y, ordered=True))
    exog = pd.DataFrame({"treated": np.r_[np.ones(len(t)), np.zeros(len(c))]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = OrderedModel(endog, exog, distr="logit").fit(method="bfgs", disp=False,
                                                                maxiter=500)
        except Exception:  # statsmodels raises several kinds on degenerate data
            return out
    beta, se = float(fit.params["treated"]), float(fit.bse["treated"])
    if not (fit.mle_retvals.get("converged", True) and np.isfinite(beta) and np.isfinite(se)):
        return out
    out.update(estimate=float(np.exp(-beta)), ci_low=float(np.exp(-beta - Z95 * se)),
               ci_high=float(np.exp(-beta + Z95 * se)), p_value=float(fit.pvalues["treated"]))
    return out


def odds_ratio(events_t: int, n_t: int, events_c: int, n_c: int) -> dict[str, float]:
    """Odds ratio (treated / control) with Woolf's 95 % CI and the χ² p-value."""
    out = risk_ratio(events_t, n_t, events_c, n_c)
    a, b, c, d = events_t, n_t - events_t, events_c, n_c - events_c
    out.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan)
    if min(a, b, c, d) > 0:
        log_or, se = np.log(a * d / (b * c)), np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        out.update(estimate=float(np.exp(log_or)), ci_low=float(np.exp(log_or - Z95 * se)),
                   ci_high=float(np.exp(log_or + Z95 * se)))
    return out


def risk_difference(events_t: int, n_t: int, events_c: int, n_c: int) -> dict[str, float]:
    """Risk difference (treated − control) with Newcombe's hybrid score 95 % CI (from the two
    Wilson intervals) and the χ² p-value."""
    out = risk_ratio(events_t, n_t, events_c, n_c)
    out.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan)
    if min(n_t, n_c) == 0:
        return out
    p1, l1, u1 = proportion(events_t, n_t)
    p2, l2, u2 = proportion(events_c, n_c)
    d = p1 - p2
    out.update(estimate=float(d), ci_low=float(d - np.hypot(p1 - l1, u2 - p2)),
               ci_high=float(d + np.hypot(u1 - p1, p2 - l2)))
    return out


def median_difference(values_t: np.ndarray, values_c: np.ndarray) -> dict[str, float]:
    """Difference in medians (treated − control), without an interval, and the Mann–Whitney
    p-value."""
    out = mann_whitney(values_t, values_c)
    if len(values_t) and len(values_c):
        out.update(estimate=float(np.median(values_t) - np.median(values_c)), ci_low=np.nan,
                   ci_high=np.nan)
    return out


def mann_whitney(values_t: np.ndarray, values_c: np.ndarray) -> dict[str, float]:
    """Difference in means (treated − control) and the two-sided Mann–Whitney p-value."""
    if len(values_t) == 0 or len(values_c) == 0:
        return {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    diff = float(np.mean(values_t) - np.mean(values_c))
    se = float(np.sqrt(np.var(values_t, ddof=1) / len(values_t)
                       + np.var(values_c, ddof=1) / len(values_c))) \
        if min(len(values_t), len(values_c)) > 1 else np.nan
    p = stats.mannwhitneyu(values_t, values_c, alternative="two-sided").pvalue
    return {"estimate": diff, "ci_low": diff - 1.96 * se, "ci_high": diff + 1.96 * se,
            "p_value": float(p)}


def heterogeneity(estimates: list[float], lows: list[float], highs: list[float]) -> float:
    """Cochran's Q p-value for the log risk ratios of subgroups (NaN if fewer than two)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero ratio has no log
        est, low, high = (np.log(np.asarray(v, float)) for v in (estimates, lows, highs))
    keep = np.isfinite(est) & np.isfinite(low) & np.isfinite(high) & (high > low)
    if keep.sum() < 2:
        return np.nan
    se = (high[keep] - low[keep]) / (2 * 1.959964)
    w = 1 / se**2
    pooled = np.sum(w * est[keep]) / np.sum(w)
    q = float(np.sum(w * (est[keep] - pooled) ** 2))
    return float(stats.chi2.sf(q, keep.sum() - 1))


#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def _z(estimate: float, se: float) -> tuple[float, float, float]:
    """The 95 % CI and the two-sided z-test p of a normally distributed estimate."""
    if not (np.isfinite(estimate) and np.isfinite(se)) or se <= 0:
        return (np.nan, np.nan, np.nan)
    return (estimate - Z95 * se, estimate + Z95 * se, float(2 * stats.norm.sf(abs(estimate) / se)))


def ratio_of_risk_ratios(on: tuple[int, int, int, int], off: tuple[int, int, int, int]
                         ) -> dict[str, float]:
    """Interaction on the risk-ratio scale: ``RR_on / RR_off``, each ``(events treated, n
    treated, events control, n control)``, with its 95 % CI and z-test p.

    ``log(RR_on / RR_off) = log RR_on - log RR_off``; its standard error is the root of the sum
    of the two Katz variances, ``1/a - 1/n + 1/c - 1/m`` (Altman DG, Bland JM 2003 BMJ 326:219).
    NaN when a cell has no event or a subgroup no patient.
    """
    out = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    logs, variances = [], []
    for a, n, c, m in (on, off):
        if min(a, c) <= 0 or min(n, m) <= 0:
            return out
        logs.append(np.log((a / n) / (c / m)))
        variances.append(1 / a - 1 / n + 1 / c - 1 / m)
    log_ratio, se = logs[0] - logs[1], float(np.sqrt(sum(variances)))
    low, high, p = _z(log_ratio, se)
    out.update(estimate=float(np.exp(log_ratio)), ci_low=float(np.exp(low)),
               ci_high=float(np.exp(high)), p_value=p)
    return out


def difference_of_differences(on: tuple[np.ndarray, np.ndarray],
                              off: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    """Interaction on the difference scale: ``(mean treated - mean control)`` with the
    background minus the same without it, each ``(values treated, values control)``; 95 % CI
    and z-test p from the unpooled standard errors (normal approximation)."""
    out = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    diffs, variances = [], []
    for treated, control in (on, off):
        if min(len(treated), len(control)) < 2:
            return out
        diffs.append(float(np.mean(treated) - np.mean(control)))
        variances.append(np.var(treated, ddof=1) / len(treated)
                         + np.var(control, ddof=1) / len(control))
    estimate, se = diffs[0] - diffs[1], float(np.sqrt(sum(variances)))
    low, high, p = _z(estimate, se)
    out.update(estimate=estimate, ci_low=low, ci_high=high, p_value=p)
    return out
