"""Building a scenario's graph: the memory estimate checked first, then a generator or a file reader.

`estimate_memory_bytes` is also what `wom-sim check` and `wom-sim run` print before building.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError
from wom_sim.network.files import is_regular_file, read_file, resolve_path
from wom_sim.network.generators import check_parameters, expected_edges, generate, is_vectorised
from wom_sim.network.graph import Graph, edges_to_csr
from wom_sim.scenario.people import read_people_ids
from wom_sim.scenario.schema import NetworkSpec

__all__ = ["add_people", "build_graph", "check_network", "estimate_memory_bytes", "label_positions"]

# Rough memory costs. Measured: build_graph of BA n=1M m=5 (10M stored edges) peaks ~300 MB above the
# interpreter (~30 B per stored edge); a networkx BA graph at 100k holds ~200 B per edge.
NODE_BYTES = 200  # per person: the ~25 model-state arrays plus the CSR row pointer
EDGE_BYTES = 40  # per stored (directed) edge: int32 index + float64 weight + sort keys and per-tick temporaries
NX_EDGE_BYTES = 250  # per undirected edge while a networkx graph exists
NX_NODE_BYTES = 600  # per node of a networkx graph
TABLE_ROW_BYTES = 200  # per csv/parquet row held by pandas (two id cells, maybe strings, plus a weight)
PEOPLE_ROW_CHARS = 30  # bytes on disk per person-table row (an id and a few short values)
XML_EDGE_BYTES = 100  # graphml/gexf bytes on disk per edge (to guess the edge count from the file size)


def build_graph(spec: NetworkSpec, rng: np.random.Generator) -> Graph:
    """Build the graph of a scenario: from ``spec.file`` when given, else from ``spec.generator``.

    Raises
    ------
    ScenarioError
        When the estimate exceeds ``spec.max_memory_gb``, the parameters do not fit n, or the file is bad.
    """
    check_network(spec)
    if spec.file is not None:
        graph = read_file(spec, resolve_path(spec.file))
        return graph if spec.people is None else add_people(graph, read_people_ids(spec.people), spec.people)
    u, v = generate(spec, rng)
    indptr, indices, _ = edges_to_csr(spec.n, u, v, None, directed=False)
    return Graph(spec.n, indptr, indices, None, directed=False)


def label_positions(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Node index of each of `ids` among a file graph's `labels`, -1 where absent. Integer ids compare as
    integers; as soon as either side holds text, both compare as text (7 and "7" are the same person)."""
    labels, ids = np.asarray(labels), np.asarray(ids)
    if not (np.issubdtype(labels.dtype, np.integer) and np.issubdtype(ids.dtype, np.integer)):
        labels, ids = labels.astype(str), ids.astype(str)
    return pd.Index(labels).get_indexer(ids)


def add_people(graph: Graph, ids: np.ndarray, people: str = "network.people") -> Graph:
    """The graph with the people of a person table that no edge names, as isolated nodes after the edge list's
    (they hear only advertising and talk to no one, but they are part of the market)."""
    found = label_positions(graph.labels, ids) >= 0
    if not found.any():  # surely ids of another system (or another format): every edge-list person would be lost
        raise ScenarioError(
            f"{people}: no id of the person table is in the edge list (table: {str(ids[0])!r}, ...; edge list: "
            f"{str(graph.labels[0])!r}, ...); column 'id' must hold the edge list's ids"
        )
    new = ids[~found]
    if new.size == 0:
        return graph
    if np.issubdtype(graph.labels.dtype, np.integer) and np.issubdtype(new.dtype, np.integer):
        labels = np.concatenate([graph.labels, new.astype(np.int64)])
    else:
        labels = np.concatenate([graph.labels.astype(str).astype(object), new.astype(str).astype(object)])
    indptr = np.concatenate([graph.indptr, np.full(new.size, graph.indptr[-1], dtype=np.int64)])
    return Graph(graph.n + new.size, indptr, graph.indices, graph.weights, graph.directed, labels)


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
        check_parameters(spec)


def _people_bytes(spec: NetworkSpec) -> int:
    """A person table: its rows held by pandas while it is read, plus as many people again (isolated at worst)."""
    if spec.people is None:
        return 0
    path = resolve_path(spec.people)
    if not is_regular_file(path):  # reported by the reader
        return 0
    rows = path.stat().st_size / PEOPLE_ROW_CHARS  # parquet compresses: this over-counts it, on the safe side
    return int(rows * (NODE_BYTES + TABLE_ROW_BYTES))


def estimate_memory_bytes(spec: NetworkSpec) -> int:
    """Rough peak bytes to build the graph and hold the model state on it.

    ~200 bytes per person and ~40 per stored edge, plus the networkx graph or the pandas table while a
    generator or a file reader holds one. File graphs are guessed from the file size (csv: mean line length of
    the first 64 KB; parquet: its row count), so a missing file estimates as empty.
    """
    if spec.file is not None:
        path = resolve_path(spec.file)
        if not is_regular_file(path):  # missing, or a pipe or device that would block: reported by the reader
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
        return int(rows * (NODE_BYTES + 2 * EDGE_BYTES) + table + _people_bytes(spec))
    edges = expected_edges(spec)
    total = spec.n * NODE_BYTES + 2 * edges * EDGE_BYTES
    if not is_vectorised(spec):
        total += spec.n * NX_NODE_BYTES + edges * NX_EDGE_BYTES
    return int(total)
