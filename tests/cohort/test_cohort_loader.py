"""Loader: column matching, censored values, implausible values, row problems, required columns."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from cohort_helpers import HEADER, synthetic_rows, write_csv

from il6sim.cohort import MARKERS, lab_counts, load_cohort
from il6sim.cohort._markers import PATIENT_FIELDS, normalize_header
from il6sim.errors import InputError


def problems_of(cohort, kind):
    return cohort.problems[cohort.problems["kind"] == kind]


def test_catalogue_headers_do_not_collide():
    """Every folded header or canonical name points to exactly one field."""
    targets: dict[str, set[str]] = {}
    pairs = [(m.name, m.column) for m in MARKERS] + list(PATIENT_FIELDS.items())
    for name, column in pairs:
        for key in (normalize_header(name), normalize_header(column)):
            targets.setdefault(key, set()).add(name)
    assert all(len(names) == 1 for names in targets.values())
    assert len(MARKERS) == 74


def test_clean_synthetic_file_has_no_problems(cohort_csv):
    cohort = load_cohort(cohort_csv)
    assert cohort.problems.empty
    assert cohort.n_patients == 40 and cohort.n_rows_read == 120
    assert set(cohort.markers) == {"il6", "crp", "ldh", "lymphocyte_pct", "lymphocytes",
                                   "albumin", "ferritin"}
    patients = cohort.patients()
    assert list(patients["outcome"]) == [pid % 2 for pid in range(1, 41)]
    assert (patients["end_event"] == np.where(patients["outcome"] == 1, "death",
                                              "discharge")).all()
    assert patients["length_of_stay_days"].between(8, 18).all()
    assert patients.loc[0, "sex"] == "female"  # patient 1: gender 1 + 1 % 3 % 2 = 2


def test_headers_matched_ignoring_case_and_spaces(tmp_path, rows):
    renamed = {"Interleukin 6": "  INTERLEUKIN 6 ", "PATIENT_ID": "patient_id",
               "Lactate dehydrogenase": "lactate-dehydrogenase"}
    new_rows = [{renamed.get(k, k): v for k, v in row.items()} for row in rows]
    cohort = load_cohort(write_csv(tmp_path / "c.csv", new_rows))
    assert cohort.columns["il6"] == "  INTERLEUKIN 6 "
    assert cohort.columns["ldh"] == "lactate-dehydrogenase"
    assert cohort.samples["il6"].notna().all()


def test_mapping_argument_overrides_headers(tmp_path, rows):
    new_rows = [{("IL-6 (pg/mL)" if k == "Interleukin 6" else k): v for k, v in row.items()}
                for row in rows]
    path = write_csv(tmp_path / "c.csv", new_rows)
    unmapped = load_cohort(path)
    assert "il6" not in unmapped.markers
    unknown = problems_of(unmapped, "unknown column")
    assert list(unknown["column"]) == ["IL-6 (pg/mL)"]
    mapped = load_cohort(path, columns={"il6": "IL-6 (pg/mL)"})
    assert mapped.samples["il6"].notna().sum() == 120
    with pytest.raises(InputError, match="'interleukin' is not a known name"):
        load_cohort(path, columns={"interleukin": "IL-6 (pg/mL)"})
    with pytest.raises(InputError, match=r"header .IL6. \(for .il6.\) is not in the file"):
        load_cohort(path, columns={"il6": "IL6"})


def test_censored_values_keep_limit_and_flag(tmp_path, rows):
    rows[0]["Interleukin 6"] = "<1.5"
    rows[1]["Interleukin 6"] = "> 5000"
    rows[2]["ferritin"] = "≤20"
    rows[3]["Interleukin 6"] = "1.5"  # the IL-6 assay's lower limit written as the limit
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    first = cohort.samples.set_index("row")
    assert first.loc[2, "il6"] == 1.5 and cohort.censoring.loc[0, "il6"] == "left"
    assert first.loc[3, "il6"] == 5000.0 and cohort.censoring.loc[1, "il6"] == "right"
    assert first.loc[4, "ferritin"] == 20.0 and cohort.censoring.loc[2, "ferritin"] == "left"
    assert cohort.censoring.loc[3, "il6"] == "left"
    counts = cohort.censored_counts()
    assert counts.loc["il6", "left"] == 2 and counts.loc["il6", "right"] == 1
    long = cohort.long(["il6"])
    assert long.loc[long["row"] == 3, "censored"].item() == "right"
    assert cohort.problems.empty


def test_unparseable_value_reported_and_missing(tmp_path, rows):
    rows[4]["Lactate dehydrogenase"] = "haemolysed"
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    bad = problems_of(cohort, "unparseable value")
    assert bad[["row", "column", "value"]].values.tolist() == [
        [6, "Lactate dehydrogenase", "haemolysed"]]
    assert "'haemolysed' is not a number" in bad["problem"].item()
    assert np.isnan(cohort.samples.set_index("row").loc[6, "ldh"])


def test_implausible_values_reported_with_unit_fix(tmp_path, rows):
    rows[0]["albumin"] = "3.5"      # g/dL instead of g/L
    rows[1]["Platelet count"] = "-1"
    rows[2]["lymphocyte count"] = "850"  # cells/µL instead of 10^9/L
    rows[3]["Interleukin 6"] = "250000"
    header = [*HEADER, "Platelet count"]
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows, header))
    bad = problems_of(cohort, "implausible value").set_index("row")
    assert bad.loc[2, "column"] == "albumin" and bad.loc[2, "value"] == "3.5"
    assert "outside the plausible range 5–70 g/L" in bad.loc[2, "problem"]
    assert bad.loc[2, "fix"].startswith("looks like g/dL; multiply by 10 to get g/L")
    assert "negative value is impossible" in bad.loc[3, "fix"]
    assert bad.loc[4, "fix"].startswith("looks like cells/µL; divide by 1000 to get 10^9/L")
    assert "check the value" in bad.loc[5, "fix"]
    samples = cohort.samples.set_index("row")
    assert samples.loc[[2, 3, 4, 5], ["albumin", "platelets", "lymphocytes", "il6"]].isna().values[
        [0, 1, 2, 3], [0, 1, 2, 3]].all()


def test_whole_column_in_wrong_unit_is_reported_once(tmp_path, rows):
    for row in rows:
        row["albumin"] = f"{float(row['albumin']) / 10:.2f}"
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    unit = problems_of(cohort, "unit")
    assert len(unit) == 1 and pd.isna(unit["row"].item())
    assert "the column looks like g/dL; multiply by 10" in unit["fix"].item()
    assert len(problems_of(cohort, "implausible value")) == 120


def test_empty_column_reported(tmp_path, rows):
    for row in rows:
        row["ferritin"] = ""
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    empty = problems_of(cohort, "empty column")
    assert empty["column"].tolist() == ["ferritin"]
    assert "ferritin" not in cohort.markers
    assert cohort.first_values()["ferritin"].isna().all()


def test_duplicate_row_excluded_and_reported(tmp_path, rows):
    rows.insert(3, dict(rows[1]))
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    dup = problems_of(cohort, "duplicate row")
    assert dup["row"].tolist() == [5]
    assert dup["problem"].item() == "row repeats row 3 exactly"
    assert len(cohort.samples) == 120 and cohort.n_rows_read == 121


def test_out_of_order_rows_reported_and_sorted(tmp_path, rows):
    rows[0], rows[2] = rows[2], rows[0]
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    late = problems_of(cohort, "out of order")
    assert late["row"].tolist() == [3, 4]
    first = cohort.samples[cohort.samples["patient_id"] == 1]
    assert first["sample_time"].is_monotonic_increasing
    assert first["row"].tolist() == [4, 3, 2]


def test_missing_outcome_patient_excluded_from_dataset(tmp_path, rows):
    for row in rows[:3]:
        row["outcome"] = ""
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    missing = problems_of(cohort, "missing outcome")
    assert missing["row"].tolist() == [2]
    assert missing["problem"].item() == "patient 1 has no outcome"
    X, y = cohort.dataset()
    assert len(X) == len(y) == 39 and 1 not in X.index
    assert cohort.first_values().shape[0] == 40


def test_invalid_outcome_and_conflicting_fields(tmp_path, rows):
    rows[3]["outcome"] = "2"
    rows[5]["age"] = "999"
    rows[4]["age"] = "30"
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    assert problems_of(cohort, "invalid outcome")["row"].tolist() == [5]
    assert problems_of(cohort, "invalid age")["row"].tolist() == [7]
    conflict = problems_of(cohort, "conflicting patient field")
    assert conflict["row"].tolist() == [6] and conflict["column"].item() == "age"


def test_unparseable_dates_reported_and_left_out(tmp_path, rows):
    rows[1]["RE_DATE"] = "31/01/2020 25:00"
    rows[2]["RE_DATE"] = "2020-01-10T20:00:00"  # ISO 8601 is accepted
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    bad = problems_of(cohort, "unparseable date")
    assert bad["row"].tolist() == [3] and bad["value"].item() == "31/01/2020 25:00"
    assert problems_of(cohort, "missing sample time")["row"].tolist() == [3]
    assert 3 not in set(cohort.long()["row"])
    assert 4 in set(cohort.long()["row"])


def test_missing_patient_id_taken_from_row_above(tmp_path, rows):
    rows[1]["PATIENT_ID"] = ""
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    filled = problems_of(cohort, "missing patient id")
    assert filled["row"].tolist() == [3]
    assert "taken from the row above" in filled["problem"].item()
    assert cohort.samples.set_index("row").loc[3, "patient_id"] == 1


def test_first_values_window(tmp_path):
    cohort = load_cohort(write_csv(tmp_path / "c.csv", synthetic_rows(4, samples=3), HEADER))
    samples = cohort.samples.set_index(["patient_id", "row"])
    first_6h = cohort.first_values(6)        # samples at 6 h, 46 h, 86 h
    assert first_6h.loc[1, "il6"] == samples.loc[(1, 2), "il6"]
    only_late = cohort.samples.copy()
    only_late.loc[only_late["row"] == 2, "il6"] = np.nan
    cohort.samples = only_late
    assert np.isnan(cohort.first_values(6).loc[1, "il6"])
    assert cohort.first_values(48).loc[1, "il6"] == samples.loc[(1, 3), "il6"]
    assert cohort.first_values(None).loc[1, "il6"] == samples.loc[(1, 3), "il6"]
    assert list(first_6h.columns[:3]) == ["age", "male", "troponin_i"]


def test_long_table_times(cohort_csv):
    long = load_cohort(cohort_csv).long(["il6"])
    assert list(long.columns) == ["patient_id", "row", "time_days", "days_to_end", "marker",
                                  "value", "censored"]
    assert len(long) == 120
    np.testing.assert_allclose(np.unique(long["time_days"].round(9)), [0.25, 46 / 24, 86 / 24])


@pytest.mark.parametrize("column", ["PATIENT_ID", "outcome", "Admission time", "RE_DATE"])
def test_missing_required_column_raises_plain_message(tmp_path, rows, column):
    header = [c for c in HEADER if c != column]
    path = write_csv(tmp_path / "c.csv", rows, header)
    with pytest.raises(InputError) as info:
        load_cohort(path)
    message = str(info.value)
    assert f"required column {column!r}" in message
    assert "columns={" in message and "\n" not in message
    assert "fix:" in message and "the option --column " in message  # the command-line fix


def test_samples_dated_after_death_or_discharge_are_not_baseline(tmp_path, rows):
    """Patient 1 died 3 h after admission (its 6 h and 46 h samples are dated after death);
    patient 3 died 30 h after admission and has no IL-6 on its 6 h sample: its 46 h IL-6 is
    not a baseline value."""
    time = "%Y-%m-%d %H:%M:%S"
    for row in rows:
        admission = datetime.strptime(row["Admission time"], time)
        if row["PATIENT_ID"] == "1":
            row["Discharge time"] = (admission + timedelta(hours=3)).strftime(time)
        if row["PATIENT_ID"] == "3":
            row["Discharge time"] = (admission + timedelta(hours=30)).strftime(time)
            if row["RE_DATE"] == (admission + timedelta(hours=6)).strftime(time):
                row["Interleukin 6"] = ""
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows))
    first = cohort.first_values(48)
    assert first.loc[1].drop(["age", "male"]).isna().all()
    assert np.isnan(first.loc[3, "il6"]) and not np.isnan(first.loc[3, "crp"])
    assert np.isnan(cohort.first_values(None).loc[3, "il6"])
    assert lab_counts(first)[1] == 0 and lab_counts(first)[3] == 6
    X, _ = cohort.dataset(48)
    X_labs, y_labs = cohort.dataset(48, require_labs=True)
    assert 1 in X.index and 1 not in X_labs.index and len(X_labs) == len(y_labs) == 39
    assert len(problems_of(cohort, "sample after discharge")) == 5  # 3 + 2 rows


def test_outcome_not_required_for_prediction(tmp_path, rows):
    header = [c for c in HEADER if c not in ("outcome", "Discharge time")]
    cohort = load_cohort(write_csv(tmp_path / "c.csv", rows, header), require_outcome=False)
    assert cohort.patients()["outcome"].isna().all()
    assert len(cohort.first_values()) == 40


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_cohort(tmp_path / "nothing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="is empty"):
        load_cohort(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text(",".join(HEADER) + "\n")
    with pytest.raises(InputError, match="has a header but no data rows"):
        load_cohort(tmp_path / "header.csv")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match="save it as CSV"):
        load_cohort(tmp_path / "sheet.xlsx")


def test_shipped_cohort_matches_its_readme(shipped):
    assert shipped.n_rows_read == 4659 and shipped.n_patients == 280
    patients = shipped.patients()
    assert int(patients["outcome"].sum()) == 137
    assert len(shipped.markers) == 74
    # the README's facts are about the file: every timed sample, also those dated after death
    timed = shipped.samples[shipped.samples["sample_time"].notna()]
    first_in_file = timed.groupby("patient_id")["il6"].first()
    has_il6 = first_in_file.notna()
    assert has_il6.sum() == 160
    outcome = patients.set_index("patient_id")["outcome"].reindex(first_in_file.index)
    assert first_in_file[has_il6 & (outcome == 0)].median() == pytest.approx(9.5, abs=0.05)
    assert first_in_file[has_il6 & (outcome == 1)].median() == pytest.approx(63.5, abs=0.05)
    # as a baseline, 3 of them have none: their only IL-6 is dated after death
    assert shipped.first_values(None)["il6"].notna().sum() == 157
    kinds = shipped.problems["kind"].value_counts()
    assert kinds["row without sample"] == 11
    assert kinds["sample after discharge"] == 54
    assert "duplicate row" not in kinds
    platelets = shipped.problems[shipped.problems["column"] == "Platelet count"]
    assert (platelets["value"] == "-1.0").all() and len(platelets) == 4


def test_semicolon_separated_file_and_year_first_dates(tmp_path, rows):
    rows[0]["RE_DATE"] = "2020/1/10 6:00"
    path = write_csv(tmp_path / "c.csv", rows, HEADER)
    text = path.read_text(encoding="utf-8").replace(",", ";")
    (tmp_path / "semi.csv").write_text(text, encoding="utf-8")
    cohort = load_cohort(tmp_path / "semi.csv")
    assert cohort.problems.empty
    assert cohort.samples.set_index("row").loc[2, "sample_time"] == pd.Timestamp(
        "2020-01-10 06:00")
    assert cohort.samples["il6"].notna().sum() == 120
