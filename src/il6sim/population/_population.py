""":class:`VirtualPopulation`: sample virtual patients, calibrate them to a real cohort, save them.

The method (details in ``docs/population.md``):

1. **Plausible population.** Patients are drawn from the declaration (covariates, times of the
   course, between-patient parameter variability; :mod:`._sample`), infected at time 0 and
   simulated with the fast engine; each is admitted by the clinical rule of :mod:`._course`,
   which records the laboratory values at admission and in-hospital death.
2. **Prevalence weights** make the admitted patients' distributions of age, sex, IL-6, CRP, LDH
   and lymphocytes, separately for survivors and non-survivors, and the death fraction, match
   the cohort's within the cohort's sampling error (:mod:`._balance`, entropy balancing).
3. **Adaptive rounds** draw further patients around the weighted ones (:mod:`._adapt`), and
   the pooled population is weighted again.
4. **Selection**: Allen 2016 acceptance turns the weights into an unweighted population, and
   :mod:`._goodness` reports KS statistics per marker and outcome and the death fraction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ._adapt import Proposal, draw_round, refit_proposal
from ._balance import (
    constraint_matrix,
    effective_size,
    entropy_weights,
    margins,
    membership,
    published_margin,
    select,
)
from ._calibrated import prior_death_thresholds, save_calibrated
from ._course import simulate_course
from ._defaults import DEFAULT_PATIENTS
from ._goodness import (
    association_table,
    course_summary,
    death_summary,
    ks_table,
    membership_ks,
)
from ._io import load_table, save_table
from ._sample import _check_seed, dose_table, draw, parameter_table, patient_normals
from ._spec import PopulationSpec, load_population_spec
from ._targets import CohortTargets, cohort_targets

__all__ = ["VirtualPopulation", "coordinate_columns", "coordinate_frame"]

#: Stream number of the acceptance draws (rounds use streams 0, 1, 2, ...).
ACCEPTANCE_STREAM = 1000
#: Cohort covariates that can be calibrated when the declaration has them.
COHORT_COVARIATES = ("age", "male")


class VirtualPopulation:
    """A virtual patient population declared as data and calibrated to a real cohort.

    Parameters
    ----------
    spec : a shipped declaration name (``"covid19-hospitalised"``), a YAML path or a mapping.
    n : virtual patients simulated in :meth:`fit`, over all rounds.
    rounds : sampling rounds in :meth:`fit` (1 = prior only; see :mod:`._adapt`).
    random_state : seed of every draw (a whole number ≥ 0).
    backend : engine backend, ``"fast"`` (default) or ``"reference"``.
    window_hours : the cohort's admission values are its first values within this window.
    tolerance : how closely the weights match the cohort, in units of the cohort's sampling
        error (:func:`._balance.entropy_weights`).

    Attributes (after :meth:`fit`)
    -------------------------------
    population_ : the selected virtual patients (one row each; covariates, course times,
        parameters, admission time, laboratory values at admission, outcome).
    plausible_ : every simulated patient with ``round``, ``weight``, ``selected`` and its
        standard-normal coordinates (``z:<coordinate>`` columns, :func:`coordinate_frame`), from
        which :meth:`draw_calibrated` draws new patients.
    goodness_of_fit_ : KS table per marker and outcome group (:func:`._goodness.ks_table`).
    deaths_ : death fraction in the cohort, the selected and the weighted population.
    course_ : clinical course of the selected patients by outcome (admission route and timing,
        days to death against the cohort's, ventilation, SOFA).
    associations_ : AUC of each marker for death and Spearman correlations between markers,
        cohort vs virtual (not calibrated).
    summary_ : numbers of the fit (sizes, effective sample size, constraint errors, timing).
    targets_ : the cohort's admission values (:class:`._targets.CohortTargets`).

    Examples
    --------
    >>> pop = VirtualPopulation(n=16000, random_state=1).fit(load_cohort())
    >>> pop.goodness_of_fit_                      # KS per marker and outcome group
    >>> result = il6sim.simulate(pop.parameters(), pop.doses(), t_end=49 * 24, backend="fast")
    """

    def __init__(self, spec: str | Path | Mapping[str, Any] = "covid19-hospitalised", *,
                 n: int = DEFAULT_PATIENTS, rounds: int = 8, random_state: int = 0,
                 backend: str = "fast",
                 window_hours: float = 48.0, tolerance: float = 1.0):
        self.spec = spec
        self.n = n
        self.rounds = rounds
        self.random_state = random_state
        self.backend = backend
        self.window_hours = window_hours
        self.tolerance = tolerance

    # ------------------------------------------------------------------ declaration, sampling
    @property
    def spec_(self) -> PopulationSpec:
        """The validated declaration."""
        cached = self.__dict__.get("_spec")
        if cached is None or cached[0] is not self.spec:
            cached = (self.spec, load_population_spec(self.spec))
            self.__dict__["_spec"] = cached
        return cached[1]

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        """``n`` patients drawn from the declared (prior) distributions.

        Each row depends only on the seed and the patient's index (``sample(10)`` is the first
        ten rows of ``sample(1000)``). Columns: see :func:`il6sim.population._sample.draw`.
        """
        n = _check_count("n", n)
        seed = _check_seed(self.random_state if random_state is None else random_state)
        spec = self.spec_
        return draw(spec, patient_normals(seed, np.arange(n), len(spec.coordinates)))

    def parameters(self, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """Engine parameter input (one row per patient) for ``table`` (default: the fitted
        population), including the base scenario's fixed values."""
        return parameter_table(self.spec_, self._table(table))

    def doses(self, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """The infecting dose of each patient of ``table`` (default: the fitted population)."""
        return dose_table(self.spec_, self._table(table))

    def _table(self, table: pd.DataFrame | None) -> pd.DataFrame:
        if table is not None:
            return table
        if not hasattr(self, "population_"):
            raise InputError("this VirtualPopulation is not fitted; fix: call fit(cohort) or "
                             "load() a fitted population, or pass a table from sample()")
        return self.population_

    # ------------------------------------------------------------------ calibration
    def fit(self, cohort, *, progress: Callable[[str], None] | None = None) -> VirtualPopulation:
        """Calibrate to ``cohort`` (an :class:`il6sim.cohort.Cohort`); returns ``self``.

        Raises
        ------
        InputError
            bad settings, or a cohort without survivors and non-survivors or without values of
            a calibration marker.
        """
        started = time.perf_counter()
        n = _check_count("n", self.n)
        rounds = _check_count("rounds", self.rounds)
        if rounds > n:
            raise InputError(f"rounds = {rounds} exceeds n = {n}; fix: simulate at least one "
                             "patient per round")
        seed = _check_seed(self.random_state)
        spec = self.spec_
        say = progress or (lambda message: None)
        targets = cohort_targets(cohort, list(spec.markers),
                                 optional=list(spec.validation_markers),
                                 window_hours=self.window_hours)
        targets.declared_death_fraction = spec.death_fraction
        columns = [c for c in COHORT_COVARIATES if c in spec.covariates] + list(spec.markers)
        bins = margins(targets.values, columns)
        if spec.incubation is not None and spec.incubation_cases:
            bins.append(published_margin("onset_h", spec.incubation, spec.incubation_scale_h,
                                         spec.incubation_cases))
        per_round = int(np.ceil(n / rounds))
        coordinates, tables, courses, history = [], [], [], []
        weights = proposal = None
        for k in range(rounds):
            count = min(per_round, n - k * per_round)
            if count <= 0:
                break
            if k == 0:
                proposal = Proposal.prior(len(spec.coordinates), count)
            else:
                admitted = pd.concat(courses)["admitted"].to_numpy()
                proposal = refit_proposal(np.vstack(coordinates)[admitted], weights, count)
            z = draw_round(seed, k, k * per_round, proposal)
            if k > 0:
                z = prior_death_thresholds(spec, z, seed, np.arange(k * per_round,
                                                                    k * per_round + count))
            table = draw(spec, z, patients=np.arange(k * per_round, k * per_round + count))
            table.insert(1, "round", k)
            say(f"round {k + 1}/{rounds}: simulating {count} patients")
            course = simulate_course(spec, table, read_delay_h=targets.read_delay_h,
                                     limits=targets.limits, backend=self.backend)
            coordinates.append(z)
            tables.append(table)
            courses.append(course)
            plausible = pd.concat([pd.concat(tables, ignore_index=True),
                                   pd.concat(courses, ignore_index=True)], axis=1)
            weights, errors = self._weights(plausible, bins, targets)
            history.append({"round": k, "simulated": len(plausible),
                            "admitted": int(plausible["admitted"].sum()),
                            "ess": effective_size(weights),
                            "max_error_se": float(np.abs(errors).max())})
            say(f"round {k + 1}/{rounds}: effective sample size {history[-1]['ess']:.0f}")
        plausible = pd.concat([plausible, coordinate_frame(spec, np.vstack(coordinates))], axis=1)
        self._finish(spec, plausible, weights, errors, targets, columns, history, seed)
        self.summary_["seconds"] = time.perf_counter() - started
        return self

    def _weights(self, plausible: pd.DataFrame, bins, targets: CohortTargets):
        admitted = plausible[plausible["admitted"]]
        member = membership(admitted)
        if admitted.empty or member[1].sum() <= 0.0 or member[0].sum() <= 0.0:
            raise InputError(
                "no simulated admitted patient has a chance of dying (or of surviving); fix: "
                "simulate more patients (n) or widen the declared variability")
        constraints = constraint_matrix(admitted, bins, targets.death_fraction,
                                        len(targets.values))
        weights, errors = entropy_weights(constraints, tolerance=self.tolerance)
        self._constraints = constraints
        return weights, errors

    def _finish(self, spec, plausible, weights, errors, targets, columns, history, seed):
        admitted_mask = plausible["admitted"].to_numpy(bool)
        admitted = plausible[admitted_mask].reset_index(drop=True)
        ids = admitted["patient"].to_numpy()
        uniforms = stats.norm.cdf(
            patient_normals(seed, ids, 1, stream=ACCEPTANCE_STREAM)[:, 0])
        real = targets.values
        death = targets.death_fraction

        def score(mask):
            chosen = admitted[mask]
            return (membership_ks(real, chosen, columns)
                    + abs(chosen["death_probability"].mean() - death))

        selected, factors = select(weights, uniforms, score)
        full_weights = np.zeros(len(plausible))
        full_weights[admitted_mask] = weights
        full_selected = np.zeros(len(plausible), bool)
        full_selected[np.flatnonzero(admitted_mask)[selected]] = True
        self.plausible_ = plausible.assign(weight=full_weights, selected=full_selected)
        self.population_ = self.plausible_[full_selected].drop(
            columns=["weight", "selected", *coordinate_columns(spec)]).reset_index(drop=True)
        shown = columns + [m for m in targets.values.columns
                           if m not in columns and m not in ("died",)]
        self.goodness_of_fit_ = ks_table(real, admitted[selected], shown, fitted=columns,
                                         plausible=admitted, weights=weights,
                                         prior=admitted[admitted["round"] == 0])
        self.deaths_ = death_summary(real, admitted[selected], admitted, weights,
                                     prior=admitted[admitted["round"] == 0],
                                     declared=targets.declared_death_fraction)
        self.course_ = course_summary(admitted[selected], real)
        self.associations_ = association_table(real, admitted[selected], list(spec.markers))
        self.targets_ = targets
        self.acceptance_ = factors
        chosen = factors.loc[factors["score"].idxmin()]
        self.summary_ = {
            "population": spec.name, "seed": seed, "n_simulated": len(plausible),
            "n_admitted": int(admitted_mask.sum()), "n_selected": int(selected.sum()),
            "rounds": history, "effective_sample_size": effective_size(weights),
            "max_constraint_error_se": float(np.abs(errors).max()),
            "acceptance_factor": float(chosen["factor"]), "cohort": targets.source,
            "cohort_patients": len(real), "window_hours": targets.window_hours,
            "read_delay_h": targets.read_delay_h, "calibrated": columns,
        }

    # ------------------------------------------------------------------ saving
    def save(self, path: str | Path, *, plausible: bool = False) -> Path:
        """Write the fitted population (or, with ``plausible=True``, every simulated patient with
        its weight) to Parquet, with the declaration and the fit summary in its metadata."""
        table = self.plausible_ if plausible else self._table(None)
        info = {"seed": self.random_state, "fitted": True, "summary": self.summary_,
                "goodness_of_fit": self.goodness_of_fit_.to_dict(orient="list"),
                "deaths": self.deaths_.to_dict(orient="list"),
                "course": self.course_.to_dict(orient="list"),
                "associations": self.associations_.to_dict(orient="list"),
                "settings": {"n": self.n, "rounds": self.rounds, "backend": self.backend,
                             "window_hours": self.window_hours, "tolerance": self.tolerance}}
        return save_table(table, path, spec=self.spec_.raw, info=info)

    def save_calibrated(self, path: str | Path) -> Path:
        """Write the kernel source for new calibrated patients (coordinates and weights of the
        weighted plausible patients; :mod:`._calibrated`), e.g. for trials."""
        if not hasattr(self, "plausible_"):
            raise InputError("this VirtualPopulation is not fitted; fix: call fit(cohort) first")
        info = {"seed": self.random_state, "cohort": self.summary_.get("cohort"),
                "n_simulated": self.summary_.get("n_simulated"),
                "effective_sample_size": self.summary_.get("effective_sample_size")}
        return save_calibrated(self.spec_, self.plausible_, path, info)

    def save_sample(self, table: pd.DataFrame, path: str | Path, *,
                    random_state: int | None = None) -> Path:
        """Write a table from :meth:`sample` to Parquet with the declaration in its metadata."""
        seed = self.random_state if random_state is None else random_state
        return save_table(table, path, spec=self.spec_.raw, info={"seed": seed, "fitted": False})

    @classmethod
    def load(cls, path: str | Path) -> VirtualPopulation:
        """A population read from :meth:`save` (or a sample from :meth:`save_sample`).

        The table is ``population_`` (and, for a fitted file, ``summary_``,
        ``goodness_of_fit_``, ``deaths_``, ``course_`` and ``associations_`` are restored).
        """
        table, document = load_table(path)
        settings = document.get("settings", {})
        population = cls(document["spec"], random_state=int(document.get("seed", 0)),
                         **{k: settings[k] for k in ("n", "rounds", "backend", "window_hours",
                                                     "tolerance") if k in settings})
        missing = [name for name in population.spec_.parameters if name not in table]
        if missing:
            raise InputError(f"population file '{Path(path).name}' lacks parameter column "
                             f"'{missing[0]}'; fix: write it again with il6sim")
        population.population_ = table
        if document.get("fitted"):
            population.summary_ = document.get("summary", {})
            population.goodness_of_fit_ = pd.DataFrame(document.get("goodness_of_fit", {}))
            population.deaths_ = pd.DataFrame(document.get("deaths", {}))
            population.course_ = pd.DataFrame(document.get("course", {}))
            population.associations_ = pd.DataFrame(document.get("associations", {}))
        return population

    def __repr__(self) -> str:
        state = (f"fitted: {len(self.population_)} patients" if hasattr(self, "population_")
                 else "not fitted")
        name = self.spec if isinstance(self.spec, str | Path) else self.spec_.name
        return f"VirtualPopulation({str(name)!r}, n={self.n}, rounds={self.rounds}, " \
               f"random_state={self.random_state}; {state})"


def coordinate_columns(spec: PopulationSpec) -> list[str]:
    """Names of the coordinate columns of a plausible population (``z:<coordinate>``)."""
    return [f"z:{name}" for name in spec.coordinates]


def coordinate_frame(spec: PopulationSpec, z: np.ndarray) -> pd.DataFrame:
    """Coordinates ``z`` (one row per patient) as a table with :func:`coordinate_columns`."""
    return pd.DataFrame(np.asarray(z, float), columns=coordinate_columns(spec))


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} = {value!r}; fix: give a whole number of 1 or more")
    return int(value)
