"""How a run is summarised: a per-tick metrics frame -> one number per outcome.

An outcome is named `stat:column`, a per-tick column with the statistic over ticks that summarises it:

- `last`, `mean`, `sum`, `min`, `max` (e.g. `mean:adoption_share`, the speed of adoption; `min:brand`);
- `at:T` for the value at tick T (`at:12:adoption_share`, the share adopted by tick 12);
- a bare column (`churn_rate`) takes its statistic from the metric catalogue (`wom_sim.catalogue`): the last value
  of stocks, the mean of rates, the sum of flows.

Columns are any per-tick metric, `cost_<intervention>`, and `cost` (cost of goods + intervention spend). Every
run summary in wom-sim (the CLI after `run`, compare, sweeps, the reports, the cookbook) comes from here.

Relative outcomes compare a run with the base run of the same seed (common random numbers), so they exist only
where there is a base (`compare`, a sweep's baseline):

- `payback` (`payback:cum_profit`): the first tick from which the run's cumulative column stays at or above the
  base's to the horizon (NaN: not paid back);
- `damage` (`damage:brand`, also `crisis_damage`): the deepest drop relative to the base, min over ticks of
  run / base - 1 (-0.12: at its worst the brand stood 12% below the base's);
- `incremental:column` (`incremental:profit`): the column's summary minus the base's;
- `roi`: incremental profit per unit of incremental programme spend (the `cost_<name>` of the interventions the
  run adds or changes against the base; 0 = break-even).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wom_sim.catalogue import (
    SUMMARIES,
    SUMMARY_WORDS,
    describe,
    format_delta,
    format_number,
    format_value,
    metric,
    summarise,
)
from wom_sim.errors import ScenarioError

RELATIVE = ("payback", "damage", "incremental")  # statistics of a run against the base run of its seed
STATS = (*SUMMARIES, "at:T", *RELATIVE)
# Bare relative names and the column each reads.
ALIASES = {"payback": "payback:cum_profit", "damage": "damage:brand", "crisis_damage": "damage:brand",
           "roi": "roi:profit"}  # fmt: skip


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
        if self.stat == "payback":
            # "profit (cumulative)" inside the parenthesis read "(profit (cumulative) back above ...)"
            what = describe(self.column, "last", unit).lower()
            what = f"cumulative {what.removesuffix(' (cumulative)')}" if what.endswith(" (cumulative)") else what
            return f"Payback {unit} ({what} back above the base's)"
        if self.stat == "damage":
            return f"Deepest {describe(self.column, 'last', unit).lower()} relative to the base"
        if self.stat == "incremental":
            text = describe(self.column, unit=unit).lower()
            # "revenue (total)" + "(vs the base)" read "(total) (vs the base)": one parenthesis says both
            return (
                f"Incremental {text[:-1]}, vs the base)" if text.endswith(")") else f"Incremental {text} (vs the base)"
            )
        if self.stat == "roi":
            return "Return on programme spend (incremental profit per unit, 0 = break-even)"
        return describe(self.column, self.stat, unit)

    @property
    def relative(self) -> bool:
        """Whether the outcome compares a run with the base run of its seed (payback, damage, incremental, roi)."""
        return self.stat in (*RELATIVE, "roi")

    @property
    def scale(self) -> str:
        """The catalogue's scale of the column: "percent" (differences are percentage points), "points", ...; a
        damage is a relative change ("relative"), a payback a tick ("tick"), an ROI a ratio ("ratio")."""
        special = {"damage": "relative", "payback": "tick", "roi": "ratio"}
        return special.get(self.stat) or metric(self.column).scale

    def of_pair(self, base: pd.DataFrame, run: pd.DataFrame, programmes: Iterable[str] = ()) -> float:
        """A relative outcome of one run against the base run of its seed (both per-tick frames, ordered by t).

        `programmes` names the interventions whose `cost_<name>` is the run's own programme spend (for `roi`).
        """
        base, run = add_derived(base), add_derived(run)
        if self.stat == "roi":
            spend = [f"cost_{name}" for name in programmes]
            gain = _column_sum(run, "profit") - _column_sum(base, "profit")
            cost = sum(_column_sum(run, c) - _column_sum(base, c) for c in spend)
            return gain / cost if cost > 1e-9 else math.nan
        if self.stat == "incremental":
            stat = metric(self.column).summary
            return summarise(_values(run, self.column), stat) - summarise(_values(base, self.column), stat)
        b, r = _values(base, self.column), _values(run, self.column)
        if self.stat == "damage":
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(b > 0, r / b - 1.0, np.nan)
            return float(np.nanmin(ratio)) if np.isfinite(ratio).any() else math.nan
        diff = r - b
        if not diff.size or not diff[-1] > 0:
            return math.nan
        below = np.flatnonzero(~(diff >= 0))
        ticks = run["t"].to_numpy(dtype=float)
        return float(ticks[below[-1] + 1]) if below.size else float(ticks[0])

    def of(self, metrics: pd.DataFrame) -> float:
        """The outcome of one run's per-tick metrics (a `cost_...` column the run lacks counts as 0)."""
        if self.relative:
            raise ScenarioError(f"outcome {self.name!r} compares a run with a base run: use it in compare or in a "
                                "sweep with a baseline")  # fmt: skip
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
    >>> outcome("crisis_damage")
    Outcome(name='crisis_damage', column='brand', stat='damage', tick=None)
    """
    text = ALIASES.get(name, name)
    if text.startswith("roi:"):
        return Outcome(name, "profit", "roi")
    stat, _, column = text.rpartition(":")
    tick = None
    if stat.startswith("at:") or stat == "at":
        text = stat[3:]
        if not text.isdigit():  # ticks count from 0: a negative T names no tick of any run
            raise ScenarioError(f"outcome {name!r}: at:T needs a whole tick T >= 0, e.g. at:12:{column}")
        stat, tick = "at", int(text)
    elif stat and stat not in (*SUMMARIES, *RELATIVE):
        raise ScenarioError(f"unknown statistic {stat!r} in {name!r} (allowed: {', '.join(STATS)})")
    entry = metric(column)  # raises for an unknown column, with the closest names
    return Outcome(name, column, stat or entry.summary, tick)


def check_horizon(name: str, ticks: int) -> None:
    """Refuse an `at:T` outcome past a horizon of `ticks` ticks (0 to ticks - 1): every run would give NaN for it.

    Raises
    ------
    ScenarioError
        Naming the outcome, the horizon and the ticks allowed.

    Examples
    --------
    >>> check_horizon("at:51:customers", 52)
    >>> check_horizon("at:52:customers", 52)
    Traceback (most recent call last):
    ...
    wom_sim.errors.ScenarioError: outcome 'at:52:customers': tick 52 is past the horizon of 52 ticks (allowed: 0-51)
    """
    parsed = outcome(name)
    if parsed.stat == "at" and parsed.tick is not None and parsed.tick >= ticks:
        raise ScenarioError(
            f"outcome {name!r}: tick {parsed.tick} is past the horizon of {ticks} ticks (allowed: 0-{ticks - 1})"
        )


def format_outcome(
    name: str, value: float | None, currency: str | None = None, unit: str = "tick", delta: bool = False
) -> str:
    """A value of outcome `name` as a user reads it; `delta`: a difference (an uplift or its CI bound), signed, with
    shares and rates in percentage points and NPS in points. Money is rounded with the currency (k, M).

    Examples
    --------
    >>> format_outcome("adoption_share", 0.0593, delta=True), format_outcome("profit", 298e3, "$")
    ('+5.9 pts', '$298k')
    >>> format_outcome("crisis_damage", -0.123), format_outcome("payback", 11.0, unit="week")
    ('-12.3%', 'week 11')
    """
    if value is None or value != value:
        return "n/a"
    o = outcome(name)
    if o.stat == "damage":
        return format_number("{:+.1%}", value)
    if o.stat == "payback":
        return f"{format_number('{:+.1f}', value)} {unit}s" if delta else f"{unit} {value:.0f}"
    if o.stat == "roi":
        return format_number("{:+.2f}", value)
    if delta or o.stat == "incremental":
        return format_delta(o.column, value, currency)
    return format_value(o.column, value, currency, compact=True)


def outcome_error(name: str) -> str | None:
    """Why `name` is not a valid outcome, or None (for validating a spec before anything runs)."""
    try:
        outcome(name)
    except ScenarioError as exc:
        return str(exc)
    return None


def short_label(name: str, unit: str = "tick", limit: int = 30) -> str:
    """A label for a table row: the full label when it has at most `limit` characters, else the catalogue's short
    one with the statistic ("Ever adopted", "Payback week", "Deepest brand vs the base").

    Examples
    --------
    >>> short_label("churn_rate", "week"), short_label("adoption_share"), short_label("payback", "week")
    ('Churn rate per week (mean)', 'Ever adopted', 'Payback week')
    """
    try:
        o = outcome(name)
    except ScenarioError:
        return name
    short = metric(o.column).short_label
    special = {"payback": f"Payback {unit}", "damage": f"Deepest {short} vs the base", "roi": "ROI on programme spend"}
    if o.stat in special:
        return special[o.stat]
    full = o.label(unit)
    if len(full) <= limit:
        return full
    if o.stat == "at":
        text = f"{short} at {unit} {o.tick}"
    elif o.stat == "incremental":
        text = f"extra {short}"
    else:
        word = SUMMARY_WORDS.get(o.stat, o.stat) if o.stat != metric(o.column).summary else ""
        text = f"{short} ({word})" if word else short
    return text[:1].upper() + text[1:]


def label(name: str, unit: str = "tick") -> str:
    """What a user reads for an outcome name (the name itself when it is not one)."""
    try:
        return outcome(name).label(unit)
    except ScenarioError:
        return name


def _values(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame)) if column.startswith("cost_") else np.full(len(frame), np.nan)
    return frame[column].to_numpy(dtype=float)


def _column_sum(frame: pd.DataFrame, column: str) -> float:
    return float(np.nansum(_values(frame, column)))


def split_outcomes(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The names of per-run outcomes and of relative ones (which need the base run of the same seed)."""
    names = list(dict.fromkeys(names))
    relative = [n for n in names if outcome(n).relative]
    return [n for n in names if n not in relative], relative


def paired_outcomes(
    runs: pd.DataFrame, pairs: pd.DataFrame, names: Iterable[str], programmes: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """Relative outcomes of runs against their base runs: one row per row of `pairs` (columns run_key and
    base_key, optionally group: the key of `programmes`, the interventions each run's ROI divides by).

    Examples
    --------
    >>> frame = pd.DataFrame({"run_key": ["b"] * 3 + ["r"] * 3, "t": [1, 2, 3] * 2,
    ...                       "brand": [0.5, 0.5, 0.5, 0.5, 0.4, 0.55], "cum_profit": [0, 10, 20, -5, 5, 30]})
    >>> out = paired_outcomes(frame, pd.DataFrame({"run_key": ["r"], "base_key": ["b"]}), ["damage", "payback"])
    >>> round(float(out["damage"].iloc[0]), 3), float(out["payback"].iloc[0])
    (-0.2, 3.0)
    """
    parsed = [outcome(n) for n in dict.fromkeys(names)]
    by_key = {k: g.sort_values("t") for k, g in runs.groupby("run_key", sort=False)}
    rows = []
    for _, pair in pairs.iterrows():
        base, run = by_key.get(pair["base_key"]), by_key.get(pair["run_key"])
        names_of = (programmes or {}).get(pair.get("group"), [])
        rows.append(
            {
                o.name: (o.of_pair(base, run, names_of) if base is not None and run is not None else math.nan)
                for o in parsed
            }  # fmt: skip
        )
    return pd.DataFrame(rows, index=pairs.index, columns=[o.name for o in parsed], dtype=float)


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
