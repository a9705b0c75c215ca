"""Interoperability: the il6sim model as SBML, checked by an independent simulator.

``export_sbml`` writes one patient (parameters, resting state, doses) as SBML Level 3 Version 2;
``export_scenario_sbml`` does so for a scenario; ``simulate_sbml_roadrunner`` simulates an SBML
document with libroadrunner; ``check_sbml`` runs libsbml's consistency checks.
"""

from .sbml import check_sbml, export_sbml, export_scenario_sbml, output_id

__all__ = [
    "check_sbml",
    "export_sbml",
    "export_scenario_sbml",
    "output_id",
    "simulate_sbml_roadrunner",
]


def __getattr__(name: str):
    if name == "simulate_sbml_roadrunner":
        from ._roadrunner import simulate_sbml_roadrunner

        return simulate_sbml_roadrunner
    raise AttributeError(f"module 'il6sim.interop' has no attribute '{name}'")
