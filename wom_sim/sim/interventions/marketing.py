"""Acquisition levers: advertising, KOL campaigns, referral rewards, price changes, personal offers, fake reviews."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from wom_sim.errors import ScenarioError
from wom_sim.network.kols import select_kols
from wom_sim.scenario.interventions import (
    AdvertisingParams,
    FakeReviewsParams,
    KolCampaignParams,
    PersonalisedMarketingParams,
    PriceChangeParams,
    ReferralRewardParams,
)
from wom_sim.sim.interventions.base import (
    CutTrust,
    Intervention,
    InterventionContext,
    PromoteKols,
    combine_shares,
    logit,
    per_person,
    register,
    reward_response,
)
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import CUSTOMER, REFERRAL

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState


@register
class Advertising(Intervention):
    """An advertising campaign on top of always-on marketing: more reach, a claim, some brand lift."""

    kind = "advertising"

    Params = AdvertisingParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, who = self.params, self.target_mask(ctx, t)
        if who is None:
            lev.ad_reach *= p.reach_multiplier
            if p.claim is not None:
                lev.claim = p.claim
        else:  # a targeted buy: more reach and its claim only for the target; always-on ads still reach everyone
            reach = per_person(lev.ad_reach, ctx.n)
            reach[who] *= p.reach_multiplier
            lev.ad_reach = reach
            if p.claim is not None:
                claim = per_person(lev.claim, ctx.n)
                claim[who] = p.claim
                lev.claim = claim
        lev.brand_lift += p.brand_lift  # reputation is one number per brand: a lift is never targeted
        lev.add_cost(self.name, p.budget_per_tick)


@register
class KolCampaign(Intervention):
    """Paid KOL posts: hired KOLs post positively each tick on air; a poorly screened one may start a backlash.

    Backlash: per post with probability `backlash_risk * (1 - screening)` (times `undisclosed_risk` without
    disclosure) the KOL is dropped, the brand and the trust of the KOL's followers drop at once, and the KOL plus a
    share of its followers post negatively for the next `backlash_ticks` ticks (a secondary crisis, crisis report).
    """

    kind = "kol_campaign"

    Params = KolCampaignParams

    def setup(self, ctx: InterventionContext) -> None:
        p = self.params
        if p.select is None:
            self.kols = np.array(ctx.kol_ids, dtype=np.int64)
        else:
            rng = np.random.default_rng(self.seed_sequence(ctx, -1))
            among = self.target_mask(ctx, 0) if p.select.by != "ids" else None  # a targeted hire: from the target
            try:
                kols = select_kols(ctx.graph, p.select, rng, time_budget=p.time_budget, among=among)
            except ScenarioError as err:
                raise ScenarioError(f"{self.name}: {err}") from None
            self.kols = np.asarray(kols, np.int64)
            kols = ctx.scenario.kols
            ctx.request(PromoteKols(self.kols, kols.credibility, kols.talkativeness))
        self.hired = np.ones(self.kols.size, dtype=bool)  # dropped after a backlash
        self.burst_until = np.full(ctx.n, -1, dtype=np.int64)  # forced negative posts through this tick
        self.backlashes: list[tuple[int, int]] = []  # (tick, KOL id)
        self.posts = 0

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, n = self.params, ctx.n
        k = self.kols.size
        u = self.uniforms(ctx, t, 2 * k)
        posting = self.hired & (u[:k] < p.posts_per_tick)
        who = self.target_mask(ctx, t)
        if who is not None:  # only the hired KOLs the target names now post (the draws stay those of all hired)
            posting &= who[self.kols]
        posters = self.kols[posting]
        mask = np.zeros(n, dtype=bool)
        mask[posters] = True
        lev.force("positive", mask)
        if p.disclosure and posters.size:
            cred = per_person(lev.positive_credibility, n)
            cred[posters] *= p.disclosure_credibility
            lev.positive_credibility = cred
        self.posts += int(posters.size)
        lev.add_cost(self.name, p.fee_per_post * posters.size)

        risk = p.backlash_risk * (1.0 - p.screening) * (1.0 if p.disclosure else p.undisclosed_risk)
        for j in np.flatnonzero(posting & (u[k:] < risk)):
            self._backlash(ctx, lev, t, j)
        self._burst(lev, t, n)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        if self.on_air_ticks:
            self._burst(lev, t, ctx.n)

    def _backlash(self, ctx: InterventionContext, lev: Levers, t: int, j: int) -> None:
        """KOL j's post backfires: it is dropped, followers lose trust, it and some followers post negatively."""
        p, g = self.params, ctx.graph
        kol = int(self.kols[j])
        followers = g.indices[g.indptr[kol] : g.indptr[kol + 1]].astype(np.int64)
        joins = self.uniforms(ctx, t, ctx.n, slot=1 + j)[followers] < p.backlash_share
        self.burst_until[np.append(followers[joins], kol)] = t + p.backlash_ticks
        ctx.request(CutTrust(followers, p.backlash_trust_drop))
        lev.brand_shock = combine_shares(lev.brand_shock, p.backlash_brand_shock)
        self.hired[j] = False
        self.backlashes.append((t, kol))

    def _burst(self, lev: Levers, t: int, n: int) -> None:
        """Negative posts of running backlashes (they start the tick after the backlash)."""
        burst = (self.burst_until >= t) & (self.burst_until - self.params.backlash_ticks < t)
        if burst.any():
            lev.force("negative", burst)


@register
class ReferralReward(Intervention):
    """A reward per successful referral: customers talk more, their messages carry a referral tag, referred
    prospects adopt more readily; incentivised WOM is slightly less credible. Paid when a referred prospect adopts
    (also after the programme ends, for prospects it referred while on air). With a `target`, only the targeted
    customers talk more and tag their messages, so only their referrals adopt more readily and are paid.

    What a reward buys grows with its value relative to the mean spend per purchase, with diminishing returns
    (Ryu & Feick 2007; Wirtz, Orsingh, Chew & Tambyah 2013): with g = `reward_response(reward / spend,
    reward_half)`, the sender's g scales the talk uplift and the credibility discount, the receiver's g the
    referred prospect's pull, `purchase.adoption.referral` + `adoption_boost`. No reward, no effect.
    """

    kind = "referral_reward"

    Params = ReferralRewardParams

    def setup(self, ctx: InterventionContext) -> None:
        self.referrals = 0
        # Currency per purchase at price index 1, the yardstick of a reward's value (a person table's spend included).
        self.spend = float(np.mean(ctx.population.spend)) if ctx.n else 0.0
        self.senders: np.ndarray | None = None  # whose messages it tags this tick (None: every customer's)
        # Whose latest referral touch came from this programme's senders while it was on air: another referral
        # programme (a second target, a later campaign) tags messages too, and its referrals are not this one's.
        self.credited = np.zeros(ctx.n, dtype=bool)

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, senders = self.params, self.target_mask(ctx, t)
        self.senders = senders
        purchase = self.spend * lev.price
        sender_pull = reward_response(p.sender_reward / purchase, p.reward_half) if purchase > 0 else 0.0
        receiver_pull = reward_response(p.receiver_reward / purchase, p.reward_half) if purchase > 0 else 0.0
        uplift = p.talk_uplift * sender_pull
        if senders is None:
            lev.talk_multiplier *= 1.0 + uplift
            lev.referral_senders = None  # every customer's messages carry the tag
        else:
            talk = per_person(lev.talk_multiplier, ctx.n)
            talk[senders] *= 1.0 + uplift
            lev.talk_multiplier = talk
            if not lev.referral_active or lev.referral_senders is not None:  # widen, never narrow, another's tag
                lev.referral_senders = senders if lev.referral_senders is None else lev.referral_senders | senders
        lev.referral_active = True
        lev.referral_credibility *= 1.0 - (1.0 - p.credibility) * sender_pull
        lev.referral_boost += p.adoption_boost * receiver_pull
        if p.receiver_reward > 0:
            self._receiver_pull(ctx, lev, t, receiver_pull)

    @staticmethod
    def _receiver_pull(ctx: InterventionContext, lev: Levers, t: int, pull: float) -> None:
        """Scale the tag's `purchase.adoption.referral`, which the tick adds once while any programme pays the
        referred, by the largest receiver's pull among this tick's programmes: each adds its step above the last."""
        b_ref = ctx.scenario.purchase.adoption.referral
        tick, most = ctx.shared.get("referral_receiver_pull", (None, 0.0))
        if tick != t:  # the first programme paying the referred this tick
            lev.referral_receiver_paid = True
            lev.referral_boost += b_ref * (pull - 1.0)  # with the tick's b_ref: b_ref x pull
        elif pull > most:
            lev.referral_boost += b_ref * (pull - most)
        ctx.shared["referral_receiver_pull"] = (t, max(pull, most if tick == t else 0.0))

    def settle(self, ctx: InterventionContext, lev: Levers, st: TickState) -> None:
        if not self.on_air_ticks:
            return
        # This tick's referral touches: the programme's own if it is on air and the referrer is one of its senders.
        referrer = st.referrer
        touched = referrer >= 0
        if self.on_air:
            mine = touched if self.senders is None else touched & self.senders[np.maximum(referrer, 0)]
            self.credited[touched] = mine[touched]
        else:
            self.credited[touched] = False
        # A successful referral: a prospect adopting this tick whose last touch was a referral-tagged message from
        # this programme, also after the programme ended if the referral came while it ran.
        n = int(np.count_nonzero(st.adopted & (ctx.population.acquired_by == REFERRAL) & self.credited))
        self.referrals += n
        lev.add_cost(self.name, n * (self.params.sender_reward + self.params.receiver_reward))


@register
class PriceChange(Intervention):
    """A new price index while on air: a cut raises perceived value and adoption and lowers the margin per sale
    (automatic: revenue = spend * price, cost of goods = spend * (1 - margin)); a cut also erodes the brand slowly.
    """

    kind = "price_change"

    Params = PriceChangeParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        cut = max(0.0, ctx.scenario.brand.price - p.price)
        lev.price = p.price
        lev.brand_shock = combine_shares(lev.brand_shock, min(1.0, p.brand_erosion * cut))


@register
class PersonalisedMarketing(Intervention):
    """Personalised offers to a share of customers each tick: their repurchase odds rise (about +15%)."""

    kind = "personalised_marketing"

    Params = PersonalisedMarketingParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, pop = self.params, ctx.population
        targeted = self.in_target(ctx, t, (pop.status == CUSTOMER) & (self.uniforms(ctx, t, pop.n) < p.share))
        r = p.reference_rate
        boost = logit(min(r * (1.0 + p.uplift), 0.999)) - logit(r)
        arr = per_person(lev.repurchase_boost, pop.n)
        arr[targeted] += boost
        lev.repurchase_boost = arr
        lev.add_cost(self.name, p.cost_per_target * np.count_nonzero(targeted))


@register
class FakeReviews(Intervention):
    """Bought reviews: prospects' expectation creeps up while on air; once exposed, trust and brand fall, the
    lift is withdrawn, some customers post negatively, and the campaign stops for good.
    """

    kind = "fake_reviews"

    Params = FakeReviewsParams

    def setup(self, ctx: InterventionContext) -> None:
        self.exposed: int | None = None
        self.lift_given = 0.0

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        if self.exposed is None:
            lev.expectation_shift += p.expectation_lift
            self.lift_given += p.expectation_lift
            lev.add_cost(self.name, p.cost_per_tick)
            due = p.exposed_at is not None and t >= p.exposed_at
            if due or (p.exposed_at is None and self.uniforms(ctx, t, 1)[0] < p.exposure_prob):
                self._expose(lev, t)
        self._outrage(ctx, lev, t)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        if self.exposed is None and self.on_air_ticks and p.exposed_at is not None and t >= p.exposed_at:
            self._expose(lev, t)  # found out after the campaign stopped
        self._outrage(ctx, lev, t)

    def _expose(self, lev: Levers, t: int) -> None:
        p = self.params
        self.exposed = t
        lev.trust_shock = combine_shares(lev.trust_shock, p.trust_drop)
        lev.brand_shock = combine_shares(lev.brand_shock, p.brand_shock)
        lev.expectation_shift -= self.lift_given

    def _outrage(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        if self.exposed is None or t >= self.exposed + self.params.outrage_ticks:
            return
        pop = ctx.population
        # The same people each tick of the outrage: their draw is keyed by the exposure tick.
        angry = pop.experienced & (self.uniforms(ctx, self.exposed, pop.n, slot=1) < self.params.outrage_share)
        lev.force("negative", angry)
