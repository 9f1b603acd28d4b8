"""Per-tick metrics (one tidy row per tick) and the final per-person table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from wom_sim.catalogue import METRIC_COLUMNS  # noqa: F401 - the column order; its users import it from here
from wom_sim.network.graph import Graph
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.dynamics import TickState
from wom_sim.sim.economics import tick_economics
from wom_sim.sim.levers import Levers
from wom_sim.sim.population import (
    ACQUIRED_BY_GROUPS,
    AWARE,
    CHANNELS,
    CHURNED,
    CUSTOMER,
    STATUS_NAMES,
    UNAWARE,
    WOM,
    Population,
    acquired_by_groups,
)


def recommend_score(pop: Population, sc: Scenario, idx: np.ndarray | slice | None = None) -> np.ndarray:
    """R = round(10 * (wS S + wT T + wL L)) on 0-10 (NPS question, halves round up), for everyone or for idx."""
    w = sc.nps
    S, T, L = (pop.S, pop.T, pop.L) if idx is None else (pop.S[idx], pop.T[idx], pop.L[idx])
    return np.floor(10.0 * (w.satisfaction * S + w.trust * T + w.loyalty * L) + 0.5)


def _mean(x: np.ndarray) -> float:
    # np.add.reduce / size is what ndarray.mean computes for a 1-d float array (same pairwise sum, one division),
    # without its Python-level wrapper: a tick takes six means, and at small N the wrapper costs more than the sum.
    return float(np.add.reduce(x) / x.size) if x.size else float("nan")


QUANTILE_BINS = 4096  # quantiles of [0, 1] states are read off a histogram: error < 1/4096, cost O(N)


def _quantiles(x: np.ndarray) -> list[float]:
    """10th, 50th, 90th percentile of values in [0, 1] (inverted CDF on a 4096-bin histogram).

    The bin of a percentile is the first whose cumulative count reaches q x size, an integer count, so it reaches
    m = ceil(q x size): the bin of the m-th smallest value. Binning is monotone, so that is the m-th smallest value
    binned: one sort of the values instead of a 4096-bin histogram and its cumulative sum (the same bins, at a third
    of the cost at 5,000 people).
    """
    if not x.size:
        return [float("nan")] * 3
    ordered = np.sort(x)
    ranks = [math.ceil(q * x.size) - 1 for q in (0.1, 0.5, 0.9)]
    bins = [min(int(ordered[r] * QUANTILE_BINS), QUANTILE_BINS - 1) for r in ranks]
    return [float((b + 0.5) / QUANTILE_BINS) for b in bins]


def tick_metrics(
    pop: Population, st: TickState, sc: Scenario, brand: float, lev: Levers, previous: dict | None
) -> dict:
    """One row of metrics at the end of a tick (definitions in docs/model.md, section 10)."""
    n = pop.n
    # People per status code: four counts of a comparison, not one bincount, which first widens the int8 codes
    # to a full-length int64 copy (1.6 ms against 0.2 at 1M people, 9 us against 6 at 5,000).
    status = pop.status
    counts = [int(np.count_nonzero(status == code)) for code in range(4)]
    n_churned, n_repurchased = int(np.count_nonzero(st.churned)), int(np.count_nonzero(st.repurchased))
    n_adopted, n_won_back = int(np.count_nonzero(st.adopted)), int(np.count_nonzero(st.won_back))
    customers = (pop.status == CUSTOMER).nonzero()[0]
    new_by = np.bincount(pop.acquired_by[st.adopted].view(np.uint8), minlength=len(CHANNELS))
    costs = dict(lev.costs or {})
    intervention_cost = float(sum(costs.values()))
    profit = st.revenue - st.cost_of_goods - intervention_cost
    prev = previous or {}

    # The customers' states are gathered once: the score is recommend_score's formula on the same values.
    S_c, T_c, L_c = pop.S[customers], pop.T[customers], pop.L[customers]
    w = sc.nps
    score = np.floor(10.0 * (w.satisfaction * S_c + w.trust * T_c + w.loyalty * L_c) + 0.5)
    n_cust = max(customers.size, 1)
    n_promoters, n_detractors = int(np.count_nonzero(score >= 9)), int(np.count_nonzero(score <= 6))
    promoters, detractors = n_promoters / n_cust, n_detractors / n_cust
    passives = (score.size - n_promoters - n_detractors) / n_cust
    n_ever = counts[CUSTOMER] + counts[CHURNED]  # status >= CUSTOMER: everyone who ever adopted
    # Acquired by wom, kol or referral, among the ever-adopted (acquired_by of a never-adopter is not counted).
    by_wom = (pop.status >= CUSTOMER) & (pop.acquired_by >= WOM)
    pos, neg = st.positive, st.negative

    row = {
        "t": st.t,
        "unaware": int(counts[UNAWARE]),
        "aware": int(counts[AWARE]),
        "customers": int(counts[CUSTOMER]),
        "churned": int(counts[CHURNED]),
        "new_customers": n_adopted,
        **{f"new_{name}": int(new_by[code]) for code, name in enumerate(CHANNELS)},
        "adoption_share": n_ever / n,
        "churn_events": n_churned,
        "churn_rate": n_churned / st.customers_exposed if st.customers_exposed else 0.0,
        "winbacks": n_won_back,
        "repurchases": n_repurchased,
        "repurchase_rate": n_repurchased / st.customers_start if st.customers_start else 0.0,
        "revenue": st.revenue,
        "cost_of_goods": st.cost_of_goods,
        "intervention_cost": intervention_cost,
        "profit": profit,
        "cum_revenue": prev.get("cum_revenue", 0.0) + st.revenue,
        "cum_intervention_cost": prev.get("cum_intervention_cost", 0.0) + intervention_cost,
        "cum_profit": prev.get("cum_profit", 0.0) + profit,
        "mean_E": _mean(pop.E[customers]),
        "mean_S": _mean(S_c),
        "mean_T": _mean(T_c),
        "mean_A": _mean(pop.A[customers]),
        "mean_L": _mean(L_c),
        "mean_S_new": _mean(pop.S[st.adopted]),  # satisfaction of this tick's new customers after their purchase
        **dict(zip(("S_p10", "S_p50", "S_p90"), _quantiles(S_c), strict=True)),
        **dict(zip(("L_p10", "L_p50", "L_p90"), _quantiles(L_c), strict=True)),
        "nps": 100.0 * (promoters - detractors),
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "pos_messages": int(pos.dst.size),
        "neg_messages": int(neg.dst.size),
        "pos_speakers": pos.speakers,
        "neg_speakers": neg.speakers,
        "pos_reach": st.pos_reach,
        "neg_reach": st.neg_reach,
        "kol_share": st.kol_positive_messages / pos.dst.size if pos.dst.size else 0.0,
        "brand": brand,
        "awareness": 1.0 - counts[UNAWARE] / n,
        "wom_acquired_share": int(np.count_nonzero(by_wom)) / max(n_ever, 1),
        "failures": st.failures,
        "recoveries": st.recoveries,
        "at_risk": st.at_risk,
    }
    row.update(tick_economics(st, row, previous))
    for name, amount in costs.items():
        row[f"cost_{name}"] = amount
    return row


def people_table(
    pop: Population,
    graph: Graph,
    sc: Scenario,
    rows: np.ndarray | None = None,
    targeted: dict[str, np.ndarray] | None = None,
    copy: bool = True,
) -> pd.DataFrame:
    """The final per-person table: states, traits, counters and degree, for segment analysis (`rows`: only those).

    `targeted` (entry name -> count per person, `InterventionContext.count_targets`) adds one column
    `targeted_<name>` per intervention or event: in how many ticks its effect requests named the person.
    `copy=False` (everyone only): the columns are views of the state, not copies, so the table is valid only
    until the state changes; for a table written out at once (1M people: 250 MB of fresh memory and 0.4-0.6 s of
    page faults less).
    """
    # Everyone: a slice, so each column below is a view of the state (or one new array) that the frame copies
    # once (or not at all: `copy`), not a gathered copy copied again: at 1M people the gathers were 180 MB of
    # fresh memory and 0.6 s.
    idx = slice(None) if rows is None else np.asarray(rows, dtype=np.int64)
    ids = np.arange(pop.n) if rows is None else idx
    if graph.labels is not None:
        ids = graph.labels[ids]
    degree = np.diff(graph.indptr) if rows is None else graph.indptr[idx + 1] - graph.indptr[idx]
    experienced = pop.experienced[idx]
    return pd.DataFrame(
        {
            "id": ids,
            # the codes are copied: a Categorical may keep the array it is given, and the state changes
            "status": pd.Categorical.from_codes(pop.status[idx].copy(), STATUS_NAMES),
            "segment": pd.Categorical.from_codes(pop.segment[idx].copy(), pop.segment_names),
            "is_kol": pop.is_kol[idx],
            "degree": degree,
            "acquired_by": pd.Categorical.from_codes(acquired_by_groups(pop, idx), ACQUIRED_BY_GROUPS),
            "expectation": pop.E[idx],
            "satisfaction": np.where(experienced, pop.S[idx], np.nan),
            "trust": pop.T[idx],
            "attachment": pop.A[idx],
            "loyalty": pop.L[idx],
            "recommend_score": np.where(experienced, recommend_score(pop, sc, idx), np.nan),
            "member": pop.member[idx],
            "engaged": pop.engaged[idx],
            "talkativeness": pop.talkativeness[idx],
            "credibility": pop.credibility[idx],
            "conformity": pop.conformity[idx],
            "price_sensitivity": pop.price_sensitivity[idx],
            "spend_per_purchase": pop.spend[idx],
            "purchases": pop.purchases[idx],
            "revenue": pop.revenue[idx],
            "positive_wom_sent": pop.pos_sent[idx],
            "negative_wom_sent": pop.neg_sent[idx],
            "positive_wom_received": pop.pos_received[idx],
            "negative_wom_received": pop.neg_received[idx],
            "failures": pop.failures[idx],
            "recoveries": pop.recoveries[idx],
            "last_purchase": pop.last_purchase[idx],
            "product_fit": pop.fit[idx],
            "need": pop.need[idx],
            # Tick of first adoption (-1: an initial customer; NaN: never adopted), tenure as a customer in ticks,
            # tick of the last churn (NaN: never churned).
            "adoption_tick": np.where(pop.status[idx] >= CUSTOMER, pop.adopted_at[idx], np.nan),
            "tenure": pop.customer_ticks[idx],
            "churn_tick": np.where(pop.churned_at[idx] >= 0, pop.churned_at[idx], np.nan),
            **{f"targeted_{name}": counts[idx] for name, counts in (targeted or {}).items()},
        },
        copy=copy or rows is not None,
    )
