"""What a report section is made of: figures, tables and text, kept as plain data.

A section's builder fills a :class:`SectionContext`; the result is a :class:`SectionResult`
that saves to JSON (figures as base64 PNG) so a finished section can be reused by a later run
and the report rebuilt from the saved sections alone.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._checks import Verdict
from ._claims import check_claims

__all__ = ["Block", "SectionContext", "SectionResult", "SectionUnavailable"]

#: Tables longer than this are folded (click to show) in the report.
FOLD_ROWS = 12


class SectionUnavailable(Exception):  # noqa: N818 - a state, not an error
    """Raised by a section builder whose inputs are not installed; the report says so."""


@dataclass
class Block:
    """One piece of a section: ``kind`` is ``figure``, ``table`` or ``text``.

    Figures carry ``png`` (base64), ``checks`` (each claim the figure was checked against:
    ``claim``, ``shown``, ``seen``) and ``claims`` (the ids whose check passed: the only ones the
    caption names); tables carry ``html``; text carries ``html`` (already escaped). ``title``
    and ``caption`` are plain text.
    """

    kind: str
    title: str = ""
    caption: str = ""
    claims: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    png: str = ""
    html: str = ""
    file: str = ""


@dataclass
class SectionResult:
    """A finished (or failed) section: blocks, key numbers, a one-sentence summary, status,
    the warnings raised while it ran, and its timing."""

    key: str
    title: str
    status: str = "ok"  # ok | failed | unavailable
    blocks: list[Block] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    traceback: str = ""
    seconds: float = 0.0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SectionResult:
        data = dict(data)
        data["blocks"] = [Block(**b) for b in data.get("blocks", [])]
        return cls(**data)

    @property
    def figures(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "figure"]


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a key number (numpy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return "–" if not np.isfinite(value) else f"{value:.{digits}g}"
    return str(value)


def table_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an escaped HTML table (numbers to ``digits`` significant figures)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for v in values:
            numeric = isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(_cell(v, digits))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="data"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


class SectionContext:
    """What a section builder writes to: figures, tables, text, key numbers, progress steps.

    Parameters
    ----------
    result : the section result being filled.
    settings : the study settings (:class:`~il6sim.report.StudySettings`).
    work_dir : folder for this section's files (figures as PNG, tables as CSV).
    advance : called with ``("step", message)`` at each :meth:`step` and ``("detail",
        message)`` by :meth:`detail` (drives the progress bar).
    """

    def __init__(self, result: SectionResult, settings: Any, work_dir: Path,
                 advance: Callable[[str, str], None]) -> None:
        self.result = result
        self.settings = settings
        self.work_dir = work_dir
        self._advance = advance

    def step(self, message: str) -> None:
        """Mark the start of the next step (one tick of the section's progress bar)."""
        self._advance("step", message)

    def detail(self, message: str) -> None:
        """Show what the current step is doing (the progress bar does not advance)."""
        self._advance("detail", message)

    def summary(self, text: str) -> None:
        """The section's key result in one sentence (shown at the top of the report)."""
        self.result.summary = text

    def number(self, **values: Any) -> None:
        """Record key numbers of this section (saved in study.json and the section cache)."""
        self.result.numbers.update(_plain(values))

    def path(self, name: str) -> Path:
        """A file in this section's folder (created)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir / name

    def figure(self, source: Any, *, name: str, title: str, caption: str,
               claims: Sequence[Verdict]) -> Block:
        """Add a figure: ``source`` is a PNG file written by a plotting function or a
        matplotlib ``Figure`` (saved as ``<name>.png``). ``claims`` are the verdicts of the
        claims it was made to show (at least one; :mod:`il6sim.report._checks`): the caption
        names a claim only when its verdict is shown, else it says what was seen."""
        verdicts = list(claims)
        if not all(isinstance(v, Verdict) for v in verdicts):
            raise TypeError("a study figure's claims must be checked: pass Verdicts from "
                            "il6sim.report._checks, not claim ids")
        check_claims(tuple(v.claim for v in verdicts))
        checks = [{"claim": v.claim, "shown": bool(v.shown), "seen": v.seen} for v in verdicts]
        shown = list(dict.fromkeys(v.claim for v in verdicts if v.shown))
        if isinstance(source, str | Path):
            path = Path(source)
        else:
            path = self.path(f"{name}.png")
            source.savefig(path, dpi=110)
        block = Block("figure", title=title, caption=caption, claims=shown, checks=checks,
                      png=base64.b64encode(path.read_bytes()).decode("ascii"),
                      file=str(path))
        self.result.blocks.append(block)
        return block

    def table(self, frame: pd.DataFrame, *, name: str, title: str, caption: str = "",
              digits: int = 3) -> Block:
        """Add a table (also written as ``<name>.csv`` in the section folder)."""
        path = self.path(f"{name}.csv")
        frame.to_csv(path, index=False)
        rendered = table_html(frame, digits)
        if len(frame) > FOLD_ROWS:
            rendered = (f"<details><summary>show the {len(frame)} rows</summary>{rendered}"
                        "</details>")
        block = Block("table", title=title, caption=caption, html=rendered, file=str(path))
        self.result.blocks.append(block)
        return block

    def text(self, text: str) -> Block:
        """Add a paragraph of plain text."""
        block = Block("text", html=f"<p>{html.escape(text)}</p>")
        self.result.blocks.append(block)
        return block
