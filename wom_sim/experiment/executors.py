"""Where runs execute: in this process, a local process pool (default, all cores) or a Dask cluster.

Every backend runs the same module-level function (`runner.run_task`) on the same plain-data tasks, so the same
seeds give bit-identical results everywhere. Results come back to this process, which alone writes the store:
workers need no shared disk, and a part is written only for a run that finished.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tqdm import tqdm

from wom_sim.errors import ScenarioError
from wom_sim.experiment.runner import BREAKDOWNS, run_task
from wom_sim.experiment.store import ResultStore, code_version
from wom_sim.output import check_finite_frame

Task = dict[str, Any]
LOCAL_HOST = "127.0.0.1"  # every server wom-sim starts listens here only (docs/experiments.md: a real cluster)


class VersionMismatch(ScenarioError):
    """A worker runs other wom-sim code than the client (its results would not match the run keys)."""


def worker_versions() -> dict[str, str]:
    """What a worker runs: the wom-sim code version (version + hash of the sources that decide the numbers) and
    the versions of the libraries whose arithmetic does."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"wom-sim code": code_version()}
    for name in ("numpy", "scipy", "networkx", "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def version_skew(client: dict[str, str], worker: dict[str, str]) -> str | None:
    """A one-line description of the first difference between two `worker_versions`, or None."""
    for name, mine in client.items():
        theirs = worker.get(name, "missing")
        if theirs != mine:
            return f"{name} {theirs} (this client has {mine})"
    return None


def run_checked(task: Task) -> pd.DataFrame:
    """`run_task`, after checking that this worker runs the code the task's key was made with.

    Module-level so that pools and Dask send it by reference. A worker with other code would rebuild the scenario
    with its own defaults and store different numbers under the client's key; it refuses instead.
    """
    expected = task.get("code")
    if expected is not None and expected != code_version():
        raise VersionMismatch(
            f"worker {socket.gethostname()} (pid {os.getpid()}) runs wom-sim {code_version()}, the client "
            f"{expected}; install the same wom-sim on every worker"
        )
    return run_task(task)


class Interrupted(Exception):
    """Ctrl-C stopped an experiment; every run stored so far is complete and the store is valid."""

    def __init__(self, done: int, total: int, path: Any):
        super().__init__(f"interrupted: {done} of {total} runs are stored in {path}; run the same command to resume")
        self.done, self.total, self.path = done, total, path


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _worker_init(parent: int | None) -> None:
    """Pool worker initializer: Ctrl-C is the parent's to handle (no stray tracebacks), and a worker dies with its
    parent: after a SIGKILL of the experiment, forked workers would otherwise wait forever on a queue whose other
    end they themselves hold open."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


class Executor:
    """Runs tasks and yields their results in completion order."""

    name = "executor"
    workers = 1

    def map_unordered(self, fn: Callable[[Task], pd.DataFrame], tasks: list[Task]) -> Iterator[pd.DataFrame]:
        raise NotImplementedError

    def abort(self) -> None:
        """Stop at once, dropping queued and running tasks."""

    def close(self) -> None:
        """Release workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessExecutor(Executor):
    """Runs tasks one after another in this process (`--workers 0`; debugging and tiny experiments)."""

    name = "this process"

    def map_unordered(self, fn, tasks):
        for task in tasks:
            yield fn(task)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start processes as if the caller had no `__main__` module (so a worker never re-runs the caller's script)."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


_SAFE_METHOD = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


class _WorkerProcess(mp.get_context(_SAFE_METHOD).Process):
    """A pool process that starts without the caller's `__main__`: unguarded scripts, notebooks and the CLI all
    work, and a worker depends on nothing but the importable `wom_sim` package and the task's plain data."""

    def start(self) -> None:
        with _main_module_hidden():
            super().start()


class _WorkerContext(type(mp.get_context(_SAFE_METHOD))):
    Process = _WorkerProcess


def _noop() -> None:
    """A task that does nothing (starts the pool's processes eagerly)."""


def pool_context() -> mp.context.BaseContext:
    """fork when this process has a single thread (workers start in 0.1 s with the model already imported),
    otherwise forkserver with the model preloaded (about 2 s once; forking a threaded process can deadlock)."""
    if "fork" in mp.get_all_start_methods() and sys.platform == "linux" and threading.active_count() == 1:
        return mp.get_context("fork")
    ctx = _WorkerContext()
    if _SAFE_METHOD == "forkserver":
        ctx.set_forkserver_preload(["wom_sim.experiment.runner", "wom_sim.sim.model"])
    return ctx


class PoolExecutor(Executor):
    """A local process pool of `workers` processes (default: all cores)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self.name = f"{self.workers} local process{'es' if self.workers > 1 else ''}"
        ctx = pool_context()
        self.start_method = ctx.get_start_method()  # fork: the workers are this process's children
        parent = os.getpid() if self.start_method == "fork" else None
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_worker_init, initargs=(parent,)
        )
        if self.start_method == "fork":
            # The model is already imported (runner imports it), so every forked worker inherits it.
            self.pool.submit(_noop).result()  # fork every worker now, before a progress bar starts a thread

    def map_unordered(self, fn, tasks):
        pending: set[Future] = set()
        queue = iter(tasks)
        # Keep a few tasks per worker queued, not all: cancelling on Ctrl-C is then instant even for 100k runs.
        for task in _take(queue, 4 * self.workers):
            pending.add(self.pool.submit(fn, task))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
                for task in _take(queue, 1):
                    pending.add(self.pool.submit(fn, task))

    def abort(self) -> None:
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(timeout=5)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _take(iterator: Iterator[Task], n: int) -> list[Task]:
    out = []
    for task in iterator:
        out.append(task)
        if len(out) >= n:
            break
    return out


class DaskExecutor(Executor):
    """A Dask distributed cluster: a scheduler address (`--dask tcp://host:port`) or a LocalCluster of N workers."""

    def __init__(self, address: str | None = None, local_workers: int | None = None, timeout: float = 10.0):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ScenarioError(
                "--dask: the distributed backend needs dask[distributed]; install wom-sim[distributed]"
            ) from None
        self.cluster = None
        if local_workers:
            with _main_module_hidden():  # the nannies spawn workers: do not let them re-run the caller's script
                self.cluster = LocalCluster(
                    n_workers=local_workers,
                    threads_per_worker=1,
                    processes=True,
                    host=LOCAL_HOST,  # scheduler and workers: loopback only (the protocol is pickle, no auth)
                    dashboard_address=f"{LOCAL_HOST}:0",  # loopback, a free port: never collides with a cluster
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster)
            self.name = f"a Dask LocalCluster of {local_workers} workers"
        else:
            _probe(address, timeout)
            try:
                self.client = Client(address, timeout=f"{timeout}s")
            except (OSError, TimeoutError, ValueError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ScenarioError(
                    f"--dask {address}: no Dask scheduler answered within {timeout:g} s ({reason[:120]})"
                ) from None
            self.name = f"the Dask scheduler at {address}"
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self._futures: list = []
        try:
            self.check_versions()
        except BaseException:
            self.close()
            raise

    def check_versions(self) -> None:
        """Refuse (one line) when any worker runs other code or libraries than this client, before any task.

        Each task carries the client's code version too (`run_checked`), so a worker that joins later and differs
        fails its first task instead of storing numbers under a key they do not belong to.
        """
        mine = worker_versions()
        try:
            theirs = self.client.run(worker_versions)
        except Exception as exc:  # a worker that cannot even import wom-sim
            raise VersionMismatch(f"{self.name}: cannot ask the workers for their versions ({exc})") from None
        for address, versions in sorted(theirs.items()):
            skew = version_skew(mine, versions)
            if skew:
                raise VersionMismatch(
                    f"{self.name}: worker {address} runs {skew}; install the same wom-sim on every worker"
                )

    def map_unordered(self, fn, tasks):
        from distributed import as_completed

        self._futures = [self.client.submit(fn, task, key=f"wom-run-{task['key']}", pure=False) for task in tasks]
        for future in as_completed(self._futures):
            result = future.result()
            future.release()
            yield result

    def abort(self) -> None:
        if self._futures:
            self.client.cancel(self._futures)
        self.close()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
                self.cluster = None


def _probe(address: str, timeout: float) -> None:
    """Fail fast, in one line, when nothing listens at a tcp:// scheduler address (Dask itself would retry)."""
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ScenarioError(f"--dask {address}: expected a scheduler address like tcp://host:8786")
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError(f"--dask {address}: no Dask scheduler reachable ({reason})") from None


def make_executor(workers: int | None = None, dask: str | None = None, dask_local: int | None = None) -> Executor:
    """The executor the user asked for: Dask address, Dask LocalCluster, in-process (workers=0) or a local pool."""
    if dask and dask_local:
        raise ScenarioError("--dask and --dask-local: give one of them, not both")
    if (dask or dask_local) and workers is not None:  # Dask decides its own workers: --workers would be ignored
        flag = "--dask" if dask else "--dask-local"
        raise ScenarioError(f"--workers and {flag}: give one of them (the Dask cluster's workers run the jobs)")
    if dask:
        return DaskExecutor(address=dask)
    if dask_local:
        return DaskExecutor(local_workers=dask_local)
    if workers == 0:
        return InProcessExecutor()
    return PoolExecutor(workers)


def _describe(task: Task) -> str:
    scenario = task.get("scenario", {})
    return f"scenario {scenario.get('name', '?')}, seed {task.get('seed')}"


class _Bar(tqdm):
    """tqdm without its monitor thread (a thread in this process would make the next pool fall back to the
    slower forkserver start)."""

    monitor_interval = 0


@dataclass
class Execution:
    """What one call of `execute` did."""

    total: int
    reused: int
    ran: int
    seconds: float
    without_breakdowns: int = 0  # stored runs that ran again because they were kept without their breakdowns


def execute(
    tasks: Iterable[Task],
    store: ResultStore,
    executor: Executor,
    progress: bool = True,
    desc: str = "runs",
) -> Execution:
    """Run every task whose key has no part in `store` yet and store each result as it finishes.

    Duplicate keys (identical parameters and seed) run once. Ctrl-C aborts the executor and raises `Interrupted`;
    the parts already written are complete, so running the same experiment again resumes where it stopped. A task
    that asks for its per-group breakdowns (``"breakdowns": True``) whose part was stored without them runs again
    (same key, same numbers, now with the breakdowns).
    """
    unique = list({task["key"]: task for task in tasks}.values())
    missing = set(store.missing([t["key"] for t in unique]))
    wanted = [t["key"] for t in unique if t.get(BREAKDOWNS) and t["key"] not in missing]
    lacking = set(wanted) - set(store.breakdowns(wanted)) if wanted else set()
    missing |= lacking
    todo = [t for t in unique if t["key"] in missing]
    reused = len(unique) - len(todo)
    start = time.perf_counter()
    ran = 0
    bar = _Bar(
        total=len(unique),
        initial=reused,
        desc=desc,
        unit="run",
        disable=not progress or not todo,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        leave=False,
    )
    try:
        if todo:
            by_key = {t["key"]: t for t in todo}
            sent = [{k: v for k, v in t.items() if k != "parameters"} for t in todo]
            for frame in executor.map_unordered(run_checked, sent):
                key = str(frame["run_key"].iat[0])
                task = by_key.get(key, {})
                check_finite_frame(frame, f"run {key} ({_describe(task)})")
                meta = {"seed": task.get("seed"), "parameters": task.get("parameters", task.get("scenario"))}
                store.write_run(key, frame, meta, frame.attrs.pop(BREAKDOWNS, None))
                ran += 1
                bar.update(1)
    except KeyboardInterrupt:
        executor.abort()
        # A Ctrl-C can land between a temp file's creation and its clean-up; under the store's lock every temp
        # file is this process's, so none is left behind.
        store.clean_temp()
        raise Interrupted(reused + ran, len(unique), store.path) from None
    except BaseException:
        executor.abort()
        raise
    finally:
        bar.close()
    return Execution(len(unique), reused, ran, time.perf_counter() - start, len(lacking))
