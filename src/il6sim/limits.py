"""Limits on what one input may ask for, in one place, with the checks that use them.

A scenario, trial, cohort or command-line option that asks for more than these limits (or for
values that are not numbers, have the wrong sign, or are outside what a patient can be) is
refused with one line naming the field and the fix, before any work starts; nothing is
allocated or integrated first. Each ``*_problem`` function returns that problem as text
(``"<what>; fix: <how>"``) or ``None``; callers add the file and field.

The limits are generous for real use (two years of simulated time, a dose every hour of a
month, a million time points) and far below what would exhaust memory or hang the solver.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "COVARIATE_RANGES",
    "MAX_DOSE_AMOUNT",
    "MAX_DOSE_EVENTS",
    "MAX_INPUT_FILE_BYTES",
    "MAX_POPULATION_PATIENTS",
    "MAX_RELAX_HOURS",
    "MAX_RESULT_BYTES",
    "MAX_RUN_HOURS",
    "MAX_TIME_POINTS",
    "MAX_TRIAL_PATIENTS",
    "MAX_YAML_NODES",
    "MIN_SAMPLING_HOURS",
    "data_name_problem",
    "dose_amount_problem",
    "dose_count_problem",
    "dose_unit_problem",
    "file_size_problem",
    "parameter_problem",
    "result_bytes",
    "sampling_problem",
    "time_problem",
]

#: Longest simulated time of one run (scenario duration, trial follow-up): two years.
MAX_RUN_HOURS = 2 * 365 * 24.0

#: Shortest reporting interval: one second.
MIN_SAMPLING_HOURS = 1.0 / 3600.0

#: Most reported time points of one run (duration / sampling + 1).
MAX_TIME_POINTS = 1_000_000

#: Largest estimated result held in memory (time points × columns × patients × 8 bytes).
MAX_RESULT_BYTES = 4 * 1024**3

#: Columns of a result per time point used in the memory estimate (states + outputs, rounded up).
RESULT_COLUMNS = 160

#: Most dose events in one run (scenario doses plus an expanded treatment regimen).
MAX_DOSE_EVENTS = 1000

#: Largest single dose, by the unit the route takes it in (ng/kg LPS up to 1 mg/kg; bacteria and
#: virions up to 1e14; drugs and antibiotics up to 100 g). Other units: :data:`MAX_DOSE_DEFAULT`.
MAX_DOSE_AMOUNT = {"ng/kg": 1e6, "CFU": 1e14, "virion": 1e14, "mg": 1e5}
MAX_DOSE_DEFAULT = 1e15

#: Most patients randomised in one trial file.
MAX_TRIAL_PATIENTS = 10_000_000

#: Most virtual patients drawn, fitted or followed by one population command or call.
MAX_POPULATION_PATIENTS = 1_000_000

#: Longest relaxation to rest (``equilibrate(t_relax=...)``): about a century, far beyond the
#: slowest resting process and short enough for the solver at rest.
MAX_RELAX_HOURS = 1e6

#: Most YAML nodes a file may expand to (aliases counted each time they are used).
MAX_YAML_NODES = 100_000

#: Largest scenario, trial or phenotype file (the shipped ones are a few kB).
MAX_INPUT_FILE_BYTES = 1024**2

#: Patient covariates: (lowest, highest, unit) a person can have.
COVARIATE_RANGES = {"age": (0.0, 120.0, "year"), "body_weight": (1.0, 500.0, "kg")}

#: Parameters that switch a mediator or pathway on (1) or off (0) start with this.
SWITCH_PREFIX = "switch_"

#: The largest factor by which any other parameter may exceed its declared value (and the
#: absolute ceiling for parameters declared as 0).
MAX_PARAMETER_FACTOR = 1e6
MAX_PARAMETER_ABSOLUTE = 1e12

_DATA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def time_problem(hours: float, what: str) -> str | None:
    """A time that is not a finite number of hours within :data:`MAX_RUN_HOURS`."""
    if not math.isfinite(hours):
        return f"{what} {hours!r} h is not a finite time; fix: give a number of hours, e.g. '6 h'"
    if abs(hours) > MAX_RUN_HOURS:
        return (f"{what} {hours:g} h is beyond the limit of {MAX_RUN_HOURS:g} h (two years); "
                f"fix: give at most {MAX_RUN_HOURS:g} h")
    return None


def result_bytes(duration_h: float, sampling_h: float, n_patients: int = 1) -> float:
    """Estimated bytes of a result: time points × :data:`RESULT_COLUMNS` × patients × 8."""
    return (duration_h / sampling_h + 1) * RESULT_COLUMNS * max(n_patients, 1) * 8.0


def sampling_problem(duration_h: float, sampling_h: float, n_patients: int = 1) -> str | None:
    """A reporting interval that is too fine for the run (points or memory over the limits)."""
    if sampling_h < MIN_SAMPLING_HOURS:
        return (f"sampling {sampling_h:g} h is below the limit of 1 s; fix: give an interval of "
                "at least 1 s, e.g. '15 min'")
    points = duration_h / sampling_h + 1
    finest = duration_h / (MAX_TIME_POINTS - 1)
    if points > MAX_TIME_POINTS:
        return (f"sampling {sampling_h:g} h over {duration_h:g} h gives {points:.3g} time "
                f"points, above the limit of {MAX_TIME_POINTS:,}; fix: sample every "
                f"{finest:.3g} h or more")
    size = result_bytes(duration_h, sampling_h, n_patients)
    if size > MAX_RESULT_BYTES:
        return (f"the result would need about {size / 1024**3:.1f} GiB, above the limit of "
                f"{MAX_RESULT_BYTES / 1024**3:.0f} GiB; fix: sample less often or simulate "
                "fewer patients")
    return None


def dose_count_problem(n: int | float, what: str = "doses") -> str | None:
    """More dose events than :data:`MAX_DOSE_EVENTS`."""
    if n > MAX_DOSE_EVENTS:
        return (f"{n:,.0f} {what} exceed the limit of {MAX_DOSE_EVENTS} dose events per run; "
                "fix: give fewer doses or a longer interval")
    return None


def dose_amount_problem(amount: float, unit: str) -> str | None:
    """A dose (in its route's unit) that is not finite, negative, or above its limit."""
    if not math.isfinite(amount):
        return f"dose {amount!r} {unit} is not finite; fix: give a finite amount"
    if amount < 0:
        return f"dose {amount:g} {unit} is negative; fix: give an amount of 0 or more"
    limit = MAX_DOSE_AMOUNT.get(unit, MAX_DOSE_DEFAULT)
    if amount > limit:
        return (f"dose {amount:g} {unit} is above the limit of {limit:g} {unit}; "
                f"fix: give at most {limit:g} {unit}")
    return None


def _sides(units: Any) -> tuple[dict[str, float], dict[str, float]]:
    container = dict(units._units)
    above = {name: exp for name, exp in container.items() if exp > 0}
    below = {name: -exp for name, exp in container.items() if exp < 0}
    return above, below


def _product(ureg: Any, parts: dict[str, float]) -> Any:
    quantity = ureg.Quantity(1.0)
    for name, exp in parts.items():
        quantity = quantity * ureg.Quantity(1.0, name) ** exp
    return quantity


def dose_unit_problem(given: str, expected: str) -> str | None:
    """A dose unit whose numerator and denominator do not each match the route's unit.

    Converting only the whole unit accepts nonsense such as ``kg/ng`` for ``ng/kg`` (both are
    mass per mass, so pint converts one into the other with a factor of 10²⁴). Here the agent
    part (above the line) and the per-what part (below it) must each have the route's
    dimension, and a dose per body weight must have a body-weight unit (1 g or more) below.
    """
    from .model.units import ureg

    try:
        given_units = ureg.Quantity(1.0, given).units
        expected_units = ureg.Quantity(1.0, expected).units
    except Exception:  # pint raises several types for an unknown unit
        return f"'{given}' is not a unit; fix: give the amount in {expected}"
    g_above, g_below = _sides(given_units)
    e_above, e_below = _sides(expected_units)
    fix = f"fix: give the amount in {expected}, e.g. '2 {expected}'"
    for g_part, e_part, where in ((g_above, e_above, "amount"), (g_below, e_below, "per-unit")):
        g_q, e_q = _product(ureg, g_part), _product(ureg, e_part)
        if g_q.dimensionality != e_q.dimensionality:
            return (f"unit '{given}' does not have the dimension of {expected} (its {where} part "
                    f"is {g_q.units or '1'}, not {e_q.units or '1'}); {fix}")
    if e_below and "[mass]" in str(_product(ureg, e_below).dimensionality):
        body = _product(ureg, g_below)
        if float(body.to("g").magnitude) < 1.0:
            return (f"unit '{given}' puts '{body.units}' where the body weight goes; a dose per "
                    f"body weight needs g, kg or lb below the line; {fix}")
    return None


def parameter_problem(name: str, value: float, unit: str, declared: float) -> str | None:
    """A parameter value that is not finite, negative, not 0/1 for a switch, outside the range
    of a person for a covariate, or far beyond its declared value."""
    if not math.isfinite(value):
        return f"{value!r} is not a finite number; fix: give a number in {unit}"
    if name.startswith(SWITCH_PREFIX):
        if value not in (0.0, 1.0):
            return f"switch is {value:g}; fix: give 0 (off) or 1 (on)"
        return None
    if name in COVARIATE_RANGES:
        low, high, cov_unit = COVARIATE_RANGES[name]
        if not low <= value <= high:
            return (f"{value:g} {cov_unit} is outside {low:g}–{high:g} {cov_unit}; "
                    f"fix: give a value between {low:g} and {high:g} {cov_unit}")
        return None
    if value < 0:
        return f"{value:g} {unit} is negative; fix: give 0 or more"
    ceiling = max(MAX_PARAMETER_FACTOR * abs(declared), MAX_PARAMETER_ABSOLUTE
                  if declared == 0 else 0.0)
    if value > ceiling:
        return (f"{value:g} {unit} is more than {MAX_PARAMETER_FACTOR:g}× the declared "
                f"{declared:g} {unit}; fix: give at most {ceiling:g} {unit}")
    return None


def file_size_problem(size: int, what: str) -> str | None:
    """A YAML input file larger than :data:`MAX_INPUT_FILE_BYTES` (read in full otherwise)."""
    if size > MAX_INPUT_FILE_BYTES:
        return (f"{what} is {size / 1024**2:.1f} MB, above the limit of "
                f"{MAX_INPUT_FILE_BYTES // 1024**2} MB for a YAML input; fix: give the file "
                "that declares the run, not data")
    return None


def data_name_problem(name: Any, what: str) -> str | None:
    """A name of a shipped data file (pathogen, target set, population, drug) that could reach
    outside its folder: a path, ``..``, or characters other than letters, digits, ``-_.``."""
    text = str(name)
    if _DATA_NAME.fullmatch(text) and ".." not in text:
        return None
    shown = f"'{text}'" if text.isprintable() else repr(text)  # one line, even for '\n'
    return (f"{shown} is not a {what} name (a name, not a path: letters, digits, '-', '_' and "
            f"'.', without '/' or '..'); fix: give the name of a shipped {what}")
