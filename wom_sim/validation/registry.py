"""The fact registry: which facts exist (wom_sim/validation/facts/facts.yaml), and the types every check uses.

A fact is data: an id, the claim, what is expected, its source, the name of a check function and the check's
parameters. A check is one small function `check(lab, params) -> list[Part]` registered with `@check("name")`
(`checks.py`, `verification.py`); each part is one measured number with its interval, what was expected and
whether it passed. This module imports no check: the checks import it, and `runner.py` imports both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.validation.lab import Estimate, Lab

# Package data: the registry and the scenario files of its arms. A pip install unpacks the package into a folder,
# so the resource is a real path (Lab reads the arms' files from it by name).
FOLDER = Path(str(files("wom_sim.validation").joinpath("facts")))
REGISTRY_FILE = FOLDER / "facts.yaml"
BASELINE_FILE = bundled_path("baseline")
MODES = ("quick", "full")


@dataclass
class Part:
    """One measured quantity of a fact."""

    label: str
    expected: str
    estimate: Estimate | None
    passed: bool | None  # None: not run / pending
    fmt: str = "{:.3g}"
    note: str = ""

    @property
    def measured(self) -> str:
        if self.estimate is None:
            return self.note or "n/a"
        return self.estimate.text(self.fmt)


@dataclass
class FactResult:
    """A fact's outcome: its parts, status and how long it took."""

    id: str
    short: str
    fact: str
    source: str
    parts: list[Part] = field(default_factory=list)
    status: str = "pass"  # pass, fail, not run, pending, not implemented, error
    detail: str = ""
    seconds: float = 0.0
    role: str = "test"  # as FactSpec.role: reports show calibration targets and test facts apart

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class FactSpec:
    """A registry entry (wom_sim/validation/facts/facts.yaml)."""

    id: str
    short: str
    fact: str
    expected: str
    source: str
    check: str
    params: dict[str, Any]
    role: str = "test"  # "target": the defaults were calibrated to it; "test": never fitted (docs/validation.md)


CHECKS: dict[str, Callable[[Lab, dict[str, Any]], list[Part]]] = {}


class NotRun(Exception):
    """A check cannot run here (e.g. the reference model is not installed): reported, not failed."""


class Pending(Exception):
    """A check needs something not built yet (e.g. an intervention kind not registered): reported as pending."""


def check(name: str) -> Callable:
    """Register a check function under `name` (the `check:` of a registry entry)."""

    def wrap(fn: Callable) -> Callable:
        CHECKS[name] = fn
        return fn

    return wrap


def mode_value(value: Any, mode: str) -> Any:
    """A parameter that differs by mode is written `{quick: a, full: b}`; anything else is the same in both."""
    if isinstance(value, dict) and set(value) == set(MODES):
        return value[mode]
    return value


def load_registry(path: Path = REGISTRY_FILE) -> tuple[dict[str, Any], list[FactSpec]]:
    """The registry's settings (modes, seed) and its facts, in file order."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: validation registry not found") from None
    facts = []
    for i, entry in enumerate(data.get("facts", [])):
        missing = [k for k in ("id", "fact", "expected", "check") if k not in entry]
        if missing:
            raise ScenarioError(f"{path}: facts[{i}] lacks {', '.join(missing)}")
        facts.append(
            FactSpec(
                id=str(entry["id"]),
                short=str(entry.get("short", entry["id"])),
                fact=str(entry["fact"]),
                expected=str(entry["expected"]),
                source=str(entry.get("source", "")),
                check=str(entry["check"]),
                params=dict(entry.get("params") or {}),
                role=str(entry.get("role", "test")),
            )
        )
    return {k: v for k, v in data.items() if k != "facts"}, facts
