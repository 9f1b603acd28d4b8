"""The one mean with CI, paired difference and ROI estimator (wom_sim/analysis/statistics.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wom_sim.analysis.statistics import mean_ci, mean_ci_table, paired_difference, roi, t_half_width, timeseries_ci


def test_mean_ci_matches_a_t_interval_and_drops_non_finite_values():
    x = [1.0, 2.0, 4.0, 7.0]
    est = mean_ci([*x, float("nan"), float("inf")])
    ref = stats.t.interval(0.95, 3, loc=np.mean(x), scale=stats.sem(x))
    assert (est.value, est.low, est.high, est.n) == pytest.approx((3.5, *ref, 4))
    assert np.isnan(mean_ci([2.0]).low) and mean_ci([2.0]).n == 1
    assert mean_ci([]).n == 0 and np.isnan(mean_ci([]).value)
    assert mean_ci([1.0, 3.0]).text("{:.1f}") == "2.0 (-10.7 to 14.7)"


def test_the_table_form_is_the_same_interval_per_column_and_group():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"arm": ["a"] * 5 + ["b"] * 5, "x": rng.normal(size=10), "y": rng.normal(size=10)})
    frame.loc[2, "y"] = np.nan
    table = mean_ci_table(frame, by=["arm"]).set_index(["arm", "metric"])
    for (arm, metric), row in table.iterrows():
        est = mean_ci(frame.loc[frame["arm"] == arm, metric])
        assert (row["mean"], row["ci_low"], row["ci_high"], row["n"]) == pytest.approx(
            (est.value, est.low, est.high, est.n)
        )
    assert table.loc[("a", "y"), "n"] == 4


def test_timeseries_ci_is_per_tick():
    runs = pd.DataFrame({"run_key": list("aabb"), "seed": [1, 1, 2, 2], "t": [0, 1, 0, 1], "nps": [1.0, 2, 3, 6]})
    out = timeseries_ci(runs).set_index(["t", "metric"])
    assert out.loc[(1, "nps"), "mean"] == 4.0 and out.loc[(0, "nps"), "n"] == 2
    assert out.loc[(1, "nps"), "ci_high"] - 4.0 == pytest.approx(float(t_half_width(np.std([2, 6], ddof=1), 2)))


def test_paired_and_unpaired_intervals_match_scipy():
    rng = np.random.default_rng(0)
    base = rng.normal(10, 2, 20)
    treatment = base + rng.normal(0.5, 0.3, 20)
    out = paired_difference(base, treatment)
    paired = stats.ttest_rel(treatment, base).confidence_interval(0.95)
    welch = stats.ttest_ind(treatment, base, equal_var=False).confidence_interval(0.95)
    assert out["ci_low"] == pytest.approx(paired.low) and out["ci_high"] == pytest.approx(paired.high)
    assert out["unpaired_ci_low"] == pytest.approx(welch.low)


def test_roi_is_a_ratio_of_mean_uplifts_not_a_mean_of_ratios():
    # Replication 2 spends almost nothing extra: its own ratio (400) would dominate a mean of per-seed ratios.
    base_gain, base_cost = np.zeros(4), np.zeros(4)
    treat_gain, treat_cost = np.array([30.0, 40.0, 2.0, 35.0]), np.array([20.0, 20.0, 0.005, 20.0])
    out = roi(base_gain, treat_gain, base_cost, treat_cost)
    assert out["roi"] == pytest.approx(treat_gain.mean() / treat_cost.mean())
    assert out["gain"] == pytest.approx(26.75) and out["n"] == 4
    assert np.mean(treat_gain / treat_cost) > 90  # what the old estimator reported


def test_roi_ci_is_fiellers_and_agrees_with_the_profit_interval():
    rng = np.random.default_rng(3)
    base_gain = rng.normal(100, 10, 12)
    treat_gain = base_gain + rng.normal(30, 6, 12)
    base_cost, treat_cost = np.zeros(12), rng.normal(20, 2, 12)
    out = roi(base_gain, treat_gain, base_cost, treat_cost)
    # Fieller's bounds r solve (gain - r cost)^2 = t^2 var(gain - r cost) on the per-replication uplifts.
    dg, dc, q = treat_gain - base_gain, treat_cost - base_cost, stats.t.ppf(0.975, 11)
    for r in (out["ci_low"], out["ci_high"]):
        assert (dg.mean() - r * dc.mean()) ** 2 == pytest.approx(q**2 * (dg - r * dc).var(ddof=1) / 12)
    assert out["ci_low"] < out["roi"] < out["ci_high"]
    # The base's gain is noise both arms share; treating the arms as independent cannot cancel it.
    assert out["unpaired_ci_high"] - out["unpaired_ci_low"] > 2 * (out["ci_high"] - out["ci_low"])
    # A spend that does not vary: the ROI interval is the paired profit interval divided by the spend, so a profit
    # interval across 0 gives an ROI interval across 0 (three replications, as a quick comparison has).
    gain_b, gain_t = np.array([10.0, 12.0, 9.0]), np.array([15.0, 9.0, 14.0])
    flat = roi(gain_b, gain_t, np.zeros(3), np.full(3, 5.0))
    profit = paired_difference(gain_b, gain_t)
    assert (flat["ci_low"], flat["ci_high"]) == pytest.approx((profit["ci_low"] / 5, profit["ci_high"] / 5))
    assert flat["ci_low"] < 0 < flat["ci_high"]


def test_roi_ci_covers_at_few_replications():
    # 4,000 simulated comparisons of 3 replications (gain ~ N(10, 8), cost ~ N(20, 2) per replication, true ROI
    # 0.5): the 95% interval must cover the truth 95% of the time; 0.93-0.97 is 4.7 standard errors of 4,000.
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(4000):
        gain, cost = rng.normal(10, 8, 3), rng.normal(20, 2, 3)
        out = roi(np.zeros(3), gain, np.zeros(3), cost)
        covered += bool(out["ci_low"] <= 0.5 <= out["ci_high"])
    assert 0.93 <= covered / 4000 <= 0.97


def test_roi_edge_cases():
    gain = np.array([100.0, 110, 90, 105])
    constant = roi(gain, gain + 30, np.zeros(4), np.full(4, 20.0))  # the same ratio in every replication
    assert constant["roi"] == constant["ci_low"] == constant["ci_high"] == pytest.approx(1.5)
    assert np.isnan(roi(gain, gain + 30, np.zeros(4), np.zeros(4))["roi"])  # no extra spend
    assert np.isnan(roi([1.0], [2.0], [0.0], [1.0])["ci_low"])  # one replication: no interval
    with pytest.raises(ValueError, match="one value per replication"):
        roi([1.0, 2.0], [2.0], [0.0], [1.0])


def test_t_quantile_is_scipy_stats_t_ppf():
    from wom_sim.analysis.statistics import t_quantile

    dof = np.array([1, 2, 3, 4.5, 10, 100, 1e6, np.inf, np.nan])
    for p in (0.5, 0.9, 0.95, 0.975, 0.995):
        np.testing.assert_array_equal(t_quantile(p, dof), stats.t.ppf(p, dof))


def test_the_interval_of_a_metric_is_cut_to_the_values_it_can_take():
    # Two replications: the t-interval (t = 12.7) of each column reaches far past its mean on both sides.
    frame = pd.DataFrame({
        "churn_rate": [0.01, 0.03],  # a rate: 0-1
        "nps": [60.0, 95.0],  # -100..100
        "customers": [2.0, 30.0],  # a count: from 0
        "profit": [-50.0, 40.0],  # money that can be below 0: not cut
        "rival_acme_price": [0.9, 1.4],  # a price ratio above 1 is possible: not cut above
        "payback": [3.0, 9.0],  # no metric: not cut
    })  # fmt: skip
    table = mean_ci_table(frame).set_index("metric")
    raw = mean_ci_table(frame)  # its mean and sd give the interval before the cut
    half = np.asarray(t_half_width(raw["sd"], raw["n"]))
    uncut = dict(zip(raw["metric"], zip(raw["mean"] - half, raw["mean"] + half, strict=True), strict=True))
    assert table.loc["churn_rate", "ci_low"] == 0.0 and uncut["churn_rate"][0] < 0
    assert table.loc["nps", "ci_high"] == 100.0 and uncut["nps"][1] > 100
    assert table.loc["customers", "ci_low"] == 0.0
    for name in ("profit", "payback"):
        assert (table.loc[name, "ci_low"], table.loc[name, "ci_high"]) == pytest.approx(uncut[name])
    assert table.loc["rival_acme_price", "ci_high"] == pytest.approx(uncut["rival_acme_price"][1])
    assert table.loc["rival_acme_price", "ci_high"] > 1


def test_a_stat_column_outcome_is_cut_as_its_column_and_a_signed_difference_never():
    # summary.csv cut only bare names: "mean:nps" of two runs printed -66 to 166 while "nps" beside it stopped at
    # 100. The one value range (wom_sim.catalogue.value_range) reads `stat:column` as the report's figures do.
    frame = pd.DataFrame({
        "mean:nps": [60.0, 95.0],
        "last:market_share": [0.02, 0.2],
        "at:12:adoption_share": [0.9, 0.99],
        "incremental:customers": [-30.0, 40.0],  # a difference against the base: either sign
        "incremental:churn_rate": [-0.02, 0.01],
        "damage:brand": [-0.3, -0.01],  # a relative drop: below 0
        "sum:churn_rate": [0.9, 1.6],  # a rate summed over ticks passes 100%
        "profit": [-50.0, 40.0],
        "roi": [-2.0, 3.0],
    })  # fmt: skip
    table = mean_ci_table(frame).set_index("metric")
    half = np.asarray(t_half_width(table["sd"], table["n"]))
    uncut = pd.DataFrame({"low": table["mean"] - half, "high": table["mean"] + half}, index=table.index)
    assert table.loc["mean:nps", "ci_high"] == 100.0 and uncut.loc["mean:nps", "high"] > 100
    assert table.loc["last:market_share", "ci_low"] == 0.0 and uncut.loc["last:market_share", "low"] < 0
    assert table.loc["at:12:adoption_share", "ci_high"] == 1.0
    for name in ("incremental:customers", "incremental:churn_rate", "damage:brand", "profit", "roi"):
        assert table.loc[name, "ci_low"] == pytest.approx(uncut.loc[name, "low"]), name
        assert table.loc[name, "ci_high"] == pytest.approx(uncut.loc[name, "high"]), name
    assert table.loc["sum:churn_rate", "ci_high"] == pytest.approx(uncut.loc["sum:churn_rate", "high"])
    assert table.loc["sum:churn_rate", "ci_low"] == 0.0  # a sum of rates is still not below 0
