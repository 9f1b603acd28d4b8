"""Outcomes by segment (wom_sim/analysis/segments.py), their paired differences per group, and `wom-sim run --by`
(300-1,000 people, a few ticks)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from wom_sim.analysis.segments import (
    GROUP_METRICS,
    breakdown,
    breakdown_display,
    change_size,
    check_by,
    group_differences,
)
from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim.model import simulate


def test_breakdown_adds_up_to_the_run():
    segments = [{"name": "urban", "share": 0.6}, {"name": "rural", "share": 0.4}]
    res = simulate(None, overrides={"network.n": 600, "ticks": 12, "population.segments": segments}, seed=2)
    table = breakdown(res.people, "segment").set_index("segment")
    assert set(table.index) == {"urban", "rural"}
    assert table["people"].sum() == 600
    assert table["customers"].sum() == res.metrics["customers"].iloc[-1]
    assert table["revenue"].sum() == pytest.approx(res.metrics["revenue"].sum())
    assert table.loc["urban", "people"] > table.loc["rural", "people"]  # 60/40 draw of 600 people


def test_breakdown_by_brand_needs_competitors():
    res = simulate(None, overrides={"network.n": 300, "ticks": 3}, seed=1)
    with pytest.raises(ScenarioError, match="brand needs competitors"):
        breakdown(res.people, "brand")


def test_breakdown_display_reads_as_the_catalogue_formats_it():
    # What `wom-sim run --by` prints: shares in %, money with thousands separators (not 1.36e+04), and "n/a" where
    # a group has no customers to have a satisfaction or an NPS (a rival's buyers, people who buy from no one).
    people = simulate(bundled_path("competitor_price_cut"), overrides={"network.n": 400, "ticks": 12}, seed=3).people
    table = breakdown(people, "brand")
    shown = breakdown_display(table, "brand")
    text = shown.to_string(index=False)
    assert list(shown.columns[:3]) == ["brand", "people", "customers"] and len(shown) == len(table)
    assert "nan" not in text.lower() and "e+" not in text, text
    without = table["customers"] == 0
    assert without.any() and (shown.loc[without.to_numpy(), ["satisfaction", "NPS"]] == "n/a").all().all()
    assert all(v.endswith("%") for v in shown["ever adopted"])
    assert shown.loc[table["revenue"].idxmax(), "revenue"] == f"{table['revenue'].max():,.0f}"


def test_run_by_is_one_run_only():
    # Checked before anything runs (exit 2). The written table itself is exercised by breakdown() above: a full
    # `wom-sim run` costs ~20 s here, mostly the dashboard figure, beyond this file's budget.
    result = CliRunner().invoke(cli, ["run", "competitor_crisis", "--by", "brand", "-r", "2"])
    assert result.exit_code == 2 and "--by describe one run" in result.output


def test_run_by_a_column_it_cannot_break_down_by_is_one_line(tmp_path):
    for args, words in ((["competitor_crisis", "--by", "area"], "cannot break down by 'area'"),
                        (["baseline", "--by", "brand"], "brand needs competitors")):  # fmt: skip
        result = CliRunner().invoke(cli, ["run", *args, "--out", str(tmp_path / "out")])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and words in lines[0], result.output
        assert not (tmp_path / "out").exists()  # refused before anything ran or was written


def _per_run(rows):
    cols = ["arm", "replication", "group", "people", "customers", "ever_adopted", "churned", "purchases", "revenue",
            "mean_satisfaction", "nps"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def test_group_differences_pair_by_replication_and_fill_absent_groups():
    per_run = _per_run([
        ("base", 0, "a", 10, 2, 0.2, 0, 4, 40.0, 0.5, 0.0), ("base", 1, "a", 10, 4, 0.4, 1, 8, 80.0, 0.7, 50.0),
        ("treat", 0, "a", 10, 3, 0.3, 0, 6, 60.0, 0.6, 0.0), ("treat", 1, "a", 10, 7, 0.7, 1, 14, 140.0, 0.8, 50.0),
        ("treat", 0, "b", 5, 5, 1.0, 0, 5, 50.0, 0.9, 100.0), ("treat", 1, "b", 5, 3, 1.0, 0, 3, 30.0, 0.9, 100.0),
    ])  # fmt: skip
    table = group_differences(per_run, "base", ["treat"], "segment").set_index(["group", "metric"])
    a = table.loc[("a", "customers")]
    # Paired: differences 1 and 3 -> mean 2, t(0.975, 1) * sd(1.414) / sqrt(2) = 12.706 half-width.
    assert a["uplift"] == 2.0 and a["n"] == 2 and a["ci_high"] - 2.0 == pytest.approx(12.706, abs=1e-3)
    assert a["ci_low"] <= a["uplift"] <= a["ci_high"]
    b = table.loc["b"]  # absent from every base run: counts from 0, shares and NPS unmeasured there
    assert b.loc["people", "uplift"] == 5.0 and b.loc["revenue", "base_mean"] == 0.0
    assert b.loc["ever_adopted", "n"] == 0 and b.loc["nps", "n"] == 0
    assert set(table.index.get_level_values("metric")) == set(GROUP_METRICS)
    # Biggest change first: group b (from nobody) leads, with its measured rows before the unmeasured ones.
    ordered = group_differences(per_run, "base", ["treat"], "segment")
    assert ordered["group"].iloc[0] == "b" and ordered["uplift"].iloc[0] != 0
    sizes = change_size(ordered[ordered["group"] == "a"])
    assert list(sizes) == sorted(sizes, reverse=True)


def test_check_by_is_one_line_naming_what_is_allowed():
    check_by("segment")
    with pytest.raises(ScenarioError, match=r"--by: cannot break down by 'area' \(allowed here: segment"):
        check_by("area")
    with pytest.raises(ScenarioError, match="brand needs competitors"):
        check_by("brand", competitors=False)


def test_breakdown_by_acquired_by_keeps_initial_customers_apart_from_never_adopters():
    res = simulate(None, overrides={"network.n": 500, "ticks": 6, "population.initial.customer": 0.1}, seed=5)
    table = breakdown(res.people, "acquired_by").set_index("acquired_by")
    assert table.loc["initial", "people"] == 50 and table.loc["initial", "ever_adopted"] == 1.0
    # "never" is who was never our customer; "none" the run's adopters no channel reached (new_none), nobody else.
    never = res.people["status"].isin(["unaware", "aware"]).sum()
    assert table.loc["never", "people"] == never and table.loc["never", "ever_adopted"] == 0.0
    assert table["people"].get("none", 0) == res.metrics["new_none"].sum()  # absent when no such adopter
