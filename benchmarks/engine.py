"""il6sim's fast engine against libroadrunner on the same 28-day COVID-19 cohort (a benchmark,
not a test).

Usage::

    .venv/bin/python benchmarks/engine.py --n 10000 --workers 1,2
    .venv/bin/python benchmarks/engine.py --n 1000 --rr-n 400 --dense --ref-n 4   # quicker

The cohort is the one of ``benchmarks/trial_scale.py`` (standard-care arm): ``covid19-severe``
hosts with age 55-90 y, interferon capacity 0.05-1, body weight around 80 kg and an inoculum of
10^3-10^5 virions at 0 h, drawn per patient from ``(seed, index)``; 28 days, states and all
read-outs every 6 h (113 times). Every engine gets the same patients, the same output times and
``rtol = 1e-6`` with il6sim's absolute tolerances (``max(1e-8 |y0|, 1e-12)`` per state; set
per variable in libroadrunner, on amounts for species).

Timed, for each number of workers in ``--workers`` (threads for il6sim, processes for
libroadrunner, whose objects do not pickle), patients per second of wall time:

* ``il6sim integrate``: :func:`il6sim.engine.fast.integrate` from the rest states with the
  inoculum (compiled C + CVODE, sparse LU);
* ``il6sim simulate``: the whole public call, ``simulate(..., backend="fast")``: parameter
  table, equilibration of every patient, integration, read-outs and the result object;
* ``il6sim integrate, dense LU`` (``--dense``): the same integration with SUNDIALS' dense LU,
  i.e. the linear solver the engine used before the sparse LU;
* ``libroadrunner``: the SBML export (:func:`il6sim.interop.export_sbml`, LLVM-compiled, CVODE),
  per patient: parameters and the state at 0 h (rest + inoculum, found by il6sim, untimed) set
  with the vector setters, then ``simulate(times=...)`` returning states and read-outs. Loading
  the model (LLVM compilation) happens before the clock starts, in every worker process;
* ``reference`` (``--ref-n``): the SciPy backend on a few patients, in process.

The ratios printed are between engines timed in the same run on the same cores — never compare
figures across runs on a shared machine. Also printed: the largest difference between
libroadrunner's and il6sim's IL-6 and CRP (relative to each patient's peak), peak memory (this
process; the largest libroadrunner worker), and CVODE's work per patient.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from trial_scale import population

from il6sim.engine import dose_table, parameter_matrix, simulate
from il6sim.engine import fast as fast_engine
from il6sim.model import default_model
from il6sim.scenario import load_scenario

DAYS = 28
SAMPLING_H = 6.0
RTOL = 1e-6


@dataclass
class Cohort:
    """Patients of the benchmark: parameter matrix (N, P), overrides per patient (for
    ``simulate``), the inoculum table, output times and rest states (found by il6sim)."""

    matrix: np.ndarray
    params: list[dict]
    doses: object
    t_eval: np.ndarray
    rest: np.ndarray
    start: np.ndarray  # rest + inoculum: the state at 0 h

    def events(self, model) -> list[list[tuple[float, int, float]]]:
        return fast_engine.dose_events(model, dose_table(self.doses), self.matrix)


def make_cohort(n: int, seed: int) -> Cohort:
    model = default_model()
    table, inoculum = population(n, seed)
    base = load_scenario("covid19-severe").parameter_overrides()
    params = [base | row for row in table.to_dict("records")]
    matrix = parameter_matrix(model, params)
    t_eval = np.round(np.arange(0.0, DAYS * 24.0 + SAMPLING_H / 2, SAMPLING_H), 10)
    rest, residual = fast_engine.equilibrate_batch(model, matrix)
    if not (residual < 1e-8).all():
        raise SystemExit(f"{int((~(residual < 1e-8)).sum())} patients have no rest state")
    start = rest.copy()
    for i, jumps in enumerate(fast_engine.dose_events(model, dose_table(inoculum), matrix)):
        for time_h, index, delta in jumps:
            if time_h == 0.0:
                start[i, index] += delta
    return Cohort(matrix, params, inoculum, t_eval, rest, start)


# ----- il6sim ---------------------------------------------------------------------------------
def time_integrate(cohort: Cohort, workers: int, linear_solver: str = "sparse"):
    model = default_model()
    engine = fast_engine.compile_model(model)
    if engine.set_linear_solver(linear_solver) != linear_solver:
        raise SystemExit(f"the {linear_solver} LU is not available in this build")
    events = cohort.events(model)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        run = fast_engine.integrate(model, cohort.matrix, cohort.rest, cohort.t_eval, events,
                                    rtol=RTOL, workers=workers, outputs=True)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        engine.set_linear_solver("sparse")
    return run, elapsed, cpu


def time_simulate(cohort: Cohort, workers: int):
    os.environ["IL6SIM_WORKERS"] = str(workers)
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate(cohort.params, cohort.doses, t_end=DAYS * 24.0, dt=SAMPLING_H,
                      model=default_model(), rtol=RTOL, backend="fast")
    return result, time.perf_counter() - start, time.process_time() - cpu


# ----- libroadrunner --------------------------------------------------------------------------
def roadrunner_setup(sbml: str, state_names, param_names, output_names, atol_state):
    """A RoadRunner for the SBML export with il6sim's tolerances and index maps for the vector
    setters (species as concentrations, rate-rule parameters and model parameters by index)."""
    import libsbml
    import roadrunner

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    rr = roadrunner.RoadRunner(sbml)
    rr.setIntegrator("cvode")
    integrator = rr.getIntegrator()
    integrator.setValue("stiff", True)
    integrator.setValue("relative_tolerance", RTOL)
    integrator.setValue("maximum_num_steps", fast_engine.DEFAULT_MAX_STEPS)
    species = list(rr.model.getFloatingSpeciesIds())
    globals_ = list(rr.model.getGlobalParameterIds())
    volumes = dict(zip(rr.model.getCompartmentIds(), rr.model.getCompartmentVolumes(),
                       strict=True))
    document = libsbml.readSBMLFromString(sbml)
    compartment = {s.getId(): s.getCompartment() for s in document.getModel().getListOfSpecies()}
    for name, atol in zip(state_names, atol_state, strict=True):  # CVODE integrates amounts
        integrator.setIndividualTolerance(name, atol * volumes.get(compartment.get(name), 1.0))
    as_species = [(i, species.index(s)) for i, s in enumerate(state_names) if s in species]
    as_global = [(i, globals_.index(s)) for i, s in enumerate(state_names) if s not in species]
    maps = {
        "param": np.array([globals_.index(p) for p in param_names], dtype=np.int32),
        "species_state": np.array([i for i, _ in as_species]),
        "species_index": np.array([j for _, j in as_species], dtype=np.int32),
        "global_state": np.array([i for i, _ in as_global]),
        "global_index": np.array([j for _, j in as_global], dtype=np.int32),
    }
    rr.timeCourseSelections = ["time", *[f"[{s}]" if s in species else s for s in state_names],
                               *[f"out_{o}" for o in output_names]]
    return rr, maps


def roadrunner_patient(rr, maps, p: np.ndarray, y0: np.ndarray, t_eval: np.ndarray):
    """One patient: parameters and state at 0 h, then the time course (times, states, outputs)."""
    rr.model.setTime(float(t_eval[0]))
    rr.model.setGlobalParameterValues(maps["param"], p)
    rr.model.setGlobalParameterValues(maps["global_index"], y0[maps["global_state"]])
    rr.model.setFloatingSpeciesConcentrations(maps["species_index"], y0[maps["species_state"]])
    return np.asarray(rr.simulate(times=t_eval))


def _roadrunner_worker(setup_args, matrix, start, t_eval, barrier, queue) -> None:
    rr, maps = roadrunner_setup(*setup_args)  # LLVM compilation: before the clock starts
    roadrunner_patient(rr, maps, matrix[0], start[0], t_eval)  # warm
    failed = 0
    barrier.wait()
    clock, cpu = time.perf_counter(), time.process_time()
    for p, y0 in zip(matrix, start, strict=True):
        try:
            roadrunner_patient(rr, maps, p, y0, t_eval)
        except RuntimeError:
            failed += 1
    elapsed, cpu = time.perf_counter() - clock, time.process_time() - cpu
    queue.put((elapsed, cpu, failed, _peak_rss_mb()))


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's peak,
    as Linux keeps it across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def roadrunner_setup_args(cohort: Cohort):
    from il6sim.interop import export_sbml

    model = default_model()
    sbml = export_sbml(model, parameters=cohort.matrix[0], initial_states=cohort.rest[0])
    atol = np.maximum(RTOL * 1e-2 * np.abs(cohort.rest[0]), 1e-12)
    return (sbml, model.state_names, model.param_names, model.output_names, atol)


def time_roadrunner(cohort: Cohort, n: int, workers: int, setup_args):
    """Wall time of ``n`` patients on ``workers`` processes started together (after loading);
    returns (seconds, CPU seconds of all workers, failed patients, peak RSS of the largest
    worker in MB)."""
    context = mp.get_context("spawn")
    barrier, queue = context.Barrier(workers), context.Queue()
    parts = np.array_split(np.arange(n), workers)
    processes = [context.Process(target=_roadrunner_worker, args=(
        setup_args, cohort.matrix[part], cohort.start[part], cohort.t_eval, barrier, queue))
        for part in parts]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    return (max(r[0] for r in results), sum(r[1] for r in results), sum(r[2] for r in results),
            max(r[3] for r in results))


def roadrunner_accuracy(cohort: Cohort, run, k: int, setup_args) -> dict[str, float]:
    """Largest |libroadrunner − il6sim| of IL-6 and CRP over the first ``k`` patients, relative
    to each patient's peak."""
    model = default_model()
    rr, maps = roadrunner_setup(*setup_args)
    worst = {"il6": 0.0, "crp": 0.0}
    for i in range(k):
        course = roadrunner_patient(rr, maps, cohort.matrix[i], cohort.start[i], cohort.t_eval)
        outputs = course[:, 1 + len(model.state_names):]
        for name in worst:
            j = model.output_names.index(name)
            ours = run.outputs[i, :, j]
            diff = np.abs(outputs[:, j] - ours).max() / np.abs(ours).max()
            worst[name] = max(worst[name], float(diff))
    return worst


# ----- report ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="patients")
    parser.add_argument("--rr-n", type=int, default=None,
                        help="patients for libroadrunner (default: --n; its rate is per patient)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--dense", action="store_true",
                        help="also time il6sim's integration with SUNDIALS' dense LU")
    parser.add_argument("--ref-n", type=int, default=0,
                        help="also time the reference (SciPy) backend on this many patients")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every measurement this often and keep the fastest")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    rr_n = min(args.rr_n or args.n, args.n)

    model = default_model()
    engine = fast_engine.compile_model(model)
    clock = time.perf_counter()
    cohort = make_cohort(args.n, args.seed)
    print(f"model: {len(model.states)} states, {len(model.parameters)} parameters, sparse LU "
          f"with {engine.lu_slots} entries; SUNDIALS {engine.sundials_version}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"cohort: {args.n} COVID-19 patients (covid19-severe hosts), {DAYS} days, states and "
          f"{len(model.outputs)} read-outs every {SAMPLING_H:g} h ({len(cohort.t_eval)} times); "
          f"rest states found in {time.perf_counter() - clock:.1f} s")
    setup_args = roadrunner_setup_args(cohort)
    rows: dict[tuple[str, int], list] = {}

    def record(name: str, w: int, n: int, wall: float, cpu: float, note: str = "") -> None:
        best = rows.get((name, w))
        if best is None or wall < best[1]:  # the fastest of --repeat runs
            rows[name, w] = [n, wall, cpu, note]

    first_run = None
    for _ in range(args.repeat):
        for w in workers:
            run, wall, cpu = time_integrate(cohort, w)
            record("il6sim integrate", w, args.n, wall, cpu)
            first_run = first_run or run
            del run
            if args.dense:
                _, wall, cpu = time_integrate(cohort, w, "dense")
                record("il6sim integrate, dense LU", w, args.n, wall, cpu)
            result, wall, cpu = time_simulate(cohort, w)
            failed = sum(s != "ok" for s in result.status)
            del result
            record("il6sim simulate (equilibrate + integrate)", w, args.n, wall, cpu,
                   f"failed {failed}")
            wall, cpu, rr_failed, rr_rss = time_roadrunner(cohort, rr_n, w, setup_args)
            record("libroadrunner (SBML export)", w, rr_n, wall, cpu,
                   f"failed {rr_failed}, worker peak RSS {rr_rss:.0f} MB")
    if args.ref_n:
        clock, cpu = time.perf_counter(), time.process_time()
        reference = simulate(cohort.params[:args.ref_n], cohort.doses.iloc[:args.ref_n],
                             t_end=DAYS * 24.0, dt=SAMPLING_H, model=model, rtol=RTOL)
        record("reference (SciPy LSODA) simulate", 1, args.ref_n, time.perf_counter() - clock,
               time.process_time() - cpu, f"failed {sum(s != 'ok' for s in reference.status)}")

    print(f"\n{'engine':44s} {'workers':>7s} {'patients':>8s} {'seconds':>8s} "
          f"{'patients/s':>10s} {'ms/patient':>10s} {'CPU ms/patient':>14s}")
    rate, cpu_ms = {}, {}
    for (name, w), (n, wall, cpu, note) in rows.items():
        rate[name, w] = n / wall
        cpu_ms[name, w] = 1e3 * cpu / n
        print(f"{name:44s} {w:7d} {n:8d} {wall:8.2f} {n / wall:10.1f} "
              f"{1e3 * wall / n:10.3f} {cpu_ms[name, w]:14.3f}  {note}")
    print("(wall time: the fastest of --repeat runs; CPU time: all threads or worker processes)")
    print()
    ours, full, theirs = ("il6sim integrate", "il6sim simulate (equilibrate + integrate)",
                          "libroadrunner (SBML export)")
    for w in workers:
        print(f"{w} worker(s), il6sim / libroadrunner throughput: integrate "
              f"{rate[ours, w] / rate[theirs, w]:.2f}x (CPU time "
              f"{cpu_ms[theirs, w] / cpu_ms[ours, w]:.2f}x); simulate incl. equilibration "
              f"{rate[full, w] / rate[theirs, w]:.2f}x (CPU time "
              f"{cpu_ms[theirs, w] / cpu_ms[full, w]:.2f}x)"
              + (f"; sparse / dense LU {rate[ours, w] / rate['il6sim integrate, dense LU', w]:.2f}x"
                 if args.dense else ""))
    if len(workers) > 1:
        a, b = workers[0], workers[-1]
        print(f"scaling {a} -> {b} workers (wall): il6sim integrate "
              f"{rate[ours, b] / rate[ours, a]:.2f}x, libroadrunner "
              f"{rate[theirs, b] / rate[theirs, a]:.2f}x")
    if args.ref_n:
        ref = rate["reference (SciPy LSODA) simulate", 1]
        print(f"il6sim simulate ({workers[0]} worker) / reference (1 process) = "
              f"{rate[full, workers[0]] / ref:.0f}x")

    run = first_run
    k = min(20, args.n)
    accuracy = roadrunner_accuracy(cohort, run, k, setup_args)
    print(f"\nagreement, first {k} patients, max |libroadrunner - il6sim| / peak: "
          + ", ".join(f"{name} {value:.1e}" for name, value in accuracy.items()))
    stats = run.stats.mean(axis=0)
    print("CVODE per patient (il6sim integrate): " + ", ".join(
        f"{value:.1f} {name.replace('_', ' ')}"
        for name, value in zip(run.STAT_NAMES, stats, strict=True)))
    details: dict[str, int] = {}
    fast_engine.equilibrate_batch(model, cohort.matrix[:min(args.n, 1000)], details=details)
    print(f"equilibration: {details}")
    size = (run.states.nbytes + run.outputs.nbytes) / 2**20
    print(f"peak RSS of this process: {_peak_rss_mb():.0f} MB (il6sim; one integration's "
          f"states and read-outs of {args.n} patients take {size:.0f} MB, two are alive at "
          "the peak)")


if __name__ == "__main__":
    main()
