"""Figures: the single-run dashboard PNG (more plots and the HTML report build on these helpers)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from wom_sim.output import atomic_file  # noqa: E402
from wom_sim.population import CHANNELS  # noqa: E402

CHANNEL_COLOURS = {"none": "#bbbbbb", "advertising": "#4c72b0", "wom": "#55a868", "kol": "#c44e52",
                   "referral": "#8172b2"}  # fmt: skip


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
