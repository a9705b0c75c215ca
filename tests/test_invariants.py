"""Invariants: non-negative states, receptor conservation under binding, a true steady state."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import lps
from il6sim.engine import simulate

RECEPTOR_POOLS = {
    # pool: forms that carry one copy of the receptor (free and bound)
    "sIL-6R": ["sil6r_p", "il6_sil6r_p", "il6_sil6r_sgp130_p", "il6_sil6r_gp130_endo"],
    "sgp130": ["sgp130_p", "il6_sil6r_sgp130_p"],
    "hepatocyte IL-6R": ["mil6r_hep", "il6_mil6r_hep"],
    "leukocyte IL-6R": ["mil6r_leu", "il6_mil6r_leu"],
    "endothelial gp130": ["gp130_endo", "il6_sil6r_gp130_endo"],
}


def test_states_stay_non_negative_after_endotoxin(endotoxemia):
    assert endotoxemia.status == ["ok"]
    scale = np.nanmax(np.abs(endotoxemia.states), axis=1)
    assert np.all(endotoxemia.states >= -1e-6 * np.maximum(scale[:, None, :], 1e-9))


def test_steady_state_has_zero_net_flux(model, rest):
    assert rest.converged.all()
    rates = model.rhs(0.0, rest.states[0], model.default_parameters())
    assert np.all(np.abs(rates) <= 1e-8 * np.maximum(np.abs(rest.states[0]), 1e-6))


def test_healthy_state_holds_for_28_days_without_input(model, rest):
    result = simulate(t_end=28 * 24.0, dt=24.0, model=model)
    drift = np.abs(result.states[0] - rest.states[0]) / np.maximum(np.abs(rest.states[0]), 1e-9)
    assert result.status == ["ok"]
    assert drift.max() < 1e-4


@pytest.mark.parametrize("pool", sorted(RECEPTOR_POOLS))
def test_binding_conserves_receptor_totals(model, pool):
    """With synthesis, elimination and internalisation off, each receptor pool is constant
    through an endotoxin response: binding only moves receptor between free and bound forms."""
    no_turnover = {
        name: 0.0 for name in model.param_names if name.startswith(("k_syn_", "k_el_", "kint_"))
    }
    rest_states = simulate(t_end=1.0, dt=1.0, model=model).states[0, 0]
    result = simulate(
        no_turnover,
        doses=lps(4.0),
        t_end=24.0,
        dt=0.5,
        model=model,
        initial_states=rest_states[None, :],
    )
    forms = RECEPTOR_POOLS[pool]
    if pool == "sIL-6R":  # the gp130-engaged complex also carries one sIL-6R
        pass
    total = sum(result.state(f)[0] for f in forms)
    assert np.allclose(total, total[0], rtol=1e-5), pool
    # and the forms really exchange: the bound share changes during the response
    free = result.state(forms[0])[0]
    assert np.ptp(free / total) > 0 or pool == "sgp130"


def test_binding_fluxes_are_stoichiometrically_balanced(model):
    """Each binding flux removes one ligand and one receptor and makes one complex (a drug
    comes from its central volume, so its coefficient is a volume ratio, checked by the drug
    mass-balance test in test_pharmacology.py)."""
    for flux in model.fluxes:
        if flux.name.startswith("bind_drug_"):
            numbers = sorted(c for c in flux.changes.values() if not callable(c))
            assert numbers == [-1, 1] and callable(flux.changes["drug_c"]), flux.name
        elif flux.name.startswith("bind_"):
            coefficients = sorted(flux.changes.values())
            assert coefficients == [-1, -1, 1], flux.name
