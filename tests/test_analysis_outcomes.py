"""How a run is summarised (wom_sim/analysis/outcomes.py): stat:column names, catalogue defaults, derived cost."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wom_sim.analysis.outcomes import (
    check_horizon,
    format_outcome,
    label,
    outcome,
    outcome_error,
    paired_outcomes,
    run_outcomes,
    short_label,
    summarise_run,
)
from wom_sim.catalogue import CATALOGUE
from wom_sim.errors import ScenarioError
from wom_sim.sim.model import resolve_scenario, simulate

FRAME = pd.DataFrame(
    {
        "run_key": ["a"] * 3,
        "t": [0, 1, 2],
        "churn_rate": [0.1, 0.2, 0.3],
        "pos_messages": [1, 2, 3],
        "nps": [5.0, 6.0, 7.0],
        "cost_of_goods": [1.0, 1, 1],
        "intervention_cost": [0.0, 2, 0],
    }
)


def test_statistics_over_ticks():
    out = summarise_run(FRAME, ["churn_rate", "pos_messages", "nps", "max:nps", "min:nps", "sum:nps", "cost",
                                "at:1:nps", "at:9:nps", "cost_referral"])  # fmt: skip
    assert out == pytest.approx({"churn_rate": 0.2, "pos_messages": 6, "nps": 7, "max:nps": 7, "min:nps": 5,
                                 "sum:nps": 18, "cost": 5, "at:1:nps": 6, "at:9:nps": float("nan"),
                                 "cost_referral": 0.0}, nan_ok=True)  # fmt: skip


def test_bare_names_take_the_catalogues_statistic():
    for name, entry in CATALOGUE.items():
        assert outcome(name).stat == entry.summary
    assert outcome("at:12:adoption_share") == outcome("at:12:adoption_share")
    assert outcome("mean:adoption_share").scale == "percent" and outcome("nps").scale == "points"


def test_bad_names_say_what_is_allowed():
    assert "allowed: last, mean, sum, min, max, at:T" in outcome_error("final:nps")
    assert "did you mean 'nps'" in outcome_error("npss")
    assert "whole tick T >= 0" in outcome_error("at:x:nps")
    assert "whole tick T >= 0" in outcome_error("at:-1:nps")  # ticks count from 0: no run has tick -1
    assert outcome_error("mean:churn_rate") is None
    with pytest.raises(ScenarioError):
        outcome("total:revenue")


def test_labels_name_the_statistic():
    assert label("churn_rate") == "Churn rate per tick (mean)"
    assert label("churn_rate", "week") == "Churn rate per week (mean)"
    assert label("at:12:adoption_share", "week") == "Ever adopted (share of population) at week 12"
    assert label("not a metric") == "not a metric"


def test_many_runs_at_once_equal_one_run_at_a_time():
    scenario = resolve_scenario(None, {"network.n": 300, "network.m": 3, "ticks": 30})
    frames = [simulate(scenario, seed=s).metrics.assign(run_key=f"r{s}") for s in (1, 2)]
    names = ["adoption_share", "mean:adoption_share", "neg_messages", "clv", "profit"]
    table = run_outcomes(pd.concat(frames[::-1], ignore_index=True), names)
    for frame in frames:
        expected = summarise_run(frame, names)
        assert table.loc[frame["run_key"].iat[0]].to_dict() == pytest.approx(expected, nan_ok=True)


PAIR = pd.DataFrame(
    {
        "run_key": ["base"] * 4 + ["arm"] * 4,
        "t": [1, 2, 3, 4] * 2,
        "brand": [0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.45, 0.55],
        "cum_profit": [0.0, 10, 20, 30, -5, 5, 25, 40],
        "profit": [0.0, 10, 10, 10, -5, 10, 20, 15],
        "cost_promo": [0.0, 0, 0, 0, 5, 5, 0, 0],
    }
)


def test_an_at_tick_must_lie_within_the_horizon():
    check_horizon("at:11:nps", 12)
    check_horizon("mean:nps", 1)  # only at:T names a tick
    with pytest.raises(ScenarioError, match=r"'at:12:nps': tick 12 is past the horizon of 12 ticks \(allowed: 0-11\)"):
        check_horizon("at:12:nps", 12)


def test_relative_outcomes_parse_with_their_columns():
    assert outcome("payback").column == "cum_profit" and outcome("payback:cum_revenue").stat == "payback"
    assert outcome("crisis_damage").column == "brand" and outcome("damage:nps").stat == "damage"
    assert outcome("incremental:profit").relative and outcome("roi").relative
    assert not outcome("min:brand").relative
    assert "allowed:" in outcome_error("cheapest:profit") and "payback" in outcome_error("cheapest:profit")
    with pytest.raises(ScenarioError, match="compares a run with a base run"):
        summarise_run(PAIR, ["payback"])  # needs a base: never silently one run's own number


def test_relative_outcomes_against_the_base_run_of_the_same_seed():
    pairs = pd.DataFrame({"run_key": ["arm"], "base_key": ["base"], "group": ["treat"]})
    names = ["payback", "crisis_damage", "incremental:profit", "roi"]
    out = paired_outcomes(PAIR, pairs, names, {"treat": ["promo"]}).iloc[0]
    assert out["payback"] == 3.0  # cum_profit differences -5, -5, +5, +10: at or above the base's from t = 3
    assert out["crisis_damage"] == pytest.approx(0.4 / 0.5 - 1.0)  # the deepest point, t = 2: 20% below
    assert out["incremental:profit"] == pytest.approx(40.0 - 30.0)
    assert out["roi"] == pytest.approx(10.0 / 10.0)  # 10 more profit for 10 of programme spend
    no_spend = paired_outcomes(PAIR, pairs, ["roi"], {"treat": []}).iloc[0]
    assert math.isnan(no_spend["roi"])  # no programme spend: no ROI, whatever else moved


def test_formatting_and_short_labels_of_outcomes():
    assert format_outcome("adoption_share", 0.0593, delta=True) == "+5.9 pts"
    assert format_outcome("nps", 3.0, delta=True) == "+3.0 pts" and format_outcome("profit", 1.5e6, "EUR") == "1.5M EUR"
    assert format_outcome("payback", 11.0, unit="week") == "week 11" and format_outcome("roi", 0.5) == "+0.50"
    # A tiny negative that rounds to zero reads as zero, as everywhere in the catalogue, not as a loss of "-0.0%".
    assert format_outcome("crisis_damage", -0.0004) == "+0.0%" and format_outcome("crisis_damage", -0.012) == "-1.2%"
    assert format_outcome("roi", -0.001) == "+0.00"
    assert short_label("adoption_share") == "Ever adopted" and short_label("payback", "month") == "Payback month"
    assert short_label("crisis_damage") == "Deepest brand vs the base"


def test_an_incremental_label_has_one_parenthesis():
    # "Incremental revenue (total) (vs the base)" in the compare report's details
    from wom_sim.analysis.outcomes import label

    assert label("incremental:revenue", "week") == "Incremental revenue (total, vs the base)"
    assert label("incremental:customers", "week") == "Incremental active customers (vs the base)"


def test_a_payback_label_has_no_parenthesis_inside_its_parenthesis():
    # "Payback week (profit (cumulative) back above the base's)" in the compare report's details
    from wom_sim.analysis.outcomes import label

    assert label("payback", "week") == "Payback week (cumulative profit back above the base's)"
    assert label("payback:cum_revenue", "month") == "Payback month (cumulative revenue back above the base's)"
