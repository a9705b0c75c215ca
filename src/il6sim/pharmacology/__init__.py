"""IL-6 blockade and standard of care as data: drug definitions and dosing regimens.

Each drug is a YAML file in ``il6sim/data/drugs``. An antibody's file (``kind: antibody``, the
default) gives its target, molecular weight, binding constants, two-compartment PK with
target-mediated elimination, routes with bioavailability and absorption, covariates and label
regimens; a glucocorticoid's file (``kind: glucocorticoid``) gives its PK, oral absorption and
potency (EC50); an antiviral's file (``kind: antiviral``) gives the PK of its circulating
nucleoside and its inhibition of virion production (EC50, Emax). Each value has its source.
A regimen may start with a loading dose (``loading``). Adding a drug of a known kind is a new
file, not new code. :func:`expand_regimen` turns a named label regimen or a custom schedule into
dose events (a table the engine reads).

A dose table may name the drug (``agent: tocilizumab``): the engine calls
:func:`apply_drug_doses`, which sets the slot of the drug's kind (:mod:`il6sim.model.blocks.drug`,
:mod:`il6sim.model.blocks.glucocorticoid` or :mod:`il6sim.model.blocks.antiviral`) from the drug
file for every patient who receives it (:func:`drug_parameters`).
"""

from ._binding import (
    SLOT_AGENT,
    apply_drug_doses,
    association_rate,
    drug_parameters,
    slot_agent,
)
from ._drugs import TARGETS, Drug, drug_names, list_drugs, load_drug
from ._regimens import Regimen, expand_regimen, label_regimens
from ._validation import load_pk_targets, pk_markdown, pk_table

__all__ = [
    "SLOT_AGENT",
    "TARGETS",
    "Drug",
    "Regimen",
    "apply_drug_doses",
    "association_rate",
    "drug_names",
    "drug_parameters",
    "expand_regimen",
    "label_regimens",
    "list_drugs",
    "load_drug",
    "load_pk_targets",
    "pk_markdown",
    "pk_table",
    "slot_agent",
]
