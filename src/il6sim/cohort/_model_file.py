"""Prognosis model files that cannot run code: skops, with only il6sim's own types trusted.

A model file is a skops archive (a zip of JSON and NumPy arrays, ``.skops``) holding

``format``          ``"il6sim-prognosis-model"``
``format_version``  :data:`FILE_VERSION` (2: skops; version 1 was a joblib pickle, not read)
``sklearn_version`` the scikit-learn that fitted it (another version only warns)
``model``           the fitted :class:`~il6sim.cohort.Il6Prognosis`

A file written before il6sim recalibrated probabilities (same format version) still loads:
the model then gives its own probabilities (``calibration="none"``) and a warning says so.

Loading refuses, with one line naming the file and the fix, a missing file, an old pickle
(joblib) file, anything that is not a skops archive, an archive that names a type outside
:data:`TRUSTED_TYPES` (skops then would have to construct it; a file from someone else could
name any callable), and another format version. Nothing in the file is executed.

The fitted model also keeps one fingerprint per training patient (a SHA-256 of the patient id
and its feature values, not the values themselves), so that scoring the training patients can
be detected and warned about (:func:`training_overlap`): their AUC is not a test of the model.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["FILE_FORMAT", "FILE_VERSION", "TRUSTED_TYPES", "fingerprints", "load_model",
           "save_model", "training_overlap"]

FILE_FORMAT = "il6sim-prognosis-model"
FILE_VERSION = 2

#: Types a prognosis model file may contain beyond skops' own defaults (scikit-learn
#: estimators, NumPy arrays, builtins): il6sim's classes and the parts of fitted
#: scikit-learn models that skops does not trust by default.
TRUSTED_TYPES = (
    "il6sim.cohort._prognosis.Il6Prognosis",
    "il6sim.cohort._prognosis._LogSkewed",
    "il6sim.cohort._prognosis._ZeroEmptyColumns",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils._bunch.Bunch",
)

_MISSING = -1.0e300

_REFIT = "fix: fit a model with 'il6sim prognosis fit --out model.skops' and use that file"


def fingerprints(X: Any, labels: Any = None) -> np.ndarray:
    """One short SHA-256 hex digest per row: the row's label (patient id: the index of a
    DataFrame, or ``labels``; else its position) and its values."""
    values = np.asarray(X, dtype=float)
    if labels is None:
        labels = list(X.index) if hasattr(X, "index") else range(len(values))
    out = []
    for label, row in zip(labels, values, strict=True):
        row = np.where(np.isnan(row), _MISSING, np.round(row, 9))  # one bit pattern for NaN
        digest = hashlib.sha256(str(label).encode() + b"\0" + row.tobytes())
        out.append(digest.hexdigest()[:20])
    return np.array(out, dtype="U20")


def training_overlap(model: Any, X: Any) -> int:
    """How many rows of ``X`` are patients ``model`` was trained on (same id, same values)."""
    trained = getattr(model, "training_fingerprints_", None)
    if trained is None or len(X) == 0:
        return 0
    return int(np.isin(fingerprints(X), trained).sum())


def save_model(model: Any, path: str | Path) -> Path:
    """Write ``model`` to ``path`` as a skops archive (module docstring)."""
    import sklearn
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump({"format": FILE_FORMAT, "format_version": FILE_VERSION,
              "sklearn_version": sklearn.__version__, "model": model}, path)
    return path


def _is_pickle(head: bytes) -> bool:
    return head[:1] == b"\x80" or head[:2] in (b"x\x9c", b"\x1f\x8b") or head[:3] == b"ZF\x00"


def load_model(path: str | Path) -> Any:
    """The model in a file written by :func:`save_model` (module docstring for the checks)."""
    import sklearn
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file '{path}' not found; {_REFIT}")
    with path.open("rb") as handle:
        head = handle.read(4)
    if not zipfile.is_zipfile(path):
        if _is_pickle(head):
            raise InputError(f"{path.name} is an old (joblib/pickle) prognosis model file, which "
                             "il6sim no longer reads because loading a pickle can run any code; "
                             f"{_REFIT}")
        raise InputError(f"{path.name} is not an il6sim prognosis model file; {_REFIT}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception:  # a damaged archive: skops raises zip, JSON and key errors
        raise InputError(f"{path.name} is damaged or not an il6sim prognosis model file; "
                         f"{_REFIT}") from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise InputError(f"{path.name} contains types il6sim does not trust ({shown}), so it "
                         f"is not loaded; {_REFIT}")
    try:
        payload = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception:
        raise InputError(f"{path.name} is damaged or not an il6sim prognosis model file; "
                         f"{_REFIT}") from None
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise InputError(f"{path.name} is not an il6sim prognosis model file; {_REFIT}")
    if payload.get("format_version") != FILE_VERSION:
        raise InputError(f"{path.name} has model format version {payload.get('format_version')}"
                         f", this il6sim reads version {FILE_VERSION}; {_REFIT}")
    model = payload.get("model")
    if type(model).__module__ != "il6sim.cohort._prognosis" or not hasattr(model, "model_"):
        raise InputError(f"{path.name} does not hold a fitted il6sim prognosis model; {_REFIT}")
    if getattr(model, "calibrator_", None) is None and "before il6sim recalibrated" in str(
            getattr(model, "calibration_", {}).get("status", "")):
        warnings.warn(f"{path.name} was saved before il6sim recalibrated probabilities: they "
                      "are the model's own (often too timid or too extreme); refit with "
                      "'il6sim prognosis fit' for recalibrated probabilities",
                      UserWarning, stacklevel=3)
    if payload.get("sklearn_version") != sklearn.__version__:
        warnings.warn(f"{path.name} was saved with scikit-learn {payload.get('sklearn_version')}"
                      f", this is {sklearn.__version__}; refit if predictions look wrong",
                      UserWarning, stacklevel=3)
    return model
