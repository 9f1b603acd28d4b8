"""The benchmark series: every size in a fresh subprocess (so its peak RSS is its own), repeated if asked, then
one end-to-end `wom-sim run` of a million people for 52 ticks, timed on the wall clock as its target is (and,
asked for with `--huge`, one of ten million people).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from wom_sim.bench.measure import (
    DEFAULT_SIZES,
    MATVEC_PER_TICK,
    SEED,
    TIMED_TICKS,
    WARMUP_TICKS,
    Progress,
    maxrss_mb,
    measure_size,
    quiet,
    reference_plan,
    stderr_progress,
)
from wom_sim.bench.profile import PROFILE_TICKS
from wom_sim.bench.results import BenchResult, EndToEnd, SizeResult, combine_end_to_end, combine_runs
from wom_sim.bench.tables import E2E_N, E2E_TICKS
from wom_sim.bench.throughput import THROUGHPUT_N, THROUGHPUT_ROUNDS, THROUGHPUT_TICKS, measure_throughput
from wom_sim.scenario.catalogue import bundled_path


def _worker_main(argv: list[str]) -> None:
    """Entry of `measure_size_isolated`'s subprocess: keyword arguments as JSON in, a SizeResult as JSON out."""
    kwargs = json.loads(argv[0])
    verbose = kwargs.pop("verbose", True)
    result = measure_size(**kwargs, progress=stderr_progress if verbose else quiet)
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
    code = "import sys; from wom_sim.bench.run import _worker_main; _worker_main(sys.argv[1:])"
    payload = json.dumps({"n": n, "verbose": verbose, **kwargs})
    out, status, _, _ = _run_child([sys.executable, "-c", code, payload], "stdout")
    if status != 0 or not out.strip():
        raise RuntimeError(f"benchmark of N = {n:,} failed (exit {status}); see the messages above")
    return SizeResult(**json.loads(out.strip().splitlines()[-1]))


def end_to_end(
    n: int = E2E_N, ticks: int = E2E_TICKS, scenario_path: str | Path | None = None, progress: Progress = quiet
) -> EndToEnd:
    """`wom-sim run <baseline> --set network.n=<n> --ticks <ticks> --quiet` in a subprocess: wall, CPU, peak RSS."""
    scenario = str(scenario_path or bundled_path("baseline"))
    with tempfile.TemporaryDirectory(prefix="wom-bench-") as tmp:
        args = ["run", scenario, "--set", f"network.n={n}", "--ticks", str(ticks), "--quiet", "--out", f"{tmp}/run"]
        shown = " ".join(shlex.quote(a) for a in ["wom-sim", *args[:-2]])
        if scenario_path is None:
            shown = shown.replace(shlex.quote(scenario), "baseline", 1)  # the bundled scenario, by its name
        progress(f"end to end: {shown}")
        err, code, wall, usage = _run_child([sys.executable, "-m", "wom_sim", *args], "stderr")
    rss = maxrss_mb(usage)
    result = EndToEnd(n=n, ticks=ticks, command=shown, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                      peak_rss_mb=rss, returncode=code, error=(err.strip().splitlines() or [""])[-1][:200])  # fmt: skip
    progress(f"  {wall:.1f} s wall, {result.cpu_s:.1f} s CPU, peak RSS {rss:,.0f} MB (exit {code})")
    return result


def machine_info() -> dict[str, Any]:
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
    progress: Progress = quiet,
    throughput_runs: int = 0,
    throughput_rounds: int = THROUGHPUT_ROUNDS,
    throughput_n: int = THROUGHPUT_N,
    throughput_ticks: int = THROUGHPUT_TICKS,
    huge_n: int | None = None,
) -> BenchResult:
    """Measure every size (each in its own subprocess), then the end-to-end run, then (`throughput_runs` > 0) runs
    per minute through the experiment executor with 1 and 2 workers; see the module docstring. `huge_n`: also one
    end-to-end run of that many people for `e2e_ticks` ticks (`--huge`: ten million), once, whatever `repeat` is.

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
        "scenario": str(scenario_path or bundled_path("baseline")),
        **machine_info(),
    }
    with contextlib.suppress(ValueError, OSError, AttributeError):  # the machine's memory, for the --huge row
        meta["memory_gb"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
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
                    verbose=progress is not quiet,
                )  # fmt: skip
            )
        runs.append(series)
        if e2e_n:
            e2e_runs.append(end_to_end(e2e_n, e2e_ticks, scenario_path, progress))
    huge = None
    if huge_n:  # once: at ten million people a run takes minutes and most of the machine's memory
        huge = end_to_end(huge_n, e2e_ticks, scenario_path, progress)
    throughput = None
    if throughput_runs:
        progress(f"throughput: {throughput_runs} runs of {throughput_n:,} people x {throughput_ticks} ticks through "
                 f"the executor, 1 and 2 workers, {throughput_rounds} interleaved rounds")  # fmt: skip
        throughput = measure_throughput(throughput_n, throughput_ticks, throughput_runs, throughput_rounds,
                                        scenario_path=scenario_path, seed=seed, progress=progress)  # fmt: skip
    meta["load_after"] = list(os.getloadavg())
    sizes_combined = [combine_runs([series[j] for series in runs]) for j in range(len(sizes))]
    return BenchResult(sizes_combined, combine_end_to_end(e2e_runs), meta, runs, throughput, huge)
