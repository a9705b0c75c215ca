"""Scorecard rows of a trial: every published result its file declares, beside the simulated one.

A trial file (``il6sim/data/trials/*.yaml``, or a user's own) declares published results under
``published.<endpoint>`` (each treated arm's ratio or difference with its CI, or the two arms'
risks) and per subgroup level under ``subgroups[].published``. Each becomes one row: the
simulated effect of the allocated arms with its 95 % CI on the measure the trial analysis puts
beside the published one (:attr:`il6sim.trial.TrialResult.comparisons`; a risk ratio, Katz CI,
for a yes/no endpoint; :attr:`~il6sim.trial.TrialResult.subgroups` per level) beside the
published value and CI. Where the file gives only the two risks, the published ratio is their
quotient (no interval). A difference is judged against 0, a ratio against 1.

The role is ``fitted`` when the published entry says ``role: fitted`` or a model parameter names
it in ``calibrated_to`` as ``trial:<name>:<endpoint>``; otherwise the result was held out.
A trial file of one's own is scored the same way, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..trial._design import Published, TrialSpec
from ..trial._published import FINE_GRAY
from ..trial._report import ENDPOINT_TITLES
from ._rows import ScoreRow

__all__ = ["PublishedEntry", "published_entries", "trial_rows"]

#: Yes/no endpoints: their published risks give a ratio, and they have subgroup analyses.
BINARY_ENDPOINTS = ("mortality", "imv_or_death", "discharge", "secondary_infection")

TOLERANCE = "direction agrees and 95 % CIs overlap"


@dataclass(frozen=True)
class PublishedEntry:
    """One published result of a trial file, before it is simulated."""

    endpoint: str
    arm: str
    published: Published
    quantity: str
    role: str
    role_from: str
    subgroup: str | None = None
    level: str | None = None


def _title(endpoint: str, design: TrialSpec) -> str:
    days = design.followup_h / 24.0
    title = ENDPOINT_TITLES.get(endpoint, endpoint.replace("_", " "))
    return title.replace("28-day", f"{days:g}-day")


def _role(published: Published, key: str, calibrated: set[str]) -> tuple[str, str]:
    if published.role == "fitted":
        return "fitted", "trial file (role: fitted)"
    if key in calibrated:
        return "fitted", "parameter calibrated_to"
    return "checked", "trial file (no role: fitted)"


def published_entries(design: TrialSpec, calibrated: set[str] = frozenset()
                      ) -> Iterator[PublishedEntry]:
    """Every published result of ``design`` that can be scored, in file order: the endpoints,
    then the subgroup levels of a yes/no or time-to-event primary endpoint. ``calibrated``
    holds every ``calibrated_to`` name of the model's parameters."""
    for endpoint, arm, published in design.published_entries():
        if endpoint not in design.endpoints:
            continue
        key = f"trial:{design.name}:{endpoint}" + (
            "" if arm == design.treated_arms[0] else f":{arm}")
        role, role_from = _role(published, key, calibrated)
        yield PublishedEntry(endpoint, arm, published,
                             f"{_title(endpoint, design)}, {arm} vs {design.control}",
                             role, role_from)
    if design.primary not in (*BINARY_ENDPOINTS, *FINE_GRAY) or not design.treated_arms:
        return
    arm = design.treated_arms[0]
    for subgroup in design.subgroups:
        for level, published in subgroup.published.items():
            key = f"trial:{design.name}:{design.primary}:{subgroup.name}={level}"
            role, role_from = _role(published, key, calibrated)
            yield PublishedEntry(design.primary, arm, published,
                                 f"{_title(design.primary, design)}, {subgroup.name}: {level}",
                                 role, role_from, subgroup.name, level)


def _published_value(published: Published) -> tuple[float, float, float, str, str]:
    """(value, low, high, interval name, note) of a published entry: its ratio or difference,
    or the ratio of its two risks."""
    value = published.ratio if published.ratio is not None else \
        getattr(published, "difference", None)
    if value is not None:
        low, high = published.ci if published.ci is not None else (np.nan, np.nan)
        return (value, low, high, "95 % CI" if published.ci else "",
                f"published {published.measure}")
    if published.control and published.treated is not None:
        return (published.treated / published.control, np.nan, np.nan, "",
                f"published ratio = treated/control risk ({published.measure}; no CI in the "
                "file)")
    return (np.nan, np.nan, np.nan, "", "the file gives no ratio")


def trial_rows(result, calibrated: set[str] = frozenset()) -> list[ScoreRow]:
    """The scorecard rows of a finished trial (:class:`il6sim.trial.TrialResult`)."""
    design = result.design
    comparisons, subgroups = result.comparisons, result.subgroups
    rows = []
    for entry in published_entries(design, calibrated):
        measure = "risk ratio"
        if entry.subgroup is None:
            found = _comparison(comparisons, entry.endpoint, entry.arm)
            if len(found):
                measure = str(found["measure"].iloc[0])
            arms = result.arms
            n = int(arms[(arms.endpoint == entry.endpoint)
                         & arms.arm.isin([entry.arm, design.control])]["n"].sum())
        else:  # the subgroup analysis: the primary's risk ratio or Fine-Gray rate ratio
            measure = FINE_GRAY.get(entry.endpoint, measure)
            found = subgroups[(subgroups.subgroup == entry.subgroup)
                              & (subgroups.level == entry.level)]
            n = int(found["n"].iloc[0]) if len(found) else 0
        simulated = found.iloc[0] if len(found) else None
        value, low, high, interval, note = _published_value(entry.published)
        if simulated is None or not np.isfinite(simulated["estimate"]):
            note += "; no simulated value (too few patients or events at this size)"
        difference = "difference" in measure
        rows.append(ScoreRow(
            source=f"trial {design.name}", quantity=entry.quantity, role=entry.role,
            role_from=entry.role_from, tolerance=TOLERANCE,
            unit="days" if difference and "days" in measure else "difference" if difference
            else "ratio", null=0.0 if difference else 1.0,
            predicted=np.nan if simulated is None else float(simulated["estimate"]),
            predicted_low=np.nan if simulated is None else float(simulated["ci_low"]),
            predicted_high=np.nan if simulated is None else float(simulated["ci_high"]),
            predicted_interval="95 % CI",
            published=value, published_low=low, published_high=high,
            published_interval=interval, ratio=True, n=n,
            reference=entry.published.source or design.reference,
            note=f"simulated {measure}, {note}"))
    return rows


def _comparison(comparisons, endpoint: str, arm: str):
    """The comparison the trial analysis puts beside the published result (the row that
    carries it), else the risk ratio."""
    mine = comparisons[(comparisons.endpoint == endpoint) & (comparisons.arm == arm)]
    if "published" in mine:
        beside = mine[mine["published"].notna()]
        if len(beside):
            return beside.iloc[:1]
    return mine[mine.measure == "risk ratio"].iloc[:1]
