"""Who benefits and who is harmed: searching treatment rules on a trial's virtual patients.

A *rule* is a drug, a trigger and a delay: give the drug's default regimen when the trigger
first holds after randomisation (``at randomisation``, or a signal such as IL-6 or CRP at or
above a threshold within 7 days), plus the delay. Patients whose trigger never fires are not
treated. Each rule is one arm of a many-armed trial run on the trial file's patients
(:func:`run_trial`); because every patient is simulated under every arm with the same death
threshold (common random numbers), the value of a rule is the mortality *if every patient
followed it*, and the effect on each patient is known: **harmed** (dies under the rule, survives
usual care), **helped** (the reverse) or unaffected. This is the potential-outcomes view of
heterogeneous treatment effects (Rubin DB 1974 J Educ Psychol 66:688; Kent DM 2018 BMJ 363:k4245
for the clinical framing); a shallow decision tree (scikit-learn) on the baseline values says
which patients treating everyone harms, and :attr:`PolicyResult.harm` compares the baseline
values of harmed, helped and unaffected patients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ._design import TrialSpec
from ._load import load_trial
from ._run import run_trial

__all__ = ["PolicyResult", "policy_map", "search_policies"]

#: Default triggers: ``(signal, threshold)``; ``None`` treats at randomisation.
DEFAULT_TRIGGERS: tuple[tuple[str | None, float], ...] = (
    (None, 0.0), ("il6", 30.0), ("il6", 100.0), ("il6", 300.0), ("crp", 150.0), ("crp", 250.0))
#: Default delays after the trigger (hours).
DEFAULT_DELAYS_H = (0.0, 48.0, 120.0)
#: Baseline values the harm analysis looks at.
FEATURES = ("baseline_days_since_onset", "baseline_viral_load", "baseline_il6", "baseline_crp",
            "baseline_pf_ratio", "baseline_sofa", "age", "comorbidity", "coinfected")


def _unit(signal: str) -> str:
    """The unit of a trigger signal (an unknown signal is an InputError listing the choices)."""
    from ..model import default_model
    from ._signals import signal_unit

    return signal_unit(signal, default_model())


@dataclass(frozen=True)
class Rule:
    """Give ``drug`` (its default regimen) ``delay_h`` after ``signal ≥ threshold`` first holds
    (``signal=None``: at randomisation)."""

    drug: str
    signal: str | None
    threshold: float
    delay_h: float

    @property
    def name(self) -> str:
        trigger = ("at randomisation" if self.signal is None
                   else f"{self.signal} ≥ {self.threshold:g} {_unit(self.signal)}".strip())
        delay = "" if self.delay_h == 0 else f" + {self.delay_h / 24:g} d"
        return f"{self.drug}, {trigger}{delay}"

    def arm(self) -> dict[str, Any]:
        start: dict[str, Any] = {"delay": f"{self.delay_h} h"}
        if self.signal is not None:
            start["when"] = [{"signal": self.signal,
                              "at_least": f"{self.threshold} {_unit(self.signal)}".strip()}]
            start["within"] = "7 d"
        return {"name": self.name, "treatment": {"regimen": self.drug}, "start": start}


class PolicyResult:
    """Rules ranked by mortality, and who the best rule harms and helps.

    Attributes
    ----------
    rules : one row per rule: mortality if all followed it, risk ratio and difference against
        usual care, fraction treated, number needed to treat, fractions harmed and helped,
        secondary infections.
    best : the row of the rule with the lowest mortality (ties: fewer treated).
    patients : the trial's patients with every rule's potential outcomes.
    harm : baseline medians of harmed, helped and unaffected patients under the best rule and
        under treating everyone at randomisation.
    tree : the decision rules (text) that separate patients harmed by treating everyone at
        randomisation from the rest.
    """

    def __init__(self, design: TrialSpec, rules: list[Rule], patients: pd.DataFrame):
        self.design, self.rule_list, self.patients = design, rules, patients
        self.rules = self._table()
        self.best = self.rules.iloc[0]
        self.harm = pd.concat([self._groups(self.best["rule"]),
                               self._groups(self._everyone().name)], ignore_index=True)
        self.tree = self._tree(self._everyone().name)

    def _everyone(self) -> Rule:
        starts = [r for r in self.rule_list if r.signal is None and r.delay_h == 0]
        return starts[0] if starts else self.rule_list[0]

    def _died(self, arm: str) -> np.ndarray:
        return self.patients[f"died@{arm}"].to_numpy(float) > 0.5

    def _table(self) -> pd.DataFrame:
        control = self.design.control
        base = self._died(control)
        rows = []
        for rule in self.rule_list:
            died = self._died(rule.name)
            start = self.patients[f"treatment_start_day@{rule.name}"].to_numpy(float)
            treated = np.isfinite(start) & (start <= self.design.followup_h / 24)
            infection = self.patients[f"secondary_infection_probability@{rule.name}"].mean()
            difference = base.mean() - died.mean()
            rows.append({
                "rule": rule.name, "drug": rule.drug, "trigger": rule.signal or "randomisation",
                "threshold": rule.threshold, "delay_days": rule.delay_h / 24,
                "mortality": died.mean(), "mortality_usual_care": base.mean(),
                "risk_ratio": died.mean() / base.mean() if base.mean() else np.nan,
                "risk_difference": -difference, "treated": treated.mean(),
                "nnt": treated.mean() / difference if difference > 0 else np.nan,
                "harmed": (died & ~base).mean(), "helped": (~died & base).mean(),
                "secondary_infection": infection,
            })
        table = pd.DataFrame(rows)
        return table.sort_values(["mortality", "treated"], kind="stable").reset_index(drop=True)

    def _effect(self, arm: str) -> np.ndarray:
        """+1 harmed, −1 helped, 0 unaffected, per patient."""
        died, base = self._died(arm), self._died(self.design.control)
        return died.astype(int) - base.astype(int)

    def _groups(self, arm: str) -> pd.DataFrame:
        effect = self._effect(arm)
        rows = []
        for label, value in (("harmed", 1), ("helped", -1), ("unaffected", 0)):
            chosen = self.patients[effect == value]
            row = {"rule": arm, "group": label, "n": len(chosen)}
            for feature in FEATURES:
                row[feature] = float(chosen[feature].median()) if len(chosen) else np.nan
            rows.append(row)
        return pd.DataFrame(rows)

    def _tree(self, arm: str) -> str:
        from sklearn.tree import DecisionTreeClassifier, export_text

        harmed = self._effect(arm) == 1
        if harmed.sum() < 3 or (~harmed).sum() < 3:
            return f"too few harmed patients under '{arm}' ({int(harmed.sum())}) to describe"
        features = self.patients[list(FEATURES)].copy()
        features["baseline_viral_load"] = np.log10(features["baseline_viral_load"].clip(lower=1))
        features = features.rename(columns={"baseline_viral_load": "log10_viral_load"})
        model = DecisionTreeClassifier(max_depth=2, min_samples_leaf=5, random_state=0,
                                       class_weight="balanced")
        model.fit(features.fillna(features.median()), harmed)
        return export_text(model, feature_names=list(features.columns),
                           class_names=["not harmed", "harmed"], decimals=1)

    def markdown(self) -> str:
        """Rules table, the best rule, and who is harmed."""
        cols = ["rule", "mortality", "risk_ratio", "treated", "nnt", "harmed", "helped",
                "secondary_infection"]
        lines = [f"# Treatment rules on the {self.design.name} population", "",
                 f"{len(self.patients)} virtual patients, each simulated under usual care and "
                 f"{len(self.rule_list)} rules (potential outcomes).", "",
                 "| " + " | ".join(cols) + " |", "|---" * len(cols) + "|"]
        for _, row in self.rules.iterrows():
            lines.append("| " + " | ".join(
                row["rule"] if c == "rule" else "—" if not np.isfinite(row[c]) else
                f"{row[c]:.1f}" if c == "nnt" else f"{row[c]:.3f}" for c in cols) + " |")
        best = self.best
        lines += ["", f"**Best rule:** {best['rule']} — mortality {100 * best['mortality']:.1f} %"
                  f" vs {100 * best['mortality_usual_care']:.1f} % under usual care "
                  f"(risk ratio {best['risk_ratio']:.2f}); {100 * best['treated']:.0f} % treated;"
                  f" {100 * best['harmed']:.1f} % harmed, {100 * best['helped']:.1f} % helped.",
                  "", "## Who is harmed (baseline medians)", "",
                  "| rule | group | n | " + " | ".join(FEATURES) + " |",
                  "|---|---|---" + "|---" * len(FEATURES) + "|"]
        for _, row in self.harm.iterrows():
            lines.append(f"| {row['rule']} | {row['group']} | {row['n']} | " + " | ".join(
                "—" if not np.isfinite(row[f]) else f"{row[f]:.3g}" for f in FEATURES) + " |")
        lines += ["", f"Decision tree for harm under '{self._everyone().name}':", "", "```",
                  self.tree.rstrip(), "```", ""]
        return "\n".join(lines)

    def figure(self, path: str | Path) -> Path:
        """The policy map (:func:`policy_map`) of these rules."""
        return policy_map(self.rules, path)


def policy_map(rules: pd.DataFrame, path: str | Path) -> Path:
    """The policy map: each rule's mortality risk ratio against usual care, trigger × delay,
    one panel per drug (``rules`` as in :attr:`PolicyResult.rules`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drugs = list(dict.fromkeys(rules["drug"]))
    fig, axes = plt.subplots(1, len(drugs), figsize=(2.2 + 3.4 * len(drugs), 3.6),
                             squeeze=False, sharey=True)
    image = None
    for k, (ax, drug) in enumerate(zip(axes[0], drugs, strict=True)):
        part = rules[rules["drug"] == drug].copy()
        part["trigger_label"] = [
            "at randomisation" if t == "randomisation" else f"{t} ≥ {v:g} {_unit(t)}".strip()
            for t, v in zip(part["trigger"], part["threshold"], strict=True)]
        grid = part.pivot_table(index="trigger_label", columns="delay_days",
                                values="risk_ratio", sort=False)
        image = ax.imshow(grid.to_numpy(), cmap="RdBu_r", vmin=0.5, vmax=1.5, aspect="auto")
        ax.set_xticks(range(grid.shape[1]), [f"+{d:g} d" for d in grid.columns])
        if k == 0:
            ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
        else:
            ax.tick_params(labelleft=False)
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
        ax.set_title(drug, fontsize=10)
        ax.set_xlabel("delay after the trigger")
    fig.colorbar(image, ax=axes[0].tolist(), label="28-day mortality risk ratio vs usual care")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def search_policies(
    trial: str | Path | TrialSpec = "recovery-tocilizumab",
    *,
    n_patients: int = 200,
    drugs: Sequence[str] = ("tocilizumab", "sarilumab"),
    triggers: Sequence[tuple[str | None, float]] = DEFAULT_TRIGGERS,
    delays_h: Sequence[float] = DEFAULT_DELAYS_H,
    out_dir: str | Path | None = None,
    progress: bool | Callable[[int, int], None] = False,
    **options: Any,
) -> PolicyResult:
    """Evaluate every rule (drug × trigger × delay) on the trial's patients.

    ``options`` go to :func:`run_trial` (``chunk_size``, ``scheduler``, ``cancel``, ...).

    Raises
    ------
    InputError
        an unknown drug or trigger signal, a negative delay, or an invalid trial.
    """
    base = trial if isinstance(trial, TrialSpec) else load_trial(trial)
    from ..pharmacology import drug_names

    for drug in drugs:
        if drug not in drug_names():
            raise InputError(f"unknown drug '{drug}'; fix: use any of "
                             f"{', '.join(sorted(drug_names()))}")
    for signal, _ in triggers:
        if signal is not None:
            _unit(signal)  # any signal a trial criterion accepts; unknown names fail here
    if any(d < 0 for d in delays_h):
        raise InputError("a delay is negative; fix: give delays of 0 h or more")
    rules = [Rule(drug, signal, float(threshold), float(delay))
             for drug in drugs for signal, threshold in triggers for delay in delays_h]
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.update(name=f"{base.name}-policy", size=n_patients, subgroups=[], published={},
                arms=[{"name": base.control}, *[rule.arm() for rule in rules]],
                endpoints=["mortality", "secondary_infection"], primary="mortality")
    design = TrialSpec.model_validate(data)
    result = run_trial(design, n_patients=n_patients, out_dir=out_dir, progress=progress,
                       **options)
    return PolicyResult(design, rules, result.patients)
