"""Response curves (wom_sim/experiment/curves.py): paired bands against the lever's lowest level, spend from the
run's economics, the current plan marked."""

from __future__ import annotations

import numpy as np

from wom_sim.experiment.curves import curves


def test_curve_of_a_reward_is_paired_and_costs_what_the_economics_say():
    table = curves(
        "referral_program",
        ["referral_reward.sender_reward=0:20:3"],
        replications=3,
        overrides={"network.n": 250, "ticks": 12},
        outcomes=["profit", "adoption_share"],
    )
    profit = table[table["outcome"] == "profit"].set_index("value")
    assert list(profit.index) == [0.0, 10.0, 20.0] and profit.loc[10.0, "current"]  # the bundled plan pays 10
    # Spend comes from the runs' cost column of the entry; the ROI is the paired profit uplift over it.
    assert (profit.loc[[10.0, 20.0], "spend_uplift"] > 0).all()
    row = profit.loc[20.0]
    assert np.isclose(row["avg_roi"], row["uplift"] / row["spend_uplift"])
    assert row["ci_low"] <= row["uplift"] <= row["ci_high"]
    assert profit.loc[0.0, "uplift"] == 0.0 and np.isnan(profit.loc[0.0, "step_uplift"])
