"""Published results in a trial file, and the measures each endpoint can be compared on.

Every endpoint has a *kind* (yes/no within follow-up, an ordinal scale on a day, a time to an
event, or a count of days) and each kind its measures. A published result names its
``measure``; ratios (risk, odds, hazard, proportional-odds, recovery rate) go in ``ratio`` and
differences (risk difference, difference in mean or median days) in ``difference``. A measure
that is not one of its endpoint's, or a difference given as a ratio (and the reverse), is
refused with one line naming the field (:func:`check_published`). The analysis then prints the
simulated result on the published one's measure (:func:`simulated_measure`), so the report
compares like with like.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..scenario._schema import _fail

#: The kind of each endpoint (:data:`il6sim.trial.ENDPOINTS`).
ENDPOINT_KINDS = {
    "mortality": "binary", "imv_or_death": "binary", "discharge": "binary",
    "secondary_infection": "binary", "organ_support_free_days": "days",
    "days_alive_free_of_ventilation": "days", "ordinal_day14": "ordinal",
    "ordinal_day28": "ordinal", "time_to_improvement": "time", "time_to_recovery": "time",
}
#: Binary endpoints with a time of the event (a hazard ratio can be estimated).
TIMED = ("mortality", "discharge")

# ---- the measures the analysis produces (the ``measure`` column of comparisons) ----
RISK_RATIO = "risk ratio"
ODDS_RATIO = "odds ratio"
RISK_DIFFERENCE = "risk difference"
COX = "hazard ratio (Cox; log-rank p)"
PROPORTIONAL_ODDS = "proportional odds ratio"
MEAN_DAYS = "difference in mean days (Mann-Whitney p)"
MEDIAN_DAYS = "difference in median days (Mann-Whitney p)"
#: The competing-risk hazard ratio of each time-to-event endpoint.
FINE_GRAY = {"time_to_improvement": "improvement rate ratio (Fine-Gray; log-rank p)",
             "time_to_recovery": "recovery rate ratio (Fine-Gray; log-rank p)"}

#: Published measures: name → ``ratio`` or ``difference``.
MEASURES = {
    "risk ratio": "ratio", "rate ratio": "ratio", "odds ratio": "ratio",
    "hazard ratio": "ratio", "subdistribution hazard ratio": "ratio",
    "proportional odds ratio": "ratio", "recovery rate ratio": "ratio",
    "improvement rate ratio": "ratio", "risk difference": "difference",
    "difference in mean days": "difference", "difference in median days": "difference",
}
_TIME_RATIOS = ("hazard ratio", "subdistribution hazard ratio", "rate ratio")
#: Published measures each endpoint accepts, and the simulated measure each is printed beside.
ACCEPTED: dict[str, dict[str, str]] = {
    **{name: {"risk ratio": RISK_RATIO, "rate ratio": RISK_RATIO, "odds ratio": ODDS_RATIO,
              "risk difference": RISK_DIFFERENCE, **({"hazard ratio": COX} if name in TIMED
                                                     else {})}
       for name, kind in ENDPOINT_KINDS.items() if kind == "binary"},
    **{name: {"proportional odds ratio": PROPORTIONAL_ODDS}
       for name, kind in ENDPOINT_KINDS.items() if kind == "ordinal"},
    **{name: {"difference in mean days": MEAN_DAYS, "difference in median days": MEDIAN_DAYS,
              "proportional odds ratio": PROPORTIONAL_ODDS}
       for name, kind in ENDPOINT_KINDS.items() if kind == "days"},
    "time_to_improvement": {m: FINE_GRAY["time_to_improvement"]
                            for m in (*_TIME_RATIOS, "improvement rate ratio")},
    "time_to_recovery": {m: FINE_GRAY["time_to_recovery"]
                         for m in (*_TIME_RATIOS, "recovery rate ratio")},
}


def headline_measure(endpoint: str) -> str:
    """The simulated measure reported for ``endpoint`` when nothing published asks for
    another."""
    kind = ENDPOINT_KINDS[endpoint]
    return {"binary": RISK_RATIO, "ordinal": PROPORTIONAL_ODDS, "days": MEAN_DAYS,
            "time": FINE_GRAY.get(endpoint, "")}[kind]


def simulated_measure(endpoint: str, published: Published | None) -> str:
    """The simulated measure to print beside ``published`` (the headline one without it)."""
    if published is None:
        return headline_measure(endpoint)
    return ACCEPTED[endpoint].get(published.measure, headline_measure(endpoint))


class Published(BaseModel):
    """A published result to print beside the simulated one: a ``ratio`` or a ``difference``
    (as its ``measure`` is), its 95 % ``ci``, and optionally each arm's risk (``control``,
    ``treated``) or days (``control_days``, ``treated_days``: median time to the event, or
    mean or median days as the measure says)."""

    model_config = ConfigDict(extra="forbid")

    control: float | None = Field(None, ge=0, le=1, description="risk in the control arm")
    treated: float | None = Field(None, ge=0, le=1, description="risk in the treated arm")
    control_days: float | None = Field(None, ge=0, description="days in the control arm")
    treated_days: float | None = Field(None, ge=0, description="days in the treated arm")
    ratio: float | None = Field(None, description="a ratio measure's value (> 0)")
    difference: float | None = Field(None, description="a difference measure's value")
    ci: tuple[float, float] | None = None
    measure: str = "risk ratio"
    arm: str | None = Field(None, description="the treated arm it describes (default: the "
                            "first treated arm)")
    role: Literal["fitted", "checked"] = Field(
        "checked", description="'fitted' if a model parameter was calibrated to this result "
        "(it then names it in calibrated_to), else 'checked' (held out)")
    source: str = ""

    @field_validator("ratio")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise _fail(f"ratio {value!r} is not a positive number (a ratio is > 0; a "
                        "difference goes in 'difference'); fix: give the ratio, e.g. 0.85")
        return value

    @field_validator("measure", mode="before")
    @classmethod
    def _measure(cls, value: Any) -> Any:
        text = " ".join(str(value).lower().split()) if isinstance(value, str) else value
        if text not in MEASURES:
            raise _fail(f"unknown measure {value!r}; fix: use one of {', '.join(MEASURES)}")
        return text

    @property
    def value(self) -> float | None:
        """The published estimate: the ratio or the difference."""
        return self.ratio if MEASURES[self.measure] == "ratio" else self.difference


#: How far (a factor) a published risk, odds or hazard ratio may lie from the one its two arm
#: risks give before it is refused as a mistyped value (adjusted estimates differ from crude
#: ones, by far less than this in the shipped trials).
RATIO_FACTOR = 2.0
#: How far (risk points) a published risk difference may lie from treated − control.
DIFFERENCE_SLACK = 0.1


def _against_arms(published: Published, measure: str) -> tuple[str, str] | None:
    """A ratio or risk difference that its own arm risks contradict (a risk difference typed
    as a ratio, a sign turned round), as ``(field, problem)``."""
    control, treated = published.control, published.treated
    if control is None or treated is None or not 0 < control < 1 or not 0 < treated < 1:
        return None
    if measure == "risk difference" and published.difference is not None:
        crude = treated - control
        if abs(published.difference - crude) > DIFFERENCE_SLACK:
            return ("difference", f"difference {published.difference:g} is far from treated − "
                    f"control = {crude:+.3f}; fix: give the risk difference as treated minus "
                    "control (negative when the treated arm does better)")
        return None
    if published.ratio is None or measure not in ("risk ratio", "rate ratio", "odds ratio",
                                                  "hazard ratio"):
        return None
    crude = (treated / (1 - treated)) / (control / (1 - control)) if measure == "odds ratio" \
        else treated / control
    if not crude / RATIO_FACTOR <= published.ratio <= crude * RATIO_FACTOR:
        return ("ratio", f"{measure} {published.ratio:g} is far from the {crude:.2f} its arms "
                f"give ({treated:g} / {control:g}); fix: if {published.ratio:g} is a "
                "difference write measure: risk difference and difference: "
                f"{treated - control:+.3f}, else check the ratio and the arm risks")
    return None


def check_published(published: Published, endpoint: str) -> tuple[str, str] | None:
    """``(field, problem)`` when ``published`` does not fit ``endpoint``, else None. ``field``
    is relative to the entry (``measure``, ``ratio`` or ``difference``)."""
    accepted = ACCEPTED.get(endpoint, {})
    measure = published.measure
    if measure not in accepted:
        return ("measure", f"'{measure}' is not a measure of {endpoint}; fix: use one of "
                f"{', '.join(accepted)}")
    kind = MEASURES[measure]
    if kind == "difference" and published.ratio is not None:
        shown = f"{published.ratio:g}"
        return ("ratio", f"a {measure} is a difference, not a ratio; fix: write "
                f"difference: {shown} (or name the ratio measure it is)")
    if kind == "ratio" and published.difference is not None:
        return ("difference", f"a {measure} is a ratio, not a difference; fix: write "
                f"ratio: {published.difference:g} (or name the difference measure it is)")
    problem = _against_arms(published, measure)
    if problem is not None:
        return problem
    if published.ci is not None:
        low, high = published.ci
        if not low <= high:
            return ("ci", f"ci {list(published.ci)} is not [low, high]; fix: give the lower "
                    "bound first")
        if kind == "ratio" and low <= 0:
            return ("ci", f"ci {list(published.ci)} of a {measure} must be above 0; fix: give "
                    "the ratio's interval (a difference's goes with difference:)")
    return None
