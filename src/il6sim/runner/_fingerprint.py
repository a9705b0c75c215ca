"""Stable fingerprints of a task's configuration, so a resumed run can prove it is the same run.

A configuration is plain data (numbers, strings, lists, mappings) plus tables and arrays; it is
turned into canonical JSON (sorted keys, tables replaced by a hash of their contents) and hashed
with SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import Model


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def table_hash(table: pd.DataFrame) -> str:
    """SHA-256 over a table's column names, dtypes and values (row order matters, not the index).

    Uses :func:`pandas.util.hash_pandas_object`, which is deterministic across processes.
    """
    header = json.dumps([[str(c), str(t)] for c, t in table.dtypes.items()]).encode()
    rows = pd.util.hash_pandas_object(table, index=False).to_numpy()
    return _digest(header + rows.tobytes())


def canonical(value: Any) -> Any:
    """``value`` as JSON-safe data: tables and arrays become short descriptions with a hash."""
    if isinstance(value, pd.DataFrame):
        return {"table": [str(c) for c in value.columns], "rows": len(value),
                "sha256": table_hash(value)}
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {"array": list(array.shape), "dtype": str(array.dtype),
                "sha256": _digest(array.tobytes())}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise InputError(
        f"task configuration holds a {type(value).__name__}, which has no stable fingerprint; "
        "fix: make config() return numbers, strings, lists, dicts, arrays or DataFrames"
    )


def fingerprint(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``config`` (key order does not matter)."""
    text = json.dumps(canonical(config), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return _digest(text.encode())


#: Seed of the fixed points at which :func:`model_fingerprint` evaluates a model.
_SIGNATURE_SEED = 20261203
#: Significant digits kept of each evaluated value.
_SIGNATURE_DIGITS = 7


def _quantised(values: np.ndarray, scale: np.ndarray) -> str:
    """``values`` to :data:`_SIGNATURE_DIGITS` significant digits, with anything under 1e-9 of
    its ``scale`` read as 0 (rounding residue of an expression written another way)."""
    values = np.asarray(values, float).ravel()
    floor = 1e-9 * np.maximum(np.abs(np.asarray(scale, float).ravel()), 1e-9)
    values = np.where(np.abs(values) < floor, 0.0, values)
    return ",".join(f"{v:.{_SIGNATURE_DIGITS}g}" for v in values)


def _numeric_signature(model: Model) -> list[str]:
    """What the model computes at three fixed points (states and parameters drawn near their
    declared values): every state derivative, every read-out and every dose route's jump.

    Numbers, not printed expressions: SymPy may print the same expression in another, equal
    form in another process (its results depend on what it has cached), and a resumed run must
    recognise the same model."""
    rng = np.random.default_rng(_SIGNATURE_SEED)
    y0, p0 = model.initial_guess(), model.default_parameters()
    lines = []
    for _ in range(3):
        y = y0 * rng.uniform(0.5, 1.0, y0.shape) + rng.uniform(0.0, 0.05, y0.shape)
        p = p0 * rng.uniform(0.8, 1.25, p0.shape)
        with np.errstate(all="ignore"):
            lines.append("rhs " + _quantised(model.rhs(0.0, y, p), y))
            outputs = np.array([np.asarray(v, float) for v in model.output_values(y, p).values()])
            lines.append("outputs " + _quantised(outputs, outputs))
            for agent, route in sorted(model.route_expressions):
                state, jump = model.dose_jump(agent, route, 1.7, p)
                jump = np.atleast_1d(np.asarray(jump, float))
                lines.append(f"route {agent} {route} {state} " + _quantised(jump, jump))
    return lines


def model_fingerprint(model: Model) -> str:
    """SHA-256 of what makes a model compute what it does: parameter names and default values,
    state, read-out and dose-route names, and the values of its right-hand side, read-outs and
    dose routes at fixed points (:func:`_numeric_signature`)."""
    parts = [
        repr([(p.name, p.value) for p in model.parameters]),
        repr(model.state_names),
        repr(list(model.output_expressions)),
        repr(sorted(model.route_expressions)),
        *_numeric_signature(model),
    ]
    return _digest("\n".join(parts).encode())
