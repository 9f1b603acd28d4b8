"""Node positions for the network view: one force-directed layout per drawn graph, computed once and cached.

networkx's spring layout takes ~19 s on 2,000 drawn people (and Mesa 3.5's `Network` runs one at construction),
so the view uses its own vectorised Fruchterman-Reingold: positions are complex numbers, repulsion comes from a
random subset of nodes each iteration (an unbiased estimate of the full sum), and a gravity term keeps people
with no drawn neighbour in a halo around the connected core instead of flying to infinity. ~1 s for 2,000 people.

Positions are cached in memory (Reset re-creates the model on the same graph) and on disk (a relaunch on the
same scenario), keyed by a digest of the drawn edges, so no layout is ever computed per step.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from wom_sim.viz.sampling import DrawnGraph

LAYOUT_VERSION = 1  # bump when the algorithm changes, so old cached positions are not reused
ITERATIONS = 120
REPULSION_SAMPLE = 300  # nodes that repel each node per iteration (all of them below this size)
GRAVITY = 0.1  # pull toward the centre, relative to the spring force at distance k
LAYOUT_SEED = 7
_MEMORY: OrderedDict[str, np.ndarray] = OrderedDict()
_MEMORY_SIZE = 16


def force_layout(
    n: int, src: np.ndarray, dst: np.ndarray, iterations: int = ITERATIONS, seed: int = LAYOUT_SEED
) -> np.ndarray:
    """Fruchterman-Reingold positions of n nodes joined by edges (src[i], dst[i]), scaled into [-1, 1]^2.

    Fruchterman, T.M.J. and Reingold, E.M. (1991), Graph drawing by force-directed placement, Software:
    Practice and Experience 21(11), 1129-1164; with sampled repulsion and a gravity term as in ForceAtlas2
    (Jacomy et al. 2014, PLoS ONE 9(6): e98679).

    Returns
    -------
    float32 array of shape (n, 2).
    """
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    if n == 1:
        return np.zeros((1, 2), dtype=np.float32)
    rng = np.random.default_rng(seed)
    z = ((rng.random(n) - 0.5) + 1j * (rng.random(n) - 0.5)).astype(np.complex64)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    k = np.float32(1.0 / np.sqrt(n))
    m = min(n, REPULSION_SAMPLE)
    temperature, cooling = 0.1, 0.1 / (iterations + 1)
    for _ in range(iterations):
        ref = z if m == n else z[rng.choice(n, m, replace=False)]
        delta = z[:, None] - ref[None, :]
        delta[np.abs(delta) < 1e-9] = np.inf  # self (and exact overlaps) exert no force
        force = (k * k * (n / m)) * (1.0 / np.conj(delta)).sum(axis=1)  # (dx, dy) / d^2 summed, as complex
        force -= GRAVITY * z * np.abs(z) / k
        spring = z[src] - z[dst]
        spring *= np.abs(spring) / k
        # Sum each edge's pull into both ends (bincount is ~20x faster than np.add.at).
        force += _pull(dst, spring, n) - _pull(src, spring, n)
        length = np.maximum(np.abs(force), 1e-9)
        z += force / length * np.minimum(length, temperature)
        temperature -= cooling
    z -= z.mean()
    z /= max(float(np.abs(z.real).max()), float(np.abs(z.imag).max()), 1e-9)
    return np.column_stack([z.real, z.imag]).astype(np.float32)


def _pull(ends: np.ndarray, spring: np.ndarray, n: int) -> np.ndarray:
    real = np.bincount(ends, weights=spring.real, minlength=n)
    imag = np.bincount(ends, weights=spring.imag, minlength=n)
    return (real + 1j * imag).astype(np.complex64)


def cache_dir() -> Path:
    """Where layouts are kept between launches: $WOM_SIM_CACHE_DIR, else $XDG_CACHE_HOME/wom-sim or ~/.cache/wom-sim."""
    if os.environ.get("WOM_SIM_CACHE_DIR"):
        return Path(os.environ["WOM_SIM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wom-sim"


def layout_key(drawn: DrawnGraph) -> str:
    """Digest of what the layout depends on: the number of drawn people and the edges among them."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"v{LAYOUT_VERSION}:{len(drawn.nodes)}:{ITERATIONS}:{REPULSION_SAMPLE}:{GRAVITY}:{LAYOUT_SEED}".encode())
    h.update(np.ascontiguousarray(drawn.src, dtype=np.int32).tobytes())
    h.update(np.ascontiguousarray(drawn.dst, dtype=np.int32).tobytes())
    return h.hexdigest()


def cached_layout(drawn: DrawnGraph, use_disk: bool = True) -> tuple[np.ndarray, str]:
    """Positions of the drawn people, and where they came from (cached in memory, on disk, or computed now)."""
    key = layout_key(drawn)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key], "cached in memory"
    path = cache_dir() / "layouts" / f"{key}.npy"
    pos, origin = None, ""
    if use_disk and path.exists():
        try:
            pos = np.load(path, allow_pickle=False)
            origin = "cached on disk"
        except (OSError, ValueError):  # a damaged cache file is recomputed
            pos = None
        if pos is not None and pos.shape != (len(drawn.nodes), 2):
            pos = None
    if pos is None:
        start = time.perf_counter()
        pos = force_layout(len(drawn.nodes), drawn.src, drawn.dst)
        origin = f"computed in {time.perf_counter() - start:.1f} s and cached"
        if use_disk:
            _save(path, pos)
    _MEMORY[key] = pos
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return pos, origin


def _save(path: Path, pos: np.ndarray) -> None:
    """Write atomically; a read-only cache folder only costs the next launch a recomputation."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, pos, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass


def clear_memory_cache() -> None:
    """Forget in-memory layouts (for tests)."""
    _MEMORY.clear()
