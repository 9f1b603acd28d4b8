"""The per-agent reference model (wom_sim/validation/reference_model.py): checks, then agreement with the kernel.

The reference is written from docs/model.md alone; the kernel (`wom_sim.model.simulate`) is the vectorised
implementation of the same page. Their random streams differ, so agreement is statistical: over independent
replications, each metric's mean must match within sampling error.
"""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wom_sim.scenario.schema import Scenario
from wom_sim.validation.reference_model import CUSTOMER, METRIC_COLUMNS, UNAWARE, ReferenceModel, run_reference


# --------------------------------------------------------------------------------------------- helpers
def csr_from_networkx(g: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    """Out-neighbour CSR (indptr, indices) of a graph on nodes 0..n-1; undirected edges are stored both ways."""
    n = g.number_of_nodes()
    assert sorted(g.nodes) == list(range(n))
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices: list[int] = []
    for i in range(n):
        out = sorted(g.successors(i)) if g.is_directed() else sorted(g.neighbors(i))
        indices.extend(out)
        indptr[i + 1] = len(indices)
    return indptr, np.asarray(indices, dtype=np.int64)


def scenario(**overrides) -> Scenario:
    """Scenario() with dotted-key overrides, e.g. scenario(**{"wom.contact_prob": 0.0})."""
    data = Scenario().model_dump(by_alias=True)
    for key, value in overrides.items():
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node[part]
        node[last] = value
    return Scenario.model_validate(data)


def quiet(**overrides) -> Scenario:
    """A scenario with no advertising, no talk, no forwarding and no adoption, to be switched on piece by piece."""
    base = {
        "advertising.reach": 0.0,
        "wom.contact_prob": 0.0,
        "wom.forward.positive": 0.0,
        "wom.forward.negative": 0.0,
        "kols.reach": 0.0,
        "purchase.adoption.intercept": -60.0,
        "population.initial.customer": 0.0,
        "population.initial.aware": 0.0,
        # One step at a time: initial customers start from the `initial.*` draws (no lived history) and nobody's
        # fit differs, so hand-computed and exact kernel-reference comparisons stay exact.
        "population.initial.history": 0,
        "population.fit": 0.0,
    }
    return scenario(**{**base, **overrides})


def star(n: int) -> tuple[np.ndarray, np.ndarray]:
    return csr_from_networkx(nx.star_graph(n - 1))  # node 0 is the hub


def no_edges(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)


# --------------------------------------------------------------------------------------------- unit checks
def test_columns_and_rows():
    indptr, indices = csr_from_networkx(nx.barabasi_albert_graph(60, 2, seed=1))
    df = run_reference(scenario(), indptr, indices, None, [0], seed=1, ticks=5)
    assert list(df.columns) == METRIC_COLUMNS
    assert list(df["t"]) == [0, 1, 2, 3, 4]


def test_same_seed_same_run():
    indptr, indices = csr_from_networkx(nx.barabasi_albert_graph(80, 2, seed=2))
    sc = scenario(**{"population.initial.customer": 0.2})
    a = run_reference(sc, indptr, indices, None, [0, 1], seed=7, ticks=8)
    b = run_reference(sc, indptr, indices, None, [0, 1], seed=7, ticks=8)
    pd.testing.assert_frame_equal(a, b)


def test_no_contact_and_no_ads_means_no_new_awareness():
    indptr, indices = csr_from_networkx(nx.barabasi_albert_graph(200, 3, seed=3))
    sc = quiet(**{"population.initial.customer": 0.1, "population.initial.aware": 0.05, "churn.base_hazard": 0.0})
    df = run_reference(sc, indptr, indices, None, [], seed=3, ticks=15)
    assert (df["unaware"] == 200 - 20 - 10).all()  # round(0.1 * 200) customers, round(0.05 * 200) aware
    assert (df[["pos_messages", "neg_messages", "pos_reach", "neg_reach", "new_customers"]] == 0).all().all()


def test_star_hub_reaches_every_leaf():
    n = 25
    indptr, indices = star(n)
    sc = quiet(
        **{
            "wom.contact_prob": 1.0,
            "wom.positive_rate": 1.0,
            "population.talkativeness": 1.0,
            "population.credibility": 0.5,
        }
    )
    model = ReferenceModel(sc, indptr, indices, None, [], seed=4)
    hub = model.people[0]
    hub.status, hub.experienced, hub.S = CUSTOMER, True, 1.0
    model.step()
    row = model.rows[-1]
    assert row["pos_speakers"] == 1 and row["neg_speakers"] == 0
    assert row["pos_messages"] == n - 1 and row["pos_reach"] == n - 1
    assert all(p.status != UNAWARE and p.last_touch == 2 for p in model.people[1:])  # 2 = wom
    assert row["awareness"] == 1.0


def test_reception_moves_expectation_by_the_documented_amount():
    """One positive message of credibility 0.8 to a prospect: E += rate * tanh(0.8) * (1 - E); no conformity."""
    indptr, indices = csr_from_networkx(nx.path_graph(2))
    sc = quiet(
        **{
            "wom.contact_prob": 1.0,
            "wom.positive_rate": 1.0,
            "population.talkativeness": 1.0,
            "population.credibility": 0.8,
            "population.segments": [{"name": "all", "share": 1.0, "conformity": 0.0}],
            "population.initial.expectation": 0.5,
            "population.initial.trust": 0.4,
        }
    )
    model = ReferenceModel(sc, indptr, indices, None, [], seed=5)
    speaker, listener = model.people
    speaker.status, speaker.experienced, speaker.S = CUSTOMER, True, 1.0
    model.step()
    impact = math.tanh(0.8)
    assert listener.status == 1  # AWARE (adoption is switched off)
    expectation, trust = listener.E, listener.T
    assert expectation == pytest.approx(0.5 + sc.reception.expectation_rate * impact * 0.5)
    assert trust == pytest.approx(0.4 + sc.reception.trust_rate * impact * 0.6)


def test_kol_messages_use_kol_reach_and_credibility():
    n = 30
    indptr, indices = star(n)
    sc = quiet(
        **{
            "kols.reach": 1.0,
            "kols.credibility": 0.9,
            "wom.positive_rate": 1.0,
            "population.talkativeness": 1.0,
        }
    )
    model = ReferenceModel(sc, indptr, indices, None, [0], seed=6)
    hub = model.people[0]
    hub.status, hub.experienced, hub.S = CUSTOMER, True, 1.0
    model.step()
    row = model.rows[-1]
    assert row["pos_messages"] == n - 1 and row["kol_share"] == 1.0
    assert all(p.W_pos == pytest.approx(0.9) and p.last_touch == 3 for p in model.people[1:])  # 3 = kol


def test_churn_probability_is_one_minus_exp_of_hazard():
    n = 4000
    indptr, indices = no_edges(n)
    sc = quiet(
        **{
            "population.initial.customer": 1.0,
            "churn.base_hazard": 0.1,
            "churn.loyalty_slope": 0.0,
            "brand.service_failure": 0.0,
        }
    )
    row = run_reference(sc, indptr, indices, None, [], seed=8, ticks=1).iloc[0]
    p = 1 - math.exp(-0.1)
    assert abs(row["churn_rate"] - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert row["at_risk"] == 0  # h = h0 < 3 h0 for everyone


def test_repurchase_probability_and_revenue():
    n = 4000
    indptr, indices = no_edges(n)
    sc = quiet(
        **{
            "population.initial.customer": 1.0,
            "population.initial.loyalty": 0.4,
            "population.spend": 10.0,
            "brand.price": 2.0,
            "brand.margin": 0.25,
            "churn.base_hazard": 0.0,
            "population.price_sensitivity": 0.2,
        }
    )
    row = run_reference(sc, indptr, indices, None, [], seed=9, ticks=1).iloc[0]
    rp, pu = sc.purchase.repurchase, sc.purchase
    # Price 2 against the reference price 1: a loss, weighted by loss aversion (docs/model.md step 5).
    price_term = -pu.price_response * 0.2 * pu.price_loss_aversion * math.log(2.0)
    p = 1 / (1 + math.exp(-(rp.intercept + rp.loyalty * 0.4 + price_term)))
    assert abs(row["repurchase_rate"] - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert row["revenue"] == pytest.approx(row["repurchases"] * 10 * 2.0)
    assert row["cost_of_goods"] == pytest.approx(row["repurchases"] * 10 * 0.75)


def test_unrecovered_failures_raise_hazard_and_negative_talk_next_tick():
    n = 2000
    indptr, indices = no_edges(n)
    sc = quiet(
        **{
            "population.initial.customer": 1.0,
            "purchase.repurchase.intercept": 60.0,  # everyone buys every tick
            "brand.service_failure": 1.0,
            "churn.base_hazard": 0.001,
            "churn.loyalty_slope": 0.0,
            "wom.failure_talk": 1.0,
        }
    )
    df = run_reference(sc, indptr, indices, None, [], seed=10, ticks=2)
    assert df["failures"].iloc[0] == n
    assert df["at_risk"].iloc[0] == n  # (1 + 8 * failed) >= 3
    # Everyone who failed last tick (churned or not: both are experienced) talks negatively, as failure_talk = 1.
    assert df["neg_speakers"].iloc[1] == n


def failing_shop(**overrides) -> Scenario:
    """Isolated customers who buy every tick and always suffer a service failure; no churn, no talk."""
    return quiet(
        **{
            "population.initial.customer": 1.0,
            "purchase.repurchase.intercept": 60.0,
            "brand.service_failure": 1.0,
            "churn.base_hazard": 1e-9,  # no churn in practice, but h >= 3 h0 still means something
            "churn.loyalty_slope": 0.0,
            "experience.recovery.coverage": 1.0,
            **overrides,
        }
    )


def test_immediate_recovery_is_not_an_unrecovered_failure():
    n = 500
    indptr, indices = no_edges(n)
    overrides = {"experience.recovery.delay": 0, "wom.failure_talk": 1.0}
    sc = failing_shop(**overrides, **{"churn.base_hazard": 0.01, "churn.loyalty_slope": 0.0})
    df = run_reference(sc, indptr, indices, None, [], seed=12, ticks=3)
    assert df["failures"].iloc[0] == n and (df["recoveries"] == df["failures"]).all()
    assert (df["neg_speakers"] == 0).all()  # failed_last stays False, so failure talk never fires
    assert (df["at_risk"] == 0).all()  # h = h0: no failure multiplier on the hazard


def test_every_delayed_recovery_arrives_after_the_delay():
    """A recovery per recovered failure, d ticks later, even when the next failure comes before it arrives."""
    n, delay, ticks = 500, 2, 6
    indptr, indices = no_edges(n)
    sc = failing_shop(**{"experience.recovery.delay": delay})
    df = run_reference(sc, indptr, indices, None, [], seed=13, ticks=ticks)
    assert (df["failures"] == n).all()
    assert df["recoveries"].tolist() == [0] * delay + [n] * (ticks - delay)
    assert (df["at_risk"] == n).all()  # a delayed recovery leaves the failure unrecovered for now


@pytest.mark.parametrize("engine", ["reference", "kernel"])
def test_a_recovery_within_the_tick_counts_the_failure_for_the_part_before_it(engine):
    """Half a tick ("3.5 days" of a week): recovered in the failure's tick, the failure's talk and churn multiplier
    at half strength. With failure_talk 1 half the failed talk next tick (binomial, 4 sd); the hazard multiplier
    1 + 8 x 0.5 = 5 still makes everyone at risk (>= 3)."""
    from wom_sim.network.graph import Graph
    from wom_sim.sim.model import simulate

    n = 1000
    indptr, indices = no_edges(n)
    sc = failing_shop(**{"experience.recovery.delay": "3.5 days", "wom.failure_talk": 1.0, "ticks": 3})
    if engine == "reference":
        df = run_reference(sc, indptr, indices, None, [], seed=14, ticks=3)
    else:
        graph = Graph(n=n, indptr=indptr, indices=indices, weights=None, directed=False)
        df = simulate(sc.model_copy(update={"seed": 14}), graph=graph, kol_ids=np.array([], dtype=np.int64)).metrics
    assert (df["failures"] == n).all() and (df["recoveries"] == n).all()  # every recovery lands in its own tick
    assert abs(df["neg_speakers"].iloc[1] - n / 2) < 4 * math.sqrt(n / 4)
    assert (df["at_risk"] == n).all()


def test_kernel_delivers_every_delayed_recovery():
    """Exact cross-check of the case above against the kernel."""
    from wom_sim.network.graph import Graph
    from wom_sim.sim.model import simulate

    n, delay, ticks = 200, 2, 6
    indptr, indices = no_edges(n)
    sc = failing_shop(**{"experience.recovery.delay": delay, "ticks": ticks})
    graph = Graph(n=n, indptr=indptr, indices=indices, weights=None, directed=False)
    kernel = simulate(sc.model_copy(update={"seed": 1}), graph=graph, kol_ids=np.array([], dtype=np.int64)).metrics
    reference = run_reference(sc, indptr, indices, None, [], seed=1)
    assert kernel["failures"].tolist() == reference["failures"].tolist()
    assert kernel["recoveries"].tolist() == reference["recoveries"].tolist()


@pytest.mark.parametrize(
    "case",
    [
        {"brand.service_failure": 0.0},
        {"experience.recovery.coverage": 0.0},
        {"experience.recovery.delay": 0, "experience.recovery.paradox": 0.0},
        {"experience.recovery.delay": 0, "experience.recovery.paradox": 0.2},
        {"population.initial.history": 5, "experience.negative_disconfirmation_weight": 2.0},
        {"experience.recovery.delay": "2 days", "experience.recovery.paradox": 0.1},
        {"experience.recovery.delay": "1.5 weeks"},
    ],
    ids=[
        "no_failure",
        "unrecovered",
        "immediate_recovery",
        "immediate_recovery_paradox",
        "history",
        "within_tick",
        "beyond_whole_ticks",
    ],  # fmt: skip
)
def test_kernel_experience_matches_exactly(case):
    """Step 6 without noise or talk: all customers start alike, so mean E, S, T, A after a few ticks are exact."""
    from wom_sim.network.graph import Graph
    from wom_sim.sim.model import simulate

    n, ticks = 50, 3
    indptr, indices = no_edges(n)
    constant = {f"population.initial.{k}": v for k, v in {"expectation": 0.6, "trust": 0.5, "attachment": 0.1}.items()}
    sc = failing_shop(**{"experience.noise": 0.0, "wom.positive_rate": 0.0, "ticks": ticks, **constant, **case})
    graph = Graph(n=n, indptr=indptr, indices=indices, weights=None, directed=False)
    kernel = simulate(sc.model_copy(update={"seed": 1}), graph=graph, kol_ids=np.array([], dtype=np.int64)).metrics
    reference = run_reference(sc, indptr, indices, None, [], seed=1)
    columns = ["mean_E", "mean_S", "mean_T", "mean_A", "failures", "recoveries"]
    np.testing.assert_allclose(kernel[columns].to_numpy(float), reference[columns].to_numpy(float), atol=1e-12)


def test_metric_identities_hold():
    indptr, indices = csr_from_networkx(nx.barabasi_albert_graph(150, 3, seed=11))
    sc = scenario(**{"population.initial.customer": 0.1, "churn.base_hazard": 0.05, "purchase.winback.intercept": -1})
    df = run_reference(sc, indptr, indices, None, [0, 1], seed=11, ticks=25)
    assert (df[["unaware", "aware", "customers", "churned"]].sum(axis=1) == 150).all()
    channels = ["new_none", "new_advertising", "new_wom", "new_kol", "new_referral"]
    assert (df[channels].sum(axis=1) == df["new_customers"]).all()
    flow = df["customers"].shift(1) + df["new_customers"] + df["winbacks"] - df["churn_events"]
    assert (flow.iloc[1:] == df["customers"].iloc[1:]).all()
    assert np.allclose(df["profit"], df["revenue"] - df["cost_of_goods"] - df["intervention_cost"])
    assert np.allclose(df["cum_revenue"], df["revenue"].cumsum())
    assert np.allclose(df["cum_profit"], df["profit"].cumsum())
    assert np.allclose(df[["promoters", "passives", "detractors"]].sum(axis=1), 1.0)
    assert np.allclose(df["nps"], 100 * (df["promoters"] - df["detractors"]))
    assert (np.diff(df["adoption_share"]) >= 0).all()
    assert (df["pos_reach"] <= df["pos_messages"]).all() and (df["neg_reach"] <= df["neg_messages"]).all()
    assert df["churn_events"].sum() > 0 and df["winbacks"].sum() > 0


# --------------------------------------------------------------------------------------------- agreement
AGREEMENT_N = 300
AGREEMENT_M = 3
AGREEMENT_TICKS = 30
AGREEMENT_KOLS = 3
AGREEMENT_REPLICATIONS = 50
# Family-wise false-alarm rate of one variant's comparison; each of its k = 88 (metric, statistic) tests runs at
# FAMILY_ALPHA / k ~ 1.1e-4, i.e. |t| > ~3.9 (Bonferroni). The tests are strongly positively correlated (customers,
# revenue and profit move together), so the true family-wise rate is below FAMILY_ALPHA: a failure is a real
# difference, not bad luck. The price is power: with 50 + 50 replications a difference is caught with 80% power
# once it reaches ~4.7 standard errors of the mean difference, ~0.95 of one replication's standard deviation.
# Smaller systematic differences need the same comparison with more replications (a few hundred), done by hand.
FAMILY_ALPHA = 0.01

# Besides the baseline, variants reach the parts of the doc the baseline leaves idle: frequent failures with
# service recovery (delayed; immediate with the paradox bonus), negative talk from mediocre quality, churn and
# win-back, promoters, tie strengths (edge weights) and a directed graph (talk flows along out-edges only).
AGREEMENT_VARIANTS: dict[str, dict] = {
    "baseline": {},
    "delayed_recovery_weighted": {
        # Pinned (not defaults) so that buying, hence failing and recovering, stays frequent when defaults move.
        "purchase.adoption.intercept": -5.0,
        "purchase.repurchase.intercept": -2.2,
        "brand.quality": 0.55,
        "brand.service_failure": 0.2,
        "brand.price": 0.9,
        "experience.recovery.coverage": 0.5,
        "experience.recovery.delay": 2,
        "experience.recovery.paradox": 0.1,
        "wom.negative_threshold": 0.5,
        "wom.positive_threshold": 0.4,
        "churn.base_hazard": 0.03,
        "purchase.winback.intercept": -2.0,
        "nps.satisfaction": 0.8,
        "nps.trust": 0.1,
        "nps.loyalty": 0.1,
    },
    "immediate_recovery": {
        "brand.quality": 0.8,
        "brand.service_failure": 0.3,
        "experience.recovery.coverage": 0.6,
        "experience.recovery.delay": 0,
        "experience.recovery.paradox": 0.2,
        "churn.base_hazard": 0.03,
        "purchase.winback.intercept": -2.0,
        "nps.satisfaction": 1.0,
        "nps.trust": 0.0,
        "nps.loyalty": 0.0,
    },
    "directed": {"network.directed": True},
    # Issue 13's options away from their defaults: unbounded retelling, a market potential, talk only right after a
    # purchase, a price above the reference price (loss aversion), a short history, a wide product fit.
    "issue13_options": {
        "wom.forward.chain": True,
        "wom.forward.negative": 0.3,
        "population.market_potential": 0.6,
        "wom.novelty_decay": 1.0,
        "wom.talk_floor": 0.0,
        "brand.price": 1.2,
        "population.initial.history": 3,
        "population.fit": {"dist": "normal", "mean": 0.0, "sd": 0.4},
        "purchase.repurchase.intercept": -1.0,
    },
}


def agreement_setup(variant: str = "baseline"):
    """Graph (BA n=300, m=3; or directed G(n, p) with mean out-degree 6), top out-degree KOLs, optional edge
    weights (mean 1) and the scenario of a variant."""
    if variant == "directed":
        g = nx.gnp_random_graph(AGREEMENT_N, 6 / AGREEMENT_N, seed=2024, directed=True)
    else:
        g = nx.barabasi_albert_graph(AGREEMENT_N, AGREEMENT_M, seed=2024)
    indptr, indices = csr_from_networkx(g)
    weights = None
    if variant.endswith("_weighted"):
        # One tie strength per undirected edge, the same in both stored directions, normalised to mean 1.
        strength = np.random.default_rng(2024).lognormal(0.0, 0.7, size=(AGREEMENT_N, AGREEMENT_N))
        strength = np.triu(strength) + np.triu(strength, 1).T
        sources = np.repeat(np.arange(AGREEMENT_N), np.diff(indptr))
        weights = strength[sources, indices]
        weights = weights / weights.mean()
    out_degree = np.diff(indptr)
    kol_ids = [int(i) for i in np.argsort(-out_degree, kind="stable")[:AGREEMENT_KOLS]]
    sc = scenario(
        **{
            "network.n": AGREEMENT_N,
            "network.m": AGREEMENT_M,
            "ticks": AGREEMENT_TICKS,
            "population.initial.customer": 0.1,
            "kols.select": {"by": "ids", "k": AGREEMENT_KOLS, "ids": kol_ids},
            **AGREEMENT_VARIANTS[variant],
        }
    )
    return sc, indptr, indices, weights, kol_ids


def kernel_runs(sc, indptr, indices, weights, kol_ids, seeds) -> list[pd.DataFrame]:
    from wom_sim.network.graph import Graph
    from wom_sim.sim.model import simulate

    graph = Graph(n=len(indptr) - 1, indptr=indptr, indices=indices, weights=weights, directed=sc.network.directed)
    return [simulate(sc.model_copy(update={"seed": s}), graph=graph, kol_ids=np.array(kol_ids)).metrics for s in seeds]


def reference_runs(sc, indptr, indices, weights, kol_ids, seeds) -> list[pd.DataFrame]:
    return [run_reference(sc, indptr, indices, weights, kol_ids, seed=s) for s in seeds]


def summarise(runs: list[pd.DataFrame], columns: list[str]) -> dict[str, np.ndarray]:
    """Per replication: the time average (over ticks where defined) and the final value of every metric."""
    out = {}
    for col in columns:
        values = np.array([r[col].to_numpy(dtype=float) for r in runs])
        with np.errstate(all="ignore"):
            out[f"{col}:avg"] = np.nanmean(values, axis=1)
        out[f"{col}:final"] = values[:, -1]
    return out


def compare(reference: list[pd.DataFrame], kernel: list[pd.DataFrame], family_alpha: float = FAMILY_ALPHA):
    """Welch's t-test per (metric, statistic), Bonferroni-corrected; returns a table, one row per test."""
    columns = [c for c in METRIC_COLUMNS if c != "t"]
    ref, ker = summarise(reference, columns), summarise(kernel, columns)
    rows = []
    k = len(ref)
    for key in ref:
        a, b = ref[key][~np.isnan(ref[key])], ker[key][~np.isnan(ker[key])]
        diff = b.mean() - a.mean() if len(a) and len(b) else math.nan
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 and len(b) > 1 else math.nan
        if len(a) < 2 or len(b) < 2:
            p = math.nan  # undefined in one arm (e.g. always NaN): checked below by counting
        elif se == 0:
            p = 1.0 if diff == 0 else 0.0  # both constant: must be the same constant
        else:
            p = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
        rows.append(
            {
                "statistic": key,
                "reference": a.mean() if len(a) else math.nan,
                "kernel": b.mean() if len(b) else math.nan,
                "diff": diff,
                "se": se,
                "ci99_low": diff - 2.576 * se,
                "ci99_high": diff + 2.576 * se,
                "p": p,
                "nan_ref": int(np.isnan(ref[key]).sum()),
                "nan_kernel": int(np.isnan(ker[key]).sum()),
            }
        )
    table = pd.DataFrame(rows).set_index("statistic")
    table["ok"] = (table["p"] >= family_alpha / k) & (table["nan_ref"] == table["nan_kernel"])
    table.loc[table["p"].isna(), "ok"] = table["nan_ref"] == table["nan_kernel"]
    return table


def test_kernel_starts_with_the_same_counts():
    """Exact, not statistical: with nothing happening in the first tick, the start counts must be equal."""
    from wom_sim.network.graph import Graph
    from wom_sim.sim.model import simulate

    for n, customer, aware in [(300, 0.1, 0.05), (10, 0.15, 0.5), (1000, 0.013, 0.0333)]:
        indptr, indices = no_edges(n)
        sc = quiet(
            **{
                "population.initial.customer": customer,
                "population.initial.aware": aware,
                "churn.base_hazard": 0.0,
                "ticks": 1,
            }
        )
        graph = Graph(n=n, indptr=indptr, indices=indices, weights=None, directed=False)
        kernel = simulate(sc.model_copy(update={"seed": 1}), graph=graph, kol_ids=np.array([], dtype=np.int64))
        reference = run_reference(sc, indptr, indices, None, [], seed=1)
        columns = ["unaware", "aware", "customers", "churned"]
        got, want = kernel.metrics[columns].iloc[0].tolist(), reference[columns].iloc[0].tolist()
        assert got == want, f"n={n} customer={customer} aware={aware}: kernel {got}, reference {want}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(AGREEMENT_VARIANTS))
def test_kernel_agrees_with_reference(variant):
    sc, indptr, indices, weights, kol_ids = agreement_setup(variant)
    seeds = range(AGREEMENT_REPLICATIONS)
    start = time.perf_counter()
    kernel = kernel_runs(sc, indptr, indices, weights, kol_ids, [10_000 + s for s in seeds])
    reference = reference_runs(sc, indptr, indices, weights, kol_ids, list(seeds))
    elapsed = time.perf_counter() - start

    missing = [c for c in METRIC_COLUMNS if c not in kernel[0].columns]
    assert not missing, f"kernel metrics lack columns {missing}"
    assert all(len(r) == AGREEMENT_TICKS for r in kernel)
    table = compare(reference, kernel)
    shown = ["reference", "kernel", "diff", "ci99_low", "ci99_high", "p"]
    print(f"\n{variant}: {2 * AGREEMENT_REPLICATIONS} runs in {elapsed:.1f} s")
    print(table[[*shown, "ok"]].to_string(float_format="{:.4g}".format))
    bad = table[~table["ok"]]
    assert bad.empty, (
        f"{variant}: kernel and reference disagree (Welch p < {FAMILY_ALPHA}/{len(table)}, or NaN in one only):\n"
        + bad[[*shown, "nan_ref", "nan_kernel"]].to_string(float_format="{:.4g}".format)
    )
