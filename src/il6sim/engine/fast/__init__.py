"""The fast backend: compiled right-hand side and Jacobian, SUNDIALS CVODE, patients in C.

From a model's symbolic right-hand side this package generates C code for ``f(y; p)`` and its
exact sparse Jacobian (:mod:`.codegen`), compiles it once with the machine's C compiler together
with a batch driver around SUNDIALS CVODE (:mod:`.build`; Hindmarsh AC et al. 2005 ACM TOMS
31:363), and runs patients in chunks on worker threads (:mod:`.batch`). Every patient has its
own step-size and order control, dose jumps split the integration exactly as in the reference
backend, and a failure is reported per patient.

Use it through ``simulate(..., backend="fast")`` / ``equilibrate(..., backend="fast")``; when no
compiler or SUNDIALS is available, :func:`resolve_backend` warns and falls back to the
reference backend.
"""

from __future__ import annotations

import warnings

from ...errors import InputError
from ...model.spec import Model
from .batch import (
    DEFAULT_CHUNK,
    DEFAULT_MAX_STEPS,
    BatchIntegration,
    FastEngine,
    compile_model,
    default_workers,
    dose_events,
    equilibrate_batch,
    flag_message,
    integrate,
    simulate_batch,
)
from .build import FastEngineUnavailableError, cache_dir, find_toolchain
from .codegen import generate_c

#: Backends accepted by ``simulate(backend=...)``.
BACKENDS = ("reference", "fast")


def resolve_backend(name: str, model: Model) -> str:
    """The backend that will run: ``name``, or ``"reference"`` (with a warning) when the fast
    backend cannot be built on this machine."""
    if name not in BACKENDS:
        raise InputError(f"unknown backend '{name}'; fix: use one of {', '.join(BACKENDS)}")
    if name == "fast":
        try:
            compile_model(model)
        except FastEngineUnavailableError as exc:
            warnings.warn(
                f"fast backend unavailable ({exc}); using the reference backend",
                RuntimeWarning,
                stacklevel=3,
            )
            return "reference"
    return name


def backend_settings(model: Model) -> dict[str, str]:
    """What a result made by the fast backend records about the solver."""
    engine = compile_model(model)
    return {"backend": "fast-cvode", "method": "CVODE-BDF", "sundials": engine.sundials_version,
            "linear_solver": f"{engine.linear_solver} LU",
            "vector_kernels": "il6sim" if engine.vector_kernels else "sundials"}


def available(model: Model) -> bool:
    """Whether the fast backend can be built for ``model`` here."""
    try:
        compile_model(model)
    except FastEngineUnavailableError:
        return False
    return True


__all__ = [
    "BACKENDS",
    "DEFAULT_CHUNK",
    "DEFAULT_MAX_STEPS",
    "BatchIntegration",
    "FastEngine",
    "FastEngineUnavailableError",
    "available",
    "backend_settings",
    "cache_dir",
    "compile_model",
    "default_workers",
    "dose_events",
    "equilibrate_batch",
    "find_toolchain",
    "flag_message",
    "generate_c",
    "integrate",
    "resolve_backend",
    "simulate_batch",
]
