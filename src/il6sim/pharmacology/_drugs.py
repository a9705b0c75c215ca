"""Drug definitions read from ``il6sim/data/drugs/<name>.yaml`` and checked when loaded."""

from __future__ import annotations

from functools import cache
from typing import Any

import pint
from pydantic import BaseModel, ConfigDict, ValidationError

from .._datafiles import list_datafiles, read_datafile
from ..errors import InputError
from ..model.units import ureg

#: What an antibody can bind: IL-6R (membrane and soluble), the IL-6 ligand, or IL-6:sIL-6R.
TARGETS = ("il6r", "il6", "il6_sil6r")
#: The kinds of drug the model has a slot for, and the target each kind may name.
KIND_TARGETS = {
    "antibody": TARGETS,
    "glucocorticoid": ("glucocorticoid_receptor",),
    "antiviral": ("viral_polymerase",),
}
#: Entries each kind's file must give, as ``section.key``.
KIND_REQUIRED = {
    "antibody": ("binding.KD",),
    "glucocorticoid": ("binding.EC50",),
    "antiviral": ("binding.EC50", "binding.Emax", "pk.CL", "pk.V",
                  "pk.metabolite_molecular_weight", "pk.fraction_metabolised"),
}


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
    """A label regimen: ``amount`` every ``interval`` for ``doses`` doses; ``loading`` is a
    different first dose (remdesivir: 200 mg on day 1, then 100 mg daily)."""

    model_config = ConfigDict(extra="forbid")
    amount: str
    route: str
    interval: str | None = None
    doses: int | None = None
    cap: str | None = None
    loading: str | None = None
    source: str


class Drug(BaseModel):
    """One drug: its kind (an antibody against the IL-6 system, a glucocorticoid or an
    antiviral), what it binds, its PK, routes, covariates and label regimens."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: str = "antibody"
    description: str
    target: str
    molecular_weight: SourcedValue
    binding: dict[str, SourcedValue]
    pk: dict[str, SourcedValue]
    routes: dict[str, Route]
    covariates: dict[str, SourcedValue] = {}
    regimens: dict[str, RegimenSpec] = {}
    default_regimen: str | None = None

    def molar_mass(self) -> float:
        """Molecular weight in g/mol (the file may say ``148 kDa`` or ``148000 g/mol``)."""
        weight = self.molecular_weight.quantity()
        if weight.check("[mass]"):
            return float(weight.to("Da").magnitude)
        return float(weight.to("g/mol").magnitude)

    def check_route(self, route: str) -> Route:
        """The route's definition, or a one-line error naming the routes this drug has."""
        if route not in self.routes:
            raise InputError(
                f"{self.name} has no '{route}' route; fix: use {' or '.join(self.routes)}"
            )
        return self.routes[route]


def _is_dose(text: str) -> bool:
    try:
        quantity = ureg.Quantity(text)
    except Exception:  # pint raises many kinds (TokenError, OverflowError, ...) on odd text
        return False
    return bool(quantity.check("[mass]") or quantity.check("[mass] / [mass]"))


def list_drugs() -> dict[str, str]:
    """Shipped drug definitions: name → description."""
    return list_datafiles("drugs")


@cache
def drug_names() -> frozenset[str]:
    """Names of the shipped drugs (read once; the engine checks every dose table against it)."""
    return frozenset(list_drugs())


def _validate(data: Any, source: str) -> Drug:
    try:
        drug = Drug.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InputError(f"drug file '{source}', field '{field}': {error['msg']}") from None
    if drug.kind not in KIND_TARGETS:
        raise InputError(
            f"drug file '{source}', field 'kind': '{drug.kind}'; "
            f"fix: one of {', '.join(KIND_TARGETS)}"
        )
    targets = KIND_TARGETS[drug.kind]
    if drug.target not in targets:
        raise InputError(
            f"drug file '{source}', field 'target': '{drug.target}'; "
            f"fix: one of {', '.join(targets)}"
        )
    for field in KIND_REQUIRED[drug.kind]:
        section, key = field.split(".")
        if key not in getattr(drug, section):
            raise InputError(f"drug file '{source}', field '{field}' is missing; fix: give it")
    if drug.kind == "antibody" and "kon" not in drug.binding and "Km" not in drug.pk:
        raise InputError(
            f"drug file '{source}', field 'binding.kon': missing, and no 'pk.Km' to derive it "
            "from; fix: give binding.kon (e.g. '3.6 1/nM/h')"
        )
    if drug.default_regimen is not None and drug.default_regimen not in drug.regimens:
        raise InputError(
            f"drug file '{source}', field 'default_regimen': '{drug.default_regimen}' is not one "
            f"of its regimens; fix: one of {', '.join(drug.regimens)}"
        )
    for name, spec in drug.regimens.items():
        if spec.loading is not None and not _is_dose(spec.loading):
            raise InputError(
                f"drug file '{source}', field 'regimens.{name}.loading': cannot read "
                f"{spec.loading!r} as a dose; fix: e.g. '200 mg' or '5 mg/kg'"
            )
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
