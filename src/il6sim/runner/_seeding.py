"""Per-patient random streams that do not depend on how a population is cut into chunks.

A patient's generator is derived from the run's ``seed``, a named ``stream`` and the patient's
index in the whole population only, with NumPy's :class:`~numpy.random.SeedSequence` (spawn keys;
O'Neill ME 2014, PCG, HMC-CS-2014-0905), so patient 41 draws the same numbers whether it is
simulated alone, in a chunk of 7 or on another Dask worker.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np

from ..errors import InputError


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed = {seed!r}; fix: give a whole number of 0 or more")
    return int(seed)


def patient_seed(seed: int, index: int, *, stream: str = "population") -> np.random.SeedSequence:
    """The :class:`~numpy.random.SeedSequence` of one patient in one stream.

    Parameters
    ----------
    seed : the run's seed (a whole number ≥ 0).
    index : the patient's index in the whole population (≥ 0).
    stream : what the numbers are for (``"population"`` for sampled parameters, or any other
        name); different names give independent streams for the same patient.

    Notes
    -----
    The sequence is ``SeedSequence(seed, spawn_key=(crc32(stream), index))``. NumPy pads the
    entropy before appending a spawn key, so these streams never coincide with the
    ``default_rng([seed, index])`` draws that :func:`il6sim.clinical.death_time` makes.
    """
    seed = _check_seed(seed)
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or index < 0:
        raise InputError(f"patient index {index!r}; fix: give a whole number of 0 or more")
    key = zlib.crc32(stream.encode())
    return np.random.SeedSequence(seed, spawn_key=(key, int(index)))


def patient_rngs(
    seed: int, indices: Iterable[int], *, stream: str = "population"
) -> list[np.random.Generator]:
    """One independent generator per patient index, the same whatever the chunking.

    Examples
    --------
    >>> rngs = patient_rngs(7, range(3))
    >>> ages = [rng.uniform(40, 90) for rng in rngs]   # patient 2's age is the same in any chunk
    """
    return [np.random.default_rng(patient_seed(seed, i, stream=stream)) for i in indices]
