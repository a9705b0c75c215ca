"""Signals shared between blocks: receptor occupancies and the innate danger signal.

Each function takes the state (``s``) and parameter (``p``) namespaces and returns a
dimensionless quantity, so a block can use a signal another block produces without repeating
its definition.
"""

from __future__ import annotations

from ..motifs import ratio


def classic_signal_hepatocytes(s, p):
    """Fraction of hepatocyte membrane IL-6R bound by IL-6 (classic signalling, liver); receptors
    held by an anti-IL-6R drug count in the total but cannot signal."""
    return ratio(s.il6_mil6r_hep, s.mil6r_hep + s.il6_mil6r_hep + s.drug_mil6r_hep)


def classic_signal_leukocytes(s, p):
    """Fraction of leukocyte membrane IL-6R at the site bound by IL-6 (classic signalling);
    drug-held receptors count in the total."""
    return ratio(s.il6_mil6r_leu, s.mil6r_leu + s.il6_mil6r_leu + s.drug_mil6r_leu)


def trans_signal(s, p):
    """Fraction of endothelial gp130 engaged by IL-6:sIL-6R complexes (trans-signalling)."""
    return ratio(s.il6_sil6r_gp130_endo, s.gp130_endo + s.il6_sil6r_gp130_endo)


def danger_signal(s, p):
    """Pathogen and damage patterns sensed by the innate pool (pg/mL LPS-equivalent).

    Endotoxin at the site, bacteria (at the site and in blood, sensed by tissue macrophages and
    blood monocytes alike), infected cells (viral RNA) and injured lung (damage-associated
    patterns such as HMGB1 and histones, which sustain inflammation after the pathogen wanes:
    Chen GY, Nunez G 2010 Nat Rev Immunol 10:826) and immune complexes of specific IgG with
    infected cells, which activate alveolar macrophages through Fc-gamma receptors when the
    antibody response arrives while antigen remains (Hoepel W 2021 Sci Transl Med
    13:eabf8654): the adaptive response itself drives the second-week hyperinflammation.
    """
    return (
        s.lps_t
        + p.pamp_per_cfu * (s.bac_t + s.bac_b)
        + p.pamp_per_infected_cell * (s.vir_eclipse + s.vir_infected)
        + p.damp_per_lung_injury * s.lung_injury
        + p.pamp_per_immune_complex * s.antibody * (s.vir_eclipse + s.vir_infected)
    )


def glucocorticoid_restraint(s, p, imax):
    """Multiplier of a process that the glucocorticoid-receptor response inhibits with maximal
    effect ``imax`` (:mod:`.glucocorticoid`): 1 without steroid, ``1 - imax`` at full response."""
    return 1 - imax * s.gc_response


def antiviral_inhibition(s, p):
    """Fraction of virion production blocked by the antiviral (:mod:`.antiviral`),
    ``Emax·C/(C + EC50)`` with ``C`` the plasma nucleoside: 0 without drug."""
    return p.av_emax * ratio(s.av_c, s.av_c + p.av_EC50)


def antigen_load(s, p):
    """Antigen available to lymphocytes at the site, in units of its half-maximal load."""
    return (
        s.bac_t / p.K_antigen_bacteria
        + (s.vir_eclipse + s.vir_infected) / p.K_antigen_infected_cells
    ).to("dimensionless")
