"""The tick: one short vectorised function per step of docs/model.md. No Python loop over people or edges.

Each step takes the population, this tick's levers, the parameters it needs and its own pre-drawn uniforms, and
records what the metrics need in a `TickState`. Random numbers are drawn by the caller (`model.py`) as full
length-N arrays per stream, so the count of draws never depends on the state (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from wom_sim.network.graph import Graph
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import ADVERTISING, AWARE, CHURNED, CUSTOMER, KOL, REFERRAL, UNAWARE, WOM, Population

_EMPTY_I = np.zeros(0, dtype=np.int64)


@dataclass
class Deliveries:
    """Messages of one valence delivered this tick: sender and receiver of each.

    `firsthand` (bool) and `content` (the satisfaction the message voices, 0-1) are per message; None means
    every message is first-hand and voices its sender's S if experienced, else the valence (1 or 0).
    """

    src: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    dst: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    speakers: int = 0
    firsthand: np.ndarray | None = None
    content: np.ndarray | None = None


@dataclass
class TickState:
    """What one tick produced, for the metrics and the next steps."""

    t: int
    n: int
    customers_start: int = 0  # customers before the purchase step (repurchase rate denominator)
    customers_exposed: int = 0  # customers facing the churn hazard (churn rate denominator)
    positive: Deliveries = field(default_factory=Deliveries)
    negative: Deliveries = field(default_factory=Deliveries)
    kol_positive_messages: int = 0
    pos_reach: int = 0  # distinct people who heard a positive message
    neg_reach: int = 0
    spoke_positive: np.ndarray | None = None
    impact: np.ndarray | None = None
    persuasion: np.ndarray | None = None  # WOM term of the adoption logit (impression with doubt, `hold_doubt`)
    heard_negative: np.ndarray | None = None  # credibility-weighted W-
    referred: np.ndarray | None = None
    referrer: np.ndarray | None = None
    adopted: np.ndarray | None = None
    repurchased: np.ndarray | None = None
    won_back: np.ndarray | None = None
    revenue: float = 0.0
    cost_of_goods: float = 0.0
    failures: int = 0
    recoveries: int = 0
    unrecovered: np.ndarray | None = None
    churned: np.ndarray | None = None
    at_risk: int = 0


# --------------------------------------------------------------------------------------------- random helpers
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def edge_uniforms(key: int, edge_ids: np.ndarray) -> np.ndarray:
    """Uniform(0,1) per edge from a counter-based hash (splitmix64) of (key, edge id).

    The same key and edge give the same number whoever else is talking, so message delivery keeps common random
    numbers between a treatment and its baseline (a stream draw per delivered edge would not).
    """
    x = edge_ids.astype(np.uint64)
    np.multiply(x, _GOLDEN, out=x)
    np.add(x, np.uint64(key), out=x)
    np.bitwise_xor(x, x >> np.uint64(30), out=x)
    np.multiply(x, _MIX1, out=x)
    np.bitwise_xor(x, x >> np.uint64(27), out=x)
    np.multiply(x, _MIX2, out=x)
    np.bitwise_xor(x, x >> np.uint64(31), out=x)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def logistic(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z))."""
    return 1.0 / (1.0 + np.exp(-z))


def pull(x: np.ndarray, target: np.ndarray | float, rate: np.ndarray | float) -> np.ndarray:
    """x moved toward target by share `rate` of the gap."""
    return x + rate * (target - x)


def toward_valence(x: np.ndarray, impact: np.ndarray, rate: float) -> np.ndarray:
    """Move x up toward 1 for positive impact, down toward 0 for negative, in proportion to |impact|."""
    return x + rate * (np.maximum(impact, 0.0) * (1.0 - x) - np.maximum(-impact, 0.0) * x)


# --------------------------------------------------------------------------------------------- step 1
def apply_shocks(pop: Population, brand: float, lev: Levers) -> float:
    """Immediate effects of events: reputation, trust and expectation shocks. Returns the new B."""
    if lev.trust_shock:
        aware = pop.status != UNAWARE
        pop.T[aware] *= 1.0 - lev.trust_shock
    if lev.expectation_shift:
        never = ~pop.experienced
        pop.E[never] = np.clip(pop.E[never] + lev.expectation_shift, 0.0, 1.0)
    return brand * (1.0 - lev.brand_shock)


# --------------------------------------------------------------------------------------------- step 2
def advertise(pop: Population, lev: Levers, sc: Scenario, u: np.ndarray, u_need: np.ndarray | None = None) -> None:
    """Ads reach never-experienced people: awareness, last touch, expectation pulled toward the claim.

    With `advertising.need_creation` an ad may also give a person the need for the category (`u_need`, the
    `need` stream): the market potential expands instead of only filling faster.
    """
    reached = ~pop.experienced & (u < lev.ad_reach)
    pop.status[reached & (pop.status == UNAWARE)] = AWARE
    pop.last_touch[reached] = ADVERTISING
    claim = lev.claim if np.ndim(lev.claim) == 0 else lev.claim[reached]  # per person under a targeted campaign
    pop.E[reached] = pull(pop.E[reached], claim, sc.advertising.expectation_pull)
    if u_need is not None and sc.advertising.need_creation > 0:
        pop.need[reached & (u_need < sc.advertising.need_creation)] = True


# --------------------------------------------------------------------------------------------- step 3
def novelty(pop: Population, sc: Scenario, idx: np.ndarray, t: int) -> np.ndarray | float:
    """Share of own-talk propensity left `age` ticks after the last purchase (age 0: the tick after it).

    `floor + (1 - floor) (1 - novelty_decay)^age` (docs/model.md step 3): talk follows recent experience.
    """
    wom = sc.wom
    if wom.talk_floor >= 1.0 or wom.novelty_decay <= 0.0:
        return 1.0
    age = np.maximum(t - 1 - pop.last_purchase[idx], 0)
    return wom.talk_floor + (1.0 - wom.talk_floor) * (1.0 - wom.novelty_decay) ** age


def talk_probabilities(
    pop: Population, lev: Levers, sc: Scenario, t: int = 0, quiet: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-person probability of positive and of negative WOM this tick (zero for the never-experienced).

    `quiet` (bool, with competitors): people who now use a rival, who talk about that brand instead of ours.
    """
    wom = sc.wom
    p_pos, p_neg = np.zeros(pop.n), np.zeros(pop.n)
    # Only the experienced talk; computing on their indices keeps the cost proportional to them.
    talks = pop.experienced if quiet is None else pop.experienced & ~quiet
    fans = np.flatnonzero(talks & (pop.S >= wom.positive_threshold))
    S = pop.S[fans]
    shape = S * np.sqrt(S) if wom.satisfaction_elasticity == 1.5 else S**wom.satisfaction_elasticity
    rate = pop.talkativeness[fans] * (wom.positive_rate * _at(lev.talk_multiplier, fans)) * novelty(pop, sc, fans, t)
    p_pos[fans] = np.minimum(1.0, rate * shape * (1.0 + wom.loyalty_boost * pop.L[fans]))
    theta = wom.negative_threshold
    critics = np.flatnonzero(talks & (pop.S < theta))
    gap = (theta - pop.S[critics]) / theta
    rate = pop.talkativeness[critics] * wom.negative_rate * novelty(pop, sc, critics, t)
    p_neg[critics] = np.minimum(1.0, rate * gap**wom.negative_exponent)
    # A failure adds talk for the share of last tick it went unrecovered (1, or less when recovered within it).
    failed = np.flatnonzero((pop.failed_last > 0) & talks)
    p_neg[failed] = 1.0 - (1.0 - p_neg[failed]) * (1.0 - wom.failure_talk * pop.failed_last[failed])
    return p_pos, p_neg


def choose_speakers(
    pop: Population, lev: Levers, p_pos: np.ndarray, p_neg: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One draw per person picks negative, positive or silence; forwarders and forced posts join in.

    Returns the positive and negative speakers and, of each, who speaks first-hand (own talk or a forced post,
    as opposed to only retelling what they heard).
    """
    own_neg = u < p_neg
    own_pos = ~own_neg & (u < p_neg + p_pos)
    first_pos, first_neg = own_pos.copy(), own_neg.copy()
    if lev.forced_positive is not None:
        first_pos |= lev.forced_positive
    if lev.forced_negative is not None:
        first_neg |= lev.forced_negative
    return first_pos | pop.forward_pos, first_neg | pop.forward_neg, first_pos, first_neg


def deliver(graph: Graph, pop: Population, sc: Scenario, speakers: np.ndarray, key: int, reach: float) -> Deliveries:
    """Send one message from each speaker along each out-edge with prob c_i * w_ij * reach (capped at 1)."""
    senders = np.flatnonzero(speakers)
    edges, src = graph.out_edges(senders)
    if edges.size == 0:
        return Deliveries(speakers=int(senders.size))
    contact = np.where(pop.is_kol[src], sc.kols.reach, sc.wom.contact_prob) * reach
    if graph.weights is not None and sc.wom.use_weights:
        contact = contact * graph.weights[edges]
    hit = edge_uniforms(key, edges) < contact
    return Deliveries(src=src[hit], dst=graph.indices[edges[hit]].astype(np.int64), speakers=int(senders.size))


def _sent_per_sender(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sender ids, messages each) from a delivery's src array, which Graph.out_edges leaves grouped by sender."""
    if not src.size:
        return src, src
    starts = np.flatnonzero(np.concatenate(([True], src[1:] != src[:-1])))
    return src[starts], np.diff(np.append(starts, src.size))


def voice(pop: Population, sent: Deliveries, first: np.ndarray, valence: float, relay: np.ndarray) -> None:
    """Tag each delivered message first-hand or retold, and with the satisfaction it voices.

    Own talk voices the speaker's S; a forced post (campaign, backlash) voices its valence (1 or 0); a retold
    message voices what its forwarder heard (`relay`). Conformity pulls listeners toward this content, which is
    on the satisfaction scale, so a chorus of customers at S = 0.8 pulls toward 0.8, not toward the share of
    positive voices.
    """
    src = sent.src
    sent.firsthand = first[src]
    own = sent.firsthand & pop.experienced[src]
    sent.content = np.where(own, pop.S[src], np.where(sent.firsthand, valence, relay[src]))


def emit_wom(
    graph: Graph,
    pop: Population,
    lev: Levers,
    sc: Scenario,
    u_talk: np.ndarray,
    keys: tuple[int, int],
    st: TickState,
    quiet: np.ndarray | None = None,
) -> None:
    """Step 3: who talks, and which messages reach whom (`quiet`: see `talk_probabilities`)."""
    p_pos, p_neg = talk_probabilities(pop, lev, sc, st.t, quiet)
    positive, negative, first_pos, first_neg = choose_speakers(pop, lev, p_pos, p_neg, u_talk)
    st.spoke_positive = positive
    st.positive = deliver(graph, pop, sc, positive, keys[0], 1.0)
    st.negative = deliver(graph, pop, sc, negative, keys[1], sc.wom.negative_reach)
    voice(pop, st.positive, first_pos, 1.0, pop.relay_pos)
    voice(pop, st.negative, first_neg, 0.0, pop.relay_neg)
    for counter, sent in ((pop.pos_sent, st.positive), (pop.neg_sent, st.negative)):
        who, many = _sent_per_sender(sent.src)
        counter[who] += many.astype(counter.dtype)
    st.kol_positive_messages = int(np.count_nonzero(pop.is_kol[st.positive.src]))


# --------------------------------------------------------------------------------------------- step 4
def receive_wom(
    pop: Population, lev: Levers, sc: Scenario, u_fwd_pos: np.ndarray, u_fwd_neg: np.ndarray, st: TickState
) -> None:
    """Step 4: awareness, expectation, trust, satisfaction and conformity from what each person heard."""
    n = pop.n
    pos, neg = st.positive, st.negative
    cred_pos = pop.credibility[pos.src] * _at(lev.positive_credibility, pos.src)  # disclosed sponsored posts
    tagged = np.zeros(pos.src.size, dtype=bool)
    if lev.referral_active:
        tagged = pop.status[pos.src] == CUSTOMER
        if lev.referral_senders is not None:  # a targeted referral reward: only its senders tag
            tagged &= lev.referral_senders[pos.src]
        cred_pos = np.where(tagged, cred_pos * lev.referral_credibility, cred_pos)
    cred_pos = discount_paid_posts(pop, lev, sc, pos, cred_pos)
    n_pos = np.bincount(pos.dst, minlength=n)
    n_neg = np.bincount(neg.dst, minlength=n)
    # From here on only the people who heard something are touched (a small share of N in most ticks).
    heard = np.flatnonzero(n_pos + n_neg)
    np_h, nn_h = n_pos[heard], n_neg[heard]
    pop.pos_received[heard] += np_h.astype(np.int32)
    pop.neg_received[heard] += nn_h.astype(np.int32)
    w_pos = np.bincount(pos.dst, weights=cred_pos, minlength=n)
    w_neg = np.bincount(neg.dst, weights=pop.credibility[neg.src], minlength=n)
    wp, wn = w_pos[heard], w_neg[heard]
    impact = np.zeros(n)
    impact[heard] = np.tanh(wp - sc.wom.negativity_bias * wn)
    status = pop.status[heard]
    pop.status[heard[status == UNAWARE]] = AWARE

    # Channel of the most recent positive touch: referral beats KOL beats plain WOM.
    referred = np.zeros(n, dtype=bool)
    referred[pos.dst[tagged]] = True
    from_kol = np.zeros(n, dtype=bool)
    from_kol[pos.dst[pop.is_kol[pos.src]]] = True
    known = pop.experienced[heard]
    touched = heard[~known & (np_h > 0)]
    pop.last_touch[touched] = np.where(referred[touched], REFERRAL, np.where(from_kol[touched], KOL, WOM))
    referrer = np.full(n, -1, dtype=np.int64)
    referrer[pos.dst[tagged]] = pos.src[tagged]

    rec = sc.reception
    prospects, customers = heard[~known], heard[known]
    persuasion = hold_doubt(pop, sc, w_pos, w_neg, prospects)
    pop.E[prospects] = toward_valence(pop.E[prospects], impact[prospects], rec.expectation_rate)
    pop.T[prospects] = toward_valence(pop.T[prospects], impact[prospects], rec.trust_rate)
    pop.S[customers] = toward_valence(pop.S[customers], impact[customers], rec.satisfaction_weight)
    pop.T[customers] = toward_valence(pop.T[customers], impact[customers], rec.trust_weight)

    # Conformity: opinion pulled toward the credibility-weighted mean satisfaction the messages voice.
    cont_pos, cont_neg = _content(pop, pos, 1.0), _content(pop, neg, 0.0)
    said = np.bincount(pos.dst, weights=cred_pos * cont_pos, minlength=n) + np.bincount(
        neg.dst, weights=pop.credibility[neg.src] * cont_neg, minlength=n
    )
    total = wp + wn
    voiced = total > 0
    opinion = np.divide(said[heard], total, out=np.zeros(heard.size), where=voiced)
    rate = rec.conformity_rate * pop.conformity[heard]
    s_idx, e_idx = voiced & known, voiced & ~known
    pop.S[heard[s_idx]] = pull(pop.S[heard[s_idx]], opinion[s_idx], rate[s_idx])
    pop.E[heard[e_idx]] = pull(pop.E[heard[e_idx]], opinion[e_idx], rate[e_idx])

    fw = sc.wom.forward
    forward(pop, pos, neg, cont_pos, cont_neg, u_fwd_pos, u_fwd_neg, fw.positive, fw.negative, fw.chain)
    st.impact, st.heard_negative, st.referred, st.referrer = impact, w_neg, referred, referrer
    st.persuasion = persuasion
    st.pos_reach, st.neg_reach = int(np.count_nonzero(np_h)), int(np.count_nonzero(nn_h))


def discount_paid_posts(
    pop: Population, lev: Levers, sc: Scenario, pos: Deliveries, cred_pos: np.ndarray
) -> np.ndarray:
    """The weight of each positive message: a paid post (its sender forced to post positively this tick, e.g. a
    KOL campaign's) counts `reception.sponsored_weight` of its credibility with an experienced listener.

    A paid post is advertising: it makes prospects aware and moves their expectation, but for those who tried the
    product experience dominates it (Hoch & Deighton 1989; Kempf & Smith 1998), as step 2's ads do not reach them.
    Before, a paid post moved customers' satisfaction and trust like a friend's account: 20 KOLs lifted a poor
    product's year-2 NPS by 12 points (docs/model.md, Findings).
    """
    if lev.forced_positive is None or sc.reception.sponsored_weight == 1.0:
        return cred_pos
    paid = lev.forced_positive[pos.src] & pop.experienced[pos.dst]
    return np.where(paid, cred_pos * sc.reception.sponsored_weight, cred_pos)


def hold_doubt(
    pop: Population, sc: Scenario, heard_positive: np.ndarray, heard_negative: np.ndarray, prospects: np.ndarray
) -> np.ndarray:
    """Prospects' WOM impression for the adoption logit (step 5), with the net-negative part of it kept.

    `prospects` are the never-experienced who heard something. Their impression is this tick's
    `W+ - lambda W-` less the doubt D they hold (kept at `reception.negative_memory` a tick); whatever of it is
    negative becomes their doubt, so good news first has to outweigh what they hold. Returns the WOM term
    `tanh(impression)` per person (`tanh(-D)` for who heard nothing; 0 without doubt).

    Only this tick's messages used to persuade, so a prospect who had heard nothing but bad news was an ordinary
    aware prospect from the next tick on, converted by ads and the base rate: a flood of negative talk worked as
    free advertising (docs/model.md, Findings). Bad impressions resist disconfirmation (Baumeister, Bratslavsky,
    Finkenauer & Vohs 2001) and hearers of negative WOM become rejecters (Goldenberg, Libai, Moldovan & Muller
    2007). A net-positive impression is not kept: good news persuades when it is heard (the tick's trigger the
    persuasion coefficient was calibrated with, F17). The doubt of experienced people is never read.
    """
    doubt = pop.doubt
    doubt *= sc.reception.negative_memory
    impression = heard_positive[prospects] - sc.wom.negativity_bias * heard_negative[prospects] - doubt[prospects]
    doubt[prospects] = np.maximum(-impression, 0.0)
    term = np.tanh(-doubt)
    term[prospects] = np.tanh(impression)
    return term


def _content(pop: Population, sent: Deliveries, valence: float) -> np.ndarray:
    """The satisfaction each message voices (see `voice`; hand-made deliveries without tags are first-hand)."""
    if sent.content is not None:
        return sent.content
    return np.where(pop.experienced[sent.src], pop.S[sent.src], valence)


def forward(
    pop: Population,
    pos: Deliveries,
    neg: Deliveries,
    cont_pos: np.ndarray,
    cont_neg: np.ndarray,
    u_pos: np.ndarray,
    u_neg: np.ndarray,
    p_pos: float,
    p_neg: float,
    chain: bool,
) -> None:
    """Who retells a story next tick, of which valence, and what it voices (mean content of those heard).

    Only first-hand accounts are retold unless `chain`: a retold story is not retold again, so negative stories
    cannot circulate for ever in a dense network (a message chain's reproduction number, forward probability x
    contact x degree, above 1 made the old model's negative WOM grow with talk whatever the product).

    A person retells at most one story a tick: one of the first-hand stories heard, positive with the share s of
    positive ones among them, retold with its valence's probability, so P(positive) = p+ s and P(negative) =
    p- (1 - s). Someone who heard one valence only retells as before (u+ < p+, or u- < p-). Before, hearing both
    made a person a candidate for each at its full probability, so in a dense network, where nearly everyone hears
    both, the retold mix tended to p- : p+ whatever people said (docs/model.md, Findings).
    """
    n = pop.n
    keep_pos = _firsthand(pos, chain)
    keep_neg = _firsthand(neg, chain)
    k_pos = np.bincount(pos.dst[keep_pos], minlength=n)
    k_neg = np.bincount(neg.dst[keep_neg], minlength=n)
    k = k_pos + k_neg
    heard = k > 0
    share_pos = np.divide(k_pos, k, out=np.zeros(n), where=heard)
    share_neg = np.divide(k_neg, k, out=np.zeros(n), where=heard)
    p_retell_pos = p_pos * share_pos
    will_pos = u_pos < p_retell_pos
    # Negative unless a positive story is retold: u- (1 - P(pos)) < p- (1 - s) keeps P(neg) = p- (1 - s).
    will_neg = ~will_pos & (u_neg * (1.0 - p_retell_pos) < p_neg * share_neg)
    _relay(pop.forward_pos, pop.relay_pos, will_pos, pos.dst[keep_pos], cont_pos[keep_pos], k_pos, n)
    _relay(pop.forward_neg, pop.relay_neg, will_neg, neg.dst[keep_neg], cont_neg[keep_neg], k_neg, n)


def _firsthand(sent: Deliveries, chain: bool) -> np.ndarray:
    """Which messages can be retold: first-hand ones (all with `chain`, or hand-made deliveries without tags)."""
    return np.ones(sent.dst.size, dtype=bool) if chain or sent.firsthand is None else sent.firsthand


def _relay(
    will: np.ndarray, relay: np.ndarray, who: np.ndarray, dst: np.ndarray, content: np.ndarray, count, n: int
) -> None:
    """Mark the retellers of one valence and set what they voice: the mean content of those stories heard."""
    will[:] = who
    idx = np.flatnonzero(who)
    relay[idx] = np.bincount(dst, weights=content, minlength=n)[idx] / count[idx]


# --------------------------------------------------------------------------------------------- step 5
def perceived_value(pop: Population, lev: Levers, sc: Scenario, idx: np.ndarray | None = None) -> np.ndarray:
    """V = clip(Q + w * price_sensitivity * (1 - price)): a price cut raises value, most for the price-sensitive."""
    psi = pop.price_sensitivity if idx is None else pop.price_sensitivity[idx]
    quality = lev.quality if idx is None else _at(lev.quality, idx)
    return np.clip(quality + sc.purchase.value_price_weight * psi * (1.0 - lev.price), 0.0, 1.0)


def price_gap(lev: Levers, sc: Scenario, reference_price: float) -> float:
    """log(P / P_ref), a rise over the reference weighted by loss aversion: the price term's driver."""
    gap = float(np.log(lev.price / reference_price))
    return gap * sc.purchase.price_loss_aversion if gap > 0 else gap


def update_reference_price(reference_price: float, lev: Levers, sc: Scenario) -> float:
    """Step 9b: the reference price moves toward the price paid (exponential smoothing of past prices), but
    only part of the way above the category's index 1: a rise over the usual price stays partly a loss, judged
    against a fair-price norm the firm does not move, while a cut becomes the new normal."""
    target = lev.price
    if target > 1.0:  # `> 1` only: at and below the index the rule is exactly the price paid
        target = 1.0 + sc.purchase.price_rise_adaptation * (target - 1.0)
    return float(pull(reference_price, target, sc.purchase.reference_price_rate))


def _at(x: float | np.ndarray, idx: np.ndarray) -> float | np.ndarray:
    """A per-person lever at idx (scalars pass through)."""
    return x[idx] if isinstance(x, np.ndarray) else x


def purchase(
    pop: Population,
    lev: Levers,
    sc: Scenario,
    brand: float,
    u: np.ndarray,
    st: TickState,
    reference_price: float = 1.0,
    market=None,
) -> None:
    """Step 5: adoption by aware prospects, repurchase by customers, win-back of churned people.

    Prospects, customers and churned people are disjoint, so one uniform per person serves all three decisions.
    Every decision has the price term -price_response * psi_i * price_gap (reference price, step 9b).
    `market` (a `competition.Choice`, only with competitors): our customers may switch to a rival first, and
    adoption and win-back become our share of a brand choice among everyone in the market (docs/model.md 5c).
    """
    n = pop.n
    gap = price_gap(lev, sc, reference_price)
    price = (lambda idx: sc.purchase.price_response * gap * pop.price_sensitivity[idx]) if gap else (lambda idx: 0.0)
    aware = np.flatnonzero((pop.status == AWARE) & pop.need)  # people without a need never buy (market potential)
    c = sc.purchase.adoption
    logit = (
        c.intercept + c.expectation * pop.E[aware] + c.trust * pop.T[aware] + c.brand * brand
        + c.value * perceived_value(pop, lev, sc, aware) + c.wom * st.persuasion[aware]
        + ((c.referral if lev.referral_receiver_paid else 0.0) + lev.referral_boost) * st.referred[aware]
        + _at(lev.adoption_boost, aware) - price(aware)
    )  # fmt: skip
    adopters = aware[u[aware] < logistic(logit)] if market is None else None

    customers = np.flatnonzero(pop.status == CUSTOMER)
    if market is not None:
        customers = market.stay(customers)
    rp = sc.purchase.repurchase
    logit_r = (
        rp.intercept + rp.loyalty * pop.L[customers] + rp.member * pop.member[customers]
        + rp.engaged * pop.engaged[customers] + _at(lev.repurchase_boost, customers) - price(customers)
    )  # fmt: skip
    repurchasers = customers[u[customers] < logistic(logit_r)]

    churned = np.flatnonzero(pop.status == CHURNED)
    wb = sc.purchase.winback
    logit_w = wb.intercept + wb.loyalty * pop.L[churned] + _at(lev.winback_boost, churned) - price(churned)
    if market is None:
        returners = churned[u[churned] < logistic(logit_w)]
    else:
        adopters, returners = market.choose(aware, logit, churned, logit_w)

    st.customers_start = int(customers.size)
    pop.acquired_by[adopters] = pop.last_touch[adopters]
    pop.adopted_at[adopters] = st.t
    pop.status[adopters] = CUSTOMER
    pop.status[returners] = CUSTOMER
    st.adopted, st.repurchased, st.won_back = (np.zeros(n, dtype=bool) for _ in range(3))
    st.adopted[adopters], st.repurchased[repurchasers], st.won_back[returners] = True, True, True
    buyers = np.concatenate([adopters, repurchasers, returners])
    spend = pop.spend[buyers]
    pop.revenue[buyers] += spend * lev.price
    st.revenue = float(spend.sum() * lev.price)
    st.cost_of_goods = float(spend.sum() * (1.0 - sc.brand.margin))


# --------------------------------------------------------------------------------------------- step 6
def arrive_recoveries(pop: Population, lev: Levers, t: int) -> int:
    """Delayed service recoveries due now reach their customers: S and T restored toward pre-failure levels."""
    arrived = pop.pending_recoveries.pop(t, [])
    count = 0
    for who, S_pre, T_pre, rest in arrived:  # one entry per tick of failures: a handful of array operations each
        if rest is None:
            recover(pop, lev, who, S_pre, T_pre)
            count += who.size
        else:  # the rest of the pull of a recovery that landed within last tick (counted then)
            pop.S[who] = pull(pop.S[who], S_pre, rest)
            pop.T[who] = pull(pop.T[who], T_pre, rest)
    return count


def recover(
    pop: Population, lev: Levers, who: np.ndarray, S_pre: np.ndarray, T_pre: np.ndarray, part: float | np.ndarray = 1.0
) -> None:  # fmt: skip
    """A recovery reaches `who`: S and T pulled back toward their values before the failure, with today's
    programme's effectiveness (times `part`) and paradox (per person under a targeted one)."""
    eff = _at(lev.recovery_effectiveness, who) * part
    pop.S[who] = pull(pop.S[who], S_pre, eff)
    pop.S[who] += _at(lev.recovery_paradox, who) * (1.0 - pop.S[who])
    pop.T[who] = pull(pop.T[who], T_pre, eff)
    np.add.at(pop.recoveries, who, 1)


def queue_recoveries(
    pop: Population, t: int, delay: float | np.ndarray, delayed: np.ndarray, buyers: np.ndarray, S_prev: np.ndarray,
    T: np.ndarray,
) -> None:  # fmt: skip
    """Recoveries that take `delay` >= 1 ticks (per buyer with a targeted programme) wait for `arrive_recoveries`:
    a recovery arrives in the tick it is due, `t + floor(delay)` (a part of a tick beyond whole ones waits with it)."""
    if not delayed.any():
        return
    if np.ndim(delay) == 0:
        due_at = t + int(delay)
        pop.pending_recoveries.setdefault(due_at, []).append((buyers[delayed], S_prev[delayed], T[delayed], None))
        return
    for d in np.unique(np.floor(delay[delayed])):  # a loop over the distinct delays (the target's and the rest's)
        due = delayed & (np.floor(delay) == d)
        pop.pending_recoveries.setdefault(t + int(d), []).append((buyers[due], S_prev[due], T[due], None))


def recover_within(
    pop: Population, lev: Levers, t: int, who: np.ndarray, lived: float | np.ndarray, S_pre: np.ndarray,
    T_pre: np.ndarray,
) -> None:  # fmt: skip
    """Recoveries that land within the failure's tick, after the share `lived` (0-1) of it: the tick's later steps
    (loyalty, churn, next tick's talk) see the week's average state, the failure's for `lived` of it and the
    recovered one for the rest. So the pull back lands `1 - lived` of the way now (with the paradox, counted as a
    recovery) and the rest of it at the start of the next tick's step 6: a recovery after a whole week is then
    today's one-tick delay, and one on the spot almost today's immediate recovery."""
    eff = _at(lev.recovery_effectiveness, who)
    recover(pop, lev, who, S_pre, T_pre, 1.0 - lived)
    rest = 1.0 - (1.0 - eff) / (1.0 - eff * (1.0 - lived))  # (1 - now)(1 - rest) = 1 - eff: the whole pull
    pop.pending_recoveries.setdefault(t + 1, []).append((who, S_pre, T_pre, np.broadcast_to(rest, who.shape)))


def disconfirm(
    ex, x: np.ndarray, E: np.ndarray, S: np.ndarray, T: np.ndarray, first: np.ndarray, unrecovered: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expectation-disconfirmation of one purchase: new S, E and T from experienced quality x (Oliver 1980).

    Falling short of E weighs `negative_disconfirmation_weight`, exceeding it `disconfirmation_weight`
    (asymmetric, Anderson & Sullivan 1993). A first purchase sets S to its target: the first judgement is the
    disconfirmation itself, so ads that over-claim lower satisfaction at once instead of lending it their E.
    Repeat purchases pull S toward the target at `satisfaction_rate`.
    """
    d = x - E
    shift = np.where(d >= 0.0, ex.disconfirmation_weight, ex.negative_disconfirmation_weight) * d
    target = np.clip(x + shift + ex.recall_bias, 0.0, 1.0)
    S_new = np.where(first, target, pull(S, target, ex.satisfaction_rate))
    T_new = np.where(unrecovered, T * (1.0 - ex.trust_failure_drop), T + ex.trust_gain * (1 - np.abs(d)) * (1 - T))
    return S_new, pull(E, x, ex.expectation_rate), T_new


def settle_history(pop: Population, sc: Scenario, rng: np.random.Generator, lengths: np.ndarray | None = None) -> None:
    """Start (tick 0): initial customers live `population.initial.history` purchases before the run.

    Each purchase is step 6 without WOM (quality with the person's fit and noise, failures recovered on the spot
    with `recovery.coverage`), starting from their drawn E; then L is set to its target (step 7's fixed point).
    So week 1 already shows customers whose satisfaction, trust and loyalty come from their own experience, as in
    the market the scenario describes, not a satisfaction of Q with a loyalty of 0.4 whatever the product.
    `lengths` (per person, at most `history`) lets some live fewer purchases (a person table's tenure); the
    draws are the same either way.
    """
    k, idx = sc.population.initial.history, np.flatnonzero(pop.experienced)
    if k == 0 or idx.size == 0:
        return
    ex, brand, m = sc.experience, sc.brand, idx.size
    E, T, S = pop.E[idx], pop.T[idx], pop.S[idx]
    for h in range(k):  # a loop over past purchases, each vectorised over the initial customers
        z, u_fail, u_rec = rng.standard_normal(m), rng.random(m), rng.random(m)
        x = np.clip(brand.quality + pop.fit[idx] + ex.noise * z, 0.0, 1.0)
        failed = u_fail < brand.service_failure
        recovered = failed & (u_rec < ex.recovery.coverage)
        loss = np.where(recovered, ex.failure_penalty * (1.0 - ex.recovery.effectiveness), ex.failure_penalty)
        x = np.where(failed, np.maximum(0.0, x - loss), x)
        lived = disconfirm(ex, x, E, S, T, np.full(m, h == 0), failed & ~recovered)
        lived = tuple(np.clip(v, 0.0, 1.0) for v in lived)
        if lengths is None:
            S, E, T = lived
        else:
            live = lengths[idx] > h
            S, E, T = (np.where(live, new, old) for new, old in zip(lived, (S, E, T), strict=True))
    pop.S[idx], pop.E[idx], pop.T[idx] = S, E, T
    pop.L[idx] = start_loyalty(pop, sc, idx)


def start_loyalty(pop: Population, sc: Scenario, idx: np.ndarray) -> np.ndarray:
    """L at its target (step 7's fixed point) for people `idx`, from their S, T, A and today's offer."""
    w, brand = sc.loyalty.weights, sc.brand
    value = np.clip(
        brand.quality + sc.purchase.value_price_weight * pop.price_sensitivity[idx] * (1 - brand.price), 0, 1
    )
    return (
        w.value * value
        + w.satisfaction * pop.S[idx]
        + w.trust * pop.T[idx]
        + w.attachment * pop.A[idx]
        + (w.brand * brand.reputation)
    )


def experience(
    pop: Population, lev: Levers, sc: Scenario, t: int, draws: tuple[np.ndarray, np.ndarray, np.ndarray], st: TickState
) -> None:
    """Step 6: experienced quality, service failure and recovery, expectation-disconfirmation, trust.

    `draws` are three full-length uniforms: quality (turned into a normal deviate only for buyers), failure, recovery.
    """
    u_quality, u_fail, u_recover = draws
    ex = sc.experience
    recovered_late = arrive_recoveries(pop, lev, t)
    buyers = np.flatnonzero(st.adopted | st.repurchased | st.won_back)
    z = ndtri(np.clip(u_quality[buyers], 1e-12, 1 - 1e-12))

    x = np.clip(_at(lev.quality, buyers) + pop.fit[buyers] + ex.noise * z, 0.0, 1.0)
    failed = u_fail[buyers] < _at(lev.service_failure, buyers)
    # The recovery levers are per person with a targeted programme (scalars otherwise).
    recovered = failed & (u_recover[buyers] < _at(lev.recovery_coverage, buyers))
    delay = _at(lev.recovery_delay, buyers)
    immediate = recovered & (delay == 0)
    delayed = recovered & (delay >= 1)
    # A recovery due within this tick (0 < delay < 1: hours or days of a weekly tick) lands after this purchase's
    # experience: the customer lives the failure until then, so its talk and churn multiplier count for that part
    # of the tick only (promptness matters gradually: Smith, Bolton & Wagner 1999; Gelbrich & Roschk 2011).
    within = recovered & (delay > 0) & (delay < 1)
    unrecovered = failed & ~immediate
    soft = np.maximum(0.0, x - ex.failure_penalty * (1 - _at(lev.recovery_effectiveness, buyers)))
    x = np.where(immediate, soft, np.where(failed, np.maximum(0.0, x - ex.failure_penalty), x))

    E, T = pop.E[buyers], pop.T[buyers]
    first = ~pop.experienced[buyers]
    S_prev = np.where(first, E, pop.S[buyers])
    queue_recoveries(pop, t, delay, delayed, buyers, S_prev, T)

    S_new, pop.E[buyers], pop.T[buyers] = disconfirm(ex, x, E, S_prev, T, first, unrecovered)
    # Recovery paradox (opt-in): a recovered customer ends up above where the experience alone would put them.
    pop.S[buyers] = np.where(immediate, S_new + _at(lev.recovery_paradox, buyers) * (1.0 - S_new), S_new)
    if within.any():
        recover_within(pop, lev, t, buyers[within], _at(delay, np.flatnonzero(within)), S_prev[within], T[within])

    pop.experienced[buyers] = True
    pop.purchases[buyers] += 1
    pop.last_purchase[buyers] = t
    pop.failures[buyers[failed]] += 1
    pop.recoveries[buyers[immediate]] += 1
    # failed_last: the share of this tick lived with an unrecovered failure (1 unless a recovery landed within it).
    pop.failed_last[:] = 0.0
    pop.failed_last[buyers[unrecovered]] = np.where(within, delay, 1.0)[unrecovered]
    st.unrecovered = pop.failed_last.copy()
    st.failures = int(failed.sum())
    st.recoveries = int(immediate.sum()) + int(within.sum()) + recovered_late


# --------------------------------------------------------------------------------------------- step 7
def update_loyalty(pop: Population, lev: Levers, sc: Scenario, brand: float, st: TickState) -> None:
    """Step 7: loyalty toward its weighted drivers; attachment grows for spreaders, members, engaged."""
    idx = np.flatnonzero(pop.status == CUSTOMER)
    w = sc.loyalty.weights
    target = (
        w.value * perceived_value(pop, lev, sc, idx) + w.satisfaction * pop.S[idx] + w.trust * pop.T[idx]
        + w.attachment * pop.A[idx] + w.brand * brand
    )  # fmt: skip
    # A new customer's loyalty starts at what their first experience justifies (as the initial customers' does,
    # `settle_history`); from then on it follows its drivers slowly.
    rate = np.where(st.adopted[idx], 1.0, sc.loyalty.rate) if st.adopted is not None else sc.loyalty.rate
    pop.L[idx] = pull(pop.L[idx], target, rate)
    at = sc.loyalty.attachment
    gain = (
        at.spread_gain * st.spoke_positive[idx] + at.member_gain * pop.member[idx] + at.engaged_gain * pop.engaged[idx]
    )
    A = pop.A[idx]
    pop.A[idx] = np.clip(A + gain * (1.0 - A) - at.decay * A, 0.0, 1.0)


# --------------------------------------------------------------------------------------------- step 8
def churn(pop: Population, lev: Levers, sc: Scenario, u: np.ndarray, st: TickState) -> None:
    """Step 8: customers leave with a hazard that falls with loyalty and rises with negative WOM and failures."""
    ch = sc.churn
    idx = np.flatnonzero(pop.status == CUSTOMER)
    hazard = (
        ch.base_hazard
        * np.exp(-ch.loyalty_slope * (pop.L[idx] - ch.reference_loyalty))
        * (1.0 + ch.negative_wom * st.heard_negative[idx])
        * (1.0 + ch.failure_multiplier * st.unrecovered[idx])
        * _at(lev.hazard_multiplier, idx)
    )
    leavers = idx[u[idx] < -np.expm1(-hazard)]
    st.customers_exposed = int(idx.size)
    pop.status[leavers] = CHURNED
    pop.churned_at[leavers] = st.t
    pop.customer_ticks[idx] += 1  # tenure: ticks lived as a customer, the tick of leaving included
    st.churned = np.zeros(pop.n, dtype=bool)
    st.churned[leavers] = True
    st.at_risk = int(np.count_nonzero(hazard >= 3.0 * ch.base_hazard))


# --------------------------------------------------------------------------------------------- step 9
def update_brand(brand: float, lev: Levers, sc: Scenario, st: TickState) -> float:
    """Step 9: reputation moves toward a mix of quality and the positive share of public WOM."""
    pos, neg = st.positive.dst.size, st.negative.dst.size
    voice = pos / (pos + neg) if pos + neg else brand
    qw = sc.brand.reputation_quality_weight
    # A service improved for a target makes quality per person: the brand stands for the average over everyone.
    quality = lev.quality if np.ndim(lev.quality) == 0 else float(np.mean(lev.quality))
    target = qw * quality + (1.0 - qw) * voice
    return float(np.clip(pull(brand, target, sc.brand.reputation_rate) + lev.brand_lift, 0.0, 1.0))


def clip_states(pop: Population) -> None:
    """Keep every continuous state in [0, 1]."""
    for arr in (pop.E, pop.S, pop.T, pop.A, pop.L):
        np.clip(arr, 0.0, 1.0, out=arr)
