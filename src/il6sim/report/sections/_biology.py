"""Section 1: IL-6 in a healthy host and after endotoxin (calibration, sources, network)."""

from __future__ import annotations

from ...plotting import plot_comparison, plot_result
from .. import _checks as check
from .._plots import plot_source_shares
from ._common import at, peak, preset, run, targets_table, time_of_peak

KEY = "biology"
TITLE = "IL-6 biology in a healthy host and after endotoxin"
INTRO = ("The healthy resting state and human experimental endotoxemia (2 ng/kg E. coli LPS IV, "
         "70 kg; preset endotoxemia-2ngkg) against the published calibration targets "
         "(il6sim targets), where IL-6 comes from, and what happens when one mediator of the "
         "network or one branch of IL-6 signalling is removed.")
STEPS = 4
USES = ("backend",)


def build(ctx) -> None:
    from ...calibration import evaluate_targets, load_targets, run_target_scenarios

    settings = ctx.settings
    ctx.step("endotoxemia and calibration targets")
    scenario = preset("endotoxemia-2ngkg")
    control = run(scenario, settings)
    targets = load_targets("endotoxemia")
    rows = evaluate_targets(targets, run_target_scenarios(targets))
    n_pass = sum(r["passes"] for r in rows)
    il6_peak, il6_t = peak(control, "il6"), time_of_peak(control, "il6")
    ctx.number(il6_rest=at(control, "il6", 0), crp_rest=at(control, "crp", 0),
               il6_peak=il6_peak, il6_peak_h=il6_t, crp_24h=at(control, "crp", 24),
               crp_6h=at(control, "crp", 6), crp_peak_h=time_of_peak(control, "crp"),
               crp_fold=peak(control, "crp") / at(control, "crp", 0),
               fibrinogen_fold=peak(control, "fibrinogen") / at(control, "fibrinogen", 0),
               fibrinogen_peak_h=time_of_peak(control, "fibrinogen"), targets_passed=n_pass,
               targets_total=len(rows))
    n = ctx.result.numbers
    c03 = check.c03_acute_phase_timing(n["crp_peak_h"], n["crp_6h"], n["crp_24h"],
                                       n["crp_fold"], n["fibrinogen_fold"],
                                       n["fibrinogen_peak_h"])
    outputs = [*scenario.outputs, "fibrinogen", "lymphocytes"]
    path = plot_result(control, outputs, ctx.path("endotoxemia.png"),
                       targets=scenario.load_targets(), title="2 ng/kg endotoxin, 70 kg adult")
    ctx.figure(path, name="endotoxemia", title="Human endotoxemia against published targets",
               caption=(f"From the healthy resting state (IL-6 {n['il6_rest']:.2g} pg/mL, CRP "
                        f"{n['crp_rest']:.2g} mg/L), 2 ng/kg endotoxin raises TNF-α first, then "
                        f"IL-6 to {il6_peak:.0f} pg/mL at {il6_t:.1f} h; IL-10 follows as the "
                        f"brake. CRP reaches {n['crp_24h']:.0f} mg/L at 24 h (peak at "
                        f"{n['crp_peak_h']:.0f} h) and fibrinogen rises more slowly. Lines: the "
                        f"model; points, bars and bands: published targets. {n_pass} of "
                        f"{len(rows)} calibration targets lie within their accepted ranges "
                        "(Table 1.1)."),
               claims=[c03])
    ctx.table(targets_table(rows, targets), name="endotoxemia_targets",
              title="Calibration targets: model vs published range (il6sim targets)",
              caption="Rest, 2 ng/kg and 4 ng/kg endotoxin and knock-out runs, recomputed now.")

    ctx.step("IL-6 sources")
    _sources(ctx, control)
    ctx.step("knock-outs of the cytokine network")
    _network(ctx, scenario, control)
    ctx.step("classic vs trans-signalling")
    _signalling(ctx, scenario, control)
    ctx.summary(f"after 2 ng/kg endotoxin IL-6 peaks at {il6_peak:.0f} pg/mL at {il6_t:.1f} h "
                f"and CRP reaches {n['crp_24h']:.0f} mg/L at 24 h ({n_pass} of {len(rows)} "
                f"calibration targets in range); without IL-6 the TNF-α peak is "
                f"{n['il6ko_tnf_fold']:.2f}× higher.")


def _sources(ctx, control) -> None:
    shares = control.il6_source_shares()
    fluxes = control.fluxes()
    sources = [c for c in shares.columns if c not in ("patient", "time_h")]
    folds = {s: fluxes[f"prod_il6_{s}"][0] / fluxes[f"prod_il6_{s}"][0][0] for s in sources}
    rest = shares.iloc[0]
    at2 = shares.loc[(shares.time_h - 2.0).abs().idxmin()]
    ctx.number(share_rest={s: float(rest[s]) for s in sources},
               share_2h={s: float(at2[s]) for s in sources},
               production_fold_peak={s: float(folds[s].max()) for s in sources})
    fig = plot_source_shares(shares, folds, until_h=24.0)
    lymph = rest["t_cells"] + rest["b_cells"]
    ctx.figure(fig, name="il6_sources", title="Where IL-6 comes from",
               caption=(f"Five cell types make IL-6, each a separate flux of the model. At rest "
                        f"macrophages make {rest['macrophages']:.0%}, endothelium "
                        f"{rest['endothelium']:.1%}, fibroblasts {rest['fibroblasts']:.1%} and "
                        f"T and B cells together {lymph:.1%}. Endotoxin acts on macrophages "
                        f"(their share is {at2['macrophages']:.1%} at 2 h), and TNF-α/IL-1β "
                        f"raise endothelial and fibroblast output up to "
                        f"{folds['endothelium'].max():.0f}× and {folds['fibroblasts'].max():.0f}× "
                        "their resting rates."),
               claims=[check.c01_sources(rest[sources].to_dict(), at2[sources].to_dict(),
                                         {s: float(folds[s].max()) for s in sources})])


def _network(ctx, scenario, control) -> None:
    runs = {"control": control}
    for label, knockout in (("IL-6 knock-out", "il6"), ("TNF-α knock-out", "tnf"),
                            ("IL-10 knock-out", "il10")):
        runs[label] = run(scenario.with_overrides({"knockouts": knockout}), ctx.settings)

    def fold(label: str, name: str) -> float:
        return peak(runs[label], name) / peak(control, name)

    cytokines = {"IL-6 knock-out": "il6", "TNF-α knock-out": "tnf", "IL-10 knock-out": "il10"}
    changes = {label: {c: fold(label, c) for c in ("il6", "tnf", "il1b", "il10", "ifn")
                       if c != own} for label, own in cytokines.items()}

    ctx.number(il6ko_tnf_fold=fold("IL-6 knock-out", "tnf"),
               il6ko_il1b_fold=fold("IL-6 knock-out", "il1b"),
               il6ko_il10_fold=fold("IL-6 knock-out", "il10"),
               tnfko_il6_fold=fold("TNF-α knock-out", "il6"),
               il10ko_tnf_fold=fold("IL-10 knock-out", "tnf"))
    n = ctx.result.numbers
    restrains = check.c07_il6_restrains(n["il6ko_tnf_fold"], n["il6ko_il1b_fold"],
                                        n["il6ko_il10_fold"])
    path = plot_comparison(runs, ["tnf", "il1b", "il6", "il10"], ctx.path("network.png"),
                           title="2 ng/kg endotoxin: control and knock-outs")
    ctx.figure(path, name="network", title="IL-6 inside the cytokine network",
               caption=(f"Without IL-6 the TNF-α peak is {n['il6ko_tnf_fold']:.2f}× and the "
                        f"IL-1β peak {n['il6ko_il1b_fold']:.2f}× the control's, and IL-10 falls "
                        f"to {n['il6ko_il10_fold']:.2f}×"
                        + (": IL-6 restrains the other pro-inflammatory cytokines. "
                           if restrains.shown else ". ")
                        + f"Without TNF-α the IL-6 peak is "
                        f"{n['tnfko_il6_fold']:.2f}× the control's; without IL-10 the TNF-α peak "
                        f"is {n['il10ko_tnf_fold']:.2f}×."),
               claims=[restrains, check.c17_network(changes)])


def _signalling(ctx, scenario, control) -> None:
    trans = run(scenario.with_overrides({"knockouts": "trans_signalling"}), ctx.settings)
    both = run(scenario.with_overrides({"knockouts": "trans_signalling,classic_signalling"}),
               ctx.settings)
    runs = {"control": control, "trans-signalling blocked (sgp130Fc-like)": trans,
            "classic and trans blocked": both}
    ctx.number(trans_crp_ratio=peak(trans, "crp") / peak(control, "crp"),
               trans_endothelial_ratio=(peak(trans, "endothelial_activation")
                                        / peak(control, "endothelial_activation")),
               both_crp_ratio=peak(both, "crp") / peak(control, "crp"),
               trans_classic_ratio=(peak(trans, "classic_signal_liver")
                                    / peak(control, "classic_signal_liver")),
               both_crp_fold=peak(both, "crp") / at(both, "crp", 0),
               both_fibrinogen_fold=peak(both, "fibrinogen") / at(both, "fibrinogen", 0))
    n = ctx.result.numbers
    needed = check.c03_needs_il6_signalling(n["both_crp_fold"], n["both_fibrinogen_fold"])
    path = plot_comparison(runs, ["classic_signal_liver", "trans_signal",
                                  "endothelial_activation", "crp"],
                           ctx.path("signalling.png"),
                           title="2 ng/kg endotoxin: blocking IL-6 signalling branches")
    ctx.figure(path, name="signalling", title="Classic and trans-signalling do different things",
               caption=(f"Blocking only trans-signalling keeps the hepatic acute phase (CRP peak "
                        f"{n['trans_crp_ratio']:.0%} of control) but lowers endothelial "
                        f"activation to {n['trans_endothelial_ratio']:.0%}; blocking classic "
                        f"signalling as well leaves CRP at {n['both_crp_ratio']:.0%} of control"
                        + (": no acute-phase response without IL-6 signalling." if needed.shown
                           else f" ({n['both_crp_fold']:.2f}× its own resting value).")),
               claims=[check.c02_signalling_branches(n["trans_crp_ratio"],
                                                     n["trans_endothelial_ratio"],
                                                     n["both_crp_ratio"],
                                                     n["trans_classic_ratio"]), needed])
