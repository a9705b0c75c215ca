"""Declared distributions, each a transform of one standard-normal coordinate per patient.

Every random quantity of a virtual patient (a covariate, a time of the course, the inoculum, a
parameter's between-patient deviation) is ``F⁻¹(Φ(z))`` for its own coordinate ``z ~ N(0, 1)``
(inverse-transform sampling; Devroye L 1986, *Non-Uniform Random Variate Generation*, ch. 2).
One coordinate system for everything lets :mod:`._adapt` move the sampling towards the patients a
cohort needs and still weigh each patient against the declared prior exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..errors import InputError

__all__ = ["KINDS", "Distribution", "Field", "parse_distribution"]

#: Distribution kinds and their keys (required, optional).
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("median",), ("cv", "gsd", "low", "high", "factor")),
    "log10uniform": (("low", "high"), ()),
    "uniform": (("low", "high"), ()),
    "bernoulli": (("probability",), ("logit_slope", "reference")),
}
_COMMON = ("distribution", "unit", "source")


@dataclass(frozen=True)
class Distribution:
    """One declared distribution (see :data:`KINDS`).

    ``factor`` (lognormal) multiplies the median by ``factor[c]`` for patients with the yes/no
    covariate ``c``; ``logit_slope`` (bernoulli) adds ``slope[c] · (c − reference[c])`` to the
    log-odds of the probability, for earlier covariates ``c``.
    """

    kind: str
    values: Mapping[str, Any]
    unit: str = ""
    source: str = ""
    depends_on: tuple[str, ...] = field(default=())

    @property
    def sigma(self) -> float:
        """Log-scale standard deviation of a lognormal, from ``gsd`` or ``cv``."""
        if "gsd" in self.values:
            return float(np.log(self.values["gsd"]))
        return float(np.sqrt(np.log1p(self.values.get("cv", 0.0) ** 2)))

    def transform(self, z: np.ndarray, covariates: Mapping[str, np.ndarray] | None = None,
                  *, median: float | None = None) -> np.ndarray:
        """Values for standard-normal coordinates ``z`` (covariates: earlier columns)."""
        v, covariates = self.values, covariates or {}
        u = stats.norm.cdf(z)
        if self.kind == "normal":
            low = -np.inf if v.get("low") is None else (v["low"] - v["mean"]) / v["sd"]
            high = np.inf if v.get("high") is None else (v["high"] - v["mean"]) / v["sd"]
            return stats.truncnorm.ppf(u, low, high, loc=v["mean"], scale=v["sd"])
        if self.kind == "lognormal":
            centre = np.full(np.shape(z), float(v["median"] if median is None else median))
            for name, factor in (v.get("factor") or {}).items():
                centre = np.where(np.asarray(covariates[name]) > 0.5, centre * factor, centre)
            out = centre * np.exp(self.sigma * np.asarray(z))
            return np.clip(out, v.get("low", 0.0), v.get("high", np.inf))
        if self.kind == "log10uniform":
            lo, hi = np.log10(v["low"]), np.log10(v["high"])
            return 10.0 ** (lo + (hi - lo) * u)
        if self.kind == "uniform":
            return v["low"] + (v["high"] - v["low"]) * u
        # bernoulli
        logit = np.full(np.shape(z), np.log(v["probability"] / (1.0 - v["probability"])))
        for name, slope in (v.get("logit_slope") or {}).items():
            reference = (v.get("reference") or {}).get(name, 0.0)
            logit = logit + slope * (np.asarray(covariates[name], float) - reference)
        return (u < 1.0 / (1.0 + np.exp(-logit))).astype(float)

    def describe(self) -> str:
        """A short text such as ``lognormal(median 5.1, gsd 1.52) d``."""
        shown = ", ".join(f"{k} {_short(val)}" for k, val in self.values.items())
        return f"{self.kind}({shown}){' ' + self.unit if self.unit else ''}"


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


class Field:
    """Names a field in messages: ``Field("population 'x.yaml'", "covariates.age")``."""

    def __init__(self, top: str, path: str):
        self.top, self.path = top, path

    def __call__(self, key: str | None = None) -> str:
        path = self.path if key is None else f"{self.path}.{key}"
        return f"{self.top}, field '{path}'"

    def __str__(self) -> str:
        return self()


def _number(where: Field, key: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        hint = " (YAML reads 1.0e2 as text: write 1.0e+2)" if isinstance(value, str) else ""
        raise InputError(f"{where(key)}: {value!r} is not a number{hint}; fix: write a number")
    if positive and value <= 0:
        raise InputError(f"{where(key)}: {value!r} must be above 0; fix: give a positive value")
    return float(value)


def _mapping_of_numbers(where: Field, key: str, value: Any, known: tuple[str, ...]) -> dict:
    if not isinstance(value, Mapping):
        raise InputError(f"{where(key)}: expected a mapping such as {{male: 1.2}}; fix: write "
                         "covariate: number pairs")
    out = {}
    for name, number in value.items():
        if name not in known:
            shown = ", ".join(known) or "(none declared before this one)"
            raise InputError(f"{where(key)}: '{name}' is not an earlier covariate; fix: use "
                             f"one of {shown}")
        out[str(name)] = _number(where, f"{key}.{name}", number)
    return out


def parse_distribution(where: Field, data: Any, *, known: tuple[str, ...] = (),
                       median_optional: bool = False) -> Distribution:
    """Validate one declared distribution.

    Parameters
    ----------
    where : the field, for messages (:class:`Field`).
    data : the mapping read from YAML.
    known : covariates declared earlier (allowed in ``factor`` and ``logit_slope``).
    median_optional : a lognormal may leave out ``median`` (a parameter's value is then used).

    Raises
    ------
    InputError
        one line naming the field and the fix.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a mapping with 'distribution:' and its values; fix: "
                         "write e.g. {distribution: lognormal, median: 1.0, cv: 0.3}")
    kind = data.get("distribution")
    if kind not in KINDS:
        raise InputError(f"{where('distribution')}: {kind!r} is not a known distribution; fix: use "
                         f"one of {', '.join(KINDS)}")
    required, optional = KINDS[kind]
    if median_optional and kind == "lognormal":
        required, optional = (), (*optional, "median")
    unknown = set(data) - set(required) - set(optional) - set(_COMMON)
    if unknown:
        allowed = ", ".join((*required, *optional, *_COMMON))
        raise InputError(f"{where}: unknown key '{sorted(unknown)[0]}' for a {kind} distribution; "
                         f"fix: use only {allowed}")
    missing = [k for k in required if k not in data]
    if missing:
        raise InputError(f"{where}: a {kind} distribution needs '{missing[0]}'; fix: add it")
    values: dict[str, Any] = {}
    for key in (*required, *optional):
        if key not in data or data[key] is None:
            continue
        if key in ("factor", "logit_slope", "reference"):
            values[key] = _mapping_of_numbers(where, key, data[key], known)
        else:
            positive = key in ("sd", "median", "gsd") or (kind == "log10uniform")
            values[key] = _number(where, key, data[key], positive=positive)
    _check_values(where, kind, values)
    depends = tuple(sorted({*values.get("factor", {}), *values.get("logit_slope", {})}))
    return Distribution(kind, values, str(data.get("unit", "") or ""),
                        str(data.get("source", "") or ""), depends)


def _check_values(where: Field, kind: str, values: dict[str, Any]) -> None:
    if kind in ("log10uniform", "uniform") and values["high"] <= values["low"]:
        raise InputError(f"{where}: high {values['high']:g} is not above low {values['low']:g}; "
                         "fix: give low < high")
    if kind == "normal" and values.get("low") is not None and values.get("high") is not None \
            and values["high"] <= values["low"]:
        raise InputError(f"{where}: high is not above low; fix: give low < high")
    if kind == "lognormal":
        if "cv" in values and "gsd" in values:
            raise InputError(f"{where}: give either cv or gsd, not both; fix: remove one")
        if "cv" not in values and "gsd" not in values:
            raise InputError(f"{where}: a lognormal needs its spread, 'cv' (e.g. 0.3) or 'gsd' "
                             "(geometric SD, e.g. 1.5); fix: add one")
        if values.get("cv", 1.0) < 0 or values.get("gsd", 2.0) < 1:
            raise InputError(f"{where}: cv must be ≥ 0 and gsd ≥ 1; fix: correct the spread")
        for name, factor in values.get("factor", {}).items():
            if factor <= 0:
                raise InputError(f"{where('factor.' + name)}: {factor:g} must be above 0; "
                                 "fix: give a positive multiplier")
    if kind == "bernoulli" and not 0.0 < values["probability"] < 1.0:
        raise InputError(f"{where('probability')}: {values['probability']:g} must lie strictly "
                         "between 0 and 1; fix: give a probability such as 0.4")
