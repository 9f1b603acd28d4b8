"""Crises and the company's response, talking through one shared record: `ctx.shared["crisis"]`, a `CrisisState`.

The `crisis` event starts and plays out a crisis: a negative-WOM precursor `precursor_lead` ticks before it
surfaces; on surfacing a first brand shock, a quality drop (product crisis) or a trust/expectation hit (scandal),
and the affected customers' satisfaction falls; then, each tick the crisis is unresolved, more damage accrues and
affected customers vent. The `crisis_response` intervention answers it: it writes its choices into the shared
`Crisis` record (`CrisisState.respond`), and asks for its own direct effects (apology, compensation, KOL support,
the trust cost of opacity). The event reads the record from the next tick on: a transparent answer stops the
escalation; an opaque one lets it run on to `mishandled_factor` times the typical damage. Neither class touches
the other's attributes. Events act before interventions within a tick (base.SECTIONS), so a response with
`delay: 0` answers in the tick the crisis surfaces. A delay in hours or days lands part of the way through a tick:
that tick's escalation and venting count for the part before it (`spread_share`, front-loaded in the tick the
crisis surfaces); the response writes its standing delay into the record every tick so that the event, acting
first, knows how much of the tick's venting comes before a compensation due within it.

Brand damage, scaled by the seeds (crisis report): typical (no answer) = `damage` (default 8% + 7% x severity, so
8-15%); slow or opaque = up to twice that; fast, transparent and compensated = the first shock only, minus the
apology (under 5%). B then recovers toward its target at `brand.reputation_rate` (6-12 months).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wom_sim.scenario.durations import DAYS, in_ticks
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
    fixed_at: float | None = None  # when the quality problem ends (ticks; a fix after an answer in days: fractional)
    ended: int | None = None
    responded: int | None = None  # tick of the company's answer
    answered_at: float | None = None  # when it landed: ticks after surfacing (fractional: "2 days" of a week)
    attention: float = 0.0  # the event's `attention_days` in ticks (0: a tick of unknown length), see spread_share
    transparent: bool | None = None
    compensated: bool = False
    responder: str | None = None
    detected: int | None = None  # tick a `crisis_monitoring` alarm caught it (precursor or later)

    def resolved(self, t: int) -> bool:
        """A transparent answer given before tick t stops the escalation."""
        return self.responded is not None and self.responded < t and bool(self.transparent)

    def unanswered_share(self, t: int) -> float:
        """Share of the week before tick t (t - 1 to t) that went by before a transparent answer: 1 while none has
        landed, the part before it for the week it landed in (front-loaded in the week the crisis surfaced, see
        `spread_share`), 0 afterwards. Whole-tick delays give 1 or 0, the rule before answers in hours and days."""
        if not self.resolved(t):
            return 1.0
        part = self.answered_at - (t - 1 - self.surfaced)
        return spread_share(part, t - 1 == self.surfaced, self.attention) if part > 0 else 0.0

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
    # Written by `crisis_response` on each tick it is on air, read by the event: its standing answer (delay in ticks
    # before a plan or an alarm, whether it compensates), so the crisis knows how much of a tick's venting comes
    # before a compensation that lands within that tick (events act before interventions within a tick).
    standing: tuple[float, bool] | None = None

    def answer_time(self, c: Crisis, delay: float) -> float:
        """When an answer with this `delay` (ticks) lands, in ticks after the crisis surfaced: the delay divided
        by 1 + a crisis plan's efficiency gain; a monitoring alarm brings it forward to the alarm's tick (never
        before the crisis surfaced: there is nothing public to answer yet)."""
        gain = self.plan_efficiency
        after = delay / (1.0 + gain) if gain else delay
        return min(after, max(c.detected - c.surfaced, 0)) if c.detected is not None else after

    def venting_share(self, c: Crisis, t: int) -> float:
        """Share of tick t's venting before a compensation that lands within it (1 if none is due in tick t)."""
        if self.standing is None or not self.standing[1] or c.responded is not None:
            return 1.0
        due = self.answer_time(c, self.standing[0])
        if int(due) + c.surfaced != t:
            return 1.0
        return spread_share(due - int(due), t == c.surfaced, c.attention)

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

    def respond(self, t: int, responder: str, transparent: bool, compensated: bool, at: float | None = None) -> Crisis:
        """Record the company's answer to the open crisis, landing `at` ticks after it surfaced (default: the
        start of tick t)."""
        c = self.current
        c.responded, c.responder, c.transparent, c.compensated = t, responder, transparent, compensated
        c.answered_at = float(t - c.surfaced) if at is None else at
        return c


def spread_share(part: float, first_week: bool, attention: float) -> float:
    """Share of a tick's crisis spread (escalation, venting) done by `part` (0-1) of the tick.

    In the tick the crisis surfaces attention is front-loaded: `(1 - exp(-part / a)) / (1 - exp(-1 / a))`, with
    `a` the crisis's `attention_days` in ticks (a day of a weekly tick: 8% of the week's spread within 2 hours, 63%
    within a day, 86% within two days). Attention to a news story peaks within about a day of its breaking and
    then decays (Leskovec, Backstrom & Kleinberg 2009; Wu & Huberman 2007), which is why the crisis report asks for
    a statement within 2 hours. In later ticks the story runs at a steady pace: the share is `part`. `attention`
    0 (a tick of unknown length) gives the steady pace in every tick.
    """
    part = min(max(part, 0.0), 1.0)
    if not first_week or attention <= 0:
        return part
    return float(np.expm1(-part / attention) / np.expm1(-1.0 / attention))


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
        tick_days = DAYS.get(ctx.scenario.tick_unit.strip().lower().rstrip("s"))
        self.attention = self.params.attention_days / tick_days if tick_days else 0.0  # in ticks; 0 = unknown tick
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
            attention=self.attention,
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
                # An effect, not a lever shock: it lands before the effects' `restore`, so an answer in this tick
                # can win back part of it (`crisis_response.trust_repair`).
                ctx.request(CutTrust(ctx.population.status != UNAWARE, p.scandal_trust_hit * p.severity))
                lev.expectation_shift -= 0.1 * p.severity
        elif c.escalated < c.cap(t, p.mishandled_factor):
            # The week before this tick escalates for the part of it before a transparent answer landed.
            grow = c.unanswered_share(t)
            if grow > 0:
                before = c.escalated
                c.escalated = min(before + p.escalation * grow, c.cap(t, p.mishandled_factor))
                if c.resolved(t):
                    # The part of the week before an answer that has landed: its extra damage is taken from B as
                    # it is, not by holding B at the ceiling, which would also take back the answer's apology.
                    kept = (1.0 - c.escalated * c.damage) / (1.0 - before * c.damage)
                    lev.brand_shock = combine_shares(lev.brand_shock, 1.0 - kept)
                else:
                    pushing = True
        if pushing:
            # While it escalates, B is held at or below the pre-crisis level less the damage so far (its pull back
            # toward its target does not set in until the escalation stops).
            ceiling = c.brand_before * (1.0 - c.escalated * c.damage)
            if ctx.brand > ceiling:
                lev.brand_shock = combine_shares(lev.brand_shock, 1.0 - ceiling / ctx.brand)
        if c.type == "quality" and t < c.fixed_at:
            # A fix landing within this tick (an answer in days + fix_ticks) spares the part of the tick after it.
            lev.quality -= p.quality_drop * p.severity * min(c.fixed_at - t, 1.0)
        venting = t < c.surfaced + p.outrage_ticks and not c.compensated
        if venting:
            # A compensation landing within this tick ends the venting then: only the part of the tick before it.
            share = self.state.venting_share(c, t)
            lev.force(
                "negative",
                c.affected & (u < p.outrage_rate * share) if share < 1 else c.affected & (u < p.outrage_rate),
            )
        done = c.resolved(t + 1) and c.unanswered_share(t + 1) == 0
        settled = done or c.escalated >= c.cap(t + 1, p.mishandled_factor) - 1e-12
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
    """The company's answer to a crisis, `delay` after it surfaces (ticks, or "2 hours", "2 days": it lands part of
    the way through a tick; while on air; without a schedule or trigger it is a standing crisis plan). Transparent
    answers stop the escalation and win back part of a scandal's trust cut, the more the sooner; opaque ones cut
    everyone's trust (about 40%, crisis report) and let damage run to twice the typical. Compensation restores the
    affected customers' satisfaction and trust and ends their venting; costs compensation x affected customers. An
    apology lifts the brand; KOL support makes the scenario's KOLs post positively for a few ticks (fee per post).
    """

    kind = "crisis_response"

    Params = CrisisResponseParams

    def setup(self, ctx: InterventionContext) -> None:
        self.state = crisis_state(ctx)
        self.answered: list[Crisis] = []
        self.rest: tuple[Crisis, float] | None = None  # a compensation's share still to restore next tick
        self.delay = in_ticks(self.params.delay, ctx.scenario.tick_unit)  # "2 days" = 2/7 of a weekly tick

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        self.state.standing = (self.delay, self.params.compensation > 0)
        self._finish(ctx)
        c = self.state.open(t)
        if c is not None and t >= self.answer_tick(c):
            self._answer(ctx, lev, t, c)
        self._support(ctx, lev, t)

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        if self.last_on == t - 1:  # off air: no standing answer any more
            self.state.standing = None
        self._finish(ctx)
        self._support(ctx, lev, t)

    def _finish(self, ctx: InterventionContext) -> None:
        """The rest of a compensation that landed part of the way through last tick."""
        if self.rest is not None:
            c, share = self.rest
            ctx.request(Restore(c.affected, c.S_before, c.T_before, share))
            self.rest = None

    def answer_time(self, c: Crisis) -> float:
        """When the answer lands, in ticks after surfacing (fractional): `CrisisState.answer_time`."""
        return self.state.answer_time(c, self.delay)

    def answer_tick(self, c: Crisis) -> int:
        """The tick the answer lands in: surfacing + the whole ticks of `answer_time`."""
        return c.surfaced + int(self.answer_time(c))

    def compensation_share(self) -> float:
        """Share of the affected customers' loss the compensation restores; a crisis plan divides what it leaves
        by 1 + its efficiency gain."""
        gain, effect = self.state.plan_efficiency, self.params.compensation_effect
        return 1.0 - (1.0 - effect) / (1.0 + gain) if gain else effect

    def _answer(self, ctx: InterventionContext, lev: Levers, t: int, c: Crisis) -> None:
        p, pop = self.params, ctx.population
        compensate = p.compensation > 0
        due = self.answer_time(c)
        # Landing within this tick at the part `due - whole ticks`; a response that comes on air late answers at once.
        at = due if t == self.answer_tick(c) else float(t - c.surfaced)
        self.state.respond(t, self.name, p.transparent, compensate, at)
        self.answered.append(c)
        if p.apology:
            lev.brand_lift += p.apology_lift
        if not p.transparent:
            # An effect rather than a lever shock: it lands before this tick's shocks, and before the compensation
            # (EFFECT_ORDER), which then restores a share of what was lost including this cut.
            ctx.request(CutTrust(pop.status != UNAWARE, p.opaque_trust_cut))
        if p.transparent and c.type == "scandal" and p.trust_repair > 0:
            # An open answer wins back part of the trust the scandal cut, the more the sooner: the part of the
            # first week's spread still to come when it lands (stealing thunder: Arpan & Roskos-Ewoldsen 2005;
            # Coombs 2007). S is left alone (S_before 0: nothing to restore).
            still = 1.0 - spread_share(at, True, c.attention) if at < 1 else 0.0
            if still > 0:
                aware = ctx.population.status != UNAWARE
                ctx.request(Restore(aware, np.zeros(ctx.n), c.T_before, p.trust_repair * still))
        if compensate:
            # Landing `part` of the way through this tick, the compensation reaches this tick's purchases, loyalty
            # and churn for the rest of it only: 1 - part of its restoring share now, the rest at the next tick.
            share, part = self.compensation_share(), at - (t - c.surfaced)
            now = share * (1.0 - part)
            ctx.request(Restore(c.affected, c.S_before, c.T_before, now))
            if part > 0:
                self.rest = (c, 1.0 - (1.0 - share) / (1.0 - now))  # (1 - now)(1 - rest) = 1 - share
            lev.add_cost(self.name, p.compensation * np.count_nonzero(c.affected))
        if p.fix_ticks is not None and c.fixed_at is not None:
            c.fixed_at = min(c.fixed_at, c.surfaced + at + p.fix_ticks)

    def _support(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        p = self.params
        if not p.kol_support or not self.answered or not ctx.kol_ids.size:
            return
        # The support runs for kol_ticks from the moment the answer landed: a tick it covers only in part (an
        # answer in days) has that share of the KOLs posting (a keyed draw, so paired arms keep the same ones).
        c = self.answered[-1]
        start = c.surfaced + c.answered_at
        share = min(t + 1.0, start + p.kol_ticks) - max(float(t), start)
        if share <= 0:
            return
        mask = np.zeros(ctx.n, dtype=bool)
        mask[ctx.kol_ids] = True
        if share < 1:
            mask &= self.uniforms(ctx, t, ctx.n, slot=3) < share
        lev.force("positive", mask)
        lev.add_cost(self.name, p.fee_per_post * np.count_nonzero(mask))


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
