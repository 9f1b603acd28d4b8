"""Economics (wom_sim/sim/economics.py): cumulative money columns, CLV and the ledger. The paired ROI of a lever is
`wom_sim.compare` (tests/test_comparison.py) on the estimator of tests/test_analysis_statistics.py."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import betaln, hyp2f1

from wom_sim.scenario.loading import build_scenario
from wom_sim.sim import economics
from wom_sim.sim.economics import (
    ECONOMICS_COLUMNS,
    RetentionTable,
    customer_lifetime_value,
    discounted_lifetime,
    ledger,
    per_tick_discount,
    sbg_fit,
)
from wom_sim.sim.metrics import METRIC_COLUMNS
from wom_sim.sim.model import WomModel, simulate

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


def test_clv_is_filled_in_the_last_row_from_the_retention_table(run):
    m, table = run.metrics, run.model.retention
    assert m["clv"].iloc[:-1].isna().all()  # a fit per tick would cost more than the tick: the last row only
    assert table.churned.sum() == m["cum_churn_events"].iloc[-1]
    last = m.iloc[-1]
    margin = last["cum_revenue"] - last["cum_cost_of_goods"]
    expected = customer_lifetime_value(table, margin, "week")
    assert last["clv"] == pytest.approx(expected, rel=1e-12)
    # Discounted and extrapolated, yet above the margin of the ticks a customer is expected to live in the run.
    assert last["clv"] > margin / table.customer_ticks * 10


def test_retention_table_counts_everyone_facing_the_hazard():
    model = WomModel(make([ADS], n=600, ticks=15), seed=2)
    exposed = 0
    for _ in range(15):
        model.step()
        exposed += model.last_tick.customers_exposed  # step 8's denominator of the churn rate
        assert model.retention.customer_ticks == exposed


def test_retention_table_counts_exposures_by_tenure():
    table = RetentionTable()
    pop = SimpleNamespace(customer_ticks=np.array([1, 1, 2, 3, 0]))
    customers = np.array([True, False, True, True, False])
    churned = np.array([False, True, False, False, False])
    table.record(pop, customers, churned)
    table.record(SimpleNamespace(customer_ticks=np.array([2, 1, 3, 4, 0])), customers, np.zeros(5, dtype=bool))
    # The arrays grow by doubling: past the longest tenure (4) they hold zeros, no periods lived.
    assert table.at_risk[:5].tolist() == [0, 2, 2, 2, 1] and not table.at_risk[5:].any()
    assert table.churned[:5].tolist() == [0, 1, 0, 0, 0] and not table.churned[5:].any()
    assert table.customer_ticks == 7


def _cohort(survival: np.ndarray, size: float = 1e5) -> tuple[np.ndarray, np.ndarray]:
    """The expected life table of one cohort with survival S(0..K): at risk S(k-1), churning S(k-1) - S(k)."""
    return np.r_[0.0, size * survival[:-1]], np.r_[0.0, size * (survival[:-1] - survival[1:])]


def test_discounted_lifetime_of_constant_retention_is_the_closed_form():
    # Constant retention r (sBG with alpha + beta -> infinity, beta / (alpha + beta) = r), margin m a period paid
    # at its start, discount d: CLV = m (1 + d) / (1 + d - r). The sum is cut where (1 + d)^-t < 1e-12, and
    # alpha + beta = 1e6 leaves a spread of theta of 1e-4 of r: 1e-3 relative covers both.
    d = per_tick_discount("week")
    assert d == pytest.approx(1.1 ** (1 / 52) - 1, rel=1e-12)
    for r in (0.9, 0.99, 0.995):
        expected = (1 + d) / (1 + d - r)
        assert discounted_lifetime(1e6 * (1 - r), 1e6 * r, d) == pytest.approx(expected, rel=1e-3)
    # The sBG closed form (Fader & Hardie 2010): 2F1(1, beta; alpha + beta; 1 / (1 + d)).
    assert discounted_lifetime(0.7, 40.0, d) == pytest.approx(hyp2f1(1, 40.0, 40.7, 1 / (1 + d)), rel=1e-9)
    assert np.isnan(discounted_lifetime(0.7, 40.0, 0.0))  # undiscounted, an sBG life with alpha <= 1 has no mean


def test_sbg_fit_recovers_known_retention():
    # Exact expected counts: the maximum likelihood is the truth (to the optimiser's tolerance, 0.1%).
    survival = np.exp(betaln(0.7, 40.0 + np.arange(105)) - betaln(0.7, 40.0))
    alpha, beta = sbg_fit(*_cohort(survival))
    assert (alpha, beta) == pytest.approx((0.7, 40.0), rel=1e-3)
    # 20,000 customers drawn (seed 1), censored at 104 periods: sampling error of the fit is about 5% (checked
    # with other seeds); 10% tolerance.
    rng = np.random.default_rng(1)
    lifetime = rng.geometric(rng.beta(0.7, 40.0, 20_000))  # the period of churn
    seen = np.minimum(lifetime, 104)
    at_risk = np.bincount(np.repeat(seen, seen) - np.concatenate([np.arange(s) for s in seen]), minlength=105)
    churned = np.bincount(seen[lifetime <= 104], minlength=105)
    assert sbg_fit(at_risk, churned) == pytest.approx((0.7, 40.0), rel=0.1)
    assert np.isnan(sbg_fit(np.array([0, 10, 10]), np.array([0, 0, 0]))).all()  # nobody churned: no fit


def test_sbg_fit_does_not_depend_on_where_the_optimiser_stopped():
    # TNC stops within about 1e-5 of the optimum at a point that moves with the last bits of its evaluations (they
    # differ between machines); the Newton polish takes any such point to the same maximum, and the 9 significant
    # digits kept are the same from starts 1e-5 and 1e-3 away (the likelihood of the known cohort above).
    survival = np.exp(betaln(0.7, 40.0 + np.arange(105)) - betaln(0.7, 40.0))
    at_risk, churned = (np.asarray(x, dtype=float) for x in _cohort(survival))
    fitted = sbg_fit(at_risk, churned)
    k = np.flatnonzero(at_risk[1:] > 0) + 1
    n, d = at_risk[k], churned[k]
    for shift in (1e-5, -1e-5, 1e-3):
        start = (fitted[0] * (1 + shift), fitted[1] * (1 - shift))
        polished = economics._newton_polish(*start, k, n, d, n - d)
        assert polished != start
        assert tuple(economics._significant(x) for x in polished) == fitted
    assert economics._significant(0.1234567891234) == 0.123456789 and np.isnan(economics._significant(np.nan))


def test_clv_of_a_constant_retention_life_table():
    # A cohort with constant retention 0.99 and margin 15 a period: the fit tends to alpha, beta -> infinity and
    # the CLV to the closed form; 1e-3 relative as above.
    r, m, d = 0.99, 15.0, per_tick_discount("week")
    at_risk, churned = _cohort(r ** np.arange(105))
    table = RetentionTable(at_risk=at_risk, churned=churned)
    clv = customer_lifetime_value(table, m * at_risk.sum(), "week")
    assert clv == pytest.approx(m * (1 + d) / (1 + d - r), rel=1e-3)
    # A hazard falling with tenure (heterogeneous churn) is worth more than the constant one of the same first
    # year: the survivors are the loyal ones, which a constant-hazard estimate misses.
    survival = np.exp(betaln(0.5, 20.0 + np.arange(53)) - betaln(0.5, 20.0))
    falling = RetentionTable(*_cohort(survival))
    at_risk, churned = _cohort(survival)
    h = churned.sum() / at_risk.sum()
    constant = RetentionTable(*_cohort((1 - h) ** np.arange(53)))
    assert customer_lifetime_value(falling, 1.0, "week") / (1.0 / falling.customer_ticks) > (
        customer_lifetime_value(constant, 1.0, "week") / (1.0 / constant.customer_ticks)
    )


def test_ledger_per_tick_and_cumulative(run):
    led = ledger(run.metrics)
    assert list(led.columns[:6]) == ["t", "revenue", "cost_of_goods", "cost_tv", "cost_service_recovery", "profit"]
    assert np.allclose(led["profit"], led["revenue"] - led["cost_of_goods"] - led["cost_tv"]
                       - led["cost_service_recovery"])  # fmt: skip
    assert led["cum_cost_tv"].iloc[-1] == 5000.0
    assert np.allclose(led["cum_cost_service_recovery"], 3.0 * run.metrics["recoveries"].cumsum())
    assert np.allclose(led["cum_profit"], run.metrics["cum_profit"])


def test_the_discounted_lifetime_is_the_exactly_rounded_sum_of_its_terms():
    # The same bits on every machine: the terms by a running product of IEEE products and quotients, summed exactly
    # rounded, equal a plain Python loop doing the same (no BLAS, no SIMD library functions in the way).
    for alpha, beta, discount in ((0.7, 40.0, 0.0018), (0.244, 32.4, 0.0018), (2.0, 3.0, 0.05)):
        terms, s = [], 1.0
        q = 1.0 / (1.0 + discount)
        for t in range(1, int(math.ceil(math.log(1e-12) / -math.log1p(discount))) + 1):
            s *= (beta + t - 1.0) / (alpha + beta + t - 1.0) * q
            terms.append(s)
        assert discounted_lifetime(alpha, beta, discount) == 1.0 + math.fsum(terms)
