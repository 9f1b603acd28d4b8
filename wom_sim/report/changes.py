"""What a resolved scenario changes: against another (what an arm of a comparison changes against its base) or
against the defaults of the scenario format (what `wom-sim check` shows unless given --all).

A change is a dotted key with the two values. Interventions and events are matched by their name (the kind when
unnamed, as their cost columns are); an entry the other side lacks is compared with its kind's defaults, so a new
`kol_campaign` reads as "interventions.kol_campaign: added" followed by the parameters it sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from wom_sim.scenario.interventions import KINDS, SECTIONS
from wom_sim.scenario.loading import build_scenario
from wom_sim.scenario.schema import Scenario

# Keys that say what a scenario is, not what it does: never a change.
IDENTITY = ("name", "description", "extends", "base_dir")
ADDED, REMOVED = "added", "removed"


@dataclass(frozen=True)
class Change:
    """One key whose value differs: `before` (the base's or the default) and `after` (this scenario's)."""

    key: str
    before: Any
    after: Any

    def text(self) -> str:
        """The change as one line a user reads: "wom.contact_prob: 0.1 -> 0.2", "interventions.x: added"."""
        if self.after in (ADDED, REMOVED):
            return f"{self.key}: {self.after}"
        return f"{self.key}: {_show(self.before)} -> {_show(self.after)}"


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _payload(scenario: Scenario | dict) -> dict:
    if isinstance(scenario, Scenario):
        return scenario.model_dump(mode="json", by_alias=True)
    return dict(scenario)


def _flatten(data: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, dict):
        for key, value in data.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = data
    return out


def _entries(data: dict, section: str) -> dict[str, dict]:
    """The section's entries by name (the kind when unnamed; repeats get _2, _3 as their cost columns do)."""
    named: dict[str, dict] = {}
    for entry in data.get(section) or []:
        name = entry.get("name") or entry.get("kind", "?")
        key, i = name, 2
        while key in named:
            key, i = f"{name}_{i}", i + 1
        named[key] = entry
    return named


def _kind_defaults(kind: str) -> dict:
    """What an added entry of `kind` is compared against: every key's default. Built without validation, since a
    kind may require a key (a competitor move's `competitor`): that key has no default and shows as set from none."""
    model = KINDS.get(kind)
    return model.model_construct(kind=kind).model_dump(mode="json", by_alias=True) if model is not None else {}


def changes(scenario: Scenario | dict, against: Scenario | dict | None = None) -> list[Change]:
    """The keys of `scenario` whose values differ from `against` (default: the defaults of the scenario format).

    Examples
    --------
    >>> from wom_sim.scenario.loading import build_scenario
    >>> [c.text() for c in changes(build_scenario({"wom": {"contact_prob": 0.25}}))]
    ['wom.contact_prob: 0.15 -> 0.25']
    """
    mine = _payload(scenario)
    theirs = _payload(against) if against is not None else _payload(build_scenario({}))
    found: list[Change] = []
    flat_mine = _flatten({k: v for k, v in mine.items() if k not in (*IDENTITY, *SECTIONS)}, "", {})
    flat_theirs = _flatten({k: v for k, v in theirs.items() if k not in (*IDENTITY, *SECTIONS)}, "", {})
    for key, value in flat_mine.items():
        if flat_theirs.get(key, None) != value:
            found.append(Change(key, flat_theirs.get(key), value))
    for section in SECTIONS:
        ours, base = _entries(mine, section), _entries(theirs, section)
        for name, entry in ours.items():
            other = base.get(name)
            if other is None:
                found.append(Change(f"{section}.{name}", None, ADDED))
                other = _kind_defaults(entry.get("kind", ""))
            flat_entry, flat_other = _flatten(entry, "", {}), _flatten(other, "", {})
            for key, value in flat_entry.items():
                if key not in ("name",) and flat_other.get(key) != value:
                    found.append(Change(f"{section}.{name}.{key}", flat_other.get(key), value))
        found.extend(Change(f"{section}.{name}", None, REMOVED) for name in base if name not in ours)
    return found


def changed_payload(scenario: Scenario | dict) -> tuple[dict, int]:
    """The scenario as a nested dict holding only the keys that differ from the defaults (its name and description
    kept) and every intervention and event in full, defaults included (what a programme does hides in them: an
    answer to a crisis apologises and compensates unless told not to); and how many keys were left out. What
    `wom-sim check` prints; still a scenario file that runs the same."""
    mine = _payload(scenario)
    defaults = _payload(build_scenario({}))
    out: dict[str, Any] = {k: mine[k] for k in ("name", "description") if mine.get(k)}
    for key, value in mine.items():
        if key in (*IDENTITY, *SECTIONS):
            continue
        part = _pruned(value, defaults.get(key))
        if part is not _SAME:
            out[key] = part
    for section in SECTIONS:
        if mine.get(section):
            out[section] = mine[section]
    rest = {k: v for k, v in mine.items() if k not in (*IDENTITY, *SECTIONS)}
    kept = _flatten({k: v for k, v in out.items() if k not in ("name", "description", *SECTIONS)}, "", {})
    return out, len(_flatten(rest, "", {})) - len(kept)


_SAME = object()


def _pruned(value: Any, default: Any) -> Any:
    """`value` without what equals `default` (nested dicts pruned key by key); `_SAME` when nothing is left."""
    if isinstance(value, dict) and isinstance(default, dict):
        kept = {k: _pruned(v, default.get(k)) for k, v in value.items()}
        kept = {k: v for k, v in kept.items() if v is not _SAME}
        return kept or _SAME
    return _SAME if value == default else value


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (a description) as YAML block scalars, as a person writes them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def changed_yaml(scenario: Scenario | dict) -> tuple[str, int]:
    """`changed_payload` as YAML text, and how many keys at their defaults it leaves out."""
    data, hidden = changed_payload(scenario)
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True), hidden
