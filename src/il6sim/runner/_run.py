"""``run_chunked``: a population cut into chunks, run in this process or on Dask, resumable.

The unit of work is a chunk of consecutive patient indices. A task maps an index array to a
table with a ``patient`` column; each finished chunk is stored at once (:mod:`._store`), so a
run that stops for any reason resumes where it stopped. Results do not depend on the chunk size
or on where a chunk ran, provided the task draws its randomness per patient
(:func:`~il6sim.runner.patient_rngs`).

With Dask (Rocklin M 2015, Proc. SciPy, doi:10.25080/Majora-7b98e3ed-013) chunks are futures;
a chunk lost with a worker is recomputed by the scheduler, a chunk that raises is retried
``retries`` times, and the client writes each chunk as it arrives (``as_completed``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..errors import InputError
from ._fingerprint import canonical, fingerprint
from ._store import ChunkStore

#: Patients per chunk when none is given: large enough to keep the fast engine's threads busy,
#: small enough that a lost chunk costs seconds.
DEFAULT_CHUNK_SIZE = 256


class ChunkTask(Protocol):
    """What :func:`run_chunked` runs: picklable, deterministic per patient index."""

    def __call__(self, indices: np.ndarray) -> pd.DataFrame:
        """Rows (one or more per patient, a ``patient`` column) for these population indices."""

    def config(self) -> dict[str, Any]:
        """Everything that determines the results, as plain data (tables and arrays allowed)."""


def _whole(value: Any, field: str, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{field} = {value!r}; fix: {fix}")
    return int(value)


def plan_chunks(done: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` spans of at most ``chunk_size`` consecutive patients not yet done."""
    spans = []
    todo = np.flatnonzero(~done)
    if len(todo) == 0:
        return spans
    breaks = np.flatnonzero(np.diff(todo) > 1) + 1
    for run in np.split(todo, breaks):
        start, stop = int(run[0]), int(run[-1]) + 1
        spans += [(a, min(a + chunk_size, stop)) for a in range(start, stop, chunk_size)]
    return spans


def run_chunk(task: ChunkTask, start: int, stop: int) -> pd.DataFrame:
    """Run ``task`` on patients ``start..stop-1`` and check that it answered for exactly them."""
    indices = np.arange(start, stop)
    table = task(indices)
    name = type(task).__name__
    if not isinstance(table, pd.DataFrame) or "patient" not in table.columns:
        raise InputError(
            f"task {name} returned a {type(table).__name__} without a 'patient' column; "
            "fix: return a DataFrame with one or more rows per patient and a 'patient' column"
        )
    patients = table["patient"].to_numpy()
    if not np.issubdtype(patients.dtype, np.integer) or not np.array_equal(
        np.unique(patients), indices
    ):
        raise InputError(
            f"task {name} returned rows for patients other than {start}..{stop - 1}; "
            "fix: return rows for every index it is given, with those indices in 'patient'"
        )
    return table


def _progress(enabled: bool, total: int, done: int) -> Progress:
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("patients"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not enabled,
    )
    bar.add_task("simulating", total=total, completed=done)
    return bar


@contextmanager
def _client(scheduler: Any) -> Iterator[Any]:
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if not isinstance(scheduler, str):
        raise InputError(
            f"scheduler = {scheduler!r}; fix: give a Dask scheduler address such as "
            "'tcp://127.0.0.1:8786', a dask.distributed.Client, or nothing to run in this process"
        )
    try:
        client = Client(scheduler)  # waits distributed.comm.timeouts.connect (dask config)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at '{scheduler}' ({exc}); fix: start one "
            "(`dask scheduler`, then `dask worker ADDRESS`) or leave scheduler unset"
        ) from None
    try:
        yield client
    finally:
        client.close()


def _identity(value: Any) -> Any:
    return value


def _run_dask(task, spans, store, bar, scheduler, retries: int, advance) -> None:
    from distributed import as_completed

    with _client(scheduler) as client:
        run = uuid.uuid4().hex[:8]
        # the task travels once, as a result the scheduler can recompute if its worker dies
        shared = client.submit(_identity, task, key=f"il6sim-task-{run}", pure=False)
        futures = {
            client.submit(run_chunk, shared, a, b, key=f"il6sim-chunk-{run}-{a}-{b}",
                          retries=retries, pure=False): (a, b)
            for a, b in spans
        }
        try:
            for future in as_completed(futures):
                a, b = futures[future]
                store.write_chunk(a, b, future.result())
                future.release()
                advance(b - a)
        finally:
            client.cancel([f for f in [*futures, shared] if not f.done()])


def run_chunked(
    task: ChunkTask,
    n_patients: int,
    *,
    out_dir: str | os.PathLike,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    scheduler: Any = None,
    progress: bool = True,
    retries: int = 2,
    on_progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run ``task`` on patients ``0..n_patients-1`` in chunks; store, resume, collect.

    Parameters
    ----------
    task : a picklable callable object mapping an index array to a DataFrame with a ``patient``
        column (one or more rows per patient), with a ``config()`` method returning everything
        that determines its results (e.g. :class:`~il6sim.runner.PopulationTask`).
    n_patients : population size.
    out_dir : the run's folder. ``out_dir/manifest.json`` records ``n_patients``, the task, a
        fingerprint of ``task.config()`` and the il6sim version; ``out_dir/chunks/`` holds one
        Parquet file per finished chunk. Running again with the same folder resumes: finished
        chunks are not redone. A folder that holds a different run is an error.
    chunk_size : patients per chunk (the unit that is stored, retried and sent to a worker).
        Results do not depend on it.
    scheduler : ``None`` runs chunks one after another in this process (the fast engine uses
        ``$IL6SIM_WORKERS`` threads within a chunk); a Dask scheduler address
        (``"tcp://HOST:PORT"``) or a :class:`distributed.Client` runs chunks as Dask futures.
        Workers need il6sim installed, as does a remote scheduler.
    progress : show a progress bar of patients done (on standard error).
    retries : on Dask, how many times a chunk that raised is tried again.
    on_progress : called with ``(patients done, n_patients)`` after each stored chunk (e.g. to
        drive a web page's progress bar); an exception it raises stops the run, and the chunks
        stored so far are kept for a resume (this is how a caller cancels).

    Returns
    -------
    pandas.DataFrame
        every chunk's rows sorted by patient (row order within a patient kept), also written to
        ``out_dir/results.parquet``.

    Raises
    ------
    InputError
        bad arguments, a folder holding another run, or a task that answers for the wrong
        patients.
    """
    n_patients = _whole(n_patients, "n_patients", "give the population size, 1 or more")
    chunk_size = _whole(chunk_size, "chunk_size", "give the patients per chunk, 1 or more")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InputError(f"retries = {retries!r}; fix: give a whole number of 0 or more")
    if not callable(task) or not callable(getattr(task, "config", None)):
        raise InputError(
            f"task {task!r} is not a callable object with a config() method; fix: pass e.g. "
            "a PopulationTask, or an object with __call__(indices) and config()"
        )
    if hasattr(task, "__len__") and len(task) < n_patients:
        raise InputError(
            f"n_patients = {n_patients} but the task describes {len(task)} patients; "
            f"fix: give n_patients of at most {len(task)}"
        )
    config = task.config()
    if not isinstance(config, dict):
        raise InputError(f"task.config() returned a {type(config).__name__}; fix: return a dict")
    store = ChunkStore(out_dir, n_patients, type(task).__qualname__, canonical(config),
                       fingerprint(config))
    done = store.done_mask()
    spans = plan_chunks(done, chunk_size)
    count = [int(done.sum())]

    def advance(n: int) -> None:
        count[0] += n
        bar.advance(bar.task_ids[0], n)
        if on_progress is not None:
            on_progress(count[0], n_patients)

    with _progress(progress, n_patients, count[0]) as bar:
        if spans and scheduler is None:
            for a, b in spans:
                store.write_chunk(a, b, run_chunk(task, a, b))
                advance(b - a)
        elif spans:
            _run_dask(task, spans, store, bar, scheduler, retries, advance)
    result = store.collect()
    missing = np.setdiff1d(np.arange(n_patients), result["patient"].to_numpy())
    if len(missing):  # pragma: no cover - only if chunk files were removed during the run
        raise InputError(
            f"{len(missing)} patients have no stored results (first: {missing[0]}); "
            "fix: run again with the same out_dir to compute them"
        )
    return result
