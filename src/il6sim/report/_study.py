"""Run the flagship study: every section in turn, with progress, error capture and resumption.

:func:`run_study` runs each section of :data:`~il6sim.report.sections.SECTIONS` (or the ones
named), reusing a section saved by an earlier run when its fingerprint matches, and writes
``report.html`` (self-contained) and ``study.json`` (key numbers, status and timing of every
section) to the output folder. An exception in one section is recorded in that section and the
study goes on.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._blocks import SectionContext, SectionResult, SectionUnavailable
from ._cache import load_section, save_section, section_fingerprint
from ._html import render_report
from ._settings import StudySettings

__all__ = ["StudyResult", "check_out_dir", "run_study", "select_sections"]

#: Called as ``(event, section_key, detail)``: events ``start`` (detail: number of steps),
#: ``step`` (detail: message; the next step starts), ``detail`` (detail: message; same step),
#: ``done`` (detail: the SectionResult).
Progress = Callable[[str, str, Any], None]

#: Distinct warnings kept per section (shown under the section in the report).
MAX_WARNINGS = 5


@dataclass
class StudyResult:
    """What :func:`run_study` made: the report, the sections and the time taken."""

    report: Path
    summary: Path
    sections: list[SectionResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[SectionResult]:
        return [s for s in self.sections if s.status == "failed"]


def check_out_dir(out_dir: str | Path) -> Path:
    """The output folder, created; a one-line :class:`InputError` if it cannot be."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out '{out}' is a file, not a folder; fix: give a folder path "
                         "(it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--out '{out}' cannot be written ({reason}); fix: give a folder you "
                         "can write to") from None
    return out


def select_sections(names: Sequence[str] | None = None) -> list:
    """The sections named (all when none), in report order; an unknown name is an
    :class:`InputError`."""
    from .sections import SECTIONS

    if not names:
        return list(SECTIONS)
    known = {s.key: s for s in SECTIONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown section '{unknown[0]}'; fix: one of {', '.join(known)}")
    return [s for s in SECTIONS if s.key in names]


def _run_section(spec, settings: StudySettings, out: Path,
                 progress: Progress) -> SectionResult:
    result = SectionResult(spec.key, spec.title)
    ctx = SectionContext(result, settings, out / "sections" / spec.key,
                         lambda event, message: progress(event, spec.key, message))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        _build(spec, ctx, result)
    seen = dict.fromkeys(f"{w.category.__name__}: {' '.join(str(w.message).split())}"
                         for w in caught)
    result.warnings = list(seen)[:MAX_WARNINGS]
    result.seconds = time.perf_counter() - start
    return result


def _build(spec, ctx: SectionContext, result: SectionResult) -> None:
    """Run a section's builder; an exception marks the section failed (or unavailable)."""
    try:
        spec.build(ctx)
    except SectionUnavailable as exc:
        result.status, result.error = "unavailable", str(exc)
    except Exception as exc:  # a failing section is reported in place; the study goes on
        result.status = "failed"
        result.error = f"{type(exc).__name__}: " + " ".join(str(exc).split())
        result.traceback = traceback.format_exc()


def run_study(out_dir: str | Path = "out/study", settings: StudySettings | None = None, *,
              sections: Sequence[str] | None = None, progress: Progress | None = None,
              command: str = "il6sim study") -> StudyResult:
    """Run the study and write ``report.html`` and ``study.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : output folder (created); finished sections are saved in ``out_dir/sections`` and
        reused by the next run with the same settings, il6sim version and model.
    settings : :class:`StudySettings` (default: the embedded defaults).
    sections : keys of the sections to run (default: all, in report order).
    progress : callback ``(event, key, detail)`` (see :data:`Progress`).
    command : the command shown in the report's header.

    Returns
    -------
    StudyResult
        paths of the report and summary, every section's result, the time taken.
    """
    from ..model import default_model
    from ..runner import model_fingerprint

    settings = settings or StudySettings.default()
    out = check_out_dir(out_dir)
    specs = select_sections(sections)
    say = progress or (lambda event, key, detail: None)
    start = time.perf_counter()
    model_hash = model_fingerprint(default_model())
    results = []
    for spec in specs:
        key = section_fingerprint(spec.key, settings.subset(spec.uses), model_hash)
        result = load_section(out, spec.key, key)
        say("start", spec.key, 0 if result else spec.steps)
        if result is None:
            result = _run_section(spec, settings, out, say)
            if result.status == "ok":
                save_section(out, result, key)
        say("done", spec.key, result)
        results.append(result)
    seconds = time.perf_counter() - start
    meta = {"version": version("il6sim"), "seconds": seconds, "command": command,
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "settings": settings.as_dict()}
    page = render_report([(r, spec.intro) for r, spec in zip(results, specs, strict=True)], meta)
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    summary = out / "study.json"
    summary.write_text(json.dumps({
        **meta, "sections": {r.key: {"title": r.title, "status": r.status, "error": r.error,
                                     "seconds": round(r.seconds, 2), "cached": r.cached,
                                     "numbers": r.numbers} for r in results},
    }, indent=2, default=str) + "\n", encoding="utf-8")
    return StudyResult(report, summary, results, seconds)
