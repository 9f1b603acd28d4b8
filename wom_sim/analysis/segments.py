"""Outcomes broken down by a per-person attribute: segment, acquisition channel, KOL or not, brand used now.

Computed from a run's per-person table (`WomModel.people()`), so it needs no extra state: `wom-sim run --by
segment` prints it and writes it beside the other tables. `wom-sim compare --by segment` has each worker compute
the breakdowns of its run (`run_breakdowns`, a few groups x metrics) and pairs them by seed across the arms
(`group_differences`, with the comparison's paired CIs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wom_sim.analysis.statistics import paired_difference
from wom_sim.catalogue import CATALOGUE, format_value
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


# The catalogue metric each breakdown column reads as (its label, format and scale; wom_sim.catalogue); `people`
# is a plain head count. What a group with nobody in one run has: counts 0, shares and means undefined (NaN: that
# replication is left out of the group's paired difference). NPS is undefined too without customers: `breakdown`
# shows 0, but a difference against that 0 would measure no one, so a comparison leaves such a replication out.
GROUP_METRICS = {"people": None, "customers": "customers", "ever_adopted": "adoption_share", "churned": "churned",
                 "purchases": "purchases", "revenue": "revenue", "mean_satisfaction": "mean_S",
                 "nps": "nps"}  # fmt: skip
# Where the catalogue's label does not fit a group (its shares are of the population): what a sheet says instead.
GROUP_LABELS = {"people": "People in the group", "ever_adopted": "Ever adopted (share of the group)"}
EMPTY_GROUP = {"people": 0, "customers": 0, "ever_adopted": np.nan, "churned": 0, "purchases": 0, "revenue": 0.0,
               "mean_satisfaction": np.nan, "nps": np.nan}  # fmt: skip


def breakdown_display(table: pd.DataFrame, by: str, currency: str | None = None) -> pd.DataFrame:
    """A `breakdown` as `wom-sim run --by` prints it: each column headed by its catalogue short label and worded as
    that metric is (shares in %, money with thousands separators and the currency, NPS in points), "n/a" where a
    group has no customers (no satisfaction, and an NPS of nobody rather than `breakdown`'s 0)."""
    shown = pd.DataFrame({by: table[by].astype(str)})
    nobody = table["customers"] == 0
    for name, column in GROUP_METRICS.items():
        header = CATALOGUE[column].short_label if column in CATALOGUE else name
        values = table[name].where(~nobody) if name in ("mean_satisfaction", "nps") else table[name]
        shown[header] = [
            "n/a" if v != v else (f"{v:,.0f}" if column is None else format_value(column, v, currency)) for v in values
        ]
    return shown


def check_by(by: str, competitors: bool = True) -> None:
    """Refuse (ScenarioError, one line) a column outcomes cannot be broken down by; `competitors`: whether the
    scenario names rivals (`brand` needs them)."""
    if by not in BY or (by == "brand" and not competitors):
        have = ", ".join(c for c in BY if competitors or c != "brand")
        raise ScenarioError(f"--by: cannot break down by {by!r} (allowed here: {have}; brand needs competitors)")


def run_breakdowns(people: pd.DataFrame) -> dict[str, dict[str, list]]:
    """`breakdown` by every column of `BY` the table has, as plain lists (JSON-able: a worker sends them back
    with its run and the store keeps them beside the run's metrics)."""
    out = {}
    for by in (c for c in BY if c in people.columns):
        table = breakdown(people, by)
        table[by] = table[by].astype(str)  # one type for every column's groups (is_kol: "True"/"False")
        out[by] = table.to_dict("list")
    return out


NPS_SCALE = 100.0  # NPS runs from -100 to +100: its changes are sized on that scale, as it crosses 0 freely


def change_size(table: pd.DataFrame) -> pd.Series:
    """How big each row's change is, unit-free, to sort by: |uplift| / the larger of |base_mean| and
    |treatment_mean| (0 to 1 for counts and shares; a group that starts at 0 gets 1, not an undefined
    percentage), NPS on its 100-point scale; 0 where nothing changed."""
    larger = np.maximum(table["base_mean"].abs(), table["treatment_mean"].abs())
    scale = larger.where(table["metric"] != "nps", NPS_SCALE)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (table["uplift"].abs() / scale).where(scale > 0, 0.0).fillna(0.0)


def group_differences(per_run: pd.DataFrame, base: str, treatments: list[str], by: str) -> pd.DataFrame:
    """The paired difference of each treatment against the base, per group and breakdown metric.

    Parameters
    ----------
    per_run : DataFrame
        One row per run and group: ``arm``, ``replication``, ``group`` and the `GROUP_METRICS` columns (what
        `breakdown` gives per run). Replication i of every arm shares its seed (common random numbers).
    base, treatments : str, list of str
        Arm labels.
    by : str
        The column the groups are values of (kept as the ``by`` column).

    Returns
    -------
    DataFrame
        One row per treatment, group and metric: by, treatment, group, metric, then what
        `wom_sim.analysis.statistics.paired_difference` gives (base_mean, treatment_mean, uplift, uplift_pct,
        paired ci_low/ci_high, unpaired CI, width_ratio, n). A group missing from a run counts as `EMPTY_GROUP`.
        Sorted per treatment so the biggest changes (`change_size`) come first; a group's rows stay together,
        groups ordered by their biggest change.
    """
    metrics = list(GROUP_METRICS)
    groups = sorted(per_run["group"].astype(str).unique())
    reps = sorted(per_run["replication"].unique())
    full = pd.MultiIndex.from_product([reps, groups], names=["replication", "group"])
    wide = {
        arm: part.assign(group=part["group"].astype(str)).set_index(["replication", "group"])[metrics]
        .reindex(full).fillna(value={m: v for m, v in EMPTY_GROUP.items() if v == v})
        for arm, part in per_run.groupby("arm", sort=False)
    }  # fmt: skip
    for frame in wide.values():
        frame.loc[frame["customers"] == 0, "nps"] = np.nan  # no customers: no NPS (see EMPTY_GROUP)
    rows = []
    for label in treatments:
        for group in groups:
            for name in metrics:
                both = pd.DataFrame({
                    "base": wide[base].xs(group, level="group")[name],
                    "treat": wide[label].xs(group, level="group")[name],
                }).dropna()  # fmt: skip
                change = paired_difference(both["base"].to_numpy(), both["treat"].to_numpy())
                rows.append({"by": by, "treatment": label, "group": group, "metric": name, **change})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["_size"] = change_size(table)
    table["_group_size"] = table.groupby(["treatment", "group"])["_size"].transform("max")
    table["_arm"] = table["treatment"].map({t: i for i, t in enumerate(treatments)})
    table = table.sort_values(["_arm", "_group_size", "group", "_size"], ascending=[True, False, True, False])
    return table.drop(columns=["_size", "_group_size", "_arm"]).reset_index(drop=True)
