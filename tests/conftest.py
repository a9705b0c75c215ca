"""Shared fixtures: the built model and the endotoxemia runs used by several test modules."""

from __future__ import annotations

import pytest

from helpers import lps
from il6sim.engine import equilibrate, simulate
from il6sim.model import default_model


@pytest.fixture(scope="session")
def model():
    return default_model()


@pytest.fixture(scope="session")
def rest(model):
    return equilibrate(model=model)


@pytest.fixture(scope="session")
def endotoxemia(model):
    """The 2 ng/kg endotoxemia course with the declared parameters, 0-48 h."""
    return simulate(doses=lps(2.0), t_end=48.0, dt=0.1, model=model)
