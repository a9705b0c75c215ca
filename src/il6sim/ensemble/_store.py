"""The stored ensemble: members (Parquet, plain numbers) and how they were made (JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..model import default_model

SHIPPED = "covid19"


@dataclass(frozen=True)
class Ensemble:
    """Members (one row each: ``member`` and parameter columns in declared units) and info."""

    members: pd.DataFrame
    info: dict

    @property
    def parameters(self) -> list[str]:
        return [c for c in self.members.columns if c != "member"]

    def overrides(self, member: int) -> dict[str, float]:
        """One member's parameter values (for a trial, scenario or population)."""
        row = self.members[self.members.member == member]
        if row.empty:
            raise InputError(f"ensemble has no member {member}; fix: use 0..{len(self) - 1}")
        return {name: float(row[name].iloc[0]) for name in self.parameters}

    def __len__(self) -> int:
        return len(self.members)


def load_ensemble(path: str | Path | None = None) -> Ensemble:
    """The shipped ensemble, or the one at ``path`` (``.parquet`` with its ``.json`` beside)."""
    if path is None:
        base = files("il6sim") / "data" / "ensembles"
        parquet, meta = base / f"{SHIPPED}.parquet", base / f"{SHIPPED}.json"
    else:
        parquet = Path(path).with_suffix(".parquet")
        meta = parquet.with_suffix(".json")
    if not parquet.is_file() or not meta.is_file():
        raise InputError(f"ensemble '{parquet}' (with its .json) not found; fix: build one "
                         "with `il6sim ensemble build --out FILE`")
    try:
        members = pd.read_parquet(parquet)
        info = json.loads(meta.read_text(encoding="utf-8"))
    except Exception as exc:  # damaged or foreign file: one line, never a traceback
        raise InputError(f"ensemble '{parquet}' cannot be read ({exc.__class__.__name__}); "
                         "fix: rebuild it with `il6sim ensemble build`") from None
    model = default_model()
    unknown = [c for c in members.columns if c != "member" and c not in model.param_index]
    if "member" not in members.columns or unknown:
        raise InputError(f"ensemble '{parquet}' has columns the model does not know "
                         f"({unknown or 'no member column'}); fix: rebuild it")
    return Ensemble(members, info)
