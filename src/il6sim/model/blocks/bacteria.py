"""Extracellular bacteria at the site of infection, bacteraemia and antibiotic killing.

States: ``bac_t`` (CFU/mL at the site), ``bac_b`` (CFU/mL in blood), ``antibiotic`` (mg/L).

Growth stops below about one organism in the whole site (``bac_extinction_load``): without it a
cleared infection would regrow from numerical traces ("atto-fox" problem).

Assumptions (after Smith AM, McCullers JA, Adler FR 2011 J Theor Biol 276:106 and Reynolds A
2006 J Theor Biol 242:220): logistic growth to a carrying capacity; killing by resident
macrophages that saturates at high loads (so small inocula are cleared without neutrophils) and by
recruited neutrophils, both faster when antibody opsonises the bacteria; spill into blood above a
tissue load (Hill switch, no ``if`` in the right-hand side); blood clearance by spleen and liver;
an antibiotic given as an IV dose event, eliminated first-order (ceftriaxone by default), killing
by its free concentration relative to the pathogen's MIC (time-dependent beta-lactam killing,
near-maximal from about 4x MIC: Craig WA 1998 Clin Infect Dis 26:1), so a resistant strain (a
high ``mic_abx`` in the pathogen profile) escapes it. Bacteria shed pathogen patterns
(LPS-equivalent per CFU) that activate macrophages. IL-6 helps clearance through neutrophil
release and recruitment and through the acute phase: CRP binds the phosphorylcholine of
pneumococci and opsonises them for complement-mediated phagocytosis (Szalai AJ 1995 J Immunol
155:2557: CRP protects mice from lethal pneumococcal infection), so IL-6-deficient mice clear
pneumococci from the lung more slowly and die more (claim C08, C15; Dalrymple SA 1995 Infect
Immun 63:2262; van der Poll T 1997 J Infect Dis 176:439).
"""

from __future__ import annotations

from ..motifs import hill
from ..spec import Block, DoseRoute, Flux, Output, State


def _opsonisation(s, p):
    """Killing multiplier from opsonins (1 without them): specific antibody, and CRP for bacteria
    that carry phosphorylcholine (``w_crp_opsonisation``, a pathogen property)."""
    return (
        1
        + p.max_fold_opsonisation * hill(s.antibody, p.K_antibody_opsonisation)
        + p.w_crp_opsonisation * p.max_fold_crp_opsonisation * hill(s.crp, p.K_crp_opsonisation)
    )


def _phagocytes_killing(s, p, load):
    """Per-bacterium killing rate by macrophages (saturating) and neutrophils (1/h)."""
    macrophages = s.mac_rest + s.mac_primed + p.max_fold_mac_kill_active * s.mac_act
    by_macrophages = p.k_kill_mac * macrophages / (1 + load / p.K_kill_mac_saturation)
    by_neutrophils = p.k_kill_neu * s.neu_tissue / (1 + load / p.K_kill_neu_saturation)
    return (by_macrophages + by_neutrophils) * _opsonisation(s, p)


def _antibiotic_kill(s, p):
    """Kill rate of a time-dependent (beta-lactam) antibiotic: a steep Emax curve (Hill 2) of the
    free concentration, half-maximal at ``abx_ec50_per_mic`` times the pathogen's MIC."""
    return p.k_abx_max_kill * hill(
        p.abx_free_fraction * s.antibiotic, p.abx_ec50_per_mic * p.mic_abx, 2
    )


BLOCK = Block(
    name="bacteria",
    states=(
        State("bac_t", "CFU/mL", "tissue", "viable bacteria at the site"),
        State("bac_b", "CFU/mL", "plasma", "viable bacteria in blood"),
        State("antibiotic", "mg/L", "plasma", "antibiotic concentration"),
    ),
    fluxes=(
        Flux(
            "grow_bac",
            lambda s, p: (
                p.r_bac_growth
                * s.bac_t
                * (1 - s.bac_t / p.K_bac_capacity)
                * hill(s.bac_t, p.bac_extinction_load)
            ),
            {"bac_t": 1},
            "logistic bacterial growth at the site (none below one organism in the site)",
        ),
        Flux(
            "kill_bac_phagocytes",
            lambda s, p: _phagocytes_killing(s, p, s.bac_t) * s.bac_t,
            {"bac_t": -1},
            "killing by macrophages and neutrophils, faster when opsonised",
        ),
        Flux(
            "spill_bac",
            lambda s, p: p.k_bac_spill * s.bac_t * hill(s.bac_t, p.K_bac_spill, 2),
            {"bac_t": -1, "bac_b": lambda p: p.V_tissue / p.V_plasma},
            "spill of bacteria into blood above a tissue load (bacteraemia)",
        ),
        Flux(
            "clear_bac_b",
            lambda s, p: p.k_bac_blood_clearance * s.bac_b * _opsonisation(s, p),
            {"bac_b": -1},
            "clearance of blood bacteria by spleen and liver",
        ),
        Flux(
            "kill_bac_abx_t",
            lambda s, p: _antibiotic_kill(s, p) * s.bac_t,
            {"bac_t": -1},
            "antibiotic killing at the site",
        ),
        Flux(
            "kill_bac_abx_b",
            lambda s, p: _antibiotic_kill(s, p) * s.bac_b,
            {"bac_b": -1},
            "antibiotic killing in blood",
        ),
        Flux(
            "el_antibiotic",
            lambda s, p: p.k_el_abx * s.antibiotic,
            {"antibiotic": -1},
            "antibiotic elimination",
        ),
    ),
    outputs=(
        Output("bacteria_site", "CFU/mL", lambda s, p: s.bac_t, "bacterial load at the site",
               label="Bacteria at the site"),
        Output("bacteraemia", "CFU/mL", lambda s, p: s.bac_b, "bacteria in blood",
               label="Bacteraemia"),
        Output("antibiotic_level", "mg/L", lambda s, p: s.antibiotic, "antibiotic in plasma",
               label="Antibiotic (plasma)"),
    ),
    routes=(
        DoseRoute(
            "bacteria",
            "inoculation",
            "CFU",
            "bac_t",
            lambda amount, p: amount / p.V_tissue,
            "bacterial inoculum into the site",
        ),
        DoseRoute(
            "antibiotic",
            "iv",
            "mg",
            "antibiotic",
            lambda amount, p: amount / p.V_antibiotic,
            "intravenous antibiotic dose",
        ),
    ),
)
