"""Scenario files: YAML loading, `extends:` inheritance, dotted `--set` overrides and clear errors.

The schema itself (every parameter, default, unit, source) is `scenario.schema` and, for the entries of
`interventions:` and `events:`, `scenario.interventions`; it is checked once, here, when a scenario is built.
Errors a user can cause raise `ScenarioError` with one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import re
import stat
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import bundled_names
from wom_sim.scenario.files import stat_input_file
from wom_sim.scenario.interventions import KINDS, InterventionSpec, kind_of
from wom_sim.scenario.people import read_people
from wom_sim.scenario.schema import MAX_SEED, Scenario


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


MAX_FILE_BYTES = 5_000_000  # a scenario, sweep spec or target file; the largest bundled one is ~3 KB
MAX_DEPTH = 32  # nesting of mappings and lists; the schema itself is 5 deep
MAX_NODES = 200_000  # values after expanding YAML aliases (an alias bomb is tiny on disk, huge in memory)
MAX_EXTENDS = 16  # length of an `extends:` chain
# The network keys that only describe a generated graph (a graph file brings its own people and ties).
GENERATOR_KEYS = ("generator", "n", "m", "k", "p", "blocks", "p_in", "p_out", "fast_threshold")
MAX_OVERRIDE_CHARS = 100_000  # the value of one --set
MAX_KEY_PARTS = 16  # parts of a dotted --set key
MAX_ABS_NUMBER = 1e15  # any number in a document: beyond it sums and products of money and log-odds break
MAX_INT = MAX_SEED  # seeds are the largest integers (int64)
_EXPONENT_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10-50x faster, same rules
_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def read_text_file(path: str | Path, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a small UTF-8 text file a user gave, refusing in one line what would hang, exhaust or garble.

    Refused: a NUL byte in the path, a missing file, a folder, a FIFO, device or socket (checked with stat before
    opening, so /dev/zero or a pipe never blocks), more than `max_bytes`, and text that is not UTF-8.
    """
    text_path = os.fspath(path)
    if "\x00" in text_path:
        raise ScenarioError(f"{text_path!r}: a path cannot contain a NUL byte")
    path = Path(text_path)
    info = stat_input_file(path, what)
    if info.st_size > max_bytes:
        raise ScenarioError(f"{path}: {info.st_size:,} bytes; a {what} may have at most {max_bytes:,}")
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped between stat and open
                raise ScenarioError(f"{path}: is not a regular file; expected a {what}")
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > max_bytes:
        raise ScenarioError(f"{path}: more than {max_bytes:,} bytes; a {what} may have at most {max_bytes:,}")
    for bom, name in _BOMS.items():
        if raw.startswith(bom):
            raise ScenarioError(f"{path}: the {what} is {name}-encoded; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}); save it as UTF-8"
        ) from None


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the parser's events, before any Python object is built."""
    depth = 0
    starts, ends = (yaml.MappingStartEvent, yaml.SequenceStartEvent), (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, starts):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise ScenarioError(f"{source}: line {line}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, ends):
            depth -= 1


def _huge_scalar(text: str) -> str | None:
    """The dotted key and line of the first scalar too long to be a number Python converts (for the message)."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except (yaml.YAMLError, ValueError):  # e.g. a lone surrogate from an undecodable argument
        return None
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend((v, f"{path}.{k.value}" if path else str(k.value)) for k, v in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, f"{path}.{i}" if path else str(i)) for i, v in reversed(list(enumerate(node.value))))
        elif isinstance(node, yaml.ScalarNode) and len(node.value) > 4300 and not node.style:
            return f"line {node.start_mark.line + 1}: {path or '(top level)'}"
    return None


_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"


def _check_duplicate_keys(loader: Any, root: yaml.Node, source: str) -> None:
    """Refuse a key given twice in one mapping (YAML loaders silently keep the last value).

    Keys compare as the loader builds them, so `price` and `'price'` (or `yes` and `true`) are the same key. Merge
    keys (`<<: *base`) are not duplicates: a merge is meant to be overridden. Each node is walked once, so an
    alias is not expanded (a tiny alias bomb stays tiny here; check_values refuses it after loading).
    """
    found: list[tuple[int, int, str]] = []  # (second line, first line, dotted key): the first in the file wins
    walked: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in walked:
            continue
        walked.add(id(node))
        children: list[tuple[yaml.Node, str]] = []
        if isinstance(node, yaml.SequenceNode):
            children = [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    children.append((value_node, path))  # what it merges belongs to this mapping
                    continue
                name = f"{path}.{key_node.value}" if path else str(key_node.value)
                children.append((value_node, name))
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a list or mapping as a key: the constructor refuses it as unhashable
                # A plain text key is its own value; others (1, true, 2024-01-01) as the loader builds them (cached)
                key = key_node.value if key_node.tag == _STR_TAG else loader.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    found.append((line, first_line[key], name))
                else:
                    first_line[key] = line
        stack.extend(reversed(children))  # in file order, so an alias is named where its anchor is
    if found:
        second, first, name = min(found)
        raise ScenarioError(f"{source}: key '{name}' appears twice (lines {first} and {second})")


def _load_once(text: str, source: str) -> Any:
    """yaml.load with a duplicate-key check between composing and constructing (the text is parsed once)."""
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_duplicate_keys(loader, root, source)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text safely (no tags that build objects), with depth, size, number and duplicate-key checks
    (one-line errors)."""
    try:
        _check_depth(text, source)
        data = _load_once(text, source)  # a safe loader (CSafeLoader or SafeLoader)
    except ScenarioError:  # a ValueError too: it must not be caught below
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise ScenarioError(f"{source}:{where} not valid YAML ({problem})") from None
    except (ValueError, RecursionError, OverflowError) as exc:  # e.g. an integer of more than 4,300 digits
        where = _huge_scalar(text)
        if where:
            raise ScenarioError(f"{source}: {where}: number out of range (more than 4,300 digits)") from None
        detail = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise ScenarioError(f"{source}: a value cannot be read ({detail})") from None
    check_values(data, source)
    return data


def check_values(data: Any, source: str) -> None:
    """Refuse non-finite or huge numbers, NUL bytes in text, and documents that expand past MAX_NODES values.

    Runs on every raw document (scenario files, --set values, sweep specs, target files) so that the classes of
    bad value are refused even where the schema has no bound (e.g. intervention parameters).
    """
    sizes: dict[int, int] = {}

    def at(path: str) -> str:
        return f"{source}: {path}" if path else source

    def walk(node: Any, path: str, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise ScenarioError(f"{at(path)}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict | list):
            if id(node) in sizes:  # an alias: counted again, walked once
                return sizes[id(node)]
            sizes[id(node)] = 0
            items = node.items() if isinstance(node, dict) else enumerate(node)
            total = 1
            for key, value in items:
                if isinstance(key, str) and "\x00" in key:
                    raise ScenarioError(f"{at(path)}: a key contains a NUL byte")
                total += walk(value, f"{path}.{key}" if path else str(key), depth + 1)
                if total > MAX_NODES:
                    raise ScenarioError(f"{source}: more than {MAX_NODES:,} values (after expanding aliases)")
            sizes[id(node)] = total
            return total
        where = at(path)
        if isinstance(node, bool) or node is None:
            return 1
        if isinstance(node, int):
            if abs(node) > MAX_INT:
                raise ScenarioError(f"{where}: integer out of range (at most {MAX_INT:,} in size)")
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise ScenarioError(f"{where}: must be a finite number (got {node!r})")
            if abs(node) > MAX_ABS_NUMBER:
                raise ScenarioError(f"{where}: number out of range (at most {MAX_ABS_NUMBER:g} in size)")
        elif isinstance(node, str):
            if "\x00" in node:
                raise ScenarioError(f"{where}: text contains a NUL byte")
            if _EXPONENT_NUMBER.match(node):  # YAML 1.1 reads 1e308 as text; pydantic would then read a number
                value = float(node)
                if not math.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
                    raise ScenarioError(
                        f"{where}: number out of range (at most {MAX_ABS_NUMBER:g} in size, got {node})"
                    )
        return 1

    walk(data, "", 0)


def read_yaml_mapping(path: str | Path, what: str = "scenario") -> dict:
    """Read a YAML file that must hold a mapping (a scenario, a sweep spec, a target file); {} for an empty one."""
    source = str(path)
    data = parse_yaml(read_text_file(path, f"{what} file"), source)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a {what} must be a mapping of keys, got {type(data).__name__}")
    return data


def _read_yaml(path: Path) -> dict:
    return read_yaml_mapping(path, "scenario")


def _missing_extends(path: Path, parent: str, target: Path) -> typing.NoReturn:
    """Refuse an `extends:` naming no file, saying which file asked for it; a bare bundled name (the README's
    `extends: baseline.yaml` copied into one's own folder) gets the command that puts a copy next to it."""
    message = f"{path}: extends: {parent}: no such file (looked for {target.resolve()}; relative to this file)"
    name = Path(parent).stem
    if Path(parent).name == parent and name in bundled_names():
        message += (
            f"; to start from the bundled scenario {name!r}, save a copy there "
            f"(wom-sim scenarios {name} > {name}.yaml) or give its path"
        )
    raise ScenarioError(message)


def load_raw(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file into a plain dict, resolving `extends:` chains relative to each file."""
    if "\x00" in os.fspath(path):
        raise ScenarioError(f"{os.fspath(path)!r}: a path cannot contain a NUL byte")
    path = Path(path).resolve()
    if len(_seen) >= MAX_EXTENDS:
        raise ScenarioError(f"{path}: extends chain longer than {MAX_EXTENDS} files")
    if path in _seen:
        raise ScenarioError(f"{path}: extends loop ({' -> '.join(p.name for p in (*_seen, path))})")
    data = _read_yaml(path)
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("file"), str):
        # Each file's graph path is relative to that file, also when another scenario extends it.
        network["file"] = str((path.parent / network["file"]).resolve())
    if isinstance(network, dict) and isinstance(network.get("people"), str):
        network["people"] = str((path.parent / network["people"]).resolve())  # the person table, likewise
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(f"{path}: extends must be a file path, got {parent!r}")
        target = path.parent / parent
        try:
            found = target.exists()
        except OSError:  # a name the file system cannot hold (too long, ...) names no file either
            found = False
        if not found:
            _missing_extends(path, parent, target)
        inherited = load_raw(target, (*_seen, path))
        if isinstance(network, dict) and network.get("file") is not None and isinstance(inherited.get("network"), dict):
            # This file brings its own graph: the generated graph it inherits is gone, so are the keys that made it
            # (they would only read as settings a graph file ignores).
            inherited["network"] = {k: v for k, v in inherited["network"].items() if k not in GENERATOR_KEYS}
        data = _merge(inherited, data)
    data["base_dir"] = str(path.parent)
    return data


def parse_value(text: str, source: str = "--set") -> Any:
    """Parse the right side of `--set key=value` as a YAML scalar or flow collection (never evaluated).

    Text that is not YAML stays text; a value that is too long, too deep, non-finite or out of range is refused.
    """
    if len(text) > MAX_OVERRIDE_CHARS:
        raise ScenarioError(f"{source}: value of {len(text):,} characters; at most {MAX_OVERRIDE_CHARS:,}")
    try:
        _check_depth(text, source)
        value = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        value = text
    except (ValueError, RecursionError, OverflowError) as exc:
        if _huge_scalar(text):
            raise ScenarioError(f"{source}: number out of range (more than 4,300 digits)") from None
        raise ScenarioError(f"{source}: {text[:40]!r}...: cannot be read ({str(exc)[:80]})") from None
    check_values(value, source)
    return value


def apply_overrides(data: dict, overrides: list[str] | dict[str, Any], source: str = "--set") -> dict:
    """Apply dotted overrides (`wom.contact_prob=0.2`) to a raw scenario dict; list items by index."""
    items = overrides.items() if isinstance(overrides, dict) else [split_override(o, source) for o in overrides]
    data = copy.deepcopy(data)
    for dotted, value in items:
        if not isinstance(dotted, str) or not dotted or len(dotted.split(".")) > MAX_KEY_PARTS:
            raise ScenarioError(f"{source}: {str(dotted)[:60]!r} is not a dotted key like wom.contact_prob")
        node: Any = data
        parts = dotted.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                node = _list_item(node, part, dotted, source)
                if not isinstance(node, dict | list):
                    raise ScenarioError(f"{source}: {'.'.join(parts[: i + 1])} is a value, not a section, in {dotted}")
                continue
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict | list):
                raise ScenarioError(f"{source}: {'.'.join(parts[: i + 1])} is a value, not a section, in {dotted}")
            node = child
        last = parts[-1]
        if isinstance(node, list):
            node[_list_index(node, last, dotted, source)] = value
        else:
            node[last] = value
    return data


def split_override(text: str, source: str = "--set") -> tuple[str, Any]:
    """`key.sub=value` as (dotted key, parsed value); one line naming `source` for text that is not one."""
    if "=" not in text:
        raise ScenarioError(f"{source}: {text[:60]!r} must look like key.sub=value")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ScenarioError(f"{source}: {text[:60]!r} has no key before '='")
    parts = key.split(".")
    if len(parts) > MAX_KEY_PARTS or not all(parts) or "\x00" in key:
        raise ScenarioError(f"{source}: {key[:60]!r} is not a dotted key like wom.contact_prob")
    return key, parse_value(value, f"{source} {key}")


def _list_item(node: list, part: str, dotted: str, source: str) -> Any:
    return node[_list_index(node, part, dotted, source)]


def _list_index(node: list, part: str, dotted: str, source: str) -> int:
    """The index `part` names in list `node`, or one line saying why it names none (--set cannot add items)."""
    if not (part.isascii() and part.isdigit()):
        raise ScenarioError(f"{source}: {dotted}: {part!r} is not a list index (a number 0, 1, ... goes here)")
    if not node:
        raise ScenarioError(f"{source}: {dotted}: the list is empty; --set changes items, add them in the file")
    if int(part) >= len(node):
        raise ScenarioError(f"{source}: {dotted}: list index {part} out of range (0-{len(node) - 1})")
    return int(part)


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


# The names pydantic puts into an error's path for the type it tried in a union (`at: 3` or `at: [3, 5]` is tried
# as 'constrained-int' and as 'list[constrained-int]'), and for a field's validator; the user wrote neither.
_TYPE_IN_PATH = re.compile(r"^(constrained-)?(int|float|str|bool)$|^(list|literal|function-\w+)\[.*\]$")


def _is_type_in_path(part: Any) -> bool:
    return isinstance(part, str) and (part in ("function-after", "function-before") or bool(_TYPE_IN_PATH.match(part)))


def _reported_error(errors: list[dict]) -> tuple[dict, int]:
    """The error to report and the number of other problems.

    A value that may be one of several types fails once per type; the attempt that got deepest into the value
    (`at: [-1]`: item 0 is below 0) says what is wrong with what the user wrote, not the first (not an integer).
    """
    first = errors[0]
    tried = next((i for i, part in enumerate(first["loc"]) if _is_type_in_path(part)), None)
    if tried is None:
        return first, len(errors) - 1
    prefix = first["loc"][:tried]
    attempts = [
        e for e in errors if e["loc"][:tried] == prefix and len(e["loc"]) > tried and _is_type_in_path(e["loc"][tried])
    ]
    return max(attempts, key=lambda e: len(e["loc"])), len(errors) - len(attempts)


def format_validation_error(exc: ValidationError, source: str, model: type[BaseModel] = Scenario) -> str:
    """One line: file, key (as written in the file), what is wrong and what is allowed."""
    err, others = _reported_error(exc.errors())
    loc = tuple(p for p in err["loc"] if not _is_type_in_path(p))
    more = f" [+{others} more]" if others else ""
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
        problem = f"unknown kind {_short(kind)}{did}" if kind is not None else "every entry needs a kind"
        return f"{source}: {key}.kind: {problem} (allowed: {', '.join(sorted(KINDS))})"
    msg = " ".join(str(err["msg"]).removeprefix("Value error, ").split())
    if not key:
        return f"{source}: {msg}{more}"  # a check of the whole scenario names its key in the message
    got = err.get("input")
    got_text = "" if isinstance(got, dict | list) or got is None else f" (got {_short(got)})"
    return f"{source}: {key}: {msg}{got_text}{more}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def build_scenario(data: dict, source: str = "scenario") -> Scenario:
    """Validate a raw dict into a Scenario, raising ScenarioError with one clear line."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping of keys, got {type(data).__name__}")
    check_values(data, source)
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
    source = str(path)
    if overrides or extra:
        # Overrides act on the fully resolved scenario, so defaults (e.g. list items) can be addressed too.
        data = build_scenario(data, source).model_dump(mode="json", by_alias=True)
        data = apply_overrides(data, overrides or [])
        data = apply_overrides(data, extra, "option")
        # The file is valid (just built): what fails now came from the command line, and the line says so.
        given = (["--set"] if overrides else []) + [f"--{key}" for key in extra]
        source = f"{Path(path).name} with {', '.join(given)}"
    scenario = build_scenario(data, source)
    if scenario.network.people is not None:
        read_people(scenario)  # a bad person table is refused on load, before any command runs
    return scenario


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (what `wom-sim check` prints and runs save)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------------------------- meaningless input
def _ticks_of(value: Any) -> list[int] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    return None


# Per-tick metrics that are shares or means of 0-1 states (wom_sim/sim/metrics.py): a trigger beyond 0-1 never fires.
_UNIT_METRICS = ("_share", "_rate", "mean_", "S_p", "L_p", "brand", "awareness")


def _never_true(metric: str, op: str, value: float) -> bool:
    if not any(metric.endswith(t) if t.startswith("_") else metric.startswith(t) for t in _UNIT_METRICS):
        return False
    return {
        ">": value >= 1,
        ">=": value > 1,
        "<": value <= 0,
        "<=": value < 0,
        "==": not 0 <= value <= 1,
    }.get(op, False)


def scenario_warnings(scenario: Scenario, source: str = "scenario") -> list[str]:
    """Inputs that are valid but answer no question: schedules and events outside the horizon, a schedule that
    can never be on, ids given without `by: ids`, a graph file's weight column that is not used, an empty file.

    Returned as one-line messages: `run`, `check` and the experiment commands print them on stderr and keep them
    in the output's manifest.
    """
    notes: list[str] = []
    horizon = scenario.ticks
    if not (scenario.model_fields_set - {"base_dir"}):
        notes.append(f"{source}: sets no parameters; it runs the defaults (see `wom-sim check`)")
    for section in ("interventions", "events"):
        for i, spec in enumerate(getattr(scenario, section)):
            where = f"{source}: {section}.{i} ({spec.name or spec.kind})"
            sched = spec.schedule
            if sched is not None:
                start = sched.from_ or 0
                if sched.until is not None and start > sched.until:
                    notes.append(f"{where}: schedule from {start} until {sched.until} is empty; it never runs")
                elif start >= horizon:
                    notes.append(f"{where}: schedule starts at tick {start}, after the horizon (0-{horizon - 1})")
                elif sched.at is not None:
                    at = _ticks_of(sched.at) or []
                    if at and min(at) >= horizon:
                        notes.append(f"{where}: schedule.at {min(at)} is after the horizon (0-{horizon - 1})")
                    elif at and all(t < start or (sched.until is not None and t > sched.until) for t in at):
                        notes.append(f"{where}: no tick of schedule.at lies in its from/until window; it never runs")
            if spec.when is not None and _never_true(spec.when.metric, spec.when.op, spec.when.value):
                notes.append(
                    f"{where}: when {spec.when.metric} {spec.when.op} {spec.when.value:g} can never hold "
                    "(the metric lies in 0-1); it never runs"
                )
            at = _ticks_of(getattr(spec, "at", None))  # an event kind's own `at` (e.g. crisis)
            if at and min(at) >= horizon:
                notes.append(f"{where}: at {min(at)} is after the horizon (0-{horizon - 1}); it never happens")
    select = scenario.kols.select
    if select.ids and select.by != "ids":
        notes.append(f"{source}: kols.select.ids is ignored because kols.select.by is {select.by!r} (set by: ids)")
    net = scenario.network
    # A graph file sets the people and the ties: what the scenario says about generating a graph is not used,
    # and a user who set network.n beside a file may believe the run has that many people.
    defaults = type(net).model_fields
    unused = [key for key in GENERATOR_KEYS if getattr(net, key) != defaults[key].default] if net.file else []
    if unused:
        keys = ", ".join(f"network.{key}" for key in unused)
        notes.append(
            f"{source}: {keys} {'is' if len(unused) == 1 else 'are'} ignored: the graph and its people come from "
            f"network.file {Path(net.file).name}"
        )
    if net.file and net.weight_column is None and str(net.file).lower().endswith(".csv") and Path(net.file).is_file():
        try:
            with open(net.file, encoding="utf-8", errors="replace") as handle:
                header = [c.strip().strip('"') for c in handle.readline(10_000).split(",")]
        except OSError:
            header = []
        if "weight" in header:
            notes.append(
                f"{source}: network.file {Path(net.file).name} has a 'weight' column that is not used; "
                "set network.weight_column: weight to use it"
            )
    return notes
