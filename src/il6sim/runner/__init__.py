"""Population runs in chunks: resumable, seeded per patient, in this process or on Dask.

- :func:`run_chunked` runs a task over ``n_patients`` in chunks, stores each finished chunk
  atomically as Parquet under ``out_dir/chunks/`` with a manifest, resumes a stopped run, and
  runs chunks as Dask futures when given a scheduler;
- :class:`PopulationTask` is the ready-made task: a table of per-patient parameters and a dose
  table simulated with the fast engine, summarised as clinical outcomes per patient;
- :func:`patient_rngs` gives per-patient random generators keyed by ``(seed, patient index)``,
  so results do not depend on chunk size or worker count;
- :func:`fingerprint` is the stable hash of a task configuration that guards resumption.
"""

from ._fingerprint import fingerprint, model_fingerprint, table_hash
from ._population import DEFAULT_READOUTS, STATISTICS, PopulationTask, summarise
from ._run import DEFAULT_CHUNK_SIZE, ChunkTask, plan_chunks, run_chunk, run_chunked
from ._seeding import patient_rngs, patient_seed

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_READOUTS",
    "STATISTICS",
    "ChunkTask",
    "PopulationTask",
    "fingerprint",
    "model_fingerprint",
    "patient_rngs",
    "patient_seed",
    "plan_chunks",
    "run_chunk",
    "run_chunked",
    "summarise",
    "table_hash",
]
