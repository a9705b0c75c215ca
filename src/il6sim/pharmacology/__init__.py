"""IL-6 blockade as data: drug definitions and dosing regimens.

Each antibody is a YAML file in ``il6sim/data/drugs`` (target, molecular weight, binding
constants, two-compartment PK with target-mediated elimination, routes with bioavailability and
absorption, covariates, label regimens, each value with its source). Adding an antibody is a new
file, not new code. :func:`expand_regimen` turns a named label regimen or a custom schedule into
dose events (a table the engine reads).

A dose table may name the drug (``agent: tocilizumab``): the engine calls
:func:`apply_drug_doses`, which sets the model's drug slot (:mod:`il6sim.model.blocks.drug`)
from the drug file for every patient who receives it (:func:`drug_parameters`).
"""

from ._binding import SLOT_AGENT, apply_drug_doses, association_rate, drug_parameters
from ._drugs import TARGETS, Drug, drug_names, list_drugs, load_drug
from ._regimens import Regimen, expand_regimen, label_regimens
from ._validation import load_pk_targets, pk_table

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
    "pk_table",
]
