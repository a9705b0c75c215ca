"""SBML unit definitions built from :mod:`pint` unit strings.

Every pint unit is decomposed, component by component (``pg/mL`` is ``picogram`` and
``milliliter``), into SBML base units (SBML L3V2 §4.4: ``gram``, ``litre``, ``mole``,
``second``, ``item``, ...) with an exponent and a factor written as ``scale`` (a power of ten)
or ``multiplier``. Kinds that occur more than once are merged; a factor left over by kinds that
cancel (``ng/kg``) is kept on the first remaining unit, or on ``dimensionless``. Each
definition is then checked against pint: its value in SI base units (libsbml's
``UnitDefinition.convertToSI``) must equal pint's ``to_base_units()``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import libsbml
import numpy as np
import pint
import sympy as sp

from ..errors import UnitError
from ..model.units import ureg

#: pint base dimension -> SBML unit kind. Any other base dimension (a count declared in
#: :mod:`il6sim.model.units`, such as cells, CFU or virions) becomes ``item``.
_KINDS: dict[str, int] = {
    "[mass]": libsbml.UNIT_KIND_GRAM,
    "[substance]": libsbml.UNIT_KIND_MOLE,
    "[time]": libsbml.UNIT_KIND_SECOND,
    "[current]": libsbml.UNIT_KIND_AMPERE,
    "[temperature]": libsbml.UNIT_KIND_KELVIN,
    "[luminosity]": libsbml.UNIT_KIND_CANDELA,
}

#: Value of one SBML base unit in SI base units (gram and litre are not SI base units).
_SI_VALUE = {libsbml.UNIT_KIND_GRAM: 1e-3, libsbml.UNIT_KIND_LITRE: 1e-3}

#: Names that SBML reserves for its base units; a unit definition may not take them.
_RESERVED = {libsbml.UnitKind_toString(k) for k in range(libsbml.UNIT_KIND_INVALID)} | {
    "substance", "volume", "area", "length", "time", "extent",
}


def _component_kinds(name: str) -> tuple[list[tuple[int, int]], float]:
    """SBML ``(kind, exponent)`` pairs of one pint unit and its factor relative to them."""
    pairs: list[tuple[int, int]] = []
    reference = 1.0  # the value of the SBML kinds' product in (pint) SI base units
    for dim, exponent in ureg.Unit(name).dimensionality.items():
        if int(exponent) != exponent:
            raise UnitError(f"unit '{name}' has a fractional exponent; SBML needs integers")
        exponent = int(exponent)
        if dim == "[length]" and exponent % 3 == 0:
            kind, exponent = libsbml.UNIT_KIND_LITRE, exponent // 3
        elif dim == "[length]":
            kind = libsbml.UNIT_KIND_METRE
        else:
            kind = _KINDS.get(dim, libsbml.UNIT_KIND_ITEM)
        pairs.append((kind, exponent))
        reference *= _SI_VALUE.get(kind, 1.0) ** exponent
    factor = float(ureg.Quantity(1.0, name).to_base_units().magnitude) / reference
    return pairs, factor


def _split_factor(pairs: list[tuple[int, int]], factor: float) -> list[tuple[int, float]]:
    """Share ``log10(factor)`` among the kinds: powers of ten on the first kind, and a whole
    number of seconds per minute/hour/day on ``second`` (``U = µmol/min``: µmol and 60 s)."""
    total = math.log10(factor)
    first = pairs[0][0]
    time = [e for k, e in pairs if k == libsbml.UNIT_KIND_SECOND]
    if time and not math.isclose(total, round(total), abs_tol=1e-9):
        for seconds in (60.0, 3600.0, 86400.0, 604800.0):
            on_time = time[0] * math.log10(seconds)
            rest = total - on_time
            if math.isclose(rest, round(rest), abs_tol=1e-9):
                if first == libsbml.UNIT_KIND_SECOND:
                    return [(first, total)]
                return [(first, rest), (libsbml.UNIT_KIND_SECOND, on_time)]
    return [(first, total)]


def decompose(unit: str) -> list[tuple[int, int, float]]:
    """``(kind, exponent, factor)`` triples of an SBML unit definition equal to ``unit``.

    The triple stands for ``(factor · kind) ** exponent``; an empty list is plain
    ``dimensionless``.
    """
    try:
        parsed = ureg.Unit(unit)
    except pint.errors.PintError:
        raise UnitError(f"unknown unit '{unit}'; fix: use a pint unit string") from None
    exponents: dict[int, int] = {}
    log_factors: dict[int, float] = {}  # log10 of the factor raised to the power, per kind
    leftover = 0.0
    for name, power in parsed._units.items():
        pairs, factor = _component_kinds(name)
        if not pairs:
            leftover += power * math.log10(factor)
            continue
        for kind, exponent in pairs:
            exponents[kind] = exponents.get(kind, 0) + exponent * power
            log_factors.setdefault(kind, 0.0)
        for kind, share in _split_factor(pairs, factor):
            log_factors[kind] += power * share
    triples = []
    for kind, exponent in exponents.items():
        if exponent == 0:
            leftover += log_factors[kind]
            continue
        triples.append([kind, exponent, log_factors[kind]])
    if triples:
        triples[0][2] += leftover
        return [(k, e, 10 ** (lf / e)) for k, e, lf in triples]
    if abs(leftover) > 1e-12:
        return [(libsbml.UNIT_KIND_DIMENSIONLESS, 1, 10**leftover)]
    return []


def _scale_and_multiplier(factor: float) -> tuple[int, float]:
    exponent = round(math.log10(factor))
    if math.isclose(factor, 10.0**exponent, rel_tol=1e-12):
        return exponent, 1.0
    return 0, float(f"{factor:.15g}")


def unit_id(unit: str) -> str:
    """A readable SBML UnitSId for a pint unit string: ``pg/mL/h`` -> ``pg_per_mL_per_h``."""
    parsed = ureg.Unit(unit)
    up, down = [], []
    for name, power in parsed._units.items():
        symbol = min(ureg.get_symbol(name), name, key=len)
        symbol = symbol.replace("µ", "u").replace("%", "percent")
        symbol = {"l": "L", "ml": "mL", "ul": "uL", "nl": "nL", "dl": "dL"}.get(symbol, symbol)
        text = symbol + (f"{abs(power):g}" if abs(power) != 1 else "")
        (up if power > 0 else down).append(text)
    ident = "_".join(up) + "".join(f"_per_{d}" for d in down)
    ident = re.sub(r"[^A-Za-z0-9_]", "_", ident.strip("_") or "one")
    if ident[0].isdigit() or ident in _RESERVED:
        ident = "u_" + ident
    return ident


def si_factor(definition: libsbml.UnitDefinition) -> float:
    """The value of one ``definition`` in SI base units (libsbml's conversion)."""
    si = libsbml.UnitDefinition.convertToSI(definition)
    value = 1.0
    for i in range(si.getNumUnits()):
        u = si.getUnit(i)
        value *= (u.getMultiplier() * 10.0 ** u.getScale()) ** u.getExponentAsDouble()
    return value


class UnitTable:
    """Creates each unit definition once in an SBML model and hands out its id."""

    def __init__(self, model: libsbml.Model):
        self._model = model
        self._ids: dict[str, str] = {}

    def __call__(self, unit: str) -> str:
        """The UnitSId for ``unit`` (``dimensionless`` for a plain number)."""
        key = str(ureg.Unit(unit))
        if key in self._ids:
            return self._ids[key]
        triples = decompose(unit)
        if not triples:
            self._ids[key] = "dimensionless"
            return "dimensionless"
        ident = unit_id(unit)
        while self._model.getUnitDefinition(ident) is not None:
            ident += "_"
        definition = self._model.createUnitDefinition()
        definition.setId(ident)
        definition.setName(f"{ureg.Unit(unit):~}" or unit)
        for kind, exponent, factor in triples:
            scale, multiplier = _scale_and_multiplier(factor)
            entry = definition.createUnit()
            entry.setKind(kind)
            entry.setExponent(exponent)
            entry.setScale(scale)
            entry.setMultiplier(multiplier)
        expected = float(ureg.Quantity(1.0, unit).to_base_units().magnitude)
        if not math.isclose(si_factor(definition), expected, rel_tol=1e-9):
            raise UnitError(
                f"SBML unit '{ident}' is {si_factor(definition):.6g} SI but pint says "
                f"{expected:.6g} for '{unit}'; fix: report this as an il6sim bug"
            )
        self._ids[key] = ident
        return ident

    def factor(self, value: float) -> str:
        """The id of a dimensionless unit worth ``value`` (the unit of a conversion factor)."""
        scale, multiplier = _scale_and_multiplier(value)
        key = f"factor:{scale}:{multiplier!r}"
        if key in self._ids:
            return self._ids[key]
        text = f"1e{scale}" if multiplier == 1.0 else f"{value:.6g}"
        ident = "factor_" + re.sub(r"[^A-Za-z0-9]", "_", text.replace("-", "m"))
        while self._model.getUnitDefinition(ident) is not None:
            ident += "_"
        definition = self._model.createUnitDefinition()
        definition.setId(ident)
        definition.setName(f"conversion factor {value:.6g}")
        entry = definition.createUnit()
        entry.setKind(libsbml.UNIT_KIND_DIMENSIONLESS)
        entry.setExponent(1)
        entry.setScale(scale)
        entry.setMultiplier(multiplier)
        self._ids[key] = ident
        return ident


def state_is_species(unit: str) -> bool:
    """Whether a state in ``unit`` is a species: an amount (mass, moles or a count such as
    cells) per volume. SBML restricts a species' substance units to these (L3V2 §4.6.4), so
    ``U/L`` (µmol/min per litre) or a fraction is exported as a non-constant parameter."""
    dims = dict(ureg.Unit(unit).dimensionality)
    amount = dict((ureg.Unit(unit) * ureg.liter).dimensionality)
    if dims.get("[length]") != -3 or len(amount) != 1:
        return False
    (dim, exponent), = amount.items()
    not_amounts = {"[length]", "[time]", "[current]", "[temperature]", "[luminosity]"}
    return exponent == 1 and dim not in not_amounts


def unit_of(expr: sp.Expr, units: Mapping[str, str]) -> pint.Unit | None:
    """The pint unit of ``expr`` when every symbol carries its declared unit (None if unknown)."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if any(s.name not in units for s in symbols):
        return None
    function = sp.lambdify(symbols, expr, modules="numpy")
    try:
        with np.errstate(all="ignore"):
            value = function(*[ureg.Quantity(1.37, units[s.name]) for s in symbols])
    except (pint.errors.PintError, TypeError, ValueError, ZeroDivisionError):
        return None
    return value.units if isinstance(value, pint.Quantity) else ureg.dimensionless


def amount_unit(concentration: str, volume: str) -> str:
    """The substance unit of a species, ``concentration × volume``: ``pg/mL × L`` is ``ng``."""
    quantity = (ureg.Quantity(1.0, concentration) * ureg.Quantity(1.0, volume)).to_base_units()
    compact = quantity.to_compact()
    if np.isclose(compact.magnitude, 1.0, rtol=1e-9):
        return str(compact.units)
    return str(ureg.Unit(f"({concentration}) * ({volume})"))
