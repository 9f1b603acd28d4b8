"""Studies: replications of one scenario on any executor, into a resumable store or into memory; the arms and
seeds every study shares (paired comparisons build on them in `comparison`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import wom_sim.display as display
from wom_sim.analysis.outcomes import add_derived, run_outcomes
from wom_sim.analysis.statistics import mean_ci_table, timeseries_ci
from wom_sim.catalogue import market_summary
from wom_sim.errors import ScenarioError
from wom_sim.experiment.executors import Execution, Executor, InProcessExecutor, execute
from wom_sim.experiment.runner import BREAKDOWNS, canonical_hash, make_task, scenario_payload
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.experiment.store import MemoryStore, ResultStore
from wom_sim.output import write_table
from wom_sim.scenario.catalogue import bundled_names, bundled_path
from wom_sim.scenario.loading import load_scenario
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.model import resolve_scenario

# The headline outcomes of `replicate` and `wom-sim run --replications` (statistics from the metric catalogue).
RUN_OUTCOMES = ["adoption_share", "customers", "nps", "churn_rate", "repurchase_rate", "pos_messages",
                "neg_messages", "wom_acquired_share", "brand", "revenue", "profit"]  # fmt: skip

Store = ResultStore | MemoryStore


@dataclass
class Arm:
    """One scenario of a study: a label and the resolved scenario."""

    label: str
    scenario: Scenario


@dataclass
class StudyResult:
    """What a replications or sweep study produced: its tables, where they are stored (None: in memory)."""

    path: Path | None
    execution: Execution
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    unit: str = "tick"  # the scenario's tick unit, for labels

    # Notebook display (wom_sim.display): replications' outcomes with CIs, or a sweep's best point per outcome.
    def to_frame(self) -> pd.DataFrame:
        """Replications: outcome, label, mean and 95% CI; a sweep: the best point per outcome with its CI."""
        points = self.tables.get("points")
        rows = display.sweep_rows(points) if points is not None else display.summary_rows(self.tables["summary"])
        return display.outcome_frame(rows, self.unit)

    def _repr_html_(self) -> str:
        what = "sweep: best point per outcome" if "points" in self.tables else "replications: mean and 95% CI"
        return display.html_table(self.to_frame(), what, f"{self.execution.total} runs" if self.execution else "")

    def plot(self, metrics: list[str] | None = None):
        """Replications: mean and CI band per tick; a sweep: each outcome along its first parameter."""
        points = self.tables.get("points")
        if points is None:
            return display.series_figure(self.tables["timeseries"], metrics or RUN_OUTCOMES, self.unit)
        params, names = display.sweep_metrics(points)
        by = params[1] if len(params) > 1 else None
        return display.series_figure(display.sweep_series(points), metrics or names, self.unit, by=by, x=params[0])


def as_arm(source: Arm | Scenario | str | Path, overrides: dict[str, Any] | None = None) -> Arm:
    """An arm from an Arm, a Scenario (labelled by its name), a scenario file or a bundled scenario's name, with
    dotted `overrides` (e.g. ``{"network.n": 2000}``) applied.

    Raises
    ------
    ScenarioError
        For a file that does not exist and is no bundled name, or an invalid scenario.
    """
    if isinstance(source, Arm):
        return Arm(source.label, resolve_scenario(source.scenario, overrides)) if overrides else source
    if isinstance(source, Scenario):
        return Arm(source.name, resolve_scenario(source, overrides))
    path = Path(source)
    if not path.exists() and str(source) in bundled_names():
        path = bundled_path(str(source))
    if not path.exists():
        raise ScenarioError(f"{source}: file not found (and no bundled scenario of that name; see `wom-sim scenarios`)")
    return Arm(path.stem, load_scenario(path, overrides or None))


def label_arms(arms: list[Arm]) -> list[Arm]:
    """The arms with unique labels: a repeated label gets `#2`, `#3`, ..."""
    seen: dict[str, int] = {}
    out = []
    for arm in arms:
        seen[arm.label] = seen.get(arm.label, 0) + 1
        out.append(arm if seen[arm.label] == 1 else Arm(f"{arm.label}#{seen[arm.label]}", arm.scenario))
    return out


def arm_tasks(arms: list[Arm], replications: int, base_seed: int) -> tuple[list[dict], pd.DataFrame]:
    """Replication i of every arm gets the same seed: same graph, population and random streams (CRN)."""
    tasks, rows = [], []
    for rep, seed in enumerate(replication_seeds(base_seed, replications)):
        for index, arm in enumerate(arms):
            task = make_task(arm.scenario, seed)
            tasks.append(task)
            rows.append(
                {"arm": arm.label, "arm_index": index, "replication": rep, "seed": seed, "run_key": task["key"]}
            )
    return tasks, pd.DataFrame(rows)


def open_store(out: str | Path | None) -> Store:
    """The store of a study: a folder (resumable) or, for `out=None`, memory."""
    return MemoryStore() if out is None else ResultStore(out)


def run_study(
    kind: str,
    arms: list[Arm],
    replications: int,
    seed: int | None,
    executor: Executor | None,
    out: str | Path | None,
    progress: bool,
    warn: bool,
    breakdowns: bool = False,
) -> tuple[Store, Execution, list[str]]:
    """Run every replication of every arm that the store does not hold yet; seeds from `seed` or the first arm's.
    `breakdowns`: every run also keeps its outcomes per group (a stored run without them runs again)."""
    base_seed = arms[0].scenario.seed if seed is None else int(seed)
    tasks, table = arm_tasks(arms, replications, base_seed)
    for task in tasks if breakdowns else ():
        task[BREAKDOWNS] = True  # not in the key: the run's numbers are the same
    spec = {
        "replications": replications,
        "seed": base_seed,
        "arms": [{"label": a.label, "scenario": scenario_payload(a.scenario)} for a in arms],
    }
    store = open_store(out)
    notes = store.open(kind, spec, canonical_hash(spec), table, warn=warn)
    try:
        execution = execute(tasks, store, executor or InProcessExecutor(), progress=progress, desc=kind)
    except BaseException:
        store.close()
        raise
    return store, execution, notes


def write_tables(path: Path | None, tables: dict[str, pd.DataFrame], csv: tuple[str, ...]) -> None:
    """Write the tables next to a folder store as Parquet (and the `csv` ones as CSV too); nothing in memory."""
    if path is None:
        return
    for name, frame in tables.items():
        write_table(frame, path / name)
        if name in csv:
            write_table(frame, path / name, "csv")


# ------------------------------------------------------------------------------------------------ replications
def replicate(
    scenario: Scenario | str | Path,
    replications: int = 30,
    seed: int | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
    warn: bool = True,
) -> StudyResult:
    """Run `replications` seeds of one scenario and summarise them with 95% confidence intervals.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A Scenario, a scenario file or a bundled scenario's name.
    replications : int
        Runs; replication i uses ``replication_seed(seed, i)`` (docs/experiments.md).
    seed : int, optional
        The base seed (default: the scenario's).
    executor : Executor, optional
        Where runs execute (default: this process); see `make_executor`.
    out : str or Path, optional
        A store folder: finished runs are kept there and a second call runs only the missing ones. None keeps
        everything in memory.
    overrides : dict, optional
        Dotted overrides of the scenario, e.g. ``{"network.n": 2000}``.
    progress, warn : bool
        Show a progress bar; warn (StoreWarning) when the store holds runs of another spec.

    Returns
    -------
    StudyResult
        ``tables``: ``timeseries`` (mean and CI per metric per tick), ``outcomes`` (one row per replication) and
        ``summary`` (mean and CI per outcome of `RUN_OUTCOMES` and, with rivals, the market's outcomes:
        `wom_sim.catalogue.market_summary`).

    Examples
    --------
    >>> import wom_sim
    >>> result = wom_sim.replicate("baseline", replications=3, overrides={"network.n": 300, "ticks": 8})
    >>> summary = result.tables["summary"].set_index("metric")
    >>> int(summary.loc["customers", "n"]), bool(summary.loc["customers", "ci_low"] <= summary.loc["customers", "mean"])
    (3, True)
    """
    arm = as_arm(scenario, overrides)
    store, execution, notes = run_study("replications", [arm], replications, seed, executor, out, progress, warn)
    with store:  # the writer lock, taken by open, is held until the summary tables are written
        return StudyResult(store.path, execution, summarise_replications(store), notes, arm.scenario.tick_unit)


def summarise_replications(store: Store | str | Path, write: bool = True) -> dict[str, pd.DataFrame]:
    """timeseries (mean and CI per metric per tick), outcomes (one row per replication) and summary (CI per outcome)."""
    store = store if isinstance(store, ResultStore | MemoryStore) else ResultStore(store)
    tasks = store.tasks()
    runs = store.load(tasks["run_key"])
    names = [*RUN_OUTCOMES, *market_summary(runs)]
    outcomes = tasks[["replication", "seed", "run_key"]].join(run_outcomes(runs, names), on="run_key")
    tables = {
        "timeseries": timeseries_ci(add_derived(runs)),
        "outcomes": outcomes,
        "summary": mean_ci_table(outcomes[names]),
    }
    if write:
        write_tables(store.path, tables, ("summary", "outcomes"))
    return tables
