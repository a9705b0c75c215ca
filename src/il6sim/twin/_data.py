"""One patient's laboratory series, taken from a :class:`~il6sim.cohort.Cohort`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ._priors import LAB_MARKERS

__all__ = ["PatientSeries", "patient_series"]


@dataclass(frozen=True)
class PatientSeries:
    """The labs the twin fits, for one patient.

    Attributes
    ----------
    patient_id : the id as written in the cohort file.
    age : years (a fixed covariate of the twin).
    outcome : 1 died in hospital, 0 survived, ``None`` unknown.
    end_days : days from admission to discharge or death (``None`` unknown).
    observations : ``time_days`` (since admission), ``marker`` (a key of
        :data:`~il6sim.twin.LAB_MARKERS`), ``value``, ``censored`` (``""``, ``"left"``: the true
        value is at most ``value``, ``"right"``: at least), ``row`` (line in the file).
    """

    patient_id: str
    age: float
    outcome: int | None
    end_days: float | None
    observations: pd.DataFrame

    def until(self, days: float | None) -> pd.DataFrame:
        """Observations up to ``days`` after admission (all of them for ``None``)."""
        if days is None:
            return self.observations
        return self.observations[self.observations["time_days"] <= days]

    def after(self, days: float) -> pd.DataFrame:
        """Observations later than ``days`` after admission."""
        return self.observations[self.observations["time_days"] > days]


def patient_series(cohort, patient_id) -> PatientSeries:
    """The twin's labs (IL-6, CRP, LDH, lymphocytes) of one patient of ``cohort``.

    Raises
    ------
    InputError
        The patient is not in the cohort, has no age, or has none of the four labs.
    """
    info = cohort.patient_info
    key = {str(i): i for i in info.index}.get(str(patient_id).strip())
    if key is None:
        examples = ", ".join(str(i) for i in list(info.index[:5]))
        raise InputError(f"--patient {patient_id!r} is not in {cohort.source}; fix: give one of "
                         f"its {len(info)} PATIENT_ID values (e.g. {examples})")
    row = info.loc[key]
    if pd.isna(row["age"]):
        raise InputError(f"patient {patient_id}: the age column is empty; fix: fill in the age "
                         "(the twin's covariate)")
    markers = [m for m in LAB_MARKERS if m in cohort.samples]
    long = cohort.long(markers) if markers else pd.DataFrame()
    if len(long):
        long = long[long["patient_id"] == key]
    if long.empty:
        raise InputError(f"patient {patient_id} has no timed IL-6, CRP, LDH or lymphocyte value; "
                         "fix: choose a patient with laboratory values (the twin fits these four)")
    observations = (long[["time_days", "marker", "value", "censored", "row"]]
                    .sort_values(["time_days", "marker"], kind="stable").reset_index(drop=True))
    observations = observations[observations["value"] > 0].reset_index(drop=True)
    outcome = None if pd.isna(row["outcome"]) else int(row["outcome"])
    end = row.get("length_of_stay_days", np.nan)
    return PatientSeries(patient_id=str(key), age=float(row["age"]), outcome=outcome,
                         end_days=None if pd.isna(end) else float(end),
                         observations=observations)
