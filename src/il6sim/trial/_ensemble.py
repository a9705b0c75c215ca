"""A trial run once per member of a parameter ensemble: model uncertainty beside sampling error.

Each member (:mod:`il6sim.ensemble`: parameter sets that all reproduce the calibration targets)
runs the same trial with the same patients and seed; its counterfactual risk ratio (every
patient under both arms) has no randomisation error, so the spread of the members' ratios is the
uncertainty the model's parameters add. The nominal run's confidence interval is the sampling
uncertainty of a trial of that size. Both are reported side by side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._analysis import TrialResult
from ._design import TrialSpec
from ._run import run_trial

#: Central interval of the members' ratios reported as the model-uncertainty interval.
INTERVAL = (2.5, 97.5)


def _counterfactual(result: TrialResult) -> pd.DataFrame:
    rows = result.comparisons
    rows = rows[rows.measure.str.startswith("counterfactual")]
    return rows[["endpoint", "arm", "estimate"]]


def run_ensemble_trial(design: TrialSpec, ensemble, members: int, *, n_patients: int | None,
                       out_dir: str | Path | None, progress: bool = False, **options
                       ) -> pd.DataFrame:
    """Counterfactual ratios per member (columns ``member, endpoint, arm, estimate``), each
    member's run stored under ``out_dir/ensemble/member-<k>`` (resumable)."""
    rows = []
    for member in range(min(members, len(ensemble))):
        folder = None if out_dir is None else Path(out_dir) / "ensemble" / f"member-{member:03d}"
        result = run_trial(design, n_patients=n_patients, out_dir=folder, progress=progress,
                           model_overrides=ensemble.overrides(member), **options)
        rows.append(_counterfactual(result).assign(member=member))
    return pd.concat(rows, ignore_index=True)


def uncertainty_table(nominal: TrialResult, members: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint and treated arm: the nominal ratio with its sampling CI, the nominal
    counterfactual ratio, and the members' model-uncertainty interval."""
    comparisons = nominal.comparisons
    rows = []
    for (endpoint, arm), part in members.groupby(["endpoint", "arm"], sort=False):
        observed = comparisons[(comparisons.endpoint == endpoint) & (comparisons.arm == arm)
                               & (comparisons.measure == "risk ratio")]
        cf = comparisons[(comparisons.endpoint == endpoint) & (comparisons.arm == arm)
                         & comparisons.measure.str.startswith("counterfactual")]
        low, high = np.percentile(part.estimate.to_numpy(float), INTERVAL)
        rows.append({
            "endpoint": endpoint, "arm": arm,
            "ratio": float(observed.estimate.iloc[0]) if len(observed) else np.nan,
            "sampling_low": float(observed.ci_low.iloc[0]) if len(observed) else np.nan,
            "sampling_high": float(observed.ci_high.iloc[0]) if len(observed) else np.nan,
            "counterfactual": float(cf.estimate.iloc[0]) if len(cf) else np.nan,
            "model_low": float(low), "model_high": float(high),
            "members": int(part.member.nunique()),
        })
    return pd.DataFrame(rows)
