"""Verdicts from paired replications (wom_sim/analysis/verdicts.py): the verdict rule, Holm, payback, pairwise
differences, programme entries and the verdict sentence, all on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wom_sim.analysis.verdicts import (
    PAIRWISE_COLUMNS,
    holm,
    pairwise_differences,
    payback_tick,
    programme_entries,
    rank_treatments,
    verdict,
    verdict_sentence,
)


def test_the_verdict_follows_the_ci_of_the_incremental_profit():
    assert verdict(1.0, 5.0) == "pays"
    assert verdict(-5.0, -1.0) == "does not pay"
    assert verdict(0.0, 0.0) == "does not pay"  # changes no profit at all
    assert verdict(-1.0, 5.0) == "not sure" and verdict(0.0, 5.0) == "not sure"
    assert verdict(math.nan, math.nan) == "not sure"  # fewer than 2 replications: no interval


def test_holm_against_a_hand_computed_case():
    # Sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> monotone 0.06. Capped at 1.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    out = holm([0.02, math.nan])  # NaN stays NaN and is not counted: one test, no adjustment
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1])


def test_payback_is_where_the_cumulative_uplift_turns_for_good():
    assert payback_tick([1, 2, 3, 4], [-3.0, 1.0, -0.5, 2.0]) == 4.0  # dips again at 3: paid back from 4
    assert payback_tick([0, 1, 2], [1.0, 2.0, 3.0]) == 0.0  # ahead from the start
    assert math.isnan(payback_tick([0, 1], [-2.0, -1.0])) and math.isnan(payback_tick([0, 1], [0.0, 0.0]))


def test_pairwise_differences_are_paired_and_holm_adjusted():
    rng = np.random.default_rng(3)
    common = rng.normal(100.0, 30.0, 10)  # the market's luck, shared by every arm of a replication (CRN)
    profits = {"a": common + 20.0 + rng.normal(0, 1, 10), "b": common + 10.0 + rng.normal(0, 1, 10),
               "c": common + 10.0 + rng.normal(0, 1, 10)}  # fmt: skip
    order = rank_treatments({k: float(v.mean()) for k, v in profits.items()})
    assert order[0] == "a"
    pairs = pairwise_differences(profits, order).set_index(["treatment", "other"])
    assert list(pairs.reset_index().columns) == PAIRWISE_COLUMNS and len(pairs) == 3
    ab = pairs.loc[("a", order[1])]
    diff = profits["a"] - profits[order[1]]
    assert ab["difference"] == pytest.approx(diff.mean())  # the shared luck cancels: sd ~1.4, not ~42
    assert ab["ci_high"] - ab["ci_low"] < 3.0 and bool(ab["beats"])
    assert not bool(pairs.loc[(order[1], order[2]), "beats"])  # b and c differ by noise only
    assert (pairs["p_holm"] >= pairs["p_value"]).all() and "Holm" in pairs["adjustment"].iloc[0]


def test_programme_entries_are_what_the_treatment_adds_or_changes():
    base = {"events": [{"kind": "crisis", "at": 5}], "interventions": [{"kind": "referral_reward", "reward": 5}]}
    same = {**base}
    assert programme_entries(base, same) == []
    changed = {**base, "interventions": [{"kind": "referral_reward", "reward": 9}]}
    assert programme_entries(base, changed) == ["referral_reward"]
    added = {**base, "interventions": [*base["interventions"], {"kind": "crisis_response"}]}
    assert programme_entries(base, added) == ["crisis_response"]  # the crisis event is no programme
    assert programme_entries(base, {}) == ["referral_reward"]  # dropped: its saving counts


def test_the_sentence_reads_in_money_and_weeks():
    row = {"treatment": "referral", "verdict": "pays", "incremental_profit": 298e3, "profit_ci_low": 282e3,
           "profit_ci_high": 314e3, "programme_cost": 42e3, "roi": 6.04, "roi_ci_low": 5.1, "roi_ci_high": 7.0,
           "payback_tick": 11.0, "horizon": 104, "tick_unit": "week"}  # fmt: skip
    pairs = pd.DataFrame([{"treatment": "referral", "other": "kols", "difference": 79e3, "ci_low": 41e3,
                           "ci_high": 117e3, "beats": True}])  # fmt: skip
    text = verdict_sentence(row, pairs, "$")
    assert text.startswith("referral pays: +$298k profit (95% CI +$282k to +$314k) over 104 weeks")
    assert "6.0 back per unit of programme spend" in text and "payback in week 11" in text
    assert text.endswith("beats kols by +$79k (+$41k to +$117k)")
    free = verdict_sentence({**row, "verdict": "not sure", "programme_cost": 0.0, "roi": math.nan,
                             "payback_tick": math.nan})  # fmt: skip
    assert free.startswith("referral: not sure it pays") and "no programme spend of its own" in free
    # Never behind the base (payback at the first tick): no "payback in week 0", it was ahead from the start.
    ahead = verdict_sentence({**row, "verdict": "not sure", "programme_cost": 0.0, "roi": math.nan,
                              "payback_tick": 0.0})  # fmt: skip
    assert "payback" not in ahead and ahead.endswith("profit ahead of the base from the first week")
    # A one-week horizon reads "over 1 week", not "over 1 weeks".
    short = verdict_sentence({**row, "horizon": 1, "payback_tick": math.nan})
    assert "over 1 week," in short and short.endswith("not paid back within 1 week")
    # Fieller's interval without finite bounds (extra spend not clearly above 0) reads n/a, never "nan to nan".
    for roi in (0.15, -0.3):
        unbounded = verdict_sentence({**row, "roi": roi, "roi_ci_low": math.nan, "roi_ci_high": math.nan})
        assert "nan" not in unbounded and "(95% CI n/a: the extra spend is not clearly above 0)" in unbounded


def test_an_roi_without_a_finite_interval_is_said_in_words():
    # Two runs whose extra spend is 580 and 220 (a targeted reward): Fieller's interval of the ROI is unbounded and
    # `statistics.roi` gives NaN bounds; the sentence must not read "(95% CI nan to nan)".
    row = {
        "treatment": "segment_referral",
        "verdict": "not sure",
        "incremental_profit": 157.0,
        "profit_ci_low": -2.46e3,
        "profit_ci_high": 2.77e3,
        "programme_cost": 400.0,
        "roi": 0.39,
        "roi_ci_low": math.nan,
        "roi_ci_high": math.nan,
        "payback_tick": 3.0,
        "horizon": 20,
        "tick_unit": "week",
    }
    for roi in (0.39, -0.3):  # the "back per unit" and the "recovers" wording
        text = verdict_sentence({**row, "roi": roi})
        assert "nan" not in text.lower()
        assert "(95% CI n/a: the extra spend is not clearly above 0)" in text
