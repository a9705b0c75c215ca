"""Entry as trials define it: criteria, the entry event and its window, the baseline mix.

A trial's ``enrolment`` section (:class:`Enrolment`) says who is randomised and when::

    enrolment:
      after: organ_support     # the entry event the delay and window count from
      window: 24 h             # REMAP-CAP: within 24 h of starting organ support in ICU
      eligibility: [...]       # every criterion must hold
      exclusion: [...]         # any criterion holding excludes the patient
      baseline_mix:            # the published severity mix at randomisation
        signal: respiratory_support
        strata:
          - {name: no respiratory support, levels: [0], share: 0.239}
          - {name: oxygen only (incl. non-invasive), levels: [1, 2], share: 0.604}
          - {name: invasive ventilation, levels: [3], share: 0.157}

**Entry events** (:data:`ENTRY_EVENTS`): ``admission``, symptom ``onset``, or the first check at
or after admission at which a support signal of :mod:`._signals` holds: ``oxygen`` (oxygen
started), ``non_invasive`` (high-flow oxygen, CPAP or non-invasive ventilation started),
``imv`` (intubated) or ``organ_support`` (respiratory or cardiovascular organ support started,
the ICU entry of REMAP-CAP). A patient who never reaches the event is not eligible.

**Baseline mix** (:class:`BaselineMix`): each candidate gets a stratum drawn from the declared
shares with its own seeded uniform number (independent of its course and outcome) and is
randomised at the first eligible check at which the mix signal is in that stratum's levels;
randomisation then fills a quota per stratum (:func:`quotas`), so the randomised patients have
exactly the declared mix (:mod:`._run`). Within a stratum the patients are those of the
population who reach it, in candidate order: the mix changes when patients are randomised, not
who they are.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..scenario._schema import _fail, parse_quantity, parse_time

Number = float | int

#: Comparisons a criterion may use, and what each means.
COMPARATORS = {"below": "<", "at_most": "<=", "above": ">", "at_least": ">="}
#: Entry events: name → the yes/no signal of :mod:`._signals` whose first holding (at or after
#: admission) is the event; ``None``: a time of the population's course.
ENTRY_EVENTS: dict[str, str | None] = {"admission": None, "onset": None, "oxygen": "oxygen",
                                       "non_invasive": "non_invasive", "imv": "imv",
                                       "organ_support": "organ_support"}
#: Shares of a baseline mix must add up to 1 within this (published percentages are rounded).
SHARE_TOLERANCE = 0.01
#: Where a baseline mix sits in a trial file (named in its errors).
WHERE = "enrolment.baseline_mix"


def _fail_at(message: str, field: str) -> PydanticCustomError:
    """A one-line problem of a field deeper than the validator's own (``background[1].name``);
    :func:`il6sim.trial._load.describe_validation` names that field."""
    return PydanticCustomError("il6sim", message, {"field": field})


def _time(value: Any, what: str) -> Any:
    """``value`` if it is a time of 0 h or more (shared by the trial file's time fields)."""
    if parse_time(value, what=what) < 0:
        raise _fail(f"{what} {value!r} is negative; fix: give 0 h or more")
    return value


class Criterion(BaseModel):
    """One condition on a patient's state: ``signal`` compared with a threshold, or a yes/no
    signal that must be ``is: true`` (or ``false``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    signal: str = Field(description="a model read-out (il6, crp, pf_ratio, spo2, ...), a "
                        "covariate (age, male, comorbidity, weight) or a clinical signal (docs)")
    below: Number | str | None = None
    at_most: Number | str | None = None
    above: Number | str | None = None
    at_least: Number | str | None = None
    is_: bool | None = Field(None, alias="is")
    label: str | None = Field(None, description="how the protocol words it")

    @field_validator(*COMPARATORS)
    @classmethod
    def _finite(cls, value: Any, info) -> Any:
        if value is None:
            return value
        magnitude, _ = parse_quantity(value)  # refuses NaN and infinity
        if isinstance(value, int | float) and not math.isfinite(magnitude):
            raise _fail(f"{info.field_name} {value!r} is not finite; fix: give a number")
        return value

    @model_validator(mode="after")
    def _one_test(self) -> Criterion:
        given = [k for k in (*COMPARATORS, "is_") if getattr(self, k) is not None]
        if len(given) != 1:
            raise _fail(f"criterion on '{self.signal}' needs exactly one of below, at_most, "
                        "above, at_least or is; fix: e.g. {signal: crp, at_least: 75 mg/L}")
        return self

    @property
    def comparator(self) -> str:
        return next(k for k in (*COMPARATORS, "is_") if getattr(self, k) is not None)

    @property
    def threshold(self) -> Any:
        return getattr(self, self.comparator)

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.comparator == "is_":
            return f"{self.signal}" if self.is_ else f"not {self.signal}"
        return f"{self.signal} {COMPARATORS[self.comparator]} {self.threshold}"


class Stratum(BaseModel):
    """One level of a baseline mix: the values of the mix signal it covers and its share."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="how the paper names it (subgroup label)")
    levels: list[Number] = Field(description="values of the signal in this stratum, e.g. [1, 2]")
    share: Number = Field(description="share of randomised patients, 0 to 1")

    @field_validator("share", mode="before")
    @classmethod
    def _share(cls, value: Any) -> Any:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not 0 < value <= 1:
            raise _fail(f"share {value!r} is not a number above 0 and at most 1; fix: give the "
                        "published share, e.g. share: 0.157 (1007 of 6425)")
        return value

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list) -> list:
        if not value or not all(math.isfinite(v) for v in value):
            raise _fail(f"levels {value} must be a non-empty list of finite values; fix: e.g. "
                        "levels: [1, 2] (oxygen or non-invasive support)")
        return value


class BaselineMix(BaseModel):
    """The published mix of a category signal at randomisation (:mod:`._entry` docstring)."""

    model_config = ConfigDict(extra="forbid")

    signal: str = Field("respiratory_support", description="a category signal, e.g. "
                        "respiratory_support (0 none, 1 oxygen, 2 non-invasive, 3 invasive)")
    strata: list[Stratum] = Field(min_length=1)
    source: str = Field("", description="where the shares come from (paper, table)")

    @model_validator(mode="after")
    def _consistent(self) -> BaselineMix:
        seen: dict[float, int] = {}
        names: dict[str, int] = {}
        for k, stratum in enumerate(self.strata):
            if stratum.name in names:
                raise _fail_at(f"name '{stratum.name}' is already strata[{names[stratum.name]}]; "
                          "fix: give each stratum its own name", f"{WHERE}.strata[{k}].name")
            names[stratum.name] = k
            for level in stratum.levels:
                if float(level) in seen:
                    raise _fail_at(f"level {level:g} is already in strata[{seen[float(level)]}]; "
                              "fix: put each level in one stratum", f"{WHERE}.strata[{k}].levels")
                seen[float(level)] = k
        total = sum(stratum.share for stratum in self.strata)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise _fail_at(f"shares add up to {total:g}, not 1; fix: give the published shares "
                      "of every stratum (they may differ from 1 by rounding, at most "
                      f"{SHARE_TOLERANCE:g})", f"{WHERE}.strata")
        return self

    @property
    def shares(self) -> np.ndarray:
        """The declared shares, scaled to add up to exactly 1."""
        shares = np.array([stratum.share for stratum in self.strata], float)
        return shares / shares.sum()

    @property
    def names(self) -> dict[float, str]:
        """Stratum number → name (the levels of the ``stratum`` subgroup)."""
        return {float(k): stratum.name for k, stratum in enumerate(self.strata)}


class Enrolment(BaseModel):
    """Who is randomised and when: the first check (on the population's sampling grid) at or
    after the entry event ``after`` + ``delay`` and within ``window`` of it at which every
    eligibility criterion and no exclusion criterion holds (and, with a ``baseline_mix``, the
    mix signal is in the patient's drawn stratum)."""

    model_config = ConfigDict(extra="forbid")

    after: Literal["admission", "onset", "oxygen", "non_invasive", "imv", "organ_support"] = \
        Field("admission", description="entry event: admission, onset, or the start of oxygen, "
              "non-invasive support, invasive ventilation or organ support")
    delay: Number | str = "0 h"
    window: Number | str = "21 d"
    eligibility: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list,
                                       description="any of these holding excludes the patient")
    baseline_mix: BaselineMix | None = Field(None, description="the published mix of a "
                                             "category signal at randomisation")

    @field_validator("delay", "window")
    @classmethod
    def _times(cls, value: Any, info) -> Any:
        return _time(value, f"enrolment.{info.field_name}")

    @property
    def delay_h(self) -> float:
        return parse_time(self.delay, what="enrolment.delay")

    @property
    def window_h(self) -> float:
        return parse_time(self.window, what="enrolment.window")


def quotas(shares: np.ndarray, size: int) -> np.ndarray:
    """Patients per stratum for ``size`` randomised: the largest-remainder rounding of
    ``shares × size`` (Hamilton's method), so they add up to ``size``."""
    exact = np.asarray(shares, float) * size
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: size - counts.sum()]] += 1
    return counts
