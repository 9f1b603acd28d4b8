"""Benchmark of the kernel: per-tick cost against the per-agent reference and against one sparse mat-vec.

`run_benchmark` measures, for Barabási-Albert graphs (m = 5) of each size, the graph build, the full tick
(`WomModel.step`), one `graph.csr() @ x` (the memory-bandwidth floor: a WOM step where most customers talk touches
every edge), the per-agent reference of `wom_sim/validation/reference_model.py` (small sizes only; it is slow on
purpose), peak RSS and where the time of a tick goes; then one end-to-end `wom-sim run` of a million people for 52
ticks, and runs per minute of the 5,000-person, 104-week baseline through the experiment executor with 1 and 2
workers. `wom-sim bench` prints the tables; experiments/tools/write_performance_doc.py writes them into
docs/performance.md.

Modules, in import order: `results` (the dataclasses, JSON, medians of repeats), `tables` (rows, targets,
Markdown), `profile` (per-step CPU time through a profile hook, nothing patched), `measure` (one size in this
process), `throughput` (runs per minute through the executor), `run` (every size in its own subprocess, the
end-to-end run, the throughput).
"""

from wom_sim.bench.measure import (
    BA_M,
    DEFAULT_SIZES,
    QUICK_SIZES,
    REFERENCE_MAX_N,
    TIMED_TICKS,
    WARMUP_TICKS,
    bench_scenario,
    measure_size,
    reference_plan,
    stderr_progress,
)
from wom_sim.bench.profile import PROFILE_TICKS, profile_steps
from wom_sim.bench.results import BenchResult, EndToEnd, SizeResult, Throughput, combine_end_to_end, combine_runs
from wom_sim.bench.run import end_to_end, machine_info, measure_size_isolated, run_benchmark
from wom_sim.bench.tables import (
    E2E_N,
    E2E_TICKS,
    HUGE_N,
    SIZE_COLUMNS,
    TARGET_COLUMNS,
    THROUGHPUT_COLUMNS,
    largest_profiled,
    markdown_table,
    profile_rows,
    rivals_rows,
    self_times,
    size_rows,
    target_rows,
    throughput_rows,
)
from wom_sim.bench.throughput import THROUGHPUT_RUNS, measure_throughput

__all__ = [
    "BA_M",
    "DEFAULT_SIZES",
    "E2E_N",
    "E2E_TICKS",
    "HUGE_N",
    "PROFILE_TICKS",
    "QUICK_SIZES",
    "REFERENCE_MAX_N",
    "SIZE_COLUMNS",
    "TARGET_COLUMNS",
    "THROUGHPUT_COLUMNS",
    "THROUGHPUT_RUNS",
    "Throughput",
    "measure_throughput",
    "throughput_rows",
    "largest_profiled",
    "TIMED_TICKS",
    "WARMUP_TICKS",
    "BenchResult",
    "EndToEnd",
    "SizeResult",
    "bench_scenario",
    "combine_end_to_end",
    "combine_runs",
    "end_to_end",
    "machine_info",
    "markdown_table",
    "measure_size",
    "measure_size_isolated",
    "profile_rows",
    "profile_steps",
    "reference_plan",
    "run_benchmark",
    "self_times",
    "rivals_rows",
    "size_rows",
    "stderr_progress",
    "target_rows",
]
