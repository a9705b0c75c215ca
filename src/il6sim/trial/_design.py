"""The trial file: arms, eligibility, enrolment, when treatment starts, endpoints, subgroups.

A trial is declared in YAML (shipped ones live in ``il6sim/data/trials``)::

    name: recovery-tocilizumab
    population: covid19-hospitalised      # a population declaration (il6sim population list)
    size: 4116                             # patients randomised
    seed: 2021
    enrolment:
      window: 21 d                         # eligible at any time within 21 d of admission
      eligibility:
        - {signal: pf_ratio, below: 300, label: "hypoxia: SpO2 < 92 % on air"}
        - {signal: crp, at_least: 75 mg/L}
      exclusion:
        - {signal: imv, is: true, label: "ventilated at entry"}
    arms:
      - {name: usual care, ratio: 1}
      - {name: tocilizumab, ratio: 1, treatment: {regimen: tocilizumab-covid-8mgkg}}
    control: usual care
    followup: 28 d

Validation has two passes, like scenarios: :class:`TrialSpec` checks the shape (known keys
only, times with units, ratios of 1 or more; the enrolment section and its baseline mix live in
:mod:`._entry`) and :class:`il6sim.trial.TrialTask` checks what only the model and the drug
files know (signals, units, regimens). Both end in one line naming the field and the fix.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from ..limits import MAX_DOSE_EVENTS, MAX_TRIAL_PATIENTS
from ..scenario._schema import (
    TreatmentSpec,
    _data_name,
    _fail,
    parse_quantity,
    parse_time,
)
from ._entry import Criterion, Enrolment, _fail_at, _time
from ._published import ENDPOINT_KINDS, Published, check_published

Number = float | int

#: Endpoints every trial can report (see :mod:`il6sim.trial._endpoints`).
ENDPOINTS = ("mortality", "imv_or_death", "discharge", "organ_support_free_days",
             "secondary_infection", "ordinal_day14", "ordinal_day28", "time_to_improvement",
             "time_to_recovery", "days_alive_free_of_ventilation")
#: Endpoints of a trial file that lists none.
DEFAULT_ENDPOINTS = ENDPOINTS[:5]
#: Endpoints read on a fixed day after randomisation (no follow-up of their own).
FIXED_DAY = {"ordinal_day14": 14.0, "ordinal_day28": 28.0}

#: Largest randomisation weight of an arm (relative to the others).
MAX_RATIO = 1000


class StartRule(BaseModel):
    """When an arm's treatment starts, relative to randomisation (time 0 of follow-up).

    - ``at: randomisation`` (the default);
    - ``day_since_onset: N``: on day N after symptom onset, or at randomisation if later;
    - ``when: [criteria]``: the first time after randomisation that every criterion holds on
      the untreated course, within ``within`` (never: the patient is not treated).

    ``delay`` is added in every case (drug preparation, time to infusion).
    """

    model_config = ConfigDict(extra="forbid")

    at: Literal["randomisation"] | None = None
    day_since_onset: Number | None = Field(None, ge=0)
    when: list[Criterion] | None = None
    within: Number | str = "28 d"
    delay: Number | str = "0 h"

    @field_validator("within", "delay")
    @classmethod
    def _times(cls, value: Any, info) -> Any:
        return _time(value, f"start.{info.field_name}")

    @model_validator(mode="after")
    def _one_rule(self) -> StartRule:
        given = [k for k in ("at", "day_since_onset", "when") if getattr(self, k) is not None]
        if len(given) > 1:
            raise _fail("a start rule takes one of at, day_since_onset or when; fix: keep one")
        return self

    @property
    def delay_h(self) -> float:
        return parse_time(self.delay, what="start.delay")

    @property
    def within_h(self) -> float:
        return parse_time(self.within, what="start.within")


class BackgroundStart(StartRule):
    """When a background co-treatment starts. As an arm's :class:`StartRule`, except that it may
    start before randomisation:

    - ``at: randomisation`` (the default) or ``at: admission``;
    - ``day_since_onset: N``: on day N after onset, not before ``after``;
    - ``when: [criteria]``: the first time from ``after`` that every criterion holds on the
      screening course (without the study drug), within ``within`` of ``after``.

    ``after`` (``randomisation``, the default, or ``admission``) is where ``day_since_onset`` and
    ``when`` start counting; ``delay`` is added in every case.
    """

    at: Literal["randomisation", "admission"] | None = None
    after: Literal["randomisation", "admission"] = "randomisation"

    @model_validator(mode="after")
    def _after_with_rule(self) -> BackgroundStart:
        if self.at == "randomisation" and self.after == "admission":
            raise _fail("'at: randomisation' and 'after: admission' disagree ('after' goes with "
                        "day_since_onset or when); fix: e.g. {at: admission} or "
                        "{when: [...], after: admission}")
        return self

    @property
    def anchor(self) -> str:
        """``randomisation`` or ``admission``: the earliest the co-treatment can start."""
        return self.at or self.after


class SecondDose(BaseModel):
    """A further dose of the arm's drug, given only when a condition holds on the patient's own
    course in this arm: at the first check (the population's sampling grid) within ``window``
    after the first dose at which the patient is alive and every criterion of ``when`` holds
    on the course simulated with the first dose; never if none does. The dose is the
    regimen's (weight-based and capped as it is) unless ``amount`` says otherwise.

    COVACTA, EMPACTA and REMAP-CAP allowed one more tocilizumab infusion 8 to 24 h after the
    first if the patient had worsened or not improved (Rosas IO 2021 N Engl J Med 384:1503;
    Salama C 2021 N Engl J Med 384:20; REMAP-CAP Investigators 2021 N Engl J Med 384:1491)::

        second_dose:
          window: [8 h, 24 h]
          when: [{signal: who_improvement, at_most: -1, label: "worsened"}]

    The first check at which ``when`` holds is taken, so a condition that holds at the start
    of the window is met there: ``{signal: who_improvement, below: 1}`` ("not improved") holds
    8 h after the dose for almost every patient, as the WHO scale moves in whole categories of
    support (COVACTA: 94 % given it, against about a quarter published; see its trial file).
    """

    model_config = ConfigDict(extra="forbid")

    window: tuple[Number | str, Number | str] = Field(
        ("8 h", "24 h"), description="earliest and latest time after the first dose")
    when: list[Criterion] = Field(min_length=1, description="every one must hold (a signal "
                                  "on the arm's course, e.g. who_improvement, oxygen)")
    amount: str | None = Field(None, description="the dose (default: the regimen's)")
    label: str = Field("", description="how the protocol words it")

    @field_validator("window")
    @classmethod
    def _window(cls, value: tuple) -> tuple:
        low, high = (parse_time(v, what="second_dose.window") for v in value)
        if low < 0 or high < low:
            raise _fail(f"window {list(value)} is not [earliest, latest] from 0 h; fix: e.g. "
                        "window: [8 h, 24 h]")
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str | None) -> str | None:
        if value is not None:
            magnitude, _ = parse_quantity(value)
            if magnitude < 0:
                raise _fail(f"amount {value!r} is negative; fix: e.g. amount: 8 mg/kg")
        return value

    @property
    def window_h(self) -> tuple[float, float]:
        low, high = self.window
        return (parse_time(low, what="second_dose.window"),
                parse_time(high, what="second_dose.window"))

    def describe(self) -> str:
        low, high = self.window_h
        return self.label or (f"second dose {low:g}–{high:g} h after the first if "
                              + " and ".join(c.describe() for c in self.when))


#: What a background name may look like: it becomes the per-patient column ``on_<name>``.
BACKGROUND_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Background(BaseModel):
    """A standard-of-care co-treatment given in every arm (control included) to a ``fraction``
    of patients, drawn per patient with the trial's seed and independently of the arm, so arms
    are balanced in expectation. Recorded per patient as ``on_<name>`` (1: received within
    follow-up) and ``<name>_start_day`` (days from randomisation; negative: before it), and
    usable as a subgroup signal ``on_<name>``. The study drug's effect with and without it is
    reported with an interaction test (:attr:`il6sim.trial.TrialResult.interactions`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="short name, e.g. corticosteroids (column on_<name>)")
    treatment: TreatmentSpec = Field(description="a label regimen or custom schedule, as arms")
    fraction: Number = Field(description="share of patients who receive it, 0 to 1")
    start: BackgroundStart = Field(default_factory=BackgroundStart)
    source: str = Field("", description="where the fraction and regimen come from")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not BACKGROUND_NAME.fullmatch(value):
            raise _fail(f"name {value!r} is not a short lower-case identifier (it becomes the "
                        "column on_<name>); fix: use letters, digits and _, e.g. corticosteroids")
        return value

    @field_validator("fraction", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> Any:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not 0 <= value <= 1:
            raise _fail(f"fraction {value!r} is not a number from 0 to 1; fix: give the share "
                        "of patients who receive it, e.g. fraction: 0.82")
        return value

    @property
    def column(self) -> str:
        """The per-patient column: 1 if the patient receives it, else 0."""
        return f"on_{self.name}"


class Arm(BaseModel):
    """One arm: a name, its share of the randomisation, its treatment (none: usual care) and
    when the treatment starts. ``treatment.start`` is a further delay after the start rule."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    ratio: Number = Field(1, description="randomisation weight, e.g. 2 for 2:1 or 1.5 for "
                          "3:2 (any positive number; :func:`il6sim.trial.allocation_block`)")
    treatment: TreatmentSpec | None = None
    start: StartRule = Field(default_factory=StartRule)
    second_dose: SecondDose | None = Field(None, description="a further dose in a window after "
                                           "the first, given when its condition holds")
    published: dict[str, Published] = Field(
        default_factory=dict, description="this arm's published results against the control, "
        "by endpoint (a multi-arm trial: one block per treated arm)")
    description: str = ""

    @field_validator("ratio", mode="before")
    @classmethod
    def _ratio(cls, value: Any) -> Any:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0 or value > MAX_RATIO:
            raise _fail(f"ratio {value!r} is not a positive number up to {MAX_RATIO}; fix: "
                        "give the arm's randomisation weight, e.g. 1, 2 or 1.5")
        return value

    @model_validator(mode="after")
    def _second_dose_needs_treatment(self) -> Arm:
        if self.second_dose is not None and self.treatment is None:
            raise _fail_at("a second dose needs a treatment; fix: add one (e.g. treatment: "
                           "{regimen: tocilizumab-covid-8mgkg}) or remove second_dose",
                           "second_dose")
        return self


class Antibiotic(BaseModel):
    """Antibiotic given to co-infected patients (usual care for a bacterial infection)."""

    model_config = ConfigDict(extra="forbid")

    amount: Number | str = "2000 mg"
    start: Number | str = "24 h"
    interval: Number | str = "24 h"
    doses: int = Field(7, ge=1, le=MAX_DOSE_EVENTS)

    @field_validator("start", "interval")
    @classmethod
    def _times(cls, value: Any, info) -> Any:
        return _time(value, f"coinfection.antibiotic.{info.field_name}")


class Coinfection(BaseModel):
    """A bacterial co-infection acquired around randomisation by a fraction of patients (drawn
    per patient, the same in every arm): ``amount`` of the pathogen's ``agent`` at ``at`` after
    randomisation, with the pathogen profile's parameters (``il6sim/data/pathogens``)."""

    model_config = ConfigDict(extra="forbid")

    pathogen: str = "streptococcus-pneumoniae"
    fraction: float = Field(ge=0, le=1)
    agent: str = "bacteria"
    route: str = "inoculation"
    amount: Number | str = "1e5 CFU"
    at: Number | str = "0 h"
    antibiotic: Antibiotic | None = Field(default_factory=Antibiotic)

    @field_validator("at")
    @classmethod
    def _at(cls, value: Any) -> Any:
        return _time(value, "coinfection.at")

    @field_validator("pathogen")
    @classmethod
    def _pathogen(cls, value: str) -> str:
        return _data_name(value, "pathogen")

    @property
    def at_h(self) -> float:
        return parse_time(self.at, what="coinfection.at")


class HospitalAntibiotic(Antibiotic):
    """Usual-care antibiotic for a hospital-acquired infection: ``doses`` of ``amount`` every
    ``interval`` from ``start`` after its onset (a 7-day course: Kalil AC 2016 Clin Infect Dis
    63:e61, the IDSA/ATS guideline for hospital-acquired and ventilator-associated pneumonia).
    The first active dose 18 h after the diagnosis: 12.5 h in 69 % and 28.6 h in the 31 % whose
    appropriate treatment was delayed, among 107 ventilator-associated pneumonias (Iregui M 2002
    Chest 122:262)."""

    start: Number | str = "18 h"

    @field_validator("start", "interval")
    @classmethod
    def _times(cls, value: Any, info) -> Any:
        return _time(value, f"hospital_infection.antibiotic.{info.field_name}")


class HospitalInfection(BaseModel):
    """Hospital-acquired bacterial infections drawn from each arm's own course
    (:mod:`il6sim.trial._hai`): at the onset the patient receives ``amount`` of the pathogen's
    bacteria at a pneumonia site, with the pathogen profile's parameters
    (``il6sim/data/pathogens``), then the usual-care antibiotic. Gram-negative bacilli cause
    most of these infections in COVID-19 (84 % of ventilator-associated pneumonias, OutcomeRea,
    Ann Intensive Care 2023 13:109; Pseudomonas aeruginosa and Escherichia coli in Garcia-Vidal
    C 2021 Clin Microbiol Infect 27:83), hence E. coli by default. The onset is the diagnosis,
    so the inoculum is a diagnosed pneumonia's load: 1e9 CFU puts 1e6 CFU/mL at the site, the
    quantitative endotracheal-aspirate threshold for ventilator-associated pneumonia (1e5–1e6
    CFU/mL; Kalil AC 2016 Clin Infect Dis 63:e61); a smaller one (1e7 CFU) is cleared by the
    activated macrophages and neutrophils of a COVID-19 lung within hours."""

    model_config = ConfigDict(extra="forbid")

    pathogen: str = "escherichia-coli"
    amount: Number | str = "1e9 CFU"
    antibiotic: HospitalAntibiotic | None = Field(default_factory=HospitalAntibiotic)

    @field_validator("pathogen")
    @classmethod
    def _pathogen(cls, value: str) -> str:
        return _data_name(value, "pathogen")


class ControlRisk(BaseModel):
    """``anchor_control_risk``: force the untreated risk of death of the randomised patients to
    a published control arm. Eligible patients are accepted with a probability that depends on
    whether they die without treatment (:mod:`il6sim.trial._run`) — a selection on the
    simulated outcome, so the control risk becomes an input, not a prediction, and the report
    says so. Without it (the default, and every shipped trial) the control risk follows from
    the eligibility, the case mix, the calibrated population and the model."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Literal["mortality"] = "mortality"
    risk: float = Field(gt=0, lt=1, description="the control arm's published risk")
    source: str = ""


class Subgroup(BaseModel):
    """Patients split by a baseline value: ``cuts`` for a number (``age`` with ``[70]`` gives
    < 70 and ≥ 70), ``groups`` to name sets of category values (RECOVERY's "oxygen only"
    includes non-invasive support: ``{oxygen only: [1, 2]}``), none for a yes/no or category
    signal. ``published`` gives the trial's result per level, keyed by the level's label."""

    model_config = ConfigDict(extra="forbid")

    name: str
    signal: str
    cuts: list[Number] | None = None
    groups: dict[str, list[Number]] | None = None
    published: dict[str, Published] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _levels_and_published(self) -> Subgroup:
        if self.cuts is not None and self.groups is not None:
            raise _fail("a subgroup takes cuts or groups, not both; fix: keep one")
        if self.groups is not None and not self.groups:
            raise _fail("groups is empty; fix: e.g. groups: {oxygen only: [1, 2]}")
        labels = self.level_labels()
        if labels is not None:
            unknown = sorted(set(self.published) - set(labels))
            if unknown:
                raise _fail(f"published levels {unknown} are not levels of this subgroup; "
                            f"fix: use {', '.join(labels)}")
        return self

    def level_labels(self) -> list[str] | None:
        """The labels of the levels when they follow from the file (cuts or groups)."""
        if self.groups is not None:
            return list(self.groups)
        if self.cuts is not None:
            edges = [-math.inf, *self.cuts, math.inf]
            return [level_label(low, high) for low, high in itertools.pairwise(edges)]
        return None

    @field_validator("cuts")
    @classmethod
    def _cuts(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return value
        if not value or not all(math.isfinite(v) for v in value):
            raise _fail(f"cuts {value} must be finite numbers; fix: e.g. cuts: [70, 80]")
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise _fail(f"cuts {value} are not increasing; fix: list them from low to high, "
                        "e.g. [70, 80]")
        return value


def level_label(low: float, high: float) -> str:
    """The label of the subgroup level ``low <= value < high`` (``< 70``, ``70 to < 80``)."""
    if low == -math.inf:
        return f"< {high:g}"
    if high == math.inf:
        return f"≥ {low:g}"
    return f"{low:g} to < {high:g}"


#: Relative error allowed when whole-number weights stand for non-integer ratios.
RATIO_TOLERANCE = 0.01
#: Largest multiplier tried to turn ratios into whole numbers.
MAX_RATIO_SCALE = 1000


def allocation_weights(ratios: list[float]) -> list[int]:
    """Whole-number allocation weights in the proportions of ``ratios``: the ratios if they are
    whole numbers, else the smallest multiple ``m × ratios / min(ratios)`` (``m`` = 1, 2, ...)
    whose every entry is within :data:`RATIO_TOLERANCE` of a whole number, rounded and divided
    by their greatest common divisor (1.5:1 → 3:2; 1:√2 → 12:17)."""
    if all(float(r).is_integer() for r in ratios):
        return [int(r) for r in ratios]
    base = [r / min(ratios) for r in ratios]
    for m in range(1, MAX_RATIO_SCALE + 1):
        scaled = [m * b for b in base]
        if all(abs(x - round(x)) <= RATIO_TOLERANCE * x for x in scaled):
            whole = [round(x) for x in scaled]
            return [w // math.gcd(*whole) for w in whole]
    raise _fail(f"ratios {ratios} have no whole-number proportions with weights up to "
                f"{MAX_RATIO_SCALE}; fix: round them, e.g. to one decimal")


Subgroup.model_rebuild()


class TrialSpec(BaseModel):
    """The contents of a trial YAML file (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    title: str = ""
    reference: str = ""
    population: str = Field("covid19-hospitalised", description="population declaration")
    calibrated: bool = Field(True, description="draw patients around the population calibrated "
                             "to the shipped cohort (false: from the declared prior)")
    size: int = Field(ge=2, le=MAX_TRIAL_PATIENTS, description="patients randomised")
    seed: int = Field(0, ge=0)
    enrolment: Enrolment = Field(default_factory=Enrolment)
    arms: list[Arm] = Field(min_length=2)
    control: str = Field(description="name of the control arm")
    anchor_control_risk: ControlRisk | None = Field(
        None, description="force the untreated risk to a published one by accepting patients "
        "on their untreated outcome (the report says so); default: predicted")
    followup: Number | str = "28 d"
    endpoint_followup: dict[str, Number | str] = Field(
        default_factory=dict, description="follow-up of single endpoints, e.g. {mortality: "
        "90 d}; the others use followup")
    coinfection: Coinfection | None = Field(None, description="bacterial co-infection in a "
                                            "fraction of patients")
    hospital_infection: HospitalInfection | None = Field(
        None, description="hospital-acquired bacterial infections drawn from each arm's course")
    background: list[Background] = Field(default_factory=list, description="standard-of-"
                                         "care co-treatments given in every arm")
    endpoints: list[str] = Field(default_factory=lambda: list(DEFAULT_ENDPOINTS))
    primary: str = "mortality"
    subgroups: list[Subgroup] = Field(default_factory=list)
    published: dict[str, Published] = Field(default_factory=dict)
    _source: str | None = PrivateAttr(None)

    @property
    def source(self) -> str:
        """The file (or shipped name) the design was read from; its name when built in code."""
        return self._source or self.name

    def __eq__(self, other: object) -> bool:
        """The same design, wherever it was read from."""
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, as every pydantic model

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "control_risk" in data:
            raise _fail_at("control_risk is now anchor_control_risk: it selects patients by "
                           "whether they die untreated, so the control risk is no longer "
                           "predicted; fix: remove it to predict the control risk from the "
                           "design, or rename it anchor_control_risk", "control_risk")
        return data

    @field_validator("population")
    @classmethod
    def _population(cls, value: str) -> str:
        return _data_name(value, "population")

    @field_validator("followup")
    @classmethod
    def _followup(cls, value: Any) -> Any:
        if parse_time(value, what="followup") <= 0:
            raise _fail(f"followup {value!r}; fix: give a positive time, e.g. '28 d'")
        return value

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in ENDPOINTS:
                raise _fail(f"unknown endpoint '{name}'; fix: use any of {', '.join(ENDPOINTS)}")
        return value

    @field_validator("background")
    @classmethod
    def _background(cls, value: list[Background]) -> list[Background]:
        seen: dict[str, int] = {}
        for k, entry in enumerate(value):
            if entry.name in seen:
                raise _fail_at(f"name '{entry.name}' is already background[{seen[entry.name]}]; "
                            "fix: give each co-treatment its own name", f"background[{k}].name")
            seen[entry.name] = k
        return value

    @model_validator(mode="after")
    def _arms(self) -> TrialSpec:
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise _fail_at(f"two arms have the same name '{twice}'; fix: give each arm its own "
                           "name",
                           f"arms[{len(names) - 1 - names[::-1].index(twice)}].name")
        allocation_weights([arm.ratio for arm in self.arms])  # refuses unusable ratios
        if self.control not in names:
            raise _fail_at(f"control '{self.control}' is not an arm; fix: use one of "
                           f"{', '.join(names)}", "control")
        if self.primary not in ENDPOINTS:
            raise _fail_at(f"unknown endpoint '{self.primary}'; fix: use one of "
                           f"{', '.join(ENDPOINTS)}", "primary")
        if self.primary not in self.endpoints:
            raise _fail_at(f"primary endpoint '{self.primary}' is not among the endpoints; fix: "
                           f"write endpoints: [{', '.join([self.primary, *self.endpoints])}]",
                           "primary")
        for name, result in self.published.items():
            if result.arm is not None and result.arm not in names:
                raise _fail_at(f"published result for '{name}' names arm '{result.arm}', which "
                               f"is not an arm; fix: use one of {', '.join(self.treated_arms)}",
                               f"published.{name}.arm")
            if name not in ENDPOINTS:
                raise _fail_at(f"published result for unknown endpoint '{name}'; fix: use one "
                               f"of {', '.join(ENDPOINTS)}", f"published.{name}")
        for k, arm in enumerate(self.arms):
            for name, result in arm.published.items():
                where = f"arms[{k}].published.{name}"
                if arm.name == self.control:
                    raise _fail_at("the control arm has no comparison of its own; fix: give "
                                   "each treated arm's published results under that arm",
                                   f"arms[{k}].published")
                if name not in ENDPOINTS:
                    raise _fail_at(f"published result for unknown endpoint '{name}'; fix: use "
                                   f"one of {', '.join(ENDPOINTS)}", where)
                if result.arm not in (None, arm.name):
                    raise _fail_at(f"names arm '{result.arm}' under arm '{arm.name}'; fix: "
                                   "remove arm: here (an arm's block describes that arm)",
                                   f"{where}.arm")
                top = self.published.get(name)
                if top is not None and (top.arm or self.treated_arms[0]) == arm.name:
                    raise _fail_at(f"'{name}' of arm '{arm.name}' is also given in the "
                                   f"top-level published block; fix: keep one of them", where)
        self._check_published()
        self._check_endpoint_followup()
        self._check_stratum_subgroups()
        return self

    def _check_stratum_subgroups(self) -> None:
        """A ``stratum`` subgroup needs a baseline mix, and its published levels are strata."""
        mix = self.enrolment.baseline_mix
        for k, subgroup in enumerate(self.subgroups):
            if subgroup.signal != "stratum":
                continue
            if mix is None:
                raise _fail_at("signal 'stratum' is the stratum of enrolment.baseline_mix, which "
                               "this file does not declare; fix: declare enrolment.baseline_mix "
                               "or use another signal", f"subgroups[{k}].signal")
            unknown = sorted(set(subgroup.published) - {s.name for s in mix.strata})
            if unknown:
                raise _fail_at(f"published levels {unknown} are not strata of "
                               "enrolment.baseline_mix; fix: use "
                               f"{', '.join(s.name for s in mix.strata)}",
                               f"subgroups[{k}].published")

    def _check_published(self) -> None:
        """Each published measure fits its endpoint's kind (a subgroup level: the primary)."""
        entries = [(f"published.{name}", name, result)
                   for name, result in self.published.items()]
        entries += [(f"arms[{k}].published.{name}", name, result)
                    for k, arm in enumerate(self.arms) for name, result in arm.published.items()]
        entries += [(f"subgroups[{k}].published.{level}", self.primary, result)
                    for k, subgroup in enumerate(self.subgroups)
                    for level, result in subgroup.published.items()]
        for where, endpoint, result in entries:
            problem = check_published(result, endpoint)
            if problem is not None:
                raise _fail_at(problem[1], f"{where}.{problem[0]}")
            if where.startswith("subgroups") and ENDPOINT_KINDS[endpoint] not in ("binary",
                                                                                 "time"):
                raise _fail_at(f"subgroups are analysed for a yes/no or time-to-event primary "
                               f"endpoint, not '{endpoint}'; fix: remove the published subgroup "
                               "results", where)

    def _check_endpoint_followup(self) -> None:
        for name, value in self.endpoint_followup.items():
            where = f"endpoint_followup.{name}"
            if name not in self.endpoints:
                raise _fail_at(f"'{name}' is not among the endpoints; fix: add it to endpoints "
                               "or remove it here", where)
            if name in FIXED_DAY:
                raise _fail_at(f"'{name}' is read on day {FIXED_DAY[name]:g} whatever the "
                               "follow-up; fix: remove it here", where)
            try:
                hours = parse_time(value, what=where)
            except Exception as exc:  # a message naming the fix
                raise _fail_at(str(exc), where) from None
            if hours <= 0:
                raise _fail_at(f"{value!r} is not a positive time; fix: e.g. 90 d", where)

    @property
    def followup_h(self) -> float:
        return parse_time(self.followup, what="followup")

    def followup_for(self, endpoint: str) -> float:
        """Hours of follow-up of ``endpoint``: its own (``endpoint_followup``), its fixed day
        (``ordinal_day14``: 14 d) or the trial's ``followup``."""
        if endpoint in FIXED_DAY:
            return 24.0 * FIXED_DAY[endpoint]
        if endpoint in self.endpoint_followup:
            return parse_time(self.endpoint_followup[endpoint], what="endpoint_followup")
        return self.followup_h

    @property
    def horizon_h(self) -> float:
        """Hours simulated after randomisation: the longest follow-up of any endpoint."""
        return max([self.followup_h, *(self.followup_for(e) for e in self.endpoints)])

    @property
    def arm_names(self) -> list[str]:
        return [arm.name for arm in self.arms]

    @property
    def treated_arms(self) -> list[str]:
        return [arm.name for arm in self.arms if arm.name != self.control]

    def arm(self, name: str) -> Arm:
        return next(arm for arm in self.arms if arm.name == name)

    def published_for(self, endpoint: str, arm: str) -> Published | None:
        """The published result of ``endpoint`` for treated ``arm``, if the file gives one."""
        if arm in self.arm_names and endpoint in self.arm(arm).published:
            return self.arm(arm).published[endpoint]
        result = self.published.get(endpoint)
        if result is None or (result.arm or self.treated_arms[0]) != arm:
            return None
        return result

    def published_entries(self) -> list[tuple[str, str, Published]]:
        """Every published comparison as ``(endpoint, treated arm, result)``: the top-level
        block, then each arm's, in file order."""
        out = [(name, result.arm or self.treated_arms[0], result)
               for name, result in self.published.items()]
        out += [(name, arm.name, result) for arm in self.arms
                for name, result in arm.published.items()]
        return out
