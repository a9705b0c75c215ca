"""The cytokine network: TNF-α, IL-1β, IL-10, type-I interferon and the five IL-6 sources.

States (pg/mL; ``_t`` at the site, ``_p`` in plasma): ``tnf``, ``il1b``, ``il10``, ``ifn``;
IL-6 itself is in the receptor block (pM) because it binds its receptors.

Network (each arrow a named flux or a factor inside one):
- activated macrophages make TNF-α and IL-1β (TNF-α amplifies their IL-6 and IL-1β: Fong Y 1989
  J Exp Med 170:1627); IL-10 suppresses them (Fiorentino DF 1991 J Immunol 147:3815) and IL-6
  classic signalling restrains them (Schindler R 1990 Blood 75:40: IL-6 suppresses TNF
  synthesis; Tilg H 1994 Blood 83:113) — claims C07, C17;
- IL-6 comes from five sources (claim C01): macrophages, T cells, B cells, endothelial cells
  (into plasma) and fibroblasts; TNF-α and IL-1β induce it in endothelium and fibroblasts;
  in bacteraemia the macrophages that clear blood (Kupffer cells, splenic macrophages) and
  blood monocytes, counted with the macrophages, make it into plasma as bacterial products in
  blood activate them, so plasma IL-6 follows the systemic microbial burden (Waage A 1989 J
  Exp Med 169:333: serum IL-6 of meningococcal septic shock rises with plasma endotoxin and
  marks fatal cases);
- IL-6 classic signalling induces IL-10 in macrophages (Steensberg A 2003 Am J Physiol
  Endocrinol Metab 285:E433); type-I interferon induces IL-10 and inhibits IL-1β (Guarda G
  2011 Immunity 34:213). Interferon is made at a basal rate here; the virus block adds its source.
Each cytokine moves between site and plasma and is eliminated in both.
"""

from __future__ import annotations

from ..motifs import fold_activation, hill, inhibition
from ..spec import Block, Flux, Output, State
from ._signals import classic_signal_leukocytes, danger_signal, glucocorticoid_restraint
from ._transport import site_plasma_exchange

IL6_SITE = "il6_t"


def _inflammaging(p):
    """Resting macrophage output relative to a 40-year-old (serum IL-6 rises with age:
    +0.05 pg/mL per year, Said EA 2021 J Med Virol 93:2127)."""
    return 1 + p.age_inflammatory_slope * (p.age - p.reference_age)


def _tnf_amplification(s, p):
    """Autocrine/paracrine TNF-α raises IL-6 and IL-1β output of activated macrophages (anti-TNF
    blunts both in bacteraemia: Fong Y 1989 J Exp Med 170:1627)."""
    return fold_activation(s.tnf_t, p.K_tnf_amplification, p.max_fold_tnf_amplification)


def _leukocyte_restraint(s, p):
    """Suppression of macrophage cytokine synthesis by IL-10, by IL-6 classic signalling, by
    innate exhaustion (immunoparalysis) and by glucocorticoids."""
    return (
        (1 - s.immunoparalysis)
        * glucocorticoid_restraint(s, p, p.gc_imax_cytokines)
        * inhibition(s.il10_t, p.K_inh_il10)
        * inhibition(classic_signal_leukocytes(s, p), p.K_inh_il6_classic)
    )


BLOCK = Block(
    name="cytokines",
    states=(
        State("tnf_t", "pg/mL", "tissue", "TNF-α at the site", 3.0),
        State("tnf_p", "pg/mL", "plasma", "TNF-α in plasma", 3.0),
        State("il1b_t", "pg/mL", "tissue", "IL-1β at the site", 1.0),
        State("il1b_p", "pg/mL", "plasma", "IL-1β in plasma", 1.0),
        State("il10_t", "pg/mL", "tissue", "IL-10 at the site", 5.0),
        State("il10_p", "pg/mL", "plasma", "IL-10 in plasma", 5.0),
        State("ifn_t", "pg/mL", "tissue", "type-I interferon at the site", 1.0),
        State("ifn_p", "pg/mL", "plasma", "type-I interferon in plasma", 1.0),
    ),
    fluxes=(
        # ---- TNF-α and IL-1β from macrophages -------------------------------------------
        Flux(
            "prod_tnf_mac",
            lambda s, p: (
                (p.r_tnf_mac_rest * _inflammaging(p) * s.mac_rest + p.r_tnf_mac_act * s.mac_act)
                * p.switch_tnf
                * _leukocyte_restraint(s, p)
            ),
            {"tnf_t": 1},
            "TNF-α made by macrophages, restrained by IL-10 and IL-6",
        ),
        Flux(
            "prod_il1b_mac",
            lambda s, p: (
                (
                    p.r_il1b_mac_rest * s.mac_rest
                    + p.r_il1b_mac_act * s.mac_act * _tnf_amplification(s, p)
                )
                * p.switch_il1b
                * _leukocyte_restraint(s, p)
                * inhibition(s.ifn_t, p.K_inh_ifn_il1b)
            ),
            {"il1b_t": 1},
            "IL-1β made by macrophages, restrained by IL-10, IL-6 and interferon",
        ),
        # ---- the five IL-6 sources (claim C01) ------------------------------------------
        Flux(
            "prod_il6_macrophages",
            lambda s, p: (
                p.switch_il6
                * (
                    p.r_il6_mac_rest * _inflammaging(p) * s.mac_rest
                    + p.r_il6_mac_act * s.mac_act * _tnf_amplification(s, p)
                )
                * inhibition(s.il10_t, p.K_inh_il10)
                * glucocorticoid_restraint(s, p, p.gc_imax_cytokines)
                / p.MW_il6
            ),
            {"il6_t": 1},
            "IL-6 made by macrophages (rest and activated), suppressed by IL-10 and "
            "glucocorticoids",
        ),
        Flux(
            "prod_il6_t_cells",
            lambda s, p: (
                p.switch_il6
                * p.r_il6_tcell
                * (p.tcells_site + p.w_il6_activated_lymphocytes * (s.cd4_act + s.th17))
                * fold_activation(s.il1b_t, p.K_il6_induction_il1b, p.max_fold_il6_lymphocyte)
                * inhibition(s.il10_t, p.K_inh_il10)
                / p.MW_il6
            ),
            {"il6_t": 1},
            "IL-6 made by T cells, co-stimulated by IL-1β",
        ),
        Flux(
            "prod_il6_b_cells",
            lambda s, p: (
                p.switch_il6
                * p.r_il6_bcell
                * (p.bcells_site + p.w_il6_activated_lymphocytes * (s.b_act + s.plasma_cells))
                * fold_activation(danger_signal(s, p), p.K_mac_lps, p.max_fold_il6_lymphocyte)
                * inhibition(s.il10_t, p.K_inh_il10)
                / p.MW_il6
            ),
            {"il6_t": 1},
            "IL-6 made by B cells, stimulated by pathogen patterns",
        ),
        Flux(
            "prod_il6_endothelium",
            lambda s, p: (
                p.switch_il6
                * p.r_il6_endothelium
                * (1 + (p.max_fold_il6_endothelium - 1) * s.endothelium_act)
                * glucocorticoid_restraint(s, p, p.gc_imax_cytokines)
                / p.MW_il6
            ),
            {"il6_p": 1},
            "IL-6 made by endothelial cells into plasma, rising with activation",
        ),
        Flux(
            "prod_il6_sys_phagocytes",
            lambda s, p: (
                p.switch_il6
                * p.r_il6_sys_phagocytes
                * s.sys_phago_act
                * inhibition(s.il10_p, p.K_inh_il10)
                * glucocorticoid_restraint(s, p, p.gc_imax_cytokines)
                / p.MW_il6
            ),
            {"il6_p": 1},
            "IL-6 made into plasma by the phagocytes that clear blood (Kupffer cells, splenic "
            "macrophages, monocytes), counted with macrophages",
        ),
        Flux(
            "prod_il6_fibroblasts",
            lambda s, p: (
                p.switch_il6
                * p.r_il6_fibroblast
                * (
                    1
                    + (p.max_fold_il6_fibroblast - 1)
                    * (
                        hill(s.tnf_t, p.K_il6_induction_tnf)
                        + hill(s.il1b_t, p.K_il6_induction_il1b)
                    )
                    / 2
                )
                * glucocorticoid_restraint(s, p, p.gc_imax_cytokines)
                / p.MW_il6
            ),
            {"il6_t": 1},
            "IL-6 made by stromal fibroblasts, induced by TNF-α and IL-1β, suppressed by "
            "glucocorticoids",
        ),
        # ---- IL-10 and interferon -------------------------------------------------------
        Flux(
            "prod_il10_mac",
            lambda s, p: (
                p.switch_il10
                * p.r_il10_mac_act
                * s.mac_act
                * fold_activation(
                    classic_signal_leukocytes(s, p), p.K_il10_induction_il6, p.max_fold_il10_il6
                )
                * fold_activation(s.ifn_t, p.K_il10_induction_ifn, p.max_fold_il10_ifn)
            ),
            {"il10_t": 1},
            "IL-10 made by activated macrophages, induced by IL-6 and interferon",
        ),
        Flux(
            "prod_il10_lymphocytes",
            lambda s, p: (
                p.switch_il10
                * p.r_il10_tcell
                * (p.tcells_site + p.w_il10_treg * (s.treg + s.cd4_act))
            ),
            {"il10_t": 1},
            "IL-10 made by lymphocytes, mostly regulatory and activated T cells",
        ),
        Flux(
            "prod_ifn_basal",
            lambda s, p: p.switch_ifn * p.r_ifn_basal,
            {"ifn_t": 1},
            "basal type-I interferon (the virus block adds infected-cell production)",
        ),
        *site_plasma_exchange("tnf", "tnf_t", "tnf_p", to_plasma="k_cytokine_tp",
                              to_site="k_cytokine_pt", elimination="k_deg_tnf"),
        *site_plasma_exchange("il1b", "il1b_t", "il1b_p", to_plasma="k_cytokine_tp",
                              to_site="k_cytokine_pt", elimination="k_deg_il1b"),
        *site_plasma_exchange("il10", "il10_t", "il10_p", to_plasma="k_cytokine_tp",
                              to_site="k_cytokine_pt", elimination="k_deg_il10"),
        *site_plasma_exchange("ifn", "ifn_t", "ifn_p", to_plasma="k_cytokine_tp",
                              to_site="k_cytokine_pt", elimination="k_deg_ifn"),
    ),
    outputs=(
        Output("tnf", "pg/mL", lambda s, p: s.tnf_p, "plasma TNF-α", label="TNF-α"),
        Output("il1b", "pg/mL", lambda s, p: s.il1b_p, "plasma IL-1β", label="IL-1β"),
        Output("il10", "pg/mL", lambda s, p: s.il10_p, "plasma IL-10", label="IL-10"),
        Output("ifn", "pg/mL", lambda s, p: s.ifn_p, "plasma type-I interferon",
               label="Type-I IFN"),
        Output("tnf_site", "pg/mL", lambda s, p: s.tnf_t, "TNF-α at the site",
               label="TNF-α at the site"),
    ),
)
