"""Where a tick's time goes: CPU time per step of `WomModel.step`, by call path, without touching the kernel.

A profile hook (`sys.setprofile`) sees every call and return of the tick. It times only the functions it is told
to (every function of `sim/dynamics.py` and `sim/metrics.py`, the steps of the fast tick of `sim/fast.py`, the
wom_sim functions `sim/model.py` calls from other modules, the CSR gather `out_edges`, the DataCollector), each
under the path of timed calls it runs in ("emit_wom/deliver/edge_uniforms").
No module global is patched: the model runs its own code in its own order, so
the profile follows any change of `model.step`. The one thing a hook cannot see are the draws, C methods of numpy
Generators (Python reports no call event for them), so for the profiled ticks only the model's own `streams` dict
holds proxies that time each draw as "random draws" and pass it on to the same Generator (same numbers); the dict
is restored after. The hook's own cost (one Python call per call of the tick) is inside the times; compare the
profiled tick (`profile_steps`' second value) with the unprofiled one of the size table.
"""

from __future__ import annotations

import inspect
import statistics
import sys
import time
from types import CodeType, ModuleType
from typing import Any

import wom_sim.network.graph as graph_module
import wom_sim.sim.dynamics as dynamics
import wom_sim.sim.fast as fast
import wom_sim.sim.metrics as metrics
import wom_sim.sim.model as model_module

PROFILE_TICKS = 5
RANDOM_DRAWS = "random draws"


def _functions_of(module: ModuleType) -> dict[CodeType, str]:
    """Code object -> name of every function defined in `module` (not the ones it imports)."""
    return {
        obj.__code__: name
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__
    }


def timed_functions(model: Any) -> dict[CodeType, str]:
    """The functions a tick's profile times, by code object, each with the label it shows under."""
    labels = {**_functions_of(dynamics), **_functions_of(metrics), **_functions_of(fast)}
    # The fast tick's steps show under the reference step they restate ("emit_wom", ...); its `run` is not timed,
    # so they are top-level steps as the reference's are.
    for name, obj in vars(fast.FastTick).items():
        func = obj.__func__ if isinstance(obj, staticmethod) else obj
        if inspect.isfunction(func) and name not in ("run", "__init__"):
            labels[func.__code__] = name
    labels[graph_module.out_edges.__code__] = "out_edges"
    for name, obj in vars(model_module).items():  # what model.step calls by name from other wom_sim modules
        if (
            inspect.isfunction(obj)
            and obj.__module__.startswith("wom_sim.")
            and obj.__module__ != model_module.__name__
        ):
            labels.setdefault(obj.__code__, name)
    collect = getattr(type(model.datacollector), "collect", None)
    if inspect.isfunction(collect):
        labels[collect.__code__] = "datacollector"
    return labels


class StepProfiler:
    """A `sys.setprofile` hook: CPU ns per call path of the timed functions, summed into `self.tick`."""

    def __init__(self, labels: dict[CodeType, str]) -> None:
        self.labels = labels
        self.stack: list[tuple[Any, str, int]] = []  # (code object or draw marker, path, start in CPU ns)
        self.tick: dict[str, int] = {}

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            label = self.labels.get(frame.f_code)
            if label is not None:
                self.enter(frame.f_code, label)
        elif event == "return" and self.stack and self.stack[-1][0] is frame.f_code:
            self.leave()

    def enter(self, key: Any, label: str) -> None:
        path = f"{self.stack[-1][1]}/{label}" if self.stack else label
        self.stack.append((key, path, time.process_time_ns()))

    def leave(self) -> None:
        _, path, start = self.stack.pop()
        self.tick[path] = self.tick.get(path, 0) + time.process_time_ns() - start


class _TimedStream:
    """A model's numpy Generator whose draws are timed as "random draws" by `profiler` (same Generator, same draws)."""

    def __init__(self, rng: Any, profiler: StepProfiler) -> None:
        self._rng, self._profiler = rng, profiler

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._rng, name)
        if not callable(attr):
            return attr
        profiler = self._profiler

        def draw(*args: Any, **kwargs: Any) -> Any:
            profiler.enter(RANDOM_DRAWS, RANDOM_DRAWS)
            try:
                return attr(*args, **kwargs)
            finally:
                profiler.leave()

        return draw


def profile_steps(model: Any, ticks: int = PROFILE_TICKS) -> tuple[dict[str, float], float]:
    """Median CPU ms per tick of each step of `model.step` over `ticks` more ticks, and the median profiled tick.

    Keys are call paths ("emit_wom", "emit_wom/deliver", ...); "other" is the rest of the tick (levers,
    interventions' own code, bookkeeping): the median over ticks of the tick minus its top-level timed steps.
    """
    profiler = StepProfiler(timed_functions(model))
    per_tick: list[dict[str, int]] = []
    totals: list[float] = []
    previous, streams = sys.getprofile(), model.streams
    for _ in range(ticks):
        profiler.tick, profiler.stack = {}, []
        model.streams = {name: _TimedStream(rng, profiler) for name, rng in streams.items()}
        start = time.process_time_ns()
        sys.setprofile(profiler)
        try:
            model.step()
        finally:
            sys.setprofile(previous)
            model.streams = streams
        total = time.process_time_ns() - start
        top = sum(v for k, v in profiler.tick.items() if "/" not in k)
        per_tick.append({**profiler.tick, "other": total - top})
        totals.append(total / 1e6)
    paths = {k for tick in per_tick for k in tick}
    profile = {k: statistics.median(tick.get(k, 0) for tick in per_tick) / 1e6 for k in paths}
    return profile, statistics.median(totals)
