"""The biology blocks of il6sim, in the order their states appear in the model."""

from __future__ import annotations

from . import (
    acute_phase,
    adaptive,
    antiviral,
    bacteria,
    cytokines,
    damage,
    drug,
    endotoxin,
    glucocorticoid,
    haemodynamics,
    il6_receptors,
    innate,
    virus,
)

CORE_BLOCKS = (
    endotoxin.BLOCK,
    innate.BLOCK,
    cytokines.BLOCK,
    il6_receptors.BLOCK,
    acute_phase.BLOCK,
    bacteria.BLOCK,
    virus.BLOCK,
    adaptive.BLOCK,
    damage.BLOCK,
    haemodynamics.BLOCK,
    drug.BLOCK,
    glucocorticoid.BLOCK,
    antiviral.BLOCK,
)
