"""Notebook display of results: one labelled outcome table (HTML for `_repr_html_`, a DataFrame for
`to_frame`) and one labelled figure of per-tick series, both worded from the metric catalogue.

Every result class (a run's `SimResult`, a `StudyResult` of replications or a sweep, a `Comparison`) calls these
from thin methods, so a notebook shows the same labels, units and formats as the CLI. Matplotlib is imported
when a figure is drawn, not with this module.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from wom_sim.catalogue import format_delta, format_number, format_value, metric, summarise
from wom_sim.errors import ScenarioError

MAX_PANELS = 6  # a notebook figure of more small panels than this stops being readable
PANEL_INCHES = (4.0, 2.8)  # one panel's width and height


def outcome_label(name: str, unit: str = "tick") -> str:
    """The catalogue's label of a metric or ``stat:column`` outcome ("Churn rate per week (max)"); else the name."""
    stat, _, column = name.rpartition(":")
    try:
        entry = metric(column)
    except ScenarioError:
        return name
    text = entry.label.replace("tick", unit)
    return f"{text} ({stat})" if stat and stat != entry.summary else text


def _entry(name: str):
    try:
        return metric(name.rpartition(":")[2])
    except ScenarioError:
        return None


# A brand's deepest drop relative to the base: `damage:<column>` and its names (wom_sim.analysis.outcomes.ALIASES).
DAMAGE_NAMES = ("damage", "crisis_damage")


def format_outcome(name: str, value: float | None, uplift: bool = False, currency: str | None = None) -> str:
    """One value as the catalogue formats it (`format_value`), an uplift or an `incremental:` outcome (a difference
    against the base) as a signed difference (`format_delta`: shares and NPS in points, money with the currency), a
    damage as a relative change in % (as `wom-sim compare` and the sweep summary print them)."""
    if value is None or value != value:
        return "n/a"
    stat = name.rpartition(":")[0].split(":")[0]
    if stat == "damage" or name in DAMAGE_NAMES:
        return format_number("{:+.1%}", value)
    uplift = uplift or stat == "incremental"
    if _entry(name) is None:
        return f"{value:+.3g}" if uplift else f"{value:.4g}"
    return format_delta(name, value, currency) if uplift else format_value(name, value, currency)


def outcome_frame(
    rows: Iterable[dict[str, Any]], unit: str = "tick", uplift: bool = False, currency: str | None = None
) -> pd.DataFrame:
    """The outcome table a notebook shows: rows with ``outcome``, ``value`` and optional ``ci_low``/``ci_high``
    (and any leading columns, such as ``treatment``) -> label, value, 95% CI as text, beside the raw numbers."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return frame
    frame.insert(frame.columns.get_loc("outcome") + 1, "label", [outcome_label(o, unit) for o in frame["outcome"]])
    frame["shown"] = [
        format_outcome(o, v, uplift, currency) for o, v in zip(frame["outcome"], frame["value"], strict=True)
    ]
    if "ci_low" in frame:
        frame["95% CI"] = [
            ""
            if lo != lo
            else f"{format_outcome(o, lo, uplift, currency)} to {format_outcome(o, hi, uplift, currency)}"
            for o, lo, hi in zip(frame["outcome"], frame["ci_low"], frame["ci_high"], strict=True)
        ]
    return frame


def html_table(frame: pd.DataFrame, title: str, note: str = "") -> str:
    """The HTML of an `outcome_frame`: its label, leading and text columns (the raw numbers stay in `to_frame`)."""
    if frame.empty:
        return f"<p><b>{html.escape(title)}</b>: no outcomes</p>"
    raw = {"outcome", "value", "ci_low", "ci_high"}
    shown = frame[[c for c in frame.columns if c not in raw]].rename(columns={"label": "outcome", "shown": "value"})
    body = shown.to_html(index=False, escape=True, border=0, classes="wom-sim")
    tail = f"<p><small>{html.escape(note)}</small></p>" if note else ""
    return f"<div><p><b>{html.escape(title)}</b></p>{body}{tail}</div>"


def html_lines(lines: Iterable[str]) -> str:
    """Sentences (a comparison's verdicts) as HTML paragraphs, to lead a table."""
    return "".join(f"<p>{html.escape(str(line))}</p>" for line in lines)


def series_figure(
    series: pd.DataFrame,
    metrics: Iterable[str],
    unit: str = "tick",
    by: str | None = None,
    title: str = "",
    uplift: bool = False,
    x: str = "t",
):
    """Small multiples of per-tick series, one panel per metric, labelled from the catalogue.

    `series` is long: ``metric``, ``t``, ``mean`` (or ``uplift``) and optional ``ci_low``/``ci_high`` bands;
    `by` names a column with one line per value (arms, treatments); `x` the column along the x axis (labelled
    with `unit`, or with `x` itself when it is not the tick). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt  # drawn on demand: importing matplotlib costs start-up time

    names = [m for m in dict.fromkeys(metrics) if m in set(series["metric"])][:MAX_PANELS]
    value = "uplift" if "uplift" in series.columns else "mean"
    cols = min(3, max(len(names), 1))
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL_INCHES[0] * cols, PANEL_INCHES[1] * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        part = series[series["metric"] == name]
        entry = _entry(name)
        factor = 100.0 if entry is not None and entry.scale == "percent" else 1.0
        groups = part.groupby(by, sort=False) if by else [(None, part)]
        for key, group in groups:
            line = ax.plot(group[x], group[value] * factor, label=key)[0]
            if "ci_low" in group:
                ax.fill_between(group[x], group["ci_low"] * factor, group["ci_high"] * factor,
                                color=line.get_color(), alpha=0.2, linewidth=0)  # fmt: skip
        if uplift:
            ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_title(outcome_label(name, unit), fontsize=9)
        ax.set_xlabel(unit if x == "t" else x)
        ax.set_ylabel(_axis_unit(entry, uplift), fontsize=8)
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    if by and names:
        axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _axis_unit(entry, uplift: bool) -> str:
    if entry is None:
        return "uplift" if uplift else ""
    what = {"percent": "points" if uplift else "%", "money": "currency"}.get(entry.scale, entry.unit)
    return f"uplift ({what})" if uplift else what


# ------------------------------------------------------------------------------------------------ rows per result
def run_rows(metrics: pd.DataFrame, names: Iterable[str]) -> list[dict[str, Any]]:
    """One run's outcomes: each metric summarised over its ticks by the catalogue's statistic."""
    return [{"outcome": n, "value": summarise(metrics[n], metric(n).summary)} for n in names if n in metrics]


def summary_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """Replications' outcomes from a `mean_ci_table` (metric, mean, ci_low, ci_high)."""
    return [{"outcome": r.metric, "value": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high}
            for r in summary.itertuples()]  # fmt: skip


def uplift_rows(uplift: pd.DataFrame) -> list[dict[str, Any]]:
    """A comparison's paired uplifts (treatment, outcome, uplift, ci_low, ci_high)."""
    return [{"treatment": r.treatment, "outcome": r.outcome, "value": r.uplift, "ci_low": r.ci_low,
             "ci_high": r.ci_high} for r in uplift.itertuples()]  # fmt: skip


def sweep_metrics(points: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The parameters and outcome names of a sweep's points table (point, params..., n, <outcome>_mean/_ci_*)."""
    names = [c[: -len("_mean")] for c in points.columns if c.endswith("_mean")]
    derived = {f"{n}_{s}" for n in names for s in ("mean", "ci_low", "ci_high")}
    return [c for c in points.columns if c not in derived and c not in ("point", "n")], names


def sweep_rows(points: pd.DataFrame) -> list[dict[str, Any]]:
    """A sweep's best point per outcome (highest mean), with its CI and parameter values."""
    params, names = sweep_metrics(points)
    rows = []
    for name in names:
        best = points.loc[points[f"{name}_mean"].idxmax()]
        where = ", ".join(f"{p}={best[p]:.4g}" if isinstance(best[p], float) else f"{p}={best[p]}" for p in params)
        rows.append({"outcome": name, "value": best[f"{name}_mean"], "ci_low": best[f"{name}_ci_low"],
                     "ci_high": best[f"{name}_ci_high"], "best point": where})  # fmt: skip
    return rows


def sweep_series(points: pd.DataFrame) -> pd.DataFrame:
    """A sweep's points as a long table (metric, every parameter, mean, ci_low, ci_high), sorted along the first."""
    params, names = sweep_metrics(points)
    frames = [
        pd.DataFrame({"metric": n, **{p: points[p] for p in params}, "mean": points[f"{n}_mean"],
                      "ci_low": points[f"{n}_ci_low"], "ci_high": points[f"{n}_ci_high"]}).sort_values(params[0])
        for n in names
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)
