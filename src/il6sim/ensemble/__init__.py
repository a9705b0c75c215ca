"""Parameter uncertainty: an ensemble of parameter sets that all reproduce the calibration targets.

- :func:`build_ensemble` — ABC-MCMC over the most influential model-level parameters, with every
  endotoxemia and infection target as a constraint (:mod:`._build`, :mod:`._abc`);
- :func:`load_ensemble` — the shipped ensemble (``il6sim/data/ensembles/covid19``) or a built one;
- :func:`target_values` — every calibration target for a batch of parameter sets.

A prediction run once per member (``il6sim trial ... --ensemble``) gives a model-uncertainty
interval beside the sampling interval. Command line: ``il6sim ensemble``.
"""

from ._build import TARGET_SETS, build_ensemble, ensemble_parameters, target_values
from ._store import Ensemble, load_ensemble

__all__ = [
    "TARGET_SETS",
    "Ensemble",
    "build_ensemble",
    "ensemble_parameters",
    "load_ensemble",
    "target_values",
]
