"""Run the validation trials and write their simulated-vs-published table into docs/trials.md.

The validation trials are the shipped trial files whose published results are all held out
(``role: checked``, no ``control_risk`` anchor): nothing in il6sim was fitted to them. For each
published result the table gives the published value and the simulated one on the same measure,
and says whether the simulated estimate lies inside the published 95 % CI; the control-arm
risks or days are given beside them. Disagreement is reported as disagreement.

    python scripts/validation_trials.py                 # 600 patients each, rewrite the docs
    python scripts/validation_trials.py --n 200 --print # only print the table

Each trial runs in ``out/validation/<name>`` (a rerun with the same size resumes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
from pathlib import Path

import numpy as np

from il6sim.trial import load_trial, run_trial
from il6sim.trial._stats import BINARY, median_time

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "trials.md"
START, END = "<!-- validation-trials:start -->", "<!-- validation-trials:end -->"
TRIALS = ("actt-1", "covacta", "empacta")
#: Published share of treated patients given the conditional second dose (no trial-file key).
SECOND_DOSE_SHARE = {"covacta": ("about 25 %", "Rosas 2021 NEJM abstract: approximately one "
                                 "quarter received a second dose")}


def _ci(estimate: float, low, high) -> str:
    if estimate is None or not np.isfinite(estimate):
        return "—"
    text = f"{estimate:.3g}"
    if low is not None and high is not None and np.isfinite(low) and np.isfinite(high):
        text += f" ({low:.3g} to {high:.3g})"
    return text


def _inside(estimate: float, ci) -> str:
    if ci is None or estimate is None or not np.isfinite(estimate):
        return "—"
    return "inside" if ci[0] <= estimate <= ci[1] else "**outside**"


def _days(value: float) -> str:
    return "not reached" if not math.isfinite(value) else f"{value:.3g} d"


def _control(result, endpoint: str, published) -> str:
    """Published vs simulated control arm, on the published quantity: risk, median days to
    the event (Kaplan-Meier), median days, or the median ordinal level."""
    arms = result.arms
    row = arms[(arms.endpoint == endpoint) & (arms.arm == result.design.control)]
    if row.empty:
        return "—"
    row = row.iloc[0]
    if published.control is not None:
        return f"{100 * published.control:.3g} % / {100 * row.value:.3g} %"
    if published.control_days is None:
        sim = f"median level {row.value:g}" if row.measure == "median level" else "—"
        return f"— / {sim}"
    if row.measure == "risk" and endpoint in BINARY and BINARY[endpoint][1]:
        column, time = BINARY[endpoint]  # the published days are a median time to the event
        data = result.patients[result.patients.arm == result.design.control]
        median = median_time(data[time].to_numpy(float), data[column].to_numpy(float) > 0.5,
                             result.endpoint_days(endpoint))[0]
        return f"median {published.control_days:g} d / median {_days(median)}"
    if row.measure == "median days":
        return f"median {published.control_days:g} d / median {_days(row.value)}"
    return f"median {published.control_days:g} d / median {_days(row['median'])}"


def table(n: int) -> str:
    lines = ["| trial | endpoint | measure | published | simulated | estimate in published CI? "
             "| control arm: published / simulated |", "|" + "---|" * 7]
    for name in TRIALS:
        design = load_trial(name)
        result = run_trial(name, n_patients=n, out_dir=ROOT / "out" / "validation" / name)
        comparisons = result.comparisons
        for endpoint, published in design.published.items():
            rows = comparisons[(comparisons.endpoint == endpoint)
                               & comparisons.published_measure.notna()]
            row = rows.iloc[0]
            pub_ci = published.ci
            shown, simulated = (_ci(published.value, *(pub_ci or (None, None))),
                                _ci(row.estimate, row.ci_low, row.ci_high))
            if published.value is None and published.control is not None:
                # only the arms' risks were published: show them beside the simulated ones
                arms = result.arms[result.arms.endpoint == endpoint].set_index("arm").value
                shown = f"risks {100 * published.control:.3g} % vs {100 * published.treated:.3g} %"
                simulated += (f"; risks {100 * arms[design.control]:.3g} % vs "
                              f"{100 * arms[row.arm]:.3g} %")
            lines.append(
                f"| {name} | {endpoint} | {published.measure} | {shown} | {simulated} | "
                f"{_inside(row.estimate, pub_ci) if published.value is not None else '—'} | "
                f"{_control(result, endpoint, published)} |")
        for dose in result.second_doses().itertuples():
            published = SECOND_DOSE_SHARE.get(name, ("—", ""))[0]
            lines.append(f"| {name} | second dose given ({dose.arm}) | share of treated | "
                         f"{published} | {100 * dose.share:.3g} % ({dose.given} of "
                         f"{dose.treated}) | — | — |")
        sub = result.subgroups
        if "published" in sub:
            for row in sub[sub.published.notna()].itertuples():
                ci = row.published_ci
                lines.append(
                    f"| {name} | {design.primary}, {row.subgroup}: {row.level} (n {row.n}) | "
                    f"as above | {_ci(row.published, *(ci or (None, None)))} | "
                    f"{_ci(row.estimate, row.ci_low, row.ci_high)} | "
                    f"{_inside(row.estimate, ci)} | — |")
    return "\n".join(lines) + "\n\n" + _summary(lines[2:])


def _summary(rows: list[str]) -> str:
    """One line counted from the table: estimates inside / outside the published CI, and the
    control arms' mortality, published vs simulated."""
    inside = sum("| inside |" in row for row in rows)
    outside = sum("| **outside** |" in row for row in rows)
    deaths = [f"{row.split('|')[1].strip()} {row.rsplit('|', 2)[1].strip()}"
              for row in rows if row.split("|")[2].strip() == "mortality"]
    return (f"**Summary.** {inside} simulated estimates lie inside the published 95 % CI and "
            f"{outside} outside ({len(rows) - inside - outside} rows have no published CI or "
            f"no estimate); control-arm mortality, published / simulated: {'; '.join(deaths)}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="patients per trial")
    parser.add_argument("--print", action="store_true", help="print only; leave the docs")
    args = parser.parse_args()
    text = table(args.n)
    stamp = (f"Generated {dt.date.today().isoformat()} by `python scripts/validation_trials.py "
             f"--n {args.n}` ({args.n} virtual patients per trial, seeds from the trial files).")
    block = f"{START}\n{stamp}\n\n{text}\n{END}"
    if args.print:
        print(block)
        return
    docs = DOCS.read_text()
    if START not in docs:
        raise SystemExit(f"{DOCS}: no '{START}' marker; fix: add the block where the table goes")
    DOCS.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, docs,
                           flags=re.S))
    print(block)


if __name__ == "__main__":
    main()
