"""Drugs as data and dosing regimens: label regimens, caps, and bad regimens rejected clearly."""

from __future__ import annotations

import pytest

from il6sim.errors import InputError
from il6sim.pharmacology import Regimen, expand_regimen, label_regimens, list_drugs, load_drug

LABEL_REGIMENS = {
    "tocilizumab-8mgkg-iv-q4w",
    "tocilizumab-4mgkg-iv-q4w",
    "tocilizumab-162mg-sc-qw",
    "tocilizumab-162mg-sc-q2w",
    "sarilumab-200mg-sc-q2w",
    "sarilumab-150mg-sc-q2w",
    "sarilumab-400mg-iv-once",
    "siltuximab-11mgkg-iv-q3w",
}


def test_three_antibodies_are_defined_with_sources():
    assert {"tocilizumab", "sarilumab", "siltuximab"} <= set(list_drugs())
    for name in list_drugs():
        drug = load_drug(name)
        for entry in [*drug.pk.values(), *drug.binding.values(), drug.molecular_weight]:
            assert entry.source
            assert entry.quantity().magnitude > 0
    assert load_drug("tocilizumab").target == "il6r"
    assert load_drug("siltuximab").target == "il6"


def test_label_regimens_are_named():
    assert set(label_regimens()) >= LABEL_REGIMENS


def test_weight_based_dose_is_capped_at_800_mg():
    light = expand_regimen("tocilizumab-8mgkg-iv-q4w", weight_kg=60, until_h=24 * 56)
    heavy = expand_regimen("tocilizumab-8mgkg-iv-q4w", weight_kg=120, until_h=24 * 56)
    assert light.amount.tolist() == [480.0, 480.0, 480.0]
    assert heavy.amount.tolist() == [800.0, 800.0, 800.0]
    assert light.time_h.tolist() == [0.0, 672.0, 1344.0]


def test_custom_schedule_and_single_dose():
    custom = expand_regimen(Regimen("sarilumab", "200 mg", "sc", "14 d", doses=3), start_h=24)
    assert custom.time_h.tolist() == [24.0, 360.0, 696.0]
    once = expand_regimen("sarilumab-400mg-iv-once", start_h=192)
    assert once[["time_h", "amount", "route"]].values.tolist() == [[192.0, 400.0, "iv"]]


@pytest.mark.parametrize(
    ("regimen", "message"),
    [
        (Regimen("tocilizumab", "-8 mg/kg", "iv", "28 d", doses=2), "negative"),
        (Regimen("siltuximab", "11 mg/kg", "sc", "21 d", doses=2), "siltuximab has no 'sc' route"),
        (Regimen("aspirin", "100 mg", "iv"), "unknown drug 'aspirin'"),
        (Regimen("tocilizumab", "8 mg/L", "iv"), "not a dose"),
        ("tocilizumab-8mg-iv", "unknown regimen"),
    ],
)
def test_bad_regimens_are_rejected_with_one_line(regimen, message):
    with pytest.raises(InputError, match=message) as info:
        expand_regimen(regimen, until_h=24 * 28)
    assert "fix:" in str(info.value) and "\n" not in str(info.value)
