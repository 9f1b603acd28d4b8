"""How a run is summarised (wom_sim/analysis/outcomes.py): stat:column names, catalogue defaults, derived cost."""

from __future__ import annotations

import pandas as pd
import pytest

from wom_sim.analysis.outcomes import label, outcome, outcome_error, run_outcomes, summarise_run
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
    assert "integer tick" in outcome_error("at:x:nps")
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
