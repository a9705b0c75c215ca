"""Endotoxin (E. coli LPS): an intravenous bolus that distributes to the tissue and is cleared.

States: ``lps_p`` (plasma) and ``lps_t`` (site/tissue), pg/mL.
Assumptions: linear exchange and clearance; the bolus is given in ng/kg body weight and
dissolves in the plasma volume. Human experimental endotoxemia uses 0.5–4 ng/kg IV
(Copeland 2005 Clin Diagn Lab Immunol 12:60; Dillingh 2014 J Inflamm 11:28).
"""

from __future__ import annotations

from ..spec import Block, DoseRoute, Flux, Output, State

BLOCK = Block(
    name="endotoxin",
    states=(
        State("lps_p", "pg/mL", "plasma", "endotoxin (LPS) in plasma"),
        State("lps_t", "pg/mL", "tissue", "endotoxin (LPS) at the site"),
    ),
    fluxes=(
        Flux(
            "tr_lps_pt",
            lambda s, p: p.k_lps_pt * s.lps_p,
            {"lps_p": -1, "lps_t": lambda p: p.V_plasma / p.V_tissue},
            "distribution of LPS from plasma to the site",
        ),
        Flux(
            "tr_lps_tp",
            lambda s, p: p.k_lps_tp * s.lps_t,
            {"lps_t": -1, "lps_p": lambda p: p.V_tissue / p.V_plasma},
            "return of LPS from the site to plasma",
        ),
        Flux(
            "deg_lps_p",
            lambda s, p: p.k_clear_lps * s.lps_p,
            {"lps_p": -1},
            "hepatic/plasma clearance of LPS",
        ),
        Flux(
            "deg_lps_t",
            lambda s, p: p.k_clear_lps * s.lps_t,
            {"lps_t": -1},
            "local inactivation of LPS",
        ),
    ),
    routes=(
        DoseRoute(
            "lps",
            "iv",
            "ng/kg",
            "lps_p",
            lambda amount, p: amount * p.body_weight / p.V_plasma,
            "intravenous bolus of endotoxin, dissolved in the plasma volume",
        ),
    ),
    outputs=(Output("lps", "pg/mL", lambda s, p: s.lps_p, "plasma endotoxin"),),
)
