"""One run as plain data: run keys and the module-level worker function (seeds: `wom_sim.experiment.seeds`).

A worker (a local process or a Dask worker on another machine) receives a task dict holding only plain data: the
fully resolved scenario as a JSON-able dict and an integer seed. It never receives a lambda, a closure or the
caller's globals, so it works the same under fork, spawn, forkserver and Dask (see docs/experiments.md).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.segments import run_breakdowns
from wom_sim.experiment.store import code_version
from wom_sim.network.graph import Graph
from wom_sim.scenario.loading import build_scenario
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.model import WomModel

# Scenario fields that label a run but cannot change its numbers: left out of the run key.
LABEL_FIELDS = ("name", "description", "base_dir", "seed", "currency")
# A task with ``"breakdowns": True`` also sends back its outcomes per group (`run_breakdowns`) in the frame's
# ``attrs[BREAKDOWNS]``: plain data, pickled with the frame by process pools and Dask alike. They do not change the
# run's numbers, so they are not part of its key.
BREAKDOWNS = "breakdowns"


def scenario_payload(scenario: Scenario) -> dict[str, Any]:
    """A resolved scenario as a plain JSON-able dict (what travels to a worker and what the run key hashes)."""
    return scenario.model_dump(mode="json", by_alias=True)


def canonical_hash(data: Any, length: int = 16) -> str:
    """A short sha256 of a JSON-able value, independent of dict order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def run_key(payload: dict[str, Any], seed: int) -> str:
    """The store key of a run: a hash of its resolved parameters (labels left out), its seed and the code version
    (so runs of different code never share a key)."""
    params = {k: v for k, v in payload.items() if k not in LABEL_FIELDS}
    return canonical_hash({"parameters": params, "seed": int(seed), "code": code_version()})


def make_task(scenario: Scenario, seed: int, key_payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A task: plain data a worker can run anywhere (`run_task`).

    The key hashes every resolved parameter (defaults included, so two spellings of one scenario share a key); the
    worker gets only the values that were set, which rebuild the same scenario and keep validators that look at
    what the user wrote (e.g. trigger options without a trigger) quiet.
    """
    payload = key_payload if key_payload is not None else scenario_payload(scenario)
    sent = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    # `parameters` (the fully resolved scenario) stays with the client: it is the provenance stored in the part.
    return {
        "key": run_key(payload, seed),
        "scenario": sent,
        "seed": int(seed),
        "code": code_version(),
        "parameters": payload,
    }


# Graphs and KOL sets this worker built lately, by network spec, KOL selection and seed. The arms of a comparison
# and the points of a sweep run every replication seed on the same network (common random numbers), and the graph
# and KOLs depend on nothing else (their own streams of the seed): a worker that gets such a task again reuses them
# instead of building them again. Kept read-only (nothing in a run writes to them) and within a budget of stored
# edges (about 12 bytes each), so a worker holds at most a few tens of MB.
SHARED_EDGES = 4_000_000
_shared: OrderedDict[str, tuple[Graph, np.ndarray]] = OrderedDict()


def _shared_key(scenario: Scenario, seed: int) -> str | None:
    """The cache key of a run's graph and KOLs; None for file graphs (the file could change between tasks)."""
    if scenario.network.file is not None:
        return None
    spec = {"network": scenario.network.model_dump(mode="json"), "kols": scenario.kols.select.model_dump(mode="json")}
    return canonical_hash({**spec, "seed": int(seed)})


def _remember(key: str, graph: Graph, kol_ids: np.ndarray) -> None:
    if graph.n_edges > SHARED_EDGES:
        return
    for arr in (graph.indptr, graph.indices, graph.weights, graph.labels, kol_ids):
        if isinstance(arr, np.ndarray):
            arr.flags.writeable = False
    _shared[key] = (graph, kol_ids)
    while sum(g.n_edges for g, _ in _shared.values()) > SHARED_EDGES:
        _shared.popitem(last=False)


def run_task(task: dict[str, Any]) -> pd.DataFrame:
    """Run one task to its horizon; the per-tick metrics with `run_key` and `seed` columns first (and, when the task
    asks for them, the per-group breakdowns in ``attrs[BREAKDOWNS]``).

    Module-level and importable (`wom_sim.experiment.runner.run_task`) so that process pools and Dask send it by
    reference; the scenario is rebuilt and validated from plain data inside the worker.
    """
    scenario = build_scenario(dict(task["scenario"]), f"task {task['key']}")
    seed = int(task["seed"])
    key = _shared_key(scenario, seed)
    graph, kol_ids = _shared.get(key, (None, None)) if key else (None, None)
    if graph is not None:
        _shared.move_to_end(key)
    model = WomModel(scenario, seed=seed, graph=graph, kol_ids=kol_ids)
    if key and graph is None:
        _remember(key, model.graph, model.kol_ids)
    model.collect_mesa = False  # the frame below has every metric; Mesa's per-tick copy would only cost time
    model.run()
    frame = model.metrics_frame()
    frame.insert(0, "run_key", task["key"])
    frame.insert(1, "seed", np.int64(task["seed"]))
    if task.get(BREAKDOWNS):
        frame.attrs[BREAKDOWNS] = run_breakdowns(model.people())
    return frame
