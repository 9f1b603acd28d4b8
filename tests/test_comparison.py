"""The one comparison API (wom_sim/experiment/comparison.py): scenarios, files or bundled names, paired by seed,
in memory or in a store folder, with uplift, ROI and per-seed tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wom_sim.analysis.segments import breakdown
from wom_sim.errors import ScenarioError
from wom_sim.experiment import Arm, compare, load_comparison, replication_seeds
from wom_sim.experiment.comparison import COMPARE_OUTCOMES
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import build_scenario
from wom_sim.sim.model import resolve_scenario, simulate

ADS = {"kind": "advertising", "name": "tv", "schedule": {"from": 0, "until": 9}, "reach_multiplier": 3,
       "budget_per_tick": 500}  # fmt: skip
MONEY = ["cum_profit", "mean:adoption_share"]


def make(interventions=(), n: int = 1500, ticks: int = 40):
    data = {"ticks": ticks, "network": {"n": n, "m": 5}, "kols": {"select": {"by": "degree", "k": 5}},
            "interventions": list(interventions)}  # fmt: skip
    return build_scenario(data, "test")


def test_a_scenario_against_itself_changes_nothing_and_has_no_roi():
    c = compare(make(n=400, ticks=12), make(n=400, ticks=12), replications=2)
    assert c.labels == ["unnamed", "unnamed#2"] and c.path is None  # in memory, repeated label numbered
    assert (c.per_seed.filter(like="delta_").to_numpy() == 0).all()
    assert c.roi["roi"].isna().all() and (c.roi["incremental_cost"] == 0).all()


def test_common_random_numbers_and_the_roi_formula():
    base, treat = make(), make([ADS])
    c = compare(base, treat, replications=3, seed=11, outcomes=MONEY)
    ps = c.per_seed
    assert list(ps["seed"]) == replication_seeds(11, 3)
    for _, row in ps.iterrows():
        # Each arm equals a standalone run with that seed: same graph, population and streams.
        alone_b = simulate(base, seed=int(row["seed"])).metrics
        alone_t = simulate(treat, seed=int(row["seed"])).metrics
        assert row["base_cum_profit"] == alone_b["cum_profit"].iloc[-1]
        assert row["delta_cum_profit"] == alone_t["cum_profit"].iloc[-1] - alone_b["cum_profit"].iloc[-1]
    # The only cost is the campaign: 10 ticks x 500, exactly, in every seed.
    assert (ps["delta_intervention_cost"] == 5000.0).all()
    r = c.roi.iloc[0]
    assert r["incremental_cost"] == 5000.0 and r["roi"] == pytest.approx(ps["delta_profit"].mean() / 5000.0)
    assert r["ci_low"] <= r["roi"] <= r["ci_high"]
    # Paired: tripled ad reach for 10 ticks makes adoption faster in every seed (effect ~0.02, noise ~0.002).
    assert (ps["delta_mean:adoption_share"] > 0).all()
    uplift = c.uplift.set_index("outcome")
    assert uplift.loc["roi", "uplift"] == r["roi"] and uplift.loc["mean:adoption_share", "scale"] == "percent"


def test_a_payback_interval_stays_within_the_horizon():
    # Paybacks in weeks 26, 15 and 6 of 30: the t-interval of their mean runs from week -9 to week 41, weeks no
    # run has; the mean payback lies within the horizon, so the interval is cut to it.
    c = compare("baseline", "referral_program", replications=3, overrides={"network.n": 600, "ticks": 30})
    paybacks = c.per_seed["treat_payback"]
    assert paybacks.notna().all() and paybacks.std() * 4.3 / math.sqrt(3) > paybacks.mean()  # wider than its mean
    row = c.uplift.set_index("outcome").loc["payback"]
    assert 0 <= row["ci_low"] <= row["uplift"] <= row["ci_high"] <= 29


def test_pairing_is_much_tighter_than_independent_runs():
    """Why pair: the per-seed difference varies far less than the difference of independent runs."""
    base, treat = make(), make([ADS])
    c = compare(base, treat, replications=4, seed=1, outcomes=["cum_profit"])
    paired = c.per_seed["delta_cum_profit"]
    unpaired = pd.Series([simulate(treat, seed=s + 100).metrics["cum_profit"].iloc[-1]
                          - simulate(base, seed=s).metrics["cum_profit"].iloc[-1] for s in (1, 2, 3, 4)])  # fmt: skip
    # Independent runs differ by graph and population draws (sd of profit ~ several %); pairing removes them.
    assert paired.std() < 0.5 * unpaired.std()
    roi = c.roi.iloc[0]
    assert roi["ci_high"] - roi["ci_low"] < roi["unpaired_ci_high"] - roi["unpaired_ci_low"]


def test_bundled_names_files_and_a_store_folder(tmp_path):
    small = {"network.n": 300, "ticks": 6}
    (tmp_path / "mine.yaml").write_text("extends: " + str(bundled_path("referral_program")) + "\n", encoding="utf-8")
    c = compare("baseline", tmp_path / "mine.yaml", replications=2, overrides=small, out=tmp_path / "store")
    assert c.labels == ["baseline", "mine"] and c.path == tmp_path / "store"
    assert {"uplift.csv", "roi.csv", "per_seed.csv", "outcomes.csv"} <= {p.name for p in c.path.iterdir()}
    again = load_comparison(c.path)
    pd.testing.assert_frame_equal(again.uplift, c.uplift)
    pd.testing.assert_frame_equal(again.roi, c.roi)
    resumed = compare("baseline", tmp_path / "mine.yaml", replications=2, overrides=small, out=c.path).execution
    assert (resumed.ran, resumed.reused) == (0, 4)


def test_bad_input_is_one_line(tmp_path):
    with pytest.raises(ScenarioError, match="no bundled scenario of that name"):
        compare("baseline", "no_such_scenario", replications=2)
    with pytest.raises(ScenarioError, match="same horizon"):
        compare(Arm("a", make(n=300, ticks=5)), Arm("b", make(n=300, ticks=6)), replications=2)
    with pytest.raises(ScenarioError, match="unknown metric"):
        compare(make(n=300, ticks=5), make(n=300, ticks=5), replications=2, outcomes=["npss"])
    with pytest.raises(ScenarioError, match="at least one treatment"):
        compare(make(n=300, ticks=5))
    # A tick past the horizon is NaN in every run: refused before anything runs (nothing written to `out`).
    with pytest.raises(ScenarioError, match=r"tick 5 is past the horizon of 5 ticks \(allowed: 0-4\)"):
        compare(make(n=300, ticks=5), make(n=300, ticks=5), replications=2, outcomes=["at:5:profit"],
                out=tmp_path / "late")  # fmt: skip
    assert not (tmp_path / "late").exists()


def test_uplift_over_time_and_arms_over_time():
    c = compare(make(n=400, ticks=10), make([ADS], n=400, ticks=10), replications=3)
    series = c.uplift_timeseries
    assert set(series["t"]) == set(range(10)) and set(series["treatment"]) == {"unnamed#2"}
    assert set(c.timeseries["arm"]) == {"unnamed", "unnamed#2"}
    runs = c.runs_of("unnamed")
    assert sorted(runs) == [0, 1, 2] and np.all(runs[0]["t"].to_numpy() == np.arange(10))


REFERRAL = {"kind": "referral_reward", "sender_reward": 4, "receiver_reward": 4}


def test_verdicts_split_programme_spend_from_volume_driven_costs_and_rank_the_treatments():
    """Both arms run the same referral programme: better quality (no programme of its own) raises the payouts
    with the volume, so it has no ROI; a TV campaign's own spend is exactly its budget."""
    base = build_scenario({"ticks": 30, "network": {"n": 600, "m": 4}, "currency": "EUR",
                           "interventions": [REFERRAL]}, "base")  # fmt: skip
    better = resolve_scenario(base, {"brand.quality": 0.95})
    tv = build_scenario({**base.model_dump(exclude={"base_dir"}), "interventions": [REFERRAL, ADS]}, "tv")
    c = compare(Arm("base", base), Arm("better", better), Arm("tv", tv), replications=3, seed=2)
    v = c.verdicts().set_index("treatment")
    assert list(c.verdicts()["rank"]) == [1, 2] and set(v.index) == {"better", "tv"}
    assert v.loc["better", "programme_cost"] == 0.0 and math.isnan(v.loc["better", "roi"])
    spend = c.per_seed.set_index("treatment").loc["better"]
    # Volume-driven: the change in cost of goods plus the change in referral payouts (both arms pay them).
    volume = (spend["delta_cost_of_goods"] + spend["delta_intervention_cost"]).mean()
    assert v.loc["better", "volume_cost"] == pytest.approx(volume) and spend["delta_intervention_cost"].mean() != 0
    assert v.loc["tv", "programme_cost"] == 5000.0  # 10 ticks x 500, in every seed
    assert v.loc["tv", "roi"] == pytest.approx(v.loc["tv", "incremental_profit"] / 5000.0)
    for label, row in v.iterrows():
        expected = "pays" if row["profit_ci_low"] > 0 else "does not pay" if row["profit_ci_high"] <= 0 else "not sure"
        assert row["verdict"] == expected and row["currency"] == "EUR" and row["horizon"] == 30
        assert row["sentence"].startswith(label) and " EUR" in row["sentence"]
    pair = c.pairwise().iloc[0]
    first, second = c.ranking()["treatment"]
    assert (pair["treatment"], pair["other"]) == (first, second)
    assert pair["difference"] == pytest.approx(v.loc[first, "incremental_profit"] - v.loc[second, "incremental_profit"])
    assert "Holm" in pair["adjustment"] and c.summary().count("\n") == 3  # heading, 2 verdicts, the adjustment


def test_by_segment_pairs_each_group_and_the_store_keeps_it(tmp_path):
    small = {"network.n": 500, "ticks": 20}
    folder = tmp_path / "cmp"
    c = compare("baseline", "referral_program", replications=3, overrides=small, out=folder, by="segment")
    assert c.by == "segment" and (folder / "by_segment.csv").exists() and (folder / "by_segment_runs.csv").exists()
    table = c.by_group
    assert set(table["treatment"]) == {"referral_program"} and set(table["n"]) == {3}
    assert len(table) == table["group"].nunique() * 8  # every group x every breakdown metric
    measured = table.dropna(subset=["ci_low"])
    assert ((measured["ci_low"] <= measured["uplift"]) & (measured["uplift"] <= measured["ci_high"])).all()
    # What the worker kept is a standalone run's breakdown: replication 0 of the treatment, recomputed here.
    runs = c.by_runs
    first = runs[(runs["arm"] == "referral_program") & (runs["replication"] == 0)]
    alone = simulate(bundled_path("referral_program"), overrides=small, seed=int(first["seed"].iloc[0])).people
    expected = breakdown(alone, "segment").rename(columns={"segment": "group"}).set_index("group")
    got = first.set_index("group")[expected.columns]
    pd.testing.assert_frame_equal(got.astype(float), expected.astype(float), check_names=False)
    # The groups add up to the run's customers; each group's difference is the mean of the paired ones.
    per_run = runs.groupby("run_key")["customers"].sum()
    overall = c.outcomes.set_index("run_key")["customers"]
    assert (per_run == overall.reindex(per_run.index)).all()
    wide = runs.pivot_table(index=["replication", "group"], columns="arm", values="customers")
    delta = (wide["referral_program"] - wide["baseline"]).groupby("group").mean()
    by_metric = table[table["metric"] == "customers"].set_index("group")["uplift"]
    assert np.allclose(by_metric.reindex(delta.index), delta)
    # Read back from the folder (what `wom-sim report` does): the same numbers.
    again = load_comparison(folder)
    assert again.by == "segment"
    pd.testing.assert_frame_equal(again.by_group, table)


def test_a_store_without_breakdowns_says_so_and_compare_by_adds_them(tmp_path):
    small = {"network.n": 300, "ticks": 8}
    folder = tmp_path / "old"
    compare("baseline", "kol_launch", replications=2, overrides=small, out=folder)
    assert load_comparison(folder).by is None  # no breakdown asked: none tabulated
    with pytest.raises(ScenarioError, match=r"4 of 4 runs were stored without a breakdown by is_kol.*--by is_kol"):
        load_comparison(folder, by="is_kol")
    with pytest.raises(ScenarioError, match="cannot break down by 'area'"):
        load_comparison(folder, by="area")
    c = compare("baseline", "kol_launch", replications=2, overrides=small, out=folder, by="is_kol")
    assert c.execution.ran == c.execution.without_breakdowns == 4 and set(c.by_group["group"]) == {"False", "True"}
    assert "4 stored runs were kept without their outcomes per group" in c.notes[-1]
    c = compare("baseline", "kol_launch", replications=2, overrides=small, out=folder, by="acquired_by")
    assert c.execution.ran == 0  # every breakdown was kept with the runs: nothing runs again
    with pytest.raises(ScenarioError, match="brand needs competitors"):
        compare("baseline", "kol_launch", replications=2, overrides=small, by="brand")


def test_with_rivals_the_default_outcomes_add_our_share_and_each_rivals_share_and_profit(tmp_path):
    small = {"network.n": 400, "ticks": 10}
    c = compare("competitor_price_cut", "competitor_price_match", replications=2, overrides=small, out=tmp_path / "s")
    market = ["market_share", "purchase_share", "voice_share_pos", "switch_in", "switch_out",
              "rival_acme_market_share", "rival_acme_profit"]  # fmt: skip
    assert [o for o in c.outcome_names if o in market] == market
    assert c.outcome_names.index("rival_acme_profit") < c.outcome_names.index("revenue")  # before the money
    rows = c.uplift.set_index("outcome")
    assert rows.loc["market_share", "uplift"] == pytest.approx(-rows.loc["rival_acme_market_share", "uplift"])
    assert rows.loc[market, ["uplift", "ci_low", "ci_high"]].notna().all().all()
    assert load_comparison(c.path).outcome_names == c.outcome_names  # the report reads the same outcomes
    # One brand: the outcomes are today's, no market rows.
    assert compare("baseline", "kol_launch", replications=2, overrides=small).outcome_names == COMPARE_OUTCOMES


def test_asking_for_roi_as_an_outcome_gives_the_one_roi_row_of_the_estimator():
    """`--outcome roi` must not add a second ROI row (a mean of per-seed ratios with a t-interval) beside the
    comparison's own (ratio of mean uplifts, BCa): the uplift table, the workbook and the report would show two."""
    c = compare(make(n=400, ticks=12), make([ADS], n=400, ticks=12), replications=3, seed=2,
                outcomes=["profit", "roi"])  # fmt: skip
    rows = c.uplift[c.uplift["outcome"] == "roi"]
    assert len(rows) == 1
    assert rows["uplift"].iloc[0] == c.roi["roi"].iloc[0] and rows["ci_low"].iloc[0] == c.roi["ci_low"].iloc[0]
    assert "treat_roi" in c.per_seed  # the per-seed ratios stay available


def test_an_interrupted_compare_by_a_column_still_loads(tmp_path):
    # Ctrl-C during `compare --by segment`: a missing run was reported as "1 of 8 runs were stored without a
    # breakdown by segment (made without --by ...)", so `wom-sim report` of the folder refused it.
    base = resolve_scenario(None, {"network.n": 300, "network.m": 3, "ticks": 6})
    ads = resolve_scenario(None, {"network.n": 300, "network.m": 3, "ticks": 6,
                                  "interventions": [{"kind": "advertising", "budget_per_tick": 50}]})  # fmt: skip
    compare(Arm("base", base), Arm("ads", ads), replications=3, out=tmp_path, by="segment")
    sorted((tmp_path / "runs").glob("*.parquet"))[0].unlink()
    result = load_comparison(tmp_path)
    assert result.by == "segment" and not result.by_group.empty
