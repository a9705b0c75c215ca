"""Finished sections saved in the output folder, so a rerun resumes where it stopped.

Each finished section is written atomically to ``<out>/sections/<key>.json`` with a fingerprint
of what made it: the section, its format, the settings it reads, the il6sim version and the
model (:func:`il6sim.runner.model_fingerprint`). A saved section is reused only when the
fingerprint matches; failed or unavailable sections are never saved, so they run again.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..runner import fingerprint
from ._blocks import SectionResult

__all__ = ["FORMAT", "load_section", "save_section", "section_fingerprint"]

#: Version of the saved-section format (bump when sections change what they show).
FORMAT = 2  # 2: figures carry claim checks (Block.checks)


def section_fingerprint(key: str, settings: dict[str, Any], model_hash: str) -> str:
    """SHA-256 of a section's identity, its settings, the package version and the model."""
    return fingerprint({"section": key, "format": FORMAT, "settings": settings,
                        "il6sim_version": version("il6sim"), "model": model_hash})


def _path(folder: Path, key: str) -> Path:
    return folder / "sections" / f"{key}.json"


def load_section(folder: Path, key: str, expected: str) -> SectionResult | None:
    """The saved section ``key`` if its fingerprint is ``expected``, else ``None``."""
    path = _path(folder, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != expected:
        return None
    try:
        section = SectionResult.from_dict(data["section"])
    except (KeyError, TypeError):
        return None
    section.cached = True
    return section


def save_section(folder: Path, section: SectionResult, fingerprint_: str) -> Path:
    """Write a finished section atomically (temporary file, then rename)."""
    path = _path(folder, section.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    data = {"fingerprint": fingerprint_, "section": {**section.to_dict(), "cached": False}}
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)
    return path
