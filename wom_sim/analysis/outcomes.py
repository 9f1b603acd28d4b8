"""How a run is summarised: a per-tick metrics frame -> one number per outcome.

An outcome is named `stat:column`, a per-tick column with the statistic over ticks that summarises it:

- `last`, `mean`, `sum`, `min`, `max` (e.g. `mean:adoption_share`, the speed of adoption; `min:brand`);
- `at:T` for the value at tick T (`at:12:adoption_share`, the share adopted by tick 12);
- a bare column (`churn_rate`) takes its statistic from the metric catalogue (`wom_sim.catalogue`): the last value
  of stocks, the mean of rates, the sum of flows.

Columns are any per-tick metric, `cost_<intervention>`, and `cost` (cost of goods + intervention spend). Every
run summary in wom-sim (the CLI after `run`, compare, sweeps, the reports, the cookbook) comes from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from wom_sim.catalogue import SUMMARIES, describe, metric, summarise
from wom_sim.errors import ScenarioError

STATS = (*SUMMARIES, "at:T")


@dataclass(frozen=True)
class Outcome:
    """One summary of a run: `stat` over ticks of `column` (`tick` for stat "at")."""

    name: str
    column: str
    stat: str
    tick: int | None = None

    def label(self, unit: str = "tick") -> str:
        """What a user reads, e.g. "Churn rate per week (mean)" or "Ever adopted (share of population) at week 12"."""
        if self.stat == "at":
            return f"{describe(self.column, 'last', unit)} at {unit} {self.tick}"
        return describe(self.column, self.stat, unit)

    @property
    def scale(self) -> str:
        """The catalogue's scale of the column: "percent" (differences are percentage points), "points", ..."""
        return metric(self.column).scale

    def of(self, metrics: pd.DataFrame) -> float:
        """The outcome of one run's per-tick metrics (a `cost_...` column the run lacks counts as 0)."""
        if self.column not in metrics.columns:
            if self.column.startswith("cost_"):
                return 0.0
            metrics = add_derived(metrics)
        series = metrics[self.column]
        if self.stat == "at":
            rows = series[metrics["t"].to_numpy() == self.tick]
            return float(rows.iloc[0]) if len(rows) else float("nan")
        return summarise(series.to_numpy(dtype=float), self.stat)


def outcome(name: str) -> Outcome:
    """Parse an outcome name (see the module docstring).

    Raises
    ------
    ScenarioError
        For an unknown statistic or column, naming what is allowed.

    Examples
    --------
    >>> outcome("churn_rate")
    Outcome(name='churn_rate', column='churn_rate', stat='mean', tick=None)
    >>> outcome("at:12:adoption_share").tick
    12
    """
    stat, _, column = name.rpartition(":")
    tick = None
    if stat.startswith("at:") or stat == "at":
        text = stat[3:]
        if not text.lstrip("-").isdigit():
            raise ScenarioError(f"outcome {name!r}: at:T needs an integer tick T, e.g. at:12:{column}")
        stat, tick = "at", int(text)
    elif stat and stat not in SUMMARIES:
        raise ScenarioError(f"unknown statistic {stat!r} in {name!r} (allowed: {', '.join(STATS)})")
    entry = metric(column)  # raises for an unknown column, with the closest names
    return Outcome(name, column, stat or entry.summary, tick)


def outcome_error(name: str) -> str | None:
    """Why `name` is not a valid outcome, or None (for validating a spec before anything runs)."""
    try:
        outcome(name)
    except ScenarioError as exc:
        return str(exc)
    return None


def label(name: str, unit: str = "tick") -> str:
    """What a user reads for an outcome name (the name itself when it is not one)."""
    try:
        return outcome(name).label(unit)
    except ScenarioError:
        return name


def add_derived(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per-tick columns computed from stored ones: `cost` = cost of goods + intervention spend.

    `cost_<intervention>` columns, absent (NaN) in the ticks of a stacked frame whose run had no such
    intervention, count as 0.
    """
    costs = [c for c in metrics.columns if c.startswith("cost_")]
    metrics = metrics.assign(**{c: metrics[c].fillna(0.0) for c in costs})
    if "cost" not in metrics.columns and {"cost_of_goods", "intervention_cost"} <= set(metrics.columns):
        metrics = metrics.assign(cost=metrics["cost_of_goods"] + metrics["intervention_cost"])
    return metrics


def summarise_run(metrics: pd.DataFrame, names: Iterable[str]) -> dict[str, float]:
    """One number per outcome for one run's per-tick metrics.

    Examples
    --------
    >>> frame = pd.DataFrame({"t": [0, 1, 2], "nps": [5.0, 6.0, 7.0], "churn_rate": [0.25, 0.5, 0.75]})
    >>> summarise_run(frame, ["nps", "churn_rate", "max:nps", "at:1:nps"])
    {'nps': 7.0, 'churn_rate': 0.5, 'max:nps': 7.0, 'at:1:nps': 6.0}
    """
    parsed = [outcome(name) for name in names]
    frame = add_derived(metrics.sort_values("t")) if "t" in metrics.columns else add_derived(metrics)
    return {o.name: o.of(frame) for o in parsed}


def run_outcomes(frame: pd.DataFrame, names: Iterable[str], by: str = "run_key") -> pd.DataFrame:
    """`summarise_run` of every run in a stacked frame: one row per run (index `by`), one column per outcome."""
    names = list(dict.fromkeys(names))
    parsed = [outcome(name) for name in names]
    if frame.empty:
        return pd.DataFrame(columns=names, index=pd.Index([], name=by), dtype=float)
    frame = add_derived(frame).sort_values([by, "t"], kind="stable")
    rows = {key: {o.name: o.of(run) for o in parsed} for key, run in frame.groupby(by, sort=False)}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=names)
    out.index.name = by
    return out.astype(float)
