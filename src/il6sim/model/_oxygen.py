"""The one oxygen-dissociation conversion of il6sim: SpO2 from PaO2 and back.

Severinghaus JW 1979 J Appl Physiol 46:599, Eq. 1 (the standard human curve, pH 7.40, 37 °C,
within ±0.55 % saturation from 0 to 100 %)::

    SpO2 = 100 / (1 + 23400 / (PaO2³ + 150·PaO2))        (SpO2 in %, PaO2 in mmHg)

and its exact inverse: PaO2 is the real root of the cubic ``PaO2³ + 150·PaO2 = 23400·S/(100 − S)``
(Cardano's formula; the cubic has one real root since 150 > 0), so the two directions agree to
rounding (Severinghaus's own Eq. 2 is an approximate inverse and is not used).

**On room air.** The model's oxygenation is a P/F ratio (:mod:`il6sim.model.blocks.damage`).
Read-outs that need a saturation take the patient on room air: PaO2 = 0.21 × P/F, then the
curve. So P/F 300 is PaO2 63 mmHg and SpO2 91.7 % (RECOVERY's "SpO2 < 92 % on air"), P/F 450 is
SpO2 97.3 %. The same functions give the ``spo2`` and ``sf_ratio`` read-outs, the trial signals
and the documentation's conversions. Pulse oximetry reads SpO2 ≈ SaO2 here (no oximeter bias).

The functions use only arithmetic, so they work on numbers, numpy arrays and the model's
symbolic expressions alike.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ROOM_AIR_FIO2", "arterial_saturation", "pao2_from_spo2", "pf_from_spo2",
           "spo2_from_pao2", "spo2_from_pf"]

#: Fraction of inspired oxygen on room air (dry air at sea level: 20.95 %, rounded as in the
#: S/F literature).
ROOM_AIR_FIO2 = 0.21
#: Constants of Severinghaus's Eq. 1 (mmHg³ and mmHg²).
SEVERINGHAUS_A, SEVERINGHAUS_B = 23400.0, 150.0


def spo2_from_pao2(pao2):
    """Oxygen saturation (%) at arterial PO2 ``pao2`` (mmHg), Severinghaus 1979 Eq. 1."""
    return 100.0 / (1.0 + SEVERINGHAUS_A / (pao2**3 + SEVERINGHAUS_B * pao2))


def pao2_from_spo2(spo2):
    """Arterial PO2 (mmHg) at saturation ``spo2`` (%, below 100): the exact inverse of
    :func:`spo2_from_pao2`.

    Cardano's root ``u − (B/3)/u`` with ``u = ∛(q/2 + √(q²/4 + B³/27))``: the second cube root
    of Cardano's formula is ``−(B/3)/u`` because the two radicands multiply to ``−B³/27``, so
    only powers of positive numbers appear and the same expression works on arrays and on the
    model's symbolic read-outs."""
    s = np.asarray(spo2, float) if isinstance(spo2, (list, tuple)) else spo2
    q = SEVERINGHAUS_A * s / (100.0 - s)  # PaO2³ + 150 PaO2 = q
    u = (q / 2.0 + (q**2 / 4.0 + SEVERINGHAUS_B**3 / 27.0) ** 0.5) ** (1.0 / 3.0)
    return u - (SEVERINGHAUS_B / 3.0) / u


def arterial_saturation(shunt, end_capillary, extraction):
    """Arterial O2 saturation (fraction) of blood mixing end-capillary blood of the ventilated
    lung (saturation ``end_capillary``) with a fraction ``shunt`` of the cardiac output that
    passes unventilated lung (venous admixture).

    Riley's shunt equation Qs/Qt = (Cc'O2 − CaO2)/(Cc'O2 − CvO2) (Riley RL, Cournand A 1949
    J Appl Physiol 1:825) in saturations (dissolved O2 neglected, under 2 % of the content on
    air), with the tissues extracting a constant fraction ``extraction`` of the arterial
    oxygen, so mixed-venous saturation is Sa·(1 − extraction):

        Sa = (1 − shunt)·Sc' / (1 − shunt·(1 − extraction))

    It gives the iso-shunt curves on room air (Benatar SR, Hewlett AM, Nunn JF 1973 Br J Anaesth
    45:711): PaO2 about 60 mmHg at 20 % shunt and 50 mmHg at 30 %."""
    return (1 - shunt) * end_capillary / (1 - shunt * (1 - extraction))


def spo2_from_pf(pf):
    """SpO2 (%) on room air of a patient with P/F ``pf`` (mmHg)."""
    return spo2_from_pao2(ROOM_AIR_FIO2 * pf)


def pf_from_spo2(spo2):
    """The P/F (mmHg) at which a patient on room air has saturation ``spo2`` (%)."""
    return pao2_from_spo2(spo2) / ROOM_AIR_FIO2
