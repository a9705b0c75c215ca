"""A synthetic cohort simulated by the model itself, written in the Tongji export format."""

from __future__ import annotations

import copy
import csv
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from il6sim.population import VirtualPopulation, load_population_spec, simulate_course

TIME = "%Y-%m-%d %H:%M:%S"
COLUMNS = {"il6": "Interleukin 6", "crp": "High sensitivity C-reactive protein",
           "ldh": "Lactate dehydrogenase", "lymphocytes": "lymphocyte count",
           "creatinine": "creatinine"}
#: Hours from admission to the synthetic cohort's single blood sample.
SAMPLE_DELAY_H = 2.0


def truth_spec() -> dict:
    """The shipped declaration with an older, more male population (the fit must move to it)."""
    raw = copy.deepcopy(dict(load_population_spec("covid19-hospitalised").raw))
    raw["name"] = "synthetic-truth"
    raw["covariates"]["age"]["mean"] = 64
    raw["covariates"]["male"]["probability"] = 0.75
    return raw


def cohort_outcome_spec() -> dict:
    """The shipped declaration without its declared death fraction: a fit to a cohort then
    matches the cohort's own death fraction (a cohort that is a random sample of its
    population, as the synthetic ones are)."""
    raw = copy.deepcopy(dict(load_population_spec("covid19-hospitalised").raw))
    raw.pop("death_fraction", None)
    return raw


def synthetic_truth(n: int, seed: int, *, deaths: int, survivors: int) -> pd.DataFrame:
    """Admitted virtual patients of :func:`truth_spec`: ``deaths`` who died and ``survivors``
    who survived (the first of each, by patient index), with admission values and outcome."""
    population = VirtualPopulation(truth_spec(), random_state=seed)
    table = population.sample(n)
    course = simulate_course(population.spec_, table,
                             read_delay_h=dict.fromkeys(COLUMNS, SAMPLE_DELAY_H),
                             limits={"il6": (1.5, 5000.0)})
    data = pd.concat([table, course], axis=1)
    data = data[data["admitted"]]
    died, lived = data[data["died"]], data[~data["died"]]
    assert len(died) >= deaths, f"only {len(died)} deaths among {n}; simulate more"
    return pd.concat([died.head(deaths), lived.head(survivors)]).sort_values("patient")


def write_cohort_csv(truth: pd.DataFrame, path: Path) -> Path:
    """One blood sample per patient, ``SAMPLE_DELAY_H`` after admission, in the export format."""
    start = datetime(2020, 1, 10)
    header = ["PATIENT_ID", "RE_DATE", "age", "gender", "Admission time", "Discharge time",
              "outcome", *COLUMNS.values()]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for k, row in enumerate(truth.itertuples()):
            admission = start + timedelta(hours=7 * k)
            stay = row.days_to_death if row.died else 12.0 + (k % 7)
            writer.writerow([
                k + 1, (admission + timedelta(hours=SAMPLE_DELAY_H)).strftime(TIME),
                f"{row.age:.0f}", 1 if row.male else 2, admission.strftime(TIME),
                (admission + timedelta(days=float(stay) + 0.1)).strftime(TIME), int(row.died),
                *(f"{getattr(row, m):.4g}" for m in COLUMNS),
            ])
    return path

