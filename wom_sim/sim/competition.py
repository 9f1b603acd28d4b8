"""Rival brands: who uses which rival, what people think of each, and the steps of the tick that involve rivals.

Part of the reference tick (docs/model.md, Competition): with `competitors:` empty the model never builds a
`Market`, calls none of these steps and draws nothing from the `competition` stream, so it is exactly the
one-brand model. Every step is vectorised over people (a loop over the K rivals at most, K <= 8).

Representation. The focal brand's customers are `status == CUSTOMER` (population.py, unchanged); `rival[i]` is
the rival person i buys from now (1..K, 0 none), so a person uses at most one brand. `brand_index()` gives the
one per-person brand index of the issue (-1 none, 0 ours, k rival k). A rival's customer who once bought ours
is CHURNED in the focal status, one who never did is UNAWARE or AWARE, as before.

Brand choice is a multinomial logit (McFadden 1974) with the brand-choice form of Guadagni & Little 1983: common
attribute weights (the adoption coefficients of `purchase.adoption`) over each brand's expectation/trust, brand
reputation, perceived value, the WOM heard this tick and the price against the category's reference price, plus
a loyalty term for the brand bought last (`competition.stay_loyalty`, `competition.switching_cost`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from wom_sim.network.graph import Graph
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.dynamics import (
    Deliveries,
    TickState,
    _at,
    deliver,
    disconfirm,
    edge_uniforms,
    logistic,
    perceived_value,
    price_gap,
    pull,
    toward_valence,
)
from wom_sim.sim.levers import Levers, clip_array
from wom_sim.sim.population import AWARE, CHURNED, CUSTOMER, UNAWARE, Population, draw_unit

NONE_BRAND, OURS = -1, 0  # brand codes of the switching matrix besides the rivals 1..K
_SPREAD = 0.6180339887498949  # golden-ratio offset: rival k's uniform is frac(u + k * _SPREAD), one draw serves K


def _shift(k: int) -> float:
    """Rival k's offset in [0, 1): frac(k * golden ratio). The fraction, so frac(u + offset) below is one
    subtraction of 1 for any k (k * _SPREAD itself is above 1 from k = 2 on)."""
    return (k * _SPREAD) % 1.0


def _shifted(u: np.ndarray, k: int) -> np.ndarray:
    """A uniform for rival k from one shared uniform (each marginally uniform; one stream draw for all rivals).

    `frac(u + _shift(k))`: the sum is below 2, and x - 1 is exact for x in [1, 2) (Sterbenz), so subtracting 1
    where it is at least 1 gives np.mod(x, 1.0) bit for bit, at a fraction of its cost.
    """
    if not k:
        return u
    x = u + _shift(k)
    np.subtract(x, 1.0, out=x, where=x >= 1.0)
    return x


def _shifted_below(u: np.ndarray, k: int, p: float) -> np.ndarray:
    """The indices where `_shifted(u, k) < p`, without a shifted copy of u.

    `_shifted` is u + s, less 1 where that reaches 1: below p for u in [1 - s, 1 - s + p) or u < p - s, up to the
    rounding of the sum. Those intervals widened by 1e-12 (far above that rounding, about 1e-16) give a superset of
    the answer, and `_shifted` on it, the same arithmetic element by element, decides exactly.
    """
    if p <= 0.0:
        return np.zeros(0, dtype=np.intp)
    if not k:
        return np.flatnonzero(u < p)
    s, slack = _shift(k), 1e-12
    near = (u >= 1.0 - s - slack) & (u < 1.0 - s + p + slack)
    if p + slack > s:
        near |= u < p - s + slack
    near = np.flatnonzero(near)
    return near[_shifted(u[near], k) < p]


# What a tick's per-person uniforms of the competition stream are for. Each is a counter-based hash of (this tick's
# key for the purpose, person id) (`dynamics.edge_uniforms`), computed only for the people a step reads: these
# steps read a few of N people (rivals' customers, their buyers, our customers), and a hash of 100k ids costs a
# fifth of a full stream draw of 1M. A person's number does not depend on who else is drawn for, so common random
# numbers hold as with full draws.
UNIFORM_PURPOSES = ("talk", "switch", "repurchase", "quality", "failure", "churn")


def uniforms(mt: MarketTick, purpose: str, people: np.ndarray) -> np.ndarray:
    """This tick's competition uniforms of `people` for `purpose` (one of `UNIFORM_PURPOSES`)."""
    return edge_uniforms(mt.keys[purpose], people)


def _flat(code: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Positions of (rival code, person) pairs in a (K, N) array's flat view: `a.reshape(-1)[_flat(...)]` is
    `a[code - 1, idx]` without 2-D fancy indexing (about twice as fast for a few hundred thousand pairs)."""
    return (np.asarray(code, dtype=np.intp) - 1) * n + idx


@dataclass
class MarketTick:
    """What the rivals did this tick (for the metrics and the next steps)."""

    t: int
    k: int
    impact: np.ndarray  # (K, N) float32: net WOM impact heard about each rival
    heard_negative: np.ndarray  # (K, N) float32: credibility-weighted negative messages heard about each rival
    pos_messages: np.ndarray  # (K,) positive messages delivered about each rival
    neg_messages: np.ndarray
    purchases: np.ndarray  # (K,) purchases from each rival
    revenue: np.ndarray  # (K,)
    cost_of_goods: np.ndarray  # (K,)
    switches: np.ndarray  # (K + 2, K + 2) counts: from (none, ours, rivals) -> to, for every brand bought this tick
    switched_out: int = 0  # our customers who left for a rival directly this tick
    buyers: list[np.ndarray] = field(default_factory=list)  # who bought a rival this tick, in batches
    bought: list[np.ndarray] = field(default_factory=list)  # which rival (1..K)
    switched: np.ndarray | None = None  # bool: our customers who switched to a rival this tick (decided already)
    # Who uses a rival, kept through the tick so that no step scans N for it: at the start (sorted ids, with the
    # rival each used: `lost`), then from step 5's repurchase on the users after step 5's choices and after step
    # 8 those who stay (in no order: every use reads each person's own numbers). Only steps 5 and 8 change it.
    start_users: np.ndarray | None = None
    start_code: np.ndarray | None = None
    users: np.ndarray | None = None
    # The start users' loyalty to their rival, aligned with `start_users` (read in step 3; it moves only in step 7).
    loyalty: np.ndarray | None = None
    debut: np.ndarray | None = None  # `_flat` positions of this tick's first purchases ever of a rival (step 6)
    # Step 7's (users, their rival, their loyalty to it as written, float32): step 8 reads it instead of gathering
    # anew while `users` is still `MarketTick.users` (nothing moves a brand or a loyalty in between), and keeps it
    # for who stays, for the metrics.
    moved_loyalty: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    heard: list[np.ndarray] = field(default_factory=list)  # per rival: who heard about it this tick (step 4)
    # Per rival, aligned with `heard`: the WOM term of the choice (step 5), tanh of the impression less the doubt
    # for who never bought it (`talk_rivals`), the net impact for who did (whose rows never read it).
    persuasion: list[np.ndarray] = field(default_factory=list)
    praised: np.ndarray | None = None  # int8 per person: the rival they spoke positively about this tick (0 none)
    special: np.ndarray | None = None  # step 5's `_special` mask, computed once (see there)
    heard_any: np.ndarray | None = None  # step 5's `_heard_any` mask, computed once
    keys: dict[str, int] = field(default_factory=dict)  # this tick's hash keys (`UNIFORM_PURPOSES`, delivery)


@dataclass
class Market:
    """The rivals' per-person and per-brand state (memory: 9 + 20K bytes per person, docs/performance.md)."""

    names: list[str]
    rival: np.ndarray  # int8: rival used now, 1..K (0 = none)
    last_brand: np.ndarray  # int8: the brand bought before the current spell (-1 none, 0 ours, k): switches' `from`
    knows: np.ndarray  # uint8 bitmask: bit k-1 set = has heard of rival k
    failed: np.ndarray  # bool: an unrecovered failure at their rival last tick (failure talk, churn)
    view: np.ndarray  # float32 (K, N): what each person expects of each rival, or how satisfied they are with it
    reputation: np.ndarray  # float64 (K,): each rival's brand favourability
    # uint8 bitmask: bit k-1 set = has bought rival k (in the run or before it): `Population.experienced` for
    # rivals (ads reach only who never bought it, a first purchase judges it, heard WOM moves S's rates not E's).
    tried: np.ndarray | None = None
    # float32 (K, N): how far each person trusts each rival (T's rules: moved by WOM, built by good purchases, cut
    # by failures; ads do not move it). None only for a `Market` built by hand before it existed.
    trust: np.ndarray | None = None
    # float32 (K, N): each person's loyalty to each rival (L's rules, step 7: set at its target by a first purchase,
    # then pulled toward it at `loyalty.rate` while they use it). Ours is `Population.L`.
    loyalty: np.ndarray | None = None
    # float32 (K, N): each person's attachment to each rival (A's rules, step 7: its customers who spread positive
    # WOM about it bond, and it decays while they use it). Ours is `Population.A`.
    attachment: np.ndarray | None = None
    # float32 (K, N): the net-negative WOM impression each person holds of each rival they never bought, as
    # `Population.doubt` of ours (step 4, `reception.negative_memory`; 4 bytes per person and rival): good news
    # about the rival first has to outweigh it. Read only for who never bought the rival.
    doubt: np.ndarray | None = None
    last_purchase: np.ndarray | None = None  # int32: tick of the last purchase from a rival (-1: none in the run)
    fit_keys: np.ndarray | None = None  # (K,) hash keys of each rival's product fit (`rival_fit`)
    undercut_ticks: int = 0  # consecutive ticks the cheapest rival has been cheaper than we are
    cumulative: np.ndarray | None = None  # switching matrix summed over the run
    history: list[np.ndarray] = field(default_factory=list)  # switching matrix per tick

    @property
    def k(self) -> int:
        return len(self.names)

    def brand_index(self, pop: Population) -> np.ndarray:
        """Per person: -1 no brand, 0 ours, k rival k."""
        return np.where(pop.status == CUSTOMER, OURS, np.where(self.rival > 0, self.rival.astype(np.int16), -1))

    def knows_rival(self, k: int) -> np.ndarray:
        """Bool per person: has heard of rival k (1..K)."""
        return (self.knows & np.uint8(1 << (k - 1))) > 0


# --------------------------------------------------------------------------------------------- start
def init_market(sc: Scenario, pop: Population, rng: np.random.Generator) -> Market | None:
    """Tick 0: each rival's initial customers and aware people among those who do not use ours (None without rivals).

    What a person expects of and trusts in each rival starts where they start for ours: drawn from
    `population.initial.expectation` and `.trust` (per rival, independent of ours), whether or not they know it
    yet, as everyone has an E and a T of ours before hearing of it. A rival's initial customer has the category
    need and has lived `population.initial.history` purchases of it, by the rules of `experience_rivals`, as
    ours have (`dynamics.settle_history`). Draws only from the `competition` stream.
    """
    rivals = sc.competitors
    if not rivals:
        return None
    n, k = pop.n, len(rivals)
    rival = np.zeros(n, dtype=np.int8)
    knows = np.zeros(n, dtype=np.uint8)
    tried = np.zeros(n, dtype=np.uint8)
    free = np.flatnonzero(pop.status != CUSTOMER)
    order = free[rng.permutation(free.size)]
    start = 0
    for code, spec in enumerate(rivals, start=1):
        bit = np.uint8(1 << (code - 1))
        n_cust = min(int(round(spec.initial_customers * n)), order.size - start)
        users = order[start : start + n_cust]
        start += n_cust
        rival[users] = code
        aware = rng.random(n) < spec.initial_aware
        knows[aware] |= bit
        knows[users] |= bit
        tried[users] |= bit
    pop.need[rival > 0] = True  # a customer has the need by definition
    init = sc.population.initial
    view = np.stack([draw_unit(init.expectation, n, rng) for _ in range(k)]).astype(np.float32)
    trust = np.stack([draw_unit(init.trust, n, rng) for _ in range(k)]).astype(np.float32)
    attachment = np.stack([draw_unit(init.attachment, n, rng) for _ in range(k)]).astype(np.float32)
    loyalty = np.stack([draw_unit(init.loyalty, n, rng) for _ in range(k)]).astype(np.float32)
    market = Market(
        names=[r.name for r in rivals],
        rival=rival,
        last_brand=np.where(pop.status == CUSTOMER, OURS, np.where(rival > 0, rival, NONE_BRAND)).astype(np.int8),
        knows=knows,
        failed=np.zeros(n, dtype=bool),
        view=view,
        reputation=np.array([r.reputation for r in rivals], dtype=np.float64),
        trust=trust,
        attachment=attachment,
        loyalty=loyalty,
        tried=tried,
        doubt=np.zeros((k, n), dtype=np.float32),
    )
    market.cumulative = np.zeros((k + 2, k + 2), dtype=np.int64)
    market.fit_keys = rng.integers(0, 2**63 - 1, size=k)
    market.last_purchase = np.full(n, -1, dtype=np.int32)
    settle_rival_history(pop, market, sc, rng)
    return market


def settle_rival_history(pop: Population, market: Market, sc: Scenario, rng: np.random.Generator) -> None:
    """Tick 0: each rival's customers live `population.initial.history` purchases of it before the run.

    `dynamics.settle_history` for a rival: each purchase is `experience_rivals` without WOM (quality with the
    person's fit with the rival and noise, a failure recovered on the spot at `recovery.coverage`), from their
    drawn view and trust; then their loyalty is set to its target (step 7's fixed point). Before 2026-12-04 a
    rival's customers started at a view of its quality, ours in a lived-in state (docs/model.md, Competition).
    """
    users = np.flatnonzero(market.rival > 0)
    if not sc.population.initial.history or not users.size:
        return
    code = market.rival[users].astype(np.int64)
    quality = np.array([c.quality for c in sc.competitors])[code - 1]
    fail = np.array([c.service_failure for c in sc.competitors])[code - 1]
    fit = rival_fit(pop, market, users, code)
    flat = _flat(code, users, pop.n)
    view = market.view.reshape(-1).take(flat).astype(np.float64)
    trust = market.trust.reshape(-1).take(flat).astype(np.float64)
    ex, m = sc.experience, users.size
    for h in range(sc.population.initial.history):  # a loop over past purchases, each vectorised over the users
        z, u_fail, u_rec = rng.standard_normal(m), rng.random(m), rng.random(m)
        x = clip_array(quality + fit + ex.noise * z, 0.0, 1.0)
        failed = u_fail < fail
        recovered = failed & (u_rec < ex.recovery.coverage)
        loss = np.where(recovered, ex.failure_penalty * (1.0 - ex.recovery.effectiveness), ex.failure_penalty)
        x = np.where(failed, np.maximum(0.0, x - loss), x)
        view, trust = _lived(ex, x, view, trust, np.full(m, h == 0), failed & ~recovered)
    market.view.reshape(-1)[flat] = view
    market.trust.reshape(-1)[flat] = trust
    market.loyalty.reshape(-1)[flat] = loyalty_target(pop, market, sc.competitors, sc, users, code)


def _lived(ex, x, view, trust, first, unrecovered) -> tuple[np.ndarray, np.ndarray]:
    """One purchase of a rival: `dynamics.disconfirm` with the view as the expectation it is measured against and
    as the satisfaction it becomes; trust by T's rules. Clipped to [0, 1] as every state of ours is."""
    view_new, _, trust_new = disconfirm(ex, x, view, view, trust, first, unrecovered)
    return clip_array(view_new, 0.0, 1.0), clip_array(trust_new, 0.0, 1.0)


def new_tick(
    market: Market, n: int, t: int, rng: np.random.Generator, previous: MarketTick | None = None
) -> MarketTick:
    """An empty record of this tick's market, with its hash keys: the first draws of the tick from `rng` (the
    `competition` stream), one per purpose of `UNIFORM_PURPOSES` and two for delivery, the same count every tick.

    `previous`: last tick's record, whose (K, N) heard-WOM rows this one takes over (the fast tick's way to keep
    them from tick to tick): they are 0 but where its talk wrote them, for who heard about each rival, and are
    zeroed there, instead of 8K fresh bytes per person zeroed each tick. `previous` is not to be read after.
    """
    k = market.k
    zeros = lambda: np.zeros(k)  # noqa: E731 - a local factory keeps the record below short
    drawn = rng.integers(0, 2**63 - 1, size=len(UNIFORM_PURPOSES) + 2)
    keys = dict(zip((*UNIFORM_PURPOSES, "deliver_positive", "deliver_negative"), map(int, drawn), strict=True))
    users = np.flatnonzero(market.rival > 0)  # (a bool mask's nonzero is faster than the int8 array's)
    if previous is not None and previous.impact.shape == (k, n):
        impact, heard_negative = previous.impact, previous.heard_negative
        for row, heard in enumerate(previous.heard):
            impact[row][heard] = 0.0
            heard_negative[row][heard] = 0.0
        previous.impact = previous.heard_negative = np.zeros((k, 0), dtype=np.float32)
    else:
        impact, heard_negative = np.zeros((k, n), dtype=np.float32), np.zeros((k, n), dtype=np.float32)
    return MarketTick(
        t=t, k=k, impact=impact, heard_negative=heard_negative,
        pos_messages=zeros(), neg_messages=zeros(), purchases=zeros(), revenue=zeros(), cost_of_goods=zeros(),
        switches=np.zeros((k + 2, k + 2), dtype=np.int64), start_users=users, start_code=market.rival[users],
        users=users, keys=keys,
        heard=[np.zeros(0, dtype=np.int64) for _ in range(k)],
        persuasion=[np.zeros(0) for _ in range(k)],
    )  # fmt: skip


# --------------------------------------------------------------------------------------------- step 1
def apply_rival_shocks(market: Market, lev: Levers) -> None:
    """A rival's crisis costs it a share of its reputation at once (as `brand_shock` does for ours)."""
    for code, rl in enumerate(lev.rivals or (), start=1):
        if rl.brand_shock:
            market.reputation[code - 1] *= 1.0 - rl.brand_shock


# --------------------------------------------------------------------------------------------- step 2
def advertise_rivals(market: Market, lev: Levers, sc: Scenario, u: np.ndarray) -> None:
    """Each rival's ads reach people who never bought it (`Market.tried`), as ours reach the never-experienced:
    they know it, and what they expect of it moves toward its claim (its quality) at `advertising.expectation_pull`,
    as our ads move a prospect's E; trust, as with us, is not moved by ads."""
    rate = sc.advertising.expectation_pull
    for code, rl in enumerate(lev.rivals, start=1):
        bit = np.uint8(1 << (code - 1))
        reached = _shifted_below(u, code - 1, rl.advertising)
        reached = reached[(market.tried[reached] & bit) == 0]  # as ours reach the never-experienced only
        market.knows[reached] |= bit
        row = market.view[code - 1]
        row[reached] = pull(row[reached], rl.quality, rate)


# --------------------------------------------------------------------------------------------- steps 3-4
def talk_rivals(
    graph: Graph, pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick,
    deliver: Callable[..., Deliveries] = deliver,
) -> None:  # fmt: skip
    """A rival's customers and lapsed buyers talk about it (step 3's rules, their view of it for S); listeners'
    views move.

    Forced posts (a rival's KOL campaign or crisis) join in; every message is about the brand its speaker speaks
    for. What a person hears about rival k moves their view of k as heard WOM moves E (prospects) or S
    (customers) of ours in step 4, and makes them know k. `deliver` is `dynamics.deliver` or one that delivers
    the same messages (the fast tick's).
    """
    n, k, wom = pop.n, market.k, sc.wom
    # Who bought a rival and uses no brand now talks about the one bought last, as our lapsed customers talk about
    # ours (step 3: everyone experienced who uses no other brand). Before 2026-12-04 only a rival's users talked.
    lapsed = np.flatnonzero((market.rival == 0) & (market.last_brand > 0) & (pop.status != CUSTOMER))
    all_users = np.concatenate([mt.start_users, lapsed])
    all_code = np.concatenate([mt.start_code, market.last_brand[lapsed]]).astype(np.int64)
    all_loyal = rival_loyalty(pop, market, lev, sc, all_users, all_code)
    mt.loyalty = all_loyal[: mt.start_users.size]  # the users' (`MarketTick.loyalty`): later steps read it
    all_uu = uniforms(mt, "talk", all_users)
    # Only a talker whose uniform is below `_talk_ceiling` can speak (fewer than half of them mid-run): the others
    # are silent by the rules, so their talk probabilities are not computed.
    can = np.flatnonzero(all_uu < _talk_ceiling(pop, market, lev, sc, mt, all_users, all_code, all_loyal))
    users, code, uu = all_users[can], all_code[can], all_uu[can]
    p_pos, p_neg = _talk_probabilities(pop, market, lev, sc, mt, users, code, all_loyal[can])
    speaks_for = np.zeros(n, dtype=np.int8)  # the rival each speaker's message is about
    pos, neg = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    neg[users[uu < p_neg]] = True
    pos[users[(uu >= p_neg) & (uu < p_neg + p_pos)]] = True
    speaks_for[users] = code
    for c, rl in enumerate(lev.rivals, start=1):  # forced posts: KOLs paid by rival c, its customers in a crisis
        for mask, flag in ((rl.forced_positive, pos), (rl.forced_negative, neg)):
            if mask is not None:
                flag |= mask
                speaks_for[mask] = c
    mt.praised = np.where(pos, speaks_for, 0).astype(np.int8)  # step 7's spreaders, for their attachment
    sent_pos = deliver(graph, pop, sc, pos, mt.keys["deliver_positive"], 1.0)
    sent_neg = deliver(graph, pop, sc, neg, mt.keys["deliver_negative"], wom.negative_reach)
    brand_pos = speaks_for[sent_pos.src].astype(np.int64) - 1
    brand_neg = speaks_for[sent_neg.src].astype(np.int64) - 1
    mt.pos_messages = np.bincount(brand_pos, minlength=k).astype(np.float64)
    mt.neg_messages = np.bincount(brand_neg, minlength=k).astype(np.float64)
    # Credibility-weighted messages per (rival, listener), summed over the pairs that occur (sorted keys c * n + id:
    # per rival, listeners in id order), not over K x N bins: np.bincount adds in message order either way.
    key_pos, key_neg = brand_pos * n + sent_pos.dst, brand_neg * n + sent_neg.dst
    pairs, slot = np.unique(np.concatenate([key_pos, key_neg]), return_inverse=True)
    w_pos = np.bincount(slot[: key_pos.size], weights=pop.credibility[sent_pos.src], minlength=pairs.size)
    w_neg = np.bincount(slot[key_pos.size :], weights=pop.credibility[sent_neg.src], minlength=pairs.size)
    bounds = np.searchsorted(pairs, np.arange(k + 1, dtype=np.int64) * n)
    rec = sc.reception
    if market.doubt is not None:
        market.doubt *= np.float32(rec.negative_memory)  # everyone's doubt fades, as ours (`dynamics.hold_doubt`)
    for c in range(1, k + 1):
        at = np.arange(bounds[c - 1], bounds[c])
        at = at[(w_pos[at] + w_neg[at]) != 0]  # who heard only messages of credibility 0 heard nothing
        heard = pairs[at] - (c - 1) * n
        mt.heard[c - 1] = heard
        if not heard.size:
            continue
        impact = np.tanh(w_pos[at] - wom.negativity_bias * w_neg[at])
        mt.impact[c - 1][heard] = impact  # a row, then a 1-D scatter (no 2-D fancy indexing)
        mt.heard_negative[c - 1][heard] = w_neg[at]
        market.knows[heard] |= np.uint8(1 << (c - 1))
        # Step 4's rates: the view of someone who bought the rival moves as S, of someone who never did as E; trust
        # as T (at T's weight for the experienced, at T's rate for prospects).
        bought = (market.tried[heard] & np.uint8(1 << (c - 1))) > 0
        view_rate = np.where(bought, rec.satisfaction_weight, rec.expectation_rate)
        trust_rate = np.where(bought, rec.trust_weight, rec.trust_rate)
        row, trusted = market.view[c - 1], market.trust[c - 1]
        row[heard] = toward_valence(row[heard].astype(np.float64), impact, view_rate)
        trusted[heard] = toward_valence(trusted[heard].astype(np.float64), impact, trust_rate)
        mt.persuasion[c - 1] = _hold_rival_doubt(market, sc, c, heard, bought, w_pos[at], w_neg[at], impact)


def _hold_rival_doubt(
    market: Market, sc: Scenario, code: int, heard: np.ndarray, bought: np.ndarray, w_pos: np.ndarray,
    w_neg: np.ndarray, impact: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """`dynamics.hold_doubt` for rival `code`: the WOM term of the choice of the people who heard about it
    (aligned with `heard`), and their doubt of it kept.

    Who never bought it (`bought` False) weighs this tick's `W+ - lambda W-` less the doubt they hold of it; whatever
    of that is negative becomes their doubt, and the term is its tanh. Who bought it keeps the net impact (their
    rows of the choice are win-back's and never read it). Before 2026-12-04 only ours had a doubt, so bad news
    weighed longer on ours than on an identical rival (docs/model.md, Competition).
    """
    term = impact.astype(np.float64)
    if market.doubt is None:
        return term
    never = np.flatnonzero(~bought)
    who = heard[never]
    row = market.doubt[code - 1]
    impression = w_pos[never] - sc.wom.negativity_bias * w_neg[never] - row[who]
    row[who] = np.maximum(-impression, 0.0)
    term[never] = np.tanh(impression)
    return term


def _talk_probabilities(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, users: np.ndarray, code: np.ndarray,
    loyal: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(p_pos, p_neg) of talkers `users` (each using rival `code`, or lapsed from it: the rival bought last), with
    loyalty `loyal` to it: step 3's talk rules with their view of it for S."""
    wom = sc.wom
    v = market.view.reshape(-1).take(_flat(code, users, pop.n)).astype(np.float64)
    # Talk follows recent experience, as for ours (dynamics.novelty): the tick after a purchase, then fading. The
    # power is read from a table of the ages 0..t: the same np.power of the same numbers, once per age.
    age = np.maximum(mt.t - 1 - market.last_purchase[users], 0)
    powers = (1 - wom.novelty_decay) ** np.arange(max(mt.t, 0) + 1, dtype=age.dtype)
    fade = wom.talk_floor + (1 - wom.talk_floor) * powers[age]
    tau = pop.talkativeness[users] * fade
    multiplier = np.array([rl.talk_multiplier for rl in lev.rivals])[code - 1]
    rate = tau * wom.positive_rate * multiplier * v**wom.satisfaction_elasticity * (1 + wom.loyalty_boost * loyal)
    p_pos = np.where(v >= wom.positive_threshold, np.minimum(1.0, rate), 0.0)
    theta = wom.negative_threshold
    gap = np.maximum(theta - v, 0.0) / theta
    p_neg = np.where(v < theta, np.minimum(1.0, tau * wom.negative_rate * gap**wom.negative_exponent), 0.0)
    p_neg = np.where(market.failed[users], 1.0 - (1.0 - p_neg) * (1.0 - wom.failure_talk), p_neg)
    return p_pos, p_neg


def _talk_ceiling(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, users: np.ndarray, code: np.ndarray,
    loyal: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Per talker: a number at or above p_neg + p_pos of `_talk_probabilities`, from what is at hand (no view, no
    age). The same rules for a rival's users and its lapsed buyers, so the same bound.

    Talkativeness x (the positive rate's factors but the view's, plus the negative rate): fade, view^elasticity and
    gap^exponent are at most 1 (fade, view and gap lie in [0, 1], the exponents are not negative); plus
    failure_talk after a failure (1 - (1 - p)(1 - f) <= p + f). Raised by a relative 1e-9 for rounding. A user
    whose uniform is at or above it is silent by those rules too. (fmax: a NaN factor counts as 0, as it makes
    no talk there.)
    """
    wom = sc.wom
    multiplier = np.array([rl.talk_multiplier for rl in lev.rivals])[code - 1]
    most = np.fmax(wom.positive_rate * multiplier * (1 + wom.loyalty_boost * loyal), 0.0)
    most += wom.negative_rate
    most *= pop.talkativeness[users]
    np.fmax(most, 0.0, out=most)
    most += wom.failure_talk * market.failed[users]
    return most * (1.0 + 1e-9) + 1e-300


# --------------------------------------------------------------------------------------------- step 5
def rival_loyalty(
    pop: Population, market: Market, lev: Levers, sc: Scenario, idx: np.ndarray, code: np.ndarray
) -> np.ndarray:
    """Loyalty of people idx to rival `code` (one each), as L is ours: repurchase, lapse, the stay term and win-back
    read it (`update_rival_loyalty` moves it)."""
    return market.loyalty.reshape(-1).take((np.asarray(code, dtype=np.intp) - 1) * pop.n + idx).astype(np.float64)


def loyalty_target(
    pop: Population, market: Market, offers, sc: Scenario, idx: np.ndarray, code: np.ndarray,
    attachment: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Step 7's target L* of people idx for rival `code` (one each), with their view of it for S.

    `wV V + wS view + wT trust + wA A_k + wB B_k`, A_k the attachment to the rival (`update_rival_loyalty`). `offers`:
    each rival's quality and price (this tick's `lev.rivals`, or `sc.competitors` at the start). `attachment`: their
    attachment to it as the (K, N) row holds it, if the caller has gathered it already.
    """
    w = sc.loyalty.weights
    row = np.asarray(code, dtype=np.intp) - 1
    quality = np.array([rl.quality for rl in offers]).take(row)
    discount = np.array([1.0 - rl.price for rl in offers]).take(row)
    value = sc.purchase.value_price_weight * pop.price_sensitivity[idx]
    value *= discount
    value += quality  # a + b is b + a exactly: the order of the formula above, term by term
    clip_array(value, 0.0, 1.0, out=value)
    at = row * pop.n + idx  # view[code - 1, idx], as `_flat` does
    loyal = w.value * value
    loyal += w.satisfaction * market.view.reshape(-1).take(at)
    loyal += w.trust * market.trust.reshape(-1).take(at)
    loyal += w.attachment * (market.attachment.reshape(-1).take(at) if attachment is None else attachment)
    loyal += w.brand * market.reputation.take(row)
    return loyal


def rival_fit(pop: Population, market: Market, idx: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Each person's product fit with rival `code`: another person's fit with ours, picked by a hash of (rival, id).

    So a rival's fit has exactly the distribution of `population.fit` (any dist), independent of the fit with ours,
    fixed for the run, and needs no memory (the hash is dynamics.edge_uniforms, keyed per rival).
    """
    out = np.empty(idx.size)
    for c in range(1, market.k + 1):
        sel = np.flatnonzero(code == c)  # positions (bool indexing of a mixed mask costs a branch per element)
        if sel.size:
            pick = (edge_uniforms(int(market.fit_keys[c - 1]), idx[sel]) * pop.n).astype(np.int64)
            out[sel] = pop.fit[np.minimum(pick, pop.n - 1)]
    return out


def rival_utility(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, idx: np.ndarray | slice,
    reference_price: float, bought: np.ndarray, out: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """(K, len(idx)) log-odds of buying each rival (-inf where unknown).

    Three rows, by what a person has bought (`bought`: anything in the category, ours included):
    - a prospect of the category (bought nothing): the adoption terms with their view and trust of it, and the WOM
      term with their doubt of it (`_hold_rival_doubt`: tanh of the impression heard less the doubt, tanh(-doubt)
      for who heard nothing this tick), as ours has for its prospects;
    - a category buyer who never bought rival k: `category_buyer_logit`'s rule, the category buyer's intercept
      `purchase.adoption.intercept + competition.category_buyer` plus `purchase.winback.loyalty` x their loyalty
      target for k (`loyalty_target`), less the price term;
    - someone who bought rival k before and does not use it now: win-back log-odds `purchase.winback.*` with their
      loyalty to it, as everyone who bought ours and does not use it (CHURNED) has for ours.
    (Before 2026-12-04 a category buyer weighed a rival never bought by the adoption terms plus `category_buyer`,
    about -1 in log-odds for a satisfied buyer against win-back's -6 + 2 L for a brand bought before, so a brand's
    past clientele was a handicap and brands alike but in size converged: docs/model.md, Competition.)
    `idx`: sorted ids, or `slice(None)` (everyone: rows of the state arrays are read in place, not gathered); `out`
    receives the rows.
    """
    a, comp, wb = sc.purchase.adoption, sc.competition, sc.purchase.winback
    tried, using, knows = market.tried[idx], market.rival[idx], market.knows[idx]
    psi = pop.price_sensitivity[idx]
    out = np.empty((market.k, psi.size)) if out is None else out
    weighted_psi = sc.purchase.value_price_weight * psi
    buyer_intercept = a.intercept + comp.category_buyer
    # Terms that are exactly 0 for most people are skipped where they are (x + 0 is x; a zero's sign never
    # reaches the choice, which sees only exp(u)): the price terms at the reference price, WOM nobody heard.
    for c, rl in enumerate(lev.rivals, start=1):
        bit = np.uint8(1 << (c - 1))
        if rl.price == 1.0:  # the price gap of value is 0: the same value for everyone
            value = float(np.clip(rl.quality, 0.0, 1.0))
        else:
            value = np.clip(rl.quality + weighted_psi * (1.0 - rl.price), 0.0, 1.0)
        gap = price_gap(_priced(lev, rl.price), sc, reference_price)
        u = out[c - 1]
        np.add(a.intercept, a.expectation * market.view[c - 1][idx], out=u)  # a row, then a 1-D gather
        u += a.trust * market.trust[c - 1][idx]
        u += a.brand * market.reputation[c - 1]
        u += a.value * value
        u += a.wom * _rival_wom_term(market, mt, c, idx, u.size)
        if gap:
            u -= sc.purchase.price_response * gap * psi
        has_tried = (tried & bit) > 0
        new = np.flatnonzero(np.asarray(bought, dtype=bool) & ~has_tried)
        if new.size:
            target = loyalty_target(pop, market, lev.rivals, sc, _ids(idx, new), np.full(new.size, c))
            u[new] = buyer_intercept + wb.loyalty * target - sc.purchase.price_response * gap * psi[new]
        back = np.flatnonzero(has_tried & (using != c))
        if back.size:
            loyal = rival_loyalty(pop, market, lev, sc, _ids(idx, back), np.full(back.size, c))
            u[back] = wb.intercept + wb.loyalty * loyal - sc.purchase.price_response * gap * psi[back]
        np.copyto(u, -np.inf, where=(knows & bit) == 0)
    return out


def _rival_wom_term(market: Market, mt: MarketTick, code: int, idx: np.ndarray | slice, size: int) -> np.ndarray:
    """The WOM term of rival `code` for people idx (before its coefficient): the tick's `persuasion` for who heard
    about it, tanh(-doubt) for who did not and holds a doubt of it, 0 for the others (`_hold_rival_doubt`)."""
    term = np.zeros(size)
    if market.doubt is not None:
        doubt = market.doubt[code - 1][idx]
        held = np.flatnonzero(doubt)
        term[held] = np.tanh(-doubt[held].astype(np.float64))
    heard, persuasion = mt.heard[code - 1], mt.persuasion[code - 1]
    if isinstance(idx, slice):
        term[heard] = persuasion
    else:  # only where someone heard about it: their positions in idx (sorted, as every caller's is)
        at, found = _matches(idx, heard)
        term[at] = persuasion[found]
    return term


def _matches(idx: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the sorted `idx` of those of the sorted `ids` that are in it, and which of `ids` they are (a
    bool mask over `ids`; a binary search of the few)."""
    at = np.searchsorted(idx, ids)
    found = at < idx.size
    found[found] = idx[at[found]] == ids[found]
    return at[found], found


def _ids(idx: np.ndarray | slice, positions: np.ndarray) -> np.ndarray:
    """The people at `positions` of a selection `idx` (an index array, or slice(None) for everyone)."""
    return positions if isinstance(idx, slice) else idx[positions]


def _priced(lev: Levers, price: float) -> Levers:
    """A stand-in carrying only a price, for `price_gap` (which reads `lev.price`)."""
    return _Price(price)  # type: ignore[return-value]


@dataclass
class _Price:
    price: float


def _pick(utility: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Multinomial logit against a reference option of utility 0: the row (option) chosen, or -1 for the reference.

    `utility` is (options, people), one contiguous row per option, and is overwritten (a tick's temporary).
    P(j) = exp(u_j) / (1 + sum_l exp(u_l)) (McFadden 1974); one uniform per person picks among the options.
    """
    options, people = utility.shape
    cum = np.minimum(utility, 50.0, out=utility)
    np.exp(cum, out=cum)
    for row in range(1, options):  # np.cumsum over axis 0 in the same order, row by row (a 40th of its cost)
        np.add(cum[row - 1], cum[row], out=cum[row])
    cum /= 1.0 + cum[-1]
    pick = np.zeros(people, dtype=np.int8)  # at most MAX_COMPETITORS + 1 options
    for row in cum:  # a loop over the K + 1 options, each vectorised over people
        pick += u >= row
    pick[pick == options] = -1
    return pick


def _count_switches(mt: MarketTick, origin: np.ndarray, to: np.ndarray) -> None:
    """Add (from, to) pairs to this tick's switching matrix (codes -1 none, 0 ours, k rival k)."""
    size = mt.k + 2
    flat = (origin.astype(np.int64) + 1) * size + (to.astype(np.int64) + 1)
    mt.switches += np.bincount(flat, minlength=size * size).reshape(size, size)


def switch_away(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, customers: np.ndarray,
    reference_price: float,
) -> np.ndarray:  # fmt: skip
    """Our customers weigh every rival they know against staying (loyalty L, switching cost); returns those who stay.

    A customer who switches becomes CHURNED for us (churn tick t) and a customer of the rival this tick.
    """
    comp = sc.competition
    u = uniforms(mt, "switch", customers)  # one per customer, in the order of `customers`
    weighing = _switch_deciders(pop, market, lev, sc, mt, customers, u, reference_price)
    deciders = customers[weighing]
    util = rival_utility(pop, market, lev, sc, mt, deciders, reference_price, np.ones(deciders.size, dtype=bool))
    util -= comp.switching_cost + comp.stay_loyalty * pop.L[deciders]
    pick = _pick(util, u[weighing])
    leave = pick >= 0
    who, to = deciders[leave], pick[leave] + 1
    stays = np.ones(customers.size, dtype=bool)
    stays[np.flatnonzero(weighing)[leave]] = False
    pop.status[who] = CHURNED
    pop.churned_at[who] = mt.t
    market.rival[who] = to.astype(np.int8)
    market.last_brand[who] = OURS
    _count_switches(mt, np.full(who.size, OURS), to)
    mt.switched_out = int(who.size)
    mt.switched = np.zeros(pop.n, dtype=bool)
    mt.switched[who] = True
    _rival_bought(market, mt, who, to)
    return customers[stays]


def _switch_deciders(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, customers: np.ndarray,
    u: np.ndarray, reference_price: float,
) -> np.ndarray:  # fmt: skip
    """Bool per customer of ours: whose choice in `switch_away` can be a switch (the others stay in any case).
    `u`: their uniforms, one per customer.

    The bound of `_deciders` for our customers: one who heard nothing about a rival this tick and bought none (a
    category buyer for every rival) has, for every rival, at most the largest log-odds of a category buyer's rule
    for it (`_buyer_tops`; their sum of exps R_buyer), less the cost of leaving us, so their chance to switch is at
    most F / (1 + F) with F = R_buyer * exp(-(switching_cost + stay_loyalty * L)), raised by a relative 1e-6 (the
    rounding of exp of a sum against a product of exps is about 1e-15). With u at or above it `_pick` keeps them
    with us too; everyone else is decided exactly.
    """
    keep = _special(market, mt)[customers]
    rest = np.flatnonzero(~keep)  # positions, not `customers[~keep]`: see `_deciders`
    plain = customers[rest]
    bound = _plain_rival_terms(pop, market, lev, sc, mt, plain, reference_price) if plain.size else None
    if bound is None:
        return np.ones(customers.size, dtype=bool)
    comp = sc.competition
    f = bound[1] * np.exp(-(comp.switching_cost + comp.stay_loyalty * pop.L[plain]))
    keep[rest] = u[rest] < f / (1.0 + f) * (1.0 + 1e-6) + 1e-300
    return keep


def category_buyer_logit(
    pop: Population, lev: Levers, sc: Scenario, brand: float, idx: np.ndarray, reference_price: float
) -> np.ndarray:
    """Our log-odds for category buyers idx who never bought ours (a rival's customers and its lapsed buyers).

    The rule a category buyer weighs every brand they do not use by: the category buyer's intercept
    (`purchase.adoption.intercept + competition.category_buyer`, -6 by default, win-back's) plus
    `purchase.winback.loyalty` x their loyalty target for the brand, step 7's `L* = wV V + wS S + wT T + wA A + wB B`
    with E for S (they have not tried it: a rival's view stands for both), less the price term; `adoption_boost` as
    our adoption has it. So a brand they know well and think well of is as likely a choice as one they bought and
    liked (win-back, with the loyalty they kept), and the brand's reputation, their attachment and their views keep
    acting on experienced buyers: double jeopardy's stationary shares (Ehrenberg, Goodhardt & Barwise 1990; the
    Dirichlet model, Goodhardt, Ehrenberg & Chatfield 1984: a buyer's propensities toward brands are stable, the
    same for brands tried and not). Before 2026-12-04: our adoption log-odds plus `category_buyer`.
    """
    a, wb, w = sc.purchase.adoption, sc.purchase.winback, sc.loyalty.weights
    target = w.value * perceived_value(pop, lev, sc, idx)
    target += w.satisfaction * pop.E[idx]
    target += w.trust * pop.T[idx]
    target += w.attachment * pop.A[idx]
    target += w.brand * brand
    logit = a.intercept + sc.competition.category_buyer + wb.loyalty * target + _at(lev.adoption_boost, idx)
    gap = price_gap(lev, sc, reference_price)
    if gap:
        logit -= sc.purchase.price_response * gap * pop.price_sensitivity[idx]
    return logit


def choose(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, u: np.ndarray,
    aware: np.ndarray, logit_adopt: np.ndarray, churned: np.ndarray, logit_back: np.ndarray, reference_price: float,
    brand: float, candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Everyone in the market who does not use ours chooses among ours and the rivals they know, or stays put.

    Ours has this tick's adoption log-odds (`logit_adopt`, for AWARE prospects with a need), `category_buyer_logit`
    for those of them who buy a rival or lapsed from one (`brand`: our reputation this tick), or win-back log-odds
    (`logit_back`, CHURNED); each rival its `rival_utility`. A rival's customer weighs the others against staying
    with it (switching cost and stay_loyalty x their loyalty to it). Returns (adopters, returners) of ours; rival
    purchases are recorded. `candidates` (bool per person, from `can_buy`): only they can buy; `aware` need hold
    only the candidates.
    """
    comp, n = sc.competition, pop.n
    focal = np.full(n, -np.inf)
    focal[aware] = logit_adopt
    # A prospect of ours who buys a rival, or bought one and lapsed, buys in the category: the rule the rivals' rows
    # give every category buyer for a brand they never bought (`bought` below).
    buyers = aware[(market.rival[aware] > 0) | (market.last_brand[aware] > 0)]
    focal[buyers] = category_buyer_logit(pop, lev, sc, brand, buyers, reference_price)
    focal[churned] = logit_back
    in_market = pop.need & (pop.status != CUSTOMER) & ((pop.status != UNAWARE) | (market.knows > 0))
    if mt.switched is not None:
        in_market &= ~mt.switched
    if candidates is not None:
        in_market &= candidates
    in_market[_staying_users(pop, market, lev, sc, mt, focal, u, reference_price)] = False
    pool = _deciders(pop, market, lev, sc, mt, np.flatnonzero(in_market), focal, u, reference_price)
    # With most people in the market (the usual case) everyone's rows are computed in place and those outside get
    # -inf for every brand (so they pick the reference option): no gathers of a dozen arrays. Same numbers.
    dense = 2 * pool.size > n
    sel = slice(None) if dense else pool
    current = market.rival[sel].copy()  # int8 codes, copied: the state changes below
    last = market.last_brand[sel].copy()
    bought = (current > 0) | (last >= 0) | pop.experienced[sel]
    util = np.empty((market.k + 1, current.size))  # one row per option: ours, then the rivals
    util[0] = focal[sel]
    rival_utility(pop, market, lev, sc, mt, sel, reference_price, bought, out=util[1:])
    has = current > 0
    if dense:
        has &= in_market
        outside = ~in_market
        for row in util:
            np.copyto(row, -np.inf, where=outside)
    at = np.flatnonzero(has)
    util[current[at], at] = -np.inf  # staying is the reference option
    stay = comp.switching_cost + comp.stay_loyalty * rival_loyalty(pop, market, lev, sc, _ids(sel, at), current[at])
    util[:, at] -= stay  # x - 0 is x: only the rivals' customers pay the cost of leaving
    pick = _pick(util, u[sel])
    # The switching matrix: from the brand used now, or else the one bought last (none for a first purchase).
    bought_now = np.flatnonzero(pick >= 0)
    origin = np.where(has[bought_now], current[bought_now], last[bought_now])
    # `last_brand` is not the brand bought last after a lapse from ours (step 8 leaves it as it was before our
    # spell; the rivals' win-back rows read it so). One brand at a time: a CHURNED person whose last purchase of
    # ours is later than their last of a rival lapsed from ours (both -1, nothing bought in the run: tick 0's
    # `last_brand` is right).
    ids = _ids(sel, bought_now)
    lapsed_ours = pop.last_purchase[ids] > market.last_purchase[ids]
    lapsed_ours &= ~has[bought_now] & (pop.status[ids] == CHURNED)
    origin[lapsed_ours] = OURS
    _count_switches(mt, origin, pick[bought_now])
    to_ours = _ids(sel, np.flatnonzero(pick == 0))
    market.last_brand[to_ours] = np.where(market.rival[to_ours] > 0, market.rival[to_ours], market.last_brand[to_ours])
    market.rival[to_ours] = 0
    status = pop.status[to_ours]
    adopters, returners = to_ours[status == AWARE], to_ours[status == CHURNED]
    to_rival = np.flatnonzero(pick > 0)
    who, to = _ids(sel, to_rival), pick[to_rival]
    market.last_brand[who] = np.where(has[to_rival], current[to_rival], market.last_brand[who]).astype(np.int8)
    market.rival[who] = to.astype(np.int8)
    _rival_bought(market, mt, who, to)
    return adopters, returners


def _deciders(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, pool: np.ndarray, focal: np.ndarray,
    u: np.ndarray, reference_price: float,
) -> np.ndarray:  # fmt: skip
    """The people of `pool` whose choice can be a purchase: the others' answer is the reference option ("none").

    A person who uses no rival, lapsed from none, bought none and heard nothing about one this tick ("plain") has,
    for every rival, no win-back row: a prospect of the category (bought nothing, ours neither) the prospect's
    log-odds of `rival_utility`, each of its terms at most its largest over the plain (view), at the ends of psi's
    range [0, 1] (value, price) or 0 (a doubt's WOM term, with `adoption.wom` >= 0: `_rival_tops`); a buyer of ours
    the category buyer's rule, at most `_buyer_tops`. So R (R_new, R_buyer), the sum of exp(largest log-odds) over
    the rivals, bounds theirs, and their probability of buying anything, S / (1 + S) with S = exp(focal) + the
    rivals' terms, is at most (exp(focal) + R) / (1 + exp(focal) + R), raised by a relative 1e-6 (far above the
    rounding of the terms: about 1e-15 in float64; the float32 view term is rounded here as it is per person). A
    plain person whose uniform is at or above that picks the reference option in `_pick` too, so leaving them out
    changes no number; everyone else is decided exactly. As `fast._adoption_ceiling` does for our adoption. The
    prospects this keeps are then bounded again with their own views in place of the largest (`_own_view_bound`),
    from the views already gathered (a buyer's rows have no view term of the prospect's kind: R_buyer stands).
    """
    if not pool.size or not pop.price_sensitivity.size:
        return pool
    special = _special(market, mt)
    keep = special[pool]
    # Positions from the mask's nonzero, then gathers: indexing by a bool mask of about half True (as `keep` is) is
    # several times slower than that (a branch per element); the same elements in the same order.
    rest = np.flatnonzero(~keep)
    plain = pool[rest]
    bound = _plain_bound(pop, market, lev, sc, mt, plain, reference_price) if plain.size else None
    if bound is None:
        return pool
    bought = (market.last_brand[plain] == OURS) | pop.experienced[plain]
    ours = np.exp(np.minimum(focal[plain], 50.0))
    f = ours + np.where(bought, bound.r_buyer, bound.r_new)
    u_plain = u[plain]
    below = u_plain < f / (1.0 + f) * (1.0 + 1e-6) + 1e-300
    # Then, for the prospects of the category this keeps, the same bound with each one's own views: the largest
    # view over the plain is set by a few (about 0.8 against a median of 0.25 mid-run at 1M), so it keeps about four
    # times too many. It reads only what was gathered above; a per-person bound that gathers anew costs what
    # deciding exactly does. (A category buyer's rows do not have the view terms it bounds: R_buyer stands.)
    near = np.flatnonzero(below & ~bought)
    f = ours[near] + _own_view_bound(bound, sc, near, 0.0)
    below[near] = u_plain[near] < f / (1.0 + f) * (1.0 + 1e-6) + 1e-300
    keep[rest] = below
    return pool[np.flatnonzero(keep)]


def _staying_users(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, focal: np.ndarray, u: np.ndarray,
    reference_price: float,
) -> np.ndarray:  # fmt: skip
    """The rivals' customers whose choice in `choose` is sure to be staying with their rival (`choose` leaves them
    out of the market before `_deciders`).

    A customer of rival c who heard nothing about a rival this tick and has no win-back row for another rival
    (bought none but c) has, for each other rival j, at most the largest log-odds of a category buyer's rule for it
    (`_buyer_tops`), and ours its exact focal log-odds (`category_buyer_logit` for who never bought ours); every
    option costs them stay = switching_cost + stay_loyalty * their loyalty to c. So their chance to leave c is at
    most F / (1 + F), F = (exp(focal) + sum over j != c of exp(largest log-odds of j)) * exp(-stay), raised by the
    relative 1e-6 of `_deciders`. `_pick` caps each log-odds at 50 after the stay cost, which only lowers a term; a
    focal above 50 is left to the exact choice. With u at or above the bound they pick the reference option there too.

    Among the users at the start of the tick (the only rivals' customers in the market: our switchers are out of
    it), with the loyalty step 3 computed for them (`MarketTick.loyalty`: who heard nothing has the same views).
    """
    users, code = mt.start_users, mt.start_code
    # No win-back row for another rival: bought no rival but the one they use (`rival_utility`).
    sure = (market.tried[users] & ~(np.uint8(1) << (code - 1).astype(np.uint8))) == 0
    ours = focal[users]  # gathered once: read again below for those who pass
    sure &= ours <= 50.0
    sure &= ~_heard_any(mt, pop.n)[users]
    at = np.flatnonzero(sure)
    users, code, loyal, ours = users[at], code[at].astype(np.int64), mt.loyalty[at], ours[at]
    # Views, trusts and attachments are in [0, 1] (each update moves them within it), so the buyer's rule is bounded
    # at their ends without a gather.
    tops = _buyer_tops(market, lev, sc, reference_price) if users.size else None
    if tops is None:
        return np.zeros(0, dtype=np.intp)
    comp = sc.competition
    terms = np.exp(tops)
    if not np.isfinite(terms).all():
        return np.zeros(0, dtype=np.intp)
    others = np.array([terms[np.arange(terms.size) != c].sum() for c in range(terms.size)])  # rivals but c
    stay = comp.switching_cost + comp.stay_loyalty * loyal
    f = (np.exp(ours) + others[code - 1]) * np.exp(-stay)
    ceiling = f / (1.0 + f) * (1.0 + 1e-6) + 1e-300
    return users[u[users] >= ceiling]


def _heard_any(mt: MarketTick, n: int) -> np.ndarray:
    """Bool per person: heard about some rival this tick (set once, after step 4; part of `_special`)."""
    if mt.heard_any is None:
        mt.heard_any = np.zeros(n, dtype=bool)
        for heard in mt.heard:
            mt.heard_any[heard] = True
    return mt.heard_any


def can_buy(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, u: np.ndarray, focal_hi: float,
    reference_price: float,
) -> np.ndarray | None:  # fmt: skip
    """Bool per person: who can buy any brand this tick, given that `focal_hi` bounds the adoption log-odds of ours
    of every prospect who heard nothing about ours this tick (None: no bound, anyone can).

    The bound of `_deciders` with one number for everyone: a person who is not special there, has never bought
    (not experienced, not a lapsed customer of ours, not CHURNED: win-back log-odds) and heard nothing about ours
    has focal log-odds at most `focal_hi` and the prospect's rows (`_rival_tops`), so their chance to buy anything
    is at most C = F / (1 + F), F = exp(focal_hi) + R (raised by the same relative 1e-6). With u >= C they pick the
    reference option; the fast tick computes our log-odds and the choice only for the others (and for who heard
    about ours, which it adds).
    """
    if not np.isfinite(focal_hi):
        return None
    # Who is not plain, built in place (a pass over N per term, no temporaries beyond the terms themselves).
    decided = _special(market, mt) | pop.experienced
    decided |= market.last_brand == OURS
    decided |= pop.status == CHURNED
    # The view term at its largest over everyone, a superset of the plain: a contiguous max instead of a gather of
    # most of N (a tenth of its cost at 1M), and no looser where someone plain holds the largest view (the usual
    # case once WOM flows: about 1 for each rival, measured). The bound only sorts who is decided exactly.
    bound = _plain_rival_terms(pop, market, lev, sc, mt, slice(None), reference_price)
    if bound is None:
        return None
    f = float(np.exp(min(focal_hi, 50.0))) + bound[0]
    ceiling = f / (1.0 + f) * (1.0 + 1e-6) + 1e-300
    if ceiling >= 1.0:
        return None
    return np.logical_or(decided, u < ceiling, out=decided)


def _special(market: Market, mt: MarketTick) -> np.ndarray:
    """Bool per person: uses a rival, lapsed from one, ever bought one (a win-back row) or heard about one this tick
    (their rows have more terms).

    Computed once in step 5, at its first use, and kept: the only change of brand before the last use is our
    customers' switching (`switch_away`), and the switchers leave the market of that tick's choice.
    """
    if mt.special is None:
        mt.special = (market.rival > 0) | (market.last_brand > 0) | (market.tried > 0)
        mt.special |= _heard_any(mt, market.rival.size)
    return mt.special


def _plain_rival_terms(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, plain: np.ndarray,
    reference_price: float,
) -> tuple[float, float] | None:  # fmt: skip
    """(R_new, R_buyer): the sum over rivals of exp(the largest log-odds of buying it) for the `plain` people
    (index array, bool mask or slice(None) for everyone) who bought nothing in the category (the adoption terms),
    and for those who did (a category buyer's rule, `_buyer_tops`); None where a term is not finite."""
    tops = _rival_tops(pop, market, lev, sc, mt, plain, reference_price)
    buyer_tops = _buyer_tops(market, lev, sc, reference_price)
    if tops is None or buyer_tops is None:
        return None
    return _exp_sum(tops), _exp_sum(buyer_tops)


def _exp_sum(tops: np.ndarray) -> float:
    """The sum over rivals of exp(log-odds), each capped at 50 before exp as `_pick` caps."""
    return sum(float(np.exp(min(top, 50.0))) for top in tops)


def _buyer_tops(market: Market, lev: Levers, sc: Scenario, reference_price: float) -> np.ndarray | None:
    """(K,): each rival's largest log-odds under a category buyer's rule for a rival never bought
    (`rival_utility`), over anyone; None where not finite.

    `adoption.intercept + category_buyer + winback.loyalty * L* - price term`, L* = `loyalty_target`: its view, trust
    and attachment terms each at the end of [0, 1] that is largest for the sign of the product (the upper end raised
    by 1e-6 for a float32 rounding above 1), value and price at the ends of psi's range [0, 1], the reputation
    exact; then L* at the end of its range that is largest for the sign of `winback.loyalty`.
    """
    a, wb, w = sc.purchase.adoption, sc.purchase.winback, sc.loyalty.weights
    intercept = a.intercept + sc.competition.category_buyer
    psi_ends = (0.0, 1.0)
    states_lo = sum(min(coef * (1.0 + 1e-6), 0.0) for coef in (w.satisfaction, w.trust, w.attachment))
    states_hi = sum(max(coef * (1.0 + 1e-6), 0.0) for coef in (w.satisfaction, w.trust, w.attachment))
    tops = np.full(market.k, -np.inf)
    for c, rl in enumerate(lev.rivals, start=1):
        weighted = sc.purchase.value_price_weight * (1.0 - rl.price)
        values = [w.value * float(np.clip(rl.quality + weighted * p, 0.0, 1.0)) for p in psi_ends]
        brand = w.brand * float(market.reputation[c - 1])
        target_lo, target_hi = min(values) + states_lo + brand, max(values) + states_hi + brand
        gap = price_gap(_priced(lev, rl.price), sc, reference_price)
        price_hi = max(-sc.purchase.price_response * gap * p for p in psi_ends) if gap else 0.0
        tops[c - 1] = intercept + max(wb.loyalty * target_lo, wb.loyalty * target_hi) + price_hi
        if not np.isfinite(tops[c - 1]):
            return None
    return tops


@dataclass
class _PlainBound:
    """`_plain_rival_terms` of some plain people, with what a per-person bound of the same people reuses: the views
    and trusts gathered for the largest (one row per rival each, aligned with the people) and the other terms."""

    r_new: float
    r_buyer: float
    views: list[np.ndarray]
    trusts: list[np.ndarray]
    view_free: np.ndarray  # (K,): `_rival_tops` without the view and trust terms


def _plain_bound(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, plain: np.ndarray,
    reference_price: float,
) -> _PlainBound | None:  # fmt: skip
    """`_plain_rival_terms(plain)` (plain: a non-empty index array), keeping the views and trusts it gathers."""
    view_free = _rival_tops(pop, market, lev, sc, mt, None, reference_price, with_view=False)
    if view_free is None:
        return None
    a = sc.purchase.adoption
    views = [market.view[c][plain] for c in range(market.k)]  # a gather and max: 5x a masked max
    trusts = [market.trust[c][plain] for c in range(market.k)]
    # Each term at its largest over them, float32 as each person's term is (`_rival_tops`).
    largest = lambda coef, row: float((row.max() if coef >= 0 else row.min()) * coef)  # noqa: E731
    tops = view_free + np.array(
        [largest(a.expectation, v) + largest(a.trust, tr) for v, tr in zip(views, trusts, strict=True)]
    )
    if not np.isfinite(tops).all():
        return None
    buyer_tops = _buyer_tops(market, lev, sc, reference_price)
    if buyer_tops is None:
        return None
    return _PlainBound(_exp_sum(tops), _exp_sum(buyer_tops), views, trusts, view_free)


def _own_view_bound(
    bound: _PlainBound, sc: Scenario, at: np.ndarray, shift: np.ndarray | float
) -> np.ndarray:  # fmt: skip
    """For the plain people at positions `at` of `bound`'s: the sum over rivals of exp(an upper bound of their
    log-odds of buying it, plus `shift`), capped at 50 before exp as `_pick` caps.

    The bound of `_plain_rival_terms` with each one's own view and trust in place of the largest over the plain
    (each term as `rival_utility` computes it, a float32 product added in float64; value and price at the ends of
    psi's range; a rival they do not know counted too, so it stays a bound). `shift`: what the caller adds to each
    rival's log-odds (0 for the category's prospects `_deciders` bounds). It reads only the rows `bound` gathered:
    no gather from (K, N).
    """
    a = sc.purchase.adoption
    total = np.zeros(at.size)
    for view, trust, free in zip(bound.views, bound.trusts, bound.view_free, strict=True):
        term = (a.expectation * view[at]).astype(np.float64)  # float32 products, as each person's terms are
        term += a.trust * trust[at]
        term += free + shift
        np.minimum(term, 50.0, out=term)
        total += np.exp(term, out=term)
    return total


def _rival_tops(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, people: np.ndarray | slice | None,
    reference_price: float, with_view: bool = True,
) -> np.ndarray | None:  # fmt: skip
    """(K,): each rival's largest log-odds of `rival_utility`'s prospect row over `people` (index array, bool mask or
    slice(None) for everyone) who heard nothing about it this tick (-inf for a rival none of them has a view of);
    None where not finite. Category buyers' and win-back rows are not these (`_buyer_tops` bounds the first).

    Each term at its largest: the view and the trust each at its largest over the people (float32, rounded as each
    person's term is; `people` None: the largest possible, 1, raised by 1e-6 for a float32 rounding above 1),
    value and price at the ends of psi's range [0, 1], a doubt's WOM term at its largest. `with_view` False: without
    the view and trust terms (`_own_view_bound` adds each person's own).
    """
    a = sc.purchase.adoption
    # Price sensitivity lies in [0, 1] (drawn clipped to it, a people file's values checked against it:
    # population.draw_unit, scenario.people), so its ends bound the value and price terms without a pass over N.
    psi_lo, psi_hi = 0.0, 1.0
    # A doubt's WOM term, tanh(-doubt) in (-1, 0], only lowers the log-odds when `adoption.wom` >= 0 (0 is its
    # largest); with a negative coefficient it adds less than -wom.
    doubt_hi = max(-a.wom, 0.0)
    tops = np.full(market.k, -np.inf)
    for c, rl in enumerate(lev.rivals, start=1):
        view_hi, nobody = 0.0, False  # the expectation and trust terms, each at its largest
        for coef, state in ((a.expectation, market.view), (a.trust, market.trust)):
            if not with_view:
                break
            if people is None:
                view_hi += coef * (1.0 + 1e-6) if coef >= 0 else 0.0
                continue
            row = state[c - 1][people]  # a gather and max: 5x a masked max
            nobody = not row.size
            if nobody:
                break
            view_hi += float((row.max() if coef >= 0 else row.min()) * coef)  # float32, as each person's term is
        if nobody:
            continue
        w = sc.purchase.value_price_weight * (1.0 - rl.price)
        value_hi = max(a.value * float(np.clip(rl.quality + w * p, 0.0, 1.0)) for p in (psi_lo, psi_hi))
        gap = price_gap(_priced(lev, rl.price), sc, reference_price)
        price_hi = max(-sc.purchase.price_response * gap * p for p in (psi_lo, psi_hi)) if gap else 0.0
        tops[c - 1] = a.intercept + view_hi + a.brand * market.reputation[c - 1] + value_hi + price_hi + doubt_hi
        if not np.isfinite(tops[c - 1]):
            return None
    return tops


def rival_repurchase(
    pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick, reference_price: float
) -> None:
    """A rival's customers who did not switch this tick rebuy it like ours: repurchase log-odds with their view."""
    rp = sc.purchase.repurchase
    fresh = np.zeros(pop.n, dtype=bool)
    for who in mt.buyers:
        fresh[who] = True
    # Who uses a rival and bought none this tick: a user at the start who still is one (everyone else using a rival
    # now bought it in step 5).
    start = mt.start_users
    still = np.flatnonzero((market.rival[start] > 0) & ~fresh[start])
    users, code = start[still], mt.start_code[still].astype(np.int64)
    mt.users = np.concatenate([users, *mt.buyers])  # and step 5's new users (the only purchases so far)
    loyal = mt.loyalty[still]  # as step 3 read it (it moves in step 7)
    prices = np.array([rl.price for rl in lev.rivals])
    gaps = np.array([price_gap(_priced(lev, p), sc, reference_price) for p in prices])
    logit = (
        rp.intercept + rp.loyalty * loyal - (sc.purchase.price_response * gaps[code - 1] * pop.price_sensitivity[users])
    )
    buy = uniforms(mt, "repurchase", users) < logistic(logit)
    _rival_bought(market, mt, users[buy], code[buy])


def _rival_bought(market: Market, mt: MarketTick, who: np.ndarray, to: np.ndarray) -> None:
    """Remember this tick's rival purchases (experience comes in step 6)."""
    mt.buyers.append(who)
    mt.bought.append(to.astype(np.int64))


# --------------------------------------------------------------------------------------------- step 6
def experience_rivals(pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick) -> None:
    """Rival purchases: experienced quality, failures (recovered at `recovery.coverage`), disconfirmation of the view.

    The view plays the role of S (and of E in the disconfirmation): a first purchase from the rival sets it to the
    disconfirmation target, a repeat pulls it there at `experience.satisfaction_rate`; trust follows step 6's
    rule (`_lived`, `dynamics.disconfirm`).
    """
    ex = sc.experience
    market.failed[:] = False
    if not mt.buyers:
        return
    buyers, code = (np.concatenate(parts) for parts in (mt.buyers, mt.bought))
    bit = (np.uint8(1) << (code - 1).astype(np.uint8)).astype(np.uint8)
    first = (market.tried[buyers] & bit) == 0  # a first purchase ever of the rival, as ours is `~experienced`
    mt.debut = _flat(code[first], buyers[first], pop.n)
    market.tried[buyers] |= bit
    quality = np.array([rl.quality for rl in lev.rivals])[code - 1]
    fail = np.array([rl.service_failure for rl in lev.rivals])[code - 1]
    z = ndtri(clip_array(uniforms(mt, "quality", buyers), 1e-12, 1 - 1e-12))
    x = clip_array(quality + rival_fit(pop, market, buyers, code) + ex.noise * z, 0.0, 1.0)
    uf = uniforms(mt, "failure", buyers)
    failed = uf < fail
    recovered = uf < fail * ex.recovery.coverage  # a failure is recovered with probability `recovery.coverage`
    loss = np.where(recovered, ex.failure_penalty * (1 - ex.recovery.effectiveness), ex.failure_penalty)
    x = np.where(failed, np.maximum(0.0, x - loss), x)
    flat = _flat(code, buyers, pop.n)
    view = market.view.reshape(-1).take(flat).astype(np.float64)
    trust = market.trust.reshape(-1).take(flat).astype(np.float64)
    view, trust = _lived(ex, x, view, trust, first, failed & ~recovered)
    # `view` is C-contiguous (init_market), so its flat reshape is a view: a 1-D scatter, no 2-D fancy indexing.
    market.view.reshape(-1)[flat] = view
    market.trust.reshape(-1)[flat] = trust
    market.failed[buyers[failed & ~recovered]] = True
    market.last_purchase[buyers] = mt.t
    spend = pop.spend[buyers]
    prices = np.array([rl.price for rl in lev.rivals])
    margins = np.array([c.margin for c in sc.competitors])
    k = market.k
    mt.purchases = np.bincount(code - 1, minlength=k).astype(np.float64)
    mt.revenue = np.bincount(code - 1, weights=spend * prices[code - 1], minlength=k)
    mt.cost_of_goods = np.bincount(code - 1, weights=spend * (1 - margins[code - 1]), minlength=k)


# --------------------------------------------------------------------------------------------- step 8
def churn_rivals(pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick) -> None:
    """A rival's customers lapse with step 8's hazard, their loyalty to it in place of L; they then use no brand."""
    ch = sc.churn
    users = mt.users  # everyone using a rival now (step 5 set it; steps 6-8 change no brand before here)
    written = None
    if mt.moved_loyalty is not None and mt.moved_loyalty[0] is users:  # after step 7, as it wrote them
        _, code, written = mt.moved_loyalty
        loyal = written.astype(np.float64)
    else:
        code = market.rival[users].astype(np.int64)
        loyal = rival_loyalty(pop, market, lev, sc, users, code)  # after step 7 (`update_rival_loyalty`)
    # Negative WOM heard about their rival, 0 for who heard nothing about any rival this tick (most of them): read
    # from the (K, N) rows only for the others (`heard_negative` is written only where someone heard).
    heard_negative = np.zeros(users.size, dtype=mt.heard_negative.dtype)
    heard = np.flatnonzero(_heard_any(mt, pop.n)[users])
    heard_negative[heard] = mt.heard_negative.reshape(-1).take(_flat(code[heard], users[heard], pop.n))
    hazard = (
        ch.base_hazard * np.exp(-ch.loyalty_slope * (loyal - ch.reference_loyalty))
        * (1.0 + ch.negative_wom * heard_negative)
        * (1.0 + ch.failure_multiplier * market.failed[users])
    )  # fmt: skip
    lapse = uniforms(mt, "churn", users) < -np.expm1(-hazard)
    leave = users[lapse]
    market.last_brand[leave] = market.rival[leave]
    market.rival[leave] = 0
    stay = np.flatnonzero(~lapse)
    mt.users = users[stay]
    # Who stays keeps their rival and the loyalty step 7 wrote (for the metrics).
    mt.moved_loyalty = None if written is None else (mt.users, code[stay], written[stay])


def update_rival_loyalty(pop: Population, market: Market, lev: Levers, sc: Scenario, mt: MarketTick) -> None:
    """Step 7 for a rival's customers (everyone using one after step 6): loyalty toward its target, then attachment.

    `dynamics.update_loyalty`'s rules: L pulled toward L* at `loyalty.rate`, set at L* by a first purchase ever of
    the rival (as a customer of ours who adopted this tick starts at L*); then `A += spread_gain * spoke_positive
    (1 - A) - decay A`, spoke_positive about the rival they use. Before 2026-12-04 a rival's loyalty was L* at
    every moment, and its attachment the person's attachment to ours, which grows only while they use ours.
    """
    users = mt.users
    if not users.size:
        return
    code = market.rival[users].astype(np.int64)
    flat = _flat(code, users, pop.n)
    attached = market.attachment.reshape(-1).take(flat)  # read by the target, then moved below
    target = loyalty_target(pop, market, lev.rivals, sc, users, code, attached)
    rate = np.full(users.size, sc.loyalty.rate)
    if mt.debut is not None and mt.debut.size:
        # np.isin(flat, debut) by a table over the (K, N) positions: a scatter and a gather instead of the sort
        # np.isin falls back to for a few debuts among many users (about 20 ms a tick at 1M).
        debut = np.zeros(market.view.size, dtype=bool)
        debut[mt.debut] = True
        rate[debut[flat]] = 1.0
    loyal = market.loyalty.reshape(-1).take(flat).astype(np.float64)
    loyal = clip_array(pull(loyal, target, rate), 0.0, 1.0).astype(np.float32)  # as the float32 row holds it
    market.loyalty.reshape(-1)[flat] = loyal
    mt.moved_loyalty = (users, code, loyal)  # for step 8, which reads these users' loyalty again
    at = sc.loyalty.attachment
    attached = attached.astype(np.float64)
    spoke = mt.praised[users] == code if mt.praised is not None else np.zeros(users.size, dtype=bool)
    attached = attached + at.spread_gain * spoke * (1.0 - attached) - at.decay * attached
    market.attachment.reshape(-1)[flat] = clip_array(attached, 0.0, 1.0)


# --------------------------------------------------------------------------------------------- step 9
def update_rival_brands(market: Market, lev: Levers, sc: Scenario, mt: MarketTick, st: TickState) -> None:
    """Each rival's reputation moves toward its quality and the positive share of the talk about it (step 9)."""
    qw, rate = sc.brand.reputation_quality_weight, sc.brand.reputation_rate
    for c, rl in enumerate(lev.rivals, start=1):
        pos, neg = mt.pos_messages[c - 1], mt.neg_messages[c - 1]
        voice = pos / (pos + neg) if pos + neg else market.reputation[c - 1]
        target = qw * rl.quality + (1 - qw) * voice
        market.reputation[c - 1] = float(np.clip(pull(market.reputation[c - 1], target, rate) + rl.brand_lift, 0, 1))
    cheapest = min(rl.price for rl in lev.rivals)
    market.undercut_ticks = market.undercut_ticks + 1 if cheapest < lev.price else 0
    market.cumulative += mt.switches
    market.history.append(mt.switches)


# --------------------------------------------------------------------------------------------- metrics
def market_metrics(pop: Population, market: Market | None, st: TickState, lev: Levers, row: dict,
                   mt: MarketTick | None, sc: Scenario) -> dict:  # fmt: skip
    """The competition columns (docs/model.md, 10): shares of buyers, purchases and voice; per-rival columns.

    Without rivals our shares are 1 (0 when there is nothing to share) and nothing switches.
    """
    ours_c, ours_p = row["customers"], row["purchases"]
    ours_pos, ours_neg = row["pos_messages"], row["neg_messages"]
    if market is None:
        return {
            "market_share": 1.0 if ours_c else 0.0, "purchase_share": 1.0 if ours_p else 0.0,
            "voice_share_pos": 1.0 if ours_pos else 0.0, "voice_share_neg": 1.0 if ours_neg else 0.0,
            "switch_in": 0, "switch_out": 0, "rival_customers": 0, "rival_price_ratio": 1.0, "rival_undercut_ticks": 0,
        }  # fmt: skip
    k = market.k
    users_now = mt.users  # who uses a rival now, kept by the tick's steps (no pass over N)
    loyal_now = None
    if mt.moved_loyalty is not None and mt.moved_loyalty[0] is users_now:  # their rival and loyalty, from step 8
        _, code_now, loyal_now = mt.moved_loyalty
    else:
        code_now = market.rival[users_now]
    users = np.bincount(code_now, minlength=k + 1)[1:]
    all_c, all_p = ours_c + users.sum(), ours_p + mt.purchases.sum()
    all_pos, all_neg = ours_pos + mt.pos_messages.sum(), ours_neg + mt.neg_messages.sum()
    share = lambda a, b: float(a / b) if b else 0.0  # noqa: E731
    out = {
        "market_share": share(ours_c, all_c), "purchase_share": share(ours_p, all_p),
        "voice_share_pos": share(ours_pos, all_pos), "voice_share_neg": share(ours_neg, all_neg),
        "switch_in": int(mt.switches[2:, OURS + 1].sum()), "switch_out": int(mt.switches[OURS + 1, 2:].sum()),
        "rival_customers": int(users.sum()),
        "rival_price_ratio": min(rl.price for rl in lev.rivals) / lev.price,
        "rival_undercut_ticks": market.undercut_ticks,
    }  # fmt: skip
    # Who left each rival this tick (for `lost`): the users at the start whose brand is another now.
    left = mt.start_code[market.rival[mt.start_users] != mt.start_code]
    for c, name in enumerate(market.names, start=1):
        at = np.flatnonzero(code_now == c)
        mine = users_now[at]
        loyal = market.loyalty[c - 1][mine] if loyal_now is None else loyal_now[at]  # float32 either way
        # The recommend score of ours (metrics.recommend_score) with the view for S: R on 0-10.
        w = sc.nps
        mixed = w.satisfaction * market.view[c - 1][mine].astype(np.float64)
        mixed += w.trust * market.trust[c - 1][mine] + w.loyalty * loyal
        score = np.floor(10.0 * mixed + 0.5)
        m = max(score.size, 1)
        p = f"rival_{name}_"
        out.update({
            p + "customers": int(users[c - 1]),
            p + "lost": int(np.count_nonzero(left == c)),
            p + "market_share": share(users[c - 1], all_c),
            p + "purchases": int(mt.purchases[c - 1]), p + "purchase_share": share(mt.purchases[c - 1], all_p),
            p + "revenue": float(mt.revenue[c - 1]), p + "profit": float(mt.revenue[c - 1] - mt.cost_of_goods[c - 1]),
            p + "voice_share_pos": share(mt.pos_messages[c - 1], all_pos),
            p + "voice_share_neg": share(mt.neg_messages[c - 1], all_neg),
            p + "nps": 100.0 * (np.count_nonzero(score >= 9) - np.count_nonzero(score <= 6)) / m,
            p + "brand": float(market.reputation[c - 1]), p + "price": float(lev.rivals[c - 1].price),
        })  # fmt: skip
    return out


@dataclass
class Choice:
    """Step 5's brand choice for `dynamics.purchase` (which cannot import this module): this tick's arguments."""

    pop: Population
    market: Market
    lev: Levers
    sc: Scenario
    mt: MarketTick
    u: np.ndarray  # the purchase stream's uniform (ours and a rival are one choice for someone not using ours)
    reference_price: float
    brand: float  # our reputation this tick (`category_buyer_logit`)
    candidates: np.ndarray | None = None  # set by `can_buy` (the fast tick): who can buy anything this tick

    def can_buy(self, focal_hi: float) -> np.ndarray | None:
        self.candidates = can_buy(self.pop, self.market, self.lev, self.sc, self.mt, self.u, focal_hi,
                                  self.reference_price)  # fmt: skip
        return self.candidates

    def stay(self, customers: np.ndarray) -> np.ndarray:
        return switch_away(self.pop, self.market, self.lev, self.sc, self.mt, customers, self.reference_price)

    def choose(self, aware, logit_adopt, churned, logit_back) -> tuple[np.ndarray, np.ndarray]:
        return choose(self.pop, self.market, self.lev, self.sc, self.mt, self.u, aware, logit_adopt, churned,
                      logit_back, self.reference_price, self.brand, self.candidates)  # fmt: skip
