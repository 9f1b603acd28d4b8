"""Interventions and events: small registered classes, each changing this tick's `Levers` and booking its cost.

A scenario lists them under `interventions:` (company levers) and `events:` (things that happen to the company).
Each entry has a `kind`, optional `name`, optional `schedule` (at / every / from-until) and `when` trigger on a
metric of the previous tick (with `once`, `cooldown`, `duration`); the rest are the class's own parameters,
validated by its `Params` model. Triggers are data, compared with a fixed table of operators, never evaluated.
"""

from __future__ import annotations

import difflib
import operator
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wom_sim.levers import Levers
from wom_sim.schema import InterventionSpec, Scenario, Schedule, Trigger

if TYPE_CHECKING:
    from wom_sim.model import WomModel

OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
             "!=": operator.ne}  # fmt: skip
REGISTRY: dict[str, type[Intervention]] = {}
COMMON_KEYS = {"kind", "name", "schedule", "when", "once", "cooldown", "duration"}


class Params(BaseModel):
    """Base of an intervention's own parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def register(cls: type[Intervention]) -> type[Intervention]:
    """Class decorator: make an intervention kind available to scenario files."""
    REGISTRY[cls.kind] = cls
    return cls


def scheduled(schedule: Schedule | None, t: int) -> bool:
    """Whether a schedule is on at tick t (no schedule = always)."""
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
    """Whether a trigger holds on the previous tick's metrics (no trigger = always; no previous tick = never)."""
    if trigger is None:
        return True
    if not previous or trigger.metric not in previous:
        return False
    value = previous[trigger.metric]
    return value == value and OPERATORS[trigger.op](value, trigger.value)  # NaN never triggers


class Intervention:
    """Base class: schedule and trigger logic; subclasses set `kind`, `Params` and implement `apply`."""

    kind: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params

    def __init__(self, spec: InterventionSpec, params: Params, name: str):
        self.spec, self.params, self.name = spec, params, name
        self.duration = spec.duration
        self.fired_at: list[int] = []
        self.active_until = -1

    def setup(self, model: WomModel) -> None:
        """Called once when the model is built (e.g. to pick targets). Default: nothing."""

    def is_active(self, t: int, previous: dict | None) -> bool:
        """On this tick? Schedule and trigger must both hold; a fired trigger stays on for `duration` ticks."""
        if self.spec.when is not None and t <= self.active_until:
            return True
        if not scheduled(self.spec.schedule, t):
            return False
        if self.spec.when is None:
            return True
        if self.spec.once and self.fired_at:
            return False
        if self.fired_at and t - self.fired_at[-1] <= self.spec.cooldown:
            return False
        if not triggered(self.spec.when, previous):
            return False
        self.fired_at.append(t)
        self.active_until = t + self.duration - 1
        return True

    def apply(self, model: WomModel, lev: Levers, t: int) -> None:
        """Change this tick's levers and book the cost."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------- kinds
@register
class Advertising(Intervention):
    """An advertising campaign on top of always-on marketing: more reach, a claim, some brand lift."""

    kind = "advertising"

    class Params(Params):
        reach_multiplier: float = Field(2.0, ge=0, le=100, description="multiplies advertising.reach")
        claim: float | None = Field(None, ge=0, le=1, description="quality claimed (default: advertising.claim)")
        brand_lift: float = Field(0.0, ge=0, le=0.1, description="reputation added per tick on air")
        budget_per_tick: float = Field(0.0, ge=0, description="currency per tick on air")

    def apply(self, model: WomModel, lev: Levers, t: int) -> None:
        p = self.params
        lev.ad_reach *= p.reach_multiplier
        if p.claim is not None:
            lev.claim = p.claim
        lev.brand_lift += p.brand_lift
        lev.add_cost(self.name, p.budget_per_tick)


@register
class PriceChange(Intervention):
    """A new price index while on (a cut raises perceived value and adoption, and lowers the margin per sale)."""

    kind = "price_change"

    class Params(Params):
        price: float = Field(0.9, gt=0, le=10, description="price index while on (1 = reference)")

    def apply(self, model: WomModel, lev: Levers, t: int) -> None:
        lev.price = self.params.price


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
        if err["type"] == "extra_forbidden":
            allowed = sorted(set(cls.Params.model_fields) | COMMON_KEYS)
            hint = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
            did = f"; did you mean {hint[0]!r}?" if hint else ""
            msg = f"unknown key for {spec.kind}{did} (allowed: {', '.join(allowed)})"
        else:
            got = err.get("input")
            msg = err["msg"].removeprefix("Value error, ") + ("" if isinstance(got, dict | list) else f" (got {got!r})")
        raise _error(source, f"{_locate(section, index, key)}: {msg}") from None
    if spec.when is not None:
        _check_metric(spec.when.metric, f"{_locate(section, index, 'when.metric')}", source)
    return cls, params


def _check_metric(metric: str, where: str, source: str) -> None:
    from wom_sim.metrics import METRIC_COLUMNS

    if metric not in METRIC_COLUMNS and not metric.startswith("cost_"):
        hint = difflib.get_close_matches(metric, METRIC_COLUMNS, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        raise _error(source, f"{where}: unknown metric {metric!r}{did} (allowed: {', '.join(METRIC_COLUMNS)})")


def _error(source: str, message: str) -> Exception:
    from wom_sim.scenario import ScenarioError

    return ScenarioError(f"{source}: {message}")


def validate_specs(scenario: Scenario, source: str) -> None:
    """Check every intervention/event entry against its registered class (raises ScenarioError)."""
    for section in ("interventions", "events"):
        for i, spec in enumerate(getattr(scenario, section)):
            _make(spec, section, i, source)


def build_interventions(scenario: Scenario, source: str = "scenario") -> list[Intervention]:
    """Instantiate the scenario's interventions and events, in file order (events after interventions)."""
    built: list[Intervention] = []
    names: dict[str, int] = {}
    for section in ("interventions", "events"):
        for i, spec in enumerate(getattr(scenario, section)):
            cls, params = _make(spec, section, i, source)
            base = spec.name or spec.kind
            names[base] = names.get(base, 0) + 1
            name = base if names[base] == 1 else f"{base}_{names[base]}"
            built.append(cls(spec, params, name))
    return built


def apply_all(interventions: list[Intervention], model: WomModel, lev: Levers, t: int, previous: Any) -> None:
    """Step 1: every active intervention changes the levers, in file order."""
    for iv in interventions:
        if iv.is_active(t, previous):
            iv.apply(model, lev, t)
