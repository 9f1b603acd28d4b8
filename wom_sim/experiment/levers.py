"""Budget levers: a parameter of an intervention that carries its spend (a KOL count, a reward, a budget per tick),
addressed as ``ENTRY.parameter`` and turned into scenario overrides; the spend of a plan from its runs' economics.

``kol_campaign.select.k`` is parameter ``select.k`` of the entry named (or, unnamed, of kind) ``kol_campaign`` in
the scenario's ``interventions:`` (the names `wom-sim` gives entries: a repeated kind is ``kind_2``...). A lever on
a kind the scenario lacks adds an entry of that kind with its defaults, on for the whole horizon. Keys of a
scenario section (``kols.select.k``, ``wom.contact_prob``) are plain dotted overrides.

Some interventions keep effect and spend in separate parameters (advertising's ``reach_multiplier`` and
``budget_per_tick``): a lever's ``links`` then set the effect parameter from the lever's value, ``value = at_zero +
per_unit * lever``, so that spending nothing buys nothing. That link is the user's response assumption, stated in the
spec, never invented here. The rewards of ``referral_reward`` and ``loyalty_program`` need none: their effects
already grow with the reward (``reward_half``, interventions.base.reward_response).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from wom_sim.errors import ScenarioError
from wom_sim.scenario.interventions import KINDS
from wom_sim.scenario.loading import apply_overrides, build_scenario
from wom_sim.scenario.schema import Scenario, named_entries

# Top-level scenario sections: a lever key starting with one of them is a plain dotted override.
SECTION_KEYS = frozenset(Scenario.model_fields) - {"interventions", "events"}
SPEND = "intervention_cost"  # the plan's spend: every programme's cost over the horizon (the run's economics)


# Scenario keys that look like something bought but cost nothing in the model's economics: the always-on
# advertising section's reach (and the needs it creates) has no budget, so a sweep, curve or optimiser over one
# always says "more" (docs/model.md, Findings, model probe item 8). Their priced twin is the `advertising` entry of
# `interventions:`, whose budget_per_tick is the spend and whose reach_multiplier, linked to it, the effect.
PRICED_ADVERTISING = (
    "the `advertising` intervention's budget instead (lever advertising.budget_per_tick, with a link to its "
    "reach_multiplier; docs/optimise.md)"
)
FREE_KEYS = {"advertising.reach": PRICED_ADVERTISING, "advertising.need_creation": PRICED_ADVERTISING}


def free_key_warnings(keys: list[str] | tuple[str, ...]) -> list[str]:
    """One warning line per varied key that costs nothing in the model (`FREE_KEYS`), naming the priced lever.

    Examples
    --------
    >>> free_key_warnings(["advertising.reach", "advertising.budget_per_tick", "kol_campaign.select.k"])[0][:58]
    'advertising.reach costs nothing in the model (no spend is '
    """
    return [
        f"{key} costs nothing in the model (no spend is charged for it), so more of it always looks better; to "
        f"weigh it against its cost, use {FREE_KEYS[key]}"
        for key in dict.fromkeys(keys)
        if key in FREE_KEYS
    ]


@dataclass
class Lever:
    """One lever: its user key, the override key it resolves to, its bounds, the plan's current value and links."""

    key: str
    path: str
    low: float
    high: float
    integer: bool = False
    current: float | None = None
    entry: str | None = None  # the intervention entry's unique name (its spend is cost_<entry>)
    links: dict[str, tuple[float, float]] = field(default_factory=dict)  # path -> (at_zero, per_unit)

    def value(self, x: float) -> float | int:
        """A value in the lever's type (integers rounded)."""
        return int(round(x)) if self.integer else float(x)

    def overrides(self, x: float) -> dict[str, Any]:
        """The dotted overrides that put the lever at `x` (its links included)."""
        out: dict[str, Any] = {self.path: self.value(x)}
        for path, (at_zero, per_unit) in self.links.items():
            out[path] = at_zero + per_unit * float(x)
        return out

    @property
    def spend_column(self) -> str:
        """The per-tick cost column of the lever's entry (all programmes for a lever outside an entry)."""
        return f"cost_{self.entry}" if self.entry else SPEND


def _entry_index(raw: dict, name: str) -> int | None:
    """Index in raw['interventions'] of the entry `wom-sim` names `name` (None: no such entry)."""
    try:
        scenario = build_scenario(copy.deepcopy(raw), "lever lookup")
    except ScenarioError:
        return None
    for section, i, _spec, unique in named_entries(scenario):
        if section == "interventions" and unique == name:
            return i
    return None


def resolve(raw: dict, key: str, where: str) -> tuple[dict, str, str | None]:
    """(raw scenario, possibly with an added entry; the override path of `key`; the entry's unique name).

    Raises
    ------
    ScenarioError
        For a key that names neither a scenario section nor an entry nor a kind of intervention.
    """
    head, _, rest = key.partition(".")
    if not rest:
        raise ScenarioError(f"{where}: {key!r} is not ENTRY.parameter (e.g. kol_campaign.select.k)")
    if head == "interventions":
        index_text, _, param = rest.partition(".")
        if not index_text.isdigit() or not param:
            raise ScenarioError(f"{where}: {key!r}: use interventions.INDEX.parameter or ENTRY.parameter")
        index = int(index_text)
        entries = raw.get("interventions") or []
        if index >= len(entries):
            raise ScenarioError(f"{where}: {key!r}: the scenario has {len(entries)} interventions")
        names = [u for s, i, _, u in named_entries(build_scenario(copy.deepcopy(raw), where)) if s == "interventions"]
        return raw, key, names[index]
    index = _entry_index(raw, head)
    if index is None and head in SECTION_KEYS and _section_accepts(raw, key):
        return raw, key, None
    if index is None:
        if head not in KINDS:
            scenario = build_scenario(copy.deepcopy(raw), where)
            names = [u for s, _, _, u in named_entries(scenario) if s == "interventions"]
            raise ScenarioError(
                f"{where}: {key!r}: no intervention entry {head!r} in the scenario (entries: "
                f"{', '.join(names) or 'none'}; or a kind: {', '.join(sorted(KINDS))})"
            )
        raw = copy.deepcopy(raw)
        raw.setdefault("interventions", [])
        raw["interventions"] = [*(raw["interventions"] or []), {"kind": head}]
        index = _entry_index(raw, head)
        if index is None:  # a kind whose defaults do not build alone: the build error says why
            build_scenario(raw, f"{where}: {key!r} adds a {head} entry")
            raise ScenarioError(f"{where}: {key!r}: cannot add a {head} entry")
    name = [u for s, i, _, u in named_entries(build_scenario(copy.deepcopy(raw), where)) if s == "interventions"][index]
    return raw, f"interventions.{index}.{rest}", name


def _section_accepts(raw: dict, key: str) -> bool:
    """Whether `key` is a parameter of a scenario section (``advertising`` is a section and a kind of entry)."""
    probe = current_value(raw, key)
    if probe is None:
        return False
    try:
        build_scenario(apply_overrides(raw, {key: probe}), "lever probe")
    except ScenarioError:
        return False
    return True


def current_value(raw: dict, path: str) -> Any:
    """The resolved scenario's value at an override path (defaults included), or None."""
    node: Any = build_scenario(copy.deepcopy(raw), "lever").model_dump(mode="json", by_alias=True)
    parts = path.split(".")
    if len(parts) > 3 and parts[0] == "interventions" and parts[2] == "select" and parts[1].isdigit():
        entries = node.get("interventions") or []
        entry = entries[int(parts[1])] if int(parts[1]) < len(entries) else {}
        if entry.get("kind") == "kol_campaign" and entry.get("select") is None:
            # A campaign without its own `select` hires the scenario's KOLs (kols.select): that is its current
            # level, so `kol_campaign.select.k` on kol_launch is marked at 10, not left without a current plan.
            parts = ["kols", "select", *parts[3:]]
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def plan_scenario(raw: dict, levers: list[Lever], values: dict[str, float], where: str = "plan") -> Scenario:
    """The scenario with every lever at its value in `values` (by lever key; absent levers keep the scenario's)."""
    overrides: dict[str, Any] = {}
    for lever in levers:
        if lever.key in values:
            overrides.update(lever.overrides(values[lever.key]))
    text = ", ".join(f"{k}={v:g}" for k, v in values.items())
    return build_scenario(apply_overrides(raw, overrides), f"{where} ({text})")


def takes_integers(raw: dict, path: str, current: Any, low: float, high: float) -> bool:
    """Whether a lever's parameter is an integer: its current value is one, or a fractional value is refused."""
    if current is not None:
        return isinstance(current, int) and not isinstance(current, bool)
    probe = low + 0.37 * (high - low) if high > low else low + 0.37
    if float(probe).is_integer():
        probe += 0.5
    try:
        build_scenario(apply_overrides(raw, {path: float(probe)}), "lever probe")
    except ScenarioError:
        try:
            build_scenario(apply_overrides(raw, {path: int(round(probe))}), "lever probe")
        except ScenarioError:
            return False
        return True
    return False


def no_spend_scenario(raw: dict, levers: list[Lever]) -> Scenario:
    """The scenario without the levers' intervention entries ("no spend"); levers outside entries at their low."""
    indices = set()
    overrides: dict[str, Any] = {}
    for lever in levers:
        if lever.entry is not None:
            indices.add(int(lever.path.split(".")[1]))
        else:
            overrides.update(lever.overrides(lever.low))
    data = copy.deepcopy(raw)
    entries = data.get("interventions") or []
    data["interventions"] = [e for i, e in enumerate(entries) if i not in indices]
    return build_scenario(apply_overrides(data, overrides), "no spend")


def spend_outcomes(levers: list[Lever]) -> list[str]:
    """Outcome names of the plan's spend (``intervention_cost``) and of each lever's entry (``sum:cost_<entry>``)."""
    out = [SPEND]
    for lever in levers:
        name = f"sum:{lever.spend_column}" if lever.entry else SPEND
        if name not in out:
            out.append(name)
    return out


def parse_range(text: str, where: str) -> list[float]:
    """``low:high:steps`` (inclusive, evenly spaced) or ``a,b,c`` into values.

    Examples
    --------
    >>> parse_range("0:20:5", "--lever")
    [0.0, 5.0, 10.0, 15.0, 20.0]
    >>> parse_range("0,10,40", "--lever")
    [0.0, 10.0, 40.0]
    """
    try:
        if ":" in text:
            low, high, steps = text.split(":")
            lo, hi, n = float(low), float(high), int(steps)
            if n < 2 or not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
                raise ValueError
            return [lo + (hi - lo) * i / (n - 1) for i in range(n)]
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ScenarioError(
            f"{where}: {text[:60]!r}: give low:high:steps (high > low, steps >= 2) or a list a,b,c"
        ) from None
    if len(values) < 2 or not all(math.isfinite(v) for v in values):
        raise ScenarioError(f"{where}: {text[:60]!r}: give at least two finite values")
    return sorted(set(values))


def spend_table(outcomes: pd.DataFrame, levers: list[Lever]) -> pd.DataFrame:
    """Spend per lever (its entry's cost over the horizon) from per-run outcomes holding `spend_outcomes`."""
    return pd.DataFrame({lv.key: outcomes[f"sum:{lv.spend_column}" if lv.entry else SPEND] for lv in levers})
