"""The target file of a calibration: free parameters with bounds, observed targets, budget; read and checked.

Everything a user can get wrong (a missing file, an unknown key, inverted bounds, an unknown metric, a series
beyond the horizon) is found here, before the first run, and raised as a one-line ScenarioError.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from wom_sim.analysis.outcomes import ALIASES, outcome
from wom_sim.catalogue import METRIC_COLUMNS
from wom_sim.errors import ScenarioError
from wom_sim.network.build import check_network
from wom_sim.network.kols import check_kols_fit
from wom_sim.scenario.loading import (
    MAX_ABS_NUMBER,
    apply_overrides,
    build_scenario,
    format_validation_error,
    load_raw,
    read_text_file,
    read_yaml_mapping,
)
from wom_sim.scenario.schema import MAX_SEED, Scenario, Strict

OPTIMISERS = ("tpe", "cmaes", "de")
# The validation registry (package data, read as data): which facts are calibration targets and which are test
# facts that no calibration may use (docs/validation.md, "Targets and tests").
FACT_REGISTRY = Path(__file__).resolve().parents[1] / "validation" / "facts" / "facts.yaml"
STATS = ("mean", "final", "sum", "max", "min")
MAX_SERIES_BYTES = 50_000_000  # an observed series CSV
_BIG = MAX_ABS_NUMBER


class Bounds(Strict):
    """A free parameter's range: `[low, high]` or `{low, high, log, integer}`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float = Field(ge=-_BIG, le=_BIG)
    high: float = Field(ge=-_BIG, le=_BIG)
    log: bool = Field(False, description="search on a log scale (both bounds > 0)")
    integer: bool = Field(False, description="whole numbers only")

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError("bounds must be [low, high]")
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("bounds must be finite numbers")
        if self.low >= self.high:
            raise ValueError(f"bounds are inverted or empty: low {self.low:g} must be below high {self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError("log-scale bounds must be > 0")
        return self


class TargetSpec(Strict):
    """One target: an observed series (`series:` CSV) or a scalar (`value:`), compared with a model metric."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = None
    fact: str | None = Field(
        None, description="the validation fact this target stands for (e.g. F5); it must have role: target"
    )
    metric: str = Field(description="per-tick metric, or 'a / b' for a ratio of two metrics (stat applied to each)")
    weight: float = Field(1.0, gt=0, le=1e6)
    scale: float | None = Field(None, gt=0, le=_BIG, description="error scale (default: mean |observed| or |observed|)")
    # a series
    series: str | list[float] | None = Field(  # values are finite and at most 1e15 (checked on read)
        None, description="CSV file of the observed series (relative to the target file), or the values inline"
    )
    column: str | None = Field(None, description="CSV column of the observed values (default: the last column)")
    time_column: str | None = Field(None, description="CSV column of the tick of each value (default: 0, 1, 2...)")
    multiply: float = Field(
        1.0, gt=0, le=1e9, description="factor applied to the observed values (e.g. to scale counts)"
    )
    # a scalar
    value: float | None = Field(None, ge=-_BIG, le=_BIG)
    stat: Literal["mean", "final", "sum", "max", "min"] = "mean"
    ticks: tuple[int, int] | None = Field(None, description="window [first, last] tick of a scalar (inclusive)")

    @field_validator("stat", mode="before")
    @classmethod
    def _last_is_final(cls, value: Any) -> Any:
        # compare, sweep and the outcome syntax (`last:nps`) say "last" for the final value: the same word here
        return "final" if value == "last" else value

    @model_validator(mode="after")
    def _one_kind(self) -> TargetSpec:
        if (self.series is None) == (self.value is None):
            raise ValueError("a target needs exactly one of `series` (a CSV) or `value` (a scalar)")
        if self.ticks is not None and self.ticks[0] > self.ticks[1]:
            raise ValueError(f"ticks window is inverted: {self.ticks[0]} > {self.ticks[1]}")
        return self


class CalibrationSpec(Strict):
    """The whole target file."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    parameters: dict[str, Bounds]
    targets: list[TargetSpec]
    replications: int = Field(3, ge=1, le=1000, description="runs per trial (same seeds in every trial)")
    trials: int = Field(40, ge=2, le=100_000, description="parameter sets evaluated")
    seed: int = Field(
        1, ge=0, le=MAX_SEED, description="base seed of the replications; the optimiser is seeded from it too"
    )
    optimiser: Literal["tpe", "cmaes", "de"] = "tpe"
    check_replications: int | None = Field(
        None, ge=0, le=1000, description="fresh-seed runs of the best fit (default: replications)"
    )

    @field_validator("parameters")
    @classmethod
    def _some(cls, v: dict) -> dict:
        if not v:
            raise ValueError("at least one free parameter is needed")
        return v

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list) -> list:
        if not v:
            raise ValueError("at least one target is needed")
        return v


@dataclass
class Target:
    """A resolved target: what to simulate and what was observed."""

    name: str
    spec: TargetSpec
    observed: np.ndarray | float
    ticks: np.ndarray | None = None  # series: the tick of each observation

    @property
    def is_series(self) -> bool:
        return self.ticks is not None

    @property
    def scale(self) -> float:
        if self.spec.scale is not None:
            return self.spec.scale
        obs = np.abs(np.atleast_1d(self.observed))
        value = float(obs.mean())
        return value if value > 0 else 1.0


@dataclass
class Problem:
    """Everything a calibration needs, checked before the first run."""

    scenario_path: Path
    raw: dict
    scenario: Scenario
    spec: CalibrationSpec
    targets: list[Target]
    target_path: Path
    overrides: list[str] = field(default_factory=list)  # the `--set KEY=VALUE` the scenario was read with


def _lookup(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(dotted)
    return node


def load_problem(
    scenario_path: str | Path, target_path: str | Path, overrides: list[str] | dict[str, Any] | None = None
) -> Problem:
    """Read and check the scenario (with dotted `overrides`, as `--set` gives them), the target file, its CSVs and
    every parameter key and bound (ScenarioError)."""
    target_path = Path(target_path)
    raw_targets = _read_yaml(target_path)
    try:
        spec = CalibrationSpec.model_validate(raw_targets)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(target_path), CalibrationSpec)) from None
    scenario_path = Path(scenario_path)
    # --set and each trial's values act on the resolved scenario, as `run --set` does: a default the file does not
    # spell out (an item of population.segments) is there to be changed.
    raw = build_scenario(load_raw(scenario_path), str(scenario_path)).model_dump(mode="json", by_alias=True)
    if overrides:
        raw = apply_overrides(raw, overrides)
    scenario = build_scenario(raw, str(scenario_path))
    resolved = scenario.model_dump(mode="json", by_alias=True)
    for key, bounds in spec.parameters.items():
        try:
            current = _lookup(raw, key) if _has(raw, key) else _lookup(resolved, key)
        except KeyError:
            raise ScenarioError(
                f"{target_path}: parameters.{key}: unknown parameter key (not in {scenario_path})"
            ) from None
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise ScenarioError(f"{target_path}: parameters.{key}: not a number (it is {current!r})")
        # The resolved scenario keeps each key's type (a float key dumps as 1.0 even where the file says 1): a
        # whole-number key searched as a float fails at the first trial that draws 183.4, after runs have started.
        if not bounds.integer and _has(resolved, key) and type(_lookup(resolved, key)) is int:
            raise ScenarioError(
                f"{target_path}: parameters.{key}: takes whole numbers; add integer: true "
                f"({{low: {bounds.low:g}, high: {bounds.high:g}, integer: true}})"
            )
        for side in ("low", "high"):
            value = getattr(bounds, side)
            try:
                probed = build_scenario(apply_overrides(raw, {key: _cast(value, bounds)}), str(scenario_path))
                # the graph's size is known now: a trial hiring more KOLs than people (or network.m >= n) would
                # fail mid-search
                check_network(probed.network)
                check_kols_fit(probed)
            except ScenarioError as exc:
                raise ScenarioError(
                    f"{target_path}: parameters.{key}: bound {side}={value:g} is not allowed ({exc})"
                ) from None
    roles = fact_roles()
    targets = []
    for i, t in enumerate(spec.targets):
        where = f"{target_path}: targets[{i}]"
        if t.fact is not None and roles.get(t.fact) != "target":
            what = "a test fact (role: test)" if t.fact in roles else "not a fact of the registry"
            allowed = ", ".join(f for f, r in roles.items() if r == "target")
            raise ScenarioError(f"{where}.fact: {t.fact} is {what}; calibrate only on target facts ({allowed})")
        t = _shared_outcome(t, where)
        for metric in _metric_parts(t.metric):
            if metric not in METRIC_COLUMNS:
                raise ScenarioError(f"{where}.metric: unknown metric {metric!r} (allowed: {', '.join(METRIC_COLUMNS)})")
        name = t.name or (f"{t.metric} series" if t.series else f"{t.stat} {t.metric}")
        if t.series is None:
            if t.ticks is not None and t.ticks[1] >= scenario.ticks:
                raise ScenarioError(
                    f"{where}.ticks: window ends at {t.ticks[1]} but the scenario has {scenario.ticks} ticks"
                )
            targets.append(Target(name, t, float(t.value)))
            continue
        if isinstance(t.series, list):
            if len(t.series) < 2 or t.column or t.time_column:
                raise ScenarioError(f"{where}.series: an inline series needs >= 2 values and no column/time_column")
            ticks, observed = np.arange(len(t.series)), np.asarray(t.series, dtype=float)
        else:
            ticks, observed = _read_series(target_path.parent / t.series, t, where)
        if ticks.max() >= scenario.ticks:
            raise ScenarioError(f"{where}.series: observed series runs to tick {int(ticks.max())} but the scenario "
                                f"has {scenario.ticks} ticks (0-{scenario.ticks - 1})")  # fmt: skip
        targets.append(Target(name, t, observed * t.multiply, ticks))
    sets = [f"{k}={v}" for k, v in overrides.items()] if isinstance(overrides, dict) else list(overrides or [])
    return Problem(scenario_path, raw, scenario, spec, targets, target_path, sets)


def fact_roles(path: Path = FACT_REGISTRY) -> dict[str, str]:
    """Fact id -> role ("target" or "test") from the validation registry; empty when it is not installed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    return {str(f["id"]): str(f.get("role", "test")) for f in data.get("facts", []) if "id" in f}


def _has(data: Any, dotted: str) -> bool:
    try:
        _lookup(data, dotted)
        return True
    except KeyError:
        return False


def _cast(value: float, bounds: Bounds) -> float | int:
    return int(round(value)) if bounds.integer else float(value)


# The outcome syntax of compare and sweep (wom_sim.analysis.outcomes) -> this file's stat names.
_SHARED_STATS = {"last": "final", "mean": "mean", "sum": "sum", "min": "min", "max": "max", "at": "final"}


def _shared_outcome(t: TargetSpec, where: str) -> TargetSpec:
    """A scalar target's `metric: stat:column` (as compare and sweep write outcomes: min:brand, at:52:customers)
    as metric + stat (+ ticks for at:T); anything else unchanged."""
    if (":" not in t.metric and t.metric not in ALIASES) or "/" in t.metric:
        return t
    if t.series is not None:
        raise ScenarioError(f"{where}.metric: {t.metric!r}: a series target compares every tick; give the column")
    try:
        parsed = outcome(t.metric)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}.metric: {exc}") from None
    if parsed.stat not in _SHARED_STATS:
        raise ScenarioError(f"{where}.metric: {t.metric!r} compares with a base run; a target is one run's number")
    update = {"metric": parsed.column, "stat": _SHARED_STATS[parsed.stat], "name": t.name or t.metric}
    if parsed.stat == "at":
        update["ticks"] = (parsed.tick, parsed.tick)
    return t.model_copy(update=update)


def _metric_parts(metric: str) -> list[str]:
    return [p.strip() for p in metric.split("/")] if "/" in metric else [metric.strip()]


def _read_yaml(path: Path) -> dict:
    return read_yaml_mapping(path, "target")


def _read_series(path: Path, t: TargetSpec, where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = read_text_file(path, "file", MAX_SERIES_BYTES)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}.series: {exc}") from None
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ScenarioError(f"{where}.series: {path}: cannot read as CSV ({exc})") from None
    column = t.column or (frame.columns[-1] if len(frame.columns) else None)
    for name, role in ((column, "column"), (t.time_column, "time_column")):
        if name is not None and name not in frame.columns:
            raise ScenarioError(
                f"{where}.{role}: no column {name!r} in {path} (columns: {', '.join(map(str, frame.columns))})"
            )
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    ticks = (pd.to_numeric(frame[t.time_column], errors="coerce").to_numpy(dtype=float) if t.time_column
             else np.arange(len(frame), dtype=float))  # fmt: skip
    if np.isfinite(values).all() and (np.abs(values) > _BIG).any():
        raise ScenarioError(f"{where}.series: {path}: values beyond {_BIG:g} in {column!r}")
    if len(values) < 2 or not (np.isfinite(values).all() and np.isfinite(ticks).all()):
        raise ScenarioError(f"{where}.series: {path}: needs at least 2 rows of numbers in {column!r} (and ticks)")
    if (
        (ticks < 0).any()
        or (ticks > 1e6).any()
        or not np.allclose(ticks, np.rint(ticks))
        or len(np.unique(ticks)) != len(ticks)
    ):
        raise ScenarioError(f"{where}.time_column: ticks must be distinct whole numbers >= 0")
    return ticks.astype(np.int64), values


def scenario_with(problem: Problem, values: dict[str, float]) -> Scenario:
    """The scenario with the free parameters set."""
    casted = {k: _cast(v, problem.spec.parameters[k]) for k, v in values.items()}
    return build_scenario(apply_overrides(problem.raw, casted), str(problem.scenario_path))
