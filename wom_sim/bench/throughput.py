"""Runs per minute through the experiment executor: many small runs, set-up, metrics frame and store writes included.

Strategy work (sweeps, calibration, the budget optimiser) runs thousands of small runs, so issue 17 asks for at
least 600 runs per minute of the 5,000-person, 104-week baseline through the executor on 2 cores. Each
measurement runs `runs` replications of that scenario (`replication_seed`, so every run has its own graph and
population) with `execute` on a local `PoolExecutor` of 1 or 2 workers into a fresh `ResultStore`: pool start, task
transfer, graph build, population and history burn-in, the ticks, the metrics frame, the result's trip back and one
Parquet part per run are all inside the time. Worker counts are interleaved round by round (so a burst of load hits
both), and the stored parts of every measurement are checked identical.

Wall-clock runs per minute is what the target asks for, but on a shared machine it measures the neighbours too, so
the CPU seconds per run (this process and its reaped workers) are reported beside it, and the rate an idle machine
would give from them: cores x 60 / CPU seconds per run.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from wom_sim.bench.results import Throughput
from wom_sim.experiment.executors import InProcessExecutor, PoolExecutor, default_workers, execute
from wom_sim.experiment.runner import make_task
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.experiment.store import ResultStore
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import load_scenario

THROUGHPUT_N, THROUGHPUT_TICKS = 5_000, 104  # issue 17: a 5,000-person, 104-week baseline
THROUGHPUT_TARGET = 600.0  # runs per minute on 2 cores (issue 17)
THROUGHPUT_RUNS = 24  # runs per measurement: several per worker, so the pool start is a small part
THROUGHPUT_ROUNDS = 2
THROUGHPUT_WORKERS = (1, 2)


def _cpu_s() -> float:
    """CPU seconds of this process and of its reaped children (pool workers are joined at `close`)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _parts(store: ResultStore) -> pd.DataFrame:
    return store.load(sorted(store.done_keys())).sort_values(["run_key", "t"]).reset_index(drop=True)


def measure_throughput(
    n: int = THROUGHPUT_N,
    ticks: int = THROUGHPUT_TICKS,
    runs: int = THROUGHPUT_RUNS,
    rounds: int = THROUGHPUT_ROUNDS,
    workers: tuple[int, ...] = THROUGHPUT_WORKERS,
    scenario_path: str | Path | None = None,
    seed: int = 42,
    progress=lambda _msg: None,
) -> Throughput:
    """Time `runs` baseline replications through `execute` with each worker count, `rounds` times, interleaved."""
    sc = load_scenario(Path(scenario_path) if scenario_path else bundled_path("baseline"),
                       [f"network.n={n}", f"ticks={ticks}", f"seed={seed}"])  # fmt: skip
    tasks = [make_task(sc, s) for s in replication_seeds(seed, runs)]
    result = Throughput(n=n, ticks=ticks, runs=runs, rounds=rounds, cores=default_workers())
    reference = None
    with tempfile.TemporaryDirectory(prefix="wom-throughput-") as tmp:
        # Imports (pyarrow, the model) and first-call caches outside the timings: one short run in this process.
        warm = ResultStore(Path(tmp) / "warm-up")
        warm.runs.mkdir(parents=True)
        execute([make_task(sc.model_copy(update={"ticks": 2}), seed)], warm, InProcessExecutor(), progress=False)
        for r in range(rounds):
            for w in workers:
                store = ResultStore(Path(tmp) / f"{r}-{w}")
                store.runs.mkdir(parents=True)
                result.load.append(os.getloadavg()[0])
                cpu, start = _cpu_s(), time.perf_counter()
                with PoolExecutor(w) as executor:
                    execute(tasks, store, executor, progress=False)
                result.cpu_counted &= executor.start_method == "fork"
                wall = time.perf_counter() - start
                result.wall_s.setdefault(str(w), []).append(wall)
                result.cpu_s.setdefault(str(w), []).append(_cpu_s() - cpu)
                frame = _parts(store)
                if reference is None:
                    reference = frame
                pd.testing.assert_frame_equal(frame, reference)  # same runs whatever the worker count
                progress(f"  throughput round {r + 1}, {w} worker(s): {60 * runs / wall:.0f} runs/min wall, "
                         f"{result.cpu_s[str(w)][-1] / runs * 1e3:.0f} ms CPU per run")  # fmt: skip
    return result
