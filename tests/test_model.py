"""WomModel: determinism (F13), common random numbers, Mesa face, flat keyword construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import small_scenario
from wom_sim.errors import ScenarioError
from wom_sim.sim.metrics import METRIC_COLUMNS
from wom_sim.sim.model import Customer, WomModel, simulate


def test_same_seed_same_output_bit_for_bit():
    a = simulate(small_scenario())
    b = simulate(small_scenario())
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    pd.testing.assert_frame_equal(a.people, b.people, check_exact=True)


def test_different_seed_different_output():
    a = simulate(small_scenario(seed=1)).metrics
    b = simulate(small_scenario(seed=2)).metrics
    assert not a["pos_messages"].equals(b["pos_messages"])


def test_metrics_table_is_complete_and_consistent():
    res = simulate(small_scenario())
    m = res.metrics
    assert list(m.columns[: len(METRIC_COLUMNS)]) == METRIC_COLUMNS
    assert len(m) == 20 and m["t"].tolist() == list(range(20))
    n = res.model.n
    assert (m[["unaware", "aware", "customers", "churned"]].sum(axis=1) == n).all()
    assert (
        m["new_customers"] == m[[c for c in m.columns if c.startswith("new_") and c != "new_customers"]].sum(axis=1)
    ).all()
    assert np.allclose(m["cum_revenue"], m["revenue"].cumsum())
    assert np.allclose(m["profit"], m["revenue"] - m["cost_of_goods"] - m["intervention_cost"])
    assert len(res.people) == n
    assert res.people["purchases"].sum() == (m["new_customers"] + m["repurchases"] + m["winbacks"]).sum()


def test_common_random_numbers_margin_changes_only_money():
    """The margin touches no dynamics: every non-money metric must be identical (common random numbers)."""
    a = simulate(small_scenario()).metrics
    b = simulate(small_scenario(brand__margin=0.5)).metrics
    money = {"cost_of_goods", "profit", "cum_profit", "cum_cost_of_goods", "margin_per_purchase", "clv"}
    same = [c for c in a.columns if c not in money]
    pd.testing.assert_frame_equal(a[same], b[same], check_exact=True)
    assert not a["cum_profit"].equals(b["cum_profit"])


def test_common_random_numbers_keep_graph_and_population():
    a = WomModel(small_scenario())
    b = WomModel(small_scenario(wom__contact_prob=0.3))
    assert np.array_equal(a.graph.indices, b.graph.indices)
    assert np.array_equal(a.population.talkativeness, b.population.talkativeness)
    assert np.array_equal(a.kol_ids, b.kol_ids)


def test_flat_keywords_and_seed_conventions():
    m = WomModel(n=300, ticks=5, contact_prob=0.3, quality=0.8, n_kols=2, seed=7)
    assert (m.n, m.wom_scenario.wom.contact_prob, m.wom_scenario.brand.quality, len(m.kol_ids)) == (300, 0.3, 0.8, 2)
    m.run()
    assert m.tick == 5 and not m.running
    rng_model = WomModel(
        n=300, ticks=5, contact_prob=0.3, quality=0.8, n_kols=2, rng=7
    ).run()  # Mesa 3.5's batch_run passes rng=
    pd.testing.assert_frame_equal(m.metrics_frame(), rng_model.metrics_frame())


def test_datacollector_and_agent_views():
    m = WomModel(small_scenario())
    m.run(5)
    frame = m.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5 and "nps" in frame.columns
    assert frame["customers"].tolist() == m.metrics_frame()["customers"].tolist()
    view = m.person(3)
    assert isinstance(view, Customer) and view is m.person(3)
    assert view.status in ("unaware", "aware", "customer", "churned")
    assert view.loyalty == pytest.approx(m.population.L[3])
    assert len(m.agents) == 1  # views are made on demand, not one object per person


def test_states_stay_in_range_and_finite():
    m = WomModel(small_scenario(ticks=30)).run()
    for arr in (m.population.E, m.population.S, m.population.T, m.population.A, m.population.L):
        assert np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1


def test_one_persons_state_is_their_row_of_the_people_table():
    m = WomModel(small_scenario()).run(5)
    full = m.people()
    for i in (0, 7, m.n - 1):
        one = m.person(i).state()
        expected = full.iloc[i].to_dict()
        assert one.keys() == expected.keys()
        for key, value in expected.items():
            assert (value != value and one[key] != one[key]) or one[key] == value, key


def test_simulate_takes_a_bundled_scenario_by_name(tmp_path, monkeypatch):
    # wom_sim.compare("baseline", ...) and `wom-sim run baseline` take bundled names; simulate and WomModel must too
    # (the package docstring shows compare with names, so a user tries simulate("baseline") next). Before, the name
    # was read as a file in the working directory: "baseline: scenario file not found".
    from wom_sim.scenario.catalogue import bundled_path

    monkeypatch.chdir(tmp_path)  # no file named baseline here
    overrides = {"network.n": 200, "ticks": 3}
    by_name = simulate("baseline", overrides=overrides, seed=4)
    by_path = simulate(bundled_path("baseline"), overrides=overrides, seed=4)
    assert by_name.scenario.name == "baseline"
    pd.testing.assert_frame_equal(by_name.metrics, by_path.metrics)
    assert WomModel("referral_program", overrides=overrides).wom_scenario.name == "referral_program"


def test_simulate_prefers_a_file_to_a_bundled_name_and_reports_a_missing_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").write_text("name: mine\nnetwork: {n: 150}\nticks: 2\n", encoding="utf-8")
    assert simulate("baseline").scenario.name == "mine"  # an existing file wins over the bundled name
    with pytest.raises(ScenarioError, match="not found"):
        simulate("no_such_scenario")
