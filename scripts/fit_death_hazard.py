"""Fit the death hazard's constants (il6sim.clinical._death) to data/targets/death.yaml.

Usage: PYTHONPATH=src python scripts/fit_death_hazard.py [N] [SEED]

Simulates N (default 600) untreated patients of the shipped calibrated COVID-19 population,
fits HAZARD_BASE, HAZARD_SLOPE, HAZARD_HIGH_SLOPE and HAZARD_AGE to the rows with role: fitted
and prints the coefficients with each row's target and fitted value. Copy the coefficients into
src/il6sim/clinical/_death.py, then refit the population (il6sim population fit).
"""

import sys

from il6sim.population._death_fit import death_fit_data, fit_death_hazard

n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
fit = fit_death_hazard(death_fit_data(n, seed=seed))
print(f"HAZARD_BASE = {fit['base']:.3g}  # per day\nHAZARD_SLOPE = {fit['slope']:.3g}"
      f"\nHAZARD_HIGH_SLOPE = {fit['high_slope']:.3g}\nHAZARD_AGE = {fit['age']:.3g}")
print(fit["rows"].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
