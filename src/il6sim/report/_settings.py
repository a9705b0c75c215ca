"""Settings of the flagship study: the embedded defaults and the ``--quick`` variant."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["StudySettings"]


@dataclass(frozen=True)
class StudySettings:
    """Every setting the study sections read. Each section names the ones it uses, so a cached
    section is reused exactly when its own settings (and the model) are unchanged.

    Attributes
    ----------
    quick : the shortened variant (fewer resamples and patients; for tests).
    seed : seed of every random draw (virtual patients, death draws, bootstrap, CV splits).
    backend : engine backend of the simulations (``fast`` or ``reference``).
    population_n : virtual COVID-19 patients of the severity-biomarker figure (claim C10).
    timing_days : days of treatment of the timing × selection map.
    trial_patients : patients per trial run (both arms together).
    cohort_boot : bootstrap resamples per AUC confidence interval on the real cohort.
    cohort_cv_repeats : repeats of the 5-fold grouped cross-validation of the prognostic model.
    cohort_window_hours : baseline window (first lab value within it) on the real cohort.
    """

    quick: bool = False
    seed: int = 0
    backend: str = "fast"
    population_n: int = 200
    timing_days: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0)
    trial_patients: int = 1000
    cohort_boot: int = 1000
    cohort_cv_repeats: int = 5
    cohort_window_hours: float = 48.0

    @classmethod
    def default(cls, *, quick: bool = False, seed: int = 0) -> StudySettings:
        """The embedded defaults, or the quick variant (about a minute on 2 cores)."""
        settings = cls(seed=seed)
        if quick:
            settings = replace(settings, quick=True, population_n=60,
                               timing_days=(0.0, 4.0, 8.0, 12.0), trial_patients=200,
                               cohort_boot=100, cohort_cv_repeats=1)
        return settings

    def subset(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The named settings as plain data (for a section's fingerprint)."""
        data = asdict(self)
        return {name: data[name] for name in names}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
