"""The :class:`Cohort`: samples, patients and problems of one laboratory export."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._markers import MARKER_BY_NAME, MARKERS

__all__ = ["Cohort", "lab_counts"]

_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)


def lab_counts(X: pd.DataFrame) -> pd.Series:
    """Number of laboratory values per patient of a :meth:`Cohort.first_values` table (every
    column except ``age`` and ``male``); 0 means no lab in the window: such a patient is not
    scored by the prognostic model."""
    return X.drop(columns=[c for c in ("age", "male") if c in X]).notna().sum(axis=1)


@dataclass(repr=False)
class Cohort:
    """Blood samples of hospital inpatients with their outcomes, as read by :func:`load_cohort`.

    Attributes
    ----------
    source
        File the cohort was read from.
    samples
        One row per kept file row (duplicates excluded), sorted by patient and sample time:
        ``row`` (line in the file, header = 1), ``patient_id``, ``sample_time``,
        ``admission_time``, ``discharge_time``, ``age``, ``sex``, ``outcome`` and one float column
        per laboratory marker (canonical names; implausible values set to missing).
    censoring
        Same rows and marker columns as ``samples``: ``""``, ``"left"`` (value is an upper bound,
        e.g. ``<1.5`` kept as 1.5) or ``"right"`` (``>5000`` kept as 5000).
    patient_info
        One row per patient (first non-missing value of each patient field).
    problems
        Table of problems found: ``row``, ``column``, ``value``, ``kind``, ``problem``, ``fix``.
    columns
        Mapping used: canonical name -> header in the file.
    n_rows_read
        Data rows in the file.
    """

    source: str
    samples: pd.DataFrame
    censoring: pd.DataFrame
    patient_info: pd.DataFrame
    problems: pd.DataFrame
    columns: dict[str, str] = field(default_factory=dict)
    n_rows_read: int = 0

    # ------------------------------------------------------------------ descriptions
    @property
    def markers(self) -> tuple[str, ...]:
        """Laboratory markers with at least one usable value, in catalogue order."""
        return tuple(m.name for m in MARKERS
                     if m.name in self.samples and self.samples[m.name].notna().any())

    @property
    def units(self) -> dict[str, str]:
        """Unit of each marker present in the file."""
        return {m: MARKER_BY_NAME[m].unit for m in self.markers}

    @property
    def n_patients(self) -> int:
        return len(self.patient_info)

    def __repr__(self) -> str:
        outcome = self.patient_info["outcome"]
        return (f"Cohort({self.source!r}: {self.n_rows_read} rows, {self.n_patients} patients, "
                f"{int((outcome == 1).sum())} died, {len(self.markers)} markers, "
                f"{len(self.problems)} problems)")

    def problem_summary(self) -> pd.DataFrame:
        """Count of problems by kind and column, with the fix of the first one."""
        if self.problems.empty:
            return pd.DataFrame(columns=["kind", "column", "count", "fix"])
        grouped = self.problems.groupby(["kind", "column"], sort=False)
        out = grouped.agg(count=("problem", "size"), fix=("fix", "first")).reset_index()
        return out.sort_values(["count", "kind"], ascending=[False, True]).reset_index(drop=True)

    def censored_counts(self) -> pd.DataFrame:
        """Number of left- and right-censored values per marker (markers with any)."""
        counts = {m: ((self.censoring[m] == "left").sum(), (self.censoring[m] == "right").sum())
                  for m in self.censoring.columns}
        table = pd.DataFrame.from_dict(counts, orient="index", columns=["left", "right"])
        return table[(table["left"] + table["right"]) > 0]

    # ------------------------------------------------------------------ per-patient tables
    def patients(self) -> pd.DataFrame:
        """One row per patient.

        Columns: ``patient_id``, ``age`` (years), ``sex`` (``male``/``female``), ``outcome``
        (1 died, 0 survived, missing if unknown), ``admission_time``, ``end_time`` (discharge or
        death), ``end_event`` (``death``/``discharge``), ``length_of_stay_days``, ``n_samples``.
        """
        info = self.patient_info
        outcome = info["outcome"].astype("Int64")
        event = pd.Series(pd.NA, index=info.index, dtype=object)
        event[outcome == 1] = "death"
        event[outcome == 0] = "discharge"
        out = pd.DataFrame({
            "age": info["age"], "sex": info["sex"], "outcome": outcome,
            "admission_time": info["admission_time"], "end_time": info["discharge_time"],
            "end_event": event, "length_of_stay_days": info["length_of_stay_days"],
            "n_samples": info["n_samples"].astype(int),
        }, index=info.index)
        return out.rename_axis("patient_id").reset_index()

    def _timed_samples(self) -> pd.DataFrame:
        timed = self.samples[self.samples["sample_time"].notna()]
        return timed.assign(
            hours=(timed["sample_time"] - timed["admission_time"]) / _HOUR,
            days_to_end=(timed["discharge_time"] - timed["sample_time"]) / _DAY)

    def first_values(self, window_hours: float | None = 48, *,
                     markers: list[str] | None = None) -> pd.DataFrame:
        """First value of each laboratory marker within ``window_hours`` of admission.

        Parameters
        ----------
        window_hours
            Only samples taken up to this many hours after admission count (samples before
            admission count as baseline). ``None``: first value at any time. Samples dated
            after the patient's discharge or death never count (they are listed in
            :attr:`problems` as "sample after discharge").
        markers
            Markers to return; default every numeric marker of the catalogue (a marker absent from
            the file is an all-missing column, so tables from different files line up).

        Returns
        -------
        pandas.DataFrame
            Index ``patient_id`` (every patient, also those without samples in the window:
            all their lab columns are missing, see :func:`lab_counts`); columns ``age``,
            ``male`` (1/0) and one column per marker. Censored values appear as their limit
            (see :attr:`censoring`).
        """
        names = markers if markers is not None else [m.name for m in MARKERS if m.feature]
        timed = self._timed_samples()
        timed = timed[~(timed["sample_time"] > timed["discharge_time"])]  # NaT: kept
        if window_hours is not None:
            timed = timed[timed["hours"] <= window_hours]
        present = [n for n in names if n in timed]
        first = timed.groupby("patient_id", sort=True)[present].first()
        info = self.patient_info
        out = pd.DataFrame({"age": info["age"],
                            "male": info["sex"].map({"male": 1.0, "female": 0.0}).astype(float)},
                           index=info.index)
        out = out.join(first.reindex(info.index))
        for name in names:
            if name not in out:
                out[name] = np.nan
        return out[["age", "male", *names]].rename_axis("patient_id").astype(float)

    def dataset(self, window_hours: float | None = 48, *, require_labs: bool = False
                ) -> tuple[pd.DataFrame, pd.Series]:
        """Features ``X`` (:meth:`first_values`) and outcome ``y`` of patients with a known outcome.

        Patients without an outcome are left out (they are listed in :attr:`problems`);
        with ``require_labs=True`` also patients without any laboratory value in the window
        (the prognostic model does not score them; ``il6sim prognosis fit`` leaves them out).
        """
        X = self.first_values(window_hours)
        outcome = self.patient_info["outcome"].reindex(X.index)
        keep = outcome.notna()
        if require_labs:
            keep &= lab_counts(X) > 0
        return X[keep], outcome[keep].astype(int).rename("outcome")

    def long(self, markers: list[str] | None = None) -> pd.DataFrame:
        """Tidy table of every laboratory value with a sample time.

        Columns: ``patient_id``, ``row`` (line in the file), ``time_days`` (since admission),
        ``days_to_end`` (until discharge or death), ``marker``, ``value``, ``censored``
        (``""``/``"left"``/``"right"``). Values without a usable sample time are left out
        (listed in :attr:`problems`).
        """
        names = [m for m in (markers or self.markers) if m in self.samples]
        timed = self._timed_samples()
        base = timed[["patient_id", "row"]].assign(time_days=timed["hours"] / 24.0,
                                                   days_to_end=timed["days_to_end"])
        frames = []
        for name in names:
            values = timed[name]
            keep = values.notna()
            frames.append(base[keep].assign(marker=name, value=values[keep],
                                            censored=self.censoring.loc[keep[keep].index, name]))
        if not frames:
            return pd.DataFrame(columns=["patient_id", "row", "time_days", "days_to_end",
                                         "marker", "value", "censored"])
        return pd.concat(frames, ignore_index=True)
