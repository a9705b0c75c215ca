"""A direct-acting antiviral (remdesivir by default): PK of the circulating nucleoside and the
fraction of virion production it blocks.

One antiviral slot, separate from the antibody slot (:mod:`.drug`) and the glucocorticoid slot
(:mod:`.glucocorticoid`), so a patient can receive remdesivir, dexamethasone and tocilizumab
together. Its parameters (``av_*``) come from a drug file of kind ``antiviral``
(``il6sim/data/drugs/remdesivir.yaml``) through :func:`il6sim.pharmacology.drug_parameters`.

States: ``av_prodrug`` (nmol), the infused prodrug in the body, and ``av_c`` (nM), the
circulating nucleoside that carries the effect. Remdesivir is a phosphoramidate prodrug with a
plasma half-life of about 1 h; it is hydrolysed in cells to the alanine metabolite GS-704277
and on to the nucleoside monophosphate, which is either phosphorylated to the active
triphosphate GS-443902 or dephosphorylated to the nucleoside GS-441524, the main circulating
metabolite (half-life about 27 h, cleared by the kidney; Humeniuk R 2020 Clin Transl Sci
13:896; Veklury US prescribing information section 12.3). A fraction ``av_f_metabolite`` of
each dose reaches plasma as GS-441524 (49 % of a dose is recovered in urine as GS-441524), at
the prodrug's conversion rate.

Effect: the fraction of virion production blocked, ``epsilon = Emax·C/(C + EC50)`` with ``C``
the plasma GS-441524 concentration, multiplies ``produce_virus`` in :mod:`.virus` as
``1 - epsilon`` (1 without drug). GS-441524 is the precursor of the intracellular triphosphate
in lung cells and stands in for it (a second phosphorylation route from the prodrug itself is
folded into the apparent EC50). The target-cell-limited models of SARS-CoV-2 place a
polymerase inhibitor's effect on virion production (Goncalves A 2020 CPT Pharmacometrics Syst
Pharmacol 9:509), and a model of the viral loads of the DisCoVeRy trial estimated that
remdesivir lowered production about 2-fold in hospitalised patients (Lingas G 2022 J
Antimicrob Chemother 77:1404): the drug file's EC50 is calibrated to that.

Assumptions: one compartment for GS-441524 (its distribution phase is short against the dosing
interval); clearance and volume scale with body weight (allometric exponent); renal function,
which raises GS-441524 exposure, is not a covariate; infusions are given as boluses (30-120 min
against a day).
"""

from __future__ import annotations

from ..motifs import allometric
from ..spec import Block, DoseRoute, Flux, Output, State
from ._signals import antiviral_inhibition


def _weight_factor(p):
    return allometric(p.body_weight, p.av_reference_weight, p.av_weight_exponent)


def clearance(p):
    """Clearance of the circulating nucleoside for this patient (L/h)."""
    return p.av_CL * _weight_factor(p)


def volume(p):
    """Volume of distribution of the circulating nucleoside for this patient (L)."""
    return p.av_V * _weight_factor(p)


BLOCK = Block(
    name="antiviral",
    states=(
        State("av_prodrug", "nmol", "av_body", "antiviral prodrug in the body (remdesivir)", 0.0),
        State("av_c", "nM", "av_central",
              "circulating antiviral nucleoside in plasma (GS-441524)", 0.0),
    ),
    fluxes=(
        Flux(
            "activate_av",
            lambda s, p: p.av_k_activation * s.av_prodrug,
            {"av_prodrug": -1, "av_c": lambda p: p.av_f_metabolite / volume(p)},
            "intracellular conversion of the prodrug; a fraction reaches plasma as the nucleoside",
        ),
        Flux(
            "el_av",
            lambda s, p: clearance(p) / volume(p) * s.av_c,
            {"av_c": -1},
            "renal elimination of the circulating nucleoside",
        ),
    ),
    outputs=(
        Output("antiviral_conc", "ng/mL", lambda s, p: s.av_c * p.av_MW,
               "circulating antiviral nucleoside in plasma (GS-441524)",
               label="Antiviral nucleoside (plasma)"),
        Output("antiviral_inhibition", "percent", antiviral_inhibition,
               "virion production blocked by the antiviral",
               label="Virion production blocked"),
    ),
    routes=(
        DoseRoute(
            "antiviral", "iv", "mg", "av_prodrug",
            lambda amount, p: amount / p.av_MW_prodrug,
            "intravenous antiviral prodrug (infusion treated as a bolus)",
        ),
    ),
)
