"""Solara components of the page's main area: KPI tiles, the parameters in force, pins, the network, the KPI plots.

Each redraws when Mesa's controller steps the model (it bumps `update_counter`) or replaces it (Reset). Each
model gets one persistent matplotlib figure per view (updated in place, not rebuilt), rendered to PNG once per
(model, tick, option, pins) and memoised, so other re-renders cost nothing. Pinned runs live in the session
(`Session` in app.py), so they survive Reset.
"""

from __future__ import annotations

import html
import threading

import solara
import solara.lab
from mesa.visualization.utils import force_update, update_counter

from wom_sim.viz import saving
from wom_sim.viz.controls import VizModel
from wom_sim.viz.figures import (
    KpiPlots,
    NetworkPlot,
    empty_kpi_png,
    kpi_differences,
    kpi_values,
    pin_row,
    png,
    start_metrics,
)
from wom_sim.viz.groups import MAX_GROUPS, aggregate_figure, communities
from wom_sim.viz.pins import COMPARE_REPLICATIONS, MAX_PINS, Pin, add_pin, changed_settings, compare_with_pin, make_pin

MUTED = {"font-size": "12px", "color": "#555555"}
WATCH_S = 0.5  # how often the page checks that the model's last tick is drawn (see VizModel.needs_frame)


@solara.component
def KpiTiles(model: VizModel, tick: int, pin: Pin | None):
    """The headline numbers of the last tick, one tile each (`.wom-kpi-<key>`, with a `.wom-kpi-value`), and the
    difference to the first pinned run at the same week (`.wom-kpi-delta`)."""
    sc = model.sim.wom_scenario
    deltas = kpi_differences(model.sim.last_metrics, pin_row(pin.frame, tick) if pin else None, sc.competitors)
    with solara.Row(classes=["wom-kpis"], style={"flex-wrap": "wrap", "gap": "10px"}):
        shown = model.sim.last_metrics or start_metrics(model.sim)  # week 0: the starting state, not "–"
        for key, label, value in kpi_values(shown, tick, sc.ticks, sc.tick_unit, sc.competitors):
            with solara.Column(classes=["wom-kpi", f"wom-kpi-{key}"], gap="0px", style=_TILE):
                solara.Text(label, classes=["wom-kpi-label"], style={"font-size": "12px", "color": "#666666"})
                solara.Text(value, classes=["wom-kpi-value"], style={"font-size": "20px", "font-weight": "600"})
                if key in deltas:
                    solara.Text(f"{deltas[key]} vs {pin.label}", classes=["wom-kpi-delta"], style=MUTED)


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
def Pins(model: VizModel, tick: int, pins: solara.Reactive[tuple]):
    """Pin the current run as a reference (up to MAX_PINS), list the pins with what differs, unpin."""
    now = model.in_force()

    def pin_current():
        with model.lock:
            frame = model.sim.metrics_frame()
        pins.value = add_pin(pins.value, make_pin(model.sim.wom_scenario, frame, now))

    with solara.Column(gap="0px", classes=["wom-pins"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Button("Pin this run", on_click=pin_current, disabled=len(pins.value) >= MAX_PINS or not tick,
                          classes=["wom-pin"], color="primary", outlined=True, small=True)  # fmt: skip
            if not pins.value:
                solara.Text("Run the model, pin it, then change sliders or switches and press Reset: the plots show "
                            "the pinned run in grey and the tiles the difference to it.", style=MUTED)  # fmt: skip
            elif len(pins.value) >= MAX_PINS:
                solara.Text(f"At most {MAX_PINS} pins: unpin one first.", style=MUTED)
        for pin in pins.value:
            with solara.Row(classes=["wom-pin-row"], style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Button("Unpin", text=True, small=True, on_click=lambda p=pin: _unpin(pins, p))
                weeks = len(pin.frame)
                changes = changed_settings(pin, now)
                what = "; ".join(changes) if changes else "same settings as now"
                solara.Text(f"{pin.label} ({weeks} {pin.scenario.tick_unit}s): {what}", classes=["wom-pin-label"],
                            style={"font-size": "13px"})  # fmt: skip


def _unpin(pins: solara.Reactive[tuple], pin: Pin) -> None:
    pins.value = tuple(p for p in pins.value if p is not pin)


@solara.component
def Compare(model: VizModel, tick: int, pin: Pin):
    """On request: the paired difference current - pin over a few replications with the same seeds, and its CI."""
    replications = solara.use_reactive(COMPARE_REPLICATIONS)
    scenario = model.sim.wom_scenario
    result = solara.lab.use_task(lambda: compare_with_pin(pin, scenario, replications.value), dependencies=None,
                                 raise_error=False)  # fmt: skip
    with solara.Card("Paired comparison", margin=0, classes=["wom-compare-card"]):
        _compare_body(pin, replications, result)


def _compare_body(pin: Pin, replications, result) -> None:
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button(f"Compare with {pin.label}", on_click=result, disabled=result.pending, classes=["wom-compare"],
                      outlined=True)  # fmt: skip
        with solara.Column(style={"width": "280px"}):
            solara.SliderInt(f"Replications per arm: {replications.value}", value=replications, min=2, max=20)
        solara.Text("Both arms run with the same seeds (common random numbers): the difference is the effect of the "
                    "change, and its 95% CI says how sure that is.", style=MUTED)  # fmt: skip
    if result.pending:
        solara.ProgressLinear(True)
    elif result.error:
        solara.Error(f"The comparison failed: {result.exception}")
    elif result.finished and result.value:
        CompareTable(result.value)


@solara.component
def CompareTable(rows: list[dict[str, str]]):
    """The compare panel's rows as a plain HTML table. Not solara.Markdown: it loads mermaid from solara's CDN
    route, which the offline page does not serve (a 404 and a script error in the browser console)."""
    header = list(rows[0])
    cell = "padding: 2px 10px; border-bottom: 1px solid #e3e7ee; text-align: left"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(row[h]))}</td>" for h in header) + "</tr>" for row in rows)
    table = f"<style>.wom-compare-result th, .wom-compare-result td {{{cell}}}</style>"
    table += f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    solara.HTML(tag="div", unsafe_innerHTML=table, classes=["wom-compare-result"], style={"font-size": "13px"})


@solara.component
def NetworkCard(model: VizModel, tick: int):
    """The network view: colour selector, picture and what it shows (sample size, layout origin)."""
    colour_by = solara.use_reactive("status")
    view = solara.use_reactive("people")
    unit = model.sim.wom_scenario.tick_unit
    plot = solara.use_memo(lambda: NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol, unit=unit),
                           dependencies=[id(model)])  # fmt: skip

    def draw() -> bytes:
        with model.lock:  # update copies what it shows out of the arrays; encoding can run beside the next tick
            plot.update(model.sim.population, model.sim.last_tick, colour_by.value, _community(model, colour_by.value))
        return plot.frame_png()

    def chart(fmt: str):
        def make() -> bytes:
            with model.lock:
                if view.value == "communities":
                    fig = aggregate_figure(communities(model.sim.graph), model.sim.population, model.sim.last_tick,
                                           unit)  # fmt: skip
                else:
                    fig = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol, unit=unit).update(
                        model.sim.population, model.sim.last_tick, colour_by.value, _community(model, colour_by.value)
                    )
            return saving.chart_bytes(fig, fmt)

        return make

    def draw_groups() -> bytes:
        groups = communities(model.sim.graph)  # once per graph (a second or two at 20,000 people)
        with model.lock:
            fig = aggregate_figure(groups, model.sim.population, model.sim.last_tick, unit)
        return png(fig)

    grouped = view.value == "communities"
    image = solara.use_memo(draw_groups if grouped else draw, dependencies=[id(model), tick, colour_by.value, grouped])
    with solara.Card("Word of mouth on the network", margin=0, classes=["wom-network"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            if model.drawn.sampled:  # above MAX_DRAWN people: everyone grouped, or a sample of people
                solara.ToggleButtonsSingle(value=view, values=["people", "communities"], dense=True,
                                           classes=["wom-view"])  # fmt: skip
            if not grouped:
                solara.Text("Colour by", style={"font-size": "13px"})
                solara.ToggleButtonsSingle(value=colour_by, values=["status", "satisfaction", "community"],
                                           dense=True)  # fmt: skip
            for fmt in saving.CHART_FORMATS:
                Download(chart(fmt), f"network_{unit}{tick}.{fmt}", fmt.upper(), _MIME[fmt])
        # Hover a dot to see that person's state: a transparent layer of tooltips over the picture. It is ~0.3 MB
        # and ~0.1 s to build at 2,000 drawn people, so it is built off the render path, once the page has shown a
        # week for HOVER_QUIET_S (paused, or after Step), never for each frame of a Play.
        hover, set_hover = solara.use_state(("", -1, ""))

        def build_hover():
            # A plain thread started by an effect, not solara's use_thread: use_thread changes its own state each
            # time it restarts (every week of a Play), which adds renders and can trip reacton's render-loop guard.
            cancel = threading.Event()

            def run() -> None:
                if grouped or cancel.wait(HOVER_QUIET_S) or model.sim.tick != tick:
                    return
                # A Play waiting for a slow frame also leaves a week on screen: build only once the model is still,
                # so a Play never adds the tooltips' renders to its own.
                if not model.quiet_for(HOVER_QUIET_S):
                    return
                set_hover((str(id(model)), tick, _hover(plot, model)))

            threading.Thread(target=run, name="wom-hover", daemon=True).start()
            return cancel.set

        solara.use_effect(build_hover, dependencies=[id(model), tick, grouped])
        hover = hover[2] if hover[:2] == (str(id(model)), tick) and not grouped else ""
        with solara.Column(style={"position": "relative", "padding": "0"}, gap="0"):
            solara.Image(image, width="100%", classes=["wom-figure", "wom-network-figure"])
            if hover:
                solara.HTML(tag="div", unsafe_innerHTML=hover, classes=["wom-hover-layer"],
                            style="position:absolute;left:0;top:0;width:100%;height:100%")  # fmt: skip
        messages = model.sim.last_metrics or {}
        with solara.Column(gap="2px", style=MUTED):
            if grouped:
                solara.Text(f"All {model.sim.n:,} people, grouped: the {MAX_GROUPS} largest communities (label "
                            "propagation on the whole graph) and the others.", classes=["wom-sample"])  # fmt: skip
            else:
                solara.Text(f"{model.drawn.caption()} Layout {model.layout_origin}.", classes=["wom-sample"])
            if messages:
                solara.Text(
                    f"This {unit}: {messages['pos_messages']:,} positive and {messages['neg_messages']:,} negative "
                    "messages among everyone"
                    + ("." if grouped else "; the coloured lines are those between drawn people.")
                )


HOVER_QUIET_S = 0.4  # seconds a week stays on screen before its tooltips are built (a Play shows ~6 weeks a second)


def _community(model: VizModel, colour_by: str):
    """Each person's community when the view is coloured by it (computed once per graph, started with the model)."""
    return communities(model.sim.graph) if colour_by == "community" else None


def _hover(plot: NetworkPlot, model: VizModel) -> str:
    with model.lock:
        return plot.hover_svg(model.sim.population)


_MIME = {"png": "image/png", "svg": "image/svg+xml"}


@solara.component
def Download(data, filename: str, label: str, mime_type: str = "application/octet-stream"):
    """A small download button; `data` is called only when it is clicked."""
    button = solara.Button(label, icon_name="mdi-download", small=True, outlined=True, classes=["wom-download"])
    solara.FileDownload(data, filename=filename, mime_type=mime_type, children=[button])


@solara.component
def KpiCard(model: VizModel, tick: int, pins: tuple):
    """The six KPI plots, with the pinned runs in grey, and a download per format."""
    sc = model.sim.wom_scenario
    plots: dict = solara.use_memo(dict, dependencies=[id(model)])  # the model's KpiPlots, made at its first frame

    def draw() -> bytes:
        with model.lock:
            frame = model.sim.metrics_frame()
        if frame.empty and not pins:
            return empty_kpi_png(sc.ticks, sc.tick_unit)
        if "kpi" not in plots:
            plots["kpi"] = KpiPlots(sc.ticks, sc.tick_unit)
        plots["kpi"].update(frame, pins)
        return plots["kpi"].frame_png()

    def chart(fmt: str):
        def make() -> bytes:
            with model.lock:
                frame = model.sim.metrics_frame()
            return saving.chart_bytes(KpiPlots(sc.ticks, sc.tick_unit).update(frame, pins), fmt)

        return make

    image = solara.use_memo(draw, dependencies=[id(model), tick, tuple(id(p) for p in pins)])
    with solara.Card("Key indicators", margin=0, classes=["wom-kpi-plots"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            if not tick:
                solara.Text("Press Step or \u25b6 to run: the axes are the run's.", classes=["wom-hint"], style=MUTED)
            for fmt in saving.CHART_FORMATS:
                Download(chart(fmt), f"indicators_{sc.tick_unit}{tick}.{fmt}", fmt.upper(), _MIME[fmt])
        solara.Image(image, width="100%", classes=["wom-figure", "wom-kpi-figure"])


@solara.component
def Save(model: VizModel):
    """Downloads: the settings as a scenario file for `wom-sim run`, the time series as CSV (and Excel)."""
    sc = model.sim.wom_scenario
    stem = f"{sc.name}_viz"

    def frame():
        with model.lock:
            return model.sim.metrics_frame()

    with solara.Row(classes=["wom-save"], style={"align-items": "center", "flex-wrap": "wrap", "gap": "8px"}):
        solara.Text("Save:", style={"font-weight": "600", "font-size": "13px"})
        Download(lambda: saving.scenario_file(sc), f"{stem}.yaml", "Settings as scenario", "text/yaml")
        Download(lambda: saving.timeseries_csv(frame(), sc.tick_unit), f"{stem}.csv", "Time series (CSV)", "text/csv")
        if saving.excel_available():
            Download(lambda: saving.timeseries_xlsx(frame(), sc.tick_unit), f"{stem}.xlsx", "Time series (Excel)")


@solara.component
def Dashboard(model: solara.Reactive[VizModel], pins: solara.Reactive[tuple] | None = None):
    """The main area: tiles, parameters in force, pins, network and KPI plots side by side (stacked when narrow)."""
    own_pins = solara.use_reactive(())
    pins = pins if pins is not None else own_pins
    update_counter.get()  # Mesa's controller bumps this after each step: redraw
    current = model.value
    tick = current.sim.tick
    current.frame_started()  # the Play loop waits for this frame (VizModel pacing)
    solara.use_effect(current.frame_shown, dependencies=None)  # effects run once the render is committed

    def watch(cancel) -> None:
        while not cancel.wait(WATCH_S):
            if current.needs_frame():
                force_update()

    solara.use_thread(watch, dependencies=[id(current)], intrusive_cancel=False)
    with solara.Column(style={"padding": "12px 16px", "gap": "12px"}):
        KpiTiles(current, tick, pins.value[0] if pins.value else None)
        InForce(current)
        Save(current)
        Pins(current, tick, pins)
        with solara.ColumnsResponsive(12, large=[5, 7]):
            NetworkCard(current, tick)
            KpiCard(current, tick, pins.value)
        if pins.value:  # below the plots, which a user watches most
            # A new model (Reset) or another first pin starts a fresh comparison: a result is for the settings it ran.
            Compare(current, tick, pins.value[0]).key(f"compare-{id(current)}-{pins.value[0].label}")
