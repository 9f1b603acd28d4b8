"""What the page saves: the current settings as a scenario file, the time series as CSV (or Excel), each chart.

No solara here: the page's download buttons call these lazily (only when clicked), and tests call them directly.
"""

from __future__ import annotations

import importlib.util
import io

import pandas as pd
from matplotlib.figure import Figure

from wom_sim.catalogue import metric
from wom_sim.scenario.loading import scenario_to_yaml
from wom_sim.scenario.schema import Scenario

CHART_FORMATS = ("png", "svg")
CHART_DPI = 150  # a saved chart is for slides and documents: sharper than the page's frames


def scenario_file(scenario: Scenario) -> str:
    """The resolved scenario the page runs (sliders, switches and seed applied) as YAML for `wom-sim run`."""
    header = (f"# {scenario.name} as set on the wom-sim viz page (sliders, switches and seed applied).\n"
              "# `wom-sim run` on this file reproduces the page's run exactly.\n")  # fmt: skip
    return header + scenario_to_yaml(scenario)


def labelled(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The per-tick metrics with the week (1-based, as on the page) first; column names stay the metric names."""
    out = frame.copy()
    out.insert(0, unit, out["t"].to_numpy() + 1)
    return out


def timeseries_csv(frame: pd.DataFrame, unit: str = "week") -> bytes:
    """The run's per-tick metrics as CSV (one row per tick so far, metric names as columns)."""
    return labelled(frame, unit).to_csv(index=False).encode("utf-8")


def excel_available() -> bool:
    """Whether an Excel writer (openpyxl, optional) is installed."""
    return importlib.util.find_spec("openpyxl") is not None


def timeseries_xlsx(frame: pd.DataFrame, unit: str = "week") -> bytes:
    """The per-tick metrics as an Excel workbook: a sheet of values and one of what each column means."""
    buffer = io.BytesIO()
    data = labelled(frame, unit)
    meaning = pd.DataFrame([{"column": c, "label": metric(c).label, "unit": metric(c).unit}
                            for c in data.columns if c != unit])  # fmt: skip
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        data.to_excel(writer, sheet_name="metrics", index=False)
        meaning.to_excel(writer, sheet_name="columns", index=False)
    return buffer.getvalue()


def chart_bytes(fig: Figure, fmt: str) -> bytes:
    """A chart as PNG or SVG."""
    if fmt not in CHART_FORMATS:
        raise ValueError(f"chart format must be one of {', '.join(CHART_FORMATS)}, got {fmt!r}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=CHART_DPI if fmt == "png" else None)
    return buffer.getvalue()
