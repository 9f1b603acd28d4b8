"""experiments/tools/cookbook_data.py: the cookbook tables' row labels (docs/cookbook.md is generated from them)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from wom_sim.catalogue import metric

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "experiments" / "tools" / "cookbook_data.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("cookbook_data", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wom_acquired_row_reads_as_the_catalogue_labels_it():
    # The cookbook's lever tables said "Customers acquired through WOM" for a share that counts KOLs and referrals
    # too, which every other table calls "Customers acquired via WOM, KOLs or referrals" (wom_sim/catalogue.py).
    label = metric("wom_acquired_share").label
    assert _load_tool().LABEL["wom_acquired_share"][0] == label
    page = (ROOT / "docs" / "cookbook.md").read_text(encoding="utf-8")
    assert "acquired through WOM" not in page and f"| {label} |" in page


def test_a_change_of_a_share_or_rate_is_in_points_and_of_a_count_stays_a_count():
    # The cookbook printed "+10.9%" for a share that rose from 65.4% to 76.3% (10.9 percentage points, a 17%
    # relative rise): a strategist reads "%" beside a share as a relative change.
    tool = _load_tool()
    assert tool.change_text("wom_acquired_share", 0.109, "{:.1%}") == "+10.9 pts"
    assert tool.change_text("churn_rate", -0.00022, "{:.3%}") == "-0.022 pts"
    assert tool.change_text("mean:adoption_share", 0.122, "{:.1%}", unit=False) == "+12.2"
    assert tool.change_text("nps", 2.57, "{:+.1f}") == "+2.6 pts"
    assert tool.change_text("neg_messages", 4245.0, "{:,.0f}") == "+4,245"
    cell = tool.ci_text("adoption_share", {"mean": 0.202, "ci_low": 0.183, "ci_high": 0.221})
    assert cell == "+20.2 pts (+18.3 to +22.1)"


def test_the_page_prints_no_share_change_as_a_percent():
    # Every row of a change table whose values are shares or rates (in %) shows its change in points; a "%" left in
    # a change cell is a share's change written as if it were relative.
    page = (ROOT / "docs" / "cookbook.md").read_text(encoding="utf-8")
    checked = 0
    for table in re.findall(r"(?m)^\|.*change \(95% CI\) \|\n\|[-|]+\|\n(?:\|.*\|\n?)+", page):
        for row in table.splitlines()[2:]:
            cells = [c.strip() for c in row.strip("|").split("|")]
            if cells[1].endswith("%"):
                checked += 1
                assert "pts" in cells[-1] and "%" not in cells[-1], row
    assert checked > 20
    for row in re.findall(r"(?m)^\|[^|]*: change \|.*$", page):  # the crisis table's change rows
        assert "%" not in row.split("|", 2)[2], row
    assert "Intervention cost (cumulative)" not in page  # the catalogue's label: "Intervention spend"
