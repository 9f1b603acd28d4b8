"""What the benchmark measured: one `SizeResult` per population size, the end-to-end run, and how repeated runs
combine into medians. Plain dataclasses, saved and read back as JSON (`wom-sim bench --json`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


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
    # Today's kernel (the reference tick of dynamics.py, `WomModel.kernel = "reference"`), each timed tick beside
    # one tick of the kernel above on a twin model (same graph, seed, warm-up and tick numbers, alternating order).
    todays_ms: float | None = None
    todays_ticks_ms: list[float] = field(default_factory=list)
    kernel_beside_todays_ms: float | None = None
    over_todays_runs: list[float] = field(default_factory=list)
    # Two rivals (issue 15): the scenario with `RIVALS` added, on the same graph, KOLs and seed, each timed tick
    # beside one tick of a one-brand model at the same tick number (alternating order).
    rivals_ms: float | None = None
    rivals_ticks_ms: list[float] = field(default_factory=list)
    one_brand_beside_rivals_ms: float | None = None
    rivals_over_one_brand: float | None = None  # median over the timed pairs of (two rivals / one brand)
    rivals_over_one_brand_runs: list[float] = field(default_factory=list)
    # Bytes per person of lasting state: the Population's arrays, and the rivals' Market arrays (two rivals).
    population_bytes_per_person: float | None = None
    market_bytes_per_person: float | None = None

    @property
    def over_todays(self) -> float | None:
        """Today's kernel ms per tick over the kernel's, timed side by side (median over runs)."""
        if self.over_todays_runs:
            return statistics.median(self.over_todays_runs)
        if not self.todays_ms:
            return None
        return self.todays_ms / (self.kernel_beside_todays_ms or self.kernel_ms)

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
    combined["over_todays_runs"] = [r.over_todays for r in runs if r.over_todays]
    combined["rivals_over_one_brand_runs"] = [r.rivals_over_one_brand for r in runs if r.rivals_over_one_brand]
    return SizeResult(**combined)


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


@dataclass
class Throughput:
    """Runs per minute through the executor, per worker count (medians over rounds; every round kept)."""

    n: int
    ticks: int
    runs: int  # runs per measurement
    rounds: int
    cores: int  # cores this process may use
    wall_s: dict[str, list[float]] = field(default_factory=dict)  # workers -> wall seconds of each round
    cpu_s: dict[str, list[float]] = field(default_factory=dict)  # workers -> CPU seconds (self + workers), per round
    load: list[float] = field(default_factory=list)  # 1-minute load average before each round
    # Whether cpu_s includes the workers: only forked workers are this process's children, reaped at the pool's
    # close; forkserver workers (a threaded caller, e.g. under pytest) are the server's, so their CPU is not seen.
    cpu_counted: bool = True

    def runs_per_min(self, workers: int) -> float:
        """Median wall-clock runs per minute."""
        return statistics.median(60.0 * self.runs / w for w in self.wall_s[str(workers)])

    def cpu_per_run_s(self, workers: int) -> float | None:
        """Median CPU seconds per run (workers and this process: transfer, checks, store writes); None if the
        workers' CPU was not counted."""
        if not self.cpu_counted:
            return None
        return statistics.median(c / self.runs for c in self.cpu_s[str(workers)])

    def idle_runs_per_min(self, workers: int) -> float | None:
        """Runs per minute an idle machine would give: min(workers, cores) busy cores at the CPU cost per run."""
        cpu = self.cpu_per_run_s(workers)
        return None if cpu is None else 60.0 * min(workers, self.cores) / cpu

    @property
    def workers(self) -> list[int]:
        return sorted(int(w) for w in self.wall_s)


@dataclass
class BenchResult:
    sizes: list[SizeResult]  # one per size; with repeats, combined (medians)
    end_to_end: EndToEnd | None
    meta: dict[str, Any]
    runs: list[list[SizeResult]] = field(default_factory=list)  # every run of every size, as measured
    throughput: Throughput | None = None  # runs per minute through the experiment executor (`bench.throughput`)
    huge: EndToEnd | None = None  # the 10-million-person run of `--huge` (`tables.HUGE_N`), if asked for

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
            throughput=Throughput(**data["throughput"]) if data.get("throughput") else None,
            huge=EndToEnd(**data["huge"]) if data.get("huge") else None,
        )
