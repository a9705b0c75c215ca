"""The twin's probability of death, recalibrated post hoc against the shipped cohort (issue 15,
item 4): the shipped fit meets the tolerances and is reproduced from its own data; it is
reported beside the model's number and only where it applies; twin-eval refits and saves it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.twin._forecast import ArmForecast, Forecast
from il6sim.twin._recalibration import (
    TwinRecalibration,
    fit_twin_recalibration,
    load_twin_recalibration,
    model_fingerprint,
)


@pytest.fixture(scope="module")
def shipped():
    return load_twin_recalibration()


def test_shipped_recalibration_meets_the_tolerances_under_grouped_cv(shipped):
    """Out of fold (5×5-fold grouped CV on the evaluated patients): mean predicted within 5
    points of the observed death rate and calibration slope within 0.8–1.2; the raw model
    probability is far too low (its mean a small fraction of the observed rate)."""
    raw, cv = shipped.statistics["raw"], shipped.statistics["cv"]
    observed = raw["observed"]
    assert abs(cv["mean_predicted"] - observed) <= 0.05
    assert 0.8 <= cv["slope"] <= 1.2
    assert raw["mean_predicted"] < 0.5 * observed
    assert shipped.settings["horizon_days"] == 14 and shipped.settings["fit_days"] == 3
    assert raw["n"] == len(shipped.patients) >= 100
    assert shipped.slope > 0


def test_shipped_recalibration_is_reproduced_from_its_own_data(shipped):
    """Refitting from the per-patient table stored in the file gives the stored coefficients
    and cross-validated statistics (statsmodels measures, scikit-learn fits)."""
    stats = shipped.statistics
    refit = fit_twin_recalibration(shipped.patients[["patient_id", "outcome", "p_death"]],
                                   folds=stats["folds"], repeats=stats["repeats"],
                                   seed=stats["seed"], model=shipped.model)
    assert refit.intercept == pytest.approx(shipped.intercept, abs=1e-5)
    assert refit.slope == pytest.approx(shipped.slope, abs=1e-5)
    for key in ("mean_predicted", "slope", "citl"):
        assert refit.statistics["cv"][key] == pytest.approx(stats["cv"][key], abs=1e-5)
    np.testing.assert_allclose(refit.patients["p_recalibrated_cv"],
                               shipped.patients["p_recalibrated_cv"], atol=1e-6)
    p = np.array([0.001, 0.01, 0.1])
    np.testing.assert_allclose(shipped.apply(p),
                               expit(shipped.intercept + shipped.slope * logit(p)))


def test_recalibration_repairs_a_constructed_miscalibration():
    rng = np.random.default_rng(0)
    true = expit(rng.normal(-0.7, 1.4, 4000))
    y = (rng.random(4000) < true).astype(int)
    raw = expit(1.6 * logit(true) - 3.0)  # far too low, too extreme
    table = pd.DataFrame({"patient_id": np.arange(4000), "outcome": y, "p_death": raw,
                          "status": "ok"})
    fit = fit_twin_recalibration(table, model="x")
    assert fit.slope == pytest.approx(1 / 1.6, rel=0.1)
    assert fit.intercept == pytest.approx(3.0 / 1.6, rel=0.15)
    assert fit.statistics["raw"]["mean_predicted"] < 0.2 < fit.statistics["raw"]["observed"]
    assert abs(fit.statistics["cv"]["difference"]) < 0.02
    assert 0.85 <= fit.statistics["cv"]["slope"] <= 1.15
    with pytest.raises(Exception, match="at least 5 patients who died"):
        fit_twin_recalibration(table.head(6), model="x")


def test_recalibration_round_trips_through_yaml(tmp_path, shipped):
    path = shipped.save(tmp_path / "r.yaml")
    again = TwinRecalibration.load(path)
    assert again.intercept == pytest.approx(shipped.intercept, abs=1e-6)
    assert again.settings == shipped.settings and again.model == shipped.model
    pd.testing.assert_frame_equal(again.patients, shipped.patients, atol=1e-7)
    (tmp_path / "bad.yaml").write_text("slope: [1\n")
    with pytest.raises(Exception, match=r"not a twin recalibration file.*fix:") as info:
        TwinRecalibration.load(tmp_path / "bad.yaml")
    assert "\n" not in str(info.value)


def _forecast(risk: np.ndarray, horizon: float = 14.0) -> Forecast:
    n = risk.size
    arm = ArmForecast("untreated", None, {}, risk, np.ones(n, bool), {})
    return Forecast(patient_id="p", age=60.0, outcome=None, days=np.array([0.0, horizon]),
                    now_days=0.0, horizon_days=horizon, draws=np.zeros((n, 7)),
                    weights=np.full(n, 1.0 / n), arms={"untreated": arm},
                    observations=pd.DataFrame(), fit_days=3.0, sigma={})


def test_forecast_reports_the_recalibrated_probability_beside_the_model_one():
    recal = TwinRecalibration(1.5, 0.6, settings={"horizon_days": 14.0},
                              model=model_fingerprint())
    table = _forecast(np.array([0.01, 0.03, 0.05])).death_probability(recalibration=recal)
    assert table["probability"].iloc[0] == pytest.approx(0.03)
    assert table["recalibrated"].iloc[0] == pytest.approx(expit(1.5 + 0.6 * logit(0.03)))
    other_horizon = _forecast(np.array([0.03]), horizon=7.0)
    assert np.isnan(other_horizon.death_probability(recalibration=recal)["recalibrated"].iloc[0])
    assert "14-day horizon, not 7 days" in other_horizon.recalibration_note(recal)
    stale = TwinRecalibration(1.5, 0.6, settings={"horizon_days": 14.0}, model="0" * 16)
    assert np.isnan(_forecast(np.array([0.03])).death_probability(
        recalibration=stale)["recalibrated"].iloc[0])
    assert "another model version" in _forecast(np.array([0.03])).recalibration_note(stale)
    assert "refit with 'il6sim twin-eval" in _forecast(np.array([0.03])).recalibration_note(stale)
    assert np.isnan(_forecast(np.array([0.03])).death_probability(
        recalibration=None)["recalibrated"].iloc[0])


def test_twin_eval_refits_saves_and_draws_the_recalibration(tmp_path, monkeypatch):
    """twin-eval on 24 patients whose fits are replaced by a fast stand-in (the twin's own fit
    is tested in tests/test_twin.py): it prints raw and recalibrated calibration, writes the
    reliability diagram and, on request, the recalibration file."""
    import il6sim.twin._evaluate as evaluate

    rng = np.random.default_rng(1)

    def fake_fit(cohort, patient_id, settings):
        outcome = int(cohort.patient_info.loc[patient_id, "outcome"])
        p = float(expit(-4.0 + 1.5 * outcome + rng.normal(0, 1.0)))
        return {"patient": {"patient_id": str(patient_id), "age": 60.0, "outcome": outcome,
                            "p_death": p, "status": "ok"}, "coverage": {}, "residuals": {}}

    monkeypatch.setattr(evaluate, "_fit_one", fake_fit)
    monkeypatch.setattr(evaluate, "compare_with_statistics",
                        lambda *a, **k: pd.DataFrame(columns=["model", "inputs", "n", "deaths",
                                                              "auc", "auc_low", "auc_high"]))
    out, saved = tmp_path / "eval", tmp_path / "recal.yaml"
    result = CliRunner().invoke(app, ["twin-eval", "--max-patients", "60", "--out", str(out),
                                      "--save-recalibration", str(saved)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Calibration of the twin's probability of death: raw mean" in said
    assert "recalibrated (logistic, 5×5-fold grouped CV, out of fold)" in said
    assert (out / "reliability.png").stat().st_size > 10_000
    written = TwinRecalibration.load(saved)
    assert written.settings["max_patients"] == 60 and "--max-patients 60" in (
        written.settings["command"])
    patients = pd.read_csv(out / "patients.csv")
    assert patients["p_death_recalibrated_cv"].between(0, 1).all()
    assert abs(written.statistics["cv"]["mean_predicted"] - written.statistics["raw"][
        "observed"]) < 0.05
