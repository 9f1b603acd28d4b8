"""The people table's analyst columns: times each intervention targeted each person (issue 13, point 10)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wom_sim.scenario.loading import build_scenario
from wom_sim.sim.model import WomModel

N, TICKS = 600, 30


def scenario(interventions):
    data = {"ticks": TICKS, "network": {"n": N, "m": 4}, "kols": {"select": {"by": "degree", "k": 6}},
            "interventions": interventions}  # fmt: skip
    return build_scenario(data, "test")


def test_times_targeted_counts_the_ticks_an_intervention_named_each_person():
    # A community from tick 5: in every tick on air its effects (join, loyalty lift) name exactly the customers
    # who are engaged once they are applied, and nothing else changes the flag, so the count of ticks a person
    # ends engaged is an independent tally of the targeting column. Its leave requests (non-customers dropping
    # out) are not targeting. A KOL campaign choosing its own KOLs (no backlash, which would name followers)
    # names them once, at set-up.
    sc = scenario([
        {"kind": "community", "name": "club", "schedule": {"from": 5}, "uptake": 0.5, "join_rate": 0.2},
        {"kind": "kol_campaign", "name": "kols", "select": {"by": "pagerank", "k": 8}, "backlash_risk": 0.0},
    ])  # fmt: skip
    model = WomModel(sc, seed=3)
    engaged_ticks = np.zeros(N, dtype=np.int64)
    for _ in range(TICKS):
        model.step()
        engaged_ticks += model.population.engaged
    people = model.people()
    assert engaged_ticks.sum() > 0  # the check has something to count
    np.testing.assert_array_equal(people["targeted_club"].to_numpy(), engaged_ticks)
    promoted = people["targeted_kols"].to_numpy()
    assert sorted(np.unique(promoted)) == [0, 1]
    assert promoted.sum() == 8 and people.loc[promoted == 1, "is_kol"].all()


def test_no_targeting_columns_without_interventions_and_rows_subset():
    plain = WomModel(scenario([]), seed=1)
    plain.run(3)
    assert not [c for c in plain.people().columns if c.startswith("targeted_")]
    sc = scenario([{"kind": "community", "name": "club", "uptake": 0.5, "join_rate": 0.5}])
    model = WomModel(sc, seed=1)
    model.run(5)
    full = model.people()
    rows = np.array([3, 1, 7])
    np.testing.assert_array_equal(model.people(rows)["targeted_club"], full["targeted_club"].to_numpy()[rows])


def test_churn_prevention_counts_its_offers():
    # Offers last offer_ticks ticks, and a customer with a running offer gets no new one, so the column (offers
    # made) is at most ceil(ticks on air / offer_ticks) per person; the flags the kind keeps are the total.
    sc = scenario([{"kind": "churn_prevention", "name": "save", "offer_ticks": 4}])
    model = WomModel(sc, seed=2)
    model.run()
    offers = model.people()["targeted_save"].to_numpy()
    iv = model.interventions[0]
    assert offers.sum() == iv.true_flags + iv.false_flags > 0
    assert offers.max() <= -(-TICKS // 4)


def test_initial_customers_are_acquired_by_initial_not_none():
    # Customers at tick 0 were acquired before the run: no channel of it has their code (it stays none, and the
    # new_<channel> columns count them nowhere), but "none" in the table is also everyone who never adopted.
    sc = build_scenario({"ticks": 8, "network": {"n": N, "m": 4},
                         "population": {"initial": {"customer": 0.1, "aware": 0.3}}}, "test")  # fmt: skip
    model = WomModel(sc, seed=4)
    at_start = model.population.status >= 2  # CUSTOMER or CHURNED: ours before tick 0
    model.run()
    people, metrics = model.people(), model.metrics_frame()
    acquired = people["acquired_by"].astype(str).to_numpy()
    np.testing.assert_array_equal(acquired == "initial", at_start)
    np.testing.assert_array_equal(model.population.acquired_by[at_start], 0)  # the channel codes are untouched
    assert (people.loc[acquired == "initial", "adoption_tick"] == -1).all()
    never = people["status"].isin(["unaware", "aware"]).to_numpy()
    assert (acquired[never] == "never").all() and (acquired[~never] != "never").all()
    for channel in ("none", "advertising", "wom", "kol", "referral"):  # the run's adopters, as the metrics count them
        assert np.sum((acquired == channel) & ~never) == metrics[f"new_{channel}"].sum(), channel
    first = int(np.flatnonzero(at_start)[0])
    assert model.person(first).acquired_by == "initial"


def test_the_table_of_everyone_is_the_table_of_all_rows_and_a_copy_of_the_state():
    # Everyone's table is built from views of the state (no gathered copies): it must equal the table of the rows
    # 0..n-1 (the gathered path), keep the graph's labels, and not change when the state changes after it.
    model = WomModel(scenario([{"kind": "community", "name": "club", "uptake": 0.5}]), seed=4)
    model.run(6)
    everyone = model.people()
    pd.testing.assert_frame_equal(everyone, model.people(np.arange(N)))
    before = everyone.copy()
    pop = model.population
    for name in ("E", "S", "T", "L", "status", "segment", "is_kol", "purchases", "spend", "talkativeness"):
        values = getattr(pop, name)
        values[:] = values[::-1]
    pd.testing.assert_frame_equal(everyone, before)


def test_the_table_of_views_equals_the_copied_table_and_shares_the_state():
    # copy=False (what `wom-sim run` writes): the same table, its state columns views of the state, not copies;
    # a subset is gathered, so it stays a table of its own.
    model = WomModel(scenario([{"kind": "community", "name": "club", "uptake": 0.5}]), seed=4)
    model.run(6)
    views = model.people(copy=False)
    pd.testing.assert_frame_equal(views, model.people())
    assert np.shares_memory(views["loyalty"].to_numpy(), model.population.L)
    rows = np.arange(0, N, 3)
    subset = model.people(rows, copy=False)
    pd.testing.assert_frame_equal(subset, model.people(rows))
    assert not np.shares_memory(subset["id"].to_numpy(), rows)
