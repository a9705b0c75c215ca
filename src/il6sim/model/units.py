"""The unit registry shared by the whole model, and named conversion constants.

Every state and parameter carries a unit string parsed by :mod:`pint`. Model time is hours.
Units beyond pint's defaults are declared here: ``cell`` (a count of cells), ``CFU`` (viable
bacteria) and ``virion`` (viral genome copies). Activity units (IU) have no fixed conversion and
are not used.
"""

from __future__ import annotations

import pint

ureg = pint.UnitRegistry()
ureg.define("cell = [cell_count] = cells")
ureg.define("CFU = [colony_forming_unit]")  # viable bacteria
ureg.define("virion = [virion_count] = copies")  # viral genomes / infectious units

Quantity = ureg.Quantity

#: Internal time unit of every rate and every solver call.
TIME_UNIT = "hour"


def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string, raising :class:`pint.UndefinedUnitError` for unknown units."""
    return ureg.Unit(text)
