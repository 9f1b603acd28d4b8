"""The SolaraViz page: `solara run wom_sim.viz.app` (or `wom-sim viz SCENARIO`, which sets the variables below).

The sidebar is Mesa's SolaraViz controls: Reset / play-pause / Step with the play and render intervals, the model
parameters (sliders for the main levers, a switch per bundled intervention, the seed) and the step counter; a
scenario picker sits above them. The main area is ours (`components.Dashboard`): KPI tiles, the parameters in
force, the network and the KPI plots. Picking a scenario loads it at once, with the sliders and switches set to
its values; other changes take effect on Reset.

Environment (set by `wom-sim viz`):
  WOM_SIM_VIZ_SCENARIO   scenario file or bundled name to open (default: baseline)
  WOM_SIM_VIZ_OVERRIDES  JSON list of `key=value` overrides applied to every scenario (the command's --set)
  WOM_SIM_VIZ_PREWARM    1: build the scenario to open and draw its first frames when the server starts
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator, ShowSteps

from wom_sim.scenario.catalogue import resolve_scenario_path
from wom_sim.scenario.schema import Scenario
from wom_sim.viz.components import Dashboard
from wom_sim.viz.controls import VizModel, bundled_scenarios, load_choices, model_params, switch_templates
from wom_sim.viz.figures import NetworkPlot, empty_kpi_png, png

log = logging.getLogger(__name__)

PLAY_INTERVAL_MS = 50  # pause between steps while playing; drawing sets the pace at large N

# Tighter sidebar inputs: a dozen intervention switches fit without scrolling past the controls.
CSS = """
.v-navigation-drawer .v-input--checkbox { margin-top: 0; padding-top: 0; }
.v-navigation-drawer .v-input--checkbox .v-messages { display: none; }
.v-navigation-drawer .v-input--checkbox .v-input__slot { margin-bottom: 2px; }
.v-navigation-drawer .v-input--checkbox label { font-size: 14px; }
.v-navigation-drawer .v-input__slider { margin-top: 10px; }
/* Always show each slider's value as a small flat tag above its thumb (Mesa's sliders show no number). */
.v-navigation-drawer .v-slider__thumb-label-container { display: block !important; }
.v-navigation-drawer .v-slider__thumb-label { transform: translateY(-21px) translateX(-50%) !important;
  width: auto !important; height: 16px !important; padding: 0 4px; border-radius: 3px; font-size: 11px; }
.v-navigation-drawer .v-slider__thumb-label > * { transform: none !important; }
"""


def launch_settings() -> tuple[Path, tuple[str, ...]]:
    """The scenario to open and the overrides for every scenario, from the environment."""
    path = resolve_scenario_path(os.environ.get("WOM_SIM_VIZ_SCENARIO", "baseline"))
    overrides = tuple(json.loads(os.environ.get("WOM_SIM_VIZ_OVERRIDES", "[]")))
    return path.resolve(), overrides


def initial_kwargs(params: dict) -> dict:
    """The keyword arguments Mesa passes on Reset before the user touches anything (each input's value)."""
    return {k: v["value"] if isinstance(v, dict) and "type" in v else v for k, v in params.items()}


def prewarm() -> None:
    """Build the scenario to open (graph, KOLs, layout) and draw its first frames once, before anyone asks.

    `wom-sim viz` runs this in a thread when the server starts (WOM_SIM_VIZ_PREWARM=1), so the first visit finds
    the graph, the layout and matplotlib's font cache ready; the page itself re-uses them through the caches.
    """
    try:
        start, overrides = launch_settings()
        choices = load_choices(bundled_scenarios(start), overrides)
        templates = switch_templates([sc for _, sc in choices.values()])
        path, scenario = next(((p, sc) for p, sc in choices.values() if p == start), (None, None))
        if path is None:
            return
        model = VizModel(**initial_kwargs(model_params(path, scenario, templates, overrides)))
        plot = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol, unit=scenario.tick_unit)
        png(plot.update(model.sim.population, None))
        empty_kpi_png(scenario.ticks, scenario.tick_unit)
    except Exception:  # a warm-up must never take the server down; the page reports real errors itself
        log.exception("wom-sim viz: warm-up failed (the page will build everything on first visit)")


if os.environ.get("WOM_SIM_VIZ_PREWARM") == "1":
    threading.Thread(target=prewarm, name="wom-sim-prewarm", daemon=True).start()


@solara.component
def Session(label: str, path: Path, scenario: Scenario, templates: dict, overrides: tuple[str, ...]):
    """One scenario: Mesa's controller, parameter inputs and step counter in the sidebar, our dashboard beside.

    These are the parts Mesa's `SolaraViz` lays out (`ModelController`, `ModelCreator`, `ShowSteps`, the same on
    Mesa 3.3 and 3.5), laid out here so that picking another scenario re-mounts them: solara keeps sidebar
    content in the app layout, matched by position, so a `SolaraViz` re-created for the new scenario would keep
    the old controller's state (still "playing", its loop stepping the old model). The key below prevents that.
    """
    params = solara.use_memo(lambda: model_params(path, scenario, templates, overrides), [])
    first = solara.use_memo(lambda: VizModel(**initial_kwargs(params)), [])
    model = solara.use_reactive(first)
    model_parameters = solara.use_reactive({})  # what Reset passes to VizModel; ModelCreator fills it
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    # Mesa draws in its own thread while the model steps (VizModel paces the two): drawing does not hold up a tick.
    use_threads = solara.use_reactive(True)
    pins = solara.use_reactive(())  # pinned runs (pins.Pin), kept across Reset
    # Leaving this scenario: stop its model, in case a Play loop is still running on it.
    solara.use_effect(lambda: lambda: model.value.stop(), [])
    unit = scenario.tick_unit
    with solara.Column(gap="0px"):  # one root, no gaps: the app bar and sidebar parts leave empty placeholders
        with solara.AppBar():
            solara.AppBarTitle(f"wom-sim: {scenario.name}")
        with solara.Sidebar(), solara.Column(gap="12px").key(f"mesa-controls-{label}"):
            with solara.Card("Controls", margin=0):
                solara.SliderInt("Play interval (ms)", value=play_interval, min=0, max=1000, step=50)
                solara.SliderInt(f"Render interval ({unit}s per frame)", value=render_interval, min=1, max=52)
                ModelController(model, model_parameters=model_parameters, play_interval=play_interval,
                                render_interval=render_interval, use_threads=use_threads)  # fmt: skip
            with solara.Card("Model Parameters", margin=0):
                ModelCreator(model, params, model_parameters=model_parameters)
            with solara.Card("Information", margin=0):
                ShowSteps(model.value)
        Dashboard(model, pins)


@solara.component
def Page():
    """The page: a scenario picker, then the chosen scenario's session."""
    start, overrides = solara.use_memo(launch_settings, [])
    # The bundled folder is read per browser session, so scenarios added while the server runs show up.
    choices = solara.use_memo(lambda: load_choices(bundled_scenarios(start), overrides), [])
    templates = solara.use_memo(lambda: switch_templates([sc for _, sc in choices.values()]), [])
    label = solara.use_reactive(next((name for name, (path, _) in choices.items() if path == start), None))
    if label.value is None:  # the scenario to open failed to load: the command line reported why
        solara.Error(f"{start}: this scenario does not load; see the server's log.")
        return
    path, scenario = choices[label.value]
    with solara.Column(gap="0px"):
        solara.Style(CSS)
        with solara.Sidebar(), solara.Card("Scenario", margin=0, classes=["wom-scenario"]):
            solara.Select("Scenario", values=list(choices), value=label)
            if scenario.description:
                solara.Text(scenario.description.strip(), style={"font-size": "12px", "color": "#555"})
        Session(label.value, path, scenario, templates, overrides).key(f"session-{label.value}")
