"""Compile a model's generated C code with the CVODE driver into a cached shared library.

The library is built once per distinct source (model expressions + driver + compiler flags +
SUNDIALS version) and cached under a name made from the SHA-256 of all of these, in
``$IL6SIM_CACHE_DIR``, else the user cache directory (:mod:`platformdirs`), else a temporary
directory. A build writes to a temporary file and renames it, so concurrent processes (pytest
workers, a pool) never see a half-written library.

The compiler is ``$CC`` or ``cc``/``gcc``. SUNDIALS (Hindmarsh AC et al. 2005 ACM TOMS 31:363)
comes from ``$SUNDIALS_DIR``, else from the shared libraries bundled in the ``scikit-sundae``
wheel (an optimised SUNDIALS 7 without headers: ``sundials_decl.h`` declares what the driver
calls), else from ``$CONDA_PREFIX``, ``/usr/local`` or ``/usr`` (note that Debian's
``libsundials-dev`` 6.4 is built without optimisation and runs ~4x slower). When no compiler or
SUNDIALS is found, :class:`FastEngineUnavailableError` says which and how to fix it.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .codegen import GeneratedModel

DRIVER = Path(__file__).with_name("driver.c")
DECLARATIONS = Path(__file__).with_name("sundials_decl.h")
CFLAGS = ("-O3", "-fPIC", "-shared", "-std=gnu11", "-fno-fast-math")
_LIBS = ("sundials_cvode", "sundials_nvecserial", "sundials_sunmatrixdense",
         "sundials_sunlinsoldense", "sundials_core", "sundials_generic")


class FastEngineUnavailableError(RuntimeError):
    """The fast backend cannot be built here (no C compiler, no SUNDIALS, or a failed build)."""


@dataclass(frozen=True)
class Toolchain:
    """A C compiler and a SUNDIALS CVODE to build against (flags, libraries, version)."""

    compiler: str
    origin: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    sundials_version: str

    def fingerprint(self) -> str:
        return "|".join([self.compiler, self.origin, *self.cflags, *self.ldflags,
                         self.sundials_version])


def _installed_sundials(prefix: Path) -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
    """Flags for a SUNDIALS install with headers under ``prefix`` (>= 6), or ``None``."""
    config = prefix / "include" / "sundials" / "sundials_config.h"
    if not (config.is_file() and (prefix / "include" / "cvode" / "cvode.h").is_file()):
        return None
    match = re.search(r'#define SUNDIALS_VERSION "([^"]+)"', config.read_text())
    version = match.group(1) if match else "0"
    if int(version.split(".")[0] or 0) < 6:
        return None
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for lib_dir in [prefix / "lib", prefix / "lib64", prefix / "lib" / multiarch]:
        found = [n for n in _LIBS if any(lib_dir.glob(f"lib{n}.so*"))]
        if "sundials_cvode" in found:
            cflags = (f"-I{prefix / 'include'}",)
            ldflags = (f"-L{lib_dir}", f"-Wl,-rpath,{lib_dir}", *[f"-l{n}" for n in found])
            return cflags, ldflags, version
    return None


def _bundled_sundials() -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
    """Flags for the SUNDIALS libraries that the scikit-sundae wheel bundles (no headers).

    The libraries are linked by their full file names; ``sundials_decl.h`` declares the API,
    with ``sunindextype`` read from the wheel's own ``c_config.pxi``.
    """
    spec = importlib.util.find_spec("sksundae")
    if spec is None or not spec.origin:
        return None
    package = Path(spec.origin).parent
    lib_dir = package.parent / "scikit_sundae.libs"
    names = {}
    for n in ("sundials_core", "sundials_cvode", "sundials_nvecserial",
              "sundials_sunmatrixdense", "sundials_sunlinsoldense"):
        hits = sorted(lib_dir.glob(f"lib{n}-*.so*")) or sorted(lib_dir.glob(f"lib{n}.so*"))
        if not hits:
            return None
        names[n] = hits[0]
    config = package / "c_config.pxi"
    text = config.read_text() if config.is_file() else ""
    index = re.search(r"ctypedef\s+([\w ]+?)\s+sunindextype", text)
    real = re.search(r"ctypedef\s+([\w ]+?)\s+sunrealtype", text)
    if real and real.group(1).strip() != "double":
        return None
    core = ctypes.CDLL(str(names["sundials_core"]))
    parts = [ctypes.c_int() for _ in range(3)]
    label = ctypes.create_string_buffer(64)
    if core.SUNDIALSGetVersionNumber(*[ctypes.byref(p) for p in parts], label, 64) != 0:
        return None
    major, minor, patch = (p.value for p in parts)
    if major < 7:
        return None
    index_type = index.group(1).strip() if index else "int"
    cflags = (f"-I{Path(__file__).parent}", "-DIL6_SUNDIALS_DECL",
              f"-DIL6_SUNDIALS_MAJOR={major}", f"-DIL6_SUNINDEXTYPE={index_type}")
    ldflags = (f"-L{lib_dir}", f"-Wl,-rpath,{lib_dir}",
               *[f"-l:{path.name}" for path in names.values()])
    return cflags, ldflags, f"{major}.{minor}.{patch}"


@lru_cache(maxsize=1)
def find_toolchain() -> Toolchain:
    """Locate a C compiler and SUNDIALS CVODE, or raise :class:`FastEngineUnavailableError`.

    SUNDIALS is looked for, in order: ``$SUNDIALS_DIR``; the libraries bundled in the
    scikit-sundae wheel (an optimised build, a plain PyPI dependency); ``$CONDA_PREFIX``,
    ``/usr/local`` and ``/usr``.
    """
    candidates = [os.environ.get("CC"), "cc", "gcc", "clang"]
    compiler = next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)
    if compiler is None:
        raise FastEngineUnavailableError(
            "no C compiler found; fix: install gcc (apt-get install gcc) or set CC"
        )
    searches = []
    if os.environ.get("SUNDIALS_DIR"):
        searches.append(("SUNDIALS_DIR", Path(os.environ["SUNDIALS_DIR"])))
    searches.append(("scikit-sundae", None))
    for prefix in [os.environ.get("CONDA_PREFIX"), "/usr/local", "/usr"]:
        if prefix:
            searches.append((prefix, Path(prefix)))
    for origin, prefix in searches:
        try:
            found = _bundled_sundials() if prefix is None else _installed_sundials(prefix)
        except (OSError, AttributeError, ValueError):
            found = None
        if found is not None:
            return Toolchain(compiler, origin, *found)
    raise FastEngineUnavailableError(
        "SUNDIALS CVODE (>= 6) not found; fix: pip install scikit-sundae (bundles SUNDIALS 7), "
        "or set SUNDIALS_DIR to a SUNDIALS installation with headers"
    )


def cache_dir() -> Path:
    """Where compiled libraries are kept (created if needed)."""
    choices = []
    if os.environ.get("IL6SIM_CACHE_DIR"):
        choices.append(Path(os.environ["IL6SIM_CACHE_DIR"]))
    try:
        import platformdirs

        choices.append(Path(platformdirs.user_cache_dir("il6sim")) / "fast")
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        choices.append(Path.home() / ".cache" / "il6sim" / "fast")
    choices.append(Path(tempfile.gettempdir()) / f"il6sim-fast-{os.getuid()}")
    for path in choices:
        try:
            path.mkdir(parents=True, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise FastEngineUnavailableError("no writable cache directory; fix: set IL6SIM_CACHE_DIR")


def library_source(generated: GeneratedModel) -> str:
    """The full translation unit: generated model code followed by the driver."""
    return generated.source + "\n" + DRIVER.read_text()


def build_library(generated: GeneratedModel, toolchain: Toolchain | None = None) -> Path:
    """Compile (or reuse from the cache) the shared library for ``generated``."""
    toolchain = toolchain or find_toolchain()
    source = library_source(generated)
    key = hashlib.sha256(
        "\n".join(
            [source, DECLARATIONS.read_text(), " ".join(CFLAGS), toolchain.fingerprint()]
        ).encode()
    ).hexdigest()[:24]
    directory = cache_dir()
    target = directory / f"il6sim_fast_{key}.so"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        c_file = Path(tmp) / f"il6sim_fast_{key}.c"
        c_file.write_text(source)
        partial = Path(tmp) / target.name
        command = [
            toolchain.compiler, *CFLAGS, *toolchain.cflags, str(c_file), "-o", str(partial),
            *toolchain.ldflags, "-lm",
        ]
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise FastEngineUnavailableError(
                f"compiling the fast engine failed ({' '.join(command[:2])} ...): "
                f"{run.stderr.strip()[-1500:]}"
            )
        shutil.copy(c_file, directory / c_file.name)  # kept next to the library, for reading
        os.replace(partial, target)
    return target


_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
_LONG_P = ctypes.POINTER(ctypes.c_long)
_INT_P = ctypes.POINTER(ctypes.c_int)


def load_library(path: Path) -> ctypes.CDLL:
    """Load a built library and declare its entry points (calls release the GIL)."""
    lib = ctypes.CDLL(str(path))
    lib.il6_simulate.restype = ctypes.c_int
    lib.il6_simulate.argtypes = [
        ctypes.c_long, _DOUBLE_P, _DOUBLE_P, _DOUBLE_P, ctypes.c_long, _DOUBLE_P,
        _LONG_P, _DOUBLE_P, _LONG_P, _DOUBLE_P, ctypes.c_double, ctypes.c_long,
        _DOUBLE_P, _DOUBLE_P, _INT_P, _DOUBLE_P, _DOUBLE_P,
    ]
    lib.il6_equilibrate.restype = ctypes.c_int
    lib.il6_equilibrate.argtypes = [
        ctypes.c_long, _DOUBLE_P, _DOUBLE_P, ctypes.c_double, ctypes.c_double, ctypes.c_double,
        ctypes.c_double, ctypes.c_long, ctypes.c_double, ctypes.c_double, _DOUBLE_P, _DOUBLE_P,
        _INT_P, _INT_P,
    ]
    lib.il6_sizes.restype = ctypes.c_int
    lib.il6_sizes.argtypes = [_INT_P]
    for name in ("il6_eval_rhs", "il6_eval_jac", "il6_eval_outputs"):
        getattr(lib, name).restype = ctypes.c_int
        getattr(lib, name).argtypes = [_DOUBLE_P, _DOUBLE_P, _DOUBLE_P]
    lib.il6_eval_lu_solve.restype = ctypes.c_int
    lib.il6_eval_lu_solve.argtypes = [_DOUBLE_P, _DOUBLE_P, ctypes.c_double, ctypes.c_double,
                                      _DOUBLE_P, _DOUBLE_P, _DOUBLE_P]
    lib.il6_configure.restype = ctypes.c_int
    lib.il6_configure.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_double]
    return lib
