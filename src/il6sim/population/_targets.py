"""What a real cohort shows at admission: the calibration targets, read from any cohort file.

For each patient with a known outcome: age, sex, the first value of each marker within
``window_hours`` of admission (:meth:`~il6sim.cohort.Cohort.first_values`) and the in-hospital
outcome. From the same file: each marker's median delay from admission to that first sample
and the assay limits at which values were censored. Nothing here is specific to the shipped
Tongji cohort.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["CohortTargets", "cohort_targets"]


@dataclass
class CohortTargets:
    """Admission values of a real cohort.

    Attributes
    ----------
    values : one row per patient with a known outcome: ``age``, ``male`` (1/0), ``died`` (1/0),
        ``days_to_death`` (admission to death, for those who died) and one column per marker
        (cohort units, missing where not measured).
    read_delay_h : median hours from admission to each marker's first sample.
    limits : ``{marker: (lower, upper)}`` censoring limits seen in the file.
    source : the cohort file.
    window_hours : the window used for first values.
    declared_death_fraction : the population's death fraction when it is declared
        (:attr:`il6sim.population.PopulationSpec.death_fraction`) instead of the cohort's.
    """

    values: pd.DataFrame
    read_delay_h: dict[str, float] = field(default_factory=dict)
    limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    source: str = ""
    window_hours: float = 48.0
    declared_death_fraction: float | None = None

    @property
    def cohort_death_fraction(self) -> float:
        """Fraction of the cohort's patients who died in hospital."""
        return float(self.values["died"].mean())

    @property
    def death_fraction(self) -> float:
        """The death fraction the population is calibrated to: the declared one, else the
        cohort's."""
        if self.declared_death_fraction is not None:
            return self.declared_death_fraction
        return self.cohort_death_fraction


def cohort_targets(cohort, markers: Iterable[str], *, optional: Iterable[str] = (),
                   window_hours: float = 48.0) -> CohortTargets:
    """Admission values, sampling delays and assay limits of ``cohort`` for ``markers``.

    ``optional`` markers (for validation) are kept only where the cohort has at least 5 values.

    Raises
    ------
    InputError
        the cohort lacks survivors or non-survivors, or a required marker has fewer than 5 values
        at admission.
    """
    required = list(markers)
    available = cohort.first_values(window_hours, markers=list(optional)).notna().sum() \
        if optional else {}
    markers = required + [m for m in optional if m not in required and available.get(m, 0) >= 5]
    X, y = cohort.dataset(window_hours)
    first = cohort.first_values(window_hours, markers=markers).reindex(X.index)
    stay = cohort.patient_info["length_of_stay_days"].reindex(X.index).to_numpy(float)
    values = first[["age", "male", *markers]].assign(
        died=y.to_numpy(), days_to_death=np.where(y.to_numpy() == 1, stay, np.nan))
    name = str(cohort.source).split("/")[-1]
    if values.empty or values["died"].nunique() < 2:
        raise InputError(f"{name}: calibration needs patients who died and patients who "
                         "survived (column 'outcome', 1 = died); fix: give a cohort with both")
    for marker in required:
        if values[marker].notna().sum() < 5:
            raise InputError(f"{name}: marker '{marker}' has fewer than 5 values within "
                             f"{window_hours:g} h of admission; fix: give a cohort that "
                             "measures it, or remove it from the population's markers")
    return CohortTargets(values=values, read_delay_h=_read_delays(cohort, markers, window_hours),
                         limits=_limits(cohort, markers), source=str(cohort.source),
                         window_hours=float(window_hours))


def _read_delays(cohort, markers: list[str], window_hours: float) -> dict[str, float]:
    long = cohort.long(markers)
    long = long[long["time_days"] * 24.0 <= window_hours]
    first = long.sort_values("time_days").groupby(["marker", "patient_id"])["time_days"].first()
    out = {}
    for marker in markers:
        hours = first.get(marker)
        out[marker] = float(np.clip(np.median(hours) * 24.0, 0.0, None)) if hours is not None \
            and len(hours) else 0.0
    return out


def _limits(cohort, markers: list[str]) -> dict[str, tuple[float | None, float | None]]:
    out = {}
    for marker in markers:
        if marker not in cohort.censoring:
            continue
        flags, values = cohort.censoring[marker], cohort.samples[marker]
        left, right = values[flags == "left"], values[flags == "right"]
        low = float(left.max()) if len(left) else None
        high = float(right.min()) if len(right) else None
        if low is not None or high is not None:
            out[marker] = (low, high)
    return out

