"""Property tests of the kernel: invariants that hold for every small graph and every valid parameter set.

Hypothesis draws graphs (networkx generators and raw edge lists, directed or not, weighted or not, n = 2..60) and
parameters anywhere inside the schema's bounds, runs a few ticks of `WomModel` and checks what must always hold:
states in [0, 1], status counts summing to N, no NaN or inf beyond the documented empty-customer means, money
and counts non-negative, cumulative columns non-decreasing, people conserved between statuses, no WOM from a
silent population and nothing beyond advertising when no message can be delivered. `derandomize=True` makes the
examples the same on every run (CI is deterministic); the whole file runs in well under 30 s.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wom_sim.network.graph import Graph, edges_to_csr
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.model import WomModel
from wom_sim.sim.population import ADVERTISING, CUSTOMER, NONE, UNAWARE

TICKS = 5
SETTINGS = settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)

# Metrics that are a documented NaN, and when: means and quantiles over customers when there are none
# (metrics.py); margin per purchase before the first purchase and lifetime value before the first churn
# (economics.py), and so lifetime value then too. Any other NaN or inf is a bug.
OVER_CUSTOMERS = ("mean_E", "mean_S", "mean_T", "mean_A", "mean_L", "S_p10", "S_p50", "S_p90", "L_p10", "L_p50",
                  "L_p90")  # fmt: skip
NAN_WHEN = {
    **{key: lambda row: row["customers"] == 0 for key in OVER_CUSTOMERS},
    "mean_S_new": lambda row: row["new_customers"] == 0,  # satisfaction of this tick's new customers
    "margin_per_purchase": lambda row: row.get("cum_purchases") == 0,
    "clv": lambda row: True,  # every tick's row: the model fills only its metrics frame's last row (economics.py)
}
COUNTS = ("unaware", "aware", "customers", "churned", "new_customers", "new_none", "new_advertising", "new_wom",
          "new_kol", "new_referral", "churn_events", "winbacks", "repurchases", "pos_messages", "neg_messages",
          "pos_speakers", "neg_speakers", "pos_reach", "neg_reach", "failures", "recoveries", "at_risk")  # fmt: skip
MONEY = ("revenue", "cost_of_goods", "intervention_cost", "cum_revenue", "cum_intervention_cost",
         "cum_cost_of_goods")  # fmt: skip
SHARES = ("adoption_share", "repurchase_rate", "promoters", "passives", "detractors", "kol_share",
          "brand", "awareness", "wom_acquired_share")  # fmt: skip
NON_DECREASING = ("cum_revenue", "cum_intervention_cost", "adoption_share", "awareness", "cum_purchases",
                  "cum_cost_of_goods", "cum_repurchases", "cum_churn_events")  # fmt: skip
PERSON_COUNTERS = ("purchases", "revenue", "pos_sent", "neg_sent", "pos_received", "neg_received", "failures",
                   "recoveries")  # fmt: skip

unit = st.floats(0.0, 1.0)


# --------------------------------------------------------------------------------------------- strategies
def _graph(n: int, u, v, w, directed: bool) -> Graph:
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    if u.size == 0:  # edges_to_csr needs at least one edge; an empty graph is still a valid population
        return Graph(n, np.zeros(n + 1, np.int64), np.zeros(0, np.int32), None, directed)
    indptr, indices, weights = edges_to_csr(n, u, v, w, directed)
    return Graph(n, indptr, indices, weights, directed)


@st.composite
def graphs(draw) -> tuple[Graph, np.ndarray]:
    """A small graph (generator or random edge list) and up to three KOLs on it."""
    n = draw(st.integers(2, 60))
    kind = draw(st.sampled_from(["barabasi_albert", "erdos_renyi", "watts_strogatz", "star", "edges"]))
    seed = draw(st.integers(0, 2**31 - 1))
    directed, w = False, None
    if kind == "edges":
        m = draw(st.integers(0, 4 * n))
        rng = np.random.default_rng(seed)
        u = rng.integers(0, n, m)
        v = (u + rng.integers(1, n, m)) % n  # never a self-loop
        directed = draw(st.booleans())
        if draw(st.booleans()):
            w = rng.uniform(0.05, 5.0, m)
    else:
        if kind == "barabasi_albert":
            g = nx.barabasi_albert_graph(n, draw(st.integers(1, n - 1)), seed=seed)
        elif kind == "erdos_renyi":
            g = nx.gnp_random_graph(n, draw(st.floats(0.0, 1.0)), seed=seed)
        elif kind == "watts_strogatz":
            g = nx.watts_strogatz_graph(n, draw(st.integers(2, max(2, n - 1))), draw(unit), seed=seed)
        else:
            g = nx.star_graph(n - 1)
        edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
        u, v = edges[:, 0], edges[:, 1]
    graph = _graph(n, u, v, w, directed)
    kols = draw(st.lists(st.integers(0, n - 1), max_size=min(3, n), unique=True))
    return graph, np.array(kols, dtype=np.int64)


def _weights(draw, names: tuple[str, ...]) -> dict[str, float]:
    """Non-negative weights summing to 1 (as the loyalty-weights validator demands)."""
    raw = [draw(st.floats(0.0, 1.0)) for _ in names]
    total = sum(raw)
    if total == 0:
        return {name: 1.0 / len(names) for name in names}
    return {name: x / total for name, x in zip(names, raw, strict=True)}


@st.composite
def scenarios(draw, **fixed) -> dict:
    """Scenario data with every parameter of the tick drawn inside its schema bounds."""
    customer = draw(unit)
    data = {
        "brand": {
            "quality": draw(unit), "service_failure": draw(unit), "price": draw(st.floats(0.01, 10.0)),
            "margin": draw(st.floats(-1.0, 1.0)), "reputation": draw(unit), "reputation_rate": draw(unit),
            "reputation_quality_weight": draw(unit),
        },
        "advertising": {"reach": draw(unit), "claim": draw(unit), "expectation_pull": draw(unit)},
        "purchase": {
            "adoption": {k: draw(st.floats(-8.0, 8.0)) for k in
                         ("intercept", "expectation", "trust", "brand", "value", "wom", "referral")},
            "repurchase": {k: draw(st.floats(-8.0, 8.0)) for k in ("intercept", "loyalty", "member", "engaged")},
            "winback": {k: draw(st.floats(-8.0, 8.0)) for k in ("intercept", "loyalty")},
            "value_price_weight": draw(st.floats(0.0, 3.0)),
        },
        "experience": {
            "noise": draw(unit), "failure_penalty": draw(unit), "disconfirmation_weight": draw(st.floats(0.0, 2.0)),
            "recall_bias": draw(st.floats(-0.2, 0.2)), "satisfaction_rate": draw(unit),
            "expectation_rate": draw(unit), "trust_gain": draw(unit), "trust_failure_drop": draw(unit),
            # whole ticks and parts of ticks (a recovery within the failure's tick, docs/model.md step 6)
            "recovery": {"coverage": draw(unit), "delay": draw(st.one_of(st.integers(0, 3), st.floats(0.0, 3.0))),
                         "effectiveness": draw(unit),
                         "paradox": draw(st.floats(0.0, 0.5))},
        },
        "wom": {
            "contact_prob": draw(unit), "positive_rate": draw(unit), "negative_rate": draw(unit),
            "satisfaction_elasticity": draw(st.floats(0.0, 5.0)), "loyalty_boost": draw(st.floats(0.0, 3.0)),
            "positive_threshold": draw(unit), "negative_threshold": draw(unit),
            "negative_exponent": draw(st.floats(0.01, 5.0)), "failure_talk": draw(unit),
            "negative_reach": draw(st.floats(1.0, 10.0)), "negativity_bias": draw(st.floats(0.0, 10.0)),
            "forward": {"positive": draw(unit), "negative": draw(unit)}, "use_weights": draw(st.booleans()),
        },
        "reception": {k: draw(unit) for k in
                      ("expectation_rate", "trust_rate", "satisfaction_weight", "trust_weight", "conformity_rate")},
        "loyalty": {
            "weights": _weights(draw, ("value", "satisfaction", "trust", "attachment", "brand")),
            "rate": draw(unit),
            "attachment": {k: draw(unit) for k in ("spread_gain", "member_gain", "engaged_gain", "decay")},
        },
        "churn": {
            "base_hazard": draw(unit), "loyalty_slope": draw(st.floats(0.0, 50.0)),
            "reference_loyalty": draw(unit), "negative_wom": draw(st.floats(0.0, 5.0)),
            "failure_multiplier": draw(st.floats(0.0, 20.0)),
        },
        "kols": {"credibility": draw(unit), "reach": draw(unit), "talkativeness": draw(st.floats(0.0, 5.0))},
        "nps": {k: draw(unit) for k in ("satisfaction", "trust", "loyalty")},
        "population": {
            "initial": {"customer": customer, "aware": draw(st.floats(0.0, 1.0 - customer))},
            "talkativeness": {"dist": "lognormal", "mean": draw(st.floats(0.1, 3.0)),
                              "sigma": draw(st.floats(0.0, 1.5))},
        },
    }  # fmt: skip
    for dotted, value in fixed.items():
        node = data
        *path, last = dotted.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def build(data: dict, graph: Graph, kols: np.ndarray, seed: int) -> WomModel:
    data = {**data, "seed": seed, "ticks": TICKS, "network": {"n": graph.n, "directed": graph.directed}}
    return WomModel(Scenario.model_validate(data), graph=graph, kol_ids=kols)


# --------------------------------------------------------------------------------------------- checks
def check_tick(model: WomModel, row: dict, previous: dict | None, counters_before: dict, status_before) -> None:
    pop, n = model.population, model.n
    for name in ("E", "S", "T", "A", "L"):
        x = getattr(pop, name)
        assert np.all((x >= 0.0) & (x <= 1.0)), f"{name} left [0, 1] (or is NaN) at tick {row['t']}"
    assert np.isin(pop.status, (0, 1, 2, 3)).all()
    assert np.bincount(pop.status.view(np.uint8), minlength=4).sum() == n
    assert row["unaware"] + row["aware"] + row["customers"] + row["churned"] == n

    for key, value in row.items():
        assert isinstance(value, int | float | np.integer | np.floating), (key, value)
        if key in NAN_WHEN and NAN_WHEN[key](row) and math.isnan(value):
            continue
        assert math.isfinite(value), f"{key} = {value} at tick {row['t']} ({row['customers']} customers)"
    for key in (
        *COUNTS,
        *[k for k in ("purchases", "cum_purchases", "cum_repurchases", "cum_churn_events") if k in row],
    ):
        assert row[key] >= 0 and float(row[key]).is_integer(), (key, row[key])
    for key in (*[k for k in MONEY if k in row], *[k for k in row if k.startswith("cost_")]):
        assert row[key] >= 0, (key, row[key])
    for key in SHARES:
        assert -1e-12 <= row[key] <= 1.0 + 1e-12, (key, row[key])  # passives = 1 - promoters - detractors
    assert -100.0 <= row["nps"] <= 100.0
    assert row["new_customers"] == sum(row[f"new_{c}"] for c in ("none", "advertising", "wom", "kol", "referral"))
    assert row["pos_messages"] <= model.graph.n_edges and row["neg_messages"] <= model.graph.n_edges
    assert row["pos_reach"] <= min(n, row["pos_messages"]) and row["neg_reach"] <= min(n, row["neg_messages"])

    # People move between statuses only by adoption, win-back and churn.
    before = np.bincount(status_before.view(np.uint8), minlength=4)
    assert row["customers"] - before[CUSTOMER] == row["new_customers"] + row["winbacks"] - row["churn_events"]
    assert row["churned"] - before[3] == row["churn_events"] - row["winbacks"]
    assert row["unaware"] <= before[UNAWARE]
    # Churn rate is churn events over customers at the start of the tick; people who adopt this tick can also
    # churn this tick, so only the events, not the rate, are bounded by the people exposed.
    assert row["churn_events"] <= before[CUSTOMER] + row["new_customers"] + row["winbacks"]
    assert row["churn_rate"] >= 0

    if previous is not None:
        for key in (k for k in NON_DECREASING if k in row):
            assert row[key] >= previous[key] - 1e-9, (key, previous[key], row[key])
    for name, old in counters_before.items():
        assert np.all(getattr(pop, name) >= old), f"per-person counter {name} went down"
    assert pop.pos_sent.sum() == pop.pos_received.sum() and pop.neg_sent.sum() == pop.neg_received.sum()


def run_checked(model: WomModel) -> pd.DataFrame:
    previous = None
    for _ in range(TICKS):
        counters = {name: getattr(model.population, name).copy() for name in PERSON_COUNTERS}
        status_before = model.population.status.copy()
        experienced_before = model.population.experienced.copy()
        model.step()
        check_tick(model, model.last_metrics, previous, counters, status_before)
        assert np.all(model.population.experienced >= experienced_before), "someone forgot they had purchased"
        previous = model.last_metrics
    frame = model.metrics_frame()
    assert len(frame) == TICKS
    assert frame["pos_messages"].sum() == model.population.pos_sent.sum()
    assert frame["neg_messages"].sum() == model.population.neg_sent.sum()
    return frame


# --------------------------------------------------------------------------------------------- properties
@SETTINGS
@given(graphs(), scenarios(), st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_graph_and_parameters(graph_kols, data, seed):
    graph, kols = graph_kols
    run_checked(build(data, graph, kols, seed))


@settings(SETTINGS, max_examples=60)
@given(
    graphs(),
    scenarios(
        **{
            "wom.positive_rate": 0.0,
            "wom.negative_rate": 0.0,
            "wom.failure_talk": 0.0,
            "wom.forward.positive": 0.0,
            "wom.forward.negative": 0.0,
        }
    ),  # fmt: skip
    st.integers(0, 2**32 - 1),
)
def test_a_silent_population_sends_no_wom(graph_kols, data, seed):
    graph, kols = graph_kols
    model = build(data, graph, kols, seed)
    frame = run_checked(model)
    for key in ("pos_messages", "neg_messages", "pos_speakers", "neg_speakers", "pos_reach", "neg_reach"):
        assert (frame[key] == 0).all(), key
    assert (frame[["new_wom", "new_kol", "new_referral"]] == 0).all().all()
    pop = model.population
    assert not (pop.pos_sent.any() or pop.neg_sent.any() or pop.pos_received.any() or pop.neg_received.any())


@settings(SETTINGS, max_examples=60)
@given(graphs(), scenarios(**{"wom.contact_prob": 0.0, "kols.reach": 0.0}), st.integers(0, 2**32 - 1), st.booleans())
def test_no_contact_spreads_nothing_beyond_advertising(graph_kols, data, seed, no_ads):
    graph, kols = graph_kols
    if no_ads:
        data = {**data, "advertising": {**data["advertising"], "reach": 0.0}}
    model = build(data, graph, kols, seed)
    initially_known = model.population.status != UNAWARE
    frame = run_checked(model)
    assert (frame[["pos_messages", "neg_messages", "new_wom", "new_kol", "new_referral"]] == 0).all().all()
    assert (frame["wom_acquired_share"] == 0).all()

    pop, people = model.population, model.people()
    known = pop.status != UNAWARE
    # Everyone who knows the brand knew it at the start or was reached by an ad (their last touch).
    assert np.all(initially_known[known] | (pop.last_touch[known] == ADVERTISING))
    assert set(people.loc[people["status"] != "unaware", "acquired_by"]) <= {"initial", "none", "advertising", "never"}
    assert np.isin(pop.acquired_by, (NONE, ADVERTISING)).all()
    if no_ads:
        np.testing.assert_array_equal(known, initially_known)
        assert not np.any(pop.last_touch)
