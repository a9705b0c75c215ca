"""Simulate an SBML document with libroadrunner, an independent simulator.

libroadrunner compiles the SBML to machine code (LLVM) and integrates it with CVODE (SUNDIALS);
it shares no code with il6sim, so agreement between the two is a check of the export and of
the reference engine alike (Welsh C et al. 2023 libRoadRunner 2.0: a high performance SBML
simulation and analysis library. Bioinformatics 39:btac770).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError, ModelError

__all__ = ["simulate_sbml_roadrunner"]


def _rule_variables(sbml_text: str) -> list[str]:
    """Ids set by a rate or assignment rule, in document order (libsbml)."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml_text)  # keep it alive: it owns the model
    model = doc.getModel()
    if model is None:
        return []
    rules = model.getListOfRules()
    return [rules.get(i).getVariable() for i in range(rules.size()) if rules.get(i).getVariable()]


def simulate_sbml_roadrunner(
    sbml_text: str,
    times: Sequence[float] | np.ndarray,
    *,
    selections: Sequence[str] | None = None,
    parameters: Mapping[str, float] | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-12,
) -> dict[str, np.ndarray]:
    """Simulate an SBML document with libroadrunner (CVODE, stiff) and return its variables.

    Parameters
    ----------
    sbml_text : an SBML document, e.g. from :func:`il6sim.interop.export_sbml`.
    times : output times in the model's time unit (hours for il6sim), increasing; the first is
        the start time.
    selections : SBML ids to return; by default every species, every non-constant parameter
        (il6sim states in fractions, read-outs ``out_<name>``) and ``time``.
    parameters : global parameters to edit after loading (``{"dose1_amount": 4.0}``), as a
        user of the simulator would: each value is set, then ``reset()`` is called, which
        returns the states to the file's initial values and fires the events due at 0 h with
        the edited values (docs/sbml.md, "Editing a loaded model"). The resting state is not
        recomputed: editing a parameter that moves it starts the run away from rest.
    rtol, atol : CVODE tolerances. ``atol`` is relative to each integrated variable's size:
        variable ``i`` gets ``atol × max(|initial value|, 1)`` (species as amounts, as CVODE
        sees them), so states in pM, pg/mL and cells/µL are resolved alike.

    Returns
    -------
    dict of str to numpy.ndarray
        one array of ``len(times)`` values per id (species as concentrations), plus ``time``.
        An output time equal to a dose time gives the value just after the dose, as in
        :func:`il6sim.simulate`.

    Notes
    -----
    Each call builds and discards its own ``RoadRunner`` (these objects cannot be pickled), so
    the function can run in worker processes; roadrunner's log is limited to errors.

    Raises
    ------
    ModelError
        if roadrunner cannot load the document or the integration fails.

    References
    ----------
    Welsh C et al. 2023 libRoadRunner 2.0. Bioinformatics 39:btac770.
    """
    import roadrunner

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or len(times) < 2 or np.any(np.diff(times) <= 0):
        raise InputError("times must be at least two increasing values; fix: e.g. [0, 1, 2]")
    try:
        rr = roadrunner.RoadRunner(sbml_text)
    except Exception as exc:  # roadrunner raises plain RuntimeError with its message
        raise ModelError(
            f"libroadrunner cannot load the SBML ({exc}); fix: check the file"
        ) from None
    known = set(rr.model.getGlobalParameterIds())
    for name, value in (parameters or {}).items():
        if name not in known:
            raise InputError(f"the SBML has no parameter '{name}'; fix: use a global parameter "
                             "id, e.g. dose1_amount")
        rr[name] = float(value)
    if parameters:
        rr.reset()  # states back to the file's values; events at 0 h fire with the edits
    rr.setIntegrator("cvode")
    integrator = rr.getIntegrator()
    integrator.setValue("stiff", True)
    integrator.setValue("relative_tolerance", rtol)
    integrator.setValue("maximum_num_steps", 200_000)
    species = list(rr.model.getFloatingSpeciesIds())
    # roadrunner's scalar absolute tolerance is scaled by each variable's current value, which
    # makes it vanish for states at (nearly) zero when a dose arrives; fix it per variable
    for ident in dict.fromkeys([*species, *rr.model.getRateRuleSymbols()]):
        integrator.setIndividualTolerance(ident, atol * max(abs(rr.getValue(ident)), 1.0))
    if selections is None:
        selections = list(dict.fromkeys([*species, *_rule_variables(sbml_text)]))
    columns = ["time", *[f"[{s}]" if s in species else s for s in selections if s != "time"]]
    rr.timeCourseSelections = columns
    try:
        result = np.asarray(rr.simulate(times=times))
    except Exception as exc:
        raise ModelError(f"libroadrunner failed to integrate the SBML ({exc})") from None
    out = {"time": result[:, 0]}
    for j, column in enumerate(columns[1:], start=1):
        out[column.strip("[]")] = result[:, j]
    return out
