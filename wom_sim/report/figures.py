"""Figures: the single-run dashboard, CI bands over replications, uplift bars, the profit uplift over time with its
payback, sweep heatmaps, partial dependence and Sobol/tornado bars. The self-contained HTML report that embeds them
is `wom_sim.report.html`.

Figures are `matplotlib.figure.Figure` objects, never pyplot's: drawing them needs no display and importing this
module leaves matplotlib's backend (a notebook's, say) as it was. Labels, units, formats and colours come from
`wom_sim.catalogue`, so a figure can go on a slide as it is: every axis says what it shows and in which unit (money
in the scenario's currency, shares in %), no offset notation (1e6), programme windows and events shaded and named,
and an uplift is green where it is good for the business (lower churn too), red where it is bad, grey where its 95%
CI spans 0. Multi-panel figures are grids of at most `GRID_COLUMNS` columns, so they keep a slide's proportions.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from wom_sim.analysis.outcomes import label as _outcome_label
from wom_sim.analysis.verdicts import payback_tick as _payback
from wom_sim.catalogue import (
    ARM_COLOURS,
    BAD,
    CATALOGUE,
    CHANNEL_COLOURS,
    CHANNEL_LABELS,
    EVENT,
    GOOD,
    NO_TOUCH_NOTE,
    UNSURE,
    WINDOW,
    format_money,
    market_summary,
    metric,
    series_label,
    value_range,
)
from wom_sim.output import FIGURE_FORMATS, release_figure, save_figure  # noqa: F401 - part of this module's API
from wom_sim.sim.population import CHANNELS

GRID_COLUMNS = 3  # panels per row of a multi-panel figure: three 16:9-ish panels still read on one slide
PANEL = (5.0, 3.4)  # inches of one panel of a grid


# ------------------------------------------------------------------------------------------------ axes
def _unit_text(name: str, currency: str | None) -> str:
    """The unit of metric `name` for an axis label: %, the currency, points, people."""
    entry = metric(name.split(":")[-1])
    if entry.scale == "percent":
        return "%"
    if entry.scale == "money":
        return currency or "money"
    if entry.scale == "points":
        return "points"
    return "" if entry.unit in ("index 0-1", "tick") else entry.unit


def axis_label(name: str, text: str, currency: str | None = None, difference: bool = False) -> str:
    """`text` with the unit of metric `name` in brackets; a difference of a share is in percentage points."""
    unit = _unit_text(name, currency)
    if difference and unit == "%":
        unit = "percentage points"
    return f"{text} ({unit})" if unit else text


def format_axis(ax: Axes, name: str, currency: str | None = None, axis: str = "y", difference: bool = False) -> None:
    """Ticks of metric `name` as a user reads them: shares in % (points for a difference), money with k/M and the
    currency, other numbers plain (no offset or 1e6 notation)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    entry = metric(name.split(":")[-1])
    if entry.scale == "percent":
        if difference:
            target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{100 * v:+.3g}"))
        else:
            target.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=1, decimals=None))
    elif entry.scale == "money":
        target.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda v, _p: format_money(v, currency, signed=difference))
        )
    else:
        plain = matplotlib.ticker.ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        target.set_major_formatter(plain)


def _plain(ax: Axes) -> None:
    """No offset or scientific notation on either axis of a panel that is not a metric's."""
    for target in (ax.xaxis, ax.yaxis):
        if isinstance(target.get_major_formatter(), matplotlib.ticker.ScalarFormatter):
            plain = matplotlib.ticker.ScalarFormatter(useOffset=False)
            plain.set_scientific(False)
            target.set_major_formatter(plain)


def _weeks(ax: Axes) -> None:
    """Whole ticks (weeks) on the x axis of a panel over time."""
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))


def _grid(
    n: int, columns: int = GRID_COLUMNS, panel: tuple[float, float] = PANEL, fixed: bool = False
) -> tuple[Figure, list[Axes]]:
    """A figure of `n` panels in rows of at most `columns`; the unused cells are hidden. `fixed`: fixed margins
    instead of constrained layout, which takes seconds to lay out a dozen panels."""
    cols = max(1, min(columns, n))
    rows = max(1, math.ceil(n / cols))
    height = panel[1] * rows + 0.6
    fig = Figure(figsize=(panel[0] * cols, height), layout=None if fixed else "constrained")
    if fixed:  # room for y tick labels (treatment names) left of every panel and a title above it
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.9 / height, top=1 - 0.75 / height, wspace=0.55,
                            hspace=1.2 / panel[1])  # fmt: skip
    axes = list(np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).flat)
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


# ------------------------------------------------------------------------------------------------ programmes
def programme_marks(scenario: Any, ticks: int | None = None) -> list[tuple[str, int, int]]:
    """(label, first tick, last tick) of each intervention window and event of a resolved scenario (a `Scenario`
    or its dict); one-tick entries have first == last. Entries on a trigger (`when`) have no fixed window and are
    left out; an entry with no schedule is on throughout and is named in the title instead of shaded."""
    if scenario is None:
        return []
    data = scenario.model_dump(by_alias=True) if hasattr(scenario, "model_dump") else dict(scenario)
    end = int(ticks if ticks is not None else data.get("ticks", 0)) - 1
    marks = []
    for entry in [*(data.get("interventions") or []), *(data.get("events") or [])]:
        name = entry.get("name") or entry.get("kind", "?")
        schedule = entry.get("schedule") or {}
        if entry.get("when") is not None:
            continue
        at = schedule.get("at", entry.get("at"))  # an event's own `at` (a crisis at week 40)
        if at is not None:
            for tick in at if isinstance(at, list) else [at]:
                marks.append((name, int(tick), int(tick)))
        elif schedule and (schedule.get("from") is not None or schedule.get("until") is not None):
            first = int(schedule.get("from") or 0)
            last = int(schedule["until"]) if schedule.get("until") is not None else end
            marks.append((name, first, last))
    return marks


def mark_programmes(ax: Axes, marks: list[tuple[str, int, int]], labels: bool = True) -> None:
    """Shade each programme window and draw a line at each one-tick event, named at the top of the panel."""
    for name, first, last in marks:
        if last > first:
            ax.axvspan(first, last, color=WINDOW, alpha=0.15, lw=0)
        else:
            ax.axvline(first, color=EVENT, lw=1.0, ls="--", alpha=0.8)
        if labels:
            ax.annotate(name.replace("_", " "), (first, 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
                        textcoords="offset points", va="top", fontsize=7, color="#444444")  # fmt: skip


def _metric_panel(ax: Axes, name: str, unit: str, currency: str | None, marks, ylabel: str | None = None) -> None:
    """Title, y label in the metric's unit, formatted ticks, x label and the programme marks of one panel."""
    title = series_label(name, unit)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(axis_label(name, ylabel or metric(name).short_label, currency))
    format_axis(ax, name, currency)
    ax.set_xlabel(unit)
    _weeks(ax)
    ax.grid(alpha=0.3)
    mark_programmes(ax, marks)


def _line(ax: Axes, t, metrics: pd.DataFrame, column: str) -> None:
    """Metric `column` over ticks in its catalogue colour, with its short label for the legend."""
    entry = metric(column)
    ax.plot(t, metrics[column], color=entry.colour, label=entry.short_label)


def _market_row(axes, metrics: pd.DataFrame, rivals: list[str], unit: str) -> None:
    """A market's panels: market share and share of positive voice per brand (ours in our colour, each rival in
    grey tones), and the customers won from and lost to rivals per tick."""
    t = metrics["t"]
    greys = [str(g) for g in np.linspace(0.25, 0.65, len(rivals))]
    for ax, what, title in ((axes[0], "market_share", "Market share (share of all brands' customers)"),
                            (axes[1], "voice_share_pos", "Share of positive voice (all brands)")):  # fmt: skip
        ax.plot(t, metrics[what], color=metric(what).colour or "C0", label="ours", lw=2)
        for rival, grey in zip(rivals, greys, strict=True):
            ax.plot(t, metrics[f"rival_{rival}_{what}"], color=grey, label=rival.replace("_", " "))
        ax.set_ylim(0, 1)
        format_axis(ax, what)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("% of all brands")
        ax.legend(fontsize=8)
    _line(axes[2], t, metrics, "switch_in")
    _line(axes[2], t, metrics, "switch_out")
    axes[2].set_title(f"Customers won from and lost to rivals per {unit}", fontsize=10)
    axes[2].set_ylabel(f"people per {unit}")
    axes[2].legend(fontsize=8)


def dashboard_figure(
    metrics: pd.DataFrame, title: str = "", unit: str = "tick", scenario: Any = None, currency: str | None = None
) -> Figure:
    """Six panels: adoption by channel, S/T/L/A means, NPS, positive vs negative WOM, churn and repurchase, brand
    and cumulative profit; with rivals a third row: each brand's market share and share of positive voice, and who
    switched to and from the rivals. `scenario` (resolved) shades its programme windows and events."""
    currency = currency or _currency(scenario)
    marks = programme_marks(scenario, len(metrics))
    rivals = [m[len("rival_") : -len("_market_share")] for m in market_summary(metrics) if m.endswith("_market_share")]
    rows = 3 if rivals else 2
    fig = Figure(figsize=(15, 4.2 * rows), layout="constrained")
    axes = fig.subplots(rows, 3)
    t = metrics["t"]
    ax = axes[0, 0]
    cumulative = [metrics[f"new_{c}"].cumsum() for c in CHANNELS]
    ax.stackplot(t, cumulative, labels=[CHANNEL_LABELS[c] for c in CHANNELS],
                 colors=[CHANNEL_COLOURS[c] for c in CHANNELS], alpha=0.85)  # fmt: skip
    ax.set_title("Customers acquired, by last-touch channel (cumulative)", fontsize=10)
    ax.set_ylabel("people")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[0, 1]
    for column in ("mean_S", "mean_T", "mean_L", "mean_A"):
        _line(ax, t, metrics, column)
    ax.set_ylim(0, 1)
    ax.set_title("Customers' means", fontsize=10)
    ax.set_ylabel("index (0-1)")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    _line(ax, t, metrics, "nps")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_title(series_label("nps", unit), fontsize=10)
    ax.set_ylabel("NPS (points)")
    ax = axes[1, 0]
    _line(ax, t, metrics, "pos_messages")
    _line(ax, t, metrics, "neg_messages")
    ax.set_title("WOM messages delivered per " + unit, fontsize=10)
    ax.set_ylabel(f"messages per {unit}")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    _line(ax, t, metrics, "churn_rate")
    _line(ax, t, metrics, "repurchase_rate")
    format_axis(ax, "churn_rate")
    ax.set_title(f"Churn and repurchase rate per {unit}", fontsize=10)
    ax.set_ylabel(f"% of customers per {unit}")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    _line(ax, t, metrics, "cum_profit")
    format_axis(ax, "cum_profit", currency)
    ax.set_ylabel(axis_label("cum_profit", "cumulative profit", currency))
    ax.set_title(metric("cum_profit").label, fontsize=10)
    for a in axes.flat:
        a.set_xlabel(unit)
        a.grid(alpha=0.3)
        _plain(a)
        _weeks(a)
        mark_programmes(a, marks, labels=a is axes[0, 2] or a is axes[1, 2])
    format_axis(axes[1, 1], "churn_rate")
    format_axis(axes[1, 2], "cum_profit", currency)
    if rivals:
        _market_row(axes[2], metrics, rivals, unit)
    heading = title or ""
    fig.suptitle(heading + (f"\n{NO_TOUCH_NOTE}" if metrics["new_none"].sum() > 0 else ""), fontsize=11)
    return fig


# ------------------------------------------------------------------------------------------------ experiments
# Per-tick metrics of the replicated dashboard's panels, titled from the catalogue.
CI_PANELS = ["adoption_share", "customers", "nps", "brand", "pos_messages", "neg_messages", "churn_rate", "cum_profit"]
CI_MARKET_PANELS = ["market_share", "voice_share_pos", "switch_in", "switch_out"]  # with rivals: our market


def outcome_label(name: str, unit: str = "tick") -> str:
    """What a user reads for an outcome of the experiment tables (`stat:column` or a column): the catalogue's
    label with the statistic (`wom_sim.analysis.outcomes.label`)."""
    return _outcome_label(name, unit)


def format_value(name: str, value: float, scale: float | None = None) -> str:
    """A number as a user reads it: shares and rates in % (the catalogue's percent scale), money and counts with
    thousands separators; `scale` (e.g. the largest number of a row) sets the decimals so a mean and its CI bounds
    are printed alike. `name` is a per-tick column, a `stat:column` outcome or a named outcome."""
    if value is None or value != value:
        return "n/a"
    column = name.split(":")[-1]
    entry = CATALOGUE.get(column) or (metric(column) if column.startswith(("rival_", "cost_")) else None)
    if entry is not None and entry.scale == "percent":  # a rival's shares too (rival_<name>_market_share)
        return f"{100 * value:.2f}%"
    size = abs(value) if scale is None or scale != scale else abs(scale)
    if size >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}" if size < 10 else f"{value:,.1f}"


def _band(ax: Axes, frame: pd.DataFrame, colour: str, label: str | None, name: str = "") -> None:
    low, high = value_range(name)
    ax.plot(frame["t"], frame["mean"], color=colour, label=label, lw=1.6)
    ax.fill_between(frame["t"], frame["ci_low"].clip(low, high), frame["ci_high"].clip(low, high), color=colour,
                    alpha=0.25, lw=0)  # fmt: skip


def ci_dashboard_figure(
    timeseries: pd.DataFrame, title: str = "", unit: str = "tick", scenario: Any = None, currency: str | None = None
) -> Figure:
    """Eight panels (two rows of four) of means with 95% CI bands over replications, and a row of our market
    (`CI_MARKET_PANELS`) when the runs have rivals; one line per arm when there is an `arm` column; `scenario`
    (resolved, one arm) shades its programme windows and events."""
    currency = currency or _currency(scenario)
    arms = list(dict.fromkeys(timeseries["arm"])) if "arm" in timeseries.columns else [None]
    marks = programme_marks(scenario, int(timeseries["t"].max()) + 1 if len(timeseries) else None)
    rivals = len(timeseries) and timeseries["metric"].str.match(r"rival_.+_market_share$").any()
    panels = [*CI_PANELS, *(CI_MARKET_PANELS if rivals else [])]
    # Fixed margins: constrained layout doubles the drawing time of these panels.
    fig = Figure(figsize=(18, 8.5 * len(panels) / 8))
    axes = fig.subplots(len(panels) // 4, 4)
    top, bottom = (0.9, 0.07) if len(panels) == 8 else (0.93, 0.05)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=bottom, top=top, wspace=0.32, hspace=0.38)
    for ax, column in zip(axes.flat, panels, strict=True):
        for i, arm in enumerate(arms):
            rows = timeseries[timeseries["metric"] == column]
            rows = rows[rows["arm"] == arm] if arm is not None else rows
            _band(ax, rows.sort_values("t"), ARM_COLOURS[i % len(ARM_COLOURS)], arm, column)
        _metric_panel(ax, column, unit, currency, marks)
        ax.title.set_fontsize(9)
    if arms != [None]:
        axes[0, 0].legend(fontsize=8)
    n = int(timeseries["n"].max()) if len(timeseries) else 0
    over = f"mean and 95% CI over {n} replications" if n > 1 else "one replication: no CI band"
    fig.suptitle(f"{title}  ({over})".strip())
    return fig


_PERSON_STATES = ("unaware", "aware", "customers", "churned")  # per-tick counts that partition everyone


def people_in(timeseries: pd.DataFrame) -> int:
    """The number of people the runs of a replications timeseries had: its four person states at the first tick.

    Not the scenario's network.n: a graph file (network.file, with a person table's isolated people) sets the
    population, and network.n keeps whatever the scenario or its base said.
    """
    first = timeseries[(timeseries["t"] == timeseries["t"].min()) & timeseries["metric"].isin(_PERSON_STATES)]
    return round(first["mean"].sum())


def _currency(scenario: Any) -> str | None:
    """The scenario's `currency:` (None when it has none or there is no scenario)."""
    if isinstance(scenario, dict):
        return scenario.get("currency")
    return getattr(scenario, "currency", None)


def uplift_colour(name: str, uplift: float, ci_low: float, ci_high: float) -> str:
    """GOOD when the uplift is good for the business with a CI that excludes 0 (a fall of churn is good), BAD when
    it is bad, UNSURE when the CI spans 0 or the metric is neither good nor bad."""
    better = metric(name.split(":")[-1]).better if name.split(":")[-1] in CATALOGUE else None
    if better is None or not (ci_low > 0 or ci_high < 0):
        return UNSURE
    return GOOD if (uplift > 0) == (better == "up") else BAD


def uplift_figure(
    uplift: pd.DataFrame, uplift_series: pd.DataFrame | None = None, unit: str = "tick", currency: str | None = None
) -> Figure:
    """One panel per outcome: each treatment's uplift over the base in the outcome's own unit (percentage points
    for shares, points for NPS, money in the currency) with its paired 95% CI (black) and the unpaired CI on the
    same runs (grey), green where good, red where bad, grey where the CI spans 0. `uplift_series` is not drawn
    here (see `profit_uplift_figure`); it is accepted so callers of the older signature keep working."""
    # Outcomes against the base (roi, payback, crisis damage) have no base mean; the verdicts and tables show them.
    rows = uplift[(uplift["outcome"] != "roi") & uplift["base_mean"].notna()]
    rows = rows[[name.split(":")[-1] in CATALOGUE for name in rows["outcome"]]]
    treatments = list(dict.fromkeys(rows["treatment"]))
    outcomes = list(dict.fromkeys(rows["outcome"]))
    fig, axes = _grid(len(outcomes), columns=4, panel=(4.2, 0.55 * len(treatments) + 1.6), fixed=True)
    for ax, name in zip(axes, outcomes, strict=True):
        part = rows[rows["outcome"] == name].set_index("treatment").reindex(treatments)
        y = np.arange(len(treatments))
        colours = [uplift_colour(name, r.uplift, r.ci_low, r.ci_high) for r in part.itertuples()]
        ax.barh(y, part["uplift"], 0.6, color=colours, alpha=0.9)
        if {"unpaired_ci_low", "unpaired_ci_high"} <= set(part.columns):
            ax.hlines(y, part["unpaired_ci_low"], part["unpaired_ci_high"], color="#999999", lw=5, alpha=0.5)
        ax.hlines(y, part["ci_low"], part["ci_high"], color="black", lw=1.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, treatments, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(outcome_label(name, unit), fontsize=9)
        ax.set_xlabel(axis_label(name, "uplift vs base", currency, difference=True), fontsize=8)
        format_axis(ax, name, currency, axis="x", difference=True)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3 if _scale_of(name) == "money" else 4))
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    base = uplift_series_base(uplift)
    # Grey is also a clear change of an outcome that is neither good nor bad (spend): the title says so, or a
    # spend whose CI excludes 0 (a * in the table) reads as "not distinguishable from 0" here.
    fig.suptitle(f"Uplift vs {base}: paired 95% CI (black), unpaired on the same runs (grey); green good, red bad "
                 "(CI excludes 0); grey: not distinguishable from 0, or neither good nor bad (programme spend)",
                 fontsize=10)  # fmt: skip
    return fig


def uplift_series_base(uplift: pd.DataFrame) -> str:
    """The base's label of an uplift table ("base" when the table does not say)."""
    return str(uplift["base"].iloc[0]) if "base" in uplift.columns and len(uplift) else "base"


def payback_tick(series: pd.DataFrame) -> int | None:
    """`wom_sim.analysis.verdicts.payback_tick` of one treatment's cum_profit uplift series (t, uplift), or None."""
    frame = series.sort_values("t")
    tick = _payback(frame["t"].to_numpy(), frame["uplift"].to_numpy()) if len(frame) else float("nan")
    return int(tick) if tick == tick else None


def profit_uplift_figure(
    uplift_series: pd.DataFrame,
    unit: str = "tick",
    currency: str | None = None,
    paybacks: dict[str, int | None] | None = None,
    scenarios: dict[str, Any] | None = None,
) -> Figure:
    """The decision chart: each treatment's paired uplift of cumulative profit over time with its 95% band, its
    payback week marked (given, or `payback_tick`), and the programme windows of a single treatment shaded."""
    fig = Figure(figsize=(10, 5.2), layout="constrained")
    ax = fig.subplots()
    part = uplift_series[uplift_series["metric"] == "cum_profit"]
    treatments = list(dict.fromkeys(part["treatment"]))
    for i, treatment in enumerate(treatments):
        rows = part[part["treatment"] == treatment].sort_values("t")
        colour = ARM_COLOURS[(i + 1) % len(ARM_COLOURS)]
        _band(ax, rows.rename(columns={"uplift": "mean"}), colour, treatment)
        week = paybacks.get(treatment) if paybacks is not None else payback_tick(rows)
        week = None if week is None or week != week else int(week)
        if week is not None:
            value = float(rows.loc[rows["t"] == week, "uplift"].iloc[0]) if (rows["t"] == week).any() else 0.0
            ax.plot([week], [value], "o", color=colour, ms=7, zorder=5)
            # one line per treatment below the zero line, so two paybacks a few weeks apart do not overlap
            ax.annotate(f"{treatment}: payback in {unit} {week}", (week, value), xytext=(8, -14 - 14 * i),
                        textcoords="offset points", fontsize=9, color=colour)  # fmt: skip
    if scenarios and len(treatments) == 1:
        mark_programmes(ax, programme_marks(scenarios.get(treatments[0])))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(unit)
    _weeks(ax)
    ax.set_ylabel(axis_label("cum_profit", "extra cumulative profit vs base", currency))
    format_axis(ax, "cum_profit", currency, difference=True)
    _plain(ax)
    format_axis(ax, "cum_profit", currency, difference=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left")
    ax.set_title("Profit uplift over time (paired, 95% band): where it crosses 0 for good, the programme has paid back")
    return fig


def _tick_text(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def heatmap_figure(points: pd.DataFrame, params: list[str], metrics: list[str], unit: str = "tick",
                   currency: str | None = None) -> Figure | None:  # fmt: skip
    """Mean outcome over the two parameters with the most distinct values (others averaged), one panel per outcome
    in a grid; None for one parameter. Sampled designs are binned into a 6 x 6 grid of quantiles."""
    if len(params) < 2:
        return None
    x, y = sorted(params, key=lambda p: -points[p].nunique())[:2]
    frame = points.copy()
    for p in (x, y):
        if frame[p].nunique() > 12 and pd.api.types.is_numeric_dtype(frame[p]):
            frame[p] = pd.qcut(frame[p], 6, duplicates="drop").apply(lambda iv: round(iv.mid, 4)).astype(float)
    fig, axes = _grid(len(metrics), panel=(5.2, 4.2))
    for ax, outcome in zip(axes, metrics, strict=True):
        grid = frame.pivot_table(index=y, columns=x, values=f"{outcome}_mean", aggfunc="mean")
        image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [_tick_text(v) for v in grid.columns], rotation=45)
        ax.set_yticks(range(grid.shape[0]), [_tick_text(v) for v in grid.index])
        values = grid.to_numpy()
        low, high = np.nanmin(values), np.nanmax(values)
        for (i, j), value in np.ndenumerate(values):
            light = high > low and (value - low) / (high - low) > 0.6  # viridis is light at the top
            text = format_money(value, currency) if _scale_of(outcome) == "money" else format_value(outcome, value)
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="black" if light else "white")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{outcome_label(outcome, unit)}: mean", fontsize=9)
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label(_outcome_text(outcome, "mean", currency), fontsize=8)
        _outcome_axis(bar.ax, outcome, currency)
    return fig


def _scale_of(name: str) -> str | None:
    entry = CATALOGUE.get(name.split(":")[-1])
    return entry.scale if entry is not None else None


def _outcome_text(name: str, text: str, currency: str | None, difference: bool = False) -> str:
    """`text` with the unit of outcome `name` when it is a catalogue metric's; a payback, ROI or damage has no
    catalogue entry, so its text stays as it is."""
    return axis_label(name, text, currency, difference) if name.split(":")[-1] in CATALOGUE else text


def _outcome_axis(ax: Axes, name: str, currency: str | None) -> None:
    if name.split(":")[-1] in CATALOGUE:
        format_axis(ax, name, currency)
    else:
        _plain(ax)


def partial_dependence_figure(effects: pd.DataFrame, unit: str = "tick", currency: str | None = None) -> Figure:
    """One panel per outcome and parameter, in a grid: the mean outcome across the parameter's values with a 95%
    band."""
    params, metrics = list(dict.fromkeys(effects["parameter"])), list(dict.fromkeys(effects["metric"]))
    pairs = [(m, p) for m in metrics for p in params]
    fig, axes = _grid(len(pairs), columns=max(GRID_COLUMNS, len(params)) if len(params) <= 4 else GRID_COLUMNS,
                      panel=(4.2, 3.0))  # fmt: skip
    for ax, (outcome, param) in zip(axes, pairs, strict=True):
        part = effects[(effects["parameter"] == param) & (effects["metric"] == outcome)]
        if part["category"].isna().all():  # a numeric parameter (a list of items has them in `category`)
            _band(ax, part.rename(columns={"value": "t"}).sort_values("t"), ARM_COLOURS[0], None)
            ax.plot(part["value"], part["mean"], "o", color=ARM_COLOURS[0], ms=3)
        else:
            ax.errorbar(part["category"].astype(str), part["mean"],
                        yerr=[part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]], fmt="o",
                        color=ARM_COLOURS[0])  # fmt: skip
        ax.set_xlabel(param, fontsize=8)
        label = outcome_label(outcome, unit)
        ax.set_ylabel(_outcome_text(outcome, label, currency), fontsize=8)
        _plain(ax)
        _outcome_axis(ax, outcome, currency)
        ax.grid(alpha=0.3)
    fig.suptitle("Partial dependence: mean over the other parameters and replications, 95% band")
    return fig


def sensitivity_figure(sensitivity: pd.DataFrame, unit: str = "tick", currency: str | None = None) -> Figure:
    """Per outcome, in a grid: horizontal bars of Sobol S1 and ST with 95% CIs when present, else the tornado
    swing in the outcome's unit."""
    metrics = list(dict.fromkeys(sensitivity["metric"]))
    sobol = "ST" in sensitivity.columns and sensitivity["ST"].notna().any()
    n_params = sensitivity["parameter"].nunique()
    fig, axes = _grid(len(metrics), panel=(5.0, 1.2 + 0.45 * n_params))
    for ax, outcome in zip(axes, metrics, strict=True):
        part = sensitivity[sensitivity["metric"] == outcome]
        part = part.sort_values("ST" if sobol else "swing", ascending=True)
        y = np.arange(len(part))
        if sobol:
            ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color=ARM_COLOURS[1], label="total (ST)")
            ax.barh(y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color=ARM_COLOURS[0], label="first order (S1)")
            ax.set_xlabel("Sobol index: share of the outcome's variance (95% CI)", fontsize=8)
            ax.legend(fontsize=7, loc="lower right")
        else:
            ax.barh(y, part["swing"], 0.6, color=ARM_COLOURS[0])
            ax.set_xlabel(_outcome_text(outcome, "swing of the mean over the range", currency, difference=True),
                          fontsize=8)  # fmt: skip
            if outcome.split(":")[-1] in CATALOGUE:
                format_axis(ax, outcome, currency, axis="x", difference=_scale_of(outcome) == "percent")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        ax.set_yticks(y, part["parameter"], fontsize=8)
        ax.set_title(outcome_label(outcome, unit), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("What drives the outcome: Sobol sensitivity indices" if sobol
                 else "What drives the outcome: effect of each parameter over its range")  # fmt: skip
    return fig


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes (a pyplot figure is closed afterwards)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    release_figure(fig)
    return buffer.getvalue()


def figure_svg(fig: Figure) -> str:
    """A figure as SVG text, for embedding in a page (a pyplot figure is closed afterwards)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    release_figure(fig)
    return buffer.getvalue()
