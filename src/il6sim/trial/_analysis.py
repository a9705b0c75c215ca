""":class:`TrialResult`: the randomised analysis of a simulated trial, as tables and a report.

- :attr:`TrialResult.arms` — per arm and endpoint: patients analysed, events, risk (Wilson CI),
  mean (and median, IQR) days, median WHO level (IQR), median time to improvement or recovery
  (Kaplan–Meier, 95 % CI);
- :attr:`TrialResult.ordinal` — the distribution of the WHO levels per arm on days 14 and 28;
- :attr:`TrialResult.comparisons` — each treated arm against the control: risk ratio (Katz CI,
  χ² p), Cox hazard ratio with the log-rank p for time-to-event endpoints, the difference in
  organ-support-free days (Mann–Whitney p), the proportional-odds ratio of the WHO level, the
  Fine–Gray rate ratio of improvement or recovery, each beside the published value when the
  trial file gives one, on its measure (:mod:`._published`); and the counterfactual risk ratio
  (every patient under both arms), which has no sampling error from randomisation;
- :attr:`TrialResult.subgroups` — the primary endpoint per declared subgroup with Cochran's Q;
- :attr:`TrialResult.interactions` — the study drug's effect with and without each background
  co-treatment, with the interaction test;
- :meth:`TrialResult.kaplan_meier` — survival curves per arm.

Endpoint definitions: :mod:`il6sim.trial._endpoints`; statistics: :mod:`il6sim.trial._stats`.
"""

from __future__ import annotations

import itertools
import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ._design import TrialSpec, level_label
from ._outcomes import arm_row, compare_kind, ordinal_distribution
from ._published import ENDPOINT_KINDS, simulated_measure
from ._signals import LEVEL_NAMES
from ._stats import (
    BINARY,
    TIME,
    cox_and_logrank,
    difference_of_differences,
    heterogeneity,
    kaplan_meier,
    mann_whitney,
    proportion,
    ratio_of_risk_ratios,
    risk_ratio,
)

__all__ = ["TrialResult"]


class TrialResult:
    """A finished trial: the randomised patients and their analysis.

    Attributes
    ----------
    design : the trial file (:class:`~il6sim.trial.TrialSpec`).
    patients : one row per randomised patient: ``candidate`` (its number in the screening),
        ``arm``, baseline values (``baseline_*``, covariates), the observed endpoints in the
        allocated arm, and ``<endpoint>@<arm>`` for every arm (potential outcomes).
    counts : patients screened (virtual inpatients considered), admitted and randomised.
    """

    def __init__(self, design: TrialSpec, patients: pd.DataFrame, counts: dict[str, int]):
        self.design, self.patients, self.counts = design, patients, dict(counts)

    # ----------------------------------------------------------------- analysis populations
    def _population(self, endpoint: str) -> pd.DataFrame:
        data = self.patients[self.patients["died"].notna()]  # failed simulations are excluded
        if endpoint == "imv_or_death":  # patients not on invasive ventilation at baseline
            data = data[data["baseline_imv"] < 0.5]
        return data

    @property
    def followup_days(self) -> float:
        return self.design.followup_h / 24.0

    def endpoint_days(self, endpoint: str) -> float:
        """Days of follow-up of ``endpoint`` (:meth:`TrialSpec.followup_for`)."""
        return self.design.followup_for(endpoint) / 24.0

    def failures(self) -> dict[str, int]:
        """Randomised patients per arm whose simulation failed (left out of the analysis)."""
        failed = self.patients["died"].isna()
        return {arm: int((failed & (self.patients["arm"] == arm)).sum())
                for arm in self.design.arm_names}

    def control_risk_note(self) -> str | None:
        """How the control arm's mortality came about: predicted from the design (the default),
        or anchored to the published control arm (``anchor_control_risk``), said beside the
        published control risk; None without a mortality endpoint."""
        design = self.design
        if "mortality" not in design.endpoints:
            return None
        control = self.patients.loc[self.patients["arm"] == design.control, "died"].dropna()
        simulated = f"{100 * control.mean():.1f} %" if len(control) else "—"
        published = design.published.get("mortality")
        versus = (f" against {100 * published.control:.1f} % published"
                  if published is not None and published.control is not None else "")
        anchor = design.anchor_control_risk
        if anchor is None:
            return (f"control-arm mortality {simulated}{versus}: predicted from the design "
                    "(eligibility, case mix, the calibrated population and the model), not "
                    "anchored")
        return (f"control-arm mortality {simulated}{versus}: ANCHORED to {100 * anchor.risk:.1f} "
                "% by anchor_control_risk (eligible patients accepted by whether they die "
                "untreated), so it is an input here, not a prediction")

    def failure_message(self) -> str | None:
        """One line on the solver failures of this trial, or None when there were none."""
        per_arm = self.failures()
        screening = int(self.counts.get("screening_failed", 0))
        if not any(per_arm.values()) and not screening:
            return None
        parts = [f"{n} of {int((self.patients['arm'] == arm).sum())} in {arm}"
                 for arm, n in per_arm.items() if n]
        text = []
        if parts:
            text.append("randomised patients whose simulation failed in the solver, left out "
                        "of the analysis: " + ", ".join(parts))
        if screening:
            text.append(f"{screening} of {self.counts['screened']} screened patients failed in "
                        "the solver (never eligible)")
        return "; ".join(text)

    @cached_property
    def arms(self) -> pd.DataFrame:
        """Risk of each endpoint per arm (Wilson 95 % CI); mean days (with ``median``, ``q1``,
        ``q3``); median WHO level (quartiles); median days to improvement or recovery (95 %
        CI); ``failed``: randomised patients of the arm whose simulation failed (not in
        ``n``)."""
        rows = []
        failures = self.failures()
        for endpoint in self.design.endpoints:
            data = self._population(endpoint)
            for arm in self.design.arm_names:
                group = data[data["arm"] == arm]
                if ENDPOINT_KINDS[endpoint] != "binary":
                    rows.append({"endpoint": endpoint, "arm": arm, "n": len(group),
                                 "failed": failures[arm],
                                 **arm_row(endpoint, group, self.endpoint_days(endpoint))})
                    continue
                column = BINARY[endpoint][0]
                events = int((group[column] > 0.5).sum())
                risk, low, high = proportion(events, len(group))
                rows.append({"endpoint": endpoint, "arm": arm, "n": len(group),
                             "failed": failures[arm], "events": events,
                             "value": risk, "ci_low": low, "ci_high": high, "measure": "risk"})
        return pd.DataFrame(rows)

    @cached_property
    def comparisons(self) -> pd.DataFrame:
        """Each treated arm vs the control arm, for every endpoint and measure."""
        rows = []
        control = self.design.control
        for arm in self.design.treated_arms:
            for endpoint in self.design.endpoints:
                rows += self._compare(endpoint, arm, control)
        return pd.DataFrame(rows)

    @cached_property
    def ordinal(self) -> pd.DataFrame:
        """Patients at each WHO level per ordinal endpoint and arm (``count``, ``share``)."""
        return ordinal_distribution(self)

    def _compare(self, endpoint: str, arm: str, control: str) -> list[dict]:
        data = self._population(endpoint)
        treated, base = data[data["arm"] == arm], data[data["arm"] == control]
        published = self.design.published_for(endpoint, arm)
        wanted = simulated_measure(endpoint, published)
        common = {"endpoint": endpoint, "arm": arm, "control": control}
        rows = []
        if ENDPOINT_KINDS[endpoint] != "binary":
            rows += [{**common, **row} for row in compare_kind(
                endpoint, treated, base, wanted, self.endpoint_days(endpoint))]
        else:
            column, time = BINARY[endpoint]
            stat = risk_ratio(int((treated[column] > 0.5).sum()), len(treated),
                              int((base[column] > 0.5).sum()), len(base))
            rows.append({**common, "measure": "risk ratio", **stat})
            rows += [{**common, **row} for row in compare_kind(
                endpoint, treated, base, wanted, self.endpoint_days(endpoint))]
            if time is not None:
                both = pd.concat([treated, base])
                stat = cox_and_logrank(both[time].to_numpy(float),
                                       both[column].to_numpy(float) > 0.5,
                                       (both["arm"] == arm).to_numpy(),
                                       self.endpoint_days(endpoint))
                rows.append({**common, "measure": "hazard ratio (Cox; log-rank p)", **stat})
            everyone = self.patients[self.patients[f"{column}@{arm}"].notna()
                                     & self.patients[f"{column}@{control}"].notna()]
            if endpoint == "imv_or_death":
                everyone = everyone[everyone["baseline_imv"] < 0.5]
            under_t = float((everyone[f"{column}@{arm}"] > 0.5).mean())
            under_c = float((everyone[f"{column}@{control}"] > 0.5).mean())
            rows.append({**common, "measure": "counterfactual risk ratio (all patients, "
                         "both arms)", "estimate": under_t / under_c if under_c else np.nan,
                         "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan})
        for row in rows:
            if published is not None and row["measure"] == wanted:
                row.update(published=published.value,
                           published_ci=None if published.ci is None else list(published.ci),
                           published_measure=published.measure)
        return rows

    @cached_property
    def subgroups(self) -> pd.DataFrame:
        """The primary endpoint per subgroup level, with Cochran's Q p-value: the risk ratio of
        a yes/no primary, or the Fine–Gray rate ratio of a time-to-improvement or -recovery
        primary (``risk_*`` is then the share who improved or recovered within follow-up), as
        ACTT-1 reported its recovery rate ratio by baseline score (Beigel JH 2020 N Engl J Med
        383:1813, Table 2)."""
        rows = []
        endpoint = self.design.primary
        timed = ENDPOINT_KINDS.get(endpoint) == "time"
        if not (endpoint in BINARY or timed) or not self.design.treated_arms:
            return pd.DataFrame(rows)
        column = TIME[endpoint][0] if timed else BINARY[endpoint][0]
        arm, control = self.design.treated_arms[0], self.design.control
        data = self._population(endpoint)
        for subgroup in self.design.subgroups:
            name = f"baseline_{subgroup.signal}" if f"baseline_{subgroup.signal}" in data \
                else subgroup.signal
            values = data[name].to_numpy(float)
            mix = self.design.enrolment.baseline_mix
            names = mix.names if subgroup.signal == "stratum" and mix is not None \
                else LEVEL_NAMES.get(subgroup.signal, {})
            levels = _levels(values, subgroup.cuts, names, subgroup.groups)
            found = []
            for label, mask in levels:
                part = data[mask]
                t, c = part[part["arm"] == arm], part[part["arm"] == control]
                if timed:
                    stat = {k: v for k, v in compare_kind(
                        endpoint, t, c, "", self.endpoint_days(endpoint))[0].items()
                        if k != "measure"}
                    if min((t[column] > 0.5).sum(), (c[column] > 0.5).sum()) == 0:
                        # no event in one arm: the rate ratio's estimate is 0 or infinite
                        stat.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan)
                else:
                    stat = risk_ratio(int((t[column] > 0.5).sum()), len(t),
                                      int((c[column] > 0.5).sum()), len(c))
                found.append({"subgroup": subgroup.name, "signal": subgroup.signal,
                              "level": label, "n": len(part),
                              "risk_treated": float((t[column] > 0.5).mean()) if len(t) else
                              np.nan, "risk_control": float((c[column] > 0.5).mean()) if len(c)
                              else np.nan, **stat, **_published_level(subgroup, label)})
            q = heterogeneity([r["estimate"] for r in found], [r["ci_low"] for r in found],
                              [r["ci_high"] for r in found])
            rows += [{**r, "heterogeneity_p": q} for r in found]
        return pd.DataFrame(rows)

    def baseline_mix(self) -> pd.DataFrame:
        """Per stratum of the declared baseline mix: declared share, patients randomised in it
        and their share (empty without a mix)."""
        mix = self.design.enrolment.baseline_mix
        if mix is None or "baseline_stratum" not in self.patients:
            return pd.DataFrame()
        drawn = self.patients["baseline_stratum"].to_numpy(float)
        return pd.DataFrame([{"stratum": stratum.name, "levels": stratum.levels,
                              "declared": float(mix.shares[k]), "n": int(np.sum(drawn == k)),
                              "share": float(np.mean(drawn == k))}
                             for k, stratum in enumerate(mix.strata)])

    @property
    def background(self) -> list:
        """The trial's background co-treatments recorded in :attr:`patients` (a table made
        before the file had one lacks its ``on_<name>`` column)."""
        return [entry for entry in self.design.background if entry.column in self.patients]

    def background_shares(self) -> pd.DataFrame:
        """Per background co-treatment and arm: patients who received it and their share."""
        rows = []
        for entry in self.background:
            for arm in ["all arms", *self.design.arm_names]:
                group = self.patients if arm == "all arms" else \
                    self.patients[self.patients["arm"] == arm]
                on = group[entry.column].to_numpy(float) > 0.5
                rows.append({"background": entry.name, "arm": arm, "declared": entry.fraction,
                             "received": int(on.sum()), "n": len(group),
                             "share": float(on.mean()) if len(group) else np.nan})
        return pd.DataFrame(rows)

    def second_doses(self) -> pd.DataFrame:
        """Per arm with a second-dose rule: the rule, patients allocated to the arm, those who
        had a first dose (``treated``), those who got the second (``given``) and its share of
        the treated (empty when no arm has a rule)."""
        rows = []
        for arm in self.design.arms:
            if arm.second_dose is None or "second_dose" not in self.patients:
                continue
            group = self.patients[self.patients["arm"] == arm.name]
            treated = group["treatment_start_day"].notna() \
                & (group["treatment_start_day"] <= self.design.horizon_h / 24.0)
            given = int((group["second_dose"] > 0.5).sum())
            rows.append({"arm": arm.name, "rule": arm.second_dose.describe(), "n": len(group),
                         "treated": int(treated.sum()), "given": given,
                         "share": given / int(treated.sum()) if treated.any() else np.nan})
        return pd.DataFrame(rows)

    @cached_property
    def interactions(self) -> pd.DataFrame:
        """The study drug's effect with (``on``) and without (``off``) each background
        co-treatment, per treated arm, for the primary endpoint and mortality: risk ratio (or
        difference in mean organ-support-free days) in each level, and the interaction — the
        ratio of the two risk ratios (or the difference of the differences), on vs off, with its
        95 % CI and z-test p (:func:`il6sim.trial._stats.ratio_of_risk_ratios`)."""
        rows: list[dict] = []
        endpoints = [self.design.primary] if ENDPOINT_KINDS[self.design.primary] in (
            "binary", "days") else []
        if "mortality" in self.design.endpoints and self.design.primary != "mortality":
            endpoints.append("mortality")
        control = self.design.control
        for entry, arm, endpoint in itertools.product(self.background,
                                                      self.design.treated_arms, endpoints):
            data = self._population(endpoint)
            data = data[data["arm"].isin([arm, control])]
            on = data[entry.column].to_numpy(float) > 0.5
            found, cells = [], []
            for level, part in (("on", data[on]), ("off", data[~on])):
                t, c = part[part["arm"] == arm], part[part["arm"] == control]
                common = {"background": entry.name, "arm": arm, "control": control,
                          "endpoint": endpoint, "level": level, "n": len(part)}
                if endpoint not in BINARY:
                    values = (t[endpoint].to_numpy(float), c[endpoint].to_numpy(float))
                    cells.append(values)
                    found.append({**common, "treated": _mean(values[0]),
                                  "control_value": _mean(values[1]),
                                  "measure": "difference in mean days",
                                  **mann_whitney(*values)})
                    continue
                column = BINARY[endpoint][0]
                counts = (int((t[column] > 0.5).sum()), len(t), int((c[column] > 0.5).sum()),
                          len(c))
                cells.append(counts)
                found.append({**common, "treated": counts[0] / counts[1] if counts[1] else
                              np.nan, "control_value": counts[2] / counts[3] if counts[3]
                              else np.nan, "measure": "risk ratio", **risk_ratio(*counts)})
            if endpoint not in BINARY:
                test = difference_of_differences(*cells)
                measure = "difference of differences (on - off)"
            else:
                test = ratio_of_risk_ratios(*cells)
                measure = "ratio of risk ratios (on / off)"
            rows += [{**r, "interaction": test["estimate"], "interaction_low": test["ci_low"],
                      "interaction_high": test["ci_high"], "interaction_p": test["p_value"],
                      "interaction_measure": measure} for r in found]
        return pd.DataFrame(rows)

    def kaplan_meier(self, endpoint: str = "mortality") -> dict[str, pd.DataFrame]:
        """Kaplan–Meier curves of a time-to-event endpoint per arm (for improvement and
        recovery: the share not yet improved, deaths held at risk, i.e. one minus the
        cumulative incidence)."""
        column, time = {**BINARY, **TIME}[endpoint]
        data = self._population(endpoint)
        return {arm: kaplan_meier(group[time].to_numpy(float),
                                  group[column].to_numpy(float) > 0.5,
                                  self.endpoint_days(endpoint))
                for arm, group in data.groupby("arm", sort=False)}

    def primary(self) -> dict[str, float]:
        """The primary endpoint's result for the first treated arm (estimate, CI, p), on the
        measure of its published result (the risk ratio for a yes/no endpoint without one)."""
        rows = self.comparisons
        endpoint = self.design.primary
        measure = "risk ratio" if endpoint in BINARY else simulated_measure(
            endpoint, self.design.published_for(endpoint, self.design.treated_arms[0]))
        row = rows[(rows["endpoint"] == endpoint) & (rows["measure"] == measure)
                   & (rows["arm"] == self.design.treated_arms[0])]
        return row.iloc[0].to_dict()

    # ----------------------------------------------------------------- output
    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write ``patients.parquet``, ``arms.csv``, ``comparisons.csv``, ``subgroups.csv``,
        ``summary.json``, with a background section ``interactions.csv``, with an ordinal
        endpoint ``ordinal.csv`` and with hospital-acquired infections ``hospital_infection.csv``
        (:func:`il6sim.trial._hai.hai_summary`) to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"patients": folder / "patients.parquet", "arms": folder / "arms.csv",
                 "comparisons": folder / "comparisons.csv", "subgroups": folder / "subgroups.csv",
                 "summary": folder / "summary.json"}
        self.patients.to_parquet(paths["patients"], index=False)
        self.arms.to_csv(paths["arms"], index=False)
        self.comparisons.to_csv(paths["comparisons"], index=False)
        self.subgroups.to_csv(paths["subgroups"], index=False)
        if self.background:
            paths["interactions"] = folder / "interactions.csv"
            self.interactions.to_csv(paths["interactions"], index=False)
        if len(self.second_doses()):
            paths["second_doses"] = folder / "second_doses.csv"
            self.second_doses().to_csv(paths["second_doses"], index=False)
        if len(self.ordinal):
            paths["ordinal"] = folder / "ordinal.csv"
            self.ordinal.to_csv(paths["ordinal"], index=False)
        if self.design.hospital_infection is not None:
            from ._hai import hai_summary

            paths["hospital_infection"] = folder / "hospital_infection.csv"
            hai_summary(self).to_csv(paths["hospital_infection"], index=False)
        summary = {"trial": self.design.name, "counts": self.counts,
                   "design": self.design.model_dump(mode="json")}
        paths["summary"].write_text(json.dumps(summary, indent=2, default=str) + "\n")
        return paths

    def markdown(self) -> str:
        """The analysis as Markdown tables (see :func:`il6sim.trial._report.markdown`)."""
        from ._report import markdown

        return markdown(self)

    def __repr__(self) -> str:
        return (f"TrialResult({self.design.name!r}: {self.counts['randomised']} randomised of "
                f"{self.counts['screened']} screened)")


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else np.nan


def _published_level(subgroup, label: str) -> dict:
    """The trial's published result for one subgroup level (empty when it gives none)."""
    published = subgroup.published.get(label)
    if published is None:
        return {}
    return {"published": published.ratio, "published_control": published.control,
            "published_treated": published.treated,
            "published_ci": None if published.ci is None else list(published.ci)}


def _levels(values: np.ndarray, cuts, names: dict[float, str] | None = None,
            groups: dict[str, list[float]] | None = None) -> list[tuple[str, np.ndarray]]:
    """``(label, mask)`` per level: ranges between ``cuts``, named sets of values (``groups``),
    else each value (by its name in ``names`` when it has one, e.g. ``female``/``male`` for
    0/1)."""
    finite = np.isfinite(values)
    if groups:
        return [(label, finite & np.isin(values, members)) for label, members in groups.items()]
    if cuts:
        edges = [-np.inf, *sorted(cuts), np.inf]
        return [(level_label(low, high), finite & (values >= low) & (values < high))
                for low, high in itertools.pairwise(edges)]
    names = names or {}
    return [(names.get(float(level), f"{level:g}"), finite & (values == level))
            for level in np.unique(values[finite])]
