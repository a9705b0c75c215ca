"""The model as tables: states, parameters, fluxes, read-outs and dose routes.

:func:`model_tables` gives the rows (shared by ``il6sim model`` and the Markdown export);
:func:`model_table_markdown` renders them as GitHub-flavoured Markdown tables.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .model import Model
from .model.units import Quantity

Table = tuple[list[str], list[list[str]]]


class _SymbolicParameters:
    """Parameters as unit-carrying symbols, to show a coefficient like ``V_plasma/V_tissue``."""

    def __init__(self, model: Model):
        self._items = {p.name: Quantity(sp.Symbol(p.name, positive=True), p.unit)
                       for p in model.parameters}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(name) from None


def _number(value: float) -> str:
    return f"{value:.4g}"


def coefficient_text(coefficient: Any, parameters: _SymbolicParameters) -> str:
    """A stoichiometric coefficient as text: ``-1``, ``+1`` or ``+V_plasma/V_tissue``."""
    if not callable(coefficient):
        value = float(coefficient)
        text = f"{value:g}"
        return text if value < 0 else f"+{text}"
    try:
        value = coefficient(parameters)
        if hasattr(value, "to"):
            try:
                value = value.to("dimensionless")
            except Exception:  # a coefficient with a unit: show it
                return f"+({sp.sstr(value.magnitude)}) {value.units:~}"
            value = value.magnitude
        return f"+{sp.sstr(sp.nsimplify(value, rational=False))}"
    except Exception:
        return "+f(parameters)"


def flux_changes(flux: Any, parameters: _SymbolicParameters) -> str:
    """The states a flux changes, with coefficients: ``lps_p -1, lps_t +V_plasma/V_tissue``."""
    return ", ".join(
        f"{state} {coefficient_text(c, parameters)}" for state, c in flux.changes.items()
    )


def model_tables(model: Model) -> dict[str, Table]:
    """Rows of the model tables, keyed by section title."""
    symbols = _SymbolicParameters(model)
    return {
        "States": (
            ["name", "unit", "compartment", "description"],
            [[s.name, s.unit, s.compartment, s.description] for s in model.states],
        ),
        "Parameters": (
            ["name", "value", "unit", "block", "description", "source", "calibrated_to", "claims"],
            [[p.name, _number(p.value), p.unit, p.block, p.description, p.source,
              ", ".join(p.calibrated_to), ", ".join(p.claims)] for p in model.parameters],
        ),
        "Fluxes": (
            ["name", "block", "unit", "changes", "description"],
            [[f.name, f.block, model.flux_units.get(f.name, ""), flux_changes(f, symbols),
              f.description] for f in model.fluxes],
        ),
        "Outputs": (
            ["name", "unit", "description"],
            [[o.name, o.unit, o.description] for o in model.outputs],
        ),
        "Dose routes": (
            ["agent", "route", "dose unit", "state", "description"],
            [[r.agent, r.route, r.dose_unit, r.state, r.description] for r in model.routes],
        ),
    }


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    """One GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def model_table_markdown(model: Model) -> str:
    """The whole model as Markdown: one section and table per kind of declaration.

    Parameters
    ----------
    model : a built model, e.g. :func:`il6sim.default_model`.

    Returns
    -------
    str
        Markdown with sections States, Parameters, Fluxes, Outputs and Dose routes.
    """
    from importlib.metadata import version

    parts = [
        "# il6sim model",
        "",
        f"il6sim {version('il6sim')}: {len(model.states)} states, {len(model.parameters)} "
        f"parameters, {len(model.fluxes)} fluxes, {len(model.outputs)} outputs, "
        f"{len(model.routes)} dose routes in blocks {', '.join(model.blocks)}. Time is in hours; "
        "a flux is reported in the unit of the first state it changes, per hour.",
    ]
    for title, (columns, rows) in model_tables(model).items():
        parts += ["", f"## {title}", "", markdown_table(columns, rows)]
    return "\n".join(parts) + "\n"
