"""Key opinion leaders: which people of the graph the scenario amplifies (`kols.select`).

Every method returns int64 node indices; ties are broken by the lower index so a choice never depends on
sort internals. Works on any object with the `Graph` attributes (`n`, `indptr`, `indices`, `weights`,
`directed`, `labels`).
"""

from __future__ import annotations

import time
import warnings

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from wom_sim.errors import ScenarioError
from wom_sim.network.graph import Graph, out_edges, sort_unique
from wom_sim.scenario.schema import KolSelect

PAGERANK_DAMPING = 0.85  # Brin & Page (1998), networkx's default
BETWEENNESS_EXACT_MAX_N = 5000  # above this, sample BETWEENNESS_SAMPLES source nodes
BETWEENNESS_SAMPLES = 500
GREEDY_EDGE_PROB = 0.15  # independent-cascade prob per edge at weight 1 = the default wom.contact_prob
GREEDY_CASCADES = 20  # Monte-Carlo live-edge worlds; Kempe et al. used 10,000 but compare gains, not levels
GREEDY_DIRECTED_POOL = 10  # directed graphs: greedy candidates = top (this x k, at least 100) by degree


def check_kols_fit(scenario) -> None:
    """Refuse, before any graph is built, a selection of more KOLs than a generated graph has people.

    `select_kols` finds this only when a run starts, so a sweep or an optimisation failed at the first point or
    plan that hires too many, after every run before it. File graphs are left to `select_kols`: their size is
    known only once read.
    """
    if scenario.network.file is not None:
        return
    n = scenario.network.n
    selections = [("kols.select.k", scenario.kols.select)] + [
        (f"interventions.{i}.select.k ({entry.kind})", getattr(entry, "select", None))
        for i, entry in enumerate(scenario.interventions)
    ]
    for key, select in selections:
        if select is not None and select.by != "ids" and select.k > n:
            raise ScenarioError(f"{key} = {select.k} is more than the {n:,} people in the graph (network.n)")


def select_kols(
    graph: Graph, select: KolSelect, rng: np.random.Generator, time_budget: float = 30.0,
    among: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Choose the KOLs of a graph.

    Parameters
    ----------
    graph : the social graph.
    select : ``kols.select``: the method (``by``), how many (``k``) and, for ``by: ids``, the ids.
    rng : draws of the random, betweenness-sampling and greedy methods.
    time_budget : seconds for greedy (then the rest by degree) and sampled betweenness (then fewer sources);
        either warns when it runs out.
    among : bool per node, or None: choose only among these (a targeted campaign); not for greedy or ids.

    Returns
    -------
    int64 node indices, length k (``len(ids)`` for ``by: ids``), in order of choice.

    Raises
    ------
    ScenarioError
        k larger than the graph (or than `among`); an id that is not in the graph.
    """
    if select.by == "ids":
        return _by_ids(graph, select.ids)
    k = select.k
    if k > graph.n:
        raise ScenarioError(f"kols.select.k = {k} is more than the {graph.n} people in the graph")
    if among is not None and k > np.count_nonzero(among):
        raise ScenarioError(f"select.k = {k} is more than the {np.count_nonzero(among)} people the target names")
    if k == 0:
        return np.empty(0, np.int64)
    if select.by == "random":
        if among is not None:
            return rng.choice(np.flatnonzero(among), size=k, replace=False).astype(np.int64)
        return rng.choice(graph.n, size=k, replace=False).astype(np.int64)
    if select.by == "greedy":
        return _greedy(graph, k, rng, time_budget)
    degree = np.diff(graph.indptr).astype(np.int64)
    if select.by == "degree":
        score = [degree]
    elif select.by == "pagerank":
        score = [pagerank(graph)]
    elif select.by == "betweenness":
        score = [_betweenness(graph, rng, time_budget)]
    else:  # kcore: the innermost shell first, the best-connected in it first
        score = [core_numbers(graph), degree]
    if among is not None:  # the people named first, then each ranking among them
        score = [among.astype(np.int8), *score]
    return _top(score, k)


def _top(scores: list[np.ndarray], k: int) -> np.ndarray:
    """Indices of the k best by scores[0], then scores[1], ..., then lower index."""
    # Round floats (relative to the largest) so that equal scores summed in a different order still tie.
    keys = [np.round(s / (np.abs(s).max() or 1.0), 12) if s.dtype.kind == "f" else s for s in scores]
    order = np.lexsort([np.arange(len(scores[0]))] + [-s for s in reversed(keys)])
    return order[:k].astype(np.int64)


def _by_ids(graph: Graph, ids: list[int | str]) -> np.ndarray:
    """File graphs: match the ids as text against the file's labels (7 matches "7"); else node indices."""
    index = None if graph.labels is None else {str(label): i for i, label in enumerate(graph.labels.tolist())}
    out: dict[int, None] = {}
    for node in ids:
        key = str(node).strip()
        if index is not None:
            found = index.get(key)
        else:
            found = int(key) if key.lstrip("-").isdigit() and 0 <= int(key) < graph.n else None
        if found is None:
            allowed = "a node id of the graph file" if index is not None else f"an index 0..{graph.n - 1}"
            raise ScenarioError(f"kols.select.ids: {node!r} is not in the graph (each id must be {allowed})")
        if found in out:
            raise ScenarioError(f"kols.select.ids: {node!r} is listed twice")
        out[found] = None
    return np.fromiter(out, np.int64, len(out))


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


def _betweenness(graph: Graph, rng: np.random.Generator, time_budget: float) -> np.ndarray:
    """Betweenness, unweighted (weights are tie strengths, not distances): networkx exact on small graphs,
    else Brandes' sums from BETWEENNESS_SAMPLES random sources (vectorised here; networkx takes ~0.25 s per
    source at 20k nodes), as many as ``time_budget`` allows.
    """
    if graph.n <= BETWEENNESS_EXACT_MAX_N:
        bc = nx.betweenness_centrality(graph.to_networkx(), weight=None)
        return np.fromiter((bc[i] for i in range(graph.n)), np.float64, graph.n)
    sources = rng.choice(graph.n, size=min(graph.n, BETWEENNESS_SAMPLES), replace=False)
    bc, used = betweenness(graph, sources, time.perf_counter() + time_budget)
    if used < len(sources):
        warnings.warn(
            f"betweenness KOL selection used {used} of {len(sources)} sampled sources in its {time_budget:g} s budget",
            stacklevel=3,
        )
    return bc


def betweenness(graph: Graph, sources: np.ndarray, deadline: float = np.inf) -> tuple[np.ndarray, int]:
    """Unnormalised shortest-path betweenness summed over ``sources`` (all nodes: exact, each undirected pair
    counted twice). Breadth-first from a batch of sources at once: each level is one sparse product of the
    (batch x n) frontier with the adjacency, forward for path counts, backward for dependencies.

    Returns the sums and how many sources were used before ``deadline`` (at least one batch).

    References
    ----------
    U. Brandes, "A faster algorithm for betweenness centrality", J. Math. Sociology 25 (2001);
    U. Brandes and C. Pich, "Centrality estimation in large networks" (2007) for the sampling.
    """
    n = graph.n
    a = sp.csr_matrix((np.ones(graph.n_edges), graph.indices, graph.indptr), shape=(n, n))
    at = a.T.tocsr() if graph.directed else a  # the backward sweep walks edges against their direction
    bc = np.zeros(n)
    # Sources in a batch share each sparse product (64 at once is ~5x faster per source than 4).
    batch = int(np.clip(10_000_000 // n, 1, 64))  # (batch x n) arrays: ~20 B each, plus sparse temporaries
    used = 0
    for first in range(0, len(sources), batch):
        if used and time.perf_counter() > deadline:
            break
        roots = np.asarray(sources[first : first + batch])
        b = roots.size
        dist = np.full((b, n), -1, np.int32)
        sigma = np.zeros((b, n))  # number of shortest paths from the root
        dist[np.arange(b), roots], sigma[np.arange(b), roots] = 0, 1.0
        levels = [(np.arange(b), roots)]
        while True:  # forward: the next level's path counts are the frontier's counts times A
            front = sp.csr_matrix((sigma[levels[-1]], levels[-1]), shape=(b, n))
            reach = (front @ a).tocoo()
            new = dist[reach.row, reach.col] == -1
            if not new.any():
                break
            rows, cols = reach.row[new], reach.col[new]
            dist[rows, cols], sigma[rows, cols] = len(levels), reach.data[new]
            levels.append((rows, cols))
        delta = np.zeros((b, n))
        for depth in range(len(levels) - 1, 0, -1):  # deepest first, so a node's delta is complete when used
            rows, cols = levels[depth]
            back = sp.csr_matrix(((1 + delta[rows, cols]) / sigma[rows, cols], (rows, cols)), shape=(b, n)) @ at
            back = back.tocoo()
            pred = dist[back.row, back.col] == depth - 1
            r, c = back.row[pred], back.col[pred]
            delta[r, c] += sigma[r, c] * back.data[pred]
        delta[np.arange(b), roots] = 0
        bc += delta.sum(axis=0)
        used += b
    return bc, used


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
            hit = indices[out_edges(indptr, peel)[0]]
            hit, lost = sort_unique(hit[alive[hit]], return_counts=True)
            degree[hit] -= lost
            peel = hit[degree[hit] <= level]
    return core


# --------------------------------------------------------------------------------------------- greedy
def _greedy(graph: Graph, k: int, rng: np.random.Generator, time_budget: float) -> np.ndarray:
    """Greedy influence maximisation (CELF) under independent cascade, p = min(1, 0.15 * weight).

    Spread is estimated on GREEDY_CASCADES live-edge worlds drawn once (each edge open with prob p), the same
    for every candidate, so gains are compared without Monte-Carlo noise between them. Undirected: a seed set
    reaches the union of its connected components in a world (one coin per edge suffices, as a cascade
    crosses an edge at most once). Directed: a breadth-first search in each world, among the strongest
    candidates only (see GREEDY_DIRECTED_POOL). When ``time_budget`` runs out, the rest are chosen by degree.

    References
    ----------
    D. Kempe, J. Kleinberg, E. Tardos, "Maximizing the spread of influence through a social network" (2003);
    J. Leskovec et al., "Cost-effective outbreak detection in networks" (CELF, lazy evaluation; 2007).
    """
    deadline = time.perf_counter() + time_budget
    spread = _ComponentSpread(graph, rng) if not graph.directed else _ReachSpread(graph, rng)
    degree = np.diff(graph.indptr).astype(np.int64)
    candidates = spread.candidates(k, degree)
    bound = spread.gains(candidates, deadline)  # a gain computed before the last pick is an upper bound
    fresh = np.ones(len(candidates), bool)
    chosen: list[int] = []
    while bound is not None and len(chosen) < k and time.perf_counter() < deadline:
        # Lazy evaluation in batches: refresh the `size` best bounds at once (vectorised); when the best fresh
        # gain beats every bound outside the batch, it is the greedy pick. Else look at 4x as many.
        size = 16
        while True:
            if size < len(candidates):
                part = np.argpartition(-bound, size)
                top, outside = part[:size], bound[part[size]]
            else:
                top, outside = np.arange(len(candidates)), -np.inf
            if not _refresh(spread, candidates, bound, fresh, top, deadline):
                bound = None
                break
            if bound[top].max() >= outside:
                if bound[top].max() == outside:  # bounds tied with the best outside the batch: a lower index?
                    top = np.flatnonzero(bound >= outside)
                    if not _refresh(spread, candidates, bound, fresh, top, deadline):
                        bound = None
                        break
                best = top[np.lexsort((candidates[top], -bound[top]))[0]]
                spread.add(int(candidates[best]))
                chosen.append(int(candidates[best]))
                bound[best], fresh[:] = -np.inf, False
                break
            size *= 4
    if len(chosen) < k:
        warnings.warn(
            f"greedy KOL selection ran out of its {time_budget:g} s budget after {len(chosen)} of {k} picks; "
            "the rest were chosen by degree",
            stacklevel=3,
        )
        rest = _top([np.where(np.isin(np.arange(graph.n), chosen), -1, degree)], k - len(chosen))
        chosen.extend(rest.tolist())
    return np.asarray(chosen, dtype=np.int64)


def _refresh(spread, candidates: np.ndarray, bound: np.ndarray, fresh: np.ndarray, which, deadline: float) -> bool:
    """Recompute the stale gains among `which` in place; False when the deadline passed."""
    stale = which[~fresh[which]]
    gains = spread.gains(candidates[stale], deadline)
    if gains is None:
        return False
    bound[stale], fresh[stale] = gains, True
    return True


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
            count, label = connected_components(a, directed=True, connection="weak")  # = undirected, cheaper
            self.label[world] = label + offset
            sizes.append(np.bincount(label, minlength=count))
            offset += count
        self.size = np.concatenate(sizes).astype(np.float64)
        self.covered = np.zeros(offset, bool)
        self.n = graph.n

    def candidates(self, k: int, degree: np.ndarray) -> np.ndarray:
        return np.arange(self.n)

    def gains(self, nodes: np.ndarray, deadline: float) -> np.ndarray:
        """Mean size over worlds of each node's component, 0 where a chosen seed already covers it."""
        out = np.empty(len(nodes))
        for i in range(0, len(nodes), 100_000):  # bounds the (worlds x chunk) temporaries
            comp = self.label[:, nodes[i : i + 100_000]]
            out[i : i + 100_000] = (self.size[comp] * ~self.covered[comp]).mean(axis=0)
        return out

    def add(self, node: int) -> None:
        self.covered[self.label[:, node]] = True


class _ReachSpread:
    """Directed graphs: a breadth-first search (scipy, compiled) over the open out-edges of each world."""

    def __init__(self, graph: Graph, rng: np.random.Generator):
        rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
        p = _edge_probs(graph)
        self.worlds = []
        for _ in range(GREEDY_CASCADES):
            live = rng.random(p.size) < p
            ones = np.ones(int(live.sum()), np.int8)
            self.worlds.append(sp.csr_matrix((ones, (rows[live], graph.indices[live])), shape=(graph.n, graph.n)))
        self.reached = np.zeros((GREEDY_CASCADES, graph.n), bool)  # by the chosen seeds, closed under reach
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
            out[i] = np.mean([(~self.reached[w][reach]).sum() for w, reach in enumerate(self._reach(node))])
        return out

    def _reach(self, node: int) -> list[np.ndarray]:
        """People reached from `node` in each world (`reached` is closed, so the new ones are reach - reached)."""
        return [
            np.empty(0, np.int64) if self.reached[w, node] else breadth_first_order(a, node, return_predecessors=False)
            for w, a in enumerate(self.worlds)
        ]

    def add(self, node: int) -> None:
        for w, reach in enumerate(self._reach(node)):
            self.reached[w, reach] = True
