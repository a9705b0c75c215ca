"""How every il6sim command reports an error: ``error: <message>`` on stderr, exit code 2.

Shared by the main command group (:mod:`il6sim.cli`) and by the packages that add their own
commands (``register(app)``), so a command reports errors the same way when it is mounted on
another Typer app.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from .errors import Il6simError, InputError

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


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _writable_parent(path: Path, option: str) -> None:
    """The folder ``path`` goes into exists as a folder we can write, or can be made."""
    base = _nearest_existing(path.parent if path.parent != Path("") else Path("."))
    if not base.is_dir():
        raise InputError(f"{option} '{path}': '{base}' is a file, not a folder; fix: choose a "
                         "path in a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{option} '{path}': folder '{base}' is not writable; fix: choose a "
                         "folder you can write to")


def check_output_file(path: Path | None, option: str = "--out",
                      suffixes: tuple[str, ...] | None = None) -> None:
    """Refuse, before any work, an output file that cannot be written: a folder of that name,
    a parent that is a file, a read-only folder, or an unknown suffix."""
    if path is None:
        return
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{option} '{path}' has no known suffix; fix: end it in "
                         + " or ".join(suffixes))
    if path.is_dir():
        raise InputError(f"{option} '{path}' is a folder; fix: give a file name, e.g. "
                         f"'{path / ('result' + (suffixes[0] if suffixes else ''))}'")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option} '{path}' exists and is read-only; fix: choose another "
                         "file or make it writable")
    _writable_parent(path, option)


def check_output_folder(path: Path | None, option: str = "--out") -> None:
    """Refuse, before any work, an output folder that is an existing file or cannot be made
    or written."""
    if path is None:
        return
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} '{path}' is an existing file, not a folder; fix: give a "
                         "folder path")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{option} '{path}' is not writable; fix: choose a folder you can "
                             "write to")
        return
    _writable_parent(path, option)


def check_positive(option: str, value: float | None, maximum: float, *,
                   minimum: float = 1) -> None:
    """Refuse an option value that is not a finite number in ``[minimum, maximum]``."""
    if value is None:
        return
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise InputError(f"{option} {value:g} is outside {minimum:g}–{maximum:g}; fix: give a "
                         f"value from {minimum:g} to {maximum:g}")
