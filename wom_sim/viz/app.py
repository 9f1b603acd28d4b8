"""The SolaraViz page: `solara run wom_sim.viz.app` (or `wom-sim viz SCENARIO`, which sets the variables below).

Mesa's SolaraViz gives the sidebar: Reset / play-pause / Step, play and render intervals, and the model
parameters (sliders for the main levers, a switch per bundled intervention, the seed); a scenario picker sits
above it. The main area is ours (`components.Dashboard`): KPI tiles, the parameters in force, the network and the
KPI plots. Picking a scenario loads it at once, with the sliders and switches set to its values; other changes
take effect on Reset.

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
from mesa.visualization import SolaraViz

from wom_sim.cli import resolve_scenario_path
from wom_sim.schema import Scenario
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
        png(NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol).update(model.sim.population, None))
        empty_kpi_png(scenario.ticks, scenario.tick_unit)
    except Exception:  # a warm-up must never take the server down; the page reports real errors itself
        log.exception("wom-sim viz: warm-up failed (the page will build everything on first visit)")


if os.environ.get("WOM_SIM_VIZ_PREWARM") == "1":
    threading.Thread(target=prewarm, name="wom-sim-prewarm", daemon=True).start()


@solara.component
def Session(path: Path, scenario: Scenario, templates: dict, overrides: tuple[str, ...]):
    """One scenario's SolaraViz (sidebar controls) and dashboard; re-mounted when the scenario changes."""
    params = solara.use_memo(lambda: model_params(path, scenario, templates, overrides), [])
    first = solara.use_memo(lambda: VizModel(**initial_kwargs(params)), [])
    model = solara.use_reactive(first)
    with solara.Column(gap="0px"):
        # SolaraViz puts its controls into the app bar and sidebar; its place in the main area stays empty
        # (no grid components), so it is hidden to leave no gap above the dashboard.
        with solara.Div(style={"display": "none"}):
            SolaraViz(model, components=[], model_params=params, name=f"wom-sim: {scenario.name}",
                      play_interval=PLAY_INTERVAL_MS)  # fmt: skip
        Dashboard(model)


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
    solara.Style(CSS)
    with solara.Sidebar(), solara.Card("Scenario", margin=0, classes=["wom-scenario"]):
        solara.Select("Scenario", values=list(choices), value=label)
        if scenario.description:
            solara.Text(scenario.description.strip(), style={"font-size": "12px", "color": "#555"})
    Session(path, scenario, templates, overrides).key(f"session-{label.value}")
