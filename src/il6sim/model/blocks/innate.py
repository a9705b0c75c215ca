"""Innate cells: site macrophages (resting/activated, with endotoxin tolerance), blood and
tissue neutrophils, and endothelial activation.

States: ``mac_rest``, ``mac_primed``, ``mac_act`` (cells/µL at the site), ``mac_tolerance`` (0–1),
``neu_blood`` (10⁹/L), ``neu_tissue`` (cells/µL), ``endothelium_act`` (0–1), ``sys_phago_act``
(0–1).

Assumptions: macrophages are primed by danger signals (LPS) and TNF-α, become cytokine-secreting
after a signalling/transcription delay (TNF-α appears 30 min after IV LPS and peaks at 1.5–2 h:
Eur J Intern Med 2000;11:89; Copeland 2005 Clin Diagn Lab Immunol 12:60) and return to rest,
faster under IL-10 (Moore KW 2001 Annu Rev Immunol 19:683). Activation induces a transient
tolerance that limits re-activation (ex vivo hyporesponsiveness maximal at 6 h, gone by 12 h:
Dillingh 2014 J Inflamm 11:28); sustained systemic IL-10 builds a slow exhaustion
(immunoparalysis) that ends a storm over days and leaves the host less able to fight a new
infection (Hotchkiss RS 2013 Nat Rev Immunol 13:862). Blood neutrophils are released from marrow
(increased by IL-6 and TNF-α), circulate with a half-life of hours (Summers C 2010 Trends
Immunol 31:318) and are recruited into the tissue by activated endothelium and macrophage
chemokines. Inflammatory monocytes are recruited over days by IL-6 trans-signalling (CCL2; a
switch from neutrophil to mononuclear recruitment: Hurst SM 2001 Immunity 14:705) and activated
endothelium, and become macrophages at the site (the monocyte-derived macrophages of severe
COVID-19 lungs: Liao M 2020 Nat Med 26:842). Endothelium is activated by TNF-α, IL-1β and IL-6
trans-signalling (Rose-John S 2012 Int J Biol Sci 8:1237). The phagocytes that clear blood —
Kupffer cells and splenic macrophages, which take up circulating bacteria, and blood monocytes
(``sys_phago_act``, their secreting fraction) — are activated by bacteria and endotoxin in blood
with the same signalling delay and return to rest as site macrophages; they make IL-6 into
plasma (:mod:`.cytokines`).
"""

from __future__ import annotations

from ..motifs import fold_activation, hill, ratio
from ..spec import Block, Flux, Output, State
from ._signals import classic_signal_hepatocytes, danger_signal, trans_signal
from .haemodynamics import systemic_pamp

BLOCK = Block(
    name="innate",
    states=(
        State("mac_rest", "cell/uL", "tissue", "resting macrophages at the site", 100.0),
        State(
            "mac_primed", "cell/uL", "tissue", "macrophages signalling towards activation", 0.001
        ),
        State("mac_act", "cell/uL", "tissue", "activated (cytokine-secreting) macrophages", 0.001),
        State("mac_tolerance", "dimensionless", "tissue", "macrophage endotoxin tolerance (0–1)"),
        State(
            "immunoparalysis",
            "dimensionless",
            "tissue",
            "slow innate exhaustion after sustained activation (0–1)",
        ),
        State("neu_blood", "cell/nL", "plasma", "blood neutrophil count (10⁹/L)", 4.0),
        State("neu_tissue", "cell/uL", "tissue", "neutrophils at the site", 1.0),
        State("endothelium_act", "dimensionless", "plasma", "endothelial activation (0–1)"),
        State("sys_phago_act", "dimensionless", "plasma",
              "secreting fraction of the phagocytes that clear blood (0–1)"),
    ),
    fluxes=(
        Flux(
            "influx_mac",
            lambda s, p: (
                p.k_mac_turnover
                * p.mac_resident
                * (
                    1
                    + p.max_fold_monocyte_recruitment
                    * (
                        hill(trans_signal(s, p), p.K_monocyte_trans, 4)
                        + hill(s.endothelium_act, p.K_monocyte_endothelium, 4)
                    )
                    / 2
                )
            ),
            {"mac_rest": 1},
            "monocyte influx: resident replenishment, and recruitment of inflammatory monocytes "
            "by IL-6 trans-signalling and activated endothelium",
        ),
        Flux(
            "death_mac_rest",
            lambda s, p: p.k_mac_turnover * s.mac_rest,
            {"mac_rest": -1},
            "turnover of resting macrophages",
        ),
        Flux(
            "death_mac_act",
            lambda s, p: p.k_mac_turnover * s.mac_act,
            {"mac_act": -1},
            "turnover of activated macrophages",
        ),
        Flux(
            "death_mac_primed",
            lambda s, p: p.k_mac_turnover * s.mac_primed,
            {"mac_primed": -1},
            "turnover of primed macrophages",
        ),
        Flux(
            "prime_mac",
            lambda s, p: (
                p.k_mac_act
                * s.mac_rest
                * (1 - s.mac_tolerance)
                * (1 - s.immunoparalysis)
                * hill(danger_signal(s, p), p.K_mac_lps)
                * (1 + p.w_mac_tnf * hill(s.tnf_t, p.K_mac_tnf, 2))
            ),
            {"mac_rest": -1, "mac_primed": 1},
            "priming of macrophages by danger signals, amplified by TNF-α (TNF-α co-stimulates "
            "but does not activate on its own)",
        ),
        Flux(
            "activate_mac",
            lambda s, p: p.k_mac_mature * s.mac_primed,
            {"mac_primed": -1, "mac_act": 1},
            "primed macrophages start secreting cytokines",
        ),
        Flux(
            "unprime_mac",
            lambda s, p: p.k_mac_deact * s.mac_primed,
            {"mac_primed": -1, "mac_rest": 1},
            "primed macrophages return to rest",
        ),
        Flux(
            "deact_mac",
            lambda s, p: (
                p.k_mac_deact
                * s.mac_act
                * fold_activation(s.il10_t, p.K_mac_il10, p.max_fold_deact_il10)
            ),
            {"mac_act": -1, "mac_rest": 1},
            "return of activated macrophages to rest, accelerated by IL-10",
        ),
        Flux(
            "induce_immunoparalysis",
            lambda s, p: (
                p.k_paralysis_on * hill(s.il10_p, p.K_paralysis_il10, 2) * (1 - s.immunoparalysis)
            ),
            {"immunoparalysis": 1},
            "innate exhaustion (monocyte deactivation) builds up under sustained systemic IL-10",
        ),
        Flux(
            "resolve_immunoparalysis",
            lambda s, p: p.k_paralysis_off * s.immunoparalysis,
            {"immunoparalysis": -1},
            "recovery from innate exhaustion over days",
        ),
        Flux(
            "induce_tolerance",
            lambda s, p: (
                p.k_tol_on
                * ratio(s.mac_act, s.mac_act + s.mac_primed + s.mac_rest)
                * (1 - s.mac_tolerance)
            ),
            {"mac_tolerance": 1},
            "endotoxin tolerance induced by activation",
        ),
        Flux(
            "lose_tolerance",
            lambda s, p: p.k_tol_off * s.mac_tolerance,
            {"mac_tolerance": -1},
            "loss of tolerance",
        ),
        Flux(
            "release_neu",
            lambda s, p: (
                p.k_neu_blood_out
                * p.neu_blood_baseline
                * fold_activation(
                    classic_signal_hepatocytes(s, p), p.K_neu_release_il6, p.max_fold_neu_release
                )
                * (1 + p.w_neu_release_tnf * hill(s.tnf_p, p.K_neu_release_tnf))
            ),
            {"neu_blood": 1},
            "release of neutrophils from marrow, increased by IL-6 and TNF-α",
        ),
        Flux(
            "death_neu_blood",
            lambda s, p: p.k_neu_blood_out * s.neu_blood,
            {"neu_blood": -1},
            "removal of circulating neutrophils",
        ),
        Flux(
            "recruit_neu",
            lambda s, p: (
                p.k_neu_recruit
                * s.neu_blood
                * (
                    p.neu_recruit_basal
                    + s.endothelium_act
                    + p.w_neu_recruit_mac * ratio(s.mac_act, s.mac_act + s.mac_primed + s.mac_rest)
                    + ratio(s.th17, p.K_th17_neutrophil_recruitment)
                )
            ),
            {"neu_blood": -1, "neu_tissue": lambda p: p.V_plasma / p.V_tissue},
            "recruitment of blood neutrophils by activated endothelium and macrophage chemokines",
        ),
        Flux(
            "death_neu_tissue",
            lambda s, p: p.k_neu_tissue_death * s.neu_tissue,
            {"neu_tissue": -1},
            "apoptosis and clearance of tissue neutrophils",
        ),
        Flux(
            "act_endothelium",
            lambda s, p: (
                p.k_endo_act
                * (1 - s.endothelium_act)
                * (
                    hill(s.tnf_p, p.K_endo_tnf)
                    + hill(s.il1b_p, p.K_endo_il1b)
                    + hill(trans_signal(s, p), p.K_endo_trans)
                )
            ),
            {"endothelium_act": 1},
            "endothelial activation by TNF-α, IL-1β and IL-6 trans-signalling",
        ),
        Flux(
            "deact_endothelium",
            lambda s, p: p.k_endo_deact * s.endothelium_act,
            {"endothelium_act": -1},
            "return of endothelium to rest",
        ),
        Flux(
            "act_sys_phagocytes",
            lambda s, p: (
                p.k_mac_mature
                * (1 - s.sys_phago_act)
                * hill(systemic_pamp(s, p), p.K_sys_phagocytes_pamp)
            ),
            {"sys_phago_act": 1},
            "phagocytes that clear blood (Kupffer cells, splenic macrophages, monocytes) activated "
            "by bacteria and endotoxin in blood, with the site macrophages' signalling delay",
        ),
        Flux(
            "deact_sys_phagocytes",
            lambda s, p: p.k_mac_deact * s.sys_phago_act,
            {"sys_phago_act": -1},
            "return of the blood-clearing phagocytes to rest",
        ),
    ),
    outputs=(
        Output(
            "neutrophils", "cell/nL", lambda s, p: s.neu_blood, "blood neutrophil count (10⁹/L)",
            label="Blood neutrophils",
        ),
        Output("neutrophils_site", "cell/uL", lambda s, p: s.neu_tissue, "neutrophils at the site",
               label="Neutrophils at the site"),
        Output(
            "macrophages_active",
            "percent",
            lambda s, p: ratio(s.mac_act, s.mac_act + s.mac_primed + s.mac_rest),
            "activated fraction of site macrophages",
            label="Activated macrophages",
        ),
        Output(
            "endothelial_activation",
            "percent",
            lambda s, p: s.endothelium_act,
            "endothelial activation",
            label="Endothelial activation",
        ),
    ),
)
