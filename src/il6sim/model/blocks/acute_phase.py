"""Hepatic acute-phase response: STAT3-like activation with SOCS3-like feedback, CRP and fibrinogen.

States: ``stat3_hep`` (active fraction, 0–1), ``socs3_hep`` (relative level), ``apr_drive``
(acute-phase transcription, 0–1), ``crp`` (mg/L), ``fibrinogen`` (g/L).

IL-6 classic signalling on hepatocytes activates STAT3, which induces SOCS3 (negative
feedback on STAT3 activation: Croker BA 2003 Nat Immunol 4:540) and acute-phase gene
transcription; CRP and fibrinogen are synthesised in proportion and cleared with fixed
half-lives, so their levels are set by synthesis (CRP t½ 19 h: Vigushin DM 1993 J Clin Invest
91:1351; fibrinogen t½ 3–5 d: Collen D 1972 Eur J Clin Invest 2:19). Without IL-6 signalling
there is no acute-phase rise (claim C03; Kopf M 1994 Nature 368:339, IL-6-deficient mice).
"""

from __future__ import annotations

from ..motifs import hill, inhibition
from ..spec import Block, Flux, Output, State
from ._signals import classic_signal_hepatocytes

BLOCK = Block(
    name="acute_phase",
    states=(
        State(
            "stat3_hep", "dimensionless", "plasma", "active STAT3 in hepatocytes (fraction)", 0.01
        ),
        State("socs3_hep", "dimensionless", "plasma", "SOCS3 in hepatocytes (relative)", 0.01),
        State(
            "apr_drive", "dimensionless", "plasma", "acute-phase transcription drive (0–1)", 0.01
        ),
        State("crp", "mg/L", "plasma", "C-reactive protein", 1.0),
        State("fibrinogen", "g/L", "plasma", "fibrinogen", 3.0),
    ),
    fluxes=(
        Flux(
            "act_stat3",
            lambda s, p: (
                p.k_stat3_act
                * hill(classic_signal_hepatocytes(s, p), p.K_stat3_il6)
                * (1 - s.stat3_hep)
                * inhibition(s.socs3_hep, p.K_socs3_feedback)
            ),
            {"stat3_hep": 1},
            "STAT3 activation by IL-6 classic signalling, damped by SOCS3",
        ),
        Flux(
            "deact_stat3",
            lambda s, p: p.k_stat3_deact * s.stat3_hep,
            {"stat3_hep": -1},
            "STAT3 dephosphorylation",
        ),
        Flux(
            "syn_socs3",
            lambda s, p: p.k_socs3 * s.stat3_hep,
            {"socs3_hep": 1},
            "SOCS3 induction by STAT3",
        ),
        Flux(
            "deg_socs3", lambda s, p: p.k_socs3 * s.socs3_hep, {"socs3_hep": -1}, "SOCS3 turnover"
        ),
        Flux(
            "rise_apr",
            lambda s, p: p.k_apr * s.stat3_hep,
            {"apr_drive": 1},
            "acute-phase gene transcription following STAT3",
        ),
        Flux(
            "fall_apr",
            lambda s, p: p.k_apr * s.apr_drive,
            {"apr_drive": -1},
            "decay of acute-phase transcription",
        ),
        Flux(
            "syn_crp",
            lambda s, p: p.r_crp_basal + p.r_crp_max * hill(s.apr_drive, p.K_apr_crp),
            {"crp": 1},
            "hepatic CRP synthesis (basal plus STAT3-driven)",
        ),
        Flux("deg_crp", lambda s, p: p.k_deg_crp * s.crp, {"crp": -1}, "CRP catabolism, t½ 19 h"),
        Flux(
            "syn_fibrinogen",
            lambda s, p: (
                p.r_fib_basal * (1 + (p.max_fold_fib - 1) * hill(s.apr_drive, p.K_apr_fib))
            ),
            {"fibrinogen": 1},
            "hepatic fibrinogen synthesis",
        ),
        Flux(
            "deg_fibrinogen",
            lambda s, p: p.k_deg_fib * s.fibrinogen,
            {"fibrinogen": -1},
            "fibrinogen catabolism",
        ),
    ),
    outputs=(
        Output("crp", "mg/L", lambda s, p: s.crp, "C-reactive protein", label="CRP"),
        Output("fibrinogen", "g/L", lambda s, p: s.fibrinogen, "fibrinogen", label="Fibrinogen"),
        Output("stat3", "percent", lambda s, p: s.stat3_hep, "hepatocyte STAT3 activity",
               label="Hepatocyte STAT3"),
    ),
)
