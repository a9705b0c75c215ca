"""``run_trial``: screen, enrol, randomise, simulate, analyse — in chunks that resume.

**Screening in blocks.** Candidates are numbered 0, 1, 2, ...; candidate ``k`` is the same
patient in every run with the same trial file (its draw depends on the seed and ``k`` only).
Candidates are screened in blocks, each a resumable chunked run (:func:`il6sim.runner.
run_chunked`) stored under ``out_dir/screening/``; the first block is a pilot and each next
block is sized from the enrolment fraction so far. The block plan depends only on results, not
on the chunk size or the scheduler, so a resumed or re-chunked run does the same blocks.

**Enrolment and allocation.** The first ``size`` eligible candidates (in candidate order) are
randomised by permuted blocks in enrolment order (Altman DG, Bland JM 1999 BMJ 318:1209), each
shuffled with its own seeded stream. A block holds every arm ``2 × w`` times, ``w`` its
whole-number weight (:func:`allocation_weights`): the ratios themselves when they are whole
numbers (2:1 → blocks of 6), else the smallest whole numbers in the same proportions to within
1 % (1.5:1 → 3:2, blocks of 10; 2.5:2.5:1 → 5:5:2), so each block is exactly balanced.

**Baseline mix.** With ``enrolment.baseline_mix`` (:mod:`._entry`), each stratum has a quota
(:func:`il6sim.trial._entry.quotas` of ``size``) and its first eligible candidates fill it, so
the randomised mix is the declared one; screening goes on until every quota is full. The first
block draws candidates into strata with the declared shares; each next block with shares
proportional to ``declared share / reach``, where *reach* is the fraction of all candidates
screened so far that have an eligible check in the stratum (:func:`draw_shares`): a rare
stratum (invasive ventilation) gets more candidates, so fewer are screened in all. The draw is
independent of each candidate's course, so this changes how many are screened, not who is
randomised within a stratum. The control-risk pilot fills the same quotas of
:data:`RISK_SAMPLE`, and its acceptance keeps the strata's shares and risk gradient
(:mod:`._background`).

**Analysis** uses the allocated arm only (:mod:`._analysis`); each patient's outcomes under the
other arms are kept for :mod:`._policy` (potential outcomes).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Il6simError, InputError
from ..runner import run_chunked
from ._analysis import TrialResult
from ._background import strata, stratified_acceptance
from ._design import TrialSpec, allocation_weights
from ._entry import quotas
from ._load import load_trial
from ._task import TrialTask

__all__ = ["TrialCancelledError", "allocate", "allocation_block", "check_trial", "run_trial"]

#: Random stream of the allocation blocks.
ALLOCATION_STREAM = 4000
#: Most candidates screened per randomised patient before giving up.
MAX_SCREENED_PER_PATIENT = 200
#: A baseline-mix stratum that no candidate reaches among this many screened is an error.
NO_REACH_AFTER = 2048
#: Block sizes are multiples of this many candidates.
BLOCK_QUANTUM = 64
#: Eligible patients whose untreated deaths set the acceptance of a control-risk calibration
#: (1024: the pilot's risk has a standard error of about 1.5 points; with 256 the anchored
#: control arm of RECOVERY-dexamethasone missed its 25.7 % by 6 points).
RISK_SAMPLE = 1024


class TrialCancelledError(Il6simError):
    """The run was cancelled; finished chunks are kept and a rerun resumes from them."""


class _Block:
    """Candidates ``first .. first + n - 1`` of a trial, as a chunked-run task."""

    def __init__(self, task: TrialTask, first: int):
        self.task, self.first = task, first

    def __call__(self, indices: np.ndarray) -> pd.DataFrame:
        rows = self.task(np.asarray(indices) + self.first)
        rows.insert(0, "candidate", rows["patient"].to_numpy())
        rows["patient"] = np.asarray(indices)
        return rows

    def config(self) -> dict[str, Any]:
        return {**self.task.config(), "first_candidate": self.first}


def allocation_block(design: TrialSpec) -> list[str]:
    """One permuted block before shuffling: every arm ``2 × weight`` times."""
    weights = allocation_weights([arm.ratio for arm in design.arms])
    return [arm.name for arm, w in zip(design.arms, weights, strict=True)
            for _ in range(2 * w)]


def allocate(design: TrialSpec, n: int) -> np.ndarray:
    """Arm names of the first ``n`` enrolled patients (permuted blocks, seeded)."""
    block = allocation_block(design)
    out: list[str] = []
    for k in range(math.ceil(n / len(block))):
        rng = np.random.default_rng(np.random.SeedSequence(
            design.seed, spawn_key=(ALLOCATION_STREAM, k)))
        out += list(rng.permutation(block))
    return np.array(out[:n], dtype=object)


def check_trial(design: TrialSpec, *, population_file: str | Path | None = None,
                backend: str = "fast", model_overrides: dict[str, float] | None = None
                ) -> None:
    """Check everything of ``design`` that only the model, the population and the drug files
    know (signals, units, regimens, second doses, subgroups, co-infection), before any patient
    is simulated: one-line :class:`InputError` naming the file and the field."""
    TrialTask(design, control_only=True, backend=backend, model_overrides=model_overrides,
              population_file=None if population_file is None else str(population_file))


def _next_block(need: np.ndarray, found: np.ndarray, screened: int) -> int:
    """Candidates in the next block: enough, at the rates so far, to fill every quota."""
    if screened == 0:
        want = min(max(2 * int(need.sum()), BLOCK_QUANTUM), 1024)
    else:
        rate = np.maximum(found / screened, 1.0 / MAX_SCREENED_PER_PATIENT)
        want = float(np.max(1.2 * np.maximum(need - found, 0) / rate))
    return int(math.ceil(want / BLOCK_QUANTUM) * BLOCK_QUANTUM)


def _chosen(candidates: pd.DataFrame, column: str) -> pd.DataFrame:
    """The enrolled candidates with ``column`` set."""
    chosen = candidates["enrolled"].astype(bool)
    if column in candidates:
        chosen &= candidates[column] > 0.5
    return candidates[chosen]


def _found(design: TrialSpec, candidates: pd.DataFrame, column: str) -> np.ndarray:
    """Enrolled candidates with ``column`` set, per baseline-mix stratum (one number without)."""
    rows = _chosen(candidates, column)
    mix = design.enrolment.baseline_mix
    if mix is None:
        return np.array([len(rows)])
    drawn = rows["baseline_stratum"].to_numpy(float)
    return np.array([int(np.sum(drawn == k)) for k in range(len(mix.strata))])


def _need(design: TrialSpec, size: int) -> np.ndarray:
    mix = design.enrolment.baseline_mix
    return np.array([size]) if mix is None else quotas(mix.shares, size)


def select(design: TrialSpec, candidates: pd.DataFrame, size: int,
           column: str = "accepted") -> pd.DataFrame:
    """The ``size`` randomised patients among screened ``candidates`` (in candidate order): the
    first enrolled ones with ``column`` set, or with a baseline mix the first of each stratum up
    to its quota."""
    rows = _chosen(candidates, column)
    mix = design.enrolment.baseline_mix
    if mix is None:
        return rows.iloc[:size]
    drawn = rows["baseline_stratum"].to_numpy(float)
    parts = [rows[drawn == k].iloc[:n] for k, n in enumerate(quotas(mix.shares, size))]
    return pd.concat(parts).sort_values("candidate", kind="stable")


def draw_shares(design: TrialSpec, candidates: pd.DataFrame, *, reach_only: bool = False
                ) -> list[float] | None:
    """Shares with which the next block draws candidates into the baseline-mix strata:
    ``declared share / reach`` normalised, *reach* being the fraction of screened candidates
    with an eligible check in the stratum (at least 1/:data:`MAX_SCREENED_PER_PATIENT`); the
    declared shares when nothing is screened yet. None without a mix. ``reach_only``: the
    reach of each stratum instead."""
    mix = design.enrolment.baseline_mix
    if mix is None or not len(candidates):
        return None
    reach = np.array([candidates[f"reaches_stratum_{k}"].to_numpy(float).mean()
                      for k in range(len(mix.strata))])
    if reach_only:
        return reach.tolist()
    q = mix.shares / np.maximum(reach, 1.0 / MAX_SCREENED_PER_PATIENT)
    return [round(float(v), 6) for v in q / q.sum()]


@contextmanager
def _folder(out_dir: str | Path | None):
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="il6sim-trial-") as temp:
            yield Path(temp)
        return
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise InputError(f"--out '{root}' is a file; fix: give a folder path")
    root.mkdir(parents=True, exist_ok=True)
    yield root


def run_trial(
    trial: str | Path | TrialSpec | dict,
    *,
    n_patients: int | None = None,
    out_dir: str | Path | None = None,
    chunk_size: int = 128,
    scheduler: Any = None,
    progress: bool | Callable[[int, int], None] = False,
    cancel: Any = None,
    population_file: str | Path | None = None,
    backend: str = "fast",
    model_overrides: dict[str, float] | None = None,
) -> TrialResult:
    """Run a trial and analyse it.

    Parameters
    ----------
    trial : a shipped trial name (``"recovery-tocilizumab"``), a YAML path, a mapping or a
        :class:`TrialSpec`.
    n_patients : patients to randomise (default: the file's ``size``). The first ``n`` patients
        of a larger run are the same patients with the same arms (not with a baseline mix: its
        quotas and the strata drawn after the first block depend on ``n``).
    out_dir : folder for the chunks (``screening/``), the patient table and the analysis; a
        rerun with the same folder resumes. ``None`` works in a temporary folder.
    chunk_size : candidates per stored chunk (results do not depend on it).
    scheduler : ``None`` (this process) or a Dask scheduler address / ``distributed.Client``.
    progress : ``True`` shows a progress bar on standard error; a callable is called with
        ``(candidates screened, candidates planned)`` after every chunk.
    cancel : an object with ``is_set()`` (e.g. :class:`threading.Event`); when set, the run
        stops after the current chunk with :class:`TrialCancelledError`, keeping finished chunks.
    population_file : a ``calibrated.parquet`` from ``il6sim population fit`` to draw patients
        from, instead of the shipped calibration.
    backend : ``"fast"`` (default) or ``"reference"``.
    model_overrides : model parameter values for every patient, e.g. one member of a parameter
        ensemble (:mod:`il6sim.ensemble`); part of what a resumed run must match.

    Raises
    ------
    InputError
        an invalid trial file or setting, or no candidate meeting the eligibility criteria.
    TrialCancelledError
        ``cancel`` was set.
    """
    design = trial if isinstance(trial, TrialSpec) else load_trial(trial)
    size = design.size if n_patients is None else n_patients
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 2:
        raise InputError(f"n_patients = {size!r}; fix: give a whole number of 2 or more")
    size = int(size)
    options = {"population_file": None if population_file is None else str(population_file),
               "backend": backend, "model_overrides": model_overrides}
    callback = progress if callable(progress) else None

    def screen(make: Callable[..., TrialTask], folder: Path, wanted: int, column: str
               ) -> pd.DataFrame:
        """Screen candidate blocks into ``folder`` until ``wanted`` enrolled candidates have
        ``column`` set (with a baseline mix: every stratum's quota); every candidate screened.
        ``make(draw)`` is the task of a block (``draw``: :func:`draw_shares`)."""
        screened = 0
        need, found = _need(design, wanted), np.zeros(1 if mix is None else len(mix.strata))
        tables: list[pd.DataFrame] = []
        while np.any(found < need):
            if screened >= MAX_SCREENED_PER_PATIENT * wanted:
                raise InputError(_shortfall(design, need, found, screened))
            count, first = _next_block(need, found, screened), screened
            task = make(draw_shares(design, pd.concat(tables)) if tables else None)

            def on_chunk(done: int, total: int, first: int = first, count: int = count) -> None:
                if callback is not None:
                    callback(first + done, first + count)
                if cancel is not None and cancel.is_set():
                    raise TrialCancelledError(
                        f"trial '{design.name}' cancelled after {first + done} screened "
                        "patients; run again with the same --out to resume")

            table = run_chunked(_Block(task, first), count,
                                out_dir=folder / f"{first:09d}-{first + count:09d}",
                                chunk_size=chunk_size, scheduler=scheduler,
                                progress=progress is True, on_progress=on_chunk)
            tables.append(table)
            screened += count
            found = found + _found(design, table, column)
            if mix is not None and screened >= NO_REACH_AFTER:  # a stratum nobody reaches
                reach = np.array(draw_shares(design, pd.concat(tables), reach_only=True))
                if np.any((reach == 0) & (found < need)):
                    raise InputError(_shortfall(design, np.where(reach == 0, need, 0), found,
                                                screened))
        return pd.concat(tables, ignore_index=True).drop(columns="patient")

    mix = design.enrolment.baseline_mix
    check_trial(design, **options)  # a bad design fails before any folder
    with _folder(out_dir) as root:
        a = None
        if design.anchor_control_risk is not None:  # a pilot of the control arm sets the acceptance
            pilot = screen(lambda draw: TrialTask(design, control_only=True, draw=draw,
                                                  **options),
                           root / "pilot", RISK_SAMPLE, "enrolled")
            a = acceptance(design, pilot)
        candidates = screen(lambda draw: TrialTask(design, acceptance=a, draw=draw, **options),
                            root / "screening", size, "accepted")
        result = _randomise(design, candidates, size, a)
        if out_dir is not None:
            result.save(root)
    return result


def acceptance(design: TrialSpec, candidates: pd.DataFrame) -> float | dict | None:
    """Probability of accepting an eligible patient whose untreated outcome is over-represented,
    so that the accepted patients' untreated risk equals ``design.anchor_control_risk`` (None: no
    calibration). Set from the first :data:`RISK_SAMPLE` eligible candidates, so it does not
    depend on the trial size. Positive: accept deaths with it; negative: accept survivors with
    its absolute value. With a background, ``{"*": that value, stratum: [keep a death, keep a
    survivor], ...}``, which keeps the strata's shares
    (:func:`il6sim.trial._background.stratified_acceptance`)."""
    if design.anchor_control_risk is None:
        return None
    eligible = select(design, candidates, RISK_SAMPLE, "enrolled")
    died = eligible[f"died@{design.control}"].to_numpy(float) > 0.5
    p0, target = float(died.mean()), design.anchor_control_risk.risk
    if p0 in (0.0, 1.0):
        raise InputError(f"no eligible virtual patient of trial '{design.name}' "
                         f"{'survives' if p0 == 1 else 'dies'} without treatment, so the control "
                         "risk cannot be anchored; fix: remove anchor_control_risk")
    pooled = (target * (1 - p0) / (p0 * (1 - target)) if p0 > target
              else -((1 - target) * p0 / ((1 - p0) * target)))
    by_stratum = (stratified_acceptance(died, strata(design, eligible), target)
                  if design.background or design.enrolment.baseline_mix else None)
    return pooled if by_stratum is None else {"*": pooled, **by_stratum}


def _randomise(design: TrialSpec, candidates: pd.DataFrame, size: int,
               a: float | dict | None) -> TrialResult:
    patients = select(design, candidates, size).copy()
    last = int(patients["candidate"].iloc[-1])
    screened = candidates[candidates["candidate"] <= last]
    patients.insert(1, "arm", allocate(design, size))
    arms = patients["arm"].to_numpy()
    for endpoint in _outcome_names(patients):
        values = patients[f"{endpoint}@{design.arm_names[0]}"].copy()
        for arm in design.arm_names[1:]:
            mine = arms == arm
            values[mine] = patients.loc[mine, f"{endpoint}@{arm}"]
        patients[endpoint] = values
    counts = {"screened": len(screened), "admitted": int(screened["admitted"].sum()),
              "eligible": int(screened["enrolled"].sum()), "randomised": size,
              # solver failures: in screening (never eligible), and after randomisation (left
              # out of the analysis); chunks of an older il6sim lack the screening column
              "screening_failed": int(screened.get("screening_failed",
                                                   pd.Series(dtype=bool)).astype(bool).sum()),
              "failed": int(patients["died"].isna().sum())}
    if isinstance(a, dict):  # per background stratum
        counts["acceptance"] = a["*"]
        counts["acceptance_by_background"] = {k: v for k, v in a.items() if k != "*"}
    elif a is not None:
        counts["acceptance"] = a
    return TrialResult(design, patients.reset_index(drop=True), counts)


def _shortfall(design: TrialSpec, need: np.ndarray, found: np.ndarray, screened: int) -> str:
    """The one-line error of a screening that cannot fill its quota(s)."""
    mix = design.enrolment.baseline_mix
    if mix is None:
        return (f"only {int(found[0])} of {screened} screened virtual patients met the "
                f"eligibility of trial '{design.name}'; fix: loosen enrolment.eligibility, "
                "widen enrolment.window or ask for fewer patients")
    k = int(np.argmax((need - found) / np.maximum(need, 1)))
    stratum = mix.strata[k]
    return (f"trial '{design.name}', field 'enrolment.baseline_mix.strata[{k}]': only "
            f"{int(found[k])} of the {int(need[k])} patients of stratum '{stratum.name}' "
            f"({mix.signal} in {stratum.levels}) were found among {screened} screened virtual "
            "patients; fix: check that the eligibility criteria allow that stratum, lower its "
            "share or ask for fewer patients")


def _outcome_names(patients: pd.DataFrame) -> list[str]:
    names = []
    for column in patients.columns:
        if "@" in column:
            name = column.split("@", 1)[0]
            if name not in names:
                names.append(name)
    return names
