"""Population tables on disk: Parquet with the declaration and fit information in its metadata.

A file holds one row per virtual patient (columns as made by :func:`._sample.draw`, plus the
admission, laboratory and outcome columns of a fitted population) and, under the metadata key
``il6sim.population``, a JSON document with the declaration itself (so the file is
self-contained), the seed, the il6sim version and, for a fitted population, the fit summary and
goodness-of-fit table.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError

__all__ = ["METADATA_KEY", "load_table", "save_table"]

METADATA_KEY = b"il6sim.population"
_REQUIRED = ("patient", "inoculum", "death_threshold")


def _plain(value: Any) -> Any:
    """JSON-safe copy (numpy scalars and arrays to Python, NaN to None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def save_table(table: pd.DataFrame, path: str | Path, *, spec: dict[str, Any],
               info: dict[str, Any] | None = None) -> Path:
    """Write a population table to Parquet with its declaration (``spec``, the YAML mapping)
    and ``info`` (seed, fit summary, ...) in the file's metadata."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        raise InputError(f"population file '{path}' must end in .parquet; fix: rename it")
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
    document = {"spec": _plain(dict(spec)), "il6sim_version": version("il6sim"),
                **_plain(info or {})}
    metadata = {**(arrow.schema.metadata or {}), METADATA_KEY: json.dumps(document).encode()}
    pq.write_table(arrow.replace_schema_metadata(metadata), path)
    return path


def load_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a population table written by :func:`save_table`: ``(table, metadata document)``.

    Raises
    ------
    InputError
        the file is missing, not Parquet, not an il6sim population or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"population file '{path}' not found; fix: give the path of a file "
                         "written by 'il6sim population fit' or 'il6sim population sample'")
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"population file '{path.name}' is not a readable Parquet file "
                         f"({' '.join(str(exc).split())[:120]}); fix: give a .parquet file "
                         "written by il6sim") from None
    raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(f"population file '{path.name}' has no il6sim population metadata; "
                         "fix: write it with VirtualPopulation.save() or 'il6sim population'")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError:
        raise InputError(f"population file '{path.name}': its il6sim metadata is damaged; fix: "
                         "write the file again") from None
    table = arrow.to_pandas()
    missing = [c for c in _REQUIRED if c not in table]
    if missing:
        raise InputError(f"population file '{path.name}' lacks column '{missing[0]}'; fix: write "
                         "it again with il6sim (columns must not be dropped)")
    return table, document
