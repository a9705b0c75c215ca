"""The fast backend (generated C + SUNDIALS CVODE) against the reference SciPy backend.

Agreement rule, for every output and state at every output time:
``|fast - reference| <= RTOL * |reference| + FLOOR * scale + ABS_FLOOR``, where ``scale`` is
the largest magnitude that quantity reaches in the endotoxemia reference run (so a quantity that
is zero in one scenario, such as LPS in health, is judged against its size when it matters), and
``ABS_FLOOR`` absorbs round-off in quantities that stay at zero (1e-26 against 0). Both backends
run at the default ``rtol = 1e-6``; their difference is dominated by the reference's own error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers import lps
from il6sim.engine import Dose, dose_table, equilibrate, simulate
from il6sim.engine import fast as fast_module
from il6sim.engine.api import _dose_jumps
from il6sim.model.units import ureg
from il6sim.scenario import load_scenario

RTOL = 1e-3
FLOOR = 1e-6
ABS_FLOOR = 1e-12



@pytest.fixture(scope="module")
def scales(model):
    """Largest |value| of each output and state in the 2 ng/kg endotoxemia reference run."""
    ref = load_scenario("endotoxemia-2ngkg").run(model=model)
    return np.nanmax(np.abs(ref.outputs), axis=(0, 1)), np.nanmax(np.abs(ref.states), axis=(0, 1))


def assert_agree(fast, ref, scales):
    """Every output and state of ``fast`` within the stated tolerance of ``ref``."""
    assert fast.status == ref.status
    for name, a, b, scale in (
        ("output", fast.outputs, ref.outputs, scales[0]),
        ("state", fast.states, ref.states, scales[1]),
    ):
        ok = np.array(ref.status) == "ok"
        bound = RTOL * np.abs(b[ok]) + FLOOR * scale + ABS_FLOOR
        excess = np.abs(a[ok] - b[ok]) / bound
        worst = np.unravel_index(np.argmax(excess), excess.shape)
        names = fast.output_names if name == "output" else fast.state_names
        assert excess.max() <= 1.0, (
            f"{name} {names[worst[2]]} at t = {fast.time[worst[1]]} h differs by "
            f"{excess.max():.3g}x the tolerance"
        )


def rate_parameters(model):
    """Indices of the parameters with a unit of 1/time (rate constants)."""
    return [
        i
        for i, p in enumerate(model.parameters)
        if ureg.Unit(p.unit).dimensionality.get("[time]", 0) == -1
    ]


def test_generated_code_matches_the_model_functions(model):
    engine = fast_module.compile_model(model)
    rng = np.random.default_rng(1)
    rest = equilibrate(model=model).states[0]
    p = model.default_parameters()
    for _ in range(5):
        y = rest * np.exp(rng.normal(0.0, 0.5, rest.shape)) + rng.uniform(0, 1e-3, rest.shape)
        assert np.allclose(engine.rhs(y, p), model.rhs(0.0, y, p), rtol=1e-12, atol=1e-12)
        assert np.allclose(engine.jacobian(y, p), model.jacobian(0.0, y, p), rtol=1e-12,
                           atol=1e-12)
        expected = model.output_values(y, p)
        assert np.allclose(engine.outputs(y, p), [expected[k] for k in model.output_names],
                           rtol=1e-12, atol=1e-12)


def test_equilibrium_matches_reference(model):
    params = [{}, {"body_weight": 90.0}]
    ref, fast = equilibrate(params, model=model), equilibrate(params, model=model, backend="fast")
    assert fast.converged.all()
    assert np.allclose(fast.states, ref.states, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("preset", ["healthy", "endotoxemia-2ngkg"])
def test_presets_match_reference(model, scales, preset):
    scenario = load_scenario(preset)
    ref = scenario.run(model=model)
    fast = scenario.run(model=model, backend="fast")
    assert fast.settings["backend"] == "fast-cvode"
    assert fast.settings["scenario"] == preset
    assert_agree(fast, ref, scales)


def test_perturbed_population_matches_reference(model, scales):
    """50 patients, every rate constant log-normally perturbed (seeded). Parameter sets without
    a healthy rest state (e.g. a pathogen that outgrows its clearance) are screened out first:
    the comparison is about integration, and both backends flag those patients anyway."""
    rng = np.random.default_rng(20240601)
    matrix = np.tile(model.default_parameters(), (80, 1))
    rates = rate_parameters(model)
    assert len(rates) > 10
    matrix[:, rates] *= np.exp(rng.normal(0.0, 0.2, (80, len(rates))))
    rest = equilibrate(matrix, model=model, backend="fast")
    assert rest.converged.sum() >= 50
    matrix, y0 = matrix[rest.converged][:50], rest.states[rest.converged][:50]
    # both start from the same rest states (equilibria are compared in their own test)
    kwargs = {"doses": lps(2.0), "t_end": 72.0, "dt": 0.5, "model": model, "initial_states": y0}
    ref = simulate(matrix, **kwargs)
    fast = simulate(matrix, backend="fast", **kwargs)
    assert ref.status == ["ok"] * 50
    assert_agree(fast, ref, scales)


def test_later_and_repeated_doses_match_reference(model, scales):
    doses = [Dose(10.0, "lps", 2.0, unit="ng/kg"), Dose(30.0, "lps", 1.0, unit="ng/kg"),
             Dose(30.0, "lps", 1.0, unit="ng/kg", patient=1)]
    kwargs = {"doses": doses, "t_end": 60.0, "dt": 0.5, "model": model}
    params = [{}, {"body_weight": 80.0}]
    ref, fast = simulate(params, **kwargs), simulate(params, backend="fast", **kwargs)
    assert_agree(fast, ref, scales)
    lps_level = fast.output("lps")
    assert np.all(lps_level[:, fast.time < 10.0] < 1e-12)
    at_dose = np.flatnonzero(fast.time == 30.0)[0]
    assert np.all(lps_level[:, at_dose] > lps_level[:, at_dose - 1])  # post-dose value at 30 h
    assert lps_level[1, at_dose] > lps_level[0, at_dose]  # patient 1 got a second extra dose


def test_dose_events_equal_the_reference_jumps(model):
    matrix = np.stack([model.default_parameters()] * 3)
    matrix[1, model.param_index["body_weight"]] = 55.0
    table = dose_table([Dose(0.0, "lps", 2.0, unit="ng/kg"), Dose(5.0, "lps", 1.0, patient=2)])
    events = fast_module.dose_events(model, table, matrix)
    for i, p in enumerate(matrix):
        assert events[i] == _dose_jumps(model, table, i, p)


def test_per_patient_dose_events_equal_the_reference_jumps(model):
    """Per-patient rows (evaluated together per agent, route and unit) give the reference's
    jumps exactly and in the same order."""
    rng = np.random.default_rng(4)
    matrix = np.tile(model.default_parameters(), (6, 1))
    matrix[:, model.param_index["body_weight"]] = rng.uniform(50, 100, 6)
    doses = [Dose(0.0, "virus", float(10 ** rng.uniform(2, 5)), route="inoculation", patient=i)
             for i in range(6)]
    doses += [Dose(3.0, "lps", float(rng.uniform(1, 3)), unit="ng/kg", patient=i)
              for i in (4, 1, 2)]
    doses += [Dose(3.0, "lps", 1.0, unit="ng/kg"), Dose(1.0, "lps", 0.5, patient=1)]
    table = dose_table(doses)
    events = fast_module.dose_events(model, table, matrix)
    for i, p in enumerate(matrix):
        assert events[i] == _dose_jumps(model, table, i, p)


def test_results_do_not_depend_on_batch_chunks_or_workers(model):
    rng = np.random.default_rng(7)
    matrix = np.tile(model.default_parameters(), (12, 1))
    matrix *= np.exp(rng.normal(0.0, 0.2, matrix.shape))
    y0, _ = fast_module.equilibrate_batch(model, matrix)
    t_eval = np.arange(0.0, 96.5, 0.5)
    events = fast_module.dose_events(model, dose_table(lps(2.0)), matrix)
    runs = [
        fast_module.integrate(model, matrix, y0, t_eval, events, workers=w, chunk=c).states
        for w, c in [(1, 1), (2, 5), (2, 64)]
    ]
    alone = fast_module.integrate(model, matrix[7:8], y0[7:8], t_eval, events[7:8]).states
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    assert np.max(np.abs(alone[0] - runs[0][7])) <= 1e-12 * np.max(np.abs(runs[0][7]))


def test_a_patient_with_a_nan_parameter_fails_alone(model):
    matrix = np.stack([model.default_parameters()] * 3)
    matrix[1, model.param_index["k_deg_tnf"]] = np.nan
    result = simulate(matrix, doses=lps(2.0), t_end=24.0, model=model, backend="fast")
    assert result.status[0] == result.status[2] == "ok"
    assert result.status[1].startswith("failed")
    assert np.isnan(result.outputs[1]).all() and np.isnan(result.states[1]).all()
    assert np.isfinite(result.outputs[[0, 2]]).all()


def test_too_much_work_is_a_per_patient_failure(model):
    matrix = model.default_parameters()[None]
    y0, _ = fast_module.equilibrate_batch(model, matrix)
    events = fast_module.dose_events(model, dose_table(lps(2.0)), matrix)
    run = fast_module.integrate(model, matrix, y0, np.array([0.0, 48.0]), events, max_steps=5)
    assert run.flag[0] == -1 and np.isnan(run.states[0, 1]).all()
    assert "max_steps" in fast_module.flag_message(int(run.flag[0]))


def test_tolerance_is_a_parameter(model):
    kwargs = {"doses": lps(2.0), "t_end": 24.0, "model": model, "backend": "fast"}
    loose, tight = simulate(rtol=1e-4, **kwargs), simulate(rtol=1e-9, **kwargs)
    assert loose.settings["rtol"] == 1e-4
    error = np.abs(loose.output("il6") - tight.output("il6")).max()
    assert 0 < error < 1e-2 * tight.output("il6").max()


def test_unknown_backend_is_an_input_error(model):
    from il6sim.errors import InputError

    with pytest.raises(InputError, match="unknown backend"):
        simulate(model=model, t_end=1.0, backend="gpu")


def test_falls_back_to_reference_with_a_warning(model, monkeypatch):
    def unavailable(_model):
        raise fast_module.FastEngineUnavailableError("no C compiler found")

    monkeypatch.setattr(fast_module, "compile_model", unavailable)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = simulate(model=model, t_end=2.0, backend="fast")
    assert result.settings["backend"] == "reference-scipy"
    assert any("using the reference backend" in str(w.message) for w in caught)


def test_sparse_lu_plan_covers_the_pattern(model):
    from il6sim.engine.fast.codegen import generate_c

    plan = generate_c(model).lu_plan
    n = len(model.states)
    assert sorted(plan.order) == list(range(n))
    assert all((i, i) in plan.slot for i in range(n))
    assert len(set(plan.jac_slots)) == len(model.jacobian_pattern)
    assert plan.n_slots == plan.n_matrix + plan.n_fill
    assert plan.n_slots < n * n / 5  # Markowitz keeps the factors sparse


def test_sparse_lu_solves_like_dense(model):
    engine = fast_module.compile_model(model)
    assert engine.linear_solver == "sparse"
    rng = np.random.default_rng(3)
    rest = equilibrate(model=model, backend="fast").states[0]
    p = model.default_parameters()
    for gamma in (1e-3, 0.1, 10.0):
        y = rest * np.exp(rng.normal(0.0, 0.1, rest.shape))
        b = rng.normal(size=len(y))
        solved = engine.lu_solve(y, p, b, c=-gamma, d=1.0)
        assert solved is not None
        x, omega = solved
        m = np.eye(len(y)) - gamma * engine.jacobian(y, p)
        residual = np.abs(b - m @ x) / (np.abs(m) @ np.abs(x) + np.abs(b))
        assert residual.max() < 1e-13 and omega < 1e-13  # backward stable


@pytest.mark.parametrize("option", [{"linear_solver": "dense"}, {"vector_kernels": False},
                                    {"max_backward_error": 0.0}])
def test_sundials_own_operations_give_the_same_trajectories(model, option):
    """The sparse LU only steers CVODE's Newton iteration and the vector kernels compute the
    same formulas as SUNDIALS' serial vectors: switching either back — or forcing the sparse
    LU's dense fallback at every setup — gives the same solution."""
    engine = fast_module.compile_model(model)
    kwargs = {"doses": lps(2.0), "t_end": 72.0, "model": model, "backend": "fast"}
    ours = simulate(**kwargs)
    assert ours.settings["linear_solver"] == "sparse LU"
    assert ours.settings["vector_kernels"] == "il6sim"
    try:
        engine.configure(**option)
        assert (engine.linear_solver, engine.vector_kernels) == (
            option.get("linear_solver", "sparse"), option.get("vector_kernels", True))
        theirs = simulate(**kwargs)
        if "max_backward_error" in option:
            y0, _ = fast_module.equilibrate_batch(model, ours.parameters)
            events = fast_module.dose_events(model, dose_table(lps(2.0)), ours.parameters)
            run = fast_module.integrate(model, ours.parameters, y0, ours.time, events)
            stats = dict(zip(run.STAT_NAMES, run.stats[0], strict=True))
            assert stats["dense_lu_fallbacks"] == stats["lu_factorizations"] > 0
    finally:
        engine.configure(linear_solver="sparse", vector_kernels=True, max_backward_error=None)
    scale = np.abs(theirs.states).max(axis=(0, 1))
    assert np.all(np.abs(ours.states - theirs.states) <= 1e-5 * np.abs(theirs.states)
                  + 1e-9 * scale + 1e-15)


def test_quick_relaxation_gives_the_same_rest_states(model):
    """The equilibration's shortcut (relax at 1e-6, keep Newton's result only if the relaxation
    had settled) gives the rest states and convergence flags of the plain 1e-8 relaxation."""
    rng = np.random.default_rng(11)
    matrix = np.tile(model.default_parameters(), (60, 1))
    rates = rate_parameters(model)
    matrix[:, rates] *= np.exp(rng.normal(0.0, 0.3, (60, len(rates))))
    plain, plain_residual = fast_module.equilibrate_batch(model, matrix, rtol_first=0.0)
    details = {}
    quick, quick_residual = fast_module.equilibrate_batch(model, matrix, details=details)
    assert details["patients"] == 60
    assert np.array_equal(plain_residual < 1e-8, quick_residual < 1e-8)
    ok = plain_residual < 1e-8
    assert ok.sum() >= 40
    assert np.allclose(quick[ok], plain[ok], rtol=1e-10, atol=1e-14)
