"""Throughput of a two-arm 28-day COVID-19 population through ``run_chunked``.

Arms: standard care, and tocilizumab 8 mg/kg IV (capped at 800 mg; RECOVERY 2021 Lancet
397:1637) on day 7. Patients are ``covid19-severe``-like hosts with between-patient variability,
drawn per patient from ``(seed, index)`` (:func:`il6sim.runner.patient_rngs`): age 55-90 y,
interferon capacity 0.05-1 (log-uniform), body weight log-normal around 80 kg, inoculum 10^3-10^5
virions (log-uniform). Both arms simulate the same patients (common random numbers).

Timed, each as patient courses (one patient in one arm) per second and as a ratio to the
reference measured in the same run:

- reference: the SciPy backend on the first ``--ref-n`` patients of the control arm, in process;
- in-process: both arms with the fast engine, chunks one after another (``$IL6SIM_WORKERS``
  threads inside a chunk, default all cores);
- Dask: both arms on a ``LocalCluster`` of ``--workers`` processes with one thread each
  (``IL6SIM_WORKERS=1`` in the workers), warmed up first (model built, engine loaded); its result
  must equal the in-process one exactly.

The time of a 100,000-patient two-arm trial is extrapolated from the measured rate: 100,000
courses when the patients are randomised 1:1, 200,000 when every patient is simulated in both
arms as here. Fixed costs (configuration fingerprint, Dask start-up) are in the in-process and
Dask times but not in the start-up line; use a large ``--n`` so that they matter little.

Usage::

    python benchmarks/trial_scale.py --n 5000 --ref-n 4 --chunk-size 250 --workers 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from il6sim.pharmacology import expand_regimen
from il6sim.runner import PopulationTask, patient_rngs, run_chunked
from il6sim.scenario import load_scenario

TOCILIZUMAB_DAY = 7


def population(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-patient parameters and inoculum doses of ``n`` severe-COVID-19-like hosts."""
    rngs = patient_rngs(seed, range(n))
    draws = np.array([[rng.uniform(55, 90), 10 ** rng.uniform(-1.3, 0),
                       80.0 * np.exp(0.2 * rng.standard_normal()), 10 ** rng.uniform(3, 5)]
                      for rng in rngs])
    table = pd.DataFrame(draws[:, :3], columns=["age", "ifn_capacity", "body_weight"])
    inoculum = pd.DataFrame({"patient": np.arange(n), "time_h": 0.0, "agent": "virus",
                             "route": "inoculation", "amount": draws[:, 3], "unit": ""})
    return table, inoculum


def tocilizumab_doses(weights: np.ndarray, at_h: float) -> pd.DataFrame:
    """One label COVID-19 dose per patient (8 mg/kg capped at 800 mg), from the regimen file."""
    rows = [expand_regimen("tocilizumab-covid-8mgkg", weight_kg=w, start_h=at_h).assign(patient=i)
            for i, w in enumerate(weights)]
    return pd.concat(rows, ignore_index=True)


def arms(n: int, seed: int, backend: str = "fast") -> dict[str, PopulationTask]:
    scenario = load_scenario("covid19-severe")
    table, inoculum = population(n, seed)
    toci = tocilizumab_doses(table.body_weight.to_numpy(), TOCILIZUMAB_DAY * 24.0)
    common = {"duration_h": scenario.duration_h, "sampling_h": scenario.sampling_h,
              "seed": seed, "base": scenario.parameter_overrides(), "backend": backend}
    return {
        "standard care": PopulationTask(table, inoculum, **common),
        "tocilizumab": PopulationTask(table, pd.concat([inoculum, toci]), **common),
    }


def timed_run(tasks, n, out: Path, **options) -> tuple[dict[str, pd.DataFrame], float]:
    start = time.perf_counter()
    results = {name: run_chunked(task, n, out_dir=out / name.replace(" ", "_"), **options)
               for name, task in tasks.items()}
    return results, time.perf_counter() - start


def _warm() -> int:
    from il6sim.engine.fast import compile_model
    from il6sim.model import default_model

    compile_model(default_model())
    return os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="patients per arm")
    parser.add_argument("--ref-n", type=int, default=6, help="patients for the reference")
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    tasks = arms(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        reference = arms(args.ref_n, args.seed, backend="reference")["standard care"]
        _warm()
        start = time.perf_counter()
        run_chunked(reference, args.ref_n, out_dir=out / "reference", progress=False)
        ref_rate = args.ref_n / (time.perf_counter() - start)

        local, t_local = timed_run(tasks, args.n, out / "local", chunk_size=args.chunk_size,
                                   progress=args.progress)
        os.environ["IL6SIM_WORKERS"] = "1"  # one engine thread per single-threaded worker
        start = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(_warm)
            t_startup = time.perf_counter() - start
            dask, t_dask = timed_run(tasks, args.n, out / "dask", chunk_size=args.chunk_size,
                                     scheduler=client, progress=args.progress)
    for name in tasks:
        pd.testing.assert_frame_equal(dask[name], local[name])

    total = 2 * args.n
    rows = [("reference (SciPy), in process", ref_rate),
            ("fast, in process", total / t_local),
            (f"fast, Dask LocalCluster {args.workers} x 1 thread", total / t_dask)]
    print(f"two arms x {args.n} patients, 28 days, 6 h read-outs, chunks of {args.chunk_size}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'mode':42s} {'courses/s':>10s} {'x reference':>12s} "
          f"{'100,000-patient trial: 1:1':>27s} {'both arms':>10s}")
    for name, rate in rows:
        print(f"{name:42s} {rate:10.1f} {rate / ref_rate:12.1f} {1e5 / rate / 60:23.1f} min "
              f"{2e5 / rate / 60:6.1f} min")
    print(f"Dask cluster start-up and warm-up (not in the rate): {t_startup:.1f} s; "
          "Dask result identical to in-process: yes")
    print("\narm summaries (same patients, common random numbers):")
    for name, table in local.items():
        ok = table.status == "ok"
        print(f"  {name:14s} deaths {table.death_time_h.notna().mean():6.1%}  "
              f"ventilated {table.ventilated.mean():6.1%}  "
              f"median peak IL-6 {table.peak_il6.median():7.1f} pg/mL  "
              f"median min P/F {table.min_pf.median():6.1f}  failed {int((~ok).sum())}")


if __name__ == "__main__":
    main()
