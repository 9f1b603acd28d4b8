"""The metric catalogue and the palette: complete for real runs, consistent, and selected by every consumer."""

from __future__ import annotations

import doctest
import subprocess
import sys
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import wom_sim.catalogue as catalogue
from wom_sim.analysis import statistics
from wom_sim.catalogue import (
    ARM_COLOURS,
    CATALOGUE,
    CHANNEL_COLOURS,
    CHANNEL_LABELS,
    DERIVED,
    PALETTE,
    RUN_SUMMARY,
    SCALES,
    STATUS_COLOURS,
    SUMMARIES,
    describe,
    format_value,
    market_summary,
    metric,
    summarise,
    summary_rows,
)
from wom_sim.errors import ScenarioError
from wom_sim.report import figures
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim.metrics import METRIC_COLUMNS
from wom_sim.sim.model import resolve_scenario, simulate
from wom_sim.sim.population import CHANNELS, STATUS_NAMES

SMALL = {"network.n": 300, "network.m": 3, "ticks": 12}


@pytest.fixture(scope="module")
def bundled_columns() -> set[str]:
    """Every metrics column of a short run of each bundled scenario (interventions add their cost_ columns)."""
    columns: set[str] = set()
    for path in sorted(resources.files("wom_sim.scenario").joinpath("bundled").iterdir()):
        if path.name.endswith(".yaml"):
            columns |= set(simulate(resolve_scenario(str(path), SMALL)).metrics.columns)
    return columns


def test_every_column_of_a_real_run_has_an_entry(bundled_columns):
    assert any(c.startswith("cost_") and c != "cost_of_goods" for c in bundled_columns)  # the dynamic ones are seen
    missing = []
    for column in sorted(bundled_columns):
        try:
            metric(column)
        except ScenarioError:
            missing.append(column)
    assert not missing, f"metrics columns without a catalogue entry (add them to wom_sim/catalogue.py): {missing}"
    # and the catalogue holds no stale entry: each is a stored column or a declared derived one
    assert set(CATALOGUE) == set(METRIC_COLUMNS) | set(DERIVED)


@pytest.mark.parametrize("entry", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_each_entry_is_well_formed(entry):
    assert entry.summary in SUMMARIES and entry.scale in SCALES and entry.better in ("up", "down", None)
    assert entry.label and entry.short_label and entry.unit
    assert entry.colour is None or entry.colour in PALETTE.values()
    assert entry.format(0.25) != "n/a" and entry.format(float("nan")) == "n/a"
    if entry.scale == "percent":
        assert entry.format(0.25).endswith("%")


def test_palette_is_unique_and_consistent():
    assert len(set(PALETTE.values())) == len(PALETTE)
    assert list(CHANNEL_COLOURS) == list(CHANNELS) == list(CHANNEL_LABELS)
    assert list(STATUS_COLOURS) == list(STATUS_NAMES)
    # channels and statuses are drawn side by side on the browser page: no colour means two things there
    shown_together = [*CHANNEL_COLOURS.values(), *STATUS_COLOURS.values()]
    assert len(set(shown_together)) == len(shown_together)
    assert len(set(ARM_COLOURS)) == len(ARM_COLOURS)
    # a metric of one channel or status is drawn in that channel's or status's colour
    for channel, colour in CHANNEL_COLOURS.items():
        assert metric(f"new_{channel}").colour == colour
    for status, column in zip(STATUS_NAMES, ("unaware", "aware", "customers", "churned"), strict=True):
        assert metric(column).colour == STATUS_COLOURS[status]
    assert metric("pos_messages").colour == catalogue.POSITIVE and metric("neg_messages").colour == catalogue.NEGATIVE


def test_consumers_use_the_one_palette():
    from wom_sim.report import figures as report_figures
    from wom_sim.viz import figures as viz_figures

    assert viz_figures.CHANNEL_COLOURS is CHANNEL_COLOURS and report_figures.CHANNEL_COLOURS is CHANNEL_COLOURS
    assert report_figures.ARM_COLOURS is ARM_COLOURS
    assert [str(c) for c in viz_figures.STATUS_COLOURS] == list(STATUS_COLOURS.values())


def test_dynamic_cost_columns_and_unknown_names():
    entry = metric("cost_kol_campaign")
    assert (entry.label, entry.scale, entry.summary) == ("Spend on kol campaign", "money", "sum")
    assert metric("cost_of_goods").label == "Cost of goods"
    with pytest.raises(ScenarioError, match=r"unknown metric 'adoption'; did you mean 'adoption_share'"):
        metric("adoption")
    with pytest.raises(ScenarioError, match="unknown metric"):
        metric("cost_")


def test_summarise_each_statistic():
    values = pd.Series([1.0, np.nan, 4.0, 3.0])
    assert [summarise(values, s) for s in ("mean", "sum", "min", "max")] == [8 / 3, 8.0, 1.0, 4.0]
    assert summarise(values.to_numpy(), "last") == 3.0
    assert np.isnan(summarise(pd.Series([1.0, np.nan]), "last"))  # the last value, even when it is missing
    assert np.isnan(summarise(np.array([]), "mean")) and summarise(np.array([]), "sum") == 0.0
    with pytest.raises(ScenarioError, match="unknown statistic 'median'"):
        summarise(values, "median")


def test_format_value_and_describe():
    assert format_value("adoption_share", 0.1234) == "12.3%"
    assert format_value("churn_rate", 0.01234) == "1.23%"
    assert format_value("mean:churn_rate", 0.01234) == "1.23%"  # a stat:column outcome formats like its column
    assert format_value("nps", -12.34) == "-12.3" and format_value("nps", 3) == "+3.0"
    assert format_value("cum_profit", 1234567.8) == "1,234,568"
    assert format_value("brand", None) == "n/a"
    assert describe("churn_rate") == "Churn rate per tick (mean)"
    assert describe("churn_rate", unit="week") == "Churn rate per week (mean)"
    assert describe("pos_messages") == "Positive WOM messages (total)"
    assert describe("brand", "min") == "Brand favourability (minimum)"
    assert describe("adoption_share") == "Ever adopted (share of population)"
    assert describe("nps", "max") == "NPS (customers, maximum)"
    assert all(name in CATALOGUE for name in RUN_SUMMARY)


def test_one_value_range_for_every_outcome_name():
    # The summary table and the report each had their own; the report's cut a sweep's "damage:brand" (a drop of
    # -12%) to 0 to 0 and "sum:churn_rate" to 100%.
    assert catalogue.value_range("nps") == catalogue.value_range("mean:nps") == (-100.0, 100.0)
    assert catalogue.value_range("last:market_share") == catalogue.value_range("at:12:market_share") == (0.0, 1.0)
    assert catalogue.value_range("rival_acme_market_share") == (0.0, 1.0)
    assert catalogue.value_range("sum:churn_rate") == (0.0, np.inf)
    assert catalogue.value_range("profit") == catalogue.value_range("sum:profit") == (-np.inf, np.inf)
    for name in ("incremental:customers", "damage:brand", "payback:cum_profit", "roi:profit", "payback", "roi",
                 "crisis_damage", "no_such_column"):  # fmt: skip
        assert catalogue.value_range(name) == (-np.inf, np.inf), name
    assert figures.value_range is catalogue.value_range and statistics.value_range is catalogue.value_range


def test_docstring_examples():
    assert doctest.testmod(catalogue).failed == 0


def test_catalogue_imports_nothing_else_from_the_package():
    code = "import sys, wom_sim.catalogue; print(sorted(m for m in sys.modules if m.startswith('wom_sim')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['wom_sim', 'wom_sim.catalogue', 'wom_sim.errors']"


def test_importing_the_package_leaves_the_matplotlib_backend_alone():
    # Every module that draws or may draw, imported in a fresh interpreter after a notebook-like backend choice.
    modules = ["wom_sim.report.figures", "wom_sim.report.html", "wom_sim.viz.figures", "wom_sim.calibrate.outputs",
               "wom_sim.cli", "wom_sim.cli.run", "wom_sim.cli.experiments", "wom_sim.cli.validate"]  # fmt: skip
    code = (
        "import importlib, sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "before = matplotlib.get_backend()\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert matplotlib.get_backend() == before, (name, matplotlib.get_backend())\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "print(before)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "svg"


def test_money_rounds_with_the_currency_and_differences_read_in_points():
    from wom_sim.catalogue import format_delta, format_money, format_value

    assert format_money(298_140.0) == "298k" and format_money(1_234_567.0, "EUR") == "1.23M EUR"
    assert format_money(-79_400.0, "$", signed=True) == "-$79.4k" and format_money(0.0, "$", signed=True) == "$0"
    assert format_money(999_600.0) == "1M" and format_money(12.0) == "12" and format_money(4.5) == "4.50"
    assert format_delta("adoption_share", 0.0593) == "+5.9 pts"  # a share's change is percentage points
    assert format_delta("nps", -2.5) == "-2.5 pts" and format_delta("churn_rate", 0.0012) == "+0.12 pts"
    assert format_delta("profit", 298e3, "EUR") == "+298k EUR" and format_delta("customers", -12.0) == "-12"
    assert format_value("profit", 298e3, "£") == "£298k" and format_value("profit", 298e3) == "298,000"


def test_a_tiny_negative_that_rounds_to_zero_reads_as_zero_not_as_a_loss():
    from wom_sim.analysis.statistics import Estimate
    from wom_sim.catalogue import format_delta, format_money, format_number, format_value

    assert format_number("{:.0f}", -0.3) == "0" and format_number("{:+.1f}", -0.01) == "+0.0"
    assert format_number("{:.0%}", -0.001) == "0%" and format_number("{:.0f}", -0.6) == "-1"
    assert format_value("customers", -0.2) == "0"
    assert format_delta("adoption_share", -1e-5) == "+0.0 pts" and format_delta("customers", -0.4) == "+0"
    assert format_money(-0.001, "EUR") == "0 EUR" and format_money(-0.004, "$", signed=True) == "$0"
    assert format_money(-0.02) == "-0.02"
    assert Estimate(-0.001, -0.2, 0.1, 30).text("{:.0%}") == "0% (-20% to 10%)"


def test_a_market_summary_names_our_shares_and_each_rival_all_rows_have():
    frame = pd.DataFrame({"t": [0, 1], "market_share": [0.6, 0.5], "rival_acme_market_share": [0.4, 0.5],
                          "rival_big_co_market_share": [0.1, np.nan], "rival_acme_profit": [1.0, 2.0]})  # fmt: skip
    assert market_summary(frame) == [*catalogue.MARKET_SUMMARY, "rival_acme_market_share", "rival_acme_profit"]
    assert market_summary(frame.drop(columns=["rival_acme_market_share", "rival_big_co_market_share"])) == []
    # One run's summary ends with the market when it has rivals (shares in %), and is today's without.
    with_rivals = simulate(
        resolve_scenario(bundled_path("competitor_price_cut"), {"network.n": 300, "ticks": 6}), seed=1
    ).metrics
    rows = dict(summary_rows(with_rivals))
    assert rows["acme: market share"].endswith("%") and len(rows) == len(RUN_SUMMARY) + 7
    alone = simulate(resolve_scenario(bundled_path("baseline"), {"network.n": 300, "ticks": 6}), seed=1).metrics
    assert len(summary_rows(alone)) == len(RUN_SUMMARY)


def test_a_run_summary_shows_money_in_the_scenario_currency():
    # `currency:` is how money is shown: the run summary says it, as the compare tables and the report do.
    frame = pd.DataFrame({"t": [0, 1], "cum_revenue": [1000.0, 218_445.0], "cum_profit": [10.0, -2_534.0]})
    rows = dict(summary_rows(frame, ("cum_revenue", "cum_profit"), currency="EUR"))
    assert rows == {"Revenue (cumulative)": "218k EUR", "Profit (cumulative)": "-2.53k EUR"}
    assert dict(summary_rows(frame, ("cum_revenue",)))["Revenue (cumulative)"] == "218,445"  # none: whole units


def test_the_wom_acquired_share_says_it_counts_kols_and_referrals():
    # It counts customers acquired by peers, KOLs or referrals; the dashboards' "word of mouth" channel is the
    # peers alone, so "Customers acquired through WOM 52%" beside a peer share of 11% read as a contradiction.
    from wom_sim.sim.population import CHANNELS

    assert {"wom", "kol", "referral"} <= set(CHANNELS)
    entry = catalogue.metric("wom_acquired_share")
    assert "KOL" in entry.label and "referral" in entry.label
    assert "KOL" in entry.short_label and len(entry.short_label) <= 30


def test_a_share_difference_is_in_points_with_the_decimals_asked_for():
    # The cookbook printed a churn rate's change of -0.022 points as "-0.022%", which reads as a relative change;
    # format_delta is the one writer of a difference, so a table that needs three decimals asks it for them.
    assert catalogue.format_delta("churn_rate", -0.00022, digits=3) == "-0.022 pts"
    assert catalogue.format_delta("wom_acquired_share", 0.109) == "+10.9 pts"
    assert catalogue.format_delta("cum_profit", 319_540.0, digits=3) == "+320k"  # digits is for shares only


def test_the_derived_cost_says_what_cost_it_is():
    # The compare table's row read "Cost" beside "Intervention spend": a strategist took it for the programme's
    # cost. Its label and its short label both name what it adds up.
    from wom_sim.analysis.outcomes import short_label

    entry = catalogue.metric("cost")
    assert "goods" in entry.label and "spend" in entry.label
    assert short_label("cost") != "Cost" and "goods" in short_label("cost")
