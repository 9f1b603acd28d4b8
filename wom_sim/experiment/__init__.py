"""Experiments: replications with confidence intervals, paired comparisons with common random numbers, parameter
sweeps and Sobol sensitivity, on a local process pool or a Dask cluster, into a resumable result store.

See docs/experiments.md. Module map: `seeds` (the one replication-seed scheme), `runner` (run keys, the worker
function), `executors` (where runs execute), `store` (the Parquet parts and manifest, or memory), `studies` (arms
and replications), `comparison` (paired comparisons and ROI), `sweep_spec` (spec validation and designs), `sweep`
(sweeps and their summary), `attribution` (last-touch shares against switching channels off).
Outcomes and statistics are `wom_sim.analysis`: this package only runs models.

Names are imported lazily, so a worker importing `wom_sim.experiment.runner` pays only for the model.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "seeds": ["replication_seed", "replication_seeds"],
    "runner": ["make_task", "run_key", "run_task"],
    "executors": ["DaskExecutor", "Execution", "Executor", "InProcessExecutor", "Interrupted", "PoolExecutor",
                  "default_workers", "execute", "make_executor"],
    "store": ["MemoryStore", "ResultStore", "StoreWarning"],
    "studies": ["Arm", "StudyResult", "replicate", "summarise_replications"],
    "comparison": ["Comparison", "compare", "load_comparison"],
    "sweep": ["run_sweep", "summarise_sweep"],
    "sweep_spec": ["Sweep", "SweepSpec", "load_sweep"],
    "attribution": ["Attribution", "attribution"],
}  # fmt: skip
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'wom_sim.experiment' has no attribute {name!r}")
    return getattr(importlib.import_module(f"wom_sim.experiment.{_WHERE[name]}"), name)
