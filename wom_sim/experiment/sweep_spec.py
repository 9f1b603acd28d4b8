"""Sweep specs: a YAML file naming a scenario, parameters with ranges or lists, a design, samples, replications
and outcome metrics; validated completely (every design point is built) before anything is written.

```yaml
scenario: ../scenarios/baseline.yaml    # relative to this file, or a bundled name (baseline)
set: {network.n: 2000, ticks: 52}       # fixed overrides of every run (optional)
design: grid                            # grid | lhs | sobol
parameters:
  kols.select.k: [0, 5, 10, 20]         # a list of values
  wom.contact_prob: {low: 0.05, high: 0.3, steps: 6}   # a range (steps: grid only; scale: log; integer: true)
samples: 64                             # lhs: points; sobol: base sample N (N * (D + 2) points)
replications: 5
seed: 7                                 # seeds of the replications and of the design (default: scenario's)
metrics: [adoption_share, nps, profit]  # named outcomes, stat:column (mean:churn_rate), or a per-tick column
baseline: {interventions: []}           # optional: what roi, incremental:profit, payback, crisis_damage compare with
```

A `baseline:` (dotted overrides of the scenario after `set:`; `{}` is the scenario as set) runs once per replication
with the points' seeds (common random numbers); relative metrics compare every run with the baseline run of its
seed: `roi` (incremental profit per unit of the spend of the interventions a point adds or changes against the
baseline), `incremental:COLUMN`, `payback`, `crisis_damage` (`wom_sim.analysis.outcomes`).

"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError

from wom_sim.analysis.outcomes import check_horizon, outcome, outcome_error
from wom_sim.analysis.verdicts import programme_entries
from wom_sim.errors import ScenarioError
from wom_sim.experiment.runner import canonical_hash
from wom_sim.scenario.catalogue import bundled_names, bundled_path
from wom_sim.scenario.loading import (
    MAX_ABS_NUMBER,
    apply_overrides,
    build_scenario,
    format_validation_error,
    load_raw,
    parse_value,
    read_yaml_mapping,
)
from wom_sim.scenario.schema import MAX_SEED, Scenario, Strict

DESIGNS = ("grid", "lhs", "sobol")
MAX_POINTS = 20_000  # design points: each is a validated Scenario in memory (~10 KB) before anything runs
MAX_RUNS = 1_000_000  # points x replications: one task and one Parquet part each
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # a sweep's name is a folder name under runs/


class RangeSpec(Strict):
    """A numeric range of one parameter."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float = Field(ge=-MAX_ABS_NUMBER, le=MAX_ABS_NUMBER)
    high: float = Field(ge=-MAX_ABS_NUMBER, le=MAX_ABS_NUMBER)
    steps: int | None = Field(
        None, ge=2, le=MAX_POINTS, description="grid: evenly spaced values from low to high, inclusive"
    )
    scale: Literal["linear", "log"] = Field("linear", description="log: sample log10 of the value evenly")
    integer: bool | None = Field(None, description="round to integers (default: when the scenario value is one)")


class SweepSpec(Strict):
    """The sweep file's schema."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = Field(
        None, description="the store folder's name under runs/ (letters, digits, . _ -; default: the file's stem)"
    )
    description: str = ""
    scenario: str = Field(description="scenario file, relative to the spec file, or a bundled name")
    set: dict[str, Any] = Field(default_factory=dict, description="dotted overrides applied to every run")
    design: Literal["grid", "lhs", "sobol"] = "grid"
    parameters: dict[str, Any] = Field(min_length=1, description="dotted key -> list of values or {low, high}")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="lhs: points; sobol: base sample size N")
    replications: int = Field(1, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    metrics: list[str] = Field(default_factory=lambda: ["adoption_share", "nps", "profit"], min_length=1)
    baseline: dict[str, Any] | None = Field(
        None, description="dotted overrides that make the base of relative metrics (roi, incremental:...); {}: the "
        "scenario as set"
    )  # fmt: skip


@dataclass
class Parameter:
    """One swept parameter: a list of values, or a range."""

    key: str
    values: list[Any] | None = None
    low: float = 0.0
    high: float = 0.0
    steps: int | None = None
    log: bool = False
    integer: bool = False

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map uniform [0, 1) coordinates to values (lists: equal shares; integers: equal-width unit bins)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        if self.values is not None:
            return [self.values[int(i)] for i in np.floor(u * len(self.values))]
        if self.integer and not self.log:
            return [int(v) for v in np.floor(self.low + u * (self.high - self.low + 1))]
        lo, hi = (math.log10(self.low), math.log10(self.high)) if self.log else (self.low, self.high)
        raw = lo + u * (hi - lo)
        raw = 10.0**raw if self.log else raw
        return [int(round(v)) for v in raw] if self.integer else [float(v) for v in raw]

    def grid_values(self) -> list[Any]:
        """The values a grid design visits."""
        if self.values is not None:
            return list(self.values)
        space = np.geomspace if self.log else np.linspace
        raw = space(self.low, self.high, self.steps)
        if self.integer:
            return list(dict.fromkeys(int(round(v)) for v in raw))
        return [float(v) for v in raw]

    def probes(self) -> list[Any]:
        """Values to validate against the scenario: every list item, or both ends of the range."""
        if self.values is not None:
            return list(self.values)
        return [int(round(self.low)), int(round(self.high))] if self.integer else [self.low, self.high]


@dataclass
class Sweep:
    """A validated sweep: the spec, its base scenario and the design points (dotted overrides)."""

    path: Path
    spec: SweepSpec
    scenario_path: Path
    base_raw: dict
    base: Scenario
    parameters: list[Parameter]
    points: list[dict[str, Any]] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    unit_sample: np.ndarray | None = None
    baseline: Scenario | None = None  # the base of relative metrics (spec `baseline:`), or None
    programmes: list[str] = field(default_factory=list)  # interventions whose spend a point's roi divides by

    @property
    def seed(self) -> int:
        return self.base.seed if self.spec.seed is None else self.spec.seed

    @property
    def name(self) -> str:
        """A folder name, never a path: the spec's `name` (checked on load) or the file's stem made safe."""
        if self.spec.name:
            return self.spec.name
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.path.stem).lstrip(".") or "sweep"
        return safe[:100]


def _flat_keys(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, dict):
        return [k for key, v in data.items() for k in _flat_keys(v, f"{prefix}{key}.")] or [prefix.rstrip(".")]
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        return [k for i, v in enumerate(data) for k in _flat_keys(v, f"{prefix}{i}.")]
    return [prefix.rstrip(".")]


def _read(path: Path) -> dict:
    return read_yaml_mapping(path, "sweep spec")


def _parameter(path: Path, key: str, value: Any, spec: SweepSpec, current: Any) -> Parameter:
    where = f"{path}: parameters.{key}"
    if isinstance(value, list):
        if not value:
            raise ScenarioError(f"{where}: empty list of values")
        if spec.design == "sobol":
            raise ScenarioError(f"{where}: sobol needs a numeric range {{low: .., high: ..}}, not a list")
        # A value given twice (0 and 0.0 alike) is a second copy of its points: the same runs (one key) counted
        # twice in every average and in the partial dependence of the other parameters.
        seen = [canonical_hash(v) for v in value]
        if len(set(seen)) < len(seen):
            twice = next(v for i, v in enumerate(value) if seen[i] in seen[:i])
            raise ScenarioError(f"{where}: the value {twice!r} is listed twice; list each value once")
        return Parameter(key, values=value)
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: give a list of values or a range {{low: .., high: ..}} (got {value!r})")
    try:
        rng = RangeSpec.model_validate(value)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, where, RangeSpec)) from None
    if rng.low > rng.high:
        raise ScenarioError(f"{where}: inverted range: low {rng.low:g} > high {rng.high:g}")
    if rng.low == rng.high:
        raise ScenarioError(f"{where}: empty range: low == high == {rng.low:g} (use a list for a single value)")
    if rng.scale == "log" and rng.low <= 0:
        raise ScenarioError(f"{where}: a log scale needs low > 0 (got {rng.low:g})")
    if spec.design == "grid" and rng.steps is None:
        raise ScenarioError(f"{where}: a grid needs steps for a range (or a list of values)")
    integer = rng.integer if rng.integer is not None else isinstance(current, int) and not isinstance(current, bool)
    return Parameter(key, low=rng.low, high=rng.high, steps=rng.steps, log=rng.scale == "log", integer=integer)


def _lookup(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(key)
    return node


def load_sweep(
    path: str | Path,
    overrides: list[str] | dict[str, Any] | None = None,
    replications: int | None = None,
    samples: int | None = None,
    ticks: int | None = None,
) -> Sweep:
    """Read and validate a sweep spec and build every design point; raise ScenarioError (one line) on bad input.

    `overrides` (``["network.n=1000"]`` or a dict, as `--set` gives them) join the spec's `set:`; `replications`,
    `samples` and `ticks` replace the spec's (``ticks`` as ``set: {ticks: N}``), as the CLI options do. The spec
    as changed is what the store records, so a store never mixes runs of two versions.
    """
    path = Path(path)
    data = _read(path)
    if overrides or ticks is not None:
        fixed = data.get("set") or {}
        if isinstance(fixed, dict):  # anything else fails validation below, naming set:
            given = dict(overrides) if isinstance(overrides, dict) else dict(_split(t) for t in overrides or [])
            data["set"] = {**fixed, **given, **({"ticks": int(ticks)} if ticks is not None else {})}
    for key, value in (("replications", replications), ("samples", samples)):
        if value is not None:
            data[key] = int(value)
    unknown = [k for k in data if k not in SweepSpec.model_fields]
    if unknown:  # a misspelt key explains a "missing" one: name it first
        allowed = sorted(SweepSpec.model_fields)
        hint = difflib.get_close_matches(str(unknown[0]), allowed, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ScenarioError(f"{path}: unknown key {unknown[0]}{did} (allowed: {', '.join(allowed)})")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(path), SweepSpec)) from None
    if spec.name is not None and not NAME_RE.match(spec.name):
        raise ScenarioError(
            f"{path}: name: {spec.name[:60]!r} must be a plain folder name (letters, digits, '.', '_', '-'; "
            "no '/' or leading '.'): it names the store under runs/"
        )
    if "\x00" in spec.scenario or not spec.scenario.strip():
        raise ScenarioError(f"{path}: scenario: {spec.scenario[:60]!r} is not a file path")
    scenario_path = (path.parent / spec.scenario).resolve()
    try:
        found = scenario_path.is_file()
    except OSError:  # e.g. a name longer than the file system allows
        found = False
    if not found and spec.scenario in bundled_names():  # a bundled name, as an optimiser spec takes it
        scenario_path, found = bundled_path(spec.scenario), True
    if not found:
        raise ScenarioError(
            f"{path}: scenario: file not found: {scenario_path} (and no bundled scenario {spec.scenario!r})"
        )
    raw = load_raw(scenario_path)
    if spec.set:
        raw = apply_overrides(raw, spec.set, f"{path}: set")
    base = build_scenario(raw, f"{path}: set ({scenario_path.name})")
    dump = base.model_dump(mode="json", by_alias=True)
    # Points are set on the resolved scenario, as --set is: a default the file does not spell out (an item of
    # population.segments) is there to be changed.
    raw = dump
    keys = _flat_keys(dump)
    params = []
    for key, value in spec.parameters.items():
        if key in spec.set:
            raise ScenarioError(f"{path}: parameters.{key}: also fixed under set:; keep it in one place")
        try:
            current = _lookup(dump, key)
        except KeyError:
            current = None
            hint = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            did = f" (did you mean {hint[0]}?)" if hint else ""
            if not _builds(raw, key, value):
                raise ScenarioError(
                    f"{path}: parameters.{key}: scenario {scenario_path.name} has no parameter {key}{did}"
                ) from None
        if isinstance(current, dict | list) and not isinstance(value, list):
            raise ScenarioError(f"{path}: parameters.{key}: is a section of the scenario, not a value")
        param = _parameter(path, key, value, spec, current)
        for probe in param.probes():
            build_scenario(apply_overrides(raw, {key: probe}), f"{path}: parameters.{key}={probe!r}")
        params.append(param)
    if spec.design in ("lhs", "sobol") and spec.samples is None:
        raise ScenarioError(f"{path}: samples: design {spec.design} needs samples (number of points)")
    if spec.design == "grid" and spec.samples is not None:  # it would be ignored: a grid's points are its values
        raise ScenarioError(f"{path}: samples: design grid takes no samples (its points are every combination of "
                            "the parameters' values); use design lhs or sobol to sample")  # fmt: skip
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        lower = 1 << (spec.samples.bit_length() - 1)
        raise ScenarioError(
            f"{path}: samples: sobol needs a power of 2 (got {spec.samples}; try {lower} or {lower * 2})"
        )
    for metric in spec.metrics:
        problem = outcome_error(metric)
        if problem:
            raise ScenarioError(f"{path}: metrics: {problem}")
        if spec.baseline is None and outcome(metric).relative:
            raise ScenarioError(
                f"{path}: metrics: {metric} compares each run with a baseline; add baseline: {{}} (the scenario as "
                "set) or its overrides, e.g. baseline: {interventions: []}"
            )
    _check_size(path, spec, params)
    sweep = Sweep(path, spec, scenario_path, raw, base, params)
    _design(sweep)
    if spec.baseline is not None:
        sweep.baseline = build_scenario(apply_overrides(raw, spec.baseline, f"{path}: baseline"), f"{path}: baseline")
        payload = sweep.baseline.model_dump(mode="json")
        names = (programme_entries(payload, sc.model_dump(mode="json")) for sc in sweep.scenarios)
        sweep.programmes = list(dict.fromkeys(n for group in names for n in group))
    # Known once every point is built: `ticks` may be a swept parameter, and each point must reach an at:T tick.
    horizon = min(sc.ticks for sc in [*sweep.scenarios, *([sweep.baseline] if sweep.baseline else [])])
    for metric in spec.metrics:
        try:
            check_horizon(metric, horizon)
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: metrics: {exc}") from None
    return sweep


def _split(text: str) -> tuple[str, Any]:
    """`key=value` of --set: the value read as YAML (a number, a list, a string)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {text!r}: expected KEY=VALUE, e.g. --set network.n=1000")
    return key.strip(), parse_value(value, f"--set {key.strip()}")


def design_size(spec: SweepSpec, params: list[Parameter]) -> int:
    """Number of design points, computed without building any (grid: the product of the value counts; lhs: samples;
    sobol: N * (D + 2), SALib's Saltelli scheme without second-order terms)."""
    if spec.design == "grid":
        return math.prod(len(p.values) if p.values is not None else int(p.steps) for p in params)
    if spec.design == "lhs":
        return int(spec.samples)
    return int(spec.samples) * (len(params) + 2)


def _check_size(path: Path, spec: SweepSpec, params: list[Parameter]) -> None:
    points = design_size(spec, params)
    if points > MAX_POINTS:
        what = "samples" if spec.design != "grid" else "parameters"
        raise ScenarioError(
            f"{path}: {what}: the {spec.design} design has {points:,} points, at most {MAX_POINTS:,} are allowed; "
            "use fewer values, steps or samples (or split the sweep)"
        )
    if points * spec.replications > MAX_RUNS:
        raise ScenarioError(
            f"{path}: replications: {points:,} points x {spec.replications:,} replications = "
            f"{points * spec.replications:,} runs, at most {MAX_RUNS:,}"
        )


def _builds(raw: dict, key: str, value: Any) -> bool:
    """Whether the scenario accepts `key` at all (a default-valued intervention parameter is not in the dump)."""
    probe = value[0] if isinstance(value, list) and value else value.get("low") if isinstance(value, dict) else value
    try:
        build_scenario(apply_overrides(raw, {key: probe}), "probe")
    except (ScenarioError, ValueError, TypeError):
        return False
    return True


def sobol_problem(params: list[Parameter]) -> dict[str, Any]:
    """The SALib problem: unit bounds; values come from `Parameter.from_unit` (log and integer aware)."""
    return {"num_vars": len(params), "names": [p.key for p in params], "bounds": [[0.0, 1.0]] * len(params)}


def _design(sweep: Sweep) -> None:
    """Fill sweep.points and sweep.scenarios (each point built and validated here, before anything runs)."""
    spec, params = sweep.spec, sweep.parameters
    if spec.design == "grid":
        combos = list(itertools.product(*(p.grid_values() for p in params)))
        points = [dict(zip([p.key for p in params], combo, strict=True)) for combo in combos]
    else:
        if spec.design == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(params), rng=np.random.default_rng(sweep.seed)).random(spec.samples)
        else:
            try:
                from SALib.sample import sobol as salib_sobol
            except ImportError:
                raise ScenarioError(f"{sweep.path}: design: sobol needs SALib; install wom-sim[sensitivity]") from None
            unit = salib_sobol.sample(
                sobol_problem(params), spec.samples, calc_second_order=False, seed=sweep.seed % 2**32
            )
        sweep.unit_sample = unit
        columns = [p.from_unit(unit[:, j]) for j, p in enumerate(params)]
        points = [dict(zip([p.key for p in params], row, strict=True)) for row in zip(*columns, strict=True)]
    sweep.points = points
    sweep.scenarios = []
    for index, point in enumerate(points):
        where = ", ".join(f"{k}={v!r}" for k, v in point.items())
        scenario = build_scenario(
            apply_overrides(sweep.base_raw, point), f"{sweep.path}: design point {index} ({where})"
        )
        sweep.scenarios.append(scenario)
