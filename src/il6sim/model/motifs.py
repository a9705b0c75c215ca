"""Reusable rate motifs: activation, inhibition, binding, transfer.

Every motif works on :class:`pint.Quantity` objects whose magnitudes are symbolic (the model
is built once by evaluating its fluxes on unit-carrying symbols, see :mod:`il6sim.model.spec`).
Ratios are converted to plain numbers with :func:`ratio`, so a concentration and its
half-maximal constant may be declared in different but compatible units (nM and pM).
"""

from __future__ import annotations

from .units import Quantity


def ratio(numerator, denominator) -> Quantity:
    """``numerator / denominator`` as a dimensionless quantity (raises if units differ in kind)."""
    return (numerator / denominator).to("dimensionless")


def power(base, exponent) -> Quantity:
    """``base ** exponent`` for a dimensionless base and a dimensionless (symbolic) exponent."""
    b = base.to("dimensionless").magnitude
    e = exponent.to("dimensionless").magnitude if hasattr(exponent, "to") else exponent
    return Quantity(b**e, "dimensionless")


def allometric(weight, reference, exponent) -> Quantity:
    """Allometric scaling ``(weight / reference) ** exponent`` of a clearance or volume
    (Anderson BJ, Holford NHG 2008 Annu Rev Pharmacol Toxicol 48:303)."""
    return power(ratio(weight, reference), exponent)


def hill(x, half_max, n=1) -> Quantity:
    """Hill activation ``(x/K)^n / (1 + (x/K)^n)``, between 0 and 1."""
    r = power(ratio(x, half_max), n)
    return r / (1 + r)


def inhibition(x, half_max, n=1) -> Quantity:
    """Hill inhibition ``1 / (1 + (x/K)^n)``: 1 without inhibitor, 0 at saturating inhibitor."""
    return 1 / (1 + power(ratio(x, half_max), n))


def saturating(x, half_max) -> Quantity:
    """Michaelis–Menten saturation ``x / (K + x)`` (a Hill function with n = 1)."""
    return hill(x, half_max, 1)


def mass_action_binding(k_on, ligand, receptor, k_off, complex_) -> Quantity:
    """Net reversible binding rate ``k_on·L·R − k_off·C`` (concentration per time)."""
    return k_on * ligand * receptor - k_off * complex_


def fold_activation(x, half_max, max_fold, n=1) -> Quantity:
    """Multiplier ``1 + (max_fold − 1)·hill(x)``: 1 at rest, ``max_fold`` at saturation."""
    return 1 + (max_fold - 1) * hill(x, half_max, n)
