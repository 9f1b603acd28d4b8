"""The scenario reference (docs/scenarios.md) generated from the schema, so the two cannot drift apart."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from wom_sim.scenario.durations import Documented
from wom_sim.scenario.interventions import KINDS, InterventionSpec, Schedule, Target, Trigger, own_fields
from wom_sim.scenario.schema import Scenario

HEADER = """# Scenario file reference

Generated from `wom_sim/scenario/schema.py` and `wom_sim/scenario/interventions.py` by
`wom-sim scenarios --reference > docs/scenarios.md` (a test checks it is current). Every key is optional: a
scenario holds only what differs from these defaults, and `extends:` starts from another file. Unknown keys are
errors. Override any key from the command line with `--set section.key=value` (list items by index:
`--set population.segments.0.share=0.6 --set population.segments.1.share=0.4`; the shares must still sum to 1).

Distributions (`Dist`) are written `{dist: beta, a: 2, b: 5}`, `{dist: lognormal, mean: 50, sigma: 0.4}`,
`{dist: normal, mean: 0.5, sd: 0.1}`, `{dist: uniform, low: 0, high: 1}`, or a bare number for a constant.
The entries of `interventions:` and `events:` are at the end: the keys every entry has, then the parameters of
each kind; [interventions.md](interventions.md) says what each does to the tick. `wom-sim schema` prints all of
this as a JSON Schema, for editors that complete and check YAML.
"""


TARGETING = """
### Targeting

`target:` limits who an entry reaches, e.g. `target: {{segment: urban, lifecycle: loyal}}` (a referral reward only
for the loyal customers of the urban segment), `target: {{kols: true}}` or `target: {{ids: [1, 5, 9]}}`. The
conditions given combine with AND; a list under `segment` or `lifecycle` is a union. The mask is evaluated again
on every tick the entry is on air, from the state at the start of the tick, so lifecycle targets follow people.
Lifecycle states (a partition): `prospect` never a customer; `at_risk` a customer whose churn hazard is at least
`at_risk_hazard` x `churn.base_hazard`; `new` a customer, not at risk, who first adopted fewer than `new_ticks`
ticks ago; `loyal` a customer, neither at risk nor new, with loyalty >= `loyal_loyalty`; `churned` an
ex-customer ([interventions.md](interventions.md#targeting)). The others act on everyone (a price, the quality,
the brand, a rival) and refuse a target; an unknown segment, an id beyond `network.n` or a target on
such a kind is an error naming the entry. Kinds that accept `target`:
{kinds}.
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        if any(getattr(m, "discriminator", None) for m in meta):  # the entries of interventions/events
            return "entry (see the kinds below)"
        return _type_name(inner)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            dumped = value.model_dump(exclude_none=True)
            return "`" + ", ".join(f"{k}: {v}" for k, v in dumped.items()) + "`" if dumped else ""
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return "`" + "; ".join(str(v.model_dump(exclude_none=True)) for v in value) + "`"
        return f"`{value}`"
    return "" if field.default is None else f"`{field.default}`"


def _bounds(field: Any) -> str:
    parts = []
    for meta in field.metadata:
        if isinstance(meta, Documented):
            return meta.allowed
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                parts.append(f"{sym} {getattr(meta, attr)}")
    return ", ".join(parts)


def _section(
    model: type[BaseModel],
    prefix: str,
    out: list[str],
    nested: list,
    title: str | None = None,
    names: list[str] | None = None,
) -> None:
    """A table of `model`'s keys; sub-sections are queued on `nested` unless the keys are given (`names`)."""
    rows = []
    for name in names if names is not None else model.model_fields:
        field = model.model_fields[name]
        key = field.alias or name
        if name == "base_dir":
            continue
        ann = field.annotation
        sub = next((a for a in (ann, *typing.get_args(ann)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if names is None and sub is not None and sub.__name__ not in ("Dist", "Segment"):
            nested.append((sub, f"{prefix}{key}."))
            continue
        desc = field.description or ""
        named = [m.type_name for m in field.metadata if isinstance(m, Documented)]
        kind = named[0] if named else _type_name(ann)
        rows.append(f"| `{prefix}{key}` | {kind} | {_default(field)} | {_bounds(field)} | {desc} |")
    if rows:
        title = title or prefix.rstrip(".") or "top level"
        doc = (model.__doc__ or "").strip().split("\n")[0]
        out += [f"\n## {title}\n", f"{doc}\n" if doc else "", "| key | type | default | allowed | meaning |",
                "|---|---|---|---|---|", *rows]  # fmt: skip


def _entries(out: list[str]) -> None:
    """The entries of `interventions:` and `events:`: common keys, schedule, trigger, then each kind's own keys."""
    common = list(InterventionSpec.model_fields)
    _section(InterventionSpec, "", out, [], "interventions and events: keys of every entry", common)
    _section(Schedule, "schedule.", out, [], "interventions and events: schedule", list(Schedule.model_fields))
    _section(Trigger, "when.", out, [], "interventions and events: when", list(Trigger.model_fields))
    _section(Target, "target.", out, [], "interventions and events: target", list(Target.model_fields))
    out.append(TARGETING.format(kinds=", ".join(f"`{k}`" for k, m in KINDS.items() if m.targetable)))
    for kind, model in KINDS.items():
        _section(model, "", out, [], f"kind: {kind}", own_fields(model))


def scenario_reference() -> str:
    """The Markdown reference of every scenario key with its type, default, bounds and meaning."""
    out = [HEADER]
    queue: list = [(Scenario, "")]
    while queue:
        model, prefix = queue.pop(0)
        nested: list = []
        _section(model, prefix, out, nested)
        queue = nested + queue
    _entries(out)
    return "\n".join(line for line in out) + "\n"
