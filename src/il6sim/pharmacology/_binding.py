"""From a drug file to the model's drug slots, and from drug-named doses to the engine's routes.

The model has one slot per kind of drug: an antibody slot (:mod:`il6sim.model.blocks.drug`),
a glucocorticoid slot (:mod:`il6sim.model.blocks.glucocorticoid`) and an antiviral slot
(:mod:`il6sim.model.blocks.antiviral`), so a patient can receive one drug of each kind
together. :func:`drug_parameters` turns a drug file into values of its slot's parameters
(``drug_*``, ``gc_*`` or ``av_*``); :func:`apply_drug_doses` lets a dose table name the drug
(``agent: tocilizumab``, ``agent: dexamethasone``, ``agent: remdesivir``) and sets those
parameters for every patient who receives it.

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
#: Glucocorticoid slot parameters read from the drug file: slot name -> (section, key).
_GLUCOCORTICOID_PARAMETERS = {
    "gc_CL": ("pk", "CL"),
    "gc_V1": ("pk", "V1"),
    "gc_Q": ("pk", "Q"),
    "gc_V2": ("pk", "V2"),
    "gc_EC50": ("binding", "EC50"),
}
#: Antiviral slot parameters read from the drug file: slot name -> (section, key).
_ANTIVIRAL_PARAMETERS = {
    "av_MW": ("pk", "metabolite_molecular_weight"),
    "av_f_metabolite": ("pk", "fraction_metabolised"),
    "av_k_activation": ("pk", "k_activation"),
    "av_CL": ("pk", "CL"),
    "av_V": ("pk", "V"),
    "av_EC50": ("binding", "EC50"),
    "av_emax": ("binding", "Emax"),
}
#: Agent name of the model's antibody slot.
SLOT_AGENT = "drug"
#: Agent name of each kind's slot in the model's dose routes.
SLOT_AGENTS = {"antibody": SLOT_AGENT, "glucocorticoid": "glucocorticoid", "antiviral": "antiviral"}


def slot_agent(drug: str | Drug) -> str:
    """The model's dose agent for ``drug`` (the slot of its kind)."""
    drug = load_drug(drug) if isinstance(drug, str) else drug
    return SLOT_AGENTS[drug.kind]


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
    """Values of the slot parameters of ``drug``'s kind (``drug_*``, ``gc_*`` or ``av_*``, in
    their declared units)."""
    drug = load_drug(drug) if isinstance(drug, str) else drug
    values: dict[str, float] = {}

    def declared(name: str, quantity) -> float:
        return float(quantity.to(model.parameter(name).unit).magnitude)

    def from_file(molar_mass_slot: str, mapping: dict[str, tuple[str, str]]) -> None:
        weight = ureg.Quantity(drug.molar_mass(), "g/mol")
        values[molar_mass_slot] = declared(molar_mass_slot, weight)
        for slot, (section, key) in mapping.items():
            entries = getattr(drug, section)
            if key in entries:
                values[slot] = declared(slot, entries[key].quantity())

    if drug.kind == "antiviral":
        from_file("av_MW_prodrug", _ANTIVIRAL_PARAMETERS)
        return values
    if drug.kind == "glucocorticoid":
        from_file("gc_MW", _GLUCOCORTICOID_PARAMETERS)
        if "oral" in drug.routes:
            oral = drug.routes["oral"]
            values["gc_F_oral"] = oral.bioavailability
            if oral.ka is not None:
                values["gc_ka"] = declared("gc_ka", ureg.Quantity(oral.ka))
        return values

    from_file("drug_MW", _PK_PARAMETERS)
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
    """Set the drug slots for each patient dosed with a named drug; route those doses to the slots.

    Returns a copy of ``matrix`` with the drug's parameters in every receiving patient's row
    and a copy of ``doses`` whose drug rows use their slot's agent. A patient may receive one
    drug of each kind per simulation (one antibody, one glucocorticoid and one antiviral: the
    model has one slot of each).
    """
    drugs = drug_names()
    named = doses[doses.agent.isin(drugs)]
    if named.empty:
        return matrix, doses
    matrix = matrix.copy()
    given: dict[tuple[int, str], str] = {}
    for row in named.itertuples():
        drug = load_drug(row.agent)
        drug.check_route(row.route)
        patients = range(len(matrix)) if row.patient == -1 else [row.patient]
        for patient in patients:
            earlier = given.setdefault((patient, drug.kind), row.agent)
            if earlier != row.agent:
                raise InputError(
                    f"patient {patient} is dosed with {earlier} and {row.agent}; fix: give "
                    f"one {drug.kind} per patient and simulation"
                )
    for name in set(given.values()):
        rows = [patient for (patient, _), d in given.items() if d == name]
        for parameter, value in drug_parameters(name, model).items():
            matrix[rows, model.param_index[parameter]] = value
    routed = doses.copy()
    for name in set(routed.agent) & drugs:
        routed.loc[routed.agent == name, "agent"] = slot_agent(name)
    return matrix, routed
