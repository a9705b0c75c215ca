"""Dose events as data: a table of (patient, time, agent, route, amount) rows.

A dose is never code inside the model: the engine splits the integration at each dose time and
applies the jump that the model's :class:`~il6sim.model.spec.DoseRoute` defines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pint

from ..errors import InputError
from ..model.units import ureg

DOSE_COLUMNS = ["patient", "time_h", "agent", "route", "amount", "unit"]


@dataclass(frozen=True)
class Dose:
    """One dose: ``amount`` (in ``unit``, the route's dose unit) of ``agent`` at ``time_h``.

    ``patient`` is a patient index in the batch, or ``-1`` for every patient.
    """

    time_h: float
    agent: str
    amount: float
    route: str = "iv"
    unit: str = ""
    patient: int = -1


def dose_table(doses: pd.DataFrame | Iterable[Dose | Mapping] | None) -> pd.DataFrame:
    """Normalise doses to a DataFrame with :data:`DOSE_COLUMNS`, sorted by time."""
    if doses is None or (not isinstance(doses, pd.DataFrame) and not list(doses)):
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(DOSE_COLUMNS, [int, float, str, str, float, str], strict=True)
            }
        )
    if isinstance(doses, pd.DataFrame):
        table = doses.copy()
    else:
        rows = [asdict(d) if isinstance(d, Dose) else dict(d) for d in list(doses)]
        table = pd.DataFrame(rows)
    for column, default in (("patient", -1), ("route", "iv"), ("unit", "")):
        if column not in table:
            table[column] = default
    missing = {"time_h", "agent", "amount"} - set(table.columns)
    if missing:
        raise InputError(
            f"dose table lacks column(s) {sorted(missing)}; fix: give time_h, agent and amount"
        )
    table = table[DOSE_COLUMNS].astype(
        {"patient": int, "time_h": float, "agent": str, "route": str, "amount": float, "unit": str}
    )
    bad = table[(table.amount < 0) | ~np.isfinite(table.amount)]
    if len(bad):
        row = bad.iloc[0]
        raise InputError(
            f"dose of {row.agent} at {row.time_h} h has amount {row.amount}; "
            "fix: give a finite amount of zero or more"
        )
    if (table.time_h < 0).any():
        raise InputError("a dose has a negative time; fix: give dose times of 0 h or later")
    return table.sort_values("time_h", kind="stable").reset_index(drop=True)


def amount_in_route_unit(model, row) -> float:
    """A dose row's amount in its route's dose unit (an empty ``row.unit`` means already in it)."""
    route = model.route(row.agent, row.route)
    if not row.unit or row.unit == route.dose_unit:
        return float(row.amount)
    try:
        amount = float(ureg.Quantity(row.amount, row.unit).to(route.dose_unit).magnitude)
    except pint.errors.PintError:
        raise InputError(
            f"dose of {row.agent} is in '{row.unit}', which cannot be converted to "
            f"'{route.dose_unit}'; fix: give the amount in {route.dose_unit}"
        ) from None
    from ..limits import dose_unit_problem

    problem = dose_unit_problem(str(row.unit), route.dose_unit)  # kg/ng converts to ng/kg
    if problem:
        raise InputError(f"dose of {row.agent}: {problem}")
    return amount
