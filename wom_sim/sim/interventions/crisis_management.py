"""Crisis management levers of the crisis report (prevention/monitoring, a prepared plan, reflection), acting on
the crisis record shared with `crisis` and `crisis_response` (`ctx.shared["crisis"]`, a `CrisisState`).

- `crisis_monitoring` watches last tick's negative WOM against its rolling baseline; an alarm while a crisis is
  running marks it detected (`CrisisState.detect`), and the response answers at detection instead of waiting its
  `delay` (never before the crisis surfaces: there is nothing public to answer yet).
- `crisis_plan` writes its efficiency gain into the record while on air; the response's delay and the share of
  the loss its compensation leaves are divided by 1 + gain (crisis report: plan -> response efficiency +60%).
- `crisis_reflection` reviews each crisis that ended while it is on air and cuts the chance of later random
  crises (`crisis.probability_per_year`) by 37% per review (crisis report). Crises at given ticks (`crisis.at`)
  are what-ifs the user wrote down, so they happen as written: reflection changes only the random ones.

A plan or an alarm acts through the response; listed before it (file order), they count from the same tick.
"""

from __future__ import annotations

import math

from wom_sim.scenario.interventions import CrisisMonitoringParams, CrisisPlanParams, CrisisReflectionParams
from wom_sim.sim.interventions.base import Intervention, InterventionContext, register
from wom_sim.sim.interventions.crisis import crisis_state
from wom_sim.sim.levers import Levers


@register
class CrisisMonitoring(Intervention):
    """Early warning: an alarm when last tick's negative WOM (by default its share of all messages, so a growing
    customer base raises none) exceeds its rolling mean by `threshold`; the running crisis it catches is answered
    at once by `crisis_response`. Cost per tick on air."""

    kind = "crisis_monitoring"

    Params = CrisisMonitoringParams

    def setup(self, ctx: InterventionContext) -> None:
        self.state = crisis_state(ctx)
        self.seen: list[float] = []  # the signal of each tick watched (the rolling baseline's input)
        self.alarms: list[int] = []  # ticks of alarms
        self.caught: list[int] = []  # ticks of alarms that caught a running crisis

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        lev.add_cost(self.name, p.cost_per_tick)
        if ctx.previous is None:
            return
        row = ctx.previous
        messages = float(row["pos_messages"] + row["neg_messages"])
        if p.signal == "neg_share":
            value = float(row["neg_messages"]) / messages if messages else 0.0
        else:
            value = float(row[p.signal])
        recent = self.seen[-p.window :]
        if recent and messages >= p.min_messages:
            baseline = sum(recent) / len(recent)
            if value > baseline * (1.0 + p.threshold) and value - baseline >= p.z_min * _spread(recent):
                self.alarms.append(t)
                if self.state.detect(t) is not None:
                    self.caught.append(t)
        self.seen.append(value)


def _spread(recent: list[float]) -> float:
    """The sample standard deviation of the baseline ticks (0 with one): WOM counts are overdispersed (one unhappy
    customer tells many; forwards cascade), so the spread is measured, not assumed binomial or Poisson."""
    if len(recent) < 2:
        return 0.0
    mean = sum(recent) / len(recent)
    return math.sqrt(sum((x - mean) ** 2 for x in recent) / (len(recent) - 1))


@register
class CrisisPlan(Intervention):
    """A prepared crisis plan: while on air the crisis response is 60% more efficient (faster, and its
    compensation leaves less of the loss). Costs: writing it once plus upkeep per tick on air."""

    kind = "crisis_plan"

    Params = CrisisPlanParams

    def setup(self, ctx: InterventionContext) -> None:
        self.state = crisis_state(ctx)

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        self.state.plan_efficiency = p.efficiency_gain
        first = len(self.on_air_ticks) == 1
        lev.add_cost(self.name, p.cost_per_tick + (p.one_off_cost if first else 0.0))

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        if self.last_on == t - 1:  # the plan lapsed
            self.state.plan_efficiency = 0.0


@register
class CrisisReflection(Intervention):
    """Post-crisis reflection: each crisis that ends while on air is reviewed (cost per review) and the chance of
    later random crises falls by 37%."""

    kind = "crisis_reflection"

    Params = CrisisReflectionParams

    def setup(self, ctx: InterventionContext) -> None:
        self.state = crisis_state(ctx)
        self.reviewed = 0  # crises of the history already reviewed or ended before the reflection was on air

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        new = len(self.state.history) - self.reviewed
        if new > 0:
            self.state.hazard_factor *= (1.0 - p.probability_cut) ** new
            lev.add_cost(self.name, p.cost_per_review * new)
            self.reviewed += new

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self.reviewed = len(self.state.history)  # crises that end off air are not reviewed
