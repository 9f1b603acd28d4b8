"""Means with confidence intervals, paired differences and the return on an extra spend, over replications.

One estimator of each, used by experiments, validation, calibration, the cookbook and the reports:

- `mean_ci`: the mean of replications with a two-sided t-interval, mean +- t(0.975, n-1) sd / sqrt(n). Replications
  are independent draws of the model given the scenario, so the interval is exact for normal outcomes and accurate
  for the near-normal means of a few dozen runs. `mean_ci_table` is the same interval for every column of a frame,
  per group; `timeseries_ci` applies it per tick.
- `paired_difference`: treatment - base over replications paired by seed (common random numbers), with the paired
  t-interval and, for reference, the unpaired (Welch) one on the same runs.
- `roi`: mean incremental gain (profit or revenue) / mean incremental cost, a ratio of means, with a BCa bootstrap
  interval (Efron 1987) resampling replications in pairs; `scipy.stats.bootstrap` with a fixed seed.

Nothing here runs a model: every function takes numbers that runs produced.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from wom_sim.catalogue import format_number

LEVEL = 0.95  # two-sided confidence level of every interval
ROI_RESAMPLES = 4000  # bootstrap resamples of the ROI interval: Monte Carlo error of a BCa bound ~1% of its width
ROI_SEED = 0  # fixed, so an ROI interval is reproducible


def t_half_width(sd: np.ndarray | float, n: np.ndarray | float, level: float = LEVEL) -> np.ndarray:
    """Half-width of the t-interval of a mean: t(level, n-1) * sd / sqrt(n); NaN for n < 2.

    Examples
    --------
    >>> round(float(t_half_width(1.0, 4)), 4)  # t(0.975, 3) = 3.1824, / sqrt(4)
    1.5912
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
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
    agg["ci_low"], agg["ci_high"] = agg["mean"] - half, agg["mean"] + half
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
        half_unpaired = (
            float(stats.t.ppf(0.5 + level / 2, dof) * se) if n > 1 and se > 0 else (0.0 if n > 1 else np.nan)
        )
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


def _ratio_of_mean_uplifts(base_gain, treat_gain, base_cost, treat_cost, axis=-1):
    with np.errstate(invalid="ignore", divide="ignore"):
        return (treat_gain.mean(axis) - base_gain.mean(axis)) / (treat_cost.mean(axis) - base_cost.mean(axis))


def _bca(data: tuple[np.ndarray, ...], statistic, paired: bool, value: float, level: float, resamples: int, seed):
    """BCa interval of `statistic`; a point interval when the bootstrap distribution has no spread (every
    replication gives the same ratio), where BCa's acceleration is undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate or NaN resamples: handled below
        res = stats.bootstrap(
            data,
            statistic,
            paired=paired,
            vectorized=True,
            method="BCa",
            confidence_level=level,
            n_resamples=resamples,
            random_state=seed,
            axis=-1,
        )
    dist = res.bootstrap_distribution
    finite = dist[np.isfinite(dist)]
    if finite.size and np.ptp(finite) <= 1e-12 * max(abs(value), 1.0):
        return value, value
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def roi(
    base_gain: Iterable[float],
    treat_gain: Iterable[float],
    base_cost: Iterable[float],
    treat_cost: Iterable[float],
    level: float = LEVEL,
    resamples: int = ROI_RESAMPLES,
    seed: int = ROI_SEED,
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
    resamples, seed : int
        Bootstrap resamples and the seed of their random numbers (fixed: the interval is reproducible).

    Returns
    -------
    dict
        ``roi``, ``ci_low``, ``ci_high``: the ratio and its BCa interval (`scipy.stats.bootstrap`, replications
        resampled in pairs so both arms keep their common random numbers); ``unpaired_ci_low``,
        ``unpaired_ci_high``: BCa with the arms resampled independently (each run keeps its gain and its cost);
        ``width_ratio``: paired / unpaired width; ``gain`` and ``cost``: the mean incremental gain and cost; ``n``.
        All NaN but ``n`` when there are fewer than 2 replications or the treatment spends no more than the base.

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
    low, high = _bca((bg, tg, bc, tc), _ratio_of_mean_uplifts, True, value, level, resamples, seed)

    def unpaired(base, treat, axis=-1):
        # Each arm is one sample of (gain, cost) pairs; scipy puts the resample axis after that first axis.
        return _ratio_of_mean_uplifts(base[0], treat[0], base[1], treat[1], axis)

    u_low, u_high = _bca((np.stack([bg, bc]), np.stack([tg, tc])), unpaired, False, value, level, resamples, seed)
    width = (high - low) / (u_high - u_low) if u_high > u_low else np.nan
    return out | {
        "roi": value,
        "ci_low": low,
        "ci_high": high,
        "unpaired_ci_low": u_low,
        "unpaired_ci_high": u_high,
        "width_ratio": float(width),
    }
