"""Export of the endotoxemia calibration as a PEtab v1 problem (pyPESTO, AMICI, COPASI, ...).

PEtab (Schmiester L et al. 2021 PLoS Comput Biol 17:e1008646) states a parameter-estimation
problem as an SBML model plus tables; :func:`export_petab` writes:

* ``model.xml`` — the model as SBML L3V2 (:func:`il6sim.interop.export_sbml`) from the default
  patient's resting state, with one LPS dose event at 0 h whose amount is the parameter
  ``dose1_amount`` (ng/kg);
* ``conditions.tsv`` — one condition per target scenario: ``rest`` (no LPS) and
  ``lps_<dose>ngkg`` (``dose1_amount`` = dose);
* ``observables.tsv`` — one observable per read-out measured (``obs_<output>`` =
  ``out_<output>``, the read-out in its clinical unit), log10-transformed with normal noise
  whose standard deviation is given per measurement;
* ``measurements.tsv`` — each target that is a value at a time: a resting value (time ``inf``,
  steady state), a value at a time, or a peak at the published peak time; ``measurement`` is the
  target's centre and the noise SD on the log10 scale is a quarter of the accepted range
  (``(log10 high - log10 low) / 4``: the range read as ± 2 SD); LPS conditions are
  pre-equilibrated in ``rest`` so that every parameter set starts from its own rest;
  ``datasetId`` is the target id;
* ``parameters.tsv`` — every declared parameter: those whose ``calibrated_to`` names a target of
  the set are estimated on log10 scale within their declared ``range`` (or a factor 10 either
  side of the calibrated value where none is declared) with a uniform prior on that scale; all
  others fixed at their declared value;
* ``problem.yaml`` and ``README.md`` — the PEtab entry point, and notes: how the problem was
  built, and the targets that PEtab v1 cannot state as measurements (times of a peak or trough,
  fractions of a peak, folds over rest or over a knock-out), which stay in
  ``il6sim targets endotoxemia``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..errors import InputError

__all__ = ["MEASURABLE", "export_petab"]

#: Statistics a PEtab v1 measurement can state (a value of one read-out at one time).
MEASURABLE = ("rest", "value_at", "peak")
#: Why each other statistic is not a PEtab v1 measurement.
NOT_MEASURABLE = {
    "time_of_peak": "a time of a peak, not a value at a time",
    "time_of_trough": "a time of a trough, not a value at a time",
    "trough": "an extreme over the whole run, not a value at a time",
    "fraction_of_peak_at": "a value divided by the run's own peak",
    "fold_over_rest_at": "a value divided by the resting value of the same run",
    "peak_fold_over_control": "a ratio of two runs (knock-out over control)",
}
#: Default estimation bounds: this factor either side of the calibrated value.
BOUND_FACTOR = 10.0
DOSE_AMOUNT = "dose1_amount"


def _write_tsv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k, "")) for k in columns})


def _cell(value) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else repr(value)
    return str(value)


def _lps_dose(scenario: str) -> float:
    return 0.0 if scenario == "rest" else float(scenario.removeprefix("lps_").removesuffix("ngkg"))


def _measurement(target) -> tuple[dict, dict] | str:
    """(measurement row, observable row) of one target, or why it cannot be one."""
    from .sbml import output_id

    if target.statistic not in MEASURABLE:
        return NOT_MEASURABLE.get(target.statistic, f"statistic '{target.statistic}'")
    if target.knockout or target.control:
        return "measured in a knock-out or against a control run"
    if target.scenario != "rest" and not target.scenario.startswith("lps_"):
        return f"scenario '{target.scenario}' is not rest or an LPS dose"
    if target.statistic != "rest" and target.time_h is None:
        return "no time given for the value"
    if not 0 < target.low <= target.center <= target.high:
        return "a range that is not positive (the noise model is log-normal)"
    observable = f"obs_{target.output}"
    sigma = (math.log10(target.high) - math.log10(target.low)) / 4.0
    row = {"observableId": observable, "simulationConditionId": target.scenario,
           "measurement": float(target.center), "noiseParameters": sigma,
           "datasetId": target.id.replace(".", "_"),
           "time": math.inf if target.statistic == "rest" else float(target.time_h)}
    if target.scenario != "rest":
        row["preequilibrationConditionId"] = "rest"
    obs = {"observableId": observable, "observableName": target.output,
           "observableFormula": output_id(target.output),
           "observableTransformation": "log10",
           "noiseFormula": f"noiseParameter1_{observable}", "noiseDistribution": "normal"}
    return row, obs


def _parameter_rows(model, estimated: set[str]) -> list[dict]:
    rows = []
    for p in model.parameters:
        row = {"parameterId": p.name, "parameterName": p.description,
               "nominalValue": float(p.value)}
        if p.name in estimated:
            declared = getattr(p, "range", None)
            low, high = declared if declared else (p.value / BOUND_FACTOR,
                                                   p.value * BOUND_FACTOR)
            prior = f"{math.log10(low)!r};{math.log10(high)!r}"
            row.update(parameterScale="log10", lowerBound=float(low), upperBound=float(high),
                       estimate=1, objectivePriorType="parameterScaleUniform",
                       objectivePriorParameters=prior)
        else:
            row.update(parameterScale="lin", lowerBound=float(p.value),
                       upperBound=float(p.value), estimate=0)
        rows.append(row)
    return rows


README = """\
# PEtab problem: il6sim calibration to the {name} targets

Written by `il6sim export petab --out {out}` (il6sim {version}). PEtab v1
(Schmiester L et al. 2021 PLoS Comput Biol 17:e1008646); load with
`petab.v1.Problem.from_yaml("problem.yaml")`, then e.g. pyPESTO with AMICI.

- `model.xml`: the il6sim model as SBML L3V2 (`il6sim export-sbml`, docs/sbml.md), initial
  values at the default patient's rest, one LPS dose event at 0 h of `{dose}` ng/kg.
- `conditions.tsv`: {conditions}.
- `measurements.tsv`: {n_measured} targets, each the target's centre; the noise SD
  (log10 scale) is a quarter of the accepted range, read as ± 2 SD. LPS conditions are
  pre-equilibrated in `rest`, so each parameter set starts from its own resting state.
  A `peak` target is measured at its published peak time (the peak of the published time
  course), a `rest` target at steady state (time `inf`).
- `parameters.tsv`: {n_estimated} parameters estimated (those whose `calibrated_to` names a
  target of this set; log10 scale, bounds from their declared `range` or a factor {factor:g}
  either side of the calibrated value, uniform prior on that scale); the other {n_fixed} fixed
  at their declared values.

## Targets not stated as measurements

PEtab v1 measurements are values of one observable at one time in one condition; these
targets are not, and are checked by `il6sim targets {name}` instead:

| target | statistic | why |
|---|---|---|
{skipped}

Estimated parameters fitted to these targets in il6sim ({only_skipped}) are weakly identified
by the measurements above alone.
"""


def export_petab(out_dir: str | Path, *, target_set: str = "endotoxemia",
                 model=None) -> dict[str, Path]:
    """Write the calibration to ``target_set`` as a PEtab v1 problem in ``out_dir``.

    Returns the paths written (``problem``, ``model``, ``conditions``, ``observables``,
    ``measurements``, ``parameters``, ``readme``). Raises :class:`InputError` when the set has
    no target that PEtab can state as a measurement.
    """
    from importlib.metadata import version

    from ..calibration import load_targets
    from ..engine import Dose
    from ..model import default_model
    from .sbml import export_sbml

    model = model or default_model()
    targets = load_targets(target_set)
    out = Path(out_dir)
    measured, observables, skipped = [], {}, []
    for target in targets:
        found = _measurement(target)
        if isinstance(found, str):
            skipped.append((target, found))
            continue
        row, obs = found
        measured.append(row)
        observables[obs["observableId"]] = obs
    if not measured:
        raise InputError(f"no target of set '{target_set}' is a value at a time; fix: export a "
                         "set with resting values, values at a time or peaks (endotoxemia)")
    ids = {t.id for t in targets}
    estimated = {p.name for p in model.parameters if ids & set(p.calibrated_to)}
    scenarios = sorted({r["simulationConditionId"] for r in measured} | {"rest"},
                       key=_lps_dose)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / file for name, file in (
        ("problem", "problem.yaml"), ("model", "model.xml"), ("conditions", "conditions.tsv"),
        ("observables", "observables.tsv"), ("measurements", "measurements.tsv"),
        ("parameters", "parameters.tsv"), ("readme", "README.md"))}
    export_sbml(model, doses=[Dose(0.0, "lps", 0.0, unit="ng/kg")], path=paths["model"],
                model_id=f"il6sim_{target_set}",
                name=f"il6sim: calibration to the {target_set} targets",
                description=f"PEtab problem of the {target_set} calibration")
    _write_tsv(paths["conditions"],
               [{"conditionId": s, "conditionName": s.replace("_", " "),
                 DOSE_AMOUNT: _lps_dose(s)} for s in scenarios],
               ["conditionId", "conditionName", DOSE_AMOUNT])
    _write_tsv(paths["observables"], list(observables.values()),
               ["observableId", "observableName", "observableFormula",
                "observableTransformation", "noiseFormula", "noiseDistribution"])
    _write_tsv(paths["measurements"], measured,
               ["observableId", "preequilibrationConditionId", "simulationConditionId",
                "measurement", "time", "noiseParameters", "datasetId"])
    _write_tsv(paths["parameters"], _parameter_rows(model, estimated),
               ["parameterId", "parameterName", "parameterScale", "lowerBound", "upperBound",
                "nominalValue", "estimate", "objectivePriorType", "objectivePriorParameters"])
    paths["problem"].write_text(
        "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
        "  - sbml_files: [model.xml]\n    condition_files: [conditions.tsv]\n"
        "    measurement_files: [measurements.tsv]\n    observable_files: [observables.tsv]\n",
        encoding="utf-8")
    measured_ids = {r["datasetId"] for r in measured}
    only_skipped = sorted(p.name for p in model.parameters if p.name in estimated
                          and not {i.replace(".", "_") for i in p.calibrated_to} & measured_ids)
    paths["readme"].write_text(README.format(
        name=target_set, out=out, version=version("il6sim"), dose=DOSE_AMOUNT,
        conditions=", ".join(f"`{s}`" for s in scenarios), n_measured=len(measured),
        n_estimated=len(estimated), n_fixed=len(model.parameters) - len(estimated),
        factor=BOUND_FACTOR,
        skipped="\n".join(f"| `{t.id}` | {t.statistic} | {why} |" for t, why in skipped),
        only_skipped=", ".join(f"`{n}`" for n in only_skipped) or "none"), encoding="utf-8")
    return paths
