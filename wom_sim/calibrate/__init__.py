"""Calibration: fit free scenario parameters to observed series and scalars with a noise-aware optimiser.

A target file (YAML) names the free parameters (dotted scenario keys with bounds), the targets (an observed
series from a CSV, e.g. weekly adopters, or a scalar such as an NPS, a churn rate or a repurchase rate, each with
a weight) and the budget. Each trial runs the scenario `replications` times with the same seeds (common random
numbers: two trials differ only by their parameters, not by luck) and scores the mean of the replications:

    loss = sum_k w_k e_k^2 / sum_k w_k,

with e_k the normalised error of target k: for a series the RMSE over its observed ticks divided by `scale`
(default: the mean absolute observed value), for a scalar |simulated - observed| / `scale` (default: |observed|,
i.e. relative error). The optimiser is optuna's TPE (default), optuna's CMA-ES (needs the `cmaes` package) or
scipy's differential evolution. The best parameters are then re-run on fresh seeds, so the reported fit is not
flattered by the seeds the search saw. See docs/calibration.md.

Modules: `targets` (the target file, read and checked), `search` (scoring and the optimisers), `outputs` (what is
written).
"""

from wom_sim.calibrate.outputs import fit_figure, fit_table, report_text, write_outputs
from wom_sim.calibrate.search import CalibrationResult, Evaluation, calibrate, evaluate, measure, target_error
from wom_sim.calibrate.targets import (
    OPTIMISERS,
    Bounds,
    CalibrationSpec,
    Problem,
    Target,
    TargetSpec,
    load_problem,
    scenario_with,
)

__all__ = [
    "OPTIMISERS",
    "Bounds",
    "CalibrationResult",
    "CalibrationSpec",
    "Evaluation",
    "Problem",
    "Target",
    "TargetSpec",
    "calibrate",
    "evaluate",
    "fit_figure",
    "fit_table",
    "load_problem",
    "measure",
    "report_text",
    "scenario_with",
    "target_error",
    "write_outputs",
]
