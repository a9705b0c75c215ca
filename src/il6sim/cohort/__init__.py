"""Real patients: load a hospital laboratory cohort, analyse biomarkers, fit a prognostic model.

>>> from il6sim.cohort import load_cohort, run_biomarkers, Il6Prognosis
>>> cohort = load_cohort()                      # shipped Tongji Hospital (Wuhan) cohort
>>> cohort.problems                             # table of data problems found
>>> X, y = cohort.dataset(window_hours=48)      # first labs within 48 h, in-hospital death
>>> model = Il6Prognosis(random_state=0).fit(X, y)   # recalibrated on out-of-fold risks
>>> calibration_measures(y, model.predict_proba(X)[:, 1])   # slope, mean predicted ...
>>> report = run_biomarkers(cohort, "out/biomarkers", seed=0)

Names are imported on first use so that ``import il6sim.cohort`` (and the command line) stays
fast; scikit-learn, lifelines and matplotlib load only when an analysis runs.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # loading
    "load_cohort": "_loader", "DEFAULT_COHORT": "_loader", "DEFAULT_DETECTION_LIMITS": "_loader",
    "Cohort": "_cohort", "lab_counts": "_cohort", "MARKERS": "_markers",
    "MarkerSpec": "_markers",
    # single biomarkers
    "ROC_MARKERS": "_biomarkers", "HEROLD_IL6_CUTOFF": "_biomarkers", "TIME_BINS": "_biomarkers",
    "YoudenCutoff": "_biomarkers", "auc_table": "_biomarkers", "bootstrap_auc": "_biomarkers",
    "herold_rule": "_biomarkers", "oriented_score": "_biomarkers",
    "outcome_comparison": "_biomarkers", "rule_performance": "_biomarkers",
    "time_dependent_auc": "_biomarkers", "yan_rule": "_biomarkers",
    "youden_cutoff": "_biomarkers",
    # survival
    "cox_model": "_survival", "death_incidence": "_survival", "il6_strata": "_survival",
    "kaplan_meier": "_survival",
    "survival_data": "_survival",
    # prognostic model
    "Il6Prognosis": "_prognosis", "CrossValidation": "_prognosis",
    "cross_validate_prognosis": "_prognosis", "compare_methods": "_prognosis",
    # calibration
    "calibration_measures": "_calibration", "fit_recalibration": "_calibration",
    "apply_recalibration": "_calibration", "reliability_table": "_calibration",
    "plot_reliability": "_figures",
    # report
    "BiomarkerReport": "_report", "calibration_table": "_report", "run_biomarkers": "_report",
}

__all__ = [
    "DEFAULT_COHORT",
    "DEFAULT_DETECTION_LIMITS",
    "HEROLD_IL6_CUTOFF",
    "MARKERS",
    "ROC_MARKERS",
    "TIME_BINS",
    "BiomarkerReport",
    "Cohort",
    "CrossValidation",
    "Il6Prognosis",
    "MarkerSpec",
    "YoudenCutoff",
    "apply_recalibration",
    "auc_table",
    "bootstrap_auc",
    "calibration_measures",
    "calibration_table",
    "compare_methods",
    "cox_model",
    "cross_validate_prognosis",
    "death_incidence",
    "fit_recalibration",
    "herold_rule",
    "il6_strata",
    "kaplan_meier",
    "lab_counts",
    "load_cohort",
    "oriented_score",
    "outcome_comparison",
    "plot_reliability",
    "reliability_table",
    "rule_performance",
    "run_biomarkers",
    "survival_data",
    "time_dependent_auc",
    "yan_rule",
    "youden_cutoff",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'il6sim.cohort' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
