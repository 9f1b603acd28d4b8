"""Measuring one population size in this process: graph build, kernel ticks, mat-vecs, peak RSS, the per-step
profile and the per-agent reference beside a twin kernel model.

Times are CPU time (`time.process_time`) and medians over several ticks: the machines this runs on are shared, and
wall time there measures the neighbours. `run.measure_size_isolated` runs this in a fresh process per size.
"""

from __future__ import annotations

import functools
import operator
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wom_sim.bench.profile import PROFILE_TICKS, profile_steps
from wom_sim.bench.results import SizeResult
from wom_sim.network.build import build_graph
from wom_sim.network.generators import is_vectorised
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import build_scenario, load_scenario
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.model import WomModel
from wom_sim.validation.reference_model import ReferenceModel

# What is measured by default, and how much (each size costs seconds, the reference at 100k about a minute).
DEFAULT_SIZES = (5_000, 100_000, 1_000_000)
QUICK_SIZES = (5_000, 100_000)
# Ticks before timing: half the 52-tick horizon of the end-to-end run. A tick's cost grows with adoption and word
# of mouth, so ticks timed here cost about the median tick of that run (and WOM is well under way by then).
WARMUP_TICKS = 26
TIMED_TICKS = 5
MATVEC_PER_TICK = 2  # mat-vecs timed after each timed kernel tick
REFERENCE_MAX_N = 100_000  # the per-agent reference is only timed up to here (about 1 s per tick at 100k)
REFERENCE_FULL_MAX_N = 20_000  # above this the reference times only REFERENCE_FEW_TICKS ticks
REFERENCE_FEW_TICKS = 2
BA_M = 5
SEED = 42
# The two rivals of the competition row (issue 15): one advertises, one is cheaper and worse; 5% of the market.
RIVALS = (
    {"name": "acme", "advertising": 0.1, "initial_customers": 0.03},
    {"name": "budget", "quality": 0.7, "price": 0.85, "initial_customers": 0.02},
)

Progress = Callable[[str], None]


def quiet(_msg: str) -> None:
    pass


def stderr_progress(msg: str) -> None:
    """Progress lines on stderr (stdout is kept for the tables)."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def bench_scenario(n: int, ticks: int, seed: int = SEED, path: str | Path | None = None) -> Scenario:
    """The bundled baseline (or the scenario at `path`) on a Barabási-Albert graph with m = 5 of n people."""
    overrides = [f"network.n={n}", "network.generator=barabasi_albert", f"network.m={BA_M}", f"ticks={ticks}",
                 f"seed={seed}"]  # fmt: skip
    return load_scenario(Path(path) if path else bundled_path("baseline"), overrides)


def maxrss_mb(usage: Any) -> float:
    """ru_maxrss of a rusage in MB (it is KiB on Linux, bytes on macOS)."""
    return usage.ru_maxrss / 1e6 if sys.platform == "darwin" else usage.ru_maxrss * 1024 / 1e6


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return maxrss_mb(resource.getrusage(resource.RUSAGE_SELF))


def _cpu_ms(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(CPU ms, wall ms, result) of one call."""
    c, w = time.process_time_ns(), time.perf_counter_ns()
    out = fn()
    return (time.process_time_ns() - c) / 1e6, (time.perf_counter_ns() - w) / 1e6, out


def time_reference(
    sc: Scenario, graph, kol_ids, seed: int, warmup: int, ticks: int, kernel_step: Callable[[], Any], progress: Progress
) -> dict[str, Any]:
    """Reference ticks after `warmup` untimed ones, each timed beside one kernel tick at the same tick number.

    `kernel_step` advances a kernel model that has had the same warm-up on the same graph, so the speed-up is
    measured tick for tick under the same load. Returns SizeResult fields.
    """
    args = (sc, graph.indptr, graph.indices, graph.weights, kol_ids, seed)
    setup_ms, _, reference = _cpu_ms(lambda: ReferenceModel(*args))
    for t in range(warmup):
        reference.step()
        if t % 5 == 4 or t + 1 == warmup:
            progress(f"  reference warm-up {t + 1}/{warmup}")
    ref_ms, kernel_ms = [], []
    for t in range(ticks):
        kernel_ms.append(_cpu_ms(kernel_step)[0])
        ref_ms.append(_cpu_ms(reference.step)[0])
        progress(f"  tick {warmup + t + 1}: reference {ref_ms[-1]:,.0f} ms, kernel {kernel_ms[-1]:.1f} ms")
    return {
        "reference_ticks_ms": ref_ms,
        "reference_ms": statistics.median(ref_ms),
        "kernel_beside_reference_ms": statistics.median(kernel_ms),
        "reference_setup_s": setup_ms / 1e3,
        "reference_warmup": warmup,
    }


def time_todays_kernel(
    sc: Scenario, graph, seed: int, warmup: int, ticks: int, kernel_step: Callable[[], Any], progress: Progress
) -> dict[str, Any]:
    """Today's kernel (`WomModel.kernel = "reference"`, the tick of dynamics.py) beside the kernel, tick for tick.

    A twin model on the same graph and seed is warmed up to the kernel model's tick; then each round times one
    tick of each, the order alternating between rounds, so both see the same load and the same state of the run
    (the two are bit-identical). Returns SizeResult fields.
    """
    twin = WomModel(sc, graph=graph, seed=seed)
    twin.kernel = "reference"
    for _ in range(warmup):
        twin.step()
    todays, beside = [], []
    for t in range(ticks):
        if t % 2:
            beside.append(_cpu_ms(kernel_step)[0])
            todays.append(_cpu_ms(twin.step)[0])
        else:
            todays.append(_cpu_ms(twin.step)[0])
            beside.append(_cpu_ms(kernel_step)[0])
    result = {"todays_ms": statistics.median(todays), "todays_ticks_ms": todays,
              "kernel_beside_todays_ms": statistics.median(beside)}  # fmt: skip
    progress(f"  today's kernel {result['todays_ms']:.1f} ms/tick beside {result['kernel_beside_todays_ms']:.1f}")
    return result


def state_bytes_per_person(state: Any, n: int) -> float:
    """Bytes per person of a state object's numpy arrays (its lasting per-person and per-brand state)."""
    arrays = [v for v in vars(state).values() if isinstance(v, np.ndarray)]
    return sum(a.nbytes for a in arrays) / n


def time_rivals(sc: Scenario, graph, kol_ids, seed: int, warmup: int, ticks: int, progress: Progress) -> dict[str, Any]:
    """The scenario with two rivals (`RIVALS`) beside the one-brand scenario, tick for tick (issue 15's target).

    Both models run on the same graph, KOLs and seed; they are warmed up alternately to the same tick, then each
    round times one tick of each, the order alternating, and the ratio of each round is kept. Returns SizeResult
    fields, with the bytes per person of the population's and of the market's arrays.
    """
    with_rivals = build_scenario({**sc.model_dump(by_alias=True, exclude_none=False), "competitors": list(RIVALS)},
                                 "bench")  # fmt: skip
    one = WomModel(sc, graph=graph, kol_ids=kol_ids, seed=seed)
    two = WomModel(with_rivals, graph=graph, kol_ids=kol_ids, seed=seed)
    for _ in range(warmup):
        one.step()
        two.step()
    ones, twos = [], []
    for t in range(ticks):
        if t % 2:
            twos.append(_cpu_ms(two.step)[0])
            ones.append(_cpu_ms(one.step)[0])
        else:
            ones.append(_cpu_ms(one.step)[0])
            twos.append(_cpu_ms(two.step)[0])
    ratio = statistics.median(b / a for a, b in zip(ones, twos, strict=True))
    progress(f"  two rivals {statistics.median(twos):.1f} ms/tick beside one brand {statistics.median(ones):.1f}:"
             f" {ratio:.2f}x")  # fmt: skip
    return {
        "rivals_ms": statistics.median(twos), "rivals_ticks_ms": twos,
        "one_brand_beside_rivals_ms": statistics.median(ones), "rivals_over_one_brand": ratio,
        "population_bytes_per_person": state_bytes_per_person(two.population, graph.n),
        "market_bytes_per_person": state_bytes_per_person(two.market, graph.n),
    }  # fmt: skip


def reference_plan(n: int, ticks: int, warmup: int) -> tuple[int, int]:
    """(timed, warm-up) reference ticks at n: all timed ticks up to 20k, two above, none above 100k."""
    if n > REFERENCE_MAX_N:
        return 0, 0
    return (ticks if n <= REFERENCE_FULL_MAX_N else min(ticks, REFERENCE_FEW_TICKS)), warmup


def measure_size(
    n: int,
    *,
    ticks: int = TIMED_TICKS,
    warmup: int = WARMUP_TICKS,
    reference_ticks: int = 0,
    reference_warmup: int | None = None,
    matvec_per_tick: int = MATVEC_PER_TICK,
    profile_ticks: int = PROFILE_TICKS,
    seed: int = SEED,
    scenario_path: str | None = None,
    todays_ticks: bool = True,
    rivals: bool = True,
    progress: Progress = quiet,
) -> SizeResult:
    """Measure one size in this process (peak RSS is this process's; `measure_size_isolated` gives it its own).

    Order: build; warm-up ticks; peak RSS; `ticks` rounds of one timed kernel tick and mat-vecs (side by side, so
    a change of load on a shared machine hits both); the per-step profile; then the reference beside a second
    kernel model on the same graph, warmed up alike.
    """
    rw = warmup if reference_warmup is None else reference_warmup
    horizon = warmup + 2 * ticks + profile_ticks + rw + reference_ticks
    sc = bench_scenario(n, horizon, seed, scenario_path)
    progress(f"N = {n:,}: building the graph")
    build_ms, build_wall, graph = _cpu_ms(lambda: build_graph(sc.network, np.random.default_rng(seed)))
    progress(f"  {graph.n_edges:,} stored edges in {build_ms / 1e3:.2f} s CPU ({build_wall / 1e3:.2f} s wall)")
    setup_ms, _, model = _cpu_ms(lambda: WomModel(sc, graph=graph, seed=seed))

    warm = []
    for t in range(warmup):
        warm.append(_cpu_ms(model.step)[0])
        if (t + 1) % 10 == 0 or t + 1 == warmup:
            progress(f"  kernel warm-up tick {t + 1}/{warmup}: {warm[-1]:.1f} ms")
    rss = peak_rss_mb()  # build, population and warm-up ticks: the working set of a run

    matvec_once = functools.partial(operator.matmul, graph.csr(), np.random.default_rng(0).random(graph.n))
    matvec_once()  # first touch of its pages, outside the timing
    cpu, wall, matvec = [], [], []
    for _ in range(ticks):
        c, w, _ = _cpu_ms(model.step)
        cpu.append(c)
        wall.append(w)
        matvec += [_cpu_ms(matvec_once)[0] for _ in range(matvec_per_tick)]
    del matvec_once
    kernel_ms, matvec_ms = statistics.median(cpu), statistics.median(matvec)
    progress(f"  kernel {kernel_ms:.1f} ms/tick, mat-vec {matvec_ms:.2f} ms, peak RSS {rss:,.0f} MB")

    todays = time_todays_kernel(sc, graph, seed, warmup + ticks, ticks, model.step, progress) if todays_ticks else {}
    if rivals:
        todays.update(time_rivals(sc, graph, model.kol_ids, seed, warmup, ticks, progress))
    profile, profile_total = profile_steps(model, profile_ticks) if profile_ticks else ({}, None)
    del model

    result = SizeResult(
        n=n, edges=graph.n_edges, generator="vectorised" if is_vectorised(sc.network) else "networkx",
        build_s=build_ms / 1e3, setup_s=setup_ms / 1e3, kernel_ms=kernel_ms, kernel_ticks_ms=warm + cpu,
        kernel_wall_ms=statistics.median(wall), warmup=warmup, timed_ticks=ticks, matvec_ms=matvec_ms,
        matvec_runs_ms=matvec, peak_rss_mb=rss, profile=profile, profile_total_ms=profile_total, **todays,
    )  # fmt: skip
    if not reference_ticks:
        result.reference_note = "not timed" if n <= REFERENCE_MAX_N else "too slow"
        return result
    progress(f"  per-agent reference: {rw} warm-up ticks, then {reference_ticks} timed (slow on purpose)")
    twin = WomModel(sc, graph=graph, seed=seed)
    for _ in range(rw):
        twin.step()
    timed = time_reference(sc, graph, twin.kol_ids, seed, rw, reference_ticks, twin.step, progress)
    for key, value in timed.items():
        setattr(result, key, value)
    if result.speedup:
        progress(f"  reference {result.reference_ms:,.0f} ms/tick: kernel {result.speedup:,.0f}x faster")
    return result
