"""An ensemble of parameter sets consistent with every calibration target.

Which parameters: the model-level parameters (not those a virtual population already varies
between patients) that matter most for the answers users ask, by a Morris screening of the
severe COVID-19 host (:mod:`il6sim.sensitivity`): the top ``per_output`` for the tocilizumab
effect on death, the probability of death, peak IL-6 and storm hours. Their prior is the
sensitivity range (a declaration's ``range``, else x/÷ 3 for an assumption, x/÷ 1.5 for a
calibrated or literature value), log-uniform. Constraints: every endotoxemia and infection
target (``il6sim targets``) inside its published range. Sampler: :func:`._abc.abc_mcmc`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..calibration import load_targets, run_target_scenarios
from ..errors import InputError
from ..model import default_model
from ..sensitivity import Study, parameter_space, run_study
from ._abc import abc_mcmc

#: Target sets every member must reproduce.
TARGET_SETS = ("endotoxemia", "infection")
#: Outputs whose most influential parameters form the ensemble.
RANKED_OUTPUTS = ("treatment_effect", "death_probability", "peak_il6", "storm_hours")


def target_values(table: pd.DataFrame) -> pd.DataFrame:
    """Every calibration target's value for each row of ``table`` (parameter overrides):
    one row per parameter set, one column per target id, plus ``passes`` (all inside)."""
    targets = [t for name in TARGET_SETS for t in load_targets(name)]
    results = run_target_scenarios(targets, table.reset_index(drop=True), backend="fast")
    values = {t.id: [t.measure(results, i) for i in range(len(table))] for t in targets}
    out = pd.DataFrame(values)
    inside = np.ones(len(table), bool)
    for t in targets:
        inside &= (out[t.id] >= t.low).to_numpy() & (out[t.id] <= t.high).to_numpy()
    out["passes"] = inside
    return out


def ensemble_parameters(screen_dir: Path, *, per_output: int = 4, seed: int = 0) -> list[str]:
    """The ensemble's parameters from a Morris screening (stored in ``screen_dir``)."""
    from ..population import load_population_spec

    between_patients = set(load_population_spec("covid19-hospitalised").parameters)
    indices = run_study(Study("covid19-severe", "morris", 10, seed, "tocilizumab", 4.5),
                        screen_dir, progress=False)
    chosen: list[str] = []
    for output in RANKED_OUTPUTS:
        ranked = indices[indices.output == output].sort_values("mu_star", ascending=False)
        picked = [p for p in ranked.parameter
                  if p not in between_patients and p not in chosen][:per_output]
        chosen += picked
    return chosen


def build_ensemble(out: str | Path, *, names: list[str] | None = None, chains: int = 48,
                   steps: int = 40, step: float = 0.15, per_output: int = 4,
                   seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Sample the ensemble, write ``<out>.parquet`` (members) and ``<out>.json`` (how it was
    made: parameters with prior bounds, sampler settings, acceptance, targets), return both."""
    out = Path(out)
    model = default_model()
    work = out.parent / f"{out.name}-work"
    if names is None:
        names = ensemble_parameters(work / "screening", per_output=per_output, seed=seed)
    space = {u.name: u for u in parameter_space(model, names)}
    missing = [n for n in names if n not in space]
    if missing:
        raise InputError(f"parameters {missing} are not uncertain; fix: choose others")
    low = np.array([np.log10(space[n].low) for n in names])
    high = np.array([np.log10(space[n].high) for n in names])
    start = np.array([np.log10(model.parameter(n).value) for n in names])

    def passes(points: np.ndarray) -> np.ndarray:
        return target_values(pd.DataFrame(10.0 ** points, columns=names))["passes"].to_numpy()

    found = abc_mcmc(start, low, high, passes, chains=chains, steps=steps, step=step, seed=seed)
    members = pd.DataFrame(10.0 ** found.points, columns=names)
    members.insert(0, "member", np.arange(len(members)))
    info = {
        "created": dt.date.today().isoformat(),
        "method": "ABC-MCMC (Marjoram 2003): uniform prior in log10 over the sensitivity "
                  "ranges, every endotoxemia and infection target as a hard constraint; "
                  "final point of each chain",
        "chains": chains, "steps": steps, "step": step, "seed": seed,
        "acceptance_per_step": [round(a, 4) for a in found.acceptance],
        "parameters": {n: {"value": model.parameter(n).value, "unit": model.parameter(n).unit,
                           "low": space[n].low, "high": space[n].high,
                           "basis": space[n].basis} for n in names},
        "targets": list(TARGET_SETS),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    members.to_parquet(out.with_suffix(".parquet"), index=False)
    out.with_suffix(".json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return members, info
