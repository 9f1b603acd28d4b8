"""Graph generators: the five random-graph models of `network.generator`, vectorised from
`network.fast_threshold` people (networkx below it, where its exact generators are fast enough; Barabási-Albert
there is networkx's algorithm on networkx's draws without its graph object, `networkx_barabasi_albert`).

Every generator returns an undirected edge list (u, v) without self-loops or duplicates; `build.build_graph`
turns it into a `Graph`.
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np

from wom_sim.errors import ScenarioError
from wom_sim.network.graph import sort_unique
from wom_sim.scenario.schema import NetworkSpec

__all__ = ["expected_edges", "fast_barabasi_albert", "generate", "is_vectorised"]

PAIRWISE_DUPLICATES = 16  # up to this m, a new node's repeated targets are found by comparing pairs, not sorting


def is_vectorised(spec: NetworkSpec) -> bool:
    """Whether the generator avoids networkx (large n, or a generator that never needs it)."""
    if spec.generator == "complete":
        return True
    big = spec.n >= spec.fast_threshold
    return big and spec.generator in ("barabasi_albert", "erdos_renyi", "stochastic_block", "watts_strogatz")


def expected_edges(spec: NetworkSpec) -> float:
    """Expected undirected edges of a generator spec."""
    n, m = spec.n, min(spec.m, spec.n - 1)
    pairs = n * (n - 1) / 2
    if spec.generator in ("barabasi_albert", "powerlaw_cluster"):
        return m * (n - m)
    if spec.generator == "watts_strogatz":
        return n * (min(spec.k, n - 1) // 2)
    if spec.generator == "erdos_renyi":
        return spec.p * pairs
    if spec.generator == "stochastic_block":
        size = n / spec.blocks
        within = spec.blocks * size * (size - 1) / 2
        return spec.p_in * within + spec.p_out * (pairs - within)
    return pairs  # complete


def check_parameters(spec: NetworkSpec) -> None:
    """Refuse generator parameters that do not fit n (before anything is drawn)."""
    n = spec.n
    if spec.generator in ("barabasi_albert", "powerlaw_cluster") and spec.m >= n:
        raise ScenarioError(f"network.m = {spec.m} must be less than network.n = {n} for {spec.generator}")
    if spec.generator == "watts_strogatz" and spec.k >= n:
        raise ScenarioError(f"network.k = {spec.k} must be less than network.n = {n} for watts_strogatz")
    if spec.generator == "stochastic_block" and spec.blocks > n:
        raise ScenarioError(f"network.blocks = {spec.blocks} must be at most network.n = {n}")


def generate(spec: NetworkSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edge list (u, v) of a generator spec, without self-loops or duplicates."""
    check_parameters(spec)
    n, gen = spec.n, spec.generator
    if gen == "complete":
        u, v = np.triu_indices(n, 1)
        return u.astype(np.int64), v.astype(np.int64)
    if is_vectorised(spec):
        if gen == "barabasi_albert":
            return fast_barabasi_albert(n, spec.m, rng)
        if gen == "erdos_renyi":
            return _gnp_edges(n, spec.p, rng)
        if gen == "watts_strogatz":
            return _watts_strogatz(n, spec.k, spec.p, rng)
        return _stochastic_block(_block_sizes(n, spec.blocks), spec.p_in, spec.p_out, rng)
    seed = int(rng.integers(2**63 - 1))  # networkx wants an int; drawn from rng so the run seed decides it
    if gen == "barabasi_albert":
        return networkx_barabasi_albert(n, spec.m, seed)
    if gen == "watts_strogatz":
        g = nx.watts_strogatz_graph(n, spec.k, spec.p, seed=seed)
    elif gen == "erdos_renyi":
        g = nx.fast_gnp_random_graph(n, spec.p, seed=seed)
    elif gen == "powerlaw_cluster":
        g = nx.powerlaw_cluster_graph(n, spec.m, spec.p, seed=seed)
    else:
        sizes = _block_sizes(n, spec.blocks).tolist()
        probs = [[spec.p_in if i == j else spec.p_out for j in range(spec.blocks)] for i in range(spec.blocks)]
        g = nx.stochastic_block_model(sizes, probs, seed=seed, sparse=True)
    edges = np.fromiter((x for e in g.edges() for x in e), dtype=np.int64, count=2 * g.number_of_edges())
    return edges[0::2], edges[1::2]


def networkx_barabasi_albert(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The edges of ``nx.barabasi_albert_graph(n, m, seed=seed)``, without building the networkx graph.

    The same algorithm on the same Python ``random.Random(seed)`` draws, step for step (networkx 3.x): a star on
    m+1 nodes, then each new node picks m distinct targets from the list of edge endpoints so far with
    ``rng.choice``, redrawing repeats, and the list grows by the targets (in the set's iteration order, as
    networkx extends it) and m copies of the new node. So the edge set, hence the CSR graph, is the one networkx
    gives (tests/test_network.py checks it for several seeds), in about a sixth of the time: networkx's own
    cost is mostly building its dict-of-dicts graph, which `build_graph` would only turn back into arrays.
    """
    if not 1 <= m < n:
        raise ValueError(f"need 1 <= m < n, got m={m}, n={n}")
    # `Random.choice(seq)` is `seq[_randbelow(len(seq))]`, and `_randbelow(size)` redraws `getrandbits(k)`, k the
    # bit length of size, until it is below size: inlined here, the same draws without two calls per pick.
    getrandbits = random.Random(seed).getrandbits
    repeated = [0] * m + list(range(1, m + 1))  # the star's endpoint list, in networkx's node-degree order
    chosen: list[int] = []
    for source in range(m + 1, n):
        size = len(repeated)
        k = size.bit_length()
        targets: set[int] = set()
        while len(targets) < m:
            r = getrandbits(k)
            while r >= size:
                r = getrandbits(k)
            targets.add(repeated[r])
        chosen.extend(targets)
        repeated.extend(targets)
        repeated.extend([source] * m)
    u = np.concatenate([np.zeros(m, np.int64), np.repeat(np.arange(m + 1, n, dtype=np.int64), m)])
    v = np.concatenate([np.arange(1, m + 1, dtype=np.int64), np.array(chosen, dtype=np.int64)])
    return u, v


def _block_sizes(n: int, blocks: int) -> np.ndarray:
    """Equal communities; the first ``n % blocks`` get one extra person."""
    return np.full(blocks, n // blocks) + (np.arange(blocks) < n % blocks)


def fast_barabasi_albert(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Barabási-Albert preferential attachment, vectorised; same model as ``nx.barabasi_albert_graph``.

    Like networkx, start from a star on m+1 nodes; each new node t joins m distinct earlier nodes drawn from the
    list of edge endpoints built so far (degree-proportional), redrawing duplicates. The list is never stored:
    its slot ``2m + 2m*j + r`` holds node ``m+1+j`` when r >= m and otherwise the r-th target of that node,
    which is itself a copy of an earlier slot. So each draw is a uniform slot number, resolved by following the
    copies back; nodes are done in growing chunks, all of a chunk at once.

    Returns
    -------
    (u, v) : int64 arrays of the m*(n-m) undirected edges, u != v, no duplicates.

    References
    ----------
    A.-L. Barabási and R. Albert, "Emergence of scaling in random networks", Science 286, 509-512 (1999).
    """
    if not 1 <= m < n:
        raise ValueError(f"need 1 <= m < n, got m={m}, n={n}")
    n_new, two_m = n - m - 1, 2 * m
    star = np.concatenate([np.zeros(m, np.int64), np.arange(1, m + 1)])  # the star's endpoint list
    targets = np.empty((n_new, m), dtype=np.int32 if n < 2**31 else np.int64)
    start, chunk = 0, 64
    while start < n_new:
        stop = min(n_new, start + chunk)
        span = two_m * np.arange(start + 1, stop + 1)  # list length seen by each node of the chunk
        slots = rng.integers(0, span[:, None], size=(stop - start, m))
        while True:
            chosen = _resolve_slots(slots, start, star, targets, m)
            dup = _duplicates(chosen)
            if not dup.any():
                break
            slots[dup] = rng.integers(0, span[np.nonzero(dup)[0]])
        targets[start:stop] = chosen
        start, chunk = stop, min(2 * chunk, 1 << 17)  # small chunks early, where duplicates are common
    # Filled in place: the concatenation of a repeat and a cast would touch four more m*n arrays of fresh memory.
    u, v = np.empty(m * (n - m), np.int64), np.empty(m * (n - m), np.int64)
    u[:m], v[:m] = 0, np.arange(1, m + 1)
    u[m:].reshape(n_new, m)[:] = np.arange(m + 1, n, dtype=np.int64)[:, None]
    v[m:] = targets.ravel()
    return u, v


def _resolve_slots(slots: np.ndarray, start: int, star: np.ndarray, targets: np.ndarray, m: int) -> np.ndarray:
    """Node held by each endpoint-list slot drawn by the chunk of new nodes starting at ``start``."""
    flat = slots.ravel()
    # Most slots are a node's own (r >= m) or a copy of a target of an earlier chunk: both resolved in one pass
    # without masks (the gather reads a clipped, meaningless index where the answer is not a target). The star's
    # slots and copies of this chunk's own draws are left to the loop below.
    j, r = np.divmod(flat - 2 * m, 2 * m)
    own = (r >= m) & (j >= 0)
    out = np.where(own, j + (m + 1), np.take(targets.ravel(), j * m + r, mode="clip"))
    pending = np.flatnonzero(~own & ((j < 0) | (j >= start)))
    pos = flat[pending]
    while pending.size:
        in_star = pos < 2 * m
        out[pending[in_star]] = star[pos[in_star]]
        j, r = np.divmod(pos - 2 * m, 2 * m)
        source = ~in_star & (r >= m)
        out[pending[source]] = m + 1 + j[source]
        copy = ~in_star & (r < m)
        done = copy & (j < start)
        out[pending[done]] = targets[j[done], r[done]]
        # A copy of a slot in this chunk: follow it to that slot's own draw (always an earlier node).
        again = copy & (j >= start)
        pending, pos = pending[again], flat[(j[again] - start) * m + r[again]]
    return out.reshape(slots.shape)


def _duplicates(chosen: np.ndarray) -> np.ndarray:
    """Mask of entries equal to another entry earlier (in sorted order) in the same row."""
    m = chosen.shape[1]
    if m <= PAIRWISE_DUPLICATES:
        # The same mask as the stable sort below: an entry is a duplicate when an entry to its left equals it.
        # m(m-1)/2 column comparisons cost less than sorting many short rows.
        dup = np.zeros(chosen.shape, bool)
        for b in range(1, m):
            for a in range(b):
                dup[:, b] |= chosen[:, a] == chosen[:, b]
        return dup
    order = np.argsort(chosen, axis=1, kind="stable")
    ranked = np.take_along_axis(chosen, order, axis=1)
    dup = np.zeros(chosen.shape, bool)
    np.put_along_axis(dup, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
    return dup


def _pair_indices(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Each of ``total`` pairs independently with probability p, as sorted pair numbers (G(n, p) exactly)."""
    if p <= 0 or total == 0:
        return np.empty(0, np.int64)
    if p >= 0.02:  # dense enough: one coin per pair costs at most 50 per edge kept
        step = 1 << 22
        return np.concatenate(
            [s + np.flatnonzero(rng.random(min(step, total - s)) < p) for s in range(0, total, step)]
        ).astype(np.int64)
    count = int(rng.binomial(total, p))  # then a uniform set of that many distinct pairs
    chosen = sort_unique(rng.integers(0, total, size=count))
    while chosen.size < count:
        chosen = sort_unique(np.concatenate([chosen, rng.integers(0, total, size=count - chosen.size)]))
    return chosen


def _triangle_pairs(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair number l -> (u, v), u < v, with l = v(v-1)/2 + u."""
    v = np.floor((1 + np.sqrt(1 + 8 * index.astype(np.float64))) / 2).astype(np.int64)
    v -= v * (v - 1) // 2 > index  # float rounding fixes, at most one step either way
    v += (v + 1) * v // 2 <= index
    return index - v * (v - 1) // 2, v


def _gnp_edges(n: int, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Erdős-Rényi G(n, p) without a Python loop over edges."""
    return _triangle_pairs(_pair_indices(n * (n - 1) // 2, p, rng))


def _stochastic_block(sizes: np.ndarray, p_in: float, p_out: float, rng: np.random.Generator):
    """Stochastic block model: G(n, p_out) keeping cross-block pairs, plus G(size, p_in) inside each block."""
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    u, v = _gnp_edges(int(offsets[-1]), p_out, rng)
    block = np.searchsorted(offsets, np.concatenate([u, v]), side="right").reshape(2, -1)
    cross = block[0] != block[1]
    us, vs = [u[cross]], [v[cross]]
    for offset, size in zip(offsets[:-1], sizes, strict=True):
        bu, bv = _gnp_edges(int(size), p_in, rng)
        us.append(bu + offset)
        vs.append(bv + offset)
    return np.concatenate(us), np.concatenate(vs)


def _watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Watts-Strogatz: ring lattice (k // 2 each side, as networkx), each edge's far end rewired with prob p.

    All rewirings are drawn at once; a new end that makes a self-loop or a duplicate edge is redrawn. Edges
    still without a free end after 100 rounds are dropped (only happens when k is close to n).
    """
    u = np.tile(np.arange(n, dtype=np.int64), k // 2)
    v = (u + np.repeat(np.arange(1, k // 2 + 1), n)) % n
    redraw = rng.random(u.size) < p
    for _ in range(100):
        if not redraw.any():
            break
        v[redraw] = rng.integers(0, n, size=int(redraw.sum()))
        key = np.minimum(u, v) * n + np.maximum(u, v)
        # Sorting unrewired first within equal keys makes later copies (always rewired ones) the clashes.
        order = np.lexsort((redraw, key))
        clash = np.zeros(u.size, bool)
        clash[order[1:][key[order[1:]] == key[order[:-1]]]] = True
        redraw = clash | (u == v)
    return u[~redraw], v[~redraw]
