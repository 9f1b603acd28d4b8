"""Outcomes by segment (wom_sim/analysis/segments.py) and `wom-sim run --by` (300-1,000 people, a few ticks)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from wom_sim.analysis.segments import breakdown
from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
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


def test_run_by_is_one_run_only():
    # Checked before anything runs (exit 2). The written table itself is exercised by breakdown() above: a full
    # `wom-sim run` costs ~20 s here, mostly the dashboard figure, beyond this file's budget.
    result = CliRunner().invoke(cli, ["run", "competitor_crisis", "--by", "brand", "-r", "2"])
    assert result.exit_code == 2 and "--by describe one run" in result.output
