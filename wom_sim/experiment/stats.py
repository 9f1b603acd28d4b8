"""Confidence intervals, per-run outcomes and paired (common random numbers) comparisons.

All intervals are two-sided 95% t-intervals over replications unless stated otherwise: replications are
independent draws of the model given the scenario, so mean +- t(0.975, n-1) * sd / sqrt(n) is exact for normal
outcomes and accurate for the near-normal means of a few dozen runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from wom_sim.sim.metrics import METRIC_COLUMNS

LEVEL = 0.95
STATS = ("final", "mean", "total", "max", "min")

# Per-run outcomes a user reads: name -> (statistic over ticks, per-tick column, label).
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "adoption_share": ("final", "adoption_share", "Ever adopted (share)"),
    "customers": ("final", "customers", "Active customers (end)"),
    "nps": ("final", "nps", "NPS (end)"),
    "churn_rate": ("mean", "churn_rate", "Churn rate per tick (mean)"),
    "repurchase_rate": ("mean", "repurchase_rate", "Repurchase rate per tick (mean)"),
    "pos_messages": ("total", "pos_messages", "Positive WOM messages (total)"),
    "neg_messages": ("total", "neg_messages", "Negative WOM messages (total)"),
    "brand": ("final", "brand", "Brand favourability (end)"),
    "awareness": ("final", "awareness", "Awareness (end)"),
    "wom_acquired_share": ("final", "wom_acquired_share", "Customers acquired through WOM"),
    "revenue": ("total", "revenue", "Revenue (total)"),
    "cost": ("total", "cost", "Cost: goods + interventions (total)"),
    "intervention_cost": ("total", "intervention_cost", "Intervention spend (total)"),
    "profit": ("total", "profit", "Profit (total)"),
}
# What `compare` reports, in order (ROI is added from profit and spend).
COMPARE_OUTCOMES = [
    "adoption_share",
    "customers",
    "nps",
    "churn_rate",
    "pos_messages",
    "neg_messages",
    "brand",
    "revenue",
    "cost",
    "intervention_cost",
    "profit",
]
# The headline outcomes of `run --replications`.
RUN_OUTCOMES = [
    "adoption_share",
    "customers",
    "nps",
    "churn_rate",
    "repurchase_rate",
    "pos_messages",
    "neg_messages",
    "wom_acquired_share",
    "brand",
    "revenue",
    "profit",
]


def t_half_width(sd: np.ndarray | float, n: np.ndarray | float, level: float = LEVEL) -> np.ndarray:
    """Half-width of the t-interval of a mean: t(level, n-1) * sd / sqrt(n); NaN for n < 2."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        return q * np.asarray(sd, dtype=float) / np.sqrt(n)


def add_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-tick columns computed from stored ones (`cost` = cost of goods + intervention spend)."""
    costs = [c for c in frame.columns if c.startswith("cost_")]
    frame = frame.assign(**{c: frame[c].fillna(0.0) for c in costs})
    if "cost" not in frame.columns and {"cost_of_goods", "intervention_cost"} <= set(frame.columns):
        frame = frame.assign(cost=frame["cost_of_goods"] + frame["intervention_cost"])
    return frame


def parse_outcome(name: str) -> tuple[str, str]:
    """(statistic, column) of an outcome name: a named outcome, `stat:column`, or a bare column (final value)."""
    if name in OUTCOMES:
        return OUTCOMES[name][0], OUTCOMES[name][1]
    if ":" in name:
        stat, column = name.split(":", 1)
        return stat, column
    return "final", name


def outcome_error(name: str) -> str | None:
    """Why `name` is not a valid outcome, or None."""
    stat, column = parse_outcome(name)
    if stat not in STATS:
        return f"unknown statistic {stat!r} in {name!r} (allowed: {', '.join(STATS)})"
    if column not in METRIC_COLUMNS and column != "cost" and not column.startswith("cost_"):
        import difflib

        hint = difflib.get_close_matches(column, [*OUTCOMES, *METRIC_COLUMNS], n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"unknown metric {name!r}{did} (named outcomes: {', '.join(OUTCOMES)}; or any per-tick column)"
    return None


def label(name: str) -> str:
    """What a user reads for an outcome."""
    return OUTCOMES[name][2] if name in OUTCOMES else name


def run_outcomes(frame: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """One row per run (index run_key), one column per outcome (a cost column a run lacks counts as 0)."""
    frame = add_derived(frame)
    missing = {parse_outcome(name)[1] for name in outcomes} - set(frame.columns)
    frame = frame.assign(**dict.fromkeys(missing, 0.0)).sort_values(["run_key", "t"])
    groups = frame.groupby("run_key", sort=False)
    out = {}
    for name in outcomes:
        stat, column = parse_outcome(name)
        series = groups[column]
        out[name] = {
            "final": series.last,
            "mean": series.mean,
            "total": series.sum,
            "max": series.max,
            "min": series.min,
        }[stat]()
    return pd.DataFrame(out)


def mean_ci(values: pd.DataFrame | pd.Series, by: list[str] | None = None, level: float = LEVEL) -> pd.DataFrame:
    """Tidy mean, sd, n and CI of every numeric column, grouped by `by`: metric, mean, sd, n, ci_low, ci_high."""
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    by = by or []
    value_cols = [c for c in frame.columns if c not in by and pd.api.types.is_numeric_dtype(frame[c])]
    long = (
        frame[by + value_cols].melt(id_vars=by, var_name="metric", value_name="value")
        if by
        else frame[value_cols].melt(var_name="metric", value_name="value")
    )
    agg = long.groupby([*by, "metric"], sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    agg = agg.rename(columns={"std": "sd", "count": "n"})
    half = t_half_width(agg["sd"], agg["n"], level)
    agg["ci_low"], agg["ci_high"] = agg["mean"] - half, agg["mean"] + half
    return agg


def timeseries_ci(frame: pd.DataFrame, by: list[str] | None = None, level: float = LEVEL) -> pd.DataFrame:
    """Mean and CI per tick of every per-tick metric over runs: columns [by...], t, metric, mean, sd, n, ci_*."""
    frame = add_derived(frame).drop(columns=["run_key", "seed"], errors="ignore")
    return mean_ci(frame, by=[*(by or []), "t"], level=level)


def paired_difference(base: np.ndarray, treatment: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Uplift treatment - base over replications paired by seed, with the paired and the unpaired (Welch) CI.

    The paired CI uses the per-replication differences (common random numbers make them far less variable than
    either arm); the unpaired one treats the same runs as two independent samples. Their width ratio is how much
    the pairing buys.
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


def roi(
    base_profit, treat_profit, base_spend, treat_spend, level: float = LEVEL, resamples: int = 4000, seed: int = 0
) -> dict[str, float]:
    """Return on the extra spend: (profit uplift) / (spend uplift), profit already net of the spend.

    1.5 means every currency unit of extra spend came back with 1.5 more of profit after paying for itself; 0 is
    break-even. The CI is a percentile bootstrap over replications, resampled in pairs (same indices in both arms)
    for the paired CI and independently per arm for the unpaired one, with a fixed seed so it is reproducible.
    NaN when the treatment spends no more than the base.
    """
    arrays = [np.asarray(a, float) for a in (base_profit, treat_profit, base_spend, treat_spend)]
    bp, tp, bs, ts = arrays
    n = len(bp)
    d_spend = ts.mean() - bs.mean() if n else 0.0
    nan = {
        "base_mean": np.nan,
        "treatment_mean": np.nan,
        "uplift": np.nan,
        "uplift_pct": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "unpaired_ci_low": np.nan,
        "unpaired_ci_high": np.nan,
        "width_ratio": np.nan,
        "n": n,
    }
    if n < 2 or not d_spend > 1e-9 * max(abs(bs.mean()), abs(ts.mean()), 1.0):
        return nan
    value = float((tp.mean() - bp.mean()) / d_spend)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    idx2 = rng.integers(0, n, size=(resamples, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        paired = (tp[idx].mean(1) - bp[idx].mean(1)) / (ts[idx].mean(1) - bs[idx].mean(1))
        unpaired = (tp[idx].mean(1) - bp[idx2].mean(1)) / (ts[idx].mean(1) - bs[idx2].mean(1))
    lo, hi = (0.5 - level / 2) * 100, (0.5 + level / 2) * 100
    p_lo, p_hi = np.nanpercentile(paired, [lo, hi])
    u_lo, u_hi = np.nanpercentile(unpaired, [lo, hi])
    return {
        **nan,
        "uplift": value,
        "ci_low": float(p_lo),
        "ci_high": float(p_hi),
        "unpaired_ci_low": float(u_lo),
        "unpaired_ci_high": float(u_hi),
        "width_ratio": float((p_hi - p_lo) / (u_hi - u_lo)) if u_hi > u_lo else np.nan,
    }
