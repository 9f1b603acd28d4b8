"""Competitor moves: events that change a rival's offer this tick (`lev.rivals`), like the company's own levers.

Each is a small registered class acting through the `InterventionContext` (never the model): it reads the rivals'
state from `ctx.market` and sets the rival's `RivalLevers` of this tick. The focal brand's answers are ordinary
interventions with triggers on the competition columns, e.g. a `price_change` with
`when: {metric: rival_undercut_ticks, op: ">=", value: 2}` (a rival cheaper than us for two weeks).
"""

from __future__ import annotations

import numpy as np

from wom_sim.scenario.interventions import (
    CompetitorAdvertisingParams,
    CompetitorCrisisParams,
    CompetitorKolCampaignParams,
    CompetitorPriceParams,
    CompetitorQualityParams,
)
from wom_sim.sim.interventions.base import Intervention, InterventionContext, register
from wom_sim.sim.levers import Levers, RivalLevers


class _CompetitorMove(Intervention):
    """A move of one rival (`params.competitor`): `rival(ctx, lev)` is its levers this tick."""

    def setup(self, ctx: InterventionContext) -> None:
        self.code = [c.name for c in ctx.scenario.competitors].index(self.params.competitor) + 1

    def rival(self, lev: Levers) -> RivalLevers:
        return lev.rivals[self.code - 1]


@register
class CompetitorPrice(_CompetitorMove):
    """A rival's price index while on air."""

    kind = "competitor_price"
    Params = CompetitorPriceParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self.rival(lev).price = self.params.price


@register
class CompetitorQuality(_CompetitorMove):
    """A rival's quality (and failure rate) while on air: a better product, or a worse one."""

    kind = "competitor_quality"
    Params = CompetitorQualityParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        rl = self.rival(lev)
        rl.quality = self.params.quality
        if self.params.service_failure is not None:
            rl.service_failure = self.params.service_failure


@register
class CompetitorAdvertising(_CompetitorMove):
    """A rival's advertising burst: more reach, some reputation lift."""

    kind = "competitor_advertising"
    Params = CompetitorAdvertisingParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        rl = self.rival(lev)
        rl.advertising *= self.params.reach_multiplier
        rl.brand_lift += self.params.brand_lift


@register
class CompetitorKolCampaign(_CompetitorMove):
    """The scenario's KOLs post positively about a rival (at most one post per KOL per tick)."""

    kind = "competitor_kol_campaign"
    Params = CompetitorKolCampaignParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        posts = np.zeros(ctx.n, dtype=bool)
        kols = np.asarray(ctx.kol_ids)
        posts[kols[self.uniforms(ctx, t, kols.size) < self.params.posts_per_tick]] = True
        self.rival(lev).force("positive", posts)


@register
class CompetitorCrisis(_CompetitorMove):
    """A rival's crisis: its reputation falls at once, its quality while on air, and its customers vent."""

    kind = "competitor_crisis"
    Params = CompetitorCrisisParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, rl = self.params, self.rival(lev)
        if len(self.on_air_ticks) < 2 or self.on_air_ticks[-2] != t - 1:  # the first tick of a spell on air
            rl.brand_shock = 1.0 - (1.0 - rl.brand_shock) * (1.0 - p.brand_damage)
        rl.quality -= p.quality_drop
        users = np.asarray(ctx.market.rival) == self.code
        rl.force("negative", users & (self.uniforms(ctx, t, ctx.n) < p.outrage_rate))
