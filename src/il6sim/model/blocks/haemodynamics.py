"""Haemodynamics of sepsis: vascular tone, volume, arterial pressure, vasopressor need and lactate.

States: ``inos`` (0–1), inducible nitric oxide synthase expressed in the vessel wall;
``vasoplegia`` (0–1), the loss of arteriolar tone it causes; ``fluid_iv`` (L), infused crystalloid
still in the circulation; ``lactate`` (mmol/L).

Mechanism:
- **Vascular tone.** Bacterial products in blood (endotoxin, and the LPS-equivalent patterns of
  circulating bacteria) induce iNOS in vascular smooth muscle and endothelium; TNF-α and IL-1β
  in plasma amplify the induction (they synergise with LPS: Beasley D 1991 J Clin Invest
  87:602; Landry DW, Oliver JA 2001 N Engl J Med 345:588). The enzyme, once made, outlasts
  its stimulus by a day or more, and the tone follows the NO it makes with a lag of hours, so
  the shock keeps deepening for hours after effective antibiotics and resolves over days (the
  vasopressor dose of septic shock peaks within the first day and is weaned over 2-4 days).
  Cytokines alone (a viral storm) do not induce it here: septic vasoplegia is tied to
  circulating microbial products.
- **Volume.** Capillary leak (from activated endothelium: TNF-α, IL-1β and IL-6
  trans-signalling, :mod:`.innate` and :mod:`.damage`) moves plasma into the interstitium and
  lowers the pressure as before (``w_leak_map``); an infused crystalloid bolus (dose route
  ``fluid``, ``iv``, mL) restores preload for as long as it stays in the vessels, which is less
  than an hour and shorter with leak (Hahn RG 2010 Anesthesiology 113:470; Nunes TS 2014 Ann
  Intensive Care 4:25: the pressure gain of a bolus has gone within an hour in septic shock).
- **Arterial pressure.** MAP without vasopressors falls with vasoplegia and with volume lost
  through the leak. The ICU titrates norepinephrine to a MAP target of 65 mmHg (Surviving
  Sepsis Campaign 2021, Evans L, Intensive Care Med 47:1181): ``norepinephrine`` is the dose
  that target needs (0 when the patient's own pressure is above it), larger when vasoplegia
  blunts the adrenergic response (catecholamine hyporesponsiveness); ``map_treated`` is the
  pressure on that dose. The model does not simulate patients without vasopressor support:
  their benefit is inside the SOFA-based death hazard, which scores the dose
  (:mod:`il6sim.clinical`).
- **Lactate.** Made at a basal rate and faster when tissue perfusion fails (the patient's own
  pressure falling below the autoregulatory range; vasopressors restore the pressure but not
  the microcirculation: De Backer D 2002 Am J Respir Crit Care Med 166:98), cleared by the liver
  (t½ about 40 min in health: Levraut J 1998 Am J Respir Crit Care Med 157:1021) and more slowly
  as the liver fails.
Septic shock (Sepsis-3: vasopressors needed for MAP ≥ 65 mmHg and lactate > 2 mmol/L despite
fluids; Singer M 2016 JAMA 315:801) is read from these outputs by
:func:`il6sim.clinical.septic_shock`.
"""

from __future__ import annotations

from ..motifs import hill, inhibition, power, ratio
from ..spec import Block, DoseRoute, Flux, Output, State


def systemic_pamp(s, p):
    """Microbial patterns in blood as LPS-equivalent (pg/mL): endotoxin and circulating bacteria."""
    return s.lps_p + p.pamp_per_cfu * s.bac_b


def map_native(s, p):
    """Mean arterial pressure without vasopressors (mmHg): tone and effective volume."""
    volume = 1 - p.w_leak_map * s.vascular_leak + ratio(s.fluid_iv, p.V_blood)
    return p.map_healthy * volume * (1 - p.w_vasoplegia_map * s.vasoplegia)


def _positive_part(x, width):
    """Smooth ``max(x, 0)`` for a dimensionless ``x`` (``width`` sets the rounding at 0)."""
    return (x + power(x * x + width * width, 0.5)) / 2


def _pressure_gap(s, p):
    """Relative rise of MAP the vasopressor target needs: ``max(target/MAP - 1, 0)``."""
    return _positive_part(ratio(p.map_target, map_native(s, p)) - 1, 1e-6)


def _norepinephrine(s, p):
    return (
        _pressure_gap(s, p)
        * (1 + p.w_vasoplegia_pressor_resistance * s.vasoplegia)
        / p.norepinephrine_potency
    )


def _hypoperfusion(s, p):
    """Fraction of tissue beds under-perfused (0–1), from the patient's own pressure."""
    return inhibition(map_native(s, p), p.K_lactate_map, 10)


BLOCK = Block(
    name="haemodynamics",
    states=(
        State("inos", "dimensionless", "plasma", "vascular iNOS expression (0–1)"),
        State("vasoplegia", "dimensionless", "plasma", "loss of arteriolar tone by iNOS-NO (0–1)"),
        State("fluid_iv", "L", "plasma", "infused crystalloid still in the circulation"),
        State("lactate", "mmol/L", "plasma", "blood lactate", 1.0),
    ),
    fluxes=(
        Flux(
            "induce_inos",
            lambda s, p: (
                p.k_inos_on
                * (1 - s.inos)
                * hill(systemic_pamp(s, p), p.K_vasoplegia_pamp)
                * (
                    1
                    + p.w_vasoplegia_cytokines
                    * (hill(s.tnf_p, p.K_vasoplegia_tnf) + hill(s.il1b_p, p.K_vasoplegia_il1b))
                    / 2
                )
            ),
            {"inos": 1},
            "iNOS induction in the vessel wall by microbial products in blood, amplified by "
            "TNF-α and IL-1β",
        ),
        Flux(
            "decay_inos",
            lambda s, p: p.k_inos_off * s.inos,
            {"inos": -1},
            "loss of iNOS once the drive has gone",
        ),
        Flux(
            "lose_tone",
            lambda s, p: p.k_tone * s.inos * (1 - s.vasoplegia),
            {"vasoplegia": 1},
            "arteriolar relaxation by iNOS-derived NO",
        ),
        Flux(
            "restore_tone",
            lambda s, p: p.k_tone * (1 - s.inos) * s.vasoplegia,
            {"vasoplegia": -1},
            "return of vascular tone as NO falls",
        ),
        Flux(
            "shift_fluid",
            lambda s, p: p.k_fluid_shift * (1 + p.w_fluid_leak * s.vascular_leak) * s.fluid_iv,
            {"fluid_iv": -1},
            "infused crystalloid leaving the vessels for the interstitium, faster with leak",
        ),
        Flux(
            "produce_lactate",
            lambda s, p: (
                p.k_lactate_clearance
                * p.lactate_baseline
                * (
                    1
                    + p.w_lactate_hypoperfusion * _hypoperfusion(s, p)
                    + p.w_lactate_microthrombi * s.microthrombi
                )
            ),
            {"lactate": 1},
            "lactate from glycolysis, raised when tissue perfusion fails (low pressure, "
            "microthrombi)",
        ),
        Flux(
            "clear_lactate",
            lambda s, p: (
                p.k_lactate_clearance * (1 - p.w_lactate_liver * s.liver_injury) * s.lactate
            ),
            {"lactate": -1},
            "hepatic (and renal) lactate clearance, lower as the liver fails",
        ),
    ),
    outputs=(
        Output("map", "mmHg", map_native, "mean arterial pressure without vasopressors",
               label="Mean arterial pressure"),
        Output(
            "map_treated",
            "mmHg",
            lambda s, p: map_native(s, p) * (1 + _pressure_gap(s, p)),
            "mean arterial pressure on norepinephrine titrated to the 65 mmHg target",
            label="MAP on vasopressors",
        ),
        Output(
            "norepinephrine",
            "ug/kg/min",
            _norepinephrine,
            "norepinephrine dose that holds MAP at the target (0: none needed)",
            label="Norepinephrine",
        ),
        Output("lactate_level", "mmol/L", lambda s, p: s.lactate, "blood lactate",
               label="Lactate"),
        Output("vasoplegia_fraction", "percent", lambda s, p: s.vasoplegia,
               "loss of vascular tone (iNOS-NO)", label="Vasoplegia"),
    ),
    routes=(
        DoseRoute(
            "fluid",
            "iv",
            "mL",
            "fluid_iv",
            lambda amount, p: amount,
            "intravenous crystalloid bolus",
        ),
    ),
)
