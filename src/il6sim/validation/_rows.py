"""One row of the validation scorecard and the three judgements made on it.

A row compares one predicted quantity with its published value: a trial's risk ratio (with the
simulated 95 % CI) against the published ratio (with its CI), or a target's model value (with the
patients' interquartile range for a population median) against the published centre and its
accepted range. Three judgements are made on every row:

- **direction** — for ratios only (trial ratios, fold changes): each side is classed by its
  interval where it has one, else by its point, as below 1, above 1, or including 1 (an
  interval that contains 1, a point equal to 1); the two agree when their classes are equal.
  When both sides have intervals, both including 1 is agreement (no effect on either side);
  a model point is not judged against a published value that claims no direction (its range
  includes 1): the range test covers it;
- **overlap** — whether the predicted interval and the published one intersect (where only one
  side has an interval, whether the other side's point lies in it; empty where neither has one);
- **passed** — under the row's own tolerance: a trial ratio passes when its direction agrees
  *and* the intervals overlap; a target passes when the model value lies in the target's accepted
  range (the test the target file defines: :mod:`il6sim.calibration`, ``il6sim pk``,
  ``il6sim population course``).

``role`` says whether a model parameter was fitted to the published value (``fitted``) or it was
held out (``checked``); :func:`summarise` scores the two apart, since only held-out rows are
evidence of predictive validity (ASME V&V 40-2018, section 5: validation compares with data not
used to build the model; Kuemmel C et al. 2020 CPT Pharmacometrics Syst Pharmacol 9:21, QSP
model credibility).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = ["COLUMNS", "ScoreRow", "direction_class", "intervals_overlap", "summarise"]

NAN = float("nan")


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def direction_class(point: float, low: float = NAN, high: float = NAN, null: float = 1.0) -> str:
    """``"<1"``, ``">1"`` or ``"~1"`` (an interval including 1; a point equal to 1); ``""``
    when nothing is known. ``null`` is the value of no effect (1 for a ratio, 0 for a
    difference), written in place of 1."""
    below, above, on = f"<{null:g}", f">{null:g}", f"~{null:g}"
    if _finite(low, high):
        return below if high < null else above if low > null else on
    if not _finite(point):
        return ""
    return below if point < null else above if point > null else on


def intervals_overlap(predicted: tuple[float, float, float],
                      published: tuple[float, float, float]) -> bool | None:
    """Whether ``(point, low, high)`` of the prediction and of the published value overlap:
    both intervals intersect, or one side's point lies in the other's interval; None when
    neither side has an interval."""
    p_point, p_low, p_high = predicted
    q_point, q_low, q_high = published
    if _finite(p_low, p_high) and _finite(q_low, q_high):
        return bool(p_low <= q_high and q_low <= p_high)
    if _finite(p_low, p_high) and _finite(q_point):
        return bool(p_low <= q_point <= p_high)
    if _finite(q_low, q_high) and _finite(p_point):
        return bool(q_low <= p_point <= q_high)
    return None


@dataclass
class ScoreRow:
    """One predicted quantity beside its published value (module docstring)."""

    source: str
    """``trial <name>`` or ``targets <set>``."""
    quantity: str
    """What is compared: ``28-day mortality, tocilizumab vs usual care (risk ratio)``, or a
    target id."""
    role: str
    """``fitted`` (a parameter was calibrated to the published value) or ``checked``."""
    role_from: str
    """Where the role was read: the trial file, the target file's role field, parameters'
    ``calibrated_to``, or the file's header."""
    tolerance: str
    """The row's own pass rule in words."""
    predicted: float
    published: float
    unit: str = ""
    predicted_low: float = NAN
    predicted_high: float = NAN
    predicted_interval: str = ""
    """What the predicted interval is: ``95 % CI``, ``IQR of patients``, or empty."""
    published_low: float = NAN
    published_high: float = NAN
    published_interval: str = ""
    """What the published interval is: ``95 % CI``, ``accepted range``, ``mean ± SD``, ..."""
    ratio: bool = False
    """The quantity is an effect (a ratio, or a difference with ``null`` 0), so its direction
    (below/above no effect) is judged."""
    null: float = 1.0
    """The value of no effect: 1 for a ratio, 0 for a difference."""
    passed: bool | None = None
    """Set by the target's own test (None: judged from direction and overlap)."""
    n: int | None = None
    """Patients the prediction rests on (trials, course), or None for one simulated patient."""
    reference: str = ""
    note: str = ""
    direction: str = field(init=False, default="")
    """``agree`` / ``disagree`` for ratios (empty otherwise)."""
    predicted_direction: str = field(init=False, default="")
    published_direction: str = field(init=False, default="")
    overlap: bool | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        predicted = (self.predicted, self.predicted_low, self.predicted_high)
        published = (self.published, self.published_low, self.published_high)
        self.overlap = intervals_overlap(predicted, published)
        if self.ratio:
            self.predicted_direction = direction_class(*predicted, null=self.null)
            self.published_direction = direction_class(*published, null=self.null)
            judged = bool(self.predicted_direction and self.published_direction)
            if self.published_direction.startswith("~") and not _finite(self.predicted_low,
                                                                        self.predicted_high):
                judged = False  # a point against "no direction": left to the range test
            if judged:
                self.direction = ("agree" if self.predicted_direction
                                  == self.published_direction else "disagree")
        if self.passed is None:
            self.passed = bool(self.direction == "agree" and self.overlap)

    def as_dict(self) -> dict:
        return asdict(self)


#: Columns of the CSV/JSON output, in order.
COLUMNS = tuple(ScoreRow.__dataclass_fields__)


def _fraction(k: int, n: int) -> float:
    return k / n if n else NAN


def summarise(rows: list[ScoreRow]) -> list[dict]:
    """The summary score per role (``checked`` first, then ``fitted``, then ``all``): rows and
    rows passing; among trial ratios, those whose direction agrees, whose intervals overlap, and
    both (the pass rule of a trial row)."""
    out = []
    for role in ("checked", "fitted", "all"):
        chosen = [r for r in rows if role == "all" or r.role == role]
        trials = [r for r in chosen if r.source.startswith("trial ")]
        passed = sum(bool(r.passed) for r in chosen)
        agree = sum(r.direction == "agree" for r in trials)
        overlap = sum(bool(r.overlap) for r in trials)
        both = sum(r.direction == "agree" and bool(r.overlap) for r in trials)
        out.append({"role": role, "rows": len(chosen), "passed": passed,
                    "pass_fraction": _fraction(passed, len(chosen)),
                    "trial_ratios": len(trials), "direction_agrees": agree,
                    "intervals_overlap": overlap, "direction_and_overlap": both,
                    "trial_fraction": _fraction(both, len(trials))})
    return out
