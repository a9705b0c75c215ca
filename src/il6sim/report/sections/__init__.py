"""The sections of the study report, in order.

Each section is a :class:`SectionSpec`: a key, a title, an introduction, how many progress
steps it takes, which settings it reads (its cache key) and a ``build(ctx)`` function that
fills a :class:`~il6sim.report._blocks.SectionContext`. Sections are independent: each runs
on its own, and a failure in one does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._blocks import SectionContext
from . import _biology, _blockade, _cohort, _covid, _infections, _timing, _trial

__all__ = ["SECTIONS", "SectionSpec"]


@dataclass(frozen=True)
class SectionSpec:
    """One section of the report (see the module docstring)."""

    key: str
    title: str
    intro: str
    steps: int
    uses: tuple[str, ...]
    build: Callable[[SectionContext], None]


SECTIONS: tuple[SectionSpec, ...] = tuple(
    SectionSpec(m.KEY, m.TITLE, m.INTRO, m.STEPS, m.USES, m.build)
    for m in (_biology, _infections, _covid, _blockade, _timing, _trial, _cohort)
)
