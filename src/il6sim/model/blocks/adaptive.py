"""Adaptive immunity: CD4 help, Th17/Treg balance, CD8 killers, B cells → plasma cells →
antibody, and the blood lymphocyte count.

States (cells/µL at the site unless noted): ``cd4_act`` (activated CD4 helpers), ``th17``,
``treg``, ``cd8_eff`` (effector CD8), ``b_act`` (activated B cells), ``plasma_cells``,
``antibody`` (pathogen-specific IgG, µg/mL), ``lymph_blood`` (blood lymphocytes, 10⁹/L).

Mechanism and sources:
- IL-6 classic signalling on leukocytes promotes CD4 T-cell activation and survival (claim C04;
  Dienz O, Rincon M 2009 Clin Immunol 130:27) and drives B cells to antibody-secreting plasma
  cells (claim C05; Kishimoto T 2010 Annu Rev Immunol 28:1; Jego G 2003 Immunity 19:225).
- Th17/Treg (claim C06): IL-6 with TGF-β drives Th17 and inhibits Foxp3⁺ Treg induction
  (Bettelli E 2006 Nature 441:235; Kimura A, Kishimoto T 2010 Eur J Immunol 40:1830). The seed
  article's reading ("IL-6 promotes regulatory T cells") is the documented alternative selected
  with ``il6_promotes_treg = 1``; the default (0) follows the literature.
- Most plasma cells live days, a small fraction become long-lived and keep antibody up for
  months after the infection (anti-spike IgG half-life about 100 d over months 1-8: Dan JM 2021
  Science 371:eabf4063), so antibody does not wane while the target cells regrow and the
  infection cannot rekindle.
- CD8 T cells are primed by infected-cell antigen with CD4 help and kill infected cells.
- Blood lymphocytes fall when inflammation redistributes them to tissues (nadir 4 h after
  endotoxin, recovered by 24 h: Copeland S 2005 Clin Diagn Lab Immunol 12:60) and stay low in
  sustained inflammation (lymphopenia of severe COVID-19: Huang C 2020 Lancet 395:497).
Activation and expansion follow the antigen load at the site; age lowers T-cell priming
(immunosenescence) through ``age_immune_decline``.
"""

from __future__ import annotations

from ..motifs import fold_activation, hill, inhibition, ratio
from ..spec import Block, Flux, Output, State
from ._signals import (
    antigen_load,
    classic_signal_hepatocytes,
    classic_signal_leukocytes,
    glucocorticoid_restraint,
)


def _il6_drive(s, p, half_max, max_fold):
    return fold_activation(classic_signal_leukocytes(s, p), half_max, max_fold)


def _senescence(p):
    """T-cell priming capacity relative to a 40-year-old."""
    return 1 / (1 + p.age_immune_decline * (p.age - p.reference_age) / p.reference_age)


def _treg_il6_factor(s, p):
    """IL-6 restrains Treg induction (literature) or promotes it (seed's reading, switch = 1)."""
    signal = classic_signal_leukocytes(s, p)
    literature = inhibition(signal, p.K_th17_il6)
    seed = fold_activation(signal, p.K_th17_il6, p.max_fold_th17_il6)
    return (1 - p.il6_promotes_treg) * literature + p.il6_promotes_treg * seed


BLOCK = Block(
    name="adaptive",
    states=(
        State("cd4_act", "cell/uL", "tissue", "activated CD4 helper T cells at the site"),
        State("th17", "cell/uL", "tissue", "Th17 cells at the site"),
        State("treg", "cell/uL", "tissue", "induced regulatory T cells at the site"),
        State("cd8_eff", "cell/uL", "tissue", "effector CD8 T cells at the site"),
        State("b_act", "cell/uL", "tissue", "activated B cells at the site"),
        State("plasma_cells", "cell/uL", "tissue", "short-lived antibody-secreting plasma cells"),
        State("plasma_long", "cell/uL", "tissue", "long-lived plasma cells (bone marrow niches)"),
        State("antibody", "ug/mL", "plasma", "pathogen-specific IgG"),
        State("lymph_blood", "cell/nL", "plasma", "blood lymphocyte count (10⁹/L)", 2.0),
    ),
    fluxes=(
        # ---- CD4 help (claim C04) -----------------------------------------------------------
        Flux(
            "activate_cd4",
            lambda s, p: (
                p.k_cd4_activation
                * p.tcells_site
                * hill(antigen_load(s, p), 1)
                * _il6_drive(s, p, p.K_tcell_il6, p.max_fold_tcell_il6)
                * _senescence(p)
                * glucocorticoid_restraint(s, p, p.gc_imax_t_expansion)
            ),
            {"cd4_act": 1},
            "priming of CD4 T cells by antigen, promoted by IL-6",
        ),
        Flux(
            "expand_cd4",
            lambda s, p: (
                p.r_t_expansion
                * s.cd4_act
                * hill(antigen_load(s, p), 1)
                * _il6_drive(s, p, p.K_tcell_il6, p.max_fold_tcell_il6)
                * (1 - ratio(s.cd4_act, p.t_capacity))
                * glucocorticoid_restraint(s, p, p.gc_imax_t_expansion)
            ),
            {"cd4_act": 1},
            "antigen-driven expansion of CD4 T cells, supported by IL-6",
        ),
        Flux(
            "contract_cd4",
            lambda s, p: p.k_t_contraction * s.cd4_act,
            {"cd4_act": -1},
            "contraction of activated CD4 T cells",
        ),
        # ---- Th17 / Treg (claim C06) --------------------------------------------------------
        Flux(
            "differentiate_th17",
            lambda s, p: (
                p.k_th_differentiation
                * s.cd4_act
                * hill(p.tgfb_site, p.K_tgfb)
                * hill(classic_signal_leukocytes(s, p), p.K_th17_il6)
            ),
            {"th17": 1},
            "Th17 differentiation: IL-6 with TGF-β",
        ),
        Flux(
            "differentiate_treg",
            lambda s, p: (
                p.k_th_differentiation
                * s.cd4_act
                * hill(p.tgfb_site, p.K_tgfb)
                * _treg_il6_factor(s, p)
            ),
            {"treg": 1},
            "Treg induction by TGF-β, restrained by IL-6 (or promoted: switch)",
        ),
        Flux("decay_th17", lambda s, p: p.k_t_contraction * s.th17, {"th17": -1}, "Th17 loss"),
        Flux("decay_treg", lambda s, p: p.k_t_contraction * s.treg, {"treg": -1}, "Treg loss"),
        # ---- CD8 killers ----------------------------------------------------------------------
        Flux(
            "activate_cd8",
            lambda s, p: (
                p.k_cd8_activation
                * p.cd8_naive_site
                * hill(antigen_load(s, p), 1)
                * (1 + ratio(s.cd4_act, p.K_cd4_help))
                * _senescence(p)
                * glucocorticoid_restraint(s, p, p.gc_imax_t_expansion)
            ),
            {"cd8_eff": 1},
            "priming of CD8 T cells by antigen with CD4 help",
        ),
        Flux(
            "expand_cd8",
            lambda s, p: (
                p.r_t_expansion
                * s.cd8_eff
                * hill(antigen_load(s, p), 1)
                * (1 - ratio(s.cd8_eff, p.t_capacity))
                * glucocorticoid_restraint(s, p, p.gc_imax_t_expansion)
            ),
            {"cd8_eff": 1},
            "antigen-driven expansion of CD8 T cells",
        ),
        Flux(
            "contract_cd8",
            lambda s, p: p.k_t_contraction * s.cd8_eff,
            {"cd8_eff": -1},
            "contraction of effector CD8 T cells",
        ),
        # ---- B cells, plasma cells, antibody (claim C05) -----------------------------------
        Flux(
            "activate_b",
            lambda s, p: (
                p.k_b_activation
                * p.bcells_site
                * hill(antigen_load(s, p), 1)
                * (1 + ratio(s.cd4_act, p.K_cd4_help))
            ),
            {"b_act": 1},
            "B-cell activation by antigen with T-cell help",
        ),
        Flux(
            "decay_b",
            lambda s, p: p.k_t_contraction * s.b_act,
            {"b_act": -1},
            "loss of activated B cells",
        ),
        Flux(
            "differentiate_plasma",
            lambda s, p: (
                p.k_plasma_differentiation
                * s.b_act
                * _il6_drive(s, p, p.K_bcell_il6, p.max_fold_bcell_il6)
            ),
            {
                "b_act": -1,
                "plasma_cells": lambda p: 1 - p.f_plasma_long_lived,
                "plasma_long": lambda p: p.f_plasma_long_lived,
            },
            "B cells become plasma cells, driven by IL-6; a small fraction are long-lived",
        ),
        Flux(
            "die_plasma",
            lambda s, p: p.k_plasma_death * s.plasma_cells,
            {"plasma_cells": -1},
            "death of short-lived plasma cells",
        ),
        Flux(
            "die_plasma_long",
            lambda s, p: p.k_plasma_long_death * s.plasma_long,
            {"plasma_long": -1},
            "loss of long-lived plasma cells (over months)",
        ),
        Flux(
            "secrete_antibody",
            lambda s, p: p.r_antibody * (s.plasma_cells + s.plasma_long),
            {"antibody": 1},
            "antibody secretion by short- and long-lived plasma cells",
        ),
        Flux(
            "decay_antibody",
            lambda s, p: p.k_antibody_decay * s.antibody,
            {"antibody": -1},
            "IgG catabolism",
        ),
        # ---- blood lymphocytes ----------------------------------------------------------------
        Flux(
            "return_lymph",
            lambda s, p: p.k_lymph_traffic * p.lymph_blood_baseline,
            {"lymph_blood": 1},
            "lymphocytes entering blood from tissues and marrow",
        ),
        Flux(
            "leave_lymph",
            lambda s, p: (
                p.k_lymph_traffic
                * s.lymph_blood
                * (
                    1
                    + p.max_fold_lymph_loss
                    * (
                        hill(s.tnf_p, p.K_lymph_tnf)
                        + hill(classic_signal_hepatocytes(s, p), p.K_lymph_il6)
                    )
                    + p.gc_max_fold_lymph_loss * s.gc_response
                )
            ),
            {"lymph_blood": -1},
            "lymphocytes leaving blood, faster under TNF-α, IL-6 and glucocorticoids",
        ),
    ),
    outputs=(
        Output("lymphocytes", "cell/nL", lambda s, p: s.lymph_blood, "blood lymphocytes (10⁹/L)",
               label="Lymphocytes"),
        Output("cd4_activated", "cell/uL", lambda s, p: s.cd4_act, "activated CD4 T cells",
               label="Activated CD4⁺ T cells"),
        Output("cd8_effector", "cell/uL", lambda s, p: s.cd8_eff, "effector CD8 T cells",
               label="Effector CD8⁺ T cells"),
        Output(
            "th17_treg_ratio",
            "dimensionless",
            lambda s, p: (s.th17 + p.th17_resident) / (s.treg + p.treg_resident),
            "Th17 to Treg ratio at the site",
            label="Th17/Treg ratio",
        ),
        Output("plasma_cell_count", "cell/uL", lambda s, p: s.plasma_cells, "plasma cells",
               label="Plasma cells"),
        Output("antibody_titre", "ug/mL", lambda s, p: s.antibody, "pathogen-specific IgG",
               label="Antibody titre (IgG)"),
    ),
)
