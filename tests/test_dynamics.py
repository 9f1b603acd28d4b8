"""Each step of the tick on tiny hand-made cases whose answer is computed by hand from docs/model.md."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from tests.conftest import star
from wom_sim.scenario.schema import Scenario
from wom_sim.sim import dynamics as dyn
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import ADVERTISING, AWARE, CHURNED, CUSTOMER, KOL, REFERRAL, UNAWARE, WOM, init_population

ROOT = Path(__file__).resolve().parents[1]


def population(n: int, sc: Scenario | None = None, kols=()):
    """A population of n with neutral traits (talkativeness 1, credibility 0.5, conformity 0), all UNAWARE."""
    sc = sc or Scenario()
    pop = init_population(sc, np.array(kols, dtype=np.int64), n, np.random.default_rng(0))
    pop.status[:] = UNAWARE
    pop.experienced[:] = False
    pop.talkativeness[:] = 1.0
    pop.credibility[:] = 0.5
    pop.credibility[pop.is_kol] = sc.kols.credibility
    pop.conformity[:] = 0.0
    pop.fit[:] = 0.0
    pop.need[:] = True
    pop.E[:], pop.T[:], pop.A[:], pop.L[:], pop.S[:] = 0.5, 0.5, 0.1, 0.4, 0.0
    return pop


def make_customer(pop, idx, S):
    pop.status[idx] = CUSTOMER
    pop.experienced[idx] = True
    pop.S[idx] = S


def test_edge_uniforms_are_deterministic_uniform_and_keyed():
    edges = np.arange(200_000)
    u = dyn.edge_uniforms(12345, edges)
    assert np.array_equal(u, dyn.edge_uniforms(12345, edges))
    assert u.min() >= 0 and u.max() < 1
    # KS against U(0,1): p < 1e-4 would mean the hash is visibly non-uniform (fixed key: deterministic).
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    other = dyn.edge_uniforms(54321, edges)
    assert abs(np.corrcoef(u, other)[0, 1]) < 0.01  # different ticks/valences are independent
    # A subset of edges sees the same numbers as in the full set: the basis of common random numbers.
    assert np.array_equal(dyn.edge_uniforms(12345, edges[7::13]), u[7::13])


def test_talk_probabilities_follow_the_formulas():
    sc = Scenario()
    pop = population(4, sc)
    for i, S in enumerate([1.0, 0.8, 0.1, 0.45]):
        make_customer(pop, i, S)
    pop.L[:] = 0.0
    lev = Levers.neutral(sc)
    p_pos, p_neg = dyn.talk_probabilities(pop, lev, sc)
    w = sc.wom
    assert p_pos[0] == pytest.approx(w.positive_rate)
    assert p_pos[1] == pytest.approx(w.positive_rate * 0.8**w.satisfaction_elasticity)
    assert p_pos[2] == 0 and p_pos[3] == 0  # below theta_pos = 0.5
    assert p_neg[2] == pytest.approx(w.negative_rate * (0.35 - 0.1) / 0.35)
    assert p_neg[3] == 0 and p_neg[0] == 0
    pop.failed_last[0] = True
    assert dyn.talk_probabilities(pop, lev, sc)[1][0] == pytest.approx(w.failure_talk)


def test_elasticity_of_a_persons_positive_wom_to_satisfaction():
    sc = Scenario.model_validate({"wom": {"satisfaction_elasticity": 1.5}})
    pop = population(2, sc)
    make_customer(pop, 0, 0.6)
    make_customer(pop, 1, 0.66)
    p_pos, _ = dyn.talk_probabilities(pop, Levers.neutral(sc), sc)
    assert p_pos[1] / p_pos[0] == pytest.approx(1.1**1.5)  # S +10% -> WOM +15.4% (the sqrt fast path)
    sc.wom.satisfaction_elasticity = 2.2
    p_pos, _ = dyn.talk_probabilities(pop, Levers.neutral(sc), sc)
    assert p_pos[1] / p_pos[0] == pytest.approx(1.1**2.2)


def test_star_centre_reaches_every_leaf_with_contact_one():
    sc = Scenario.model_validate({"wom": {"contact_prob": 1.0}})
    g = star(6)
    pop = population(g.n, sc)
    speakers = np.zeros(g.n, dtype=bool)
    speakers[0] = True
    sent = dyn.deliver(g, pop, sc, speakers, key=1, reach=1.0)
    assert sorted(sent.dst.tolist()) == [1, 2, 3, 4, 5, 6]
    assert set(sent.src.tolist()) == {0}
    none = dyn.deliver(g, pop, Scenario.model_validate({"wom": {"contact_prob": 0.0}}), speakers, key=1, reach=1.0)
    assert none.dst.size == 0


def test_delivery_rate_matches_contact_probability():
    sc = Scenario.model_validate({"wom": {"contact_prob": 0.2}})
    g = star(20_000)
    pop = population(g.n, sc)
    speakers = np.zeros(g.n, dtype=bool)
    speakers[0] = True
    hits = dyn.deliver(g, pop, sc, speakers, key=7, reach=1.5).dst.size
    # Binomial(20000, 0.3): sd = 65; 5 sd is a deterministic (fixed key) and generous bound.
    assert abs(hits - 6000) < 5 * math.sqrt(20_000 * 0.3 * 0.7)


def test_reception_awareness_expectation_and_channel():
    sc = Scenario()
    g = star(3)
    pop = population(g.n, sc, kols=[2])
    pop.status[3] = AWARE
    st = dyn.TickState(t=0, n=g.n)
    st.positive = dyn.Deliveries(src=np.array([0, 2]), dst=np.array([1, 3]), speakers=2)
    st.negative = dyn.Deliveries()
    make_customer(pop, 0, 0.9)
    make_customer(pop, 2, 0.9)
    ones = np.ones(g.n)
    dyn.receive_wom(pop, Levers.neutral(sc), sc, ones, ones, st)
    assert pop.status[1] == AWARE and pop.last_touch[1] == WOM
    assert pop.last_touch[3] == KOL
    impact = math.tanh(0.5)  # one message of credibility 0.5
    assert st.impact[1] == pytest.approx(impact)
    assert pop.E[1] == pytest.approx(0.5 + sc.reception.expectation_rate * impact * 0.5)
    assert pop.T[1] == pytest.approx(0.5 + sc.reception.trust_rate * impact * 0.5)
    assert not pop.forward_pos.any()  # uniforms of 1 never forward


def test_negative_message_hits_harder_and_conformity_pulls_toward_voice():
    sc = Scenario()
    pop = population(3, sc)
    make_customer(pop, 1, 0.8)
    pop.conformity[1] = 1.0
    st = dyn.TickState(t=0, n=3)
    st.positive = dyn.Deliveries()
    st.negative = dyn.Deliveries(src=np.array([0]), dst=np.array([1]), speakers=1)
    dyn.receive_wom(pop, Levers.neutral(sc), sc, np.zeros(3), np.zeros(3), st)
    impact = math.tanh(-sc.wom.negativity_bias * 0.5)
    after_valence = 0.8 + sc.reception.satisfaction_weight * impact * 0.8
    assert pop.S[1] == pytest.approx(after_valence + sc.reception.conformity_rate * (0.0 - after_valence))
    assert pop.forward_neg[1]  # uniform 0 < forward prob


def test_referral_tag_sets_channel_and_referrer():
    sc = Scenario()
    pop = population(3, sc)
    make_customer(pop, 0, 0.9)
    lev = Levers.neutral(sc)
    lev.referral_active = True
    st = dyn.TickState(t=0, n=3)
    st.positive = dyn.Deliveries(src=np.array([0]), dst=np.array([2]), speakers=1)
    st.negative = dyn.Deliveries()
    dyn.receive_wom(pop, lev, sc, np.ones(3), np.ones(3), st)
    assert pop.last_touch[2] == REFERRAL and st.referred[2] and st.referrer[2] == 0


def test_purchase_adoption_channel_and_revenue():
    sc = Scenario.model_validate({"purchase": {"adoption": {"intercept": 50.0}, "repurchase": {"intercept": -50.0}}})
    pop = population(4, sc)
    pop.status[[0, 1]] = AWARE
    pop.last_touch[0] = ADVERTISING
    make_customer(pop, 3, 0.7)
    pop.spend[:] = 10.0
    st = dyn.TickState(t=0, n=4)
    st.persuasion, st.referred = np.zeros(4), np.zeros(4, dtype=bool)
    u = np.full(4, 0.5)
    lev = Levers.neutral(sc)
    dyn.purchase(pop, lev, sc, 0.6, u, st)
    assert st.adopted.tolist() == [True, True, False, False]
    assert pop.acquired_by[0] == ADVERTISING and pop.acquired_by[1] == 0
    assert st.revenue == pytest.approx(20.0 * lev.price)
    assert st.cost_of_goods == pytest.approx(20.0 * (1 - sc.brand.margin))
    assert st.customers_start == 1 and not st.repurchased.any()


def test_experience_expectation_disconfirmation_by_hand():
    sc = Scenario.model_validate({"experience": {"noise": 0.0}, "brand": {"service_failure": 0.0}})
    pop = population(3, sc)
    pop.E[:] = [0.7, 0.5, 0.95]
    pop.fit[1] = -0.1  # a person the product suits less
    st = dyn.TickState(t=0, n=3)
    st.adopted = np.array([True, False, True])
    st.repurchased = st.won_back = np.zeros(3, dtype=bool)
    dyn.experience(pop, Levers.neutral(sc), sc, 0, (np.full(3, 0.5), np.ones(3), np.ones(3)), st)
    ex = sc.experience
    x = sc.brand.quality
    # A first purchase sets S to its target; positive disconfirmation weighs w+, negative w- (over-claiming).
    assert pop.S[0] == pytest.approx(x + ex.disconfirmation_weight * (x - 0.7) + ex.recall_bias)
    assert pop.S[2] == pytest.approx(x - ex.negative_disconfirmation_weight * (0.95 - x) + ex.recall_bias)
    assert pop.S[2] < x + ex.recall_bias < pop.S[0]
    assert pop.E[0] == pytest.approx(0.7 + ex.expectation_rate * (x - 0.7))
    assert pop.T[0] == pytest.approx(0.5 + ex.trust_gain * (1 - abs(x - 0.7)) * 0.5)
    assert pop.experienced[0] and pop.purchases[0] == 1 and not pop.experienced[1]
    assert pop.adopted_at.tolist() == [-1, -1, -1]  # experience does not adopt; purchase() stamps the tick

    # A repeat purchase pulls S toward the target; the person's fit shifts the quality they experience.
    st.adopted = np.array([False, False, False])
    st.repurchased = np.array([True, True, False])
    make_customer(pop, 1, 0.6)
    S0, E0 = pop.S[0], pop.E[0]
    dyn.experience(pop, Levers.neutral(sc), sc, 1, (np.full(3, 0.5), np.ones(3), np.ones(3)), st)
    target0 = x + ex.disconfirmation_weight * (x - E0) + ex.recall_bias
    assert pop.S[0] == pytest.approx(S0 + ex.satisfaction_rate * (target0 - S0))
    x1 = x - 0.1
    w1 = ex.disconfirmation_weight if x1 >= 0.5 else ex.negative_disconfirmation_weight
    target1 = x1 + w1 * (x1 - 0.5) + ex.recall_bias
    assert pop.S[1] == pytest.approx(0.6 + ex.satisfaction_rate * (target1 - 0.6))


@pytest.mark.parametrize("delay", [0, 2])
def test_failure_and_recovery(delay):
    sc = Scenario.model_validate({
        "experience": {"noise": 0.0, "recovery": {"coverage": 1.0, "delay": delay, "effectiveness": 1.0}},
        "brand": {"service_failure": 1.0},
    })  # fmt: skip
    pop = population(1, sc)
    make_customer(pop, 0, 0.8)
    pop.E[0] = 0.7
    lev = Levers.neutral(sc)

    def buy(t):
        st = dyn.TickState(t=t, n=1)
        st.adopted = st.won_back = np.zeros(1, dtype=bool)
        st.repurchased = np.array([t == 0])
        dyn.experience(pop, lev, sc, t, (np.full(1, 0.5), np.zeros(1), np.zeros(1)), st)
        return st

    st = buy(0)
    assert st.failures == 1
    if delay == 0:
        # Full effectiveness: no penalty left, not an unrecovered failure, no trust drop.
        assert not pop.failed_last[0] and st.recoveries == 1
        assert pop.S[0] > 0.7
    else:
        assert pop.failed_last[0] and st.recoveries == 0
        low = pop.S[0]
        assert low < 0.6
        assert buy(1).recoveries == 0
        assert buy(2).recoveries == 1
        assert pop.S[0] == pytest.approx(0.8)  # effectiveness 1 restores the pre-failure satisfaction


def test_churn_hazard_at_reference_loyalty():
    sc = Scenario()
    n = 100_000
    pop = population(n, sc)
    pop.status[:] = CUSTOMER
    pop.L[:] = sc.churn.reference_loyalty
    st = dyn.TickState(t=0, n=n)
    st.heard_negative, st.unrecovered = np.zeros(n), np.zeros(n, dtype=bool)
    dyn.churn(pop, Levers.neutral(sc), sc, np.random.default_rng(3).random(n), st)
    p = 1 - math.exp(-sc.churn.base_hazard)
    # Binomial(100000, p); 5 sd keeps this fixed-seed check far from a false alarm.
    assert abs(st.churned.sum() - n * p) < 5 * math.sqrt(n * p * (1 - p))
    assert (pop.status == CHURNED).sum() == st.churned.sum()


def test_loyalty_moves_toward_weighted_target():
    sc = Scenario()
    pop = population(1, sc)
    make_customer(pop, 0, 0.9)
    st = dyn.TickState(t=0, n=1)
    st.spoke_positive = np.array([True])
    lev = Levers.neutral(sc)
    w = sc.loyalty.weights
    target = w.value * sc.brand.quality + w.satisfaction * 0.9 + w.trust * 0.5 + w.attachment * 0.1 + w.brand * 0.6
    dyn.update_loyalty(pop, lev, sc, 0.6, st)
    assert pop.L[0] == pytest.approx(0.4 + sc.loyalty.rate * (target - 0.4))
    at = sc.loyalty.attachment
    assert pop.A[0] == pytest.approx(0.1 + at.spread_gain * 0.9 - at.decay * 0.1)


def test_brand_follows_quality_and_voice():
    sc = Scenario()
    st = dyn.TickState(t=0, n=10)
    st.positive = dyn.Deliveries(src=np.zeros(3, int), dst=np.arange(3), speakers=1)
    st.negative = dyn.Deliveries(src=np.zeros(1, int), dst=np.arange(1), speakers=1)
    b = dyn.update_brand(0.6, Levers.neutral(sc), sc, st)
    qw = sc.brand.reputation_quality_weight
    target = qw * sc.brand.quality + (1 - qw) * 0.75
    assert b == pytest.approx(0.6 + sc.brand.reputation_rate * (target - 0.6))


def test_advertising_reaches_only_the_never_experienced():
    sc = Scenario()
    pop = population(3, sc)
    make_customer(pop, 2, 0.5)
    lev = Levers.neutral(sc)
    dyn.advertise(pop, lev, sc, np.array([0.0, 0.99, 0.0]))
    assert pop.status.tolist() == [AWARE, UNAWARE, CUSTOMER]
    assert pop.last_touch.tolist() == [ADVERTISING, 0, 0]
    assert pop.E[0] == pytest.approx(0.5 + sc.advertising.expectation_pull * (sc.advertising.claim - 0.5))


def test_only_first_hand_accounts_are_retold_unless_chain():
    """A retold story is not retold again (wom.forward.chain false); with chain it is. Relay carries the content."""
    sc = Scenario.model_validate({"wom": {"forward": {"negative": 1.0, "positive": 1.0}}})
    pop = population(4, sc)
    make_customer(pop, 0, 0.2)
    st = dyn.TickState(t=0, n=4)
    st.positive = dyn.Deliveries()
    # Person 0 speaks first-hand (S 0.2) to 1; person 3 only retells (relay 0.1) to 2.
    st.negative = dyn.Deliveries(
        src=np.array([0, 3]), dst=np.array([1, 2]), speakers=2,
        firsthand=np.array([True, False]), content=np.array([0.2, 0.1]),
    )  # fmt: skip
    dyn.receive_wom(pop, Levers.neutral(sc), sc, np.zeros(4), np.zeros(4), st)
    assert pop.forward_neg.tolist() == [False, True, False, False]
    assert pop.relay_neg[1] == pytest.approx(0.2)
    sc.wom.forward.chain = True
    dyn.receive_wom(pop, Levers.neutral(sc), sc, np.zeros(4), np.zeros(4), st)
    assert pop.forward_neg.tolist() == [False, True, True, False]
    assert pop.relay_neg[2] == pytest.approx(0.1)


def test_messages_voice_satisfaction_and_conformity_follows_it():
    """Own talk voices the speaker's S, a retold story the relay value; conformity pulls toward their mean."""
    sc = Scenario.model_validate({"wom": {"contact_prob": 1.0}})
    g = star(3)
    pop = population(g.n, sc)
    make_customer(pop, 0, 0.8)
    pop.forward_pos[0] = True
    pop.relay_pos[0] = 0.6
    sent = dyn.deliver(g, pop, sc, np.array([True, False, False, False]), key=1, reach=1.0)
    dyn.voice(pop, sent, np.array([False, False, False, False]), 1.0, pop.relay_pos)
    assert not sent.firsthand.any() and np.allclose(sent.content, 0.6)  # only forwarding: the relay value
    dyn.voice(pop, sent, np.array([True, False, False, False]), 1.0, pop.relay_pos)
    assert sent.firsthand.all() and np.allclose(sent.content, 0.8)  # own talk: the speaker's S
    # A satisfied listener (S 0.9, conformity 1) hearing a chorus at 0.8 is pulled toward 0.8, not toward the
    # share of positive voices (1.0).
    make_customer(pop, 1, 0.9)
    pop.conformity[1] = 1.0
    st = dyn.TickState(t=0, n=g.n)
    st.positive, st.negative = sent, dyn.Deliveries()
    dyn.receive_wom(pop, Levers.neutral(sc), sc, np.ones(g.n), np.ones(g.n), st)
    after_valence = 0.9 + sc.reception.satisfaction_weight * math.tanh(0.5) * 0.1
    assert pop.S[1] == pytest.approx(after_valence + sc.reception.conformity_rate * (0.8 - after_valence))


def test_people_without_a_need_never_adopt_and_adoption_is_stamped():
    sc = Scenario.model_validate({"purchase": {"adoption": {"intercept": 50.0}}})
    pop = population(3, sc)
    pop.status[:] = AWARE
    pop.need[1] = False
    st = dyn.TickState(t=7, n=3)
    st.persuasion, st.referred = np.zeros(3), np.zeros(3, dtype=bool)
    dyn.purchase(pop, Levers.neutral(sc), sc, 0.6, np.full(3, 0.5), st)
    assert st.adopted.tolist() == [True, False, True]
    assert pop.adopted_at.tolist() == [7, -1, 7]


def test_history_puts_initial_customers_in_their_steady_state():
    """After a long burn-in without noise or failures, S = x + recall bias (E has converged to x), L = L*."""
    sc = Scenario.model_validate({
        "experience": {"noise": 0.0}, "brand": {"service_failure": 0.0},
        "population": {"initial": {"customer": 1.0, "aware": 0.0, "history": 60}},
    })  # fmt: skip
    pop = init_population(sc, np.array([], dtype=np.int64), 500, np.random.default_rng(1), np.random.default_rng(2))
    dyn.settle_history(pop, sc, np.random.default_rng(3))
    x = np.clip(sc.brand.quality + pop.fit, 0.0, 1.0)
    inside = (x > 0.05) & (x < 0.9)  # away from the clipping at 0 and 1
    assert np.allclose(pop.E[inside], x[inside], atol=1e-6)
    assert np.allclose(pop.S[inside], x[inside] + sc.experience.recall_bias, atol=1e-4)
    w = sc.loyalty.weights
    V = np.clip(sc.brand.quality + 0.0 * pop.price_sensitivity, 0, 1)  # price 1: value = quality
    L = w.value * V + w.satisfaction * pop.S + w.trust * pop.T + w.attachment * pop.A + w.brand * sc.brand.reputation
    assert np.allclose(pop.L, L)
    assert pop.fit.std() == pytest.approx(sc.population.fit.sd, rel=0.15)


def test_churn_stamps_the_tick_and_counts_tenure():
    sc = Scenario.model_validate({"churn": {"base_hazard": 1.0, "loyalty_slope": 0.0}})
    pop = population(3, sc)
    pop.status[[0, 1]] = CUSTOMER
    st = dyn.TickState(t=5, n=3)
    st.heard_negative, st.unrecovered = np.zeros(3), np.zeros(3, dtype=bool)
    dyn.churn(pop, Levers.neutral(sc), sc, np.array([0.0, 0.99, 0.0]), st)
    assert pop.status.tolist() == [CHURNED, CUSTOMER, UNAWARE]
    assert pop.churned_at.tolist() == [5, -1, -1]
    assert pop.customer_ticks.tolist() == [1, 1, 0]


def test_talk_fades_with_time_since_the_last_purchase_and_talk_once_is_a_special_case():
    sc = Scenario.model_validate({"wom": {"novelty_decay": 0.5, "talk_floor": 0.2}})
    pop = population(3, sc)
    for i in range(3):
        make_customer(pop, i, 1.0)
    pop.L[:] = 0.0
    pop.last_purchase[:] = [9, 7, -1]
    p_pos, _ = dyn.talk_probabilities(pop, Levers.neutral(sc), sc, t=10)
    fresh = sc.wom.positive_rate
    assert p_pos[0] == pytest.approx(fresh)  # bought last tick: age 0
    assert p_pos[1] == pytest.approx(fresh * (0.2 + 0.8 * 0.5**2))
    assert p_pos[2] == pytest.approx(fresh * (0.2 + 0.8 * 0.5**10))
    once = Scenario.model_validate({"wom": {"novelty_decay": 1.0, "talk_floor": 0.0}})
    p_pos, _ = dyn.talk_probabilities(pop, Levers.neutral(once), once, t=10)
    assert p_pos.tolist() == [pytest.approx(fresh), 0.0, 0.0]  # talk only right after the experience


def test_price_acts_against_a_reference_price_with_loss_aversion():
    sc = Scenario.model_validate({"purchase": {"adoption": {"intercept": 0.0, "expectation": 0.0, "trust": 0.0,
                                                            "brand": 0.0, "value": 0.0}}})  # fmt: skip
    pu = sc.purchase
    pop = population(2, sc)
    pop.status[:] = AWARE
    pop.price_sensitivity[:] = [0.0, 0.5]
    st = dyn.TickState(t=0, n=2)
    st.persuasion, st.referred = np.zeros(2), np.zeros(2, dtype=bool)
    lev = Levers.neutral(sc)
    lev.price = 0.9
    assert dyn.price_gap(lev, sc, 1.0) == pytest.approx(math.log(0.9))
    lev.price = 1.1
    assert dyn.price_gap(lev, sc, 1.0) == pytest.approx(pu.price_loss_aversion * math.log(1.1))
    # At a 10% cut a person of sensitivity 0.5 adopts with log-odds -5 * 0.5 * log(0.9); u just below decides.
    lev.price = 0.9
    p = 1 / (1 + math.exp(pu.price_response * 0.5 * math.log(0.9)))
    dyn.purchase(pop, lev, sc, 0.6, np.array([0.49, p - 1e-9]), st)
    assert st.adopted.tolist() == [True, True]
    pop.status[:] = AWARE
    dyn.purchase(pop, lev, sc, 0.6, np.array([0.51, p + 1e-9]), st)
    assert st.adopted.tolist() == [False, False]
    # The reference price follows the price paid.
    assert dyn.update_reference_price(1.0, lev, sc) == pytest.approx(1.0 + pu.reference_price_rate * (0.9 - 1.0))


def test_the_reference_price_adapts_to_cuts_fully_and_to_rises_above_the_index_only_in_part():
    sc = Scenario.model_validate({"purchase": {"reference_price_rate": 1.0, "price_rise_adaptation": 0.25}})
    lev = Levers.neutral(sc)
    lev.price = 0.8
    assert dyn.update_reference_price(1.0, lev, sc) == 0.8  # a cut becomes the new normal
    lev.price = 2.0
    assert dyn.update_reference_price(0.8, lev, sc) == pytest.approx(1.25)  # 1 + 0.25 x (2 - 1)
    assert dyn.price_gap(lev, sc, 1.25) > 0  # so a rise stays a loss for good
    lev.price = 1.0
    assert dyn.update_reference_price(1.25, lev, sc) == 1.0
    sc.purchase.price_rise_adaptation = 1.0  # the old rule: follow the price paid
    lev.price = 2.0
    assert dyn.update_reference_price(1.0, lev, sc) == 2.0


@pytest.mark.slow
def test_a_permanent_doubling_of_the_price_does_not_pay():
    """A firm at a 30% margin prices where the long-run elasticity is about -1/0.3 (Lerner): the baseline at the
    category's price should not gain from doubling it. With the reference price following the price paid (the
    old rule, adaptation 1) it gained 2.3x the profit. Paired seeds, 2,000 people, 104 weeks; the measured gap
    (about -35% of the baseline's profit, +120% with adaptation 1) is far beyond the 3-seed noise (a few %)."""
    from wom_sim import simulate

    def profit(**over):
        runs = [simulate("baseline", seed=s, overrides={"network.n": 2000, "ticks": 104, **over}) for s in (1, 2, 3)]
        return float(np.mean([r.metrics["profit"].sum() for r in runs]))

    base = profit()
    assert profit(**{"brand.price": 2.0}) < 0.85 * base
    assert profit(**{"brand.price": 2.0, "purchase.price_rise_adaptation": 1.0}) > 1.5 * base


def test_a_person_retells_at_most_one_story_its_valence_in_proportion_to_what_they_heard():
    sc = Scenario.model_validate({"wom": {"forward": {"positive": 0.4, "negative": 0.8}}})
    pop = population(4, sc)
    # Person 0 heard three first-hand positive stories and one negative; 1 one positive; 2 one negative; 3 nothing.
    pos = dyn.Deliveries(src=np.zeros(4, dtype=np.int64), dst=np.array([0, 0, 0, 1]),
                         content=np.array([0.9, 0.8, 0.7, 0.6]))  # fmt: skip
    neg = dyn.Deliveries(src=np.zeros(2, dtype=np.int64), dst=np.array([0, 2]), content=np.array([0.1, 0.2]))
    fw = sc.wom.forward

    def retell(u_pos, u_neg):
        dyn.forward(pop, pos, neg, pos.content, neg.content, np.array(u_pos), np.array(u_neg),
                    fw.positive, fw.negative, fw.chain)  # fmt: skip
        return pop.forward_pos.tolist(), pop.forward_neg.tolist()

    # P(person 0 retells positive) = 0.4 x 3/4 = 0.3; one valence only retells as before (0.4 or 0.8).
    assert retell([0.29, 0.39, 0.0, 0.0], [0.0, 0.0, 0.79, 0.0]) == ([True, True, False, False],
                                                                     [False, False, True, False])  # fmt: skip
    assert pop.relay_pos[0] == pytest.approx(0.8) and pop.relay_neg[2] == pytest.approx(0.2)
    # Not positive: negative with P = 0.8 x 1/4 = 0.2 overall, i.e. u' (1 - 0.3) < 0.2.
    assert retell([0.31, 0.41, 0.0, 0.0], [0.2 / 0.7 - 1e-9, 0.0, 0.81, 0.0])[1] == [True, False, False, False]
    assert retell([0.31, 0.0, 0.0, 0.0], [0.2 / 0.7 + 1e-9, 0.0, 0.0, 0.0])[1] == [False, False, True, False]
    assert not pop.forward_pos[3] and not pop.forward_neg[3]  # heard nothing: retells nothing


@pytest.mark.slow
def test_a_denser_network_does_not_turn_a_decent_products_word_of_mouth_negative():
    """Found by a probe: when hearing a valence at all made a person a candidate to retell it, a dense network's
    retold mix tended to forward.negative : forward.positive whatever people said (8 seeds, 2,000 people: ratio
    3.4 -> 1.9 and NPS +10 -> -3 from m = 5 to 40). Now measured 4.0 -> 3.7 and +11 -> +14; the bounds (ratio
    within 20%, NPS not 5 points lower) sit between the two, several seed-noise widths from each.

    Prospects' doubt (`reception.negative_memory`) is off here: in the dense network the early negative talk
    (NPS about -21 over the first 30 weeks) now slows adoption (half the customers at week 30), so year 2's customers
    are newer, with less trust, and their NPS is lower for that reason (measured +10 -> -2 with it on, 3 seeds),
    not because of the retold mix this test is about."""
    from wom_sim import simulate

    def mix(m):
        over = {"network.n": 2000, "network.m": m, "ticks": 104, "reception.negative_memory": 0.0}
        runs = [simulate("baseline", seed=s, overrides=over).metrics for s in range(1, 9)]
        late = [r[r["t"] >= 52] for r in runs]
        ratio = np.mean([x["pos_messages"].sum() / x["neg_messages"].sum() for x in late])
        return ratio, np.mean([x["nps"].mean() for x in late])

    (sparse_ratio, sparse_nps), (dense_ratio, dense_nps) = mix(5), mix(40)
    assert dense_ratio > 0.8 * sparse_ratio
    assert dense_nps > sparse_nps - 5


def test_category_advertising_can_expand_the_market_potential():
    sc = Scenario.model_validate({"advertising": {"need_creation": 0.5}})
    pop = population(4, sc)
    pop.need[:] = False
    lev = Levers.neutral(sc)
    lev.ad_reach = 1.0
    dyn.advertise(pop, lev, sc, np.zeros(4), np.array([0.1, 0.9, 0.4, 0.6]))
    assert pop.need.tolist() == [True, False, True, False]
    sc.advertising.need_creation = 0.0
    pop.need[:] = False
    dyn.advertise(pop, lev, sc, np.zeros(4), np.zeros(4))
    assert not pop.need.any()  # off by default: ads only accelerate within the market potential


def test_a_prospect_keeps_the_doubt_bad_news_left_until_good_news_outweighs_it():
    """docs/model.md step 4: the net-negative part of a prospect's WOM impression is kept (faded by
    `reception.negative_memory` a tick) and is the WOM term of their later adoption decisions."""
    sc = Scenario()
    keep, bias = sc.reception.negative_memory, sc.wom.negativity_bias
    pop = population(3, sc)
    make_customer(pop, 0, 0.1)
    lev, ones = Levers.neutral(sc), np.ones(3)

    def tick(pos=(), neg=()):
        st = dyn.TickState(t=0, n=3)
        st.positive = dyn.Deliveries(src=np.zeros(len(pos), dtype=np.int64), dst=np.array(pos, dtype=np.int64))
        st.negative = dyn.Deliveries(src=np.zeros(len(neg), dtype=np.int64), dst=np.array(neg, dtype=np.int64))
        dyn.receive_wom(pop, lev, sc, ones, ones, st)
        return st

    st = tick(neg=[1])  # one negative message of credibility 0.5
    assert pop.doubt[1] == pytest.approx(bias * 0.5)
    assert st.persuasion[1] == pytest.approx(math.tanh(-bias * 0.5)) == pytest.approx(st.impact[1])
    st = tick()  # heard nothing: the doubt fades, and still weighs on the decision
    assert pop.doubt[1] == pytest.approx(keep * bias * 0.5)
    assert st.persuasion[1] == pytest.approx(math.tanh(-keep * bias * 0.5)) and st.impact[1] == 0.0
    st = tick(pos=[1])  # good news first has to outweigh what is held
    left = keep * keep * bias * 0.5 - 0.5
    assert st.persuasion[1] == pytest.approx(math.tanh(-left))
    assert pop.doubt[1] == pytest.approx(max(left, 0.0))
    assert st.persuasion[2] == 0.0 and pop.doubt[0] == 0.0  # who heard nothing; a customer (not a prospect)
    st = tick(pos=[1, 1])  # more good news than doubt: a net-positive impression persuades now, and is not kept
    assert pop.doubt[1] == 0.0 and st.persuasion[1] > 0.0

    sc.reception.negative_memory = 0.0  # no memory: the WOM term is this tick's impact, as before the rule
    tick(neg=[1])
    st = tick(pos=[1])
    assert st.persuasion[1] == st.impact[1] == pytest.approx(math.tanh(0.5))


def test_word_of_mouth_no_longer_helps_a_bad_product_and_still_helps_a_good_one():
    """docs/model.md Findings (model probe 2026-12-03, item 6): with quality 0.55 (NPS about -45) switching WOM off
    changed adoption by +0.017 (95% CI -0.012 to +0.046): negative talk worked as free advertising. Paired seeds
    (8, 3,000 people, 104 weeks, experiments/tools/negative_wom_probe.py): now WOM on - off -0.035 (-0.060 to
    -0.010) for the bad product and +0.24 (+0.22 to +0.25; was +0.28) for the baseline. Asked: the bad product's
    95% upper bound below +0.005 (WOM does not help it; the old rule's mean was +0.017), the good one's lower bound
    above +0.1 (WOM helps; F17 checks how much)."""
    spec = importlib.util.spec_from_file_location("negative_wom_probe", ROOT / "experiments" / "tools" /
                                                  "negative_wom_probe.py")  # fmt: skip
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    bad = probe.paired_effect(0.55, n=3000, weeks=104, seeds=8)
    good = probe.paired_effect(None, n=3000, weeks=104, seeds=8)
    assert bad["diff"] + bad["half"] < 0.005, bad
    assert good["diff"] - good["half"] > 0.1, good


def test_a_paid_post_moves_prospects_fully_and_experienced_people_little():
    """docs/model.md step 4: a forced positive post counts `reception.sponsored_weight` of its credibility with an
    experienced listener (satisfaction, trust, conformity), all of it with a prospect."""
    sc = Scenario()
    w = sc.reception.sponsored_weight
    pop = population(4, sc)
    make_customer(pop, 0, 0.9)  # the paid poster
    make_customer(pop, 2, 0.5)
    make_customer(pop, 3, 0.5)
    lev = Levers.neutral(sc)
    lev.force("positive", np.array([True, False, False, False]))
    st = dyn.TickState(t=0, n=4)
    st.positive = dyn.Deliveries(src=np.array([0, 0, 0]), dst=np.array([1, 2, 3]), speakers=1)
    st.negative = dyn.Deliveries()
    dyn.receive_wom(pop, lev, sc, np.ones(4), np.ones(4), st)
    assert st.impact[1] == pytest.approx(math.tanh(0.5))  # a prospect: the full credibility 0.5
    assert st.impact[2] == pytest.approx(math.tanh(w * 0.5))  # a customer: a small share of it
    assert pop.S[2] == pytest.approx(0.5 + sc.reception.satisfaction_weight * math.tanh(w * 0.5) * 0.5)
    assert pop.T[2] == pytest.approx(0.5 + sc.reception.trust_weight * math.tanh(w * 0.5) * 0.5)
    assert pop.E[1] == pytest.approx(0.5 + sc.reception.expectation_rate * math.tanh(0.5) * 0.5)
    # Without a forced post the same message is a friend's account: full weight for the customer too.
    st.positive = dyn.Deliveries(src=np.array([0]), dst=np.array([3]), speakers=1)
    dyn.receive_wom(pop, Levers.neutral(sc), sc, np.ones(4), np.ones(4), st)
    assert st.impact[3] == pytest.approx(math.tanh(0.5))


def test_paid_kol_posts_no_longer_lift_a_poor_products_customers_like_word_of_mouth():
    """docs/model.md Findings (model probe 2026-12-03, item 4): 20 paid KOLs posting every week for a product of
    quality 0.55 lifted the year-2 NPS by +12.6 (95% CI +11.1 to +14.1) and the initial customers' satisfaction by
    +0.077 (6 seed pairs, 3,000 people, 104 weeks, experiments/tools/paid_posts_probe.py), a paid post moving
    customers like a friend's account. Now measured +6.6 (+4.7 to +8.6) and +0.039 (+0.029 to +0.049): the rest
    is the campaign's new customers, who came through prospects (expectation, trust), not experience. Asked: the
    NPS lift's upper bound below +10 and the initial customers' satisfaction lift's below +0.06, both between the
    two rules' intervals."""
    spec = importlib.util.spec_from_file_location("paid_posts_probe", ROOT / "experiments" / "tools" /
                                                  "paid_posts_probe.py")  # fmt: skip
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    r = probe.paired_effect(n=3000, weeks=104, seeds=6)
    assert r["nps"][0] + r["nps"][1] < 10.0, r
    assert r["S0"][0] + r["S0"][1] < 0.06, r
    assert r["adoption"][0] - r["adoption"][1] > 0.1, r  # the posts still bring customers (through prospects)
