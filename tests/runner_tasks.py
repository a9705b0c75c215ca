"""Small picklable tasks for tests/test_runner.py (importable by Dask workers and subprocesses).

Run as a script (``python tests/runner_tasks.py OUT_DIR N``) it starts a slow chunked run, for the
test that kills a run with SIGKILL and resumes it.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from il6sim.runner import patient_rngs, run_chunked


class DrawTask:
    """``rows`` rows per patient of per-patient random draws; logs each call in ``log_dir``.

    ``sleep`` (s per call), ``fail_after`` (raise on call number ``fail_after + 1``) and
    ``log_dir`` change how it runs, not what it returns, so they are not in :meth:`config`.
    """

    def __init__(self, seed=0, rows=2, *, sleep=0.0, fail_after=None, log_dir=None):
        self.seed, self.rows = seed, rows
        self.sleep, self.fail_after, self.log_dir = sleep, fail_after, log_dir
        self.calls = 0

    def config(self):
        return {"seed": self.seed, "rows": self.rows}

    def __call__(self, indices):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("interrupted on purpose")
        self.calls += 1
        if self.log_dir is not None:
            name = f"{indices[0]}-{indices[-1] + 1}-{os.getpid()}-{uuid.uuid4().hex}.start"
            (Path(self.log_dir) / name).touch()
        time.sleep(self.sleep)
        rngs = patient_rngs(self.seed, indices)
        return pd.DataFrame({
            "patient": np.repeat(indices, self.rows),
            "row": np.tile(np.arange(self.rows), len(indices)),
            "draw": np.concatenate([rng.normal(size=self.rows) for rng in rngs]),
            "label": np.repeat([f"p{i}" for i in indices], self.rows),
        })


def logged_calls(log_dir) -> list[tuple[int, int, int]]:
    """``(start, stop, pid)`` of every call a :class:`DrawTask` logged."""
    calls = []
    for path in Path(log_dir).glob("*.start"):
        start, stop, pid, _ = path.stem.split("-")
        calls.append((int(start), int(stop), int(pid)))
    return sorted(calls)


if __name__ == "__main__":
    out_dir, n = sys.argv[1], int(sys.argv[2])
    run_chunked(DrawTask(seed=5, sleep=0.15), n, out_dir=out_dir, chunk_size=1, progress=False)
