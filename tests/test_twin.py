"""The digital twin: recovery of known parameters from data the model made, forecasts that
contain the truth, censored labs, the command line and the cohort evaluation."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.errors import InputError
from il6sim.twin import (
    LAB_MARKERS,
    TWIN_PARAMETERS,
    DigitalTwin,
    PatientSeries,
    TwinSimulator,
    patient_series,
)

AGE = 70.0
#: Known parameters, each away from its prior median (order of TWIN_PARAMETERS).
TRUTH = {"infection_to_admission": 8.0, "ifn_capacity": 0.3, "monocyte_recruitment": 14.0,
         "exhaustion_rate": 0.003, "lymphocyte_baseline": 1.6, "lymphocyte_loss": 5.0,
         "ldh_baseline": 230.0}
FIT_DAYS = np.arange(0.25, 6.0, 0.5)  # twice a day for six days
LATER_DAYS = np.array([6.0, 8.0, 10.0, 12.0])


def _theta(values: dict) -> np.ndarray:
    return np.array([[values[p.name] for p in TWIN_PARAMETERS]])


def _synthetic_series(days: np.ndarray, seed: int = 1) -> PatientSeries:
    """All four labs at ``days``, from the model at TRUTH with log-normal measurement error
    (biological and analytical; the model itself is exact here)."""
    markers = [m for _ in days for m in LAB_MARKERS]
    times = np.repeat(days, len(LAB_MARKERS))
    clean = TwinSimulator(AGE).labs(_theta(TRUTH), times, markers)[0]
    sigma = np.array([LAB_MARKERS[m].sigma_with(0.0) for m in markers])  # no model error
    noisy = clean * np.exp(sigma * np.random.default_rng(seed).standard_normal(len(times)))
    obs = pd.DataFrame({"time_days": times, "marker": markers, "value": noisy, "censored": "",
                        "row": np.arange(len(times)) + 2})
    return PatientSeries("synthetic", AGE, 0, 20.0, obs)


@pytest.fixture(scope="module")
def fitted():
    series = _synthetic_series(np.concatenate([FIT_DAYS, LATER_DAYS]))
    twin = DigitalTwin(sigma_model=0.0, random_state=0).fit(series, fit_days=float(FIT_DAYS.max()))
    return twin


def test_twin_recovers_known_parameters(fitted):
    """Every true value lies in the 95 % credible interval; parameters the labs inform
    (posterior SD below half the prior SD) are recovered within 35 %."""
    table = fitted.summary(level=0.95).set_index("parameter")
    print(table.round(4).to_string())
    informed = 0
    for name, true in TRUTH.items():
        row = table.loc[name]
        assert row["low"] <= true <= row["high"], (name, true, row.to_dict())
        if row["sd_ratio"] < 0.5:
            informed += 1
            assert abs(np.log(row["map"] / true)) < np.log(1.35), (name, true, row["map"])
    assert informed >= 2  # the labs do carry information (not just the prior)
    assert table.loc["infection_to_admission", "sd_ratio"] < 0.5
    assert fitted.effective_draws_ >= 10  # the weighted posterior is not a single draw


def test_twin_fit_residuals_are_plausible(fitted):
    """At the MAP the labs sit within their measurement error (chi-square per lab near 1)."""
    residuals = fitted.observations_["residual"].to_numpy()
    assert np.mean(residuals**2) < 2.5
    assert fitted.now_days_ == FIT_DAYS.max()
    assert set(fitted.observations_["marker"]) == set(LAB_MARKERS)


def test_forecast_contains_the_truth(fitted):
    """The model's own later course (no measurement error) lies inside the 90 % predictive
    interval at every later time, and the later noisy labs are mostly covered."""
    forecast = fitted.forecast(8.0, n_draws=60, seed=3)
    truth = TwinSimulator(AGE).run(_theta(TRUTH), LATER_DAYS)
    for marker, spec in LAB_MARKERS.items():
        band = forecast.band(marker)
        low = np.interp(LATER_DAYS, band["days"], band["low"])
        high = np.interp(LATER_DAYS, band["days"], band["high"])
        true = truth.output(spec.output)[0]
        assert np.all((low <= true) & (true <= high)), (marker, low, true, high)
    coverage = forecast.coverage()
    assert len(coverage) == len(LATER_DAYS) * len(LAB_MARKERS)
    assert coverage["covered"].mean() >= 0.75
    risk = forecast.death_probability()
    assert list(risk["arm"]) == ["untreated"]
    assert 0.0 <= risk["probability"].iloc[0] <= 1.0
    assert risk["failed"].iloc[0] == 0


def test_forecast_with_blockade_lowers_il6_signalling_markers(fitted):
    """Tocilizumab started now: CRP (made on IL-6 classic signalling) falls below the untreated
    forecast within a week, while free IL-6 rises (receptor-mediated clearance is blocked)."""
    forecast = fitted.forecast(7.0, n_draws=20, regimen="tocilizumab-covid-8mgkg", seed=0)
    assert list(forecast.arms) == ["untreated", "tocilizumab-covid-8mgkg"]
    week = forecast.days == fitted.now_days_ + 7.0
    untreated = forecast.band("crp", "untreated", noise=False)["median"][week].iloc[0]
    treated = forecast.band("crp", "tocilizumab-covid-8mgkg", noise=False)["median"][week].iloc[0]
    assert treated < 0.5 * untreated


def test_censored_lab_residual_is_one_sided():
    """A value below the assay limit (``<1.5``) costs nothing while the model is below the
    limit and a Tobit penalty when the model is above it."""
    obs = pd.DataFrame({"time_days": [1.0], "marker": ["il6"], "value": [1.5],
                        "censored": ["left"], "row": [2]})
    twin = DigitalTwin()
    twin._setup(PatientSeries("c", 60.0, 0, 10.0, obs), None)
    below, at, above = twin._data_residuals(np.log([[0.015], [1.5], [150.0]]))[:, 0]
    assert below < 0.01
    assert at == pytest.approx(np.sqrt(2 * np.log(2)), rel=1e-6)  # -2 log Phi(0)
    assert above > 3.0


def test_fit_without_labs_in_window_is_an_input_error():
    obs = pd.DataFrame({"time_days": [5.0], "marker": ["crp"], "value": [30.0],
                        "censored": [""], "row": [2]})
    with pytest.raises(InputError, match="fit-days"):
        DigitalTwin().fit(PatientSeries("late", 60.0, 0, 10.0, obs), fit_days=2.0)


# --------------------------------------------------------------------------- cohort and CLI
HEADER = ["PATIENT_ID", "RE_DATE", "age", "gender", "Admission time", "Discharge time",
          "outcome", "Interleukin 6", "High sensitivity C-reactive protein",
          "Lactate dehydrogenase", "lymphocyte count"]
COLUMN = {"il6": "Interleukin 6", "crp": "High sensitivity C-reactive protein",
          "ldh": "Lactate dehydrogenase", "lymphocytes": "lymphocyte count"}


def _write_cohort(path, n_patients=4):
    """A cohort in the Tongji export format whose labs the model made (one sample a day)."""
    time_format = "%Y-%m-%d %H:%M:%S"
    rows = []
    for pid in range(1, n_patients + 1):
        admission = datetime(2020, 1, 20) + timedelta(hours=7 * pid)
        truth = dict(TRUTH, ifn_capacity=0.2 * pid, infection_to_admission=7.0 + pid)
        days = np.arange(0.25, 8.0, 1.0)
        markers = [m for _ in days for m in LAB_MARKERS]
        values = TwinSimulator(AGE).labs(_theta(truth), np.repeat(days, 4), markers)[0]
        for k, day in enumerate(days):
            row = {"PATIENT_ID": pid, "age": int(AGE), "gender": 1 + pid % 2,
                   "RE_DATE": (admission + timedelta(days=float(day))).strftime(time_format),
                   "Admission time": admission.strftime(time_format),
                   "Discharge time": (admission + timedelta(days=12)).strftime(time_format),
                   "outcome": pid % 2}
            for j, marker in enumerate(LAB_MARKERS):
                row[COLUMN[marker]] = f"{values[4 * k + j]:.4g}"
            rows.append(row)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_patient_series_from_a_cohort_and_unknown_id(tmp_path):
    from il6sim.cohort import load_cohort

    cohort = load_cohort(_write_cohort(tmp_path / "c.csv", 2))
    series = patient_series(cohort, "2")
    assert series.age == AGE and series.outcome == 0
    assert len(series.observations) == 8 * 4
    assert set(series.observations["marker"]) == set(LAB_MARKERS)
    with pytest.raises(InputError, match="'99' is not in"):
        patient_series(cohort, "99")


def test_cli_twin_forecast_and_plot(tmp_path):
    path = _write_cohort(tmp_path / "cohort.csv", 1)
    figure = tmp_path / "twin.png"
    result = CliRunner().invoke(app, [
        "twin", str(path), "--patient", "1", "--fit-days", "3", "--horizon", "5",
        "--draws", "10", "--plot", str(figure), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Fitted patient parameters" in result.output
    assert "infection_to_admission" in result.output
    assert "Probability of death within 5 days" in result.output
    assert "tocilizumab-covid-8mgkg" in result.output
    assert "Later labs (not fitted) inside the 90% interval" in result.output
    assert figure.stat().st_size > 10_000
    death = pd.read_csv(tmp_path / "out" / "death.csv")
    assert list(death["arm"]) == ["untreated", "tocilizumab-covid-8mgkg"]
    assert ((death["probability"] >= 0) & (death["probability"] <= 1)).all()


@pytest.mark.parametrize("args, message", [
    (["--patient", "42"], "'42' is not in"),
    (["--patient", "1", "--fit-days", "-1"], "--fit-days -1"),
    (["--patient", "1", "--regimen", "tocilizumab-99mgkg"], "unknown regimen"),
    ([], "--patient is required"),
])
def test_cli_twin_bad_input_is_one_line(tmp_path, args, message):
    path = _write_cohort(tmp_path / "cohort.csv", 1)
    result = CliRunner().invoke(app, ["twin", str(path), *args])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_evaluation_resumes_from_cache(tmp_path):
    """Two patients fitted on day 0-3, forecasts scored on days 3-8; a second run reads the
    cached fits (same numbers, much faster)."""
    from il6sim.cohort import load_cohort
    from il6sim.twin import evaluate_twin

    cohort = load_cohort(_write_cohort(tmp_path / "c.csv", 2))
    first = evaluate_twin(cohort, fit_days=3, horizon_days=5, n_draws=10,
                          cache_dir=tmp_path / "cache", cv_repeats=1)
    assert list(first.patients["status"]) == ["ok", "ok"]
    assert len(first.coverage) == 2 * 5 * 4  # days 3.25 ... 7.25, four labs each
    # the model made these labs without error: the forecast should cover most of them
    assert first.summary()["coverage_90"] >= 0.75
    assert first.comparison["model"].iloc[0] == "twin"
    second = evaluate_twin(cohort, fit_days=3, horizon_days=5, n_draws=10,
                           cache_dir=tmp_path / "cache", cv_repeats=1)
    pd.testing.assert_frame_equal(first.patients, second.patients)
    assert second.settings["seconds"] < 0.5 * first.settings["seconds"]


@pytest.mark.slow
def test_twin_on_the_shipped_cohort(tmp_path):
    """40 real patients fitted on days 0-3 (about 4 min): most later labs inside the 90 %
    interval, and the twin's probability of death ranks death well (full cohort: 81 %, AUC
    0.93; docs/twin.md)."""
    from il6sim.cohort import load_cohort
    from il6sim.twin import evaluate_twin

    result = evaluate_twin(load_cohort(), fit_days=3, max_patients=40, cv_repeats=2,
                           cache_dir=tmp_path)
    summary = result.summary()
    print(result.coverage_table().to_string(), result.comparison.to_string(), summary)
    assert (result.patients["status"] == "ok").all()
    assert summary["coverage_90"] >= 0.7
    assert summary["auc_twin"] >= 0.75
