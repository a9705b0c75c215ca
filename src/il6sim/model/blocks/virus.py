"""Within-host virus: target cells, eclipse and productively infected cells, free virus, and
the type-I interferon response.

States (per mL of the site): ``vir_target``, ``vir_refractory`` (interferon-protected),
``vir_eclipse``, ``vir_infected`` (cells/mL), ``virus`` (virions/mL), ``ifn_sensing`` (infected
cells whose interferon programme has started, cells/mL).

The target-cell-limited model with an eclipse phase (Baccam P 2006 J Virol 80:7590) with
interferon that makes target cells refractory and lowers virion production (Baccam 2006; Saenz
RA 2010 J Virol 84:6687), regeneration of target cells towards their capacity, killing of
infected cells by CD8 T cells and neutralisation of virus by antibody; a polymerase inhibitor
(:mod:`.antiviral`, remdesivir) blocks a fraction of virion production. One block serves
influenza A, SARS-CoV-2 and HIV: each pathogen is a parameter profile with cited values
(``il6sim/data/pathogens``), e.g. δ, c, β, p from Baccam 2006, Goyal A 2020 Sci Adv 6:eabc7112,
Perelson AS 1996 Science 271:1582. Infected cells release pathogen patterns that activate
macrophages; far below one infected cell in the whole site no virus is made (otherwise the
virus-free state, unstable when R0 > 1, would be re-infected by numerical traces). The delay of
the interferon programme (``k_ifn_sensing``) and its size
(``ifn_capacity``) are host properties that shape severity.
"""

from __future__ import annotations

from ..motifs import hill, inhibition
from ..spec import Block, DoseRoute, Flux, Output, State
from ._signals import antiviral_inhibition, glucocorticoid_restraint


def _alive(s):
    return s.vir_target + s.vir_refractory + s.vir_eclipse + s.vir_infected


BLOCK = Block(
    name="virus",
    states=(
        State("vir_target", "cell/mL", "tissue", "uninfected target cells", 1e4),
        State("vir_refractory", "cell/mL", "tissue", "interferon-protected (refractory) cells"),
        State("vir_eclipse", "cell/mL", "tissue", "infected cells in the eclipse phase"),
        State("vir_infected", "cell/mL", "tissue", "productively infected cells"),
        State("virus", "virion/mL", "tissue", "free virus at the site"),
        State(
            "ifn_sensing", "cell/mL", "tissue", "infected cells that have switched on interferon"
        ),
    ),
    fluxes=(
        Flux(
            "regenerate_targets",
            lambda s, p: p.r_target_regeneration * (p.target_capacity - _alive(s)),
            {"vir_target": 1},
            "regeneration of target cells towards their capacity",
        ),
        Flux(
            "infect",
            lambda s, p: p.beta_virus * s.vir_target * s.virus,
            {"vir_target": -1, "vir_eclipse": 1},
            "infection of target cells by free virus",
        ),
        Flux(
            "end_eclipse",
            lambda s, p: p.k_eclipse * s.vir_eclipse,
            {"vir_eclipse": -1, "vir_infected": 1},
            "infected cells start producing virus",
        ),
        Flux(
            "die_infected",
            lambda s, p: p.delta_infected * s.vir_infected,
            {"vir_infected": -1},
            "death of productively infected cells (cytopathic)",
        ),
        Flux(
            "kill_infected_cd8",
            lambda s, p: p.k_cd8_kill * s.cd8_eff * s.vir_infected,
            {"vir_infected": -1},
            "killing of infected cells by cytotoxic T cells",
        ),
        Flux(
            "protect_targets",
            lambda s, p: p.k_refractory * hill(s.ifn_t, p.K_ifn_antiviral) * s.vir_target,
            {"vir_target": -1, "vir_refractory": 1},
            "interferon makes target cells refractory",
        ),
        Flux(
            "unprotect_targets",
            lambda s, p: p.k_refractory_loss * s.vir_refractory,
            {"vir_refractory": -1, "vir_target": 1},
            "loss of the antiviral state",
        ),
        Flux(
            "produce_virus",
            lambda s, p: (
                p.p_virus
                * s.vir_infected
                * inhibition(s.ifn_t, p.K_ifn_antiviral)
                * hill(s.vir_infected, p.infected_extinction_load)
                * (1 - antiviral_inhibition(s, p))
            ),
            {"virus": 1},
            "virion production, lowered by interferon and by an antiviral",
        ),
        Flux(
            "clear_virus",
            lambda s, p: p.c_virus * s.virus,
            {"virus": -1},
            "clearance of free virus",
        ),
        Flux(
            "neutralise_virus",
            lambda s, p: p.k_neutralisation * s.antibody * s.virus,
            {"virus": -1},
            "neutralisation of virus by antibody (mass action: antibody is in excess of virions)",
        ),
        Flux(
            "sense_infection",
            lambda s, p: p.k_ifn_sensing * (s.vir_eclipse + s.vir_infected - s.ifn_sensing),
            {"ifn_sensing": 1},
            "infected cells switch on their interferon programme (delay)",
        ),
        Flux(
            "prod_ifn_infected",
            lambda s, p: (
                p.switch_ifn
                * p.ifn_capacity
                * p.r_ifn_per_infected_cell
                * s.ifn_sensing
                / (1 + p.age_ifn_decline * (p.age - p.reference_age) / p.reference_age)
                * glucocorticoid_restraint(s, p, p.gc_imax_interferon)
            ),
            {"ifn_t": 1},
            "type-I interferon made by infected cells, lowered by glucocorticoids",
        ),
    ),
    outputs=(
        Output("viral_load", "virion/mL", lambda s, p: s.virus, "free virus at the site",
               label="Viral load"),
        Output(
            "infected_cells",
            "cell/mL",
            lambda s, p: s.vir_eclipse + s.vir_infected,
            "infected cells at the site",
            label="Infected cells",
        ),
        Output(
            "target_cells_left",
            "percent",
            lambda s, p: _alive(s) / p.target_capacity,
            "surviving target-cell population",
            label="Target cells left",
        ),
    ),
    routes=(
        DoseRoute(
            "virus",
            "inoculation",
            "virion",
            "virus",
            lambda amount, p: amount / p.V_tissue,
            "viral inoculum into the site",
        ),
    ),
)
