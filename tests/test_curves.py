"""Response curves (wom_sim/experiment/curves.py): paired bands against the lever's lowest level, spend from the
run's economics, the current plan marked."""

from __future__ import annotations

import re

import numpy as np
import pytest

from wom_sim.errors import ScenarioError
from wom_sim.experiment.curves import curves


def test_curve_of_a_reward_is_paired_and_costs_what_the_economics_say():
    table = curves(
        "referral_program",
        ["referral_reward.sender_reward=0:20:3"],
        replications=3,
        overrides={"network.n": 250, "ticks": 12},
        outcomes=["profit", "adoption_share", "new_referral"],
    )
    out = {name: frame.set_index("value") for name, frame in table.groupby("outcome")}
    profit, referrals = out["profit"], out["new_referral"]
    assert list(profit.index) == [0.0, 10.0, 20.0] and profit.loc[10.0, "current"]  # the bundled plan pays 10
    # The spend is the economics' payout: (sender + receiver reward) per referred adopter, in every run, so its
    # mean over the replications is (level + 10) x the mean number of referrals, exactly. The current level
    # shares its runs with the current plan: counted once.
    assert np.allclose(profit["spend"], (profit.index + 10.0) * referrals["mean"])
    # The sender's reward buys talk (the talk uplift grows with it: tests/test_interventions.py), so the levels
    # differ in behaviour, not only in price: the profit uplift is not the spend's alone (before rewards bought
    # anything it was, exactly). At 250 people and 12 weeks a run has about one referral: no direction is tested.
    assert not np.allclose(profit["uplift"], -profit["spend_uplift"])
    assert (profit["ci_low"] <= profit["uplift"]).all() and (profit["uplift"] <= profit["ci_high"]).all()
    assert profit.loc[0.0, "uplift"] == 0.0 and np.isnan(profit.loc[0.0, "step_uplift"])


def test_an_outcome_past_the_horizon_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(
        ScenarioError, match=r"'at:12:profit': tick 12 is past the horizon of 12 ticks \(allowed: 0-11\)"
    ):
        curves("referral_program", ["referral_reward.sender_reward=0:20:3"], replications=2,
               overrides={"network.n": 250, "ticks": 12}, outcomes=["at:12:profit"], out=tmp_path / "out")  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_a_level_hiring_more_kols_than_people_is_refused_before_anything_runs(tmp_path):
    # it failed when the study reached that level, naming kols.select.k, with the store already written
    with pytest.raises(ScenarioError, match=r"--lever kol_campaign.select.k=250: interventions.0.select.k"):
        curves("kol_launch", ["kol_campaign.select.k=0:500:3"], replications=2,
               overrides={"network.n": 200, "ticks": 5}, out=tmp_path / "out")  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_the_command_writes_the_table_and_one_figure_per_lever_listed_as_ours(tmp_path):
    import json

    from click.testing import CliRunner

    from wom_sim.cli import cli

    out = tmp_path / "curves"
    args = ["curves", "kol_launch", "--lever", "kol_campaign.select.k=0:10:2",
            "-r", "2", "--outcome", "adoption_share", "--set", "network.n=150", "--set", "ticks=6",
            "--workers", "0", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    listed = set(json.loads((out / "wom-sim.json").read_text())["files"])
    expected = {"curves.csv", "curve_kol_campaign.select.k.png"}
    assert expected <= listed and all((out / name).stat().st_size > 0 for name in expected)
    # The lowest level has no ROI (no spend over itself): the printed table leaves it empty, never NaN.
    assert "NaN" not in result.stdout and "nan" not in result.stdout, result.stdout
    bad = CliRunner().invoke(cli, ["curves", "kol_launch", "--lever", "kol_campaign.select.k=5:1:3", "--out",
                                   str(tmp_path / "bad")])  # fmt: skip
    assert bad.exit_code == 2 and "high > low" in bad.output, bad.output
    # An unknown outcome: one line naming --outcome, before an executor starts (it prints "executing on ...").
    bad = CliRunner().invoke(cli, ["curves", "kol_launch", "--lever", "kol_campaign.select.k=0:10:2", "--outcome",
                                   "bogus", "--workers", "1", "--out", str(tmp_path / "bad")])  # fmt: skip
    assert bad.exit_code == 2 and bad.output.strip().splitlines() == [
        "error: --outcome bogus: unknown metric 'bogus' (any per-tick column or cost_<intervention>)"
    ], bad.output
    assert not (tmp_path / "bad").exists()


def test_the_command_takes_ticks_and_quiet_as_run_and_compare_do(tmp_path):
    from click.testing import CliRunner

    from wom_sim.cli import cli

    out = tmp_path / "curves"
    args = ["curves", "kol_launch", "--lever", "kol_campaign.select.k=0:10:2", "-r", "2", "--outcome", "adoption_share",
            "--set", "network.n=150", "--ticks", "6", "--workers", "0", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""  # no "executing on", no progress bar, no table
    assert (out / "curves.csv").stat().st_size > 0
    # --ticks is the horizon of every run, as --set ticks=N: tick 6 is past it.
    past = CliRunner().invoke(cli, [*args[:-2], "--outcome", "at:6:profit", "--out", str(tmp_path / "past"), "-q"])
    assert past.exit_code == 2 and "past the horizon of 6 ticks" in past.output, past.output


def test_a_campaign_hiring_the_scenarios_kols_has_them_as_its_current_level():
    # kol_launch's campaign has no `select` of its own: it hires kols.select (10 by degree), so that is the
    # current level of kol_campaign.select.k (docs/optimise.md's example), added and marked.
    table = curves(
        "kol_launch",
        ["kol_campaign.select.k=0:20:2"],
        replications=2,
        overrides={"network.n": 200, "ticks": 4},
        outcomes=["profit"],
    )
    assert list(table["value"]) == [0.0, 10.0, 20.0]
    assert list(table["current"]) == [False, True, False]


def test_the_printed_table_reads_as_the_reports_does(tmp_path):
    # It printed the raw frame: "spend_uplift 38200.0", "adoption_share 0.350 0.119 0.581", while compare prints
    # "+35.0 pts (+11.9 pts to +58.1 pts)" and the report's Details table labels and units every outcome.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    args = ["curves", "kol_launch", "--lever", "kol_campaign.select.k=0:20:2", "-r", "2", "--outcome",
            "adoption_share", "--outcome", "profit", "--set", "network.n=150", "--ticks", "6", "--workers", "0",
            "--out", str(tmp_path / "curves")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert "extra spend" in header and "uplift vs the lowest level" in header and "spend_uplift" not in header
    shares = [r for r in rows if "Ever adopted (share of population)" in r and r.startswith("kol_campaign.select.k  ")]
    assert len(shares) == 3 and all(" pts to " in r for r in shares), result.stdout
    assert any("Profit (total)" in r for r in rows)
    assert not any(re.search(r"\d\.\d{3}", r) for r in rows), result.stdout  # no 0.350, 38200.000


def test_the_help_names_what_each_option_takes_and_shows_an_example():
    # `wom-sim curves --help` showed "--outcome TEXT", "-r INTEGER RANGE" and "--out TEXT": a strategist cannot tell
    # what to type. Every option names what it takes, and the help ends with a command to copy.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    text = CliRunner().invoke(cli, ["curves", "--help"]).output
    assert "TEXT" not in text and "INTEGER" not in text, text
    for shown in ("--lever LEVER=LOW:HIGH:STEPS", "--outcome METRIC", "-r, --replications N", "--out FOLDER"):
        assert shown in text
    assert "wom-sim curves kol_launch --lever kols.select.k=0:40:5" in text


def test_a_changed_spec_is_one_warning_line_not_a_python_warning(tmp_path):
    # Curves resumed into a store of other replications printed Python's two-line warning
    # ("studies.py:145: StoreWarning: ..." and the source line) instead of one line like compare and sweep.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    args = ["curves", "kol_launch", "--lever", "kol_campaign.select.k=0:10:2", "--outcome", "adoption_share",
            "--set", "network.n=150", "--ticks", "4", "--workers", "0", "--out", str(tmp_path / "c"), "-q"]  # fmt: skip
    assert CliRunner().invoke(cli, [*args, "-r", "2"]).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "-r", "3"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"warning: {tmp_path / 'c'}: the curves spec changed"), result.stderr
    assert "StoreWarning" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_curve_of_a_key_that_costs_nothing_warns_before_it_runs(tmp_path):
    # A response curve of advertising.reach spends nothing at every level: its ROI is undefined and its profit only
    # rises. One warning line before the runs names the priced lever.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    result = CliRunner().invoke(cli, ["curves", "baseline", "--lever", "advertising.reach=0.05,0.1", "-r", "2",
                                      "--set", "network.n=150", "--ticks", "4", "--workers", "0", "--out",
                                      str(tmp_path / "c")])  # fmt: skip
    assert result.exit_code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("warning: advertising.reach costs nothing in the model") and "budget_per_tick" in first


def test_a_lever_the_scenario_cannot_take_is_one_line_before_an_executor_starts(tmp_path):
    # The lever's key was resolved inside the study, after "executing on 1 local process" and a worker pool.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    result = CliRunner().invoke(cli, ["curves", "baseline", "--lever", "nosuch.key=0:1:2", "--workers", "1",
                                      "--out", str(tmp_path / "bad")])  # fmt: skip
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --lever nosuch.key:"), result.output
    assert not (tmp_path / "bad").exists()
