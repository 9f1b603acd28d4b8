"""Scenario files: YAML loading, `extends:` inheritance, dotted `--set` overrides and clear errors.

The schema itself (every parameter, default, unit, source) is `scenario.schema` and, for the entries of
`interventions:` and `events:`, `scenario.interventions`; it is checked once, here, when a scenario is built.
Errors a user can cause raise `ScenarioError` with one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from wom_sim.errors import ScenarioError
from wom_sim.scenario.interventions import KINDS, InterventionSpec, kind_of
from wom_sim.scenario.schema import Scenario


# --------------------------------------------------------------------------------------------- loading
def _merge(base: dict, over: dict) -> dict:
    """Deep-merge `over` into `base` (mappings merge, everything else replaces)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ScenarioError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario must be a mapping of keys, got {type(data).__name__}")
    return data


def load_raw(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file into a plain dict, resolving `extends:` chains relative to each file."""
    path = Path(path).resolve()
    if path in _seen:
        raise ScenarioError(f"{path}: extends loop ({' -> '.join(p.name for p in (*_seen, path))})")
    data = _read_yaml(path)
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("file"), str):
        # Each file's graph path is relative to that file, also when another scenario extends it.
        network["file"] = str((path.parent / network["file"]).resolve())
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(f"{path}: extends must be a file path, got {parent!r}")
        data = _merge(load_raw(path.parent / parent, (*_seen, path)), data)
    data["base_dir"] = str(path.parent)
    return data


def parse_value(text: str) -> Any:
    """Parse the right side of `--set key=value` as a YAML scalar or flow collection (never evaluated)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict, overrides: list[str] | dict[str, Any], source: str = "--set") -> dict:
    """Apply dotted overrides (`wom.contact_prob=0.2`) to a raw scenario dict; list items by index."""
    items = overrides.items() if isinstance(overrides, dict) else [_split_override(o, source) for o in overrides]
    data = copy.deepcopy(data)
    for dotted, value in items:
        node: Any = data
        parts = dotted.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = _list_item(node, part, dotted, source)
                continue
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict | list):
                raise ScenarioError(f"{source}: {'.'.join(parts[: i + 1])} is a value, not a section, in {dotted}")
            node = child
        last = parts[-1]
        if isinstance(node, list):
            idx = int(last) if last.isdigit() else None
            if idx is None or idx >= len(node):
                raise ScenarioError(f"{source}: {dotted}: list index {last!r} out of range (0-{len(node) - 1})")
            node[idx] = value
        else:
            node[last] = value
    return data


def _split_override(text: str, source: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ScenarioError(f"{source}: {text!r} must look like key.sub=value")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ScenarioError(f"{source}: {text!r} has no key before '='")
    return key, parse_value(value)


def _list_item(node: list, part: str, dotted: str, source: str) -> Any:
    if not part.isdigit() or int(part) >= len(node):
        raise ScenarioError(f"{source}: {dotted}: list index {part!r} out of range (0-{len(node) - 1})")
    return node[int(part)]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, list, Union and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _walk(model: type[BaseModel], loc: tuple) -> tuple[str, type[BaseModel] | None, str | None]:
    """(the key as a user writes it, the model holding the last part of `loc`, the entry's kind if inside one).

    pydantic puts the chosen `kind` into the path of an entry of a discriminated union
    (`interventions.0.kol_campaign.screening`); the user wrote `interventions[0].screening`.
    """
    key, current, kinds, kind = "", model, {}, None
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
            continue
        if part in kinds:
            current, kind, kinds = kinds[part], part, {}
            continue
        key += f".{part}" if key else str(part)
        field = current.model_fields.get(part) if current is not None else None
        models = _models_in(field.annotation) if field is not None else []
        tags = {kind_of(m): m for m in models if issubclass(m, InterventionSpec)}
        current, kinds = (models[0] if len(models) == 1 else None), (tags if len(tags) > 1 else {})
    return key, current, kind


def format_validation_error(exc: ValidationError, source: str, model: type[BaseModel] = Scenario) -> str:
    """One line: file, key (as written in the file), what is wrong and what is allowed."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("function-after", "function-before")))
    more = f" [+{len(exc.errors()) - 1} more]" if len(exc.errors()) > 1 else ""
    if err["type"] == "extra_forbidden":
        key, holder, kind = _walk(model, loc[:-1])
        shown = f"{key}.{loc[-1]}" if key else str(loc[-1])
        allowed = [f.alias or name for name, f in holder.model_fields.items()] if holder is not None else []
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        what = f" for {kind}" if kind else ""
        return f"{source}: unknown key {shown}{what}{did} (allowed: {', '.join(sorted(allowed))}){more}"
    key, _, _ = _walk(model, loc)
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # An entry of `interventions:` or `events:` whose `kind` is missing or not one of the kinds.
        kind = err.get("ctx", {}).get("tag")
        hint = difflib.get_close_matches(str(kind), KINDS, n=1) if kind is not None else []
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        problem = f"unknown kind {kind!r}{did}" if kind is not None else "every entry needs a kind"
        return f"{source}: {key}.kind: {problem} (allowed: {', '.join(sorted(KINDS))})"
    msg = err["msg"].removeprefix("Value error, ")
    if not key:
        return f"{source}: {msg}{more}"  # a check of the whole scenario names its key in the message
    got = err.get("input")
    got_text = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return f"{source}: {key}: {msg}{got_text}{more}"


def build_scenario(data: dict, source: str = "scenario") -> Scenario:
    """Validate a raw dict into a Scenario, raising ScenarioError with one clear line."""
    data = dict(data)
    data.pop("extends", None)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source)) from None
    return scenario


def load_scenario(path: str | Path, overrides: list[str] | dict[str, Any] | None = None, **set_fields: Any) -> Scenario:
    """Load, inherit, override and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A YAML scenario file; `extends:` chains are followed.
    overrides : list of "key=value" strings or a dict, optional
        Dotted overrides applied to the fully resolved scenario, e.g. ``{"network.n": 2000}``.
    **set_fields
        Top-level fields to set when not None (the CLI's --seed and --ticks).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        For a missing file, bad YAML or an invalid value, naming the file and key.

    Examples
    --------
    >>> import wom_sim
    >>> from wom_sim.scenario.catalogue import bundled_path
    >>> sc = wom_sim.load_scenario(bundled_path("referral_program"), {"network.n": 2000}, ticks=52)
    >>> sc.name, sc.network.n, sc.ticks
    ('referral_program', 2000, 52)
    """
    data = load_raw(path)
    extra = {k: v for k, v in set_fields.items() if v is not None}
    if overrides or extra:
        # Overrides act on the fully resolved scenario, so defaults (e.g. list items) can be addressed too.
        data = build_scenario(data, str(path)).model_dump(mode="json", by_alias=True)
        data = apply_overrides(data, overrides or [])
        data = apply_overrides(data, extra, "option")
    return build_scenario(data, str(path))


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (what `wom-sim check` prints and runs save)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
