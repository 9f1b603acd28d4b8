"""Crises and the company's response, talking through one shared record: `ctx.shared["crisis"]`, a `CrisisState`.

The `crisis` event starts and plays out a crisis: a negative-WOM precursor `precursor_lead` ticks before it
surfaces; on surfacing a first brand shock, a quality drop (product crisis) or a trust/expectation hit (scandal),
and the affected customers' satisfaction falls; then, each tick the crisis is unresolved, more damage accrues and
affected customers vent. The `crisis_response` intervention answers it: it writes its choices into the shared
`Crisis` record (`CrisisState.respond`), and asks for its own direct effects (apology, compensation, KOL support,
the trust cost of opacity). The event reads the record from the next tick on: a transparent answer stops the
escalation; an opaque one lets it run on to `mishandled_factor` times the typical damage. Neither class touches
the other's attributes. Events act before interventions within a tick (base.SECTIONS), so a response with
`delay: 0` answers in the tick the crisis surfaces.

Brand damage, scaled by the seeds (crisis report): typical (no answer) = `damage` (default 8% + 7% x severity, so
8-15%); slow or opaque = up to twice that; fast, transparent and compensated = the first shock only, minus the
apology (under 5%). B then recovers toward its target at `brand.reputation_rate` (6-12 months).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wom_sim.scenario.interventions import CrisisParams, CrisisResponseParams
from wom_sim.sim.interventions.base import (
    CutTrust,
    Intervention,
    InterventionContext,
    LowerSatisfaction,
    Restore,
    combine_shares,
    register,
)
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import CUSTOMER, UNAWARE


# --------------------------------------------------------------------------------------------- shared state
@dataclass
class Crisis:
    """One crisis as it plays out: written by the `crisis` event, answered by `crisis_response`."""

    type: str
    severity: float
    damage: float  # typical brand damage (share of B)
    started: int  # tick of the precursor (= surfaced when there is none)
    surfaced: int
    brand_before: float  # B just before the crisis began
    affected: np.ndarray  # bool mask: customers directly affected
    S_before: np.ndarray  # their satisfaction and trust before it (for compensation)
    T_before: np.ndarray
    escalated: float = 0.0  # share of `damage` applied so far
    fixed_at: int | None = None  # tick the quality problem ends
    ended: int | None = None
    responded: int | None = None  # tick of the company's answer
    transparent: bool | None = None
    compensated: bool = False
    responder: str | None = None
    detected: int | None = None  # tick a `crisis_monitoring` alarm caught it (precursor or later)

    def resolved(self, t: int) -> bool:
        """A transparent answer given before tick t stops the escalation."""
        return self.responded is not None and self.responded < t and bool(self.transparent)

    def cap(self, t: int, mishandled_factor: float) -> float:
        """How far the damage can escalate (in units of `damage`): doubled by an opaque answer."""
        opaque = self.responded is not None and self.responded < t and not self.transparent
        return mishandled_factor if opaque else 1.0


@dataclass
class CrisisState:
    """The crisis now running (if any) and all past ones; shared by the kinds as `ctx.shared["crisis"]`."""

    current: Crisis | None = None
    history: list[Crisis] = field(default_factory=list)
    # Written by the crisis-management kinds (crisis_management.py), read by the event and the response:
    plan_efficiency: float = 0.0  # `crisis_plan` on air: the response's efficiency gain (0.6 = +60%)
    hazard_factor: float = 1.0  # `crisis_reflection`: multiplies the chance of a random crisis

    def detect(self, t: int) -> Crisis | None:
        """An alarm at tick t: the running crisis (begun, not yet caught) is marked detected; None if none."""
        c = self.current
        if c is None or c.detected is not None or c.started > t:
            return None
        c.detected = t
        return c

    def open(self, t: int) -> Crisis | None:
        """The crisis that has surfaced by tick t, is not over and has no answer yet."""
        c = self.current
        return c if c is not None and c.surfaced <= t and c.responded is None else None

    def respond(self, t: int, responder: str, transparent: bool, compensated: bool) -> Crisis:
        """Record the company's answer to the open crisis."""
        c = self.current
        c.responded, c.responder, c.transparent, c.compensated = t, responder, transparent, compensated
        return c


def crisis_state(ctx: InterventionContext) -> CrisisState:
    """The run's shared crisis record, `ctx.shared["crisis"]` (created on first use by either kind)."""
    return ctx.shared.setdefault("crisis", CrisisState())


# --------------------------------------------------------------------------------------------- the event
@register
class CrisisEvent(Intervention):
    """A product crisis or scandal: at given ticks (`at`) or at random (`probability_per_year`) while on air."""

    kind = "crisis"

    Params = CrisisParams

    def setup(self, ctx: InterventionContext) -> None:
        self.state = crisis_state(ctx)
        at = self.params.at
        self.at = [] if at is None else sorted(at if isinstance(at, list) else [at])
        self.begun: set[int] = set()  # the listed ticks whose crisis has begun

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p, running = self.params, self.state.current
        surface = None
        for a in self.at:
            # Due from its precursor tick on: a schedule that starts later shortens the precursor, never skips it.
            if max(a - p.precursor_lead, 0) <= t <= a and a not in self.begun:
                surface = a
                break
        if surface is not None and running is not None and running.surfaced < t:
            # A listed crisis happens as written: it closes the one still running (left open for a late answer, or
            # still venting), so an arm that answers its crises does not face more of them than one that does not.
            self._close(t)
        elif running is not None:
            surface = None
        elif not self.at:
            chance = self.chance()
            if self.uniforms(ctx, t, 1)[0] < chance:
                surface = t + p.precursor_lead
        if surface is not None:
            self._begin(ctx, t, surface)
            self.begun.add(surface)
        self._play(ctx, lev, t)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self._play(ctx, lev, t)  # a crisis that began runs its course

    def chance(self) -> float:
        """Per-tick chance of a random crisis: the yearly probability, times the reflection factor, per tick."""
        p = self.params
        return 1.0 - (1.0 - p.probability_per_year * self.state.hazard_factor) ** (1.0 / p.ticks_per_year)

    def _begin(self, ctx: InterventionContext, t: int, surface: int) -> None:
        p, pop = self.params, ctx.population
        drawn = (pop.status == CUSTOMER) & (self.uniforms(ctx, t, pop.n, slot=1) < p.affected_share)
        affected = self.in_target(ctx, t, drawn)
        damage = p.damage if p.damage is not None else 0.08 + 0.07 * p.severity
        fixed = surface + p.defect_ticks if p.type == "quality" else surface
        self.state.current = Crisis(
            type=p.type,
            severity=p.severity,
            damage=damage,
            started=t,
            surfaced=surface,
            brand_before=ctx.brand,
            affected=affected,
            S_before=pop.S.copy(),
            T_before=pop.T.copy(),
            fixed_at=fixed,
        )

    def _play(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        c, p = self.state.current, self.params
        if c is None:
            return
        u = self.uniforms(ctx, t, ctx.n, slot=2)
        if t < c.surfaced:  # precursor: the affected start complaining before the news breaks
            lev.force("negative", c.affected & (u < p.precursor_share))
            return
        pushing = t == c.surfaced
        if pushing:
            c.escalated = min(p.initial_share, 1.0)
            ctx.request(LowerSatisfaction(c.affected, p.satisfaction_hit * p.severity))
            if c.type == "scandal":
                lev.trust_shock = combine_shares(lev.trust_shock, p.scandal_trust_hit * p.severity)
                lev.expectation_shift -= 0.1 * p.severity
        elif not c.resolved(t) and c.escalated < c.cap(t, p.mishandled_factor):
            c.escalated = min(c.escalated + p.escalation, c.cap(t, p.mishandled_factor))
            pushing = True
        if pushing:
            # While it escalates, B is held at or below the pre-crisis level less the damage so far (its pull back
            # toward its target does not set in until the escalation stops).
            ceiling = c.brand_before * (1.0 - c.escalated * c.damage)
            if ctx.brand > ceiling:
                lev.brand_shock = combine_shares(lev.brand_shock, 1.0 - ceiling / ctx.brand)
        if c.type == "quality" and t < c.fixed_at:
            lev.quality -= p.quality_drop * p.severity
        venting = t < c.surfaced + p.outrage_ticks and not c.compensated
        if venting:
            lev.force("negative", c.affected & (u < p.outrage_rate))
        settled = c.resolved(t + 1) or c.escalated >= c.cap(t + 1, p.mishandled_factor) - 1e-12
        answered = c.responded is not None or t >= c.surfaced + p.open_ticks
        if not venting and t >= c.fixed_at and settled and answered:
            self._close(t)

    def _close(self, t: int) -> None:
        """The running crisis ends at tick t and joins the past ones."""
        c = self.state.current
        c.ended = t
        self.state.history.append(c)
        self.state.current = None


# --------------------------------------------------------------------------------------------- the response
@register
class CrisisResponse(Intervention):
    """The company's answer to a crisis, `delay` ticks after it surfaces (while on air; without a schedule or
    trigger it is a standing crisis plan). Transparent answers stop the escalation; opaque ones cut everyone's trust
    (about 40%, crisis report) and let damage run to twice the typical. Compensation restores the affected customers'
    satisfaction and trust and ends their venting; costs compensation x affected customers. An apology lifts the
    brand; KOL support makes the scenario's KOLs post positively for a few ticks (fee per post).
    """

    kind = "crisis_response"

    Params = CrisisResponseParams

    def setup(self, ctx: InterventionContext) -> None:
        self.state = crisis_state(ctx)
        self.answered: list[Crisis] = []

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        c = self.state.open(t)
        if c is not None and t >= self.answer_tick(c):
            self._answer(ctx, lev, t, c)
        self._support(ctx, lev, t)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self._support(ctx, lev, t)

    def answer_tick(self, c: Crisis) -> int:
        """When the answer comes: `delay` ticks after surfacing, divided by 1 + a crisis plan's efficiency gain
        (rounded down); a monitoring alarm brings it forward to the alarm (but not before the crisis surfaced)."""
        gain = self.state.plan_efficiency
        delay = int(self.params.delay // (1.0 + gain)) if gain else self.params.delay
        due = c.surfaced + delay
        return min(due, max(c.detected, c.surfaced)) if c.detected is not None else due

    def compensation_share(self) -> float:
        """Share of the affected customers' loss the compensation restores; a crisis plan divides what it leaves
        by 1 + its efficiency gain."""
        gain, effect = self.state.plan_efficiency, self.params.compensation_effect
        return 1.0 - (1.0 - effect) / (1.0 + gain) if gain else effect

    def _answer(self, ctx: InterventionContext, lev: Levers, t: int, c: Crisis) -> None:
        p, pop = self.params, ctx.population
        compensate = p.compensation > 0
        self.state.respond(t, self.name, p.transparent, compensate)
        self.answered.append(c)
        if p.apology:
            lev.brand_lift += p.apology_lift
        if not p.transparent:
            # An effect rather than a lever shock: it lands before this tick's shocks, and before the compensation
            # (EFFECT_ORDER), which then restores a share of what was lost including this cut.
            ctx.request(CutTrust(pop.status != UNAWARE, p.opaque_trust_cut))
        if compensate:
            ctx.request(Restore(c.affected, c.S_before, c.T_before, self.compensation_share()))
            lev.add_cost(self.name, p.compensation * np.count_nonzero(c.affected))
        if p.fix_ticks is not None and c.fixed_at is not None:
            c.fixed_at = min(c.fixed_at, t + p.fix_ticks)

    def _support(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        if not p.kol_support or not self.answered:
            return
        if self.answered[-1].responded <= t < self.answered[-1].responded + p.kol_ticks and ctx.kol_ids.size:
            mask = np.zeros(ctx.n, dtype=bool)
            mask[ctx.kol_ids] = True
            lev.force("positive", mask)
            lev.add_cost(self.name, p.fee_per_post * ctx.kol_ids.size)


# --------------------------------------------------------------------------------------------- analysis
def crisis_impact(
    metrics: pd.DataFrame, surfaced: int, baseline: pd.DataFrame | None = None, lead: int = 1, window: int = 52
) -> dict[str, float]:
    """Brand damage, trust cut and recovery time of a crisis that surfaced at tick `surfaced`.

    With `baseline` (the same scenario and seed without the crisis: common random numbers), damage is the largest
    relative shortfall of B against the baseline in the window, and recovery is the first tick from which B stays
    at or above 90% of the baseline's B (`ticks_to_90`) and the first tick with 90% of the shortfall made good
    (`ticks_to_recover_90`). Without it, the level just before the precursor is the reference.
    """
    t = metrics["t"].to_numpy()
    pre_tick = max(surfaced - lead - 1, 0)
    win = (t >= surfaced) & (t < surfaced + window)
    b = metrics["brand"].to_numpy()
    trust = metrics["mean_T"].to_numpy()
    if baseline is not None:
        ref_b = baseline["brand"].to_numpy()
        ref_t = baseline["mean_T"].to_numpy()
    else:
        ref_b = np.full_like(b, b[t == pre_tick][0])
        ref_t = np.full_like(trust, trust[t == pre_tick][0])
    ratio = b / ref_b
    shortfall = 1.0 - ratio[win]
    worst = int(np.argmax(shortfall))
    after = np.arange(win.sum()) >= worst
    level_ok = ratio[win] >= 0.9
    stays = np.flatnonzero([level_ok[i:].all() for i in range(win.sum())])
    recovered = np.flatnonzero(after & (shortfall <= 0.1 * shortfall[worst]))
    return {
        "brand_before": float(ref_b[t == pre_tick][0]),
        "brand_damage": float(shortfall[worst]),
        "worst_tick": int(t[win][worst]),
        "trust_cut": float(np.max(1.0 - trust[win] / ref_t[win])),
        "ticks_to_90": float(stays[0]) if stays.size else float("nan"),
        "ticks_to_recover_90": float(recovered[0]) if recovered.size else float("nan"),
    }
