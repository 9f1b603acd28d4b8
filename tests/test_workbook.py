"""The Excel workbook (wom_sim/report/workbook.py), read back as a user's spreadsheet would read it."""

from __future__ import annotations

import shutil
import sys

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import wom_sim
from wom_sim.catalogue import metric
from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.report.workbook import INSTALL_HINT, require_openpyxl, write_workbook

SMALL = {"network.n": 200, "ticks": 10}


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("wb") / "cmp"
    wom_sim.compare("baseline", "referral_program", replications=2, overrides=SMALL, out=out)
    return out


def _rows(sheet) -> list[dict]:
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_a_comparison_workbook_has_labelled_formatted_uplifts(compare_dir):
    book = openpyxl.load_workbook(write_workbook(compare_dir))
    assert book.sheetnames == ["Summary", "Uplift", "Time series", "Scenario"]
    uplift = pd.read_csv(compare_dir / "uplift.csv").set_index("outcome")
    rows = {r["outcome"]: r for r in _rows(book["Uplift"])}
    assert rows["customers"]["label"] == metric("customers").label
    # A summed or averaged outcome says so, as the CLI and the report label it.
    assert rows["profit"]["label"] == "Profit (total)" and rows["churn_rate"]["label"] == "Churn rate per week (mean)"
    # Named outcomes read as the CLI names them, not by their key.
    assert rows["payback"]["label"].startswith("Payback week") and rows["crisis_damage"]["label"].startswith("Deepest")
    assert rows["customers"]["uplift"] == pytest.approx(uplift.loc["customers", "uplift"])
    # A share's uplift is in percentage points, and says so in its number format.
    assert rows["adoption_share"]["uplift"] == pytest.approx(100 * uplift.loc["adoption_share", "uplift"])
    header = [c.value for c in book["Uplift"][1]]
    row = 1 + list(rows).index("adoption_share") + 1
    assert "pts" in book["Uplift"].cell(row=row, column=header.index("uplift") + 1).number_format
    # A churn rate keeps the two decimals the CLI prints (0.63%, +0.04 pts), not 0.6% and +0.0 pts.
    churn = 1 + list(rows).index("churn_rate") + 1
    assert book["Uplift"].cell(row=churn, column=header.index("base_mean") + 1).number_format == "0.00%"
    assert book["Uplift"].cell(row=churn, column=header.index("ci_low") + 1).number_format.startswith('+0.00" pts"')
    scenario = {r["key"]: r for r in _rows(book["Scenario"])}
    assert scenario["network.n"]["baseline"] == 200 and scenario["interventions.0.kind"]["referral_program"] == (
        "referral_reward"
    )


def test_relative_outcomes_have_the_number_format_the_cli_shows(compare_dir):
    # The CLI shows the deepest brand drop as a percentage (-1.1%) and the payback as a whole week: a bare
    # -0.0113 or 14.3333 in the sheet reads as another number.
    sheet = openpyxl.load_workbook(write_workbook(compare_dir))["Uplift"]
    header = [c.value for c in sheet[1]]
    formats = {
        row[header.index("outcome")].value: {c: row[header.index(c)].number_format for c in ("uplift", "ci_low")}
        for row in sheet.iter_rows(min_row=2)
    }
    assert formats["crisis_damage"]["uplift"].startswith("+0.0%") and "%" in formats["crisis_damage"]["ci_low"]
    assert formats["payback"]["uplift"] == formats["payback"]["ci_low"] == "0"
    assert formats["roi"]["uplift"].startswith("+0.00")


def test_a_comparison_by_segment_has_its_group_sheet(tmp_path):
    out = tmp_path / "cmp"
    c = wom_sim.compare("baseline", "referral_program", replications=2, overrides=SMALL, out=out, by="segment")
    book = openpyxl.load_workbook(write_workbook(out))
    assert book.sheetnames == ["Summary", "Uplift", "By segment", "Time series", "Scenario"]
    rows = _rows(book["By segment"])
    assert len(rows) == len(c.by_group) and rows[0]["group"] == c.by_group["group"].iloc[0]  # biggest first
    share = next(r for r in rows if r["outcome"] == "adoption_share" and r["uplift"] is not None)
    expected = c.by_group[(c.by_group["group"] == share["group"]) & (c.by_group["metric"] == "ever_adopted")]
    assert share["label"] == "Ever adopted (share of the group)"
    assert share["uplift"] == pytest.approx(100 * expected["uplift"].iloc[0])  # in percentage points


def test_the_summary_sheet_is_the_verdicts_compare_wrote(compare_dir, tmp_path):
    verdicts = pd.read_csv(compare_dir / "verdicts.csv")
    summary = pd.read_excel(write_workbook(compare_dir, tmp_path / "v.xlsx"), sheet_name="Summary")
    assert list(summary.columns) == list(verdicts.columns)
    assert summary["sentence"].tolist() == verdicts["sentence"].tolist()
    assert summary["incremental_profit"].tolist() == pytest.approx(verdicts["incremental_profit"].tolist())
    # Money, ROI and payback week formatted as the verdict line shows them, not 97447.52279274116.
    sheet = openpyxl.load_workbook(tmp_path / "v.xlsx")["Summary"]
    header = [c.value for c in sheet[1]]
    formats = {name: sheet.cell(row=2, column=j).number_format for j, name in enumerate(header, start=1)}
    assert formats["incremental_profit"] == formats["profit_ci_low"] == "+#,##0;-#,##0"
    assert formats["programme_cost"] == "#,##0" and formats["roi"] == "+0.00;-0.00" and formats["payback_tick"] == "0"


def test_the_uplift_sheet_says_what_the_derived_cost_adds_up(compare_dir, tmp_path):
    # A row labelled "Cost" beside "Intervention spend" read as the programme's cost; it is goods and spend.
    rows = _rows(openpyxl.load_workbook(write_workbook(compare_dir, tmp_path / "c.xlsx"))["Uplift"])
    (cost,) = [r for r in rows if r["outcome"] == "cost"]
    assert cost["label"] == "Cost of goods + intervention spend (total)"
    assert not any(r["label"] == "Cost" for r in rows)


def test_run_xlsx_writes_the_workbook_into_the_run_folder(tmp_path):
    out = tmp_path / "run"
    args = ["run", "baseline", "--set", "network.n=200", "--ticks", "6", "--out", str(out), "-q", "--xlsx"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(out / "run.xlsx", sheet_name=None)
    assert list(sheets) == ["Summary", "Time series", "Scenario"]
    metrics = pd.read_parquet(out / "metrics.parquet")
    series = sheets["Time series"]
    assert series[metric("customers").label].tolist() == metrics["customers"].tolist()
    summary = sheets["Summary"].set_index("outcome")
    assert summary.loc["adoption_share", "value"] == pytest.approx(metrics["adoption_share"].iloc[-1])
    assert summary.loc["pos_messages", "label"] == "Positive WOM messages (total)"  # as `wom-sim run` prints it
    assert "run.xlsx" in (out / "wom-sim.json").read_text()  # in the manifest: --force may replace it


def test_the_scenario_sheet_keeps_every_digit_of_a_large_seed(tmp_path):
    # Excel holds numbers as doubles: 9223372036854775807 would read back as 9223372036854775808, another run.
    out = tmp_path / "run"
    seed = 2**63 - 1
    args = ["run", "baseline", "--set", "network.n=200", "--ticks", "2", "--seed", str(seed), "--out", str(out), "-q"]
    result = CliRunner().invoke(cli, [*args, "--xlsx"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    scenario = {r["key"]: r["value"] for r in _rows(openpyxl.load_workbook(out / "run.xlsx")["Scenario"])}
    assert scenario["seed"] == str(seed) and scenario["ticks"] == 2


def test_without_openpyxl_one_line_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now raises ImportError
    with pytest.raises(ScenarioError, match=r'pip install "wom-sim\[excel\]"'):
        require_openpyxl()
    out = tmp_path / "cmp"
    result = CliRunner().invoke(cli, ["compare", "baseline", "kol_launch", "-r", "2", "--out", str(out), "--xlsx"])
    assert result.exit_code == 2 and result.output.strip() == f"error: {INSTALL_HINT}"
    assert not out.exists()  # refused before anything ran


def test_a_run_of_a_market_has_its_share_and_each_rival_in_the_summary_sheet(tmp_path):
    out = tmp_path / "run"
    args = ["run", "competitor_price_cut", "--set", "network.n=300", "--ticks", "6", "--out", str(out), "-q", "--xlsx"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = pd.read_excel(out / "run.xlsx", sheet_name="Summary").set_index("outcome")
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert summary.loc["rival_acme_market_share", "value"] == pytest.approx(metrics["rival_acme_market_share"].iloc[-1])
    assert {"market_share", "switch_out", "rival_acme_profit"} <= set(summary.index)


def test_a_workbook_never_replaces_a_file_of_the_users(compare_dir, tmp_path):
    mine = tmp_path / "mine.xlsx"
    mine.write_text("my own budget")
    with pytest.raises(ScenarioError, match="mine.xlsx: exists and is not a workbook wom-sim wrote"):
        write_workbook(compare_dir, mine)
    assert mine.read_text() == "my own budget"
    ours = write_workbook(compare_dir, tmp_path / "ours.xlsx")
    assert openpyxl.load_workbook(ours).properties.creator == "wom-sim"
    write_workbook(compare_dir, ours)  # an earlier workbook of ours is replaced
    # `report DIR --xlsx` checks before it writes anything: no report.html beside the user's compare.xlsx
    store = tmp_path / "store"
    shutil.copytree(compare_dir, store)
    (store / "report.html").unlink(missing_ok=True)
    (store / "compare.xlsx").write_text("my own budget")
    result = CliRunner().invoke(cli, ["report", str(store), "--xlsx"])
    assert result.exit_code == 2 and "exists and is not a workbook wom-sim wrote" in result.output
    assert (store / "compare.xlsx").read_text() == "my own budget" and not (store / "report.html").exists()


def test_a_payback_that_only_some_runs_reached_says_how_many_paid_back():
    # The terminal table and the report say "(2 of 3 runs paid back)"; the sheet showed week 13 alone, the mean of
    # the runs that paid back, and dropped n entirely from the Summary sheet without verdicts.
    from wom_sim.report.workbook import _uplift_sheet

    uplift = pd.DataFrame({
        "treatment": ["fast", "fast", "slow", "slow", "all"],
        "outcome": ["customers", "payback", "customers", "payback", "payback"],
        "base_mean": [10.0, float("nan"), 10.0, float("nan"), float("nan")],
        "treatment_mean": [12.0, float("nan"), 11.0, float("nan"), float("nan")],
        "uplift": [2.0, 13.0, 1.0, float("nan"), 9.0],
        "ci_low": [1.0, 5.0, 0.0, float("nan"), 8.0], "ci_high": [3.0, 21.0, 2.0, float("nan"), 10.0],
        "n": [3, 2, 3, 0, 3],
    })  # fmt: skip
    notes = _uplift_sheet(uplift, "week").set_index(["treatment", "outcome"])["note"]
    assert notes["fast", "payback"] == "2 of 3 runs paid back"
    assert notes["slow", "payback"] == "none of 3 runs paid back"
    assert notes["fast", "customers"] == notes["all", "payback"] == ""  # every run counted: nothing to say
