"""Background (standard-of-care) co-treatments: who receives them, when, and their doses.

A trial file's ``background`` section (:class:`~il6sim.trial._design.Background`) gives
co-treatments such as corticosteroids to a ``fraction`` of patients in every arm. For each
entry *k* and candidate *i*, one uniform number from the trial's seed, stream
:data:`BACKGROUND_STREAM` + *k* and the candidate's number decides whether *i* receives it
(:func:`drawn`), so the draw is the same in every arm and in every run, and arms are balanced in
expectation (simple randomisation of a covariate; the realised shares are reported).

**Timing.** Start times are absolute hours on the screening clock (hours since infection):

- anchored at randomisation (``at: randomisation``, or ``when``/``day_since_onset`` with
  ``after: randomisation``), the co-treatment starts at or after time 0 of follow-up and all its
  doses are given in the arms' simulations;
- anchored at admission, it may start before randomisation: the screening course of the
  patients who receive it is simulated again with those doses (:meth:`Plan.early_doses`), so
  eligibility and the state at randomisation (drug amounts included) reflect them, and only the
  doses after randomisation are given in the arms. An output at a dose time is the post-dose
  value (:mod:`il6sim.engine.reference`), so a dose at exactly the randomisation time is in the
  state and not given again.

``when`` rules are read on the untreated screening course, as an arm's rules are. A patient who
had all its doses before randomisation gets a zero-amount marker dose at time 0 in the arms so
that the engine keeps the drug's parameters for what is left in the body
(:func:`il6sim.pharmacology.apply_drug_doses`).

**With a control-risk calibration** (:func:`il6sim.trial._run.acceptance`) patients are accepted
with a probability that depends on whether they die in the control arm. A background treatment
changes that risk, so one acceptance for everyone would change the background's share among
the randomised patients (82 % declared gave 88 % in a 400-patient RECOVERY run).
:func:`stratified_acceptance` keeps three things: the target risk, the strata's shares
(``corticosteroids=1``, ``corticosteroids=0``, ...) and the odds ratio of death between strata.
A death is accepted with probability ``c·a / (1 − p_s + a·p_s)`` and a survivor with
``c / (1 − p_s + a·p_s)`` in stratum *s* (untreated risk *p_s*). A baseline mix
(:mod:`._entry`) adds its stratum to the key (``corticosteroids=1,stratum=2``), so the mix and
the risk gradient between its strata are kept too. The common factor *a* multiplies
every stratum's odds of death, so the odds ratios stay; it is solved so that the pooled risk of
the accepted patients is the target. Each stratum's acceptance is then ``c / (1 − p_s + a·p_s)``
of its patients times the same ``1 − p_s + a·p_s``, equal across strata, so the shares stay;
*c* is the largest value that keeps every probability at most 1. With one stratum this is the
single acceptance of :func:`il6sim.trial._run.acceptance`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import Model
from ..pharmacology import apply_drug_doses, expand_regimen
from ..population._course import first_time
from ..population._sample import patient_uniforms
from ._design import Background, TrialSpec
from ._signals import Course, holds, threshold

__all__ = ["BACKGROUND_STREAM", "Plan", "check_background", "drawn", "strata",
           "stratified_acceptance"]

#: Random stream of background entry k is BACKGROUND_STREAM + k.
BACKGROUND_STREAM = 6000


def drawn(design: TrialSpec, patients: np.ndarray) -> dict[str, np.ndarray]:
    """Which candidates ``patients`` are drawn to receive each background entry (by name)."""
    return {entry.name: patient_uniforms(design.seed, patients, stream=BACKGROUND_STREAM + k)
            < entry.fraction for k, entry in enumerate(design.background)}


def strata(design: TrialSpec, columns: Any) -> np.ndarray:
    """Each patient's stratum from its ``on_<name>`` values and, with a baseline mix, its
    ``baseline_stratum`` (a table or a mapping of columns): ``"corticosteroids=1"``, or
    ``"a=1,b=0,stratum=2"`` with two entries and a mix."""
    parts = [np.where(np.asarray(columns[e.column], float) > 0.5, f"{e.name}=1", f"{e.name}=0")
             for e in design.background]
    if design.enrolment.baseline_mix is not None:
        drawn = np.asarray(columns["baseline_stratum"], float)
        parts.append(np.array([f"stratum={k:g}" for k in drawn], dtype=object))
    return np.array([",".join(keys) for keys in zip(*parts, strict=True)], dtype=object)


def stratified_acceptance(died: np.ndarray, keys: np.ndarray, target: float
                          ) -> dict[str, list[float]] | None:
    """Per background stratum, the probabilities ``[keep a death, keep a survivor]`` that give
    the accepted patients the ``target`` risk while keeping the strata's shares and odds ratios
    (module docstring); None when no common odds factor reaches the target."""
    from scipy.optimize import brentq

    names = sorted(set(keys))
    share = np.array([np.mean(keys == key) for key in names])
    risk = np.array([np.mean(died[keys == key]) for key in names])

    def excess(log_a: float) -> float:
        a = np.exp(log_a)
        return float(np.sum(share * a * risk / (1 - risk + a * risk))) - target

    if excess(-30.0) > 0 or excess(30.0) < 0:
        return None
    a = float(np.exp(brentq(excess, -30.0, 30.0, xtol=1e-12)))
    mass = 1 - risk + a * risk  # each stratum's accepted fraction before the common factor
    c = float(np.min(mass)) / max(a, 1.0)
    return {str(key): [min(c * a / m, 1.0), min(c / m, 1.0)]
            for key, m in zip(names, mass, strict=True)}


def _events(regimen: Any, weight_kg: float, start_h: float, until_h: float) -> pd.DataFrame:
    return expand_regimen(regimen, weight_kg=weight_kg, start_h=start_h, until_h=until_h)


def check_background(design: TrialSpec, model: Model) -> list[list[tuple[Any, float | bool]]]:
    """Check each entry against the model and the drug files; its ``when`` criteria with their
    thresholds. A problem is an :class:`InputError` starting with the field
    (``background[0].treatment: ...``)."""
    rules = []
    for k, entry in enumerate(design.background):
        when = []
        for j, criterion in enumerate(entry.start.when or []):
            field = f"background[{k}].start.when[{j}]"
            try:
                when.append((criterion, threshold(criterion, model, field)))
            except InputError as exc:
                text = str(exc)
                raise InputError(text if text.startswith(field) else f"{field}: {text}"
                                 ) from None
        rules.append(when)
        try:
            _events(entry.treatment.regimen_or_schedule(), 70.0, 0.0, design.horizon_h)
        except InputError as exc:
            raise InputError(f"background[{k}].treatment: {exc}") from None
        except Exception as exc:  # ScenarioFieldError from the treatment's own checks
            raise InputError(f"background[{k}].treatment: {getattr(exc, 'message', exc)}"
                             ) from None
    _check_together(design, model)
    return rules


def _check_together(design: TrialSpec, model: Model) -> None:
    """Each background drug must go with every other and with every arm's drug (the model has
    one slot per kind of drug: :func:`il6sim.pharmacology.apply_drug_doses` refuses two
    antibodies for one patient)."""
    matrix = np.zeros((1, len(model.param_index)))

    def first_dose(treatment) -> pd.DataFrame:
        return _events(treatment.regimen_or_schedule(), 70.0, 0.0, 24.0).iloc[:1]

    for k, entry in enumerate(design.background):
        others = [(f"background '{b.name}'", b.treatment) for b in design.background[:k]]
        others += [(f"arm '{a.name}'", a.treatment) for a in design.arms if a.treatment]
        for name, treatment in others:
            doses = pd.concat([first_dose(entry.treatment), first_dose(treatment)],
                              ignore_index=True).assign(patient=0)
            try:
                apply_drug_doses(model, matrix, doses)
            except InputError as exc:
                raise InputError(f"background[{k}].treatment: '{entry.name}' cannot be given "
                                 f"with {name}: {exc}") from None


@dataclass
class Plan:
    """The background of one chunk of candidates (rows of the screening run).

    ``receives[name]`` : drawn to receive it; ``early[name]`` : absolute start hours of the
    entries anchored at admission (NaN: none), known before enrolment.
    """

    design: TrialSpec
    rules: list
    receives: dict[str, np.ndarray]
    early: dict[str, np.ndarray]
    screen_end_h: float

    @classmethod
    def make(cls, design: TrialSpec, rules: list, patients: np.ndarray, c: Course) -> Plan:
        receives = drawn(design, patients)
        early = {}
        admission = c.course["admission_h"].to_numpy(float)
        for entry, when in zip(design.background, rules, strict=True):
            if entry.start.anchor == "admission":
                start = _start(entry, when, c, np.arange(len(patients)), admission)
                early[entry.name] = np.where(receives[entry.name], start, np.nan)
        return cls(design, rules, receives, early, float(c.time[-1]))

    def early_doses(self, weights: np.ndarray) -> pd.DataFrame | None:
        """Dose rows (absolute hours; ``patient`` = row) of the entries anchored at admission,
        before the end of the screening run (a dose at its last time would not show in it);
        None when there are none."""
        until_h = self.screen_end_h
        rows = []
        for entry in self.design.background:
            if entry.name not in self.early:
                continue
            regimen = entry.treatment.regimen_or_schedule()
            start = self.early[entry.name]
            for i in np.flatnonzero(np.isfinite(start) & (start < until_h)):
                events = _events(regimen, float(weights[i]), float(start[i]), until_h)
                rows.append(events[events["time_h"] < until_h].assign(patient=i))
        return pd.concat(rows, ignore_index=True) if rows else None

    def arm_doses(self, c: Course, chosen: np.ndarray, enrol: np.ndarray, weights: np.ndarray
                  ) -> tuple[list[pd.DataFrame], dict[str, np.ndarray]]:
        """The enrolled patients' background doses after randomisation (hours from it), one
        table per patient (``patient`` = position in ``chosen``), and per entry the columns
        ``on_<name>`` and ``<name>_start_day``."""
        design, followup = self.design, self.design.horizon_h
        t0 = c.time[enrol]
        per_patient: list[list[pd.DataFrame]] = [[] for _ in chosen]
        columns: dict[str, np.ndarray] = {}
        for entry, when in zip(design.background, self.rules, strict=True):
            regimen = entry.treatment.regimen_or_schedule()
            if entry.name in self.early:
                start = self.early[entry.name][chosen]
            else:
                start = _start(entry, when, c, chosen, t0)
                start = np.where(self.receives[entry.name][chosen], start, np.nan)
            given = np.isfinite(start) & (start <= t0 + followup)
            columns[entry.column] = given.astype(float)
            columns[f"{entry.name}_start_day"] = np.where(given, (start - t0) / 24.0, np.nan)
            early = entry.name in self.early
            for i in np.flatnonzero(given):
                events = _events(regimen, float(weights[i]), float(start[i]), t0[i] + followup)
                time = events["time_h"]
                # doses of the re-run screening are in the state at randomisation
                after = ((time > t0[i]) | (time >= self.screen_end_h)) if early \
                    else time >= t0[i]
                later = events[after & (events["time_h"] <= t0[i] + followup)]
                if later.empty:  # every dose before randomisation: keep the drug's parameters
                    later = events.iloc[:1].assign(time_h=t0[i], amount=0.0)
                per_patient[i].append(later.assign(time_h=later["time_h"] - t0[i]))
        tables = [pd.concat(parts, ignore_index=True).assign(patient=i) if parts else None
                  for i, parts in enumerate(per_patient)]
        return tables, columns


def _start(entry: Background, when: list, c: Course, rows: np.ndarray, anchor: np.ndarray
           ) -> np.ndarray:
    """Absolute start hours of ``entry`` for the screening rows ``rows``, from ``anchor`` (their
    admission or randomisation hours; NaN: never)."""
    rule = entry.start
    if rule.day_since_onset is not None:
        onset = c.course["onset_h"].to_numpy(float)[rows]
        start = np.maximum(onset + 24.0 * rule.day_since_onset, anchor)
    elif rule.when:
        mask = np.ones((len(rows), len(c.time)), bool)
        for criterion, value in when:
            mask &= holds(criterion, c, value)[rows]
        mask &= (c.time[None, :] >= anchor[:, None] - 1e-9) \
            & (c.time[None, :] <= anchor[:, None] + rule.within_h + 1e-9)
        start = first_time(c.time, mask)
    else:
        start = anchor.astype(float)
    return start + rule.delay_h + entry.treatment.start_h
