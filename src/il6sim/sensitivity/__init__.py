"""Global sensitivity analysis: which uncertain parameters drive il6sim's answers.

- :func:`parameter_space` — the uncertain parameters and their ranges (a declaration's
  ``range``, else a factor by kind from ``il6sim/data/sensitivity.yaml``);
- :class:`Study` / :func:`run_study` — Morris screening or Sobol indices (SALib) of a scenario's
  outcomes and of a treatment's effect on death, batched on the fast engine through
  :func:`il6sim.runner.run_chunked` (stored, resumable, Dask-ready);
- :mod:`il6sim.sensitivity._analysis` — the SALib wrappers, usable with any vectorised model.

Command line: ``il6sim sensitivity`` (docs/sensitivity.md).
"""

from ._analysis import morris_design, morris_indices, problem, sobol_design, sobol_indices
from ._space import Uncertain, parameter_space
from ._study import OUTPUTS, Study, run_study

__all__ = [
    "OUTPUTS",
    "Study",
    "Uncertain",
    "morris_design",
    "morris_indices",
    "parameter_space",
    "problem",
    "run_study",
    "sobol_design",
    "sobol_indices",
]
