"""A rich console that is wide when stdout is a pipe or a file (no numerical imports here)."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console

__all__ = ["PIPED_WIDTH", "wide_console"]

#: Width of a console that is not a terminal (a pipe or a file), unless COLUMNS says otherwise.
PIPED_WIDTH = 200


def wide_console(**kwargs: Any) -> Console:
    """A rich console; when stdout is not a terminal its tables are not cut at 80 columns."""
    if "width" not in kwargs and not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        kwargs["width"] = PIPED_WIDTH
    return Console(**kwargs)
