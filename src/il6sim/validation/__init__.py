"""Validation scorecard: every shipped trial and target set, predicted vs published.

>>> from il6sim.validation import run_scorecard
>>> card = run_scorecard(n=600, runs_dir="out/validate")   # resumes from out/validate
>>> card.summary            # rows passing, held out (checked) and fitted apart
>>> card.save("docs/validation.md")

Each trial file's published results (:mod:`._trials`) and each target set's rows
(:mod:`._targets`) become :class:`ScoreRow` s judged for direction, interval overlap and the
row's own tolerance (:mod:`._rows`); :mod:`._format` writes them; ``il6sim validate`` runs it
(docs/validation.md holds the current table).
"""

from ._rows import COLUMNS, ScoreRow, direction_class, intervals_overlap, summarise
from ._scorecard import (
    DEFAULT_COURSE_N,
    DEFAULT_TRIAL_N,
    Scorecard,
    calibrated_names,
    planned_rows,
    run_scorecard,
)
from ._targets import target_set_names
from ._trials import published_entries, trial_rows

__all__ = [
    "COLUMNS",
    "DEFAULT_COURSE_N",
    "DEFAULT_TRIAL_N",
    "ScoreRow",
    "Scorecard",
    "calibrated_names",
    "direction_class",
    "intervals_overlap",
    "planned_rows",
    "published_entries",
    "run_scorecard",
    "summarise",
    "target_set_names",
    "trial_rows",
]
