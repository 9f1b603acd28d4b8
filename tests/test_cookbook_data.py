"""experiments/tools/cookbook_data.py: the cookbook tables' row labels (docs/cookbook.md is generated from them)."""

from __future__ import annotations

import importlib.util
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
