"""Economics (wom_sim/sim/economics.py): cumulative money columns, CLV and the ledger. The paired ROI of a lever is
`wom_sim.compare` (tests/test_comparison.py) on the estimator of tests/test_analysis_statistics.py."""

from __future__ import annotations

import numpy as np
import pytest

from wom_sim.scenario.loading import build_scenario
from wom_sim.sim.economics import ECONOMICS_COLUMNS, ledger
from wom_sim.sim.metrics import METRIC_COLUMNS
from wom_sim.sim.model import simulate

ADS = {"kind": "advertising", "name": "tv", "schedule": {"from": 0, "until": 9}, "reach_multiplier": 3,
       "budget_per_tick": 500}  # fmt: skip


def make(interventions=(), n: int = 1500, ticks: int = 40):
    data = {"ticks": ticks, "network": {"n": n, "m": 5}, "kols": {"select": {"by": "degree", "k": 5}},
            "interventions": list(interventions)}  # fmt: skip
    return build_scenario(data, "test")


@pytest.fixture(scope="module")
def run():
    return simulate(make([ADS, {"kind": "service_recovery", "cost_per_case": 3}]), seed=4)


def test_economics_columns_are_metrics(run):
    assert all(c in METRIC_COLUMNS for c in ECONOMICS_COLUMNS)
    assert list(run.metrics.columns[: len(METRIC_COLUMNS)]) == METRIC_COLUMNS


def test_cumulative_columns_and_margin(run):
    m = run.metrics
    assert (m["purchases"] == m["new_customers"] + m["repurchases"] + m["winbacks"]).all()
    assert (m["cum_purchases"] == m["purchases"].cumsum()).all()
    assert (m["cum_repurchases"] == m["repurchases"].cumsum()).all()
    assert (m["cum_churn_events"] == m["churn_events"].cumsum()).all()
    assert np.allclose(m["cum_cost_of_goods"], m["cost_of_goods"].cumsum())
    assert np.allclose(m["margin_per_purchase"], (m["cum_revenue"] - m["cum_cost_of_goods"]) / m["cum_purchases"])
    # At price 1 and margin 0.3 the gross margin of every purchase is 30% of its spend: the mean margin per purchase
    # is 0.3 x mean spend of the buyers, so close to 0.3 x 50 (spend lognormal, mean 50; buyers are a sample).
    assert m["margin_per_purchase"].iloc[-1] == pytest.approx(15.0, rel=0.1)
    assert run.people["purchases"].sum() == m["cum_purchases"].iloc[-1]


def test_clv_is_margin_times_repurchase_rate_times_lifetime(run):
    m = run.metrics
    churned = m["cum_churn_events"] > 0
    expected = m["margin_per_purchase"] * m["cum_repurchases"] / m["cum_churn_events"]
    assert np.allclose(m.loc[churned, "clv"], expected[churned])
    assert m.loc[~churned, "clv"].isna().all()  # lifetime unknown until someone churns
    # The same thing from rates: repurchases per customer-tick / churn per customer-tick.
    last = m.iloc[-1]
    customer_ticks = (m["repurchases"] / m["repurchase_rate"]).where(m["repurchase_rate"] > 0).sum()
    r, c = last["cum_repurchases"] / customer_ticks, last["cum_churn_events"] / customer_ticks
    assert last["clv"] == pytest.approx(last["margin_per_purchase"] * r * (1 / c), rel=1e-6)


def test_ledger_per_tick_and_cumulative(run):
    led = ledger(run.metrics)
    assert list(led.columns[:6]) == ["t", "revenue", "cost_of_goods", "cost_tv", "cost_service_recovery", "profit"]
    assert np.allclose(led["profit"], led["revenue"] - led["cost_of_goods"] - led["cost_tv"]
                       - led["cost_service_recovery"])  # fmt: skip
    assert led["cum_cost_tv"].iloc[-1] == 5000.0
    assert np.allclose(led["cum_cost_service_recovery"], 3.0 * run.metrics["recoveries"].cumsum())
    assert np.allclose(led["cum_profit"], run.metrics["cum_profit"])
