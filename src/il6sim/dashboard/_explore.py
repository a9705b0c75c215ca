"""The Explore tab: one infection simulated untreated and treated, with the fast engine.

The preset (:mod:`il6sim.scenario`) gives the pathogen, inoculum and other doses; the form sets
the host (age, interferon capacity, weight), the duration and a custom IL-6 blockade schedule
(:class:`~il6sim.scenario._schema.TreatmentSpec`). Both arms run with ``backend="fast"`` and are
summarised by :func:`il6sim.clinical.outcomes` and :func:`il6sim.clinical.sofa`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._forms import ExploreForm

__all__ = ["METRICS", "PANELS", "preset_defaults", "run_explore"]

#: Read-outs drawn, in panel order: (read-out, title, unit, log axis). ``sofa`` is computed.
PANELS = (
    ("il6", "IL-6", "pg/mL", True),
    ("crp", "CRP", "mg/L", False),
    ("sil6r_total", "Soluble IL-6R (total)", "ng/mL", False),
    ("drug_conc", "Drug in plasma", "µg/mL", False),
    ("pf_ratio", "Oxygenation, P/F", "mmHg", False),
    ("sofa", "Organ failure, SOFA", "points", False),
)

#: Numbers shown per arm: (key, label, unit, format).
METRICS = (
    ("peak_il6", "Peak IL-6", "pg/mL", ".4g"),
    ("peak_crp", "Peak CRP", "mg/L", ".4g"),
    ("peak_sil6r", "Peak soluble IL-6R", "ng/mL", ".4g"),
    ("peak_drug", "Peak drug level", "µg/mL", ".4g"),
    ("min_pf", "Lowest P/F", "mmHg", ".4g"),
    ("peak_sofa", "Peak SOFA", "points", ".0f"),
    ("storm_hours", "Hours in cytokine storm", "h", ".0f"),
    ("death_probability", "Probability of death", "%", ".1%"),
)

#: Sampling of the explorer's runs is at most this many hours (drug peaks stay visible).
MAX_SAMPLING_H = 6.0


def preset_defaults() -> list[dict[str, Any]]:
    """Each preset with its description, duration (days) and host, to fill in the form."""
    from ..model import default_model
    from ..scenario import list_presets, load_scenario

    model = default_model()
    rows = []
    for name, description in list_presets().items():
        scenario = load_scenario(name)
        host = scenario.parameter_overrides(model)
        rows.append({
            "name": name, "description": description,
            "duration_days": round(scenario.duration_h / 24.0, 3),
            **{key: round(float(host.get(key, model.parameter(key).value)), 4)
               for key in ("age", "ifn_capacity", "body_weight")},
        })
    return rows


def _scenario(form: ExploreForm):
    from ..scenario import Scenario, load_scenario

    base = load_scenario(form.preset)
    data = base.to_dict()
    data["patient"] = {**data["patient"], "age": f"{form.age:g} year",
                       "ifn_capacity": form.ifn_capacity, "body_weight": f"{form.body_weight:g} kg"}
    data["duration"] = f"{form.duration_days:g} d"
    data["sampling"] = f"{min(base.sampling_h, MAX_SAMPLING_H, form.duration_days * 24 / 50):g} h"
    data["treatment"] = None
    untreated = Scenario.from_dict(data, source=form.preset)
    data["treatment"] = form.treatment()
    treated = None if data["treatment"] is None else Scenario.from_dict(data, source=form.preset)
    return untreated, treated


def _finite(value: float) -> float | None:
    """``value``, or ``None`` when it is not finite (JSON has no NaN)."""
    value = float(value)
    return value if np.isfinite(value) else None


def _numbers(result) -> dict[str, float | None]:
    from ..clinical import outcomes

    row = outcomes(result).iloc[0]
    peak = {name: float(np.nanmax(result.output(name)))
            for name in ("sil6r_total", "drug_conc")}
    values = {"peak_il6": row["peak_il6"], "peak_crp": row["peak_crp"],
              "peak_sil6r": peak["sil6r_total"], "peak_drug": peak["drug_conc"],
              "min_pf": row["min_pf"], "peak_sofa": row["peak_sofa"],
              "storm_hours": row["storm_hours"], "death_probability": row["death_probability"]}
    return {key: _finite(value) for key, value in values.items()}


def _curves(result) -> dict[str, list[float | None]]:
    from ..clinical import sofa

    curves = {name: result.output(name)[0] for name, *_ in PANELS if name != "sofa"}
    curves["sofa"] = sofa(result)[0]
    return {name: [_finite(v) for v in values] for name, values in curves.items()}


def run_explore(form: ExploreForm) -> dict[str, Any]:
    """Simulate ``form``'s infection untreated and (with a drug) treated.

    Returns
    -------
    dict
        ``numbers`` ``{arm: {metric: value}}``, ``metrics`` (key, label, unit, format), ``svg``
        (the figure), ``days`` and ``curves`` ``{arm: {read-out: values}}``, ``notes`` (failed
        integrations) and ``title``.
    """
    from ._figures import explore_figure

    untreated, treated = _scenario(form)
    runs = {"untreated": untreated.run(backend="fast")}
    if treated is not None:
        runs["treated"] = treated.run(backend="fast")
    notes = [f"{arm}: {status}" for arm, result in runs.items()
             for status in result.status if status != "ok"]
    days = [float(t) / 24.0 for t in runs["untreated"].time]
    curves = {arm: _curves(result) for arm, result in runs.items()}
    treatment = form.treatment()
    title = (f"{form.preset}: age {form.age:g}, interferon capacity {form.ifn_capacity:g}, "
             f"{form.body_weight:g} kg")
    label = None
    if treatment is not None:
        label = (f"{form.drug} {treatment['amount']} {form.route.upper()} from day "
                 f"{form.treatment_day:g}"
                 + (f", {form.n_doses} doses every {form.interval_days:g} d"
                    if form.n_doses > 1 else ""))
    svg = explore_figure(days, curves, PANELS, title=title, treated_label=label,
                         treatment_day=None if treatment is None else form.treatment_day)
    return {"title": title, "treated_label": label,
            "numbers": {arm: _numbers(result) for arm, result in runs.items()},
            "metrics": [list(m) for m in METRICS], "svg": svg, "days": days,
            "curves": curves, "notes": notes}
