"""The fact registry: which facts exist (wom_sim/validation/facts/facts.yaml), the check that measures each, results.

A fact is data: an id, the claim, what is expected, its source, the name of a check function and the check's
parameters. A check is one small function `check(lab, params) -> list[Part]` registered with `@check("name")`
(`checks.py`); each part is one measured number with its interval, what was expected and whether it passed.
Facts listed in shared/validation/facts.md but missing from the registry are reported as "not implemented".
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.validation.lab import Estimate, Lab

PROJECT = Path(__file__).resolve().parents[2]
FOLDER = Path(__file__).resolve().with_name("facts")  # package data: the registry and its scenario files
REGISTRY_FILE = FOLDER / "facts.yaml"
BASELINE_FILE = bundled_path("baseline")
# The shared list of facts the project must reproduce (outside the repository; optional).
FACTS_MD = PROJECT.parent / "shared" / "validation" / "facts.md"
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
            )
        )
    return {k: v for k, v in data.items() if k != "facts"}, facts


def facts_md_ids(path: Path = FACTS_MD) -> list[str]:
    """Fact ids listed in the shared facts.md table (empty when the file is not there)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    return re.findall(r"^\|\s*(F\d+)\s*\|", text, flags=re.MULTILINE)


def _sort_key(fact_id: str) -> tuple[int, str]:
    m = re.match(r"F(\d+)$", fact_id)
    return (int(m.group(1)) if m else 10**6, fact_id)


def run_validation(
    mode: str = "quick",
    only: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    registry: Path = REGISTRY_FILE,
    facts_md: Path = FACTS_MD,
) -> tuple[list[FactResult], dict[str, Any]]:
    """Run the facts (all, or the ids in `only`) in `mode` ("quick" or "full").

    Returns the results (in fact-id order) and a record of the run (mode, sizes, seeds, runs, seconds).
    """
    from wom_sim.validation import checks, verification  # noqa: F401 - importing registers the checks

    if mode not in MODES:
        raise ScenarioError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    settings, specs = load_registry(registry)
    known = {s.id for s in specs}
    listed = facts_md_ids(facts_md)
    wanted = list(dict.fromkeys([s.id for s in specs] + listed))
    if only:
        unknown = [f for f in only if f not in known and f not in listed]
        if unknown:
            raise ScenarioError(
                f"--facts: unknown fact {', '.join(unknown)} (known: {', '.join(sorted(known, key=_sort_key))})"
            )
        wanted = [f for f in wanted if f in only]
    modes = settings.get("modes", {})
    cfg = modes.get(mode, {})
    lab = Lab(
        FOLDER if registry == REGISTRY_FILE else Path(registry).parent,
        BASELINE_FILE,
        size=cfg.get("size", {}),
        replications=cfg.get("replications", 10),
        seed=settings.get("seed", 1),
        progress=progress,
    )
    lab.mode = mode
    by_id = {s.id: s for s in specs}
    results = []
    started = time.perf_counter()
    for fact_id in sorted(wanted, key=_sort_key):
        spec = by_id.get(fact_id)
        if spec is None:
            results.append(FactResult(fact_id, fact_id, "(listed in facts.md)", "", status="not implemented",
                                      detail="no registry entry in wom_sim/validation/facts/facts.yaml"))  # fmt: skip
            continue
        results.append(_run_fact(lab, spec, mode, progress))
    glance = None
    if "baseline" in lab.arms_run:
        from wom_sim.validation.checks import baseline_glance

        glance = baseline_glance(lab)
    record = {
        "mode": mode,
        "replications": lab.replications,
        "size": lab.size,
        "seed": lab.seed,
        "seeds": lab.seeds,
        "runs": lab.run_count,
        "seconds": time.perf_counter() - started,
        "facts_md": str(facts_md) if listed else None,
        "glance": glance,
    }
    return results, record


def _run_fact(lab: Lab, spec: FactSpec, mode: str, progress: Callable[[str], None] | None) -> FactResult:
    result = FactResult(spec.id, spec.short, spec.fact, spec.source)
    fn = CHECKS.get(spec.check)
    start = time.perf_counter()
    if progress:
        progress(f"{spec.id} {spec.short} ...")
    try:
        if fn is None:
            raise Pending(f"check {spec.check!r} is not written")
        params = {k: mode_value(v, mode) for k, v in spec.params.items()}
        result.parts = fn(lab, params)
        verdicts = [p.passed for p in result.parts if p.passed is not None]
        result.status = "pass" if verdicts and all(v is True for v in verdicts) else "fail"
    except NotRun as exc:
        result.status, result.detail = "not run", str(exc)
    except Pending as exc:
        result.status, result.detail = "pending", str(exc)
    except Exception as exc:  # a broken check is a failed fact, reported with its cause, never a crash of the run
        result.status = "error"
        result.detail = f"{type(exc).__name__}: {exc}"
        if progress:
            progress(traceback.format_exc())
    if not result.parts:
        result.parts = [Part(spec.short, spec.expected, None, None, note=result.status)]
    result.seconds = time.perf_counter() - start
    if progress:
        progress(f"{spec.id} {result.status} ({result.seconds:.1f} s)")
    return result


def overall_passed(results: list[FactResult]) -> bool:
    """Whether the run is a success: every fact passed, except ones that could not run here (reported)."""
    return all(r.status in ("pass", "not run") for r in results)
