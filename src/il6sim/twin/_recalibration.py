"""Post-hoc recalibration of the twin's probability of death against the shipped cohort.

The twin's probability of death is mechanistic: the SOFA-based death hazard of the model
(:func:`il6sim.clinical.death_hazard`) integrated over each posterior draw's forecast. It ranks
patients well but its level is far too low (on the shipped cohort the mean is a few percent for
patients of whom about 40 % died). This module does **not** fix the model; it maps the model's
number onto the observed risk with a logistic recalibration (Cox 1958)

    logit p' = a + b · logit p

fitted on the twin's own predictions for the patients of the shipped cohort (``il6sim
twin-eval``: fit on the first 3 days, forecast 14 days ahead, outcome = in-hospital death). The
fit and its quality under repeated stratified grouped cross-validation (groups = patients; the
recalibration is refitted on the training folds and applied to the held-out patients) are
stored as data in ``il6sim/data/twin_death_recalibration.yaml``, with the per-patient
predictions, the settings, the command and a fingerprint of the model that made them.

The recalibrated probability is reported *beside* the raw model probability, never instead of
it. It is valid only for what it was fitted to: forecasts of that horizon, made after a few
days of labs, by the same model. When the model's parameters, states or death-hazard code
change (fingerprint), or the horizon differs, the twin says so; refit with
``il6sim twin-eval --fit-days 3 --horizon 14 --save-recalibration PATH``.

References
----------
Cox DR (1958) Two further applications of a model for binary regression. Biometrika 45:562.
Steyerberg EW (2019) Clinical Prediction Models, 2nd ed., ch. 15 (updating by recalibration).
Janssen KJM et al. (2008) Updating methods improved the performance of a clinical prediction
model in new patients. J Clin Epidemiol 61:76–86. doi:10.1016/j.jclinepi.2007.04.018.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import inspect
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.model_selection import StratifiedGroupKFold

from ..cohort._calibration import (
    calibration_measures,
    fit_recalibration,
    logistic_coefficients,
    recalibrate_logistic,
)
from ..errors import InputError

__all__ = ["RECALIBRATION_FILE", "TwinRecalibration", "fit_twin_recalibration",
           "load_twin_recalibration", "model_fingerprint"]

#: The shipped recalibration (package data).
RECALIBRATION_FILE = "twin_death_recalibration.yaml"


@lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """16 hex digits identifying what the twin's probability of death depends on: the twin's
    priors, labs and sampler settings, the model's default parameters and states, and the
    source of the module that defines the death hazard."""
    from ..clinical import death_hazard
    from ..model import default_model
    from ._posterior import MAX_ROUNDS, MIXTURE
    from ._priors import LAB_MARKERS, TWIN_PARAMETERS
    from ._simulator import INOCULUM_VIRIONS, LEAD_IN_DAYS

    model = default_model()
    digest = hashlib.sha256(repr([TWIN_PARAMETERS, LAB_MARKERS, INOCULUM_VIRIONS, LEAD_IN_DAYS,
                                  MIXTURE, MAX_ROUNDS]).encode())
    digest.update(np.asarray(model.default_parameters(), dtype=float).tobytes())
    digest.update(" ".join(model.state_names).encode())
    digest.update(inspect.getsource(inspect.getmodule(death_hazard)).encode())
    return digest.hexdigest()[:16]


@dataclass
class TwinRecalibration:
    """A logistic recalibration ``logit p' = intercept + slope · logit p`` of the twin's
    probability of death, with how it was fitted.

    Attributes
    ----------
    intercept, slope : the coefficients (fitted on every patient of ``patients``).
    settings : ``fit_days``, ``horizon_days``, ``n_draws``, ``seed``, ``cohort``, ``command``.
    model : :func:`model_fingerprint` of the model that made the probabilities.
    statistics : ``raw`` (calibration measures of the twin's own probabilities), ``cv``
        (of the recalibrated probabilities out of fold, averaged over repeats, with
        ``slope_min``/``slope_max``), ``folds``, ``repeats``, ``seed``.
    patients : ``patient_id``, ``outcome``, ``p_death`` (raw), ``p_recalibrated_cv`` (out of
        fold, mean over repeats).
    """

    intercept: float
    slope: float
    settings: dict = field(default_factory=dict)
    model: str = ""
    statistics: dict = field(default_factory=dict)
    patients: pd.DataFrame | None = None

    def apply(self, probability) -> np.ndarray:
        """Recalibrated probability of the twin's (raw) ``probability``."""
        return recalibrate_logistic(probability, self.intercept, self.slope)

    def validity(self, *, horizon_days: float, model: str | None = None) -> str | None:
        """Why the recalibration does not apply to a forecast, or ``None`` when it does."""
        fitted = self.settings.get("horizon_days")
        if fitted is not None and abs(float(fitted) - float(horizon_days)) > 1e-9:
            return (f"fitted for a {fitted:g}-day horizon, not {horizon_days:g} days; fix: "
                    f"--horizon {fitted:g}, or refit with 'il6sim twin-eval --horizon "
                    f"{horizon_days:g} --save-recalibration PATH'")
        if model is not None and self.model and model != self.model:
            return (f"fitted to the probabilities of another model version (fingerprint "
                    f"{self.model}, this model {model}); fix: refit with 'il6sim twin-eval "
                    "--fit-days 3 --horizon 14 --save-recalibration PATH'")
        return None

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        table = self.patients if self.patients is not None else pd.DataFrame()
        return {
            "description": "Post-hoc logistic recalibration of the digital twin's probability "
                           "of death: logit p' = intercept + slope * logit p. Not a "
                           "mechanistic fix: the model's death hazard is unchanged.",
            "intercept": round(self.intercept, 6), "slope": round(self.slope, 6),
            "model": self.model, "settings": self.settings,
            "statistics": json.loads(json.dumps(self.statistics, default=float)),
            "patients": {c: [v.item() if hasattr(v, "item") else v for v in table[c]]
                         for c in table.columns},
        }

    def save(self, path: str | Path) -> Path:
        """Write the recalibration as YAML (coefficients, statistics, patients)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        data["statistics"] = _rounded(data["statistics"])
        data["patients"] = {k: [round(v, 8) if isinstance(v, float) else v for v in values]
                            for k, values in data["patients"].items()}
        path.write_text(yaml.safe_dump(data, sort_keys=False, width=100,
                                       default_flow_style=None), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path | None = None) -> TwinRecalibration:
        """Read a file written by :meth:`save` (default: the shipped one)."""
        if path is None:
            text = (importlib.resources.files("il6sim") / "data" / RECALIBRATION_FILE
                    ).read_text(encoding="utf-8")
            name = RECALIBRATION_FILE
        else:
            path = Path(path)
            if not path.is_file():
                raise InputError(f"recalibration file '{path}' not found; fix: write one with "
                                 "'il6sim twin-eval --save-recalibration PATH'")
            text, name = path.read_text(encoding="utf-8"), path.name
        try:
            data = yaml.safe_load(text)
            return cls(intercept=float(data["intercept"]), slope=float(data["slope"]),
                       settings=dict(data.get("settings") or {}),
                       model=str(data.get("model") or ""),
                       statistics=dict(data.get("statistics") or {}),
                       patients=pd.DataFrame(data.get("patients") or {}))
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            reason = getattr(exc, "problem", None) or f"{type(exc).__name__}: {exc}"
            reason = " ".join(str(reason).split())[:120]
            raise InputError(f"{name} is not a twin recalibration file ({reason}); fix: write "
                             "one with 'il6sim twin-eval --save-recalibration PATH'") from None


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 6)
    return value


@lru_cache(maxsize=1)
def load_twin_recalibration() -> TwinRecalibration:
    """The shipped recalibration (read once)."""
    return TwinRecalibration.load()


def fit_twin_recalibration(patients: pd.DataFrame, *, settings: dict | None = None,
                           folds: int = 5, repeats: int = 5, seed: int = 0,
                           model: str | None = None) -> TwinRecalibration:
    """Fit the logistic recalibration to the twin's predictions and measure it under repeated
    stratified grouped cross-validation.

    Parameters
    ----------
    patients : ``patient_id``, ``outcome`` (1 died, 0 survived) and ``p_death`` (the twin's
        raw probability), e.g. :attr:`TwinEvaluation.patients` (rows with ``status`` other than
        ``"ok"`` are left out).
    folds, repeats, seed : cross-validation (folds grouped by ``patient_id``, shuffled with
        seeds ``seed + r``).
    model : fingerprint stored with the fit; default :func:`model_fingerprint`.

    Raises
    ------
    InputError
        Fewer than ``folds`` patients who died or who survived.
    """
    table = patients
    if "status" in table:
        table = table[table["status"] == "ok"]
    table = table.dropna(subset=["outcome", "p_death"])
    y = table["outcome"].astype(int).to_numpy()
    p = table["p_death"].astype(float).to_numpy()
    groups = table["patient_id"].astype(str).to_numpy()
    counts = np.bincount(y, minlength=2)
    if counts.min() < folds:
        raise InputError(f"the recalibration needs at least {folds} patients who died and "
                         f"{folds} who survived; found {counts[1]} and {counts[0]}; fix: "
                         "evaluate more patients (--max-patients)")
    intercept, slope = logistic_coefficients(fit_recalibration(p, y))
    oof_total, measured = np.zeros(len(y)), []
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        oof = np.empty(len(y))
        for train, test in splitter.split(p, y, groups):
            a, b = logistic_coefficients(fit_recalibration(p[train], y[train]))
            oof[test] = recalibrate_logistic(p[test], a, b)
        measured.append(calibration_measures(y, oof))
        oof_total += oof
    cv = pd.DataFrame(measured)
    cv_summary = {k: float(cv[k].mean()) for k in ("mean_predicted", "difference", "slope",
                                                    "intercept", "citl", "brier", "auc")}
    cv_summary.update(slope_min=float(cv["slope"].min()), slope_max=float(cv["slope"].max()))
    raw = calibration_measures(y, p)
    statistics = {"raw": raw, "cv": cv_summary, "folds": folds, "repeats": repeats,
                  "seed": seed}
    out = pd.DataFrame({"patient_id": groups, "outcome": y, "p_death": p,
                        "p_recalibrated_cv": oof_total / repeats})
    return TwinRecalibration(intercept=intercept, slope=slope, settings=dict(settings or {}),
                             model=model if model is not None else model_fingerprint(),
                             statistics=statistics, patients=out)
