"""The scorecard as text: table cells, the summary line, a Markdown document, a terminal table.

One set of cell functions serves the terminal, the Markdown written to ``docs/validation.md``
and the test that checks that document against the current command (tests/test_validation.py).
"""

from __future__ import annotations

import math
import shlex

from ._rows import ScoreRow

__all__ = ["MARKDOWN_COLUMNS", "SUMMARY_COLUMNS", "command_line", "markdown_document",
           "markdown_rows", "rich_table", "row_cells", "summary_line"]

MARKDOWN_COLUMNS = ("source", "quantity", "predicted", "published", "direction", "overlap",
                    "pass", "role")
SUMMARY_COLUMNS = ("role", "rows", "pass", "trial ratios", "direction agrees",
                   "intervals overlap", "both")
ROLE_NAMES = {"fitted": "fitted", "checked": "held out", "all": "all"}
INTERVAL_WORDS = {"95 % CI": "CI", "IQR of patients": "IQR"}


def _num(value: float) -> str:
    """A number in 3 significant digits (thousands in full)."""
    if value is None or not math.isfinite(value):
        return "—" if value is None or math.isnan(value) else ("∞" if value > 0 else "-∞")
    if value != 0 and abs(value) >= 1000:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.3g}"


def _interval(low: float, high: float) -> str:
    return f"{_num(low)}–{_num(high)}"


def predicted_cell(row: ScoreRow) -> str:
    text = _num(row.predicted)
    if row.predicted_interval and math.isfinite(row.predicted_low):
        word = INTERVAL_WORDS.get(row.predicted_interval, row.predicted_interval)
        text += f" ({word} {_interval(row.predicted_low, row.predicted_high)})"
    return text


def published_cell(row: ScoreRow) -> str:
    kind = row.published_interval
    if kind == "lower bound":
        return f"≥ {_num(row.published_low)}"
    if kind == "mean ± SD":
        return f"{_num(row.published)} ± {_num(row.published - row.published_low)}"
    text = _num(row.published)
    if kind and math.isfinite(row.published_low):
        word = INTERVAL_WORDS.get(kind, "")
        span = _interval(row.published_low, row.published_high)
        text += f" ({word} {span})" if word else f" ({span})"
    return text


def direction_cell(row: ScoreRow) -> str:
    if not row.direction:
        return ""
    return f"{row.direction} ({row.predicted_direction} vs {row.published_direction})"


def row_cells(row: ScoreRow) -> list[str]:
    """The Markdown/terminal cells of one row, in :data:`MARKDOWN_COLUMNS` order."""
    overlap = "" if row.overlap is None else ("yes" if row.overlap else "no")
    quantity = (f"{row.quantity} ({row.unit})" if row.unit and row.source.startswith("targets")
                else row.quantity)
    return [row.source, quantity, predicted_cell(row), published_cell(row),
            direction_cell(row), overlap, "pass" if row.passed else "FAIL",
            ROLE_NAMES.get(row.role, row.role)]


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown_rows(rows: list[ScoreRow]) -> list[str]:
    """The scorecard table in Markdown, header first."""
    lines = ["| " + " | ".join(MARKDOWN_COLUMNS) + " |", "|" + "---|" * len(MARKDOWN_COLUMNS)]
    lines += ["| " + " | ".join(_escape(c) for c in row_cells(row)) + " |" for row in rows]
    return lines


def _share(k: int, n: int) -> str:
    return f"{k} of {n} ({100 * k / n:.0f} %)" if n else "none"


def summary_line(summary: list[dict]) -> str:
    """One sentence: held-out and fitted rows passing, and trial ratios reproduced."""
    parts = []
    for entry in summary:
        if entry["role"] == "all":
            continue
        text = f"{ROLE_NAMES[entry['role']]}: {_share(entry['passed'], entry['rows'])} rows pass"
        if entry["trial_ratios"]:
            text += (f", {_share(entry['direction_and_overlap'], entry['trial_ratios'])} trial "
                     "ratios agree in direction with overlapping CIs")
        parts.append(text)
    return "; ".join(parts) + "."


def summary_markdown(summary: list[dict]) -> list[str]:
    lines = ["| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    for e in summary:
        lines.append(f"| {ROLE_NAMES[e['role']]} | {e['rows']} | "
                     f"{_share(e['passed'], e['rows'])} | {e['trial_ratios']} | "
                     f"{e['direction_agrees']} | {e['intervals_overlap']} | "
                     f"{_share(e['direction_and_overlap'], e['trial_ratios'])} |")
    return lines


def command_line(settings: dict, out: str | None = None, markdown: bool = True) -> str:
    """The ``il6sim validate`` command that makes a scorecard with ``settings``."""
    from ._scorecard import DEFAULT_COURSE_N, DEFAULT_TRIAL_N

    words = ["il6sim", "validate"]
    if settings.get("trial_n") is None:
        words.append("--full")
    elif settings["trial_n"] != DEFAULT_TRIAL_N:
        words += ["--n", str(settings["trial_n"])]
    if settings.get("course_n", DEFAULT_COURSE_N) != DEFAULT_COURSE_N:
        words += ["--course-n", str(settings["course_n"])]
    if settings.get("seed", 0):
        words += ["--seed", str(settings["seed"])]
    if settings.get("only"):
        words += ["--only", settings["only"]]
    for trial in settings.get("trials") or []:
        words += ["--trial", str(trial)]
    if markdown:
        words.append("--markdown")
    if out:
        words += ["--out", str(out)]
    return shlex.join(words)


LEGEND = """\
## How rows are judged

- **predicted**: a trial's simulated effect of the allocated arms with its 95 % CI, on the
  measure the trial analysis puts beside the published one (for a yes/no endpoint the risk
  ratio, Katz CI), at the trial size above; a target's model value; for the COVID-19 course,
  the median over virtual inpatients with the patients' interquartile range (IQR).
- **published**: the trial's ratio (or difference) with its 95 % CI (or, where the file gives
  only the two arms' risks, their quotient without an interval); a target's published centre
  with its accepted range (PK: mean ± SD, or a lower bound).
- **direction** (ratios and differences only): each side, by its interval where it has one,
  else by its point, is below 1 (`<1`), above 1 (`>1`) or includes 1 (`~1`) — 0 for a
  difference; they agree when equal (two intervals both including 1 agree). A model point is
  not judged against a published range that includes 1 (no direction claimed); the range test
  covers it.
- **overlap**: the two intervals intersect (or one side's point lies in the other's interval).
- **pass**: a trial ratio passes when its direction agrees *and* the intervals overlap; a target
  passes when the model value lies in its accepted range (the test `il6sim targets`,
  `il6sim pk` and `il6sim population course` apply).
- **role**: *fitted* when a model parameter was calibrated to the published value (trial files:
  `published.<endpoint>.role`, or a parameter's `calibrated_to: trial:<name>:<endpoint>`;
  endotoxemia and infection sets have no role field, so a row is fitted when a parameter names
  it in `calibrated_to`; pharmacology: the rows its header marks "calibration target";
  COVID-19 course: its `role` field); otherwise *held out*. Only held-out rows test
  predictions.
"""


def markdown_document(card) -> str:
    """``docs/validation.md``: how it was made, the summary, the table and the legend."""
    settings = card.settings
    command = settings.get("command") or command_line(settings)
    sizes = ("published sizes" if settings.get("trial_n") is None
             else f"{settings['trial_n']} patients each")
    from importlib.metadata import version

    lines = [
        "# Validation scorecard", "",
        f"Generated by `{command}` on {card.created} (il6sim {version('il6sim')}; trials at "
        f"{sizes}; COVID-19 course at {settings.get('course_n')} virtual patients, seed "
        f"{settings.get('seed', 0)}). Do not edit by hand: run the command again. "
        "tests/test_validation.py checks that this file has the command's current rows and "
        "columns, and that its endotoxemia rows are what the model gives now.", "",
        f"**Summary.** {summary_line(card.summary)}", "",
        *summary_markdown(card.summary), "",
        "## Scorecard", "",
        *markdown_rows(card.rows), "",
        LEGEND,
    ]
    return "\n".join(lines)


def rich_table(rows: list[ScoreRow], title: str = "Validation scorecard"):
    """The scorecard for the terminal (rich)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in MARKDOWN_COLUMNS:
        table.add_column(column, overflow="fold",
                         justify="right" if column in ("predicted", "published") else "left")
    for row in rows:
        cells = [escape(c) for c in row_cells(row)]
        cells[6] = cells[6] if row.passed else "[bold red]FAIL[/]"
        table.add_row(*cells)
    return table
