"""From a drug file to the model's drug slot, and from drug-named doses to the engine's route.

The model has one antibody slot (:mod:`il6sim.model.blocks.drug`). :func:`drug_parameters` turns
a drug file into values of the slot's ``drug_*`` parameters; :func:`apply_drug_doses` lets a
dose table name the drug (``agent: tocilizumab``) and sets those parameters for every patient
who receives it.

The association rate of an anti-IL-6R antibody is derived from its population-PK Michaelis
constant: receptor-mediated elimination at quasi-steady state has
``Km = KD + kint / kon`` (Mager DE, Jusko WJ 2001 J Pharmacokinet Pharmacodyn 28:507; Gibiansky L
2008 J Pharmacokinet Pharmacodyn 35:573), with ``kint`` the model's internalisation rate of bound
IL-6R, so ``kon = kint / (Km - KD)``. Its Vmax then follows from the model's receptor turnover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import Model
from ..model.units import ureg
from ._drugs import Drug, drug_names, load_drug

#: Slot parameters set from the binding section, per target.
_BINDING_PARAMETERS = {
    "il6r": ("drug_kon_il6r", "drug_koff_il6r"),
    "il6": ("drug_kon_il6", "drug_koff_il6"),
    "il6_sil6r": ("drug_kon_il6_sil6r", "drug_koff_il6_sil6r"),
}
#: Slot parameters read directly from the drug file: slot name -> (section, key).
_PK_PARAMETERS = {
    "drug_CL": ("pk", "CL"),
    "drug_V1": ("pk", "V1"),
    "drug_Q": ("pk", "Q"),
    "drug_V2": ("pk", "V2"),
    "drug_CL_weight_exponent": ("covariates", "CL_weight_exponent"),
    "drug_V_weight_exponent": ("covariates", "V_weight_exponent"),
}
#: Agent name of the model's drug slot.
SLOT_AGENT = "drug"


def association_rate(drug: Drug, model: Model) -> float:
    """``kon`` (1/nM/h) from the file, or derived from the popPK ``Km`` (see module docstring)."""
    if "kon" in drug.binding:
        return float(drug.binding["kon"].quantity().to("1/nM/h").magnitude)
    kd = drug.binding["KD"].quantity().to("nM").magnitude
    mw = drug.molar_mass()
    km = (drug.pk["Km"].quantity() / ureg.Quantity(mw, "g/mol")).to("nM").magnitude
    declared = model.parameter("kint_il6r_complex")
    kint = ureg.Quantity(declared.value, declared.unit).to("1/h").magnitude
    if km <= kd:
        raise InputError(
            f"drug '{drug.name}': pk.Km ({km:.3g} nM) must exceed binding.KD ({kd:.3g} nM) to "
            "derive kon; fix: give binding.kon"
        )
    return kint / (km - kd)


def drug_parameters(drug: str | Drug, model: Model) -> dict[str, float]:
    """Values of the model's ``drug_*`` parameters (in their declared units) for ``drug``."""
    drug = load_drug(drug) if isinstance(drug, str) else drug
    values: dict[str, float] = {}

    def declared(name: str, quantity) -> float:
        return float(quantity.to(model.parameter(name).unit).magnitude)

    values["drug_MW"] = declared("drug_MW", ureg.Quantity(drug.molar_mass(), "g/mol"))
    for slot, (section, key) in _PK_PARAMETERS.items():
        entries = getattr(drug, section)
        if key in entries:
            values[slot] = declared(slot, entries[key].quantity())
    if "sc" in drug.routes:
        sc = drug.routes["sc"]
        values["drug_F_sc"] = sc.bioavailability
        if sc.ka is not None:
            values["drug_ka"] = declared("drug_ka", ureg.Quantity(sc.ka))
    kon = association_rate(drug, model)
    kd = float(drug.binding["KD"].quantity().to("nM").magnitude)
    for target, (kon_name, koff_name) in _BINDING_PARAMETERS.items():
        values[kon_name] = kon if target == drug.target else 0.0
        values[koff_name] = kon * kd if target == drug.target else 1.0
    return values


def apply_drug_doses(
    model: Model, matrix: np.ndarray, doses: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """Set the drug slot for each patient dosed with a named drug; route those doses to the slot.

    Returns a copy of ``matrix`` with the drug's parameters in every receiving patient's row
    and a copy of ``doses`` whose drug rows use the slot agent. A patient may receive one drug
    per simulation (the model has one slot).
    """
    drugs = drug_names()
    named = doses[doses.agent.isin(drugs)]
    if named.empty:
        return matrix, doses
    matrix = matrix.copy()
    given: dict[int, str] = {}
    for row in named.itertuples():
        drug = load_drug(row.agent)
        drug.check_route(row.route)
        patients = range(len(matrix)) if row.patient == -1 else [row.patient]
        for patient in patients:
            if given.setdefault(patient, row.agent) != row.agent:
                raise InputError(
                    f"patient {patient} is dosed with {given[patient]} and {row.agent}; fix: give "
                    "one antibody per patient and simulation"
                )
    for name in set(given.values()):
        rows = [i for i, d in given.items() if d == name]
        for parameter, value in drug_parameters(name, model).items():
            matrix[rows, model.param_index[parameter]] = value
    routed = doses.copy()
    routed.loc[routed.agent.isin(drugs), "agent"] = SLOT_AGENT
    return matrix, routed
