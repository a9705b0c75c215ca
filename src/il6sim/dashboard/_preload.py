"""Imported once by the dashboard's forkserver (:mod:`il6sim.dashboard._jobs`), never by the
server itself: importing it builds the model and loads the fast engine, so every job forked
from the forkserver starts with both in memory instead of spending seconds on them."""

from __future__ import annotations

from ..engine.fast import available
from ..model import default_model
from . import _work  # noqa: F401  (the jobs' code, imported before forking)

available(default_model())  # builds the model and compiles or loads the fast engine
