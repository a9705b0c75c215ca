"""IL-6 blockade as data: drug definitions and dosing regimens.

Each antibody is a YAML file in ``il6sim/data/drugs`` (target, molecular weight, binding
constants, two-compartment PK with target-mediated elimination, routes with bioavailability and
absorption, covariates, label regimens, each value with its source). Adding an antibody is a new
file, not new code. :func:`expand_regimen` turns a named label regimen or a custom schedule into
dose events (a table the engine reads).

The PK/PD blocks that let these doses act in the model (drug binding to membrane and soluble
IL-6R, or to IL-6) are the next step of the IL-6 blockade work; today a regimen expands to a
validated dose table.
"""

from ._drugs import Drug, list_drugs, load_drug
from ._regimens import Regimen, expand_regimen, label_regimens

__all__ = ["Drug", "Regimen", "expand_regimen", "label_regimens", "list_drugs", "load_drug"]
