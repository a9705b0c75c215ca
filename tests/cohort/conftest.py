"""Fixtures of the cohort tests: a synthetic cohort file and the shipped cohort."""

from __future__ import annotations

import pytest
from cohort_helpers import HEADER, synthetic_rows, write_csv


@pytest.fixture
def rows():
    return synthetic_rows()


@pytest.fixture
def cohort_csv(tmp_path, rows):
    return write_csv(tmp_path / "cohort.csv", rows, HEADER)


@pytest.fixture(scope="session")
def shipped():
    from il6sim.cohort import load_cohort

    return load_cohort()
