"""Hospital-acquired infections in a trial arm: the event drawn from the hazard becomes an inoculum.

With ``hospital_infection`` in the trial file (:class:`~il6sim.trial._design.HospitalInfection`),
every arm of every enrolled patient is simulated from randomisation as usual; then

1. the hazard of :func:`il6sim.clinical.hai_hazard` is read along that arm's own course (device,
   IL-6 defence deficit, glucocorticoid response, lymphopenia), zero after death or discharge;
2. the onset is the first time the accumulated hazard reaches the patient's unit-exponential
   threshold, one per patient from its own random stream and the same in every arm (common
   random numbers), so an arm has more infections only because its course carries more hazard;
3. a patient with an onset is simulated again from randomisation with, at the onset, an
   inoculum of the declared pathogen at a pneumonia-sized site and the usual-care antibiotic
   after its delay. Before the onset nothing differs (the bacterial compartment is empty, so
   the pathogen's parameters have no effect yet); after it, whether the patient dies comes from
   the model (bacterial growth, sepsis, SOFA, the death hazard), with no death hazard added.

The course before the onset does not depend on the infection, so one extra simulation of the
infected patients is exact. Only the first infection is drawn. A patient with a declared
``coinfection`` keeps the co-infection's pathogen (one bacterial compartment).

Columns per arm (:meth:`HaiPlan.apply`): ``hospital_infection`` (0/1), ``hai_day`` (days from
randomisation) and ``died_without_hai`` (whether the same patient, in the same arm, dies without
the infection), so the deaths an infection causes are counted, not guessed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..clinical import cumulative_hazard, death_hazard, discharge_time, hai_hazard, hai_onset
from ..errors import InputError
from ..population._course import first_time
from ..population._sample import patient_uniforms
from ..scenario._schema import parse_time
from ._design import TrialSpec

__all__ = ["CHECK_TRIAL", "HAI_STREAM", "SITE_CAPACITY", "HaiPlan", "hai_lines", "hai_measurements",
           "hai_summary", "inoculum_doses", "with_hai"]

#: Random stream of the hospital-acquired infection thresholds (shared by all arms).
HAI_STREAM = 3002
#: Carrying capacity of the infected site (CFU/mL): one lobe, as the ``bacterial-pneumonia``
#: preset (quantitative cultures of pneumonic lung 1e7–1e9 CFU/g).
SITE_CAPACITY = 1.0e8


def inoculum_doses(model, field: str, *, at_h: float, agent: str, route: str, amount,
                   antibiotic, pathogen: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """Dose rows (hours) of a bacterial inoculum and its usual-care antibiotic, and the
    pathogen profile's parameters in the model's units.

    ``amount`` of ``agent`` by ``route`` at ``at_h``; then, unless ``antibiotic`` is None, its
    ``doses`` of ``amount`` every ``interval`` from ``start`` after the inoculum
    (:class:`~il6sim.trial._design.Antibiotic`). ``field`` is the trial file's section
    (``coinfection``, ``hospital_infection``), named in errors. Used for a trial's co-infection
    (:class:`~il6sim.trial.TrialTask`) and hospital-acquired infection (:class:`HaiPlan`).
    """
    from ..engine.doses import dose_table as normalise
    from ..scenario import pathogen_parameters
    from ..scenario._schema import DoseSpec, ScenarioFieldError, dose_amount

    specs = [(field, DoseSpec(time=at_h, agent=agent, route=route, amount=amount))]
    if antibiotic is not None:
        first = at_h + parse_time(antibiotic.start, what=f"{field}.antibiotic.start")
        step = parse_time(antibiotic.interval, what=f"{field}.antibiotic.interval")
        specs += [(f"{field}.antibiotic", DoseSpec(time=first + k * step, agent="antibiotic",
                                                   route="iv", amount=antibiotic.amount))
                  for k in range(antibiotic.doses)]
    rows = []
    for where, dose in specs:
        try:
            dose_units, unit = dose_amount(model, dose, where)
        except ScenarioFieldError as exc:
            raise InputError(f"{exc.field}: {exc.message}") from None
        rows.append({"time_h": float(dose.time), "agent": dose.agent, "route": dose.route,
                     "amount": dose_units, "unit": unit})
    parameters = {name: model.convert_parameter(name, value)
                  for name, value in pathogen_parameters(pathogen).items()}
    return normalise(rows), parameters


class HaiPlan:
    """The dose rows (hours after the onset) and pathogen parameters of a trial's hospital-
    acquired infection; :meth:`make` returns None when the trial declares none."""

    def __init__(self, rows: pd.DataFrame, parameters: dict[str, float],
                 defaults: dict[str, float]):
        self.rows, self.parameters, self.defaults = rows, parameters, defaults

    @classmethod
    def make(cls, design: TrialSpec, model) -> HaiPlan | None:
        spec = design.hospital_infection
        if spec is None:
            return None
        rows, parameters = inoculum_doses(model, "hospital_infection", at_h=0.0, agent="bacteria",
                                          route="inoculation", amount=spec.amount,
                                          antibiotic=spec.antibiotic, pathogen=spec.pathogen)
        parameters["K_bac_capacity"] = SITE_CAPACITY
        defaults = {name: model.parameter(name).value for name in parameters}
        return cls(rows, parameters, defaults)

    @staticmethod
    def thresholds(seed: int, patients: np.ndarray) -> np.ndarray:
        """Each patient's unit-exponential threshold (the same in every arm)."""
        u = patient_uniforms(seed, np.asarray(patients), stream=HAI_STREAM)
        return -np.log1p(-u)

    def apply(self, result, params: pd.DataFrame, doses: pd.DataFrame | None,
              states: np.ndarray, *, threshold: np.ndarray, threshold_left: np.ndarray,
              rest: np.ndarray, keep_pathogen: np.ndarray, mortality_h: float,
              simulate_again) -> tuple[object, pd.DataFrame]:
        """The arms' result with infected patients simulated again, and per row of ``result``
        the columns ``hospital_infection``, ``hai_day``, ``hai_probability`` (of an onset within
        the run, from the hazard of the course without infection) and ``died_without_hai``.

        ``params``, ``doses`` and ``states`` are what ``result`` was simulated from (one row per
        patient and arm; ``doses['patient']`` numbers those rows); ``threshold`` the HAI
        thresholds, ``threshold_left`` the death thresholds left at randomisation, ``rest`` the
        resting leukocyte IL-6 signals and ``keep_pathogen`` the co-infected rows, per row;
        ``mortality_h`` the follow-up of death; ``simulate_again(params, doses, states)``
        simulates rows like ``result``.
        """
        time = result.time
        cumulative = cumulative_hazard(time, death_hazard(result))
        death_h = first_time(time, cumulative >= threshold_left[:, None])
        discharge_h = discharge_time(result, death_h)
        hazard = hai_hazard(result, rest=rest, death_h=death_h, discharge_h=discharge_h)
        ok = np.array([s == "ok" for s in result.status])
        onset = np.where(ok, hai_onset(hazard, time, threshold), np.nan)
        dt = np.diff(time, prepend=time[0])
        columns = pd.DataFrame({"hospital_infection": np.isfinite(onset).astype(float),
                                "hai_day": onset / 24.0,
                                "hai_probability": -np.expm1(-(hazard * dt).sum(axis=1)),
                                "died_without_hai": (death_h <= mortality_h + 1e-9).astype(float)})
        infected = np.flatnonzero(np.isfinite(onset))
        if not len(infected):
            return result, columns
        again = params.iloc[infected].reset_index(drop=True)
        fresh = ~np.asarray(keep_pathogen, bool)[infected]
        for name, value in self.parameters.items():
            column = again[name].to_numpy(float) if name in again \
                else np.full(len(again), self.defaults[name])
            again[name] = np.where(fresh, value, column)
        position = pd.Series(np.arange(len(infected)), index=infected)
        parts = []
        if doses is not None:
            mine = doses[doses["patient"].isin(infected)]
            parts.append(mine.assign(patient=position[mine["patient"]].to_numpy()))
        end = time[-1]
        for k, i in enumerate(infected):
            events = self.rows.assign(time_h=self.rows["time_h"] + onset[i], patient=k)
            parts.append(events[events["time_h"] <= end + 1e-9])
        redone = simulate_again(again, pd.concat(parts, ignore_index=True), states[infected])
        outputs, new_states = result.outputs.copy(), result.states.copy()
        outputs[infected], new_states[infected] = redone.outputs, redone.states
        parameters = result.parameters.copy()
        columns_here = [result.param_names.index(n) for n in redone.param_names
                        if n in result.param_names]
        parameters[np.ix_(infected, columns_here)] = redone.parameters[:, [
            redone.param_names.index(result.param_names[c]) for c in columns_here]]
        status = list(result.status)
        for k, i in enumerate(infected):
            status[i] = redone.status[k]
        return replace(result, outputs=outputs, states=new_states, parameters=parameters,
                       status=status), columns


def with_hai(ends: pd.DataFrame, hai: pd.DataFrame, horizon_h: float) -> pd.DataFrame:
    """One arm's endpoints (:func:`._endpoints.arm_endpoints`) with the hospital-acquired
    infection columns added, and ``secondary_infection`` (with its probability) read from the
    infection event within ``horizon_h`` instead of the formula of
    :func:`il6sim.clinical.secondary_infection_probability`."""
    ok = (ends["status"] == "ok").to_numpy()
    out = ends.copy()
    for column in ("hospital_infection", "hai_day", "died_without_hai"):
        out[column] = np.where(ok, hai[column].to_numpy(float), np.nan)
    within = hai["hai_day"].to_numpy(float) * 24.0 <= horizon_h + 1e-9
    out["secondary_infection"] = np.where(ok, within.astype(float), np.nan)
    out["secondary_infection_probability"] = np.where(ok, hai["hai_probability"], np.nan)
    return out


def hai_summary(result) -> pd.DataFrame:
    """Hospital-acquired infections per arm of a :class:`~il6sim.trial.TrialResult`, over all
    patients simulated in both arms (potential outcomes), empty without ``hospital_infection``.

    Columns: ``arm``, ``n``, ``infected`` (patients with an onset), ``infected_share``,
    ``deaths_infected`` (of them, deaths), ``caused`` (deaths that the same patient in the same
    arm escapes without the infection), ``harmed`` / ``helped`` (dies in this arm and survives
    in the control arm, or the reverse; NaN for the control arm) and ``harmed_infected`` (of
    the harmed, those with an infection in this arm).
    """
    design, patients = result.design, result.patients
    if design.hospital_infection is None or "hospital_infection@" + design.control \
            not in patients:
        return pd.DataFrame()
    control = patients[f"died@{design.control}"].to_numpy(float) > 0.5
    rows = []
    for arm in design.arm_names:
        ok = patients[f"died@{arm}"].notna().to_numpy()
        died = patients[f"died@{arm}"].to_numpy(float) > 0.5
        infected = patients[f"hospital_infection@{arm}"].to_numpy(float) > 0.5
        without = patients[f"died_without_hai@{arm}"].to_numpy(float) > 0.5
        row = {"arm": arm, "n": int(ok.sum()), "infected": int((infected & ok).sum()),
               "deaths_infected": int((infected & died).sum()),
               "caused": int((infected & died & ~without).sum())}
        row["infected_share"] = row["infected"] / row["n"] if row["n"] else np.nan
        if arm == design.control:
            row.update(harmed=np.nan, helped=np.nan, harmed_infected=np.nan)
        else:
            harmed = died & ~control & ok
            row.update(harmed=int(harmed.sum()), helped=int((~died & control & ok).sum()),
                       harmed_infected=int((harmed & infected).sum()))
        rows.append(row)
    return pd.DataFrame(rows)


def hai_lines(result) -> list[str]:
    """The report's section on hospital-acquired infections (none without them)."""
    table = hai_summary(result)
    if not len(table):
        return []
    spec = result.design.hospital_infection
    lines = ["", "## Hospital-acquired infections (every patient in every arm)", "",
             f"Onsets drawn from each arm's own course (`il6sim.clinical.hai_hazard`); at the "
             f"onset {spec.amount} of {spec.pathogen} at a pneumonia site, "
             + ("no antibiotic" if spec.antibiotic is None else
                f"{spec.antibiotic.amount} every {spec.antibiotic.interval} from "
                f"{spec.antibiotic.start} ({spec.antibiotic.doses} doses)")
             + "; death from the model.", "",
             "| arm | n | infected | deaths among infected | deaths caused by the infection | "
             "harmed vs control (infected) | helped vs control |", "|---|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        harm = "—" if not np.isfinite(row["harmed"]) else \
            f"{int(row['harmed'])} ({int(row['harmed_infected'])})"
        helped = "—" if not np.isfinite(row["helped"]) else str(int(row["helped"]))
        lines.append(f"| {row['arm']} | {row['n']} | {row['infected']} "
                     f"({100 * row['infected_share']:.1f} %) | {row['deaths_infected']} | "
                     f"{row['caused']} | {harm} | {helped} |")
    return lines


#: The trial the checked rows of ``data/targets/hospital_infection.yaml`` are measured on.
CHECK_TRIAL = "recovery-tocilizumab"


def hai_measurements(patients: pd.DataFrame, control: str = "usual care",
                     treated: str = "tocilizumab") -> dict[str, float]:
    """The checked rows of ``data/targets/hospital_infection.yaml`` on a trial's patients
    (every patient in both arms): the share infected under ``control``, the ratio of the shares
    under ``treated`` and ``control``, the share infected among patients ventilated at
    randomisation under ``control``, and the share of the infected under ``control`` who die
    because of the infection (alive without it in the same arm)."""
    infected = patients[f"hospital_infection@{control}"].to_numpy(float) > 0.5
    treated_infected = patients[f"hospital_infection@{treated}"].to_numpy(float) > 0.5
    ventilated = patients["baseline_imv"].to_numpy(float) > 0.5
    caused = (patients[f"died@{control}"].to_numpy(float) > 0.5) \
        & (patients[f"died_without_hai@{control}"].to_numpy(float) < 0.5)
    share = infected.mean()
    return {"hai.covid_usual_care_share": float(share),
            "hai.covid_tocilizumab_ratio": float(treated_infected.mean() / share)
            if share else np.nan,
            "hai.vap_share_ventilated": float(infected[ventilated].mean())
            if ventilated.any() else np.nan,
            "hai.vap_attributable_mortality": float(caused[infected].mean())
            if infected.any() else np.nan}
