"""Signals shared between blocks: receptor occupancies and the innate danger signal.

Each function takes the state (``s``) and parameter (``p``) namespaces and returns a
dimensionless quantity, so a block can use a signal another block produces without repeating
its definition.
"""

from __future__ import annotations

from ..motifs import ratio


def classic_signal_hepatocytes(s, p):
    """Fraction of hepatocyte membrane IL-6R bound by IL-6 (classic signalling, liver)."""
    return ratio(s.il6_mil6r_hep, s.mil6r_hep + s.il6_mil6r_hep)


def classic_signal_leukocytes(s, p):
    """Fraction of leukocyte membrane IL-6R at the site bound by IL-6 (classic signalling)."""
    return ratio(s.il6_mil6r_leu, s.mil6r_leu + s.il6_mil6r_leu)


def trans_signal(s, p):
    """Fraction of endothelial gp130 engaged by IL-6:sIL-6R complexes (trans-signalling)."""
    return ratio(s.il6_sil6r_gp130_endo, s.gp130_endo + s.il6_sil6r_gp130_endo)


def danger_signal(s, p):
    """Pathogen patterns sensed by macrophages at the site (pg/mL LPS-equivalent)."""
    return s.lps_t
