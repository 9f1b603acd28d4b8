"""The social graph as the kernel walks it: out-neighbour lists in CSR form (`Graph`), and the array helpers
every part of the network layer shares (edge list -> CSR, the CSR gather, sort-unique).

Generators are in `generators.py`, file readers in `files.py`, `build_graph` and the memory estimate in
`build.py`, KOL selection in `kols.py`. This module imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

__all__ = ["Graph", "edges_to_csr", "out_edges", "sort_unique"]

_EMPTY_I = np.zeros(0, dtype=np.int64)


@dataclass
class Graph:
    """Out-neighbour lists in CSR form.

    Attributes
    ----------
    n : number of nodes, numbered 0..n-1.
    indptr : int64, length n+1; node i's out-neighbours are ``indices[indptr[i]:indptr[i+1]]`` (sorted).
    indices : int32 out-neighbour ids.
    weights : float64 per stored edge, normalised to mean 1, or None when the graph has no weights.
    directed : False when each edge is stored both ways.
    labels : original node ids of a file graph (position i = node i), else None.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | None
    directed: bool
    labels: np.ndarray | None = None

    def out_degree(self) -> np.ndarray:
        return np.diff(self.indptr).astype(np.int64)

    def in_degree(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=self.n).astype(np.int64)

    @property
    def n_edges(self) -> int:
        """Stored directed edges (an undirected edge counts twice)."""
        return len(self.indices)

    def out_edges(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Edge ids and their source node for all out-edges of `nodes` (see `out_edges`)."""
        return out_edges(self.indptr, nodes)

    def csr(self) -> sp.csr_matrix:
        """n x n adjacency, data = weights or ones (float64)."""
        data = self.weights if self.weights is not None else np.ones(len(self.indices))
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))

    def to_networkx(self) -> nx.Graph | nx.DiGraph:
        """A networkx graph on nodes 0..n-1 (edge attribute ``weight`` when weighted); for small graphs."""
        g = nx.DiGraph() if self.directed else nx.Graph()
        g.add_nodes_from(range(self.n))
        rows = np.repeat(np.arange(self.n), np.diff(self.indptr))
        keep = slice(None) if self.directed else rows < self.indices
        u, v = rows[keep].tolist(), self.indices[keep].tolist()
        if self.weights is None:
            g.add_edges_from(zip(u, v, strict=True))
        else:
            g.add_weighted_edges_from(zip(u, v, self.weights[keep].tolist(), strict=True))
        return g


# --------------------------------------------------------------------------------------------- array helpers
def out_edges(indptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge ids (positions in ``indices``) and their source node for all out-edges of `nodes`, concatenated.

    The vectorised CSR gather: node i's edges are ``indptr[i]`` .. ``indptr[i+1]-1``, so a global arange shifted by
    each node's start minus its offset in the output lists them all without a Python loop. Edges come grouped by
    node, in the order of `nodes`.
    """
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return _EMPTY_I, _EMPTY_I
    offsets = np.cumsum(counts) - counts
    edges = np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)
    return edges, np.repeat(nodes, counts)


def sort_unique(
    a: np.ndarray, return_counts: bool = False, overwrite: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of `a` (and how often each occurs), by sorting.

    np.unique's hash path is about 10x slower on wide-ranged int64 keys such as edge keys ``u * n + v``. With
    `overwrite`, `a` itself is sorted in place, saving a copy of what is often the largest array of a build.
    """
    if overwrite:
        a.sort()
    else:
        a = np.sort(a)
    first = np.empty(a.size, bool)
    first[:1] = True
    np.not_equal(a[1:], a[:-1], out=first[1:])
    values = a if first.all() else a[first]  # nothing repeated (every generated graph): no copy
    if not return_counts:
        return values
    starts = np.flatnonzero(first)
    return values, np.diff(np.append(starts, a.size))


def edges_to_csr(
    n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray | None, directed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """CSR (indptr, indices, weights) of an edge list, vectorised.

    Undirected edges are stored both ways. Duplicate edges (also u-v next to v-u when undirected) are merged,
    keeping the largest weight: a repeated row is read as the same tie listed twice, not as a stronger tie.
    Weights come back normalised to mean 1.
    """
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    if u.size == 0:  # a graph with no edges (e.g. erdos_renyi with p=0): everyone is isolated
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), None
    # The keys u * n + v (and v * n + u) computed into one array: at 1M people with m = 5 every temporary of
    # 20M keys is 160 MB of fresh memory, whose page faults cost more than the arithmetic.
    key = np.empty(u.size if directed else 2 * u.size, np.int64)
    forward = key[: u.size]
    np.multiply(u, n, out=forward)
    forward += v
    if not directed:
        backward = key[u.size :]
        np.multiply(v, n, out=backward)
        backward += u
    if w is None:
        key = sort_unique(key, overwrite=True)  # in place: this is the largest array of the build
    else:
        w = np.asarray(w, np.float64)
        w = np.concatenate([w, w]) if not directed else w
        order = np.argsort(key, kind="stable")
        key, w = key[order], w[order]
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        key, w = key[first], np.maximum.reduceat(w, first)
        w = w / w.mean()
    # Rows are sorted, so row starts are a binary search rather than another n-edge array.
    indptr = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * n).astype(np.int64)
    return indptr, np.remainder(key, n, out=key).astype(np.int32), w  # the keys are not needed after this
