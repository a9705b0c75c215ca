"""Chunked, resumable, seeded population runs (il6sim.runner), in this process and on Dask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from il6sim.clinical import death_hazard, death_time, outcomes
from il6sim.engine import Dose
from il6sim.errors import InputError
from il6sim.runner import PopulationTask, patient_rngs, plan_chunks, run_chunked
from il6sim.scenario import load_scenario
from runner_tasks import DrawTask, logged_calls
from waiting import LONG_WAIT_S, wait_until

N = 10
SEED = 3  # a seed with deaths among the 10, so the seeded draws are exercised


def _population_task(**options) -> PopulationTask:
    rngs = patient_rngs(SEED, range(N))
    table = pd.DataFrame({"age": [rng.uniform(60, 90) for rng in rngs],
                          "ifn_capacity": [10 ** rng.uniform(-1.5, 0) for rng in rngs]})
    # large early second inocula: they raise the viral peak (later ones meet a virus already
    # near its peak, or antibody)
    extra = [Dose(12.0, "virus", 1e8, route="inoculation", patient=3),
             Dose(24.0, "virus", 1e8, route="inoculation", patient=8)]
    return PopulationTask.from_scenario("covid19-severe", table, seed=SEED, doses=extra,
                                        sampling_h=12.0, **options)


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    """The population run in one chunk in this process: the reference for every other run."""
    out = tmp_path_factory.mktemp("population")
    return run_chunked(_population_task(), N, out_dir=out, chunk_size=N, progress=False)


# ---- seeding -----------------------------------------------------------------------------------
def test_patient_rngs_depend_only_on_seed_stream_and_index():
    alone = patient_rngs(9, [41])[0].random(3)
    in_batch = patient_rngs(9, range(50))[41].random(3)
    assert np.array_equal(alone, in_batch)
    assert not np.array_equal(alone, patient_rngs(9, [41], stream="other")[0].random(3))
    assert not np.array_equal(alone, patient_rngs(10, [41])[0].random(3))
    # independent of the clinical death draws, which use default_rng([seed, index])
    clinical = np.random.default_rng([9, 41]).random()
    assert not np.isclose(patient_rngs(9, [41])[0].random(), clinical)
    with pytest.raises(InputError, match="seed"):
        patient_rngs(-1, [0])


def test_death_draws_follow_the_population_index_not_the_batch_position():
    result = load_scenario("covid19-severe").run(backend="fast")  # one patient, P(death) ≈ 0.7
    ids = np.arange(100, 160)
    drawn = np.array([death_time(result, 7, patients=[i])[0] for i in ids])
    cumulative = np.cumsum(death_hazard(result)[0] * np.diff(result.time, prepend=0.0))
    for i, t in zip(ids, drawn, strict=True):
        threshold = np.random.default_rng([7, int(i)]).exponential()
        crossed = cumulative >= threshold
        assert np.isnan(t) if not crossed.any() else t == result.time[np.argmax(crossed)]
    assert 0 < np.isfinite(drawn).sum() < len(ids)  # the index matters: some die, some do not
    table = outcomes(result, seed=7, patients=np.array([123]))
    assert table.patient.tolist() == [123]
    assert np.array_equal(table.death_time_h, death_time(result, 7, patients=[123]),
                          equal_nan=True)
    with pytest.raises(InputError, match="patients"):
        outcomes(result, patients=np.array([1, 2]))


# ---- chunking ------------------------------------------------------------------------------------
def test_plan_chunks_covers_only_what_is_left():
    done = np.zeros(10, dtype=bool)
    done[3:5] = True
    assert plan_chunks(done, 3) == [(0, 3), (5, 8), (8, 10)]
    assert plan_chunks(np.ones(4, dtype=bool), 3) == []


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
def test_population_results_do_not_depend_on_chunk_size(population, chunk_size, tmp_path):
    result = run_chunked(_population_task(), N, out_dir=tmp_path, chunk_size=chunk_size,
                         progress=False)
    pd.testing.assert_frame_equal(result, population)
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == -(-N // chunk_size)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), population)


def test_population_run_is_meaningful(population):
    assert population.patient.tolist() == list(range(N))
    assert (population.status == "ok").all()
    # the seeded death draws must be exercised; if a model change leaves no deaths, pick a SEED
    # that gives some
    assert population.death_time_h.notna().any(), "no deaths among the patients"
    assert population.peak_il6.nunique() == N
    # the personal doses reach their patients (a second inoculum at 12 or 24 h)
    plain = _population_task()
    plain.doses = plain.doses[plain.doses.patient == -1].reset_index(drop=True)
    alone = plain(np.array([3, 8]))
    assert not np.allclose(alone.peak_viral_load, population.peak_viral_load[[3, 8]])


# ---- resuming ---------------------------------------------------------------------------------
def test_an_interrupted_run_resumes_without_redoing_chunks(tmp_path):
    full = run_chunked(DrawTask(), 11, out_dir=tmp_path / "full", chunk_size=3, progress=False)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="on purpose"):
        run_chunked(DrawTask(fail_after=2), 11, out_dir=out, chunk_size=3, progress=False)
    assert sorted(p.name for p in (out / "chunks").iterdir()) == [
        "patients-000000000-000000003.parquet", "patients-000000003-000000006.parquet"]
    (tmp_path / "log").mkdir()
    resumed = run_chunked(DrawTask(log_dir=tmp_path / "log"), 11, out_dir=out, chunk_size=3,
                          progress=False)
    assert [(a, b) for a, b, _ in logged_calls(tmp_path / "log")] == [(6, 9), (9, 11)]
    pd.testing.assert_frame_equal(resumed, full)
    assert resumed.groupby("patient").size().eq(2).all()


def test_a_run_killed_with_sigkill_resumes_to_the_same_result(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    script = Path(__file__).parent / "runner_tasks.py"
    process = subprocess.Popen([sys.executable, str(script), str(out), "40"], env=env)
    chunks = out / "chunks"
    try:  # the state, however long the start-up takes; 37 chunks of 0.15 s remain then
        wait_until(lambda: len(list(chunks.glob("patients-*"))) >= 3, "three chunks written",
                   process=process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    kept = sorted(int(p.name.split("-")[1]) for p in chunks.glob("patients-*"))
    assert 3 <= len(kept) < 40, "the run was not stopped part-way"
    (chunks / ".tmp-deadbeef-patients-000000039-000000040.parquet").write_bytes(b"partial")
    (tmp_path / "log").mkdir()
    resumed = run_chunked(DrawTask(seed=5, log_dir=tmp_path / "log"), 40, out_dir=out,
                          chunk_size=4, progress=False)
    redone = {p for a, b, _ in logged_calls(tmp_path / "log") for p in range(a, b)}
    assert redone == set(range(40)) - set(kept)
    assert not list(chunks.glob(".tmp-*"))
    full = run_chunked(DrawTask(seed=5), 40, out_dir=tmp_path / "full", progress=False)
    pd.testing.assert_frame_equal(resumed, full)


def test_a_different_configuration_in_the_same_folder_is_refused(tmp_path):
    run_chunked(DrawTask(seed=1), 5, out_dir=tmp_path, chunk_size=2, progress=False)
    with pytest.raises(InputError, match=r"different configuration.*fix: use a new out_dir"):
        run_chunked(DrawTask(seed=2), 5, out_dir=tmp_path, progress=False)
    with pytest.raises(InputError, match="different n_patients"):
        run_chunked(DrawTask(seed=1), 6, out_dir=tmp_path, progress=False)
    # the same configuration resumes (nothing left to do) with any chunk size
    again = run_chunked(DrawTask(seed=1, fail_after=0), 5, out_dir=tmp_path, chunk_size=4,
                        progress=False)
    assert again.patient.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_bad_arguments_give_one_plain_message(tmp_path):
    for kwargs, field in [({"chunk_size": 0}, "chunk_size"), ({"retries": -1}, "retries"),
                          ({"scheduler": 5}, "scheduler")]:
        with pytest.raises(InputError, match=field):
            run_chunked(DrawTask(), 3, out_dir=tmp_path / field, progress=False, **kwargs)
    with pytest.raises(InputError, match="n_patients"):
        run_chunked(DrawTask(), 0, out_dir=tmp_path / "n", progress=False)
    with pytest.raises(InputError, match="config"):
        run_chunked(lambda idx: pd.DataFrame({"patient": idx}), 3, out_dir=tmp_path / "c",
                    progress=False)
    with pytest.raises(InputError, match="at most 10"):
        run_chunked(_population_task(), 11, out_dir=tmp_path / "p", progress=False)
    dask = pytest.importorskip("dask")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(InputError, match=r"Dask scheduler at 'tcp://127\.0\.0\.1:1'"):
        run_chunked(DrawTask(), 3, out_dir=tmp_path / "s", scheduler="tcp://127.0.0.1:1",
                    progress=False)

    class Wrong(DrawTask):
        def __call__(self, indices):
            return super().__call__(indices + 1)

    with pytest.raises(InputError, match=r"patients other than 0\.\.2"):
        run_chunked(Wrong(), 3, out_dir=tmp_path / "w", progress=False)


def test_population_task_checks_its_inputs():
    table = pd.DataFrame({"age": [50.0, 60.0]})
    with pytest.raises(InputError, match="unknown parameter 'agee'"):
        PopulationTask(pd.DataFrame({"agee": [50.0]}), duration_h=24)
    with pytest.raises(InputError, match="column 'age' must hold finite numbers"):
        PopulationTask(pd.DataFrame({"age": ["50 year"]}), duration_h=24)
    with pytest.raises(InputError, match="targets patient 2 but the population has 2"):
        PopulationTask(table, [Dose(0.0, "lps", 2.0, patient=2)], duration_h=24)
    with pytest.raises(InputError, match="unknown read-out 'il66'"):
        PopulationTask(table, duration_h=24, readouts={"x": ("il66", "max")})
    with pytest.raises(InputError, match="statistic 'median'"):
        PopulationTask(table, duration_h=24, readouts={"x": ("il6", "median")})
    with pytest.raises(InputError, match="duration_h"):
        PopulationTask(table, duration_h=0)
    with pytest.raises(InputError, match=r"indices must lie in 0\.\.1"):
        PopulationTask(table, duration_h=24)(np.array([2]))
    with pytest.raises(InputError, match="tocilizumab has no 'im' route"):
        PopulationTask(table, [Dose(0.0, "tocilizumab", 560.0, route="im", unit="mg")],
                       duration_h=24)


def test_a_drug_arm_changes_the_configuration_and_the_outcomes():
    table = pd.DataFrame({"age": [85.0], "ifn_capacity": [0.1]})
    toci = [Dose(168.0, "tocilizumab", 560.0, route="iv", unit="mg", patient=0)]
    control = PopulationTask.from_scenario("covid19-severe", table)
    treated = PopulationTask.from_scenario("covid19-severe", table, doses=toci)
    assert "tocilizumab" in treated.config()["drugs"] and not control.config()["drugs"]
    a, b = control(np.array([0])).iloc[0], treated(np.array([0])).iloc[0]
    assert b.min_pf > a.min_pf + 10 and b.peak_crp < a.peak_crp  # IL-6R blockade in week 2


# ---- Dask ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import dask

    # connecting to a worker that is still starting on a loaded machine is waiting, not failure
    with dask.config.set({"distributed.comm.timeouts.connect": f"{LONG_WAIT_S:g}s"}), \
            distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                     host="127.0.0.1", dashboard_address=None) as local:
        yield local


def test_dask_gives_the_in_process_result(population, cluster, tmp_path):
    result = run_chunked(_population_task(), N, out_dir=tmp_path, chunk_size=3,
                         scheduler=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(result, population)


def test_dask_run_survives_a_killed_worker(cluster, tmp_path):
    from distributed import Client

    n, log = 24, tmp_path / "log"
    log.mkdir()
    expected = run_chunked(DrawTask(rows=1), n, out_dir=tmp_path / "local", progress=False)
    out = tmp_path / "dask"
    with Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        outcome = {}

        def run():
            try:
                outcome["result"] = run_chunked(
                    DrawTask(rows=1, sleep=0.5, log_dir=log), n, out_dir=out, chunk_size=2,
                    scheduler=client, progress=False)
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        killed = None
        deadline = time.monotonic() + LONG_WAIT_S  # a hang only; the run ends the loop first
        while killed is None and thread.is_alive() and time.monotonic() < deadline:
            for a, b, pid in logged_calls(log):
                finished = (out / "chunks" / f"patients-{a:09d}-{b:09d}.parquet").exists()
                if a >= 4 and pid in pids and not finished:
                    os.kill(pid, signal.SIGKILL)
                    killed = (a, b, pid)
                    break
            time.sleep(0.02)
        thread.join(LONG_WAIT_S)
        assert not thread.is_alive(), f"the run did not end within {LONG_WAIT_S:g} s"
        alive = set(client.run(os.getpid).values())
    assert killed is not None, "no worker was busy with a chunk to kill"
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.patient.value_counts().eq(1).all() and len(result) == n
    pd.testing.assert_frame_equal(result, expected)
    starts = [(a, b) for a, b, _ in logged_calls(log)]
    assert starts.count(killed[:2]) >= 2, "the killed worker's chunk was not run again"
    assert killed[2] not in alive


def test_a_damaged_chunk_is_simulated_again_on_resume(tmp_path):
    """A truncated chunk file (full disk, copy cut short) is redone, not a Parquet traceback."""
    full = run_chunked(DrawTask(), 9, out_dir=tmp_path / "full", chunk_size=3, progress=False)
    out = tmp_path / "run"
    run_chunked(DrawTask(), 9, out_dir=out, chunk_size=3, progress=False)
    damaged = out / "chunks" / "patients-000000003-000000006.parquet"
    content = damaged.read_bytes()
    damaged.write_bytes(content[: len(content) // 2])
    (out / "chunks" / "patients-000000006-000000009.parquet").write_bytes(b"")
    (tmp_path / "log").mkdir()
    resumed = run_chunked(DrawTask(log_dir=tmp_path / "log"), 9, out_dir=out, chunk_size=3,
                          progress=False)
    assert [(a, b) for a, b, _ in logged_calls(tmp_path / "log")] == [(3, 6), (6, 9)]
    pd.testing.assert_frame_equal(resumed, full)
