"""Which people the network view draws: everyone on small graphs, KOL ego networks plus a random sample on big ones.

The model always runs the full population; only the picture is sampled. The sample is drawn once per graph with
its own fixed seed (never from the model's random streams, so drawing cannot change a result).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wom_sim.network.graph import Graph

MAX_DRAWN = 2_000  # people drawn at most; a matplotlib frame of this many points and edges takes ~0.1 s
EGO_SHARE = 0.6  # share of the drawn people spent on KOLs and their contacts; the rest is a random sample
SAMPLE_SEED = 20_240_601  # fixed: the same graph always gives the same sample (and so the same cached layout)


@dataclass(frozen=True)
class DrawnGraph:
    """The people drawn and the edges among them.

    Attributes
    ----------
    nodes : person ids drawn, KOLs first, then their contacts, then the random sample.
    src, dst : local indices (positions in `nodes`) of the edges among drawn people, each undirected edge once.
    local : length-N int32 map from person id to local index, -1 for people not drawn.
    n_total : people in the model.
    n_kols, n_contacts, n_random : how the drawn people were chosen (all three 0 when everyone is drawn).
    """

    nodes: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    local: np.ndarray
    n_total: int
    n_kols: int = 0
    n_contacts: int = 0
    n_random: int = 0

    @property
    def sampled(self) -> bool:
        return len(self.nodes) < self.n_total

    def caption(self) -> str:
        """One line saying what the picture shows."""
        if not self.sampled:
            return f"All {self.n_total:,} people drawn."
        return (
            f"Sample of {len(self.nodes):,} of {self.n_total:,} people: {self.n_kols:,} KOLs, "
            f"{self.n_contacts:,} of their contacts and {self.n_random:,} chosen at random."
        )

    def drawn_messages(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local (src, dst) of the delivered messages whose sender and receiver are both drawn."""
        a, b = self.local[src], self.local[dst]
        keep = (a >= 0) & (b >= 0)
        return a[keep], b[keep]


def sample_nodes(graph: Graph, kol_ids: np.ndarray, max_nodes: int = MAX_DRAWN, seed: int = SAMPLE_SEED) -> DrawnGraph:
    """Choose the people to draw: all of them when there are at most `max_nodes`, else a sample.

    The sample is every KOL (at most a quarter of `max_nodes`, at random beyond that), then their contacts
    (out-neighbours: the people a KOL talks to) up to `EGO_SHARE * max_nodes` in all, shared evenly between KOLs
    so that one huge hub does not crowd out the others, then people chosen uniformly at random from the rest
    up to `max_nodes`. The random part shows the population as it is; the ego part shows where WOM flows.

    Parameters
    ----------
    graph : the model's graph.
    kol_ids : person ids of the KOLs.
    max_nodes : most people to draw.
    seed : seed of the sampling (independent of the model's random streams).
    """
    n = graph.n
    if n <= max_nodes:
        return _with_edges(graph, np.arange(n, dtype=np.int64), n, 0, 0, 0)
    rng = np.random.default_rng(seed)
    kols = np.unique(np.asarray(kol_ids, dtype=np.int64))
    if len(kols) > max_nodes // 4:
        kols = np.sort(rng.choice(kols, max_nodes // 4, replace=False))
    taken = np.zeros(n, dtype=bool)
    taken[kols] = True
    contacts = _ego_contacts(graph, kols, int(EGO_SHARE * max_nodes) - len(kols), taken, rng)
    taken[contacts] = True
    need = max_nodes - len(kols) - len(contacts)
    rest = np.flatnonzero(~taken)
    randoms = np.sort(rng.choice(rest, min(need, len(rest)), replace=False))
    nodes = np.concatenate([kols, contacts, randoms])
    return _with_edges(graph, nodes, n, len(kols), len(contacts), len(randoms))


def _ego_contacts(graph: Graph, kols: np.ndarray, budget: int, taken: np.ndarray, rng: np.random.Generator):
    """Up to `budget` distinct out-neighbours of the KOLs, an even quota per KOL, topped up at random."""
    if budget <= 0 or len(kols) == 0:
        return np.zeros(0, dtype=np.int64)
    quota = max(1, budget // len(kols))
    chosen: list[np.ndarray] = []
    for k in kols:  # one short loop over KOLs (at most max_nodes // 4), not over people
        nb = graph.indices[graph.indptr[k] : graph.indptr[k + 1]].astype(np.int64)
        nb = nb[~taken[nb]]
        chosen.append(nb if len(nb) <= quota else rng.choice(nb, quota, replace=False))
    picked = np.unique(np.concatenate(chosen))
    if len(picked) > budget:
        return np.sort(rng.choice(picked, budget, replace=False))
    edges, _ = graph.out_edges(kols)
    pool = np.setdiff1d(np.unique(graph.indices[edges]), picked)
    pool = pool[~taken[pool]]
    extra = rng.choice(pool, min(budget - len(picked), len(pool)), replace=False)
    return np.sort(np.concatenate([picked, extra]).astype(np.int64))


def _with_edges(graph: Graph, nodes: np.ndarray, n: int, n_kols: int, n_contacts: int, n_random: int) -> DrawnGraph:
    """The DrawnGraph of `nodes` with the edges among them (undirected edges once)."""
    local = np.full(n, -1, dtype=np.int32)
    local[nodes] = np.arange(len(nodes), dtype=np.int32)
    edges, src = graph.out_edges(nodes)
    dst = graph.indices[edges].astype(np.int64)
    keep = local[dst] >= 0
    src, dst = src[keep], dst[keep]
    if not graph.directed:
        keep = src < dst
        src, dst = src[keep], dst[keep]
    return DrawnGraph(
        nodes=nodes, src=local[src].astype(np.int32), dst=local[dst].astype(np.int32), local=local, n_total=n,
        n_kols=n_kols, n_contacts=n_contacts, n_random=n_random,
    )  # fmt: skip
