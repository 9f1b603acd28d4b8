"""The machinery every intervention shares: registry, parameters, schedules and triggers, random numbers, building.

An intervention is a small registered class (`@register`) with a `kind`, a pydantic `Params` model (every
parameter's default, unit and source in its `Field`) and up to three hooks, all called by the model every tick:

- `apply(model, lev, t)`: step 1 of a tick on which the intervention is on air (schedule and trigger hold);
  it changes this tick's `Levers` and books costs with `lev.add_cost(self.name, amount)`.
- `idle(model, lev, t)`: step 1 of a tick on which it is off air (a burst still running, memberships ending).
- `settle(model, lev, st)`: after the tick's dynamics, before its metrics, every tick: books the costs that depend
  on what happened this tick (referral payouts, recovered cases, member rewards).

State that must last across ticks lives on the instance (or, when two kinds must share it, on the model, e.g.
`model.crisis_state`); never in module globals.
"""

from __future__ import annotations

import difflib
import operator
import zlib
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wom_sim.scenario.schema import InterventionSpec, Scenario, Schedule, Strict, Trigger
from wom_sim.sim.levers import Levers

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState
    from wom_sim.sim.model import WomModel

OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
             "!=": operator.ne}  # fmt: skip
REGISTRY: dict[str, type[Intervention]] = {}
COMMON_KEYS = {"kind", "name", "schedule", "when", "once", "cooldown", "duration"}
# Events play out before the company's levers within a tick, so a response can see a crisis that surfaces now.
SECTIONS = ("events", "interventions")


class Params(Strict):
    """Base of an intervention's own parameters: unknown keys are errors, NaN and infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def param(default: Any, what: str, unit: str, source: str, **constraints: Any) -> Any:
    """A parameter field whose description states what it is, its unit and where its default comes from."""
    return Field(
        default,
        description=f"{what} (unit: {unit}; source: {source})",
        json_schema_extra={"what": what, "unit": unit, "source": source},
        **constraints,
    )


def register(cls: type[Intervention]) -> type[Intervention]:
    """Class decorator: make an intervention kind available to scenario files."""
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
    Params: ClassVar[type[Params]] = Params

    def __init__(self, spec: InterventionSpec, params: Params, name: str):
        self.spec, self.params, self.name = spec, params, name
        self.duration = spec.duration
        self.fired_at: list[int] = []
        self.active_until = -1
        self.on_air = False  # on air this tick (set by apply_all)
        self.on_air_ticks: list[int] = []  # every tick it was on air
        self._key = zlib.crc32(name.encode("utf-8"))

    # ----------------------------------------------------------------------------------------- hooks
    def setup(self, model: WomModel) -> None:
        """Called once when the model is built (e.g. to pick targets). Default: nothing."""

    def apply(self, model: WomModel, lev: Levers, t: int) -> None:
        """Step 1 of an on-air tick: change this tick's levers and book the cost."""
        raise NotImplementedError

    def idle(self, model: WomModel, lev: Levers, t: int) -> None:
        """Step 1 of an off-air tick. Default: nothing."""

    def settle(self, model: WomModel, lev: Levers, st: TickState) -> None:
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

    @property
    def last_on(self) -> int:
        """The last tick it was on air (-1 if never)."""
        return self.on_air_ticks[-1] if self.on_air_ticks else -1

    # ----------------------------------------------------------------------------------------- randomness
    def seed_sequence(self, model: WomModel, t: int, slot: int = 0) -> np.random.SeedSequence:
        """A seed for (this intervention, tick t, slot), derived from `model.streams["interventions"]`.

        Counter-based: the numbers an intervention sees at tick t depend only on the run's seed, its name, t and
        the slot, never on what other interventions drew or on which ticks it was on air. So a scenario and its
        baseline (or a variant with one intervention more) keep common random numbers.
        """
        root = model.streams["interventions"].bit_generator.seed_seq
        return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, self._key, t + 1, slot))

    def uniforms(self, model: WomModel, t: int, size: int, slot: int = 0) -> np.ndarray:
        """`size` uniforms in [0, 1) for (tick t, slot); draw full length-N arrays so draws never depend on state."""
        return np.random.default_rng(self.seed_sequence(model, t, slot)).random(size)


# --------------------------------------------------------------------------------------------- building
def _locate(section: str, index: int, key: str = "") -> str:
    return f"{section}[{index}]" + (f".{key}" if key else "")


def _make(spec: InterventionSpec, section: str, index: int, source: str) -> tuple[type[Intervention], Params]:
    cls = REGISTRY.get(spec.kind)
    if cls is None:
        hint = difflib.get_close_matches(spec.kind, REGISTRY, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        raise _error(source, f"{_locate(section, index, 'kind')}: unknown kind {spec.kind!r}{did} "
                     f"(allowed: {', '.join(sorted(REGISTRY))})")  # fmt: skip
    own = {k: v for k, v in (spec.model_extra or {}).items() if k not in COMMON_KEYS}
    try:
        params = cls.Params.model_validate(own)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
            allowed = sorted(set(cls.Params.model_fields) | COMMON_KEYS)
            hint = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
            did = f"; did you mean {hint[0]!r}?" if hint else ""
            msg = f"unknown key for {spec.kind}{did} (allowed: {', '.join(allowed)})"
        else:
            got = err.get("input")
            msg = err["msg"].removeprefix("Value error, ") + ("" if isinstance(got, dict | list) else f" (got {got!r})")
        raise _error(source, f"{_locate(section, index, key)}: {msg}") from None
    _check_timing(spec, section, index, source)
    if spec.when is not None:
        _check_metric(spec.when.metric, _locate(section, index, "when.metric"), source)
    return cls, params


def _check_timing(spec: InterventionSpec, section: str, index: int, source: str) -> None:
    """Schedules that can never be on, and trigger options without a trigger, are mistakes worth naming."""
    sch = spec.schedule
    if sch is not None:
        if sch.from_ is not None and sch.until is not None and sch.until < sch.from_:
            raise _error(source, f"{_locate(section, index, 'schedule')}: until ({sch.until}) is before from "
                         f"({sch.from_}), so it is never on")  # fmt: skip
        if sch.at is not None and sch.every is not None:
            raise _error(source, f"{_locate(section, index, 'schedule')}: give either at or every, not both")
    if spec.when is None:
        # By value, not by presence: a scenario dumped and reloaded carries every default explicitly.
        stray = [
            k for k, on in (("once", spec.once), ("cooldown", spec.cooldown), ("duration", spec.duration != 1)) if on
        ]
        if stray:
            raise _error(source, f"{_locate(section, index, stray[0])}: {', '.join(stray)} only apply with a `when` "
                         "trigger")  # fmt: skip


def _check_metric(metric: str, where: str, source: str, names: set[str] | None = None) -> None:
    from wom_sim.sim.metrics import METRIC_COLUMNS

    if metric in METRIC_COLUMNS:
        return
    if metric.startswith("cost_"):
        if names is None or metric.removeprefix("cost_") in names:
            return
        allowed = sorted(f"cost_{n}" for n in names)
        raise _error(source, f"{where}: unknown cost metric {metric!r} (intervention costs here: "
                     f"{', '.join(allowed) or 'none'})")  # fmt: skip
    hint = difflib.get_close_matches(metric, METRIC_COLUMNS, n=1)
    did = f"; did you mean {hint[0]!r}?" if hint else ""
    raise _error(source, f"{where}: unknown metric {metric!r}{did} (allowed: {', '.join(METRIC_COLUMNS)}, "
                 "cost_<name>)")  # fmt: skip


def _error(source: str, message: str) -> Exception:
    from wom_sim.errors import ScenarioError

    return ScenarioError(f"{source}: {message}")


def _named_specs(scenario: Scenario) -> list[tuple[str, int, InterventionSpec, str]]:
    """(section, index, spec, unique name) in build order: events first, then interventions, each in file order."""
    out, counts = [], {}
    for section in SECTIONS:
        for i, spec in enumerate(getattr(scenario, section)):
            base = spec.name or spec.kind
            counts[base] = counts.get(base, 0) + 1
            out.append((section, i, spec, base if counts[base] == 1 else f"{base}_{counts[base]}"))
    return out


def validate_specs(scenario: Scenario, source: str) -> None:
    """Check every intervention/event entry against its registered class (raises ScenarioError)."""
    named = _named_specs(scenario)
    names = {name for *_, name in named}
    for section, i, spec, _ in named:
        _make(spec, section, i, source)
        if spec.when is not None:
            _check_metric(spec.when.metric, _locate(section, i, "when.metric"), source, names)


def build_interventions(scenario: Scenario, source: str = "scenario") -> list[Intervention]:
    """Instantiate the scenario's events and interventions (events first, then interventions, in file order).

    Names are the entry's `name`, else its kind; repeats get `_2`, `_3`... Costs appear as `cost_<name>`.
    """
    built = []
    for section, i, spec, name in _named_specs(scenario):
        cls, params = _make(spec, section, i, source)
        built.append(cls(spec, params, name))
    return built


def apply_all(interventions: list[Intervention], model: WomModel, lev: Levers, t: int, previous: Any) -> None:
    """Step 1: each intervention, in build order, changes the levers if on air (`apply`) or plays out (`idle`)."""
    for iv in interventions:
        iv.on_air = iv.is_active(t, previous)
        if iv.on_air:
            iv.on_air_ticks.append(t)
            iv.apply(model, lev, t)
        else:
            iv.idle(model, lev, t)


def settle_all(interventions: list[Intervention], model: WomModel, lev: Levers, st: TickState) -> None:
    """After the tick's dynamics: every intervention books the costs that depend on what happened this tick."""
    for iv in interventions:
        iv.settle(model, lev, st)


# --------------------------------------------------------------------------------------------- helpers for kinds
def combine_shares(a: float, b: float) -> float:
    """Two shares lost one after the other (1 - (1-a)(1-b)), e.g. two brand shocks in one tick."""
    return 1.0 - (1.0 - a) * (1.0 - b)


def per_person(value: float | np.ndarray, n: int) -> np.ndarray:
    """A per-person lever as a fresh length-n array (a scalar broadcast), ready to be changed for some people."""
    return np.full(n, float(value)) if np.ndim(value) == 0 else np.array(value, dtype=np.float64)


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return float(np.log(p / (1.0 - p)))


def params_table(cls: type[Intervention]) -> str:
    """The markdown table of a kind's parameters (docs/interventions.md embeds it; a test keeps them equal)."""
    lines = ["| parameter | default | unit | meaning | source |", "|---|---|---|---|---|"]
    for name, f in cls.Params.model_fields.items():
        extra = f.json_schema_extra or {}
        default = f.default.model_dump() if isinstance(f.default, BaseModel) else f.default
        shown = "none" if default is None else str(default).lower() if isinstance(default, bool) else default
        what = str(extra.get("what", f.description)).replace("|", "\\|")
        lines.append(f"| `{name}` | {shown} | {extra.get('unit', '')} | {what} | {extra.get('source', '')} |")
    return "\n".join(lines)
