"""Read a hospital laboratory export (long format, one row per blood sample) into a :class:`Cohort`.

Every problem found while reading is collected in a table (row, column, value, kind, problem, fix)
rather than raised or silently fixed; only a file that cannot be used at all (missing, unreadable,
lacking a required column) raises :class:`~il6sim.errors.InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._cohort import Cohort
from ._markers import MARKER_BY_NAME, MARKERS, PATIENT_FIELDS, MarkerSpec, normalize_header

__all__ = ["DEFAULT_COHORT", "DEFAULT_DETECTION_LIMITS", "load_cohort"]

DEFAULT_COHORT = Path(__file__).resolve().parents[1] / "data" / "cohorts" / (
    "covid19_wuhan_2020_dev.csv")

#: Assay measuring ranges whose limits are written as the limit itself (``1.5`` for ``<1.5``).
#: IL-6: Roche Elecsys IL-6 assay, measuring range 1.5–5000 pg/mL (used at Tongji Hospital).
#: IL-10, IL-1β and TNF-α (chemiluminescence, Tongji Hospital: Chen G 2020 J Clin Invest
#: 130:2620): the shipped file's smallest value of each is also its commonest (IL-10 5.0 pg/mL,
#: 84 samples; IL-1β 5.0, 166; TNF-α 4.0, 10), the assay's lower reporting limit.
DEFAULT_DETECTION_LIMITS: dict[str, tuple[float | None, float | None]] = {
    "il6": (1.5, 5000.0), "il10": (5.0, None), "il1b": (5.0, None), "tnf": (4.0, None)}

_MISSING_TOKENS = {"", "na", "nan", "n/a", "null", "none", "nat"}
_CENSORED = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_REQUIRED_ALWAYS = ("patient_id", "sample_time", "admission_time")
_REQUIRED_FOR_OUTCOME = ("outcome", "discharge_time")
_PROBLEM_COLUMNS = ["row", "column", "value", "kind", "problem", "fix"]


class _Problems:
    """Collects problems; each is one row of the ``problems`` table."""

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []

    def add(self, row, column, value, kind: str, problem: str, fix: str) -> None:
        self.add_many([row], column, [value], kind, [problem], fix)

    def add_many(self, rows, column, values, kind, problems, fix) -> None:
        rows = list(rows)
        if not rows:
            return
        n = len(rows)
        self._frames.append(pd.DataFrame({
            "row": pd.array(rows, dtype="Int64"), "column": [column] * n,
            "value": ["" if pd.isna(v) else str(v) for v in values], "kind": [kind] * n,
            "problem": list(problems) if not isinstance(problems, str) else [problems] * n,
            "fix": list(fix) if not isinstance(fix, str) else [fix] * n,
        }))

    def table(self) -> pd.DataFrame:
        if not self._frames:
            return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object)
                                 for c in _PROBLEM_COLUMNS})
        out = pd.concat(self._frames, ignore_index=True)
        return out.sort_values("row", kind="stable", na_position="first").reset_index(drop=True)


def load_cohort(path: str | Path | None = None, *, columns: Mapping[str, str] | None = None,
                require_outcome: bool = True,
                detection_limits: Mapping[str, tuple[float | None, float | None]] | None = None,
                ) -> Cohort:
    """Load a COVID-19 inpatient laboratory cohort (one row per blood sample).

    Parameters
    ----------
    path
        CSV file in the Tongji Hospital export format. ``None`` loads the shipped development
        cohort ``il6sim/data/cohorts/covid19_wuhan_2020_dev.csv``.
    columns
        Override of the column mapping: ``{canonical name: header in the file}``, e.g.
        ``{"il6": "IL-6 (pg/mL)", "patient_id": "ID"}``. Headers are otherwise matched to the
        catalogue ignoring case, spaces and punctuation.
    require_outcome
        If True (default) the ``outcome`` and ``Discharge time`` columns are required.
    detection_limits
        ``{marker: (lower, upper)}`` assay limits; a value equal to a limit is marked censored
        there. Default :data:`DEFAULT_DETECTION_LIMITS` (IL-6 1.5 and 5000 pg/mL).

    Returns
    -------
    Cohort
        Samples, patients and the table of problems found (``cohort.problems``).

    Raises
    ------
    InputError
        The file is missing or unreadable, or a required column is absent.

    Notes
    -----
    **Shipped data.** 280 COVID-19 inpatients of Tongji Hospital, Wuhan, admitted
    10 Jan – 18 Feb 2020 (137 died in hospital); 4,659 rows (blood samples), 81 columns. A
    development subset of the 375-patient training file of Yan L. et al. (2020), "An
    interpretable mortality prediction model for COVID-19 patients", *Nat. Mach. Intell.*
    2:283–288, doi:10.1038/s42256-020-0180-7.
    Licence: MIT, Copyright (c) 2020 Huazhong Artificial Intelligence Lab (see the ``LICENSE`` file
    next to the data).

    **Columns.** ``PATIENT_ID``; ``RE_DATE`` (sample report time), ``Admission time``,
    ``Discharge time`` (discharge or death), text ``YYYY-MM-DD HH:MM:SS``; ``age`` (years),
    ``gender`` (1 male, 2 female); ``outcome`` (0 survived, 1 died in hospital); 74 laboratory
    columns, e.g. ``Interleukin 6`` → ``il6`` (pg/mL), ``High sensitivity C-reactive protein`` →
    ``crp`` (mg/L), ``Lactate dehydrogenase`` → ``ldh`` (U/L), ``lymphocyte count`` →
    ``lymphocytes`` (10^9/L), ``(%)lymphocyte`` → ``lymphocyte_pct`` (%), ``ferritin`` (µg/L),
    ``Interleukin 10`` → ``il10``, ``Tumor necrosis factorα`` → ``tnf`` (pg/mL), ``D-D dimer`` →
    ``d_dimer`` (µg/mL FEU), ``creatinine`` (µmol/L). The full list with units and plausible ranges
    is ``il6sim.cohort.MARKERS``.

    **Checks.** Values such as ``<1.5`` or ``>5000`` are kept at the limit with a censoring flag.
    Values outside the plausible range, unparseable values and dates, duplicate rows (the copy is
    excluded), out-of-order rows (sorted), missing outcomes (patient left out of outcome analyses),
    empty and unknown columns and conflicting patient fields are listed in ``cohort.problems``
    with the row number in the file (the header is row 1), the value and a likely fix.
    """
    file = Path(path) if path is not None else DEFAULT_COHORT
    raw = _read_csv(file)
    problems = _Problems()
    mapping = _resolve_columns(raw.columns, columns or {}, problems)
    missing = [f for f in _REQUIRED_ALWAYS + (_REQUIRED_FOR_OUTCOME if require_outcome else ())
               if f not in mapping]
    if missing:
        field = missing[0]
        header = PATIENT_FIELDS[field]
        raise InputError(
            f"{file.name}: required column {header!r} ({field}) is missing; fix: add it, or name "
            f"the column that holds it with the option --column {field}='<header in your file>' "
            f"(in Python: columns={{{field!r}: '<header in your file>'}})")
    limits = dict(DEFAULT_DETECTION_LIMITS if detection_limits is None else detection_limits)

    rows = pd.Series(np.arange(len(raw)) + 2, index=raw.index)  # line number, header = 1
    raw = _drop_duplicate_rows(raw, rows, problems)
    rows = rows.loc[raw.index]
    patient_id = _parse_patient_id(raw[mapping["patient_id"]], rows, raw, mapping, problems)
    keep = patient_id.notna()
    raw, rows, patient_id = raw[keep], rows[keep], patient_id[keep]

    samples = pd.DataFrame({"row": rows.to_numpy(), "patient_id": patient_id.to_numpy()})
    samples.index = raw.index
    for field in ("sample_time", "admission_time", "discharge_time"):
        if field in mapping:
            samples[field] = _parse_times(raw[mapping[field]], rows, problems)
        else:
            samples[field] = pd.NaT
    samples["age"] = _parse_numeric_field(raw, mapping, "age", rows, problems, 0, 120)
    samples["sex"] = _parse_sex(raw, mapping, rows, problems)
    samples["outcome"] = _parse_outcome(raw, mapping, rows, problems)

    markers = [m for m in MARKERS if m.name in mapping]
    censoring = pd.DataFrame(index=raw.index)
    for spec in markers:
        values, flags = _parse_lab(raw[mapping[spec.name]], spec, rows, problems,
                                   limits.get(spec.name))
        samples[spec.name] = values
        censoring[spec.name] = flags
    lab_names = [m.name for m in markers]
    _check_rows(samples, lab_names, problems)
    patients = _patient_table(samples, problems)
    _check_times_usable(file, samples, patients)
    if require_outcome:
        _check_outcome_usable(file, samples, patients)
    order = samples.sort_values(["patient_id", "sample_time", "row"], kind="stable").index
    return Cohort(source=str(file), samples=samples.loc[order].reset_index(drop=True),
                  censoring=censoring.loc[order].reset_index(drop=True), patient_info=patients,
                  problems=problems.table(), columns={k: v for k, v in mapping.items()},
                  n_rows_read=int(rows.max() - 1) if len(rows) else 0)


def _check_times_usable(file: Path, samples: pd.DataFrame, patients: pd.DataFrame) -> None:
    """Refuse a cohort in which no time since admission can be computed: no readable sample
    time, or no readable admission time (every analysis counts hours from admission)."""
    fix = "fix: write times as YYYY-MM-DD HH:MM:SS"
    if len(samples) and not samples["sample_time"].notna().any():
        raise InputError(f"{file.name}, field 'RE_DATE': no sample time can be read; {fix}")
    if len(patients) and not patients["admission_time"].notna().any():
        raise InputError(f"{file.name}, field 'Admission time': no admission time can be read; "
                         f"{fix}")


def _check_outcome_usable(file: Path, samples: pd.DataFrame, patients: pd.DataFrame) -> None:
    """Refuse a cohort in which no patient can enter an outcome analysis: every known outcome
    comes with a discharge/death time before admission, or with every sample after it."""
    known = patients["outcome"].notna()
    if not known.any():
        return  # reported as missing outcomes; the commands say how many they need
    valid_stay = known & ~(patients["discharge_time"] < patients["admission_time"])
    if not valid_stay.any():
        raise InputError(f"{file.name}, field 'Discharge time': every patient's discharge/death "
                         "time is before the admission time; fix: correct the dates (or the "
                         "columns: discharge and admission may be swapped)")
    before_end = samples["sample_time"] <= samples["discharge_time"]
    with_samples = set(samples.loc[before_end, "patient_id"])
    if not any(pid in with_samples for pid in patients.index[valid_stay]):
        raise InputError(f"{file.name}, field 'RE_DATE': every sample of every patient is after "
                         "the discharge/death time; fix: correct the sample or discharge dates")


# --------------------------------------------------------------------------- reading and columns
def _read_csv(file: Path) -> pd.DataFrame:
    if file.is_dir():
        raise InputError(f"cohort {str(file)!r} is a folder; fix: give the path to a CSV file")
    if not file.exists():
        raise InputError(f"cohort file {str(file)!r} not found; give the path to a CSV file "
                         "(one row per blood sample, Tongji Hospital export format)")
    if file.suffix.lower() in {".xlsx", ".xls"}:
        raise InputError(f"{file.name} is a spreadsheet; save it as CSV (UTF-8) and load that")
    kwargs = dict(dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=True)
    try:
        try:
            raw = pd.read_csv(file, encoding="utf-8-sig", **kwargs)
        except UnicodeDecodeError:
            raw = pd.read_csv(file, encoding="latin-1", **kwargs)
        if raw.shape[1] == 1:  # a semicolon- or tab-separated export
            header = str(raw.columns[0])
            separator = ";" if ";" in header else "\t" if "\t" in header else None
            if separator is not None:
                raw = pd.read_csv(file, encoding="utf-8-sig", sep=separator, **kwargs)
    except pd.errors.EmptyDataError:
        raise InputError(f"{file.name} is empty; it needs a header row and one row per sample"
                         ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        reason = " ".join(str(exc).split()).removeprefix("Error tokenizing data. C error: ")
        raise InputError(f"{file.name} is not a readable CSV file ({reason}); fix: give every "
                         "row as many comma-separated fields as the header") from None
    except OSError as exc:
        raise InputError(f"{file.name} cannot be read ({exc.strerror or exc}); fix: check the "
                         "file and its permissions") from None
    if raw.empty:
        raise InputError(f"{file.name} has a header but no data rows; it needs one row per "
                         "blood sample")
    return raw


def _resolve_columns(headers, override: Mapping[str, str], problems: _Problems) -> dict[str, str]:
    """Map canonical names to the headers of the file."""
    known: dict[str, str] = {}
    for field, column in PATIENT_FIELDS.items():
        known[normalize_header(column)] = field
        known[normalize_header(field)] = field
    for spec in MARKERS:
        known[normalize_header(spec.column)] = spec.name
        known[normalize_header(spec.name)] = spec.name
    valid = set(PATIENT_FIELDS) | set(MARKER_BY_NAME)
    mapping: dict[str, str] = {}
    for name, header in override.items():
        if name not in valid:
            raise InputError(f"--column/columns: {name!r} is not a known name; fix: use one of "
                             f"{', '.join(sorted(valid))}")
        if header not in headers:
            raise InputError(f"--column/columns: header {header!r} (for {name!r}) is not in the "
                             "file; fix: check its spelling (headers are matched exactly)")
        mapping[name] = header
    used = set(mapping.values())
    for header in headers:
        if header in used:
            continue
        name = known.get(normalize_header(header))
        if name is None or name in mapping:
            reason = "is not a known column" if name is None else f"duplicates {name!r}"
            problems.add(None, header, "", "unknown column", f"column {header!r} {reason}; ignored",
                         "to use it, map it with --column <name>='<header>' (in Python: "
                         "columns={'<name>': '<header>'})")
            continue
        mapping[name] = header
    return mapping


def _drop_duplicate_rows(raw: pd.DataFrame, rows: pd.Series, problems: _Problems) -> pd.DataFrame:
    stripped = raw.apply(lambda column: column.str.strip())
    key = pd.util.hash_pandas_object(stripped, index=False).to_numpy()
    dup = pd.Series(key).duplicated(keep="first").to_numpy()
    if dup.any():
        first_row = pd.Series(rows.to_numpy(), index=key).groupby(level=0).first()
        dup_keys = pd.Series(key)[dup]
        problems.add_many(rows[dup], "", [""] * dup.sum(), "duplicate row",
                          [f"row repeats row {first_row[k]} exactly" for k in dup_keys],
                          "the copy is excluded from all analyses; delete it from the file")
    return raw[~dup]


def _is_missing(text: pd.Series) -> pd.Series:
    return text.str.strip().str.casefold().isin(_MISSING_TOKENS)


def _parse_patient_id(text: pd.Series, rows: pd.Series, raw: pd.DataFrame, mapping,
                      problems: _Problems) -> pd.Series:
    ids = text.str.strip().mask(_is_missing(text))
    missing = ids.isna()
    if missing.any():
        filled = ids.ffill()
        adm = mapping.get("admission_time")
        same_patient = (raw[adm] == raw[adm].where(~missing).ffill()) if adm else missing
        fillable = missing & filled.notna() & same_patient
        problems.add_many(rows[fillable], mapping["patient_id"], [""] * fillable.sum(),
                          "missing patient id",
                          "PATIENT_ID is empty; taken from the row above (same admission time)",
                          "fill in PATIENT_ID on every row")
        ids = ids.where(~fillable, filled)
        lost = ids.isna()
        problems.add_many(rows[lost], mapping["patient_id"], [""] * lost.sum(),
                          "missing patient id", "PATIENT_ID is empty; row excluded",
                          "fill in PATIENT_ID")
    numeric = pd.to_numeric(ids, errors="coerce")
    given = ids.notna()
    if given.any() and numeric[given].notna().all() and (numeric[given] % 1 == 0).all():
        return numeric.astype("Int64")
    return ids


def _parse_times(text: pd.Series, rows: pd.Series, problems: _Problems) -> pd.Series:
    present = ~_is_missing(text)
    strict = pd.to_datetime(text.where(present), format=_TIME_FORMAT, errors="coerce")
    retry = present & strict.isna()
    if retry.any():
        strict[retry] = pd.to_datetime(text[retry].str.strip(), format="ISO8601", errors="coerce")
    retry = present & strict.isna() & text.str.match(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
    for index in retry[retry].index:  # year first (unambiguous), e.g. 2020/1/31 1:09
        strict[index] = pd.to_datetime(text[index].strip().replace("/", "-").replace(".", "-"),
                                       errors="coerce")
    bad = present & strict.isna()
    problems.add_many(rows[bad], text.name, text[bad], "unparseable date",
                      [f"{v!r} is not a date-time" for v in text[bad]],
                      "write it as YYYY-MM-DD HH:MM:SS; rows with no usable time are left out of "
                      "time-based analyses")
    return strict


def _parse_numeric_field(raw, mapping, field, rows, problems, low, high) -> pd.Series:
    if field not in mapping:
        return pd.Series(np.nan, index=raw.index)
    text = raw[mapping[field]]
    present = ~_is_missing(text)
    values = pd.to_numeric(text.where(present), errors="coerce")
    bad = present & (values.isna() | (values < low) | (values > high))
    problems.add_many(rows[bad], mapping[field], text[bad], f"invalid {field}",
                      f"{field} must be a number between {low} and {high}",
                      "correct the value; it is treated as missing")
    return values.where(~bad)


def _parse_sex(raw, mapping, rows, problems) -> pd.Series:
    if "sex" not in mapping:
        return pd.Series(pd.NA, index=raw.index, dtype=object)
    text = raw[mapping["sex"]].str.strip().str.casefold()
    codes = {"1": "male", "1.0": "male", "m": "male", "male": "male",
             "2": "female", "2.0": "female", "f": "female", "female": "female"}
    sex = text.map(codes)
    bad = sex.isna() & ~_is_missing(text)
    problems.add_many(rows[bad], mapping["sex"], raw.loc[bad, mapping["sex"]], "invalid sex",
                      "gender must be 1 (male) or 2 (female)",
                      "correct the value; it is treated as missing")
    return sex


def _parse_outcome(raw, mapping, rows, problems) -> pd.Series:
    if "outcome" not in mapping:
        return pd.Series(np.nan, index=raw.index)
    text = raw[mapping["outcome"]]
    present = ~_is_missing(text)
    values = pd.to_numeric(text.where(present), errors="coerce")
    bad = present & ~values.isin([0, 1])
    problems.add_many(rows[bad], mapping["outcome"], text[bad], "invalid outcome",
                      "outcome must be 0 (survived) or 1 (died in hospital)",
                      "correct the value; it is treated as missing")
    return values.where(~bad)


# --------------------------------------------------------------------------- laboratory values
def _fix_for(spec: MarkerSpec, value: float) -> str:
    if value < 0:
        return ("a negative value is impossible; if it codes 'not measured' (e.g. -1) leave the "
                "cell empty")
    for unit, factor in spec.unit_fixes:
        if spec.low <= value * factor <= spec.high:
            how = f"multiply by {factor:g}" if factor >= 1 else f"divide by {1 / factor:g}"
            return f"looks like {unit}; {how} to get {spec.unit}"
    return f"check the value and that the column is in {spec.unit}; correct or empty the cell"


def _parse_lab(text: pd.Series, spec: MarkerSpec, rows: pd.Series, problems: _Problems,
               limits: tuple[float | None, float | None] | None) -> tuple[pd.Series, pd.Series]:
    """Parse one laboratory column: numbers, censored ``<x``/``>x`` values, range checks."""
    column = text.name
    present = ~_is_missing(text)
    values = pd.to_numeric(text.where(present).str.strip(), errors="coerce")
    flags = pd.Series("", index=text.index, dtype=object)
    other = present & values.isna()
    if other.any():
        parts = text[other].str.extract(_CENSORED)
        matched = parts[1].notna()
        idx = parts.index[matched]
        values[idx] = parts.loc[idx, 1].astype(float)
        flags[idx] = np.where(parts.loc[idx, 0].isin(["<", "<=", "≤"]), "left", "right")
        bad = parts.index[~matched]
        problems.add_many(rows[bad], column, text[bad], "unparseable value",
                          [f"{v!r} is not a number" for v in text[bad]],
                          f"write a number in {spec.unit} (or <limit / >limit); treated as missing")
    if limits is not None:
        low_limit, high_limit = limits
        if low_limit is not None:
            flags[(flags == "") & (values == low_limit)] = "left"
        if high_limit is not None:
            flags[(flags == "") & (values == high_limit)] = "right"
    finite = values.notna()
    if not finite.any():
        if len(text):
            problems.add(None, column, "", "empty column", f"column {column!r} has no values",
                         f"none needed if {spec.label} was not measured; it is missing for all")
        return values, flags
    _check_column_unit(values[finite], spec, column, problems)
    bad = finite & ~values.between(spec.low, spec.high)
    problems.add_many(rows[bad], column, values[bad], "implausible value",
                      [f"{v:g} {spec.unit} is outside the plausible range {spec.low:g}–"
                       f"{spec.high:g} {spec.unit} for {spec.label}" for v in values[bad]],
                      [_fix_for(spec, v) + "; excluded from analyses" for v in values[bad]])
    values = values.where(~bad)
    flags = flags.where(~bad, "")
    return values, flags


def _check_column_unit(values: pd.Series, spec: MarkerSpec, column: str, problems: _Problems):
    if spec.typical_median is None or len(values) < 5:
        return
    median = float(values.median())
    low, high = spec.typical_median
    if low <= median <= high:
        return
    fix = f"check the unit of the whole column (expected {spec.unit})"
    for unit, factor in spec.unit_fixes:
        if low <= median * factor <= high:
            how = f"multiply by {factor:g}" if factor >= 1 else f"divide by {1 / factor:g}"
            fix = f"the column looks like {unit}; {how} to get {spec.unit}"
    problems.add(None, column, f"median {median:g}", "unit",
                 f"median {median:g} of {spec.label} is outside the usual {low:g}–{high:g} "
                 f"{spec.unit}", fix)


# --------------------------------------------------------------------------- rows and patients
def _check_rows(samples: pd.DataFrame, labs: list[str], problems: _Problems) -> None:
    has_lab = samples[labs].notna().any(axis=1) if labs else pd.Series(False, samples.index)
    no_time = samples["sample_time"].isna()
    empty = no_time & ~has_lab
    problems.add_many(samples.loc[empty, "row"], "", [""] * empty.sum(), "row without sample",
                      "row has no sample time and no laboratory value",
                      "none needed; the row only gives patient information")
    lost = no_time & has_lab
    problems.add_many(samples.loc[lost, "row"], "", [""] * lost.sum(), "missing sample time",
                      "row has laboratory values but no usable sample time",
                      "fill in RE_DATE; the values are left out of time-based analyses")
    timed = samples[~no_time]
    running_max = timed.groupby("patient_id")["sample_time"].cummax()
    previous = running_max.groupby(timed["patient_id"]).shift()
    late = timed["sample_time"] < previous
    problems.add_many(timed.loc[late, "row"], "", timed.loc[late, "sample_time"], "out of order",
                      "sample time is earlier than a previous row of the same patient",
                      "none needed; samples are sorted by time for analysis")
    same = timed.duplicated(["patient_id", "sample_time"], keep="first")
    problems.add_many(timed.loc[same, "row"], "", timed.loc[same, "sample_time"],
                      "same-time samples", "another row of this patient has the same sample time",
                      "none needed if both are real samples; both are kept")
    position = pd.Series(np.arange(len(samples)), index=samples.index)
    spans = position.groupby(samples["patient_id"]).agg(["min", "max", "size"])
    split = spans[spans["max"] - spans["min"] + 1 != spans["size"]]
    first_rows = samples.groupby("patient_id")["row"].first()
    for pid in split.index:
        problems.add(first_rows[pid], "", pid, "patient rows split",
                     f"rows of patient {pid} are not contiguous",
                     "none needed; rows are grouped by patient for analysis")
    admission = samples["admission_time"]
    early = samples["sample_time"] < admission
    problems.add_many(samples.loc[early, "row"], "", samples.loc[early, "sample_time"],
                      "sample before admission", "sample time is before the admission time",
                      "check the dates; the sample counts as a baseline sample")
    after = samples["sample_time"] > samples["discharge_time"]
    problems.add_many(samples.loc[after, "row"], "", samples.loc[after, "sample_time"],
                      "sample after discharge", "sample time is after the discharge/death time",
                      "check the dates; left out of the days-before-outcome analysis")


def _patient_table(samples: pd.DataFrame, problems: _Problems) -> pd.DataFrame:
    """One row per patient: first non-missing value of each field; conflicts are reported."""
    fields = ["age", "sex", "outcome", "admission_time", "discharge_time"]
    grouped = samples.groupby("patient_id", sort=True)
    table = grouped[fields].first()
    table["first_row"] = grouped["row"].first()
    table["n_samples"] = grouped["sample_time"].count()
    for field in fields:
        distinct = grouped[field].nunique()
        for pid in distinct.index[distinct > 1]:
            rows = samples.loc[samples["patient_id"] == pid]
            first = table.at[pid, field]
            conflict = rows[rows[field].notna() & (rows[field] != first)].iloc[0]
            problems.add(conflict["row"], field, conflict[field], "conflicting patient field",
                         f"patient {pid} has several values of {field}",
                         f"make {field} the same on every row; the first value ({first}) is used")
    no_outcome = table.index[table["outcome"].isna()]
    problems.add_many(table.loc[no_outcome, "first_row"], "outcome", [""] * len(no_outcome),
                      "missing outcome",
                      [f"patient {pid} has no outcome" for pid in no_outcome],
                      "fill in 0 (survived) or 1 (died); the patient is left out of outcome "
                      "analyses")
    stay = (table["discharge_time"] - table["admission_time"]).dt.total_seconds() / 86400.0
    negative = table.index[stay < 0]
    problems.add_many(table.loc[negative, "first_row"], "discharge_time",
                      table.loc[negative, "discharge_time"], "discharge before admission",
                      "discharge/death time is before the admission time",
                      "correct the dates; the patient is left out of survival analyses")
    table["length_of_stay_days"] = stay.where(stay >= 0)
    return table
