"""Figures: the single-run dashboard, CI bands over replications, uplift bars, sweep heatmaps, partial dependence and
Sobol/tornado bars. The self-contained HTML report that embeds them is `wom_sim.report_html`."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from wom_sim.output import atomic_file  # noqa: E402
from wom_sim.sim.population import CHANNELS  # noqa: E402

CHANNEL_COLOURS = {
    "none": "#bbbbbb",
    "advertising": "#4c72b0",
    "wom": "#55a868",
    "kol": "#c44e52",
    "referral": "#8172b2",
}


def dashboard_figure(metrics: pd.DataFrame, title: str = "", unit: str = "tick") -> plt.Figure:
    """Six panels: adoption by channel, S/T/L means, NPS, positive vs negative WOM, churn, brand and profit."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), constrained_layout=True)
    t = metrics["t"]
    ax = axes[0, 0]
    cumulative = [metrics[f"new_{c}"].cumsum() for c in CHANNELS]
    ax.stackplot(t, cumulative, labels=CHANNELS, colors=[CHANNEL_COLOURS[c] for c in CHANNELS], alpha=0.85)
    ax.set_title("Customers acquired, by channel (cumulative)")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[0, 1]
    for col, label in (
        ("mean_S", "satisfaction"),
        ("mean_T", "trust"),
        ("mean_L", "loyalty"),
        ("mean_A", "attachment"),
    ):
        ax.plot(t, metrics[col], label=label)
    ax.set_ylim(0, 1)
    ax.set_title("Customer means")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    ax.plot(t, metrics["nps"], color="black")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_title("NPS (customers)")
    ax = axes[1, 0]
    ax.plot(t, metrics["pos_messages"], color="#55a868", label="positive")
    ax.plot(t, metrics["neg_messages"], color="#c44e52", label="negative")
    ax.set_title("WOM messages delivered per " + unit)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.plot(t, 100 * metrics["churn_rate"], color="#c44e52", label="churn %")
    ax.plot(t, 100 * metrics["repurchase_rate"], color="#4c72b0", label="repurchase %")
    ax.set_title("Churn and repurchase rate per " + unit + " (%)")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    ax.plot(t, metrics["brand"], color="#8172b2", label="brand favourability")
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    ax2.plot(t, metrics["cum_profit"], color="#dd8452", label="cumulative profit")
    ax.set_title("Brand (left) and cumulative profit (right)")
    for a in axes.flat:
        a.set_xlabel(unit)
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 100) -> Path:
    """Save a figure as PNG atomically and close it."""
    path = Path(path)
    with atomic_file(path) as handle:
        fig.savefig(handle, format="png", dpi=dpi)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------------------------------ experiments
# Panels of the replicated dashboard: (per-tick metric, title).
CI_PANELS = [
    ("adoption_share", "Ever adopted (share)"),
    ("customers", "Active customers"),
    ("nps", "NPS (customers)"),
    ("brand", "Brand favourability"),
    ("pos_messages", "Positive WOM messages per {unit}"),
    ("neg_messages", "Negative WOM messages per {unit}"),
    ("churn_rate", "Churn rate per {unit}"),
    ("cum_profit", "Cumulative profit"),
]
ARM_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c"]
PERCENT = {"adoption_share", "churn_rate", "repurchase_rate", "awareness", "wom_acquired_share"}


def format_value(name: str, value: float, scale: float | None = None) -> str:
    """A number as a user reads it: shares in %, money and counts with thousands separators; `scale` (e.g. the
    largest number of a row) sets the decimals so a mean and its CI bounds are printed alike."""
    if value is None or value != value:
        return "n/a"
    if name.split(":")[-1] in PERCENT:
        return f"{100 * value:.2f}%"
    size = abs(value) if scale is None or scale != scale else abs(scale)
    if size >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}" if size < 10 else f"{value:,.1f}"


def _band(ax: plt.Axes, frame: pd.DataFrame, colour: str, label: str | None) -> None:
    ax.plot(frame["t"], frame["mean"], color=colour, label=label, lw=1.6)
    ax.fill_between(frame["t"], frame["ci_low"], frame["ci_high"], color=colour, alpha=0.25, lw=0)


def ci_dashboard_figure(timeseries: pd.DataFrame, title: str = "", unit: str = "tick") -> plt.Figure:
    """Eight panels of means with 95% CI bands over replications; one line per arm when there is an `arm` column."""
    arms = list(dict.fromkeys(timeseries["arm"])) if "arm" in timeseries.columns else [None]
    # Fixed margins: constrained layout doubles the drawing time of these eight panels.
    fig, axes = plt.subplots(2, 4, figsize=(18, 8))
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.07, top=0.91, wspace=0.25, hspace=0.35)
    for ax, (metric, panel_title) in zip(axes.flat, CI_PANELS, strict=True):
        for i, arm in enumerate(arms):
            rows = timeseries[timeseries["metric"] == metric]
            rows = rows[rows["arm"] == arm] if arm is not None else rows
            _band(ax, rows.sort_values("t"), ARM_COLOURS[i % len(ARM_COLOURS)], arm)
        ax.set_title(panel_title.format(unit=unit))
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3)
    if arms != [None]:
        axes[0, 0].legend(fontsize=8)
    n = int(timeseries["n"].max()) if len(timeseries) else 0
    fig.suptitle(f"{title}  (mean and 95% CI over {n} replications)".strip())
    return fig


def uplift_figure(uplift: pd.DataFrame, uplift_series: pd.DataFrame, unit: str = "tick") -> plt.Figure:
    """Relative uplift per outcome with the paired 95% CI (dark) and the unpaired CI on the same runs (light);
    and the paired uplift over time of adoption and cumulative profit."""
    rows = uplift[(uplift["outcome"] != "roi") & uplift["uplift_pct"].notna()]
    treatments = list(dict.fromkeys(rows["treatment"]))
    outcomes = list(dict.fromkeys(rows["outcome"]))
    fig, axes = plt.subplots(
        1,
        3,
        figsize=(18, max(4.5, 0.45 * len(outcomes) * len(treatments) + 1.5)),
        constrained_layout=True,
        gridspec_kw={"width_ratios": [1.4, 1, 1]},
    )
    ax = axes[0]
    height = 0.8 / max(len(treatments), 1)
    for i, treatment in enumerate(treatments):
        part = rows[rows["treatment"] == treatment].set_index("outcome").reindex(outcomes)
        scale = 100.0 / part["base_mean"].abs()
        y = [j + (i - (len(treatments) - 1) / 2) * height for j in range(len(outcomes))]
        colour = ARM_COLOURS[(i + 1) % len(ARM_COLOURS)]
        ax.barh(y, part["uplift_pct"], height=height * 0.9, color=colour, alpha=0.8, label=treatment)
        for ci, tone, width in (("unpaired_ci", "#999999", 5), ("ci", "black", 2)):
            lo, hi = part[f"{ci}_low"] * scale, part[f"{ci}_high"] * scale
            ax.hlines(y, lo, hi, color=tone, lw=width, alpha=0.6 if tone != "black" else 1)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(outcomes)), outcomes)
    ax.invert_yaxis()
    ax.set_xlabel("uplift vs base (% of base mean); black: paired 95% CI, grey: unpaired")
    ax.set_title("Uplift with 95% CIs (common random numbers)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    for ax, metric in zip(axes[1:], ("adoption_share", "cum_profit"), strict=True):
        for i, treatment in enumerate(treatments):
            part = uplift_series[(uplift_series["treatment"] == treatment) & (uplift_series["metric"] == metric)]
            _band(ax, part.rename(columns={"uplift": "mean"}), ARM_COLOURS[(i + 1) % len(ARM_COLOURS)], treatment)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"Paired uplift over time: {metric}")
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3)
    return fig


def heatmap_figure(points: pd.DataFrame, params: list[str], metrics: list[str]) -> plt.Figure | None:
    """Mean outcome over the two parameters with the most distinct values (others averaged); None for one parameter.
    Sampled designs are binned into a 6 x 6 grid of quantiles."""
    if len(params) < 2:
        return None
    x, y = sorted(params, key=lambda p: -points[p].nunique())[:2]
    frame = points.copy()
    for p in (x, y):
        if frame[p].nunique() > 12 and pd.api.types.is_numeric_dtype(frame[p]):
            frame[p] = pd.qcut(frame[p], 6, duplicates="drop").apply(lambda iv: round(iv.mid, 4)).astype(float)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4.5), constrained_layout=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        grid = frame.pivot_table(index=y, columns=x, values=f"{metric}_mean", aggfunc="mean")
        image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(
            range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else v for v in grid.columns], rotation=45
        )
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else v for v in grid.index])
        values = grid.to_numpy()
        low, high = np.nanmin(values), np.nanmax(values)
        for (i, j), value in np.ndenumerate(values):
            light = high > low and (value - low) / (high - low) > 0.6  # viridis is light at the top
            ax.text(
                j,
                i,
                format_value(metric, value),
                ha="center",
                va="center",
                fontsize=7,
                color="black" if light else "white",
            )
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{metric} (mean)")
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def partial_dependence_figure(effects: pd.DataFrame) -> plt.Figure:
    """One panel per outcome and parameter: the mean outcome across the parameter's values with a 95% band."""
    params, metrics = list(dict.fromkeys(effects["parameter"])), list(dict.fromkeys(effects["metric"]))
    fig, axes = plt.subplots(
        len(metrics), len(params), figsize=(4 * len(params), 3.2 * len(metrics)), constrained_layout=True, squeeze=False
    )
    for i, metric in enumerate(metrics):
        for j, param in enumerate(params):
            ax = axes[i, j]
            part = effects[(effects["parameter"] == param) & (effects["metric"] == metric)]
            if pd.api.types.is_numeric_dtype(part["value"]):
                _band(ax, part.rename(columns={"value": "t"}).sort_values("t"), ARM_COLOURS[0], None)
                ax.plot(part["value"], part["mean"], "o", color=ARM_COLOURS[0], ms=3)
            else:
                ax.errorbar(
                    part["value"].astype(str),
                    part["mean"],
                    yerr=[part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]],
                    fmt="o",
                    color=ARM_COLOURS[0],
                )
            ax.set_xlabel(param)
            ax.set_ylabel(metric if j == 0 else "")
            ax.grid(alpha=0.3)
    fig.suptitle("Partial dependence: mean over the other parameters and replications, 95% band")
    return fig


def sensitivity_figure(sensitivity: pd.DataFrame) -> plt.Figure:
    """Per outcome, horizontal bars: Sobol S1 and ST with 95% CIs when present, else the tornado swing."""
    metrics = list(dict.fromkeys(sensitivity["metric"]))
    sobol = "ST" in sensitivity.columns and sensitivity["ST"].notna().any()
    n_params = sensitivity["parameter"].nunique()
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(5.5 * len(metrics), 1.0 + 0.45 * n_params), constrained_layout=True, squeeze=False
    )
    for ax, metric in zip(axes[0], metrics, strict=True):
        part = sensitivity[sensitivity["metric"] == metric]
        part = part.sort_values("ST" if sobol else "swing", ascending=True)
        y = np.arange(len(part))
        if sobol:
            ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color=ARM_COLOURS[1], label="total (ST)")
            ax.barh(y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color=ARM_COLOURS[0], label="first order (S1)")
            ax.set_xlabel("Sobol index (95% CI)")
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.barh(y, part["swing"], 0.6, color=ARM_COLOURS[0])
            ax.set_xlabel("swing of the partial-dependence mean (max - min)")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        ax.set_yticks(y, part["parameter"])
        ax.set_title(metric)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Sobol sensitivity indices" if sobol else "Tornado: effect of each parameter over its range")
    return fig


def figure_png(fig: plt.Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes (closed afterwards)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()
