"""What each dashboard form accepts, validated with pydantic, and its errors as one plain line.

Every field has a label (the text the page shows next to it); an invalid value becomes one
:class:`FormError` whose message names that label and says how to fix it, e.g. ``field 'Dose':
negative dose -2 mg/kg; fix: give an amount above 0, or choose 'none' as the drug``. The page
shows the message and marks the field (``FormError.field``, the input's name).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..errors import InputError

__all__ = ["ExploreForm", "FormError", "TrialForm", "TwinForm", "validate_form"]

#: Largest simulated duration the explorer accepts (days).
MAX_DURATION_DAYS = 365.0


class FormError(InputError):
    """An invalid form field: ``field`` is the input's name (``None``: the form as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _fail(message: str, field: str | None = None) -> PydanticCustomError:
    return PydanticCustomError("il6sim", message, {"field": field} if field else {})


def _within(value: float, low: float, high: float, what: str, unit: str, example: str) -> float:
    if not low <= value <= high:
        raise _fail(f"{what} {value:g} {unit} is outside {low:g}–{high:g} {unit}; "
                    f"fix: give a value in that range, e.g. {example}")
    return value


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class ExploreForm(_Form):
    """One infection, untreated and treated with an IL-6 blocker (the Explore tab)."""

    preset: str = Field("covid19-severe", title="Infection")
    age: float = Field(75.0, title="Age")
    ifn_capacity: float = Field(0.2, title="Interferon capacity")
    body_weight: float = Field(70.0, title="Body weight")
    duration_days: float = Field(28.0, title="Duration")
    drug: str = Field("tocilizumab", title="Drug")
    dose: float = Field(8.0, title="Dose")
    dose_unit: Literal["mg/kg", "mg"] = Field("mg/kg", title="Dose unit")
    route: str = Field("iv", title="Route")
    treatment_day: float = Field(8.0, title="Day of first dose")
    n_doses: int = Field(1, title="Number of doses")
    interval_days: float = Field(14.0, title="Days between doses")

    @field_validator("preset")
    @classmethod
    def _preset(cls, value: str) -> str:
        from ..scenario import list_presets
        from ..scenario._schema import suggest

        presets = list_presets()
        if value not in presets:
            raise _fail(f"unknown infection '{value}'; fix: {suggest(value, presets)}")
        return value

    @field_validator("age")
    @classmethod
    def _age(cls, value: float) -> float:
        return _within(value, 18, 100, "age", "years", "75")

    @field_validator("ifn_capacity")
    @classmethod
    def _ifn(cls, value: float) -> float:
        return _within(value, 0.01, 3, "interferon capacity", "(1 = normal)", "0.2 (impaired)")

    @field_validator("body_weight")
    @classmethod
    def _weight(cls, value: float) -> float:
        return _within(value, 30, 250, "body weight", "kg", "70")

    @field_validator("duration_days")
    @classmethod
    def _duration(cls, value: float) -> float:
        return _within(value, 1, MAX_DURATION_DAYS, "duration", "days", "28")

    @field_validator("drug")
    @classmethod
    def _drug(cls, value: str) -> str:
        from ..pharmacology import list_drugs

        drugs = ["none", *list_drugs()]
        if value not in drugs:
            raise _fail(f"unknown drug '{value}'; fix: choose one of {', '.join(drugs)}")
        return value

    @field_validator("n_doses")
    @classmethod
    def _n_doses(cls, value: int) -> int:
        if not 1 <= value <= 20:
            raise _fail(f"{value} doses; fix: give 1 to 20 doses")
        return value

    @model_validator(mode="after")
    def _treatment(self) -> ExploreForm:
        if self.drug == "none":
            return self
        from ..pharmacology import load_drug

        if self.dose <= 0:
            raise _fail(f"{'negative' if self.dose < 0 else 'zero'} dose {self.dose:g} "
                        f"{self.dose_unit}; fix: give an amount above 0, or choose 'none' as "
                        "the drug", "dose")
        top = 50.0 if self.dose_unit == "mg/kg" else 4000.0
        if self.dose > top:
            raise _fail(f"dose {self.dose:g} {self.dose_unit} is above {top:g} {self.dose_unit};"
                        f" fix: give a dose up to {top:g} {self.dose_unit} (the label dose of "
                        "tocilizumab is 8 mg/kg)", "dose")
        routes = list(load_drug(self.drug).routes)
        if self.route not in routes:
            raise _fail(f"{self.drug} has no '{self.route}' route; fix: choose "
                        f"{' or '.join(routes)}", "route")
        if not 0 <= self.treatment_day < self.duration_days:
            raise _fail(f"day {self.treatment_day:g} is outside the {self.duration_days:g}-day "
                        f"simulation; fix: give a day from 0 to below {self.duration_days:g}, "
                        "or a longer duration", "treatment_day")
        if self.n_doses > 1 and self.interval_days < 0.5:
            raise _fail(f"{self.interval_days:g} days between doses; fix: give 0.5 days or "
                        "more", "interval_days")
        return self

    def treatment(self) -> dict[str, Any] | None:
        """The scenario's ``treatment:`` entry (a custom schedule), ``None`` without a drug."""
        if self.drug == "none":
            return None
        return {"drug": self.drug, "amount": f"{self.dose:g} {self.dose_unit}",
                "route": self.route, "doses": self.n_doses,
                "interval": f"{self.interval_days:g} d" if self.n_doses > 1 else None,
                "start": f"{self.treatment_day:g} d"}


class TwinForm(_Form):
    """A digital-twin fit of one patient's labs (the Digital twin tab; the CSV comes apart)."""

    patient: str = Field("", title="Patient ID")
    fit_days: float | None = Field(None, title="Fit labs of the first days")
    horizon_days: float = Field(14.0, title="Forecast horizon")
    draws: int = Field(100, title="Posterior draws")
    regimen: str = Field("tocilizumab-covid-8mgkg", title="Blockade started now")
    body_weight: float = Field(70.0, title="Body weight")

    @field_validator("fit_days", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("fit_days")
    @classmethod
    def _fit_days(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise _fail(f"{value:g} days; fix: give a number of days above 0, or leave it "
                        "empty to fit every lab")
        return value

    @field_validator("horizon_days")
    @classmethod
    def _horizon(cls, value: float) -> float:
        return _within(value, 1, 60, "horizon", "days", "14")

    @field_validator("draws")
    @classmethod
    def _draws(cls, value: int) -> int:
        if not 10 <= value <= 400:
            raise _fail(f"{value} draws; fix: give 10 to 400 (100 is a good start)")
        return value

    @field_validator("regimen")
    @classmethod
    def _regimen(cls, value: str) -> str:
        from ..pharmacology import label_regimens
        from ..scenario._schema import suggest

        known = label_regimens()
        if value != "none" and value not in known:
            raise _fail(f"unknown regimen '{value}'; fix: {suggest(value, [*known, 'none'])}")
        return value

    @field_validator("body_weight")
    @classmethod
    def _weight(cls, value: float) -> float:
        return _within(value, 30, 250, "body weight", "kg", "70")


class TrialForm(_Form):
    """A small virtual trial (the Trial tab)."""

    trial: str = Field("recovery-tocilizumab", title="Trial")
    n_patients: int = Field(200, title="Patients")
    seed: int | None = Field(None, title="Seed")

    @field_validator("seed", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("n_patients")
    @classmethod
    def _n(cls, value: int) -> int:
        if not 10 <= value <= 5000:
            raise _fail(f"{value} patients; fix: give 10 to 5000, e.g. 200")
        return value

    @field_validator("seed")
    @classmethod
    def _seed(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise _fail(f"seed {value}; fix: give 0 or a positive whole number")
        return value


_EXPECTED = {"finite_number": "a finite number (not NaN or infinity)",
             "float_parsing": "a number", "float_type": "a number", "int_parsing": "a whole number",
             "int_type": "a whole number", "int_from_float": "a whole number",
             "literal_error": "one of the listed choices", "string_type": "text"}


def _message(form: type[_Form], error: dict[str, Any]) -> FormError:
    """The first pydantic error of ``form`` as one line naming the field's label."""
    field = error.get("ctx", {}).get("field") or (str(error["loc"][0]) if error["loc"] else None)
    info = form.model_fields.get(field or "")
    label = info.title if info is not None and info.title else field
    kind = error["type"]
    if kind == "il6sim":
        problem = error["msg"]
    elif kind == "extra_forbidden":
        problem = f"not a field of this form; fix: use {', '.join(form.model_fields)}"
    elif kind == "missing":
        problem = "required; fix: fill it in"
    else:
        expected = _EXPECTED.get(kind, error["msg"].lower())
        problem = f"{error.get('input')!r} is not {expected}; fix: give {expected}"
    where = f"field '{label}'" if label else "form"
    return FormError(f"{where}: {problem}", field)


def validate_form(form: type[_Form], data: Any) -> Any:
    """``form`` validated from ``data`` (a mapping of field name to value, e.g. the page's)."""
    if not isinstance(data, dict):  # a 400: the body, not a field, is wrong
        raise InputError("the request is not a mapping of fields; fix: send a JSON object")
    try:
        return form.model_validate(data)
    except ValidationError as exc:
        raise _message(form, exc.errors(include_url=False)[0]) from None
