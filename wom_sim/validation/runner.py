"""Running the registry: every fact's check on one shared Lab, each outcome a FactResult, never a crash.

Importing this module registers every check (`checks.py`, `verification.py`); it is the only module of the
package that imports them, so imports run one way: lab <- registry <- checks, verification <- runner.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import wom_sim.validation.verification  # noqa: F401 - importing it registers its checks
from wom_sim.errors import ScenarioError
from wom_sim.validation.checks import baseline_glance
from wom_sim.validation.lab import Lab
from wom_sim.validation.registry import (
    BASELINE_FILE,
    CHECKS,
    FOLDER,
    MODES,
    REGISTRY_FILE,
    FactResult,
    FactSpec,
    NotRun,
    Part,
    Pending,
    load_registry,
    mode_value,
)

__all__ = ["overall_passed", "run_validation"]


def _sort_key(fact_id: str) -> tuple[int, str]:
    m = re.match(r"F(\d+)$", fact_id)
    return (int(m.group(1)) if m else 10**6, fact_id)


def run_validation(
    mode: str = "quick",
    only: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    registry: Path = REGISTRY_FILE,
    listed: Sequence[str] = (),
) -> tuple[list[FactResult], dict[str, Any]]:
    """Run the facts (all, or the ids in `only`) in `mode` ("quick" or "full").

    `listed` are fact ids that should exist (e.g. a project's list of facts to reproduce); those without a
    registry entry are reported as "not implemented". Returns the results (in fact-id order) and a record of the
    run (mode, sizes, seeds, runs, seconds).
    """
    if mode not in MODES:
        raise ScenarioError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    settings, specs = load_registry(registry)
    known = {s.id for s in specs}
    listed = list(listed)
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
            results.append(FactResult(fact_id, fact_id, "(listed, not registered)", "", status="not implemented",
                                      detail="no registry entry in wom_sim/validation/facts/facts.yaml"))  # fmt: skip
            continue
        results.append(_run_fact(lab, spec, mode, progress))
    glance = None
    if "baseline" in lab.arms_run:
        glance = baseline_glance(lab)
    record = {
        "mode": mode,
        "replications": lab.replications,
        "size": lab.size,
        "seed": lab.seed,
        "seeds": lab.seeds,
        "runs": lab.run_count,
        "seconds": time.perf_counter() - started,
        "listed": listed,
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
