"""The digital twin: the mechanistic model fitted to one patient's own lab series.

>>> from il6sim.cohort import load_cohort
>>> from il6sim.twin import DigitalTwin, patient_series
>>> series = patient_series(load_cohort(), 2)
>>> twin = DigitalTwin(random_state=0).fit(series, fit_days=3)
>>> twin.summary()                     # MAP, 90 % credible interval, posterior/prior SD
>>> forecast = twin.forecast(14, regimen="tocilizumab-covid-8mgkg")
>>> forecast.death_probability()       # untreated and treated, over the next 14 days:
...                                    # the model's probability and, beside it, that number
...                                    # recalibrated against the shipped cohort (post hoc)
>>> forecast.plot("twin.png")

Seven patient parameters (:data:`TWIN_PARAMETERS`: time since infection, interferon capacity,
strength of the monocyte amplification loop, exhaustion rate, lymphocyte baseline and depth
of lymphopenia, LDH baseline) are fitted by maximum a posteriori with
log-normal priors, censored labs handled as such, and their uncertainty by a Laplace
approximation; forecasts simulate posterior draws in one batch with the fast engine.
:func:`evaluate_twin` fits every patient on their first days and reports how often the
forecast covers their later labs and its AUC for death next to
:class:`~il6sim.cohort.Il6Prognosis`, and the calibration of its probability of death, raw and
after a post-hoc logistic recalibration (:class:`TwinRecalibration`, fitted by grouped
cross-validation on the shipped cohort and stored as data). Details: ``docs/twin.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DigitalTwin": "_fit", "Forecast": "_forecast", "PatientSeries": "_data",
    "patient_series": "_data", "TWIN_PARAMETERS": "_priors", "TwinParameter": "_priors",
    "LAB_MARKERS": "_priors", "LabMarker": "_priors", "TwinSimulator": "_simulator",
    "evaluate_twin": "_evaluate", "TwinEvaluation": "_evaluate",
    "TwinRecalibration": "_recalibration", "fit_twin_recalibration": "_recalibration",
    "load_twin_recalibration": "_recalibration",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'il6sim.twin' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
