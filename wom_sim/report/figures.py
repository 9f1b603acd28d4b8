"""Figures: the single-run dashboard, CI bands over replications, uplift bars, sweep heatmaps, partial dependence and
Sobol/tornado bars. The self-contained HTML report that embeds them is `wom_sim.report.html`.

Figures are `matplotlib.figure.Figure` objects, never pyplot's: drawing them needs no display and importing this
module leaves matplotlib's backend (a notebook's, say) as it was. Labels, formats and colours come from
`wom_sim.catalogue`.
"""

from __future__ import annotations

import io

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from wom_sim.analysis.outcomes import label as _outcome_label
from wom_sim.catalogue import ARM_COLOURS, CATALOGUE, CHANNEL_COLOURS, CHANNEL_LABELS, metric, series_label
from wom_sim.output import release_figure, save_figure  # noqa: F401 - save_figure: part of this module's API
from wom_sim.sim.population import CHANNELS


def _line(ax: Axes, t, metrics: pd.DataFrame, column: str, factor: float = 1.0) -> None:
    """Metric `column` over ticks in its catalogue colour, with its short label for the legend."""
    entry = metric(column)
    ax.plot(t, factor * metrics[column], color=entry.colour, label=entry.short_label)


def dashboard_figure(metrics: pd.DataFrame, title: str = "", unit: str = "tick") -> Figure:
    """Six panels: adoption by channel, S/T/L means, NPS, positive vs negative WOM, churn, brand and profit."""
    fig = Figure(figsize=(15, 8), layout="constrained")
    axes = fig.subplots(2, 3)
    t = metrics["t"]
    ax = axes[0, 0]
    cumulative = [metrics[f"new_{c}"].cumsum() for c in CHANNELS]
    ax.stackplot(t, cumulative, labels=[CHANNEL_LABELS[c] for c in CHANNELS],
                 colors=[CHANNEL_COLOURS[c] for c in CHANNELS], alpha=0.85)  # fmt: skip
    ax.set_title("Customers acquired, by channel (cumulative)")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[0, 1]
    for column in ("mean_S", "mean_T", "mean_L", "mean_A"):
        _line(ax, t, metrics, column)
    ax.set_ylim(0, 1)
    ax.set_title("Customers' means")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    _line(ax, t, metrics, "nps")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_title(series_label("nps", unit))
    ax = axes[1, 0]
    _line(ax, t, metrics, "pos_messages")
    _line(ax, t, metrics, "neg_messages")
    ax.set_title("WOM messages delivered per " + unit)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    _line(ax, t, metrics, "churn_rate", 100)
    _line(ax, t, metrics, "repurchase_rate", 100)
    ax.set_title("Churn and repurchase rate per " + unit + " (%)")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    _line(ax, t, metrics, "brand")
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    _line(ax2, t, metrics, "cum_profit")
    ax.set_title(f"{metric('brand').label} (left) and {metric('cum_profit').short_label} (right)")
    for a in axes.flat:
        a.set_xlabel(unit)
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


# ------------------------------------------------------------------------------------------------ experiments
# Per-tick metrics of the replicated dashboard's panels, titled from the catalogue.
CI_PANELS = ["adoption_share", "customers", "nps", "brand", "pos_messages", "neg_messages", "churn_rate", "cum_profit"]


def outcome_label(name: str, unit: str = "tick") -> str:
    """What a user reads for an outcome of the experiment tables (`stat:column` or a column): the catalogue's
    label with the statistic (`wom_sim.analysis.outcomes.label`); the name itself for what is no outcome (roi)."""
    return _outcome_label(name, unit)


def format_value(name: str, value: float, scale: float | None = None) -> str:
    """A number as a user reads it: shares and rates in % (the catalogue's percent scale), money and counts with
    thousands separators; `scale` (e.g. the largest number of a row) sets the decimals so a mean and its CI bounds
    are printed alike. `name` is a per-tick column, a `stat:column` outcome or a named outcome."""
    if value is None or value != value:
        return "n/a"
    entry = CATALOGUE.get(name.split(":")[-1])
    if entry is not None and entry.scale == "percent":
        return f"{100 * value:.2f}%"
    size = abs(value) if scale is None or scale != scale else abs(scale)
    if size >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}" if size < 10 else f"{value:,.1f}"


def _band(ax: Axes, frame: pd.DataFrame, colour: str, label: str | None) -> None:
    ax.plot(frame["t"], frame["mean"], color=colour, label=label, lw=1.6)
    ax.fill_between(frame["t"], frame["ci_low"], frame["ci_high"], color=colour, alpha=0.25, lw=0)


def ci_dashboard_figure(timeseries: pd.DataFrame, title: str = "", unit: str = "tick") -> Figure:
    """Eight panels of means with 95% CI bands over replications; one line per arm when there is an `arm` column."""
    arms = list(dict.fromkeys(timeseries["arm"])) if "arm" in timeseries.columns else [None]
    # Fixed margins: constrained layout doubles the drawing time of these eight panels.
    fig = Figure(figsize=(18, 8))
    axes = fig.subplots(2, 4)
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.07, top=0.91, wspace=0.25, hspace=0.35)
    for ax, column in zip(axes.flat, CI_PANELS, strict=True):
        for i, arm in enumerate(arms):
            rows = timeseries[timeseries["metric"] == column]
            rows = rows[rows["arm"] == arm] if arm is not None else rows
            _band(ax, rows.sort_values("t"), ARM_COLOURS[i % len(ARM_COLOURS)], arm)
        ax.set_title(series_label(column, unit))
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3)
    if arms != [None]:
        axes[0, 0].legend(fontsize=8)
    n = int(timeseries["n"].max()) if len(timeseries) else 0
    fig.suptitle(f"{title}  (mean and 95% CI over {n} replications)".strip())
    return fig


def uplift_figure(uplift: pd.DataFrame, uplift_series: pd.DataFrame, unit: str = "tick") -> Figure:
    """Relative uplift per outcome with the paired 95% CI (dark) and the unpaired CI on the same runs (light);
    and the paired uplift over time of adoption and cumulative profit."""
    rows = uplift[(uplift["outcome"] != "roi") & uplift["uplift_pct"].notna()]
    treatments = list(dict.fromkeys(rows["treatment"]))
    outcomes = list(dict.fromkeys(rows["outcome"]))
    fig = Figure(figsize=(18, max(4.5, 0.45 * len(outcomes) * len(treatments) + 1.5)), layout="constrained")
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.4, 1, 1]})
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
    ax.set_yticks(range(len(outcomes)), [outcome_label(o, unit) for o in outcomes])
    ax.invert_yaxis()
    ax.set_xlabel("uplift vs base (% of base mean); black: paired 95% CI, grey: unpaired")
    ax.set_title("Uplift with 95% CIs (common random numbers)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    for ax, column in zip(axes[1:], ("adoption_share", "cum_profit"), strict=True):
        for i, treatment in enumerate(treatments):
            part = uplift_series[(uplift_series["treatment"] == treatment) & (uplift_series["metric"] == column)]
            _band(ax, part.rename(columns={"uplift": "mean"}), ARM_COLOURS[(i + 1) % len(ARM_COLOURS)], treatment)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"Paired uplift: {series_label(column, unit)}")
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3)
    return fig


def heatmap_figure(points: pd.DataFrame, params: list[str], metrics: list[str]) -> Figure | None:
    """Mean outcome over the two parameters with the most distinct values (others averaged); None for one parameter.
    Sampled designs are binned into a 6 x 6 grid of quantiles."""
    if len(params) < 2:
        return None
    x, y = sorted(params, key=lambda p: -points[p].nunique())[:2]
    frame = points.copy()
    for p in (x, y):
        if frame[p].nunique() > 12 and pd.api.types.is_numeric_dtype(frame[p]):
            frame[p] = pd.qcut(frame[p], 6, duplicates="drop").apply(lambda iv: round(iv.mid, 4)).astype(float)
    fig = Figure(figsize=(5.5 * len(metrics), 4.5), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, outcome in zip(axes[0], metrics, strict=True):
        grid = frame.pivot_table(index=y, columns=x, values=f"{outcome}_mean", aggfunc="mean")
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
                format_value(outcome, value),
                ha="center",
                va="center",
                fontsize=7,
                color="black" if light else "white",
            )
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{outcome_label(outcome)}: mean")
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def partial_dependence_figure(effects: pd.DataFrame) -> Figure:
    """One panel per outcome and parameter: the mean outcome across the parameter's values with a 95% band."""
    params, metrics = list(dict.fromkeys(effects["parameter"])), list(dict.fromkeys(effects["metric"]))
    fig = Figure(figsize=(4 * len(params), 3.2 * len(metrics)), layout="constrained")
    axes = fig.subplots(len(metrics), len(params), squeeze=False)
    for i, outcome in enumerate(metrics):
        for j, param in enumerate(params):
            ax = axes[i, j]
            part = effects[(effects["parameter"] == param) & (effects["metric"] == outcome)]
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
            ax.set_ylabel(outcome_label(outcome) if j == 0 else "")
            ax.grid(alpha=0.3)
    fig.suptitle("Partial dependence: mean over the other parameters and replications, 95% band")
    return fig


def sensitivity_figure(sensitivity: pd.DataFrame) -> Figure:
    """Per outcome, horizontal bars: Sobol S1 and ST with 95% CIs when present, else the tornado swing."""
    metrics = list(dict.fromkeys(sensitivity["metric"]))
    sobol = "ST" in sensitivity.columns and sensitivity["ST"].notna().any()
    n_params = sensitivity["parameter"].nunique()
    fig = Figure(figsize=(5.5 * len(metrics), 1.0 + 0.45 * n_params), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, outcome in zip(axes[0], metrics, strict=True):
        part = sensitivity[sensitivity["metric"] == outcome]
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
        ax.set_title(outcome_label(outcome))
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Sobol sensitivity indices" if sobol else "Tornado: effect of each parameter over its range")
    return fig


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes (a pyplot figure is closed afterwards)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    release_figure(fig)
    return buffer.getvalue()
