"""Endotoxin (E. coli LPS): an intravenous bolus that distributes to the tissue and is cleared.

States: ``lps_p`` (plasma) and ``lps_t`` (site/tissue), pg/mL.
Assumptions: linear exchange and clearance; the bolus is given in ng/kg body weight and
dissolves in the plasma volume. Human experimental endotoxemia uses 0.5–4 ng/kg IV
(Copeland 2005 Clin Diagn Lab Immunol 12:60; Dillingh 2014 J Inflamm 11:28).
"""

from __future__ import annotations

from ..spec import Block, DoseRoute, Output, State
from ._transport import site_plasma_exchange

BLOCK = Block(
    name="endotoxin",
    states=(
        State("lps_p", "pg/mL", "plasma", "endotoxin (LPS) in plasma"),
        State("lps_t", "pg/mL", "tissue", "endotoxin (LPS) at the site"),
    ),
    fluxes=(
        *site_plasma_exchange("lps", "lps_t", "lps_p", to_plasma="k_lps_tp", to_site="k_lps_pt",
                              elimination="k_clear_lps"),
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
    outputs=(Output("lps", "pg/mL", lambda s, p: s.lps_p, "plasma endotoxin",
           label="Endotoxin (LPS)"),),
)
