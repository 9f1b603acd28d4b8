"""Replicated, paired runs for the validation: arms, common random numbers, per-tick probes, intervals.

Every arm of a fact runs the same replication seeds (`Lab.seeds`), so a treatment and its baseline share their
graph, population and random streams wherever the treatment does not reach (common random numbers, docs/model.md
"Randomness"); paired differences then carry far less noise than independent runs. Runs are cached by arm, so
facts that read the same arm (most read the baseline) share it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.statistics import LEVEL, Estimate, mean_ci
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.scenario.loading import apply_overrides, build_scenario, load_raw
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.model import WomModel
from wom_sim.sim.population import CUSTOMER

__all__ = ["LEVEL", "Arm", "Estimate", "Lab", "Probe", "Run", "after", "mean_ci", "ratio", "run_once", "take_off",
           "time_to_half"]  # fmt: skip


# --------------------------------------------------------------------------------------------- statistics
# Estimate and mean_ci are the analysis layer's (one mean with CI for the whole package); re-exported for checks.
def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0."""
    return numerator / denominator if denominator else math.nan


# --------------------------------------------------------------------------------------------- probes
class Probe:
    """Watches a run tick by tick (what the per-tick metrics do not keep): `before` and `after` every step."""

    name = ""

    def start(self, model: Any) -> None:
        """Called once before the first tick."""

    def before(self, model: Any) -> None:
        """Called before each tick."""

    def after(self, model: Any) -> None:
        """Called after each tick (`model.last_tick` holds what the tick produced)."""

    def result(self) -> Any:
        """What the fact reads."""
        raise NotImplementedError


class LoyaltyChurnProbe(Probe):
    """Churn by loyalty quartile: per tick, the customers at its start split into quartiles of L, and who churned.

    `result()` is a frame with one row per tick: customers and churn events in each quartile (q1 = least loyal).
    """

    name = "loyalty_churn"

    def start(self, model: Any) -> None:
        self.rows: list[list[int]] = []

    def before(self, model: Any) -> None:
        pop = model.population
        self.customers = np.flatnonzero(pop.status == CUSTOMER)
        loyalty = pop.L[self.customers]
        if self.customers.size >= 4:
            edges = np.quantile(loyalty, [0.25, 0.5, 0.75])
            self.quartile = np.searchsorted(edges, loyalty, side="right")
        else:
            self.quartile = np.zeros(self.customers.size, dtype=np.int64)

    def after(self, model: Any) -> None:
        churned = model.last_tick.churned[self.customers]
        at_risk = np.bincount(self.quartile, minlength=4)
        events = np.bincount(self.quartile[churned], minlength=4)
        self.rows.append([*at_risk.tolist(), *events.tolist()])

    def result(self) -> pd.DataFrame:
        cols = [f"customers_q{i}" for i in range(1, 5)] + [f"churned_q{i}" for i in range(1, 5)]
        return pd.DataFrame(self.rows, columns=cols).rename_axis("t").reset_index()


class FailureOutcomeProbe(Probe):
    """Purchases by what happened to them, and what the buyer did next (fact F16).

    Each tick classifies every purchase: no failure, failure recovered on the spot, failure not recovered.
    Failure and recovery are fresh random draws independent of the buyer's state, so the three groups are
    exchangeable before the purchase and their later differences are the failure's and the recovery's effect.
    Outcomes: satisfaction at the end of the purchase tick; in the next tick, repurchase and positive WOM.
    `result()` sums them per tick into a frame (columns `<outcome>_<group>` and `n_<group>`).
    """

    name = "failure_outcome"
    groups = ("none", "recovered", "unrecovered")

    def start(self, model: Any) -> None:
        self.rows: list[dict[str, float]] = []
        self.previous: np.ndarray | None = None  # group code of last tick's purchase per person, -1 none

    def before(self, model: Any) -> None:
        pop = model.population
        self.failures, self.recoveries = pop.failures.copy(), pop.recoveries.copy()

    def after(self, model: Any) -> None:
        pop, st = model.population, model.last_tick
        bought = st.adopted | st.repurchased | st.won_back
        failed = pop.failures > self.failures
        recovered = failed & (pop.recoveries > self.recoveries) & (st.unrecovered == 0)  # recovered on the spot
        group = np.full(pop.n, -1, dtype=np.int64)
        group[bought] = 0
        group[bought & failed] = 2
        group[bought & recovered] = 1
        row: dict[str, float] = {}
        for code, name in enumerate(self.groups):
            now = group == code
            row[f"n_{name}"] = float(now.sum())
            row[f"S_{name}"] = float(pop.S[now].sum())
            if self.previous is not None:
                then = self.previous == code
                row[f"next_n_{name}"] = float(then.sum())
                row[f"next_repurchase_{name}"] = float((then & st.repurchased).sum())
                row[f"next_positive_wom_{name}"] = float((then & st.spoke_positive).sum())
        self.rows.append(row)
        self.previous = group

    def result(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows).fillna(0.0).rename_axis("t").reset_index()


class TalkAgeProbe(Probe):
    """First-hand WOM by time since the speaker's last purchase (fact F25).

    Before each tick, every experienced person's age = ticks since their last purchase (0: they bought in the
    tick before, the first tick they can talk about it), capped at `max_age`. After it, the first-hand messages
    they sent (own talk; retold messages are not about their own experience). `result()` is a frame with one row
    per age: person-ticks at that age and first-hand messages sent from it, summed over the run.
    """

    name = "talk_age"
    max_age = 60  # ages of 60 ticks and more share one bin

    def start(self, model: Any) -> None:
        self.exposure = np.zeros(self.max_age + 1, dtype=np.int64)
        self.messages = np.zeros(self.max_age + 1, dtype=np.int64)

    def before(self, model: Any) -> None:
        pop = model.population
        self.age = np.clip(model.tick - 1 - pop.last_purchase.astype(np.int64), 0, self.max_age)
        self.experienced = pop.experienced.copy()
        self.exposure += np.bincount(self.age[self.experienced], minlength=self.max_age + 1)

    def after(self, model: Any) -> None:
        for sent in (model.last_tick.positive, model.last_tick.negative):
            src = sent.src if sent.firsthand is None else sent.src[sent.firsthand]
            src = src[self.experienced[src]]
            self.messages += np.bincount(self.age[src], minlength=self.max_age + 1)

    def result(self) -> pd.DataFrame:
        return pd.DataFrame({"age": np.arange(self.max_age + 1), "person_ticks": self.exposure,
                             "messages": self.messages})  # fmt: skip


PROBES: dict[str, type[Probe]] = {p.name: p for p in (LoyaltyChurnProbe, FailureOutcomeProbe, TalkAgeProbe)}


# --------------------------------------------------------------------------------------------- runs
@dataclass
class Run:
    """One replication of one arm."""

    seed: int
    metrics: pd.DataFrame
    people: pd.DataFrame
    probes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def run_once(scenario: Scenario, seed: int, probes: Iterable[str] = ()) -> Run:
    """Run a scenario once with the given seed, probes watching every tick."""
    start = time.perf_counter()
    model = WomModel(scenario, seed=seed)
    watchers = [PROBES[name]() for name in probes]
    for w in watchers:
        w.start(model)
    for _ in range(scenario.ticks):
        for w in watchers:
            w.before(model)
        model.step()
        for w in watchers:
            w.after(model)
    return Run(
        seed=seed,
        metrics=model.metrics_frame(),
        people=model.people(),
        probes={w.name: w.result() for w in watchers},
        seconds=time.perf_counter() - start,
    )


@dataclass
class Arm:
    """A scenario the validation runs (replicated), by name."""

    name: str
    scenario: Scenario
    probes: tuple[str, ...] = ()


class Lab:
    """Builds arms from scenario files and overrides, runs them with common seeds, caches the runs.

    Parameters
    ----------
    folder : Path
        Where the arms' scenario files are (wom_sim/validation/facts); `baseline` is the project's baseline.
    baseline : Path
        The baseline scenario file (scenarios/baseline.yaml).
    size : dict
        Dotted overrides applied to every arm built from the baseline (e.g. ``{"network.n": 2000}``).
    replications : int
        Runs per arm.
    seed : int
        Base seed; replication r uses ``replication_seed(seed, r)`` in every arm (the one scheme of
        `wom_sim.experiment.seeds`).
    progress : callable, optional
        Called with a line of text after each arm.
    """

    def __init__(
        self,
        folder: Path,
        baseline: Path,
        size: dict[str, Any],
        replications: int,
        seed: int = 1,
        progress: Callable[[str], None] | None = None,
    ):
        self.folder, self.baseline_path = Path(folder), Path(baseline)
        self.size, self.replications, self.seed = dict(size), int(replications), int(seed)
        self.progress = progress
        self.cache: dict[tuple, list[Run]] = {}
        self.seconds = 0.0
        self.run_count = 0
        self.arms_run: set[str] = set()
        self.mode = "quick"

    @property
    def seeds(self) -> list[int]:
        """The replication seeds every arm uses (common random numbers)."""
        return replication_seeds(self.seed, self.replications)

    def scenario(
        self, source: str | None = None, overrides: dict[str, Any] | None = None, sized: bool = True
    ) -> Scenario:
        """The baseline (source None or "baseline") or a file of the validation folder, with overrides.

        `sized` applies the mode's size overrides (network.n, ...); scenarios with their own graph (F1) skip them.
        """
        path = self.baseline_path if source in (None, "baseline") else self.folder / source
        merged = {**(self.size if sized else {}), **(overrides or {})}
        # Overrides act on the file's own keys (plus sections they create), so list items such as
        # interventions.0.select.by address the entries the file lists.
        return build_scenario(apply_overrides(load_raw(path), merged, str(path)), str(path))

    def runs(self, arm: Arm, replications: int | None = None) -> list[Run]:
        """All replications of an arm (cached by its resolved scenario, probes and seeds)."""
        seeds = replication_seeds(self.seed, self.replications if replications is None else replications)
        key = (arm.scenario.model_dump_json(), arm.probes, tuple(seeds))
        if key not in self.cache:
            start = time.perf_counter()
            self.cache[key] = [run_once(arm.scenario, s, arm.probes) for s in seeds]
            elapsed = time.perf_counter() - start
            self.seconds += elapsed
            self.run_count += len(seeds)
            self.arms_run.add(arm.name)
            if self.progress:
                self.progress(f"  arm {arm.name}: {len(seeds)} runs in {elapsed:.1f} s")
        return self.cache[key]

    def baseline(self, probes: tuple[str, ...] = ("loyalty_churn", "talk_age")) -> list[Run]:
        """The baseline's runs (with the loyalty and talk probes, so every fact reading the baseline shares them)."""
        return self.runs(Arm("baseline", self.scenario(), probes))


# --------------------------------------------------------------------------------------------- curves
def take_off(metrics: pd.DataFrame) -> int:
    """The take-off tick: the first tick by which half of the run's final adopters have adopted.

    "After take-off" (F5, F9, F12, F15, ...) means this tick and later: the market is past its steepest growth.
    """
    share = metrics["adoption_share"].to_numpy()
    return int(metrics["t"].to_numpy()[np.argmax(share >= share[-1] / 2)])


def time_to_half(metrics: pd.DataFrame) -> float:
    """Ticks until half of the final adopters have adopted, linearly interpolated between ticks (F10)."""
    share = metrics["adoption_share"].to_numpy()
    t = metrics["t"].to_numpy(dtype=float) + 1.0  # row t is the state after t+1 ticks
    half = share[-1] / 2
    i = int(np.argmax(share >= half))
    if i == 0:
        return float(t[0])
    frac = (half - share[i - 1]) / (share[i] - share[i - 1])
    return float(t[i - 1] + frac)


def after(metrics: pd.DataFrame, start: int) -> pd.DataFrame:
    """The rows from tick `start` on."""
    return metrics[metrics["t"] >= start]
