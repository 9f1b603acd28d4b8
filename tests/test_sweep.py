"""Sweep summaries (wom_sim.experiment.sweep): per-point means and CIs, partial dependence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wom_sim.experiment.sweep import _partial_dependence, _points


def _outcomes_with_missing_paybacks() -> pd.DataFrame:
    # Point 0: 4 replications, two of which never paid back (NaN), as a sweep with a baseline: and `payback` gives.
    return pd.DataFrame(
        {
            "point": [0, 0, 0, 0, 1, 1, 1, 1],
            "replication": [0, 1, 2, 3, 0, 1, 2, 3],
            "k": [5, 5, 5, 5, 40, 40, 40, 40],
            "payback": [np.nan, np.nan, 7.0, 9.0, 3.0, 4.0, 6.0, 8.0],
        }
    )


def test_a_point_ci_counts_only_the_replications_that_have_the_outcome():
    """A replication with no payback is not a measurement: the t-interval is over the 2 that have one, t(0.975, 1)
    = 12.71, not over 4 (which would make it 5.6 times too narrow)."""
    points = _points(_outcomes_with_missing_paybacks(), ["k"], ["payback"]).set_index("point")
    half = stats.t.ppf(0.975, 1) * np.std([7.0, 9.0], ddof=1) / np.sqrt(2)
    assert points.loc[0, "payback_mean"] == 8.0
    assert points.loc[0, "payback_ci_high"] - 8.0 == pytest.approx(half, rel=1e-12)  # exact formula
    assert points.loc[0, "n"] == 4  # the point's runs


def test_partial_dependence_counts_only_the_runs_that_have_the_outcome():
    effects = _partial_dependence(_outcomes_with_missing_paybacks(), ["k"], ["payback"], "grid")
    row = effects[effects["value"] == 5].iloc[0]
    assert row["n"] == 2
    half = stats.t.ppf(0.975, 1) * np.std([7.0, 9.0], ddof=1) / np.sqrt(2)
    assert row["ci_high"] - row["mean"] == pytest.approx(half, rel=1e-12)
