"""The engine: equilibrate and simulate batches of patients; results that save and reload."""

from .api import Equilibrium, equilibrate, parameter_matrix, simulate
from .doses import Dose, dose_table
from .results import SimulationResult

__all__ = [
    "Dose",
    "Equilibrium",
    "SimulationResult",
    "dose_table",
    "equilibrate",
    "parameter_matrix",
    "simulate",
]
