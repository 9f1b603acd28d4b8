"""The restructured tick: steps 1-9 of `dynamics.py` with the same draws and bit-identical state, in fewer passes.

`dynamics.py` is the readable reference that docs/model.md describes; this module computes the same numbers in
the same floating-point order, only with less work per tick:

- draws go into buffers allocated once per model (`Generator.random(out=...)` gives the numbers `random(n)` would);
- a step that concerns a few people (talkers, the reached, the heard, buyers) works on their indices, found by
  one pass, instead of building several full-length masks;
- what people heard is summed over compact ids of the heard (`np.bincount` with `minlength` = how many heard),
  not over N bins: the same sums in the same order, without four length-N arrays and their scans;
- the customers of steps 7 and 8 are found once (step 7 changes no status);
- contact probabilities are computed once per sender and repeated over its edges, not per edge;
- the adoption logit is computed for the heard and for the prospects whose uniform is below a bound of what an
  unheard prospect's probability can be (`_adoption_ceiling`): for everyone else the reference's answer is "no";
- terms that are 0 for most people (WOM impact, the referral tag, price at 1) are added only where they are not;
- logits and the logistic are accumulated in place, in the reference's order of operations.

Every rule stays in `dynamics.py`: where a step is already proportional to the people it concerns (message
tagging, recoveries, step 1's shocks, the brand) it is called from there, so a rule has one home. What is not
mirrored here falls back to the reference tick: `covers` is a whitelist of the reference functions' source, the
scenario schema, the levers and the population fields this module was written against. A change to any of them
(a new feature of the reference tick) turns the fast path off until this module has been checked against it;
tests/test_fast_kernel.py says so.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
from typing import Any

import numpy as np
from scipy.special import ndtri

from wom_sim.network.graph import Graph
from wom_sim.scenario.schema import Scenario
from wom_sim.sim import competition as comp
from wom_sim.sim import dynamics as dyn
from wom_sim.sim.levers import Levers, clip01, clip_array
from wom_sim.sim.population import ADVERTISING, AWARE, CHURNED, CUSTOMER, KOL, REFERRAL, UNAWARE, WOM, Population

# The reference functions whose rules this module restates (the others it calls, so they need no guard).
MIRRORED = (
    dyn.advertise, dyn.talk_probabilities, dyn.choose_speakers, dyn.deliver, dyn.emit_wom, dyn.receive_wom,
    dyn.forward, dyn.purchase, dyn.experience, dyn.update_loyalty, dyn.churn, dyn.pull, dyn.toward_valence,
    dyn.logistic, dyn.perceived_value, dyn.price_gap, dyn.disconfirm, dyn.clip_states,
)  # fmt: skip


def _schema_paths(model: Any, prefix: str = "") -> list[str]:
    """Every field path of a pydantic model class, nested models included ('wom.forward.chain', ...)."""
    paths = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(f"{path}:{info.annotation}")
        sub = info.annotation
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            paths += _schema_paths(sub, path + ".")
    return paths


def reference_fingerprint() -> str:
    """A hash of what this module mirrors: the reference functions' source, the scenario schema's field paths,
    the `Levers` fields and the `Population` fields. Equal to `MIRRORED_FINGERPRINT` while nothing changed."""
    parts = [inspect.getsource(f) for f in MIRRORED]
    parts += _schema_paths(Scenario)
    parts += [f.name for f in dataclasses.fields(Levers)] + [f.name for f in dataclasses.fields(Population)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


# The fingerprint of the reference this module was checked against (bit-identical state in
# tests/test_fast_kernel.py). When the reference tick gains a rule, a scenario key, a lever or a per-person array,
# the fingerprint changes and every run takes the reference tick until this module mirrors it and this is updated.
MIRRORED_FINGERPRINT = "cb610aaae7fcecd1"


@functools.cache
def _current() -> str:
    """`reference_fingerprint()` of the code this process runs, computed once, at the first tick (about 25 ms of
    reading sources: not paid by commands that import the model without running it)."""
    try:
        return reference_fingerprint()
    except (OSError, TypeError):  # sources not installed (bytecode only): nothing to compare, so the reference runs
        return "unavailable"


def covers(sc: Scenario, lev: Levers, pop: Population) -> bool:
    """Whether the fast tick computes exactly what the reference tick would for this scenario, levers and people.

    A whitelist: the reference is the one this module mirrors, and the levers and population carry no field
    added at run time beyond those it knows.
    """
    if _current() != MIRRORED_FINGERPRINT:
        return False
    return type(lev) is Levers and type(pop) is Population


class FastTick:
    """Buffers of one model (draws, a scratch mask and slot map of length N) and the restructured steps 2-8."""

    def __init__(self, n: int):
        self.n = n
        # Three draw buffers serve all ten draws: no step reads more than three at once (step 6 reads three), and
        # no draw is read after its step.
        self.u = (np.empty(n), np.empty(n), np.empty(n))
        self.mark = np.zeros(n, dtype=bool)  # all False between uses
        self.slot = np.zeros(n, dtype=np.int64)  # compact id of a heard person (valid only where just set)
        self._no_referrer = np.full(n, -1, dtype=np.int64)
        self._no_referrer.flags.writeable = False
        self.heard = np.zeros(0, dtype=np.int64)  # who heard something this tick, set by step 4
        # The heard prospects (sorted) and the tanh of their impression (`dyn.hold_doubt`), set by step 4; the
        # WOM term of everyone else is tanh(-doubt), computed in step 5 for whom it decides.
        self.prospects, self.impression_term = np.zeros(0, dtype=np.int64), np.zeros(0)
        self.market_tick: comp.MarketTick | None = None  # the last tick's rivals' record (its rows are reused)

    # ---------------------------------------------------------------------------------------------- the tick
    def run(
        self, graph: Graph, pop: Population, lev: Levers, sc: Scenario, streams: dict, brand: float,
        reference_price: float, st: dyn.TickState, market: comp.Market | None = None,
    ) -> tuple[float, float, comp.MarketTick | None]:  # fmt: skip
        """Steps 1-9b of `WomModel._reference_tick` (the reference's draws, in its order per stream); returns
        (B, P_ref, this tick's market state). The rivals' steps are `competition.py`'s, called at the same points."""
        t, (a, b, c), n = st.t, self.u, pop.n
        brand = dyn.apply_shocks(pop, brand, lev)
        mt = cs = None
        if market is not None:
            cs = streams["competition"]
            mt = self.market_tick = comp.new_tick(market, n, t, cs, self.market_tick)
            comp.apply_rival_shocks(market, lev)
        need = streams["need"].random(out=b) if sc.advertising.need_creation > 0 else None
        self.advertise(pop, lev, sc, streams["advertising"].random(out=a), need)
        keys = tuple(int(k) for k in streams["delivery"].integers(0, 2**63 - 1, size=2))
        quiet = market.rival > 0 if market is not None else None
        self.emit_wom(graph, pop, lev, sc, streams["talk"].random(out=a), keys, st, quiet)
        rec = streams["reception"]
        self.receive_wom(pop, lev, sc, rec.random(out=a), rec.random(out=b), st)
        choice = None
        if market is not None:
            comp.advertise_rivals(market, lev, sc, cs.random(out=b))
            comp.talk_rivals(graph, pop, market, lev, sc, mt, self.deliver)
            u_purchase = streams["purchase"].random(out=a)
            choice = comp.Choice(pop, market, lev, sc, mt, u_purchase, reference_price, brand)
        else:
            u_purchase = streams["purchase"].random(out=a)
        customers, buyers = self.purchase(pop, lev, sc, brand, u_purchase, st, reference_price, choice)
        if market is not None:
            comp.rival_repurchase(pop, market, lev, sc, mt, reference_price)
        ex = streams["experience"]
        draws = (ex.random(out=a), ex.random(out=b), ex.random(out=c))
        self.experience(pop, lev, sc, t, draws, st, buyers)
        if market is not None:
            comp.experience_rivals(pop, market, lev, sc, mt)
            comp.update_rival_loyalty(pop, market, lev, sc, mt)
        self.update_loyalty(pop, lev, sc, brand, st, customers)
        self.churn(pop, lev, sc, streams["churn"].random(out=a), st, customers)
        if market is not None:
            comp.churn_rivals(pop, market, lev, sc, mt)
        brand = dyn.update_brand(brand, lev, sc, st)
        if market is not None:
            comp.update_rival_brands(market, lev, sc, mt, st)
        reference_price = dyn.update_reference_price(reference_price, lev, sc)
        _clip_states(pop)
        return brand, reference_price, mt

    # ---------------------------------------------------------------------------------------------- step 2
    @staticmethod
    def advertise(pop: Population, lev: Levers, sc: Scenario, u: np.ndarray, u_need: np.ndarray | None) -> None:
        """`dyn.advertise` on the indices of the reached."""
        reached = (u < lev.ad_reach).nonzero()[0]
        reached = reached[~pop.experienced[reached]]
        pop.status[reached[pop.status[reached] == UNAWARE]] = AWARE
        pop.last_touch[reached] = ADVERTISING
        E, claim = pop.E[reached], lev.claim if np.ndim(lev.claim) == 0 else lev.claim[reached]
        pop.E[reached] = E + sc.advertising.expectation_pull * (claim - E)
        if u_need is not None and sc.advertising.need_creation > 0:
            pop.need[reached[u_need[reached] < sc.advertising.need_creation]] = True

    # ---------------------------------------------------------------------------------------------- step 3
    def emit_wom(
        self, graph: Graph, pop: Population, lev: Levers, sc: Scenario, u: np.ndarray, keys: tuple[int, int],
        st: dyn.TickState, quiet: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        """`dyn.emit_wom`: probabilities and the talk draw only for the experienced (nobody else talks first-hand);
        `quiet`: who uses a rival now and talks about it instead (`dyn.talk_probabilities`)."""
        wom = sc.wom
        known = (pop.experienced if quiet is None else pop.experienced & ~quiet).nonzero()[0]
        S = pop.S[known]
        p_pos, p_neg = np.zeros(known.size), np.zeros(known.size)
        is_fan = S >= wom.positive_threshold
        fans = known[is_fan]
        Sf = S[is_fan]
        shape = Sf * np.sqrt(Sf) if wom.satisfaction_elasticity == 1.5 else Sf**wom.satisfaction_elasticity
        novelty = _novelty(pop, sc, known, st.t)
        nov_fans = novelty[is_fan] if isinstance(novelty, np.ndarray) else novelty
        rate = pop.talkativeness[fans] * (wom.positive_rate * dyn._at(lev.talk_multiplier, fans)) * nov_fans
        p_pos[is_fan] = np.minimum(1.0, rate * shape * (1.0 + wom.loyalty_boost * pop.L[fans]))
        theta = wom.negative_threshold
        is_critic = S < theta
        critics = known[is_critic]
        gap = (theta - S[is_critic]) / theta
        nov_critics = novelty[is_critic] if isinstance(novelty, np.ndarray) else novelty
        rate = pop.talkativeness[critics] * wom.negative_rate * nov_critics
        p_neg[is_critic] = np.minimum(1.0, rate * gap**wom.negative_exponent)
        share = pop.failed_last[known]
        failed = share > 0
        p_neg[failed] = 1.0 - (1.0 - p_neg[failed]) * (1.0 - wom.failure_talk * share[failed])
        # choose_speakers: u < p is never true where p = 0, so only the experienced can speak first-hand.
        uk = u[known]
        own_neg = uk < p_neg
        own_pos = ~own_neg & (uk < p_neg + p_pos)
        first_pos, first_neg = np.zeros(pop.n, dtype=bool), np.zeros(pop.n, dtype=bool)
        first_pos[known[own_pos]] = True
        first_neg[known[own_neg]] = True
        if lev.forced_positive is not None:
            first_pos |= lev.forced_positive
        if lev.forced_negative is not None:
            first_neg |= lev.forced_negative
        positive, negative = first_pos | pop.forward_pos, first_neg | pop.forward_neg
        st.spoke_positive = positive
        st.positive = self.deliver(graph, pop, sc, positive, keys[0], 1.0)
        st.negative = self.deliver(graph, pop, sc, negative, keys[1], wom.negative_reach)
        dyn.voice(pop, st.positive, first_pos, 1.0, pop.relay_pos)
        dyn.voice(pop, st.negative, first_neg, 0.0, pop.relay_neg)
        for counter, sent in ((pop.pos_sent, st.positive), (pop.neg_sent, st.negative)):
            _count_sent(counter, sent.src)
        st.kol_positive_messages = int(np.count_nonzero(pop.is_kol[st.positive.src]))

    @staticmethod
    def deliver(graph: Graph, pop: Population, sc: Scenario, speakers: np.ndarray, key: int, reach: float):
        """`dyn.deliver` with the contact probability computed per sender, then repeated over its edges."""
        senders = speakers.nonzero()[0]
        starts = graph.indptr[senders]
        counts = graph.indptr[senders + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return dyn.Deliveries(speakers=int(senders.size))
        offsets = np.cumsum(counts) - counts
        edges = np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)
        contact = np.where(pop.is_kol[senders], sc.kols.reach, sc.wom.contact_prob) * reach
        contact = np.repeat(contact, counts)
        if graph.weights is not None and sc.wom.use_weights:
            contact = contact * graph.weights[edges]
        hit = (dyn.edge_uniforms(key, edges) < contact).nonzero()[0]
        sender_of_hit = np.repeat(senders, counts)[hit] if senders.size < hit.size else _owner(offsets, hit, senders)
        return dyn.Deliveries(
            src=sender_of_hit, dst=graph.indices[edges[hit]].astype(np.int64), speakers=int(senders.size)
        )

    # ---------------------------------------------------------------------------------------------- step 4
    def receive_wom(
        self, pop: Population, lev: Levers, sc: Scenario, u_fwd_pos: np.ndarray, u_fwd_neg: np.ndarray,
        st: dyn.TickState,
    ) -> None:  # fmt: skip
        """`dyn.receive_wom` over compact ids of the people who heard something."""
        n = pop.n
        pos, neg = st.positive, st.negative
        cred_pos = pop.credibility[pos.src] * dyn._at(lev.positive_credibility, pos.src)
        tagged = None
        if lev.referral_active:
            tagged = pop.status[pos.src] == CUSTOMER
            if lev.referral_senders is not None:  # a targeted referral reward: only its senders tag
                tagged &= lev.referral_senders[pos.src]
            cred_pos = np.where(tagged, cred_pos * lev.referral_credibility, cred_pos)
        cred_pos = dyn.discount_paid_posts(pop, lev, sc, pos, cred_pos)
        heard, cpos, cneg = self._compact(pos.dst, neg.dst)
        h = heard.size
        np_h = np.bincount(cpos, minlength=h)
        nn_h = np.bincount(cneg, minlength=h)
        pop.pos_received[heard] += np_h.astype(np.int32)
        pop.neg_received[heard] += nn_h.astype(np.int32)
        cred_neg = pop.credibility[neg.src]
        wp = np.bincount(cpos, weights=cred_pos, minlength=h)
        wn = np.bincount(cneg, weights=cred_neg, minlength=h)
        impact_h = np.tanh(wp - sc.wom.negativity_bias * wn)
        impact = np.zeros(n)
        impact[heard] = impact_h
        self.heard = heard
        w_neg = np.zeros(n, dtype=wn.dtype)  # np.bincount of no messages is integer zeros, in the reference too
        w_neg[heard] = wn
        status = pop.status[heard]
        pop.status[heard[status == UNAWARE]] = AWARE

        # Channel of the most recent positive touch: referral beats KOL beats plain WOM.
        referred = np.zeros(n, dtype=bool)
        from_kol_h = np.zeros(h, dtype=bool)
        from_kol_h[cpos[pop.is_kol[pos.src]]] = True
        known = pop.experienced[heard]
        touched_h = (~known & (np_h > 0)).nonzero()[0]
        if tagged is not None:
            referred[pos.dst[tagged]] = True
            referrer = np.full(n, -1, dtype=np.int64)
            referrer[pos.dst[tagged]] = pos.src[tagged]
            channel = np.where(referred[heard[touched_h]], REFERRAL, np.where(from_kol_h[touched_h], KOL, WOM))
        else:
            referrer = self._no_referrer
            channel = np.where(from_kol_h[touched_h], KOL, WOM)
        pop.last_touch[heard[touched_h]] = channel

        rec = sc.reception
        prospects, customers = heard[~known], heard[known]
        self._hold_doubt(pop, sc, prospects, wp[~known], wn[~known])
        ip, ic = impact_h[~known], impact_h[known]
        pop.E[prospects] = dyn.toward_valence(pop.E[prospects], ip, rec.expectation_rate)
        pop.T[prospects] = dyn.toward_valence(pop.T[prospects], ip, rec.trust_rate)
        pop.S[customers] = dyn.toward_valence(pop.S[customers], ic, rec.satisfaction_weight)
        pop.T[customers] = dyn.toward_valence(pop.T[customers], ic, rec.trust_weight)

        cont_pos, cont_neg = dyn._content(pop, pos, 1.0), dyn._content(pop, neg, 0.0)
        said = np.bincount(cpos, weights=cred_pos * cont_pos, minlength=h) + np.bincount(
            cneg, weights=cred_neg * cont_neg, minlength=h
        )
        total = wp + wn
        voiced = total > 0
        opinion = np.divide(said, total, out=np.zeros(h), where=voiced)
        rate = rec.conformity_rate * pop.conformity[heard]
        s_idx, e_idx = voiced & known, voiced & ~known
        who = heard[s_idx]
        pop.S[who] = dyn.pull(pop.S[who], opinion[s_idx], rate[s_idx])
        who = heard[e_idx]
        pop.E[who] = dyn.pull(pop.E[who], opinion[e_idx], rate[e_idx])

        fw = sc.wom.forward
        _forward(pop, heard, (cpos, cneg), (pos, neg), (cont_pos, cont_neg), (u_fwd_pos, u_fwd_neg), fw)
        st.impact, st.heard_negative, st.referred, st.referrer = impact, w_neg, referred, referrer
        st.pos_reach, st.neg_reach = int(np.count_nonzero(np_h)), int(np.count_nonzero(nn_h))

    def _hold_doubt(self, pop: Population, sc: Scenario, prospects: np.ndarray, wp: np.ndarray, wn: np.ndarray):
        """`dyn.hold_doubt` without its full-length WOM term: step 5 computes tanh(-doubt) only for the people it
        decides exactly, and the heard prospects' tanh(impression) is kept here. (Once doubts spread, holders are
        most prospects: a sorted union of them with the heard cost more than the rest of the tick at 1M.)"""
        doubt = pop.doubt
        doubt *= sc.reception.negative_memory
        impression = wp - sc.wom.negativity_bias * wn - doubt[prospects]
        doubt[prospects] = np.maximum(-impression, 0.0)
        self.prospects, self.impression_term = prospects, np.tanh(impression)

    def _compact(self, dst_pos: np.ndarray, dst_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The heard (sorted ids) and each message's receiver as a compact id 0..heard-1, without sorting."""
        mark, slot = self.mark, self.slot
        mark[dst_pos] = True
        mark[dst_neg] = True
        heard = mark.nonzero()[0]
        mark[heard] = False
        slot[heard] = np.arange(heard.size)
        return heard, slot[dst_pos], slot[dst_neg]

    # ---------------------------------------------------------------------------------------------- step 5
    def purchase(
        self,
        pop: Population, lev: Levers, sc: Scenario, brand: float, u: np.ndarray, st: dyn.TickState,
        reference_price: float, choice: comp.Choice | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """`dyn.purchase`; returns the customers after it (steps 7 and 8 act on them and change no status) and the
        buyers (sorted, as step 6 finds them). With rivals (`choice`), the aware prospects with a need who can buy
        any brand (`competition.can_buy`, or who heard about ours) enter the brand choice with their log-odds as the
        focal option's utility, and our customers may switch before they rebuy, as in the reference."""
        n = pop.n
        gap = dyn.price_gap(lev, sc, reference_price)
        price = (
            (lambda idx: sc.purchase.price_response * gap * pop.price_sensitivity[idx]) if gap else (lambda idx: 0.0)
        )
        status = pop.status
        c = sc.purchase.adoption
        # Who heard nothing this tick has a WOM term of 0, or below it with a doubt (which with a WOM coefficient
        # >= 0 only lowers the logit), and no referral tag; of them, only a prospect whose uniform is below the
        # largest adoption probability such a prospect can have without a doubt can adopt. The exact logit is
        # computed for those and for the heard (for the rest the answer is "no").
        if choice is None:
            ceiling = _adoption_ceiling(pop, lev, sc, brand, gap)
            can_buy = (u < ceiling) if ceiling < 1.0 else None
        else:  # with rivals: who can buy any brand (competition.can_buy), and who heard about ours
            can_buy = choice.can_buy(_adoption_logit_bound(pop, lev, sc, brand, gap))
        if can_buy is not None:
            can_buy[self.prospects] = True  # the heard prospects: their WOM term may be positive
            if c.wom < 0:  # then a doubt (a WOM term <= 0) raises the logit above the bound: decide them exactly
                can_buy |= pop.doubt > 0.0
            aware = can_buy.nonzero()[0]
        else:
            aware = np.arange(n)
        # Positions, not a bool index: selecting with a mask that is about half True is several times slower.
        aware = aware[((status[aware] == AWARE) & pop.need[aware]).nonzero()[0]]
        # The reference's logits, accumulated in place term by term in its order (a + b == b + a exactly). A term
        # that is a scalar 0 is left out: it could only turn a -0.0 logit into +0.0, and both give 0.5.
        logit = _times(pop.E[aware], c.expectation)
        logit += c.intercept
        logit += _times(pop.T[aware], c.trust)
        logit += c.brand * brand
        logit += _times(_perceived_value(pop, lev, sc, aware), c.value)
        # The WOM term: tanh(-doubt) (-0.0 without one, which adds nothing), the heard prospects' impression; a
        # referral tag needs a referral lever: the other terms add 0.
        term = np.tanh(-pop.doubt[aware])
        prospects = self.prospects
        at = np.searchsorted(aware, prospects)
        found = at < aware.size
        found[found] = aware[at[found]] == prospects[found]
        term[at[found]] = self.impression_term[found]
        logit += c.wom * term
        if lev.referral_active:
            logit += ((c.referral if lev.referral_receiver_paid else 0.0) + lev.referral_boost) * st.referred[aware]
        _add_lever(logit, lev.adoption_boost, aware)
        if gap:
            logit -= price(aware)
        adopters = aware[u[aware] < _logistic(logit)] if choice is None else None

        customers = (status == CUSTOMER).nonzero()[0]
        if choice is not None:
            customers = choice.stay(customers)
        rp = sc.purchase.repurchase
        logit_r = _times(pop.L[customers], rp.loyalty)
        logit_r += rp.intercept
        logit_r += rp.member * pop.member[customers]
        logit_r += rp.engaged * pop.engaged[customers]
        _add_lever(logit_r, lev.repurchase_boost, customers)
        if gap:
            logit_r -= price(customers)
        repurchasers = customers[u[customers] < _logistic(logit_r)]

        churned = (status == CHURNED).nonzero()[0]
        wb = sc.purchase.winback
        logit_w = _times(pop.L[churned], wb.loyalty)
        logit_w += wb.intercept
        _add_lever(logit_w, lev.winback_boost, churned)
        if gap:
            logit_w -= price(churned)
        if choice is None:
            returners = churned[u[churned] < _logistic(logit_w)]
        else:
            adopters, returners = choice.choose(aware, logit, churned, logit_w)

        st.customers_start = int(customers.size)
        pop.acquired_by[adopters] = pop.last_touch[adopters]
        pop.adopted_at[adopters] = st.t
        status[adopters] = CUSTOMER
        status[returners] = CUSTOMER
        st.adopted, st.repurchased, st.won_back = (np.zeros(n, dtype=bool) for _ in range(3))
        st.adopted[adopters], st.repurchased[repurchasers], st.won_back[returners] = True, True, True
        buyers = np.concatenate([adopters, repurchasers, returners])
        spend = pop.spend[buyers]
        pop.revenue[buyers] += spend * lev.price
        st.revenue = float(spend.sum() * lev.price)
        st.cost_of_goods = float(spend.sum() * (1.0 - sc.brand.margin))
        if adopters.size or returners.size or choice is not None:  # the customers now, sorted
            customers = (status == CUSTOMER).nonzero()[0]
        return customers, np.sort(buyers)

    # ---------------------------------------------------------------------------------------------- step 6
    @staticmethod
    def experience(
        pop: Population, lev: Levers, sc: Scenario, t: int, draws, st: dyn.TickState, buyers: np.ndarray
    ) -> None:
        """`dyn.experience` on the buyers found by step 5."""
        u_quality, u_fail, u_recover = draws
        ex = sc.experience
        recovered_late = dyn.arrive_recoveries(pop, lev, t)
        z = ndtri(clip_array(u_quality[buyers], 1e-12, 1 - 1e-12))

        x = clip_array(dyn._at(lev.quality, buyers) + pop.fit[buyers] + ex.noise * z, 0.0, 1.0)
        failed = u_fail[buyers] < dyn._at(lev.service_failure, buyers)
        recovered = failed & (u_recover[buyers] < dyn._at(lev.recovery_coverage, buyers))
        delay = dyn._at(lev.recovery_delay, buyers)
        immediate = recovered & (delay == 0)
        delayed = recovered & (delay >= 1)
        within = recovered & (delay > 0) & (delay < 1)
        unrecovered = failed & ~immediate
        soft = np.maximum(0.0, x - ex.failure_penalty * (1 - dyn._at(lev.recovery_effectiveness, buyers)))
        x = np.where(immediate, soft, np.where(failed, np.maximum(0.0, x - ex.failure_penalty), x))

        E, T = pop.E[buyers], pop.T[buyers]
        first = ~pop.experienced[buyers]
        S_prev = np.where(first, E, pop.S[buyers])
        dyn.queue_recoveries(pop, t, delay, delayed, buyers, S_prev, T)

        S_new, pop.E[buyers], pop.T[buyers] = dyn.disconfirm(ex, x, E, S_prev, T, first, unrecovered)
        pop.S[buyers] = np.where(immediate, S_new + dyn._at(lev.recovery_paradox, buyers) * (1.0 - S_new), S_new)
        if within.any():
            dyn.recover_within(
                pop, lev, t, buyers[within], dyn._at(delay, within.nonzero()[0]), S_prev[within], T[within]
            )

        pop.experienced[buyers] = True
        pop.purchases[buyers] += 1
        pop.last_purchase[buyers] = t
        pop.failures[buyers[failed]] += 1
        pop.recoveries[buyers[immediate]] += 1
        pop.failed_last[:] = 0.0
        pop.failed_last[buyers[unrecovered]] = np.where(within, delay, 1.0)[unrecovered]
        st.unrecovered = pop.failed_last.copy()
        st.failures = int(failed.sum())
        st.recoveries = int(immediate.sum()) + int(within.sum()) + recovered_late

    # ---------------------------------------------------------------------------------------------- steps 7-8
    @staticmethod
    def update_loyalty(pop: Population, lev: Levers, sc: Scenario, brand: float, st, idx: np.ndarray) -> None:
        """`dyn.update_loyalty` on the customers step 5 left."""
        w = sc.loyalty.weights
        target = (
            w.value * _perceived_value(pop, lev, sc, idx) + w.satisfaction * pop.S[idx] + w.trust * pop.T[idx]
            + w.attachment * pop.A[idx] + w.brand * brand
        )  # fmt: skip
        rate = np.where(st.adopted[idx], 1.0, sc.loyalty.rate)
        pop.L[idx] = dyn.pull(pop.L[idx], target, rate)
        at = sc.loyalty.attachment
        gain = (
            at.spread_gain * st.spoke_positive[idx] + at.member_gain * pop.member[idx]
            + at.engaged_gain * pop.engaged[idx]
        )  # fmt: skip
        A = pop.A[idx]
        pop.A[idx] = clip_array(A + gain * (1.0 - A) - at.decay * A, 0.0, 1.0)

    @staticmethod
    def churn(pop: Population, lev: Levers, sc: Scenario, u: np.ndarray, st, idx: np.ndarray) -> None:
        """`dyn.churn` on the same customers (step 7 changes no status)."""
        ch = sc.churn
        hazard = (
            ch.base_hazard
            * np.exp(-ch.loyalty_slope * (pop.L[idx] - ch.reference_loyalty))
            * (1.0 + ch.negative_wom * st.heard_negative[idx])
            * (1.0 + ch.failure_multiplier * st.unrecovered[idx])
            * dyn._at(lev.hazard_multiplier, idx)
        )
        leavers = idx[u[idx] < -np.expm1(-hazard)]
        st.customers_exposed = int(idx.size)
        pop.status[leavers] = CHURNED
        pop.churned_at[leavers] = st.t
        pop.customer_ticks[idx] += 1
        st.churned = np.zeros(pop.n, dtype=bool)
        st.churned[leavers] = True
        st.at_risk = int(np.count_nonzero(hazard >= 3.0 * ch.base_hazard))


def _count_sent(counter: np.ndarray, src: np.ndarray) -> None:
    """`counter[who] += many` of `dyn._sent_per_sender(src)`: messages sent per sender, added to an integer counter.

    At small N, or with many messages for the population (an eighth of N or more), one bincount over everyone adds
    the same counts (zeros elsewhere) in three numpy calls instead of seven (5,000 people: 8-15 us against 27-60);
    with few messages among many people, the runs of `src`.
    """
    if counter.size <= 20_000 or src.size * 8 >= counter.size:
        counter += np.bincount(src, minlength=counter.size).astype(counter.dtype)
    else:
        who, many = dyn._sent_per_sender(src)
        counter[who] += many.astype(counter.dtype)


def _adoption_ceiling(pop: Population, lev: Levers, sc: Scenario, brand: float, gap: float) -> float:
    """An upper bound of the adoption probability of every prospect who heard nothing this tick (1.0: no bound).

    The probability of `_adoption_logit_bound`, raised by a relative 1e-9, far above the rounding of the logit's
    terms (about 1e-15 each), so a prospect left out by `u < ceiling` has u above their probability as the
    reference computes it, and does not adopt there either.
    """
    logit = _adoption_logit_bound(pop, lev, sc, brand, gap)
    if not np.isfinite(logit):
        return 1.0
    ceiling = 1.0 / (1.0 + np.exp(-logit))
    return float(min(1.0, ceiling * (1.0 + 1e-9) + 1e-300))


def _adoption_logit_bound(pop: Population, lev: Levers, sc: Scenario, brand: float, gap: float) -> float:
    """An upper bound of the adoption log-odds of every prospect who heard nothing this tick (may be inf or nan).

    Each term of the logit at its largest: E and T at their largest in the population, V in [0, 1] (clipped),
    a per-person boost at its largest, the price term with psi in [0, 1]; the WOM term and the referral tag are
    0 for who heard nothing and holds no doubt (`dyn.hold_doubt`; the others are always computed).
    """
    c = sc.purchase.adoption
    E_hi = _largest(pop.E, c.expectation)
    T_hi = _largest(pop.T, c.trust)
    boost = lev.adoption_boost
    boost_hi = float(np.max(boost)) if isinstance(boost, np.ndarray) and boost.size else float(boost or 0.0)
    price_hi = max(-sc.purchase.price_response * gap, 0.0) if gap else 0.0
    return float(c.intercept + E_hi + T_hi + c.brand * brand + max(c.value, 0.0) + boost_hi + price_hi)


def _largest(x: np.ndarray, coefficient: float) -> float:
    """The largest value of coefficient * x_i over the population (its sign picks max or min of x)."""
    if not x.size:
        return 0.0
    return float(coefficient * (x.max() if coefficient >= 0 else x.min()))


def _novelty(pop: Population, sc: Scenario, idx: np.ndarray, t: int) -> np.ndarray | float:
    """`dyn.novelty` at idx, the power (1 - decay)^age read from a table of the ages 0..t (ages are whole ticks,
    at most t): the same `np.power` of the same numbers, once per age instead of once per person."""
    wom = sc.wom
    if wom.talk_floor >= 1.0 or wom.novelty_decay <= 0.0:
        return 1.0
    age = np.maximum(t - 1 - pop.last_purchase[idx], 0)
    table = (1.0 - wom.novelty_decay) ** np.arange(t + 1, dtype=age.dtype)
    return wom.talk_floor + (1.0 - wom.talk_floor) * table[age]


def _clip_states(pop: Population) -> None:
    """`dyn.clip_states`: every continuous state clipped to [0, 1] in place."""
    for arr in (pop.E, pop.S, pop.T, pop.A, pop.L):
        clip_array(arr, 0.0, 1.0, out=arr)


def _perceived_value(pop: Population, lev: Levers, sc: Scenario, idx: np.ndarray) -> np.ndarray | float:
    """`dyn.perceived_value` at idx; at price 1 it is the same number for everyone, returned as that scalar.

    At price 1 the price term is w * psi * 0.0, a zero (psi is finite, clipped to [0, 1] at the start), and Q plus a
    zero is Q: so every person's V is clip(Q), with no gather of psi and no array arithmetic.
    """
    if lev.price == 1.0 and np.ndim(lev.quality) == 0:
        return clip01(lev.quality + sc.purchase.value_price_weight * 0.0)
    return dyn.perceived_value(pop, lev, sc, idx)


def _times(x: np.ndarray, factor: float) -> np.ndarray:
    """x * factor in place (x is a fresh gather); the same product as `factor * x`."""
    x *= factor
    return x


def _add_lever(acc: np.ndarray, lever: float | np.ndarray, idx: np.ndarray) -> None:
    """acc + lever at idx (a per-person lever or a scalar), in place; a scalar 0 changes no decision."""
    if isinstance(lever, np.ndarray):
        acc += lever[idx]
    elif lever:
        acc += lever


def _logistic(z: np.ndarray) -> np.ndarray:
    """`dyn.logistic` in place: 1 / (1 + exp(-z)), the same operations on z's own buffer."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.divide(1.0, z, out=z)


def _owner(offsets: np.ndarray, positions: np.ndarray, senders: np.ndarray) -> np.ndarray:
    """Sender of each edge position of a gather whose per-sender runs start at `offsets` (sorted)."""
    return senders[np.searchsorted(offsets, positions, side="right") - 1]


def _forward(
    pop: Population, heard: np.ndarray, compact: tuple, sent: tuple, content: tuple, u: tuple, fw: Any
) -> None:
    """`dyn.forward` over the compact ids of the heard: (positive, negative) pairs of the compact receiver ids,
    the deliveries, their contents and the two forwarding uniforms."""
    h = heard.size
    ids, cont, k = [], [], []
    for c, d, x in zip(compact, sent, content, strict=True):
        keep = dyn._firsthand(d, fw.chain)
        ids.append(c[keep])
        cont.append(x[keep])
        k.append(np.bincount(ids[-1], minlength=h))
    total = k[0] + k[1]
    cand = (total > 0).nonzero()[0]
    who, kc = heard[cand], total[cand]
    share_pos, share_neg = k[0][cand] / kc, k[1][cand] / kc
    p_retell_pos = fw.positive * share_pos
    will_pos = u[0][who] < p_retell_pos
    will_neg = ~will_pos & (u[1][who] * (1.0 - p_retell_pos) < fw.negative * share_neg)
    for will, relay, sel, i, x, count in (
        (pop.forward_pos, pop.relay_pos, will_pos, ids[0], cont[0], k[0]),
        (pop.forward_neg, pop.relay_neg, will_neg, ids[1], cont[1], k[1]),
    ):
        will[:] = False
        at = cand[sel]
        will[heard[at]] = True
        relay[heard[at]] = np.bincount(i, weights=x, minlength=h)[at] / count[at]
