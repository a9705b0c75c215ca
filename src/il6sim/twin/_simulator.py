"""The twin's forward model: patient parameters -> lab trajectories, many parameter sets at once.

Time in the twin is *days since admission*. The simulation clock starts :data:`LEAD_IN_DAYS`
before admission from each draw's healthy rest state, and the SARS-CoV-2 inoculation dose of draw
``i`` is given ``infection_to_admission[i]`` days before admission; so every draw is read out at
the same admission-based times and the time since infection is an ordinary (differentiable)
parameter. Every batch is one call of :func:`il6sim.engine.simulate` with ``backend="fast"``
(one CVODE solver per draw, in parallel).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..engine import simulate
from ..engine.results import SimulationResult
from ..model import Model, default_model
from ._priors import LAB_MARKERS, TWIN_PARAMETERS

__all__ = ["INOCULUM_VIRIONS", "LEAD_IN_DAYS", "TwinSimulator"]

#: Days simulated before admission: above the largest allowed infection-to-admission time.
LEAD_IN_DAYS = 40.0
#: Inoculum (virions) of every twin: geometric mean of the covid19-mild (1e3) and covid19-severe
#: (1e4) presets. With no viral loads in the cohort it trades off with the time since infection,
#: so only the latter is fitted.
INOCULUM_VIRIONS = 3162.0


class TwinSimulator:
    """Simulates a batch of twin parameter sets for a patient of a given ``age``.

    Parameters
    ----------
    age : years, fixed.
    backend : engine backend (``"fast"``; ``"reference"`` for cross-checks).
    rtol : solver tolerance.
    model : the model (default :func:`il6sim.default_model`).
    """

    def __init__(self, age: float, *, backend: str = "fast", rtol: float = 1e-6,
                 model: Model | None = None):
        from ..scenario import pathogen_parameters

        self.model = model or default_model()
        self.age = float(age)
        self.backend = backend
        self.rtol = rtol
        fixed = {name: self.model.convert_parameter(name, value)
                 for name, value in pathogen_parameters("sars-cov-2").items()}
        fixed["age"] = self.age
        self._base = self.model.parameter_vector(fixed)
        self._columns = [self.model.param_names.index(p.parameter) if p.parameter else -1
                         for p in TWIN_PARAMETERS]

    def parameter_matrix(self, theta: np.ndarray) -> np.ndarray:
        """Model parameter rows ``(N, P)`` for twin parameters ``theta`` ``(N, K)``."""
        theta = np.atleast_2d(theta)
        matrix = np.repeat(self._base[None, :], len(theta), axis=0)
        for k, column in enumerate(self._columns):
            if column >= 0:
                matrix[:, column] = theta[:, k]
        return matrix

    def infection_doses(self, theta: np.ndarray) -> pd.DataFrame:
        """The inoculation dose of each draw, at ``LEAD_IN_DAYS - infection_to_admission``."""
        theta = np.atleast_2d(theta)
        hours = (LEAD_IN_DAYS - theta[:, 0]) * 24.0
        return pd.DataFrame({"patient": np.arange(len(theta)), "time_h": hours, "agent": "virus",
                             "route": "inoculation", "amount": INOCULUM_VIRIONS, "unit": "virion"})

    def run(self, theta: np.ndarray, days: Sequence[float] | np.ndarray,
            extra_doses: pd.DataFrame | None = None) -> SimulationResult:
        """Simulate each row of ``theta`` and read out at ``days`` since admission.

        ``extra_doses`` (e.g. a drug regimen) have times in hours since admission. The result's
        ``time`` is in hours since admission, so :mod:`il6sim.clinical` applies unchanged.
        """
        days = np.asarray(days, float)
        doses = self.infection_doses(theta)
        if extra_doses is not None and len(extra_doses):
            shifted = extra_doses.copy()
            if "patient" not in shifted:
                shifted["patient"] = -1  # every draw
            shifted["time_h"] = shifted["time_h"] + LEAD_IN_DAYS * 24.0
            doses = pd.concat([doses, shifted], ignore_index=True)
        # the engine starts at t_eval[0]; start at 0 so that every dose is applied
        t_eval = np.concatenate([[0.0], (LEAD_IN_DAYS + days) * 24.0])
        result = simulate(self.parameter_matrix(theta), doses, t_eval=t_eval, model=self.model,
                          backend=self.backend, rtol=self.rtol)
        result.time = result.time[1:] - LEAD_IN_DAYS * 24.0
        result.outputs = result.outputs[:, 1:]
        result.states = result.states[:, 1:]
        return result

    def labs(self, theta: np.ndarray, days: np.ndarray, markers: Sequence[str]) -> np.ndarray:
        """Model value of ``markers[j]`` at ``days[j]`` for each row of ``theta``: ``(N, J)``.

        Draws whose integration failed are NaN.
        """
        days = np.asarray(days, float)
        grid, where = np.unique(days, return_inverse=True)
        result = self.run(theta, grid)
        out = np.empty((result.n_patients, len(days)))
        for name in set(markers):
            take = np.array([m == name for m in markers])
            out[:, take] = result.output(LAB_MARKERS[name].output)[:, where[take]]
        return out
