"""Economics: per-tick and cumulative money, a customer-lifetime-value estimate, and paired ROI of a scenario.

Per tick the metrics already carry revenue (spend x price), cost of goods (spend x (1 - margin)), each
intervention's cost (`cost_<name>`, booked by the intervention) and profit = revenue - cost of goods - all
intervention costs. This module adds the cumulative columns the metrics need (`tick_economics`), the ledger of a
finished run (`ledger`), and `paired_roi`: a treatment scenario against its base with the same seeds, so both arms
share graph, population and random streams (common random numbers) and the difference is the treatment's effect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from wom_sim.catalogue import ECONOMICS_COLUMNS  # noqa: F401 - part of this module's API (tick_economics adds them)

if TYPE_CHECKING:
    from wom_sim.scenario.schema import Scenario
    from wom_sim.sim.dynamics import TickState


def tick_economics(st: TickState, row: dict, previous: dict | None) -> dict:
    """The economics columns of one tick, from this tick's state and row and the previous row.

    `margin_per_purchase` is the mean gross margin (revenue - cost of goods) per purchase so far. `clv` is the
    customer lifetime value estimate, undiscounted, in currency per customer:

        clv = margin_per_purchase x repurchase rate x expected lifetime
            = margin_per_purchase x (repurchases / customer-ticks) x (customer-ticks / churn events)
            = margin_per_purchase x cum_repurchases / cum_churn_events,

    with the repurchase and churn rates per tick over the run so far (expected lifetime = 1 / churn rate ticks).
    NaN until the first churn (the lifetime is then unknown).
    """
    prev = previous or {}
    purchases = int(np.count_nonzero(st.adopted)) + int(np.count_nonzero(st.repurchased))
    purchases += int(np.count_nonzero(st.won_back))
    cum_purchases = prev.get("cum_purchases", 0) + purchases
    cum_cogs = prev.get("cum_cost_of_goods", 0.0) + st.cost_of_goods
    cum_repurchases = prev.get("cum_repurchases", 0) + row["repurchases"]
    cum_churn = prev.get("cum_churn_events", 0) + row["churn_events"]
    margin = (row["cum_revenue"] - cum_cogs) / cum_purchases if cum_purchases else float("nan")
    clv = margin * cum_repurchases / cum_churn if cum_churn else float("nan")
    return {
        "purchases": purchases,
        "cum_purchases": cum_purchases,
        "cum_cost_of_goods": cum_cogs,
        "cum_repurchases": cum_repurchases,
        "cum_churn_events": cum_churn,
        "margin_per_purchase": margin,
        "clv": clv,
    }


def cost_columns(metrics: pd.DataFrame) -> list[str]:
    """The `cost_<name>` columns of a metrics table, in order."""
    return [c for c in metrics.columns if c.startswith("cost_") and c != "cost_of_goods"]


def ledger(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per tick and cumulative: revenue, cost of goods, each intervention's cost, profit."""
    flows = ["revenue", "cost_of_goods", *cost_columns(metrics), "profit"]
    out = metrics[["t", *flows]].copy()
    for col in flows:
        out[f"cum_{col}"] = out[col].cumsum()
    return out


# --------------------------------------------------------------------------------------------- paired ROI
# What a paired comparison reports, besides money: (column, how a run is summarised).
OUTCOMES: dict[str, tuple[str, str]] = {
    "cum_profit": ("cum_profit", "last"),
    "cum_intervention_cost": ("cum_intervention_cost", "last"),
    "cum_revenue": ("cum_revenue", "last"),
    "adoption_share": ("adoption_share", "last"),
    "adoption_mean": ("adoption_share", "mean"),  # mean over ticks: higher = faster adoption
    "customers": ("customers", "last"),
    "churn_rate": ("churn_rate", "mean"),
    "repurchase_rate": ("repurchase_rate", "mean"),
    "nps": ("nps", "last"),
    "pos_messages": ("pos_messages", "sum"),
    "neg_messages": ("neg_messages", "sum"),
    "wom_acquired_share": ("wom_acquired_share", "last"),
    "brand": ("brand", "last"),
    "brand_min": ("brand", "min"),
    "mean_T": ("mean_T", "last"),
    "margin_per_purchase": ("margin_per_purchase", "last"),
    "clv": ("clv", "last"),
}


def summarise_run(metrics: pd.DataFrame, outcomes: Iterable[str] = OUTCOMES) -> dict[str, float]:
    """One number per outcome for one run (see OUTCOMES for how each is summarised)."""
    out = {}
    for name in outcomes:
        col, how = OUTCOMES[name]
        series = metrics[col]
        out[name] = float(series.iloc[-1] if how == "last" else getattr(series, how)())
    return out


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a t-interval (NaN bounds with fewer than 2 finite values)."""
    from scipy import stats  # imported here: the metrics import this module on every run

    x = np.asarray([v for v in values if v == v], dtype=float)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


@dataclass
class PairedROI:
    """What `paired_roi` returns.

    per_seed: one row per seed: `base_<outcome>`, `treat_<outcome>`, `delta_<outcome>` for every outcome, and
        `incremental_profit`, `incremental_cost`, `roi`.
    summary: one row per quantity (deltas, incremental profit and cost, roi): mean, ci_low, ci_high (95%).
    roi_of_means: mean incremental profit / mean incremental cost (steadier than the mean of per-seed ROIs).
    """

    per_seed: pd.DataFrame
    summary: pd.DataFrame
    roi_of_means: float

    def __getitem__(self, key: str) -> float:
        """The mean of a summary row, e.g. result["roi"] or result["delta_churn_rate"]."""
        return float(self.summary.loc[key, "mean"])


def _load(scenario: Scenario | str | Path) -> Scenario:
    from wom_sim.sim.model import resolve_scenario

    return resolve_scenario(scenario)


def paired_roi(
    base_scenario: Scenario | str | Path,
    treatment_scenario: Scenario | str | Path,
    seeds: Iterable[int],
    outcomes: Iterable[str] = OUTCOMES,
    level: float = 0.95,
) -> PairedROI:
    """Run base and treatment with the same seeds and return incremental profit, cost and ROI.

    Parameters
    ----------
    base_scenario, treatment_scenario : Scenario objects or scenario file paths.
    seeds : one paired run per seed. The same seed gives both arms the same graph, population and random streams
        (common random numbers), so per-seed differences are the treatment's effect plus little noise.
    outcomes : names from `OUTCOMES` to compare besides money.
    level : confidence level of the intervals (t-interval over seeds).

    Returns
    -------
    PairedROI with, per seed and as mean with CI: incremental profit = treatment cum_profit - base cum_profit
    (already net of intervention costs), incremental cost = difference in cumulative intervention cost, and
    ROI = incremental profit / incremental cost (0 = break-even; NaN when the incremental cost is 0).

    Examples
    --------
    >>> r = paired_roi("scenarios/baseline.yaml", "scenarios/referral_program.yaml", seeds=[1, 2, 3])
    >>> r["roi"], r.summary.loc["delta_adoption_share"]
    """
    from wom_sim.sim.model import simulate

    base, treat = _load(base_scenario), _load(treatment_scenario)
    outcomes = list(outcomes)
    same_graph = base.network == treat.network
    same_kols = same_graph and base.kols.select == treat.kols.select
    rows = []
    for seed in seeds:
        b = simulate(base, seed=int(seed))
        graph = b.model.graph if same_graph else None
        kols = b.model.kol_ids if same_kols else None
        tr = simulate(treat, graph=graph, kol_ids=kols, seed=int(seed))
        sb, st = summarise_run(b.metrics, outcomes), summarise_run(tr.metrics, outcomes)
        row: dict[str, Any] = {"seed": int(seed)}
        for name in outcomes:
            row[f"base_{name}"], row[f"treat_{name}"] = sb[name], st[name]
            row[f"delta_{name}"] = st[name] - sb[name]
        profit = float(tr.metrics["cum_profit"].iloc[-1] - b.metrics["cum_profit"].iloc[-1])
        cost = float(tr.metrics["cum_intervention_cost"].iloc[-1] - b.metrics["cum_intervention_cost"].iloc[-1])
        row["incremental_profit"], row["incremental_cost"] = profit, cost
        row["roi"] = profit / cost if cost else float("nan")
        rows.append(row)
    per_seed = pd.DataFrame(rows)
    keys = [f"delta_{n}" for n in outcomes] + ["incremental_profit", "incremental_cost", "roi"]
    summary = pd.DataFrame(
        [mean_ci(per_seed[k], level) for k in keys], index=keys, columns=["mean", "ci_low", "ci_high"]
    )
    cost_mean = per_seed["incremental_cost"].mean()
    roi_of_means = float(per_seed["incremental_profit"].mean() / cost_mean) if cost_mean else float("nan")
    return PairedROI(per_seed, summary, roi_of_means)
