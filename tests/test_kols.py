"""Tests of wom_sim/kols.py: each KOL method on graphs whose answer is known."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from wom_sim.errors import ScenarioError
from wom_sim.network.build import build_graph
from wom_sim.network.graph import Graph, edges_to_csr
from wom_sim.network.kols import (
    _ComponentSpread,
    _ReachSpread,
    betweenness,
    check_kols_fit,
    core_numbers,
    pagerank,
    select_kols,
)
from wom_sim.scenario.loading import build_scenario
from wom_sim.scenario.schema import KolSelect, NetworkSpec


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def graph(edges, n=None, directed=False, weights=None, labels=None) -> Graph:
    u, v = np.array(edges).T
    n = n or int(max(u.max(), v.max())) + 1
    indptr, indices, w = edges_to_csr(n, u, v, None if weights is None else np.asarray(weights), directed)
    return Graph(n, indptr, indices, w, directed, labels)


def star(center: int, leaves: range) -> list[tuple[int, int]]:
    return [(center, leaf) for leaf in leaves]


def kols(g: Graph, by: str, k: int = 1, **kw) -> list[int]:
    return select_kols(g, KolSelect(by=by, k=k, **kw), rng(), **({"time_budget": 30.0})).tolist()


# A star on 0..8 whose leaf 8 leads a path 8-9-10: node 0 tops degree, pagerank and betweenness.
STAR_PATH = graph([*star(0, range(1, 9)), (8, 9), (9, 10)])


@pytest.mark.parametrize("by", ["degree", "pagerank", "betweenness", "greedy"])
def test_star_centre_is_top(by: str) -> None:
    assert kols(STAR_PATH, by, 1) == [0]


def test_second_place() -> None:
    # 8 has degree 2 like 9 but lies between the star and the path; degree ties break by lower index.
    assert kols(STAR_PATH, "degree", 3) == [0, 8, 9]
    assert kols(STAR_PATH, "betweenness", 2) == [0, 8]


def test_sampled_betweenness_on_big_graph() -> None:
    g = graph([*star(0, range(1, 5001)), *star(5001, range(5002, 6001)), (0, 5001)])
    assert g.n > 5000
    assert kols(g, "betweenness", 2) == [0, 5001]


@pytest.mark.parametrize("directed", [False, True])
def test_vectorised_betweenness_matches_networkx(directed: bool) -> None:
    h = nx.gnm_random_graph(150, 300, seed=6, directed=directed)  # sparse: several components, many levels
    g = graph(list(h.edges), n=150, directed=directed)
    bc, used = betweenness(g, np.arange(150))
    want = nx.betweenness_centrality(h, normalized=False)
    assert used == 150
    assert np.allclose(bc / (1 if directed else 2), [want[i] for i in range(150)])


def test_kcore_prefers_the_clique() -> None:
    # A 4-clique {0,1,2,3} (core 3); 3 also holds a star of 6 leaves (core 1), so 3 has the top degree.
    clique = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    g = graph([*clique, *star(3, range(4, 10)), *star(10, range(11, 21))])
    assert kols(g, "degree", 1) == [10]
    assert kols(g, "kcore", 4) == [3, 0, 1, 2]  # core 3 first; inside it the higher degree, then lower index


@pytest.mark.parametrize("directed", [False, True])
def test_core_numbers_match_networkx(directed: bool) -> None:
    h = nx.gnm_random_graph(300, 1200, seed=4, directed=directed)
    g = graph(list(h.edges), n=300, directed=directed)
    want = nx.core_number(h.to_undirected() if directed else h)
    assert core_numbers(g).tolist() == [want[i] for i in range(300)]
    ba = build_graph(NetworkSpec(generator="powerlaw_cluster", n=500, m=3, p=0.3), rng(2))
    want = nx.core_number(ba.to_networkx())
    assert core_numbers(ba).tolist() == [want[i] for i in range(500)]


def test_pagerank_matches_networkx() -> None:
    h = nx.gnm_random_graph(200, 800, seed=3, directed=True)
    w = rng(1).uniform(0.5, 2.0, h.number_of_edges())
    g = graph(list(h.edges), n=200, directed=True, weights=w)
    for (a, b), x in zip(h.edges, w, strict=True):
        h[a][b]["weight"] = x
    want = nx.pagerank(h, tol=1e-12)
    assert np.allclose(pagerank(g), [want[i] for i in range(200)], atol=1e-8)


def test_random() -> None:
    g = build_graph(NetworkSpec(n=200), rng())
    a = select_kols(g, KolSelect(by="random", k=20), rng(5))
    b = select_kols(g, KolSelect(by="random", k=20), rng(5))
    assert a.dtype == np.int64 and len(set(a.tolist())) == 20 and a.min() >= 0 and a.max() < 200
    assert np.array_equal(a, b)
    assert sorted(select_kols(g, KolSelect(by="random", k=200), rng()).tolist()) == list(range(200))


def test_ids() -> None:
    assert kols(STAR_PATH, "ids", ids=[3, "5"]) == [3, 5]
    labelled = graph([(0, 1), (1, 2)], labels=np.array(["ann", "bob", "7"], dtype=object))
    assert kols(labelled, "ids", ids=["bob", 7]) == [1, 2]
    ints = graph([(0, 1), (1, 2)], labels=np.array([10, 20, 30]))
    assert kols(ints, "ids", ids=[30, "10"]) == [2, 0]
    with pytest.raises(ScenarioError, match="kols.select.ids: 'zed' is not in the graph"):
        kols(labelled, "ids", ids=["zed"])
    with pytest.raises(ScenarioError, match="kols.select.ids: 11 is not in the graph .*0..10"):
        kols(STAR_PATH, "ids", ids=[11])
    with pytest.raises(ScenarioError, match="listed twice"):
        kols(STAR_PATH, "ids", ids=[1, 1])


def test_k_zero_and_too_many() -> None:
    for by in ["degree", "pagerank", "betweenness", "kcore", "random", "greedy"]:
        out = select_kols(STAR_PATH, KolSelect(by=by, k=0), rng())
        assert out.dtype == np.int64 and out.size == 0
    with pytest.raises(ScenarioError, match="kols.select.k = 12 is more than the 11 people"):
        kols(STAR_PATH, "degree", 12)


def test_ties_break_by_lower_index() -> None:
    ring = graph([(i, (i + 1) % 10) for i in range(10)])
    for by in ["degree", "pagerank", "kcore"]:
        assert kols(ring, by, 3) == [0, 1, 2]


@pytest.mark.parametrize("directed", [False, True])
def test_greedy_picks_the_hubs_of_two_disjoint_stars(directed: bool) -> None:
    g = graph([*star(0, range(1, 11)), *star(11, range(12, 19))], directed=directed)
    assert sorted(kols(g, "greedy", 2)) == [0, 11]


@pytest.mark.parametrize("directed", [False, True])
def test_lazy_greedy_equals_plain_greedy(directed: bool) -> None:
    """CELF's lazy, batched evaluation picks exactly what evaluating every candidate each round picks."""
    h = nx.gnm_random_graph(300, 900, seed=9, directed=directed)
    g = graph(list(h.edges), n=300, directed=directed)
    k = 8
    lazy = select_kols(g, KolSelect(by="greedy", k=k), rng(4)).tolist()
    spread = (_ReachSpread if directed else _ComponentSpread)(g, rng(4))  # the same live-edge worlds
    candidates = spread.candidates(k, g.out_degree())
    plain: list[int] = []
    for _ in range(k):
        gains = spread.gains(candidates, np.inf)
        gains[np.isin(candidates, plain)] = -np.inf
        plain.append(int(candidates[np.lexsort((candidates, -gains))[0]]))
        spread.add(plain[-1])
    assert lazy == plain


def test_greedy_weights_raise_edge_probability() -> None:
    # Two stars of 6 leaves; the second has strong ties (p = 0.15 * weight capped at 1), so its hub goes first.
    edges = [*star(0, range(1, 7)), *star(7, range(8, 14))]
    g = graph(edges, weights=[1.0] * 6 + [6.0] * 6)
    assert kols(g, "greedy", 1) == [7]


def test_greedy_out_of_time_fills_by_degree() -> None:
    g = graph([*star(0, range(1, 11)), *star(11, range(12, 16)), (16, 17)])
    with pytest.warns(UserWarning, match="ran out of its 0 s budget after 0 of 3 picks"):
        out = select_kols(g, KolSelect(by="greedy", k=3), rng(), time_budget=0.0)
    assert out.tolist() == [0, 11, 1]


def test_check_kols_fit_refuses_more_kols_than_a_generated_graph_has_people_before_building_it():
    def scenario(kols_k, campaign):
        raw = {"network": {"n": 50, "m": 2}, "kols": {"select": {"by": "degree", "k": kols_k}},
               "interventions": [{"kind": "kol_campaign", **campaign}]}  # fmt: skip
        return build_scenario(raw, "test")

    check_kols_fit(scenario(50, {"select": {"by": "random", "k": 50}}))  # everyone: fits
    check_kols_fit(scenario(5, {}))  # the scenario's own KOLs
    check_kols_fit(scenario(5, {"select": {"by": "ids", "ids": [1, 2]}}))  # ids are checked against the graph
    with pytest.raises(ScenarioError, match=r"^kols.select.k = 51 is more than the 50 people"):
        check_kols_fit(scenario(51, {}))
    with pytest.raises(ScenarioError, match=r"^interventions.0.select.k \(kol_campaign\) = 60 is more than the 50"):
        check_kols_fit(scenario(5, {"select": {"by": "degree", "k": 60}}))
