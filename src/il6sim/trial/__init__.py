"""In-silico randomised trials of IL-6 blockade, declared as YAML files.

>>> from il6sim.trial import load_trial, run_trial
>>> result = run_trial("recovery-tocilizumab", n_patients=400, out_dir="out/trial")
>>> result.arms                 # risk of each endpoint per arm
>>> result.comparisons          # risk ratio, hazard ratio, log-rank, beside the published ones
>>> result.ordinal              # WHO levels per arm on days 14 and 28 (ordinal endpoints)
>>> print(result.markdown())

A trial file declares the population, eligibility and enrolment window, the arms (drug,
regimen, when treatment starts), the randomisation ratio, size, seed, follow-up, endpoints,
subgroups and the standard-of-care co-treatments given in every arm (``background``;
:mod:`._design`, :mod:`._background`). Patients come from a virtual population calibrated to a
real cohort; each is screened on its untreated course, randomised when first eligible, and simulated
from that moment under every arm (:mod:`._task`); the analysis uses the allocated arm
(:mod:`._analysis`). Shipped trials: ``il6sim/data/trials``; the method: ``docs/trials.md``.
"""

from ._analysis import TrialResult
from ._design import (
    DEFAULT_ENDPOINTS,
    ENDPOINTS,
    Arm,
    Background,
    BackgroundStart,
    SecondDose,
    StartRule,
    TrialSpec,
)
from ._entry import ENTRY_EVENTS, BaselineMix, Criterion, Enrolment, Stratum
from ._load import list_trials, load_trial, trial_from_dict
from ._policy import PolicyResult, Rule, search_policies
from ._report import figures, write_report
from ._run import TrialCancelledError, allocate, allocation_block, check_trial, run_trial
from ._task import TrialTask

__all__ = [
    "DEFAULT_ENDPOINTS",
    "ENDPOINTS",
    "ENTRY_EVENTS",
    "Arm",
    "Background",
    "BackgroundStart",
    "BaselineMix",
    "Criterion",
    "Enrolment",
    "PolicyResult",
    "Rule",
    "SecondDose",
    "StartRule",
    "Stratum",
    "TrialCancelledError",
    "TrialResult",
    "TrialSpec",
    "TrialTask",
    "allocate",
    "allocation_block",
    "check_trial",
    "figures",
    "list_trials",
    "load_trial",
    "run_trial",
    "search_policies",
    "trial_from_dict",
    "write_report",
]
