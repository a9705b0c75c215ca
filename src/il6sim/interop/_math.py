"""Sympy expressions to SBML math (MathML ASTs) through libsbml's L3 infix parser.

:class:`L3FormulaPrinter` prints a sympy expression in the SBML Level 3 text syntax understood
by ``libsbml.parseL3Formula`` (libsbml L3 formula documentation): powers as ``pow(a, b)``,
natural logarithms as ``ln`` (``log`` means log10 there), ``Abs`` as ``abs``, piecewise
functions as ``piecewise(value, condition, ..., otherwise)`` and every number as a real in
full double precision (``repr(float)``; rationals such as ``1/2`` become ``0.5``, so no
integer division can occur). Numbers carry ``dimensionless``: in il6sim every literal is a unit
conversion factor or a pure number, because each term was unit-checked by pint when the model
was built, so declaring them dimensionless lets libsbml check the units of every expression.
"""

# sympy's printers dispatch on methods named ``_print_<ClassName>``
# ruff: noqa: N802, N815

from __future__ import annotations

import re
from collections.abc import Callable

import libsbml
import sympy as sp
from sympy.printing.str import StrPrinter

from ..errors import ModelError

_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: sympy function name -> SBML L3 formula function name (same arguments).
_FUNCTIONS = {
    "exp": "exp", "log": "ln", "Abs": "abs", "sqrt": "sqrt", "floor": "floor",
    "ceiling": "ceil", "Min": "min", "Max": "max", "sin": "sin", "cos": "cos", "tan": "tan",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh",
}


class L3FormulaPrinter(StrPrinter):
    """Print sympy expressions in libsbml's SBML Level 3 infix syntax."""

    printmethod = "_sbml_l3"

    def __init__(self, number_units: str | None = "dimensionless"):
        super().__init__({"full_prec": True})
        self._units = f" {number_units}" if number_units else ""

    def _number(self, value: float) -> str:
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "INF" if value > 0 else "-INF"
        if value < 0:
            return f"(-{-value!r}{self._units})"
        return f"({value!r}{self._units})"

    def _print_Float(self, expr):
        return self._number(float(expr))

    def _print_Integer(self, expr):
        return self._number(float(expr))

    _print_Rational = _print_Float
    _print_Zero = _print_Integer
    _print_One = _print_Integer
    _print_NegativeOne = _print_Integer
    _print_Half = _print_Rational

    def _print_Symbol(self, expr):
        if not _SID.match(expr.name):
            raise ModelError(
                f"symbol '{expr.name}' is not a valid SBML identifier; fix: rename it with "
                "letters, digits and underscores only"
            )
        return expr.name

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.as_base_exp()
        if exponent == sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exponent == -1:
            return f"({self._number(1.0)} / ({self._print(base)}))"
        return f"pow({self._print(base)}, {self._print(exponent)})"

    def _print_Exp1(self, expr):
        return "exponentiale"

    def _print_Pi(self, expr):
        return "pi"

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_BooleanFalse(self, expr):
        return "false"

    def _print_And(self, expr):
        return "(" + " && ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " || ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr):
        return f"!({self._print(expr.args[0])})"

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_Piecewise(self, expr):
        parts = []
        for value, condition in expr.args:
            parts.append(self._print(value))
            if condition is not sp.true:
                parts.append(self._print(condition))
        return "piecewise(" + ", ".join(parts) + ")"

    def _print_Heaviside(self, expr):
        return self._print(expr.rewrite(sp.Piecewise))

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name not in _FUNCTIONS:
            raise ModelError(
                f"function '{name}' has no SBML export; fix: write it with exp, ln, pow, abs, "
                "min, max or piecewise, or add it to il6sim.interop._math"
            )
        return f"{_FUNCTIONS[name]}(" + ", ".join(self._print(a) for a in expr.args) + ")"

    _print_Min = _print_Function
    _print_Max = _print_Function
    _print_Abs = _print_Function
    _print_exp = _print_Function
    _print_log = _print_Function


def to_formula(
    expr: sp.Expr,
    *,
    number_units: str | None = "dimensionless",
    term_units: Callable[[sp.Expr], str | None] | None = None,
) -> str:
    """The SBML L3 infix text of a sympy expression.

    ``term_units(rest)`` may give, for each additive term ``c · rest`` of ``expr``, the unit id
    of its coefficient ``c``: a conversion factor such as ``(0.001 dimensionless)`` when ``c``
    converts cells/nL to cells/µL. Then every term has the same units as the whole, and
    libsbml can check them (SBML L3V2 §3.4.11: units of numbers in MathML).
    """
    printer = L3FormulaPrinter(number_units)
    expr = sp.sympify(expr)
    if term_units is None:
        return printer.doprint(expr)
    parts = []
    for term in sp.Add.make_args(expr):
        coefficient, rest = term.as_coeff_Mul()
        unit = term_units(rest)
        if unit is None or not coefficient.is_real or not rest.free_symbols:
            parts.append(f"({printer.doprint(term)})")
            continue
        sign = "-" if coefficient < 0 else ""
        parts.append(f"{sign}({abs(float(coefficient))!r} {unit}) * ({printer.doprint(rest)})")
    return " + ".join(parts)


def to_ast(
    expr: sp.Expr,
    sbml_model: libsbml.Model,
    *,
    what: str,
    term_units: Callable[[sp.Expr], str | None] | None = None,
) -> libsbml.ASTNode:
    """Parse ``expr`` into a libsbml AST, resolving names against ``sbml_model``.

    Raises
    ------
    ModelError
        if libsbml cannot parse the printed formula.
    """
    formula = to_formula(expr, term_units=term_units)
    settings = libsbml.L3ParserSettings()
    settings.setModel(sbml_model)  # ids such as 'pi' or 'time' in the model stay identifiers
    settings.setParseUnits(True)
    settings.setParseLog(libsbml.L3P_PARSE_LOG_AS_LN)
    ast = libsbml.parseL3FormulaWithSettings(formula, settings)
    if ast is None:
        raise ModelError(
            f"SBML export of {what}: libsbml cannot parse '{formula[:200]}' "
            f"({libsbml.getLastParseL3Error().strip()}); fix: report this as an il6sim bug"
        )
    return ast
