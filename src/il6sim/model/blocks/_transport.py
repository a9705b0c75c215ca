"""Exchange of a soluble mediator between the site and plasma, with first-order elimination.

One motif for every mediator that lives in both compartments (endotoxin, IL-6, TNF-α, IL-1β,
IL-10, interferon): transfer each way at its own rate constant, with the volume ratio converting
the concentration gained on the other side, and, optionally, elimination at the same rate in both
compartments.
"""

from __future__ import annotations

from ..spec import Flux


def site_plasma_exchange(
    name: str,
    site: str,
    plasma: str,
    *,
    to_plasma: str,
    to_site: str,
    elimination: str | None = None,
) -> tuple[Flux, ...]:
    """Fluxes ``tr_<name>_tp``, ``tr_<name>_pt`` and, with ``elimination``, ``deg_<name>_t`` and
    ``deg_<name>_p``; rate constants are given by parameter name."""
    fluxes = [
        Flux(
            f"tr_{name}_tp",
            lambda s, p: getattr(p, to_plasma) * getattr(s, site),
            {site: -1, plasma: lambda p: p.V_tissue / p.V_plasma},
            f"transfer of {name} from the site to plasma",
        ),
        Flux(
            f"tr_{name}_pt",
            lambda s, p: getattr(p, to_site) * getattr(s, plasma),
            {plasma: -1, site: lambda p: p.V_plasma / p.V_tissue},
            f"transfer of {name} from plasma to the site",
        ),
    ]
    if elimination is not None:
        fluxes += [
            Flux(
                f"deg_{name}_t",
                lambda s, p: getattr(p, elimination) * getattr(s, site),
                {site: -1},
                f"elimination of {name} at the site",
            ),
            Flux(
                f"deg_{name}_p",
                lambda s, p: getattr(p, elimination) * getattr(s, plasma),
                {plasma: -1},
                f"elimination of {name} from plasma",
            ),
        ]
    return tuple(fluxes)
