"""Your customer data (`network.people`): reading and checking the table (scenario.people), the isolated people it
adds to the graph (network.build) and the starting state it sets (sim.crm)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import load_scenario
from wom_sim.scenario.people import STATUS_CODES
from wom_sim.sim import dynamics as dyn
from wom_sim.sim import population as popmod
from wom_sim.sim.crm import PeopleWarning
from wom_sim.sim.metrics import recommend_score
from wom_sim.sim.model import WomModel, simulate

N_LINKED = 300  # people with ties: a ring with chords, ids 1..300


def _edges(folder: Path) -> Path:
    ids = np.arange(1, N_LINKED + 1)
    src = np.concatenate([ids, ids])
    dst = np.concatenate([np.roll(ids, -1), np.roll(ids, -7)])
    path = folder / "edges.csv"
    pd.DataFrame({"source": src, "target": dst}).to_csv(path, index=False)
    return path


def _scenario(folder: Path, people: pd.DataFrame | str, extra: str = "", name: str = "people.csv") -> Path:
    """A scenario on the ring with a person table (a frame written as csv/parquet, or raw csv text)."""
    _edges(folder)
    table = folder / name
    if isinstance(people, str):
        table.write_text(people)
    elif name.endswith(".parquet"):
        people.to_parquet(table)
    else:
        people.to_csv(table, index=False)
    path = folder / "sc.yaml"
    path.write_text(
        f"name: crm\nticks: 3\nnetwork: {{file: edges.csv, people: {name}}}\n"
        "population:\n  segments: [{name: urban, share: 0.5}, {name: rural, share: 0.5}]\n" + extra
    )
    return path


def _model(path: Path) -> WomModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeopleWarning)
        return WomModel(path)


def _row(model: WomModel, person) -> pd.Series:
    table = model.people()
    return table[table["id"] == person].iloc[0]


def test_status_codes_are_the_populations():
    assert STATUS_CODES["unaware"] == popmod.UNAWARE and STATUS_CODES["prospect"] == popmod.AWARE
    assert STATUS_CODES["customer"] == popmod.CUSTOMER and STATUS_CODES["churned"] == popmod.CHURNED


def test_overrides_are_applied_and_others_keep_their_draws(tmp_path):
    people = pd.DataFrame({
        "id": [1, 2, 3, 4], "segment": ["rural", "urban", "", "rural"],
        "status": ["customer", "prospect", "churned", ""],
        "tenure": [30, None, 5, None], "spend": [120.0, 10.0, None, 0.0], "trust": [0.9, 0.2, None, None],
        "product_fit": [0.25, -0.5, None, None], "need": ["true", "false", "", ""], "talkativeness": [3, None, None, 0],
    })  # fmt: skip
    model = _model(_scenario(tmp_path, people))
    one, two, three, four = (_row(model, i) for i in (1, 2, 3, 4))
    assert (one["segment"], one["status"], one["tenure"], one["spend_per_purchase"]) == ("rural", "customer", 30, 120)
    assert one["trust"] == 0.9 and one["product_fit"] == 0.25 and one["need"] and one["talkativeness"] == 3
    assert (two["status"], two["segment"], two["trust"], two["need"], two["spend_per_purchase"]) == (
        "aware", "urban", 0.2, False, 10.0
    )  # fmt: skip
    assert three["status"] == "churned" and three["tenure"] == 5 and not np.isnan(three["satisfaction"])
    assert four["spend_per_purchase"] == 0 and four["talkativeness"] == 0 and four["segment"] == "rural"
    # Everyone else keeps the draws: the same as a run without the table, person by person.
    plain = WomModel(tmp_path / "sc.yaml", overrides={"network.people": None}).people()
    ours = model.people()
    rest = ~ours["id"].isin([1, 2, 3, 4])
    assert np.array_equal(ours.loc[rest, "spend_per_purchase"], plain.loc[rest, "spend_per_purchase"])
    assert np.array_equal(ours.loc[rest, "product_fit"], plain.loc[rest, "product_fit"])


def test_people_without_ties_join_as_isolated_people(tmp_path):
    people = pd.DataFrame({"id": [1, 2, "new-1", "new-2"], "status": ["customer", "", "customer", "prospect"]})
    model = _model(_scenario(tmp_path, people))
    assert model.n == N_LINKED + 2
    table = model.people()
    assert table["id"].astype(str).tolist()[-2:] == ["new-1", "new-2"]  # after the edge list's people
    assert (table["degree"].to_numpy()[-2:] == 0).all() and table["status"].tolist()[-2:] == ["customer", "aware"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeopleWarning)
        result = simulate(model.wom_scenario)  # they run like anyone else
    assert len(result.people) == N_LINKED + 2


def test_table_people_without_ties_warn_with_their_count(tmp_path):
    # "01" is not the edge list's 1: it joins as a second, tie-less person, and the warning says how many did.
    people = pd.DataFrame({"id": [str(i) for i in range(1, N_LINKED + 1)] + ["01", "new-1"]})
    with pytest.warns(PeopleWarning, match=r"2 people of the person table \(of 302\) have no tie in the edge list"):
        model = WomModel(_scenario(tmp_path, people))
    assert model.n == N_LINKED + 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", PeopleWarning)  # every table person has a tie: no warning
        WomModel(_scenario(tmp_path, pd.DataFrame({"id": range(1, N_LINKED + 1)})))


def test_edge_ids_missing_from_the_table_warn_with_their_count(tmp_path):
    path = _scenario(tmp_path, pd.DataFrame({"id": [1, 2, 3], "spend": [10, 20, 30]}))
    with pytest.warns(
        PeopleWarning,
        match=f"{N_LINKED - 3:,} people of the edge list \\(of {N_LINKED:,} in all\\) are not in the person table",
    ):
        WomModel(path)
    res = CliRunner().invoke(cli, ["check", str(path)])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stderr.splitlines() if "not in the person table" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "297 people of the edge list" in lines[0]


def test_status_brand_and_tenure_at_tick_0_with_a_rival(tmp_path):
    people = pd.DataFrame({
        "id": [1, 2, 3, 4, 5], "status": ["customer", "customer", "prospect", "churned", "customer"],
        "brand": ["ours", "acme", "", "", ""], "tenure": [52, 8, None, 3, 1], "satisfaction": [0.7, 0.3, None, None, 1],
    })  # fmt: skip
    extra = "competitors:\n  - {name: acme, quality: 0.7, initial_customers: 0.3}\n"
    model = _model(_scenario(tmp_path, people, extra))
    table = model.people().set_index("id")
    assert table.loc[[1, 2, 3, 4, 5], "brand"].tolist() == ["ours", "acme", "none", "none", "ours"]
    assert table.loc[[1, 2, 3, 4, 5], "status"].tolist() == ["customer", "aware", "aware", "churned", "customer"]
    assert table.loc[1, "tenure"] == 52 and table.loc[2, "tenure"] == 0 and table.loc[4, "tenure"] == 3
    assert table.loc[1, "satisfaction"] == 0.7 and table.loc[5, "satisfaction"] == 1.0
    node = {label: i for i, label in enumerate(model.graph.labels)}
    assert model.market.view[0, node[2]] == pytest.approx(0.3)  # a rival's customer's satisfaction is with it
    assert model.market.rival[node[3]] == 0  # the random rival draw never overrides a stated status
    model.step()  # and the run goes on from there
    assert model.tick == 1


def test_nps_answers_become_the_satisfaction_that_gives_that_score(tmp_path):
    answers = [5, 6, 7, 8, 9]
    people = pd.DataFrame({"id": range(1, 6), "status": "customer", "nps": answers})
    model = _model(_scenario(tmp_path, people))
    idx = np.array([list(model.graph.labels).index(i) for i in range(1, 6)])
    # Middle answers are reachable for any trust and loyalty the burn-in leaves: the score is the answer exactly.
    assert recommend_score(model.population, model.wom_scenario, idx).tolist() == answers
    assert np.all(np.diff(model.population.S[idx]) > 0)


def test_a_tenure_caps_the_burn_in_and_full_lengths_change_nothing():
    model = WomModel(None, n=300, ticks=1, seed=4)
    sc = model.wom_scenario
    base = popmod.init_population(sc, model.kol_ids, 300, np.random.default_rng(1), np.random.default_rng(2))
    pops = [
        popmod.init_population(sc, model.kol_ids, 300, np.random.default_rng(1), np.random.default_rng(2))
        for _ in range(2)
    ]
    dyn.settle_history(base, sc, np.random.default_rng(3))
    dyn.settle_history(pops[0], sc, np.random.default_rng(3), np.full(300, sc.population.initial.history))
    assert np.array_equal(base.S, pops[0].S) and np.array_equal(base.L, pops[0].L)
    lengths = np.full(300, sc.population.initial.history)
    lengths[:150] = 1
    dyn.settle_history(pops[1], sc, np.random.default_rng(3), lengths)
    cust = np.flatnonzero(pops[1].experienced)
    short, full = cust[cust < 150], cust[cust >= 150]
    assert np.array_equal(pops[1].S[full], base.S[full])
    # One purchase: S is the first experience itself, E moved once from its draw (not 12 times).
    assert not np.array_equal(pops[1].E[short], base.E[short])


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("id,colour\n1,red\n", "unknown column 'colour' in the person table; allowed: id, segment"),
        ("id,status\n1,vip\n", "column 'status': 'vip' at line 2 is not allowed; allowed: prospect (= aware), "
                                 "unaware, aware, customer, churned$"),
        ("id,spend\n1,5\n2,x\n", "column 'spend': 'x' at line 3 is not allowed; allowed: a number from 0"),
        ("id,satisfaction,status\n1,1.5,customer\n", "column 'satisfaction': '1.5' at line 2 is not allowed"),
        ("id\n1\n2\n1\n", "column 'id': id 1 appears more than once (line 2 and line 4"),
        ("name,spend\n1,5\n", "no column 'id' (network.people needs one"),
        ("id,segment\n1,suburban\n", "column 'segment': 'suburban' at line 2 is not allowed; allowed: a name of "
                                     "population.segments (urban, rural)"),
        ("id,status,brand\n1,customer,acme\n", "column 'brand': 'acme' at line 2 is not allowed; allowed: ours (the "
                                               "scenario names no competitors)$"),
        ("id,status,brand\n1,prospect,ours\n", "column 'brand' at line 2: given for a person whose status is not "
                                               "customer"),
        ("id,status,tenure\n1,prospect,4\n", "column 'tenure' at line 2: given for a person whose status is not "
                                             "customer or churned"),
        ("id,status,tenure\n1,customer,2.5\n", "column 'tenure': '2.5' at line 2 is not a whole number"),
        ("id,satisfaction,nps\n1,,\n", "columns 'satisfaction' and 'nps' both given"),
        ("id,need\n1,maybe\n", "column 'need': 'maybe' at line 2 is not allowed; allowed: true, false"),
        ("id,spend\n", "the person table has no rows"),
        ("id,spend\n1,2,3\n", "malformed csv person table (Length of header"),
        ("id,spend\n1,2\n,3\n", "column 'id': empty id at line 3"),
    ],
)  # fmt: skip
def test_each_bad_table_is_one_line_naming_file_and_column(tmp_path, csv, expected):
    path = _scenario(tmp_path, csv)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    text = _one_line(exc)
    assert str(tmp_path / "people.csv") in text and expected.removesuffix("$") in text, text
    if expected.endswith("$"):  # the whole line: the allowed values said once, not listed twice
        assert text.endswith(expected[:-1]), text


def test_missing_unreadable_and_misplaced_tables(tmp_path):
    path = _scenario(tmp_path, "id\n1\n")
    with pytest.raises(ScenarioError, match="person table not found"):
        load_scenario(path, {"network.people": str(tmp_path / "nope.csv")})
    # A folder and a FIFO are named as such, decided by stat before anything opens them (a FIFO would block).
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ScenarioError, match=r"folder.csv: is a folder, expected a person table \(network.people\)"):
        load_scenario(path, {"network.people": str(tmp_path / "folder.csv")})
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(ScenarioError, match=r"pipe.csv: is not a regular file .* \(network.people\)"):
        load_scenario(path, {"network.people": str(tmp_path / "pipe.csv")})
    (tmp_path / "twice.csv").write_text("id,segment,segment\n1,urban,rural\n")
    with pytest.raises(ScenarioError, match="column 'segment' appears twice in the person table's header") as exc:
        load_scenario(path, {"network.people": str(tmp_path / "twice.csv")})
    _one_line(exc)
    (tmp_path / "people.xlsx").write_text("x")
    with pytest.raises(ScenarioError, match=r"unknown person table type \.xlsx; network.people must end in \.csv"):
        load_scenario(path, {"network.people": str(tmp_path / "people.xlsx")})
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ScenarioError, match="malformed parquet person table") as exc:
        load_scenario(path, {"network.people": str(tmp_path / "bad.parquet")})
    _one_line(exc)
    with pytest.raises(ScenarioError, match="people needs network.file"):
        load_scenario(path, {"network.file": None})
    # A run from the command line refuses before simulating, with exit code 2.
    (tmp_path / "people.csv").write_text("id,status\n1,vip\n")
    res = CliRunner().invoke(cli, ["run", str(path), "-q", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "'vip' at line 2 is not allowed" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_segment_named_na_is_kept_and_only_an_empty_cell_is_missing(tmp_path):
    extra = "population:\n  segments: [{name: NA, share: 0.1}, {name: EU, share: 0.9}]\n"
    path = _scenario(tmp_path, "id,segment\n" + "".join(f"{i},NA\n" for i in range(1, N_LINKED + 1)))
    path.write_text(path.read_text().split("population:")[0] + extra)
    assert (_model(path).people()["segment"] == "NA").all()  # pandas' default read NA as missing: 90% drew EU
    path = _scenario(tmp_path, "id,status,satisfaction\n1,customer,N/A\n")
    with pytest.raises(ScenarioError, match="column 'satisfaction': 'N/A' at line 2 is not allowed"):
        load_scenario(path)


def test_a_table_with_none_of_the_edge_lists_ids_is_refused(tmp_path):
    path = _scenario(tmp_path, pd.DataFrame({"id": ["C1", "C2"], "spend": [1, 2]}))
    with pytest.raises(ScenarioError, match="no id of the person table is in the edge list") as exc:
        WomModel(path)
    assert "'C1'" in _one_line(exc) and "column 'id' must hold the edge list's ids" in str(exc.value)


def test_parquet_tables_and_text_ids_match_integer_edge_ids(tmp_path):
    people = pd.DataFrame({"id": ["1", "2", "x9"], "status": ["customer", "customer", "customer"],
                           "spend": [1.5, 2.5, 3.5]})  # fmt: skip
    model = _model(_scenario(tmp_path, people, name="people.parquet"))
    assert model.n == N_LINKED + 1
    table = model.people().set_index(model.people()["id"].astype(str))
    assert table.loc[["1", "2", "x9"], "spend_per_purchase"].tolist() == [1.5, 2.5, 3.5]
    floats = pd.DataFrame({"id": [1.0, 2.0], "spend": [4.0, 5.0]})  # as some writers store integer ids
    model = _model(_scenario(tmp_path, floats, name="floats.parquet"))
    assert model.n == N_LINKED and _row(model, 2)["spend_per_purchase"] == 5.0


def test_the_bundled_crm_market_runs_from_its_data():
    result = simulate(bundled_path("crm_market"), overrides={"ticks": 3})
    crm = pd.read_csv(bundled_path("crm_market").parent / "data" / "crm_people.csv")
    people = result.people
    assert len(people) == len(crm) == 2000 and (people["degree"] == 0).sum() == 100
    assert set(people["segment"]) == {"urban", "rural"}
    start = WomModel(bundled_path("crm_market"), ticks=1).people().merge(crm, on="id", suffixes=("", "_crm"))
    assert (start["status"] == start["status_crm"].replace({"prospect": "aware"})).all()
    stated = start["status_crm"] == "customer"
    assert (start.loc[stated, "tenure"] == start.loc[stated, "tenure_crm"]).all()
    assert np.allclose(start["spend_per_purchase"], start["spend"])
    # NPS answers give the recommend score exactly except where trust and loyalty put it out of reach (S clipped).
    scored = start[stated]
    assert (scored["recommend_score"] == scored["nps"]).mean() > 0.85
    assert result.metrics["customers"].iloc[0] >= stated.sum()
