"""The machinery every intervention shares: registry, parameters, schedules and triggers, random numbers, building.

An intervention is a small registered class (`@register`) with a `kind`, its scenario model as `Params` (the
entry's common keys and parameters, each with its default, unit and source: wom_sim/scenario/interventions.py,
validated with the scenario on load) and up to four hooks. Every hook gets an `InterventionContext` (`ctx`, from
`context.py`, re-exported here), never the model:

- `setup(ctx)`: once, when the model is built (pick targets, draw fixed traits).
- `apply(ctx, lev, t)`: step 1 of a tick on which the intervention is on air (schedule and trigger hold);
  it changes this tick's `Levers` and books costs with `lev.add_cost(self.name, amount)`.
- `idle(ctx, lev, t)`: step 1 of a tick on which it is off air (a burst still running, memberships ending).
- `settle(ctx, lev, st)`: after the tick's dynamics, before its metrics, every tick: books the costs that depend
  on what happened this tick (referral payouts, recovered cases, member rewards); `st` is read-only.

The contract (docs/model.md, Interventions: the contract):

- Target: an entry's `target:` (segment, lifecycle, KOLs, ids) is `self.target_mask(ctx, t)` (None: everyone)
  or `self.in_target(ctx, t, who)`; kinds whose Params set `targetable` use it, the others refuse a target.
- Read: `ctx.population` (read-only views: writing an array raises), `ctx.graph`, `ctx.kol_ids`, `ctx.scenario`,
  `ctx.brand` (B at the start of the tick), `ctx.previous` (last tick's metrics row), `ctx.last_tick` (last
  tick's `TickState`), `ctx.n`. Draw random numbers only with `self.uniforms(ctx, t, size, slot)`.
- Change this tick: the fields of `lev` (`Levers`), the one contract with the dynamics for the current tick.
- Change lasting state: `ctx.request(effect)` with one of the effects of `EFFECT_ORDER` (`LowerSatisfaction`,
  `CutTrust`, `Restore`, `ScaleLoyalty`, `Join`, `Leave`, `PromoteKols`). The tick applies a phase's requests at
  one point, in `EFFECT_ORDER`: after all `setup`s; after all `apply`/`idle` of step 1 (so before the shocks of
  step 1 and the rest of the tick); after all `settle`s. Within a phase every hook reads the state as it was
  when the phase began. A new kind of effect is a dataclass in `context.py` and its place in `EFFECT_ORDER`.
- State that must last across ticks lives on the instance; when two kinds must share it, in `ctx.shared` under a
  name they agree on (the crisis record: `ctx.shared["crisis"]`); never in module globals.

A new kind needs only this module: subclass `Intervention`, set `kind` and `Params`, write the hooks it needs,
decorate it with `@register`, and import its module in `interventions/__init__.py` (or anywhere before the
scenario is built).
"""

from __future__ import annotations

import operator
import zlib
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from wom_sim.scenario.interventions import KINDS, InterventionSpec, Schedule, Trigger
from wom_sim.scenario.schema import Scenario, named_entries
from wom_sim.sim.interventions.context import (  # noqa: F401 - re-exported: a new kind needs only this module
    EFFECT_ORDER,
    EFFECTS,
    CutTrust,
    Effect,
    InterventionContext,
    Join,
    KeyedRandom,
    Leave,
    LowerSatisfaction,
    PromoteKols,
    ReadOnly,
    Restore,
    ScaleLoyalty,
    apply_effects,
)
from wom_sim.sim.interventions.targeting import resolve_ids, target_mask
from wom_sim.sim.levers import Levers

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState

OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
             "!=": operator.ne}  # fmt: skip
REGISTRY: dict[str, type[Intervention]] = {}


def register(cls: type[Intervention]) -> type[Intervention]:
    """Class decorator: make an intervention kind available to scenario files (its `Params` is its scenario model)."""
    if cls.kind not in KINDS or cls.Params is not KINDS[cls.kind]:
        raise TypeError(f"{cls.__name__}: Params must be the scenario model of kind {cls.kind!r}")
    REGISTRY[cls.kind] = cls
    return cls


# --------------------------------------------------------------------------------------------- schedule, trigger
def scheduled(schedule: Schedule | None, t: int) -> bool:
    """Whether a schedule is on at tick t.

    No schedule: always. `from`/`until` bound a window (both inclusive; `from` defaults to 0, `until` to the end).
    Inside the window, `at` (a tick or a list) picks exact ticks; else `every: k` picks from, from+k, from+2k...;
    else every tick of the window is on.
    """
    if schedule is None:
        return True
    start = schedule.from_ if schedule.from_ is not None else 0
    if t < start or (schedule.until is not None and t > schedule.until):
        return False
    if schedule.at is not None:
        return t in (schedule.at if isinstance(schedule.at, list) else [schedule.at])
    if schedule.every is not None:
        return (t - start) % schedule.every == 0
    return True


def triggered(trigger: Trigger | None, previous: dict | None) -> bool:
    """Whether a trigger holds on the previous tick's metrics (no trigger: always; no previous tick: never).

    A `cost_<name>` metric missing from the row means nothing was booked: it reads as 0. NaN never triggers.
    """
    if trigger is None:
        return True
    if not previous:
        return False
    if trigger.metric in previous:
        value = previous[trigger.metric]
    elif trigger.metric.startswith("cost_"):
        value = 0.0
    else:
        return False
    return value == value and OPERATORS[trigger.op](value, trigger.value)


class Intervention:
    """Base class: schedule and trigger logic, keyed random numbers; subclasses set `kind`, `Params`, `apply`."""

    kind: ClassVar[str] = ""
    Params: ClassVar[type[InterventionSpec]] = InterventionSpec

    def __init__(self, spec: InterventionSpec, name: str):
        # One validated entry: `spec` for the common keys (schedule, trigger), `params` for the kind's own.
        self.spec = self.params = spec
        self.name = name
        self.duration = spec.duration
        self.fired_at: list[int] = []
        self.active_until = -1
        self.on_air = False  # on air this tick (set by apply_all)
        self.on_air_ticks: list[int] = []  # every tick it was on air
        self._key = zlib.crc32(name.encode("utf-8"))

    # ----------------------------------------------------------------------------------------- hooks
    def setup(self, ctx: InterventionContext) -> None:
        """Called once when the model is built (e.g. to pick targets). Default: nothing."""

    def apply(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        """Step 1 of an on-air tick: change this tick's levers, request lasting effects, book the cost."""
        raise NotImplementedError

    def idle(self, ctx: InterventionContext, lev: Levers, t: int) -> None:
        """Step 1 of an off-air tick. Default: nothing."""

    def settle(self, ctx: InterventionContext, lev: Levers, st: TickState) -> None:
        """After the tick's dynamics, every tick: book costs that depend on what happened. Default: nothing."""

    # ----------------------------------------------------------------------------------------- activity
    def is_active(self, t: int, previous: dict | None) -> bool:
        """On this tick? The schedule and the trigger must both hold.

        A trigger (`when`) is checked on the previous tick's metrics; when it fires at tick f the intervention is
        on for ticks f .. f+duration-1 (even past the schedule's `until`: the schedule gates firing). With
        `once` it fires at most once; with `cooldown: c` it may fire again at the earliest c ticks after its
        last on tick (f+duration-1+c+1). Without `when`, the schedule alone decides.
        """
        if self.spec.when is not None and t <= self.active_until:
            return True
        if not scheduled(self.spec.schedule, t):
            return False
        if self.spec.when is None:
            return True
        if self.spec.once and self.fired_at:
            return False
        if self.fired_at and t <= self.active_until + self.spec.cooldown:
            return False
        if not triggered(self.spec.when, previous):
            return False
        self.fired_at.append(t)
        self.active_until = t + self.duration - 1
        return True

    # ----------------------------------------------------------------------------------------- targeting
    def target_mask(self, ctx: InterventionContext, t: int) -> np.ndarray | None:
        """Bool mask of who the entry's `target:` names at the start of tick t; None without a target (everyone)."""
        return None if self.spec.target is None else target_mask(ctx, self.spec.target, t)

    def in_target(self, ctx: InterventionContext, t: int, who: np.ndarray) -> np.ndarray:
        """`who` (a bool mask) restricted to the entry's target at tick t; `who` itself without a target."""
        return who if self.spec.target is None else who & target_mask(ctx, self.spec.target, t)

    @property
    def last_on(self) -> int:
        """The last tick it was on air (-1 if never)."""
        return self.on_air_ticks[-1] if self.on_air_ticks else -1

    # ----------------------------------------------------------------------------------------- randomness
    def seed_sequence(self, ctx: InterventionContext, t: int, slot: int = 0) -> np.random.SeedSequence:
        """A seed for (this intervention, tick t, slot) from `ctx.random` (the run's `interventions` stream).

        Counter-based: the numbers an intervention sees at tick t depend only on the run's seed, its name, t and
        the slot, never on what other interventions drew or on which ticks it was on air. So a scenario and its
        baseline (or a variant with one intervention more) keep common random numbers.
        """
        return ctx.random.seed_sequence(self._key, t, slot)

    def uniforms(self, ctx: InterventionContext, t: int, size: int, slot: int = 0) -> np.ndarray:
        """`size` uniforms in [0, 1) for (tick t, slot); draw full length-N arrays so draws never depend on state."""
        return ctx.random.uniforms(self._key, t, size, slot)


# --------------------------------------------------------------------------------------------- building
def build_interventions(scenario: Scenario) -> list[Intervention]:
    """Instantiate the scenario's events and interventions (events first, then interventions, in file order).

    The entries were validated with the scenario. Names are the entry's `name`, else its kind; repeats get `_2`,
    `_3`... (`scenario.schema.named_entries`). Costs appear as `cost_<name>`.
    """
    return [REGISTRY[spec.kind](spec, name) for _, _, spec, name in named_entries(scenario)]


def setup_all(interventions: list[Intervention], ctx: InterventionContext) -> None:
    """When the model is built: each intervention, in build order, sets itself up (its effects are requested)."""
    for iv in interventions:
        target = resolve_ids(iv.spec.target, ctx.graph, iv.name)
        if target is not iv.spec.target:  # the file's ids, now node indices: what target_mask reads every tick
            iv.spec = iv.params = iv.spec.model_copy(update={"target": target})
        ctx.owner = iv.name  # the effects it requests count as targeting (people table)
        iv.setup(ctx)
    ctx.owner = None


def apply_all(interventions: list[Intervention], ctx: InterventionContext, lev: Levers, t: int) -> None:
    """Step 1: each intervention, in build order, changes the levers if on air (`apply`) or plays out (`idle`).

    Triggers read `ctx.previous`, last tick's metrics row. Effects requested here are applied by the tick after
    this call returns (`apply_effects`), so every hook of step 1 reads the state as it was at the start of it.
    """
    for iv in interventions:
        ctx.owner = iv.name  # the effects it requests count as targeting (people table)
        iv.on_air = iv.is_active(t, ctx.previous)
        if iv.on_air:
            iv.on_air_ticks.append(t)
            iv.apply(ctx, lev, t)
        else:
            iv.idle(ctx, lev, t)
    ctx.owner = None


def settle_all(interventions: list[Intervention], ctx: InterventionContext, lev: Levers, st: TickState) -> None:
    """After the tick's dynamics: every intervention books the costs that depend on what happened this tick."""
    frozen_st = ReadOnly(st)
    for iv in interventions:
        ctx.owner = iv.name
        iv.settle(ctx, lev, frozen_st)
    ctx.owner = None


# --------------------------------------------------------------------------------------------- helpers for kinds
def combine_shares(a: float, b: float) -> float:
    """Two shares lost one after the other (1 - (1-a)(1-b)), e.g. two brand shocks in one tick."""
    return 1.0 - (1.0 - a) * (1.0 - b)


def per_person(value: float | np.ndarray, n: int) -> np.ndarray:
    """A per-person lever as a fresh length-n array (a scalar broadcast), ready to be changed for some people."""
    return np.full(n, float(value)) if np.ndim(value) == 0 else np.array(value, dtype=np.float64)


def reward_response(value: float, half: float) -> float:
    """What a reward of `value` buys, as a multiple of what a reward of `half` buys: 2 (1 - 2^(-value / half)).

    A saturating exponential, max (1 - exp(-value / scale)) with scale = half / ln 2 and max = 2: 0 without a
    reward, 1 at `half`, 1.5 at twice it, at most 2. The value of a reward drives referral and programme use with
    diminishing returns (Ryu & Feick 2007; Wirtz, Orsingh, Chew & Tambyah 2013; Kivetz & Simonson 2002; Dorotic,
    Bijmolt & Verhoef 2012); an intervention's effect parameters are its effects at `half`.
    """
    return 2.0 * (1.0 - float(np.exp2(-max(float(value), 0.0) / half)))  # exactly 1 at `half`: 2^-1 is exact


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return float(np.log(p / (1.0 - p)))
