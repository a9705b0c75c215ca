"""Calibration targets (published figures with tolerances) and how the model is scored on them."""

from .targets import Target, evaluate_targets, load_targets, run_target_scenarios

__all__ = ["Target", "evaluate_targets", "load_targets", "run_target_scenarios"]
