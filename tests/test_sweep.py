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


def test_partial_dependence_of_a_list_of_names_next_to_a_number_is_written_as_parquet(tmp_path):
    """network.generator's items are names, wom.contact_prob's numbers: one `value` column cannot hold both in
    Parquet, so the names are in `category` and the numbers stay numbers."""
    from wom_sim.output import write_table

    outcomes = pd.DataFrame(
        {
            "point": [0, 1, 2, 3],
            "network.generator": ["barabasi_albert", "barabasi_albert", "watts_strogatz", "watts_strogatz"],
            "wom.contact_prob": [0.1, 0.2, 0.1, 0.2],
            "profit": [10.0, 12.0, 4.0, 5.0],
        }
    )
    effects = _partial_dependence(outcomes, ["network.generator", "wom.contact_prob"], ["profit"], "grid")
    back = pd.read_parquet(write_table(effects, tmp_path / "effects"))
    names, numbers = back[back["parameter"] == "network.generator"], back[back["parameter"] == "wom.contact_prob"]
    assert list(names["category"]) == ["barabasi_albert", "watts_strogatz"] and names["value"].isna().all()
    assert list(numbers["value"]) == [0.1, 0.2] and numbers["category"].isna().all()
    assert list(back["mean"]) == [11.0, 4.5, 7.0, 8.5]
