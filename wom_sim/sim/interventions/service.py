"""Service levers: a better service (quality, fewer failures, faster positive WOM) and service recovery."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from wom_sim.scenario.durations import in_ticks
from wom_sim.scenario.interventions import ServiceImprovementParams, ServiceRecoveryParams
from wom_sim.sim.interventions.base import Intervention, InterventionContext, per_person, register
from wom_sim.sim.levers import Levers

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState


@register
class ServiceImprovement(Intervention):
    """Smart service: quality up, failures down, positive WOM about 30% more frequent while on air.

    Costs: a one-off investment on the first tick on air plus a running cost per tick on air.
    """

    kind = "service_improvement"

    Params = ServiceImprovementParams

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, served = self.params, self.target_mask(ctx, t)
        if served is None:
            lev.quality += p.quality_gain
            lev.service_failure *= 1.0 - p.failure_reduction
            lev.talk_multiplier *= 1.0 + p.talk_uplift
        else:  # a better service for some people only: the three levers become per person
            quality, failure = per_person(lev.quality, ctx.n), per_person(lev.service_failure, ctx.n)
            talk = per_person(lev.talk_multiplier, ctx.n)
            quality[served] += p.quality_gain
            failure[served] *= 1.0 - p.failure_reduction
            talk[served] *= 1.0 + p.talk_uplift
            lev.quality, lev.service_failure, lev.talk_multiplier = quality, failure, talk
        first = len(self.on_air_ticks) == 1
        lev.add_cost(self.name, p.cost_per_tick + (p.one_off_cost if first else 0.0))


@register
class ServiceRecovery(Intervention):
    """Service recovery: a share of failures is put right after a delay (0 = on the spot; ticks or "2 days"),
    restoring satisfaction and trust; an on-the-spot recovery also spares the customer the failure's negative WOM
    and churn spike, and one within the failure's tick spares the part of the tick after it lands (docs/model.md
    step 6). No recovery paradox by default (de Matos et al. 2007).

    Cost per recovered case, booked when the recovery reaches the customer: every recovery in a tick on air or
    within `delay` ticks after (the cases it started).
    """

    kind = "service_recovery"

    Params = ServiceRecoveryParams

    def setup(self, ctx: InterventionContext) -> None:
        # "2 days" in ticks of this scenario (2/7 of a week): under one tick the recovery lands within the failure's
        # tick (docs/model.md step 6).
        self.delay = in_ticks(self.params.delay, ctx.scenario.tick_unit)
        self.cases = 0
        self.who: np.ndarray | None = None  # a targeted programme: who it served when last on air
        self.before = 0  # the target's recoveries counted before this tick's step 6

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, who = self.params, self.target_mask(ctx, t)
        values = {
            "recovery_coverage": p.coverage,
            "recovery_delay": self.delay,
            "recovery_effectiveness": p.effectiveness,
        }
        if p.paradox is not None:
            values["recovery_paradox"] = p.paradox
        for field, value in values.items():
            if who is None:
                setattr(lev, field, value)
            else:  # the programme for the target only; everyone else keeps the scenario's (or another programme's)
                current = getattr(lev, field)
                arr = np.full(ctx.n, current, dtype=np.float64) if np.ndim(current) == 0 else current.astype(np.float64)
                arr[who] = value
                setattr(lev, field, arr)
        self._count_from(ctx, who)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self._count_from(ctx, self.who)

    def _count_from(self, ctx: InterventionContext, who: np.ndarray | None) -> None:
        self.who = who
        if who is not None:
            self.before = int(ctx.population.recoveries[who].sum())

    def settle(self, ctx: InterventionContext, lev: Levers, st: TickState) -> None:
        if self.last_on < 0 or st.t > self.last_on + int(self.delay):  # a recovery arrives floor(delay) ticks on
            return
        # Targeted: only the target's recoveries are the programme's cases (its counter rose by them this tick).
        cases = st.recoveries if self.who is None else int(ctx.population.recoveries[self.who].sum()) - self.before
        self.cases += cases
        lev.add_cost(self.name, self.params.cost_per_case * cases)
