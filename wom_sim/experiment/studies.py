"""Replications of one scenario and paired comparisons of several, on any executor, into a resumable store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError
from wom_sim.experiment.executors import Execution, Executor, InProcessExecutor, execute
from wom_sim.experiment.runner import canonical_hash, make_task, replication_seeds, scenario_payload
from wom_sim.experiment.stats import (
    COMPARE_OUTCOMES,
    OUTCOMES,
    RUN_OUTCOMES,
    mean_ci,
    paired_difference,
    roi,
    run_outcomes,
    t_half_width,
    timeseries_ci,
)
from wom_sim.experiment.store import ResultStore
from wom_sim.output import write_table
from wom_sim.scenario.schema import Scenario

# Per-tick metrics whose paired uplift over time `compare` keeps (the figure and the report draw them).
UPLIFT_SERIES = ["adoption_share", "customers", "nps", "brand", "cum_profit", "pos_messages", "neg_messages"]


@dataclass
class Arm:
    """One scenario of a comparison: a label and the resolved scenario."""

    label: str
    scenario: Scenario


@dataclass
class StudyResult:
    """What a replications or compare study produced."""

    path: Path
    execution: Execution
    tables: dict[str, pd.DataFrame]
    notes: list[str]


def _arm_tasks(arms: list[Arm], replications: int, base_seed: int) -> tuple[list[dict], pd.DataFrame]:
    """Replication i of every arm gets the same seed: same graph, population and random streams (CRN)."""
    seeds = replication_seeds(base_seed, replications)
    tasks, rows = [], []
    for rep, seed in enumerate(seeds):
        for index, arm in enumerate(arms):
            task = make_task(arm.scenario, seed)
            tasks.append(task)
            rows.append(
                {"arm": arm.label, "arm_index": index, "replication": rep, "seed": seed, "run_key": task["key"]}
            )
    return tasks, pd.DataFrame(rows)


def _study(
    kind: str,
    arms: list[Arm],
    replications: int,
    out: str | Path,
    executor: Executor | None,
    progress: bool,
    seed: int | None,
    warn: bool,
) -> tuple[ResultStore, Execution, list[str]]:
    base_seed = arms[0].scenario.seed if seed is None else int(seed)
    tasks, table = _arm_tasks(arms, replications, base_seed)
    spec = {
        "replications": replications,
        "seed": base_seed,
        "arms": [{"label": a.label, "scenario": scenario_payload(a.scenario)} for a in arms],
    }
    store = ResultStore(out)
    notes = store.open(kind, spec, canonical_hash(spec), table, warn=warn)
    try:
        execution = execute(tasks, store, executor or InProcessExecutor(), progress=progress, desc=kind)
    except BaseException:
        store.close()
        raise
    return store, execution, notes


# ------------------------------------------------------------------------------------------------ replications
def run_replications(
    scenario: Scenario,
    replications: int,
    out: str | Path,
    executor: Executor | None = None,
    progress: bool = False,
    seed: int | None = None,
    warn: bool = True,
) -> StudyResult:
    """Run `replications` seeds of one scenario (seeds from `seed` or the scenario's) and summarise them."""
    store, execution, notes = _study(
        "replications", [Arm(scenario.name, scenario)], replications, out, executor, progress, seed, warn
    )
    with store:  # the writer lock, taken by open, is held until the summary tables are written
        return StudyResult(store.path, execution, summarise_replications(store.path), notes)


def summarise_replications(path: str | Path, write: bool = True) -> dict[str, pd.DataFrame]:
    """timeseries (mean and CI per metric per tick), outcomes (one row per replication) and summary (CI per outcome)."""
    store = ResultStore(path)
    tasks = store.tasks()
    runs = store.load(tasks["run_key"])
    outcomes = tasks[["replication", "seed", "run_key"]].join(run_outcomes(runs, RUN_OUTCOMES), on="run_key")
    tables = {
        "timeseries": timeseries_ci(runs),
        "outcomes": outcomes,
        "summary": mean_ci(outcomes[RUN_OUTCOMES]),
    }
    if write:
        _write(store.path, tables)
    return tables


# ------------------------------------------------------------------------------------------------ compare
def compare(
    arms: list[Arm],
    replications: int,
    out: str | Path,
    executor: Executor | None = None,
    progress: bool = False,
    seed: int | None = None,
    warn: bool = True,
) -> StudyResult:
    """Run the base (arms[0]) and every treatment with the same seeds and tabulate the paired uplifts."""
    if len(arms) < 2:
        raise ValueError("compare needs a base and at least one treatment")
    for arm in arms[1:]:
        if arm.scenario.ticks != arms[0].scenario.ticks:
            raise ScenarioError(
                f"compare: {arm.label} runs {arm.scenario.ticks} ticks, the base "
                f"{arms[0].scenario.ticks}; paired uplifts need the same horizon (use --ticks)"
            )
    store, execution, notes = _study("compare", arms, replications, out, executor, progress, seed, warn)
    with store:
        return StudyResult(store.path, execution, summarise_compare(store.path), notes)


def summarise_compare(path: str | Path, write: bool = True) -> dict[str, pd.DataFrame]:
    """uplift (paired and unpaired CIs per treatment and outcome, ROI), outcomes per run, and time series."""
    store = ResultStore(path)
    tasks = store.tasks()
    runs = store.load(tasks["run_key"])
    per_run = run_outcomes(runs, COMPARE_OUTCOMES)
    outcomes = tasks.join(per_run, on="run_key")
    labels = list(dict.fromkeys(tasks.sort_values("arm_index")["arm"]))
    wide = outcomes.pivot_table(index="replication", columns="arm", values=COMPARE_OUTCOMES, aggfunc="first")
    rows = []
    for label in labels[1:]:
        for name in COMPARE_OUTCOMES:
            both = wide[name][[labels[0], label]].dropna()
            rows.append(
                {
                    "treatment": label,
                    "outcome": name,
                    **paired_difference(both[labels[0]].to_numpy(), both[label].to_numpy()),
                }
            )
        both = wide[["profit", "intervention_cost"]].dropna()
        rows.append(
            {
                "treatment": label,
                "outcome": "roi",
                **roi(
                    both["profit"][labels[0]],
                    both["profit"][label],
                    both["intervention_cost"][labels[0]],
                    both["intervention_cost"][label],
                ),
            }
        )
    with_arm = runs.merge(tasks[["run_key", "arm"]].drop_duplicates("run_key"), on="run_key", how="left")
    tables = {
        "uplift": pd.DataFrame(rows),
        "outcomes": outcomes,
        "timeseries": _arm_timeseries(runs, tasks),
        "uplift_timeseries": _uplift_timeseries(with_arm, tasks, labels),
    }
    if write:
        _write(store.path, tables)
    return tables


def _arm_timeseries(runs: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """Mean and CI per tick per arm (a run shared by two identical arms counts in both)."""
    frames = []
    for label, group in tasks.groupby("arm", sort=False):
        part = runs[runs["run_key"].isin(group["run_key"])]
        frames.append(timeseries_ci(part).assign(arm=label))
    return pd.concat(frames, ignore_index=True)


def _uplift_timeseries(runs: pd.DataFrame, tasks: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Paired uplift per tick of the UPLIFT_SERIES metrics, per treatment."""
    rows = []
    keyed = {label: tasks[tasks["arm"] == label].set_index("replication")["run_key"] for label in labels}
    by_key = runs.drop_duplicates(["run_key", "t"]).set_index(["run_key", "t"])
    metrics = [m for m in UPLIFT_SERIES if m in by_key.columns]
    stored = set(runs["run_key"])
    for label in labels[1:]:
        reps = [
            r
            for r in keyed[labels[0]].index.intersection(keyed[label].index)
            if keyed[labels[0]][r] in stored and keyed[label][r] in stored
        ]
        if not reps:
            continue
        base = by_key.loc[list(keyed[labels[0]][reps]), metrics].to_numpy().reshape(len(reps), -1, len(metrics))
        treat = by_key.loc[list(keyed[label][reps]), metrics].to_numpy().reshape(len(reps), -1, len(metrics))
        ticks = by_key.loc[keyed[label][reps].iloc[0]].index.to_numpy()
        diff = treat - base
        mean, sd = diff.mean(0), diff.std(0, ddof=1) if len(reps) > 1 else np.full(diff.shape[1:], np.nan)
        half = t_half_width(sd, len(reps))
        for j, metric in enumerate(metrics):
            rows.append(
                pd.DataFrame(
                    {
                        "treatment": label,
                        "metric": metric,
                        "t": ticks,
                        "uplift": mean[:, j],
                        "ci_low": mean[:, j] - half[:, j],
                        "ci_high": mean[:, j] + half[:, j],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _write(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        write_table(frame, path / name)
        if name in ("summary", "uplift", "outcomes"):
            write_table(frame, path / name, "csv")


def outcome_labels() -> dict[str, str]:
    """Outcome name -> label (for tables)."""
    return {name: spec[2] for name, spec in OUTCOMES.items()} | {"roi": "ROI on extra spend (profit / spend)"}
