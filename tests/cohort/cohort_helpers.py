"""Small synthetic cohorts in the Tongji export format (written into ``tmp_path`` by tests)."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HEADER = [
    "PATIENT_ID", "RE_DATE", "age", "gender", "Admission time", "Discharge time", "outcome",
    "Interleukin 6", "High sensitivity C-reactive protein", "Lactate dehydrogenase",
    "(%)lymphocyte", "lymphocyte count", "albumin", "ferritin",
]
TIME = "%Y-%m-%d %H:%M:%S"


def synthetic_rows(n_patients: int = 40, seed: int = 0, samples: int = 3) -> list[dict[str, str]]:
    """Rows of a cohort where death is strongly (not perfectly) related to the labs.

    Odd patient ids die. Samples are 6 h, 46 h and 86 h ... after admission; the stay lasts
    8-18 days. Every lab is on every row (the real file spreads them over rows).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(1, n_patients + 1):
        died = pid % 2
        admission = datetime(2020, 1, 10) + timedelta(hours=5 * pid)
        discharge = admission + timedelta(days=float(8 + 10 * rng.random()))
        age = int(55 + 15 * died + rng.integers(-10, 10))
        for k in range(samples):
            taken = admission + timedelta(hours=6 + 40 * k)
            rows.append({
                "PATIENT_ID": str(pid), "RE_DATE": taken.strftime(TIME), "age": str(age),
                "gender": str(1 + pid % 3 % 2), "Admission time": admission.strftime(TIME),
                "Discharge time": discharge.strftime(TIME), "outcome": str(died),
                "Interleukin 6": f"{np.exp(rng.normal(2.3 + 1.8 * died, 0.9)):.2f}",
                "High sensitivity C-reactive protein": f"{np.exp(rng.normal(3 + died, 0.8)):.1f}",
                "Lactate dehydrogenase": f"{np.exp(rng.normal(5.5 + 0.6 * died, 0.25)):.0f}",
                "(%)lymphocyte": f"{np.clip(rng.normal(25 - 15 * died, 6), 1, 60):.1f}",
                "lymphocyte count": f"{np.clip(rng.normal(1.2 - 0.6 * died, 0.3), 0.05, 5):.2f}",
                "albumin": f"{rng.normal(38 - 6 * died, 3):.1f}",
                "ferritin": f"{np.exp(rng.normal(6 + 0.8 * died, 0.6)):.0f}",
            })
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0].keys())
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    return path
