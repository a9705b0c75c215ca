"""SBML export: libsbml consistency, complete contents with units and notes, and agreement of an
independent simulator (libroadrunner) with the reference SciPy engine.

Agreement criterion (stated once, used everywhere): at every output time,
``|roadrunner - reference| <= RTOL · |reference| + ATOL`` in the state's or read-out's own unit,
with the reference engine at ``rtol = 1e-10`` and roadrunner's CVODE at ``rtol = 1e-8``.
"""

from __future__ import annotations

import math

import libsbml
import numpy as np
import pytest
import sympy as sp
from typer.testing import CliRunner

from il6sim.cli import app
from il6sim.engine import Dose
from il6sim.errors import InputError, ModelError
from il6sim.interop import (
    check_sbml,
    export_sbml,
    export_scenario_sbml,
    output_id,
    simulate_sbml_roadrunner,
)
from il6sim.interop._math import to_formula
from il6sim.interop._notes import read_declaration
from il6sim.interop._units import UnitTable, si_factor
from il6sim.interop.sbml import state_is_species
from il6sim.model.units import ureg
from il6sim.scenario import load_scenario

RTOL = 1e-3
ATOL = 1e-9
READOUTS = ("il6", "tnf", "il10", "crp")
LATE_LPS = """\
name: lps-at-6h
description: LPS 2 ng/kg at 6 h and 1 ng/kg more at 6 h (two simultaneous events).
doses:
  - {time: 6 h, agent: lps, route: iv, amount: 2 ng/kg}
  - {time: 360 min, agent: lps, route: iv, amount: 1 ng/kg}
duration: 24 h
sampling: 0.5 h
"""


@pytest.fixture(scope="module")
def endotoxemia_sbml():
    return export_scenario_sbml("endotoxemia-2ngkg")


@pytest.fixture(scope="module")
def sbml_model(endotoxemia_sbml):
    doc = libsbml.readSBMLFromString(endotoxemia_sbml)
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    return doc.getModel()


def notes_text(element) -> str:
    """All character data of an element's XHTML notes (entities resolved)."""
    parts = []

    def walk(node):
        if node.isText():
            parts.append(node.getCharacters())
        for i in range(node.getNumChildren()):
            walk(node.getChild(i))

    walk(element.getNotes())
    return " ".join(parts)


def deviation(rr: np.ndarray, ref: np.ndarray) -> float:
    """Largest ``|rr - ref| / (RTOL·|ref| + ATOL)``; at most 1 means agreement."""
    return float(np.max(np.abs(rr - ref) / (RTOL * np.abs(ref) + ATOL)))


def compare_with_reference(scenario, model):
    """Simulate a scenario with both engines; return (roadrunner, reference) results."""
    text = export_scenario_sbml(scenario, model=model)
    reference = scenario.run(model=model, rtol=1e-10)
    rr = simulate_sbml_roadrunner(text, reference.time)
    assert reference.status == ["ok"]
    return rr, reference


def assert_agree(rr, reference):
    worst = {}
    for j, name in enumerate(reference.state_names):
        worst[name] = deviation(rr[name], reference.states[0, :, j])
    for name in reference.output_names:
        worst[output_id(name)] = deviation(rr[output_id(name)], reference.output(name)[0])
    bad = {k: v for k, v in worst.items() if not v <= 1.0}
    assert not bad, f"roadrunner and the reference engine differ beyond tolerance: {bad}"


# ----- document ------------------------------------------------------------------------------
def test_export_passes_libsbml_consistency_checks_without_warnings(endotoxemia_sbml):
    doc = libsbml.readSBMLFromString(endotoxemia_sbml)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert check_sbml(endotoxemia_sbml) == []


def test_every_state_parameter_and_output_is_present_with_units_and_notes(sbml_model, model):
    for decl in model.states:
        element = sbml_model.getSpecies(decl.name) or sbml_model.getParameter(decl.name)
        assert element is not None, decl.name
        assert sbml_model.getRateRule(decl.name) is not None, decl.name
        assert decl.description in notes_text(element)
        assert read_declaration(element)["unit"] == decl.unit
        if element.getTypeCode() == libsbml.SBML_SPECIES:
            assert element.getCompartment() == decl.compartment
            assert not element.getHasOnlySubstanceUnits()
        units = element.getDerivedUnitDefinition()
        assert math.isclose(si_factor(units), ureg.Quantity(1, decl.unit).to_base_units()
                            .magnitude, rel_tol=1e-9), decl.name
    for decl in model.parameters:
        element = sbml_model.getParameter(decl.name)
        assert element is not None and element.getConstant(), decl.name
        assert element.isSetUnits(), decl.name
        assert decl.description in notes_text(element)
        assert decl.source in notes_text(element)
        assert read_declaration(element)["source"] == decl.source
        assert math.isclose(si_factor(element.getDerivedUnitDefinition()),
                            ureg.Quantity(1, decl.unit).to_base_units().magnitude, rel_tol=1e-9)
    for decl in model.outputs:
        element = sbml_model.getParameter(output_id(decl.name))
        assert element is not None and not element.getConstant(), decl.name
        assert sbml_model.getAssignmentRule(output_id(decl.name)) is not None
        assert math.isclose(si_factor(element.getDerivedUnitDefinition()),
                            ureg.Quantity(1, decl.unit).to_base_units().magnitude, rel_tol=1e-9)
        assert decl.description in notes_text(element)


def test_compartments_time_unit_and_dose_event(sbml_model, model):
    for name in {s.compartment for s in model.states}:
        compartment = sbml_model.getCompartment(name)
        assert compartment is not None and compartment.getConstant()
        if f"V_{name}" in model.param_index:
            assert compartment.getSize() == model.parameter(f"V_{name}").value
            assert sbml_model.getInitialAssignmentBySymbol(name) is not None
    hour = sbml_model.getUnitDefinition(sbml_model.getTimeUnits())
    assert si_factor(hour) == 3600.0
    assert sbml_model.getNumEvents() == 1
    event = sbml_model.getEvent("dose1")
    assert libsbml.formulaToL3String(event.getTrigger().getMath()) == "time >= dose1_time"
    assert event.getEventAssignment(0).getVariable() == "lps_p"
    assert sbml_model.getParameter("dose1_amount").getValue() == 2.0


def test_initial_values_are_the_equilibrated_resting_state(sbml_model, model, rest):
    for decl, value in zip(model.states, rest.states[0], strict=True):
        species = sbml_model.getSpecies(decl.name)
        exported = (species.getInitialConcentration() if species is not None
                    else sbml_model.getParameter(decl.name).getValue())
        assert exported == pytest.approx(value, rel=1e-12, abs=1e-300)


# ----- independent simulation ------------------------------------------------------------------
def test_roadrunner_reproduces_reference_engine_for_endotoxemia(model):
    rr, reference = compare_with_reference(load_scenario("endotoxemia-2ngkg"), model)
    assert reference.time[0] == 0.0 and reference.time[-1] == 48.0
    assert_agree(rr, reference)
    for name in READOUTS:  # the read-outs agree far better than the stated tolerance
        ref = reference.output(name)[0]
        assert np.max(np.abs(rr[output_id(name)] - ref) / np.abs(ref)) < 1e-5, name
    assert rr[output_id("il6")].max() > 10 * rr[output_id("il6")][0]  # a real response


def test_events_fire_at_a_later_dose_time(tmp_path, model):
    path = tmp_path / "late.yaml"
    path.write_text(LATE_LPS, encoding="utf-8")
    rr, reference = compare_with_reference(load_scenario(path, model=model), model)
    assert_agree(rr, reference)
    six = int(np.flatnonzero(reference.time == 6.0)[0])
    lps = rr["lps_p"]
    assert lps[six - 1] < 1e-6  # nothing before the doses
    # both simultaneous doses (2 + 1 ng/kg) are applied at 6 h, the output at 6 h is post-dose
    jump = float(model.dose_jump("lps", "iv", 3.0, model.default_parameters())[1])
    assert lps[six] == pytest.approx(jump, rel=1e-6)


def test_healthy_scenario_stays_at_rest_for_28_days_in_roadrunner(model):
    scenario = load_scenario("healthy", model=model)
    assert scenario.duration_h == 28 * 24
    text = export_scenario_sbml(scenario, model=model)
    times = np.arange(0.0, scenario.duration_h + 1, 6.0)
    rr = simulate_sbml_roadrunner(text, times)
    for name, values in rr.items():
        if name != "time":
            drift = np.max(np.abs(values - values[0]))
            assert drift <= 1e-6 * abs(values[0]) + ATOL, (name, drift)


# ----- pieces: math printer, units, errors, command line ------------------------------------
def test_math_printer_round_trips_through_libsbml_and_roadrunner():
    x, y = sp.symbols("x y", real=True)
    expressions = [x / 3, x**-2, sp.sqrt(x), sp.Abs(x - y), sp.exp(-x), sp.log(x), x**y,
                   sp.Piecewise((x, x < 1), (y, True)), sp.Min(x, y), sp.Max(x, y),
                   sp.Rational(1, 3) * x, -(x**2), 1 / (1 + x / y) ** 2, sp.Float(1e-300) * y]
    doc = libsbml.SBMLDocument(3, 2)
    sbml = doc.createModel()
    for name, value in (("x", 0.7), ("y", 2.5)):
        par = sbml.createParameter()
        par.setId(name)
        par.setValue(value)
        par.setConstant(True)
    for i, expr in enumerate(expressions):
        par = sbml.createParameter()
        par.setId(f"r{i}")
        par.setConstant(False)
        rule = sbml.createAssignmentRule()
        rule.setVariable(f"r{i}")
        rule.setMath(libsbml.parseL3Formula(to_formula(expr)))
    import roadrunner

    rr = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))
    for i, expr in enumerate(expressions):
        expected = float(expr.subs({x: 0.7, y: 2.5}))
        assert rr.getValue(f"r{i}") == pytest.approx(expected, rel=1e-14), str(expr)
    assert "1e-300" in to_formula(sp.Float(1e-300) * y)  # full precision, no rounding


@pytest.mark.parametrize("unit", ["pg/mL", "1/nM/h", "cell/uL", "percent", "U/L", "ng/kg",
                                  "pg/cell/h", "L/h/kg", "mg/d", "g/mol", "umol/L"])
def test_units_are_decomposed_into_sbml_base_units_exactly(unit):
    doc = libsbml.SBMLDocument(3, 2)  # keep the document alive: it owns the model
    sbml = doc.createModel()
    ident = UnitTable(sbml)(unit)
    assert libsbml.SyntaxChecker.isValidUnitSId(ident)
    definition = sbml.getUnitDefinition(ident)
    expected = ureg.Quantity(1, unit).to_base_units().magnitude
    assert math.isclose(si_factor(definition), expected, rel_tol=1e-12)


def test_only_amounts_per_volume_become_species():
    assert state_is_species("pg/mL") and state_is_species("pM") and state_is_species("cell/uL")
    assert not state_is_species("dimensionless")
    assert not state_is_species("U/L")  # an activity is not an SBML substance


def test_export_errors_are_il6sim_errors(model):
    with pytest.raises(InputError, match="one patient"):
        export_sbml(model, parameters=[{}, {}])
    with pytest.raises(InputError, match="initial_states"):
        export_sbml(model, initial_states=np.zeros(3))
    with pytest.raises(InputError, match=r"dose agent|no dose route"):
        export_sbml(model, doses=[Dose(0.0, "aspirin", 1.0)], initial_states=model.initial_guess())
    with pytest.raises(ModelError, match="not a valid SBML identifier"):
        export_sbml(model, model_id="1 bad id", initial_states=model.initial_guess())


def test_cli_writes_a_file_that_reloads(tmp_path):
    out = tmp_path / "sub" / "endotoxemia.xml"
    result = CliRunner().invoke(app, ["export-sbml", "endotoxemia-2ngkg", "--out", str(out),
                                      "--set", "body_weight=80kg"])
    assert result.exit_code == 0, result.output
    assert "SBML written to" in result.output
    doc = libsbml.readSBMLFromFile(str(out))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert doc.getModel().getParameter("body_weight").getValue() == 80.0
    assert check_sbml(out.read_text(encoding="utf-8")) == []


def test_cli_reports_errors_as_one_line_with_exit_code_2(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["export-sbml", "no-such-preset", "--out",
                                 str(tmp_path / "x.xml")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    result = runner.invoke(app, ["export-sbml", "healthy", "--out", str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and "fix: end it in .xml" in result.output
    help_text = runner.invoke(app, ["export-sbml", "--help"]).output
    assert "Example: il6sim export-sbml" in help_text


def test_copasi_reproduces_reference_engine_when_installed(model, tmp_path):
    """A second independent simulator (COPASI, ``pip install python-copasi``); skipped without."""
    copasi = pytest.importorskip("COPASI")
    scenario = load_scenario("endotoxemia-2ngkg", model=model)
    path = tmp_path / "endotoxemia.xml"
    export_scenario_sbml(scenario, path, model=model)
    reference = scenario.run(model=model, rtol=1e-10)
    data_model = copasi.CRootContainer.addDatamodel()
    assert data_model.importSBML(str(path))
    task = data_model.getTask("Time-Course")
    problem = task.getProblem()
    problem.setStepNumber(len(reference.time) - 1)
    problem.setDuration(float(reference.time[-1]))
    problem.setTimeSeriesRequested(True)
    task.getMethod().getParameter("Relative Tolerance").setDblValue(1e-9)
    task.getMethod().getParameter("Absolute Tolerance").setDblValue(1e-14)
    assert task.process(True)
    series = task.getTimeSeries()
    columns = {series.getTitle(i): i for i in range(series.getNumVariables())}
    for name in READOUTS:  # COPASI titles global quantities by their SBML name
        column = columns[f"Values[{name}]"]
        values = np.array([series.getConcentrationData(k, column)
                           for k in range(series.getRecordedSteps())])
        assert deviation(values, reference.output(name)[0]) <= 1.0, name
