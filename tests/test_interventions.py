"""Interventions and events (wom_sim/interventions/): schedule and trigger semantics, every lever's direction and
cost, crisis mechanics, bad input, the bundled scenarios and their docs.

Lever tests are paired: the treatment runs on the baseline's graph with the same seed, so both arms share every
random number the treatment does not touch (common random numbers, docs/model.md). Effects are checked per seed
where the paired difference is far larger than its noise, and on the mean of three seeds otherwise; every
tolerance says why it is what it is.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import yaml

from wom_sim.errors import ScenarioError
from wom_sim.scenario.interventions import KINDS, Schedule, Trigger, params_table
from wom_sim.scenario.loading import build_scenario, load_scenario
from wom_sim.sim.interventions import REGISTRY, build_interventions, crisis_impact, scheduled, triggered
from wom_sim.sim.interventions.base import (
    EFFECT_ORDER,
    CutTrust,
    Intervention,
    InterventionContext,
    Join,
    Leave,
    LowerSatisfaction,
    PromoteKols,
    Restore,
    ScaleLoyalty,
    apply_effects,
    register,
    reward_response,
)
from wom_sim.sim.interventions.context import ScaleSatisfaction
from wom_sim.sim.interventions.crisis import CrisisEvent, spread_share
from wom_sim.sim.model import WomModel, simulate
from wom_sim.sim.population import CUSTOMER

ROOT = Path(__file__).resolve().parents[1]
N, TICKS, SEEDS = 2000, 60, (1, 2, 3)


# --------------------------------------------------------------------------------------------- helpers
def make(interventions=(), events=(), n: int = N, ticks: int = TICKS, **sections):
    """The schema's default market (the baseline's) at test size, with the given interventions and events."""
    data = {"ticks": ticks, "network": {"n": n, "m": 5}, "kols": {"select": {"by": "degree", "k": 10}},
            "interventions": list(interventions), "events": list(events), **sections}  # fmt: skip
    return build_scenario(data, "test")


@functools.cache
def base_run(seed: int, n: int = N, ticks: int = TICKS):
    return simulate(make(n=n, ticks=ticks), seed=seed)


def treat_run(interventions, seed: int, events=(), n: int = N, ticks: int = TICKS):
    """The treatment on the baseline's graph and KOLs, same seed (common random numbers)."""
    b = base_run(seed, n, ticks)
    return simulate(make(interventions, events, n, ticks), graph=b.model.graph, kol_ids=b.model.kol_ids, seed=seed)


def paired(interventions, events=(), seeds=SEEDS, ticks: int = TICKS):
    """[(baseline metrics, treatment result)] per seed."""
    return [(base_run(s, N, ticks).metrics, treat_run(interventions, s, events, ticks=ticks)) for s in seeds]


def cost(result, name: str) -> pd.Series:
    col = f"cost_{name}"
    return result.metrics[col] if col in result.metrics else pd.Series(0.0, index=result.metrics.index)


def stepped(scenario, seed: int = 1):
    """A model and a function that steps it once, returning the status at the start of the tick."""
    model = WomModel(scenario, seed=seed)

    def step():
        before = model.population.status.copy()
        model.step()
        return before

    return model, step


# --------------------------------------------------------------------------------------------- schedules
@pytest.mark.parametrize(
    ("schedule", "on"),
    [
        (None, list(range(12))),
        ({"at": 3}, [3]),
        ({"at": [1, 4, 9]}, [1, 4, 9]),
        ({"from": 4}, list(range(4, 12))),
        ({"until": 2}, [0, 1, 2]),
        ({"from": 3, "until": 5}, [3, 4, 5]),
        ({"every": 4}, [0, 4, 8]),
        ({"every": 3, "from": 2}, [2, 5, 8, 11]),
        ({"every": 3, "from": 2, "until": 8}, [2, 5, 8]),
        ({"at": [1, 4, 9], "from": 2, "until": 8}, [4]),
    ],
)
def test_schedule_on_exactly_these_ticks(schedule, on):
    sch = Schedule.model_validate(schedule) if schedule is not None else None
    assert [t for t in range(12) if scheduled(sch, t)] == on


def test_trigger_operators_nan_and_missing_costs():
    row = {"nps": 10.0, "churn_rate": float("nan")}
    for op, expected in ((">", False), (">=", True), ("<", False), ("<=", True), ("==", True), ("!=", False)):
        assert triggered(Trigger(metric="nps", op=op, value=10.0), row) is expected
    assert not triggered(Trigger(metric="churn_rate", op="<", value=1.0), row)  # NaN never triggers
    assert not triggered(Trigger(metric="nps", op=">", value=0.0), None)  # tick 0 has no previous tick
    assert triggered(Trigger(metric="cost_ads", op="==", value=0.0), row)  # nothing booked reads as 0
    assert triggered(None, None)


def _active_ticks(entry: dict, values: list[float], metric: str = "nps") -> list[int]:
    """Ticks on which an intervention is on, given the metric's value at the end of each tick."""
    iv = build_interventions(make([{"kind": "advertising", **entry}]))[0]
    rows = [None] + [{metric: v} for v in values]
    return [t for t in range(len(values)) if iv.is_active(t, rows[t])]


HIGH = [0, 5, 5, 5, 0, 5, 5, 5, 5, 5, 5, 5]  # metric > 1 at the end of ticks 1-3 and 5-11


@pytest.mark.parametrize(
    ("extra", "on"),
    [
        ({}, [2, 3, 4, 6, 7, 8, 9, 10, 11]),  # fires on every tick after a tick with the condition
        ({"once": True}, [2]),
        ({"duration": 3}, [2, 3, 4, 6, 7, 8, 9, 10, 11]),
        ({"duration": 3, "once": True}, [2, 3, 4]),
        ({"cooldown": 2}, [2, 6, 9]),  # may fire again 2 ticks after its last on tick: not 3, 4; 5 is low
        ({"duration": 2, "cooldown": 1}, [2, 3, 6, 7, 9, 10]),
        ({"schedule": {"from": 7}}, [7, 8, 9, 10, 11]),
        ({"schedule": {"until": 3}, "duration": 4}, [2, 3, 4, 5]),  # the schedule gates firing, not the duration
    ],
)
def test_trigger_once_cooldown_duration_exactly(extra, on):
    entry = {"when": {"metric": "nps", "op": ">", "value": 1}, **extra}
    assert _active_ticks(entry, HIGH) == on


def test_trigger_end_to_end_on_a_running_model():
    """A campaign that starts the tick after customers first exceed 100 and runs 3 ticks, once."""
    ads = {"kind": "advertising", "budget_per_tick": 7, "when": {"metric": "customers", "op": ">", "value": 100},
           "once": True, "duration": 3}  # fmt: skip
    res = simulate(make([ads], n=600, ticks=30), seed=5)
    m = res.metrics
    first = int(m.index[m["customers"] > 100][0])
    assert cost(res, "advertising").tolist() == [7.0 if first < t <= first + 3 else 0.0 for t in range(30)]


def test_events_act_before_interventions_and_names_are_unique():
    sc = make([{"kind": "advertising"}, {"kind": "advertising"}, {"kind": "crisis_response"}],
              [{"kind": "crisis", "at": 5}])  # fmt: skip
    assert [iv.name for iv in build_interventions(sc)] == ["crisis", "advertising", "advertising_2", "crisis_response"]


def test_intervention_random_numbers_are_keyed_not_sequential():
    """An intervention's draws depend on the seed, its name and the tick only (CRN between variants)."""
    one = WomModel(make([{"kind": "personalised_marketing"}], n=300), seed=3)
    two = WomModel(make([{"kind": "advertising"}, {"kind": "personalised_marketing"}], n=300), seed=3)
    a, b = one.interventions[0], two.interventions[1]
    assert np.array_equal(a.uniforms(one.context, 7, 300), b.uniforms(two.context, 7, 300))
    assert not np.array_equal(a.uniforms(one.context, 7, 300), a.uniforms(one.context, 8, 300))


def test_inert_intervention_changes_nothing():
    """Common random numbers: an intervention that pulls no lever leaves the run identical, bit for bit."""
    inert = [{"kind": "advertising", "reach_multiplier": 1.0}, {"kind": "crisis", "probability_per_year": 0.0}]
    base, res = base_run(1, N, TICKS), treat_run(inert, 1)
    assert (cost(res, "advertising") == 0).all()
    pd.testing.assert_frame_equal(base.metrics, res.metrics.drop(columns="cost_advertising"), check_exact=True)


# --------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"kind": "referal_reward"}, ["interventions[0].kind", "did you mean 'referral_reward'", "allowed:",
                                      "churn_prevention"]),
        ({"kind": "kol_campaign", "screenig": 0.5}, ["interventions[0].screenig", "did you mean 'screening'"]),
        ({"kind": "kol_campaign", "screening": 1.5}, ["interventions[0].screening", "less than or equal to 1",
                                                      "1.5"]),
        ({"kind": "loyalty_program", "enrol_rate": -0.1}, ["interventions[0].enrol_rate", "greater than or equal"]),
        ({"kind": "kol_campaign", "select": {"by": "fame"}}, ["interventions[0].select.by"]),
        ({"kind": "advertising", "when": {"metric": "complaints", "op": ">", "value": 1}},
         ["when.metric", "unknown metric 'complaints'", "neg_messages"]),
        ({"kind": "advertising", "when": {"metric": "cost_tv", "op": ">", "value": 1}},
         ["unknown cost metric 'cost_tv'", "cost_advertising"]),
        ({"kind": "advertising", "schedule": {"from": 9, "until": 3}}, ["until (3) is before from (9)"]),
        ({"kind": "advertising", "schedule": {"at": 3, "every": 2}}, ["either at or every"]),
        ({"kind": "advertising", "once": True}, ["interventions[0].once", "only apply with a `when` trigger"]),
        ({"kind": "crisis_response", "delay": "soon"}, ["interventions[0].delay", "2 hours"]),  # 1.5 ticks is fine
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_scenario_error(entry, expected):
    with pytest.raises(ScenarioError) as err:
        make([entry])
    message = str(err.value)
    assert message.startswith("test: ") and "\n" not in message
    for part in expected:
        assert part in message


def test_bad_event_is_located_in_events():
    with pytest.raises(ScenarioError, match=r"events\[0\]\.severity"):
        make(events=[{"kind": "crisis", "severity": 2}])


def test_cost_metric_of_a_named_intervention_is_allowed():
    make([{"kind": "advertising", "name": "tv"},
          {"kind": "advertising", "when": {"metric": "cost_tv", "op": ">", "value": 0}}])  # fmt: skip


# --------------------------------------------------------------------------------------------- levers
def test_advertising_speeds_adoption_and_costs_its_budget():
    ads = {"kind": "advertising", "schedule": {"from": 2, "until": 11}, "reach_multiplier": 3, "budget_per_tick": 1000}
    for base, res in paired([ads]):
        # Paired: tripled ad reach for 10 ticks lifts the mean adoption share in every seed (effect ~+0.02,
        # paired noise ~0.002 at N=2000).
        assert res.metrics["adoption_share"].mean() > base["adoption_share"].mean()
        assert cost(res, "advertising").tolist() == [1000.0 if 2 <= t <= 11 else 0.0 for t in range(TICKS)]


def test_kol_campaign_posts_costs_and_speeds_adoption():
    kol = {"kind": "kol_campaign", "schedule": {"until": 9}, "screening": 1.0, "fee_per_post": 300}
    for base, res in paired([kol]):
        iv = res.model.interventions[0]
        # screening 1: no backlash, so all 10 KOLs post on each of the 10 ticks on air.
        assert iv.backlashes == [] and iv.posts == 100
        assert cost(res, "kol_campaign").tolist() == [3000.0 if t <= 9 else 0.0 for t in range(TICKS)]
        kol_messages = res.metrics["kol_share"] * res.metrics["pos_messages"]
        assert (kol_messages[:10] > (base["kol_share"] * base["pos_messages"])[:10]).all()
        # Paired: ten hubs broadcasting every tick lift early adoption in every seed (effect ~+0.03).
        assert res.metrics["adoption_share"].mean() > base["adoption_share"].mean()


def test_unscreened_kols_backfire_into_negative_wom():
    screened = {"kind": "kol_campaign", "schedule": {"until": 12}, "screening": 0.9}
    unscreened = {**screened, "screening": 0.1}
    neg = []
    for seed in SEEDS:
        a, b = treat_run([screened], seed), treat_run([unscreened], seed)
        neg.append(b.metrics["neg_messages"].sum() - a.metrics["neg_messages"].sum())
        # Risk per post 0.05 x 0.9 = 0.045 vs 0.005 over up to 130 posts: about 6 vs 0.65 backlashes expected.
        assert len(b.model.interventions[0].backlashes) > len(a.model.interventions[0].backlashes)
    # Each backlash makes a hub and ~30% of its followers post negatively for 3 ticks: hundreds of messages.
    assert np.mean(neg) > 100


def test_backlash_mechanics_on_a_star():
    """Screening 0 and risk 1: the hub's first post backfires; followers lose trust; burst for exactly 3 ticks."""
    kol = {"kind": "kol_campaign", "screening": 0.0, "backlash_risk": 1.0, "backlash_share": 1.0,
           "backlash_trust_drop": 0.5, "backlash_brand_shock": 0.1}  # fmt: skip
    silent = {"contact_prob": 0.0, "forward": {"positive": 0.0, "negative": 0.0}, "negative_rate": 0.0,
              "positive_rate": 0.0, "failure_talk": 0.0}  # fmt: skip
    kols = {"select": {"by": "degree", "k": 1}, "reach": 0.0}
    sc = make([kol], n=30, ticks=6, kols=kols, network={"generator": "complete", "n": 30}, wom=silent)
    model = WomModel(sc, seed=2)
    hub = int(model.kol_ids[0])
    trust = model.population.T.copy()
    brand = model.brand
    model.step()
    iv = model.interventions[0]
    assert iv.backlashes == [(0, hub)] and not iv.hired.any()
    st = model.last_tick
    others = (np.arange(30) != hub) & ~(st.adopted | st.repurchased | st.won_back)
    # Tick 0: trust of every follower halved at once (no message is delivered, so only a purchase could move T:
    # buyers are left out).
    assert others.sum() > 20 and np.allclose(model.population.T[others], trust[others] * 0.5)
    assert model.last_levers.brand_shock == pytest.approx(0.1) and model.brand < brand
    model.run(5)
    speakers = [r["neg_speakers"] for r in model.rows]
    assert speakers == [0, 30, 30, 30, 0, 0]  # the hub and all 29 followers, ticks 1-3


def test_disclosure_lowers_kol_post_credibility_and_select_promotes():
    sc = make([{"kind": "kol_campaign", "select": {"by": "degree", "k": 3}, "disclosure_credibility": 0.7}],
              n=200, ticks=1, kols={"select": {"by": "random", "k": 0}})  # fmt: skip
    model = WomModel(sc, seed=1)
    iv = model.interventions[0]
    assert model.population.is_kol[iv.kols].all() and iv.kols.size == 3
    model.step()
    cred = model.last_levers.positive_credibility
    assert np.allclose(cred[iv.kols], 0.7) and np.count_nonzero(cred != 1.0) == 3


def test_referral_reward_raises_wom_share_and_pays_per_referred_adopter():
    ref = {"kind": "referral_reward", "schedule": {"until": 39}, "sender_reward": 12, "receiver_reward": 8}
    for base, res in paired([ref]):
        m = res.metrics
        # Paired: referred prospects adopt with +1.5 log-odds and customers talk 25% more; the share of customers
        # acquired by WOM rises by ~0.05 (paired noise ~0.005).
        assert m["wom_acquired_share"].iloc[-1] > base["wom_acquired_share"].iloc[-1]
        # A successful referral is exactly a new customer acquired by referral: 20 each, also when a prospect
        # referred while the programme ran adopts after it ended.
        assert np.allclose(cost(res, "referral_reward"), 20.0 * m["new_referral"])
        assert m["new_referral"][:40].sum() > 0 and base["new_referral"].sum() == 0


def test_a_referral_programme_that_pays_nothing_changes_nothing():
    # Found by a probe: with both rewards, the talk uplift and the adoption boost at 0 and credibility 1, the tag
    # alone gave referred prospects purchase.adoption.referral and 90 more customers (of 3,000). What a reward buys
    # now grows from nothing with its value (reward_response), so rewards of 0 with every other parameter at its
    # default give the baseline's customers exactly (the tag only relabels the channel), and paying the referred
    # brings the pull back.
    free = {"kind": "referral_reward", "sender_reward": 0, "receiver_reward": 0}
    for base, res in paired([free]):
        m = res.metrics
        assert m["customers"].tolist() == base["customers"].tolist()
        assert m["nps"].tolist() == base["nps"].tolist()
        assert m["new_referral"].sum() > 0 and cost(res, "referral_reward").sum() == 0
    paid = {**free, "receiver_reward": 10}
    gains = [res.metrics["customers"].iloc[-1] - base["customers"].iloc[-1] for base, res in paired([paid])]
    assert min(gains) > 0  # +1.5 log-odds for the referred: more customers in every seed


def test_reward_response_rises_from_zero_and_saturates():
    values = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 100.0])
    g = np.array([reward_response(v, 1.0) for v in values])
    assert g[0] == 0.0 and g[2] == pytest.approx(1.0, rel=1e-12) and g[3] == pytest.approx(1.5, rel=1e-12)
    assert np.all(np.diff(g) > 0) and g[-1] == pytest.approx(2.0, rel=1e-12)  # monotone, at most twice the half
    per_unit = np.diff(g) / np.diff(values)
    assert np.all(np.diff(per_unit) < 0)  # diminishing returns: each unit of reward buys less than the one before


def _referral_levers(reward: float, seed: int = 1):
    entry = {"kind": "referral_reward", "sender_reward": reward, "receiver_reward": reward}
    model = WomModel(make([entry], n=N, ticks=1), seed=seed)
    model.step()
    return model.last_levers, model.interventions[0].spend


def test_referral_effects_saturate_in_the_reward_and_keep_todays_at_ten():
    # Lever level (deterministic): the talk uplift, the credibility discount and the referred pull rise with the
    # reward, each step of reward buying less; the give-10-get-10 keeps the effects it had before the reward
    # mattered (uplift 0.25, credibility 0.85, pull 1.0 + 0.5 log-odds) to within 3%: the population's mean spend
    # is 50 up to sampling (sd 0.5 at 2,000 people, lognormal sigma 0.4), and the effects move 0.7% per 1% of it.
    b_ref = make().purchase.adoption.referral
    rewards = [0, 5, 10, 25, 50, 100]
    uplift, discount, pull = [], [], []
    for reward in rewards:
        lev, spend = _referral_levers(reward)
        uplift.append(float(lev.talk_multiplier) - 1.0)
        discount.append(1.0 - lev.referral_credibility)
        pull.append((b_ref if lev.referral_receiver_paid else 0.0) + lev.referral_boost)
    assert spend == pytest.approx(50.0, rel=0.03)
    for effect, today in ((uplift, 0.25), (discount, 0.15), (pull, b_ref + 0.5)):
        effect = np.array(effect)
        assert effect[0] == pytest.approx(0.0, abs=1e-12)
        assert effect[2] == pytest.approx(today, rel=0.03)
        assert np.all(np.diff(effect) > 0) and effect[-1] < 2.0 * today * 1.03  # at most twice today's
        assert np.all(np.diff(np.diff(effect) / np.diff(rewards)) < 0)  # diminishing returns


def test_two_referral_rewards_scale_the_referred_pull_by_the_larger_reward():
    both = [{"kind": "referral_reward", "name": "small", "sender_reward": 0, "receiver_reward": 5,
             "adoption_boost": 0},
            {"kind": "referral_reward", "name": "large", "sender_reward": 0, "receiver_reward": 25,
             "adoption_boost": 0}]  # fmt: skip
    model = WomModel(make(both, n=500, ticks=1), seed=1)
    model.step()
    lev, spend = model.last_levers, model.interventions[0].spend
    b_ref = model.wom_scenario.purchase.adoption.referral
    assert b_ref + lev.referral_boost == pytest.approx(b_ref * reward_response(25 / spend, 0.2), rel=1e-12)


def test_two_referral_rewards_each_pay_only_their_own_referrals():
    # Two programmes tag messages: one after the other, or both at once for disjoint segments. Each referred
    # adopter is paid once, by the programme whose customer referred them, not by every programme that ever ran.
    later = [{"kind": "referral_reward", "name": "first", "schedule": {"until": 19}},
             {"kind": "referral_reward", "name": "second", "schedule": {"from": 30, "until": 49}}]  # fmt: skip
    disjoint = [{"kind": "referral_reward", "name": "first", "target": {"segment": "collectivist"}},
                {"kind": "referral_reward", "name": "second", "target": {"segment": "individualist"}}]  # fmt: skip
    for entries in (later, disjoint):
        res = simulate(make(entries, n=1500), seed=4)
        first, second, referrals = cost(res, "first"), cost(res, "second"), res.metrics["new_referral"]
        assert first.sum() > 0 and second.sum() > 0
        assert np.allclose(first + second, 20.0 * referrals)
    # The second campaign's referrals are its own: from tick 30 the first pays only for the odd prospect it
    # referred before tick 20 who adopts late (it paid for all of the second's before).
    res = simulate(make(later, n=1500), seed=4)
    late = res.metrics["t"] >= 30
    assert cost(res, "first")[late].sum() < 0.1 * cost(res, "second")[late].sum()


def test_loyalty_program_raises_repurchase_and_books_its_formula():
    loyal = {"kind": "loyalty_program", "cost_per_member": 0.5, "reward_share": 0.03}
    for base, res in paired([loyal]):
        # Members get +0.6 log-odds: repurchase +15-20% relative in every seed (paired noise ~1%).
        assert res.metrics["repurchase_rate"].mean() > 1.05 * base["repurchase_rate"].mean()
    model, step = stepped(make([loyal], n=800, ticks=25))
    for _ in range(25):
        step()
        pop, st = model.population, model.last_tick
        bought = (st.adopted | st.repurchased | st.won_back) & pop.member
        expected = 0.5 * pop.member.sum() + 0.03 * pop.spend[bought].sum() * model.last_levers.price
        assert model.rows[-1]["cost_loyalty_program"] == pytest.approx(expected, rel=1e-12)
    # Members are customers (those who churned this tick leave at the next enrolment).
    assert pop.member.sum() > 0 and not pop.member[(pop.status != CUSTOMER) & ~st.churned].any()


def test_loyalty_reward_drives_enrolment_and_use_with_diminishing_returns():
    # A programme that gives nothing enrols nobody: the baseline exactly, at no cost (common random numbers).
    for base, res in paired([{"kind": "loyalty_program", "reward_share": 0.0}]):
        assert res.metrics["customers"].tolist() == base["customers"].tolist()
        assert cost(res, "loyalty_program").sum() == 0
    # Lever level: the share who ever join and the members' repurchase lift rise with the reward share, each
    # point buying less; the bundled 3% keeps uptake 0.6 and lift 0.6 log-odds exactly (reward_half = 3%).
    lift_member = make().purchase.repurchase.member
    shares = [0.0, 0.01, 0.03, 0.1, 0.2, 0.5]
    lifts, members = [], []
    for share in shares:
        model, step = stepped(make([{"kind": "loyalty_program", "reward_share": share, "enrol_rate": 1.0}],
                                   n=N, ticks=8))  # fmt: skip
        for _ in range(8):
            step()
        pop = model.population
        boost = np.broadcast_to(model.last_levers.repurchase_boost, pop.n)
        members.append(int(pop.member.sum()))
        lifts.append(lift_member + float(np.mean(boost[pop.member])) if pop.member.any() else 0.0)
    assert lifts[2] == pytest.approx(lift_member, rel=1e-12) and members[0] == 0 and lifts[0] == 0.0
    assert np.all(np.diff(lifts) > 0) and lifts[-1] < 2.0 * lift_member
    assert np.all(np.diff(np.diff(lifts) / np.diff(shares)) < 0)
    # Uptake min(1, g x 0.6): 0.6 at 3%, 1 from 6% (every customer with a purchase joins at enrol_rate 1).
    assert members == sorted(members) and members[-1] > 1.4 * members[2] and members[-1] == members[-2]
    # Outcome level, three paired seeds at 2,000 people and 60 weeks: repurchase rises with the reward, each point
    # of reward from 3% to 20% buying less than each point up to 3% (diminishing returns; measured 0.018 against
    # 0.007 a point, the paired noise is about 0.002 on a mean rate).
    rate = {share: np.mean([res.metrics["repurchase_rate"].mean() for _, res in
                            paired([{"kind": "loyalty_program", "reward_share": share}])])
            for share in (0.0, 0.03, 0.2)}  # fmt: skip
    assert rate[0.0] < rate[0.03] < rate[0.2]
    assert (rate[0.2] - rate[0.03]) / 0.17 < 0.5 * (rate[0.03] - rate[0.0]) / 0.03


def test_loyalty_memberships_end_with_the_programme():
    model, step = stepped(make([{"kind": "loyalty_program", "schedule": {"until": 9}, "enrol_rate": 1.0}], n=400))
    for _ in range(10):
        step()
    assert model.population.member.any()
    step()
    assert not model.population.member.any()


def test_two_loyalty_programmes_each_count_and_release_only_their_members():
    # One programme per segment, the first ending at tick 9: each pays for its own members only, and when the
    # first ends its members leave while the second's stay (before, both paid for every member and the first's
    # end emptied the second).
    two = [
        {
            "kind": "loyalty_program",
            "name": "first",
            "target": {"segment": "collectivist"},
            "enrol_rate": 1.0,
            "schedule": {"until": 9},
        },
        {"kind": "loyalty_program", "name": "second", "target": {"segment": "individualist"}, "enrol_rate": 1.0},
    ]
    model, step = stepped(make(two, n=400))
    first, second = model.interventions
    code = {seg.name: i for i, seg in enumerate(model.wom_scenario.population.segments)}
    for t in range(12):
        step()
        pop, st = model.population, model.last_tick
        for iv, segment in ((first, "collectivist"), (second, "individualist")):
            own = pop.member & (pop.segment == code[segment]) if iv.on_air else np.zeros(pop.n, dtype=bool)
            bought = (st.adopted | st.repurchased | st.won_back) & own
            expected = 0.5 * own.sum() + 0.03 * pop.spend[bought].sum() * model.last_levers.price
            assert model.rows[-1].get(f"cost_{iv.name}", 0.0) == pytest.approx(expected, rel=1e-12)
        if t == 9:
            held = pop.member & (pop.segment == code["individualist"])
    assert not (pop.member & (pop.segment == code["collectivist"])).any()
    assert held.any() and (pop.member >= (held & (pop.status == CUSTOMER))).all()


def test_community_raises_loyalty_and_costs_per_tick():
    com = {"kind": "community", "uptake": 0.5, "join_rate": 0.2, "cost_per_tick": 250, "cost_per_member": 0}
    for base, res in paired([com]):
        # Engaged customers: attachment gain, +0.5 repurchase log-odds, +3% loyalty per interaction; mean L of
        # customers rises by ~0.01-0.02 (paired noise ~0.002).
        assert res.metrics["mean_L"].iloc[-10:].mean() > base["mean_L"].iloc[-10:].mean()
        assert res.metrics["repurchase_rate"].mean() > base["repurchase_rate"].mean()
        assert (cost(res, "community") == 250.0).all()


def test_community_loyalty_factor_gives_plus_three_percent_per_interaction():
    """The steady state of 'L *= factor, then pull toward L* at rate lambda' is L*(1 + 0.03 k), exactly."""
    lam, target = 0.1, 0.6
    for k in (1, 2):
        factor = (1.0 - lam / (1.0 + 0.03 * k)) / (1.0 - lam)
        L = 0.3
        for _ in range(2000):
            L *= factor
            L += lam * (target - L)
        assert L == pytest.approx(target * (1 + 0.03 * k), rel=1e-9)


def test_service_improvement_more_positive_less_negative_wom_per_customer_and_one_off_cost():
    imp = {"kind": "service_improvement", "schedule": {"from": 5}, "one_off_cost": 9000, "cost_per_tick": 100}
    for base, res in paired([imp]):
        m = res.metrics
        # Paired: quality +0.05, failures -40%, talk +30%: positive WOM up by half or more (noise a few %).
        assert m["pos_messages"].sum() > 1.2 * base["pos_messages"].sum()
        # It also speeds adoption, so there are more customers and purchases to fail; per purchase failures fall
        # by ~40% and per customer-tick negative speakers by ~25-35% (noise ~5%). Speakers, not delivered
        # messages: at 2,000 people one hub's negative cascade can outweigh the rest (seed 2: messages per customer
        # +3%, speakers -26%, once prospects' doubt changed who adopts when).
        assert m["failures"].sum() / m["purchases"].sum() < 0.8 * base["failures"].sum() / base["purchases"].sum()
        assert m["neg_speakers"].sum() / m["customers"].sum() < base["neg_speakers"].sum() / base["customers"].sum()
        assert cost(res, "service_improvement").tolist() == [0.0] * 5 + [9100.0] + [100.0] * (TICKS - 6)


def test_service_recovery_lowers_negative_wom_and_churn_and_costs_per_case():
    rec = {"kind": "service_recovery", "coverage": 0.8, "delay": 0, "cost_per_case": 20}
    for base, res in paired([rec]):
        m = res.metrics
        # F9: on-the-spot recovery of 80% of failures removes most failure talk and the failure churn spike:
        # negative speakers -25-35% and churn -20% per seed at N=2000 (paired noise a few %). Speakers, not
        # delivered messages: one hub's negative cascade can outweigh the rest at this size (seed 2: messages +12%,
        # speakers -28%, once prospects' doubt changed who adopts when).
        assert m["neg_speakers"].sum() < 0.8 * base["neg_speakers"].sum()
        assert m["churn_rate"].mean() < base["churn_rate"].mean()
        assert np.allclose(cost(res, "service_recovery"), 20.0 * m["recoveries"])
        assert m["recoveries"].sum() > 0


def test_delayed_recovery_cases_are_paid_after_the_programme_ends():
    rec = {"kind": "service_recovery", "schedule": {"until": 19}, "delay": 2, "cost_per_case": 1}
    res = treat_run([rec], 1)
    m = res.metrics
    # Recoveries started in ticks 0-19 arrive in ticks 2-21 and are paid; none start or arrive later.
    assert np.allclose(cost(res, "service_recovery"), m["recoveries"])
    assert m["recoveries"][:2].sum() == 0 and m["recoveries"][2:22].sum() > 0 and m["recoveries"][22:].sum() == 0


RECOVERY_DOSES = (0, "2 days", "4 days", "6 days", "1 week")


@functools.cache
def recovery_dose(delay, seed: int):
    """(negative speaker-ticks, customers at the end) with 80% of failures recovered after `delay`; paired with
    the other doses (one graph, one seed). Speakers, not delivered messages: one hub's cascade moves the messages
    of a seed by hundreds either way once prospects' doubt changes who adopts when (seeds 2 and 5 at 2,000 people)."""
    rec = {"kind": "service_recovery", "coverage": 0.8, "delay": delay, "effectiveness": 0.8, "cost_per_case": 20}
    m = treat_run([rec], seed).metrics
    return float(m["neg_speakers"].sum()), float(m["customers"].iloc[-1])


def test_service_recovery_speed_matters_gradually_from_the_spot_to_a_week():
    """Negative speakers rise and customers fall with the recovery's delay, without a cliff at a week.

    Summed over the three paired seeds. Tolerance: a slower dose may not beat a faster one by more than 1% of the
    span between on the spot and a week (paired runs still diverge a little once one person's state differs);
    gradual: no step between neighbouring doses (2 days apart, the last one day) carries more than half the span.
    Measured (3,000 people, 104 weeks, 4 seeds; docs/model.md): negative messages -38%, -30%, -17%, -9%, -2%.
    """
    neg = [sum(recovery_dose(d, s)[0] for s in SEEDS) for d in RECOVERY_DOSES]
    customers = [sum(recovery_dose(d, s)[1] for s in SEEDS) for d in RECOVERY_DOSES]
    span = neg[-1] - neg[0]
    assert span > 0
    steps = [b - a for a, b in zip(neg, neg[1:], strict=False)]
    assert min(steps) > -0.01 * span, (neg, steps)
    assert max(steps) < 0.5 * span, (neg, steps)
    # Customers at the end only in direction: one seed's count swings by about 120 between neighbouring doses
    # (seed 2: 872, 751, 860 at 0, 2 and 4 days), the size of the whole span of three seeds (about 180).
    assert customers[0] > customers[-1], customers
    # A week's delay is today's one-tick delay, exactly.
    assert recovery_dose("1 week", 1) == recovery_dose(1, 1)


def test_personalised_marketing_raises_repurchase_and_costs_per_target():
    pm = {"kind": "personalised_marketing", "share": 0.5, "uplift": 0.15, "cost_per_target": 0.25}
    for base, res in paired([pm]):
        # Half the customers at +15%: repurchase about +7% relative (paired noise ~1%).
        assert res.metrics["repurchase_rate"].mean() > 1.03 * base["repurchase_rate"].mean()
    model, step = stepped(make([pm], n=500, ticks=15))
    iv = model.interventions[0]
    for t in range(15):
        before = step()
        targeted = (before == CUSTOMER) & (iv.uniforms(model.context, t, 500) < 0.5)
        assert model.rows[-1].get("cost_personalised_marketing", 0.0) == 0.25 * targeted.sum()


def test_churn_prevention_cuts_churn_about_15_percent_and_costs_per_offer():
    cp = {"kind": "churn_prevention", "schedule": {"from": 20}, "cost_per_offer": 5}
    deltas, flags = [], [0, 0]
    for base, res in paired([cp], ticks=80):
        iv = res.model.interventions[0]
        assert cost(res, "churn_prevention").sum() == 5 * (iv.true_flags + iv.false_flags)
        after = slice(20, None)
        deltas.append(res.metrics["churn_rate"][after].mean() / base["churn_rate"][after].mean() - 1)
        flags[0] += iv.true_flags
        flags[1] += iv.false_flags
    # F12 expects about -15% (accept -8% to -25%); three paired seeds at N=2000 measure it within a few points
    # (~-16% at N=5000), so the accepted band is the fact's own.
    assert -0.25 < np.mean(deltas) < -0.08
    # Precision is imposed by construction up to stochastic rounding of each tick's false-flag count.
    assert flags[0] / sum(flags) == pytest.approx(0.85, abs=0.01)


def test_price_cut_raises_adoption_and_lowers_margin_per_sale():
    cut = {"kind": "price_change", "schedule": {"from": 0, "until": 19}, "price": 0.7, "brand_erosion": 0.0}
    window = slice(0, 20)
    gained = []
    for base, res in paired([cut]):
        m = res.metrics
        margin = (m["revenue"] - m["cost_of_goods"]) / m["purchases"]
        margin_base = (base["revenue"] - base["cost_of_goods"]) / base["purchases"]
        # Margin per sale: spend x (0.7 - 0.7) = 0 vs spend x 0.3 at the reference price, exactly, every tick.
        assert np.allclose(margin[window], 0.0) and (margin_base[window] > 0).all()
        assert "cost_price_change" not in m  # the margin is the price change's cost; nothing else is booked
        gained.append(m["new_customers"][window].sum() - base["new_customers"][window].sum())
    # Perceived value +0.5 x price sensitivity x 0.3 adds ~0.075 log-odds to adoption: a small but paired-visible
    # gain in new customers during the cut (a handful of the ~1500 adopters per seed).
    assert np.mean(gained) > 0


def test_price_cut_erodes_the_brand_while_it_lasts():
    cut = {"kind": "price_change", "schedule": {"from": 10, "until": 29}, "price": 0.8, "brand_erosion": 0.05}
    base, res = paired([cut], seeds=(1,))[0]
    # 0.05 x 0.2 = 1% of B lost per tick on air; the pull back toward the target recovers only 5% of the gap.
    assert res.metrics["brand"][29] < 0.95 * base["brand"][29]


def test_fake_reviews_lift_then_cut_trust_and_stop_paying_on_exposure():
    fake = {"kind": "fake_reviews", "schedule": {"until": 29}, "expectation_lift": 0.01, "exposed_at": 12,
            "cost_per_tick": 300, "trust_drop": 0.2}  # fmt: skip
    for base, res in paired([fake]):
        m = res.metrics
        iv = res.model.interventions[0]
        assert iv.exposed == 12
        assert cost(res, "fake_reviews").tolist() == [300.0 if t <= 12 else 0.0 for t in range(TICKS)]
        # Before exposure prospects expect more, so more adopt (paired, every seed).
        assert m["new_customers"][:12].sum() > base["new_customers"][:12].sum()
        # Exposure cuts the trust of everyone aware by 20% at once (mean over customers; tolerance 5 points for
        # the tick's own trust gains and the different customer mix).
        assert m["mean_T"][12] / base["mean_T"][12] == pytest.approx(0.8, abs=0.05)


def test_random_fake_review_exposure_only_while_on_air():
    fake = {"kind": "fake_reviews", "schedule": {"until": 9}, "exposure_prob": 0.0}
    assert treat_run([fake], 1).model.interventions[0].exposed is None


# --------------------------------------------------------------------------------------------- crisis
CRISIS = {"kind": "crisis", "at": 40, "severity": 0.6}
HANDLED = {"kind": "crisis_response", "delay": 0, "transparent": True, "compensation": 20, "apology": True}
MISHANDLED = {"kind": "crisis_response", "delay": 4, "transparent": False, "compensation": 0, "apology": False,
              "fix_ticks": None}  # fmt: skip
CRISIS_TICKS = 95  # crisis at 40 (a grown market) plus a year to recover


@functools.cache
def crisis_runs(seed: int) -> dict:
    base = base_run(seed, N, CRISIS_TICKS).metrics
    out = {}
    for arm, ivs in (("none", []), ("handled", [HANDLED]), ("mishandled", [MISHANDLED])):
        res = treat_run(ivs, seed, [CRISIS], ticks=CRISIS_TICKS)
        out[arm] = (res, crisis_impact(res.metrics, 40, baseline=base))
    return out


def test_crisis_damage_handled_unhandled_mishandled():
    damage = {arm: [] for arm in ("none", "handled", "mishandled")}
    for seed in SEEDS:
        runs = crisis_runs(seed)
        for arm in damage:
            damage[arm].append(runs[arm][1]["brand_damage"])
        # F7, per seed: handled < unhandled < mishandled.
        assert damage["handled"][-1] < damage["none"][-1] < damage["mishandled"][-1]
    mean = {arm: np.mean(v) for arm, v in damage.items()}
    # Seed 002: typical damage 8-15% (severity 0.6: 12.2% by construction, plus what negative WOM and the defect
    # add); accept 8-17%. Fast, transparent, compensated: < 5%. Mishandled: about double the typical (accept
    # 1.5-2.5x), so about 5x the well-handled damage.
    assert 0.08 < mean["none"] < 0.17
    assert mean["handled"] < 0.05
    assert 1.5 < mean["mishandled"] / mean["none"] < 2.5


def test_opaque_answer_cuts_trust_about_40_percent():
    for seed in SEEDS:
        cut = crisis_runs(seed)["mishandled"][1]["trust_cut"]
        handled = crisis_runs(seed)["handled"][1]["trust_cut"]
        # Seed 002: -40%; the cut is applied to everyone aware at once, the customer mean then recovers slowly;
        # 5 points of tolerance for the tick's own trust gains and churn changing the mix.
        assert cut == pytest.approx(0.40, abs=0.05) and handled < 0.05


def test_well_handled_crisis_recovers_90_percent_within_a_year():
    for seed in SEEDS:
        impact = crisis_runs(seed)["handled"][1]
        # F8: 90% of the loss made good within a year of weekly ticks; and the level never falls below 90% of the
        # no-crisis brand. The fact's 26-52 weeks is for a typical crisis (checked at validation size by F8); a fast,
        # transparent, compensated answer leaves a loss of about 3%, which satisfied customers make good sooner
        # (14-37 ticks on these seeds since the issue-13 model), but never at once (B moves at reputation_rate).
        assert 5 <= impact["ticks_to_recover_90"] <= 52
        assert impact["ticks_to_90"] == 0


def test_crisis_precursor_and_response_costs():
    for seed in SEEDS:
        base = base_run(seed, N, CRISIS_TICKS).metrics
        res = crisis_runs(seed)["handled"][0]
        # The week before it surfaces, half the affected customers (~5% of customers) complain: every one of them
        # speaks (a few would have anyway: 10% slack), and each reaches ~2 people (degree ~10 x contact 0.15 x
        # negative reach 1.5): at least one extra message per complainer leaves room for half that.
        event = res.model.interventions[0]
        crisis = res.model.context.shared["crisis"].history[0]
        posters = crisis.affected & (event.uniforms(res.model.context, 39, N, slot=2) < 0.5)
        assert res.metrics["neg_speakers"][39] - base["neg_speakers"][39] >= 0.9 * posters.sum() > 0
        assert res.metrics["neg_messages"][39] - base["neg_messages"][39] >= posters.sum()
        assert (crisis.surfaced, crisis.started, crisis.responded, crisis.transparent) == (40, 39, 40, True)
        assert cost(res, "crisis_response").tolist() == [20.0 * crisis.affected.sum() if t == 40 else 0.0
                                                         for t in range(CRISIS_TICKS)]  # fmt: skip
        mis = crisis_runs(seed)["mishandled"][0].model.context.shared["crisis"].history[0]
        assert mis.responded == 44 and mis.escalated == pytest.approx(2.0)


def test_the_spread_of_a_crisis_is_front_loaded_in_its_first_week_only():
    day = 1 / 7  # crisis.attention_days 1 in weekly ticks
    assert spread_share(2 / 168, True, day) == pytest.approx(0.080, abs=0.001)  # 2 hours
    assert spread_share(1 / 7, True, day) == pytest.approx(0.632, abs=0.001)  # a day
    assert spread_share(2 / 7, True, day) == pytest.approx(0.865, abs=0.001)  # two days
    assert spread_share(0.0, True, day) == 0.0 and spread_share(1.0, True, day) == 1.0
    assert spread_share(0.5, False, day) == 0.5 and spread_share(0.5, True, 0.0) == 0.5  # steady; unknown tick


def test_an_answer_within_a_week_escalates_the_crisis_for_the_part_before_it():
    for delay, tick, escalated in (("1 week", 41, 0.45), ("2 days", 40, 0.3 + 0.15 * spread_share(2 / 7, True, 1 / 7)),
                                   ("1.5 weeks", 41, 0.45 + 0.15 * 0.5), (2, 42, 0.6)):  # fmt: skip
        res = treat_run([{**HANDLED, "delay": delay}], 1, [CRISIS], ticks=50)
        crisis = res.model.context.shared["crisis"].history[0]
        assert crisis.responded == tick and crisis.escalated == pytest.approx(escalated), delay


@functools.cache
def answer_dose(delay, seed: int) -> tuple[float, float]:
    """(two-year profit, brand damage) of the crisis answered after `delay` (paired: one graph, one seed)."""
    res = treat_run([{**HANDLED, "delay": delay, "fix_ticks": 1}], seed, [CRISIS], ticks=CRISIS_TICKS)
    impact = crisis_impact(res.metrics, 40, baseline=base_run(seed, N, CRISIS_TICKS).metrics)
    return float(res.metrics["profit"].sum()), impact["brand_damage"]


def test_a_slower_crisis_answer_costs_more_from_hours_to_weeks():
    """Profit falls and brand damage rises with the answer's delay: 2 hours, 2 days, 1 week, 2 weeks.

    Summed over the three paired seeds. Tolerance: a slower answer may beat a faster one by at most 2% of the span
    between 2 hours and 2 weeks (paired runs diverge a little once one person's state differs).
    Measured (3,000 people, 104 weeks, 6 seeds; docs/model.md) with a monotone dose at every step.
    """
    doses = ("2 hours", "2 days", "1 week", "2 weeks")
    profit = [sum(answer_dose(d, s)[0] for s in SEEDS) for d in doses]
    damage = [sum(answer_dose(d, s)[1] for s in SEEDS) for d in doses]
    for values, sign in ((profit, -1), (damage, 1)):
        span = sign * (values[-1] - values[0])
        assert span > 0, values
        assert all(sign * (b - a) > -0.02 * span for a, b in zip(values, values[1:], strict=False)), values


def test_a_transparent_answer_wins_back_part_of_a_scandals_trust_cut_the_more_the_sooner():
    scandal = {**CRISIS, "type": "scandal"}
    base = base_run(1, N, 50).metrics["mean_T"]
    plain = {"kind": "crisis_response", "transparent": True, "apology": False, "compensation": 0}
    trust = {d: treat_run([] if d is None else [{**plain, "delay": d}], 1, [scandal], ticks=50).metrics["mean_T"]
             for d in (None, "2 hours", "2 days", "1 week")}  # fmt: skip
    lost = base[41] - trust[None][41]
    assert lost > 0.02  # severity 0.6 x 10% of everyone's trust, and more from the venting
    won = {d: (trust[d][41] - trust[None][41]) / lost for d in ("2 hours", "2 days", "1 week")}
    # trust_repair 0.5 x the first week's spread still to come (92% at 2 hours, 14% at two days, none at a week)
    # of what everyone aware lost since the crisis began; the customers' mean moves a little less (2 points slack).
    assert 0.5 * 0.92 - 0.1 < won["2 hours"] < 0.5 * 0.92 + 0.02
    assert won["2 hours"] > won["2 days"] > won["1 week"] - 0.02
    assert abs(won["1 week"]) < 0.05


def test_kol_support_after_the_answer_is_paid_per_post():
    support = {**HANDLED, "compensation": 0, "kol_support": True, "kol_ticks": 3, "fee_per_post": 100}
    res = treat_run([support], 1, [CRISIS], ticks=50)
    # 10 scenario KOLs post on ticks 40-42.
    assert cost(res, "crisis_response").tolist() == [1000.0 if 40 <= t <= 42 else 0.0 for t in range(50)]
    assert (res.metrics["kol_share"][40:43] > 0).all()


def test_random_crisis_frequency():
    p = 1.0 - (1.0 - 0.3) ** (1.0 / 52)
    assert 1.0 - (1.0 - p) ** 52 == pytest.approx(0.3)  # ~30% a year (crisis report)
    always = WomModel(make(events=[{"kind": "crisis", "probability_per_year": 1.0}], n=100, ticks=3), seed=1)
    always.run()
    state = always.context.shared["crisis"]
    assert state.current.started == 0 and state.current.surfaced == 1
    never = WomModel(make(events=[{"kind": "crisis", "probability_per_year": 0.0}], n=100, ticks=3), seed=1)
    never.run()
    assert never.context.shared["crisis"].current is None and never.context.shared["crisis"].history == []


def test_listed_crises_all_happen_answered_or_not():
    # Crises listed in `at` are what-ifs written down: both happen whether or not the first is answered. The
    # unanswered first one stays open for an answer for 26 ticks, and the second was skipped, so the arm without
    # an answer faced one crisis and the arm with one faced two.
    crises = {"kind": "crisis", "at": [20, 35], "severity": 0.6}
    for response in ([], [{"kind": "crisis_response", "delay": 0}]):
        model = WomModel(make(response, [crises], n=600, ticks=50), seed=1)
        model.run()
        state = model.context.shared["crisis"]
        crises_seen = state.history + ([state.current] if state.current is not None else [])
        past = [(c.started, c.surfaced) for c in crises_seen]
        assert past == [(19, 20), (34, 35)]
        assert state.history[0].ended <= 34


def test_a_listed_crisis_whose_precursor_is_off_air_still_surfaces():
    # `at: 30` with `schedule: {from: 30}`: the precursor tick 29 is off air; the crisis surfaced never (it could
    # only begin on its precursor tick). Now it begins on its first tick on air, with a shorter precursor.
    crisis = {"kind": "crisis", "at": 30, "schedule": {"from": 30}}
    model = WomModel(make(events=[crisis], n=400, ticks=35), seed=1)
    model.run()
    state = model.context.shared["crisis"]
    began = state.history + ([state.current] if state.current is not None else [])
    assert [(c.started, c.surfaced) for c in began] == [(30, 30)]


def test_response_without_a_crisis_does_nothing():
    res = treat_run([HANDLED], 1, ticks=20)
    assert cost(res, "crisis_response").sum() == 0
    pd.testing.assert_frame_equal(res.metrics, base_run(1, N, 20).metrics, check_exact=True)


def test_crisis_kinds_share_state_only_through_the_context():
    model = WomModel(make([HANDLED], [CRISIS], n=200, ticks=1), seed=1)
    event, response = model.interventions
    assert isinstance(event, CrisisEvent) and event.state is response.state is model.context.shared["crisis"]
    assert not hasattr(model, "crisis_state")  # nothing is glued onto the model


# --------------------------------------------------------------------------------------------- scenarios, docs
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenario_validates_asks_a_question_and_runs(path):
    raw = yaml.safe_load(path.read_text())
    if path.stem != "baseline":
        assert raw["extends"] == "baseline.yaml"
    sc = load_scenario(path)
    assert "?" in sc.description.splitlines()[0]  # the first line asks the scenario's question
    small = load_scenario(path, {"network.n": 400, "ticks": 45})
    m = simulate(small).metrics
    assert len(m) == 45 and np.isfinite(m["cum_profit"].iloc[-1])


def test_docs_cover_every_kind_and_parameter():
    text = (ROOT / "docs" / "interventions.md").read_text()
    for kind, cls in REGISTRY.items():
        section = re.search(rf"^## `{kind}`\n(.*?)(?=^## |\Z)", text, re.S | re.M)
        assert section, f"docs/interventions.md has no section for {kind}"
        stale = f"the {kind} parameter table in docs/interventions.md is stale"
        assert params_table(cls.Params) in section.group(1), stale
        assert "**Cost:**" in section.group(1) and "```yaml" in section.group(1)


def test_every_parameter_states_unit_and_source():
    for kind, cls in REGISTRY.items():
        for name, field in cls.Params.model_fields.items():
            extra = field.json_schema_extra or {}
            assert extra.get("unit") and extra.get("source"), f"{kind}.{name}"


# --------------------------------------------------------------------------------------------- the contract
@pytest.fixture
def kinds():
    """Let a test class play an existing kind of the scenario format for one test only.

    The scenario format (wom_sim/scenario/interventions.py) owns which kinds and parameters a file may hold, so a
    test kind borrows the slot and the parameter model of a bundled kind; the original class comes back after.
    """
    replaced = {}

    def add(cls, as_kind: str = "advertising"):
        replaced.setdefault(as_kind, REGISTRY[as_kind])
        cls.kind, cls.Params = as_kind, KINDS[as_kind]
        return register(cls)

    yield add
    for kind, original in replaced.items():
        REGISTRY[kind] = original


def _probe(kinds, hook):
    """A kind whose `apply` calls hook(ctx, lev, t): for trying what a hook may and may not do."""

    class Probe(Intervention):
        kind = "test_probe"
        calls: ClassVar[list] = []

        def apply(self, ctx, lev, t):
            Probe.calls.append(type(ctx))
            hook(ctx, lev, t)

    return kinds(Probe)


def _write_S(ctx, lev, t):
    ctx.population.S[:] = 0.0


def _scale_T(ctx, lev, t):
    ctx.population.T *= 0.5


def _write_flag(ctx, lev, t):
    ctx.population.member |= True


def _write_graph(ctx, lev, t):
    ctx.graph.indices[0] = 1


def _write_kols(ctx, lev, t):
    ctx.kol_ids[0] = 1


def _write_last_tick(ctx, lev, t):
    if ctx.last_tick is not None:
        ctx.last_tick.adopted[:] = True


@pytest.mark.parametrize("hook", [_write_S, _scale_T, _write_flag, _write_graph, _write_kols, _write_last_tick])
def test_a_hook_that_writes_the_models_arrays_fails_loudly(kinds, hook):
    _probe(kinds, hook)
    model = WomModel(make([{"kind": "advertising"}], n=100, ticks=3), seed=1)
    with pytest.raises(ValueError, match="read-only"):
        model.run()


def test_a_hook_cannot_rebind_the_populations_arrays(kinds):
    def rebind(ctx, lev, t):
        ctx.population.S = np.zeros(ctx.n)

    probe = _probe(kinds, rebind)
    model = WomModel(make([{"kind": "advertising"}], n=100, ticks=1), seed=1)
    with pytest.raises(AttributeError, match="request an effect"):
        model.step()
    assert probe.calls == [InterventionContext]  # the hook got the context, never the model


def test_no_intervention_module_imports_the_model():
    for path in (ROOT / "wom_sim" / "sim" / "interventions").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "wom_sim.sim.model" not in imported, path.name


def _every_effect(n: int) -> list:
    """One request of each effect, all on the same people, listed in the reverse of EFFECT_ORDER."""
    everyone = np.ones(n, dtype=bool)
    half = np.arange(n) % 2 == 0
    return [
        ScaleSatisfaction(everyone, 1.2),
        Leave("member", half),
        Join("member", everyone),
        ScaleLoyalty(everyone, 1.5),
        Restore(everyone, np.full(n, 0.9), np.full(n, 0.9), 0.5),
        CutTrust(everyone, 0.5),
        LowerSatisfaction(everyone, 0.3),
        PromoteKols(np.arange(3), 0.95, 2.0),
    ]


def test_effects_apply_in_the_documented_order_whatever_order_they_were_asked_in(kinds):
    class Setup(Intervention):
        kind = "test_setup_effects"

        def setup(self, ctx):
            for effect in _every_effect(ctx.n):
                ctx.request(effect)

        def apply(self, ctx, lev, t):
            pass

    kinds(Setup)
    assert [type(e).name for e in reversed(_every_effect(4))] == list(EFFECT_ORDER)
    plain = WomModel(make(n=200, ticks=1), seed=4).population
    treated = WomModel(make([{"kind": "advertising"}], n=200, ticks=1), seed=4).population
    in_order, as_asked = copy.deepcopy(plain), copy.deepcopy(plain)
    for effect in reversed(_every_effect(200)):
        effect.apply(in_order)
    for effect in _every_effect(200):
        effect.apply(as_asked)
    for field in ("S", "T", "L", "member", "is_kol", "credibility", "talkativeness"):
        assert np.array_equal(getattr(treated, field), getattr(in_order, field)), field
    # The order matters (else this test could not fail): asked-for order gives other S, T and memberships.
    assert not np.array_equal(in_order.T, as_asked.T) and not np.array_equal(in_order.member, as_asked.member)


def test_apply_effects_is_stable_within_one_effect():
    pop = WomModel(make(n=50, ticks=1), seed=1).population
    T = pop.T.copy()
    apply_effects(pop, [CutTrust(np.arange(50), 0.5), CutTrust(np.arange(50), 0.25), Join("engaged", pop.S >= 0)])
    assert np.array_equal(pop.T, T * 0.5 * 0.75) and pop.engaged.all()


def test_step_one_hooks_read_the_state_of_the_start_of_the_step_and_effects_land_before_the_dynamics(kinds):
    class Cutter(Intervention):
        kind = "test_cutter"

        def apply(self, ctx, lev, t):
            ctx.request(CutTrust(np.ones(ctx.n, dtype=bool), 0.5))
            ctx.request(LowerSatisfaction(np.ones(ctx.n, dtype=bool), 1.0))  # nobody satisfied enough to praise

    class Reader(Intervention):
        kind = "test_reader"
        seen: ClassVar[list] = []

        def apply(self, ctx, lev, t):
            Reader.seen.append(ctx.population.T.copy())

    kinds(Cutter)
    kinds(Reader, as_kind="price_change")
    sc = make([{"kind": "advertising"}, {"kind": "price_change"}], n=300, ticks=1)
    model = WomModel(sc, seed=2)
    T = model.population.T.copy()
    model.step()
    assert np.array_equal(Reader.seen[0], T)  # listed after the cutter, it still reads the uncut trust
    base = WomModel(make(n=300, ticks=1), seed=2)
    base.step()
    # S = 0 for everyone before step 3: no one talks positively of their own accord (no forwards at tick 0).
    assert base.rows[0]["pos_speakers"] > 0 and model.rows[0]["pos_speakers"] == 0


def test_unknown_effect_and_unknown_flag_are_refused():
    ctx = WomModel(make(n=20, ticks=1), seed=1).context
    with pytest.raises(TypeError, match="not a registered effect"):
        ctx.request(object())
    with pytest.raises(ValueError, match="unknown flag 'vip'"):
        Join("vip", np.ones(20, dtype=bool))


def test_docs_state_the_effect_order():
    text = (ROOT / "docs" / "model.md").read_text()
    assert " -> ".join(f"`{name}`" for name in EFFECT_ORDER) in text


def test_a_new_kind_written_against_the_contract_alone_works(kinds):
    """A kind built only from interventions/base: a thank-you gift that lifts some customers' loyalty."""

    class ThankYou(Intervention):
        kind = "test_thank_you"

        share, lift, cost_per_gift = 0.5, 1.2, 2.0  # share thanked per tick; loyalty multiplier; currency/gift

        def setup(self, ctx):
            self.thanked = ctx.shared.setdefault("thanked", [])

        def apply(self, ctx, lev, t):
            chosen = (ctx.population.status == CUSTOMER) & (self.uniforms(ctx, t, ctx.n) < self.share)
            ctx.request(ScaleLoyalty(chosen, self.lift))
            lev.add_cost(self.name, self.cost_per_gift * np.count_nonzero(chosen))
            self.thanked.append(int(chosen.sum()))

    kinds(ThankYou, as_kind="loyalty_program")
    entry = {"kind": "loyalty_program", "name": "thank_you", "schedule": {"until": 4}}
    for base, res in paired([entry], seeds=(1,), ticks=TICKS):
        thanked = res.model.context.shared["thanked"]
        assert len(thanked) == 5 and min(thanked) > 0
        assert cost(res, "thank_you").tolist() == [2.0 * k for k in thanked] + [0.0] * (TICKS - 5)
        # Half the customers' loyalty x1.2 for five ticks: mean L of customers rises at once (paired, same seed).
        assert (res.metrics["mean_L"][:5] > base["mean_L"][:5]).all()


def test_every_kind_of_the_scenario_format_has_its_class():
    assert set(REGISTRY) == set(KINDS)
    assert all(cls.Params is KINDS[kind] for kind, cls in REGISTRY.items())


def test_a_class_must_play_its_own_scenario_model():
    class Mismatched(Intervention):
        kind = "advertising"
        Params = KINDS["price_change"]

    with pytest.raises(TypeError, match="scenario model of kind 'advertising'"):
        register(Mismatched)
    assert REGISTRY["advertising"].Params is KINDS["advertising"]
