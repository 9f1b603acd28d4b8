"""Economics: per-tick and cumulative money and a customer-lifetime-value estimate.

Per tick the metrics already carry revenue (spend x price), cost of goods (spend x (1 - margin)), each
intervention's cost (`cost_<name>`, booked by the intervention) and profit = revenue - cost of goods - all
intervention costs. This module adds the cumulative columns the metrics need (`tick_economics`) and the ledger of
a finished run (`ledger`). The return on a lever's spend compares two scenarios over replications:
`wom_sim.compare` (experiment layer) with the ROI estimator of `wom_sim.analysis.statistics.roi`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from wom_sim.catalogue import ECONOMICS_COLUMNS  # noqa: F401 - part of this module's API (tick_economics adds them)

if TYPE_CHECKING:
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
    # Adoptions, repurchases and win-backs of this tick, as the row has already counted them.
    purchases = row["new_customers"] + row["repurchases"] + row["winbacks"]
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
