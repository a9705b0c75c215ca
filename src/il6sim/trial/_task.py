"""``TrialTask``: screen candidate patients, and simulate every enrolled one under every arm.

For candidate patients numbered ``indices`` (each drawn from the population by its own index
and the trial's seed, :mod:`il6sim.population._calibrated`), the task

1. simulates the untreated course from infection with the fast engine, and applies the
   population's admission rule (:func:`il6sim.population.read_course`);
2. finds the first check on the sampling grid, from the entry event (admission, onset, start of
   oxygen, non-invasive support, invasive ventilation or organ support) plus the enrolment delay
   and within the enrolment window, at which the patient is alive, meets every eligibility
   criterion and no exclusion criterion, and (with a baseline mix) is in its drawn stratum
   (:mod:`._entry`): that is randomisation, time 0;
3. restarts each enrolled patient from its state at randomisation once per arm, with the arm's
   drug doses from the arm's start time, and reads the endpoints (:mod:`._endpoints`).

Every patient is simulated under every arm (its potential outcomes); the randomised analysis
(:mod:`._run`) uses the arm the allocation gives it, and :mod:`._policy` uses all of them.
Results depend only on the trial file and the candidate index, never on the chunking.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..engine import simulate
from ..errors import InputError
from ..model import default_model
from ..pharmacology import drug_parameters, expand_regimen, list_drugs
from ..population import load_calibrated, load_population_spec, read_course
from ..population._course import first_time
from ..population._sample import (
    dose_table,
    draw,
    parameter_table,
    patient_normals,
    patient_uniforms,
)
from ..runner import model_fingerprint
from ._background import Plan, check_background, strata
from ._design import TrialSpec
from ._endpoints import arm_endpoints
from ._entry import ENTRY_EVENTS
from ._hai import HaiPlan, inoculum_doses, with_hai
from ._signals import COVARIATES, Course, holds, signal_unit, threshold

#: Random streams of the secondary-infection and co-infection draws (shared by all arms).
INFECTION_STREAM, COINFECTION_STREAM = 3000, 3001
#: Random stream of the baseline-mix stratum drawn for each candidate (:mod:`._entry`).
MIX_STREAM = 7000
#: Baseline values recorded for every enrolled patient (signals at randomisation).
BASELINE_SIGNALS = ("il6", "crp", "ldh_level", "lymphocytes", "ferritin_level", "pf_ratio", "spo2",
                    "respiratory_support", "imv", "organ_support", "sofa", "days_since_onset",
                    "days_since_admission", "viral_load", "drug_conc")
#: What subgroups can split on: the baseline signals, the covariates and co-infection.
RECORDED = (*BASELINE_SIGNALS, *COVARIATES, "coinfected")


class TrialTask:
    """Screen candidates ``indices`` and simulate the enrolled ones in every arm.

    Parameters
    ----------
    design : the validated trial (:func:`il6sim.trial.load_trial`).
    population_file : a calibrated population (``calibrated.parquet`` from ``il6sim population
        fit``) to draw from instead of the shipped one.
    backend : engine backend (``"fast"`` by default).
    acceptance : with a control-risk calibration, the acceptance of :func:`accepts`; only
        accepted patients are simulated in the treated arms.
    control_only : simulate only the control arm (the pilot that sets the acceptance).
    model_overrides : model parameter values for every patient (an ensemble member,
        :mod:`il6sim.ensemble`); parameters the population varies between patients are refused.
    draw : with a baseline mix, the probabilities with which candidates are drawn into its
        strata (default: the declared shares). Any choice gives the same patients within a
        stratum, because the draw is independent of the course; :func:`il6sim.trial.run_trial`
        sets them so that rare strata fill their quotas with fewer candidates.
    """

    def __init__(self, design: TrialSpec, *, population_file: str | None = None,
                 backend: str = "fast", acceptance: float | dict | None = None,
                 control_only: bool = False, model_overrides: dict[str, float] | None = None,
                 draw: list[float] | None = None):
        self.design, self.population_file, self.backend = design, population_file, backend
        self.draw = None if draw is None else [float(q) for q in draw]
        self.acceptance, self.control_only = acceptance, control_only
        self.model_overrides = dict(model_overrides or {})
        self._check()

    # ----------------------------------------------------------------- set-up
    def _check(self) -> None:
        try:
            self._check_fields()
        except InputError as exc:
            message = str(exc)
            if message.startswith("trial '"):
                raise
            field, sep, rest = message.partition(": ")
            if sep and (field.startswith(("enrolment.", "arms[", "subgroups[", "coinfection",
                                          "background[", "hospital_infection"))
                        or field in ("population",)):
                message = f"field '{field}': {rest}"
            else:
                message = f"field '{self._field}': {message}"
            raise InputError(f"trial '{self.design.source}', {message}") from None

    def _check_fields(self) -> None:
        model = default_model()
        self._field = "population"
        self.spec = load_population_spec(self.design.population, model=model)
        if self.model_overrides:
            self.spec = self._with_overrides(self.spec, model)
        self.source = (load_calibrated(self.spec, self.population_file)
                       if self.design.calibrated or self.population_file else None)
        enrolment = self.design.enrolment
        self._field = "enrolment"
        self.eligibility = [(c, threshold(c, model, f"enrolment.eligibility[{k}]"))
                            for k, c in enumerate(enrolment.eligibility)]
        self.exclusion = [(c, threshold(c, model, f"enrolment.exclusion[{k}]"))
                          for k, c in enumerate(enrolment.exclusion)]
        self.start_rules = {}
        for k, arm in enumerate(self.design.arms):
            self._field = f"arms[{k}].start"
            when = [(c, threshold(c, model, f"arms[{k}].start.when[{j}]"))
                    for j, c in enumerate(arm.start.when or [])]
            self.start_rules[arm.name] = when
            if arm.treatment is not None:  # unknown regimens and bad amounts fail here
                self._field = f"arms[{k}].treatment"
                regimen = _regimen(arm.treatment)
                expand_regimen(regimen, weight_kg=70.0, until_h=self.design.horizon_h)
            if arm.second_dose is not None:
                self._field = f"arms[{k}].second_dose"
                self.start_rules[(arm.name, "second_dose")] = [
                    (c, threshold(c, model, f"arms[{k}].second_dose.when[{j}]"))
                    for j, c in enumerate(arm.second_dose.when)]
                self._field = f"arms[{k}].second_dose.amount"
                one_dose(regimen, arm.second_dose.amount)
        mix = enrolment.baseline_mix
        if mix is not None:
            self._field = "enrolment.baseline_mix.signal"
            signal_unit(mix.signal, model)  # an unknown name fails with its choices
        self._field = "background"
        self.background_rules = check_background(self.design, model)
        recorded = (*RECORDED, *(entry.column for entry in self.design.background),
                    *(("stratum",) if mix is not None else ()))
        for k, subgroup in enumerate(self.design.subgroups):
            self._field = f"subgroups[{k}].signal"
            if subgroup.signal not in recorded:
                if subgroup.signal.startswith("on_"):
                    raise InputError(
                        f"subgroups[{k}]: signal '{subgroup.signal}' is no background entry; "
                        f"fix: declare background: [{{name: {subgroup.signal[3:]}, ...}}] or "
                        f"use one of {', '.join(recorded)}")
                signal_unit(subgroup.signal, model)  # an unknown name fails with its choices
                raise InputError(f"subgroups[{k}]: signal '{subgroup.signal}' is not recorded "
                                 f"at randomisation; fix: use one of {', '.join(recorded)}")
        self._field = "coinfection"
        self.coinfection_doses = self._coinfection_doses(model)
        self._field = "hospital_infection"
        self.hai = HaiPlan.make(self.design, model)

    def _with_overrides(self, spec, model):
        """The population with ``model_overrides`` applied to every patient."""
        varied = sorted(set(self.model_overrides) & set(spec.parameters))
        if varied:
            raise InputError(f"model overrides {varied} are varied between patients by "
                             f"population '{spec.name}'; fix: leave them out")
        for name in self.model_overrides:
            model.parameter(name)  # an unknown name fails with the fix
        return replace(spec, base_overrides={**spec.base_overrides, **self.model_overrides})

    def _coinfection_doses(self, model) -> pd.DataFrame | None:
        """Dose rows (hours after randomisation) of a co-infected patient, or None; sets
        :attr:`coinfection_parameters` (the pathogen profile in the model's units)."""
        co = self.design.coinfection
        self.coinfection_parameters: dict[str, float] = {}
        if co is None:
            return None
        rows, self.coinfection_parameters = inoculum_doses(
            model, "coinfection", at_h=co.at_h, agent=co.agent, route=co.route,
            amount=co.amount, antibiotic=co.antibiotic, pathogen=co.pathogen)
        return rows

    def __getstate__(self) -> dict[str, Any]:
        return {"design": self.design, "population_file": self.population_file,
                "backend": self.backend, "acceptance": self.acceptance,
                "control_only": self.control_only, "model_overrides": self.model_overrides,
                "draw": self.draw}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._check()

    def config(self) -> dict[str, Any]:
        """Everything that determines the results (guards resumption)."""
        design = self.design.model_dump(mode="json", exclude={"size", "published", "subgroups",
                                                              "title", "reference", "primary"})
        if not design["endpoint_followup"]:  # as before per-endpoint follow-up existed
            del design["endpoint_followup"]
        if design.get("hospital_infection", 0) is None:  # as before the key existed
            del design["hospital_infection"]
        for arm in design["arms"]:  # as before second doses and per-arm results existed
            arm.pop("published", None)
            if arm.get("second_dose") is None:
                arm.pop("second_dose", None)
        for entry in [*design["arms"], *design.get("background", [])]:
            for key in ("cap", "until"):
                if (entry.get("treatment") or {}).get(key, 0) is None:
                    del entry["treatment"][key]
        return {
            "model": model_fingerprint(default_model()),
            "design": design,
            "population": self.spec.raw,
            "calibration": None if self.source is None else {
                "info": self.source.info, "coordinates": self.source.coordinates,
                "weights": self.source.weights},
            "drug_parameters": {name: drug_parameters(name, default_model())
                                for name in list_drugs()},
            "backend": self.backend,
            "acceptance": self.acceptance,
            "control_only": self.control_only,
            **({"model_overrides": dict(sorted(self.model_overrides.items()))}
               if self.model_overrides else {}),
            **({"draw": self.draw} if self.draw is not None else {}),
        }

    # ----------------------------------------------------------------- running
    def candidates(self, indices: np.ndarray) -> pd.DataFrame:
        """The candidate patients numbered ``indices`` (population table rows)."""
        seed = self.design.seed
        if self.source is not None:
            z = self.source.draw(seed, indices)
        else:
            z = patient_normals(seed, indices, len(self.spec.coordinates))
        return draw(self.spec, z, patients=indices)

    def __call__(self, indices: np.ndarray) -> pd.DataFrame:
        indices = np.asarray(indices, dtype=np.int64)
        spec, design = self.spec, self.design
        table = self.candidates(indices)
        # onset comes before admission, so this bounds randomisation after either
        horizon = spec.latest_admission_h + design.enrolment.delay_h + design.enrolment.window_h
        screening = simulate(parameter_table(spec, table), dose_table(spec, table),
                             t_end=min(horizon, spec.duration_h), dt=spec.sampling_h,
                             backend=self.backend, settings={"trial": design.name})
        course = read_course(spec, table, screening, {}, {}, {})
        signals = Course(screening, table, course)
        plan = Plan.make(design, self.background_rules, indices, signals)
        early = plan.early_doses(table["weight"].to_numpy(float))
        if early is not None:  # co-treatments started before randomisation change the course
            screening = self._rescreen(table, screening, early)
            signals = Course(screening, table, course)
        drawn = self.strata_drawn(indices)
        enrol_index, reaches = self._enrolment(signals, drawn)
        rows = pd.DataFrame({"patient": indices,
                             "admitted": course["admitted"].to_numpy(bool),
                             "enrolled": enrol_index >= 0,
                             "screening_failed": [s != "ok" for s in screening.status]})
        rows["randomised_h"] = np.where(enrol_index >= 0,
                                        screening.time[np.maximum(enrol_index, 0)], np.nan)
        for column in ("age", "male", "comorbidity", "weight"):
            rows[column] = table[column].to_numpy(float)
        rows["onset_h"] = course["onset_h"].to_numpy(float)
        rows["admission_h"] = course["admission_h"].to_numpy(float)
        chosen = np.flatnonzero(enrol_index >= 0)
        for name in BASELINE_SIGNALS:
            values = np.full(len(indices), np.nan)
            values[chosen] = signals[name][chosen, enrol_index[chosen]]
            rows[f"baseline_{name}"] = values
        if drawn is not None:  # the stratum of the baseline mix, NaN if not randomised
            rows["baseline_stratum"] = np.where(enrol_index >= 0, drawn, np.nan)
            for k, reached in enumerate(reaches):  # eligible in stratum k, whatever the draw
                rows[f"reaches_stratum_{k}"] = reached.astype(float)
        if len(chosen):
            stratum = np.full(len(chosen), np.nan) if drawn is None else drawn[chosen]
            arms = self._arms(table, signals, chosen, enrol_index[chosen], plan, stratum)
            rows = rows.join(arms)
        return rows

    def _rescreen(self, table: pd.DataFrame, screening, early: pd.DataFrame):
        """The screening run with the patients of ``early`` (background doses before
        randomisation, :mod:`._background`) simulated again with those doses."""
        which = np.unique(early["patient"].to_numpy())
        position = pd.Series(np.arange(len(which)), index=which)
        part = table.iloc[which]
        doses = pd.concat([dose_table(self.spec, part),
                           early.assign(patient=position[early["patient"]].to_numpy())],
                          ignore_index=True)
        again = simulate(parameter_table(self.spec, part), doses, t_end=screening.time[-1],
                         dt=self.spec.sampling_h, backend=self.backend,
                         settings={"trial": self.design.name})
        outputs, states = screening.outputs.copy(), screening.states.copy()
        outputs[which], states[which] = again.outputs, again.states
        status = list(screening.status)
        for k, i in enumerate(which):
            status[i] = again.status[k]
        return replace(screening, outputs=outputs, states=states, status=status)

    def strata_drawn(self, patients: np.ndarray) -> np.ndarray | None:
        """The baseline-mix stratum drawn for each candidate from the declared shares (one
        seeded uniform number per candidate, independent of its course); None without a mix."""
        mix = self.design.enrolment.baseline_mix
        if mix is None:
            return None
        q = mix.shares if self.draw is None else np.asarray(self.draw) / np.sum(self.draw)
        u = patient_uniforms(self.design.seed, patients, stream=MIX_STREAM)
        drawn = np.searchsorted(np.cumsum(q), u, side="right")
        return np.minimum(drawn, len(mix.strata) - 1)

    def entry_hours(self, c: Course) -> np.ndarray:
        """Hours (since infection) of each patient's entry event, ``(patients, 1)``; NaN for a
        patient who never reaches it. A support event is the first check at or after admission
        at which its signal holds (support is given in hospital)."""
        after = self.design.enrolment.after
        if ENTRY_EVENTS[after] is None:
            return c.hours(f"{after}_h")
        started = (c[ENTRY_EVENTS[after]] > 0.5) \
            & (c.time[None, :] >= c.hours("admission_h") - 1e-9)
        return first_time(c.time, started)[:, None]

    def _enrolment(self, c: Course, drawn: np.ndarray | None = None
                   ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Index of the randomisation time on the grid per patient, −1 if never enrolled;
        ``drawn``: each patient's baseline-mix stratum (:meth:`strata_drawn`). Also, per
        stratum, whether the patient has an eligible check in it (sets the draw, :mod:`._run`).
        """
        enrolment = self.design.enrolment
        start = self.entry_hours(c) + enrolment.delay_h
        t = c.time[None, :]
        alive = c["cumulative_death_hazard"] \
            < c.table["death_threshold"].to_numpy(float)[:, None]
        ok = np.array([s == "ok" for s in c.result.status])[:, None]
        admitted = c.course["admitted"].to_numpy(bool)[:, None]
        mask = ok & admitted & alive & (t >= start - 1e-9) \
            & (t <= start + enrolment.window_h + 1e-9) & (t >= c.hours("admission_h") - 1e-9)
        for criterion, value in self.eligibility:
            mask &= holds(criterion, c, value)
        for criterion, value in self.exclusion:
            mask &= ~holds(criterion, c, value)
        reaches = []
        if drawn is not None:
            values = c[enrolment.baseline_mix.signal]
            within = [mask & np.isin(values, stratum.levels)
                      for stratum in enrolment.baseline_mix.strata]
            reaches = [m.any(axis=1) for m in within]
            mask = np.select([(drawn == k)[:, None] for k in range(len(within))], within, False)
        return np.where(mask.any(axis=1), np.argmax(mask, axis=1), -1), reaches

    def _start_offsets(self, arm, c: Course, chosen: np.ndarray, enrol: np.ndarray
                       ) -> np.ndarray:
        """Hours from randomisation to the arm's first dose (NaN: not treated)."""
        rule = arm.start
        t0 = c.time[enrol]
        if rule.day_since_onset is not None:
            at = c.course["onset_h"].to_numpy(float)[chosen] + 24.0 * rule.day_since_onset
            offset = np.maximum(at - t0, 0.0)
        elif rule.when:
            mask = np.ones((len(chosen), len(c.time)), bool)
            for criterion, value in self.start_rules[arm.name]:
                mask &= holds(criterion, c, value)[chosen]
            window = (c.time[None, :] >= t0[:, None]) \
                & (c.time[None, :] <= t0[:, None] + rule.within_h)
            mask &= window
            offset = first_time(c.time, mask) - t0
        else:
            offset = np.zeros(len(chosen))
        return offset + rule.delay_h + arm.treatment.start_h

    def _arms(self, table, c: Course, chosen, enrol, plan: Plan,
              stratum: np.ndarray) -> pd.DataFrame:
        """Endpoint columns ``<endpoint>@<arm>`` of the enrolled patients ``chosen``.

        Without a control-risk calibration every arm is simulated for every patient. With one,
        the control arm is simulated first; the other arms only for the accepted patients
        (``accepted`` column; :func:`accepts`), or not at all in the pilot (``control_only``).
        """
        design = self.design
        control = [arm for arm in design.arms if arm.name == design.control]
        others = [arm for arm in design.arms if arm.name != design.control]
        patients = table["patient"].to_numpy()[chosen]
        inputs = self._arm_inputs(table, c, chosen, enrol, plan)
        inputs["stratum"] = stratum  # of the baseline mix (NaN without one)
        if self.acceptance is None and not self.control_only:
            columns = self._simulate_arms(design.arms, inputs, c, chosen, enrol, np.ones(
                len(chosen), bool))
            columns["accepted"] = np.ones(len(chosen))
        else:
            columns = self._simulate_arms(control, inputs, c, chosen, enrol,
                                          np.ones(len(chosen), bool))
            keep = (np.zeros(len(chosen), bool) if self.control_only else
                    accepts(design, self.acceptance, patients,
                            columns[f"died@{design.control}"] > 0.5,
                            strata(design, {**inputs["background"],
                                            "baseline_stratum": inputs["stratum"]})))
            if keep.any():
                treated = self._simulate_arms(others, inputs, c, chosen, enrol, keep)
                columns.update(treated)
            columns["accepted"] = keep.astype(float)
        columns["coinfected"] = inputs["coinfected"].astype(float)
        columns.update(inputs["background"])
        return pd.DataFrame(columns, index=chosen)

    def _arm_inputs(self, table, c: Course, chosen, enrol, plan: Plan) -> dict[str, Any]:
        """What every arm of these patients shares: state, parameters, random numbers,
        background doses."""
        design, spec = self.design, self.spec
        cumulative = c["cumulative_death_hazard"][chosen, enrol]
        patients = table["patient"].to_numpy()[chosen]
        params = parameter_table(spec, table.iloc[chosen])
        coinfected = self.coinfected(patients)
        for name, value in self.coinfection_parameters.items():
            column = params[name] if name in params else default_model().parameter(name).value
            params[name] = np.where(coinfected, value, column)
        weight = table["weight"].to_numpy(float)[chosen]
        background_doses, background = plan.arm_doses(c, chosen, enrol, weight)
        return {
            "states": c.result.states[chosen, enrol, :], "params": params,
            "threshold_left": table["death_threshold"].to_numpy(float)[chosen] - cumulative,
            "rest": c.result.output("classic_signal_leukocytes")[chosen, 0],
            "uniform": patient_uniforms(design.seed, patients, stream=INFECTION_STREAM),
            "hai_threshold": HaiPlan.thresholds(design.seed, patients),
            "coinfected": coinfected, "weight": weight,
            "background_doses": background_doses, "background": background,
            "table": table.iloc[chosen].reset_index(drop=True),
            "onset_h": c.course["onset_h"].to_numpy(float)[chosen] - c.time[enrol],
            "admission_h": c.course["admission_h"].to_numpy(float)[chosen] - c.time[enrol],
        }

    def _simulate_arms(self, arms, inputs, c: Course, chosen, enrol, rows) -> dict:
        """Simulate ``arms`` for the patients ``rows`` (a mask over ``chosen``); columns over
        all of ``chosen`` (NaN where not simulated)."""
        design = self.design
        followup = design.horizon_h
        horizons = {name: design.followup_for(name) for name in design.endpoints}
        which = np.flatnonzero(rows)
        n = len(which)
        params = inputs["params"].iloc[which].reset_index(drop=True)
        doses, starts, second = [], {}, {}
        for k, arm in enumerate(arms):
            if self.coinfection_doses is not None:
                for i in np.flatnonzero(inputs["coinfected"][which]):
                    doses.append(self.coinfection_doses.assign(patient=k * n + i))
            for i, j in enumerate(which):  # background: the same doses in every arm
                if inputs["background_doses"][j] is not None:
                    doses.append(inputs["background_doses"][j].assign(patient=k * n + i))
            if arm.treatment is None:
                continue
            offsets = self._start_offsets(arm, c, chosen, enrol)[which]
            starts[arm.name] = offsets
            regimen = _regimen(arm.treatment)
            mine = []
            for i in np.flatnonzero(np.isfinite(offsets) & (offsets <= followup)):
                events = expand_regimen(regimen, weight_kg=float(inputs["weight"][which][i]),
                                        start_h=float(offsets[i]), until_h=followup)
                events["patient"] = k * n + i
                mine.append(events)
            if arm.second_dose is not None:
                before = [d for d in doses if len(d) and (d["patient"] // n == k).all()]
                second[arm.name] = self._second_dose(arm, regimen, inputs, which, params,
                                                     offsets, [*before, *mine], k * n)
                mine += [one_dose(regimen, arm.second_dose.amount, float(inputs["weight"][
                    which][i]), float(h)).assign(patient=k * n + i)
                    for i, h in enumerate(second[arm.name]) if np.isfinite(h)]
            doses += mine
        all_params = pd.concat([params] * len(arms), ignore_index=True)
        all_doses = pd.concat(doses, ignore_index=True) if doses else None
        states = np.vstack([inputs["states"][which]] * len(arms))

        def run(table, dose_rows, initial):
            return simulate(table, dose_rows, t_end=followup, dt=self.spec.sampling_h,
                            initial_states=initial, backend=self.backend,
                            settings={"trial": design.name})

        result = run(all_params, all_doses, states)
        hai = None
        if self.hai is not None:
            def per_row(name):
                return np.tile(inputs[name][which], len(arms))
            result, hai = self.hai.apply(
                result, all_params, all_doses, states, threshold=per_row("hai_threshold"),
                threshold_left=per_row("threshold_left"), rest=per_row("rest"),
                keep_pathogen=per_row("coinfected"), mortality_h=horizons.get(
                    "mortality", design.followup_h), simulate_again=run)
        columns = {}
        for k, arm in enumerate(arms):
            ends = arm_endpoints(_rows(result, slice(k * n, (k + 1) * n)),
                                 threshold_left=inputs["threshold_left"][which],
                                 rest_signal=inputs["rest"][which],
                                 infection_uniform=inputs["uniform"][which],
                                 followup_h=design.followup_h, horizons=horizons)
            if hai is not None:
                ends = with_hai(ends, hai.iloc[k * n:(k + 1) * n].reset_index(drop=True),
                                horizons.get("secondary_infection", design.followup_h))
            ends["treatment_start_day"] = (starts[arm.name] / 24.0 if arm.name in starts
                                           else np.nan)
            if any(a.second_dose is not None for a in design.arms):
                given = second.get(arm.name, np.full(n, np.nan))
                ends["second_dose"] = np.isfinite(given).astype(float)
                ends["second_dose_day"] = given / 24.0
            for column in ends.columns:
                text = column == "status"
                values = np.full(len(chosen), None if text else np.nan,
                                 dtype=object if text else float)
                values[which] = ends[column].to_numpy(object if text else float)
                columns[f"{column}@{arm.name}"] = values
        return columns

    def _second_dose(self, arm, regimen, inputs, which, params, offsets, doses, first
                     ) -> np.ndarray:
        """Hours from randomisation of each patient's second dose in ``arm`` (NaN: none).

        The arm's course is simulated with its other doses (``doses``, patients numbered from
        ``first``) up to the end of the latest window; the second dose goes at the first grid
        time in the window after the patient's first dose at which the patient is alive and
        every criterion of ``arm.second_dose.when`` holds on that course."""
        rule, followup = arm.second_dose, self.design.horizon_h
        low, high = rule.window_h
        n = len(which)
        out = np.full(n, np.nan)
        treated = np.isfinite(offsets) & (offsets + low <= followup)
        if not treated.any():
            return out
        end = float(min(followup, np.nanmax(np.where(treated, offsets, np.nan)) + high))
        table = pd.concat(doses, ignore_index=True).assign(
            patient=lambda d: d["patient"] - first) if doses else None
        run = simulate(params, table, t_end=max(end, self.spec.sampling_h),
                       dt=self.spec.sampling_h, initial_states=inputs["states"][which],
                       backend=self.backend, settings={"trial": self.design.name})
        course = pd.DataFrame({"onset_h": inputs["onset_h"][which],
                               "admission_h": inputs["admission_h"][which]})
        ref = np.where(treated, offsets, np.inf)
        c = Course(run, inputs["table"].iloc[which].reset_index(drop=True), course,
                   death_threshold=inputs["threshold_left"][which],
                   reference_h=np.where(treated, offsets, 0.0))
        t = c.time[None, :]
        mask = (t >= ref[:, None] + low - 1e-9) & (t <= ref[:, None] + high + 1e-9)
        mask &= c["cumulative_death_hazard"] < c.death_threshold[:, None]
        mask &= np.array([s == "ok" for s in run.status])[:, None]
        for criterion, value in self.start_rules[(arm.name, "second_dose")]:
            mask &= holds(criterion, c, value)
        return np.where(treated, first_time(c.time, mask), np.nan)

    def coinfected(self, patients: np.ndarray) -> np.ndarray:
        """Which of these patients acquire the trial's co-infection (seeded per patient)."""
        co = self.design.coinfection
        if co is None:
            return np.zeros(len(patients), bool)
        return patient_uniforms(self.design.seed, patients, stream=COINFECTION_STREAM) \
            < co.fraction


#: Random stream of the acceptance draws of a control-risk calibration.
ACCEPTANCE_STREAM = 5000


def accepts(design: TrialSpec, acceptance: float | dict, patients: np.ndarray,
            died: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
    """Which eligible patients a control-risk calibration randomises: a positive ``acceptance``
    is the probability of keeping one who dies untreated (survivors are kept), a negative one
    that of keeping a survivor (deaths are kept); one seeded uniform number per patient. With a
    background, ``acceptance`` maps each stratum of ``keys`` to ``[keep a death, keep a
    survivor]`` (:func:`._background.stratified_acceptance`) and ``"*"`` to the single value,
    used for a stratum the pilot did not see."""
    u = patient_uniforms(design.seed, patients, stream=ACCEPTANCE_STREAM)
    pooled = acceptance["*"] if isinstance(acceptance, dict) else acceptance
    single = (abs(pooled), 1.0) if pooled >= 0 else (1.0, abs(pooled))
    if isinstance(acceptance, dict):
        rates = np.array([acceptance.get(key, single) for key in keys], float).reshape(-1, 2)
    else:
        rates = np.broadcast_to(np.array(single), (len(died), 2))
    keep = np.where(died, rates[:, 0], rates[:, 1])
    return (u < keep) | (keep >= 1.0)


def _regimen(treatment):
    """The treatment's regimen; a problem of the treatment itself is an :class:`InputError`."""
    from ..scenario._schema import ScenarioFieldError

    try:
        return treatment.regimen_or_schedule()
    except ScenarioFieldError as exc:
        raise InputError(exc.message) from None


def one_dose(regimen, amount: str | None = None, weight_kg: float = 70.0,
             at_h: float = 0.0) -> pd.DataFrame:
    """One dose of ``regimen`` (a label name or :class:`~il6sim.pharmacology.Regimen`) at
    ``at_h``: its amount (weight-based and capped as the regimen is) or ``amount``."""
    from dataclasses import replace as change

    from ..pharmacology import Regimen, label_regimens

    if not isinstance(regimen, Regimen):
        regimen = label_regimens()[regimen]
    single = change(regimen, interval=None, doses=1, loading=None, until=None,
                    amount=amount or regimen.amount)
    return expand_regimen(single, weight_kg=weight_kg, start_h=at_h)


def _rows(result, rows: slice):
    """The patients ``rows`` of a result."""
    return replace(result, outputs=result.outputs[rows], states=result.states[rows],
                   parameters=result.parameters[rows], status=result.status[rows])


