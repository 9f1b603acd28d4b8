"""The aggregate network view: communities of the whole graph as bubbles, this tick's WOM as flows between them.

Above a few thousand people a drawing of people shows a sample; the aggregate view shows everyone, grouped. The
groups are the largest communities found by label propagation on the whole graph (Raghavan, Albert and Kumara
2007, Phys. Rev. E 76, 036106), vectorised and semi-synchronous (a random half of the people update per round, so
labels do not oscillate), with its own fixed seed (never the model's random streams). The rest of the people form
one group "others": a scale-free graph has a few real communities and many tiny ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from wom_sim.catalogue import NEGATIVE, PALETTE, POSITIVE, STATUS_COLOURS
from wom_sim.network.graph import Graph
from wom_sim.sim.dynamics import TickState
from wom_sim.sim.population import STATUS_NAMES, Population

MAX_GROUPS = 6  # bubbles drawn, the largest communities; everyone else is "others"
ROUNDS = 20  # label propagation rounds at most (it usually settles in 10-15)
GROUP_SEED = 20_240_602
_CUSTOMER = STATUS_NAMES.index("customer")
_COMPUTING = threading.Lock()  # one computation at a time: a second caller waits for the first and reads its result
_CACHE: OrderedDict[tuple[int, int], tuple[Graph, Groups]] = OrderedDict()  # the graph is held: ids stay unique


@dataclass(frozen=True)
class Groups:
    """Person -> group (0..k-1 the largest communities by size, k = others) and each group's size."""

    of: np.ndarray
    sizes: np.ndarray

    @property
    def k(self) -> int:
        return len(self.sizes)


def label_propagation(graph: Graph, rounds: int = ROUNDS, seed: int = GROUP_SEED) -> np.ndarray:
    """A community label per person: each round a random half takes its neighbours' most common label."""
    n = graph.n
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr))
    for _ in range(rounds):
        # (person, label) pairs sorted by person, with how many of the person's neighbours carry the label; a
        # random fraction < 1 added to each count breaks ties at random, and the largest per person (a running
        # maximum over its contiguous block) wins: one sort per round, ~3x faster than sorting by count as well.
        pairs, counts = np.unique(rows * n + labels[graph.indices], return_counts=True)
        person, label = pairs // n, pairs % n
        score = counts + 0.5 * rng.random(len(pairs))
        starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
        best_score = np.maximum.reduceat(score, starts)
        win = score == np.repeat(best_score, np.diff(np.r_[starts, len(pairs)]))
        best = labels.copy()
        best[person[win]] = label[win]
        new = np.where(rng.random(n) < 0.5, best, labels)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def communities(graph: Graph, max_groups: int = MAX_GROUPS) -> Groups:
    """The largest communities of `graph` and the others, computed once per graph (Reset re-uses the graph)."""
    with _COMPUTING:
        cached = _CACHE.get((id(graph), max_groups))
        if cached is not None and cached[0] is graph:
            return cached[1]
        return _communities(graph, max_groups)


def communities_in_background(graph: Graph) -> None:
    """Start computing `communities(graph)` in a daemon thread (it takes seconds at 100,000 people), so the page's
    community colouring and grouped view find it cached."""
    threading.Thread(target=communities, args=(graph,), name="wom-communities", daemon=True).start()


def _communities(graph: Graph, max_groups: int) -> Groups:
    labels = label_propagation(graph)
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    top = np.argsort(-counts, kind="stable")[:max_groups]
    rank = np.full(len(values), len(top), dtype=np.int64)
    rank[top] = np.arange(len(top))
    of = rank[inverse].astype(np.int32)
    groups = Groups(of, np.bincount(of, minlength=len(top) + 1))
    _CACHE[(id(graph), max_groups)] = (graph, groups)
    while len(_CACHE) > 3:
        _CACHE.popitem(last=False)
    return groups


def flows(groups: Groups, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """k x k counts of messages from group i to group j."""
    k = groups.k
    return np.bincount(groups.of[src] * k + groups.of[dst], minlength=k * k).reshape(k, k)


def aggregate_figure(groups: Groups, pop: Population, last_tick: TickState | None, unit: str = "week") -> Figure:
    """Bubbles (area = people; inner disc = share who are customers) on a circle, flows of this tick's WOM between
    them (width = messages; positive green on one side of the line, negative vermillion on the other)."""
    k = groups.k
    fig = Figure(figsize=(5.6, 5.6), dpi=90)
    ax = fig.add_axes((0.0, 0.1, 1.0, 0.9))
    ax.set_axis_off()
    ax.set_xlim(-2.35, 2.35)  # room for the labels outside the ring of bubbles (radius 1)
    ax.set_ylim(-1.9, 1.9)
    ax.set_aspect("equal")
    angle = np.pi / 2 - 2 * np.pi * np.arange(k) / k
    centre = np.column_stack([np.cos(angle), np.sin(angle)])
    radius = 0.32 * np.sqrt(groups.sizes / max(groups.sizes.max(), 1))
    customers = np.bincount(groups.of, weights=pop.status == _CUSTOMER, minlength=k) / np.maximum(groups.sizes, 1)
    pos = flows(groups, last_tick.positive.src, last_tick.positive.dst) if last_tick else np.zeros((k, k))
    neg = flows(groups, last_tick.negative.src, last_tick.negative.dst) if last_tick else np.zeros((k, k))
    top = max(float(pos.max()), float(neg.max()), 1.0)
    for matrix, colour, side in ((pos, POSITIVE, 1), (neg, NEGATIVE, -1)):
        for i in range(k):
            for j in range(i + 1, k):  # one line per pair, both directions summed
                volume = matrix[i, j] + matrix[j, i]
                if volume:
                    normal = np.array([centre[j, 1] - centre[i, 1], centre[i, 0] - centre[j, 0]]) * 0.02 * side
                    a, b = centre[i] + normal, centre[j] + normal
                    ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, alpha=0.7, solid_capstyle="butt",
                            linewidth=0.5 + 9 * volume / top, zorder=1)  # fmt: skip
    for i in range(k):
        x, y = centre[i]
        ax.add_patch(_circle(x, y, radius[i], STATUS_COLOURS["unaware"], PALETTE["grey"]))
        ax.add_patch(_circle(x, y, radius[i] * np.sqrt(customers[i]), STATUS_COLOURS["customer"], None))
        name = "others" if i == k - 1 else f"community {i + 1}"
        inside = f"+{int(pos[i, i]):,} / \u2212{int(neg[i, i]):,} WOM inside"
        # Outside the ring, on the bubble's own ray, so labels never cover each other or a bubble.
        ux, uy = np.cos(angle[i]), np.sin(angle[i])
        ha = "center" if abs(ux) < 0.3 else ("left" if ux > 0 else "right")
        va = "center" if abs(uy) < 0.3 else ("bottom" if uy > 0 else "top")
        ax.text(x + ux * (radius[i] + 0.06), y + uy * (radius[i] + 0.06),
                f"{name}: {groups.sizes[i]:,} people\n{customers[i]:.0%} customers\n{inside}", ha=ha, va=va,
                fontsize=9.5, zorder=4, linespacing=1.1)  # fmt: skip
    fig.text(0.5, 0.03, f"Bubble area: people; inner disc: customers. Lines: WOM this {unit} between groups,\n"
             "width = messages (green positive, vermillion negative).", ha="center", fontsize=9.5)  # fmt: skip
    return fig


def _circle(x: float, y: float, r: float, face: str, edge: str | None) -> Circle:
    return Circle((x, y), r, facecolor=face, edgecolor=edge or face, linewidth=0.8, zorder=2 if edge else 3)
