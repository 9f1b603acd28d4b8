"""Benchmark of the experiments executor: runs per minute for the baseline at 10k people with 1 and 2 local
workers (and optionally a Dask LocalCluster), and the executor's overhead relative to the same simulations run in
one process in a plain loop.

    python experiments/bench_executor.py                       # baseline at 10,000 people, 104 weeks
    python experiments/bench_executor.py --runs 8 --rounds 5 --dask-local 2

Every round times each backend on the same `--runs` tasks, backends interleaved (loop, 1 worker, 2 workers, ...)
so that they share whatever else the machine is doing; the report gives the median over rounds. Overhead =
(1-worker pool: its start, the result transfer and the Parquet part written per run) / (the same runs in a loop in
this process) - 1; target below 10%. CPU seconds (this process and its reaped children) show the executor's extra
work even when other jobs share the cores. Results are checked bit-identical on every backend.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from wom_sim.experiment import DaskExecutor, InProcessExecutor, PoolExecutor, ResultStore, execute
from wom_sim.experiment.runner import make_task, run_task
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.sim.model import resolve_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
LOOP = "loop in one process (reference)"


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (pool workers are reaped at shutdown)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _loop(tasks: list[dict], _folder: Path) -> pd.DataFrame:
    return pd.concat([run_task(task) for task in tasks])


def _executor(factory):
    def run(tasks: list[dict], folder: Path) -> pd.DataFrame:
        store = ResultStore(folder)
        store.runs.mkdir(parents=True)
        with factory() as executor:
            execute(tasks, store, executor, progress=False)
        return store.load(sorted(store.done_keys()))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="runs per backend per round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, median reported (default 3)")
    parser.add_argument("--n", type=int, default=10_000, help="people (default 10,000)")
    parser.add_argument("--ticks", type=int, default=None, help="ticks (default: the baseline's 104)")
    parser.add_argument("--dask-local", type=int, default=0, metavar="N", help="also time a Dask LocalCluster")
    args = parser.parse_args()

    overrides = {"network.n": args.n, **({"ticks": args.ticks} if args.ticks else {})}
    scenario = resolve_scenario(BASELINE, overrides)
    tasks = [make_task(scenario, seed) for seed in replication_seeds(scenario.seed, args.runs)]
    with tempfile.TemporaryDirectory() as warm:  # imports (model, pyarrow) and caches, outside the timings
        _executor(InProcessExecutor)([make_task(scenario.model_copy(update={"ticks": 2}), 0)], Path(warm))
    backends = {
        LOOP: _loop,
        "executor: 1 local worker": _executor(lambda: PoolExecutor(1)),
        "executor: 2 local workers": _executor(lambda: PoolExecutor(2)),
    }
    if args.dask_local:
        backends[f"executor: Dask LocalCluster of {args.dask_local}"] = _executor(
            lambda: DaskExecutor(local_workers=args.dask_local)
        )

    walls: dict[str, list[float]] = {name: [] for name in backends}
    cpus: dict[str, list[float]] = {name: [] for name in backends}
    reference = None
    loads = []
    # Dask last: its threads stay in this process, after which pools start from a forkserver whose workers are not
    # our direct children (their CPU time would be missing from RUSAGE_CHILDREN).
    order = [name for group in (list(backends)[:3], list(backends)[3:]) for _ in range(args.rounds) for name in group]
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(order):
            if name == LOOP:
                loads.append(os.getloadavg()[0])
            start, cpu = time.perf_counter(), _cpu()
            frame = backends[name](tasks, Path(tmp) / str(i)).sort_values(["run_key", "t"]).reset_index(drop=True)
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(_cpu() - cpu)
            if reference is None:
                reference = frame
            pd.testing.assert_frame_equal(frame, reference)

    def ratio(series: dict[str, list[float]], name: str) -> float:
        return statistics.median(a / b for a, b in zip(series[name], series[LOOP], strict=True)) - 1

    print(
        f"baseline, {scenario.network.n:,} people, {scenario.ticks} ticks, {args.runs} runs x {args.rounds} "
        f"interleaved rounds (medians), {os.cpu_count()} cores, load average {min(loads):.1f}-{max(loads):.1f}"
    )
    print(f"{'backend':<40} {'wall s':>7} {'runs/min':>9} {'vs loop':>8} {'CPU s':>7} {'vs loop':>8}")
    for name in backends:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(
            f"{name:<40} {wall:7.1f} {60 * args.runs / wall:9.1f} {ratio(walls, name):+8.1%} {cpu:7.1f} "
            f"{ratio(cpus, name):+8.1%}"
        )
    one, two = "executor: 1 local worker", "executor: 2 local workers"
    print(
        f"executor overhead, 1 worker vs loop: wall {ratio(walls, one):+.1%}, CPU {ratio(cpus, one):+.1%} "
        f"(target < 10%); 2 workers: {1 / (1 + ratio(walls, two)):.2f}x the loop's throughput (ideal 2x on an "
        "idle 2-core machine). Results identical on every backend."
    )


if __name__ == "__main__":
    main()
