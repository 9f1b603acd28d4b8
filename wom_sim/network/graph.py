"""The social graph: generators, file import and the CSR the kernel walks.

Every graph ends as out-neighbour lists in CSR form (`Graph`); undirected graphs store each edge both ways.
KOL selection lives in `wom_sim.kols` and is re-exported here because the kernel imports it from this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from wom_sim.errors import ScenarioError
from wom_sim.scenario.schema import NetworkSpec

__all__ = ["Graph", "build_graph", "check_network", "estimate_memory_bytes", "fast_barabasi_albert"]

FILE_FORMATS = (".csv", ".parquet", ".graphml", ".gexf")

# Rough memory costs. Measured: build_graph of BA n=1M m=5 (10M stored edges) peaks ~300 MB above the
# interpreter (~30 B per stored edge); a networkx BA graph at 100k holds ~200 B per edge.
NODE_BYTES = 200  # per person: the ~25 model-state arrays plus the CSR row pointer
EDGE_BYTES = 40  # per stored (directed) edge: int32 index + float64 weight + sort keys and per-tick temporaries
NX_EDGE_BYTES = 250  # per undirected edge while a networkx graph exists
NX_NODE_BYTES = 600  # per node of a networkx graph
TABLE_ROW_BYTES = 200  # per csv/parquet row held by pandas (two id cells, maybe strings, plus a weight)
XML_EDGE_BYTES = 100  # graphml/gexf bytes on disk per edge (to guess the edge count from the file size)


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


# --------------------------------------------------------------------------------------------- memory
def _expected_edges(spec: NetworkSpec) -> float:
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


def estimate_memory_bytes(spec: NetworkSpec) -> int:
    """Rough peak bytes to build the graph and hold the model state on it.

    ~200 bytes per person and ~40 per stored edge, plus the networkx graph or the pandas table while a
    generator or a file reader holds one. File graphs are guessed from the file size (csv: mean line length of
    the first 64 KB; parquet: its row count), so a missing file estimates as empty.
    """
    if spec.file is not None:
        path = _resolve(spec.file)
        if not _is_file(path):  # missing, or a pipe or device that would block: reported by the reader
            return NODE_BYTES * 2
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(65536)
        except OSError:  # reported by the reader
            return NODE_BYTES * 2
        suffix = path.suffix.lower()
        if suffix == ".csv":
            rows = size / max(1.0, len(head) / max(1, head.count(b"\n")))
            table = rows * TABLE_ROW_BYTES
        elif suffix == ".parquet":
            try:
                import pyarrow.parquet as pq

                rows = pq.ParquetFile(path).metadata.num_rows
            except Exception:  # a malformed file is reported by the reader, not here
                rows = size / 8
            table = rows * TABLE_ROW_BYTES
        else:
            rows = size / XML_EDGE_BYTES
            table = rows * (NX_EDGE_BYTES + NX_NODE_BYTES)
        # Unknown n: assume as many people as rows (an upper bound for connected edge lists); both ways stored.
        return int(rows * (NODE_BYTES + 2 * EDGE_BYTES) + table)
    edges = _expected_edges(spec)
    total = spec.n * NODE_BYTES + 2 * edges * EDGE_BYTES
    if not _vectorised(spec):
        total += spec.n * NX_NODE_BYTES + edges * NX_EDGE_BYTES
    return int(total)


def _vectorised(spec: NetworkSpec) -> bool:
    """Whether the generator avoids networkx (large n, or a generator that never needs it)."""
    if spec.generator == "complete":
        return True
    big = spec.n >= spec.fast_threshold
    return big and spec.generator in ("barabasi_albert", "erdos_renyi", "stochastic_block", "watts_strogatz")


# --------------------------------------------------------------------------------------------- building
def build_graph(spec: NetworkSpec, rng: np.random.Generator) -> Graph:
    """Build the graph of a scenario: from ``spec.file`` when given, else from ``spec.generator``.

    Raises
    ------
    ScenarioError
        When the estimate exceeds ``spec.max_memory_gb``, the parameters do not fit n, or the file is bad.
    """
    check_network(spec)
    if spec.file is not None:
        return _read_file(spec, _resolve(spec.file))
    u, v = _generate(spec, rng)
    indptr, indices, _ = edges_to_csr(spec.n, u, v, None, directed=False)
    return Graph(spec.n, indptr, indices, None, directed=False)


def check_network(spec: NetworkSpec) -> None:
    """What `build_graph` refuses before building anything (memory estimate, parameters that do not fit n), so
    that `wom-sim check` and the experiment commands refuse exactly what a run would."""
    estimate = estimate_memory_bytes(spec)
    if estimate > spec.max_memory_gb * 1e9:
        what = f"file {spec.file}" if spec.file else f"{spec.generator} with n = {spec.n:,}"
        raise ScenarioError(
            f"network: the {what} needs about {estimate / 1e9:.1f} GB, more than network.max_memory_gb = "
            f"{spec.max_memory_gb:g}; use a smaller or sparser graph, or raise network.max_memory_gb"
        )
    if spec.file is None:
        _check_parameters(spec)


def _is_file(path: Path) -> bool:
    """A regular file (not a pipe or device); False also for a path the file system cannot hold (too long)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _resolve(file: str) -> Path:
    path = Path(file)
    return path if path.is_absolute() else Path(os.getcwd()) / path


def _check_parameters(spec: NetworkSpec) -> None:
    n = spec.n
    if spec.generator in ("barabasi_albert", "powerlaw_cluster") and spec.m >= n:
        raise ScenarioError(f"network.m = {spec.m} must be less than network.n = {n} for {spec.generator}")
    if spec.generator == "watts_strogatz" and spec.k >= n:
        raise ScenarioError(f"network.k = {spec.k} must be less than network.n = {n} for watts_strogatz")
    if spec.generator == "stochastic_block" and spec.blocks > n:
        raise ScenarioError(f"network.blocks = {spec.blocks} must be at most network.n = {n}")


def _generate(spec: NetworkSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edge list (u, v) of a generator spec, without self-loops or duplicates."""
    _check_parameters(spec)
    n, gen = spec.n, spec.generator
    if gen == "complete":
        u, v = np.triu_indices(n, 1)
        return u.astype(np.int64), v.astype(np.int64)
    if _vectorised(spec):
        if gen == "barabasi_albert":
            return fast_barabasi_albert(n, spec.m, rng)
        if gen == "erdos_renyi":
            return _gnp_edges(n, spec.p, rng)
        if gen == "watts_strogatz":
            return _watts_strogatz(n, spec.k, spec.p, rng)
        return _stochastic_block(_block_sizes(n, spec.blocks), spec.p_in, spec.p_out, rng)
    seed = int(rng.integers(2**63 - 1))  # networkx wants an int; drawn from rng so the run seed decides it
    if gen == "barabasi_albert":
        g = nx.barabasi_albert_graph(n, spec.m, seed=seed)
    elif gen == "watts_strogatz":
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
    u = np.concatenate([np.zeros(m, np.int64), np.repeat(np.arange(m + 1, n, dtype=np.int64), m)])
    v = np.concatenate([np.arange(1, m + 1, dtype=np.int64), targets.ravel().astype(np.int64)])
    return u, v


def _resolve_slots(slots: np.ndarray, start: int, star: np.ndarray, targets: np.ndarray, m: int) -> np.ndarray:
    """Node held by each endpoint-list slot drawn by the chunk of new nodes starting at ``start``."""
    flat = slots.ravel()
    out = np.empty(flat.size, np.int64)
    pending, pos = np.arange(flat.size), flat
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
    chosen = _unique(rng.integers(0, total, size=count))
    while chosen.size < count:
        chosen = _unique(np.concatenate([chosen, rng.integers(0, total, size=count - chosen.size)]))
    return chosen


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is ~10x slower on wide-ranged int64 keys)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])]


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


# --------------------------------------------------------------------------------------------- CSR
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
    key = np.concatenate([u * n + v, v * n + u]) if not directed else u * n + v
    if w is None:
        key.sort()  # in place: this is the largest array of the build
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
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
    return indptr, (key % n).astype(np.int32), w


# --------------------------------------------------------------------------------------------- files
def _read_file(spec: NetworkSpec, path: Path) -> Graph:
    """A graph from an edge-list table (.csv, .parquet) or a networkx format (.graphml, .gexf)."""
    if not _is_file(path):
        raise ScenarioError(f"{path}: graph file not found (network.file)")
    suffix = path.suffix.lower()
    if suffix not in FILE_FORMATS:
        raise ScenarioError(
            f"{path}: unknown graph file type {suffix or '(none)'}; network.file must end in {', '.join(FILE_FORMATS)}"
        )
    if path.stat().st_size == 0:
        raise ScenarioError(f"{path}: the file is empty (no edges)")
    if suffix in (".graphml", ".gexf"):
        return _read_networkx(path, suffix)
    return _read_table(spec, path, suffix)


def _malformed(path: Path, kind: str, exc: Exception) -> ScenarioError:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ScenarioError(f"{path}: malformed {kind} file ({detail})")


def _read_table(spec: NetworkSpec, path: Path, suffix: str) -> Graph:
    columns = {"source_column": spec.source_column, "target_column": spec.target_column}
    if spec.weight_column:
        columns["weight_column"] = spec.weight_column
    kind = suffix[1:]
    try:
        if kind == "csv":
            found = [str(c) for c in pd.read_csv(path, nrows=0).columns]
        else:
            import pyarrow.parquet as pq

            found = list(pq.read_schema(path).names)
    except Exception as exc:  # whatever the parser says, the user's file is the problem
        raise _malformed(path, kind, exc) from None
    for key, name in columns.items():
        if name not in found:
            raise ScenarioError(
                f"{path}: no column {name!r} (network.{key}); the file has columns: {', '.join(found) or 'none'}"
            )
    try:
        # No usecols for csv: with it pandas silently accepts rows with too many fields.
        wanted = list(dict.fromkeys(columns.values()))
        table = pd.read_csv(path)[wanted] if kind == "csv" else pd.read_parquet(path, columns=wanted)
    except Exception as exc:
        raise _malformed(path, kind, exc) from None

    def where(i: int) -> str:
        return f"line {i + 2}" if kind == "csv" else f"row {i + 1}"

    src, tgt = table[spec.source_column], table[spec.target_column]
    for col in (src, tgt):
        missing = np.flatnonzero(col.isna().to_numpy())
        if missing.size:
            raise ScenarioError(f"{path}: empty {col.name!r} id at {where(int(missing[0]))}")
    if pd.api.types.is_integer_dtype(src) and pd.api.types.is_integer_dtype(tgt):
        ids = np.column_stack([src.to_numpy(np.int64), tgt.to_numpy(np.int64)]).ravel()
    else:  # ids compare as text, so 7 in one column and "7" in the other are the same person
        ids = np.column_stack([src.astype(str).to_numpy(object), tgt.astype(str).to_numpy(object)]).ravel()
    codes, uniques = pd.factorize(ids)  # numbered in order of first appearance, row by row
    weights = _check_weights(path, table[spec.weight_column], where) if spec.weight_column else None
    return _finish(path, codes[0::2], codes[1::2], weights, _tidy_labels(uniques), spec.directed, where)


def _read_networkx(path: Path, suffix: str) -> Graph:
    try:
        g = nx.read_graphml(path) if suffix == ".graphml" else nx.read_gexf(path)
    except Exception as exc:
        raise _malformed(path, suffix[1:], exc) from None
    index = {node: i for i, node in enumerate(g.nodes)}
    edges = list(g.edges(data="weight"))
    u = np.fromiter((index[a] for a, _, _ in edges), np.int64, len(edges))
    v = np.fromiter((index[b] for _, b, _ in edges), np.int64, len(edges))

    def where(i: int) -> str:
        return f"edge {edges[i][0]} - {edges[i][1]}"

    weights = None
    if any(w is not None for _, _, w in edges):
        weights = _check_weights(path, pd.Series([w for _, _, w in edges], dtype=object, name="weight"), where)
    labels = _tidy_labels(np.array(list(g.nodes), dtype=object))
    return _finish(path, u, v, weights, labels, g.is_directed(), where)


MAX_WEIGHT = 1e12  # a tie strength; the mean of millions of weights must stay finite in float64


def _check_weights(path: Path, column: pd.Series, where) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise ScenarioError(
            f"{path}: weight {column.iloc[i]!r} at {where(i)} is missing or not a number; "
            f"{column.name!r} must hold numbers > 0"
        )
    bad = np.flatnonzero(values > MAX_WEIGHT)
    if bad.size:
        i = int(bad[0])
        raise ScenarioError(
            f"{path}: weight {values[i]:g} at {where(i)} in {column.name!r} is too large (at most {MAX_WEIGHT:g}; "
            "weights are relative tie strengths, normalised by their mean)"
        )
    bad = np.flatnonzero(values <= 0)
    if bad.size:
        i = int(bad[0])
        raise ScenarioError(
            f"{path}: {bad.size} weight(s) <= 0 in {column.name!r} (first: {values[i]:g} at {where(i)}); "
            "weights must be > 0"
        )
    return values


def _tidy_labels(uniques: np.ndarray) -> np.ndarray:
    """Labels as int64 when every id is an integer written plainly ("7", not "07"), else as strings."""
    if np.issubdtype(np.asarray(uniques).dtype, np.integer):
        return np.asarray(uniques, np.int64)
    text = pd.Series(uniques, dtype=object).astype(str)
    as_int = pd.to_numeric(text, errors="coerce")
    if as_int.notna().all() and (as_int.astype(np.int64).astype(str) == text).all():
        return as_int.to_numpy(np.int64)
    return text.to_numpy(object)


def _finish(path: Path, u, v, weights, labels: np.ndarray, directed: bool, where) -> Graph:
    """Check an imported edge list and turn it into a Graph."""
    if u.size == 0:
        raise ScenarioError(f"{path}: the graph has no edges")
    loops = np.flatnonzero(u == v)
    if loops.size:
        i = int(loops[0])
        raise ScenarioError(
            f"{path}: {loops.size} self-loop(s), first {labels[u[i]]!r} -> itself at {where(i)}; "
            "a person cannot talk to themselves, remove these edges"
        )
    indptr, indices, w = edges_to_csr(len(labels), u, v, weights, directed)
    return Graph(len(labels), indptr, indices, w, directed, labels)
