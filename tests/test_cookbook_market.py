"""experiments/tools/cookbook_market.py: the cookbook's market verdicts follow the intervals, not a fixed wording."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "experiments" / "tools"


@pytest.fixture(scope="module")
def tool():
    sys.path.insert(0, str(TOOLS))  # the tool imports cookbook_data beside it
    try:
        spec = importlib.util.spec_from_file_location("cookbook_market", TOOLS / "cookbook_market.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(TOOLS))


def test_the_verdict_follows_where_the_interval_lies(tool):
    # The hand-typed page said "the fast ad burst does not pay" after the model had changed; a verdict now comes
    # from the interval: above 0, below 0, or around it (also with no interval at all).
    def verdict(low, high):
        return tool.pick({"mean": (low + high) / 2, "ci_low": low, "ci_high": high}, "pays", "loses", "not sure")

    assert verdict(1.0, 3.0) == "pays"
    assert verdict(-3.0, -1.0) == "loses"
    assert verdict(-1.0, 3.0) == "not sure"
    assert verdict(0.0, 3.0) == "not sure"  # an interval touching 0 does not exclude it
    assert tool.direction(float("nan"), float("nan")) == "unsure"


def test_replication_weeks_read_as_one_week_or_a_list(tool):
    assert tool.weeks([31, 31, 31, 31]) == "in week 31 in all 4 replications"
    assert tool.weeks([0, None, 1]) == "in weeks 0, never and 1 of the 3 replications"


def test_a_wrapped_line_never_opens_like_a_list_item(tool):
    page = "## Title\n\nacme sells at 0.8 from week 26. Against a market - without it\n\n| a | b |\n|---|---|\n"
    out = tool.wrap(page, width=22)
    prose = out.split("\n\n")[1].splitlines()
    assert len(prose) > 2 and not any(tool.LIST_START.match(line) for line in prose)
    assert " ".join(prose) == "acme sells at 0.8 from week 26. Against a market - without it"
    assert out.startswith("## Title\n\n") and out.endswith("| a | b |\n|---|---|\n")
