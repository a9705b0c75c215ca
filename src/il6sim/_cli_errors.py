"""How every il6sim command reports an error: ``error: <message>`` on stderr, exit code 2.

Shared by the main command group (:mod:`il6sim.cli`) and by the packages that add their own
commands (``register(app)``), so a command reports errors the same way when it is mounted on
another Typer app.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from .errors import Il6simError

#: Exit code of every reported (non-crash) error.
ERROR_EXIT_CODE = 2


def report_error(message: str) -> None:
    """Print ``error: <message>`` on stderr (one line, no markup)."""
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        f"error: {message}", markup=False, style="bold red" if sys.stderr.isatty() else None
    )


def reporting_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command so an :class:`Il6simError` becomes ``error: ...`` and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Il6simError as exc:
            report_error(str(exc))
            raise typer.Exit(ERROR_EXIT_CODE) from None

    return wrapper
