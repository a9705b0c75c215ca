"""Scenarios: a YAML description of one simulated experiment, and the built-in presets.

A scenario names a patient (parameter overrides), knockouts, doses, a duration and a sampling
interval, the read-outs to show and optionally a target set to overlay::

    name: endotoxemia-2ngkg
    description: Human experimental endotoxemia, 2 ng/kg LPS IV bolus (Copeland 2005).
    knockouts: []              # il6, tnf, il1b, il10, ifn, classic_signalling, trans_signalling
    patient:                   # a number in the declared unit, or text with a unit
      body_weight: 70 kg
    doses:
      - {time: 0 h, agent: lps, route: iv, amount: 2 ng/kg}
    duration: 48 h
    sampling: 0.25 h
    outputs: [il6, tnf, il10, crp]
    targets: endotoxemia

Load one with :func:`load_scenario` (a path or a preset name) and run it with
:meth:`Scenario.run`. Any invalid field is an :class:`~il6sim.errors.InputError` whose one-line
message names the file, the field and the fix.
"""

from ._load import SETTABLE_KEYS, Scenario, list_presets, load_scenario, read_yaml
from ._pathogens import list_pathogens, pathogen_parameters
from ._schema import DEFAULT_OUTPUTS, DoseSpec, ScenarioSpec, knockout_switches

__all__ = [
    "DEFAULT_OUTPUTS", "SETTABLE_KEYS", "DoseSpec", "Scenario", "ScenarioSpec",
    "knockout_switches", "list_pathogens", "list_presets", "load_scenario",
    "pathogen_parameters", "read_yaml",
]
