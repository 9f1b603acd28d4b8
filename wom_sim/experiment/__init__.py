"""Experiments: replications with confidence intervals, paired comparisons with common random numbers, parameter
sweeps and Sobol sensitivity, on a local process pool or a Dask cluster, into a resumable result store.

See docs/experiments.md. Module map: `runner` (seeds, run keys, the worker function), `executors` (where runs
execute), `store` (the Parquet parts and manifest), `stats` (outcomes and CIs), `studies` (replications and
compare), `sweep_spec` (spec validation and designs), `sweep` (sweeps and their summary).

Names are imported lazily, so a worker importing `wom_sim.experiment.runner` pays only for the model.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "runner": ["make_task", "replication_seed", "replication_seeds", "run_key", "run_task"],
    "executors": ["DaskExecutor", "Execution", "Executor", "InProcessExecutor", "Interrupted", "PoolExecutor",
                  "default_workers", "execute", "make_executor"],
    "store": ["ResultStore", "StoreWarning"],
    "stats": ["OUTCOMES", "mean_ci", "paired_difference", "run_outcomes", "timeseries_ci"],
    "studies": ["Arm", "StudyResult", "compare", "run_replications", "summarise_compare", "summarise_replications"],
    "sweep": ["run_sweep", "summarise_sweep"],
    "sweep_spec": ["Sweep", "SweepSpec", "load_sweep"],
}  # fmt: skip
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'wom_sim.experiment' has no attribute {name!r}")
    return getattr(importlib.import_module(f"wom_sim.experiment.{_WHERE[name]}"), name)
