"""Channel incrementality: what each acquisition channel is credited with by last touch, next to what it causes.

Last touch (the `new_<channel>` metrics: the channel of a new customer's most recent positive touch) credits a
customer to one channel. Its causal contribution is what the market loses when the channel is switched off:
the base and one arm per channel with that channel off run with the same replication seeds (common random
numbers, as in `comparison`), and replication i's loss is ``1 - acquisitions_off / acquisitions_base``. The two
disagree whenever channels overlap (a person who would have adopted through an ad anyway but heard a friend
last) or feed each other (an ad-won customer who then talks), which is why last touch misleads budget decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.outcomes import run_outcomes
from wom_sim.analysis.statistics import mean_ci
from wom_sim.catalogue import CHANNEL_LABELS
from wom_sim.errors import ScenarioError
from wom_sim.experiment.executors import Execution, Executor
from wom_sim.experiment.studies import Arm, as_arm, run_study, write_tables
from wom_sim.scenario.schema import Scenario, named_entries
from wom_sim.sim.population import CHANNELS

ACQUISITIONS = "new_customers"  # new customers over the horizon (initial customers excluded), summed per run
# How each always-present channel is switched off, as dotted overrides (docs/experiments.md, "Attribution").
# Peer WOM off also silences referral-tagged messages: they travel on ordinary customers' WOM contacts.
CHANNEL_SWITCHES: dict[str, dict[str, Any]] = {
    "advertising": {"advertising.reach": 0.0},  # also every advertising campaign: they multiply this reach
    "wom": {"wom.contact_prob": 0.0},  # ordinary customers' messages (KOLs' travel on kols.reach)
    "kol": {"kols.reach": 0.0},  # the natural KOLs' and hired KOLs' messages to their followers
}
# The last-touch channel an intervention kind acquires through (others have no channel of their own).
INTERVENTION_CHANNEL = {"referral_reward": "referral", "kol_campaign": "kol", "advertising": "advertising"}


@dataclass
class Attribution:
    """What `attribution` returns.

    Attributes
    ----------
    table : DataFrame
        One row per channel or intervention: channel, label, switched_off (what the off arm changes),
        last_touch_channel, last_touch_share with ci_low/ci_high (share of the base's new customers last touched
        by that channel), lost_share with lost_ci_low/lost_ci_high (share of the base's new customers lost when
        it is off), gap with gap_ci_low/gap_ci_high (last_touch_share - lost_share, paired by replication),
        verdict (over-credits, under-credits, agrees, not sure, or not recorded) and sentence. A ``none`` row gives the
        share last touch records no channel for.
    per_seed : DataFrame
        One row per replication and channel: the base's and the off arm's acquisitions.
    replications, seed, path, execution, notes
        How many paired replications, their base seed, the store folder (None: in memory), what ran.
    """

    scenario: str
    replications: int
    seed: int
    table: pd.DataFrame
    per_seed: pd.DataFrame
    path: Path | None = None
    execution: Execution | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"attribution": self.table, "attribution_per_seed": self.per_seed}


def channel_arms(base: Arm) -> list[tuple[str, str, str | None, Arm]]:
    """(channel, what is switched off, last-touch channel, the off arm) for every channel the base uses."""
    sc = base.scenario
    out = []
    for channel, overrides in CHANNEL_SWITCHES.items():
        if channel == "kol" and (sc.kols.select.k == 0 or sc.kols.reach == 0):
            continue  # no KOLs, nothing to switch off
        if channel == "advertising" and sc.advertising.reach == 0:
            continue
        if channel == "wom" and sc.wom.contact_prob == 0:
            continue
        what = ", ".join(f"{k}={v:g}" for k, v in overrides.items())
        out.append((channel, what, channel, Arm(f"no {channel}", _with(sc, overrides))))
    for section, index, spec, name in named_entries(sc):
        if section != "interventions":
            continue  # events (crises) are not acquisition levers
        kept = [e for i, e in enumerate(sc.interventions) if i != index]
        off = sc.model_copy(update={"interventions": kept})
        out.append((name, f"{name} removed", INTERVENTION_CHANNEL.get(spec.kind), Arm(f"no {name}", off)))
    return out


def _with(sc: Scenario, overrides: dict[str, Any]) -> Scenario:
    return as_arm(Arm(sc.name, sc), overrides).scenario


def attribution(
    scenario: Scenario | str | Path,
    replications: int = 20,
    seed: int | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
    warn: bool = True,
) -> Attribution:
    """Last-touch share of acquisitions per channel next to the share lost when that channel is switched off.

    Each channel (advertising, peer WOM, KOLs) and each intervention of the scenario gets one arm with it
    switched off (`CHANNEL_SWITCHES`; an intervention is removed); every arm runs with the base's replication
    seeds, so replication i of every arm is the same market (common random numbers).

    Parameters
    ----------
    scenario : Scenario, str or Path
        A Scenario, a scenario file or a bundled scenario's name.
    replications : int
        Paired replications per arm (at least 2, for the confidence intervals).
    seed, executor, out, overrides, progress, warn
        As for `wom_sim.compare`: base seed, where runs execute, a resumable store folder (None: memory), dotted
        overrides of the scenario, a progress bar, store warnings.

    Returns
    -------
    Attribution
        ``.table``: one row per channel with both shares, their 95% CIs and a sentence saying where they disagree.

    Raises
    ------
    ScenarioError
        For a scenario that cannot be loaded or fewer than 2 replications.

    Examples
    --------
    >>> import wom_sim
    >>> a = wom_sim.attribution("referral_program", replications=2, overrides={"network.n": 200, "ticks": 8})
    >>> list(a.table["channel"])
    ['advertising', 'wom', 'kol', 'referral_reward', 'none']
    >>> round(float(a.table["last_touch_share"].sum()), 6)  # last touch credits each customer to one channel
    1.0
    """
    if int(replications) < 2:
        raise ScenarioError(
            f"attribution: replications must be at least 2 for a confidence interval, not {replications}"
        )
    base = as_arm(scenario, overrides)
    channels = channel_arms(base)
    if not channels:
        raise ScenarioError(f"{base.label}: no acquisition channel is on (advertising, wom, kols all at 0)")
    arms = [base, *(arm for *_, arm in channels)]
    store, execution, notes = run_study("attribution", arms, replications, seed, executor, out, progress, warn)
    with store:  # the writer lock, taken by open, is held until the tables are written
        tasks = store.tasks()
        names = [ACQUISITIONS, *(f"new_{c}" for c in CHANNELS)]
        per_run = tasks.join(run_outcomes(store.load(tasks["run_key"]), names), on="run_key")
        table, per_seed = _tabulate(per_run, base.label, channels)
        result = Attribution(
            base.scenario.name,
            int(replications),
            int(base.scenario.seed if seed is None else seed),
            table,
            per_seed,
            store.path,
            execution,
            notes,
        )
        write_tables(store.path, result.tables, ("attribution",))
    return result


def _tabulate(per_run: pd.DataFrame, base: str, channels: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    wide = per_run.pivot_table(index="replication", columns="arm", values=per_run.columns.drop(
        ["arm", "arm_index", "replication", "seed", "run_key"]), aggfunc="first")  # fmt: skip
    acquired = wide[ACQUISITIONS][base].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {c: wide[f"new_{c}"][base].to_numpy(float) / acquired for c in CHANNELS}
    rows, seeds = [], []
    for channel, what, touch, arm in channels:
        off = wide[ACQUISITIONS][arm.label].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            lost = 1.0 - off / acquired
        share = shares[touch] if touch else np.full_like(lost, np.nan)
        rows.append(_row(channel, what, touch, share, lost))
        seeds.append(pd.DataFrame({"channel": channel, "replication": wide.index, "base_acquisitions": acquired,
                                   "off_acquisitions": off}))  # fmt: skip
    none = _within(mean_ci(shares["none"]), 0.0, 1.0)
    rows.append({"channel": "none", "label": CHANNEL_LABELS["none"], "switched_off": "", "last_touch_channel": "none",
                 "last_touch_share": none.value, "ci_low": none.low, "ci_high": none.high,
                 "verdict": "not switchable",
                 "sentence": f"Last touch records no channel for {none.value:.0%} of new customers: no ad or "
                 "message is recorded as their last touch (see docs/model.md on acquisition channels)."})  # fmt: skip
    return pd.DataFrame(rows), pd.concat(seeds, ignore_index=True)


def _within(est, low: float, high: float):
    """`est` with its interval cut to [low, high], where every replication's value and so the mean lie: a t-interval
    of 2-3 runs reached "-140% to 163%" of new customers; the cut keeps its coverage. NaN bounds stay NaN."""
    cut = (min(max(v, low), high) if v == v else v for v in (est.low, est.high))
    return replace(est, low=next(cut), high=next(cut))


def _row(channel: str, what: str, touch: str | None, share: np.ndarray, lost: np.ndarray) -> dict[str, Any]:
    # A last-touch share lies in 0-100% of new customers; a lost share at most 100% (it can be below 0: the channel
    # off, more customers); their gap is a paired difference and stays as it is.
    credit, loss, gap = _within(mean_ci(share), 0.0, 1.0), _within(mean_ci(lost), -np.inf, 1.0), mean_ci(share - lost)
    label = CHANNEL_LABELS.get(channel, channel)
    return {
        "channel": channel,
        "label": label,
        "switched_off": what,
        "last_touch_channel": touch or "",
        "last_touch_share": credit.value,
        "ci_low": credit.low,
        "ci_high": credit.high,
        "lost_share": loss.value,
        "lost_ci_low": loss.low,
        "lost_ci_high": loss.high,
        "gap": gap.value,
        "gap_ci_low": gap.low,
        "gap_ci_high": gap.high,
        "n": loss.n,
        **_verdict(label, touch, credit.value, loss, gap),
    }


def _verdict(label: str, touch: str | None, credit: float, loss, gap) -> dict[str, str]:
    """Over- or under-credited when the paired CI of last-touch share minus lost share excludes 0."""
    lost = f"switching it off loses {loss.text('{:.0%}')}"  # "41% (36% to 46%)", without a CI when there is none
    if touch is None:
        return {"verdict": "not recorded", "sentence": f"{label} has no last-touch channel; {lost} of new customers."}
    whose = "it" if touch == label or CHANNEL_LABELS.get(touch) == label else f"the {CHANNEL_LABELS[touch]} channel"
    said = f"{label}: last touch credits {whose} with {credit:.0%} of new customers but {lost}"
    if not (np.isfinite(gap.low) and np.isfinite(gap.high)):  # no new customers in a replication, or n < 2
        return {"verdict": "not sure", "sentence": f"{said}; too few new customers to tell whether they differ."}
    if gap.low > 0:
        return {"verdict": "over-credits", "sentence": f"{said}: last touch over-credits it."}
    if gap.high < 0:
        return {"verdict": "under-credits", "sentence": f"{said}: last touch under-credits it (it also feeds the "
                "other channels)."}  # fmt: skip
    return {"verdict": "agrees", "sentence": f"{said}: the two agree within the noise."}
