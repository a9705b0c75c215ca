"""A corpus of malformed inputs: every one is refused with one plain line, exit code 2.

Each case runs the real ``il6sim`` command in a subprocess and asserts that it

- does not crash (no traceback, exit code 2, not 1),
- does not hang (a generous timeout for a loaded machine; every case must fail *before* any
  simulation starts, so it takes only the start-up time),
- is not silently accepted (one ``error: ... fix: ...`` line on stderr, and no output written).

Property-based tests (Hypothesis) then throw generated field values at the scenario and trial
validators in-process: each input is either refused with :class:`~il6sim.errors.InputError` or
accepted with every number inside :mod:`il6sim.limits`.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from il6sim import limits
from il6sim.errors import InputError
from il6sim.scenario import Scenario
from il6sim.trial import load_trial
from waiting import LONG_WAIT_S

#: The command under test: the installed script beside this interpreter.
IL6SIM = [str(Path(sys.executable).with_name("il6sim"))]

#: Seconds a refused input may take (start-up only) before it counts as a hang: generous, for
#: a heavily loaded machine (the refusal itself comes before any work).
TIMEOUT_S = LONG_WAIT_S

COHORT = Path(__file__).resolve().parents[1] / "src" / "il6sim" / "data" / "cohorts" / (
    "covid19_wuhan_2020_dev.csv")

BASE_SCENARIO = {"name": "t", "doses": [{"time": "0 h", "agent": "lps", "amount": "2 ng/kg"}],
                 "duration": "24 h"}


def _scenario(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(BASE_SCENARIO))
    data.update(changes)
    return data


def _dose(amount) -> dict:
    return _scenario(doses=[{"time": "0 h", "agent": "lps", "amount": amount}])


def _alias_bomb() -> str:
    lines = ["name: t", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    lines.append("outputs: *a8")
    return "\n".join(lines) + "\n"


#: Scenario files (name → YAML text) that must each be refused.
SCENARIO_FILES = {
    "duration-1e9h": yaml.safe_dump(_scenario(duration="1e9 h")),
    "duration-nan": yaml.safe_dump(_scenario(duration="nan h")),
    "sampling-1ns": yaml.safe_dump(_scenario(sampling="1e-9 h")),
    "dose-1e300": yaml.safe_dump(_dose("1e300 ng/kg")),
    "dose-2pow1000": yaml.safe_dump(_dose(2**1000)),
    "dose-inverse-unit": yaml.safe_dump(_dose("2 kg/ng")),
    "dose-nan": yaml.safe_dump(_dose("nan ng/kg")),
    "dose-time-inf": yaml.safe_dump(_scenario(
        doses=[{"time": "inf h", "agent": "lps", "amount": "2 ng/kg"}])),
    "5000-doses": yaml.safe_dump(_scenario(doses=[
        {"time": f"{0.004 * k:.3f} h", "agent": "lps", "amount": "2 ng/kg"}
        for k in range(5000)])),
    "treatment-every-second": yaml.safe_dump(_scenario(treatment={
        "drug": "tocilizumab", "amount": "8 mg/kg", "interval": "1 s"})),
    "treatment-1e9-doses": yaml.safe_dump(_scenario(treatment={
        "drug": "tocilizumab", "amount": "8 mg/kg", "interval": "1 h", "doses": 10**9})),
    "switch-5": yaml.safe_dump(_scenario(patient={"switch_il6": 5})),
    "switch-7": yaml.safe_dump(_scenario(patient={"switch_il6": 7})),
    "switch-minus-1": yaml.safe_dump(_scenario(patient={"switch_il6": -1})),
    "age-minus-10": yaml.safe_dump(_scenario(patient={"age": -10})),
    "weight-1e-300": yaml.safe_dump(_scenario(patient={"body_weight": "1e-300 kg"})),
    "weight-minus-80": yaml.safe_dump(_scenario(patient={"body_weight": "-80 kg"})),
    "rate-1e300": yaml.safe_dump(_scenario(patient={"k_cytokine_tp": 1e300})),
    "alias-bomb": _alias_bomb(),
    "alias-recursive": "name: t\noutputs: &a [*a]\n",
    "pathogen-parent-path": yaml.safe_dump(_scenario(pathogen="../drugs/tocilizumab")),
    "pathogen-absolute": yaml.safe_dump(_scenario(pathogen="/etc/passwd")),
    "targets-parent-path": yaml.safe_dump(_scenario(targets="../trials/remap-cap-il6")),
    "empty": "",
    "two-megabytes": "name: t\n" + "# padding\n" * 200_000,
    "a-list": "- 1\n- 2\n",
}


def _trial(**changes) -> dict:
    shipped = Path(__file__).resolve().parents[1] / "src" / "il6sim" / "data" / "trials"
    data = yaml.safe_load((shipped / "recovery-tocilizumab.yaml").read_text())
    data.update(changes)
    return data


def _background(**changes) -> dict:
    return {"name": "corticosteroids", "treatment": {"regimen": "tocilizumab-covid-8mgkg"},
            "fraction": 0.5, **changes}


TRIAL_FILES = {
    "population-path": _trial(population="../populations/covid19-hospitalised"),
    "coinfection-pathogen-path": _trial(coinfection={"pathogen": "/etc/passwd",
                                                     "fraction": 0.1}),
    "size-1e12": _trial(size=10**12),
    "threshold-nan": _trial(enrolment={"eligibility": [{"signal": "crp",
                                                        "at_least": float("nan")}]}),
    "cuts-nan": _trial(subgroups=[{"name": "age", "signal": "age", "cuts": [float("nan")]}]),
    "treatment-every-second": _trial(arms=[
        {"name": "usual care"},
        {"name": "t", "treatment": {"drug": "tocilizumab", "amount": "8 mg/kg",
                                    "interval": "1 s"}}]),
    "dose-inverse-unit": _trial(arms=[
        {"name": "usual care"},
        {"name": "t", "treatment": {"drug": "tocilizumab", "amount": "8 kg/mg"}}]),
    "followup-inf": _trial(followup="inf h"),
    "antibiotic-1e9-doses": _trial(coinfection={"fraction": 0.1,
                                                "antibiotic": {"doses": 10**9}}),
    "background-fraction-nan": _trial(background=[_background(fraction=float("nan"))]),
    "background-regimen-unknown": _trial(background=[_background(
        treatment={"regimen": "dexamethasone-600mg"})]),
    "background-start-unknown": _trial(background=[_background(start={"at": "discharge"})]),
    "background-name-twice": _trial(background=[_background(), _background()]),
}


def _write_cohorts(folder: Path) -> dict[str, Path]:
    """Malformed copies of the shipped cohort."""
    rows = list(csv.reader(COHORT.open(encoding="utf-8-sig")))
    header, body = rows[0], rows[1:]
    outcome, admission = header.index("outcome"), header.index("Admission time")
    discharge, sample = header.index("Discharge time"), header.index("RE_DATE")
    out = {}

    def write(name: str, lines: list[list[str]]) -> None:
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *lines])
        out[name] = path

    write("ragged", [*body[:50], body[50] + ["x", "y"], *body[51:100]])
    write("one-outcome-class", [r for r in body if r[outcome] == "0"])
    write("discharge-before-admission",
          [[*r[:discharge], "2019-01-01 00:00:00", *r[discharge + 1:]] for r in body])
    write("samples-after-discharge",
          [[*r[:sample], "2030-01-01 00:00:00", *r[sample + 1:]] for r in body])
    write("admission-unreadable", [[*r[:admission], "soon", *r[admission + 1:]] for r in body])
    write("sample-times-unreadable", [[*r[:sample], "yesterday", *r[sample + 1:]] for r in body])
    write("no-outcomes", [[*r[:outcome], "", *r[outcome + 1:]] for r in body])
    renamed = [("ID" if h == "PATIENT_ID" else h) for h in header]
    path = folder / "patient-id-renamed.csv"  # the error names --column patient_id=...
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([renamed, *body[:100]])
    out["patient-id-renamed"] = path
    return out


def _cases(tmp: Path) -> list[tuple[str, list[str], Path | None]]:
    """(case id, il6sim arguments, a path that must not be written)."""
    cases: list[tuple[str, list[str], Path | None]] = []
    result = tmp / "out" / "result.parquet"
    for name, text in SCENARIO_FILES.items():
        path = tmp / f"scenario-{name}.yaml"
        path.write_text(text, encoding="utf-8")
        cases.append((f"scenario:{name}", ["simulate", str(path), "--out", str(result)],
                      result))
    for name, data in TRIAL_FILES.items():
        path = tmp / f"trial-{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        folder = tmp / "out" / "trial"
        cases.append((f"trial:{name}", ["trial", str(path), "--n", "8", "--out", str(folder)],
                      folder))
    cohorts = _write_cohorts(tmp)
    model = tmp / "out" / "model.skops"
    for name, path in cohorts.items():
        cases.append((f"cohort:{name}", ["prognosis", "fit", str(path), "--cv-repeats", "0",
                                         "--out", str(model)], model))
    cases.append(("cohort:a-folder", ["prognosis", "fit", str(tmp), "--cv-repeats", "0",
                                      "--out", str(model)], model))
    a_file = tmp / "a-file"
    a_file.write_text("x")
    a_folder = tmp / "a-folder.parquet"
    a_folder.mkdir()
    base = tmp / "scenario-base.yaml"
    base.write_text(yaml.safe_dump(BASE_SCENARIO))
    sim = ["simulate", str(base), "--out", str(result)]
    cli = {
        "set-sampling-1e-9h": [*sim, "--set", "sampling=1e-9h"],
        "set-duration-1e9h": [*sim, "--set", "duration=1e9h"],
        "set-switch-5": [*sim, "--set", "switch_il6=5"],
        "set-age-minus-10": [*sim, "--set", "age=-10"],
        "set-weight-minus-80": [*sim, "--set", "body_weight=-80kg"],
        "set-not-name-value": [*sim, "--set", "body_weight"],
        "at-day-nan": ["simulate", "covid19-severe", "--out", str(result), "--treat",
                       "tocilizumab", "--at-day", "nan"],
        "at-day-inf": ["simulate", "covid19-severe", "--out", str(result), "--treat",
                       "tocilizumab", "--at-day", "inf"],
        "at-day-after-end": ["simulate", "covid19-severe", "--out", str(result), "--treat",
                             "tocilizumab", "--at-day", "40"],
        "at-day-without-treat": [*sim, "--at-day", "3"],
        "out-is-a-folder": ["simulate", str(base), "--out", str(a_folder)],
        "out-under-a-file": ["simulate", str(base), "--out", str(a_file / "r.parquet")],
        "plot-is-a-folder": [*sim, "--plot", str(tmp)],
        "window-hours-0": ["prognosis", "fit", "--window-hours", "0", "--out", str(model)],
        "window-hours-minus-5": ["prognosis", "fit", "--window-hours", "-5", "--out",
                                 str(model)],
        "biomarkers-out-a-file": ["biomarkers", "--out", str(a_file)],
        "biomarkers-cv-repeats-0": ["biomarkers", "--cv-repeats", "0", "--out",
                                    str(tmp / "out" / "bm")],
        "column-not-name-value": ["prognosis", "fit", "--column", "patient_id", "--out",
                                  str(model)],
        "column-unknown-name": ["prognosis", "fit", "--column", "interleukin=IL6", "--out",
                                str(model)],
        "calibration-unknown": ["prognosis", "fit", "--calibration", "platt", "--out",
                                str(model)],
        "targets-parent-path": ["targets", "../trials/remap-cap-il6"],
        "sbml-out-a-folder": ["export-sbml", "healthy", "--out", str(tmp / "x.xml" / "")],
        "option-not-a-number": [*sim, "--at-day", "abc"],
        "unknown-option": [*sim, "--no-such-option"],
    }
    (tmp / "x.xml").mkdir()
    for name, args in cli.items():
        cases.append((f"cli:{name}", args, result if "out" not in name else None))
    for name, (args, guard) in _population_cases(tmp, a_file, a_folder).items():
        cases.append((f"population:{name}", args, guard))
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder only stops other users
        locked = tmp / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        cases.append(("cli:out-read-only", ["simulate", str(base), "--out",
                                            str(locked / "r.parquet")], None))
    return cases


def _population_cases(tmp: Path, a_file: Path, a_folder: Path
                      ) -> dict[str, tuple[list[str], Path | None]]:
    """``il6sim population ...`` options: (arguments, a path that must not be written)."""
    table, folder, csv_out = tmp / "out" / "pop.parquet", tmp / "out" / "pop", tmp / "out" / "c.csv"
    sample = ["population", "sample", "--out", str(table)]
    course = ["population", "course", "--out", str(csv_out)]
    fit = ["population", "fit", "--out", str(folder)]
    return {
        "sample-n-0": ([*sample, "--n", "0"], table),
        "sample-n-minus-5": ([*sample, "--n", "-5"], table),
        "sample-n-1e11": ([*sample, "--n", "100000000000"], table),
        "sample-n-not-a-number": ([*sample, "--n", "1e3"], table),
        "sample-seed-minus-1": ([*sample, "--seed", "-1"], table),
        "sample-seed-nan": ([*sample, "--seed", "nan"], table),
        "sample-out-a-folder": (["population", "sample", "--out", str(a_folder)], None),
        "sample-out-not-parquet": (["population", "sample", "--out", str(tmp / "p.txt")],
                                   tmp / "p.txt"),
        "course-n-5": ([*course, "--n", "5"], csv_out),
        "course-n-1e8": ([*course, "--n", "100000000"], csv_out),
        "course-days-nan": ([*course, "--days", "nan"], csv_out),
        "course-days-inf": ([*course, "--days", "inf"], csv_out),
        "course-days-1000": ([*course, "--days", "1000"], csv_out),
        "course-out-under-a-file": (["population", "course", "--out", str(a_file / "c.csv")],
                                    None),
        "fit-n-minus-1": ([*fit, "--n", "-1"], folder),
        "fit-rounds-0": ([*fit, "--rounds", "0"], folder),
        "fit-rounds-above-n": ([*fit, "--n", "10", "--rounds", "11"], folder),
        "fit-window-nan": ([*fit, "--window-hours", "nan"], folder),
        "fit-window-0": ([*fit, "--window-hours", "0"], folder),
        "fit-out-a-file": (["population", "fit", "--out", str(a_file)], None),
        "fit-cohort-missing": ([*fit, str(tmp / "no-such-cohort.csv")], folder),
    }


POPULATION_IDS = ["sample-n-0", "sample-n-minus-5", "sample-n-1e11", "sample-n-not-a-number",
                  "sample-seed-minus-1", "sample-seed-nan", "sample-out-a-folder",
                  "sample-out-not-parquet", "course-n-5", "course-n-1e8", "course-days-nan",
                  "course-days-inf", "course-days-1000", "course-out-under-a-file",
                  "fit-n-minus-1", "fit-rounds-0", "fit-rounds-above-n", "fit-window-nan",
                  "fit-window-0", "fit-out-a-file", "fit-cohort-missing"]


def _case_ids() -> list[str]:
    names = [f"scenario:{n}" for n in SCENARIO_FILES] + [f"trial:{n}" for n in TRIAL_FILES]
    names += [f"cohort:{n}" for n in ("ragged", "one-outcome-class",
                                      "discharge-before-admission", "samples-after-discharge",
                                      "admission-unreadable", "sample-times-unreadable",
                                      "no-outcomes", "patient-id-renamed", "a-folder")]
    return names


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[list[str], Path | None]]:
    tmp = tmp_path_factory.mktemp("malformed")
    return {case: (args, guard) for case, args, guard in _cases(tmp)}


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([*IL6SIM, *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=env)


def _assert_refused(case: str, args: list[str], guard: Path | None) -> None:
    try:
        done = _run(args)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hang is the failure
        pytest.fail(f"{case}: no answer within {TIMEOUT_S} s (hang)")
    stderr = done.stderr.strip()
    assert "Traceback" not in stderr and "╭" not in stderr, f"{case}: traceback\n{stderr}"
    assert done.returncode == 2, f"{case}: exit {done.returncode} (silently accepted?)\n" \
        f"{done.stdout[-2000:]}\n{stderr}"
    lines = stderr.splitlines()
    assert len(lines) == 1, f"{case}: expected one error line, got\n{stderr}"
    assert lines[0].startswith("error: ") and "fix:" in lines[0], f"{case}: {lines[0]}"
    if guard is not None:
        assert not guard.exists(), f"{case}: {guard} was written although the input was refused"


CLI_IDS = ["set-sampling-1e-9h", "set-duration-1e9h", "set-switch-5", "set-age-minus-10",
           "set-weight-minus-80", "set-not-name-value", "at-day-nan", "at-day-inf",
           "at-day-after-end", "at-day-without-treat", "out-is-a-folder", "out-under-a-file",
           "plot-is-a-folder", "window-hours-0", "window-hours-minus-5",
           "biomarkers-out-a-file", "biomarkers-cv-repeats-0", "column-not-name-value",
           "column-unknown-name", "calibration-unknown", "targets-parent-path",
           "sbml-out-a-folder", "option-not-a-number", "unknown-option"]


@pytest.mark.parametrize("case", _case_ids() + [f"cli:{n}" for n in CLI_IDS]
                         + [f"population:{n}" for n in POPULATION_IDS])
def test_malformed_input_is_refused_with_one_line(corpus, case):
    args, guard = corpus[case]
    _assert_refused(case, args, guard)


def test_read_only_output_folder_is_refused(corpus):
    if "cli:out-read-only" not in corpus:
        pytest.skip("running as root: a read-only folder is writable")
    args, guard = corpus["cli:out-read-only"]
    _assert_refused("cli:out-read-only", args, guard)


# ----------------------------------------------------------------- generated field values
_odd_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**1100), max_value=2**1100),
    st.sampled_from([0, -1, 1e-300, 1e300, 2**1000, 5, 7, float("nan")]),
)
_odd_texts = st.one_of(
    st.builds(lambda x, u: f"{x} {u}", _odd_numbers,
              st.sampled_from(["h", "min", "d", "s", "ng/kg", "kg/ng", "kg", "mg", "1/h",
                               "ng", "year", "CFU", "", "furlong"])),
    st.text(max_size=12),
    st.sampled_from(["../x", "/etc/passwd", "..", "a/b", "nan", "inf h", "2**1000"]),
)
_odd_values = st.one_of(_odd_numbers, _odd_texts, st.none(), st.booleans(),
                        st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

_SCENARIO_FIELDS = [("duration",), ("sampling",), ("patient", "body_weight"),
                    ("patient", "age"), ("patient", "switch_il6"), ("patient", "k_cytokine_tp"),
                    ("doses", 0, "amount"), ("doses", 0, "time"), ("pathogen",), ("targets",),
                    ("knockouts",), ("outputs",), ("treatment",)]


def _set(data: dict, path: tuple, value) -> dict:
    cursor = data
    for key in path[:-1]:
        cursor = cursor.setdefault(key, {}) if isinstance(key, str) else cursor[key]
    cursor[path[-1]] = value
    return data


def _accepted_scenario_is_within_limits(scenario: Scenario) -> None:
    assert scenario.duration_h <= limits.MAX_RUN_HOURS
    assert limits.sampling_problem(scenario.duration_h, scenario.sampling_h) is None
    table = scenario.dose_table()
    assert len(table) <= limits.MAX_DOSE_EVENTS
    for row in table.itertuples():
        assert limits.dose_amount_problem(float(row.amount), row.unit) is None
        assert math.isfinite(row.time_h) and 0 <= row.time_h <= limits.MAX_RUN_HOURS
    for name, value in scenario.parameter_overrides().items():
        assert math.isfinite(value) and value >= 0, (name, value)
        if name.startswith("switch_"):
            assert value in (0.0, 1.0)
        if name in limits.COVARIATE_RANGES:
            low, high, _ = limits.COVARIATE_RANGES[name]
            assert low <= value <= high


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(_SCENARIO_FIELDS), value=_odd_values)
@example(field=("doses", 0, "amount"), value="1" + "0" * 400 + " h")  # found by Hypothesis
@example(field=("duration",), value="[")
@example(field=("duration",), value=2**1100)
def test_generated_scenario_fields_are_refused_or_within_limits(field, value):
    data = _set(yaml.safe_load(yaml.safe_dump(BASE_SCENARIO)), field, value)
    try:
        scenario = Scenario.from_dict(data, source="generated.yaml")
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and "fix:" in message, message
        assert message.startswith("scenario 'generated.yaml'"), message
        return
    _accepted_scenario_is_within_limits(scenario)


_TRIAL_FIELDS = [("size",), ("followup",), ("population",), ("seed",),
                 ("enrolment", "delay"), ("enrolment", "window"),
                 ("coinfection",), ("subgroups",), ("anchor_control_risk",), ("background",)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(_TRIAL_FIELDS), value=_odd_values)
def test_generated_trial_fields_are_refused_or_within_limits(field, value):
    data = _set(_trial(), field, value)
    try:
        design = load_trial(data)
    except InputError as exc:
        assert "\n" not in str(exc) and "fix:" in str(exc), str(exc)
        return
    assert 2 <= design.size <= limits.MAX_TRIAL_PATIENTS
    assert 0 < design.followup_h <= limits.MAX_RUN_HOURS
    assert limits.data_name_problem(design.population, "population") is None
    assert all(0 <= entry.fraction <= 1 for entry in design.background)


@pytest.mark.parametrize(("unit", "expected"), [("kg/ng", "where the body weight goes"),
                                                ("ng/ug", "where the body weight goes"),
                                                ("ng/kg/kg", "cannot be converted")])
def test_the_python_api_refuses_an_inverted_dose_unit(unit, expected):
    """Both kg/ng and ng/kg are mass per mass: pint would convert 2 kg/ng to 2e24 ng/kg."""
    from il6sim.engine import Dose, simulate

    with pytest.raises(InputError, match=expected):
        simulate(doses=[Dose(0.0, "lps", 2.0, unit=unit)], t_end=1.0, dt=1.0)


def test_an_equivalent_dose_unit_is_converted():
    from il6sim.engine import Dose, simulate

    a = simulate(doses=[Dose(0.0, "lps", 2.0, unit="ng/kg")], t_end=4.0, dt=1.0)
    b = simulate(doses=[Dose(0.0, "lps", 0.002, unit="ug/kg")], t_end=4.0, dt=1.0)
    assert a.status == b.status == ["ok"]
    assert a.output("il6") == pytest.approx(b.output("il6"), rel=1e-6)
