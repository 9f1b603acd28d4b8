"""Means with confidence intervals, paired differences and the return on an extra spend, over replications.

One estimator of each, used by experiments, validation, calibration, the cookbook and the reports:

- `mean_ci`: the mean of replications with a two-sided t-interval, mean +- t(0.975, n-1) sd / sqrt(n). Replications
  are independent draws of the model given the scenario, so the interval is exact for normal outcomes and accurate
  for the near-normal means of a few dozen runs. `mean_ci_table` is the same interval for every column of a frame,
  per group; `timeseries_ci` applies it per tick.
- `paired_difference`: treatment - base over replications paired by seed (common random numbers), with the paired
  t-interval and, for reference, the unpaired (Welch) one on the same runs.
- `roi`: mean incremental gain (profit or revenue) / mean incremental cost, a ratio of means, with Fieller's
  interval (Fieller 1954), the t-interval of a ratio: with a cost that does not vary it is the paired t-interval of
  the gain divided by the cost, so it agrees with the interval of the profit uplift beside it.

Nothing here runs a model: every function takes numbers that runs produced.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from wom_sim.catalogue import format_number, value_range

LEVEL = 0.95  # two-sided confidence level of every interval


def t_quantile(p: float, dof):
    """Student's t quantile at probability `p` with `dof` degrees of freedom (NaN where dof is NaN).

    `scipy.special.stdtrit` is what `scipy.stats.t.ppf` computes (the same numbers, a test checks), without
    importing `scipy.stats`: that import is 0.3 s of every command's start-up, and a run needs only this quantile.
    """
    return special.stdtrit(dof, p)


def t_half_width(sd: np.ndarray | float, n: np.ndarray | float, level: float = LEVEL) -> np.ndarray:
    """Half-width of the t-interval of a mean: t(level, n-1) * sd / sqrt(n); NaN for n < 2.

    Examples
    --------
    >>> round(float(t_half_width(1.0, 4)), 4)  # t(0.975, 3) = 3.1824, / sqrt(4)
    1.5912
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = t_quantile(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        return q * np.asarray(sd, dtype=float) / np.sqrt(n)


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its confidence interval (low and high are NaN with fewer than 2 values)."""

    value: float
    low: float
    high: float
    n: int

    def text(self, fmt: str = "{:.3g}") -> str:
        """`value (low to high)`, or just the value without an interval, or `n/a`."""
        if not math.isfinite(self.value):
            return "n/a"
        if self.n < 2 or not math.isfinite(self.low):
            return format_number(fmt, self.value)
        shown = (format_number(fmt, x) for x in (self.value, self.low, self.high))
        return "{} ({} to {})".format(*shown)


def mean_ci(values: Iterable[float], level: float = LEVEL) -> Estimate:
    """Mean and two-sided t-interval of replications; non-finite values (a ratio with an empty denominator) dropped.

    Examples
    --------
    >>> est = mean_ci([1.0, 2.0, 3.0, float("nan")])
    >>> est.value, est.n, round(est.high - est.value, 3)
    (2.0, 3, 2.484)
    >>> mean_ci([4.0]).text()
    '4'
    """
    x = np.asarray(list(values), dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size < 2:
        return Estimate(mean, math.nan, math.nan, 1)
    half = float(t_half_width(x.std(ddof=1), x.size, level))
    return Estimate(mean, mean - half, mean + half, int(x.size))


def mean_ci_table(values: pd.DataFrame | pd.Series, by: list[str] | None = None, level: float = LEVEL) -> pd.DataFrame:
    """`mean_ci` of every numeric column, per group of `by`, as a tidy frame: [by...], metric, mean, sd, n, ci_*.

    Missing values are left out of a column's mean, sd and n, as in `mean_ci`.
    """
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    by = by or []
    value_cols = [c for c in frame.columns if c not in by and pd.api.types.is_numeric_dtype(frame[c])]
    long = frame[by + value_cols].melt(id_vars=by or None, var_name="metric", value_name="value")
    long["value"] = long["value"].where(np.isfinite(long["value"].astype(float)))
    agg = long.groupby([*by, "metric"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    agg = agg.rename(columns={"std": "sd", "count": "n"})
    half = t_half_width(agg["sd"], agg["n"], level)
    low, high = agg["mean"] - half, agg["mean"] + half
    # A metric's mean lies where its values do (a share in 0-1, an NPS in -100..100): the t-interval of two or
    # three replications reaches past that, and is cut there (coverage is kept: no mean lies outside).
    floor, ceiling = zip(*(value_range(name) for name in agg["metric"]), strict=True) if len(agg) else ((), ())
    agg["ci_low"] = np.maximum(low.to_numpy(dtype=float), np.asarray(floor, dtype=float))
    agg["ci_high"] = np.minimum(high.to_numpy(dtype=float), np.asarray(ceiling, dtype=float))
    return agg


def timeseries_ci(frame: pd.DataFrame, by: list[str] | None = None, level: float = LEVEL) -> pd.DataFrame:
    """Mean and CI per tick of every per-tick column over runs: [by...], t, metric, mean, sd, n, ci_low, ci_high."""
    frame = frame.drop(columns=["run_key", "seed", "replication"], errors="ignore")
    return mean_ci_table(frame, by=[*(by or []), "t"], level=level)


def paired_difference(base: np.ndarray, treatment: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Uplift treatment - base over replications paired by seed, with the paired and the unpaired (Welch) CI.

    The paired CI uses the per-replication differences (common random numbers make them far less variable than
    either arm); the unpaired one treats the same runs as two independent samples. Their width ratio is how much
    the pairing buys.

    Examples
    --------
    >>> out = paired_difference([10.0, 12.0, 11.0], [11.0, 13.1, 11.9])
    >>> round(out["uplift"], 3), out["n"], out["width_ratio"] < 0.2
    (1.0, 3, True)
    """
    base, treatment = np.asarray(base, float), np.asarray(treatment, float)
    diff = treatment - base
    n = len(diff)
    uplift = float(diff.mean()) if n else float("nan")
    half_paired = float(t_half_width(diff.std(ddof=1), n, level)) if n > 1 else float("nan")
    var_b, var_t = (base.var(ddof=1), treatment.var(ddof=1)) if n > 1 else (np.nan, np.nan)
    se = np.sqrt(var_b / n + var_t / n) if n > 1 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = se**4 / ((var_b / n) ** 2 / (n - 1) + (var_t / n) ** 2 / (n - 1)) if n > 1 else np.nan
        half_unpaired = float(t_quantile(0.5 + level / 2, dof) * se) if n > 1 and se > 0 else (0.0 if n > 1 else np.nan)
        ratio = half_paired / half_unpaired if half_unpaired else float("nan")
    base_mean = float(base.mean()) if n else float("nan")
    return {
        "base_mean": base_mean,
        "treatment_mean": float(treatment.mean()) if n else float("nan"),
        "uplift": uplift,
        "uplift_pct": 100.0 * uplift / abs(base_mean) if base_mean else float("nan"),
        "ci_low": uplift - half_paired,
        "ci_high": uplift + half_paired,
        "unpaired_ci_low": uplift - half_unpaired,
        "unpaired_ci_high": uplift + half_unpaired,
        "width_ratio": ratio,
        "n": n,
    }


def fieller(gain: float, cost: float, var_gain: float, var_cost: float, cov: float, q: float) -> tuple[float, float]:
    """Fieller's interval of gain / cost, for means with these variances and covariance and the quantile q.

    The ratios r with (gain - r cost)^2 <= q^2 var(gain - r cost) (Fieller 1954; for cost-effectiveness ratios
    Willan & O'Brien 1996): a bounded interval when the cost is significantly above 0 (cost^2 > q^2 var_cost),
    else none (NaN, NaN): the data cannot bound the ratio. With var_cost = cov = 0 it is (gain +- q sd) / cost.

    Examples
    --------
    >>> fieller(30.0, 20.0, 4.0, 0.0, 0.0, 2.0)  # (30 +- 2 * 2) / 20
    (1.3, 1.7)
    """
    a = cost**2 - q**2 * var_cost
    if not (math.isfinite(a) and a > 0):
        return math.nan, math.nan
    b = gain * cost - q**2 * cov
    c = gain**2 - q**2 * var_gain
    root = math.sqrt(max(b * b - a * c, 0.0))  # >= 0 when a > 0 (the ratio gain / cost is inside); rounding aside
    return float((b - root) / a), float((b + root) / a)


def roi(
    base_gain: Iterable[float],
    treat_gain: Iterable[float],
    base_cost: Iterable[float],
    treat_cost: Iterable[float],
    level: float = LEVEL,
) -> dict[str, float]:
    """Return on an extra spend: mean incremental gain / mean incremental cost, over replications paired by seed.

    With gain = profit (already net of the spend) 0 is break-even and 1.5 means every currency unit of extra spend
    came back with 1.5 more of profit after paying for itself; with gain = revenue, 1 is break-even on revenue. A
    ratio of means, not a mean of per-replication ratios: a replication whose extra cost happens to be small
    cannot blow it up, and it is the quantity a budget answers to (total gain per total spend).

    Parameters
    ----------
    base_gain, treat_gain, base_cost, treat_cost : sequences of equal length n
        Per replication i: the gain and the cost of the base and of the treatment run with the same seed.
    level : float
        Two-sided confidence level.

    Returns
    -------
    dict
        ``roi``, ``ci_low``, ``ci_high``: the ratio and its Fieller interval on the per-replication uplifts of
        gain and cost (paired by seed, t with n - 1 degrees of freedom, as `paired_difference`); ``unpaired_ci_low``,
        ``unpaired_ci_high``: Fieller with the arms as independent samples (each run keeps its gain and its cost;
        Welch's degrees of freedom of the gain uplift); ``width_ratio``: paired / unpaired width; ``gain`` and
        ``cost``: the mean incremental gain and cost; ``n``. All NaN but ``n`` when there are fewer than 2
        replications or the treatment spends no more than the base; the bounds are NaN when the extra cost is not
        significantly above 0 (no finite interval).

    Fieller's interval, not a bootstrap: at the few replications a comparison often has, a bootstrap cannot see
    variation the runs did not show and under-covers (an ROI interval above 0 beside a profit interval across 0),
    while Fieller's, with the t quantile, keeps the coverage of the t-interval of the profit uplift.

    Examples
    --------
    >>> out = roi([100.0, 110, 90, 105], [131.0, 139, 122, 134], [0.0, 0, 0, 0], [20.0, 19, 21, 20])
    >>> round(out["roi"], 3), out["ci_low"] < out["roi"] < out["ci_high"]
    (1.512, True)
    """
    bg, tg, bc, tc = (np.asarray(list(a), dtype=float) for a in (base_gain, treat_gain, base_cost, treat_cost))
    n = len(bg)
    if not len(tg) == len(bc) == len(tc) == n:
        raise ValueError("roi: the four sequences need one value per replication each")
    out = dict.fromkeys(("roi", "ci_low", "ci_high", "unpaired_ci_low", "unpaired_ci_high", "width_ratio"), np.nan)
    gain = float(tg.mean() - bg.mean()) if n else np.nan
    cost = float(tc.mean() - bc.mean()) if n else np.nan
    out |= {"gain": gain, "cost": cost, "n": n}
    # A cost difference within rounding of the arms' spend is no extra spend: the ratio would be noise.
    if n < 2 or not cost > 1e-9 * max(abs(bc.mean()), abs(tc.mean()), 1.0):
        return out
    value = gain / cost
    dg, dc = tg - bg, tc - bc  # per-replication uplifts: common random numbers cancel in both
    q = float(t_quantile(0.5 + level / 2, n - 1))
    low, high = fieller(gain, cost, dg.var(ddof=1) / n, dc.var(ddof=1) / n, np.cov(dg, dc)[0, 1] / n, q)
    # Unpaired: the arms' means are independent, so their variances (and gain-cost covariances) add.
    var_gain = (tg.var(ddof=1) + bg.var(ddof=1)) / n
    var_cost = (tc.var(ddof=1) + bc.var(ddof=1)) / n
    cov = (np.cov(tg, tc)[0, 1] + np.cov(bg, bc)[0, 1]) / n
    with np.errstate(invalid="ignore", divide="ignore"):  # Welch-Satterthwaite; n - 1 when the gain does not vary
        dof = var_gain**2 / ((tg.var(ddof=1) / n) ** 2 / (n - 1) + (bg.var(ddof=1) / n) ** 2 / (n - 1))
    q_unpaired = float(t_quantile(0.5 + level / 2, dof if np.isfinite(dof) else n - 1))
    u_low, u_high = fieller(gain, cost, var_gain, var_cost, cov, q_unpaired)
    width = (high - low) / (u_high - u_low) if u_high > u_low else np.nan
    return out | {
        "roi": value,
        "ci_low": low,
        "ci_high": high,
        "unpaired_ci_low": u_low,
        "unpaired_ci_high": u_high,
        "width_ratio": float(width),
    }
