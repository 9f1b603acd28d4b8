"""Channel incrementality (wom_sim/experiment/attribution.py, wom_sim/cli/attribution.py): last-touch shares next
to the share of new customers lost with each channel switched off, paired by seed."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.experiment.attribution import attribution, channel_arms
from wom_sim.experiment.studies import as_arm

SMALL = {"network.n": 300, "ticks": 15}  # small enough for a test: ~5 arms x 3 runs in a few seconds


@pytest.fixture(scope="module")
def referral():
    return attribution("referral_program", replications=3, overrides=SMALL)


def test_each_channel_is_switched_off_in_its_own_arm():
    arms = {channel: (what, touch, arm.scenario) for channel, what, touch, arm in channel_arms(as_arm(
        "referral_program", SMALL))}  # fmt: skip
    assert list(arms) == ["advertising", "wom", "kol", "referral_reward"]
    assert arms["advertising"][2].advertising.reach == 0 and arms["wom"][2].wom.contact_prob == 0
    assert arms["kol"][2].kols.reach == 0 and arms["kol"][2].interventions  # only the KOLs are off
    assert arms["referral_reward"][1] == "referral" and not arms["referral_reward"][2].interventions
    # Every arm keeps the base's market, so replication i of each is paired with the base's (CRN).
    assert all(a[2].network == arms["wom"][2].network for a in arms.values())


def test_shares_add_up_and_every_interval_holds_its_estimate(referral):
    table = referral.table.set_index("channel")
    # Last touch credits each new customer to exactly one channel, in every replication, so the mean shares
    # add up to 1 up to float rounding.
    assert table["last_touch_share"].sum() == pytest.approx(1.0, abs=1e-9)
    switchable = table.drop(index="none")
    assert (switchable["lost_ci_low"] <= switchable["lost_share"]).all()
    assert (switchable["lost_share"] <= switchable["lost_ci_high"]).all()
    assert (switchable["n"] == 3).all()
    # Paired: every channel's arm is set against the same base acquisitions per replication.
    per_seed = referral.per_seed
    assert per_seed.groupby("replication")["base_acquisitions"].nunique().eq(1).all()
    wom = per_seed[per_seed["channel"] == "wom"]
    assert (wom["off_acquisitions"] < wom["base_acquisitions"]).all()  # no peer talk, fewer customers


def test_the_sentence_states_both_numbers_and_the_verdict(referral):
    for row in referral.table[referral.table["channel"] != "none"].itertuples():
        assert f"{row.lost_share:.0%}" in row.sentence and f"{row.last_touch_share:.0%}" in row.sentence
        expected = {"over-credits": "over-credits", "under-credits": "under-credits", "agrees": "agree"}[row.verdict]
        assert expected in row.sentence
        # The verdict follows from the paired CI of (last-touch share - lost share).
        if row.verdict == "over-credits":
            assert row.gap_ci_low > 0
        elif row.verdict == "under-credits":
            assert row.gap_ci_high < 0
        else:
            assert row.gap_ci_low <= 0 <= row.gap_ci_high


def test_too_few_replications_is_one_clear_error():
    with pytest.raises(ScenarioError, match="at least 2"):
        attribution("baseline", replications=1, overrides=SMALL)


def test_the_command_prints_the_table_and_writes_attribution_csv(tmp_path):
    out = tmp_path / "att"
    args = ["attribution", "baseline", "-r", "2", "--set", "network.n=200", "--ticks", "8", "--workers", "0"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "last-touch share" in result.output and "lost when off" in result.output
    table = pd.read_csv(out / "attribution.csv")
    assert list(table["channel"]) == ["advertising", "wom", "kol", "none"]
    for sentence in table["sentence"]:
        assert sentence in result.output
    bad = CliRunner().invoke(cli, ["attribution", "no_such_scenario", "-r", "2"])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "no_such_scenario" in bad.output


def test_a_share_interval_of_few_runs_stays_within_the_possible():
    # Two runs of referral_program at 1,000 people read "lost when off 12% (-140% to 163%)" and "credited 53% (-11%
    # to 117%)": no channel is credited with less than none or more than all new customers, none loses more than all.
    from wom_sim.experiment.attribution import _row

    share = pd.Series([0.02, 0.98]).to_numpy()
    lost = pd.Series([-0.5, 0.99]).to_numpy()
    row = _row("kol", "kols.reach=0", "kol", share, lost)
    assert 0.0 <= row["ci_low"] <= row["last_touch_share"] <= row["ci_high"] <= 1.0
    assert row["lost_ci_high"] == 1.0 and row["lost_ci_low"] < -0.5  # below 0 is possible: kept
    assert "163%" not in row["sentence"] and "100%)" in row["sentence"]
