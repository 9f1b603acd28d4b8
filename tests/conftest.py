"""Shared test helpers: tiny hand-made graphs and small scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from wom_sim.network.graph import Graph, edges_to_csr
from wom_sim.scenario.schema import Scenario


def make_graph(n: int, edges: list[tuple[int, int]], directed: bool = False) -> Graph:
    """A Graph from a hand-written edge list."""
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    indptr, indices, weights = edges_to_csr(n, u, v, None, directed)
    return Graph(n=n, indptr=indptr, indices=indices, weights=weights, directed=directed)


def star(leaves: int) -> Graph:
    """Node 0 joined to nodes 1..leaves."""
    return make_graph(leaves + 1, [(0, i) for i in range(1, leaves + 1)])


def small_scenario(**updates) -> Scenario:
    """The default scenario at a size that runs in well under a second."""
    data = {"ticks": 20, "network": {"n": 400, "m": 3}, "kols": {"select": {"by": "degree", "k": 3}}}
    for dotted, value in updates.items():
        node = data
        *path, last = dotted.split("__")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return Scenario.model_validate(data)


@pytest.fixture
def tiny_star() -> Graph:
    return star(5)
