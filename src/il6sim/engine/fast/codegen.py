"""C code for a model's right-hand side and exact sparse Jacobian, generated from its sympy form.

Everything here is derived from :attr:`Model.rhs_expressions`, :attr:`Model.state_symbols` and
:attr:`Model.param_symbols`; nothing depends on today's states or parameters, so a block added to
the biology is compiled into the fast engine without any change to this file.

The generated translation unit defines

``IL6_NS``, ``IL6_NP``, ``IL6_NNZ``
    the number of states, parameters and structural non-zeros of the Jacobian;
``il6_rhs(y, p, dy)``
    ``dy = f(y; p)`` in state units per hour;
``il6_jac(y, p, jv)``
    the structural non-zeros of the exact Jacobian ``df/dy``, ``jv[k]`` being entry
    (``il6_jac_row[k]``, ``il6_jac_col[k]``), in the order of :attr:`Model.jacobian_pattern`;
``il6_lu_load``, ``il6_lu_factor``, ``il6_lu_solve``
    a sparse LU of ``d·I + c·J`` with a pivot order and fill-in fixed here
    (:mod:`.sparse_lu`);
``IL6_NO``, ``il6_outputs(y, p, o)``
    the number of read-outs and all read-outs in their clinical units
    (:attr:`Model.output_expressions`, in :attr:`Model.output_names` order).

Common subexpressions are shared within each function (sympy's ``cse``, Meurer A et al. 2017
PeerJ Comput Sci 3:e103), and the source is printed with sympy's C99 printer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.printing.c import C99CodePrinter

from ...errors import ModelError
from ...model.spec import Model
from .sparse_lu import LUPlan, lu_c_source, plan_lu

#: Integer powers up to this order are printed as products, not ``pow()`` calls (without
#: ``-ffast-math`` a C compiler may only expand ``pow(x, 2)``; libm's ``pow`` costs ~100
#: instructions and was the largest single cost of the right-hand side).
MAX_PRODUCT_POWER = 8

#: A helper for integer powers of compound bases (evaluated once, then multiplied).
_POWI = """static inline double il6_powi(double x, int n)
{
    double r = x;
    for (int k = 1; k < n; k++) r *= x;
    return r;
}
"""


class _IndexedPrinter(C99CodePrinter):
    """A C99 printer that prints model symbols as ``y[i]`` and ``p[j]`` and small integer powers
    as products."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"strict": True})
        self._names = names

    def _print_Symbol(self, expr: sp.Symbol) -> str:  # noqa: N802 (sympy's printer protocol)
        name = self._names.get(expr)
        return name if name is not None else super()._print_Symbol(expr)

    def _print_Pow(self, expr: sp.Pow) -> str:  # noqa: N802 (sympy's printer protocol)
        base, exp = expr.as_base_exp()
        if not (exp.is_Integer and 2 <= abs(int(exp)) <= MAX_PRODUCT_POWER):
            return super()._print_Pow(expr)
        n = abs(int(exp))
        if base.is_Symbol:
            power = "(" + "*".join([self._print(base)] * n) + ")"
        else:
            power = f"il6_powi({self._print(base)}, {n})"
        return power if exp > 0 else f"(1.0/{power})"


@dataclass(frozen=True)
class GeneratedModel:
    """The generated C source of one model, with its sizes and a content hash."""

    source: str
    n_states: int
    n_params: int
    jacobian_pattern: np.ndarray
    lu_plan: LUPlan
    digest: str


def _function(
    printer: _IndexedPrinter, signature: str, exprs: list[sp.Expr], targets: list[str]
) -> str:
    temporaries, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("w_"), order="none")
    lines = [f"static void {signature}", "{"]
    for symbol, value in temporaries:
        lines.append(f"    const double {symbol} = {printer.doprint(value)};")
        printer._names[symbol] = str(symbol)
    for target, value in zip(targets, reduced, strict=True):
        lines.append(f"    {target} = {printer.doprint(value)};")
    lines += ["}", ""]
    return "\n".join(lines)


def jacobian_entries(model: Model) -> list[tuple[int, int, sp.Expr]]:
    """The structurally non-zero entries ``(row, column, expression)`` of ``d rhs / d y``.

    Same order and pattern as :attr:`Model.jacobian_pattern`.
    """
    jacobian = sp.Matrix(model.rhs_expressions).jacobian(model.state_symbols)
    return [(i, j, e) for (i, j), e in np.ndenumerate(np.array(jacobian)) if e != 0]


def generate_c(model: Model) -> GeneratedModel:
    """Generate the C source of ``model``'s right-hand side and exact Jacobian.

    Raises
    ------
    ModelError
        if an expression uses a function that has no C equivalent.
    """
    n, m = len(model.state_symbols), len(model.param_symbols)
    outputs = [sp.sympify(model.output_expressions[name]) for name in model.output_names]
    names = {s: f"y[{i}]" for i, s in enumerate(model.state_symbols)}
    names.update({s: f"p[{j}]" for j, s in enumerate(model.param_symbols)})
    entries = jacobian_entries(model)
    pattern = np.array([(i, j) for i, j, _ in entries], dtype=int).reshape(-1, 2)
    plan = plan_lu(n, pattern)
    header = [
        "/* Generated by il6sim.engine.fast.codegen from the model's sympy expressions. */",
        "#include <float.h>",
        "#include <math.h>",
        "",
        f"#define IL6_NS {n}",
        f"#define IL6_NP {m}",
        f"#define IL6_NNZ {len(entries)}",
        f"#define IL6_NO {len(outputs)}",
        "",
        _POWI,
        f"static const int il6_jac_row[{max(len(entries), 1)}] = "
        f"{{{', '.join(str(i) for i, _, _ in entries) or '0'}}};",
        f"static const int il6_jac_col[{max(len(entries), 1)}] = "
        f"{{{', '.join(str(j) for _, j, _ in entries) or '0'}}};",
        "",
    ]
    try:
        rhs = _function(
            _IndexedPrinter(dict(names)),
            "il6_rhs(const double *restrict y, const double *restrict p, double *restrict dy)",
            [sp.sympify(e) for e in model.rhs_expressions],
            [f"dy[{i}]" for i in range(n)],
        )
        jac = _function(
            _IndexedPrinter(dict(names)),
            "il6_jac(const double *restrict y, const double *restrict p, double *restrict jv)",
            [e for _, _, e in entries],
            [f"jv[{k}]" for k in range(len(entries))],
        )
        out = _function(
            _IndexedPrinter(dict(names)),
            "il6_outputs(const double *restrict y, const double *restrict p, double *restrict o)",
            outputs,
            [f"o[{k}]" for k in range(len(outputs))],
        )
    except (ValueError, TypeError, NotImplementedError) as exc:  # the printer's "not supported"
        raise ModelError(
            f"the model has an expression the C code generator cannot print ({exc}); "
            "fix: use functions with a C99 equivalent, or run with backend='reference'"
        ) from None
    source = "\n".join([*header, rhs, jac, out, lu_c_source(plan)])
    digest = hashlib.sha256(source.encode()).hexdigest()
    return GeneratedModel(source, n, m, pattern, plan, digest)
