"""Figures and an HTML section for response curves and the budget optimiser (docs/optimise.md): one figure per lever
(spend against each outcome's paired uplift with its 95% band, the current plan and the saturation point marked),
and the optimiser's answer as a small self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wom_sim.analysis.outcomes import format_outcome
from wom_sim.analysis.outcomes import label as outcome_label
from wom_sim.catalogue import format_money, format_value, metric
from wom_sim.output import atomic_file, save_figure


def curve_figure(table: pd.DataFrame, lever: str) -> Figure:
    """One lever's response curves: a panel per outcome, uplift over the lever's lowest level against its spend
    (against its value when the lever costs nothing), the 95% paired band, the current plan and the saturation."""
    rows = table[table["lever"] == lever]
    names = list(dict.fromkeys(rows["outcome"]))
    fig = Figure(figsize=(4.6 * len(names), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, name in zip(axes, names, strict=True):
        part = rows[rows["outcome"] == name].sort_values("value")
        by_spend = part["spend_uplift"].abs().max() > 0
        x = part["spend_uplift"] if by_spend else part["value"]
        colour = metric(name.split(":")[-1]).colour or "black"
        ax.fill_between(x, part["ci_low"], part["ci_high"], color=colour, alpha=0.2, linewidth=0, label="95% band")
        ax.plot(x, part["uplift"], marker="o", color=colour, label="uplift")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        current = part[part["current"]]
        if len(current):
            cx = current["spend_uplift"] if by_spend else current["value"]
            ax.plot(cx, current["uplift"], marker="*", markersize=14, color="black", linestyle="", label="current")
        saturation = part["saturation"].iloc[0]
        if np.isfinite(saturation):
            sx = part.loc[part["value"] == saturation, "spend_uplift" if by_spend else "value"]
            if len(sx):
                ax.axvline(float(sx.iloc[0]), color="grey", linestyle="--", label="saturation")
        ax.set_title(outcome_label(name), fontsize=10)
        ax.set_xlabel(f"extra spend on {lever}" if by_spend else lever)
        ax.set_ylabel("uplift over the lowest level")
        ax.legend(fontsize=8)
    fig.suptitle(f"Response of {lever} (paired by seed)")
    return fig


def write_curve_figures(table: pd.DataFrame, folder: str | Path) -> list[str]:
    """One PNG per lever in `folder` (atomically); the file names written."""
    names = []
    for lever in dict.fromkeys(table["lever"]):
        name = "curve_" + "".join(c if c.isalnum() or c in "._-" else "_" for c in lever) + ".png"
        save_figure(curve_figure(table, lever), Path(folder) / name)
        names.append(name)
    return names


def table_html(frame: pd.DataFrame, objective: str) -> str:
    """An optimiser table as HTML: money columns in the objective's format, other numbers to 4 significant digits,
    an empty cell where a value is undefined (a plan against itself)."""
    money = {"objective", "spend", "vs_current", "vs_no_spend", "ci_low", "ci_high", "difference"}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for col, value in row.items():
            if isinstance(value, float) and value != value:
                text = ""
            elif isinstance(value, float) and (col in money or str(col).startswith(("vs_", "spend"))):
                text = format_value(objective if not str(col).startswith("spend") else "intervention_cost", value)
            elif isinstance(value, float):
                text = f"{value:,.4g}"
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def check_display(check: pd.DataFrame, objective: str, currency: str | None = None, unit: str = "tick") -> pd.DataFrame:
    """The optimiser's fresh-seed check as a reader reads it: each plan's objective and spend in the objective's
    unit (money with k/M and the currency), its paired difference against the current plan and against no spend
    with the 95% CI beside it, the ROI against no spend; "" where a plan is compared with itself."""

    def paired(row: pd.Series, column: str, fmt) -> str:
        value = row.get(column, float("nan"))
        if value != value:
            return ""
        return f"{fmt(value)} ({fmt(row[f'{column}_ci_low'])} to {fmt(row[f'{column}_ci_high'])})"

    def diff(v: float) -> str:
        return format_outcome(objective, v, currency, unit, delta=True)

    def ratio(v: float) -> str:
        return "n/a" if v != v else f"{v:+.2f}"

    def roi(row: pd.Series) -> str:
        value = row.get("roi_vs_no_spend", float("nan"))
        return "" if value != value else f"{ratio(value)} ({ratio(row['roi_ci_low'])} to {ratio(row['roi_ci_high'])})"

    rows = [row for _, row in check.iterrows()]
    return pd.DataFrame(
        {
            "plan": [str(r["plan"]) for r in rows],
            outcome_label(objective, unit): [format_outcome(objective, r["objective"], currency, unit) for r in rows],
            "programme spend": [format_money(r["spend"], currency) for r in rows],
            "vs current plan (95% CI)": [paired(r, "vs_current", diff) for r in rows],
            "vs no spend (95% CI)": [paired(r, "vs_no_spend", diff) for r in rows],
            "ROI vs no spend (95% CI)": [roi(r) for r in rows],
        }
    )


def plan_text(values: dict[str, float]) -> str:
    """A plan's lever values as a reader reads them ("kol_campaign.select.k = 17, ... = 1,520"), not 1519.62."""
    return ", ".join(f"{k} = {v:,.4g}" for k, v in values.items())


def optimise_html(result) -> str:
    """The optimiser's answer as an HTML section: the plan, the fresh-seed check, the notes, the runners-up."""
    objective = result.spec.objective
    plan = html.escape(plan_text(result.recommended)) or "as it is"
    parts = [
        "<section><h2>Budget plan</h2>",
        f"<p>Recommended: <b>{html.escape(result.recommended_label)}</b> ({plan}); objective "
        f"<code>{html.escape(objective)}</code>.</p>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>",
    ]
    if result.verdict:
        parts.append(f"<pre>{html.escape(result.verdict)}</pre>")
    if not result.check_table.empty:
        parts += ["<h3>Fresh-seed check (paired 95% CIs)</h3>", table_html(result.check_table, objective)]
    if not result.indistinguishable.empty:
        parts += ["<h3>Plans within the noise of the best</h3>", table_html(result.indistinguishable, objective)]
    parts.append("</section>")
    return "\n".join(parts)


def write_optimise_html(result, path: str | Path) -> Path:
    """A self-contained page around `optimise_html` (atomically)."""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>wom-sim budget plan</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}</style></head><body>" + optimise_html(result) + "</body></html>"
    )
    with atomic_file(path, "w") as handle:
        handle.write(page)
    return Path(path)
