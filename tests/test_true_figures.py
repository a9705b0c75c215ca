"""Figures that say only what is true (issue 18, item 4): target overlays by kind, labels and
units from the model's declarations, log axes for pathogen loads.

Figures are built with the Agg canvas and inspected as data (artists, labels, scales), not
pixels.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from il6sim.calibration import load_targets
from il6sim.engine.results import SimulationResult
from il6sim.model import default_model
from il6sim.plotting import (
    axis_label,
    comparison_figure,
    result_figure,
    unit_label,
)


def _result(outputs: dict[str, tuple[str, np.ndarray]], time: np.ndarray) -> SimulationResult:
    names = list(outputs)
    values = np.stack([outputs[n][1] for n in names], axis=-1)[None]
    return SimulationResult(
        time=time, outputs=values, states=np.zeros((1, len(time), 0)),
        parameters=np.zeros((1, 0)), output_names=names,
        output_units=[outputs[n][0] for n in names], state_names=[], param_names=[],
        status=["ok"], doses=pd.DataFrame(), settings={"scenario": "synthetic"})


def _endotoxemia_like() -> SimulationResult:
    t = np.linspace(0, 48, 193)
    il6 = 2 + 1000 * np.exp(-((t - 2) ** 2) / 2)
    tnf = 3 + 800 * np.exp(-((t - 1.5) ** 2) / 1)
    lymph = 1.9 - 1.4 * np.exp(-((t - 4) ** 2) / 8)
    return _result({"il6": ("pg/mL", il6), "tnf": ("pg/mL", tnf),
                    "lymphocytes": ("cell/nL", lymph)}, t)


def _spans(ax) -> list[tuple[float, float, float, float]]:
    """(x0, x1, y0, y1) in data units of each shaded span (axhspan/axvspan) on ``ax``."""
    out = []
    for patch in ax.patches:
        verts = patch.get_transform().transform(patch.get_path().vertices)
        data = ax.transData.inverted().transform(verts)
        xs, ys = data[:, 0], data[:, 1]
        out.append((xs.min(), xs.max(), ys.min(), ys.max()))
    return out


@pytest.fixture(scope="module")
def endotoxemia_figure():
    targets = [t for t in load_targets("endotoxemia")
               if t.scenario in ("rest", "lps_2ngkg")]
    return result_figure(_endotoxemia_like(), ["il6", "tnf", "lymphocytes"], targets=targets)


def test_fold_and_time_targets_are_not_drawn_as_concentration_bands(endotoxemia_figure):
    il6, tnf, lymph = endotoxemia_figure.axes[:3]
    # tnfko_il6_fold (peak 0.2-0.8x control) is a ratio between two runs: listed in a note,
    # no horizontal band at 0.2-0.8 pg/mL
    for _, _, y0, y1 in _spans(il6):
        assert not (y0 == pytest.approx(0.2) and y1 == pytest.approx(0.8))
    notes = " ".join(t.get_text() for t in il6.texts)
    assert "tnfko_il6_fold" in notes and "0.2–0.8× control" in notes
    # lymphocyte_nadir_time (2-6 h) is a time: a band on the time axis, not 2-6 x10^9/L
    bands = _spans(lymph)
    assert any(x0 == pytest.approx(2.0) and x1 == pytest.approx(6.0) for x0, x1, _, _ in bands)
    y_low, y_high = lymph.get_ylim()
    for _, _, y0, y1 in bands:  # a vertical span covers the whole panel height
        assert y0 <= y_low + 1e-9 and y1 >= y_high - 1e-9
    # fraction-of-peak targets are annotated markers on the curve, in their own units
    assert any("% of peak at 6 h" in t.get_text() for t in tnf.texts)
    assert any("× rest at 24 h" in t.get_text() for t in lymph.texts)


def test_the_legend_names_or_counts_targets_by_kind():
    t = np.linspace(0, 24, 97)
    result = _result({"il6": ("pg/mL", 2 + 1000 * np.exp(-((t - 2) ** 2) / 2))}, t)
    targets = [t for t in load_targets("endotoxemia") if t.output == "il6"]
    values = [x for x in targets if x.statistic in ("rest", "peak")]
    many = [*values * 3, *(x for x in targets if x.statistic in ("time_of_peak",
                                                                 "fraction_of_peak_at"))]
    ax = result_figure(result, ["il6"], targets=many).axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert f"value targets ({len(values) * 3})" in labels
    assert "time targets (1)" in labels and "relative targets (annotated) (1)" in labels
    # fold-over-control targets are not counted in the legend: they are not drawn
    assert not any("targets (" in label and "control" in label for label in labels)


def test_axis_labels_come_from_the_model_declarations_with_clinical_units():
    assert axis_label("pf_ratio", "mmHg") == "P/F ratio (mmHg)"
    assert axis_label("ferritin_level", "ug/L") == "Ferritin (µg/L)"
    assert unit_label("umol/L") == "µmol/L" and unit_label("cell/nL") == "10⁹/L"
    assert unit_label("CFU/mL") == "CFU/mL" and unit_label("dimensionless") == ""
    unlabelled = [o.name for o in default_model().outputs if not o.label]
    assert not unlabelled, f"declare Output(..., label=...) for {unlabelled}"
    for output in default_model().outputs:
        label = axis_label(output.name, output.unit)
        assert label[0].isupper() or label[0].isdigit() or label.startswith(("sIL", "µ")), label
        assert label.split(" (")[0] != output.name.replace("_", " "), label  # not automatic
        assert " ug" not in label and "(ug" not in label and "umol" not in label, label


def test_pathogen_loads_are_on_log_axes():
    t = np.linspace(0, 14 * 24, 200)
    virus = 1e7 * np.exp(-((t - 72) ** 2) / 2000) - 2.7e-19
    bacteria = 1e6 * np.exp(-t / 20)
    result = _result({"viral_load": ("virion/mL", virus), "bacteria_site": ("CFU/mL", bacteria),
                      "pf_ratio": ("mmHg", 450 - 300 * np.exp(-((t - 200) ** 2) / 5000))}, t)
    fig = comparison_figure({"a": result, "b": result}, ["viral_load", "bacteria_site",
                                                         "pf_ratio"])
    viral, bact, pf = fig.axes[:3]
    assert viral.get_yscale() == "log" and bact.get_yscale() == "log"
    assert pf.get_yscale() == "linear"
    assert viral.get_ylabel() == "Viral load (virions/mL)"
    assert bact.get_ylabel() == "Bacteria at the site (CFU/mL)"
    assert pf.get_ylabel() == "P/F ratio (mmHg)"
    low, high = viral.get_ylim()
    assert low > 0 and high / low < 1e10


def test_figures_render_to_files(tmp_path, endotoxemia_figure):
    assert isinstance(endotoxemia_figure, Figure)
    endotoxemia_figure.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


# ----- the `il6sim simulate` console summary -------------------------------------------------
def test_summary_reports_the_nadir_where_a_fall_is_the_harm_and_no_negative_round_off():
    from il6sim._console import wide_console
    from il6sim._summary import summary_table

    t = np.linspace(0, 10 * 24, 41)
    result = _result({
        "pf_ratio": ("mmHg", 450 - 350 * np.exp(-((t - 120) ** 2) / 800)),
        "lymphocytes": ("cell/nL", 1.8 - 1.3 * np.exp(-((t - 96) ** 2) / 800)),
        "viral_load": ("virion/mL", np.r_[1e8 * np.exp(-((t[:-1] - 48) ** 2) / 500), -2.7e-19]),
        "ferritin_level": ("ug/L", 200 + 800 * np.exp(-((t - 150) ** 2) / 800)),
    }, t)
    console = wide_console(record=True, width=200)
    console.print(summary_table(result, ["pf_ratio", "lymphocytes", "viral_load",
                                         "ferritin_level"]))
    rows = {line.split("│")[1].strip(): line for line in console.export_text().splitlines()
            if line.startswith("│")}
    assert "nadir 100" in rows["pf_ratio"] and "peak" not in rows["pf_ratio"]
    assert "nadir 0.5" in rows["lymphocytes"] and "10⁹/L" in rows["lymphocytes"]
    assert "peak 1e+08" in rows["viral_load"] and "e-19" not in rows["viral_load"]
    assert rows["viral_load"].rstrip("│ ").endswith(" 0")
    assert "peak 1000" in rows["ferritin_level"] and "µg/L" in rows["ferritin_level"]


def test_console_is_wide_when_piped(monkeypatch):
    import io

    from rich.table import Table

    from il6sim._console import PIPED_WIDTH, wide_console

    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.delenv("COLUMNS", raising=False)
    console = wide_console(record=True)
    assert console.width == PIPED_WIDTH
    table = Table("regimen", "source")
    table.add_row("tocilizumab-8mgkg-iv-q4w", "Actemra label 2022, table 7 (steady state) " * 3)
    console.print(table)
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) > 80


def test_simulate_prints_the_pf_nadir_and_a_cleared_viral_load_as_zero(tmp_path):
    from typer.testing import CliRunner

    from il6sim.cli import app

    result = CliRunner().invoke(app, ["simulate", "covid19-severe", "--out",
                                      str(tmp_path / "r.parquet")])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
            if line.startswith("│")}
    assert "nadir" in rows["pf_ratio"] and "nadir" in rows["lymphocytes"]
    assert "peak" in rows["il6"]
    assert "e-1" not in rows["viral_load"] and "-" not in rows["viral_load"].split("│")[-2]


# ----- cohort: in-hospital death with discharge as a competing event --------------------------
def test_death_incidence_is_aalen_johansen_with_discharge_competing():
    from il6sim.cohort import death_incidence, kaplan_meier

    # every patient ends by death (1) or discharge alive (0): without censoring the cumulative
    # incidence of death is the plain proportion dead by t
    days = np.array([1.0, 2.5, 3.0, 4.5, 6.0, 7.0, 8.5, 10.0, 12.0, 20.0])
    died = np.array([0, 1, 0, 0, 1, 0, 1, 0, 0, 1])
    data = pd.DataFrame({"days": days, "died": died})
    groups = pd.Series(["all"] * len(days))
    fitters, table, _ = death_incidence(data, groups)
    cif = fitters["all"].cumulative_density_.iloc[:, 0]
    for t in (2.6, 6.5, 9.0, 15.0, 25.0):
        assert cif[cif.index <= t].iloc[-1] == pytest.approx(((days <= t) & (died == 1)).mean())
    row = table.iloc[0]
    assert row["death_14d"] == pytest.approx(0.3) and row["death_28d"] == pytest.approx(0.4)
    assert row["deaths"] == 4 and row["discharged"] == 6
    # one minus Kaplan-Meier censored at discharge overstates it
    km_fitters, _, _ = kaplan_meier(data, groups)
    km = 1 - km_fitters["all"].survival_function_.iloc[:, 0]
    assert km.iloc[-1] == pytest.approx(1.0) and row["km_death_28d"] == pytest.approx(1.0)
    assert row["death_28d"] < row["km_death_28d"]


def test_cohort_report_draws_cumulative_incidence(tmp_path):
    from il6sim.cohort import death_incidence
    from il6sim.cohort._figures import plot_death_incidence

    rng = np.random.default_rng(0)
    data = pd.DataFrame({"days": rng.uniform(1, 30, 60), "died": rng.integers(0, 2, 60)})
    groups = pd.Series(np.where(np.arange(60) < 30, "low", "high"))
    fitters, table, p = death_incidence(data, groups)
    path = plot_death_incidence([("IL-6", fitters, p)], tmp_path / "cif.png")
    assert path.stat().st_size > 10_000
    for row in table.itertuples():
        dead = data[groups == row.group]
        assert row.n == len(dead) and row.deaths == int(dead.died.sum())
        final = fitters[row.group].cumulative_density_.iloc[-1, 0]
        assert final == pytest.approx(dead.died.mean())  # no censoring: all end dead or home


# ----- trial: the subgroup forest plot --------------------------------------------------------
def _synthetic_trial(n=600, seed=0, effect=0.8):
    """A RECOVERY-shaped trial result from made-up patients (no simulation)."""
    from il6sim.trial import load_trial
    from il6sim.trial._analysis import TrialResult

    design = load_trial("recovery-tocilizumab")
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "usual care", "tocilizumab")
    support = rng.integers(1, 4, n).astype(float)
    risk = 0.15 + 0.1 * support
    frame = {"arm": arm, "baseline_respiratory_support": support,
             "baseline_imv": (support >= 3).astype(float), "age": rng.uniform(30, 95, n),
             "male": rng.integers(0, 2, n).astype(float),
             "baseline_days_since_onset": rng.uniform(2, 14, n),
             "baseline_il6": rng.lognormal(4, 1, n)}
    for column in ("died", "imv_or_death", "discharged", "secondary_infection"):
        for a, factor in (("usual care", 1.0), ("tocilizumab", effect)):
            frame[f"{column}@{a}"] = (rng.uniform(size=n) < risk * factor).astype(float)
        frame[column] = np.where(arm == "tocilizumab", frame[f"{column}@tocilizumab"],
                                 frame[f"{column}@usual care"])
    frame["death_day"] = np.where(frame["died"] > 0.5, rng.uniform(1, 28, n), 28.0)
    frame["discharge_day"] = np.where(frame["discharged"] > 0.5, rng.uniform(3, 28, n), 28.0)
    frame["organ_support_free_days"] = rng.uniform(0, 28, n)
    return TrialResult(design, pd.DataFrame(frame), {"screened": 2 * n, "admitted": n,
                                                      "randomised": n})


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_forest_plot_has_distinct_named_rows_with_n_and_no_overlapping_ticks():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from il6sim.trial._report import forest_figure, forest_rows, markdown

    result = _synthetic_trial()
    rows = forest_rows(result)
    levels = rows[rows.kind == "level"]
    assert {"female", "male"} <= set(levels.label) and not {"0", "1"} & set(levels.label)
    assert {"oxygen only", "non-invasive support", "invasive ventilation"} <= set(levels.label)
    headers = rows[rows.kind == "header"].label.tolist()
    assert "sex" in headers and "respiratory support at randomisation" in headers
    assert (levels.n > 0).all() and levels.n.sum() == 5 * rows.n.iloc[0]  # each split covers all
    fig = forest_figure(result)
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(rows) and len(set(labels)) == len(labels)
    assert all("(n = " in text for text, kind in zip(labels, rows.kind, strict=True)
               if kind != "header")
    renderer = fig.canvas.get_renderer()
    for ticks in (ax.get_yticklabels(), [t for t in ax.get_xticklabels() if t.get_text()]):
        boxes = [t.get_window_extent(renderer) for t in ticks]
        assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert not any("10^" in t.get_text() or "times" in t.get_text()
                   for t in ax.get_xticklabels())
    written = [t.get_text() for t in ax.texts]
    assert sum("(" in text and "–" in text for text in written) == len(rows) - len(headers)
    assert "| sex | female |" in markdown(result)


# ----- twin: a low effective sample size is said, with PSIS diagnostics ------------------------
def test_sampling_diagnostics_flag_few_or_uneven_draws():
    import arviz

    from il6sim.twin._diagnostics import MAX_PARETO_K, diagnose, pareto_k

    equal = diagnose(np.full(600, 1 / 600))
    assert equal.effective_draws == pytest.approx(600) and not equal.low
    assert equal.pareto_k is None and equal.warning() is None  # no tail to fit
    rng = np.random.default_rng(0)
    even = diagnose(np.exp(0.1 * rng.standard_normal(600)) / 600)
    assert even.effective_draws > 590 and even.pareto_k < 0.5 and not even.low
    log_w = rng.standard_normal(600) * 4.0  # heavy right tail: a few draws carry the weight
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    uneven = diagnose(weights)
    assert uneven.effective_draws < 50 and uneven.low
    assert uneven.pareto_k > MAX_PARETO_K
    _, k = arviz.psislw(np.log(weights))
    assert uneven.pareto_k == pytest.approx(float(k))
    assert pareto_k(np.log(weights)) == pytest.approx(float(k))
    text = uneven.warning()
    assert "low effective sample size" in text and "of 600" in text and "Pareto k" in text
    assert uneven.to_dict()["low_ess"] is True
    # 5 % of the draws is the other bound: 60 effective draws of 2000 are flagged
    sixty = np.r_[np.full(60, 1 / 60), np.zeros(1940)]
    assert diagnose(sixty).effective_draws == pytest.approx(60) and diagnose(sixty).low


@pytest.fixture(scope="module")
def low_ess_twin_run(tmp_path_factory):
    """``il6sim twin`` on shipped patient 2 with the fit's diagnostics forced low."""
    from typer.testing import CliRunner

    import il6sim.twin._fit as fit
    from il6sim.cli import app
    from il6sim.twin._diagnostics import SamplingDiagnostics

    out = tmp_path_factory.mktemp("twin")
    low = SamplingDiagnostics(draws=600, effective_draws=5.0, pareto_k=1.1)
    mp = pytest.MonkeyPatch()
    mp.setattr(fit, "diagnose", lambda weights: low)
    try:
        result = CliRunner().invoke(app, ["twin", "--patient", "2", "--fit-days", "3",
                                          "--horizon", "3", "--draws", "10", "--regimen",
                                          "none", "--plot", str(out / "twin.svg")])
    finally:
        mp.undo()
    return result, out / "twin.svg"


def test_twin_warns_in_the_console_and_the_figure_when_few_draws_carry_the_weight(
        low_ess_twin_run):
    result, figure = low_ess_twin_run
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "warning: low effective sample size: 5 effective draws of 600" in text
    assert "PSIS Pareto k 1.10" in text
    assert figure.stat().st_size > 10_000  # its title: test_twin_figure_title_carries_...


def test_twin_figure_title_carries_the_warning(tmp_path):
    import matplotlib

    from il6sim.cohort import load_cohort
    from il6sim.twin import DigitalTwin, patient_series
    from il6sim.twin._diagnostics import SamplingDiagnostics

    twin = DigitalTwin(random_state=0, n_draws=60).fit(patient_series(load_cohort(), "2"), 3)
    forecast = twin.forecast(3, n_draws=10)
    assert forecast.diagnostics is twin.diagnostics_
    forecast.diagnostics = SamplingDiagnostics(draws=600, effective_draws=5.0, pareto_k=1.1)
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        svg = forecast.plot(tmp_path / "t.svg").read_text()
    assert "WARNING: low effective sample size" in svg and "PSIS Pareto k 1.10" in svg


# ----- study captions: a claim is named only when this run's numbers pass its check ----------
def _caption(tmp_path, verdicts) -> str:
    """The rendered caption of one figure with ``verdicts`` (through the report's own code)."""
    from il6sim.report._blocks import SectionContext, SectionResult
    from il6sim.report._html import render_report

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    section = SectionResult(key="trial", title="t")
    ctx = SectionContext(section, settings=None, work_dir=tmp_path, advance=lambda *a: None)
    ctx.figure(fig, name="f", title="T", caption="numbers 1.00", claims=verdicts)
    page = render_report([(section, "intro")], {"version": "x", "generated": "now",
                                                "seconds": 1.0, "settings": {}, "command": "c"})
    return re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)[0]


def test_a_caption_does_not_name_a_claim_its_numbers_fail(tmp_path):
    from il6sim.report import _checks as check

    # the trial: RR 1.00 (0.65-1.54) does not show C13; a population with 0 deaths
    # cannot show C10
    rr = check.c13_trial(1.00, 0.65, 1.54)
    population = check.c10_population(rho=0.8, auc=float("nan"), deaths=0, n=40)
    assert not rr.shown and not population.shown
    caption = _caption(tmp_path, [rr, population])
    assert "Demonstrates" not in caption
    assert "mortality risk ratio 1.00 (0.65–1.54): this run does not show C13" in caption
    assert "0 deaths of 40" in caption and "this run does not show C10" in caption


def test_a_caption_names_a_claim_its_numbers_pass(tmp_path):
    from il6sim.report import _checks as check

    rr = check.c13_trial(0.85, 0.76, 0.94)
    hiv = check.c11_chronic_viral(1.67, 1.69)
    failing = check.c15_secondary_infection(0.121, 0.126)
    assert rr.shown and hiv.shown and not failing.shown
    caption = _caption(tmp_path, [rr, hiv, failing])
    assert "Demonstrates C13" in caption and "C11 (viral infections" in caption
    assert "(ratio 1.04; check: 1.05–1.74): this run does not show C15" in caption
    assert "Demonstrates C15" not in caption and "; C15 (" not in caption


def test_a_study_figure_must_check_its_claims(tmp_path):
    from il6sim.report._blocks import SectionContext, SectionResult

    ctx = SectionContext(SectionResult(key="k", title="t"), settings=None, work_dir=tmp_path,
                         advance=lambda *a: None)
    with pytest.raises(TypeError, match="must be checked"):
        ctx.figure(Figure(), name="f", title="T", caption="c", claims=["C13"])


@pytest.mark.parametrize(("kwargs", "shown"), [
    ({"crp_ratio_2d": 0.3, "storm_hours": (120, 40), "death": (0.5, 0.3)}, True),
    ({"crp_ratio_2d": 0.3, "storm_hours": (120, 90), "death": (0.5, 0.3)}, False),
    ({"crp_ratio_2d": 0.7, "storm_hours": (120, 40), "death": (0.5, 0.3)}, False),
    ({"crp_ratio_2d": 0.3, "storm_hours": (120, 40), "death": (0.5, 0.5)}, False),
])
def test_c13_storm_check_uses_the_thresholds_of_its_test(kwargs, shown):
    from il6sim.report._checks import c13_storm

    assert c13_storm(**kwargs).shown is shown


# ----- the HIV caption is computed from the run ----------------------------------------------
def _hiv_numbers(**change) -> dict:
    n = {"hiv_viral_peak": 1.7e5, "hiv_viral_peak_day": 13.0, "hiv_il6_rest": 1.73,
         "hiv_il6_peak": 114.0, "hiv_il6_peak_day": 11.0, "hiv_pf_min": 82.0,
         "hiv_pf_min_day": 16.0, "hiv_set_point": 4.45e4, "hiv_il6_fold_late_min": 1.67,
         "hiv_il6_fold_late_max": 1.69}
    return n | change


def test_hiv_caption_states_the_acute_peak_beside_the_chronic_fold():
    from il6sim.report.sections._infections import hiv_caption, hiv_title

    n = _hiv_numbers()
    caption = hiv_caption(n)
    assert "IL-6 peaks at 114 pg/mL (66× rest) on day 11" in caption
    assert "P/F falls to 82" in caption and "rarely causes hypoxaemia" in caption
    assert "1.67–1.69× its resting value from day 120" in caption
    assert "chronic, low-grade" in caption and "chronic low-grade" in hiv_title(n)
    # numbers change, so do the words: no chronic elevation, no "chronic low-grade" claim
    n = _hiv_numbers(hiv_il6_fold_late_min=1.05, hiv_il6_fold_late_max=1.1, hiv_pf_min=420.0,
                     hiv_il6_peak=30.0)
    caption = hiv_caption(n)
    assert "chronic" not in caption and "chronic" not in hiv_title(n)
    assert "hypoxaemia" not in caption and "IL-6 peaks at 30 pg/mL" in caption


def test_a_flagged_twin_fit_is_widened_by_tempering_its_weights():
    """Few draws carrying the weight: tempering raises the effective sample size to the flag's
    floor and spreads the weighted distribution (wider intervals); a healthy set is left alone."""
    from il6sim.twin._diagnostics import MIN_EFFECTIVE_DRAWS, _ess, temper
    from il6sim.twin._forecast import weighted_quantile

    rng = np.random.default_rng(0)
    values = rng.normal(size=600)
    logw = -200.0 * (values - 1.0) ** 2    # a posterior much narrower than the proposal
    weights = np.exp(logw - logw.max())
    weights /= weights.sum()
    assert _ess(weights) < MIN_EFFECTIVE_DRAWS
    tempered, tau = temper(weights)
    assert 0 < tau < 1 and _ess(tempered) >= MIN_EFFECTIVE_DRAWS - 1e-6

    def spread(w):
        return float(np.ptp(weighted_quantile(values[:, None], w, [0.05, 0.95])))

    assert spread(tempered) > spread(weights)
    even = np.full(600, 1 / 600)
    same, tau = temper(even)
    assert tau == 1.0 and np.array_equal(same, even)
