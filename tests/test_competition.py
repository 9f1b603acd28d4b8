"""Rival brands (wom_sim/sim/competition.py, docs/model.md Competition): one brand per person, brand choice,
switching, per-brand metrics, competitor moves, and no change at all without competitors.

Small markets (1,000 people, 40 ticks, fixed seeds): the whole file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from wom_sim.catalogue import metric
from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import build_scenario
from wom_sim.sim.model import WomModel
from wom_sim.sim.population import CUSTOMER

SMALL = {"network.n": 1000, "ticks": 40}
RIVALS = [{"name": "acme", "initial_customers": 0.05}, {"name": "budget", "quality": 0.65, "price": 0.85}]


def run(seed: int = 5, **overrides) -> WomModel:
    return WomModel(None, overrides={**SMALL, "competitors": RIVALS, **overrides}, seed=seed).run()


@pytest.fixture(scope="module")
def market() -> WomModel:
    return run()


def test_no_competitors_draws_nothing_from_the_competition_stream():
    # tests/test_golden.py checks the metrics bit for bit; this checks the stream the rivals would use is untouched.
    model = WomModel(None, overrides=SMALL, seed=5).run(10)
    fresh = WomModel(None, overrides=SMALL, seed=5).streams["competition"].bit_generator.state
    assert model.market is None
    assert model.streams["competition"].bit_generator.state == fresh
    row = model.last_metrics
    assert (row["market_share"], row["switch_in"], row["rival_customers"]) == (1.0, 0, 0)


def test_each_person_uses_at_most_one_brand(market: WomModel):
    rival, status = market.market.rival, market.population.status
    assert not np.any((rival > 0) & (status == CUSTOMER))
    index = market.market.brand_index(market.population)
    assert set(np.unique(index)) <= {-1, 0, 1, 2}
    assert np.count_nonzero(index == 0) == market.last_metrics["customers"]
    assert np.count_nonzero(index == 1) == market.last_metrics["rival_acme_customers"]


def test_shares_add_up_and_the_switching_matrix_matches_the_columns(market: WomModel):
    frame = market.metrics_frame()
    total = frame["market_share"] + frame["rival_acme_market_share"] + frame["rival_budget_market_share"]
    assert np.allclose(total[frame["customers"] + frame["rival_customers"] > 0], 1.0)
    buys = frame["purchase_share"] + frame["rival_acme_purchase_share"] + frame["rival_budget_purchase_share"]
    assert np.allclose(buys, 1.0)
    per_tick = market.switching_frame()
    cumulative = market.switching_frame(cumulative=True).set_index(["from", "to"])["count"]
    assert per_tick.groupby(["from", "to"])["count"].sum().sort_index().equals(cumulative.sort_index())
    came_from_rivals = per_tick[(per_tick["to"] == "ours") & per_tick["from"].isin(["acme", "budget"])]
    assert came_from_rivals["count"].sum() == frame["switch_in"].sum() > 0
    went = per_tick[(per_tick["from"] == "ours") & per_tick["to"].isin(["acme", "budget"])]
    assert went["count"].sum() == frame["switch_out"].sum() > 0
    # Every rival purchase this tick is a rival customer's: new customers of a rival equal the matrix's entries.
    assert metric("rival_acme_market_share").label == "acme: market share"


def test_the_switching_matrix_counts_a_lapsed_customer_of_ours_as_coming_from_ours():
    # `from` is the brand used at the time, else the one bought last (docs/model.md, Competition): someone who
    # adopted ours in the run and lapsed comes from ours when they buy again, so "none" counts first purchases in
    # the category only, once per person. It counted them again (none -> a rival, none -> ours on a win-back),
    # and `switch_out` missed everyone who went to a rival after lapsing from us.
    model = WomModel(None, overrides={**SMALL, "competitors": RIVALS}, seed=5)

    def bought_ever() -> int:
        market = model.market
        return np.count_nonzero(model.population.experienced | (market.rival > 0) | (market.last_brand >= 0))

    before = bought_ever()
    model.run()
    cumulative = model.switching_frame(cumulative=True)
    assert cumulative.loc[cumulative["from"] == "none", "count"].sum() == bought_ever() - before
    went = cumulative[(cumulative["from"] == "ours") & (cumulative["to"] != "ours")]["count"].sum()
    assert went == model.metrics_frame()["switch_out"].sum()


def test_rival_crisis_helps_us_with_common_random_numbers():
    # Same seed, same graph and people; only the rival's crisis differs. A 15% reputation loss, a 0.2 quality drop
    # and venting customers for 10 weeks must move buyers to us at 1,000 people (measured: share +0.05-0.1).
    crisis = [{"kind": "competitor_crisis", "competitor": "acme", "schedule": {"from": 10, "until": 19}}]
    base, hit = run().metrics_frame(), run(events=crisis).metrics_frame()
    assert np.array_equal(base.iloc[:10].to_numpy(dtype=float), hit.iloc[:10].to_numpy(dtype=float), equal_nan=True)
    assert hit["rival_acme_brand"].iloc[19] < base["rival_acme_brand"].iloc[19]
    assert hit["market_share"].iloc[-1] > base["market_share"].iloc[-1]
    assert hit["rival_acme_voice_share_neg"].iloc[10:20].mean() > base["rival_acme_voice_share_neg"].iloc[10:20].mean()


def test_matching_a_rival_price_cut_with_a_trigger():
    cut = [{"kind": "competitor_price", "competitor": "acme", "price": 0.8, "schedule": {"from": 5}}]
    match = [{"kind": "price_change", "price": 0.8, "once": True, "duration": 100,
              "when": {"metric": "rival_undercut_ticks", "op": ">=", "value": 2}}]  # fmt: skip
    frame = run(competitors=RIVALS[:1], events=cut, interventions=match).metrics_frame()
    # The cut starts at tick 5, so ticks 5 and 6 are undercut; the trigger reads tick 6 and fires at tick 7.
    assert list(frame["rival_undercut_ticks"].iloc[4:8]) == [0, 1, 2, 0]
    assert frame["rival_price_ratio"].iloc[6] == pytest.approx(0.8)
    assert frame["rival_price_ratio"].iloc[7] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bundled_fast_answer_to_a_rival_crisis_fires_in_the_crisis(seed: int):
    # competitor_crisis_fast's ad burst answers acme's crisis of weeks 30-37; its trigger once read acme's share
    # of negative voice, which passes a half in the launch weeks when acme has few messages, so the one burst
    # went out in weeks 2-8 and the crisis got none. At the cookbook's 3,000 people (at 1,500 acme has about 90
    # customers, and one seed of four bottoms out at NPS -7 in the crisis, above the trigger's -10).
    model = WomModel(bundled_path("competitor_crisis_fast"), overrides={"network.n": 3000, "ticks": 45}, seed=seed)
    ads = next(iv for iv in model.run().interventions if iv.name == "conquest_ads")
    assert 30 < ads.on_air_ticks[0] <= 37 and len(ads.on_air_ticks) == 8  # within the crisis weeks 30-37


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"competitors": [{"name": "acme"}, {"name": "acme"}]}, "competitor names must be unique (repeated: acme)"),
        ({"competitors": [{"name": "Acme Inc"}]}, "competitors[0].name: String should match pattern"),
        ({"events": [{"kind": "competitor_crisis", "competitor": "zeta"}]}, "unknown competitor 'zeta'"),
        (
            {
                "competitors": [{"name": "acme"}],
                "interventions": [
                    {"kind": "price_change", "when": {"metric": "rival_acme_pric", "op": "<", "value": 1}}
                ],
            },
            "unknown rival metric 'rival_acme_pric'",
        ),
    ],  # fmt: skip
)
def test_bad_competitors_are_one_clear_line(data: dict, message: str):
    with pytest.raises(ScenarioError) as err:
        build_scenario(data, "market.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        # A strong category-buyer term, a rival price cut below the reference price and cheap switching: the
        # ceiling of `_deciders` is closest to the probabilities it bounds.
        {
            "competition.category_buyer": 6.0, "competition.switching_cost": 0.0,
            "competitors": [{**RIVALS[0], "price": 0.6, "advertising": 0.3}, RIVALS[1]],
        },
    ],
)  # fmt: skip
def test_leaving_out_who_cannot_buy_changes_nothing(monkeypatch, overrides):
    # `can_buy` (one bound for everyone, before the fast tick computes our log-odds), `_deciders` (a bound per
    # person) and `_switch_deciders` (our customers' chance to switch) drop the people whose uniform is above a
    # bound of their chance to buy anything (or to switch); deciding everyone
    # exactly must give the same run bit for bit (a bound that is too low would make some of them buy). Rows are
    # compared as text: a NaN metric equals itself there.
    from wom_sim.sim import competition

    def state(model):
        m = model.market
        arrays = (m.rival, m.view, m.cumulative, model.population.L)
        return [repr(model.rows), *(a.tobytes() for a in arrays)]

    fast = run(seed=11, **overrides)
    skipped = {"n": 0}
    original = competition._deciders

    def everyone(pop, market, lev, sc, mt, pool, *args):
        skipped["n"] += pool.size - original(pop, market, lev, sc, mt, pool, *args).size
        return pool

    original_can_buy = competition.can_buy

    def anyone(pop, market, *args):
        mask = original_can_buy(pop, market, *args)
        skipped["pre"] += 0 if mask is None else int(np.count_nonzero(~mask))
        return None

    original_switch = competition._switch_deciders

    def every_customer(pop, market, lev, sc, mt, customers, *args):
        skipped["switch"] += int(np.count_nonzero(~original_switch(pop, market, lev, sc, mt, customers, *args)))
        return np.ones(customers.size, dtype=bool)

    skipped["pre"] = skipped["switch"] = 0
    monkeypatch.setattr(competition, "_deciders", everyone)
    monkeypatch.setattr(competition, "can_buy", anyone)
    monkeypatch.setattr(competition, "_switch_deciders", every_customer)
    exact = run(seed=11, **overrides)
    # All three bounds do leave people out, so the comparison tests them.
    assert skipped["n"] > 0 and skipped["pre"] > 0 and skipped["switch"] > 0
    assert state(fast) == state(exact)


def test_the_own_view_bound_of_deciders_bounds_each_plain_persons_terms_and_is_tighter(market: WomModel):
    # `_deciders` first bounds every plain person's rival terms by the largest view over them (a prospect of the
    # category) or by a category buyer's rule at its largest (`_buyer_tops`, for who bought ours), then the prospects
    # it keeps by their own views (`_own_view_bound`). Each must stay at or above each person's exact sum of
    # exp(log-odds) (a bound below it would leave out someone who can buy), and the own-view bound be tighter than
    # the first for most prospects (or the second stage would be work for nothing). Plain: no rival used, lapsed
    # from or ever bought (a win-back row), nothing heard this tick.
    from wom_sim.sim import competition

    pop, m, mt, lev = market.population, market.market, market.last_market, market.last_levers
    sc = market.wom_scenario
    plain = np.flatnonzero((m.rival == 0) & (m.last_brand <= 0) & (m.tried == 0) & ~competition._heard_any(mt, pop.n))
    bound = competition._plain_bound(pop, m, lev, sc, mt, plain, market.reference_price)
    bought = (m.last_brand[plain] == 0) | pop.experienced[plain]
    util = competition.rival_utility(pop, m, lev, sc, mt, plain, market.reference_price, bought)
    exact = np.exp(np.minimum(util, 50.0)).sum(axis=0)
    prospects = np.flatnonzero(~bought)
    own = competition._own_view_bound(bound, sc, prospects, 0.0)
    assert prospects.size > 100 and bought.sum() > 100
    assert (own * (1 + 1e-12) >= exact[prospects]).all()  # rounding apart: the ceiling adds 1e-6
    assert (bound.r_buyer * (1 + 1e-12) >= exact[bought]).all()
    assert np.count_nonzero(own < 0.5 * bound.r_new) > prospects.size // 2


def test_the_talk_ceiling_bounds_every_users_talk_probability_and_leaving_out_the_rest_changes_nothing(
    monkeypatch, market: WomModel
):
    # `talk_rivals` computes talk probabilities only for talkers whose uniform is below `_talk_ceiling`. The ceiling
    # must be at or above each talker's p_neg + p_pos (else someone who would speak stays silent), a rival's users
    # and its lapsed buyers alike, not so loose as to be useless, and a run with everyone computed must be the same
    # bit for bit.
    from wom_sim.sim import competition

    pop, m, mt, lev, sc = market.population, market.market, market.last_market, market.last_levers, market.wom_scenario
    users = np.flatnonzero(m.rival > 0)
    lapsed = np.flatnonzero((m.rival == 0) & (m.last_brand > 0) & (pop.status != CUSTOMER))
    talkers = np.concatenate([users, lapsed])
    code = np.concatenate([m.rival[users], m.last_brand[lapsed]]).astype(np.int64)
    failed = m.failed.copy()
    m.failed[talkers[::7]] = True  # some failures, whose talk has its own term (restored below)
    try:
        loyal = competition.rival_loyalty(pop, m, lev, sc, talkers, code)
        p_pos, p_neg = competition._talk_probabilities(pop, m, lev, sc, mt, talkers, code, loyal)
        ceiling = competition._talk_ceiling(pop, m, lev, sc, mt, talkers, code, loyal)
    finally:
        m.failed[:] = failed
    assert users.size > 20 and lapsed.size >= 5  # (9 at the end of this run)
    assert (p_pos + p_neg <= ceiling).all() and (p_pos + p_neg > 0.4 * ceiling).any()
    on_lapsed = slice(users.size, None)
    assert (p_pos + p_neg)[on_lapsed].any() and (p_pos + p_neg > 0.4 * ceiling)[on_lapsed].any()

    def state(model):
        mk = model.market
        arrays = (mk.rival, mk.last_brand, mk.view, mk.trust, mk.loyalty, mk.attachment, mk.knows, mk.cumulative)
        return [repr(model.rows), *(a.tobytes() for a in arrays)]

    bounded = run(seed=13)
    monkeypatch.setattr(
        competition, "_talk_ceiling", lambda pop, market, lev, sc, mt, users, *a: np.ones(users.size) * 2
    )
    assert state(bounded) == state(run(seed=13))


def test_a_rivals_customers_sure_to_stay_are_left_out_of_the_choice_and_nothing_changes(monkeypatch):
    # `_staying_users` bounds a rival's customer's chance to leave (view at most 1, their exact loyalty and our
    # log-odds); deciding them all exactly must give the same run bit for bit, and the bound must leave some out.
    from wom_sim.sim import competition

    def state(model):
        m = model.market
        return [repr(model.rows), *(a.tobytes() for a in (m.rival, m.last_brand, m.view, m.cumulative))]

    original, left_out = competition._staying_users, {"n": 0}

    def counted(*args):
        sure = original(*args)
        left_out["n"] += sure.size
        return sure

    monkeypatch.setattr(competition, "_staying_users", counted)
    bounded = run(seed=12)
    monkeypatch.setattr(competition, "_staying_users", lambda *args: np.zeros(0, dtype=np.intp))
    assert left_out["n"] > 0
    assert state(bounded) == state(run(seed=12))


def test_every_rivals_ads_reach_their_share_of_people():
    # One uniform serves all rivals, shifted by frac(k * golden ratio) for the k-th: each shift must stay a uniform
    # on [0, 1), so every rival's ads reach `advertising` of the people (the 3rd and later rivals once reached
    # nobody at 0.1: their shift was above 1). 200k draws: the reach is within 0.004 (4.7 standard errors).
    from wom_sim.sim import competition

    u = np.random.default_rng(3).random(200_000)
    for k in range(8):
        s = competition._shift(k)
        edge = np.array([1.0 - s, np.nextafter(1.0 - s, 0.0), np.nextafter(1.0 - s, 1.0), 0.0, 1.0 - 2**-53])
        for p in (0.0, 0.03, 0.1, 0.5, 0.9, 1.0):
            for draws in (u, edge):
                exact = np.flatnonzero(competition._shifted(draws, k) < p)
                assert np.array_equal(competition._shifted_below(draws, k, p), exact), (k, p)
            assert abs(np.count_nonzero(competition._shifted(u, k) < p) / u.size - p) < 0.004, (k, p)


def test_competition_uniforms_of_a_person_do_not_depend_on_who_else_draws():
    # Common random numbers: a person's number for a purpose is a hash of (this tick's key, id), the same whether
    # the step draws for 10 people or for everyone; different purposes give different numbers.
    from wom_sim.sim import competition

    model = run(seed=4, ticks=2)
    mt = competition.new_tick(model.market, model.population.n, 3, np.random.default_rng(8))
    everyone = np.arange(model.population.n)
    few = np.array([3, 500, 999])
    assert np.array_equal(competition.uniforms(mt, "talk", few), competition.uniforms(mt, "talk", everyone)[few])
    assert not np.array_equal(competition.uniforms(mt, "talk", few), competition.uniforms(mt, "churn", few))
    u = competition.uniforms(mt, "churn", everyone)
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.03  # 1,000 numbers: 3.3 standard errors


TWIN = {"name": "twin", "quality": 0.8, "service_failure": 0.05, "price": 1.0, "margin": 0.3, "reputation": 0.6,
        "advertising": 0.1, "initial_customers": 0.01, "initial_aware": 0.05}  # fmt: skip


def test_an_identical_rival_holds_half_the_market_at_every_horizon():
    # A rival identical to us (the baseline's offer, reputation, ads and initial shares) must hold half the market
    # at every horizon, not only where a drifting curve crosses one half (Bell, Keeney & Little 1975: equal
    # attraction, equal share). Before the rivals followed our rules (2026-12-04) our share here (these 6 seeds at
    # 1,000 people) was 0.760, 0.466 and 0.399 at weeks 13, 104 and 207; after, 0.494, 0.481 and 0.512 (per-seed
    # sd 0.06, 0.065 and 0.04, so standard errors of the mean about 0.025, 0.027 and 0.017). Since a category buyer
    # weighs brands never bought by their loyalty target (2026-12-04, double jeopardy) switching is rarer and a
    # market keeps more of its first year's luck: per-seed sd about 0.1 at weeks 104 and 207 (seeds 0-39), so 16
    # seeds (standard error 0.025) instead of 6; seeds 0-15 give 0.514, 0.437 and 0.449 (0-5 alone: 0.487, 0.406,
    # 0.423; seeds 16-39: 0.487, 0.477, 0.483). Tolerance: each mean within 0.08 of one half, about 3 standard
    # errors; the old drift is 0.1-0.26 off. experiments/tools/measure_twin_split.py measures it at 2,000 people
    # (docs/model.md, Competition, Checks).
    shares = []
    for seed in range(16):
        model = WomModel(bundled_path("baseline"), overrides={"network.n": 1000, "ticks": 207, "competitors": [TWIN]},
                         seed=seed).run()  # fmt: skip
        shares.append(model.metrics_frame()["market_share"].to_numpy()[[12, 103, 206]])
    mean = np.mean(shares, axis=0)
    assert np.all(np.abs(mean - 0.5) < 0.08), dict(zip((13, 104, 207), mean.round(3), strict=True))


def test_identical_rivals_end_with_about_our_number_of_customers():
    # Eight rivals identical to us (the baseline's quality, failure, price, margin, reputation, ads and initial
    # shares): by symmetry each should end with about our customers. Measured before `competition.view_rate`
    # (a contact moved a rival's one-number view at E's rate, worth bE + bT in the choice): ours / mean rival's
    # 0.40 here (these 4 seeds at 1,000 people, per-seed sd 0.03), 0.485 +- 0.017 at 3,000 (10 seeds); with it
    # 0.93 here (per-seed sd 0.17). With the rivals following our rules (2026-12-04; before it, a rival's past
    # customers who had moved on could adopt it afresh while ours could only be won back) 1.06 here; our share
    # is in docs/model.md (Competition, Checks).
    # Tolerance: the mean of the 4 seeds above 0.7 (an even split is 1; the biased value is about 15 standard
    # errors below 0.7, the even one about 2.7 above it).
    twins = [
        {"name": f"r{i}", "quality": 0.8, "price": 1.0, "advertising": 0.1, "initial_customers": 0.01,
         "initial_aware": 0.05}
        for i in range(8)
    ]  # fmt: skip
    ratios = []
    for seed in range(4):
        row = WomModel(bundled_path("baseline"), overrides={"network.n": 1000, "competitors": twins}, seed=seed)
        row = row.run().last_metrics
        ratios.append(row["customers"] / (row["rival_customers"] / len(twins)))
    assert np.mean(ratios) > 0.7, ratios


# Two rivals of the baseline's offer, alike in all but size: one starts with 6% of people and advertises to 20% a
# week, the other 1.5% and 5% (experiments/tools/measure_size_split.py).
OFFER = {"quality": 0.8, "service_failure": 0.05, "price": 1.0, "margin": 0.3, "reputation": 0.6, "initial_aware": 0.05}
LARGER = {"name": "larger", **OFFER, "initial_customers": 0.06, "advertising": 0.2}
SMALLER = {"name": "smaller", **OFFER, "initial_customers": 0.015, "advertising": 0.05}


def test_a_larger_more_advertised_rival_stays_larger():
    # Double jeopardy (Ehrenberg, Goodhardt & Barwise 1990; the Dirichlet model, Goodhardt, Ehrenberg & Chatfield
    # 1984): of two brands alike but in size the larger keeps far more buyers, and its buyers are no less loyal
    # (slightly more). Measured on these 8 seeds at 1,000 people: larger / smaller customers at week 207 1.55 (per
    # seed 1.0-2.0, sd 0.38, standard error 0.13), weekly retention larger - smaller +0.0004 (sd 0.0005); before
    # 2026-12-04, when a category buyer weighed a brand never bought by the adoption terms, 0.75 and -0.0016
    # (2,000 people, 8 seeds): the smaller brand overtook the larger. Tolerances: the ratio's mean above 1.15 (3
    # standard errors below the measured mean; the old rule is far below it) and the retention gap's mean above
    # -0.0005 (about 5 standard errors below the measured mean; the old rule's -0.0016 is below it).
    ratios, gaps = [], []
    for seed in range(8):
        model = WomModel(
            bundled_path("baseline"),
            overrides={"network.n": 1000, "ticks": 207, "competitors": [LARGER, SMALLER]},
            seed=seed,
        ).run()
        frame = model.metrics_frame()
        ratios.append(frame["rival_larger_customers"].iloc[-1] / max(frame["rival_smaller_customers"].iloc[-1], 1))
        retention = []
        for name in ("larger", "smaller"):  # 1 - lost / customers of the week before, from week 53 on
            customers = frame[f"rival_{name}_customers"].to_numpy(dtype=float)
            lost = frame[f"rival_{name}_lost"].to_numpy(dtype=float)
            retention.append(np.mean(1.0 - lost[52:] / np.maximum(customers[51:-1], 1.0)))
        gaps.append(retention[0] - retention[1])
    assert np.mean(ratios) > 1.15, np.round(ratios, 2)
    assert np.mean(gaps) > -0.0005, np.round(gaps, 4)
