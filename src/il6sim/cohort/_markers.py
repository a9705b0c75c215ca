"""Catalogue of laboratory markers: canonical short name, hospital column, unit, plausible range.

The hospital column names are those of the Tongji Hospital (Wuhan) laboratory export published with
Yan L. et al. (2020), Nat. Mach. Intell. 2:283. Units are those of that laboratory. The plausible
ranges are deliberately wide (values outside them are physiologically impossible or a unit error,
not merely abnormal); the typical-median ranges catch a whole column given in another unit.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MARKERS", "PATIENT_FIELDS", "MarkerSpec", "normalize_header"]


@dataclass(frozen=True)
class MarkerSpec:
    """One laboratory marker.

    Attributes
    ----------
    name
        Canonical short name (``il6``, ``crp`` ...), used everywhere in il6sim.
    column
        Column header in the hospital export (matched ignoring case, spaces and punctuation).
    unit
        Unit the values must be in.
    low, high
        Plausible range; a value outside it is reported and excluded from analyses.
    label
        Human-readable name for tables and figures.
    worse
        ``"high"`` if higher values mean a worse prognosis, ``"low"`` if lower values do, ``None``
        if there is no a-priori direction. Used to orient ROC scores *before* looking at data.
    log
        Whether the marker is right-skewed and analysed on a log scale.
    unit_fixes
        ``(unit, factor)`` pairs: if ``value * factor`` is plausible, the value probably is in
        ``unit`` and the fix is to multiply by ``factor``.
    typical_median
        Range that the median of a whole column normally lies in; outside it, the column as a whole
        is probably in another unit.
    feature
        Whether the marker is a numeric laboratory feature for prognosis (False for codes).
    """

    name: str
    column: str
    unit: str
    low: float
    high: float
    label: str
    worse: str | None = None
    log: bool = False
    unit_fixes: tuple[tuple[str, float], ...] = ()
    typical_median: tuple[float, float] | None = None
    feature: bool = True


def normalize_header(text: str) -> str:
    """Fold a column header for tolerant matching (case, spaces, ``_``, ``-`` and brackets ignored).

    ``%`` and ``#`` are kept because they distinguish e.g. ``(%)lymphocyte`` from
    ``lymphocyte count``.
    """
    return "".join(ch for ch in str(text).casefold() if ch.isalnum() or ch in "%#")


def _m(name, column, unit, low, high, label, worse=None, log=False, fixes=(), typical=None,
       feature=True) -> MarkerSpec:
    return MarkerSpec(name, column, unit, float(low), float(high), label, worse, log, tuple(fixes),
                      typical, feature)


_PER_UL = ("cells/µL", 0.001)

#: Every laboratory column of the Tongji export, in the order of the file.
MARKERS: tuple[MarkerSpec, ...] = (
    _m("troponin_i", "Hypersensitive cardiac troponinI", "pg/mL", 0, 1e5, "hs troponin I", "high",
       True, [("ng/mL", 1000)]),
    _m("hemoglobin", "hemoglobin", "g/L", 20, 250, "Haemoglobin", "low", False, [("g/dL", 10)],
       (60, 190)),
    _m("chloride", "Serum chloride", "mmol/L", 50, 160, "Chloride"),
    _m("prothrombin_time", "Prothrombin time", "s", 5, 200, "Prothrombin time", "high", True),
    _m("procalcitonin", "procalcitonin", "ng/mL", 0, 1000, "Procalcitonin", "high", True),
    _m("eosinophil_pct", "eosinophils(%)", "%", 0, 100, "Eosinophils (%)", "low", True),
    _m("il2r", "Interleukin 2 receptor", "U/mL", 0, 1e5, "IL-2 receptor", "high", True),
    _m("alkaline_phosphatase", "Alkaline phosphatase", "U/L", 0, 5000, "Alkaline phosphatase",
       None, True),
    _m("albumin", "albumin", "g/L", 5, 70, "Albumin", "low", False, [("g/dL", 10)], (15, 55)),
    _m("basophil_pct", "basophil(%)", "%", 0, 100, "Basophils (%)", None, True),
    _m("il10", "Interleukin 10", "pg/mL", 0, 1e5, "IL-10", "high", True),
    _m("bilirubin_total", "Total bilirubin", "µmol/L", 0, 1000, "Total bilirubin", "high", True,
       [("mg/dL", 17.1)]),
    _m("platelets", "Platelet count", "10^9/L", 0, 2000, "Platelets", "low", False,
       [_PER_UL], (20, 600)),
    _m("monocyte_pct", "monocytes(%)", "%", 0, 100, "Monocytes (%)", "low", True),
    _m("antithrombin", "antithrombin", "%", 0, 200, "Antithrombin", "low"),
    _m("il8", "Interleukin 8", "pg/mL", 0, 1e5, "IL-8", "high", True),
    _m("bilirubin_indirect", "indirect bilirubin", "µmol/L", 0, 1000, "Indirect bilirubin", None,
       True, [("mg/dL", 17.1)]),
    _m("rdw_cv", "Red blood cell distribution width", "%", 5, 50, "RDW-CV", "high"),
    _m("neutrophil_pct", "neutrophils(%)", "%", 0, 100, "Neutrophils (%)", "high"),
    _m("total_protein", "total protein", "g/L", 10, 150, "Total protein", "low", False,
       [("g/dL", 10)], (30, 100)),
    _m("treponema_ab", "Quantification of Treponema pallidum antibodies", "S/CO", 0, 1e4,
       "Treponema antibody", None, True),
    _m("prothrombin_activity", "Prothrombin activity", "%", 0, 200, "Prothrombin activity", "low"),
    _m("hbsag", "HBsAg", "IU/mL", 0, 1e5, "HBsAg", None, True),
    _m("mcv", "mean corpuscular volume", "fL", 40, 150, "MCV"),
    _m("hematocrit", "hematocrit", "%", 5, 80, "Haematocrit", "low", False,
       [("fraction (L/L)", 100)], (15, 60)),
    _m("wbc", "White blood cell count", "10^9/L", 0, 500, "White cells", "high", True, [_PER_UL],
       (1, 50)),
    _m("tnf", "Tumor necrosis factorα", "pg/mL", 0, 1e5, "TNF-α", "high", True),
    _m("mchc", "mean corpuscular hemoglobin concentration", "g/L", 200, 450, "MCHC", None, False,
       [("g/dL", 10)]),
    _m("fibrinogen", "fibrinogen", "g/L", 0, 20, "Fibrinogen", None, False, [("mg/dL", 0.01)],
       (0.5, 12)),
    _m("il1b", "Interleukin 1β", "pg/mL", 0, 1e5, "IL-1β", "high", True),
    _m("urea", "Urea", "mmol/L", 0, 150, "Urea", "high", True),
    _m("lymphocytes", "lymphocyte count", "10^9/L", 0, 50, "Lymphocytes", "low", True, [_PER_UL],
       (0.1, 10)),
    _m("ph", "PH value", "pH", 4, 9, "pH"),
    _m("rbc", "Red blood cell count", "10^12/L", 0.2, 10, "Red cells", "low", False,
       [("cells/µL", 1e-6)]),
    _m("eosinophils", "Eosinophil count", "10^9/L", 0, 50, "Eosinophils", "low", True, [_PER_UL]),
    _m("calcium_corrected", "Corrected calcium", "mmol/L", 0.5, 5, "Corrected calcium", None, False,
       [("mg/dL", 0.25)]),
    _m("potassium", "Serum potassium", "mmol/L", 1, 12, "Potassium"),
    _m("glucose", "glucose", "mmol/L", 0.5, 100, "Glucose", "high", True, [("mg/dL", 1 / 18.0)],
       (3, 25)),
    _m("neutrophils", "neutrophils count", "10^9/L", 0, 200, "Neutrophils", "high", True,
       [_PER_UL], (0.5, 40)),
    _m("bilirubin_direct", "Direct bilirubin", "µmol/L", 0, 1000, "Direct bilirubin", "high", True,
       [("mg/dL", 17.1)]),
    _m("mpv", "Mean platelet volume", "fL", 3, 30, "MPV"),
    _m("ferritin", "ferritin", "µg/L", 0, 2e5, "Ferritin", "high", True),
    _m("rdw_sd", "RBC distribution width SD", "fL", 20, 150, "RDW-SD", "high"),
    _m("thrombin_time", "Thrombin time", "s", 5, 300, "Thrombin time", None, True),
    _m("lymphocyte_pct", "(%)lymphocyte", "%", 0, 100, "Lymphocytes (%)", "low", True),
    _m("hcv_ab", "HCV antibody quantification", "S/CO", 0, 1e4, "HCV antibody", None, True),
    _m("d_dimer", "D-D dimer", "µg/mL FEU", 0, 100, "D-dimer", "high", True,
       [("ng/mL FEU", 0.001)], (0.05, 30)),
    _m("cholesterol", "Total cholesterol", "mmol/L", 0, 30, "Total cholesterol", "low", False,
       [("mg/dL", 1 / 38.67)]),
    _m("ast", "aspartate aminotransferase", "U/L", 0, 2e4, "AST", "high", True),
    _m("uric_acid", "Uric acid", "µmol/L", 10, 2000, "Uric acid", None, True, [("mg/dL", 59.48)],
       (80, 900)),
    _m("bicarbonate", "HCO3-", "mmol/L", 1, 60, "Bicarbonate", "low"),
    _m("calcium", "calcium", "mmol/L", 0.5, 5, "Calcium", "low", False, [("mg/dL", 0.25)]),
    _m("nt_probnp", "Amino-terminal brain natriuretic peptide precursor(NT-proBNP)", "pg/mL", 0,
       1e5, "NT-proBNP", "high", True),
    _m("ldh", "Lactate dehydrogenase", "U/L", 20, 1e4, "LDH", "high", True, [("µkat/L", 60)],
       (100, 2000)),
    _m("p_lcr", "platelet large cell ratio", "%", 0, 100, "P-LCR"),
    _m("il6", "Interleukin 6", "pg/mL", 0, 1e5, "IL-6", "high", True, [("ng/mL", 1000)]),
    _m("fdp", "Fibrin degradation products", "µg/mL", 0, 1000, "FDP", "high", True),
    _m("monocytes", "monocytes count", "10^9/L", 0, 50, "Monocytes", None, True, [_PER_UL]),
    _m("pdw", "PLT distribution width", "fL", 3, 40, "PDW"),
    _m("globulin", "globulin", "g/L", 5, 150, "Globulin", None, False, [("g/dL", 10)]),
    _m("ggt", "γ-glutamyl transpeptidase", "U/L", 0, 1e4, "GGT", None, True),
    _m("inr", "International standard ratio", "1", 0.5, 20, "INR", "high", True),
    _m("basophils", "basophil count(#)", "10^9/L", 0, 10, "Basophils", None, True, [_PER_UL]),
    _m("sars_cov2_pcr", "2019-nCoV nucleic acid detection", "code", -1, 1, "SARS-CoV-2 PCR code",
       feature=False),
    _m("mch", "mean corpuscular hemoglobin", "pg", 10, 60, "MCH"),
    _m("aptt", "Activation of partial thromboplastin time", "s", 10, 300, "APTT", "high", True),
    _m("crp", "High sensitivity C-reactive protein", "mg/L", 0, 1000, "hs-CRP", "high", True),
    _m("hiv_ab", "HIV antibody quantification", "S/CO", 0, 1e4, "HIV antibody", None, True),
    _m("sodium", "serum sodium", "mmol/L", 90, 200, "Sodium"),
    _m("plateletcrit", "thrombocytocrit", "%", 0, 5, "Plateletcrit", "low"),
    _m("esr", "ESR", "mm/h", 0, 200, "ESR", "high", True),
    _m("alt", "glutamic-pyruvic transaminase", "U/L", 0, 2e4, "ALT", None, True),
    _m("egfr", "eGFR", "mL/min/1.73m²", 0, 300, "eGFR", "low"),
    _m("creatinine", "creatinine", "µmol/L", 5, 5000, "Creatinine", "high", True,
       [("mg/dL", 88.4)], (30, 600)),
)

#: Patient-level fields: canonical name -> hospital column.
PATIENT_FIELDS: dict[str, str] = {
    "patient_id": "PATIENT_ID",
    "sample_time": "RE_DATE",
    "age": "age",
    "sex": "gender",
    "admission_time": "Admission time",
    "discharge_time": "Discharge time",
    "outcome": "outcome",
}

MARKER_BY_NAME: dict[str, MarkerSpec] = {m.name: m for m in MARKERS}
