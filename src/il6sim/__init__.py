"""il6sim: a computable model of the interleukin-6 system in infection.

The public API is small; everything is imported on first use::

    import il6sim
    result = il6sim.load_scenario("endotoxemia-2ngkg").run()
    il6sim.plot_result(result, ["il6", "crp"], "endotoxemia.png")

=====================  ================================================================
``simulate``           simulate a batch of patients with dose events
``equilibrate``        each patient's healthy steady state
``Dose``               one dose event (time, agent, amount, route, unit)
``SimulationResult``   trajectories in clinical units; ``save``/``load`` (.parquet, .nc)
``default_model``      the built model (states, parameters, fluxes, outputs, routes)
``load_scenario``      a scenario from a YAML file or a preset name
``list_presets``       the built-in scenarios
``plot_result``        one panel per read-out, with optional target overlays
=====================  ================================================================
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("il6sim")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

_EXPORTS = {
    "simulate": "il6sim.engine",
    "equilibrate": "il6sim.engine",
    "Dose": "il6sim.engine",
    "SimulationResult": "il6sim.engine",
    "default_model": "il6sim.model",
    "load_scenario": "il6sim.scenario",
    "list_presets": "il6sim.scenario",
    "plot_result": "il6sim.plotting",
}

__all__ = [*sorted(_EXPORTS), "__version__"]

if TYPE_CHECKING:
    from .engine import Dose as Dose
    from .engine import SimulationResult as SimulationResult
    from .engine import equilibrate as equilibrate
    from .engine import simulate as simulate
    from .model import default_model as default_model
    from .plotting import plot_result as plot_result
    from .scenario import list_presets as list_presets
    from .scenario import load_scenario as load_scenario


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'il6sim' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
