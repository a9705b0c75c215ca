"""The on-disk layout of a chunked run: a manifest, one Parquet file per finished chunk, results.

::

    out_dir/
      manifest.json                      n_patients, task, configuration fingerprint, version
      chunks/patients-000000000-000000256.parquet   patients [0, 256), written atomically
      results.parquet                    every chunk, sorted by patient (written at the end)

Every file is written to a temporary name in the same folder and renamed into place
(:func:`os.replace` is atomic on POSIX and Windows), so a run killed at any moment leaves only
whole chunk files; the temporary leftovers are removed when the run resumes. A chunk file that
is damaged all the same (truncated by a full disk, a copy cut short, edited by hand) is removed
when the run resumes, and its patients are simulated again.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

MANIFEST = "manifest.json"
RESULTS = "results.parquet"
FORMAT = "il6sim-chunked-run/1"
_CHUNK = re.compile(r"^patients-(\d{9})-(\d{9})\.parquet$")
_TEMP_PREFIX = ".tmp-"


def chunk_name(start: int, stop: int) -> str:
    """File name of the chunk holding patients ``start`` to ``stop - 1``."""
    return f"patients-{start:09d}-{stop:09d}.parquet"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    temp = path.with_name(f"{_TEMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


class ChunkStore:
    """A run folder: checks or creates its manifest, lists finished chunks, writes new ones."""

    def __init__(self, out_dir: str | os.PathLike, n_patients: int, task_name: str,
                 config: dict[str, Any], config_fingerprint: str):
        self.root = Path(out_dir)
        self.chunks = self.root / "chunks"
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"out_dir '{self.root}' is a file; fix: give a folder path")
        self.chunks.mkdir(parents=True, exist_ok=True)
        self.manifest = {
            "format": FORMAT,
            "n_patients": int(n_patients),
            "task": task_name,
            "fingerprint": config_fingerprint,
            "il6sim_version": version("il6sim"),
            "config": config,
        }
        self._open()

    def _open(self) -> None:
        path = self.root / MANIFEST
        if not path.exists():
            if any(self.chunks.iterdir()):
                raise InputError(
                    f"out_dir '{self.root}' holds chunks but no {MANIFEST}; "
                    "fix: use a new out_dir (--out) or delete this one"
                )
            record = {**self.manifest, "created": datetime.now(UTC).isoformat()}
            _atomic_write(path, lambda p: p.write_text(json.dumps(record, indent=2) + "\n"))
            return
        try:
            found = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(
                f"cannot read {path} ({exc}); fix: use a new out_dir (--out) or delete this one"
            ) from None
        for key in ("format", "n_patients", "task", "fingerprint", "il6sim_version"):
            if found.get(key) != self.manifest[key]:
                what = "configuration" if key == "fingerprint" else key
                raise InputError(
                    f"out_dir '{self.root}' holds a run with a different {what} "
                    f"({found.get(key)!r}, this run: {self.manifest[key]!r}); "
                    "fix: use a new out_dir (--out) or delete this one"
                )
        for leftover in self.chunks.glob(f"{_TEMP_PREFIX}*"):
            leftover.unlink(missing_ok=True)
        self.recomputed = self._drop_damaged_chunks()

    def _drop_damaged_chunks(self) -> list[tuple[int, int]]:
        """Remove chunk files whose Parquet footer cannot be read or that hold no rows; their
        patients are then simulated again. Returns the spans removed."""
        import pyarrow.parquet as pq

        removed = []
        for start, stop in self.finished():
            path = self.chunks / chunk_name(start, stop)
            try:
                rows = pq.read_metadata(path).num_rows
            except Exception:  # pyarrow raises several kinds for a damaged file
                rows = 0
            if rows == 0 and stop > start:
                path.unlink(missing_ok=True)
                removed.append((start, stop))
        return removed

    def finished(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of every finished chunk, sorted."""
        spans = []
        for path in self.chunks.iterdir():
            match = _CHUNK.match(path.name)
            if match:
                spans.append((int(match[1]), int(match[2])))
        return sorted(spans)

    def done_mask(self) -> np.ndarray:
        """Which patients are in a finished chunk."""
        done = np.zeros(self.manifest["n_patients"], dtype=bool)
        for start, stop in self.finished():
            done[start:stop] = True
        return done

    def write_chunk(self, start: int, stop: int, table: pd.DataFrame) -> None:
        """Write one finished chunk atomically."""
        _atomic_write(self.chunks / chunk_name(start, stop),
                      lambda p: table.to_parquet(p, index=False))

    def collect(self) -> pd.DataFrame:
        """Every finished chunk, sorted by patient (stable within a patient), written to
        ``results.parquet`` and returned."""
        spans = self.finished()
        tables = [pd.read_parquet(self.chunks / chunk_name(a, b)) for a, b in spans]
        result = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
        result = result.sort_values("patient", kind="stable").reset_index(drop=True)
        _atomic_write(self.root / RESULTS, lambda p: result.to_parquet(p, index=False))
        return result
