"""Tests of wom_sim/network.py: generators, fast Barabási-Albert, CSR, file import, bad input, memory guard."""

from __future__ import annotations

import hashlib
import os

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from tests.conftest import make_graph
from wom_sim.errors import ScenarioError
from wom_sim.network import generators
from wom_sim.network.build import build_graph, estimate_memory_bytes
from wom_sim.network.generators import fast_barabasi_albert, networkx_barabasi_albert
from wom_sim.network.graph import Graph, edges_to_csr, out_edges, sort_unique
from wom_sim.scenario.schema import NetworkSpec

GENERATORS = ["barabasi_albert", "watts_strogatz", "erdos_renyi", "powerlaw_cluster", "stochastic_block", "complete"]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def expected_edge_range(spec: NetworkSpec) -> tuple[float, float]:
    """Range of undirected edge counts a generator may give (5 sd for the random ones)."""
    n, m, k = spec.n, spec.m, spec.k
    if spec.generator == "barabasi_albert":
        return m * (n - m), m * (n - m)
    if spec.generator == "powerlaw_cluster":
        return 0.97 * m * (n - m), m * (n - m)
    if spec.generator == "watts_strogatz":
        return n * (k // 2), n * (k // 2)
    if spec.generator == "complete":
        return n * (n - 1) / 2, n * (n - 1) / 2
    if spec.generator == "erdos_renyi":
        mean = spec.p * n * (n - 1) / 2
    else:
        size = n // spec.blocks
        within = spec.blocks * size * (size - 1) / 2
        mean = spec.p_in * within + spec.p_out * (n * (n - 1) / 2 - within)
    return mean - 5 * mean**0.5, mean + 5 * mean**0.5


# --------------------------------------------------------------------------------------------- generators
@pytest.mark.parametrize("fast_threshold", [100_000, 0], ids=["networkx", "vectorised"])
@pytest.mark.parametrize("generator", GENERATORS)
def test_generator_shape(generator: str, fast_threshold: int) -> None:
    spec = NetworkSpec(generator=generator, n=400, m=3, k=6, p=0.05, p_in=0.1, p_out=0.01, blocks=4)
    spec.fast_threshold = fast_threshold
    g = build_graph(spec, rng(1))
    assert g.n == 400 and not g.directed and g.weights is None and g.labels is None
    assert g.indptr.dtype == np.int64 and g.indices.dtype == np.int32 and len(g.indptr) == 401
    low, high = expected_edge_range(spec)
    assert low <= g.n_edges / 2 <= high
    a = g.csr()
    assert (a != a.T).nnz == 0, "undirected graphs store each edge both ways"
    assert a.diagonal().sum() == 0, "no self-loops"
    assert a.max() == 1.0, "no duplicate edges"
    assert all(np.all(np.diff(g.indices[g.indptr[i] : g.indptr[i + 1]]) > 0) for i in range(g.n))


@pytest.mark.parametrize("fast_threshold", [100_000, 0], ids=["networkx", "vectorised"])
@pytest.mark.parametrize("generator", GENERATORS[:-1])
def test_generator_deterministic(generator: str, fast_threshold: int) -> None:
    spec = NetworkSpec(generator=generator, n=300, m=3, k=6, p=0.05, p_in=0.1, p_out=0.01)
    spec.fast_threshold = fast_threshold
    a, b, c = build_graph(spec, rng(7)), build_graph(spec, rng(7)), build_graph(spec, rng(8))
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


def test_stochastic_block_communities() -> None:
    spec = NetworkSpec(generator="stochastic_block", n=1000, blocks=4, p_in=0.05, p_out=0.0, fast_threshold=0)
    g = build_graph(spec, rng(2))
    rows = np.repeat(np.arange(g.n), g.out_degree())
    assert np.all(rows // 250 == g.indices // 250), "with p_out = 0 every edge stays inside its block"


def test_generator_parameters_checked() -> None:
    with pytest.raises(ScenarioError, match="network.m = 5 must be less than network.n = 5"):
        build_graph(NetworkSpec(generator="barabasi_albert", n=5, m=5), rng())
    with pytest.raises(ScenarioError, match="network.k = 10"):
        build_graph(NetworkSpec(generator="watts_strogatz", n=8, k=10), rng())


# --------------------------------------------------------------------------------------------- fast BA
def test_fast_ba_structure() -> None:
    n, m = 3000, 4
    u, v = fast_barabasi_albert(n, m, rng(3))
    assert len(u) == m * (n - m)
    assert np.all(u != v)
    key = np.minimum(u, v) * n + np.maximum(u, v)
    assert len(np.unique(key)) == len(key), "no duplicate edges"
    # Star on m+1 nodes, then each new node joins m distinct earlier nodes.
    assert np.array_equal(u[:m], np.zeros(m)) and np.array_equal(v[:m], np.arange(1, m + 1))
    assert np.all(v[m:] < u[m:]) and np.array_equal(np.bincount(u[m:])[m + 1 :], np.full(n - m - 1, m))
    assert set(v[m : 2 * m]) <= set(range(m + 1))
    assert fast_barabasi_albert(m + 1, m, rng())[0].size == m  # just the star
    with pytest.raises(ValueError):
        fast_barabasi_albert(3, 3, rng())


def test_fast_ba_degree_distribution_matches_networkx() -> None:
    """Same degree law as nx.barabasi_albert_graph (n=20000, m=3, fixed seeds).

    Tolerances: two-sample KS statistic < 0.02 (the 1% critical value for two samples of 20000 is 0.016, and
    discrete data makes KS conservative); share of degree >= 20 within 15% of networkx's (~2.9% of nodes);
    largest degree within a factor 2. A uniform-attachment graph with the same edge count fails these, which
    shows the test can fail.
    """
    n, m = 20_000, 3
    u, v = fast_barabasi_albert(n, m, rng(11))
    fast = np.bincount(np.concatenate([u, v]), minlength=n)
    ref = np.array([d for _, d in nx.barabasi_albert_graph(n, m, seed=11).degree()])
    assert fast.mean() == pytest.approx(ref.mean(), abs=1e-12)  # exactly 2m(n-m)/n
    assert fast.min() == ref.min() == m

    def close(deg: np.ndarray) -> bool:
        tail, ref_tail = (deg >= 20).mean(), (ref >= 20).mean()
        return (
            ks_2samp(deg, ref).statistic < 0.02
            and abs(tail - ref_tail) < 0.15 * ref_tail
            and 0.5 < deg.max() / ref.max() < 2
        )

    assert close(fast)
    # Uniform attachment (each new node joins m random earlier nodes): same mean, thin tail.
    r = rng(5)
    src = np.repeat(np.arange(m + 1, n), m)
    dst = (r.random(src.size) * src).astype(np.int64)
    uniform = np.bincount(np.concatenate([src, dst]), minlength=n)
    assert not close(uniform)


# --------------------------------------------------------------------------------------------- CSR and Graph
def test_edges_to_csr_merges_duplicates_keeping_max_weight() -> None:
    u, v, w = np.array([0, 1, 0, 2]), np.array([1, 0, 2, 0]), np.array([1.0, 3.0, 2.0, 2.0])
    indptr, indices, weights = edges_to_csr(3, u, v, w, directed=False)
    g = Graph(3, indptr, indices, weights, directed=False)
    dense = g.csr().toarray()
    # 0-1 listed twice (1 and 3): kept 3; 0-2 twice (2, 2): kept 2; mean of stored weights normalised to 1.
    assert dense[0, 1] == dense[1, 0] and dense[0, 2] == dense[2, 0]
    assert dense[0, 1] / dense[0, 2] == pytest.approx(1.5)
    assert weights.mean() == pytest.approx(1.0) and g.n_edges == 4
    indptr, indices, weights = edges_to_csr(3, u, v, None, directed=True)
    assert indptr.tolist() == [0, 2, 3, 4] and indices.tolist() == [1, 2, 0, 0] and weights is None


def test_graph_methods() -> None:
    indptr, indices, _ = edges_to_csr(4, np.array([0, 0, 1, 3]), np.array([1, 2, 2, 0]), None, directed=True)
    g = Graph(4, indptr, indices, None, directed=True)
    assert g.out_degree().tolist() == [2, 1, 0, 1] and g.in_degree().tolist() == [1, 1, 2, 0]
    assert g.out_degree().dtype == g.in_degree().dtype == np.int64
    assert g.n_edges == 4
    assert set(g.to_networkx().edges) == {(0, 1), (0, 2), (1, 2), (3, 0)}
    assert g.csr().dtype == np.float64 and g.csr().shape == (4, 4)
    und = build_graph(NetworkSpec(generator="barabasi_albert", n=50, m=2), rng())
    h = und.to_networkx()
    assert h.number_of_nodes() == 50 and 2 * h.number_of_edges() == und.n_edges


# --------------------------------------------------------------------------------------------- memory
def test_out_edges_expands_csr_ranges() -> None:
    g = make_graph(5, [(0, 1), (0, 2), (1, 2), (3, 4)])
    edges, src = out_edges(g.indptr, np.array([0, 3]))
    assert sorted(g.indices[edges].tolist()) == [1, 2, 4]
    assert sorted(src.tolist()) == [0, 0, 3]
    assert out_edges(g.indptr, np.array([], dtype=np.int64))[0].size == 0
    # Grouped by node, in the order asked, each node's edges in CSR order; the method is the same gather.
    edges, src = g.out_edges(np.array([3, 0, 2]))
    assert src.tolist() == [3, 0, 0, 2, 2] and g.indices[edges].tolist() == [4, 1, 2, 0, 1]


def test_sort_unique_matches_numpy() -> None:
    a = np.random.default_rng(3).integers(-(2**40), 2**40, size=2000) // 2**30
    values, counts = sort_unique(a, return_counts=True)
    expected, expected_counts = np.unique(a, return_counts=True)
    assert np.array_equal(values, expected) and np.array_equal(counts, expected_counts)
    assert np.array_equal(sort_unique(a), expected) and not np.array_equal(a, np.sort(a))  # a left as it was
    empty, none = sort_unique(np.empty(0, np.int64), return_counts=True)
    assert empty.size == 0 and none.size == 0
    b = a.copy()
    assert np.array_equal(sort_unique(b, overwrite=True), expected) and np.array_equal(b, np.sort(a))


def test_memory_estimate_and_refusal() -> None:
    small = estimate_memory_bytes(NetworkSpec(n=1000))
    big = estimate_memory_bytes(NetworkSpec(n=1_000_000, fast_threshold=100_000))
    assert 0 < small < big
    # ~200 B per person + ~40 per stored edge: 1M people, 10M stored edges -> ~0.6 GB.
    assert 0.4e9 < big < 1.0e9
    spec = NetworkSpec(generator="complete", n=100_000, max_memory_gb=4)
    with pytest.raises(ScenarioError, match=r"about \d+\.\d GB, more than network.max_memory_gb = 4"):
        build_graph(spec, rng())


# --------------------------------------------------------------------------------------------- files
EDGES = pd.DataFrame(
    {"src": ["ann", "bob", "cat", "ann", "dan"], "dst": ["bob", "cat", "ann", "dan", "cat"], "w": [1, 2, 3, 4, 2.0]}
)


def file_spec(path, **kw) -> NetworkSpec:
    return NetworkSpec(file=str(path), source_column="src", target_column="dst", **kw)


def edge_set(g: Graph) -> dict[tuple, float]:
    """{(label u, label v): weight} of a graph, with u < v for undirected graphs."""
    rows = np.repeat(np.arange(g.n), g.out_degree())
    w = g.weights if g.weights is not None else np.ones(g.n_edges)
    out = {}
    for a, b, x in zip(rows, g.indices, w, strict=True):
        la, lb = g.labels[a], g.labels[b]
        if g.directed or str(la) < str(lb):
            out[(la, lb)] = x
    return out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_table_round_trip(tmp_path, fmt: str) -> None:
    path = tmp_path / f"g.{fmt}"
    EDGES.to_csv(path, index=False) if fmt == "csv" else EDGES.to_parquet(path)
    g = build_graph(file_spec(path, weight_column="w", n=2), rng())
    assert g.n == 4 and not g.directed  # n comes from the file
    assert g.labels.tolist() == ["ann", "bob", "cat", "dan"]  # order of first appearance
    edges = edge_set(g)
    assert set(edges) == {("ann", "bob"), ("bob", "cat"), ("ann", "cat"), ("ann", "dan"), ("cat", "dan")}
    assert g.weights.mean() == pytest.approx(1.0)
    assert edges[("ann", "dan")] / edges[("ann", "bob")] == pytest.approx(4.0)
    a = g.csr()
    assert (a != a.T).nnz == 0


def test_csv_int_ids_directed_relative_path(tmp_path, monkeypatch) -> None:
    pd.DataFrame({"src": [10, 20, 30, 10], "dst": [20, 30, 10, 30]}).to_csv(tmp_path / "g.csv", index=False)
    monkeypatch.chdir(tmp_path)
    g = build_graph(file_spec("g.csv", directed=True), rng())
    assert g.directed and g.weights is None
    assert g.labels.dtype == np.int64 and g.labels.tolist() == [10, 20, 30]
    assert set(edge_set(g)) == {(10, 20), (20, 30), (30, 10), (10, 30)}
    assert g.out_degree().tolist() == [2, 1, 1] and g.in_degree().tolist() == [1, 1, 2]


def test_csv_ids_that_pandas_reads_as_missing_are_people(tmp_path) -> None:
    # NA (a region), None, null: only an empty cell is a missing id
    (tmp_path / "g.csv").write_text("src,dst\nNA,None\nNone,null\nnull,NA\n")
    g = build_graph(file_spec(tmp_path / "g.csv"), rng())
    assert g.labels.tolist() == ["NA", "None", "null"]
    (tmp_path / "h.csv").write_text("src,dst\nNA,\n")
    with pytest.raises(ScenarioError, match="empty 'dst' id at line 2"):
        build_graph(file_spec(tmp_path / "h.csv"), rng())


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
@pytest.mark.parametrize("directed", [False, True])
def test_networkx_formats_round_trip(tmp_path, fmt: str, directed: bool) -> None:
    h = nx.DiGraph() if directed else nx.Graph()
    h.add_weighted_edges_from([("a", "b", 1.0), ("b", "c", 3.0), ("c", "a", 2.0)])
    h.add_node("lonely")  # isolated people are people too
    path = tmp_path / f"g.{fmt}"
    (nx.write_graphml if fmt == "graphml" else nx.write_gexf)(h, path)
    g = build_graph(file_spec(path, directed=not directed), rng())  # the file's own directedness wins
    assert g.directed is directed and g.n == 4 and "lonely" in g.labels.tolist()
    edges = edge_set(g)
    want = {("a", "b"), ("b", "c"), ("c", "a")} if directed else {("a", "b"), ("b", "c"), ("a", "c")}
    assert set(edges) == want
    assert edges[("b", "c")] / edges[("a", "b")] == pytest.approx(3.0)


def test_graphml_without_weights_is_unweighted(tmp_path) -> None:
    path = tmp_path / "g.graphml"
    nx.write_graphml(nx.path_graph(5), path)
    g = build_graph(file_spec(path), rng())
    assert g.weights is None and g.labels.tolist() == [0, 1, 2, 3, 4] and g.n_edges == 8


def write(path, text: str | bytes | dict):
    if isinstance(text, dict):  # columns of a Parquet table
        pd.DataFrame(text).to_parquet(path, index=False)
    else:
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


BAD_FILES = [
    ("missing.csv", None, {}, ["missing.csv", "not found"]),
    ("g.txt", "src,dst\na,b\n", {}, ["unknown graph file type .txt", ".csv", ".parquet", ".graphml", ".gexf"]),
    ("g.csv", "from,to\na,b\n", {}, ["no column 'src'", "network.source_column", "columns: from, to"]),
    ("g.csv", "src,dst\na,b\nb,c\n", {"weight_column": "w"}, ["no column 'w'", "columns: src, dst"]),
    ("g.csv", "src,dst\na,b\nc,c\nb,b\n", {}, ["2 self-loop(s)", "first 'c'", "line 3"]),
    ("g.csv", "src,dst\n1,2\n3,3\n", {}, ["1 self-loop(s), first 3 -> itself", "line 3"]),  # not np.int64(3)
    (
        "g.parquet",
        {"src": [1, 2], "dst": [2, 3], "w": [1.0, float("nan")]},
        {"weight_column": "w"},
        ["weight nan at", "not a number"],
    ),  # not np.float64(nan)
    ("g.csv", "src,dst,w\na,b,1\nb,c,heavy\n", {"weight_column": "w"}, ["weight 'heavy'", "line 3", "not a number"]),
    ("g.csv", "src,dst,w\na,b,1\nb,c,0\nc,d,-2\n", {"weight_column": "w"}, ["2 weight(s) <= 0", "first: 0"]),
    ("g.csv", "src,dst\n", {}, ["no edges"]),
    ("g.csv", "", {}, ["empty"]),
    ("g.csv", "src,dst\na,b\nc,d,e,f\n", {}, ["malformed csv"]),
    ("g.csv", "src,dst\na,\n", {}, ["empty 'dst' id", "line 2"]),
    ("g.graphml", "<graphml><graph><node", {}, ["malformed graphml"]),
    ("g.gexf", "not xml at all", {}, ["malformed gexf"]),
    ("g.parquet", b"PAR1 this is not parquet", {}, ["malformed parquet"]),
]


@pytest.mark.parametrize(("name", "content", "extra", "words"), BAD_FILES)
def test_bad_files(tmp_path, name, content, extra, words) -> None:
    path = tmp_path / name
    if content is not None:
        write(path, content)
    with pytest.raises(ScenarioError) as err:
        build_graph(file_spec(path, **extra), rng())
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("name", ["g.csv", "graphs"])
def test_a_folder_is_not_a_graph_file(tmp_path, name) -> None:
    (tmp_path / name).mkdir()
    with pytest.raises(ScenarioError) as err:
        build_graph(file_spec(tmp_path / name), rng())
    assert str(err.value) == f"{tmp_path / name}: is a folder, expected a graph file (network.file)"


@pytest.mark.timeout(30)  # opening a FIFO with no writer blocks forever: fail instead of hanging the suite
def test_a_fifo_is_refused_without_opening_it(tmp_path) -> None:
    fifo = tmp_path / "g.csv"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError) as err:
        build_graph(file_spec(fifo), rng())
    message = str(err.value)
    assert message.startswith(f"{fifo}: is not a regular file") and "network.file" in message
    assert "\n" not in message and "not found" not in message


def test_bad_graphml_weights(tmp_path) -> None:
    h = nx.Graph()
    h.add_edge("a", "b", weight=1.0)
    h.add_edge("b", "c", weight=-1.0)
    path = tmp_path / "g.graphml"
    nx.write_graphml(h, path)
    with pytest.raises(ScenarioError, match=r"1 weight\(s\) <= 0 .*edge b - c"):
        build_graph(file_spec(path), rng())
    h.add_edge("b", "c", weight=2.0)
    h.add_edge("a", "a", weight=1.0)
    nx.write_graphml(h, path)
    with pytest.raises(ScenarioError, match="1 self-loop.*first 'a'"):
        build_graph(file_spec(path), rng())


@pytest.mark.parametrize(("n", "m", "seed"), [(3000, 5, 123), (400, 1, 4), (60, 7, 2**62 + 5)])
def test_barabasi_albert_below_the_threshold_is_networkx_graph_exactly(n, m, seed):
    # generators.networkx_barabasi_albert restates networkx's algorithm on its own random.Random draws, without
    # building a networkx graph: the CSR graph must be the one networkx's edges give, for any seed.
    g = nx.barabasi_albert_graph(n, m, seed=seed)
    edges = np.array(list(g.edges()), dtype=np.int64)
    want = edges_to_csr(n, edges[:, 0], edges[:, 1], None, False)
    got = edges_to_csr(n, *networkx_barabasi_albert(n, m, seed), None, False)
    assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])


@pytest.mark.parametrize("m", [1, 2, 5, 16])
def test_pairwise_duplicates_mark_what_the_sort_marks(m, monkeypatch) -> None:
    # Small m compares pairs of columns instead of sorting each row; both mark every entry equal to one to its left.
    chosen = np.random.default_rng(m).integers(0, 4, size=(500, m))
    pairwise = generators._duplicates(chosen)
    monkeypatch.setattr(generators, "PAIRWISE_DUPLICATES", 0)
    np.testing.assert_array_equal(pairwise, generators._duplicates(chosen))
    assert pairwise.any() or m == 1


def test_vectorised_barabasi_albert_edges_are_recorded() -> None:
    # The generator's draws and their resolution fix each seed's graph: a digest recorded before the one-pass
    # slot resolution, the pairwise duplicate check and the in-place CSR keys (all the same graph).
    u, v = fast_barabasi_albert(30_000, 5, np.random.default_rng(7))
    indptr, indices, _ = edges_to_csr(30_000, u, v, None, directed=False)
    digest = hashlib.sha1(u.tobytes() + v.tobytes() + indptr.tobytes() + indices.tobytes()).hexdigest()
    assert digest == "028463fd3fea34c8e85db0549b532d3666afe6ef"
