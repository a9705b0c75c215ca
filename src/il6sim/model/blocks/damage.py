"""Organ damage and the physiology behind the clinical read-outs.

States: ``lung_injury`` (0–1), ``vascular_leak`` (0–1), ``microthrombi`` (0–1), ``kidney_injury``
(0–1), ``creatinine`` (µmol/L), ``liver_injury`` (0–1), ``bilirubin`` (µmol/L), ``platelets``
(10⁹/L), ``ldh`` (U/L), ``ferritin`` (µg/L).

- Lung injury comes from the pathogen (death of infected epithelium for respiratory viruses,
  bacterial toxins) and from inflammation (neutrophil proteases and oxidants, TNF-α), and is
  repaired over days (Matthay MA 2019 Nat Rev Dis Primers 5:18). Injured lung and, with leak,
  flooded alveoli are perfused but not ventilated: they add to the shunt, and PaO2/FiO2 follows
  from Riley's shunt equation through the oxygen-dissociation curve
  (:func:`il6sim.model._oxygen.arterial_saturation`). The curve makes oxygenation fall steeply
  at a modest shunt: P/F 300 (SpO2 92 % on air) at about 20 % shunt, P/F 150 near 70 %
  (iso-shunt diagram: Benatar SR 1973 Br J Anaesth 45:711), so most inpatients with viral
  pneumonia need oxygen while few reach ventilation (oxygen therapy in 77 % of Wuhan inpatients:
  Wang D 2020 JAMA 323:1061). SpO2 and S/F are read on room air with the same conversion.
- Vascular leak follows endothelial activation (TNF-α, IL-1β, IL-6 trans-signalling); it lowers
  mean arterial pressure (:mod:`.haemodynamics`) and, with the vasoplegia of sepsis, leaves
  kidney and liver under-perfused (Lelubre C, Vincent JL 2018 Nat Rev Nephrol 14:417).
- Excess IL-6 trans-signalling injures the endothelium (claim C09). At the IL-6 levels of
  septic shock (about 1,000 pg/mL and more; 27 times those of severe COVID-19: Leisman DE 2020
  Lancet Respir Med 8:1233) IL-6:sIL-6R engages a large part of endothelial gp130 and the
  endothelium makes plasminogen activator inhibitor-1, which shuts down fibrinolysis (Kang S
  2020 Proc Natl Acad Sci USA 117:22351; Kang S, Kishimoto T 2021 Exp Mol Med 53:1116).
  Fibrin then collects in the microcirculation (``microthrombi``; sepsis-induced coagulopathy),
  consumes platelets, starves kidney, liver and brain of flow and raises lactate
  (:mod:`.haemodynamics`).
  The injury needs a steep excess (``K_trans_excess``, Hill 4), so the lower trans-signalling of
  COVID-19 and of mild infections leaves it out. PAI-1 is higher in non-survivors of sepsis
  (meta-analysis of 18 studies, 4,467 patients: OR 3.93; Tipoe TL 2018 Front Immunol 9:1218).
  IL-6 blockade once the antibiotic has started (the hyperinflammatory phase) therefore spares
  organs, while blockade at infection still costs the defence (claims C09, C15, C16).
  Not modelled: the direct loosening of the barrier by trans-signalling (VEGF, angiopoietin-2);
  a term for it made blockade 3 h into infection beneficial, against the harm of early blockade.
- Creatinine and bilirubin are made at constant rates and cleared by kidney and liver, so their
  levels rise as the organs fail; platelets are made in marrow (IL-6 raises thrombopoiesis:
  Kaser A 2001 Blood 98:2720) and consumed by activated endothelium.
- LDH is released by injured tissue and cleared over about a day; ferritin is an acute-phase
  reactant (hepatic IL-6/STAT3) and a marker of macrophage activation.
The thresholds that turn these values into SOFA points, ARDS, sepsis and death live in
:mod:`il6sim.clinical`.
"""

from __future__ import annotations

from .._oxygen import (
    ROOM_AIR_FIO2,
    arterial_saturation,
    pao2_from_spo2,
    spo2_from_pao2,
    spo2_from_pf,
)
from ..motifs import hill, ratio
from ..spec import Block, Flux, Output, State
from ._signals import classic_signal_hepatocytes, trans_signal


def _epithelial_death(s, p):
    """Fraction of the respiratory epithelium dying per hour from infection."""
    dying = p.delta_infected * s.vir_infected + p.k_cd8_kill * s.cd8_eff * s.vir_infected
    return p.lung_tropism * dying / p.target_capacity


def excess_trans_signal(s, p):
    """Endothelial injury by excess IL-6 trans-signalling (0–1): a steep Hill function of the
    engaged fraction of endothelial gp130, near 0 below ``K_trans_excess``."""
    return hill(trans_signal(s, p), p.K_trans_excess, 4)


def _shock(s, p):
    """Organ hypoperfusion (0–1) from capillary leak, microvascular thrombosis and, in sepsis,
    vasoplegia (:mod:`.haemodynamics`)."""
    return hill(
        s.vascular_leak
        + p.w_vasoplegia_organ * s.vasoplegia
        + p.w_microthrombi_organ * s.microthrombi,
        p.K_organ_leak,
        3,
    )


def shunt_fraction(s, p):
    """Fraction of the cardiac output passing unventilated lung (0–1): the physiological venous
    admixture, injured (consolidated or collapsed) lung and, with capillary leak, flooded
    alveoli, each removing its share of what the others leave ventilated."""
    aerated = ((1 - p.shunt_physiological) * (1 - s.lung_injury)
               * (1 - p.w_leak_lung * s.vascular_leak))
    return 1 - aerated


def _pf_ratio(s, p):
    """PaO2/FiO2 on room air from the shunt (:func:`il6sim.model._oxygen.arterial_saturation`):
    end-capillary blood at the alveolar PO2 mixes with shunted venous blood, and PaO2 is read
    back from the arterial saturation through the Severinghaus curve."""
    end_capillary = spo2_from_pao2(p.alveolar_po2 / p.mmHg_unit) / 100
    saturation = arterial_saturation(shunt_fraction(s, p), end_capillary, p.o2_extraction)
    return pao2_from_spo2(100 * saturation) / ROOM_AIR_FIO2 * p.mmHg_unit


BLOCK = Block(
    name="damage",
    states=(
        State("lung_injury", "dimensionless", "tissue", "lung injury (0–1)"),
        State("vascular_leak", "dimensionless", "plasma", "capillary leak (0–1)"),
        State("microthrombi", "dimensionless", "plasma",
              "microvascular fibrin under fibrinolytic shutdown (0–1)"),
        State("kidney_injury", "dimensionless", "plasma", "acute kidney injury (0–1)"),
        State("creatinine", "umol/L", "plasma", "serum creatinine", 80.0),
        State("liver_injury", "dimensionless", "plasma", "hepatic dysfunction (0–1)"),
        State("bilirubin", "umol/L", "plasma", "serum bilirubin", 10.0),
        State("platelets", "cell/nL", "plasma", "platelet count (10⁹/L)", 250.0),
        State("ldh", "U/L", "plasma", "lactate dehydrogenase", 180.0),
        State("ferritin", "ug/L", "plasma", "ferritin", 100.0),
    ),
    fluxes=(
        Flux(
            "injure_lung",
            lambda s, p: (
                (1 - s.lung_injury)
                * (
                    p.w_injury_virus * _epithelial_death(s, p)
                    + p.k_injury_bacteria * hill(s.bac_t, p.K_injury_bacteria)
                    + p.k_injury_inflammation
                    * hill(s.neu_tissue, p.K_injury_neutrophils, 2)
                    * hill(s.tnf_t, p.K_injury_tnf, 2)
                )
            ),
            {"lung_injury": 1},
            "lung injury by the pathogen and by neutrophils with TNF-α",
        ),
        Flux(
            "repair_lung",
            lambda s, p: p.k_lung_repair * s.lung_injury,
            {"lung_injury": -1},
            "repair of the lung",
        ),
        Flux(
            "open_leak",
            lambda s, p: (
                p.k_leak * (1 - s.vascular_leak) * hill(s.endothelium_act, p.K_leak_endo, 3)
            ),
            {"vascular_leak": 1},
            "capillary leak from activated endothelium",
        ),
        Flux(
            "close_leak",
            lambda s, p: p.k_leak_recovery * s.vascular_leak,
            {"vascular_leak": -1},
            "restoration of the endothelial barrier",
        ),
        Flux(
            "form_microthrombi",
            lambda s, p: p.k_microthrombi * (1 - s.microthrombi) * excess_trans_signal(s, p),
            {"microthrombi": 1},
            "microvascular thrombosis as excess IL-6 trans-signalling makes endothelial PAI-1",
        ),
        Flux(
            "lyse_microthrombi",
            lambda s, p: p.k_microthrombi_lysis * s.microthrombi,
            {"microthrombi": -1},
            "clearance of microvascular fibrin as fibrinolysis returns",
        ),
        Flux(
            "injure_kidney",
            lambda s, p: p.k_organ_injury * (1 - s.kidney_injury) * _shock(s, p),
            {"kidney_injury": 1},
            "kidney injury from hypoperfusion and inflammation",
        ),
        Flux(
            "repair_kidney",
            lambda s, p: p.k_organ_repair * s.kidney_injury,
            {"kidney_injury": -1},
            "recovery of kidney function",
        ),
        Flux(
            "make_creatinine",
            lambda s, p: p.k_creatinine_clearance * p.creatinine_baseline,
            {"creatinine": 1},
            "creatinine production by muscle",
        ),
        Flux(
            "clear_creatinine",
            lambda s, p: p.k_creatinine_clearance * (1 - s.kidney_injury) * s.creatinine,
            {"creatinine": -1},
            "renal creatinine clearance",
        ),
        Flux(
            "injure_liver",
            lambda s, p: p.k_organ_injury * p.w_liver_injury * (1 - s.liver_injury) * _shock(s, p),
            {"liver_injury": 1},
            "hepatic dysfunction from hypoperfusion and inflammation",
        ),
        Flux(
            "repair_liver",
            lambda s, p: p.k_organ_repair * s.liver_injury,
            {"liver_injury": -1},
            "recovery of liver function",
        ),
        Flux(
            "make_bilirubin",
            lambda s, p: p.k_bilirubin_clearance * p.bilirubin_baseline,
            {"bilirubin": 1},
            "bilirubin production from haem",
        ),
        Flux(
            "clear_bilirubin",
            lambda s, p: p.k_bilirubin_clearance * (1 - s.liver_injury) * s.bilirubin,
            {"bilirubin": -1},
            "hepatic bilirubin clearance",
        ),
        Flux(
            "make_platelets",
            lambda s, p: (
                p.k_platelet_turnover
                * p.platelets_baseline
                * (
                    1
                    + p.w_platelets_il6 * hill(classic_signal_hepatocytes(s, p), p.K_platelets_il6)
                )
            ),
            {"platelets": 1},
            "thrombopoiesis, raised by IL-6",
        ),
        Flux(
            "clear_platelets",
            lambda s, p: (
                (
                    p.k_platelet_turnover
                    + p.k_platelet_consumption * hill(s.endothelium_act, p.K_leak_endo, 3)
                    + p.k_platelet_consumption_microthrombi * s.microthrombi
                )
                * s.platelets
            ),
            {"platelets": -1},
            "platelet senescence and consumption by activated endothelium and microthrombi",
        ),
        Flux(
            "release_ldh",
            lambda s, p: (
                p.k_ldh_clearance * p.ldh_baseline
                + p.r_ldh_injury * (s.lung_injury + s.liver_injury + s.kidney_injury)
                + p.r_ldh_cell_death * _epithelial_death(s, p)
            ),
            {"ldh": 1},
            "LDH from normal turnover and from injured tissue",
        ),
        Flux("clear_ldh", lambda s, p: p.k_ldh_clearance * s.ldh, {"ldh": -1}, "LDH clearance"),
        Flux(
            "make_ferritin",
            lambda s, p: (
                p.k_ferritin_clearance
                * p.ferritin_baseline
                * (
                    1
                    + p.max_fold_ferritin
                    * (
                        hill(s.apr_drive, p.K_apr_ferritin)
                        + ratio(s.mac_act, s.mac_act + s.mac_rest + s.mac_primed)
                    )
                )
            ),
            {"ferritin": 1},
            "ferritin synthesis, raised by IL-6/STAT3 and macrophage activation",
        ),
        Flux(
            "clear_ferritin",
            lambda s, p: p.k_ferritin_clearance * s.ferritin,
            {"ferritin": -1},
            "ferritin clearance",
        ),
    ),
    outputs=(
        Output("pf_ratio", "mmHg", _pf_ratio, "PaO2/FiO2 ratio", label="P/F ratio"),
        Output(
            "spo2",
            "percent",
            lambda s, p: spo2_from_pf(_pf_ratio(s, p) / p.mmHg_unit) / 100,  # % → fraction
            "SpO2 on room air (Severinghaus JW 1979 J Appl Physiol 46:599 at PaO2 = 0.21 P/F)",
            label="SpO2 on air",
        ),
        Output(
            "sf_ratio",
            "dimensionless",
            lambda s, p: spo2_from_pf(_pf_ratio(s, p) / p.mmHg_unit) / ROOM_AIR_FIO2,
            "SpO2/FiO2 ratio on room air (SpO2 in %, FiO2 0.21; SpO2 as spo2)",
            label="S/F ratio",
        ),
        Output("creatinine_level", "umol/L", lambda s, p: s.creatinine, "serum creatinine",
               label="Creatinine"),
        Output("bilirubin_level", "umol/L", lambda s, p: s.bilirubin, "serum bilirubin",
               label="Bilirubin"),
        Output("platelet_count", "cell/nL", lambda s, p: s.platelets, "platelets (10⁹/L)",
               label="Platelets"),
        Output(
            "gcs",
            "dimensionless",
            lambda s, p: (
                15
                - 9
                * _shock(s, p)
                * (hill(s.tnf_p, p.K_encephalopathy_tnf) + hill(s.il1b_p, p.K_encephalopathy_il1b))
                / 2
            ),
            "Glasgow coma scale (septic encephalopathy from shock and cytokines)",
            label="Glasgow coma scale",
        ),
        Output("ldh_level", "U/L", lambda s, p: s.ldh, "lactate dehydrogenase", label="LDH"),
        Output("ferritin_level", "ug/L", lambda s, p: s.ferritin, "ferritin", label="Ferritin"),
        Output("lung_injury_fraction", "percent", lambda s, p: s.lung_injury, "lung injury",
               label="Lung injury"),
        Output("leak", "percent", lambda s, p: s.vascular_leak, "capillary leak",
               label="Capillary leak"),
        Output("microthrombosis", "percent", lambda s, p: s.microthrombi,
               "microvascular thrombosis (sepsis-induced coagulopathy)",
               label="Microthrombosis"),
    ),
)
