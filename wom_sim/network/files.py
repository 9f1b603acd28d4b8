"""Graph files: edge-list tables (.csv, .parquet) and networkx formats (.graphml, .gexf) read into a `Graph`.

Every problem with the user's file is one ScenarioError naming the file and what is wrong (a line or row where
there is one), never a parser traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError
from wom_sim.network.graph import Graph, edges_to_csr
from wom_sim.scenario.files import CSV_MISSING, stat_input_file
from wom_sim.scenario.schema import NetworkSpec

__all__ = ["FILE_FORMATS", "read_file", "resolve_path"]

FILE_FORMATS = (".csv", ".parquet", ".graphml", ".gexf")


def resolve_path(file: str) -> Path:
    path = Path(file)
    return path if path.is_absolute() else Path(os.getcwd()) / path


def is_regular_file(path: Path) -> bool:
    """A regular file (not a pipe or device); False also for a path the file system cannot hold (too long)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def read_file(spec: NetworkSpec, path: Path) -> Graph:
    """A graph from an edge-list table (.csv, .parquet) or a networkx format (.graphml, .gexf)."""
    info = stat_input_file(path, "graph file", "network.file")
    suffix = path.suffix.lower()
    if suffix not in FILE_FORMATS:
        raise ScenarioError(
            f"{path}: unknown graph file type {suffix or '(none)'}; network.file must end in {', '.join(FILE_FORMATS)}"
        )
    if info.st_size == 0:
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
        table = pd.read_csv(path, **CSV_MISSING)[wanted] if kind == "csv" else pd.read_parquet(path, columns=wanted)
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


def _shown(value) -> str:
    """A value of the file as the user wrote it: 1 and 'a', not numpy's np.int64(1) or np.str_('a')."""
    return repr(value.item() if isinstance(value, np.generic) else value)


MAX_WEIGHT = 1e12  # a tie strength; the mean of millions of weights must stay finite in float64


def _check_weights(path: Path, column: pd.Series, where) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise ScenarioError(
            f"{path}: weight {_shown(column.iloc[i])} at {where(i)} is missing or not a number; "
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
            f"{path}: {loops.size} self-loop(s), first {_shown(labels[u[i]])} -> itself at {where(i)}; "
            "a person cannot talk to themselves, remove these edges"
        )
    indptr, indices, w = edges_to_csr(len(labels), u, v, weights, directed)
    return Graph(len(labels), indptr, indices, w, directed, labels)
