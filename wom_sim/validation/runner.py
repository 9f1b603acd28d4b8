"""Running the registry: every fact's check on one shared Lab, each outcome a FactResult, never a crash.

Importing this module registers every check (`checks.py`, `verification.py`); it is the only module of the
package that imports them, so imports run one way: lab <- registry <- checks, verification <- runner.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
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
    workers: int = 1,
) -> tuple[list[FactResult], dict[str, Any]]:
    """Run the facts (all, or the ids in `only`) in `mode` ("quick" or "full").

    `listed` are fact ids that should exist (e.g. a project's list of facts to reproduce); those without a
    registry entry are reported as "not implemented". Returns the results (in fact-id order) and a record of the
    run (mode, sizes, seeds, runs, seconds).

    `workers` > 1 runs the facts in that many processes, each with its own Lab (so an arm shared by facts in two
    processes runs in both). The results are the same as with one: every fact's arms use the registry's seeds,
    whichever facts ran before it (the Lab caches runs, it does not carry random state between facts).
    """
    if mode not in MODES:
        raise ScenarioError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    if workers < 1:
        raise ScenarioError(f"--workers must be at least 1 (got {workers})")
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
    wanted = sorted(wanted, key=_sort_key)
    started = time.perf_counter()
    registered = [f for f in wanted if f in known]
    if workers > 1 and len(registered) > 1:
        done, info = _run_in_processes(mode, registered, registry, workers, progress)
    else:
        lab = _make_lab(settings, registry, mode, progress)
        by_id = {s.id: s for s in specs}
        done = {f: _run_fact(lab, by_id[f], mode, progress) for f in registered}
        info = _lab_info(lab)
    results = [done.get(f) or _unregistered(f) for f in wanted]
    record = {"mode": mode, **info, "seconds": time.perf_counter() - started, "listed": listed}
    return results, record


def _make_lab(settings: dict[str, Any], registry: Path, mode: str, progress: Callable[[str], None] | None) -> Lab:
    cfg = settings.get("modes", {}).get(mode, {})
    lab = Lab(
        FOLDER if registry == REGISTRY_FILE else Path(registry).parent,
        BASELINE_FILE,
        size=cfg.get("size", {}),
        replications=cfg.get("replications", 10),
        seed=settings.get("seed", 1),
        progress=progress,
    )
    lab.mode = mode
    return lab


def _lab_info(lab: Lab) -> dict[str, Any]:
    """What the record says of a Lab: its sizes and seeds, the runs it made and the baseline at a glance."""
    glance = baseline_glance(lab) if "baseline" in lab.arms_run else None
    return {"replications": lab.replications, "size": lab.size, "seed": lab.seed, "seeds": lab.seeds,
            "runs": lab.run_count, "glance": glance}  # fmt: skip


def _unregistered(fact_id: str) -> FactResult:
    return FactResult(fact_id, fact_id, "(listed, not registered)", "", status="not implemented",
                      detail="no registry entry in wom_sim/validation/facts/facts.yaml")  # fmt: skip


# One Lab per worker process, kept across the facts that process runs (so their shared arms run once there).
_WORKER_LAB: dict[tuple, Lab] = {}


def _fact_in_worker(mode: str, fact_id: str, registry: Path) -> tuple[FactResult, dict[str, Any]]:
    settings, specs = load_registry(registry)
    key = (mode, str(registry))
    if key not in _WORKER_LAB:
        _WORKER_LAB[key] = _make_lab(settings, registry, mode, None)
    lab = _WORKER_LAB[key]
    spec = next(s for s in specs if s.id == fact_id)
    return _run_fact(lab, spec, mode, None), {**_lab_info(lab), "pid": os.getpid()}


def _run_in_processes(
    mode: str, fact_ids: list[str], registry: Path, workers: int, progress: Callable[[str], None] | None
) -> tuple[dict[str, FactResult], dict[str, Any]]:
    """The facts run in `workers` processes (spawned: the caller may hold threads); progress as each one ends."""
    done: dict[str, FactResult] = {}
    labs: dict[int, dict[str, Any]] = {}  # per worker process: its Lab's latest record
    glance = None
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_fact_in_worker, mode, f, registry): f for f in fact_ids}
        for future in as_completed(futures):
            result, info = future.result()
            done[futures[future]] = result
            labs[info.pop("pid", 0)] = info
            if glance is None:
                glance = info.get("glance")
            if progress:
                progress(f"{result.id} {result.status} ({result.seconds:.1f} s)")
    any_lab = next(iter(labs.values()))
    info = {**any_lab, "runs": sum(i["runs"] for i in labs.values()), "glance": glance}
    return done, info


def _run_fact(lab: Lab, spec: FactSpec, mode: str, progress: Callable[[str], None] | None) -> FactResult:
    result = FactResult(spec.id, spec.short, spec.fact, spec.source, role=spec.role)
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
