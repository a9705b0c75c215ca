"""How good is the twin? Fit each patient on their first days, compare with what came later.

For every eligible patient (known outcome, still in hospital at ``fit_days``, at least
``min_labs`` of the four labs in the first ``fit_days`` after admission) the twin is fitted on
those labs and forecasts ``horizon_days`` ahead. Reported:

* **coverage**: the share of the patient's later labs (within the horizon) inside the
  forecast's central 90 % posterior predictive interval, per marker; a calibrated forecast
  covers about 90 %.
* **discrimination**: the AUC for in-hospital death of the twin's probability of death over the
  horizon, next to :class:`~il6sim.cohort.Il6Prognosis` evaluated by repeated grouped
  cross-validation on the *same* patients with features from the *same* window (all labs, and
  only age and the twin's four labs), and the first IL-6 alone.
* **calibration** of the twin's probability of death: mean predicted against observed death and
  the calibration slope, raw and after a post-hoc logistic recalibration
  (:mod:`il6sim.twin._recalibration`) measured out of fold (repeated stratified grouped
  cross-validation on these patients), and with the shipped recalibration when it applies.

Each patient's result is written to ``cache_dir`` as soon as it is done, keyed by the settings
and the model, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import Il6simError, InputError
from ._data import patient_series
from ._fit import DigitalTwin
from ._posterior import MAX_ROUNDS, MIXTURE
from ._priors import LAB_MARKERS, TWIN_PARAMETERS
from ._simulator import INOCULUM_VIRIONS, LEAD_IN_DAYS

__all__ = ["TwinEvaluation", "eligible_patients", "evaluate_twin"]

#: Bins of days ahead of the fit window for the coverage table.
AHEAD_BINS = (0.0, 3.0, 7.0, 14.0, np.inf)


@dataclass
class TwinEvaluation:
    """Results of :func:`evaluate_twin`.

    Attributes
    ----------
    patients : one row per patient fitted: ``patient_id``, ``age``, ``outcome``, ``n_fit``
        (labs fitted), ``n_later``, ``cost``, ``p_death`` (twin, over the horizon),
        ``p_low``/``p_high`` (90 % interval of the per-draw risk), ``seconds``, ``status``.
    coverage : one row per later lab: ``patient_id``, ``marker``, ``days_ahead``, ``value``,
        ``low``, ``high``, ``covered``.
    comparison : AUCs for death (``model``, ``inputs``, ``n``, ``deaths``, ``auc``, ``auc_low``,
        ``auc_high``).
    recalibration : the logistic recalibration refitted on these patients, with its
        cross-validated statistics (:class:`~il6sim.twin._recalibration.TwinRecalibration`;
        ``None`` with fewer than 5 patients who died or survived). ``patients`` then has
        ``p_death_recalibrated_cv`` (out of fold) and ``p_death_recalibrated`` (the shipped
        recalibration; NaN where it does not apply, ``settings["recalibration_note"]``).
    residuals : standardised residuals of the fitted labs at the MAP (``marker``,
        ``residual``), a check of the measurement SDs.
    settings : what was run; ``seconds`` is the wall time of this run (cached patients are
        not refitted).
    """

    patients: pd.DataFrame
    coverage: pd.DataFrame
    comparison: pd.DataFrame
    residuals: pd.DataFrame
    settings: dict = field(default_factory=dict)
    recalibration: Any = None

    def coverage_table(self) -> pd.DataFrame:
        """Share of later labs inside the 90 % interval, per marker and overall, also by days
        ahead (``n``, ``covered``, ``below``, ``above``)."""
        cov = self.coverage
        if cov.empty:
            return pd.DataFrame(columns=["marker", "ahead", "n", "covered", "below", "above"])
        labels = [f"{a:g}-{b:g} d" if np.isfinite(b) else f">{a:g} d"
                  for a, b in pairwise(AHEAD_BINS)]
        cov = cov.assign(ahead=pd.cut(cov["days_ahead"], AHEAD_BINS, labels=labels).astype(str),
                         below=cov["value"] < cov["low"], above=cov["value"] > cov["high"])
        rows = []
        for marker in [*LAB_MARKERS, "all"]:
            sub = cov if marker == "all" else cov[cov["marker"] == marker]
            for ahead in ["all", *labels]:
                part = sub if ahead == "all" else sub[sub["ahead"] == ahead]
                if len(part):
                    rows.append({"marker": marker, "ahead": ahead, "n": len(part),
                                 "covered": part["covered"].mean(),
                                 "below": part["below"].mean(), "above": part["above"].mean()})
        return pd.DataFrame(rows)

    def residual_table(self) -> pd.DataFrame:
        """Root-mean-square standardised residual of the fitted labs per marker (below 1 when
        the stated SDs are large enough: fitting absorbs part of the scatter)."""
        res = self.residuals
        if res.empty:
            return pd.DataFrame(columns=["marker", "n", "rms"])
        grouped = res.groupby("marker")["residual"]
        return pd.DataFrame({"n": grouped.size(), "rms": grouped.apply(
            lambda r: float(np.sqrt(np.mean(np.square(r)))))}).rename_axis("marker").reset_index()

    def summary(self) -> dict:
        """Key numbers: patients, coverage overall, AUCs, mean predicted vs observed death,
        runtime."""
        table = self.coverage_table()
        overall = table[(table["marker"] == "all") & (table["ahead"] == "all")]
        out = {"patients": len(self.patients),
               "deaths": int(self.patients["outcome"].sum()) if len(self.patients) else 0,
               "later_labs": len(self.coverage),
               "coverage_90": float(overall["covered"].iloc[0]) if len(overall) else np.nan,
               "seconds": self.settings.get("seconds")}
        ok = self.patients[self.patients["status"] == "ok"] if len(self.patients) else None
        if ok is not None and len(ok):
            out["twin_mean_p_death"] = float(ok["p_death"].mean())
            out["observed_death_rate"] = float(ok["outcome"].mean())
            if "p_death_recalibrated" in ok and ok["p_death_recalibrated"].notna().any():
                out["twin_mean_p_death_recalibrated"] = float(ok["p_death_recalibrated"].mean())
        if self.recalibration is not None:
            stats = self.recalibration.statistics
            out.update(twin_raw_slope=stats["raw"]["slope"], twin_raw_citl=stats["raw"]["citl"],
                       twin_cv_mean_p_death_recalibrated=stats["cv"]["mean_predicted"],
                       twin_cv_slope_recalibrated=stats["cv"]["slope"],
                       twin_cv_citl_recalibrated=stats["cv"]["citl"],
                       recalibration_intercept=self.recalibration.intercept,
                       recalibration_slope=self.recalibration.slope)
        if ok is not None and "low_ess" in ok:
            out["low_ess_fits"] = int(ok["low_ess"].fillna(False).astype(bool).sum())
        for row in self.comparison.itertuples():
            out[f"auc_{row.model}"] = row.auc
        return out


def eligible_patients(cohort, fit_days: float, min_labs: int = 2) -> list:
    """Patients with a known outcome, in hospital at ``fit_days`` and ``min_labs`` or more of
    the twin's labs in the first ``fit_days`` after admission, in cohort order."""
    info = cohort.patients().set_index("patient_id")
    long = cohort.long([m for m in LAB_MARKERS if m in cohort.samples])
    early = long[(long["time_days"] <= fit_days) & (long["value"] > 0)]
    counts = early.groupby("patient_id").size()
    keep = info[info["outcome"].notna() & (info["length_of_stay_days"] > fit_days)].index
    return [p for p in keep if counts.get(p, 0) >= min_labs]


def _settings_key(settings: dict) -> str:
    from ..model import default_model

    model = default_model()
    twin = [TWIN_PARAMETERS, LAB_MARKERS, INOCULUM_VIRIONS, LEAD_IN_DAYS, MIXTURE, MAX_ROUNDS,
            __version__]
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(repr(twin).encode())
    digest.update(np.asarray(model.default_parameters()).tobytes())
    digest.update(" ".join(model.state_names).encode())
    return digest.hexdigest()[:16]


def _fit_one(cohort, patient_id, settings: dict) -> dict:
    started = time.perf_counter()
    series = patient_series(cohort, patient_id)
    twin = DigitalTwin(random_state=settings["seed"]).fit(series, settings["fit_days"])
    forecast = twin.forecast(settings["horizon_days"], n_draws=settings["n_draws"])
    risk = forecast.death_probability().iloc[0]
    coverage = forecast.coverage()
    return {
        "patient": {"patient_id": series.patient_id, "age": series.age,
                    "outcome": series.outcome, "n_fit": len(twin.observations_),
                    "n_later": len(coverage), "cost": twin.cost_,
                    "p_death": float(risk["probability"]), "p_low": float(risk["low"]),
                    "p_high": float(risk["high"]), "failed_draws": int(risk["failed"]),
                    "effective_draws": twin.effective_draws_,
                    "pareto_k": twin.diagnostics_.pareto_k, "low_ess": twin.diagnostics_.low,
                    "seconds": time.perf_counter() - started, "status": "ok"},
        "coverage": coverage.assign(patient_id=series.patient_id).to_dict(orient="list"),
        "residuals": twin.observations_[["marker", "residual"]].to_dict(orient="list"),
    }


def evaluate_twin(cohort, *, fit_days: float = 3.0, horizon_days: float = 14.0,
                  n_draws: int = 200, min_labs: int = 2, max_patients: int | None = None,
                  cache_dir: str | Path | None = None, seed: int = 0, cv_repeats: int = 5,
                  progress: Callable[[str], None] | None = None) -> TwinEvaluation:
    """Fit every eligible patient of ``cohort`` on their first ``fit_days`` and score the
    forecasts (see the module docstring).

    Parameters
    ----------
    max_patients : evaluate a random subset of this size (seeded), or all eligible patients.
    cache_dir : folder for per-patient results (resume); ``None``: no cache.
    cv_repeats : repeats of grouped 5-fold cross-validation of the statistical model.
    """
    if fit_days <= 0 or horizon_days <= 0:
        raise InputError("fit_days and horizon_days must be above 0; fix: e.g. --fit-days 3")
    eligible = eligible_patients(cohort, fit_days, min_labs)
    if max_patients is not None and max_patients < len(eligible):
        rng = np.random.default_rng(seed)
        chosen = set(rng.choice(len(eligible), size=max_patients, replace=False).tolist())
        eligible = [p for i, p in enumerate(eligible) if i in chosen]
    if not eligible:
        raise InputError(f"no patient has {min_labs} or more IL-6/CRP/LDH/lymphocyte values in "
                         f"the first {fit_days:g} days and a known outcome; fix: a larger "
                         "--fit-days or a cohort with these labs")
    settings = {"fit_days": fit_days, "horizon_days": horizon_days, "n_draws": n_draws,
                "min_labs": min_labs, "seed": seed}
    folder = None
    if cache_dir is not None:
        folder = Path(cache_dir) / _settings_key(settings)
        folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    patients, coverage, residuals = [], [], []
    for i, pid in enumerate(eligible):
        path = folder / f"patient_{pid}.json" if folder else None
        if path is not None and path.exists():
            result = json.loads(path.read_text())
        else:
            if progress:
                progress(f"fitting patient {pid} ({i + 1}/{len(eligible)})")
            try:
                result = _fit_one(cohort, pid, settings)
            except Il6simError as exc:
                result = {"patient": {"patient_id": str(pid), "status": f"failed: {exc}"},
                          "coverage": {}}
            if path is not None:
                path.write_text(json.dumps(result))
        patients.append(result["patient"])
        if result["coverage"]:
            coverage.append(pd.DataFrame(result["coverage"]))
        if result.get("residuals"):
            residuals.append(pd.DataFrame(result["residuals"]))
    patient_table = pd.DataFrame(patients)
    coverage_table = (pd.concat(coverage, ignore_index=True) if coverage
                      else pd.DataFrame(columns=["patient_id", "marker", "days_ahead", "value",
                                                 "low", "high", "covered"]))
    residual_table = (pd.concat(residuals, ignore_index=True) if residuals
                      else pd.DataFrame(columns=["marker", "residual"]))
    settings["seconds"] = time.perf_counter() - started
    settings["cohort"] = str(cohort.source)
    settings["max_patients"] = max_patients
    if progress:
        progress("cross-validating the statistical model on the same patients")
    comparison = compare_with_statistics(cohort, patient_table, fit_days, seed=seed,
                                         cv_repeats=cv_repeats)
    recalibration = _recalibrate(patient_table, settings, seed)
    return TwinEvaluation(patient_table, coverage_table, comparison, residual_table, settings,
                          recalibration)


def _recalibrate(patients: pd.DataFrame, settings: dict, seed: int):
    """Add the recalibrated probabilities to ``patients`` (in place): the shipped
    recalibration where it applies, and one refitted here, out of fold."""
    from ._recalibration import fit_twin_recalibration, load_twin_recalibration, model_fingerprint

    if len(patients) == 0 or "p_death" not in patients:
        return None
    fingerprint = model_fingerprint()
    shipped = load_twin_recalibration()
    note = shipped.validity(horizon_days=settings["horizon_days"], model=fingerprint)
    settings["recalibration_note"] = note
    patients["p_death_recalibrated"] = (shipped.apply(patients["p_death"].to_numpy(float))
                                        if note is None else np.nan)
    ok = patients[patients["status"] == "ok"]
    counts = ok["outcome"].value_counts() if len(ok) else pd.Series(dtype=int)
    if len(counts) < 2 or counts.min() < 5:
        return None
    described = {k: settings[k] for k in ("fit_days", "horizon_days", "n_draws", "min_labs",
                                          "seed")}
    subset = settings.get("max_patients")
    described.update(cohort=Path(settings["cohort"]).name, il6sim_version=__version__,
                     patients=len(ok), max_patients=subset,
                     command=f"il6sim twin-eval --fit-days {settings['fit_days']:g} --horizon "
                             f"{settings['horizon_days']:g} --draws {settings['n_draws']} "
                             f"--seed {settings['seed']}"
                             + (f" --max-patients {subset}" if subset else ""))
    recalibration = fit_twin_recalibration(patients, settings=described, seed=seed,
                                           model=fingerprint)
    oof = recalibration.patients.set_index("patient_id")["p_recalibrated_cv"]
    patients["p_death_recalibrated_cv"] = patients["patient_id"].astype(str).map(oof)
    return recalibration


def compare_with_statistics(cohort, patients: pd.DataFrame, fit_days: float, *, seed: int = 0,
                            cv_repeats: int = 5) -> pd.DataFrame:
    """AUC for death of the twin, of :class:`~il6sim.cohort.Il6Prognosis` (out of fold) and of
    the first IL-6, on the twin's patients and the same window."""
    from ..cohort import bootstrap_auc, cross_validate_prognosis

    ok = patients[patients["status"] == "ok"] if len(patients) else patients
    columns = ["model", "inputs", "n", "deaths", "auc", "auc_low", "auc_high"]
    if len(ok) == 0 or ok["outcome"].nunique() < 2:
        return pd.DataFrame(columns=columns)
    y = ok.set_index("patient_id")["outcome"].astype(int)
    rows = []
    auc, lo, hi = bootstrap_auc(y.to_numpy(), ok["p_death"].to_numpy(), 1000, seed)
    rows.append(["twin", "age + IL-6, CRP, LDH, lymphocyte series", len(y), int(y.sum()), auc,
                 lo, hi])
    X, _ = cohort.dataset(window_hours=fit_days * 24.0)
    X = X.set_axis(X.index.astype(str)).reindex(y.index)
    enough = y.value_counts().min() >= 5
    if enough:
        for name, inputs, cols in (
                ("Il6Prognosis", "age, sex and first value of every lab", list(X.columns)),
                ("Il6Prognosis-4labs", "age and first IL-6, CRP, LDH, lymphocytes",
                 ["age", *LAB_MARKERS])):
            cv = cross_validate_prognosis(X[cols], y, n_repeats=cv_repeats, seed=seed)
            rows.append([name, inputs + f" ({cv_repeats}x5-fold CV)", len(y), int(y.sum()),
                         cv.auc, cv.auc_low, cv.auc_high])
    il6 = X["il6"]
    has = il6.notna()
    if has.sum() >= 10 and y[has].nunique() == 2:
        auc, lo, hi = bootstrap_auc(y[has].to_numpy(), il6[has].to_numpy(), 1000, seed)
        rows.append(["first IL-6", "first IL-6 (patients with one)", int(has.sum()),
                     int(y[has].sum()), auc, lo, hi])
    return pd.DataFrame(rows, columns=columns)
