"""Errors that il6sim reports to a user as one plain line (field, problem, fix)."""

from __future__ import annotations


class Il6simError(Exception):
    """Base class for every error il6sim reports without a traceback.

    The message names the field (or file, row and column) at fault and says how to fix it.
    The command line prints it as ``error: <message>`` and exits with code 2.
    """


class InputError(Il6simError):
    """A scenario, trial, cohort or dose input is invalid."""


class ModelError(Il6simError):
    """The model declaration is inconsistent (unknown name, duplicate, wrong unit)."""


class UnitError(ModelError):
    """A flux, output or dose conversion does not have the unit its state requires."""
