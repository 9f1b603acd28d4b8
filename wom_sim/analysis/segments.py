"""Outcomes broken down by a per-person attribute: segment, acquisition channel, KOL or not, brand used now.

Computed from a run's per-person table (`WomModel.people()`), so it needs no extra state: `wom-sim run --by
segment` prints it and writes it beside the other tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError

BY = ("segment", "acquired_by", "is_kol", "brand")  # the people-table columns a run can be broken down by


def breakdown(people: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """One row per value of `by`: people, our active customers, share who ever adopted ours, churned, purchases
    and revenue of ours, mean satisfaction and NPS (both over our active customers).

    NPS is 100 x (promoters - detractors) / customers on the recommend score (9-10 promoters, 0-6 detractors), as
    the metrics table computes it; 0 for a group with no customers, satisfaction NaN.

    Raises
    ------
    ScenarioError
        When `by` is not a column the table has (`brand` needs competitors).

    Examples
    --------
    >>> import wom_sim
    >>> people = wom_sim.simulate(None, overrides={"network.n": 300, "ticks": 5}, seed=1).people
    >>> list(breakdown(people).columns[:3])
    ['segment', 'people', 'customers']
    """
    if by not in BY or by not in people.columns:
        have = ", ".join(c for c in BY if c in people.columns)
        raise ScenarioError(f"--by: cannot break down by {by!r} (allowed here: {have}; brand needs competitors)")
    customer = (people["status"] == "customer").to_numpy()
    score = people["recommend_score"].to_numpy()
    frame = pd.DataFrame({
        by: people[by].to_numpy(), "people": 1, "customers": customer,
        "ever_adopted": people["status"].isin(["customer", "churned"]).to_numpy(),
        "churned": (people["status"] == "churned").to_numpy(), "purchases": people["purchases"].to_numpy(),
        "revenue": people["revenue"].to_numpy(),
        "satisfaction": np.where(customer, people["satisfaction"].to_numpy(), np.nan),
        "promoter": customer & (score >= 9), "detractor": customer & (score <= 6),
    })  # fmt: skip
    grouped = frame.groupby(by, observed=True, sort=True)
    out = grouped.agg(
        people=("people", "sum"), customers=("customers", "sum"), ever_adopted=("ever_adopted", "mean"),
        churned=("churned", "sum"), purchases=("purchases", "sum"), revenue=("revenue", "sum"),
        mean_satisfaction=("satisfaction", "mean"), promoters=("promoter", "sum"), detractors=("detractor", "sum"),
    )  # fmt: skip
    cust = out["customers"].where(out["customers"] > 0)
    out["nps"] = (100.0 * (out["promoters"] - out["detractors"]) / cust).fillna(0.0)
    return out.drop(columns=["promoters", "detractors"]).reset_index()
