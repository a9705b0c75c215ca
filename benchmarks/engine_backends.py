"""Throughput of the engine backends on a 28-day endotoxemia cohort (a benchmark, not a test).

Every backend simulates the same virtual patients through ``simulate()`` (equilibration to rest,
a 2 ng/kg LPS bolus at 0 h, read-outs every ``--dt`` hours for ``--days`` days) and is timed on
the same cores: the fast backend runs ``--workers`` threads, the reference ``--workers``
processes. The reference is timed on ``--ref-n`` patients (it is ~50x slower) and its rate
extrapolated. Prints patients/second, the ratio, peak memory (RSS) and where the time goes.

    .venv/bin/python benchmarks/engine_backends.py --n 10000 --workers 2

A third backend (e.g. libroadrunner on the SBML export) is added by writing a subclass of
:class:`Backend` and listing it in :data:`BACKENDS`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from il6sim.engine import Dose, dose_table, simulate
from il6sim.engine import fast as fast_engine
from il6sim.model import default_model
from il6sim.model.units import ureg


@dataclass
class Cohort:
    """The benchmark's patients: parameter matrix (N, P), doses and output times."""

    matrix: np.ndarray
    doses: list[Dose]
    t_eval: np.ndarray

    def head(self, n: int) -> Cohort:
        return Cohort(self.matrix[:n], self.doses, self.t_eval)


def make_cohort(n: int, days: float, dt: float, sigma: float, seed: int) -> Cohort:
    """N patients: every rate constant (unit 1/time) log-normally perturbed around its value."""
    model = default_model()
    rng = np.random.default_rng(seed)
    matrix = np.tile(model.default_parameters(), (n, 1))
    rates = [i for i, p in enumerate(model.parameters)
             if ureg.Unit(p.unit).dimensionality.get("[time]", 0) == -1]
    matrix[:, rates] *= np.exp(rng.normal(0.0, sigma, (n, len(rates))))
    t_eval = np.round(np.arange(0.0, days * 24.0 + dt / 2, dt), 10)
    return Cohort(matrix, [Dose(0.0, "lps", 2.0, unit="ng/kg")], t_eval)


def _in_processes(function, arguments: list[tuple]) -> tuple[list[str], float]:
    """Run ``function(*a)`` for each ``a`` in its own worker process (or inline for one);
    each returns ``(status, seconds)``; the batch takes as long as its slowest worker."""
    if len(arguments) == 1:
        return function(*arguments[0])
    with ProcessPoolExecutor(len(arguments)) as pool:
        results = [f.result() for f in [pool.submit(function, *a) for a in arguments]]
    return [s for status, _ in results for s in status], max(t for _, t in results)


class Backend:
    """One way of running :func:`simulate`; subclasses time it on a cohort."""

    name = "base"

    def prepare(self, cohort: Cohort) -> None:
        """One-time set-up (compilation, model loading) kept out of the timing."""

    def run(self, cohort: Cohort, workers: int) -> tuple[list[str], float]:
        """Simulate the cohort on ``workers`` cores; return the per-patient status and the
        wall time in seconds (worker start-up, imports and model loading excluded)."""
        raise NotImplementedError

    def profile(self, cohort: Cohort, workers: int) -> str:
        """A short account of where the time goes."""
        return ""


def _reference_chunk(
    matrix: np.ndarray, doses: list[Dose], t_eval: np.ndarray
) -> tuple[list[str], float]:
    model = default_model()  # built before the clock starts (once per worker process)
    start = time.perf_counter()
    status = simulate(matrix, doses, t_eval=t_eval, model=model).status
    return status, time.perf_counter() - start


class ReferenceBackend(Backend):
    """SciPy LSODA per patient (Python right-hand side, exact Jacobian), processes for cores."""

    name = "reference"

    def run(self, cohort: Cohort, workers: int) -> tuple[list[str], float]:
        parts = np.array_split(cohort.matrix, max(workers, 1))
        return _in_processes(_reference_chunk, [(p, cohort.doses, cohort.t_eval) for p in parts])

    def profile(self, cohort: Cohort, workers: int) -> str:
        profiler = cProfile.Profile()
        profiler.runcall(_reference_chunk, cohort.matrix[:2], cohort.doses, cohort.t_eval)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(8)
        lines = [ln for ln in text.getvalue().splitlines() if ln.strip()]
        return "\n".join(lines[-9:])


class FastBackend(Backend):
    """Generated C + SUNDIALS CVODE, chunks of patients on worker threads."""

    name = "fast"

    def prepare(self, cohort: Cohort) -> None:
        model = default_model()
        start = time.perf_counter()
        fast_engine.compile_model(model)
        self.prepare_s = time.perf_counter() - start

    def run(self, cohort: Cohort, workers: int) -> tuple[list[str], float]:
        os.environ["IL6SIM_WORKERS"] = str(workers)
        start = time.perf_counter()
        result = simulate(cohort.matrix, cohort.doses, t_eval=cohort.t_eval,
                          model=default_model(), backend="fast")
        return result.status, time.perf_counter() - start

    def profile(self, cohort: Cohort, workers: int) -> str:
        model = default_model()
        n = len(cohort.matrix)
        t0 = time.perf_counter()
        y0, _ = fast_engine.equilibrate_batch(model, cohort.matrix, workers=workers)
        t1 = time.perf_counter()
        events = fast_engine.dose_events(model, dose_table(cohort.doses), cohort.matrix)
        t2 = time.perf_counter()
        run = fast_engine.integrate(model, cohort.matrix, y0, cohort.t_eval, events,
                                    workers=workers, outputs=True)
        t3 = time.perf_counter()
        stats = run.stats.mean(axis=0)
        per = 1e3 / n
        return "\n".join([
            f"  model code generation + compile/load (once per process): {self.prepare_s:.2f} s",
            f"  equilibrate (CVODE relax + Newton, C):  {(t1 - t0) * per:8.3f} ms/patient wall",
            f"  dose table -> jump arrays (Python):     {(t2 - t1) * per:8.3f} ms/patient wall",
            f"  integrate + read-outs (CVODE, C):       {(t3 - t2) * per:8.3f} ms/patient wall",
            "  CVODE per patient: " + ", ".join(
                f"{v:.0f} {k}" for k, v in zip(run.STAT_NAMES, stats, strict=True)),
        ])


_RR: dict[str, object] = {}


def _roadrunner_chunk(sbml: str, names: list[str], matrix: np.ndarray, y0: np.ndarray,
                      t_eval: np.ndarray, rtol: float) -> tuple[list[str], float]:
    """Simulate patients with one RoadRunner per worker process (loaded once, then reused)."""
    import roadrunner

    if sbml not in _RR:
        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
        rr = roadrunner.RoadRunner(sbml)
        rr.setIntegrator("cvode")
        rr.getIntegrator().setValue("stiff", True)
        rr.getIntegrator().setValue("relative_tolerance", rtol)
        rr.getIntegrator().setValue("maximum_num_steps", 100_000)
        species = set(rr.model.getFloatingSpeciesIds())
        state_ids = [f"[{x}]" if x in species else x for x in names]
        outputs = [x for x in rr.model.getGlobalParameterIds() if x.startswith("out_")]
        rr.timeCourseSelections = ["time", *state_ids, *outputs]
        _RR.clear()
        _RR[sbml] = (rr, state_ids)
    rr, state_ids = _RR[sbml]
    model = default_model()
    status = []
    start = time.perf_counter()
    for p, y in zip(matrix, y0, strict=True):
        rr.reset()
        for name, value in zip(model.param_names, p, strict=True):
            rr.setValue(name, float(value))
        for ident, value in zip(state_ids, y, strict=True):
            rr.setValue(ident, float(value))
        try:
            rr.simulate(times=t_eval)
            status.append("ok")
        except RuntimeError as exc:
            status.append(f"failed: {exc}")
    return status, time.perf_counter() - start


class RoadRunnerBackend(Backend):
    """libroadrunner (LLVM-compiled SBML export + CVODE), one RoadRunner per worker process.

    Integration only: every patient starts from its rest state, found beforehand (untimed) by
    the fast backend; compare with the fast backend's "integrate" line, not its full pipeline.
    """

    name = "roadrunner"

    def prepare(self, cohort: Cohort) -> None:
        from il6sim.interop import export_sbml

        model = default_model()
        self.y0, _ = fast_engine.equilibrate_batch(model, cohort.matrix)
        self.sbml = export_sbml(model, parameters=cohort.matrix[0], initial_states=self.y0[0],
                                doses=cohort.doses)

    def run(self, cohort: Cohort, workers: int) -> tuple[list[str], float]:
        names = default_model().state_names
        parts = np.array_split(np.arange(len(cohort.matrix)), max(workers, 1))
        return _in_processes(_roadrunner_chunk, [
            (self.sbml, names, cohort.matrix[i], self.y0[i], cohort.t_eval, 1e-6) for i in parts
        ])


BACKENDS: dict[str, type[Backend]] = {
    "reference": ReferenceBackend, "fast": FastBackend, "roadrunner": RoadRunnerBackend,
}


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="patients for the fast backend")
    parser.add_argument("--ref-n", type=int, default=40,
                        help="patients for the slower backends (reference, roadrunner)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--days", type=float, default=28.0)
    parser.add_argument("--dt", type=float, default=1.0, help="hours between read-outs")
    parser.add_argument("--sigma", type=float, default=0.2, help="log-normal SD of rates")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="reference,fast",
                        help=f"comma-separated, from: {', '.join(BACKENDS)}")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()

    cohort = make_cohort(args.n, args.days, args.dt, args.sigma, args.seed)
    model = default_model()
    print(f"model: {len(model.states)} states, {len(model.parameters)} parameters; cohort: "
          f"{args.days:g} d endotoxemia (2 ng/kg LPS), read-outs every {args.dt:g} h "
          f"({len(cohort.t_eval)} times), rates perturbed (sigma {args.sigma}); "
          f"workers: {args.workers}; cores: {os.cpu_count()}")
    rates = {}
    for name in args.backends.split(","):
        backend = BACKENDS[name]()
        part = cohort.head(args.ref_n) if name in ("reference", "roadrunner") else cohort
        backend.prepare(part)
        status, elapsed = backend.run(part, args.workers)
        rates[name] = len(part.matrix) / elapsed
        failed = sum(s != "ok" for s in status)
        print(f"{name:>10}: {len(part.matrix):6d} patients in {elapsed:8.2f} s = "
              f"{rates[name]:9.1f} patients/s ({1e3 / rates[name]:.3f} ms/patient on "
              f"{args.workers} cores), failed: {failed}")
        if not args.no_profile:
            print(backend.profile(part, args.workers))
    if "reference" in rates:
        for name, rate in rates.items():
            if name != "reference":
                print(f"{name} / reference throughput: {rate / rates['reference']:.1f}x")
    own, children = peak_rss_mb()
    print(f"peak RSS: {own:.0f} MB (this process), {children:.0f} MB (largest worker process)")


if __name__ == "__main__":
    main()
