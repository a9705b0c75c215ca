"""The IL-6 receptor system: free IL-6, soluble and membrane IL-6R, gp130 and the sgp130 buffer.

States (pM; membrane receptors as pM of the compartment volume):
- plasma: ``il6_p`` free IL-6; ``sil6r_p`` soluble IL-6R; ``il6_sil6r_p`` IL-6:sIL-6R;
  ``sgp130_p`` soluble gp130; ``il6_sil6r_sgp130_p`` the inert buffer complex;
  ``mil6r_hep`` / ``il6_mil6r_hep`` hepatocyte membrane IL-6R free / IL-6-bound (classic
  signalling in the liver); ``gp130_endo`` / ``il6_sil6r_gp130_endo`` endothelial gp130 free /
  engaged by IL-6:sIL-6R (trans-signalling);
- site: ``il6_t`` free IL-6; ``mil6r_leu`` / ``il6_mil6r_leu`` leukocyte membrane IL-6R free /
  bound (classic signalling on immune cells).

Mechanism (claim C02): classic signalling needs membrane IL-6R (hepatocytes, leukocytes), which
binds IL-6 with high affinity together with gp130 (KD ~10 pM, against ~1 nM for IL-6R alone:
Taga T 1989 Cell 58:573), so most IL-6 bound on cells is internalised;
trans-signalling uses IL-6 bound to soluble IL-6R on any gp130-bearing cell, and soluble gp130
buffers it (Rose-John S 2012 Int J Biol Sci 8:1237; Jostock T 2001 Eur J Biochem 268:160).
Bound membrane receptors are internalised with their IL-6, so receptor-mediated uptake clears
IL-6: blocking IL-6R makes serum IL-6 rise while its signalling falls (Nishimoto N 2008 Blood
112:3959). Receptor totals change only by synthesis and internalisation; binding conserves them.
Measured serum IL-6 is free plus soluble-complex IL-6.
"""

from __future__ import annotations

from ..motifs import mass_action_binding
from ..spec import Block, Flux, Output, State
from ._signals import classic_signal_hepatocytes, classic_signal_leukocytes, trans_signal
from ._transport import site_plasma_exchange
from .drug import soluble_receptor_total


def _turnover(receptor: str, synthesis: str, elimination: str, where: str) -> tuple[Flux, ...]:
    return (
        Flux(
            f"syn_{receptor}",
            lambda s, p: getattr(p, synthesis),
            {receptor: 1},
            f"synthesis of {where}",
        ),
        Flux(
            f"deg_{receptor}",
            lambda s, p: getattr(p, elimination) * getattr(s, receptor),
            {receptor: -1},
            f"elimination of free {where}",
        ),
    )


def _classic_binding(site: str, ligand: str, receptor: str, complex_: str) -> tuple[Flux, ...]:
    return (
        Flux(
            f"bind_il6_{site}",
            lambda s, p: mass_action_binding(
                p.switch_classic_signalling * p.kon_il6_il6r,
                getattr(s, ligand),
                getattr(s, receptor),
                p.koff_il6_mil6r,
                getattr(s, complex_),
            ),
            {ligand: -1, receptor: -1, complex_: 1},
            f"IL-6 binding membrane IL-6R ({site}): classic signalling",
        ),
        Flux(
            f"int_il6_{site}",
            lambda s, p: p.kint_il6r_complex * getattr(s, complex_),
            {complex_: -1},
            f"internalisation of IL-6:IL-6R ({site}): receptor-mediated IL-6 clearance",
        ),
    )


BLOCK = Block(
    name="il6_receptors",
    states=(
        State("il6_p", "pM", "plasma", "free IL-6 in plasma", 0.05),
        State("sil6r_p", "pM", "plasma", "free soluble IL-6R", 1500.0),
        State("il6_sil6r_p", "pM", "plasma", "IL-6:sIL-6R complex", 0.01),
        State("sgp130_p", "pM", "plasma", "free soluble gp130", 3900.0),
        State("il6_sil6r_sgp130_p", "pM", "plasma", "IL-6:sIL-6R:sgp130 buffer complex", 0.1),
        State("mil6r_hep", "pM", "plasma", "free hepatocyte membrane IL-6R", 1000.0),
        State("il6_mil6r_hep", "pM", "plasma", "IL-6-bound hepatocyte IL-6R", 0.05),
        State("gp130_endo", "pM", "plasma", "free endothelial membrane gp130", 100.0),
        State(
            "il6_sil6r_gp130_endo",
            "pM",
            "plasma",
            "endothelial gp130 engaged by IL-6:sIL-6R",
            0.001,
        ),
        State("il6_t", "pM", "tissue", "free IL-6 at the site", 0.1),
        State("mil6r_leu", "pM", "tissue", "free leukocyte membrane IL-6R at the site", 100.0),
        State("il6_mil6r_leu", "pM", "tissue", "IL-6-bound leukocyte IL-6R", 0.01),
    ),
    fluxes=(
        # ---- free IL-6 transport and non-receptor elimination ------------------------------
        *site_plasma_exchange("il6", "il6_t", "il6_p", to_plasma="k_cytokine_tp",
                              to_site="k_cytokine_pt", elimination="k_renal_il6"),
        # ---- soluble receptors -----------------------------------------------------------
        *_turnover("sil6r_p", "k_syn_sil6r", "k_el_sil6r", "soluble IL-6R (shedding)"),
        *_turnover("sgp130_p", "k_syn_sgp130", "k_el_sgp130", "soluble gp130"),
        Flux(
            "bind_il6_sil6r",
            lambda s, p: mass_action_binding(
                p.kon_il6_il6r, s.il6_p, s.sil6r_p, p.koff_il6_il6r, s.il6_sil6r_p
            ),
            {"il6_p": -1, "sil6r_p": -1, "il6_sil6r_p": 1},
            "IL-6 binding soluble IL-6R",
        ),
        Flux(
            "deg_il6_sil6r",
            lambda s, p: p.k_el_sil6r * s.il6_sil6r_p,
            {"il6_sil6r_p": -1},
            "elimination of IL-6:sIL-6R",
        ),
        Flux(
            "bind_sgp130",
            lambda s, p: mass_action_binding(
                p.kon_sgp130, s.il6_sil6r_p, s.sgp130_p, p.koff_sgp130, s.il6_sil6r_sgp130_p
            ),
            {"il6_sil6r_p": -1, "sgp130_p": -1, "il6_sil6r_sgp130_p": 1},
            "buffering of IL-6:sIL-6R by soluble gp130",
        ),
        Flux(
            "deg_il6_sil6r_sgp130",
            lambda s, p: p.k_el_sgp130 * s.il6_sil6r_sgp130_p,
            {"il6_sil6r_sgp130_p": -1},
            "elimination of the buffer complex",
        ),
        # ---- membrane receptors: classic signalling ---------------------------------------
        *_turnover("mil6r_hep", "k_syn_mil6r_hep", "kint_il6r", "hepatocyte membrane IL-6R"),
        *_classic_binding("hep", "il6_p", "mil6r_hep", "il6_mil6r_hep"),
        *_turnover("mil6r_leu", "k_syn_mil6r_leu", "kint_il6r", "leukocyte membrane IL-6R"),
        *_classic_binding("leu", "il6_t", "mil6r_leu", "il6_mil6r_leu"),
        # ---- membrane gp130: trans-signalling ---------------------------------------------
        *_turnover("gp130_endo", "k_syn_gp130_endo", "kint_il6r", "endothelial gp130"),
        Flux(
            "bind_trans_endo",
            lambda s, p: mass_action_binding(
                p.switch_trans_signalling * p.kon_gp130,
                s.il6_sil6r_p,
                s.gp130_endo,
                p.koff_gp130,
                s.il6_sil6r_gp130_endo,
            ),
            {"il6_sil6r_p": -1, "gp130_endo": -1, "il6_sil6r_gp130_endo": 1},
            "IL-6:sIL-6R engaging endothelial gp130: trans-signalling",
        ),
        Flux(
            "int_trans_endo",
            lambda s, p: p.kint_il6r_complex * s.il6_sil6r_gp130_endo,
            {"il6_sil6r_gp130_endo": -1},
            "internalisation of the trans-signalling complex",
        ),
    ),
    outputs=(
        Output(
            "il6",
            "pg/mL",
            lambda s, p: (s.il6_p + s.il6_sil6r_p + s.il6_sil6r_sgp130_p) * p.MW_il6,
            "serum IL-6 as measured (free plus soluble-complex IL-6)",
            label="IL-6",
        ),
        Output("il6_free", "pg/mL", lambda s, p: s.il6_p * p.MW_il6, "free IL-6 in plasma",
               label="Free IL-6"),
        Output("il6_site", "pg/mL", lambda s, p: s.il6_t * p.MW_il6, "free IL-6 at the site",
               label="IL-6 at the site"),
        Output(
            "sil6r_total",
            "ng/mL",
            lambda s, p: soluble_receptor_total(s) * p.MW_sil6r,
            "total soluble IL-6R (free, with IL-6, sgp130 or a drug)",
            label="Soluble IL-6R",
        ),
        Output(
            "sgp130_total",
            "ng/mL",
            lambda s, p: (s.sgp130_p + s.il6_sil6r_sgp130_p) * p.MW_sgp130,
            "total soluble gp130",
            label="Soluble gp130",
        ),
        Output(
            "classic_signal_liver",
            "percent",
            lambda s, p: classic_signal_hepatocytes(s, p),
            "hepatocyte IL-6R occupied by IL-6",
            label="Classic signalling (liver)",
        ),
        Output(
            "classic_signal_leukocytes",
            "percent",
            lambda s, p: classic_signal_leukocytes(s, p),
            "leukocyte IL-6R occupied by IL-6 at the site",
            label="Classic signalling (leukocytes)",
        ),
        Output(
            "trans_signal",
            "percent",
            lambda s, p: trans_signal(s, p),
            "endothelial gp130 engaged by IL-6:sIL-6R",
            label="Trans-signalling",
        ),
    ),
)
