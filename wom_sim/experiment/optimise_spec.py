"""Budget-optimiser specs: a YAML file naming the scenario (the current plan), the levers with bounds, a total budget
or a target ROI / marginal ROI, the objective, constraints, trials and replications; validated completely (both
ends of every lever are built) before anything runs. See docs/optimise.md.

```yaml
scenario: plan_200k.yaml            # the current plan: a file relative to this one, or a bundled name
set: {network.n: 10000, ticks: 52}  # dotted overrides of every run (optional)
levers:
  kol_campaign.select.k: {low: 0, high: 40}
  advertising.budget_per_tick:
    low: 0
    high: 6000
    links: {advertising.reach_multiplier: {at_zero: 1.0, per_unit: 0.0005}}
budget: 200000                      # total programme spend over the horizon (or target_roi / target_mroi)
objective: profit                   # an outcome (stat:column); maximised when the catalogue says more is better
constraints:
  - {outcome: nps, at_least: base}                  # not below the current plan (same seeds)
  - {outcome: brand, at_least: base, tolerance: 0.05}   # brand damage under 5%
trials: 40
replications: 8
seed: 7
```
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from wom_sim.analysis.outcomes import check_horizon, outcome, outcome_error
from wom_sim.catalogue import metric
from wom_sim.errors import ScenarioError
from wom_sim.experiment.levers import Lever, current_value, plan_scenario, resolve, takes_integers
from wom_sim.experiment.sweep_spec import NAME_RE
from wom_sim.network.kols import check_kols_fit
from wom_sim.scenario.catalogue import bundled_names, bundled_path
from wom_sim.scenario.loading import (
    apply_overrides,
    build_scenario,
    format_validation_error,
    load_raw,
    read_yaml_mapping,
    split_override,
)
from wom_sim.scenario.schema import MAX_SEED, Scenario, Strict


class LinkSpec(Strict):
    """An effect parameter set from the lever: value = at_zero + per_unit * lever."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    at_zero: float = Field(description="the effect parameter's value when the lever is 0")
    per_unit: float = Field(description="its change per unit of the lever")


class LeverSpec(Strict):
    """One lever's bounds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float = Field(ge=0, le=1e12, description="lowest value searched")
    high: float = Field(ge=0, le=1e12, description="highest value searched")
    integer: bool | None = Field(None, description="search integers (default: when the scenario's value is one)")
    step: float | None = Field(None, gt=0, description="search on a grid of this step from low (optional)")
    links: dict[str, LinkSpec] = Field(default_factory=dict, description="effect parameters set from the lever")


class ConstraintSpec(Strict):
    """A bound on an outcome's mean over the replications; `base` is the current plan on the same seeds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    outcome: str
    at_least: float | Literal["base"] | None = None
    at_most: float | Literal["base"] | None = None
    tolerance: float = Field(0.0, ge=0, le=1, description="relative slack on a `base` bound: 0.05 = within 5%")

    @model_validator(mode="after")
    def _can_hold(self) -> ConstraintSpec:
        low, high = self.at_least, self.at_most
        if isinstance(low, float) and isinstance(high, float) and low > high:
            raise ValueError(f"at_least {low:g} is above at_most {high:g}; no plan can meet both")
        return self


class OptimiseSpec(Strict):
    """The optimiser file's schema."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = Field(None, description="the output folder's name under runs/ (default: the file's stem)")
    description: str = ""
    scenario: str = Field(description="the current plan: a scenario file relative to the spec, or a bundled name")
    set: dict[str, Any] = Field(default_factory=dict, description="dotted overrides applied to every run")
    levers: dict[str, LeverSpec] = Field(min_length=1, max_length=12)
    budget: float | None = Field(None, gt=0, description="most total programme spend over the horizon (currency)")
    target_roi: float | None = Field(None, description="least ROI of the plan over no spend (profit uplift/spend)")
    target_mroi: float | None = Field(None, description="marginal ROI to spend down to: maximise profit - m * spend")
    objective: str = Field("profit", description="an outcome (stat:column); default: profit over the horizon")
    direction: Literal["maximise", "minimise"] | None = Field(None, description="default: from the catalogue")
    constraints: list[ConstraintSpec] = Field(default_factory=list)
    trials: int = Field(40, ge=1, le=10_000, description="plans tried (the no-spend and current plans are extra)")
    replications: int = Field(8, ge=2, le=1_000, description="seeds a surviving plan is run on (the same for all)")
    min_replications: int = Field(2, ge=2, le=1_000, description="seeds of the first racing rung")
    batch: int = Field(
        4, ge=1, le=1_000, description="plans proposed and raced at once (keep >= workers to keep them busy)"
    )
    sampler: Literal["tpe", "cmaes", "random"] = "tpe"
    check_replications: int = Field(30, ge=2, le=10_000, description="fresh seeds of the final paired check")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="default: the scenario's")


@dataclass
class Optimisation:
    """A validated spec: the raw current plan (with any entries the levers add) and the resolved levers."""

    path: Path | None
    spec: OptimiseSpec
    raw: dict
    current_raw: dict
    levers: list[Lever]
    current: Scenario

    @property
    def seed(self) -> int:
        return self.current.seed if self.spec.seed is None else int(self.spec.seed)

    @property
    def maximise(self) -> bool:
        if self.spec.direction is not None:
            return self.spec.direction == "maximise"
        return metric(outcome(self.spec.objective).column).better != "down"

    @property
    def name(self) -> str:
        """A folder name, never a path: the spec's (checked) or the file's stem made safe."""
        if self.spec.name:
            return self.spec.name
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", self.path.stem).lstrip(".") if self.path else ""
        return stem[:100] or "optimise"


def _scenario_source(where: str, base: Path | None, text: str) -> Path:
    candidate = (base / text).resolve() if base is not None else Path(text)
    if candidate.is_file():
        return candidate
    if text in bundled_names():
        return bundled_path(text)
    raise ScenarioError(f"{where}: scenario: file not found: {candidate} (and no bundled scenario {text!r})")


def build_optimisation(spec: OptimiseSpec, path: Path | None = None) -> Optimisation:
    """Resolve a spec's scenario and levers and build both ends of every lever (ScenarioError: one line)."""
    where = str(path) if path else "optimise spec"
    if spec.name is not None and not NAME_RE.match(spec.name):
        raise ScenarioError(
            f"{where}: name: {spec.name[:60]!r} must be a plain folder name (letters, digits, '.', '_', '-'): it "
            "names the store under runs/"
        )
    if sum(x is not None for x in (spec.budget, spec.target_roi, spec.target_mroi)) > 1:
        raise ScenarioError(f"{where}: budget, target_roi, target_mroi: give at most one of them")
    if spec.min_replications > spec.replications:
        raise ScenarioError(f"{where}: min_replications: {spec.min_replications} > replications {spec.replications}")
    for name in [spec.objective, *(c.outcome for c in spec.constraints)]:
        problem = outcome_error(name)
        if problem:
            raise ScenarioError(f"{where}: objective/constraints: {problem}")
    for i, c in enumerate(spec.constraints):
        if c.at_least is None and c.at_most is None:
            raise ScenarioError(f"{where}: constraints.{i}: give at_least or at_most (a number or base)")
    source = _scenario_source(where, path.parent if path else None, spec.scenario)
    current_raw = load_raw(source)
    if spec.set:
        current_raw = apply_overrides(current_raw, spec.set, f"{where}: set")
    current = build_scenario(current_raw, f"{where}: set ({source.name})")
    for name in [spec.objective, *(c.outcome for c in spec.constraints)]:
        try:
            check_horizon(name, current.ticks)  # a tick past the horizon would be NaN in every trial
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: objective/constraints: {exc}") from None
    raw, levers = current_raw, []
    for key, lspec in spec.levers.items():
        at = f"{where}: levers.{key}"
        if lspec.low >= lspec.high:
            raise ScenarioError(f"{at}: low {lspec.low:g} must be below high {lspec.high:g}")
        raw, lever_path, entry = resolve(raw, key, at)
        now = (
            current_value(current_raw, lever_path)
            if lever_path.split(".")[0] != "interventions"
            or int(lever_path.split(".")[1]) < len(current_raw.get("interventions") or [])
            else None
        )
        integer = (
            lspec.integer if lspec.integer is not None else takes_integers(raw, lever_path, now, lspec.low, lspec.high)
        )
        _check_grid(at, lspec, integer)
        links = {k: (v.at_zero, v.per_unit) for k, v in lspec.links.items()}
        for link in links:
            if link in (lever_path, key):
                raise ScenarioError(f"{at}: links: {link} is the lever itself")
        lever = Lever(
            key, lever_path, lspec.low, lspec.high, integer, now if isinstance(now, int | float) else None, entry, {}
        )
        lever.links = {_link_path(raw, link, at): v for link, v in links.items()}
        for probe in (lspec.low, lspec.high):
            probed = plan_scenario(raw, [lever], {key: probe}, f"{at} = {probe:g}")
            try:  # the graph's size is known now: a plan hiring more KOLs than people would fail mid-search
                check_kols_fit(probed)
            except ScenarioError as exc:
                raise ScenarioError(f"{at} = {probe:g}: {exc}") from None
        levers.append(lever)
    return Optimisation(path, spec, raw, current_raw, levers, current)


def _check_grid(at: str, lspec: LeverSpec, integer: bool) -> None:
    """Refuse bounds and a step that leave the search one value or none (the trials would all try low, or fail)."""
    if integer and math.ceil(lspec.low) > math.floor(lspec.high):
        raise ScenarioError(f"{at}: an integer lever needs a whole number from {lspec.low:g} to {lspec.high:g}")
    if lspec.step is None:
        return
    if integer and lspec.step != int(lspec.step):
        raise ScenarioError(f"{at}: step {lspec.step:g}: an integer lever takes a whole-number step")
    if lspec.step > lspec.high - lspec.low:
        raise ScenarioError(
            f"{at}: step {lspec.step:g} is more than high - low = {lspec.high - lspec.low:g}; the search would "
            "try low only"
        )


def _link_path(raw: dict, key: str, where: str) -> str:
    _raw, link_path, _entry = resolve(raw, key, f"{where}: links")
    if _raw is not raw:
        raise ScenarioError(f"{where}: links: {key}: names no entry of the plan (link parameters of the lever's own)")
    return link_path


def load_optimisation(path: str | Path, sets: list[str] | tuple[str, ...] = (), **replaced: Any) -> Optimisation:
    """Read and validate an optimiser spec file; raise ScenarioError (one line naming file and key) on bad input.

    `sets`: `key.sub=value` overrides added to the spec's `set:` (the command line's --set, which wins);
    `replaced`: spec keys given on the command line (trials=, replications=, ...; None = the spec's).
    """
    path = Path(path)
    data = read_yaml_mapping(path, "optimiser spec")
    given = data.get("set") or {}
    if sets and isinstance(given, dict):  # a `set:` that is no mapping is left for the validation to refuse
        data = {**data, "set": {**given, **dict(split_override(o) for o in sets)}}
    data = {**data, **{key: value for key, value in replaced.items() if value is not None}}
    unknown = [k for k in data if k not in OptimiseSpec.model_fields]
    if unknown:
        allowed = sorted(OptimiseSpec.model_fields)
        hint = difflib.get_close_matches(str(unknown[0]), allowed, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ScenarioError(f"{path}: unknown key {unknown[0]}{did} (allowed: {', '.join(allowed)})")
    try:
        spec = OptimiseSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(path), OptimiseSpec)) from None
    return build_optimisation(spec, path)


def curve_plan(path: str | Path, steps: int) -> tuple[str, list[str], dict, list[str]] | None:
    """An optimiser spec as response-curve input: (scenario file, levers as KEY=LOW:HIGH:STEPS, links by lever key,
    overrides as KEY=VALUE); None for a file without `levers:` (a scenario)."""
    data = read_yaml_mapping(Path(path), "optimiser spec")
    if "levers" not in data:
        return None
    opt = load_optimisation(path)
    source = _scenario_source(str(path), Path(path).parent, opt.spec.scenario)
    levers = [f"{k}={v.low:g}:{v.high:g}:{steps}" for k, v in opt.spec.levers.items()]
    links = {k: {lk: (lv.at_zero, lv.per_unit) for lk, lv in v.links.items()} for k, v in opt.spec.levers.items()}
    overrides = [f"{k}={json.dumps(v)}" for k, v in opt.spec.set.items()]
    return str(source), levers, links, overrides
