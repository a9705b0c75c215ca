"""The declaration layer: names, units checked at build time, the generated Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from il6sim.errors import ModelError, UnitError
from il6sim.model import Block, Flux, Output, Param, State, build_model, declared_parameters
from il6sim.model.motifs import hill


def _params(**units):
    return [Param(name, 1.0, unit, "test", "test") for name, unit in units.items()]


def test_every_parameter_has_unit_description_and_source():
    for p in declared_parameters():
        assert p.unit and p.description and p.source, p.name
        if p.source.startswith("calibrated"):
            assert p.calibrated_to, f"{p.name} is calibrated but names no target"


def test_calibrated_parameters_name_targets_that_exist():
    from il6sim.calibration import load_targets
    from il6sim.population._course_check import load_course_targets
    from il6sim.studies.sepsis import load_septic_shock_spec
    from il6sim.trial import load_trial

    ids = {t.id for name in ("endotoxemia", "infection", "sepsis") for t in load_targets(name)}
    course = {t["id"]: t for t in load_course_targets()}
    course |= {t["id"]: t for t in load_septic_shock_spec()["targets"]}
    for p in declared_parameters():
        for target in p.calibrated_to:
            if target.startswith("trial:"):  # trial:<name>:<endpoint>, a published trial result
                _, trial, endpoint = target.split(":")
                published = load_trial(trial).published.get(endpoint)
                assert published is not None, f"{p.name} names unknown target {target}"
                assert published.role == "fitted", (p.name, target)
                continue
            assert target in ids or target in course, f"{p.name} names unknown target {target}"
            if target in course:  # the target file says the row was used to fit
                assert course[target]["role"] == "fitted", (p.name, target)


def test_wrong_unit_in_a_flux_is_an_error_at_build_time():
    block = Block(
        "bad",
        states=(State("x", "pg/mL", "plasma", "x"),),
        fluxes=(Flux("deg_x", lambda s, p: p.k * s.x, {"x": -1}, "elimination"),),
    )
    # k in 1/h is right ...
    build_model([block], _params(k="1/h"))
    # ... k in 1/L is a unit error naming the flux and the state
    with pytest.raises(UnitError, match=r"flux 'deg_x' .*dx/dt.*must be in"):
        build_model([block], _params(k="1/L"))


def test_adding_incompatible_quantities_is_an_error_at_build_time():
    block = Block(
        "bad",
        states=(State("x", "nM", "plasma", "x"),),
        fluxes=(Flux("prod_x", lambda s, p: p.k * (s.x + p.c), {"x": 1}, "nonsense"),),
    )
    with pytest.raises(UnitError, match="flux 'prod_x'"):
        build_model([block], _params(k="1/h", c="pg/mL"))


def test_compatible_units_are_converted_not_rejected():
    """A half-maximal constant in pM for a state in nM is converted (factor 1000)."""
    block = Block(
        "ok",
        states=(State("x", "nM", "plasma", "x"),),
        fluxes=(Flux("act", lambda s, p: p.v * hill(s.x, p.K), {"x": 1}, "activation"),),
    )
    model = build_model([block], _params(v="nM/h", K="pM"))
    # x = 1 nM, K = 1 pM → hill = 1000/1001
    assert model.rhs(0, np.array([1.0]), np.array([1.0, 1.0]))[0] == pytest.approx(1000 / 1001)


def test_unknown_names_are_reported_with_the_flux():
    block = Block(
        "bad",
        states=(State("x", "nM", "plasma", "x"),),
        fluxes=(Flux("deg_x", lambda s, p: p.k_missing * s.x, {"x": -1}, "elimination"),),
    )
    with pytest.raises(ModelError, match="flux 'deg_x' uses unknown parameter 'k_missing'"):
        build_model([block], _params(k="1/h"))


def test_duplicate_names_are_rejected():
    block = Block("dup", states=(State("x", "nM", "plasma", "x"), State("x", "nM", "plasma", "x")))
    with pytest.raises(ModelError, match="declared twice"):
        build_model([block], [])


def test_analytic_jacobian_matches_finite_differences(model, rest):
    p = model.default_parameters()
    y = rest.states[0] * (1 + 0.3 * np.random.default_rng(0).random(len(rest.states[0]))) + 0.01
    analytic = model.jacobian(0.0, y, p)
    numeric = np.empty_like(analytic)
    for j in range(len(y)):
        h = 1e-6 * max(abs(y[j]), 1e-3)
        up, down = y.copy(), y.copy()
        up[j] += h
        down[j] -= h
        numeric[:, j] = (model.rhs(0, up, p) - model.rhs(0, down, p)) / (2 * h)
    assert np.allclose(analytic, numeric, rtol=1e-4, atol=1e-7 * np.abs(analytic).max())


def test_batched_rhs_equals_per_patient_rhs(model, rest):
    p = model.default_parameters()
    ys = np.stack([rest.states[0], rest.states[0] * 1.1, rest.states[0] * 0.9], axis=1)
    ps = np.stack([p, p, p * 1.05], axis=1)
    batched = model.rhs(0, ys, ps)
    for i in range(3):
        assert np.allclose(batched[:, i], model.rhs(0, ys[:, i], ps[:, i]))


def test_readme_model_counts_match_the_model():
    """The README's state, parameter, flux and read-out counts are the model's."""
    import re
    from pathlib import Path

    from il6sim.model import default_model

    text = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    found = re.search(r"(\d+) states, (\d+) parameters, (\d+) named fluxes and (\d+) read-outs",
                      text)
    model = default_model()
    assert found, "the README's model paragraph lost its counts"
    assert tuple(map(int, found.groups())) == (len(model.states), len(model.parameters),
                                               len(model.fluxes), len(model.outputs))


def test_docs_model_md_is_the_current_model_table():
    """docs/model.md is written by `il6sim model --markdown --out docs/model.md`; regenerate it
    when the model changes."""
    from pathlib import Path

    from il6sim.model import default_model
    from il6sim.model_table import model_table_markdown

    shipped = (Path(__file__).parents[1] / "docs" / "model.md").read_text(encoding="utf-8")
    assert shipped.strip() == model_table_markdown(default_model()).strip(), (
        "docs/model.md is stale; fix: il6sim model --markdown --out docs/model.md")


def _saturating_model(rate):
    block = Block(
        "ok",
        states=(State("x", "nM", "plasma", "x", 1.0),),
        fluxes=(Flux("act", rate, {"x": 1}, "activation"),),
        outputs=(Output("x_out", "nM", lambda s, p: s.x * p.K / p.K, "x"),),
    )
    return build_model([block], _params(v="nM/h", K="nM"))


def test_the_model_fingerprint_reads_what_a_model_computes_not_how_sympy_prints_it():
    """The same right-hand side written in another, equal form gives the same fingerprint (a run
    resumed in another process must recognise its model: SymPy's printed form depends on what it
    has cached); a changed one gives another."""
    from il6sim.runner import model_fingerprint

    model = _saturating_model(lambda s, p: p.v * s.x / (s.x + p.K))
    same = _saturating_model(lambda s, p: p.v - p.v * p.K / (s.x + p.K))
    assert str(model.rhs_expressions[0]) != str(same.rhs_expressions[0])
    assert model_fingerprint(model) == model_fingerprint(same)
    other = _saturating_model(lambda s, p: 1.001 * p.v * s.x / (s.x + p.K))
    assert model_fingerprint(other) != model_fingerprint(model)
