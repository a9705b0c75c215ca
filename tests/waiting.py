"""Waiting in tests: on a state or an event, never on a short wall-clock deadline.

A test that waits for something (a chunk file, a job status, a page element) polls for that
state and gives up only after :data:`LONG_WAIT_S`, which a loaded machine (a fresh clone with
another CPU-heavy job beside it, load average 15) stays far below; the timeout exists only so
that a real hang fails instead of blocking the suite. Nothing asserts how fast anything is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

#: Seconds before a wait is a failure (a hang), for any wait in the tests.
LONG_WAIT_S = 600.0

#: The same for Playwright, in milliseconds.
LONG_WAIT_MS = int(LONG_WAIT_S * 1000)


def wait_until(condition: Callable[[], Any], what: str, *, timeout: float = LONG_WAIT_S,
               interval: float = 0.05, process: Any = None) -> Any:
    """Poll ``condition`` until it returns something true and return that.

    Fails the test when ``timeout`` seconds pass first, or when ``process`` (a
    :class:`subprocess.Popen`) ends before the condition holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            value = condition()  # it may have come true as the process ended
            if value:
                return value
            pytest.fail(f"{what}: the process ended (exit {process.returncode}) first")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {timeout:g} s (a hang?)")
        time.sleep(interval)
