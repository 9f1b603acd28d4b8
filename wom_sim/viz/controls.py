"""What the page lets a user change, and the Mesa model the page drives.

`VizModel` is a small `mesa.Model` that holds a `WomModel` (`.sim`) built from a scenario file plus the page's
sliders and switches, and the drawn sample of its graph with cached positions. It wraps rather than subclasses
`WomModel`: Mesa's Reset calls the model class with the page's parameters (a scenario file, sliders, one
`switch_<kind>` per intervention), which are not WomModel's, and Mesa 3.3 and 3.5 check and pass them
differently (3.5 adds its own `scenario=`); the wrapper keeps all of that out of the model.

Sliders and switches take effect on Reset, which re-creates the model with the same seed: the run before and
after a change see the same random numbers wherever the change does not reach (common random numbers), so the
difference on the plots is the effect of the change.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from wom_sim.errors import ScenarioError
from wom_sim.scenario.catalogue import BUNDLED_DIR, resolve_scenario_path
from wom_sim.scenario.loading import apply_overrides, build_scenario, load_scenario
from wom_sim.scenario.schema import MAX_SEED, Scenario
from wom_sim.sim.interventions import REGISTRY
from wom_sim.sim.model import WomModel
from wom_sim.viz.groups import communities_in_background
from wom_sim.viz.layout import cached_layout
from wom_sim.viz.sampling import DrawnGraph, sample_nodes

log = logging.getLogger(__name__)

REFERRAL_KIND = "referral_reward"  # the intervention the referral-reward slider drives (when it is registered)
SWITCH_PREFIX = "switch_"


@dataclass(frozen=True)
class SliderSpec:
    """A model parameter the page shows as a slider."""

    name: str  # keyword of VizModel
    key: str  # dotted scenario key it sets
    label: str
    low: float
    high: float
    step: float
    integer: bool = False


SLIDERS = (
    SliderSpec("contact_prob", "wom.contact_prob", "Contact probability (per tie per {unit})", 0.0, 0.5, 0.01),
    SliderSpec("quality", "brand.quality", "Product quality", 0.0, 1.0, 0.01),
    SliderSpec("service_failure", "brand.service_failure", "Service failure rate", 0.0, 0.5, 0.01),
    SliderSpec("n_kols", "kols.select.k", "Number of KOLs", 0, 100, 1, integer=True),
    SliderSpec("ad_reach", "advertising.reach", "Always-on advertising reach (share per {unit})", 0.0, 0.2, 0.005),
)


# --------------------------------------------------------------------------------------------- scenarios
def bundled_scenarios(extra: Path | None = None) -> list[Path]:
    """The scenario files of the bundled folder, read now (the folder grows), plus `extra` if outside it."""
    paths = sorted(p.resolve() for p in BUNDLED_DIR.glob("*.yaml"))
    if extra is not None and extra.resolve() not in paths:
        paths.insert(0, extra.resolve())
    return paths


def load_choices(paths: list[Path], overrides: tuple[str, ...] = ()) -> dict[str, tuple[Path, Scenario]]:
    """{label: (file, scenario)} of the files that load with `overrides`; broken ones are logged and left out."""
    choices: dict[str, tuple[Path, Scenario]] = {}
    for path in paths:
        try:
            sc = _load(path, _mtimes(path), tuple(overrides))
        except ScenarioError as exc:
            log.warning("scenario picker: leaving out %s", exc)
            continue
        label = path.stem if path.stem not in choices else str(path)
        choices[label] = (path, sc)
    return choices


@functools.lru_cache(maxsize=256)
def _load(path: Path, mtimes: tuple[float, ...], overrides: tuple[str, ...]) -> Scenario:
    """load_scenario, memoised per file version (each page visit lists every bundled scenario)."""
    return load_scenario(path, list(overrides))


def _mtimes(path: Path) -> tuple[float, ...]:
    """Modification times of a scenario and the files it extends (its cache key changes when any changes)."""
    times = []
    for file in [path, *path.parent.glob("*.yaml")]:  # an `extends:` parent is a sibling in practice
        try:
            times.append(file.stat().st_mtime)
        except OSError:
            times.append(-1.0)
    return tuple(times)


def _spec_dict(spec: Any) -> dict:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def switch_templates(scenarios: list[Scenario]) -> dict[str, tuple[str, dict]]:
    """{kind: (section, spec)}: the intervention/event kinds used by the bundled scenarios, one switch each.

    The spec switched on is the first one found (in file order), with the schedule and parameters that scenario
    gives it. The referral reward is in here too (its slider starts from this spec) but gets no switch. Scenarios
    with competitors are left out: their entries name rivals (moves, `rival_<name>_` triggers) that a switch
    would carry into a market without them.
    """
    templates: dict[str, tuple[str, dict]] = {}
    for sc in scenarios:
        if sc.competitors:
            continue
        for section in ("interventions", "events"):
            for spec in getattr(sc, section):
                templates.setdefault(spec.kind, (section, _spec_dict(spec)))
    return dict(sorted(templates.items(), key=lambda item: (item[1][0] == "events", item[0])))


def switch_kinds(templates: dict[str, tuple[str, dict]]) -> list[str]:
    """The kinds that get a switch (all but the one the referral slider drives)."""
    return [kind for kind in templates if not (kind == REFERRAL_KIND and referral_fields())]


def referral_fields() -> tuple[list[str], float, float]:
    """(reward parameters, default, slider maximum) of the registered referral intervention.

    The slider sets every reward parameter of the kind (e.g. sender and receiver: give-10-get-10); an empty
    list when the kind is not registered or has no numeric `*reward*` parameter.
    """
    cls = REGISTRY.get(REFERRAL_KIND)
    if cls is None:
        return [], 0.0, 0.0
    names, default, high = [], 0.0, 0.0
    for name, field in cls.Params.model_fields.items():
        if "reward" in name and field.annotation in (float, int):
            names.append(name)
            le = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
            default = max(default, float(field.default) if isinstance(field.default, int | float) else 0.0)
            high = max(high, float(le) if le is not None else max(50.0, 4 * default))
    return names, default, high


def referral_reward_of(sc: Scenario) -> float:
    """The reward per side of the scenario's referral intervention, 0 when it has none."""
    names, default, _ = referral_fields()
    for spec in sc.interventions:
        if spec.kind == REFERRAL_KIND and names:
            return float(getattr(spec, names[0], default))
    return 0.0


# Kinds whose name alone misleads: every scenario has always-on advertising (the reach slider); the
# `advertising` intervention is a campaign on top of it.
KIND_LABELS = {"advertising": "Advertising campaign (on top of always-on)"}


def _pretty(kind: str) -> str:
    """`kol_campaign` -> `KOL campaign`."""
    if kind in KIND_LABELS:
        return KIND_LABELS[kind]
    words = ["KOL" if w == "kol" else w for w in kind.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


# --------------------------------------------------------------------------------------------- the model
def viz_scenario(
    base: Scenario,
    sliders: dict[str, float | int | None],
    switches: dict[str, bool],
    templates: dict[str, tuple[str, dict]],
    referral_reward: float | None = None,
    seed: int | None = None,
) -> Scenario:
    """`base` with the page's slider values, switches and seed applied (None leaves a value as it is)."""
    data = base.model_dump(mode="json", by_alias=True)
    lists = {section: [_spec_dict(s) for s in getattr(base, section)] for section in ("interventions", "events")}
    for kind, on in switches.items():
        present = any(s["kind"] == kind for items in lists.values() for s in items)
        if on and not present and kind in templates:
            section, spec = templates[kind]
            lists[section].append(dict(spec))
        elif not on:
            lists = {section: [s for s in items if s["kind"] != kind] for section, items in lists.items()}
    names = referral_fields()[0]
    if referral_reward is not None and names:
        items = lists["interventions"]
        if referral_reward <= 0:
            items[:] = [s for s in items if s["kind"] != REFERRAL_KIND]
        else:
            if not any(s["kind"] == REFERRAL_KIND for s in items):
                template = templates.get(REFERRAL_KIND, ("interventions", {"kind": REFERRAL_KIND}))[1]
                items.append(dict(template))
            for s in items:
                if s["kind"] == REFERRAL_KIND:
                    s.update({name: float(referral_reward) for name in names})
    overrides: dict[str, Any] = {spec.key: sliders[spec.name] for spec in SLIDERS if sliders.get(spec.name) is not None}
    overrides.update(lists)
    if seed is not None:
        overrides["seed"] = int(seed)

    return build_scenario(apply_overrides(data, overrides), base.name)


_GRAPHS: OrderedDict[str, tuple[Any, dict[str, np.ndarray]]] = OrderedDict()
_GRAPHS_KEPT = 3


def _graph_key(sc: Scenario) -> str:
    return f"{sc.seed}|{sc.base_dir}|{sc.network.model_dump_json()}"


def build_sim(sc: Scenario) -> WomModel:
    """A WomModel of `sc`, re-using the graph (and KOLs) of an earlier model with the same network and seed.

    Reset re-creates the model; re-using the graph skips rebuilding it (and re-running a slow KOL selection
    such as greedy or betweenness). The graph and KOLs come from their own random streams, so a re-used one
    is exactly what a fresh build would give.
    """
    key = _graph_key(sc)
    kols_key = sc.kols.select.model_dump_json()
    graph, kols = _GRAPHS.get(key, (None, {}))
    sim = WomModel(sc, graph=graph, kol_ids=kols.get(kols_key))
    if graph is None:
        _GRAPHS[key] = (sim.graph, {})
    _GRAPHS[key][1][kols_key] = sim.kol_ids
    _GRAPHS.move_to_end(key)
    while len(_GRAPHS) > _GRAPHS_KEPT:
        _GRAPHS.popitem(last=False)
    return sim


class VizModel(mesa.Model):
    """The model the page steps: a WomModel of a scenario with the page's parameters, and its drawn sample.

    Parameters
    ----------
    scenario_path : the scenario file.
    contact_prob, quality, service_failure, n_kols, ad_reach : slider values (None: the scenario's).
    referral_reward : reward per side of the referral intervention (0 removes it; None: the scenario's).
    seed : random seed (None or blank: the scenario's).
    base_overrides : dotted `key=value` overrides applied to the file first (the command line's --set).
    **kwargs : `switch_<kind>=True/False` for each intervention switch. Mesa 3.5 also passes `scenario=`
        (its own Scenario object) on Reset; it is ignored (the seed comes from the scenario file).
    """

    def __init__(
        self,
        scenario_path: str | None = None,
        contact_prob: float | None = None,
        quality: float | None = None,
        service_failure: float | None = None,
        n_kols: int | None = None,
        ad_reach: float | None = None,
        referral_reward: float | None = None,
        seed: int | str | None = None,
        rng: Any = None,
        base_overrides: tuple[str, ...] = (),
        templates: dict[str, tuple[str, dict]] | None = None,
        **kwargs: Any,
    ):
        switches = {k.removeprefix(SWITCH_PREFIX): bool(v) for k, v in kwargs.items() if k.startswith(SWITCH_PREFIX)}
        unknown = set(kwargs) - {SWITCH_PREFIX + k for k in switches} - {"scenario"}
        if unknown:
            raise TypeError(f"VizModel got unexpected parameters: {', '.join(sorted(unknown))}")
        path = resolve_scenario_path(scenario_path or "baseline")
        base = _load(path.resolve(), _mtimes(path.resolve()), tuple(base_overrides))
        if templates is None:
            templates = switch_templates([base])
        sliders = {"contact_prob": contact_prob, "quality": quality, "service_failure": service_failure,
                   "n_kols": n_kols, "ad_reach": ad_reach}  # fmt: skip
        sc = viz_scenario(base, sliders, switches, templates, referral_reward, _parse_seed(seed))
        super().__init__(rng=sc.seed)
        self.scenario_path = str(path)
        self.sim = build_sim(sc)
        self.drawn: DrawnGraph = sample_nodes(self.sim.graph, self.sim.kol_ids)
        self.positions, self.layout_origin = cached_layout(self.drawn)
        communities_in_background(self.sim.graph)  # for the community colouring; the graph outlives Reset
        # Mesa's Play steps in a worker thread while the page draws: drawing holds this lock so it never reads
        # the arrays and the metrics rows halfway through a tick.
        self.lock = threading.RLock()
        self._frame = threading.Condition()
        self._drawing_since: float | None = None
        self._ahead, self._frame_s = 0, 0.0  # ticks run during the frame being drawn; the last frame's seconds
        self._drawn_tick, self._stepped_at = -1, 0.0  # the tick the last frame showed; when the model last stepped
        self.stopped = False

    def step(self) -> None:
        """One tick of the word-of-mouth model (first waiting for a frame being drawn, see `frame_started`)."""
        if self.stopped:
            return
        self._wait_for_frame()
        with self.lock:
            self.sim.step()
        self.running = self.sim.running
        self._stepped_at = time.monotonic()

    def stop(self) -> None:
        """Stop for good: the page moved to another scenario, and Mesa's Play loop (which checks `running`
        after each step, not whether its page is still there) must not go on stepping this model."""
        self.stopped, self.running = True, False

    # Pacing. Mesa's Play loop steps and asks for a redraw without waiting for the drawing. When a frame takes
    # longer to draw than a step (large N, a busy machine), unbounded stepping invalidates every frame being drawn:
    # the page re-renders without end and shows nothing new (seen: the model at week 500, the page at week 1). So
    # the page marks a frame as started when it renders and as shown when the render is committed, and `step` runs
    # on while a frame is drawn only as many ticks as keep PLAY_RATE (from the last frame's drawing time, at most
    # MAX_AHEAD), then waits for it; at most FRAME_WAIT_S, in case a page goes away in the middle of one. Drawing
    # is so decoupled from stepping: a slow frame shows several weeks at once instead of slowing the run down.
    FRAME_WAIT_S = 5.0
    # Weeks per second to aim at while playing: headroom over the issue's >= 5 (measured 3.8-6.6 at 6.0).
    PLAY_RATE = 8.0
    MAX_AHEAD = 13  # ticks at most between two frames (a quarter of a year of weeks)

    def frame_started(self) -> None:
        """The page began drawing the current state."""
        with self._frame:
            self._drawing_since = time.monotonic()
            self._ahead = 0
            self._drawn_tick = self.sim.tick

    def quiet_for(self, seconds: float) -> bool:
        """Whether the model has not stepped for `seconds` (paused, or after Step; not between two weeks of a Play)."""
        return time.monotonic() - self._stepped_at >= seconds

    def needs_frame(self, quiet_s: float = 0.3) -> bool:
        """The model stopped (at least `quiet_s` ago) at a tick no frame shows: the last tick of a Play that was
        paused while a step waited for a frame; Mesa's drawing thread has ended by then, so the page draws it."""
        with self._frame:
            return (self._drawing_since is None and self.sim.tick != self._drawn_tick
                    and time.monotonic() - self._stepped_at >= quiet_s)  # fmt: skip

    def frame_shown(self) -> None:
        """The page finished drawing (its render was committed)."""
        with self._frame:
            if self._drawing_since is not None:
                self._frame_s = time.monotonic() - self._drawing_since
            self._drawing_since = None
            self._frame.notify_all()

    def ticks_per_frame(self) -> int:
        """Ticks the model may run while one frame is drawn: enough for PLAY_RATE at the last frame's pace."""
        return int(min(max(np.ceil(self.PLAY_RATE * self._frame_s), 1), self.MAX_AHEAD))

    def _wait_for_frame(self) -> None:
        with self._frame:
            if self._drawing_since is None:
                return
            if self._ahead < self.ticks_per_frame() - 1:  # the frame being drawn is one of the ticks
                self._ahead += 1
                return
            left = self.FRAME_WAIT_S - (time.monotonic() - self._drawing_since)
            if not self._frame.wait_for(lambda: self._drawing_since is None, timeout=max(left, 0.0)):
                self._drawing_since = None  # the frame was lost; do not wait for it again

    @property
    def tick(self) -> int:
        return self.sim.tick

    def in_force(self) -> dict[str, str]:
        """The parameters the running model actually uses, as the page shows them."""
        sc = self.sim.wom_scenario
        active = [_pretty(s.kind) for s in (*sc.interventions, *sc.events)]
        reward = referral_reward_of(sc)
        return {
            "Scenario": sc.name,
            "People": f"{self.sim.n:,}",
            "Contact probability": f"{sc.wom.contact_prob:.2f}",
            "Quality": f"{sc.brand.quality:.2f}",
            "Service failure": f"{sc.brand.service_failure:.2f}",
            "KOLs": f"{len(self.sim.kol_ids)}",
            "Always-on advertising reach": f"{sc.advertising.reach:.3f}",
            "Referral reward": f"{reward:g}" if reward else "off",
            "Interventions": ", ".join(active) if active else "none",
            # a market with rivals: name them, so "In force" says whom the page's share tiles are against
            "Rivals": ", ".join(c.name for c in sc.competitors) or "none",
            "Seed": str(sc.seed),
        }


def _parse_seed(seed: int | str | None) -> int | None:
    """An int seed from the page's text box; blank or not a non-negative integer means the scenario's seed."""
    if seed is None or isinstance(seed, int):
        return seed
    text = str(seed).strip()
    return int(text) if text.isdigit() and int(text) <= MAX_SEED else None


# --------------------------------------------------------------------------------------------- Mesa params
def model_params(path: Path, sc: Scenario, templates: dict[str, tuple[str, dict]], overrides: tuple[str, ...]):
    """SolaraViz `model_params` for scenario `sc` (loaded from `path`): sliders at its values, switches, seed."""
    unit = sc.tick_unit
    values = {"contact_prob": sc.wom.contact_prob, "quality": sc.brand.quality,
              "service_failure": sc.brand.service_failure, "n_kols": sc.kols.select.k,
              "ad_reach": sc.advertising.reach}  # fmt: skip
    params: dict[str, Any] = {"scenario_path": str(path), "base_overrides": tuple(overrides), "templates": templates}
    for spec in SLIDERS:
        if spec.name == "n_kols" and sc.kols.select.by == "ids":
            continue  # explicit KOL ids: the number is not a free parameter
        value = values[spec.name]
        high = max(spec.high, value)
        if spec.name == "n_kols" and not sc.network.file:
            high = max(min(high, sc.network.n // 2), value)  # never more KOLs than the graph can hold
        params[spec.name] = {
            "type": "SliderInt" if spec.integer else "SliderFloat",
            "value": int(value) if spec.integer else float(value),
            "label": spec.label.format(unit=unit),
            "min": spec.low, "max": high, "step": spec.step,
        }  # fmt: skip
    names, _default, high = referral_fields()
    if names:
        params["referral_reward"] = {"type": "SliderFloat", "value": referral_reward_of(sc), "min": 0.0, "max": high,
                                     "step": 1.0, "label": "Referral reward per side (0 = off)"}  # fmt: skip
    kinds_on = {s.kind for s in (*sc.interventions, *sc.events)}
    for kind in switch_kinds(templates):
        section = templates[kind][0]
        what = "Event" if section == "events" else "Intervention"
        params[SWITCH_PREFIX + kind] = {
            "type": "Checkbox",
            "value": kind in kinds_on,
            "label": f"{what}: {_pretty(kind)}",
        }
    params["seed"] = {"type": "InputText", "value": str(sc.seed), "label": "Random seed"}
    return params
