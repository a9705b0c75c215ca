"""Sparse LU of ``M = d·I + c·J`` as straight-line C, planned at code-generation time.

CVODE's Newton iteration solves with ``M = I − γJ`` (Hindmarsh AC et al. 2005 ACM TOMS 31:363),
and the equilibration's Newton polish with ``J`` itself. The model's Jacobian is very sparse
(about 5 non-zeros per row), and its pattern is fixed by the model's equations, so the whole
symbolic part of a sparse LU factorisation is done once here, in Python:

1. the pattern of ``M`` is the Jacobian's structural non-zeros plus the diagonal;
2. a pivot order is chosen on the diagonal by the Markowitz criterion (at each step the pivot
   with the smallest ``(r − 1)(c − 1)``, ``r`` and ``c`` the non-zeros in its active row and
   column; ties by ``r + c``, then by index) — Markowitz HM 1957 Manage Sci 3:255; Duff IS,
   Erisman AM, Reid JK 1986 *Direct Methods for Sparse Matrices*, ch. 7;
3. the elimination is run symbolically to find the fill-in, and every entry of ``L + U`` gets a
   fixed slot in one array;

and the numeric part is printed as C with no loops, no index arrays and no branches except the
pivot checks (the "generated code" approach of, e.g., Davis TA 2006 *Direct Methods for Sparse
Linear Systems*, SIAM, ch. 6, taken to its end for one fixed small pattern).

Diagonal pivots in a fixed order need no numerical pivoting when ``M`` is close to diagonally
dominant, as ``I − γJ`` is for small ``γ``; for large ``γ`` the quality of the factors is
checked after the fact instead of by a threshold on the multipliers (which, with states whose
units differ by many orders of magnitude, rejects good pivots): the driver computes the
componentwise backward error of the first solve after each factorisation and refactors with
SUNDIALS' dense LU with partial pivoting if it exceeds :data:`MAX_BACKWARD_ERROR`.

The generated functions are

``il6_lu_load(jv, c, d, a)``
    ``a = d·I + c·J`` from the compact Jacobian values ``jv`` (fill-in slots set to 0);
``il6_lu_factor(a)``
    in-place ``M = L U`` in the fixed pivot order (unit ``L``; the slot of each pivot receives
    its reciprocal); returns 1 — and the caller falls back to dense LU with partial pivoting —
    when a pivot is zero or not finite or its reciprocal overflows;
``il6_lu_solve(a, x)``
    ``x ← M⁻¹ x`` with the factors (forward then backward substitution);
``il6_lu_backward_error(m, x, b)``
    the componentwise backward error ``max_i |b − M x|_i / (|M| |x| + |b|)_i`` of a solution
    ``x`` (``m`` the unfactored matrix; NaN when anything is not finite).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest componentwise backward error ``ω = max_i |b − M x|_i / (|M| |x| + |b|)_i`` (Oettli W,
#: Prager W 1964 Numer Math 6:405) accepted from the sparse LU; checked on the first solve
#: after each factorisation (Arioli M, Demmel JW, Duff IS 1989 SIAM J Matrix Anal Appl 10:165).
#: A backward-stable solve gives ``ω`` of a few unit round-offs; on the COVID-19 trial cohort
#: the diagonal-pivot LU gave at most 2e-13, while SUNDIALS' dense LU with partial pivoting gave
#: up to 4e-7 on the same matrices (rows of very different scale; docs/engine.md).
MAX_BACKWARD_ERROR = 1e-8


@dataclass(frozen=True)
class LUPlan:
    """The symbolic factorisation of one sparsity pattern.

    ``order`` is the pivot sequence (state indices); ``slot`` maps an entry ``(i, j)`` of
    ``L + U`` (pattern of ``M`` plus fill-in) to its place in the value array; ``jac_slots``
    gives the slot of each Jacobian entry (in the order of the pattern passed in).
    """

    n: int
    order: tuple[int, ...]
    slot: dict[tuple[int, int], int]
    matrix_entries: frozenset[tuple[int, int]]
    jac_slots: tuple[int, ...]
    n_matrix: int
    n_fill: int
    factor_flops: int
    solve_flops: int

    @property
    def n_slots(self) -> int:
        return len(self.slot)


def plan_lu(n: int, pattern: np.ndarray) -> LUPlan:
    """Pivot order and fill-in of a diagonal-pivot LU of a matrix with the Jacobian's pattern
    ``pattern`` (``(nnz, 2)`` rows and columns) plus the diagonal (Markowitz order)."""
    pattern = np.asarray(pattern, dtype=int).reshape(-1, 2)
    nonzero = np.zeros((n, n), dtype=bool)
    nonzero[pattern[:, 0], pattern[:, 1]] = True
    nonzero[np.arange(n), np.arange(n)] = True
    n_matrix = int(nonzero.sum())
    matrix_entries = frozenset((int(i), int(j)) for i, j in zip(*np.nonzero(nonzero), strict=True))
    active = np.ones(n, dtype=bool)
    order: list[int] = []
    factor_flops = 0
    for _ in range(n):
        rows = (nonzero & active[None, :]).sum(axis=1) - 1  # off-diagonals in the active row
        cols = (nonzero & active[:, None]).sum(axis=0) - 1  # ... and in the active column
        candidates = np.flatnonzero(active)
        k = min(candidates, key=lambda i: (rows[i] * cols[i], rows[i] + cols[i], i))
        order.append(int(k))
        active[k] = False
        below = np.flatnonzero(nonzero[:, k] & active)
        right = np.flatnonzero(nonzero[k, :] & active)
        nonzero[np.ix_(below, right)] = True  # fill-in
        factor_flops += len(below) * (1 + len(right))
    entries = sorted(zip(*np.nonzero(nonzero), strict=True))
    slot = {(int(i), int(j)): s for s, (i, j) in enumerate(entries)}
    jac_slots = tuple(slot[(int(i), int(j))] for i, j in pattern)
    return LUPlan(n, tuple(order), slot, matrix_entries, jac_slots, n_matrix, len(slot) - n_matrix,
                  factor_flops, 2 * len(slot) - n)


def lu_c_source(plan: LUPlan) -> str:
    """C source of ``il6_lu_load``, ``il6_lu_factor`` and ``il6_lu_solve`` for ``plan``."""
    n, slot = plan.n, plan.slot
    position = {k: p for p, k in enumerate(plan.order)}
    later = {k: [] for k in range(n)}  # L entries (rows after k) and U entries (columns after k)
    upper = {k: [] for k in range(n)}
    for i, j in slot:
        if position[i] > position[j]:
            later[j].append(i)
        elif position[i] < position[j]:
            upper[i].append(j)
    for k in range(n):
        later[k].sort(key=position.get)
        upper[k].sort(key=position.get)

    jac_of_slot = {s: k for k, s in enumerate(plan.jac_slots)}
    load = ["static void il6_lu_load(const double *restrict jv, double c, double d, "
            "double *restrict a)", "{"]
    for (i, j), s in sorted(slot.items(), key=lambda e: e[1]):
        k = jac_of_slot.get(s)
        term = f"c * jv[{k}]" if k is not None else None
        if i == j:
            load.append(f"    a[{s}] = d + {term};" if term else f"    a[{s}] = d;")
        else:
            load.append(f"    a[{s}] = {term};" if term else f"    a[{s}] = 0.0;")
    load += ["}", ""]

    factor = ["static int il6_lu_factor(double *restrict a)", "{", "    double r;"]
    for k in plan.order:
        pivot = slot[(k, k)]
        factor.append(f"    r = a[{pivot}]; /* pivot: state {k} */")
        factor.append("    if (!(fabs(r) > 0.0 && fabs(r) <= DBL_MAX)) return 1;")
        factor.append(f"    r = 1.0 / r; a[{pivot}] = r;")
        factor.append("    if (!(fabs(r) <= DBL_MAX)) return 1;")
        for i in later[k]:
            factor.append(f"    a[{slot[(i, k)]}] *= r;")
        for i in later[k]:
            for j in upper[k]:
                factor.append(f"    a[{slot[(i, j)]}] -= a[{slot[(i, k)]}] * a[{slot[(k, j)]}];")
    factor += ["    return 0;", "}", ""]

    solve = ["static void il6_lu_solve(const double *restrict a, double *restrict x)", "{"]
    for k in plan.order:  # forward: L y = x (unit diagonal)
        for i in later[k]:
            solve.append(f"    x[{i}] -= a[{slot[(i, k)]}] * x[{k}];")
    for k in reversed(plan.order):  # backward: U x = y (reciprocal pivots stored)
        for j in upper[k]:
            solve.append(f"    x[{k}] -= a[{slot[(k, j)]}] * x[{j}];")
        solve.append(f"    x[{k}] *= a[{slot[(k, k)]}];")
    solve += ["}", ""]

    rows: dict[int, list[tuple[int, int]]] = {i: [] for i in range(n)}
    for (i, j), s in sorted(slot.items(), key=lambda e: e[1]):
        if (i, j) in plan.matrix_entries:
            rows[i].append((j, s))
    error = ["static double il6_lu_backward_error(const double *restrict m, "
             "const double *restrict x, const double *restrict b)",
             "{", "    double r, t, v, q, omega = 0.0;"]
    for i in range(n):  # max_i |b - M x|_i / (|M| |x| + |b|)_i, NaN propagating
        error.append(f"    r = b[{i}]; t = fabs(r);")
        for j, s in rows[i]:
            error.append(f"    v = m[{s}] * x[{j}]; r -= v; t += fabs(v);")
        error.append("    q = t > 0.0 ? fabs(r) / t : fabs(r); if (!(q <= omega)) omega = q;")
    error += ["    return omega;", "}", ""]

    header = [
        f"/* Sparse LU of d*I + c*J: {plan.n_matrix} entries + {plan.n_fill} fill-in, "
        f"~{plan.factor_flops} multiply-adds to factor, ~{plan.solve_flops} to solve. */",
        f"#define IL6_LU_NNZ {plan.n_slots}",
        f"#define IL6_LU_MAX_BACKWARD_ERROR {MAX_BACKWARD_ERROR!r}",
        "",
    ]
    return "\n".join([*header, *load, *factor, *solve, *error])
