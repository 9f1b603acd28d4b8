"""Per-tick metrics (wom_sim/sim/metrics.py): the quantile columns read off a 4096-bin histogram."""

from __future__ import annotations

import numpy as np

from wom_sim.sim.metrics import QUANTILE_BINS, _quantiles


def _histogram_quantiles(x: np.ndarray) -> list[float]:
    """The definition: the first bin whose cumulative count reaches q x size, read at its centre."""
    counts = np.bincount(np.minimum((x * QUANTILE_BINS).astype(np.int64), QUANTILE_BINS - 1), minlength=QUANTILE_BINS)
    bins = np.searchsorted(np.cumsum(counts), np.array([0.1, 0.5, 0.9]) * x.size, side="left")
    return [float((b + 0.5) / QUANTILE_BINS) for b in bins]


def test_quantiles_are_the_histogram_quantiles_exactly():
    rng = np.random.default_rng(3)
    for i in range(3000):
        size = int(rng.integers(1, 4000))
        x = rng.random(size) ** rng.uniform(0.1, 5)
        if i % 3 == 0:  # ties, and values on bin edges
            x = np.round(x * rng.integers(1, 60)) / 60
        if i % 5 == 0:
            x[rng.random(size) < 0.3] = rng.choice([0.0, 1.0])
        assert _quantiles(x) == _histogram_quantiles(x)
    assert all(np.isnan(_quantiles(np.zeros(0))))
