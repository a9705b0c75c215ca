"""The founding article's statements that the core model reproduces from mechanism.

Each test compares model runs (a knock-out is a switch parameter set to 0); nothing is a label.
CLAIMS.md ids: C01 sources, C02 classic vs trans signalling, C03 acute phase, C07 restraint.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import run_with

SOURCES = ["macrophages", "t_cells", "b_cells", "endothelium", "fibroblasts"]


@pytest.fixture(scope="module")
def control():
    return run_with({}, dose_ngkg=2.0)


def test_claim_C01_il6_is_made_by_five_cell_types_and_the_result_reports_their_shares(control):
    shares = control.il6_source_shares()
    assert list(shares.columns[2:]) == SOURCES
    assert np.allclose(shares[SOURCES].sum(axis=1), 1.0)
    # every source contributes at all times, each at least 0.1 % at rest
    assert (shares[SOURCES] > 0).all().all()
    at_rest = shares.iloc[0]
    assert (at_rest[SOURCES] > 1e-3).all()
    at_peak = shares.loc[shares.time_h.sub(2.0).abs().idxmin()]
    # endotoxin acts on macrophages: their share rises during the response,
    # and TNF/IL-1-induced endothelium and fibroblasts make more IL-6 than at rest
    assert at_peak.macrophages > at_rest.macrophages
    fluxes = control.fluxes()
    for source in ("endothelium", "fibroblasts"):
        trace = fluxes[f"prod_il6_{source}"][0]
        assert trace.max() > 2 * trace[0], source


def test_claim_C02_classic_and_trans_signalling_are_separate_and_blocking_them_differs(control):
    trans_blocked = run_with({"switch_trans_signalling": 0})  # sgp130Fc-like
    both_blocked = run_with({"switch_trans_signalling": 0, "switch_classic_signalling": 0})
    fluxes = control.fluxes()
    assert fluxes["bind_trans_endo"][0].max() > 0 and fluxes["bind_il6_hep"][0].max() > 0
    # trans-only blockade removes trans-signalling but keeps classic signalling
    assert trans_blocked.output("trans_signal")[0].max() < 1e-9
    assert (
        trans_blocked.output("classic_signal_liver")[0].max()
        > 0.5 * control.output("classic_signal_liver")[0].max()
    )
    # ... so the acute-phase response is kept while endothelial activation falls
    crp = {
        k: r.output("crp")[0].max()
        for k, r in {"control": control, "trans": trans_blocked, "both": both_blocked}.items()
    }
    endo = {
        k: r.output("endothelial_activation")[0].max()
        for k, r in {"control": control, "trans": trans_blocked}.items()
    }
    assert crp["trans"] > 0.75 * crp["control"]  # kept (more free IL-6 reaches hepatocytes)
    assert endo["trans"] < endo["control"]
    # blocking both loses the acute-phase response as well: a different outcome
    assert crp["both"] < 0.5 * crp["trans"]


def test_claim_C03_il6_drives_crp_and_fibrinogen_with_published_timing(control):
    crp = control.output("crp")[0]
    fib = control.output("fibrinogen")[0]
    t = control.time
    assert 12.0 <= t[np.argmax(crp)] <= 48.0  # CRP peaks in the day after the stimulus
    assert crp[t == 6.0][0] < crp[t == 24.0][0]  # still rising between 6 h and 24 h
    assert crp.max() > 5 * crp[0]
    assert fib.max() > 1.03 * fib[0]  # a second acute-phase protein rises,
    assert t[np.argmax(fib)] > t[np.argmax(crp)]  # more slowly (t½ 4 d versus 19 h)
    without_signalling = run_with({"switch_classic_signalling": 0})
    assert without_signalling.output("crp")[0].max() < 1.2 * without_signalling.output("crp")[0][0]
    assert (
        without_signalling.output("fibrinogen")[0].max()
        < 1.05 * without_signalling.output("fibrinogen")[0][0]
    )


def test_claim_C07_removing_il6_raises_the_tnf_and_il1b_peaks(control):
    no_il6 = run_with({"switch_il6": 0})
    for cytokine in ("tnf", "il1b"):
        assert no_il6.output(cytokine)[0].max() > 1.1 * control.output(cytokine)[0].max(), cytokine
    # part of the restraint runs through IL-6-induced IL-10
    assert no_il6.output("il10")[0].max() < control.output("il10")[0].max()
