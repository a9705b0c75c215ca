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


def model_fingerprint(model: Model) -> str:
    """SHA-256 of what makes a model compute what it does: parameter names and default values,
    state names, the symbolic right-hand side, read-outs and dose routes."""
    parts = [
        repr([(p.name, p.value) for p in model.parameters]),
        repr(model.state_names),
        *(str(e) for e in model.rhs_expressions),
        *(f"{k}={v}" for k, v in model.output_expressions.items()),
        *(f"{k}={v}" for k, v in sorted(model.route_expressions.items())),
    ]
    return _digest("\n".join(parts).encode())
