"""PK/PD of each label regimen against published steady-state values (``il6sim pk``).

The targets are data (``il6sim/data/targets/pharmacology.yaml``: regimen, metric, mean ± SD or a
lower bound, source). Every regimen is simulated in one batch for a 70-kg adult at rest for 24
weeks of dosing, and each metric is read over one dosing interval (the last, i.e. steady state,
unless the target names another), or over its first ``hours``. Antibody concentrations are in
ug/mL, glucocorticoid and antiviral (circulating nucleoside) concentrations in ng/mL;
``inhibition`` is an antiviral's mean inhibition of virion production over the window (%).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .._datafiles import read_datafile
from ..model import Model, default_model
from ..model.units import ureg
from ._drugs import load_drug
from ._regimens import expand_regimen, label_regimens

#: Weeks of dosing simulated to reach steady state (Cmin of tocilizumab 8 mg/kg: week 20).
STEADY_STATE_WEEKS = 24
METRICS = ("cmax", "cmin", "auc", "sil6r", "sil6r_occupancy", "inhibition")
#: The read-out each kind of drug's concentration targets refer to (antibodies in ug/mL,
#: glucocorticoids in ng/mL, antivirals as their circulating nucleoside in ng/mL).
CONCENTRATION_OUTPUT = {
    "antibody": "drug_conc",
    "glucocorticoid": "glucocorticoid_conc",
    "antiviral": "antiviral_conc",
}
#: Unit of each metric by kind of drug.
METRIC_UNITS = {
    "antibody": {"cmax": "µg/mL", "cmin": "µg/mL", "auc": "µg·h/mL"},
    "glucocorticoid": {"cmax": "ng/mL", "cmin": "ng/mL", "auc": "ng·h/mL"},
    "antiviral": {"cmax": "ng/mL", "cmin": "ng/mL", "auc": "ng·h/mL"},
}
_TARGET_UNITS = {"sil6r": "ng/mL", "sil6r_occupancy": "%", "inhibition": "%"}


class PkTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regimen: str
    metric: str
    mean: float | None = None
    sd: float | None = None
    at_least: float | None = None
    interval: int | None = None
    hours: float | None = None
    source: str


def load_pk_targets() -> list[PkTarget]:
    """The shipped PK/PD targets."""
    data, _ = read_datafile("targets", "pharmacology", "target")
    return [PkTarget.model_validate(row) for row in data]


def _interval_h(regimen_name: str) -> float:
    interval = label_regimens()[regimen_name].interval
    return float(ureg.Quantity(interval).to("hour").magnitude) if interval else 24.0 * 28


def pk_table(model: Model | None = None, weight_kg: float = 70.0) -> pd.DataFrame:
    """Model value of every PK/PD target next to the published one (``unit``), with ``passed``."""
    from ..engine import simulate

    model = model or default_model()
    targets = load_pk_targets()
    regimens = list(dict.fromkeys(t.regimen for t in targets))
    end_h = 24.0 * 7 * STEADY_STATE_WEEKS
    doses = []
    for patient, name in enumerate(regimens):
        table = expand_regimen(name, weight_kg=weight_kg, until_h=end_h - 1e-6)
        doses.append(table.assign(patient=patient))
    t_end = end_h + max(_interval_h(r) for r in regimens)  # the last interval completes
    result = simulate(
        [{"body_weight": weight_kg}] * len(regimens), pd.concat(doses, ignore_index=True),
        t_end=t_end, dt=1.0, model=model, backend="fast",
    )
    rows = []
    for target in targets:
        patient = regimens.index(target.regimen)
        tau = _interval_h(target.regimen)
        n_doses = int(np.ceil(end_h / tau))
        k = target.interval or n_doses
        end = (k - 1) * tau + (target.hours if target.hours is not None else tau)
        window = (result.time >= (k - 1) * tau) & (result.time <= end)
        kind = load_drug(label_regimens()[target.regimen].drug).kind
        value = _metric(result, patient, window, target.metric, kind)
        if target.at_least is not None:
            passed, published = value >= target.at_least, f">= {target.at_least:g}"
        else:
            passed = abs(value - target.mean) <= target.sd
            published = f"{target.mean:g} ± {target.sd:g}"
        unit = METRIC_UNITS[kind].get(target.metric) or _TARGET_UNITS[target.metric]
        rows.append({
            "regimen": target.regimen, "metric": target.metric, "unit": unit, "interval": k,
            "model": value, "published": published, "passed": bool(passed),
            "source": target.source,
        })
    return pd.DataFrame(rows)


def pk_markdown(rows: pd.DataFrame) -> str:
    """The PK/PD table (from :func:`pk_table`) as Markdown, as the README shows it."""
    lines = ["| regimen | metric | model | published | passed | source |",
             "|" + "---|" * 6]
    for row in rows.itertuples():
        lines.append(f"| {row.regimen} | {row.metric} ({row.unit}) | {row.model:.4g} | "
                     f"{row.published} | {'yes' if row.passed else 'NO'} | {row.source} |")
    return "\n".join(lines)


def _metric(result, patient: int, window: np.ndarray, metric: str, kind: str) -> float:
    time = result.time[window]
    conc = result.output(CONCENTRATION_OUTPUT[kind])[patient][window]
    if metric == "cmax":
        return float(conc.max())
    if metric == "cmin":  # the trough: lowest value of the interval (a dose may start the next)
        return float(conc.min())
    if metric == "auc":
        return float(np.trapezoid(conc, time))
    if metric == "sil6r":
        return float(result.output("sil6r_total")[patient][window].mean())
    if metric == "sil6r_occupancy":
        return float(result.output("drug_occupancy_sil6r")[patient][window][-1])
    if metric == "inhibition":  # time-averaged over the window
        inhibition = result.output("antiviral_inhibition")[patient][window]
        return float(np.trapezoid(inhibition, time) / (time[-1] - time[0]))
    raise ValueError(f"unknown PK metric '{metric}'; fix: one of {', '.join(METRICS)}")
