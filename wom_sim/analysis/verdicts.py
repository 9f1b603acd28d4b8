"""Decisions from paired replications: does a treatment pay, from when, and which treatment beats which.

Pure functions of plain numbers (what runs produced); `wom_sim.experiment.comparison.Comparison` builds its
`verdicts()`, `pairwise()`, `ranking()` and `summary()` from them.

- `verdict`: "pays" when the 95% CI of the incremental profit lies above 0, "does not pay" when it lies below,
  "not sure" when it contains 0 (or there are fewer than 2 replications).
- `payback_tick`: the first tick from which the mean cumulative profit uplift stays at or above 0 to the horizon.
- `pairwise_differences`: every pair of treatments, the paired difference of their incremental profit (the base
  cancels: replication i of every arm shares its seed), its 95% t-interval, the paired t-test's p-value and the
  Holm step-down adjustment of those p-values over all pairs (`holm`, written here: 6 lines, no extra dependency).

Reference: Holm, S. (1979), "A simple sequentially rejective multiple test procedure", Scandinavian Journal of
Statistics 6(2), 65-70.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.statistics import LEVEL, paired_difference
from wom_sim.catalogue import format_money, ticks_text

PAYS, DOES_NOT_PAY, NOT_SURE = "pays", "does not pay", "not sure"
VERDICTS = (PAYS, DOES_NOT_PAY, NOT_SURE)
ALPHA = 1.0 - LEVEL  # family-wise error rate of the pairwise table (Holm)
HOLM_NOTE = "Holm step-down adjustment over {m} pair{s} of treatments, family-wise error rate 5%"

# The columns of `Comparison.verdicts()` and of verdicts.csv, in order (the report and the Excel sheet read them).
VERDICT_COLUMNS = ["rank", "treatment", "verdict", "incremental_profit", "profit_ci_low", "profit_ci_high",
                   "programme_cost", "volume_cost", "roi", "roi_ci_low", "roi_ci_high", "payback_tick", "n",
                   "horizon", "tick_unit", "currency", "sentence"]  # fmt: skip
PAIRWISE_COLUMNS = ["treatment", "other", "difference", "ci_low", "ci_high", "p_value", "p_holm", "beats",
                    "n", "adjustment"]  # fmt: skip


def verdict(ci_low: float, ci_high: float) -> str:
    """ "pays", "does not pay" or "not sure" from the CI of an incremental profit (above, at most, around 0).

    Examples
    --------
    >>> verdict(282e3, 314e3), verdict(-20e3, -4e3), verdict(-5e3, 11e3), verdict(float("nan"), float("nan"))
    ('pays', 'does not pay', 'not sure', 'not sure')
    """
    if ci_low > 0:
        return PAYS
    if ci_high <= 0:  # at best no gain: [0, 0] is a treatment that changes no profit at all
        return DOES_NOT_PAY
    return NOT_SURE


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (step-down): the i-th smallest of m p-values times (m - i + 1), made monotone, capped
    at 1. Rejecting where the adjusted value is below alpha controls the family-wise error rate at alpha.

    NaN p-values stay NaN and do not count in m.

    Examples
    --------
    >>> [round(float(p), 3) for p in holm([0.01, 0.04, 0.03])]  # 0.01*3, max(0.03*2, 0.03), max(0.04*1, 0.06)
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    out[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    return out


def payback_note(unit: str = "tick") -> str:
    """Why the payback of a verdict and of the outcome table can differ (both are shown beside each other): the
    verdict's is of the mean profit uplift curve (`payback_tick`), the table's the mean of each run's own payback
    over the runs that paid back. Without it, "payback in week 16" above "Payback week: week 14" reads as a typo."""
    return (
        f"Payback {unit} in the tables: the mean of each run's own payback {unit} (over the runs that paid back); "
        f"in the verdicts and the ranking: the {unit} from which the mean profit uplift stays above 0. The two can "
        f"differ by a few {unit}s."
    )


def payback_tick(ticks: Sequence[float], uplift: Sequence[float]) -> float:
    """The first tick from which a cumulative uplift stays >= 0 to the end (NaN unless it ends above 0).

    Examples
    --------
    >>> payback_tick([1, 2, 3, 4, 5], [-5.0, -1.0, 2.0, 1.0, 3.0]), payback_tick([1, 2], [1.0, -1.0])
    (3.0, nan)
    """
    t, u = np.asarray(ticks, dtype=float), np.asarray(uplift, dtype=float)
    if not u.size or not u[-1] > 0:
        return math.nan
    below = np.flatnonzero(~(u >= 0))
    return float(t[below[-1] + 1]) if below.size else float(t[0])


def paired_test(base: Sequence[float], treatment: Sequence[float], level: float = LEVEL) -> dict[str, float]:
    """`paired_difference` (mean, paired CI) plus the two-sided paired t-test's p-value (`scipy.stats.ttest_rel`).

    With no spread in the differences the p-value is 0 for a non-zero mean and 1 for a zero one. A spread below
    1e-9 of the differences' size is rounding (a difference that is the same spend in every replication, summed in
    another order), not variation: scipy would warn of catastrophic cancellation and return noise.
    """
    out = paired_difference(base, treatment, level)
    diff = np.asarray(treatment, float) - np.asarray(base, float)
    if diff.size < 2:
        p = math.nan
    elif np.ptp(diff) <= 1e-9 * max(1.0, float(np.max(np.abs(diff)))):
        p = 0.0 if diff[0] != 0 else 1.0
    else:
        # lazy: scipy.stats is 0.3 s of start-up, and `wom-sim run` reaches this module through its figures
        from scipy import stats

        p = float(stats.ttest_rel(treatment, base).pvalue)
    return out | {"p_value": p}


def pairwise_differences(profits: dict[str, Sequence[float]], order: Sequence[str] | None = None) -> pd.DataFrame:
    """Every pair of treatments: the paired difference of their per-replication profits, CI, p and Holm p.

    Parameters
    ----------
    profits : dict
        Treatment label -> its profit (or incremental profit) per replication, replications in the same order.
    order : sequence of str, optional
        The ranking: each pair is written better-ranked first, so ``difference`` = treatment - other.

    Returns
    -------
    DataFrame
        `PAIRWISE_COLUMNS`: ``beats`` is True where the Holm-adjusted p-value is below 5% and the difference > 0.
    """
    names = list(order or profits)
    rows = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            test = paired_test(profits[second], profits[first])
            rows.append(
                {
                    "treatment": first,
                    "other": second,
                    "difference": test["uplift"],
                    "ci_low": test["ci_low"],
                    "ci_high": test["ci_high"],
                    "p_value": test["p_value"],
                    "n": test["n"],
                }
            )
    frame = pd.DataFrame(rows, columns=[c for c in PAIRWISE_COLUMNS if c not in ("p_holm", "beats", "adjustment")])
    frame["p_holm"] = holm(frame["p_value"].to_numpy()) if len(frame) else []
    frame["beats"] = (frame["p_holm"] < ALPHA) & (frame["difference"] > 0)
    frame["adjustment"] = HOLM_NOTE.format(m=len(frame), s="" if len(frame) == 1 else "s")
    return frame[PAIRWISE_COLUMNS]


def rank_treatments(incremental_profit: dict[str, float]) -> list[str]:
    """Treatment labels by mean incremental profit, highest first (ties keep their order)."""

    def key(label: str) -> float:
        value = incremental_profit[label]
        return -value if value == value else math.inf  # NaN last

    return sorted(incremental_profit, key=key)


def verdict_sentence(row: dict, pairs: pd.DataFrame | None = None, currency: str | None = None) -> str:
    """One sentence per treatment from a row of `VERDICT_COLUMNS`, and its pairwise rows with lower-ranked ones.

    Examples
    --------
    >>> row = {"treatment": "referral_program", "verdict": "pays", "incremental_profit": 298e3,
    ...        "profit_ci_low": 282e3, "profit_ci_high": 314e3, "horizon": 104, "tick_unit": "week",
    ...        "programme_cost": 42e3, "roi": 6.04, "roi_ci_low": 5.1, "roi_ci_high": 7.0, "payback_tick": 11}
    >>> verdict_sentence(row, currency="EUR")  # doctest: +ELLIPSIS
    'referral_program pays: +298k EUR profit (95% CI +282k EUR to +314k EUR) over 104 weeks, 6.0 back ... week 11'
    """

    def money(value: float) -> str:
        return format_money(value, currency, signed=True)

    name, word, unit = row["treatment"], row["verdict"], row.get("tick_unit") or "tick"
    head = f"{name} {word}" if word != NOT_SURE else f"{name}: not sure it pays"
    text = (
        f"{head}: {money(row['incremental_profit'])} profit (95% CI {money(row['profit_ci_low'])} to "
        f"{money(row['profit_ci_high'])}) over {ticks_text(int(row['horizon']), unit)}"
    )
    roi_value = row.get("roi", math.nan)
    if row.get("programme_cost", 0) > 0 and roi_value == roi_value:
        low, high = row.get("roi_ci_low", math.nan), row.get("roi_ci_high", math.nan)
        # Fieller's interval has no finite bounds when the extra spend is not clearly above 0: say so in words,
        # a strategy team cannot read "95% CI nan to nan".
        bounded = low == low and high == high
        if roi_value >= 0:
            text += f", {roi_value:.1f} back per unit of programme spend after paying for it"
            bounds = f"{low:.1f} to {high:.1f}"
        else:  # ROI -0.3: of each unit spent 0.7 came back as extra profit before the spend
            text += f", recovers {max(1 + roi_value, 0):.1f} of each unit of programme spend"
            bounds = f"{max(1 + low, 0):.1f} to {max(1 + high, 0):.1f}"
        text += f" (95% CI {bounds})" if bounded else " (95% CI n/a: the extra spend is not clearly above 0)"
    else:
        text += ", no programme spend of its own"
    payback = row.get("payback_tick", math.nan)
    if payback == payback and payback is not None and payback <= 0:  # ticks start at 0
        text += f", profit ahead of the base from the first {unit}"  # never behind: nothing was paid back
    elif payback == payback and payback is not None:
        text += f", payback in {unit} {int(payback)}"
    elif word != DOES_NOT_PAY:
        text += f", not paid back within {ticks_text(int(row['horizon']), unit)}"
    if pairs is not None and len(pairs):
        mine = pairs[pairs["treatment"] == name]
        clauses = []
        for _, p in mine.iterrows():
            what = "beats" if p["beats"] else "not distinguishable from"
            clauses.append(
                f"{what} {p['other']} by {money(p['difference'])} ({money(p['ci_low'])} to {money(p['ci_high'])})"
                if p["beats"]
                else f"{what} {p['other']} ({money(p['difference'])}, {money(p['ci_low'])} to {money(p['ci_high'])})"
            )
        if clauses:
            text += "; " + ", ".join(clauses)
    return text


def programme_entries(base: dict[str, Any], treatment: dict[str, Any]) -> list[str]:
    """The names of the interventions a treatment adds, changes or drops against the base (scenario payloads):
    their spend is the treatment's own programme cost (events, such as a crisis, are no programme). Names as
    `scenario.schema.named_entries` gives them (the entry's name or kind; repeats `_2`, `_3`...), so they match the
    `cost_<name>` columns of a run.

    Examples
    --------
    >>> base = {"interventions": [{"kind": "referral_reward", "reward": 5}]}
    >>> programme_entries(base, {"interventions": [{"kind": "referral_reward", "reward": 5},
    ...                                            {"kind": "kol_campaign", "name": "launch"}]})
    ['launch']
    """

    def named(payload: dict[str, Any]) -> dict[str, Any]:
        out, counts = {}, {}
        for section in ("events", "interventions"):  # numbered over both, as `named_entries` names the runs' costs
            for entry in payload.get(section) or []:
                stem = entry.get("name") or entry.get("kind")
                counts[stem] = counts.get(stem, 0) + 1
                if section == "interventions":
                    out[stem if counts[stem] == 1 else f"{stem}_{counts[stem]}"] = entry
        return out

    mine, theirs = named(base), named(treatment)
    return [n for n in dict.fromkeys([*theirs, *mine]) if mine.get(n) != theirs.get(n)]
