"""What the digital twin estimates per patient, what it fixes, and how labs are measured.

Patient parameters (:data:`TWIN_PARAMETERS`) are a small set the four routine labs can inform;
each has a log-normal prior centred between the ``covid19-mild`` and ``covid19-severe`` presets
(the prior is the regulariser of the maximum a-posteriori fit). Everything else is the shipped
model with the SARS-CoV-2 profile (``data/pathogens/sars-cov-2.yaml``) and the patient's own age
from the cohort file.

The measurement model (:data:`LAB_MARKERS`) is log-normal: ``log y = log f(t) + e``, with
``e ~ N(0, sigma^2)`` and ``sigma^2 = log(1 + CV_I^2) + log(1 + CV_A^2) + sigma_model^2``:
within-subject biological variation CV_I and analytical variation CV_A (Ricós C 1999 Scand J
Clin Lab Invest 59:491, the Westgard biological-variation database: CRP CV_I 42.2 %, LDH 8.6 %,
lymphocytes 10.4 %) plus a model error ``sigma_model`` that no seven-parameter twin of a
61-state model can avoid. IL-6 is not in that database; its short half-life (hours) and
pulsatile release justify a large CV_I (50 %, an assumption). ``sigma_model`` is estimated per
marker from the residuals of the *fitted* labs (first three days) of a 40-patient development
subset of the shipped cohort: the root-mean-square log residual at the MAP, corrected for the
degrees of freedom the fit uses (``n / (n - p_eff)``, ``p_eff = sum(1 - posterior/prior
variance)``), one fixed-point iteration, minus the biological and analytical parts
(``docs/twin.md``). Later labs, which the evaluation scores, were not used.

References
----------
Lauer SA et al. (2020) The incubation period of COVID-19. Ann Intern Med 172:577.
Wang D et al. (2020) Clinical characteristics of 138 hospitalized patients with 2019 novel
coronavirus-infected pneumonia in Wuhan. JAMA 323:1061.
Ricós C et al. (1999) Current databases on biological variation. Scand J Clin Lab Invest 59:491.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["LAB_MARKERS", "TWIN_PARAMETERS", "LabMarker", "TwinParameter"]


@dataclass(frozen=True)
class TwinParameter:
    """One patient-level parameter: log-normal prior ``median``·exp(N(0, ``log_sd``²)) within
    hard ``bounds``; ``parameter`` is the model parameter it sets (``None``: the time from
    infection to admission, which places the infection dose)."""

    name: str
    parameter: str | None
    median: float
    log_sd: float
    bounds: tuple[float, float]
    unit: str
    description: str
    source: str


#: The parameters fitted per patient, in a fixed order (the columns of every ``theta`` array).
TWIN_PARAMETERS: tuple[TwinParameter, ...] = (
    TwinParameter(
        "infection_to_admission", None, 12.0, 0.3, (3.0, 38.0), "d",
        "days from infection (the inoculation dose) to hospital admission",
        "incubation median 5.1 d (Lauer 2020) + symptom onset to admission median 7 d in Wuhan "
        "(Wang 2020); log SD 0.3 gives a 95 % range of 6.5-21 d"),
    TwinParameter(
        "ifn_capacity", "ifn_capacity", 0.45, 0.8, (0.01, 3.0), "1",
        "type-I interferon capacity (1 normal)",
        "geometric mean of the covid19-mild (1.0) and covid19-severe (0.2) presets; wide, as "
        "auto-antibodies and inborn errors span 0-1 (Bastard 2020)"),
    TwinParameter(
        "monocyte_recruitment", "max_fold_monocyte_recruitment", 10.0, 0.5, (1.0, 100.0), "1",
        "maximal fold rise of inflammatory monocyte influx (strength of the IL-6 "
        "trans-signalling amplification loop)",
        "model value (Liao 2020); log SD 0.5 lets the storm's height vary about 3-fold"),
    TwinParameter(
        "exhaustion_rate", "k_paralysis_on", 0.004, 0.5, (2e-4, 0.08), "1/h",
        "maximal rate of innate exhaustion (how fast a storm burns out)",
        "model value (Hotchkiss 2013); log SD 0.5"),
    TwinParameter(
        "lymphocyte_baseline", "lymph_blood_baseline", 2.0, 0.25, (0.3, 8.0), "10^9/L",
        "the patient's healthy blood lymphocyte count",
        "adult range 1.5-3.5 x 10^9/L (model value); log SD 0.25"),
    TwinParameter(
        "lymphocyte_loss", "max_fold_lymph_loss", 3.0, 0.7, (0.3, 60.0), "1",
        "maximal fold faster exit of lymphocytes from blood under inflammation (depth of the "
        "lymphopenia)",
        "model value (calibrated to endotoxemia); log SD 0.7, as COVID-19 lymphopenia goes "
        "beyond redistribution (Huang C 2020 Lancet 395:497: counts below 0.5 x 10^9/L)"),
    TwinParameter(
        "ldh_baseline", "ldh_baseline", 180.0, 0.2, (60.0, 600.0), "U/L",
        "the patient's healthy serum LDH",
        "reference range 120-246 U/L (model value); log SD 0.2"),
)

@dataclass(frozen=True)
class LabMarker:
    """A cohort marker, the model read-out it is compared with, and its log-scale residual SD."""

    name: str
    output: str
    unit: str
    cv_within: float
    cv_analytical: float
    sigma_model: float
    source: str

    @property
    def sigma(self) -> float:
        """Log-scale SD of one measurement around the model (biology, assay, model error)."""
        return self.sigma_with(self.sigma_model)

    def sigma_with(self, sigma_model: float) -> float:
        """The log-scale SD with another model error (0: the model is exact)."""
        return math.sqrt(math.log1p(self.cv_within**2) + math.log1p(self.cv_analytical**2)
                         + sigma_model**2)


#: Model error per marker (log scale), estimated on the development subset (see above).
SIGMA_MODEL_ESTIMATE = {"il6": 0.96, "crp": 1.04, "ldh": 0.63, "lymphocytes": 0.30}

#: Cohort markers the twin fits, by cohort name (:data:`il6sim.cohort.MARKERS`).
LAB_MARKERS: dict[str, LabMarker] = {m.name: m for m in (
    LabMarker("il6", "il6", "pg/mL", 0.50, 0.05, SIGMA_MODEL_ESTIMATE["il6"],
              "CV_I assumed (pulsatile, t1/2 of hours); CV_A Roche Elecsys IL-6 < 5 %"),
    LabMarker("crp", "crp", "mg/L", 0.422, 0.05, SIGMA_MODEL_ESTIMATE["crp"],
              "Ricós 1999 (CV_I 42.2 %)"),
    LabMarker("ldh", "ldh_level", "U/L", 0.086, 0.04, SIGMA_MODEL_ESTIMATE["ldh"],
              "Ricós 1999 (CV_I 8.6 %)"),
    LabMarker("lymphocytes", "lymphocytes", "10^9/L", 0.104, 0.03,
              SIGMA_MODEL_ESTIMATE["lymphocytes"], "Ricós 1999 (CV_I 10.4 %)"),
)}
