"""Service levers: a better service (quality, fewer failures, faster positive WOM) and service recovery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wom_sim.sim.interventions.base import Intervention, InterventionContext, Params, param, register
from wom_sim.sim.levers import Levers

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState


@register
class ServiceImprovement(Intervention):
    """Smart service: quality up, failures down, positive WOM about 30% more frequent while on air.

    Costs: a one-off investment on the first tick on air plus a running cost per tick on air.
    """

    kind = "service_improvement"

    class Params(Params):
        quality_gain: float = param(0.05, "added to brand quality Q while on air", "Q", "assumption", ge=-1, le=1)
        failure_reduction: float = param(
            0.4,
            "relative cut of the service failure probability f",
            "share",
            "seed 004: poor service causes 75% of churn (assumption)",
            ge=0,
            le=1,
        )
        talk_uplift: float = param(
            0.3,
            "relative rise of positive WOM probability",
            "share",
            "seed 004: smart service -> positive WOM speed +30%",
            ge=0,
            le=5,
        )
        one_off_cost: float = param(
            20000.0, "investment booked on the first tick on air", "currency", "assumption", ge=0
        )
        cost_per_tick: float = param(500.0, "running cost per tick on air", "currency/tick", "assumption", ge=0)

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        lev.quality += p.quality_gain
        lev.service_failure *= 1.0 - p.failure_reduction
        lev.talk_multiplier *= 1.0 + p.talk_uplift
        first = len(self.on_air_ticks) == 1
        lev.add_cost(self.name, p.cost_per_tick + (p.one_off_cost if first else 0.0))


@register
class ServiceRecovery(Intervention):
    """Service recovery: a share of failures is put right after a delay (0 = on the spot), restoring satisfaction
    and trust; an on-the-spot recovery also spares the customer the failure's negative WOM and churn spike
    (docs/model.md step 6). No recovery paradox by default (de Matos et al. 2007).

    Cost per recovered case, booked when the recovery reaches the customer: every recovery in a tick on air or
    within `delay` ticks after (the cases it started).
    """

    kind = "service_recovery"

    class Params(Params):
        coverage: float = param(0.8, "share of failures recovered", "share", "facts F9: coverage 0.8", ge=0, le=1)
        delay: int = param(
            0,
            "ticks until the recovery reaches the customer",
            "ticks",
            "seed 002: respond within hours-days",
            ge=0,
            le=52,
        )
        effectiveness: float = param(
            0.8, "share of the failure's damage the recovery gives back", "share", "assumption", ge=0, le=1
        )
        paradox: float | None = param(
            None,
            "satisfaction above the unfailed level after recovery; none = experience.recovery.paradox",
            "S",
            "de Matos et al. 2007: none on average",
            ge=0,
            le=0.5,
        )
        cost_per_case: float = param(20.0, "cost of one recovered case", "currency/case", "assumption", ge=0)

    def setup(self, ctx: InterventionContext) -> None:
        self.cases = 0

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        lev.recovery_coverage = p.coverage
        lev.recovery_delay = p.delay
        lev.recovery_effectiveness = p.effectiveness
        if p.paradox is not None:
            lev.recovery_paradox = p.paradox

    def settle(self, ctx: InterventionContext, lev: Levers, st: TickState) -> None:
        if self.last_on < 0 or st.t > self.last_on + self.params.delay:
            return
        self.cases += st.recoveries
        lev.add_cost(self.name, self.params.cost_per_case * st.recoveries)
