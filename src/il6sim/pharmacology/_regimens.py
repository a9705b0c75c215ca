"""Dosing regimens: label regimens by name and custom schedules, expanded into dose events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pint

from .. import limits
from ..errors import InputError
from ..model.units import ureg
from ._drugs import list_drugs, load_drug


@dataclass(frozen=True)
class Regimen:
    """``amount`` (``"8 mg/kg"`` or ``"162 mg"``) of ``drug`` by ``route`` every ``interval``
    (``None`` for a single dose), ``doses`` times (``None``: until the end), each dose capped at
    ``cap``; ``loading`` replaces the amount of the first dose (``None``: the same as the
    others); ``until`` (``"14 d"``): no dose later than this after the first one (``None``: no
    limit but the end of the run)."""

    drug: str
    amount: str
    route: str
    interval: str | None = None
    doses: int | None = None
    cap: str | None = None
    loading: str | None = None
    until: str | None = None


def label_regimens() -> dict[str, Regimen]:
    """Every shipped label regimen, by name (e.g. ``"tocilizumab-8mgkg-iv-q4w"``)."""
    out = {}
    for drug_name in list_drugs():
        for name, spec in load_drug(drug_name).regimens.items():
            out[name] = Regimen(
                drug_name, spec.amount, spec.route, spec.interval, spec.doses, spec.cap,
                spec.loading,
            )
    return out


def _quantity(text: str, field: str) -> pint.Quantity:
    try:
        return ureg.Quantity(text)
    except Exception:  # pint raises many kinds (TokenError, OverflowError, ...) on odd text
        raise InputError(
            f"regimen field '{field}': cannot read {text!r}; fix: e.g. '8 mg/kg'"
        ) from None


def expand_regimen(
    regimen: str | Regimen,
    *,
    weight_kg: float = 70.0,
    start_h: float = 0.0,
    until_h: float | None = None,
) -> pd.DataFrame:
    """Dose events (``time_h, agent, route, amount, unit``; amounts in mg) of a regimen.

    A weight-based amount (mg/kg) is multiplied by ``weight_kg`` and capped at ``cap``; repeated
    regimens run every ``interval`` from ``start_h`` for ``doses`` doses or until ``until_h``.
    """
    if isinstance(regimen, str):
        known = label_regimens()
        if regimen not in known:
            from ..scenario._schema import suggest_all

            raise InputError(f"unknown regimen '{regimen}'; fix: {suggest_all(regimen, known)}")
        regimen = known[regimen]
    drug = load_drug(regimen.drug)
    drug.check_route(regimen.route)
    if weight_kg <= 0:
        raise InputError(f"body weight {weight_kg} kg; fix: give a weight above 0 kg")
    mg = _dose_mg(regimen, regimen.amount, "amount", weight_kg)
    if regimen.doses is not None and regimen.doses < 1:
        raise InputError(f"regimen doses {regimen.doses}; fix: give 1 dose or more")
    if regimen.until is not None:
        span = float(_quantity(regimen.until, "until").to("hour").magnitude)
        if not np.isfinite(span) or span < 0:
            raise InputError(f"regimen until {regimen.until}; fix: give 0 h or more")
        until_h = start_h + span if until_h is None else min(until_h, start_h + span)
    if regimen.interval is None:
        if (regimen.doses or 1) > 1:
            raise InputError(f"regimen of {regimen.doses} doses without an interval; fix: "
                             "give the interval between doses, e.g. interval: 12 h")
        times = np.array([start_h])
    else:
        step = float(_quantity(regimen.interval, "interval").to("hour").magnitude)
        if not np.isfinite(step) or step <= 0:
            raise InputError(f"regimen interval {regimen.interval}; fix: give a positive interval")
        if regimen.doses is None and until_h is None:
            raise InputError("a repeated regimen needs 'doses' or until_h; fix: give one of them")
        count = regimen.doses if regimen.doses is not None else \
            max(0.0, np.floor((until_h + 1e-9 - start_h) / step) + 1)
        problem = limits.dose_count_problem(count, "regimen doses")
        if problem:
            raise InputError(f"regimen field 'interval'/'doses': {problem}")
        times = start_h + step * np.arange(int(count))
        if regimen.doses is not None and regimen.until is not None:
            times = times[times <= until_h + 1e-9]  # the doses a cap in time leaves
    amounts = np.full(len(times), mg)
    if regimen.loading is not None and len(times):
        amounts[0] = _dose_mg(regimen, regimen.loading, "loading", weight_kg)
    return pd.DataFrame({
        "time_h": times, "agent": regimen.drug, "route": regimen.route, "amount": amounts,
        "unit": "mg",
    })


def _dose_mg(regimen: Regimen, text: str, field: str, weight_kg: float) -> float:
    """One dose of ``regimen`` in mg: ``text`` (mg, or mg/kg times the weight), capped."""
    amount = _quantity(text, field)
    if amount.magnitude < 0:
        raise InputError(f"regimen {field} {text} is negative; fix: give 0 or more")
    if amount.check("[mass] / [mass]"):
        problem = limits.dose_unit_problem(str(amount.units), "mg/kg")
        if problem:
            raise InputError(f"regimen field '{field}': {problem}")
        amount = amount * ureg.Quantity(weight_kg, "kg")
    if not amount.check("[mass]"):
        raise InputError(f"regimen {field} {text!r} is not a dose; fix: give mg or mg/kg")
    mg = float(amount.to("mg").magnitude)
    if regimen.cap is not None:
        mg = min(mg, float(_quantity(regimen.cap, "cap").to("mg").magnitude))
    problem = limits.dose_amount_problem(mg, "mg")
    if problem:
        raise InputError(f"regimen field '{field}': {problem}")
    return mg
