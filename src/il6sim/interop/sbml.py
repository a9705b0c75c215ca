"""Export of an il6sim model (one patient, its resting state and its doses) to SBML L3V2.

The file is written with libsbml (Bornstein BJ et al. 2008 Bioinformatics 24:880) following
the SBML Level 3 Version 2 Core specification (Hucka M et al. 2019 J Integr Bioinform
16:20190021):

* **compartments** — one per model compartment (``plasma``, ``tissue``), sized by the
  parameter ``V_<compartment>`` through an initial assignment;
* **species** — every state measured per volume (pg/mL, pM, cells/µL, ...) is a species in its
  compartment (``hasOnlySubstanceUnits=false``: its value is the concentration, in exactly the
  state's unit); states without a volume (fractions, ``dimensionless``) are non-constant
  parameters;
* **dynamics** — one ``rateRule`` per state whose math is the model's own symbolic right-hand
  side (:attr:`il6sim.model.Model.rhs_expressions`). Rate rules rather than reactions, because
  the right-hand side already contains every unit conversion and volume ratio that pint folded
  in when the model was built: nothing is re-derived, so the SBML reproduces the model exactly,
  whereas reactions would need one extent unit for states in pg/mL, pM and cells/µL and
  stoichiometries that are volume ratios;
* **parameters** — every declared parameter, with its value (scenario overrides applied);
* **units** — a unit definition for every unit, decomposed by pint into SBML base units
  (:mod:`._units`); model time is the hour;
* **read-outs** — every output (IL-6 in pg/mL, CRP in mg/L, ...) is a parameter ``out_<name>``
  defined by an ``assignmentRule``;
* **doses** — each dose is an ``event`` (trigger ``time >= dose<i>_time``, assignment
  ``state = state + jump``), the jump being the route's symbolic expression of the dose
  parameter ``dose<i>_amount`` given in the route's unit. Edit the two parameters, then reset
  the simulator (libRoadRunner ``reset()``): a dose at 0 h is applied when the model is
  initialised, so an edit made after loading takes effect at the next reset (docs/sbml.md);
* **resting state** — the initial values are the equilibrated rest for these parameters;
  each parameter's notes say whether editing it moves the rest (:mod:`._rest`), which a
  simulator does not recompute;
* **notes** (XHTML) and an il6sim **annotation** on every element: description, unit, source.

The document is checked with libsbml's consistency checks, units included; an error raises
:class:`~il6sim.errors.ModelError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import libsbml
import numpy as np
import pandas as pd
import pint
import sympy as sp

from ..engine import Dose, dose_table, equilibrate, parameter_matrix
from ..engine._limits import parameter_problems, refuse_typed
from ..errors import InputError, ModelError
from ..model import Model, default_model
from ..model.units import TIME_UNIT, ureg
from ._math import to_ast
from ._notes import describe, ensure_ok
from ._rest import covariate_note, rest_dependence, rest_note
from ._units import UnitTable, amount_unit, state_is_species, unit_of

__all__ = [
    "OUTPUT_PREFIX",
    "check_sbml",
    "export_sbml",
    "export_scenario_sbml",
    "output_id",
    "state_is_species",
]

#: SBML id prefix of a read-out (``out_il6``): outputs may share a name with a state (``crp``).
OUTPUT_PREFIX = "out_"
FLUX_PREFIX = "flux_"

_REFERENCES = (
    "SBML Level 3 Version 2 Core: Hucka M et al. 2019 J Integr Bioinform 16:20190021; "
    "libsbml: Bornstein BJ et al. 2008 Bioinformatics 24:880"
)


def output_id(name: str) -> str:
    """The SBML id of a read-out: ``out_<name>``."""
    return OUTPUT_PREFIX + name


def _version() -> str:
    from importlib.metadata import version

    try:
        return version("il6sim")
    except Exception:  # pragma: no cover - uninstalled tree
        return "unknown"


def _sid(name: str, what: str) -> str:
    if not libsbml.SyntaxChecker.isValidSBMLSId(name):
        raise ModelError(
            f"{what} '{name}' is not a valid SBML identifier; fix: use letters, digits and "
            "underscores, starting with a letter"
        )
    return name


def _dose_rows(model: Model, doses: Any) -> list[dict[str, Any]]:
    """Doses for one patient (index 0 or all), each amount in its route's dose unit."""
    rows = []
    for row in dose_table(doses).itertuples():
        if row.patient not in (-1, 0):
            continue
        route = model.route(row.agent, row.route)
        amount = float(row.amount)
        if row.unit and row.unit != route.dose_unit:
            try:
                amount = float(ureg.Quantity(amount, row.unit).to(route.dose_unit).magnitude)
            except pint.errors.PintError:
                raise InputError(
                    f"dose of {row.agent} is in '{row.unit}', which cannot be converted to "
                    f"'{route.dose_unit}'; fix: give the amount in {route.dose_unit}"
                ) from None
        rows.append({"time_h": float(row.time_h), "agent": row.agent, "route": row.route,
                     "amount": amount, "route_decl": route})
    return rows


class _Builder:
    """Builds one SBML model; each method adds one kind of element."""

    def __init__(self, model: Model, p: np.ndarray, y0: np.ndarray, doc: libsbml.SBMLDocument):
        self.model, self.p, self.y0 = model, p, y0
        self.sbml = doc.createModel()
        self.units = UnitTable(self.sbml)
        self.species: set[str] = set()
        self.symbol_units = {d.name: d.unit for d in (*model.parameters, *model.states)}
        self._rest_units: dict[sp.Expr, pint.Unit | None] = {}
        self.volume_unit: dict[str, str] = {}
        self.moves_rest = rest_dependence(model, p, y0)

    def math(self, expr: sp.Expr, unit: str, what: str) -> libsbml.ASTNode:
        """SBML math of ``expr`` (in ``unit``), each term's coefficient in the units that make
        the term's units equal to ``unit`` (the unit conversions that pint folded in)."""
        target = ureg.Unit(unit)

        def term_units(rest: sp.Expr) -> str | None:
            if rest not in self._rest_units:
                self._rest_units[rest] = unit_of(rest, self.symbol_units)
            rest_unit = self._rest_units[rest]
            if rest_unit is None:
                return None
            try:
                factor = float((ureg.Quantity(1.0, target) / ureg.Quantity(1.0, rest_unit))
                               .to("dimensionless").magnitude)
            except pint.errors.DimensionalityError:
                return None
            if np.isclose(factor, 1.0, rtol=1e-12):
                return "dimensionless"
            return self.units.factor(factor)

        return to_ast(expr, self.sbml, what=what, term_units=term_units)

    # ----- model, compartments, parameters ---------------------------------------------
    def header(self, model_id: str, name: str, description: str) -> None:
        sbml = self.sbml
        ensure_ok(sbml.setId(_sid(model_id, "model id")), "model id")
        sbml.setName(name)
        ensure_ok(sbml.setTimeUnits(self.units(TIME_UNIT)), "time units")
        ensure_ok(sbml.setVolumeUnits(self.units("L")), "volume units")
        blocks = ", ".join(self.model.blocks)
        describe(sbml, [
            ("Model", f"{name}. {description}".strip()),
            ("Exported by", f"il6sim {_version()} (il6sim.interop.export_sbml)"),
            ("Blocks", blocks),
            ("Dynamics", "one rate rule per state, generated from the model's symbolic "
                         "right-hand side (unit conversions folded in); time in hours"),
            ("Initial state", "the patient's equilibrated resting state (il6sim.equilibrate): "
                              + covariate_note(self.model, self.moves_rest)),
            ("Read-outs", f"parameters '{OUTPUT_PREFIX}<name>' defined by assignment rules, "
                          "in clinical units"),
            ("Doses", "events 'dose<i>': state = state + jump at time >= dose<i>_time. To "
                      "change a dose edit dose<i>_amount / dose<i>_time, then reset the "
                      "simulator (libRoadRunner: r.reset()); a dose at 0 h fires when the "
                      "model is initialised, so without a reset an edit of it does nothing"),
            ("References", _REFERENCES),
        ])

    def compartments(self) -> None:
        names = list(dict.fromkeys(s.compartment for s in self.model.states))
        for name in names:
            comp = self.sbml.createCompartment()
            ensure_ok(comp.setId(_sid(name, "compartment")), f"compartment '{name}'")
            comp.setConstant(True)
            comp.setSpatialDimensions(3.0)
            volume = f"V_{name}"
            declared = volume in self.model.param_index and (
                ureg.Unit(self.model.parameter(volume).unit).dimensionality
                == ureg.liter.dimensionality
            )
            if declared:
                comp.setSize(float(self.p[self.model.param_index[volume]]))
                self.volume_unit[name] = self.model.parameter(volume).unit
                rule = self.sbml.createInitialAssignment()
                rule.setSymbol(name)
                rule.setMath(to_ast(sp.Symbol(volume), self.sbml, what=f"size of {name}"))
                size_note = f"the parameter {volume}"
            else:
                comp.setSize(1.0)
                self.volume_unit[name] = "L"
                size_note = "1 L (no volume parameter is declared for it in the model)"
            comp.setUnits(self.units(self.volume_unit[name]))
            describe(comp, [("Compartment", name), ("Size", size_note)])

    def parameters(self) -> None:
        for i, decl in enumerate(self.model.parameters):
            par = self.sbml.createParameter()
            ensure_ok(par.setId(_sid(decl.name, "parameter")), f"parameter '{decl.name}'")
            par.setName(decl.name)
            par.setValue(float(self.p[i]))
            par.setUnits(self.units(decl.unit))
            par.setConstant(True)
            overridden = not np.isclose(self.p[i], decl.value, rtol=1e-14, atol=0.0)
            describe(par, [
                ("Description", decl.description),
                ("Unit", decl.unit),
                ("Source", decl.source),
                ("Block", decl.block),
                ("Declared value", f"{decl.value:g} {decl.unit}" + (
                    " (this file uses a scenario/patient override)" if overridden else "")),
                ("Calibrated to", ", ".join(decl.calibrated_to)),
                ("Claims", ", ".join(decl.claims)),
                ("Resting state", rest_note(decl.name, bool(self.moves_rest[i]))),
            ], {"kind": "parameter", "unit": decl.unit, "block": decl.block,
                "source": decl.source, "rest": "moves" if self.moves_rest[i] else "unchanged"})

    # ----- states and their rate rules ----------------------------------------------------
    def states(self) -> None:
        for i, decl in enumerate(self.model.states):
            _sid(decl.name, "state")
            value = float(self.y0[i])
            if state_is_species(decl.unit):
                element = self.sbml.createSpecies()
                element.setCompartment(decl.compartment)
                element.setInitialConcentration(value)
                element.setHasOnlySubstanceUnits(False)
                element.setBoundaryCondition(False)
                volume = self.volume_unit[decl.compartment]
                element.setSubstanceUnits(self.units(amount_unit(decl.unit, volume)))
                self.species.add(decl.name)
                kind = "species"
            else:
                element = self.sbml.createParameter()
                element.setValue(value)
                element.setUnits(self.units(decl.unit))
                kind = "parameter"
            ensure_ok(element.setId(decl.name), f"state '{decl.name}'")
            element.setName(decl.name)
            element.setConstant(False)
            describe(element, [
                ("Description", decl.description),
                ("Unit", decl.unit + (" (concentration)" if kind == "species" else "")),
                ("Compartment", decl.compartment),
                ("Initial value", f"{value:.10g} {decl.unit} (equilibrated resting state)"),
                ("Dynamics", "rate rule from the model's symbolic right-hand side"),
            ], {"kind": "state", "unit": decl.unit, "compartment": decl.compartment})
            rule = self.sbml.createRateRule()
            rule.setVariable(decl.name)
            rule.setMath(self.math(self.model.rhs_expressions[i],
                                   f"({decl.unit}) / {TIME_UNIT}", f"d{decl.name}/dt"))

    # ----- read-outs, fluxes, doses -------------------------------------------------------
    def outputs(self) -> None:
        values = self.model.output_values(self.y0, self.p)
        for decl in self.model.outputs:
            ident = _sid(output_id(decl.name), "output")
            par = self.sbml.createParameter()
            ensure_ok(par.setId(ident), f"output '{decl.name}'")
            par.setName(decl.name)
            par.setUnits(self.units(decl.unit))
            par.setConstant(False)
            expression = self.model.output_expressions[decl.name]
            describe(par, [
                ("Read-out", decl.description),
                ("Unit", decl.unit),
                ("Definition", str(expression)),
                ("Value at rest", f"{float(values[decl.name]):.6g} {decl.unit}"),
            ], {"kind": "output", "unit": decl.unit, "name": decl.name})
            rule = self.sbml.createAssignmentRule()
            rule.setVariable(ident)
            rule.setMath(self.math(expression, decl.unit, f"output '{decl.name}'"))

    def fluxes(self) -> None:
        for flux in self.model.fluxes:
            ident = _sid(FLUX_PREFIX + flux.name, "flux")
            par = self.sbml.createParameter()
            ensure_ok(par.setId(ident), f"flux '{flux.name}'")
            par.setName(flux.name)
            par.setUnits(self.units(self.model.flux_units[flux.name]))
            par.setConstant(False)
            describe(par, [("Flux", flux.description), ("Block", flux.block),
                           ("Unit", self.model.flux_units[flux.name])],
                     {"kind": "flux", "unit": self.model.flux_units[flux.name]})
            rule = self.sbml.createAssignmentRule()
            rule.setVariable(ident)
            rule.setMath(self.math(self.model.flux_expressions[flux.name],
                                   self.model.flux_units[flux.name], f"flux '{flux.name}'"))

    def doses(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for i, row in enumerate(rows, start=1):
            route = row["route_decl"]
            time_id, amount_id = f"dose{i}_time", f"dose{i}_amount"
            label = f"{row['agent']} {row['route']} {row['amount']:g} {route.dose_unit} " \
                    f"at {row['time_h']:g} h"
            for ident, value, unit, what in (
                (time_id, row["time_h"], TIME_UNIT, "time of"),
                (amount_id, row["amount"], route.dose_unit, "amount of"),
            ):
                par = self.sbml.createParameter()
                ensure_ok(par.setId(ident), f"dose parameter '{ident}'")
                par.setValue(float(value))
                par.setUnits(self.units(unit))
                par.setConstant(True)
                describe(par, [("Dose", f"{what} dose {i}: {label}"), ("Unit", unit),
                               ("Editing", "takes effect at the next reset of the simulator "
                                           "(libRoadRunner: r.reset(); see the model notes)")])
            event = self.sbml.createEvent()
            ensure_ok(event.setId(f"dose{i}"), f"event 'dose{i}'")
            event.setName(label)
            # simultaneous doses each add their jump to the value current at execution
            event.setUseValuesFromTriggerTime(False)
            trigger = event.createTrigger()
            trigger.setInitialValue(False)  # a dose at t = 0 fires at the start
            trigger.setPersistent(True)
            trigger.setMath(libsbml.parseL3Formula(f"time >= {time_id}"))
            target = sp.Symbol(route.state, real=True)
            jump = self.model.route_expressions[(row["agent"], row["route"])].subs(
                self.model.dose_symbol, sp.Symbol(amount_id, real=True)
            )
            assignment = event.createEventAssignment()
            assignment.setVariable(route.state)
            self.symbol_units[amount_id] = route.dose_unit
            state_unit = self.model.states[self.model.state_index[route.state]].unit
            assignment.setMath(self.math(target + jump, state_unit, f"dose {i}"))
            describe(event, [("Dose", label), ("Route", route.description),
                             ("Jump", f"{route.state} += {jump} ({route.dose_unit} dose)")])


def check_sbml(sbml: str | libsbml.SBMLDocument) -> list[str]:
    """Run libsbml's consistency checks (units included) on an SBML document.

    Returns
    -------
    list of str
        the warnings, one line each.

    Raises
    ------
    ModelError
        if libsbml reports any error (or cannot read the text).
    """
    doc = libsbml.readSBMLFromString(sbml) if isinstance(sbml, str) else sbml
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    errors, warnings = [], []
    for i in range(doc.getNumErrors()):
        error = doc.getError(i)
        text = " ".join(f"[{error.getErrorId()}] line {error.getLine()}: "
                        f"{error.getMessage()}".split())
        (errors if error.getSeverity() >= libsbml.LIBSBML_SEV_ERROR else warnings).append(text)
    if errors:
        raise ModelError(
            f"the exported SBML fails libsbml's checks with {len(errors)} error(s), first: "
            f"{errors[0]}; fix: report this as an il6sim bug"
        )
    return warnings


def export_sbml(
    model: Model | None = None,
    *,
    parameters: Mapping[str, Any] | np.ndarray | None = None,
    initial_states: np.ndarray | None = None,
    doses: pd.DataFrame | Sequence[Dose | Mapping] | None = None,
    path: str | Path | None = None,
    model_id: str = "il6sim",
    name: str = "il6sim",
    description: str = "",
    include_fluxes: bool = False,
) -> str:
    """Write one patient of an il6sim model as an SBML Level 3 Version 2 document.

    Parameters
    ----------
    model : the model (default: :func:`il6sim.default_model`).
    parameters : overrides of the declared values (a mapping, as for
        :func:`il6sim.engine.parameter_matrix`) or a full parameter vector; one patient.
    initial_states : states at time 0, shape ``(n_states,)``; by default the patient's
        equilibrated resting state (:func:`il6sim.equilibrate`).
    doses : dose events (:class:`~il6sim.engine.Dose` or a table); each becomes an event.
    path : also write the document to this file.
    model_id, name, description : SBML model id, name and a sentence for the notes.
    include_fluxes : also add every flux as a parameter ``flux_<name>`` with an assignment
        rule (for inspection; it does not change the dynamics).

    Returns
    -------
    str
        the SBML document.

    Raises
    ------
    ModelError
        if the resting state cannot be found or libsbml reports an error in the document.

    References
    ----------
    Hucka M et al. 2019 The Systems Biology Markup Language (SBML): Language Specification for
    Level 3 Version 2 Core. J Integr Bioinform 16:20190021.
    Bornstein BJ et al. 2008 LibSBML: an API library for SBML. Bioinformatics 24:880-881.
    """
    model = model or default_model()
    matrix = parameter_matrix(model, parameters)
    if len(matrix) != 1:
        raise InputError(
            f"export_sbml writes one patient but got {len(matrix)} parameter sets; "
            "fix: pass one mapping of overrides or one parameter vector"
        )
    refuse_typed(parameter_problems(model, matrix))  # one patient: nothing to keep going for
    p = matrix[0]
    if initial_states is None:
        rest = equilibrate(matrix, model=model)
        if not rest.converged[0]:
            raise ModelError(
                f"no resting state for this patient (residual {rest.residual[0]:.2g}/h); "
                "fix: check the parameter overrides, or pass initial_states"
            )
        y0 = rest.states[0]
    else:
        y0 = np.asarray(initial_states, float).reshape(-1)
        if y0.shape != (len(model.states),):
            raise InputError(
                f"initial_states has {y0.size} values but the model has {len(model.states)} "
                "states; fix: pass one value per state, in model.state_names order"
            )
    doc = libsbml.SBMLDocument(3, 2)
    builder = _Builder(model, p, y0, doc)
    builder.header(model_id, name, description)
    builder.compartments()
    builder.parameters()
    builder.states()
    builder.outputs()
    if include_fluxes:
        builder.fluxes()
    builder.doses(_dose_rows(model, doses))
    check_sbml(doc)
    text = libsbml.writeSBMLToString(doc)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    return text


def export_scenario_sbml(
    scenario: Any, path: str | Path | None = None, *, model: Model | None = None,
    include_fluxes: bool = False,
) -> str:
    """Export a scenario: its patient, knockouts and doses, from its resting state.

    Parameters
    ----------
    scenario : a preset name, a YAML file or a loaded :class:`~il6sim.scenario.Scenario`.
    path : also write the document to this file.
    model, include_fluxes : as for :func:`export_sbml`.

    Returns
    -------
    str
        the SBML document. It uses the parameter overrides and dose table of
        :meth:`il6sim.scenario.Scenario.run`, so it simulates what ``il6sim simulate`` does
        (the scenario's duration and sampling are simulation settings, not part of SBML).
    """
    from ..scenario import Scenario, load_scenario

    model = model or default_model()
    if isinstance(scenario, Scenario):
        loaded = scenario
        loaded.check(model)
    else:
        loaded = load_scenario(scenario, model=model)
    ident = "".join(c if c.isalnum() else "_" for c in loaded.name)
    ident = ident if ident[:1].isalpha() else f"il6sim_{ident}"
    return export_sbml(
        model,
        parameters=loaded.parameter_overrides(model),
        doses=loaded.dose_table(model),
        path=path,
        model_id=ident,
        name=f"il6sim scenario {loaded.name}",
        description=loaded.description,
        include_fluxes=include_fluxes,
    )
