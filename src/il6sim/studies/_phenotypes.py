"""Patient phenotypes as data: a YAML file of scenarios with host variations.

A phenotype file names a follow-up ``horizon``, a ``sampling`` interval and a list of
phenotypes; each phenotype is a scenario (a preset name or a YAML file, relative to the
phenotype file) with optional ``patient`` overrides (any model parameter, in any compatible
unit)::

    name: timing
    horizon: 28 d
    sampling: 3 h
    phenotypes:
      - name: covid19-60y-ifn0.4
        group: viral, intermediate
        scenario: covid19-severe
        patient: {age: 60 year, ifn_capacity: 0.4}

The shipped file is ``il6sim/data/studies/timing.yaml``. Every problem is one
:class:`~il6sim.errors.InputError` naming the file, the field and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import Il6simError, InputError
from ..limits import file_size_problem
from ..model import Model, default_model
from ..scenario import Scenario, load_scenario, read_yaml
from ..scenario._schema import parse_time, suggest

__all__ = ["Phenotype", "PhenotypeSet", "load_phenotypes"]


class _PhenotypeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    scenario: str
    group: str = ""
    description: str = ""
    patient: dict[str, str | float] = {}


class _PhenotypeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    horizon: str | float = "28 d"
    sampling: str | float = "3 h"
    phenotypes: list[_PhenotypeSpec]

    @field_validator("horizon", "sampling")
    @classmethod
    def _positive_time(cls, value: Any, info) -> Any:
        if parse_time(value, what=info.field_name) <= 0:
            raise ValueError(f"{info.field_name} {value!r} must be above 0; fix: e.g. '28 d'")
        return value


@dataclass(frozen=True)
class Phenotype:
    """One kind of patient: a validated :class:`~il6sim.scenario.Scenario` (the infection, its
    antibiotics and the host, with the phenotype's ``patient`` overrides applied), a ``group``
    label (``bacterial``, ``viral, hyperinflamed``) and a description."""

    name: str
    group: str
    description: str
    scenario: Scenario


@dataclass(frozen=True)
class PhenotypeSet:
    """The phenotypes of one file, with the follow-up ``horizon_h`` and ``sampling_h`` (hours)
    that every arm of a study uses, and the file it came from (``source``)."""

    name: str
    phenotypes: tuple[Phenotype, ...]
    horizon_h: float
    sampling_h: float
    source: str

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.phenotypes]

    def select(self, names: list[str] | None) -> PhenotypeSet:
        """Only the phenotypes called ``names`` (in that order); all when ``names`` is empty."""
        if not names:
            return self
        by_name = {p.name: p for p in self.phenotypes}
        for name in names:
            if name not in by_name:
                raise InputError(
                    f"phenotype '{name}' is not in '{self.source}'; fix: "
                    f"{suggest(name, by_name, what='a phenotype of that file:')}"
                )
        chosen = tuple(by_name[name] for name in dict.fromkeys(names))
        return PhenotypeSet(self.name, chosen, self.horizon_h, self.sampling_h, self.source)


def _shipped() -> Any:
    return files("il6sim") / "data" / "studies" / "timing.yaml"


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "<top level>"
    if first["type"] == "extra_forbidden":
        return f"field '{field}': unknown key; fix: remove it or check its spelling"
    if first["type"] == "missing":
        return f"field '{field}': required key is missing; fix: add '{first['loc'][-1]}:'"
    message = first["msg"].removeprefix("Value error, ")
    if "fix:" not in message:
        message += f"; fix: correct '{field}'"
    return f"field '{field}': {message}"


def _scenario(spec: _PhenotypeSpec, folder: Path | None, model: Model) -> Scenario:
    reference = spec.scenario
    if folder is not None and not Path(reference).is_absolute() and (folder / reference).is_file():
        reference = str(folder / reference)
    scenario = load_scenario(reference, model=model)
    if spec.patient:
        scenario = scenario.with_overrides(
            {key: str(value) for key, value in spec.patient.items()}, model=model
        )
    return scenario


def load_phenotypes(
    source: str | Path | None = None, *, model: Model | None = None
) -> PhenotypeSet:
    """Read and check a phenotype file (default: the shipped ``data/studies/timing.yaml``).

    Raises
    ------
    InputError
        for a missing file, invalid YAML, an unknown key, a duplicate name, an unknown scenario
        or an invalid patient override; the message names the file and the phenotype.
    """
    model = model or default_model()
    if source is None:
        label, folder, text = "timing.yaml (shipped)", None, _shipped().read_text("utf-8")
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(
                f"phenotype file '{source}' does not exist; fix: check the path, or copy the "
                "shipped one (il6sim/data/studies/timing.yaml)"
            )
        problem = file_size_problem(path.stat().st_size, f"phenotype file '{source}'")
        if problem:
            raise InputError(problem)
        label, folder, text = str(path), path.parent, path.read_text("utf-8")
    data = read_yaml(text, label)
    if not isinstance(data, dict):
        raise InputError(
            f"phenotype file '{label}' is not a mapping; fix: write 'name:', 'phenotypes:' keys"
        )
    try:
        spec = _PhenotypeFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"phenotype file '{label}', {_describe(exc)}") from None
    if not spec.phenotypes:
        raise InputError(f"phenotype file '{label}' lists no phenotypes; fix: add at least one")
    phenotypes, seen = [], set()
    for i, item in enumerate(spec.phenotypes):
        where = f"phenotype file '{label}', phenotypes[{i}] '{item.name}'"
        if item.name in seen:
            raise InputError(f"{where}: the name is given twice; fix: give each a unique name")
        seen.add(item.name)
        try:
            scenario = _scenario(item, folder, model)
        except Il6simError as exc:
            raise InputError(f"{where}: {exc}") from None
        phenotypes.append(Phenotype(item.name, item.group, item.description, scenario))
    return PhenotypeSet(
        name=spec.name,
        phenotypes=tuple(phenotypes),
        horizon_h=parse_time(spec.horizon, what="horizon"),
        sampling_h=parse_time(spec.sampling, what="sampling"),
        source=label,
    )
