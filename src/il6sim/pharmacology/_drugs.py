"""Drug definitions read from ``il6sim/data/drugs/<name>.yaml`` and checked when loaded."""

from __future__ import annotations

from functools import cache
from typing import Any

import pint
from pydantic import BaseModel, ConfigDict, ValidationError

from .._datafiles import list_datafiles, read_datafile
from ..errors import InputError
from ..model.units import ureg


class SourcedValue(BaseModel):
    """A value with a unit (``"3.5 L"``) and where it comes from."""

    model_config = ConfigDict(extra="forbid")
    value: str | float
    source: str

    def quantity(self) -> pint.Quantity:
        return ureg.Quantity(str(self.value))


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bioavailability: float
    ka: str | None = None
    source: str


class RegimenSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str
    route: str
    interval: str | None = None
    doses: int | None = None
    cap: str | None = None
    source: str


class Drug(BaseModel):
    """One antibody: what it binds, its PK, routes, covariates and label regimens."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    target: str
    molecular_weight: SourcedValue
    binding: dict[str, SourcedValue]
    pk: dict[str, SourcedValue]
    routes: dict[str, Route]
    covariates: dict[str, SourcedValue] = {}
    regimens: dict[str, RegimenSpec] = {}

    def check_route(self, route: str) -> Route:
        """The route's definition, or a one-line error naming the routes this drug has."""
        if route not in self.routes:
            raise InputError(
                f"{self.name} has no '{route}' route; fix: use {' or '.join(self.routes)}"
            )
        return self.routes[route]


def list_drugs() -> dict[str, str]:
    """Shipped drug definitions: name → description."""
    return list_datafiles("drugs")


def _validate(data: Any, source: str) -> Drug:
    try:
        drug = Drug.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InputError(f"drug file '{source}', field '{field}': {error['msg']}") from None
    if drug.target not in ("il6r", "il6"):
        raise InputError(f"drug file '{source}', field 'target': '{drug.target}'; fix: il6r or il6")
    for group in (
        drug.pk,
        drug.binding,
        drug.covariates,
        {"molecular_weight": drug.molecular_weight},
    ):
        for key, entry in group.items():
            try:
                entry.quantity()
            except (pint.errors.PintError, ValueError) as exc:
                raise InputError(
                    f"drug file '{source}', field '{key}': cannot read {entry.value!r} ({exc}); "
                    "fix: write a number with a unit, e.g. '3.5 L'"
                ) from None
    return drug


@cache
def load_drug(name: str) -> Drug:
    """The drug called ``name`` (e.g. ``"tocilizumab"``)."""
    return _validate(*read_datafile("drugs", name, "drug"))
