"""Machine-readable calibration targets and their evaluation on simulated scenarios.

Targets live in ``il6sim/data/targets/<name>.yaml``; each names a read-out, the scenario it is
measured in (``rest``, ``lps_<dose>ngkg``), a statistic and an accepted range with its source.
The calibration script fits parameters to the range centres; the tests check every range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import yaml

from ..engine import Dose, SimulationResult, simulate
from ..errors import InputError
from ..limits import data_name_problem

#: Hours in a day (the spacing of daily challenges).
DAY_H = 24.0

STATISTICS = (
    "rest",
    "last_day_attenuation",
    "peak",
    "time_of_peak",
    "trough",
    "time_of_trough",
    "value_at",
    "fraction_of_peak_at",
    "fold_over_rest_at",
    "peak_fold_over_control",
)

#: knock-out name → the switch parameter set to 0
KNOCKOUT_SWITCHES = {
    "il6": "switch_il6",
    "tnf": "switch_tnf",
    "il1b": "switch_il1b",
    "il10": "switch_il10",
    "ifn": "switch_ifn",
    "classic_signalling": "switch_classic_signalling",
    "trans_signalling": "switch_trans_signalling",
}


@dataclass(frozen=True)
class Target:
    """One published figure: ``low <= statistic(output in scenario) <= high``."""

    id: str
    scenario: str
    output: str
    statistic: str
    low: float
    high: float
    center: float
    source: str
    verified: bool
    time_h: float | None = None
    knockout: str | None = None
    control: str | None = None

    @property
    def run_key(self) -> str:
        """The simulated run this target is read from (scenario, with knock-out if any)."""
        return f"{self.scenario}|ko={self.knockout}" if self.knockout else self.scenario

    @property
    def label(self) -> str:
        return f"{self.id} [{self.low:g}–{self.high:g}]"

    def measure(self, results: dict[str, SimulationResult], patient: int = 0) -> float:
        """The statistic of this target's read-out in its run (``patient``: which row of a
        batch)."""
        y = results[self.run_key].output(self.output)[patient]
        result = results[self.run_key]
        t = result.time
        if self.statistic == "rest":
            return float(y[0])
        if self.statistic == "peak":
            return float(np.max(y))
        if self.statistic == "trough":
            return float(np.min(y))
        if self.statistic == "time_of_trough":
            return float(t[np.argmin(y)])
        if self.statistic == "peak_fold_over_control":
            control = results[self.control or self.scenario].output(self.output)[patient]
            return float(np.max(y) / np.max(control))
        if self.statistic == "time_of_peak":
            return float(t[np.argmax(y)])
        if self.statistic == "last_day_attenuation":
            # 1 - (peak over the last day's rise above rest) / (the first day's): the in-vivo
            # tolerance of daily challenges (Draisma A 2009 Crit Care Med 37:1261)
            last = t >= t[-1] - DAY_H
            first = t < DAY_H
            return float(1 - (np.max(y[last]) - y[0]) / (np.max(y[first]) - y[0]))
        value = float(np.interp(self.time_h, t, y))
        if self.statistic == "value_at":
            return value
        if self.statistic == "fraction_of_peak_at":
            return value / float(np.max(y))
        return value / float(y[0])  # fold_over_rest_at

    def passes(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


def load_targets(name: str = "endotoxemia") -> list[Target]:
    """Read the target set ``name`` shipped in ``il6sim/data/targets``."""
    problem = data_name_problem(name, "target set")
    if problem:
        raise InputError(problem)
    folder = files("il6sim") / "data" / "targets"
    resource = folder / f"{name}.yaml"
    if not resource.is_file():
        shipped = sorted(e.name.removesuffix(".yaml") for e in folder.iterdir()
                         if e.name.endswith(".yaml"))
        raise InputError(f"no target set '{name}'; fix: use one of {', '.join(shipped)}")
    entries = yaml.safe_load(resource.read_text())["targets"]
    targets = [Target(**entry) for entry in entries]
    for target in targets:
        if target.statistic not in STATISTICS:
            raise InputError(f"target {target.id}: unknown statistic '{target.statistic}'")
        if target.knockout and target.knockout not in KNOCKOUT_SWITCHES:
            raise InputError(f"target {target.id}: unknown knock-out '{target.knockout}'")
    return targets


def _is_preset(scenario: str) -> bool:
    return scenario.startswith("preset:")


def _scenario_doses(scenario: str) -> list[Dose]:
    """``rest``; ``lps_<dose>ngkg`` (one bolus); ``lps_<dose>ngkg_daily<N>`` (N daily boluses)."""
    if scenario == "rest":
        return []
    match = re.fullmatch(r"lps_(\d+(?:\.\d+)?)ngkg(?:_daily(\d+))?", scenario)
    if not match:
        raise InputError(f"unknown target scenario '{scenario}'; fix: use rest, lps_<dose>ngkg "
                         "or lps_<dose>ngkg_daily<N>")
    days = int(match.group(2) or 1)
    return [Dose(DAY_H * day, "lps", float(match.group(1)), unit="ng/kg") for day in range(days)]


def _scenario_hours(scenario: str, t_end: float) -> float:
    """Follow-up of a target scenario: ``t_end``, or a day after its last bolus if later."""
    doses = _scenario_doses(scenario)
    return max(t_end, doses[-1].time_h + DAY_H) if doses else t_end


def run_target_scenarios(
    targets: list[Target], params=None, *, model=None, t_end: float = 48.0, dt: float = 0.05,
    backend: str = "reference",
) -> dict[str, SimulationResult]:
    """Simulate each scenario the targets need once, for one parameter set (or a batch of
    them: ``params`` with several rows; :meth:`Target.measure` reads one row)."""
    from ..engine import equilibrate, parameter_matrix
    from ..model import default_model

    model = model or default_model()
    matrix = parameter_matrix(model, params)
    rest = equilibrate(matrix, model=model, backend=backend)
    results = {}
    scenarios = {t.scenario for t in targets} | {t.control for t in targets if t.control}
    for scenario in sorted(s for s in scenarios if _is_preset(s)):
        from ..scenario import load_scenario

        preset = load_scenario(scenario.removeprefix("preset:"))
        overrides = preset.parameter_overrides(model)
        patient = matrix.copy()
        for name, value in overrides.items():
            patient[:, model.param_index[name]] = value
        results[scenario] = simulate(patient, preset.dose_table(model), t_end=preset.duration_h,
                                     dt=preset.sampling_h, model=model, backend=backend)
    for scenario in sorted(s for s in scenarios if not _is_preset(s)):
        results[scenario] = simulate(
            matrix,
            _scenario_doses(scenario),
            t_end=_scenario_hours(scenario, t_end),
            dt=dt,
            model=model,
            initial_states=rest.states,
            backend=backend,
        )
    for target in targets:
        if target.knockout and target.run_key not in results:
            switch = KNOCKOUT_SWITCHES[target.knockout]
            knocked = matrix.copy()
            knocked[:, model.param_index[switch]] = 0.0
            results[target.run_key] = simulate(
                knocked, _scenario_doses(target.scenario), t_end=t_end, dt=dt, model=model,
                backend=backend,
            )
    return results


def evaluate_targets(targets: list[Target], results: dict[str, SimulationResult]) -> list[dict]:
    """One row per target: id, value, range, pass/fail, source."""
    rows = []
    for target in targets:
        value = target.measure(results)
        rows.append(
            {
                "id": target.id,
                "value": value,
                "low": target.low,
                "high": target.high,
                "passes": target.passes(value),
                "verified": target.verified,
                "source": target.source,
            }
        )
    return rows
