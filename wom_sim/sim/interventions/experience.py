"""Customer-experience levers of the mobile-loyalty and crisis reports: omnichannel service, social content and
short video, a better mobile app. Who is cross-channel or an app user is drawn once per person (a fixed trait)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from wom_sim.scenario.interventions import MobileExperienceParams, OmnichannelParams, SocialContentParams
from wom_sim.sim.interventions.base import Intervention, InterventionContext, per_person, register
from wom_sim.sim.interventions.context import ScaleSatisfaction
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import CUSTOMER

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState


def _scale_hazard(lev: Levers, who: np.ndarray, factor: float, n: int) -> None:
    """Multiply the churn hazard of `who` (bool mask) by `factor` this tick."""
    if who.any() and factor != 1.0:
        mult = per_person(lev.hazard_multiplier, n)
        mult[who] *= factor
        lev.hazard_multiplier = mult


@register
class Omnichannel(Intervention):
    """Integrated service across channels: a share of customers becomes cross-channel; they churn 2.6x less
    (loyalty 2.6x read as lifetime), are 15% more satisfied after each purchase and cost 5% less to serve.

    Cost: the running cost per tick on air less the cost-to-serve saving (5% of the cost of goods of cross-channel
    purchases that tick), not below 0.
    """

    kind = "omnichannel"

    Params = OmnichannelParams

    def setup(self, ctx: InterventionContext) -> None:
        self.cross = self.uniforms(ctx, -1, ctx.n) < self.params.share
        self.served = self.cross  # this tick's cross-channel people in the target (all of them without one)
        self.saved = 0.0  # cost-to-serve saving, cumulative

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self.served = self.in_target(ctx, t, self.cross)
        who = self.served & (ctx.population.status == CUSTOMER)
        ctx.targeting(who)
        _scale_hazard(lev, who, 1.0 / self.params.loyalty_ratio, ctx.n)

    def settle(self, ctx: InterventionContext, lev: Levers, st: TickState) -> None:
        if not self.on_air:
            return
        p, pop = self.params, ctx.population
        bought = (st.adopted | st.repurchased | st.won_back) & self.served
        if p.satisfaction_gain:
            ctx.request(ScaleSatisfaction(np.flatnonzero(bought), 1.0 + p.satisfaction_gain))
        margin = ctx.scenario.brand.margin
        saving = p.serve_saving * float(pop.spend[bought].sum()) * (1.0 - margin)
        self.saved += saving
        lev.add_cost(self.name, max(p.cost_per_tick - saving, 0.0))


@register
class SocialContent(Intervention):
    """Social content and short video: positive word of mouth is 50% more likely while on air. Cost per tick."""

    kind = "social_content"

    Params = SocialContentParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, speakers = self.params, self.target_mask(ctx, t)
        if speakers is None:
            lev.talk_multiplier *= 1.0 + p.spread_uplift
        else:
            talk = per_person(lev.talk_multiplier, ctx.n)
            talk[speakers] *= 1.0 + p.spread_uplift
            lev.talk_multiplier = talk
        lev.add_cost(self.name, p.cost_per_tick)


@register
class MobileExperience(Intervention):
    """A better mobile app: its rating rises `rating_gain` points and app users' churn hazard falls 5% per point.
    Costs: a one-off redesign plus upkeep per tick on air."""

    kind = "mobile_experience"

    Params = MobileExperienceParams

    def setup(self, ctx: InterventionContext) -> None:
        self.app_user = self.uniforms(ctx, -1, ctx.n) < self.params.app_share

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        who = self.in_target(ctx, t, self.app_user & (ctx.population.status == CUSTOMER))
        ctx.targeting(who)
        _scale_hazard(lev, who, (1.0 - p.churn_cut_per_point) ** p.rating_gain, ctx.n)
        first = len(self.on_air_ticks) == 1
        lev.add_cost(self.name, p.cost_per_tick + (p.one_off_cost if first else 0.0))
