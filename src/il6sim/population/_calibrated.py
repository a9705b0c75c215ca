"""New patients drawn around a calibrated population: a weighted kernel over its coordinates.

A fit (:meth:`VirtualPopulation.fit`) ends with a plausible population whose prevalence weights
make it match the cohort. A study that needs more patients than were selected (a 4,000-patient
trial from a 388-patient selection) draws each new patient by picking a plausible patient with
probability proportional to its weight and moving it by a small Gaussian step in the
standard-normal coordinates, shrunk towards the weighted mean so that the weighted mean and
covariance are kept (kernel shrinkage of Liu J, West M 2001, in *Sequential Monte Carlo Methods
in Practice*, Springer, p. 197). New patients are therefore new individuals, not copies, and
still have the calibrated distribution. Each new patient's death threshold is drawn from its
prior, never carried from the calibrated patients (:func:`prior_death_thresholds`).
``tests/test_trial.py`` checks that the admission values of patients drawn this way still match
the cohort.

The kernel source is a Parquet file with the ``z:<coordinate>`` columns and ``weight`` of the
admitted plausible patients (``il6sim population fit`` writes ``calibrated.parquet``; the fit to
the shipped cohort is shipped as ``data/populations/<name>.calibrated.parquet``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ._sample import patient_normals, patient_uniforms
from ._spec import PopulationSpec

__all__ = ["KERNEL_BANDWIDTH", "CalibratedSource", "load_calibrated", "prior_death_thresholds",
           "save_calibrated"]

#: Kernel step as a fraction of the calibrated spread (Liu & West's h; 0.2 keeps patients close
#: to calibrated ones while making every draw a new individual).
KERNEL_BANDWIDTH = 0.2
#: Random streams of the pick, of the kernel step and of the death threshold (rounds of the fit
#: use 0, 1, ...).
PICK_STREAM, STEP_STREAM, THRESHOLD_STREAM = 2000, 2001, 2002
#: The coordinate of the patient's death threshold (:func:`prior_death_thresholds`).
DEATH_THRESHOLD = "death_threshold"
_META_KEY = b"il6sim.calibrated"


def rowwise_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with each row's sum taken in the same order whatever the number of rows.

    BLAS blocks a product differently for different numbers of rows, so ``a @ b`` may differ in
    the last bit between a batch of 7 patients and one of 40; integrated, a last-bit change in a
    parameter moves the solver's steps and the course by about its tolerance, and a trial's
    results would then depend on its chunk size. Elementwise products summed one column at a
    time give every row the same bits in any batch.
    """
    out = np.zeros((a.shape[0], b.shape[1]))
    for k in range(a.shape[1]):
        out += a[:, k, None] * b[k]
    return out


def prior_death_thresholds(spec: PopulationSpec, z: np.ndarray, seed: int,
                           indices: np.ndarray) -> np.ndarray:
    """``z`` with the death-threshold coordinate drawn afresh from its prior (standard normal,
    own stream per patient index).

    The threshold is pure chance: no weight depends on it (calibration uses the model's
    probability of death), so wherever adaptive proposals or the kernel would carry it, its
    distribution only drifts (each round inflates the proposal's spread, which fattens the
    threshold's tails). Drawing it from the prior keeps every patient's outcome draw
    unit-exponential. It is the last coordinate, so the others do not depend on it.
    """
    out = np.array(z, float, copy=True)
    column = spec.coordinates.index(DEATH_THRESHOLD)
    out[:, column] = patient_normals(seed, np.asarray(indices), 1, stream=THRESHOLD_STREAM)[:, 0]
    return out


class CalibratedSource:
    """Coordinates and weights of a calibrated plausible population.

    Parameters
    ----------
    spec : the population declaration the coordinates belong to.
    coordinates : ``(n, len(spec.coordinates))`` standard-normal coordinates.
    weights : prevalence weights (≥ 0, not all 0).
    info : where the calibration came from (cohort, seed, fit summary).
    """

    def __init__(self, spec: PopulationSpec, coordinates: np.ndarray, weights: np.ndarray,
                 info: dict | None = None):
        z = np.asarray(coordinates, float)
        w = np.asarray(weights, float)
        if z.ndim != 2 or z.shape[1] != len(spec.coordinates) or len(w) != len(z) \
                or not np.isfinite(z).all() or (w < 0).any() or w.sum() <= 0:
            raise InputError(f"calibrated population for '{spec.name}' has the wrong shape or "
                             "weights; fix: write it again with il6sim population fit")
        self.spec, self.coordinates, self.info = spec, z, dict(info or {})
        self.weights = w / w.sum()
        self.mean = self.weights @ z
        centred = z - self.mean
        cov = (centred * self.weights[:, None]).T @ centred + 1e-9 * np.eye(z.shape[1])
        self.factor = np.linalg.cholesky(cov)
        self._cumulative = np.cumsum(self.weights)

    def draw(self, seed: int, indices: np.ndarray, *,
             bandwidth: float = KERNEL_BANDWIDTH) -> np.ndarray:
        """Coordinates of the patients numbered ``indices``; each row depends only on
        ``(seed, index)``."""
        indices = np.asarray(indices)
        u = patient_uniforms(seed, indices, stream=PICK_STREAM)
        picked = np.minimum(np.searchsorted(self._cumulative, u, side="right"),
                            len(self.weights) - 1)
        step = patient_normals(seed, indices, self.coordinates.shape[1], stream=STEP_STREAM)
        shrink = np.sqrt(1.0 - bandwidth**2)
        z = (shrink * self.coordinates[picked] + (1 - shrink) * self.mean
             + bandwidth * rowwise_matmul(step, self.factor.T))
        return prior_death_thresholds(self.spec, z, seed, indices)

    @property
    def effective_size(self) -> float:
        return float(1.0 / np.sum(self.weights**2))


def save_calibrated(spec: PopulationSpec, plausible: pd.DataFrame, path: str | Path,
                    info: dict | None = None) -> Path:
    """Write the kernel source (coordinates and weights of the weighted patients) to Parquet."""
    columns = [f"z:{name}" for name in spec.coordinates]
    kept = plausible.loc[plausible["weight"] > 0, [*columns, "weight"]].reset_index(drop=True)
    table = pa.Table.from_pandas(kept, preserve_index=False)
    meta = {"population": spec.name, **(info or {})}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           _META_KEY: json.dumps(meta, default=str).encode()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def load_calibrated(spec: PopulationSpec, path: str | Path | None = None) -> CalibratedSource:
    """The kernel source for ``spec``: from ``path``, or the one shipped with il6sim.

    Raises
    ------
    InputError
        no shipped calibration for this population, an unreadable file, or one made for
        another population.
    """
    if path is None:
        shipped = files("il6sim") / "data" / "populations" / f"{spec.name}.calibrated.parquet"
        if not shipped.is_file():
            raise InputError(f"no calibrated population is shipped for '{spec.name}'; fix: run "
                             "`il6sim population fit` and give its calibrated.parquet, or set "
                             "calibrated: false")
        return _load(spec, str(shipped))
    return _load(spec, str(path))


@cache
def _read(path: str) -> tuple[pd.DataFrame, dict]:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read calibrated population '{path}' ({exc}); fix: give a "
                         "calibrated.parquet written by il6sim population fit") from None
    meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    return table.to_pandas(), meta


def _load(spec: PopulationSpec, path: str) -> CalibratedSource:
    frame, meta = _read(path)
    if meta.get("population") != spec.name:
        raise InputError(f"calibrated population '{path}' was fitted for "
                         f"'{meta.get('population')}', not '{spec.name}'; fix: give the file "
                         f"written by il6sim population fit --spec {spec.name}")
    columns = [f"z:{name}" for name in spec.coordinates]
    missing = [c for c in [*columns, "weight"] if c not in frame]
    if missing:
        raise InputError(f"calibrated population '{path}' lacks column '{missing[0]}'; fix: "
                         "write it again with il6sim population fit")
    return CalibratedSource(spec, frame[columns].to_numpy(float),
                            frame["weight"].to_numpy(float), meta)
