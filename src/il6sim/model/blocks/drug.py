"""A therapeutic antibody against the IL-6 system: PK, target binding and target-mediated clearance.

One drug slot, whose parameters (``drug_*``) come from a drug file
(``il6sim/data/drugs/<name>.yaml``) through :func:`il6sim.pharmacology.drug_parameters`; the
declared defaults are a generic IgG1 that binds nothing. A new antibody is a new data file.

States: ``drug_depot`` (nmol, subcutaneous depot), ``drug_c`` / ``drug_periph`` (nM, central
and peripheral compartments of a two-compartment model) and the complexes (pM, like the
receptors they occupy): ``drug_sil6r_p`` with soluble IL-6R, ``drug_mil6r_hep`` and
``drug_mil6r_leu`` with hepatocyte and leukocyte membrane IL-6R, ``drug_il6_p`` with IL-6
(anti-ligand antibodies such as siltuximab) and ``drug_il6_sil6r_p`` with the IL-6:sIL-6R
complex (trans-signalling blockers such as sgp130Fc).

Mechanism (claims C13–C16):

- anti-IL-6R antibodies compete with IL-6 for free membrane and soluble IL-6R (Mihara M 2005
  Int Immunopharmacol 5:1731), blocking classic and trans-signalling;
- drug-bound membrane receptors are internalised with the drug: target-mediated drug
  disposition, the saturable elimination of the population PK models (Frey N 2010 J Clin
  Pharmacol 50:754; Xu C 2019 Clin Pharmacokinet 58:1455), and receptor-mediated IL-6 uptake
  is lost, so serum IL-6 rises (Nishimoto N 2008 Blood 112:3959);
- drug-bound soluble receptor (and drug-bound IL-6) is cleared like the antibody, days instead
  of hours, so total sIL-6R (and total IL-6) accumulate;
- linear clearance and volumes scale with body weight by allometric exponents from the drug
  file, times patient factors (between-patient variability).

Intravenous doses are given as a bolus into ``drug_c`` (a 1-h infusion is short against the
weeks of PK); subcutaneous doses enter the depot scaled by bioavailability.
"""

from __future__ import annotations

from ..motifs import allometric, mass_action_binding, ratio
from ..spec import Block, DoseRoute, Flux, Output, State


def _weight_factor(p, exponent):
    return allometric(p.body_weight, p.drug_reference_weight, exponent)


def clearance(p):
    """Linear clearance of the drug for this patient (L/d)."""
    return p.drug_CL * p.drug_CL_factor * _weight_factor(p, p.drug_CL_weight_exponent)


def central_volume(p):
    """Central volume of distribution for this patient (L)."""
    return p.drug_V1 * p.drug_V1_factor * _weight_factor(p, p.drug_V_weight_exponent)


def peripheral_volume(p):
    """Peripheral volume of distribution for this patient (L)."""
    return p.drug_V2 * _weight_factor(p, p.drug_V_weight_exponent)


def intercompartmental_clearance(p):
    """Distribution clearance between central and peripheral compartments (L/d)."""
    return p.drug_Q * _weight_factor(p, p.drug_CL_weight_exponent)


def _elimination_rate(p):
    return clearance(p) / central_volume(p)


def _from_central(volume: str):
    """Stoichiometry of ``drug_c`` for a complex formed in ``volume`` (plasma or site)."""
    return lambda p: -getattr(p, volume) / central_volume(p)


def _binding(name, target, complex_, kon, koff, volume, drug_level, description):
    """Reversible drug binding to ``target``; the drug comes from the central compartment."""
    return Flux(
        f"bind_drug_{name}",
        lambda s, p: mass_action_binding(
            getattr(p, kon), drug_level(s, p), getattr(s, target), getattr(p, koff),
            getattr(s, complex_),
        ),
        {complex_: 1, target: -1, "drug_c": _from_central(volume)},
        description,
    )


def _plasma_drug(s, p):
    return s.drug_c


def _site_drug(s, p):
    """Free drug in the site's interstitium: a fixed fraction of plasma (biodistribution)."""
    return p.drug_tissue_fraction * s.drug_c


def _cleared_like_antibody(complex_: str, what: str) -> Flux:
    return Flux(
        f"el_{complex_}",
        lambda s, p: _elimination_rate(p) * getattr(s, complex_),
        {complex_: -1},
        f"elimination of {what} at the antibody's linear clearance",
    )


def _internalised(complex_: str, where: str) -> Flux:
    return Flux(
        f"int_{complex_}",
        lambda s, p: p.kint_il6r_complex * getattr(s, complex_),
        {complex_: -1},
        f"internalisation of drug-bound {where} IL-6R (target-mediated drug disposition)",
    )


def receptor_occupancy_liver(s, p):
    """Fraction of hepatocyte membrane IL-6R bound by the drug."""
    return ratio(s.drug_mil6r_hep, s.mil6r_hep + s.il6_mil6r_hep + s.drug_mil6r_hep)


def receptor_occupancy_leukocytes(s, p):
    """Fraction of leukocyte membrane IL-6R at the site bound by the drug."""
    return ratio(s.drug_mil6r_leu, s.mil6r_leu + s.il6_mil6r_leu + s.drug_mil6r_leu)


def soluble_receptor_total(s):
    """Total soluble IL-6R in plasma: free, bound to IL-6, sgp130 or the drug (pM)."""
    return (
        s.sil6r_p + s.il6_sil6r_p + s.il6_sil6r_sgp130_p + s.drug_sil6r_p + s.drug_il6_sil6r_p
    )


BLOCK = Block(
    name="drug",
    states=(
        State("drug_depot", "nmol", "sc_depot", "antibody in the subcutaneous depot", 0.0),
        State("drug_c", "nM", "drug_central", "free antibody, central compartment", 0.0),
        State("drug_periph", "nM", "drug_peripheral", "antibody, peripheral compartment", 0.0),
        State("drug_sil6r_p", "pM", "plasma", "antibody bound to soluble IL-6R", 0.0),
        State("drug_mil6r_hep", "pM", "plasma", "antibody bound to hepatocyte IL-6R", 0.0),
        State("drug_mil6r_leu", "pM", "tissue", "antibody bound to leukocyte IL-6R", 0.0),
        State("drug_il6_p", "pM", "plasma", "antibody bound to IL-6 (anti-ligand)", 0.0),
        State("drug_il6_sil6r_p", "pM", "plasma", "antibody bound to IL-6:sIL-6R", 0.0),
    ),
    fluxes=(
        # ---- pharmacokinetics ------------------------------------------------------------
        Flux(
            "abs_drug",
            lambda s, p: p.drug_ka * s.drug_depot,
            {"drug_depot": -1, "drug_c": lambda p: 1 / central_volume(p)},
            "first-order absorption from the subcutaneous depot",
        ),
        Flux(
            "el_drug",
            lambda s, p: _elimination_rate(p) * s.drug_c,
            {"drug_c": -1},
            "linear (FcRn-protected catabolic) clearance of the antibody",
        ),
        Flux(
            "dist_drug_cp",
            lambda s, p: intercompartmental_clearance(p) / central_volume(p) * s.drug_c,
            {"drug_c": -1, "drug_periph": lambda p: central_volume(p) / peripheral_volume(p)},
            "distribution from central to peripheral compartment",
        ),
        Flux(
            "dist_drug_pc",
            lambda s, p: intercompartmental_clearance(p) / peripheral_volume(p) * s.drug_periph,
            {"drug_periph": -1, "drug_c": lambda p: peripheral_volume(p) / central_volume(p)},
            "return from peripheral to central compartment",
        ),
        # ---- anti-IL-6R: soluble and membrane receptors -----------------------------------
        _binding("sil6r", "sil6r_p", "drug_sil6r_p", "drug_kon_il6r", "drug_koff_il6r",
                 "V_plasma", _plasma_drug, "antibody binding soluble IL-6R"),
        _cleared_like_antibody("drug_sil6r_p", "antibody:sIL-6R"),
        _binding("mil6r_hep", "mil6r_hep", "drug_mil6r_hep", "drug_kon_il6r", "drug_koff_il6r",
                 "V_plasma", _plasma_drug, "antibody binding hepatocyte IL-6R"),
        _internalised("drug_mil6r_hep", "hepatocyte"),
        _binding("mil6r_leu", "mil6r_leu", "drug_mil6r_leu", "drug_kon_il6r", "drug_koff_il6r",
                 "V_tissue", _site_drug, "antibody binding leukocyte IL-6R at the site"),
        _internalised("drug_mil6r_leu", "leukocyte"),
        # ---- anti-IL-6 and anti-IL-6:sIL-6R -----------------------------------------------
        _binding("il6", "il6_p", "drug_il6_p", "drug_kon_il6", "drug_koff_il6",
                 "V_plasma", _plasma_drug, "antibody binding IL-6 in plasma"),
        _cleared_like_antibody("drug_il6_p", "antibody:IL-6"),
        _binding("il6_sil6r", "il6_sil6r_p", "drug_il6_sil6r_p", "drug_kon_il6_sil6r",
                 "drug_koff_il6_sil6r", "V_plasma", _plasma_drug,
                 "trans-signalling blocker binding IL-6:sIL-6R"),
        _cleared_like_antibody("drug_il6_sil6r_p", "blocker:IL-6:sIL-6R"),
    ),
    outputs=(
        Output("drug_conc", "ug/mL", lambda s, p: s.drug_c * p.drug_MW,
               "free antibody concentration in serum", label="Free drug (serum)"),
        Output("drug_occupancy", "percent", receptor_occupancy_liver,
               "hepatocyte membrane IL-6R occupied by the antibody",
               label="IL-6R occupied by drug (liver)"),
        Output("drug_occupancy_leukocytes", "percent", receptor_occupancy_leukocytes,
               "leukocyte membrane IL-6R at the site occupied by the antibody",
               label="IL-6R occupied by drug (leukocytes)"),
        Output(
            "drug_occupancy_sil6r",
            "percent",
            lambda s, p: ratio(s.drug_sil6r_p, soluble_receptor_total(s)),
            "soluble IL-6R bound by the antibody",
            label="Soluble IL-6R bound by drug",
        ),
        Output(
            "il6_total",
            "pg/mL",
            lambda s, p: (
                s.il6_p + s.il6_sil6r_p + s.il6_sil6r_sgp130_p + s.drug_il6_p
                + s.drug_il6_sil6r_p
            ) * p.MW_il6,
            "total serum IL-6, including IL-6 bound by the drug",
            label="Total IL-6 (incl. drug-bound)",
        ),
    ),
    routes=(
        DoseRoute(
            "drug", "iv", "mg", "drug_c",
            lambda amount, p: amount / (p.drug_MW * central_volume(p)),
            "intravenous antibody dose (infusion treated as a bolus)",
        ),
        DoseRoute(
            "drug", "sc", "mg", "drug_depot",
            lambda amount, p: p.drug_F_sc * amount / p.drug_MW,
            "subcutaneous antibody dose, scaled by bioavailability",
        ),
    ),
)
