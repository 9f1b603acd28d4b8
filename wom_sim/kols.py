"""Key opinion leaders: which people of the graph the scenario amplifies (`kols.select`).

Every method returns int64 node indices; ties are broken by the lower index so a choice never depends on
sort internals. Works on any object with the `Graph` attributes (`n`, `indptr`, `indices`, `weights`,
`directed`, `labels`); it does not import `wom_sim.network`, which re-exports `select_kols`.
"""

from __future__ import annotations

import heapq
import time
import warnings
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from wom_sim.scenario import ScenarioError
from wom_sim.schema import KolSelect

if TYPE_CHECKING:
    from wom_sim.network import Graph

PAGERANK_DAMPING = 0.85  # Brin & Page (1998), networkx's default
BETWEENNESS_EXACT_MAX_N = 5000  # above this, sample BETWEENNESS_SAMPLES source nodes
BETWEENNESS_SAMPLES = 500
GREEDY_EDGE_PROB = 0.15  # independent-cascade prob per edge at weight 1 = the default wom.contact_prob
GREEDY_CASCADES = 20  # Monte-Carlo live-edge worlds; Kempe et al. used 10,000 but compare gains, not levels
GREEDY_DIRECTED_POOL = 10  # directed graphs: greedy candidates = top (this x k, at least 100) by degree


def select_kols(graph: Graph, select: KolSelect, rng: np.random.Generator, time_budget: float = 30.0) -> np.ndarray:
    """Choose the KOLs of a graph.

    Parameters
    ----------
    graph : the social graph.
    select : ``kols.select``: the method (``by``), how many (``k``) and, for ``by: ids``, the ids.
    rng : draws of the random, betweenness-sampling and greedy methods.
    time_budget : seconds the greedy method may take before it fills the rest by degree (with a warning).

    Returns
    -------
    int64 node indices, length k (``len(ids)`` for ``by: ids``), in order of choice.

    Raises
    ------
    ScenarioError
        k larger than the graph; an id that is not in the graph.
    """
    if select.by == "ids":
        return _by_ids(graph, select.ids)
    k = select.k
    if k > graph.n:
        raise ScenarioError(f"kols.select.k = {k} is more than the {graph.n} people in the graph")
    if k == 0:
        return np.empty(0, np.int64)
    if select.by == "random":
        return rng.choice(graph.n, size=k, replace=False).astype(np.int64)
    if select.by == "greedy":
        return _greedy(graph, k, rng, time_budget)
    degree = np.diff(graph.indptr).astype(np.int64)
    if select.by == "degree":
        score = [degree]
    elif select.by == "pagerank":
        score = [pagerank(graph)]
    elif select.by == "betweenness":
        score = [_betweenness(graph, rng)]
    else:  # kcore: the innermost shell first, the best-connected in it first
        score = [core_numbers(graph), degree]
    return _top(score, k)


def _top(scores: list[np.ndarray], k: int) -> np.ndarray:
    """Indices of the k best by scores[0], then scores[1], ..., then lower index."""
    # Round floats so that equal scores computed in a different order still tie.
    keys = [np.round(s, 12) if s.dtype.kind == "f" else s for s in scores]
    order = np.lexsort([np.arange(len(scores[0]))] + [-s for s in reversed(keys)])
    return order[:k].astype(np.int64)


def _by_ids(graph: Graph, ids: list[int | str]) -> np.ndarray:
    if graph.labels is not None:
        index = {str(label): i for i, label in enumerate(graph.labels.tolist())}
    else:
        index = {str(i): i for i in range(graph.n)} if graph.n <= 10_000_000 else None
    out = []
    for node in ids:
        key = str(node).strip()
        if index is not None:
            found = index.get(key)
        else:
            found = int(key) if key.lstrip("-").isdigit() and 0 <= int(key) < graph.n else None
        if found is None:
            allowed = "a node id of the graph file" if graph.labels is not None else f"an index 0..{graph.n - 1}"
            raise ScenarioError(f"kols.select.ids: {node!r} is not in the graph (each id must be {allowed})")
        if found in out:
            raise ScenarioError(f"kols.select.ids: {node!r} is listed twice")
        out.append(found)
    return np.asarray(out, dtype=np.int64)


# --------------------------------------------------------------------------------------------- centralities
def pagerank(graph: Graph, damping: float = PAGERANK_DAMPING, tol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    """PageRank by power iteration on the CSR (weights as transition strengths; dangling mass spread evenly).

    References
    ----------
    S. Brin and L. Page, "The anatomy of a large-scale hypertextual Web search engine" (1998).
    """
    n = graph.n
    a = graph.csr()
    out = np.asarray(a.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    at = a.T.tocsr()
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = damping * (at @ (x * inv)) + (damping * x[dangling].sum() + 1 - damping) / n
        if np.abs(new - x).sum() < n * tol:
            return new
        x = new
    return x


def _betweenness(graph: Graph, rng: np.random.Generator) -> np.ndarray:
    """Betweenness (networkx, unweighted: weights are tie strengths, not distances), sampled on big graphs."""
    g = graph.to_networkx()
    if graph.n > BETWEENNESS_EXACT_MAX_N:
        seed = int(rng.integers(2**63 - 1))
        bc = nx.betweenness_centrality(g, k=min(graph.n, BETWEENNESS_SAMPLES), seed=seed, weight=None)
    else:
        bc = nx.betweenness_centrality(g, weight=None)
    return np.fromiter((bc[i] for i in range(graph.n)), np.float64, graph.n)


def _neighbour_slots(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions in `indices` of the out-edges of `nodes`, concatenated (vectorised CSR gather)."""
    starts, counts = indptr[nodes], indptr[nodes + 1] - indptr[nodes]
    total = int(counts.sum())
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)


def _unique_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (by sorting: np.unique's hash path is slow on int64 keys)."""
    a = np.sort(a)
    first = np.flatnonzero(np.concatenate([[True], a[1:] != a[:-1]])) if a.size else np.empty(0, np.int64)
    return a[first], np.diff(np.append(first, a.size))


def _simple_undirected(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the graph with directions dropped."""
    if not graph.directed:
        return graph.indptr, graph.indices
    a = graph.csr()
    a = ((a + a.T) > 0).tocsr()
    return a.indptr.astype(np.int64), a.indices


def core_numbers(graph: Graph) -> np.ndarray:
    """Core number of each node (directions dropped), by vectorised peeling.

    References
    ----------
    V. Batagelj and M. Zaversnik, "An O(m) algorithm for cores decomposition of networks" (2003).
    """
    indptr, indices = _simple_undirected(graph)
    degree = np.diff(indptr).astype(np.int64)
    core = np.zeros(graph.n, np.int64)
    alive = np.ones(graph.n, bool)
    level = 0
    while alive.any():
        level = max(level, int(degree[alive].min()))
        peel = np.flatnonzero(alive & (degree <= level))
        while peel.size:  # removing nodes lowers their neighbours' degrees; peel again at the same level
            alive[peel] = False
            core[peel] = level
            hit = indices[_neighbour_slots(indptr, peel)]
            hit, lost = _unique_counts(hit[alive[hit]])
            degree[hit] -= lost
            peel = hit[degree[hit] <= level]
    return core


# --------------------------------------------------------------------------------------------- greedy
def _greedy(graph: Graph, k: int, rng: np.random.Generator, time_budget: float) -> np.ndarray:
    """Greedy influence maximisation (CELF) under independent cascade, p = min(1, 0.15 * weight).

    Spread is estimated on GREEDY_CASCADES live-edge worlds drawn once (each edge open with prob p), the same
    for every candidate, so gains are compared without Monte-Carlo noise between them. Undirected: a seed set
    reaches the union of its connected components in a world (one coin per edge suffices, as a cascade
    crosses an edge at most once). Directed: a breadth-first search over the open out-edges of all worlds at
    once, stopping at people already reached. When ``time_budget`` runs out, the rest are chosen by degree.

    References
    ----------
    D. Kempe, J. Kleinberg, E. Tardos, "Maximizing the spread of influence through a social network" (2003);
    J. Leskovec et al., "Cost-effective outbreak detection in networks" (CELF, 2007).
    """
    t0 = time.perf_counter()
    spread = _ComponentSpread(graph, rng) if not graph.directed else _ReachSpread(graph, rng)
    degree = np.diff(graph.indptr).astype(np.int64)
    candidates = spread.candidates(k, degree)
    gains = spread.gains(candidates, t0 + time_budget)
    chosen: list[int] = []
    if gains is not None:
        # Heap of (-gain, node, pick round it was computed for); a stale gain is an upper bound (submodularity).
        heap = list(zip((-gains).tolist(), candidates.tolist(), [0] * len(candidates), strict=True))
        heapq.heapify(heap)
        while len(chosen) < k and heap and time.perf_counter() - t0 < time_budget:
            neg_gain, node, computed = heapq.heappop(heap)
            if computed == len(chosen):
                spread.add(node)
                chosen.append(node)
            else:
                heapq.heappush(heap, (-spread.gain(node), node, len(chosen)))
    if len(chosen) < k:
        warnings.warn(
            f"greedy KOL selection ran out of its {time_budget:g} s budget after {len(chosen)} of {k} picks; "
            "the rest were chosen by degree",
            stacklevel=3,
        )
        rest = _top([np.where(np.isin(np.arange(graph.n), chosen), -1, degree)], k - len(chosen))
        chosen.extend(rest.tolist())
    return np.asarray(chosen, dtype=np.int64)


def _edge_probs(graph: Graph) -> np.ndarray:
    w = graph.weights if graph.weights is not None else np.ones(graph.n_edges)
    return np.minimum(1.0, GREEDY_EDGE_PROB * w)


class _ComponentSpread:
    """Undirected graphs: the component of each node in each live-edge world."""

    def __init__(self, graph: Graph, rng: np.random.Generator):
        rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
        once = rows < graph.indices  # each undirected edge once
        u, v, p = rows[once], graph.indices[once], _edge_probs(graph)[once]
        # Component ids numbered across worlds; int32 while they fit.
        self.label = np.empty((GREEDY_CASCADES, graph.n), np.int32 if graph.n < 2**31 // GREEDY_CASCADES else np.int64)
        sizes, offset = [], 0
        for world in range(GREEDY_CASCADES):
            live = rng.random(p.size) < p
            a = sp.csr_matrix((np.ones(int(live.sum()), np.int8), (u[live], v[live])), shape=(graph.n, graph.n))
            count, label = connected_components(a, directed=False)
            self.label[world] = label + offset
            sizes.append(np.bincount(label, minlength=count))
            offset += count
        self.size = np.concatenate(sizes).astype(np.float64)
        self.covered = np.zeros(offset, bool)
        self.n = graph.n

    def candidates(self, k: int, degree: np.ndarray) -> np.ndarray:
        return np.arange(self.n)

    def gains(self, nodes: np.ndarray, deadline: float) -> np.ndarray:
        return self.size[self.label[:, nodes]].mean(axis=0)

    def gain(self, node: int) -> float:
        comp = self.label[:, node]
        return float((self.size[comp] * ~self.covered[comp]).mean())

    def add(self, node: int) -> None:
        self.covered[self.label[:, node]] = True


class _ReachSpread:
    """Directed graphs: breadth-first search over the open out-edges of every live-edge world at once."""

    def __init__(self, graph: Graph, rng: np.random.Generator):
        p = _edge_probs(graph)
        self.live = rng.random((GREEDY_CASCADES, p.size)) < p
        self.reached = np.zeros(GREEDY_CASCADES * graph.n, bool)  # flat (world, node), by the chosen seeds
        self.visited = np.zeros(GREEDY_CASCADES * graph.n, bool)  # scratch of one search, cleared after it
        self.graph = graph

    def candidates(self, k: int, degree: np.ndarray) -> np.ndarray:
        # Reach of every node would be a search per node; the hubs are where a good seed is.
        strength = np.bincount(np.repeat(np.arange(self.graph.n), degree), _edge_probs(self.graph), self.graph.n)
        return np.sort(_top([strength, degree], min(self.graph.n, max(100, GREEDY_DIRECTED_POOL * k))))

    def gains(self, nodes: np.ndarray, deadline: float) -> np.ndarray | None:
        out = np.empty(len(nodes))
        for i, node in enumerate(nodes.tolist()):
            if time.perf_counter() > deadline:
                return None
            out[i] = self.gain(node)
        return out

    def _search(self, node: int) -> np.ndarray:
        """Flat (world, node) keys newly reached from `node` in each world."""
        n, worlds = self.graph.n, np.arange(GREEDY_CASCADES)
        frontier = worlds * n + node
        frontier = frontier[~self.reached[frontier]]
        seen = [frontier]
        visited = self.visited
        visited[frontier] = True
        while frontier.size:
            world, person = np.divmod(frontier, n)
            slots = _neighbour_slots(self.graph.indptr, person)
            world = np.repeat(world, self.graph.indptr[person + 1] - self.graph.indptr[person])
            open_ = self.live[world, slots]
            nxt = _unique_counts(world[open_] * n + self.graph.indices[slots[open_]])[0]
            frontier = nxt[~visited[nxt] & ~self.reached[nxt]]
            visited[frontier] = True
            seen.append(frontier)
        seen = np.concatenate(seen)
        visited[seen] = False
        return seen

    def gain(self, node: int) -> float:
        return self._search(node).size / GREEDY_CASCADES

    def add(self, node: int) -> None:
        self.reached[self._search(node)] = True
