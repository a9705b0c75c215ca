"""A systemic glucocorticoid (dexamethasone by default): PK and the receptor response.

One glucocorticoid slot, separate from the antibody slot (:mod:`.drug`), so a patient can
receive dexamethasone and tocilizumab together, as 82 % of RECOVERY's tocilizumab comparison did
(RECOVERY Collaborative Group 2021 Lancet 397:1637). Its PK parameters (``gc_*``) and potency
come from a drug file of kind ``glucocorticoid`` (``il6sim/data/drugs/dexamethasone.yaml``)
through :func:`il6sim.pharmacology.drug_parameters`.

States: ``gc_gut`` (nmol, oral depot), ``gc_c`` / ``gc_periph`` (nM, two-compartment PK;
Li L 2023 J Crit Care, article 154395) and ``gc_response`` (0–1), the genomic receptor
response, which follows receptor occupancy ``C / (C + EC50)`` with a delay of hours because
transrepression needs new transcripts (Waage A 1988 Immunology 63:299).

Where the response acts (each with its own maximal effect, ``gc_imax_*``, a host property):

- synthesis of TNF-α, IL-1β and IL-6 by macrophages, and of IL-6 by endothelium and
  fibroblasts (Waage A 1988; Waage A 1990 Eur J Immunol 20:2439) — used in
  :mod:`.cytokines`;
- type-I interferon made by infected cells (glucocorticoids deplete plasmacytoid dendritic
  cells: Shodell M 2003 Lupus 12:222), so virus is cleared later when steroids come early
  (Lee N 2004 J Clin Virol 31:304; Arabi YM 2018 Am J Respir Crit Care Med 197:757) — in
  :mod:`.virus`;
- antigen-driven priming and expansion of T cells (Mager DE 2003 J Pharm Sci 92:1521) — in
  :mod:`.adaptive`;
- redistribution of blood lymphocytes out of the circulation (Fauci AS, Dale DC 1974 J Clin
  Invest 53:240) — in :mod:`.adaptive`.

IL-10 is not suppressed (glucocorticoids spare or raise it), and the hepatocyte acute-phase
response is left to follow IL-6 (glucocorticoids enhance IL-6-driven CRP synthesis in vitro,
but CRP falls in treated patients because IL-6 falls).
"""

from __future__ import annotations

from ..motifs import allometric, ratio
from ..spec import Block, DoseRoute, Flux, Output, State


def _weight_factor(p):
    return allometric(p.body_weight, p.gc_reference_weight, p.gc_weight_exponent)


def clearance(p):
    """Clearance of the glucocorticoid for this patient (L/h)."""
    return p.gc_CL * _weight_factor(p)


def central_volume(p):
    """Central volume of distribution for this patient (L)."""
    return p.gc_V1 * _weight_factor(p)


def peripheral_volume(p):
    """Peripheral volume of distribution for this patient (L)."""
    return p.gc_V2 * _weight_factor(p)


def occupancy(s, p):
    """Glucocorticoid-receptor occupancy (0–1) at the current plasma concentration."""
    return ratio(s.gc_c, s.gc_c + p.gc_EC50)


BLOCK = Block(
    name="glucocorticoid",
    states=(
        State("gc_gut", "nmol", "gut", "glucocorticoid in the gut (oral depot)", 0.0),
        State("gc_c", "nM", "gc_central", "glucocorticoid in plasma (central compartment)", 0.0),
        State("gc_periph", "nM", "gc_peripheral", "glucocorticoid, peripheral compartment", 0.0),
        State(
            "gc_response", "dimensionless", "cells",
            "genomic glucocorticoid-receptor response (0–1)", 0.0,
        ),
    ),
    fluxes=(
        Flux(
            "abs_gc",
            lambda s, p: p.gc_ka * s.gc_gut,
            {"gc_gut": -1, "gc_c": lambda p: 1 / central_volume(p)},
            "first-order absorption of the oral glucocorticoid",
        ),
        Flux(
            "el_gc",
            lambda s, p: clearance(p) / central_volume(p) * s.gc_c,
            {"gc_c": -1},
            "hepatic (CYP3A4) and renal elimination",
        ),
        Flux(
            "dist_gc_cp",
            lambda s, p: p.gc_Q / central_volume(p) * s.gc_c,
            {"gc_c": -1, "gc_periph": lambda p: central_volume(p) / peripheral_volume(p)},
            "distribution from plasma to tissues",
        ),
        Flux(
            "dist_gc_pc",
            lambda s, p: p.gc_Q / peripheral_volume(p) * s.gc_periph,
            {"gc_periph": -1, "gc_c": lambda p: peripheral_volume(p) / central_volume(p)},
            "return from tissues to plasma",
        ),
        Flux(
            "respond_gc",
            lambda s, p: p.k_gc_response * (occupancy(s, p) - s.gc_response),
            {"gc_response": 1},
            "the genomic receptor response follows occupancy with a delay (new transcripts)",
        ),
    ),
    outputs=(
        Output("glucocorticoid_conc", "ng/mL", lambda s, p: s.gc_c * p.gc_MW,
               "total glucocorticoid concentration in plasma", label="Glucocorticoid (plasma)"),
        Output("glucocorticoid_response", "percent", lambda s, p: s.gc_response,
               "genomic glucocorticoid-receptor response",
               label="Glucocorticoid-receptor response"),
    ),
    routes=(
        DoseRoute(
            "glucocorticoid", "iv", "mg", "gc_c",
            lambda amount, p: amount / (p.gc_MW * central_volume(p)),
            "intravenous glucocorticoid (bolus)",
        ),
        DoseRoute(
            "glucocorticoid", "oral", "mg", "gc_gut",
            lambda amount, p: p.gc_F_oral * amount / p.gc_MW,
            "oral glucocorticoid, scaled by bioavailability",
        ),
    ),
)
