"""Solara components of the page's main area: KPI tiles, the parameters in force, the network and the KPI plots.

Each redraws when Mesa's controller steps the model (it bumps `update_counter`) or replaces it (Reset). Each
model gets one persistent matplotlib figure per view (updated in place, not rebuilt), rendered to PNG once per
(model, tick, option) and memoised, so other re-renders cost nothing.
"""

from __future__ import annotations

import solara
from mesa.visualization.utils import update_counter

from wom_sim.viz.controls import VizModel
from wom_sim.viz.figures import KpiPlots, NetworkPlot, empty_kpi_png, kpi_values, png


@solara.component
def KpiTiles(model: VizModel, tick: int):
    """The headline numbers of the last tick, one tile each (`.wom-kpi-<key>`, with a `.wom-kpi-value`)."""
    sc = model.sim.wom_scenario
    with solara.Row(classes=["wom-kpis"], style={"flex-wrap": "wrap", "gap": "10px"}):
        for key, label, value in kpi_values(model.sim.last_metrics, tick, sc.ticks, sc.tick_unit):
            with solara.Column(classes=["wom-kpi", f"wom-kpi-{key}"], gap="0px", style=_TILE):
                solara.Text(label, classes=["wom-kpi-label"], style={"font-size": "12px", "color": "#666"})
                solara.Text(value, classes=["wom-kpi-value"], style={"font-size": "20px", "font-weight": "600"})


_TILE = {"padding": "6px 14px", "border-radius": "6px", "background": "#f5f7fa", "border": "1px solid #e3e7ee",
         "min-width": "120px"}  # fmt: skip


@solara.component
def InForce(model: VizModel):
    """The parameters the running model uses (after the last Reset), one `.wom-param` each."""
    with solara.Row(classes=["wom-in-force"], style={"flex-wrap": "wrap", "gap": "4px 16px", "font-size": "13px"}):
        solara.Text("In force:", style={"font-weight": "600"})
        for name, value in model.in_force().items():
            solara.Text(f"{name}: {value}", classes=["wom-param"])


@solara.component
def NetworkCard(model: VizModel, tick: int):
    """The network view: colour selector, picture and what it shows (sample size, layout origin)."""
    colour_by = solara.use_reactive("status")
    plot = solara.use_memo(lambda: NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol),
                           dependencies=[id(model)])  # fmt: skip

    def draw() -> bytes:
        with model.lock:  # update copies what it shows out of the arrays; encoding can run beside the next tick
            fig = plot.update(model.sim.population, model.sim.last_tick, colour_by.value)
        return png(fig)

    image = solara.use_memo(draw, dependencies=[id(model), tick, colour_by.value])
    with solara.Card("Word of mouth on the network", margin=0, classes=["wom-network"]):
        with solara.Row(style={"align-items": "center"}):
            solara.Text("Colour by", style={"font-size": "13px"})
            solara.ToggleButtonsSingle(value=colour_by, values=["status", "satisfaction"], dense=True)
        solara.Image(image, width="100%", classes=["wom-figure", "wom-network-figure"])
        messages = model.sim.last_metrics or {}
        with solara.Column(gap="2px", style={"font-size": "12px", "color": "#555"}):
            solara.Text(f"{model.drawn.caption()} Layout {model.layout_origin}.", classes=["wom-sample"])
            if messages:
                solara.Text(
                    f"This {model.sim.wom_scenario.tick_unit}: {messages['pos_messages']:,} positive and "
                    f"{messages['neg_messages']:,} negative messages among everyone; the coloured lines are those "
                    "between drawn people."
                )


@solara.component
def KpiCard(model: VizModel, tick: int):
    """The six KPI plots."""
    sc = model.sim.wom_scenario
    plots: dict = solara.use_memo(dict, dependencies=[id(model)])  # the model's KpiPlots, made at its first tick

    def draw() -> bytes:
        with model.lock:
            frame = model.sim.metrics_frame()
        if frame.empty:
            return empty_kpi_png(sc.ticks, sc.tick_unit)
        if "kpi" not in plots:
            plots["kpi"] = KpiPlots(sc.ticks, sc.tick_unit)
        return png(plots["kpi"].update(frame))

    image = solara.use_memo(draw, dependencies=[id(model), tick])
    with solara.Card("Key indicators", margin=0, classes=["wom-kpi-plots"]):
        solara.Image(image, width="100%", classes=["wom-figure", "wom-kpi-figure"])


@solara.component
def Dashboard(model: solara.Reactive[VizModel]):
    """The main area: tiles, parameters in force, network and KPI plots side by side (stacked when narrow)."""
    update_counter.get()  # Mesa's controller bumps this after each step: redraw
    current = model.value
    tick = current.sim.tick
    current.frame_started()  # the Play loop waits for this frame (VizModel pacing)
    solara.use_effect(current.frame_shown, dependencies=None)  # effects run once the render is committed
    with solara.Column(style={"padding": "12px 16px", "gap": "12px"}):
        KpiTiles(current, tick)
        InForce(current)
        with solara.ColumnsResponsive(12, large=[5, 7]):
            NetworkCard(current, tick)
            KpiCard(current, tick)
