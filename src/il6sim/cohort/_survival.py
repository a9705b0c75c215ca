"""Time to in-hospital death: cumulative incidence by IL-6 strata and Cox models (lifelines).

Time is days from admission to death or discharge. Discharge is a competing event: a patient
discharged alive can no longer die in hospital. The cumulative incidence of in-hospital death
is therefore the Aalen–Johansen estimate with discharge as the competing risk
(:func:`death_incidence`); one minus a Kaplan–Meier curve that censors at discharge
(:func:`kaplan_meier`, kept for the cause-specific view) overstates it. The log-rank test and
the Cox hazard ratios are cause-specific (discharge censors).

References
----------
Aalen O.O., Johansen S. (1978) Scand. J. Stat. 5:141–150.
Putter H., Fiocco M., Geskus R.B. (2007) Tutorial in biostatistics: competing risks and
multi-state models. Stat. Med. 26:2389–2430.
Davidson-Pilon C. (2019) lifelines: survival analysis in Python. J. Open Source Softw. 4:1317.
Herold T. et al. (2020) J. Allergy Clin. Immunol. 146:128–136.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import multivariate_logrank_test

from ._cohort import Cohort

__all__ = ["cox_model", "death_incidence", "il6_strata", "kaplan_meier", "survival_data"]

#: Event codes of the competing-risks fit.
DEATH, DISCHARGE = 1, 2


def survival_data(cohort: Cohort, window_hours: float | None = 48) -> pd.DataFrame:
    """Baseline labs (first values within ``window_hours``) with ``days`` and ``died``.

    Patients without an outcome or a valid length of stay are left out; ``attrs["excluded"]``
    holds their count.
    """
    X = cohort.first_values(window_hours)
    info = cohort.patient_info.reindex(X.index)
    data = X.assign(days=info["length_of_stay_days"], died=info["outcome"])
    usable = data["days"].notna() & data["died"].notna()
    out = data[usable].astype({"died": int})
    out.attrs["excluded"] = int((~usable).sum())
    return out


def il6_strata(il6: pd.Series, cutoff: float | None = None) -> pd.Series:
    """Label each patient's IL-6: tertiles (default) or ``≤ cutoff`` / ``> cutoff``.

    Tertile labels show their IL-6 range in pg/mL. Patients without IL-6 get a missing label.
    """
    values = il6.dropna()
    if cutoff is not None:
        labels = np.where(values > cutoff, f"IL-6 > {cutoff:g}", f"IL-6 ≤ {cutoff:g}")
        return pd.Series(labels, index=values.index).reindex(il6.index)
    codes = pd.qcut(values.rank(method="first"), 3, labels=False)
    names = {}
    for code in range(3):
        group = values[codes == code]
        names[code] = f"T{code + 1}: {group.min():.3g}–{group.max():.3g}"
    return codes.map(names).reindex(il6.index)


def kaplan_meier(data: pd.DataFrame, groups: pd.Series
                 ) -> tuple[dict[str, KaplanMeierFitter], pd.DataFrame, float]:
    """Kaplan–Meier estimate of cause-specific survival (death = event, discharge censors).

    Not the probability of dying in hospital (see :func:`death_incidence`).

    Returns
    -------
    fitters
        One fitted :class:`lifelines.KaplanMeierFitter` per group label (sorted).
    table
        ``group``, ``n``, ``deaths``, ``survival_14d``, ``survival_28d``, ``median_days``.
    logrank_p
        p-value of the multivariate log-rank test across groups.
    """
    usable = groups.notna()
    d, g = data.loc[usable[usable].index], groups[usable]
    fitters, rows = {}, []
    for label in sorted(g.unique()):
        part = d[g == label]
        kmf = KaplanMeierFitter(label=str(label)).fit(part["days"], part["died"])
        fitters[str(label)] = kmf
        at = kmf.survival_function_at_times([14.0, 28.0]).to_numpy()
        rows.append({"group": str(label), "n": len(part), "deaths": int(part["died"].sum()),
                     "survival_14d": float(at[0]), "survival_28d": float(at[1]),
                     "median_days": float(kmf.median_survival_time_)})
    test = multivariate_logrank_test(d["days"], g, d["died"])
    return fitters, pd.DataFrame(rows), float(test.p_value)


def death_incidence(data: pd.DataFrame, groups: pd.Series, *, seed: int = 0
                    ) -> tuple[dict[str, AalenJohansenFitter], pd.DataFrame, float]:
    """Cumulative incidence of in-hospital death per group, discharge a competing event.

    Aalen–Johansen estimator (lifelines): each patient ends at ``days`` by death (``died`` 1)
    or discharge alive (``died`` 0). Tied times are broken by lifelines' jitter, seeded with
    ``seed`` so the estimate repeats.

    Returns
    -------
    fitters
        One fitted :class:`lifelines.AalenJohansenFitter` per group label (sorted).
    table
        ``group``, ``n``, ``deaths``, ``discharged``, ``death_14d``, ``death_28d`` (cumulative
        incidence of death by day 14 and 28) and ``km_death_28d`` (one minus the Kaplan–Meier
        survival censored at discharge: what ignoring the competing event would report).
    logrank_p
        p-value of the multivariate log-rank test of the cause-specific hazards.
    """
    usable = groups.notna()
    d, g = data.loc[usable[usable].index], groups[usable]
    fitters, rows = {}, []
    for label in sorted(g.unique()):
        part = d[g == label]
        events = np.where(part["died"].to_numpy() == 1, DEATH, DISCHARGE)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Tied event times")
            ajf = AalenJohansenFitter(seed=seed, calculate_variance=False).fit(
                part["days"], events, event_of_interest=DEATH, label=str(label))
        fitters[str(label)] = ajf
        cif = ajf.cumulative_density_.iloc[:, 0]
        at = [float(cif[cif.index <= t].iloc[-1]) if (cif.index <= t).any() else 0.0
              for t in (14.0, 28.0)]
        kmf = KaplanMeierFitter().fit(part["days"], part["died"])
        rows.append({"group": str(label), "n": len(part), "deaths": int(part["died"].sum()),
                     "discharged": int((part["died"] == 0).sum()), "death_14d": at[0],
                     "death_28d": at[1],
                     "km_death_28d": 1.0 - float(kmf.survival_function_at_times(28.0).iloc[0])})
    test = multivariate_logrank_test(d["days"], g, d["died"])
    return fitters, pd.DataFrame(rows), float(test.p_value)


def cox_model(data: pd.DataFrame, covariates: list[str], *, log2: tuple[str, ...] = ("il6",),
              penalizer: float = 0.0) -> tuple[CoxPHFitter, pd.DataFrame]:
    """Cox proportional-hazards model of in-hospital death (complete cases).

    Parameters
    ----------
    data
        Output of :func:`survival_data`.
    covariates
        Columns to include; those in ``log2`` enter as ``log2(x)`` (hazard ratio per doubling;
        values ≤ 0 are set to half the smallest positive value first).
    penalizer
        L2 penalty passed to :class:`lifelines.CoxPHFitter`; if the fit does not converge it is
        retried with 0.01 (reported in the table's ``penalizer`` column).

    Returns
    -------
    fitter, table
        The fitted model and a table ``covariate``, ``hr``, ``hr_low``, ``hr_high``, ``p``,
        ``n``, ``events``, ``concordance``, ``penalizer``.
    """
    frame = data[[*covariates, "days", "died"]].dropna()
    renamed = {}
    for column in covariates:
        if column in log2:
            values = frame[column]
            floor = values[values > 0].min() / 2.0
            frame[column] = np.log2(values.clip(lower=floor))
            renamed[column] = f"log2_{column}"
    frame = frame.rename(columns=renamed)
    try:
        fitter = CoxPHFitter(penalizer=penalizer).fit(frame, "days", "died")
    except ConvergenceError:
        penalizer = 0.01
        fitter = CoxPHFitter(penalizer=penalizer).fit(frame, "days", "died")
    s = fitter.summary
    table = pd.DataFrame({
        "covariate": s.index, "hr": s["exp(coef)"].to_numpy(),
        "hr_low": s["exp(coef) lower 95%"].to_numpy(),
        "hr_high": s["exp(coef) upper 95%"].to_numpy(), "p": s["p"].to_numpy(),
    })
    table["n"] = len(frame)
    table["events"] = int(frame["died"].sum())
    table["concordance"] = float(fitter.concordance_index_)
    table["penalizer"] = penalizer
    return fitter, table
