"""Retention levers: loyalty programme, brand community, churn early warning."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from wom_sim.scenario.interventions import ChurnPreventionParams, CommunityParams, LoyaltyProgramParams
from wom_sim.sim.interventions.base import (
    Intervention,
    InterventionContext,
    Join,
    Leave,
    ScaleLoyalty,
    per_person,
    register,
    reward_response,
)
from wom_sim.sim.interventions.targeting import start_hazard
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import CUSTOMER

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState


class _Enrolment(Intervention):
    """Shared by programmes that enrol customers over time: each person has a fixed affinity (drawn once), so a
    share `uptake` of customers will ever join; eligible ones join at `rate` per tick on air; leavers drop out.
    """

    flag = ""  # the population flag the programme sets ("member" or "engaged")

    def setup(self, ctx: InterventionContext) -> None:
        self.affinity = self.uniforms(ctx, -1, ctx.n)
        # Its own members: the population flag is shared by every programme of the kind (two loyalty programmes for
        # two segments), so each counts, pays for and lets go of only the people it enrolled.
        self.members = np.zeros(ctx.n, dtype=bool)

    def enrol(self, ctx: InterventionContext, t: int, uptake: float, rate: float, eligible: np.ndarray) -> np.ndarray:
        """Request this tick's joins and leaves and return the programme's own members after them (customers only)."""
        pop = ctx.population
        flag = getattr(pop, self.flag)
        customers = pop.status == CUSTOMER
        joins = customers & eligible & ~flag & (self.affinity < uptake) & (self.uniforms(ctx, t, pop.n) < rate)
        ctx.request(Join(self.flag, joins))
        ctx.request(Leave(self.flag, ~customers))  # churned people leave the programme
        # A member another programme's end took the flag from (both enrolled them in one tick) is out of this one too.
        self.members = ((self.members & flag) | joins) & customers
        return self.members

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        if self.last_on == t - 1:  # the programme just ended: its members leave it
            ctx.request(Leave(self.flag, self.members))
            self.members = np.zeros(ctx.n, dtype=bool)


@register
class LoyaltyProgram(_Enrolment):
    """A loyalty programme: members repurchase more (`purchase.repurchase.member`) and bond
    (`loyalty.attachment.member_gain`). Costs: a fee per member per tick plus a reward share of member revenue.

    The reward's value drives enrolment and use (Kivetz & Simonson 2002; Dorotic, Bijmolt & Verhoef 2012): with
    g = `reward_response(reward_share, reward_half)` (0 without a reward, 1 at `reward_half`, at most 2), a share
    min(1, g x `uptake`) of eligible customers will ever join and members' repurchase log-odds lift is g x
    `purchase.repurchase.member` (the lever adds (g - 1) x that to members' `repurchase_boost`). Bonding
    (`member_gain`) comes with membership whatever the reward.
    """

    kind = "loyalty_program"
    flag = "member"

    Params = LoyaltyProgramParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        pull = reward_response(p.reward_share, p.reward_half)
        eligible = self.in_target(ctx, t, ctx.population.purchases >= p.min_purchases)
        members = self.enrol(ctx, t, min(1.0, pull * p.uptake), p.enrol_rate, eligible)
        if pull != 1.0 and members.any():
            boost = per_person(lev.repurchase_boost, ctx.n)
            boost[members] += (pull - 1.0) * ctx.scenario.purchase.repurchase.member
            lev.repurchase_boost = boost
        lev.add_cost(self.name, p.cost_per_member * np.count_nonzero(members))

    def settle(self, ctx: InterventionContext, lev: Levers, st: TickState) -> None:
        if not self.on_air:
            return
        pop = ctx.population
        bought = (st.adopted | st.repurchased | st.won_back) & self.members
        lev.add_cost(self.name, self.params.reward_share * float(pop.spend[bought].sum()) * lev.price)


@register
class Community(_Enrolment):
    """A brand community: engaged customers repurchase more (`purchase.repurchase.engaged`), bond
    (`loyalty.attachment.engaged_gain`) and, per social interaction per tick, hold loyalty about 3% higher.

    The +3% acts on the loyalty step: engaged customers' L is raised by a factor g each tick, chosen so that
    with `loyalty.rate` = lambda the steady state is L*(1 + 0.03 k) for k interactions per tick:
    (1 + g) = (1 - lambda / (1 + 0.03 k)) / (1 - lambda).
    """

    kind = "community"
    flag = "engaged"

    Params = CommunityParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        engaged = self.enrol(ctx, t, p.uptake, p.join_rate, self.in_target(ctx, t, np.ones(ctx.n, dtype=bool)))
        lam = ctx.scenario.loyalty.rate
        gain = p.loyalty_per_interaction * p.interactions_per_tick
        if lam < 1 and gain > 0:
            factor = (1.0 - lam / (1.0 + gain)) / (1.0 - lam)
            ctx.request(ScaleLoyalty(engaged, factor))
        lev.add_cost(self.name, p.cost_per_tick + p.cost_per_member * np.count_nonzero(engaged))


@register
class ChurnPrevention(Intervention):
    """Churn early warning: flag at-risk customers with a given precision and recall, make them a retention offer
    that cuts their churn hazard for a few ticks.

    At risk = customers whose hazard at the start of the tick (loyalty and last tick's negative WOM, the churn
    formula of docs/model.md step 8 without this tick's failures, which nobody can know yet) is in the top
    `at_risk_share`. Recall: each customer has a fixed chance `recall` of being detectable when at risk (drawn
    once: a model's blind spots persist). Precision: for every true flag, (1-precision)/precision customers not at
    risk are flagged too. A flagged customer without a running offer gets one (cost per offer); it lasts
    `offer_ticks` ticks, during which the hazard is multiplied by 1 - offer_effect.
    """

    kind = "churn_prevention"

    Params = ChurnPreventionParams

    def setup(self, ctx: InterventionContext) -> None:
        self.detectable = self.uniforms(ctx, -1, ctx.n) < self.params.recall
        self.offer_until = np.full(ctx.n, -1, dtype=np.int64)
        self.true_flags = 0
        self.false_flags = 0

    def risk_score(self, ctx: InterventionContext) -> np.ndarray:
        """Churn hazard at the start of the tick (docs/model.md step 8 with last tick's W-, no failure term)."""
        return start_hazard(ctx)

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, pop, n = self.params, ctx.population, ctx.n
        customers = pop.status == CUSTOMER
        u = self.uniforms(ctx, t, n)
        if customers.any():
            score = self.risk_score(ctx)
            cut = np.quantile(score[customers], 1.0 - p.at_risk_share)
            at_risk = customers & (score >= cut)
            free = self.in_target(ctx, t, customers & (self.offer_until < t))  # flags, true or false, in the target
            hits = at_risk & free & self.detectable
            rounding = self.uniforms(ctx, t, 1, slot=1)[0]  # stochastic rounding keeps the expected precision exact
            n_false = int(np.floor(hits.sum() * (1.0 - p.precision) / p.precision + rounding))
            candidates = np.flatnonzero(customers & ~at_risk & free)
            false = candidates[np.argsort(u[candidates], kind="stable")[:n_false]]
            offered = hits.copy()
            offered[false] = True
            self.offer_until[offered] = t + p.offer_ticks - 1
            ctx.targeting(offered)  # people table: times targeted = offers made
            self.true_flags += int(hits.sum())
            self.false_flags += int(false.size)
            lev.add_cost(self.name, p.cost_per_offer * np.count_nonzero(offered))
        self._protect(lev, t, n)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self._protect(lev, t, ctx.n)  # offers made while on air run their course

    def _protect(self, lev: Levers, t: int, n: int) -> None:
        running = self.offer_until >= t
        if running.any():
            mult = per_person(lev.hazard_multiplier, n)
            mult[running] *= 1.0 - self.params.offer_effect
            lev.hazard_multiplier = mult
