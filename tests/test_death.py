"""The death hazard's constants against their targets (data/targets/death.yaml).

Fitted rows: the population statistics are read from 300 untreated patients of the shipped
calibrated COVID-19 population at the shipped constants, and a refit on them returns the shipped
constants; held-SOFA and per-point rows in closed form. Checked rows name the test that reads
them (course table, sepsis cohort) or the command that measures them (trial subgroups).
"""

from __future__ import annotations

import numpy as np
import pytest

from il6sim import clinical
from il6sim.clinical._death import hazard_from_terms
from il6sim.population._death_fit import (
    death_fit_data,
    death_statistics,
    fit_death_hazard,
    held_sofa_mortality,
    load_death_targets,
)

ROWS = {row["id"]: row for row in load_death_targets()}
SHIPPED = {"base": clinical.HAZARD_BASE, "slope": clinical.HAZARD_SLOPE,
           "high_slope": clinical.HAZARD_HIGH_SLOPE, "age": clinical.HAZARD_AGE}


def test_every_row_is_declared_with_a_source_a_role_and_a_range():
    for row in ROWS.values():
        assert row["role"] in ("fitted", "checked"), row["id"]
        assert row["low"] <= row["center"] <= row["high"], row["id"]
        assert len(row["source"]) > 40, row["id"]
        if row["role"] == "fitted":
            assert row["sd"] > 0, row["id"]


@pytest.fixture(scope="module")
def population():
    return death_fit_data(300, seed=0)


#: Rows the shipped constants miss, with the value measured when they were listed. The hazard
#: was fitted to the calibrated population of the old hazard, then the population was refitted
#: under the new one (its selection moves with the hazard: one iteration of a joint fit).
GAPS = {
    "death.not_ventilated": "0.066 at 300 patients (2026-12-03; published 0.12-0.21): the "
    "German figure counts as not ventilated the old patients who died without intensive care "
    "(ceiling of care); in the model every patient below P/F 150 counts as ventilated, and "
    "patients who never reach it rarely die since organ reserve was fitted to creatinine",
    "death.sofa_15_for_7_days": "0.79: the COVID-19 rows pull the slope down; the held-SOFA "
    "reading of Ferreira's table wants 0.8",
    "death.age_70_79": "0.37 (300 patients; published 0.20-0.35): calibrated on death "
    "probability, the population follows the Tongji cohort's age distribution within each "
    "outcome group, which with the declared 22 % death fraction implies 0.60 at 70-79 "
    "(Karagiannidis 2020: 0.27)",
    "death.age_80_plus": "0.62 (published 0.28-0.48): same cause (the cohort implies 0.77; "
    "Karagiannidis 2020: 0.38)",
}


def _param(row_id):
    marks = pytest.mark.xfail(strict=True, reason=GAPS[row_id]) if row_id in GAPS else ()
    return pytest.param(row_id, id=row_id, marks=marks)


POPULATION_ROWS = [r["id"] for r in ROWS.values()
                   if r["role"] == "fitted" and r["statistic"] in (
                       "death_fraction", "death_fraction_ventilated",
                       "death_fraction_not_ventilated", "death_fraction_age_70_79",
                       "death_fraction_age_80_plus", "admission_to_death_median")]


@pytest.mark.parametrize("row_id", [_param(r) for r in POPULATION_ROWS])
def test_population_row_within_its_published_range(population, row_id):
    row = ROWS[row_id]
    value = death_statistics(population, **SHIPPED)[row["statistic"]]
    assert row["low"] <= value <= row["high"], f"{row_id}: {value:.3g}"


def test_refit_returns_the_shipped_constants(population):
    """Loose: the rounds of hazard fit and population refit have not converged. Since P/F is read
    from the shunt equation and organ reserve is fitted to creatinine (2026-12-03) the refit at
    300 patients returns the shipped constants within these tolerances again (a strict expected
    failure before)."""
    fit = fit_death_hazard(population)
    assert fit["base"] == pytest.approx(clinical.HAZARD_BASE, rel=0.35)
    assert fit["slope"] == pytest.approx(clinical.HAZARD_SLOPE, abs=0.06)
    assert fit["high_slope"] == pytest.approx(clinical.HAZARD_HIGH_SLOPE, abs=0.15)
    assert fit["age"] == pytest.approx(clinical.HAZARD_AGE, abs=0.15)


@pytest.mark.parametrize("row_id", [_param(r) for r in ROWS if ROWS[r]["statistic"] == "held_sofa"])
def test_held_sofa_mortality_within_the_published_table(row_id):
    row = ROWS[row_id]
    value = held_sofa_mortality(row["sofa"], row["days"], **SHIPPED)
    assert row["low"] <= value <= row["high"], f"{row_id}: {value:.3g}"


def test_slope_per_sofa_point_near_the_icu_odds_ratio():
    row = ROWS["death.sofa_per_point"]
    assert row["low"] <= clinical.HAZARD_SLOPE <= row["high"]


def test_refractory_shock_day_kills_nine_in_ten():
    row = ROWS["death.refractory_shock_day"]
    extra = clinical.REFRACTORY_SHOCK_HAZARD * (row["norepinephrine"] - 0.1) * 24 * row["days"]
    assert row["low"] <= 1 - np.exp(-extra) <= row["high"]


def test_age_term_multiplies_the_hazard_per_decade():
    terms = {"sofa": np.full((2, 3), 5.0), "age_decades": np.array([[0.0], [2.0]]),
             "refractory": np.zeros((2, 3))}
    rate = hazard_from_terms(terms, age=0.3)
    assert rate[1, 0] / rate[0, 0] == pytest.approx(np.exp(0.6))
    assert 0.0 <= clinical.HAZARD_AGE <= 1.0


def test_checked_rows_point_at_rows_that_exist():
    from il6sim.population._course_check import load_course_targets
    from il6sim.studies._sepsis_cohort import load_sepsis_cohort_spec

    course = {row["id"] for row in load_course_targets()}
    sepsis = {row["id"] for row in load_sepsis_cohort_spec()["targets"]}
    for row in ROWS.values():
        if row["statistic"] == "course":
            assert row["course_row"] in course, row["id"]
        if row["statistic"] == "sepsis_cohort":
            assert row["cohort_row"] in sepsis, row["id"]
