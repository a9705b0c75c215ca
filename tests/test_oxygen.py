"""The one oxygen-dissociation conversion (Severinghaus JW 1979 J Appl Physiol 46:599), used by
the ``spo2`` and ``sf_ratio`` read-outs, the trial signals and the support thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from il6sim.clinical import pf_from_spo2, spo2_from_pf
from il6sim.clinical._ordinal import OXYGEN_PF
from il6sim.model._oxygen import pao2_from_spo2, spo2_from_pao2


@pytest.mark.parametrize(("pao2", "saturation"), [
    (26.8, 50.0),  # the standard human P50 (Severinghaus 1979)
    (50.0, 85.08), (60.0, 90.85), (70.0, 94.06), (80.0, 95.84), (90.0, 96.88), (100.0, 97.49),
])
def test_the_curve_is_severinghaus_standard_curve(pao2, saturation):
    """Eq. 1 fits the standard curve within 0.55 % saturation (Severinghaus 1979, abstract);
    points of the standard curve as tabulated from that paper."""
    assert spo2_from_pao2(pao2) == pytest.approx(saturation, abs=0.55)


def test_the_inverse_is_exact():
    pao2 = np.linspace(5.0, 600.0, 200)
    assert np.allclose(pao2_from_spo2(spo2_from_pao2(pao2)), pao2, rtol=1e-9)


def test_room_air_conversions_agree_with_the_support_thresholds():
    """P/F 300, the oxygen threshold, is SpO2 91.7 % on air (RECOVERY: "SpO2 < 92 %"), and SpO2
    93 % on air is P/F 319 — not 451 as Rice's linear S/F formula gave."""
    assert spo2_from_pf(OXYGEN_PF) == pytest.approx(91.7, abs=0.05)
    assert pf_from_spo2(93.0) == pytest.approx(319.1, abs=0.5)
    assert pf_from_spo2(92.0) == pytest.approx(303.7, abs=0.5)


def test_model_read_outs_use_the_same_conversion():
    from il6sim.engine import simulate
    from il6sim.population._sample import dose_table, parameter_table
    from il6sim.trial import TrialTask, load_trial

    task = TrialTask(load_trial("recovery-tocilizumab"))
    table = task.candidates(np.arange(12))
    result = simulate(parameter_table(task.spec, table), dose_table(task.spec, table),
                      t_end=480.0, dt=4.0)
    pf = result.output("pf_ratio")
    assert np.allclose(result.output("spo2"), spo2_from_pf(pf), rtol=1e-9)
    assert np.allclose(result.output("sf_ratio"), spo2_from_pf(pf) / 0.21, rtol=1e-9)
    assert pf.min() < 300 and result.output("spo2").min() < 92  # the run reaches hypoxaemia
