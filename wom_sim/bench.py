"""Benchmark of the kernel: per-tick cost against the per-agent reference and against one sparse mat-vec.

`run_benchmark` measures, for Barabási-Albert graphs (m = 5) of each size, the graph build, the full tick
(`WomModel.step`), one `graph.csr() @ x` (the memory-bandwidth floor: a WOM step where most customers talk touches
every edge), the per-agent reference of `tests/reference_model.py` (small sizes only; it is slow on purpose), peak
RSS and where the time of a tick goes; then one end-to-end `wom-sim run` of a million people for 52 ticks. Every
size runs in a fresh subprocess so its peak RSS is its own. Times are CPU time (`time.process_time`) and medians
over several ticks or repeats: the machines this runs on are shared, and wall time there measures the neighbours.
The end-to-end run is timed on the wall clock, because its target is a wall-clock one.

`wom-sim bench` (`wom_sim/cli/bench.py`) and `experiments/benchmark.py` print the tables and, with
`--write-docs`, write them into docs/performance.md; the targets are those of issue 4.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import inspect
import json
import operator
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wom_sim.scenario.catalogue import bundled_path
from wom_sim.validation import reference_model

# What is measured by default, and how much (each size costs seconds, the reference at 100k about a minute).
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
# Ticks before timing: half the 52-tick horizon of the end-to-end run. A tick's cost grows with adoption and word
# of mouth, so ticks timed here cost about the median tick of that run (and WOM is well under way by then).
WARMUP_TICKS = 26
TIMED_TICKS = 5
MATVEC_PER_TICK = 2  # mat-vecs timed after each timed kernel tick
PROFILE_TICKS = 5
REFERENCE_MAX_N = 100_000  # the per-agent reference is only timed up to here (about 1 s per tick at 100k)
REFERENCE_FULL_MAX_N = 20_000  # above this the reference times only REFERENCE_FEW_TICKS ticks
REFERENCE_FEW_TICKS = 2
E2E_N, E2E_TICKS = 1_000_000, 52
BA_M = 5
SEED = 42

# Targets of issue 4 on the project's 2-core machine.
SPEEDUP_TARGET = (100_000, 100.0)  # at N = 100k, kernel at least 100x faster per tick than the reference
MATVEC_TARGET = (1_000_000, 4.0)  # at N = 1M, one tick at most 4 mat-vecs
E2E_WALL_TARGET_S = 60.0
E2E_RSS_TARGET_GB = 3.0

ROOT = Path(__file__).resolve().parents[1]  # the repository checkout, when the package is used from one
DOCS_PATH = ROOT / "docs" / "performance.md"
SPEED_SECTION = "Kernel speed and memory"
PROFILE_SECTION = "Where the time goes"

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


def stderr_progress(msg: str) -> None:
    """Progress lines on stderr (stdout is kept for the tables)."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- results
@dataclass
class SizeResult:
    """Measurements at one population size (times in CPU milliseconds unless the name says otherwise)."""

    n: int
    edges: int  # stored directed edges (each undirected edge twice)
    generator: str  # "networkx" or "vectorised": which BA generator the scenario picked at this n
    build_s: float  # CPU seconds to build the graph (edge list + CSR)
    setup_s: float  # CPU seconds for the rest of WomModel(...): KOLs, population, interventions
    kernel_ms: float  # median CPU ms of one WomModel.step after the warm-up
    kernel_ticks_ms: list[float]  # every tick, warm-up included, in order
    kernel_wall_ms: float  # the same median on the wall clock (for reference: polluted on a shared machine)
    warmup: int
    timed_ticks: int
    matvec_ms: float  # median CPU ms of graph.csr() @ x
    matvec_runs_ms: list[float]
    peak_rss_mb: float  # peak RSS of this size's process after build and warm-up (before mat-vec, reference)
    reference_ms: float | None = None  # median CPU ms of one reference tick (after the same warm-up)
    kernel_beside_reference_ms: float | None = None  # median kernel tick timed beside the reference's, same ticks
    reference_ticks_ms: list[float] = field(default_factory=list)  # the timed reference ticks
    reference_warmup: int = 0
    reference_setup_s: float | None = None
    reference_note: str = ""  # why there is no reference time, when there is none
    profile: dict[str, float] = field(default_factory=dict)  # "step" or "step/child" -> median CPU ms per tick
    profile_total_ms: float | None = None
    repeats: int = 1  # with more, every number is the median over that many runs, each in a fresh process
    speedup_runs: list[float] = field(default_factory=list)  # the ratios of each run, when repeated
    kernel_over_matvec_runs: list[float] = field(default_factory=list)

    @property
    def speedup(self) -> float | None:
        """Reference ms per tick over the kernel's, timed side by side at the same ticks (median over runs)."""
        if self.speedup_runs:
            return statistics.median(self.speedup_runs)
        if not self.reference_ms:
            return None
        return self.reference_ms / (self.kernel_beside_reference_ms or self.kernel_ms)

    @property
    def kernel_over_matvec(self) -> float:
        """Kernel tick over one mat-vec, both timed side by side (median over runs)."""
        if self.kernel_over_matvec_runs:
            return statistics.median(self.kernel_over_matvec_runs)
        return self.kernel_ms / self.matvec_ms


def _median_or_none(values: list) -> Any:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def combine_runs(runs: list[SizeResult]) -> SizeResult:
    """One SizeResult from repeated runs of a size: the median of every number, the ratios of each run kept."""
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    combined = {}
    for name, value in asdict(first).items():
        values = [getattr(r, name) for r in runs]
        if isinstance(value, bool) or name in ("n", "edges", "warmup", "timed_ticks", "reference_warmup"):
            combined[name] = value
        elif isinstance(value, int | float) or value is None:
            combined[name] = _median_or_none(values)
        elif name == "kernel_ticks_ms":  # tick by tick, the median over runs
            combined[name] = [statistics.median(ticks) for ticks in zip(*values, strict=True)]
        elif isinstance(value, list):
            combined[name] = [x for v in values for x in v]
        elif isinstance(value, dict):
            combined[name] = {k: statistics.median(v.get(k, 0.0) for v in values) for k in value}
        else:
            combined[name] = value
    combined["reference_note"] = first.reference_note
    combined["repeats"] = len(runs)
    combined["speedup_runs"] = [r.speedup for r in runs if r.speedup]
    combined["kernel_over_matvec_runs"] = [r.kernel_over_matvec for r in runs]
    return SizeResult(**combined)


def _ratio_cell(value: float | None, runs: list[float], fmt: str) -> str:
    """'3.1x', or '3.1x (2.9-3.6)' with the range over repeated runs."""
    if not value:
        return "-"
    cell = f"{value:{fmt}}x"
    return cell + f" ({min(runs):{fmt}}-{max(runs):{fmt}})" if len(runs) > 1 else cell


@dataclass
class EndToEnd:
    """One `wom-sim run` in a subprocess."""

    n: int
    ticks: int
    command: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    error: str = ""
    wall_runs_s: list[float] = field(default_factory=list)  # each run's wall time, when repeated


@dataclass
class BenchResult:
    sizes: list[SizeResult]  # one per size; with repeats, combined (medians)
    end_to_end: EndToEnd | None
    meta: dict[str, Any]
    runs: list[list[SizeResult]] = field(default_factory=list)  # every run of every size, as measured

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> BenchResult:
        """A result saved with `to_json` (`wom-sim bench --json`), e.g. to write the docs from it again."""
        data = json.loads(text)
        e2e = data["end_to_end"]
        return cls(
            sizes=[SizeResult(**s) for s in data["sizes"]],
            end_to_end=EndToEnd(**e2e) if e2e else None,
            meta=data["meta"],
            runs=[[SizeResult(**s) for s in series] for series in data.get("runs", [])],
        )


# Columns of the size table, in order, each with how to format its cell from a SizeResult.
SIZE_COLUMNS = (
    ("N", lambda r: f"{r.n:,}"),
    ("edges (stored)", lambda r: f"{r.edges:,}"),
    ("graph build (s)", lambda r: f"{r.build_s:.2f} ({r.generator})"),
    ("kernel (ms/tick)", lambda r: f"{r.kernel_ms:.1f}"),
    ("mat-vec (ms)", lambda r: f"{r.matvec_ms:.2f}"),
    ("kernel / mat-vec", lambda r: _ratio_cell(r.kernel_over_matvec, r.kernel_over_matvec_runs, ".1f")),
    ("reference (ms/tick)", lambda r: f"{r.reference_ms:,.0f}" if r.reference_ms else r.reference_note or "-"),
    ("kernel speed-up", lambda r: _ratio_cell(r.speedup, r.speedup_runs, ",.0f")),
    ("peak RSS (MB)", lambda r: f"{r.peak_rss_mb:,.0f}"),
)
TARGET_COLUMNS = ("target", "goal", "measured", "result")


def size_rows(result: BenchResult) -> list[dict[str, str]]:
    """The size table as rows of formatted cells keyed by column name."""
    return [{name: fmt(r) for name, fmt in SIZE_COLUMNS} for r in result.sizes]


def target_rows(result: BenchResult) -> list[dict[str, str]]:
    """The targets of issue 4, each with what was measured in this run and PASS, MISS or n/a."""
    by_n = {r.n: r for r in result.sizes}
    rows = []

    n, goal = SPEEDUP_TARGET
    r = by_n.get(n)
    speedup = r.speedup if r else None
    rows.append(_target(f"kernel vs per-agent reference at N = {n:,}", f">= {goal:.0f}x faster per tick",
                        _ratio_cell(speedup, r.speedup_runs, ",.0f") if speedup else "not measured",
                        speedup and speedup >= goal))  # fmt: skip

    n, goal = MATVEC_TARGET
    r = by_n.get(n)
    ratio = r.kernel_over_matvec if r else None
    rows.append(_target(f"kernel tick vs one mat-vec at N = {n:,}", f"<= {goal:.0f}x",
                        _ratio_cell(ratio, r.kernel_over_matvec_runs, ".1f") if ratio else "not measured",
                        ratio and ratio <= goal))  # fmt: skip

    e2e = result.end_to_end
    ok = e2e is not None and e2e.returncode == 0
    label = f"`wom-sim run`, {e2e.n:,} people, {e2e.ticks} ticks" if e2e else f"`wom-sim run`, {E2E_N:,} people"
    if e2e is None:
        wall = rss = "not measured"
    elif not ok:
        wall = rss = f"failed (exit {e2e.returncode}): {e2e.error}"
    else:
        spread = f", {min(e2e.wall_runs_s):.0f}-{max(e2e.wall_runs_s):.0f} s" if len(e2e.wall_runs_s) > 1 else ""
        wall = f"{e2e.wall_s:.1f} s wall{spread} (CPU {e2e.cpu_s:.1f} s)"
        rss = f"{e2e.peak_rss_mb / 1000:.2f} GB"
    full = e2e is not None and e2e.n >= E2E_N and e2e.ticks >= E2E_TICKS
    rows.append(_target(f"{label}: wall time", f"<= {E2E_WALL_TARGET_S:.0f} s", wall,
                        ok and e2e.wall_s <= E2E_WALL_TARGET_S if full else None))  # fmt: skip
    rows.append(_target(f"{label}: peak RSS", f"<= {E2E_RSS_TARGET_GB:.0f} GB", rss,
                        ok and e2e.peak_rss_mb <= E2E_RSS_TARGET_GB * 1000 if full else None))  # fmt: skip
    return rows


def _target(name: str, goal: str, measured: str, passed: bool | None) -> dict[str, str]:
    """One target row; passed None (not measured, or measured at another size) prints as n/a."""
    result = "n/a" if passed is None or measured == "not measured" else ("PASS" if passed else "MISS")
    return dict(zip(TARGET_COLUMNS, (name, goal, measured, result), strict=True))


def markdown_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "(nothing measured)\n"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(row[c] for c in cols) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- scenario
def bench_scenario(n: int, ticks: int, seed: int = SEED, path: str | Path | None = None):
    """The bundled baseline (or the schema defaults when it is absent) on a BA graph with m = 5 of n people."""
    from wom_sim.scenario.loading import build_scenario, load_scenario

    overrides = [f"network.n={n}", "network.generator=barabasi_albert", f"network.m={BA_M}", f"ticks={ticks}",
                 f"seed={seed}"]  # fmt: skip
    path = Path(path) if path else bundled_path("baseline")
    if path.is_file():
        return load_scenario(path, overrides)
    data = {"seed": seed, "ticks": ticks, "network": {"n": n, "generator": "barabasi_albert", "m": BA_M},
            "kols": {"select": {"by": "degree", "k": 10}}}  # fmt: skip
    return build_scenario(data, "benchmark")


def default_scenario_path() -> Path | None:
    path = bundled_path("baseline")
    return path if path.is_file() else None


# --------------------------------------------------------------------------------------------- measuring
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


def load_reference() -> Any | None:
    """The per-agent reference model module shipped with the package."""
    return reference_model


def _reference_runner(ref: Any, args: tuple) -> Callable[[], Any] | None:
    """A zero-argument 'one more reference tick', from the module's `ReferenceModel` (what `run_reference` steps)."""
    if not hasattr(ref, "ReferenceModel"):
        return None
    return ref.ReferenceModel(*args).step


def time_reference(
    sc, graph, kol_ids, seed: int, warmup: int, ticks: int, kernel_step: Callable[[], Any], progress: Progress
) -> dict[str, Any]:
    """Reference ticks after `warmup` untimed ones, each timed beside one kernel tick at the same tick number.

    `kernel_step` advances a kernel model that has had the same warm-up on the same graph, so the speed-up is
    measured tick for tick under the same load. With only `run_reference` in the module, the mean reference tick
    is the difference of two runs of different lengths (no kernel ticks beside it). Returns SizeResult fields.
    """
    ref = load_reference()
    if ref is None:
        return {"reference_note": "reference not available"}
    args = (sc, graph.indptr, graph.indices, graph.weights, kol_ids, seed)
    setup_ms, _, step = _cpu_ms(lambda: _reference_runner(ref, args))
    if step is None:
        short, _, _ = _cpu_ms(lambda: ref.run_reference(*args, ticks=warmup))
        long, _, _ = _cpu_ms(lambda: ref.run_reference(*args, ticks=warmup + ticks))
        mean = max(long - short, 0.0) / ticks
        return {"reference_ticks_ms": [mean], "reference_ms": mean, "reference_warmup": warmup}
    for t in range(warmup):
        step()
        if t % 5 == 4 or t + 1 == warmup:
            progress(f"  reference warm-up {t + 1}/{warmup}")
    ref_ms, kernel_ms = [], []
    for t in range(ticks):
        kernel_ms.append(_cpu_ms(kernel_step)[0])
        ref_ms.append(_cpu_ms(step)[0])
        progress(f"  tick {warmup + t + 1}: reference {ref_ms[-1]:,.0f} ms, kernel {kernel_ms[-1]:.1f} ms")
    return {
        "reference_ticks_ms": ref_ms,
        "reference_ms": statistics.median(ref_ms),
        "kernel_beside_reference_ms": statistics.median(kernel_ms),
        "reference_setup_s": setup_ms / 1e3,
        "reference_warmup": warmup,
    }


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
    progress: Progress = _quiet,
) -> SizeResult:
    """Measure one size in this process (peak RSS is this process's; `measure_size_isolated` gives it its own).

    Order: build; warm-up ticks; peak RSS; `ticks` rounds of one timed kernel tick and mat-vecs (side by side, so
    a change of load on a shared machine hits both); the per-step profile; then the reference beside a second
    kernel model on the same graph, warmed up alike.
    """
    from wom_sim.network.graph import _vectorised, build_graph
    from wom_sim.sim.model import WomModel

    rw = warmup if reference_warmup is None else reference_warmup
    sc = bench_scenario(n, warmup + ticks + profile_ticks + rw + reference_ticks, seed, scenario_path)
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

    profile, profile_total = profile_steps(model, profile_ticks) if profile_ticks else ({}, None)
    del model

    result = SizeResult(
        n=n, edges=graph.n_edges, generator="vectorised" if _vectorised(sc.network) else "networkx",
        build_s=build_ms / 1e3, setup_s=setup_ms / 1e3, kernel_ms=kernel_ms, kernel_ticks_ms=warm + cpu,
        kernel_wall_ms=statistics.median(wall), warmup=warmup, timed_ticks=ticks, matvec_ms=matvec_ms,
        matvec_runs_ms=matvec, peak_rss_mb=rss, profile=profile, profile_total_ms=profile_total,
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


def _worker_main(argv: list[str]) -> None:
    """Entry of `measure_size_isolated`'s subprocess: keyword arguments as JSON in, a SizeResult as JSON out."""
    kwargs = json.loads(argv[0])
    verbose = kwargs.pop("verbose", True)
    result = measure_size(**kwargs, progress=stderr_progress if verbose else _quiet)
    sys.stdout.write(json.dumps(asdict(result)) + "\n")


def _run_child(args: list[str], capture: str) -> tuple[str, int, float, Any]:
    """Run a child and read its `capture` stream ("stdout" or "stderr"; the other goes to ours or nowhere).

    Returns (captured text, exit code, wall seconds, the child's own rusage: peak RSS and CPU from wait4).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE if capture == "stdout" else subprocess.DEVNULL,
        stderr=subprocess.PIPE if capture == "stderr" else None,
        text=True,
    )
    stream = proc.stdout if capture == "stdout" else proc.stderr
    text = stream.read()
    stream.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; tell Popen not to wait again
    return text, proc.returncode, time.perf_counter() - start, usage


def measure_size_isolated(n: int, verbose: bool = True, **kwargs: Any) -> SizeResult:
    """`measure_size` in a fresh Python process, so the peak RSS is that size's alone."""
    code = "import sys; from wom_sim.bench import _worker_main; _worker_main(sys.argv[1:])"
    payload = json.dumps({"n": n, "verbose": verbose, **kwargs})
    out, status, _, _ = _run_child([sys.executable, "-c", code, payload], "stdout")
    if status != 0 or not out.strip():
        raise RuntimeError(f"benchmark of N = {n:,} failed (exit {status}); see the messages above")
    return SizeResult(**json.loads(out.strip().splitlines()[-1]))


def end_to_end(
    n: int = E2E_N, ticks: int = E2E_TICKS, scenario_path: str | Path | None = None, progress: Progress = _quiet
) -> EndToEnd:
    """`wom-sim run <baseline> --set network.n=<n> --ticks <ticks> --quiet` in a subprocess: wall, CPU, peak RSS."""
    scenario = str(scenario_path or default_scenario_path() or "baseline")
    with tempfile.TemporaryDirectory(prefix="wom-bench-") as tmp:
        args = ["run", scenario, "--set", f"network.n={n}", "--ticks", str(ticks), "--quiet", "--out", f"{tmp}/run"]
        shown = " ".join(shlex.quote(a) for a in ["wom-sim", *args[:-2]])
        if scenario_path is None and default_scenario_path() is not None:
            shown = shown.replace(shlex.quote(scenario), "baseline", 1)  # the bundled scenario, by its name
        progress(f"end to end: {shown}")
        err, code, wall, usage = _run_child([sys.executable, "-m", "wom_sim", *args], "stderr")
    rss = maxrss_mb(usage)
    result = EndToEnd(n=n, ticks=ticks, command=shown, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                      peak_rss_mb=rss, returncode=code, error=(err.strip().splitlines() or [""])[-1][:200])  # fmt: skip
    progress(f"  {wall:.1f} s wall, {result.cpu_s:.1f} s CPU, peak RSS {rss:,.0f} MB (exit {code})")
    return result


# --------------------------------------------------------------------------------------------- profile
class _StepClock:
    """CPU time per call path ("emit_wom/deliver/edge_uniforms"), one dict per tick."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.tick: dict[str, int] = {}

    @contextlib.contextmanager
    def timing(self, label: str) -> Iterator[None]:
        path = "/".join([*self.stack, label])
        self.stack.append(label)
        start = time.process_time_ns()
        try:
            yield
        finally:
            self.tick[path] = self.tick.get(path, 0) + time.process_time_ns() - start
            self.stack.pop()

    def wrap(self, fn: Callable, label: str) -> Callable:
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            with self.timing(label):
                return fn(*args, **kwargs)

        return timed


class _TimedStream:
    """A numpy Generator whose draws are timed as "random draws" (Generator methods cannot be patched)."""

    def __init__(self, rng: np.random.Generator, clock: _StepClock) -> None:
        self._rng, self._clock = rng, clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._rng, name)
        return self._clock.wrap(attr, "random draws") if callable(attr) else attr


def _functions_of(module) -> dict[str, Callable]:
    return {
        name: obj for name, obj in vars(module).items() if inspect.isfunction(obj) and obj.__module__ == module.__name__
    }


@contextlib.contextmanager
def _instrumented(model, clock: _StepClock) -> Iterator[None]:
    """Time every function of dynamics.py and metrics.py, the wom_sim functions model.py calls, and the draws.

    Patches module globals (the kernel looks its helpers up there at call time), so nested calls show as paths;
    everything is restored on exit. Nothing in model.step is copied here, so the profile follows its changes.
    """
    import wom_sim.sim.dynamics as dynamics
    import wom_sim.sim.metrics as metrics
    import wom_sim.sim.model as model_module

    patched: list[tuple[Any, str, Any]] = []
    originals: dict[int, tuple[Callable, str]] = {}
    for module in (dynamics, metrics):
        for name, fn in _functions_of(module).items():
            originals[id(fn)] = (fn, name)
            patched.append((module, name, fn))
    for name, obj in vars(model_module).items():
        if (
            inspect.isfunction(obj)
            and obj.__module__.startswith("wom_sim.")
            and obj.__module__ != model_module.__name__
        ):
            originals.setdefault(id(obj), (obj, name))
            patched.append((model_module, name, obj))
    streams = dict(model.streams)
    collect = model.datacollector.collect
    try:
        for module, name, fn in patched:
            setattr(module, name, clock.wrap(fn, originals[id(fn)][1]))
        model.streams = {k: _TimedStream(v, clock) for k, v in streams.items()}
        model.datacollector.collect = clock.wrap(collect, "datacollector")
        yield
    finally:
        for module, name, fn in patched:
            setattr(module, name, fn)
        model.streams = streams
        with contextlib.suppress(AttributeError):
            del model.datacollector.collect


def profile_steps(model, ticks: int = PROFILE_TICKS) -> tuple[dict[str, float], float]:
    """Median CPU ms per tick of each step of `model.step` over `ticks` more ticks, and the median tick.

    Keys are call paths ("emit_wom", "emit_wom/deliver", ...); "other" is the rest of the tick (levers,
    bookkeeping): the median over ticks of the tick minus its top-level steps.
    """
    clock = _StepClock()
    per_tick: list[dict[str, int]] = []
    totals: list[float] = []
    with _instrumented(model, clock):
        for _ in range(ticks):
            clock.tick = {}
            start = time.process_time_ns()
            model.step()
            total = time.process_time_ns() - start
            top = sum(v for k, v in clock.tick.items() if "/" not in k)
            per_tick.append({**clock.tick, "other": total - top})
            totals.append(total / 1e6)
    paths = {k for tick in per_tick for k in tick}
    profile = {k: statistics.median(tick.get(k, 0) for tick in per_tick) / 1e6 for k in paths}
    return profile, statistics.median(totals)


def self_times(profile: dict[str, float]) -> list[tuple[str, float]]:
    """(path, its time minus its timed children's), costliest first."""
    own = {
        path: ms
        - sum(v for k, v in profile.items() if k.startswith(path + "/") and k.count("/") == path.count("/") + 1)
        for path, ms in profile.items()
    }
    return sorted(own.items(), key=lambda kv: -kv[1])


def _ms(ms: float) -> str:
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def profile_rows(profile: dict[str, float], total_ms: float, min_share: float = 0.005) -> list[dict[str, str]]:
    """The profile as table rows: top-level steps by cost, each followed by its costlier sub-steps (as paths)."""
    labels = {"tick_metrics": "metrics (tick_metrics)", "other": "other (levers, tick state, bookkeeping)"}
    top = sorted((k for k in profile if "/" not in k), key=lambda k: (k == "other", -profile[k]))
    rows = []

    def add(path: str) -> None:
        ms = profile[path]
        nested = "/" in path
        if nested and ms < min_share * total_ms:
            return
        shown = " / ".join(path.split("/")) if nested else f"**{labels.get(path, path)}**"
        rows.append({"step": shown, "ms per tick": _ms(ms), "share of tick": f"{ms / total_ms:.0%}"})
        depth = path.count("/") + 1
        children = [k for k in profile if k.startswith(path + "/") and k.count("/") == depth]
        for child in sorted(children, key=lambda k: -profile[k]):
            add(child)

    for path in top:
        add(path)
    rows.append({"step": "tick (median)", "ms per tick": _ms(total_ms), "share of tick": "100%"})
    return rows


# --------------------------------------------------------------------------------------------- the run
def machine_info() -> dict[str, Any]:
    import scipy

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ},
    }


def reference_plan(n: int, ticks: int, warmup: int) -> tuple[int, int]:
    """(timed, warm-up) reference ticks at n: all timed ticks up to 20k, two above, none above 100k."""
    if n > REFERENCE_MAX_N:
        return 0, 0
    return (ticks if n <= REFERENCE_FULL_MAX_N else min(ticks, REFERENCE_FEW_TICKS)), warmup


def run_benchmark(
    sizes: tuple[int, ...] = DEFAULT_SIZES,
    *,
    ticks: int = TIMED_TICKS,
    warmup: int = WARMUP_TICKS,
    repeat: int = 1,
    reference: bool = True,
    e2e_n: int | None = E2E_N,
    e2e_ticks: int = E2E_TICKS,
    matvec_per_tick: int = MATVEC_PER_TICK,
    profile_ticks: int = PROFILE_TICKS,
    seed: int = SEED,
    scenario_path: str | None = None,
    command: str = "",
    progress: Progress = _quiet,
) -> BenchResult:
    """Measure every size (each in its own subprocess), then the end-to-end run; see the module docstring.

    With `repeat` > 1 the whole series runs that many times, one after the other (so a burst of load on a shared
    machine hits one run of each size, not every run of one size), and the tables show medians.
    """
    meta = {
        "command": command,
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "load_before": list(os.getloadavg()),
        "warmup": warmup,
        "ticks": ticks,
        "repeat": repeat,
        "matvec_per_tick": matvec_per_tick,
        "profile_ticks": profile_ticks,
        "seed": seed,
        "scenario": str(scenario_path or default_scenario_path() or "schema defaults"),
        **machine_info(),
    }
    runs: list[list[SizeResult]] = []
    e2e_runs: list[EndToEnd] = []
    for i in range(repeat):
        if repeat > 1:
            progress(f"run {i + 1} of {repeat}")
        series = []
        for n in sizes:
            ref_ticks, ref_warm = reference_plan(n, ticks, warmup) if reference else (0, 0)
            series.append(
                measure_size_isolated(
                    n,
                    ticks=ticks,
                    warmup=warmup,
                    reference_ticks=ref_ticks,
                    reference_warmup=ref_warm,
                    matvec_per_tick=matvec_per_tick,
                    profile_ticks=profile_ticks,
                    seed=seed,
                    scenario_path=scenario_path,
                    verbose=progress is not _quiet,
                )  # fmt: skip
            )
        runs.append(series)
        if e2e_n:
            e2e_runs.append(end_to_end(e2e_n, e2e_ticks, scenario_path, progress))
    meta["load_after"] = list(os.getloadavg())
    sizes_combined = [combine_runs([series[j] for series in runs]) for j in range(len(sizes))]
    return BenchResult(sizes_combined, combine_end_to_end(e2e_runs), meta, runs)


def combine_end_to_end(runs: list[EndToEnd]) -> EndToEnd | None:
    """The median end-to-end run by wall time (its CPU and RSS with it), all wall times kept; None if none ran."""
    if not runs:
        return None
    failed = [r for r in runs if r.returncode != 0]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r.wall_s)
    middle = ordered[(len(ordered) - 1) // 2]
    return EndToEnd(**{**asdict(middle), "wall_runs_s": [r.wall_s for r in runs]})


# --------------------------------------------------------------------------------------------- reporting
def speed_section(result: BenchResult) -> str:
    """Body of the "Kernel speed and memory" section of docs/performance.md."""
    m = result.meta
    openblas = ", ".join(f"{k}={v}" for k, v in m["openblas_env"].items()) or "not set"
    big = max(result.sizes, key=lambda r: r.n) if result.sizes else None
    growth = (
        f" (at N = {big.n:,}: {big.kernel_ticks_ms[1]:.0f} ms at tick 2, {big.kernel_ms:.0f} ms at ticks "
        f"{big.warmup + 1}-{big.warmup + big.timed_ticks})"
        if big and len(big.kernel_ticks_ms) > 1
        else ""
    )
    repeats = (
        f"The whole series ran {m['repeat']} times in a row: every number is the median of the {m['repeat']} "
        "runs, and a ratio's range over the runs is in brackets (CPU times too move with the load here, by tens "
        "of percent between runs; the ratios, each measured side by side within a run, less)."
        if m.get("repeat", 1) > 1
        else "One run: CPU times here move by tens of percent with the load; `--repeat 3` gives medians and ranges."
    )
    lines = [
        f"Measured with `{m['command'] or 'wom-sim bench'}` on {m['date'][:10]}: {m['cpu']}, {m['cores']} cores "
        f"(shared with other jobs: load average {m['load_before'][0]:.1f} before, {m['load_after'][0]:.1f} after); "
        f"Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE "
        f"{openblas} (scipy's CSR mat-vec does not use BLAS).",
        "",
        f"- Scenario: {Path(m['scenario']).name} on a Barabási-Albert graph with m = {BA_M}, seed {m['seed']}.",
        f"- **kernel**: one full tick, `WomModel.step` (draws, steps 1-10, metrics row, DataCollector); median CPU "
        f"time of {m['ticks']} ticks after {m['warmup']} warm-up ticks. A tick's cost grows with adoption and word "
        f"of mouth{growth}; ticks from the middle of a 52-tick run cost about its median tick.",
        f"- **mat-vec**: one `graph.csr() @ x` on the same graph, timed {m['matvec_per_tick']} times right after each "
        "timed kernel tick (so both see the same load), median: the memory-bandwidth floor of a step that touches "
        "every edge once.",
        "- **reference**: the per-agent model of `tests/reference_model.py` (one Mesa agent per person, Python "
        "loops) on the same graph and scenario after the same warm-up, each timed tick beside one tick of a "
        "kernel model warmed up alike (same tick numbers, same load); every timed tick up to 20k people, "
        f"{REFERENCE_FEW_TICKS} at 100k, none above. Speed-up = reference median over that kernel median.",
        "- **peak RSS**: each size runs in a fresh Python process; its peak after building the graph, the "
        "population and the warm-up ticks (before the mat-vec's matrix and the reference exist).",
        "- **graph build**: CPU seconds of `build_graph` (networkx below `network.fast_threshold` = 100k, "
        "the vectorised generator from there).",
        "- Times are CPU time (`time.process_time`): on a shared machine wall time measures the neighbours. The "
        "end-to-end run is timed on the wall clock, as its target is, with its CPU time beside it.",
        f"- {repeats}",
        "",
        markdown_table(size_rows(result)),
        markdown_table(target_rows(result)),
    ]
    if result.end_to_end:
        lines.append(f"End to end: `{result.end_to_end.command}` (writes the tables and the dashboard too).\n")
    return "\n".join(lines)


def profile_section(result: BenchResult) -> str | None:
    """Body of the "Where the time goes" section: the per-step profile of the largest size measured."""
    profiled = [r for r in result.sizes if r.profile]
    if not profiled:
        return None
    r = max(profiled, key=lambda s: s.n)
    steps = {k: v for k, v in r.profile.items() if "/" not in k and k != "other"}
    first = max(steps, key=steps.get)
    edge_ms = sum(v for k, v in r.profile.items() if k.rsplit("/", 1)[-1] == "deliver")
    runs = f" in each of {r.repeats} runs, then the median of the runs" if r.repeats > 1 else ""
    hot = ", ".join(f"`{k.replace('/', ' / ')}` {_ms(v)} ms" for k, v in self_times(r.profile)[:6])
    lines = [
        f"One tick at N = {r.n:,} ({r.edges:,} stored edges), by step of `WomModel.step`: median CPU ms over "
        f"{result.meta['profile_ticks']} ticks right after the timed ones (ticks {r.warmup + r.timed_ticks + 1}-"
        f"{r.warmup + r.timed_ticks + result.meta['profile_ticks']}){runs}, measured by "
        "`wom_sim.bench.profile_steps`, which wraps every function of `dynamics.py` and `metrics.py` and the "
        "random streams with a CPU-time clock (sub-steps under 0.5% of the tick are left out). One mat-vec on this "
        "graph takes "
        f"{_ms(r.matvec_ms)} ms.",
        "",
        markdown_table(profile_rows(r.profile, r.profile_total_ms)),
        f"The costliest step is `{first}` ({_ms(steps[first])} ms, {steps[first] / r.profile_total_ms:.0%} of the "
        f"tick). Message delivery (`deliver`, the only work per edge) takes {_ms(edge_ms)} ms, "
        f"{edge_ms / r.matvec_ms:.1f} mat-vecs; the node-level rest {_ms(r.profile_total_ms - edge_ms)} ms "
        f"({(r.profile_total_ms - edge_ms) / r.matvec_ms:.1f} mat-vecs) is spread over full-length masks, gathers "
        "and draws in every step, all linear in N. Largest self times (a function's own time, without the "
        f"functions it calls): {hot}.",
        "",
    ]
    return "\n".join(lines)


def replace_section(text: str, heading: str, body: str) -> str:
    """`text` with the body of `## heading` replaced (up to the next `## ` heading), or the section appended."""
    pattern = re.compile(rf"^## {re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    section = f"## {heading}\n\n{body.strip()}\n\n"
    if pattern.search(text):
        return pattern.sub(lambda _m: section, text, count=1)
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + section


def write_docs(result: BenchResult, path: Path = DOCS_PATH) -> Path:
    """Write the two sections into docs/performance.md atomically, leaving every other section as it is."""
    from wom_sim.output import atomic_file

    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else (
        "# Performance\n\nHow fast and how large wom-sim runs, and where its time goes. Each section says how it "
        "was measured.\n"
    )  # fmt: skip
    text = replace_section(text, SPEED_SECTION, speed_section(result))
    profile = profile_section(result)
    if profile:
        text = replace_section(text, PROFILE_SECTION, profile)
    with atomic_file(path, "w") as handle:
        handle.write(text.rstrip("\n") + "\n")
    return path
