"""``run_scorecard``: every shipped trial and target set, predicted vs published, in one table.

Work is saved as it goes under ``runs_dir`` and a rerun resumes:

- each trial runs into ``runs_dir/trials/<name>-n<size>-<key>/`` with
  :func:`il6sim.trial.run_trial`, whose chunks resume (``key``: a fingerprint of everything
  that decides the trial's patients: model, design, population and its calibration, drugs);
- each target set's rows are written to ``runs_dir/targets/<set>-<key>.json`` when done
  (``key``: il6sim's version, the model's fingerprint, the shipped data files and the course
  size and seed), and read back instead of recomputed.

A change of the model or of a data file changes the key, so a stale result is never reused; a
change of il6sim's code alone does not (delete ``runs_dir`` to recompute everything).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from ._rows import ScoreRow, summarise
from ._targets import (
    COURSE_SET,
    DEATH_SET,
    HAI_SET,
    PK_SET,
    calibration_rows,
    course_rows,
    death_rows,
    hai_rows,
    pk_rows,
    planned_target_rows,
    target_set_names,
)
from ._trials import published_entries, trial_rows

__all__ = ["DEFAULT_COURSE_N", "DEFAULT_TRIAL_N", "Scorecard", "calibrated_names",
           "planned_rows", "run_scorecard", "shipped_trials"]

#: Patients randomised per trial unless ``full`` (the published sizes) or ``n`` is given.
DEFAULT_TRIAL_N = 600
#: Virtual patients of the COVID-19 course (the default of ``il6sim population course``).
DEFAULT_COURSE_N = 300
PARTS = ("trials", "targets")


def calibrated_names() -> set[str]:
    """Every name the model's parameters give in ``calibrated_to`` (target ids, and
    ``trial:<name>:<endpoint>``)."""
    from ..model import default_model

    return {name for p in default_model().parameters for name in p.calibrated_to}


def shipped_trials() -> list[str]:
    """The shipped trial files' names (``il6sim trials``)."""
    from ..trial import list_trials

    return list(list_trials())


@dataclass
class Scorecard:
    """The scorecard: rows, their summary per role, and how they were made."""

    rows: list[ScoreRow]
    settings: dict
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d"))

    @property
    def summary(self) -> list[dict]:
        """Per role (``checked``, ``fitted``, ``all``): rows passing and trial ratios agreeing
        (:func:`il6sim.validation.summarise`)."""
        return summarise(self.rows)

    def to_frame(self):
        """The rows as a DataFrame (one column per :class:`ScoreRow` field)."""
        import pandas as pd

        return pd.DataFrame([row.as_dict() for row in self.rows])

    def save(self, path: str | Path) -> Path:
        """Write the rows as ``.csv``, the rows, summary and settings as ``.json``, or the
        Markdown document as ``.md``."""
        from ._format import markdown_document

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            self.to_frame().to_csv(path, index=False)
        elif suffix == ".json":
            data = {"created": self.created, "il6sim_version": version("il6sim"),
                    "settings": self.settings, "summary": self.summary,
                    "rows": [row.as_dict() for row in self.rows]}
            path.write_text(json.dumps(_json_safe(data), indent=1) + "\n", encoding="utf-8")
        else:
            path.write_text(markdown_document(self), encoding="utf-8")
        return path


def _json_safe(value):
    """NaN and infinities as null (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _hash_files(paths: Sequence) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _data_files() -> list:
    """Every shipped data file a target set may read (targets, drugs, pathogens, presets,
    populations, cohorts), trial files excepted."""
    root = files("il6sim")
    found = []
    for folder in (root / "data", root / "presets"):
        stack = [folder]
        while stack:
            entry = stack.pop()
            if entry.is_dir():
                if entry.name != "trials":
                    stack += sorted(entry.iterdir(), key=lambda e: e.name)
            elif not entry.name.startswith("."):
                found.append(entry)
    return sorted(found, key=lambda e: str(e))


def _targets_key(name: str, course_n: int, seed: int) -> str:
    from ..model import default_model
    from ..runner import fingerprint, model_fingerprint

    return fingerprint({"il6sim": version("il6sim"), "set": name,
                        "model": model_fingerprint(default_model()),
                        "data": _hash_files(_data_files()),
                        "course": [course_n, seed] if name == COURSE_SET else None})[:12]


_ROW_FIELDS = [f.name for f in fields(ScoreRow) if f.init]


def _target_set_rows(name: str, *, course_n: int, seed: int, calibrated: set[str],
                     runs_dir: Path) -> tuple[list[ScoreRow], bool]:
    """Rows of one target set, read from ``runs_dir`` when already computed; and whether they
    were."""
    path = runs_dir / "targets" / f"{name}-{_targets_key(name, course_n, seed)}.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            return [ScoreRow(**{k: row[k] for k in _ROW_FIELDS}) for row in stored], True
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # damaged: compute again
    if name == PK_SET:
        rows = pk_rows()
    elif name == COURSE_SET:
        rows = course_rows(course_n, seed=seed)
    elif name == DEATH_SET:
        rows = death_rows()
    elif name == HAI_SET:  # measured on the shipped trial's run (shared with its trial rows)
        from ..trial import load_trial, run_trial
        from ..trial._hai import CHECK_TRIAL

        design = load_trial(CHECK_TRIAL)
        folder = _trial_folder(design, DEFAULT_TRIAL_N, runs_dir)
        rows = hai_rows(run_trial(design, n_patients=DEFAULT_TRIAL_N, out_dir=folder).patients)
    else:
        rows = calibration_rows(name, calibrated)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".tmp-{path.name}")
    temp.write_text(json.dumps([{k: getattr(r, k) for k in _ROW_FIELDS} for r in rows]),
                    encoding="utf-8")
    temp.replace(path)
    return rows, False


def _trial_folder(design, size: int, runs_dir: Path) -> Path:
    from ..runner import fingerprint
    from ..trial import TrialTask

    key = fingerprint({"task": TrialTask(design, control_only=True).config(), "size": size})
    return runs_dir / "trials" / f"{design.name}-n{size}-{key[:12]}"


def planned_rows(*, only: str | None = None, trials: Sequence[str] | None = None
                 ) -> list[tuple[str, str, str]]:
    """``(source, quantity, role)`` of every row :func:`run_scorecard` gives, from the files
    alone (no simulation): the scorecard's structure."""
    from ..trial import load_trial

    calibrated = calibrated_names()
    out: list[tuple[str, str, str]] = []
    if only in (None, "trials"):
        for trial in trials or shipped_trials():
            design = load_trial(trial)
            out += [(f"trial {design.name}", e.quantity, e.role)
                    for e in published_entries(design, calibrated)]
    if only in (None, "targets"):
        for name in target_set_names():
            out += planned_target_rows(name, calibrated)
    return out


def run_scorecard(
    *,
    n: int | None = DEFAULT_TRIAL_N,
    course_n: int = DEFAULT_COURSE_N,
    seed: int = 0,
    only: str | None = None,
    trials: Sequence[str] | None = None,
    runs_dir: str | Path = "out/validate",
    progress: Callable[[str], None] | None = None,
) -> Scorecard:
    """Run every shipped trial and target set and score each published value.

    Parameters
    ----------
    n : patients randomised per trial; ``None`` runs each trial at its published size.
    course_n, seed : virtual patients and seed of the COVID-19 course rows.
    only : ``"trials"`` or ``"targets"`` to run one part; ``None`` runs both.
    trials : trial names or YAML files to score instead of the shipped ones (a file of one's
        own is scored unchanged).
    runs_dir : folder where trials run and target rows are stored; a rerun resumes.
    progress : called with one line before and after each step.
    """
    from ..trial import load_trial, run_trial

    say = progress or (lambda line: None)
    runs_dir = Path(runs_dir)
    calibrated = calibrated_names()
    rows: list[ScoreRow] = []
    if only in (None, "trials"):
        for trial in trials or shipped_trials():
            design = load_trial(trial)
            size = design.size if n is None else n
            folder = _trial_folder(design, size, runs_dir)
            say(f"trial {design.name}: {size} patients in {folder}")
            result = run_trial(design, n_patients=size, out_dir=folder)
            found = trial_rows(result, calibrated)
            rows += found
            say(f"trial {design.name}: {sum(bool(r.passed) for r in found)} of {len(found)} "
                "published results reproduced")
    if only in (None, "targets"):
        for name in target_set_names():
            what = f" ({course_n} patients, seed {seed})" if name == COURSE_SET else ""
            say(f"targets {name}{what}")
            found, stored = _target_set_rows(name, course_n=course_n, seed=seed,
                                             calibrated=calibrated, runs_dir=runs_dir)
            rows += found
            say(f"targets {name}: {sum(bool(r.passed) for r in found)} of {len(found)} in "
                f"range{' (stored result)' if stored else ''}")
    settings = {"trial_n": n, "course_n": course_n, "seed": seed, "only": only,
                "trials": list(trials) if trials else None}
    return Scorecard(rows, settings)
