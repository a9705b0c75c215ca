"""Defaults shared by the calibration's Python API and its command line (no heavy imports, so
the command line starts fast)."""

from __future__ import annotations

#: Virtual patients a calibration simulates by default (all rounds). The creatinine margin makes
#: the weights uneven: at 8000 the shipped fit's effective sample size was 205, at 16,000 550.
DEFAULT_PATIENTS = 16000
