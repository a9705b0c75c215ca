"""Background jobs of the dashboard (twin fits, trials): progress, result, cancel.

A job runs ``work(payload, report)`` in a separate process forked from a warm *forkserver*
(:mod:`multiprocessing`, ``forkserver`` start method, preloading
:mod:`il6sim.dashboard._preload` so the model and fast engine are loaded once). ``report(fraction,
message)`` sends progress back through a pipe; a monitor thread in the server records it.
Cancel terminates the process, so a cancelled job stops using the CPU at once whatever it is
doing (a least-squares fit cannot be interrupted from inside). The server itself stays
responsive while a job runs.

The page polls :meth:`JobManager.snapshot` through ``GET /api/jobs/{id}``.
"""

from __future__ import annotations

import multiprocessing
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Il6simError, InputError

__all__ = ["Job", "JobManager", "Report"]

#: A job reports progress as ``report(fraction between 0 and 1, message)``.
Report = Callable[[float, str], None]

#: Finished jobs kept for the page to read (oldest dropped first).
KEEP_FINISHED = 20

#: Module the forkserver imports once before forking jobs.
PRELOAD = "il6sim.dashboard._preload"

_CONTEXT_LOCK = threading.Lock()


def _context():
    """The ``forkserver`` multiprocessing context, preloading :data:`PRELOAD`."""
    with _CONTEXT_LOCK:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([PRELOAD])
        return context


def start_forkserver() -> None:
    """Start the forkserver now (it loads the model, a few seconds) rather than at the first
    job; blocks until it is ready."""
    process = _context().Process(target=_noop, name="il6sim-dashboard-warmup")
    process.start()
    process.join()


def _noop() -> None:
    """Does nothing: starting it starts the forkserver."""


def _child(work: Callable[[Any, Report], Any], payload: Any, connection: Any) -> None:
    """Body of a job's process: run ``work`` and send ``("done", result)`` or ``("error",
    message)``; progress goes as ``("progress", fraction, message)``."""

    def report(fraction: float, message: str) -> None:
        connection.send(("progress", float(fraction), str(message)))

    try:
        result = work(payload, report)
    except Il6simError as exc:
        connection.send(("error", str(exc)))
    except Exception as exc:  # a crash: say what it was, keep the traceback for the log
        connection.send(("error", f"unexpected {type(exc).__name__}: {exc} (a bug; please "
                                  f"report it)\n{traceback.format_exc()}"))
    else:
        connection.send(("done", result))
    finally:
        connection.close()


@dataclass
class Job:
    """One background job and what the page shows of it."""

    id: str
    kind: str
    status: str = "starting"  # starting, running, done, failed, cancelled
    progress: float = 0.0
    message: str = "starting"
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: Any = None
    error: str | None = None
    process: Any = None
    folder: Path | None = None  # removed when the job ends

    @property
    def active(self) -> bool:
        """Whether the job has not finished yet."""
        return self.status in ("starting", "running")

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /api/jobs/{id}`` returns: status, progress, message, elapsed seconds, and
        the result (``done``) or the error (``failed``)."""
        end = self.finished if self.finished is not None else time.monotonic()
        out = {"id": self.id, "kind": self.kind, "status": self.status,
               "progress": round(self.progress, 4), "message": self.message,
               "elapsed_s": round(end - self.started, 2)}
        if self.status == "done":
            out["result"] = self.result
        if self.status == "failed":
            out["error"] = self.error
        return out


class JobManager:
    """Starts, tracks and cancels background jobs; at most one active job of each kind."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, work: Callable[[Any, Report], Any], payload: Any, *,
              cleanup: Path | None = None) -> Job:
        """Run ``work(payload, report)`` in a new process; ``work`` must be a module-level
        function (it is pickled by name). The folder ``cleanup`` is removed when the job ends,
        however it ends. Raises :class:`InputError` if a ``kind`` job is running."""
        with self._lock:
            running = [j for j in self._jobs.values() if j.kind == kind and j.active]
            if running:
                raise InputError(f"a {kind} job is already running; fix: wait for it to "
                                 "finish or press Cancel")
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, folder=cleanup)
            self._jobs[job.id] = job
            self._forget_old()
        thread = threading.Thread(target=self._run, args=(job, work, payload),
                                  daemon=True, name=f"il6sim-job-{job.id}")
        thread.start()
        return job

    def _run(self, job: Job, work: Callable[[Any, Report], Any], payload: Any) -> None:
        try:
            self._start_and_follow(job, work, payload)
        finally:
            if job.folder is not None:
                shutil.rmtree(job.folder, ignore_errors=True)

    def _start_and_follow(self, job: Job, work: Callable[[Any, Report], Any],
                          payload: Any) -> None:
        context = _context()
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(work, payload, writer), daemon=True,
                                  name=f"il6sim-{job.kind}-{job.id}")
        if job.status == "cancelled":
            return
        try:
            process.start()  # the first job waits here while the forkserver loads the model
        except Exception as exc:  # e.g. the forkserver could not start: say so in the page
            with self._lock:
                if job.active:
                    job.status, job.message, job.finished = "failed", "failed", time.monotonic()
                    job.error = f"the {job.kind} process could not start ({exc})"
            return
        finally:
            writer.close()
        with self._lock:
            cancelled = job.status == "cancelled"
            if not cancelled:
                job.process = process
                job.status, job.message = "running", "running"
        if cancelled:
            _stop(process)
            return
        self._follow(job, reader, process)

    def _follow(self, job: Job, reader: Any, process: Any) -> None:
        """Record the messages of ``process`` until it ends or the job is cancelled."""
        outcome = None
        while outcome is None and job.status != "cancelled":
            try:
                if not reader.poll(0.2):
                    if not process.is_alive() and not reader.poll(0):
                        outcome = ("error", f"the {job.kind} process stopped unexpectedly "
                                            f"(exit code {process.exitcode})")
                    continue
                message = reader.recv()
            except (EOFError, OSError):
                outcome = ("error", f"the {job.kind} process stopped unexpectedly "
                                    f"(exit code {process.exitcode})")
                continue
            if message[0] == "progress":
                with self._lock:
                    if job.active:
                        job.progress, job.message = message[1], message[2]
            else:
                outcome = message
        reader.close()
        process.join(timeout=5)
        with self._lock:
            if job.status == "cancelled" or outcome is None:
                return
            job.finished = time.monotonic()
            if outcome[0] == "done":
                job.status, job.progress, job.message = "done", 1.0, "done"
                job.result = outcome[1]
            else:
                job.status, job.message = "failed", "failed"
                job.error = str(outcome[1]).split("\n", 1)[0]
                if "\n" in str(outcome[1]):
                    import logging

                    logging.getLogger(__name__).error("%s job %s: %s", job.kind, job.id,
                                                      outcome[1])

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; :class:`InputError` if there is none."""
        job = self._jobs.get(job_id)
        if job is None:
            raise InputError(f"no job '{job_id}' (it may have been cleared); fix: start a new "
                             "run")
        return job

    def cancel(self, job_id: str) -> Job:
        """Stop job ``job_id`` now: its process is terminated (killed if it does not end)."""
        job = self.get(job_id)
        with self._lock:
            if not job.active:
                return job
            job.status, job.message = "cancelled", "cancelled"
            job.finished = time.monotonic()
            process = job.process
        if process is not None:
            _stop(process)
        return job

    def shutdown(self) -> None:
        """Cancel every active job (the server is stopping)."""
        for job in list(self._jobs.values()):
            if job.active:
                self.cancel(job.id)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if not j.active]
        for job in sorted(finished, key=lambda j: j.started)[:-KEEP_FINISHED]:
            del self._jobs[job.id]


def _stop(process: Any) -> None:
    process.terminate()
    process.join(timeout=3)
    if process.is_alive():
        process.kill()
        process.join(timeout=3)
