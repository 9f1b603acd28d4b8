"""The browser page without a browser: sampling, layout cache, the Mesa model it drives, figures, components, assets.

The page itself in Debian's chromium is `test_viz_browser.py`.
"""

from __future__ import annotations

import copy
import functools
import io
import os
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")

import solara  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tests.conftest import make_graph, star  # noqa: E402
from wom_sim.catalogue import format_value  # noqa: E402
from wom_sim.cli import cli  # noqa: E402
from wom_sim.sim.model import WomModel  # noqa: E402
from wom_sim.viz import assets, layout, server  # noqa: E402
from wom_sim.viz.app import initial_kwargs  # noqa: E402
from wom_sim.viz.components import Dashboard  # noqa: E402
from wom_sim.viz.controls import (  # noqa: E402
    REFERRAL_KIND,
    SWITCH_PREFIX,
    VizModel,
    build_sim,
    bundled_scenarios,
    load_choices,
    model_params,
    referral_fields,
    switch_kinds,
    switch_templates,
)
from wom_sim.viz.figures import KpiPlots, NetworkPlot, empty_kpi_png, kpi_values, png  # noqa: E402
from wom_sim.viz.sampling import sample_nodes  # noqa: E402

SMALL = ("network.n=300", "ticks=12")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Layouts go to a temporary folder, and no test sees another's in-memory layouts."""
    monkeypatch.setenv("WOM_SIM_CACHE_DIR", str(tmp_path / "cache"))
    layout.clear_memory_cache()


@pytest.fixture(scope="module")
def templates():
    return switch_templates([sc for _, sc in load_choices(bundled_scenarios(), SMALL).values()])


# --------------------------------------------------------------------------------------------- sampling
def test_small_graph_is_drawn_whole_with_each_edge_once():
    g = star(5)
    drawn = sample_nodes(g, np.array([0]))
    assert not drawn.sampled and len(drawn.nodes) == 6
    assert sorted(zip(drawn.src.tolist(), drawn.dst.tolist(), strict=True)) == [(0, i) for i in range(1, 6)]
    assert drawn.caption() == "All 6 people drawn."


def test_big_graph_sample_is_kols_their_contacts_and_random_people():
    sim = WomModel(overrides={"network.n": 3000, "network.m": 3, "kols.select.k": 5, "ticks": 1})
    drawn = sample_nodes(sim.graph, sim.kol_ids, max_nodes=400)
    assert len(drawn.nodes) == 400 == len(np.unique(drawn.nodes)) and drawn.sampled
    assert drawn.n_kols == 5 and drawn.n_kols + drawn.n_contacts + drawn.n_random == 400
    assert set(drawn.nodes[:5].tolist()) == set(sim.kol_ids.tolist())
    neighbours = set(np.concatenate([sim.graph.indices[sim.graph.indptr[k] : sim.graph.indptr[k + 1]]
                                     for k in sim.kol_ids]).tolist())  # fmt: skip
    contacts = drawn.nodes[5 : 5 + drawn.n_contacts]
    assert set(contacts.tolist()) <= neighbours
    assert drawn.n_contacts <= int(0.6 * 400)
    # Same graph, same sample (the cached layout depends on it); local ids map back to people.
    again = sample_nodes(sim.graph, sim.kol_ids, max_nodes=400)
    assert np.array_equal(drawn.nodes, again.nodes)
    assert np.array_equal(drawn.local[drawn.nodes], np.arange(400))
    assert "400 of 3,000 people: 5 KOLs" in drawn.caption()
    # Every drawn edge is a real edge of the graph.
    a, b = drawn.nodes[drawn.src], drawn.nodes[drawn.dst]
    assert all(
        b_ in sim.graph.indices[sim.graph.indptr[a_] : sim.graph.indptr[a_ + 1]] for a_, b_ in zip(a, b, strict=True)
    )


def test_drawn_messages_keeps_only_those_between_drawn_people():
    g = make_graph(5, [(0, 1), (1, 2), (2, 3), (3, 4)])
    drawn = sample_nodes(g, np.array([0]))
    src, dst = drawn.drawn_messages(np.array([0, 1, 4]), np.array([1, 2, 3]))
    assert src.tolist() == [0, 1, 4] and dst.tolist() == [1, 2, 3]


# --------------------------------------------------------------------------------------------- layout
def test_force_layout_is_deterministic_bounded_and_pulls_neighbours_together():
    g = make_graph(60, [(i, i + 1) for i in range(59)])
    drawn = sample_nodes(g, np.array([], dtype=np.int64))
    pos = layout.force_layout(60, drawn.src, drawn.dst)
    assert pos.shape == (60, 2) and np.isfinite(pos).all() and np.abs(pos).max() <= 1.0 + 1e-6
    assert np.array_equal(pos, layout.force_layout(60, drawn.src, drawn.dst))
    linked = np.linalg.norm(pos[drawn.src] - pos[drawn.dst], axis=1).mean()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 60, 500), rng.integers(0, 60, 500)
    assert linked < 0.5 * np.linalg.norm(pos[a] - pos[b], axis=1).mean()
    assert layout.force_layout(0, [], []).shape == (0, 2) and layout.force_layout(1, [], []).shape == (1, 2)


def test_layout_is_computed_once_then_cached_in_memory_and_on_disk(tmp_path, monkeypatch):
    drawn = sample_nodes(star(30), np.array([0]))
    calls = []
    real = layout.force_layout
    monkeypatch.setattr(layout, "force_layout", lambda *a, **k: calls.append(1) or real(*a, **k))
    first, origin = layout.cached_layout(drawn)
    assert origin.startswith("computed") and calls == [1]
    again, origin = layout.cached_layout(drawn)
    assert origin == "cached in memory" and again is first and calls == [1]
    layout.clear_memory_cache()  # a relaunch
    from_disk, origin = layout.cached_layout(drawn)
    assert origin == "cached on disk" and np.array_equal(from_disk, first) and calls == [1]
    # A damaged cache file is recomputed, not trusted.
    (path,) = (Path(os.environ["WOM_SIM_CACHE_DIR"]) / "layouts").glob("*.npy")
    path.write_bytes(b"not a numpy file")
    layout.clear_memory_cache()
    _, origin = layout.cached_layout(drawn)
    assert origin.startswith("computed") and calls == [1, 1]


def test_reset_reuses_the_graph_and_layout_and_reproduces_the_run():
    params = initial_kwargs(_params("baseline"))
    first = VizModel(**params)
    second = VizModel(**params)
    assert second.sim.graph is first.sim.graph and second.positions is first.positions
    assert second.layout_origin == "cached in memory"
    for _ in range(5):
        first.step()
        second.step()
    fresh = WomModel(first.sim.wom_scenario)  # built from scratch, graph included
    fresh.run(5)
    pd.testing.assert_frame_equal(first.sim.metrics_frame(), second.sim.metrics_frame())
    pd.testing.assert_frame_equal(first.sim.metrics_frame(), fresh.metrics_frame())


# --------------------------------------------------------------------------------------------- controls
def _params(name: str, overrides: tuple[str, ...] = SMALL) -> dict:
    return copy.deepcopy(_cached_params(name, overrides))


@functools.cache
def _cached_params(name: str, overrides: tuple[str, ...]) -> dict:
    choices = load_choices(bundled_scenarios(), overrides)
    path, sc = choices[name]
    return model_params(path, sc, switch_templates([s for _, s in choices.values()]), overrides)


def test_model_params_start_at_the_scenario_values_and_cover_the_model(templates):
    params = _params("baseline")
    sc = load_choices(bundled_scenarios(), SMALL)["baseline"][1]
    assert params["contact_prob"]["value"] == sc.wom.contact_prob and params["contact_prob"]["type"] == "SliderFloat"
    assert params["quality"]["value"] == sc.brand.quality and params["ad_reach"]["value"] == sc.advertising.reach
    assert params["n_kols"]["type"] == "SliderInt" and params["n_kols"]["value"] == sc.kols.select.k
    assert params["seed"]["value"] == str(sc.seed)
    for kind in switch_kinds(templates):
        assert params[SWITCH_PREFIX + kind] == {**params[SWITCH_PREFIX + kind], "type": "Checkbox", "value": False}
    from mesa.visualization.solara_viz import _check_model_params

    _check_model_params(VizModel.__init__, params)  # Mesa's own check: no missing or unknown parameter


def test_sliders_switches_and_seed_reach_the_model(templates):
    params = initial_kwargs(_params("baseline"))
    kind = next(k for k in switch_kinds(templates) if templates[k][0] == "interventions")
    params.update(contact_prob=0.3, quality=0.55, service_failure=0.2, n_kols=4, ad_reach=0.05, seed="7",
                  **{SWITCH_PREFIX + kind: True})  # fmt: skip
    model = VizModel(**params)
    sc = model.sim.wom_scenario
    assert (sc.wom.contact_prob, sc.brand.quality, sc.brand.service_failure) == (0.3, 0.55, 0.2)
    assert (sc.kols.select.k, len(model.sim.kol_ids), sc.advertising.reach, sc.seed) == (4, 4, 0.05, 7)
    assert [s.kind for s in sc.interventions] == [kind]
    shown = model.in_force()
    assert shown["Contact probability"] == "0.30" and shown["KOLs"] == "4" and shown["Seed"] == "7"
    # Switching a scenario's own intervention off removes it.
    crisis = initial_kwargs(_params("product_crisis"))
    crisis_kinds = {s.kind for s in VizModel(**crisis).sim.wom_scenario.events}
    assert crisis_kinds and all(crisis[SWITCH_PREFIX + k] for k in crisis_kinds)
    crisis.update({SWITCH_PREFIX + k: False for k in crisis_kinds})
    assert not VizModel(**crisis).sim.wom_scenario.events


@pytest.mark.skipif(not referral_fields()[0], reason="no referral_reward intervention registered")
def test_referral_slider_sets_every_reward_and_zero_removes_it():
    names = referral_fields()[0]
    params = initial_kwargs(_params("baseline"))
    assert params["referral_reward"] == 0.0 and SWITCH_PREFIX + REFERRAL_KIND not in params
    model = VizModel(**{**params, "referral_reward": 25.0})
    (spec,) = [s for s in model.sim.wom_scenario.interventions if s.kind == REFERRAL_KIND]
    assert all(getattr(spec, name) == 25.0 for name in names)
    assert model.in_force()["Referral reward"] == "25"
    on = initial_kwargs(_params("referral_program"))
    assert on["referral_reward"] > 0
    assert not [s for s in VizModel(**{**on, "referral_reward": 0}).sim.wom_scenario.interventions
                if s.kind == REFERRAL_KIND]  # fmt: skip


def test_mesa_reset_arguments_are_accepted_and_typos_are_not():
    params = initial_kwargs(_params("baseline"))
    VizModel(**params, scenario=object())  # Mesa 3.5's Reset adds its own scenario= argument
    with pytest.raises(TypeError, match="unexpected parameters: contact_probability"):
        VizModel(**params, contact_probability=0.2)


def test_blank_or_bad_seed_means_the_scenario_seed():
    params = initial_kwargs(_params("baseline"))
    seed = load_choices(bundled_scenarios(), SMALL)["baseline"][1].seed
    assert VizModel(**{**params, "seed": " "}).sim.wom_scenario.seed == seed
    assert VizModel(**{**params, "seed": "abc"}).sim.wom_scenario.seed == seed


def test_the_picker_lists_every_bundled_scenario_that_loads(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("network: {n: -1}\n")
    good = tmp_path / "mine.yaml"
    good.write_text("extends: " + str(bundled_scenarios()[0]) + "\nname: mine\n")
    paths = bundled_scenarios(extra=good)
    assert paths[0] == good.resolve() and len(paths) == len(bundled_scenarios()) + 1
    choices = load_choices([*paths, bad], SMALL)
    assert "mine" in choices and "broken" not in choices and "baseline" in choices


def test_graph_cache_keeps_kols_per_selection():
    sim = build_sim(VizModel(**initial_kwargs(_params("baseline"))).sim.wom_scenario)
    other = build_sim(sim.wom_scenario.model_copy(update={"kols": sim.wom_scenario.kols.model_copy(
        update={"select": sim.wom_scenario.kols.select.model_copy(update={"k": 3})})}))  # fmt: skip
    assert other.graph is sim.graph and len(other.kol_ids) == 3


def test_step_runs_on_while_a_frame_is_drawn_then_waits_for_it_but_not_forever():
    model = VizModel(**initial_kwargs(_params("baseline")))
    assert model.ticks_per_frame() == 1  # no frame drawn yet: wait for every one
    model.frame_started()
    time.sleep(0.35)
    model.frame_shown()  # a 0.35 s frame: 6 weeks/s needs 3 ticks per frame
    assert model.ticks_per_frame() == 3
    model.frame_started()
    threading.Timer(0.4, model.frame_shown).start()
    start = time.monotonic()
    model.step()
    model.step()
    assert time.monotonic() - start < 0.3 and model.tick == 2  # two ticks beside the frame being drawn
    model.step()  # the third waits for the frame
    assert time.monotonic() - start >= 0.35 and model.tick == 3
    model.FRAME_WAIT_S = 0.2
    model._frame_s = 0.0
    model.frame_started()  # a frame that is never shown (the page went away)
    start = time.monotonic()
    model.step()
    model.step()
    assert 0.15 <= time.monotonic() - start < 2.0 and model.tick == 5


def test_a_stopped_model_does_not_step():
    model = VizModel(**initial_kwargs(_params("baseline")))
    model.step()
    model.stop()
    model.step()
    assert model.tick == 1 and not model.running


# --------------------------------------------------------------------------------------------- figures
def _stepped(ticks: int = 3) -> VizModel:
    model = VizModel(**initial_kwargs(_params("baseline")))
    for _ in range(ticks):
        model.step()
    return model


def test_network_plot_colours_by_status_or_satisfaction_and_marks_kols():
    model = _stepped()
    plot = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol)
    for colour_by in ("status", "satisfaction", "status"):
        fig = plot.update(model.sim.population, model.sim.last_tick, colour_by)
        assert isinstance(fig, Figure) and png(fig).startswith(b"\x89PNG")
    assert len(plot.kols.get_offsets()) == int(model.sim.population.is_kol.sum())
    assert plot.kols.get_linewidths()[0] > 0 and plot.kols.get_sizes()[0] > plot.people.get_sizes()[0]
    a, _ = model.drawn.drawn_messages(model.sim.last_tick.positive.src, model.sim.last_tick.positive.dst)
    assert len(plot.positive.get_segments()) == len(a)
    with pytest.raises(ValueError, match="colour_by"):
        plot.update(model.sim.population, None, "loyalty")


def test_kpi_plots_show_every_series_over_the_whole_run():
    model = VizModel(**initial_kwargs(_params("baseline")))
    plots = KpiPlots(12)
    plots.update(model.sim.metrics_frame())
    assert not plots.fig.texts  # no "press Step" text in the figure, where it overlapped the titles
    for _ in range(4):
        model.step()
    plots.update(model.sim.metrics_frame())
    assert set(plots.lines) == {"nps", "pos_messages", "neg_messages", "mean_S", "mean_T", "mean_L", "brand",
                                "cum_profit"}  # fmt: skip
    assert all(len(line.get_xdata()) == 4 for line in plots.lines.values())
    assert all(ax.get_xlim() == (0, 12) for ax in plots.axes.flat)  # the run's whole x axis, from the start
    assert len(plots.stack) >= 4  # one band per acquisition channel
    assert png(plots.fig).startswith(b"\x89PNG")
    assert empty_kpi_png(12, "week") is empty_kpi_png(12, "week")  # the first frame is drawn once and shared


def test_empty_kpi_plots_show_the_axes_the_run_will_use():
    plots = KpiPlots(104, "week")
    plots.update(pd.DataFrame({"t": []}))
    plots.fig.canvas.draw()
    titles = {ax.get_title(): ax for ax in plots.axes.flat}
    assert titles["NPS (customers)"].get_ylim() == (-100.0, 100.0)
    assert "Positive WOM messages per week" not in titles and "WOM messages per week" in titles
    for ax in plots.axes.flat:
        assert ax.get_xlim() == (0, 104)
        low, high = ax.get_ylim()
        assert high - low >= 1.0  # never a degenerate range (it gave ticks like -2.7e-17)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert not any("e-" in label for label in labels), labels
    legends = [t.get_text() for ax in plots.axes.flat if ax.get_legend() for t in ax.get_legend().get_texts()]
    legends += [t.get_text() for legend in plots.fig.legends for t in legend.get_texts()]
    assert "tick" not in " ".join(legends) and {"satisfaction", "word of mouth", "positive"} <= set(legends)


def test_pinned_runs_are_overlaid_in_grey_with_their_labels():
    from wom_sim.catalogue import PALETTE
    from wom_sim.viz.pins import make_pin

    model = _stepped(6)
    pin = make_pin(model.sim.wom_scenario, model.sim.metrics_frame(), model.in_force(), number=1)
    other = VizModel(**{**initial_kwargs(_params("baseline")), "contact_prob": 0.4})
    for _ in range(3):
        other.step()
    plots = KpiPlots(12)
    plots.update(other.sim.metrics_frame(), (pin,))
    grey = [line for ax in plots.axes.flat for line in ax.get_lines() if line.get_color() == PALETTE["grey"]
            and len(line.get_xdata()) == 6]  # fmt: skip
    assert len(grey) == 1 + len(plots.lines)  # customers won, and every series of the other panels
    assert [t.get_text() for t in plots.pin_legend.get_texts()] == ["pin 1"]
    plots.update(other.sim.metrics_frame(), ())  # unpinned: the grey lines go
    assert plots.pin_legend is None and not [a for a in plots.pin_artists if a.axes is not None]


def test_kpi_values_before_and_after_the_first_tick():
    assert kpi_values(None, 0, 104, "week")[0] == ("tick", "Week", "0 / 104")
    model = _stepped(2)
    shown = dict((k, v) for k, _, v in kpi_values(model.sim.last_metrics, 2, 12, "week"))
    assert shown["tick"] == "2 / 12" and shown["adopted"].endswith("%") and shown["wom"].startswith("+")
    labels = [label for _, label, _ in kpi_values(model.sim.last_metrics, 2, 12, "week")]
    assert labels == ["Week", "Ever adopted", "Customers", "NPS", "WOM this week", "Brand", "Cumulative profit"]
    assert shown["nps"] == format_value("nps", model.sim.last_metrics["nps"])  # the catalogue's format


def test_dashboard_renders_and_follows_steps_and_resets():
    from mesa.visualization.utils import force_update

    model = solara.reactive(VizModel(**initial_kwargs(_params("baseline"))))
    _box, rc = solara.render(Dashboard(model), handle_error=False)

    def tiles():
        import ipyvuetify as v

        return [w.children[0] for w in rc.find(v.Html, class_="wom-kpi-value").widgets]

    assert tiles()[0] == "0 / 12"
    assert len(rc.find(__import__("ipywidgets").Image).widgets) == 2
    model.value.step()
    force_update()
    assert tiles()[0] == "1 / 12"
    model.value = VizModel(**{**initial_kwargs(_params("baseline")), "contact_prob": 0.4})
    assert tiles()[0] == "0 / 12"
    import ipyvuetify as v

    assert "Contact probability: 0.40" in [w.children[0] for w in rc.find(v.Html, class_="wom-param").widgets]


def test_page_renders_with_a_scenario_picker(monkeypatch):
    from wom_sim.viz.app import Page

    monkeypatch.setenv("WOM_SIM_VIZ_SCENARIO", "kol_launch")
    monkeypatch.setenv("WOM_SIM_VIZ_OVERRIDES", '["network.n=300"]')
    _box, rc = solara.render(Page(), handle_error=False)
    import ipyvuetify as v

    params = [w.children[0] for w in rc.find(v.Html, class_="wom-param").widgets]
    assert "Scenario: kol_launch" in params and "People: 300" in params


# --------------------------------------------------------------------------------------------- assets
def test_required_assets_come_from_solaras_own_templates():
    packages = dict(assets.required_packages())
    assert {"requirejs", "@widgetti/vue-grid-layout"} <= set(packages)
    assert sum(name.startswith("@widgetti/solara-vuetify") for name in packages) == 1
    assert all(v[0].isdigit() and v.count(".") >= 2 for v in packages.values())
    assert (
        assets.cache_root() == Path(sys.prefix) / "share" / "solara" / "cdn"
        or "SOLARA_ASSETS_PROXY_CACHE_DIR" in os.environ
    )


def test_install_assets_unpacks_npm_tarballs_atomically(tmp_path, monkeypatch):
    # A stand-in `npm` that packs a tiny package, so the test needs no registry.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "npm"
    fake.write_text(f"#!{sys.executable}\n" + FAKE_NPM)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "cdn"
    installed = assets.install_assets(root=root, echo=lambda _line: None)
    assert installed == assets.required_packages() and assets.missing_packages(root) == []
    for name, version in installed:
        folder = assets.package_dir(name, version, root)
        assert (folder / "dist" / "x.js").read_text() == name and (folder / assets.MARKER).exists()
        assert not (folder / "package").exists()  # the tarball's top folder is stripped
    assert assets.install_assets(root=root, echo=lambda _line: None) == []  # nothing left to do


FAKE_NPM = """
import io, sys, tarfile
spec = sys.argv[2]
name = spec.rsplit("@", 1)[0]
with tarfile.open(name.replace("@", "").replace("/", "-") + ".tgz", "w:gz") as tar:
    data = name.encode()
    info = tarfile.TarInfo("package/dist/x.js")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    evil = tarfile.TarInfo("package/../../escape.js")
    evil.size = 1
    tar.addfile(evil, io.BytesIO(b"x"))
"""


def test_assets_installed_by_the_solara_assets_package_count_as_present(tmp_path, monkeypatch):
    # A stand-in solara-assets distribution: its RECORD lists the files its wheel put into share/solara/cdn.
    site = tmp_path / "site"
    info = site / "solara_assets-1.58.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: solara-assets\nVersion: 1.58.2\n")
    root = tmp_path / "share" / "solara" / "cdn"
    record = []
    for name, version in assets.required_packages():
        for file in ("package.json", "dist/main.js"):
            path = assets.package_dir(name, version, root) / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
            record.append(f"../../share/solara/cdn/{name}@{version}/{file},,")
    (info / "RECORD").write_text("\n".join(record) + "\n")
    # Looked up in this fake environment only: sys.path's metadata lookups are cached across the test session.
    where = [str(site)]
    assert set(assets.solara_assets_packages(where)) == set(assets.required_packages())
    assert assets.missing_packages(root, where) == []
    name, version = assets.required_packages()[0]
    (assets.package_dir(name, version, root) / "dist" / "main.js").unlink()  # an incomplete folder is missing
    assert assets.missing_packages(root, where) == [(name, version)]


def test_install_assets_without_npm_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(assets.AssetError, match="npm not found"):
        assets.install_assets(root=tmp_path / "cdn", echo=lambda _line: None)


def test_unpack_refuses_paths_outside_the_package(tmp_path):
    tgz = tmp_path / "p.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for name in ("package/ok.js", "package/../../../evil.js", "/abs.js"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"ok"))
    assets._unpack(tgz, tmp_path / "out" / "p@1.0.0", {})
    assert (tmp_path / "out" / "p@1.0.0" / "ok.js").exists()
    assert not list(tmp_path.rglob("evil.js")) and not list(tmp_path.rglob("abs.js"))


# --------------------------------------------------------------------------------------------- command line
def test_viz_help_and_bad_scenario_are_one_line_errors():
    runner = CliRunner()
    result = runner.invoke(cli, ["viz", "--help"])
    assert result.exit_code == 0 and "--install-assets" in result.output and "127.0.0.1" in result.output
    result = runner.invoke(cli, ["viz", "no_such_scenario", "--no-browser"])
    assert result.exit_code == 2 and "no_such_scenario" in result.output and "Traceback" not in result.output


def test_server_binds_localhost_without_telemetry(tmp_path):
    cmd = server.server_command("127.0.0.1", 8765)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd
    env = server.server_env(tmp_path / "s.yaml", ("network.n=10",))
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false" and env["WOM_SIM_VIZ_OVERRIDES"] == '["network.n=10"]'
    port = server.free_port()
    assert 0 < port < 65536


def test_python_m_solara_is_available():
    """`wom-sim viz` starts the server as `python -m solara run`: that entry point must exist."""
    done = subprocess.run([sys.executable, "-m", "solara", "run", "--help"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0 and "--production" in done.stdout


# --------------------------------------------------------------------------------------------- pins, saving
def test_pins_keep_at_most_three_and_say_what_differs():
    from wom_sim.viz.pins import MAX_PINS, add_pin, changed_settings, make_pin

    model = _stepped(2)
    pins: tuple = ()
    for i in range(MAX_PINS + 1):
        pins = add_pin(pins, make_pin(model.sim.wom_scenario, model.sim.metrics_frame(), model.in_force(), i + 1))
    assert [p.label for p in pins] == ["pin 1", "pin 2", "pin 3"]
    model.step()  # a pin is a copy: the run going on does not change it
    assert len(pins[0].frame) == 2
    now = VizModel(**{**initial_kwargs(_params("baseline")), "quality": 0.6}).in_force()
    assert changed_settings(pins[0], now) == [f"Quality {pins[0].settings['Quality']} (now 0.60)"]


def test_tiles_show_the_difference_to_the_pin_at_the_same_week():
    from wom_sim.viz.figures import format_difference, kpi_differences, pin_row

    model = _stepped(4)
    frame = model.sim.metrics_frame()
    assert pin_row(frame, 2)["t"] == 1 and pin_row(frame, 40)["t"] == 3 and pin_row(frame, 0) is None
    same = kpi_differences(model.sim.last_metrics, pin_row(frame, 4))
    assert same["adopted"] == "+0.0 pp" and same["customers"] == "0"
    earlier = kpi_differences(model.sim.last_metrics, pin_row(frame, 1))
    gained = model.sim.last_metrics["customers"] - frame["customers"].iloc[0]
    assert earlier["customers"] == format_difference("customers", gained)
    assert format_difference("adoption_share", 0.0123) == "+1.2 pp" and format_difference("nps", -3.0) == "-3.0"


def test_hover_layer_puts_each_drawn_persons_state_on_their_dot():
    from wom_sim.viz.figures import person_states

    model = _stepped(3)
    pop = model.sim.population
    plot = NetworkPlot(model.drawn, model.positions, pop.is_kol)
    plot.update(pop, model.sim.last_tick)
    svg = plot.hover_svg(pop)
    assert svg.count("<circle") == len(model.drawn.nodes) and svg.count("<title>") == len(model.drawn.nodes)
    states = person_states(pop, model.drawn.nodes)
    customer = int(np.flatnonzero(pop.status[model.drawn.nodes] == 2)[0])
    person = int(model.drawn.nodes[customer])
    assert states[customer].startswith(f"Person {person}") and f"trust {pop.T[person]:.2f}" in states[customer]
    assert "acquired by" in states[customer] or "from the start" in states[customer]
    # The circle sits on the dot: its centre is the dot's pixel position (y measured from the top in SVG).
    x, y = plot.ax.transData.transform(model.positions[customer])
    assert f'cx="{x:.1f}" cy="{plot.fig.bbox.height - y:.1f}"' in svg


def test_hover_says_from_the_start_only_of_initial_customers():
    # A run's adopters no channel reached (acquired_by none, "no touch") became customers during it, not before.
    from wom_sim.viz.figures import person_states

    sim = WomModel(None, overrides={"network.n": 400, "ticks": 6, "population.initial.aware": 0.5}, seed=2).run()
    pop = sim.population
    ours = np.flatnonzero(pop.status >= 2)
    states = person_states(pop, ours)
    from_start = np.array(["a customer from the start" in s for s in states])
    np.testing.assert_array_equal(from_start, pop.adopted_at[ours] < 0)
    untouched = (pop.adopted_at[ours] >= 0) & (pop.acquired_by[ours] == 0)
    assert untouched.any() and all("acquired by no touch" in s for s in np.array(states)[untouched])


def test_compare_panel_gives_what_wom_sim_compare_prints_for_the_same_settings(tmp_path):
    from wom_sim.viz import saving
    from wom_sim.viz.pins import COMPARE_OUTCOMES, compare_with_pin, make_pin, paired_comparison

    base = VizModel(**initial_kwargs(_params("baseline"))).sim.wom_scenario
    better = VizModel(**{**initial_kwargs(_params("baseline")), "quality": 0.95}).sim.wom_scenario
    pin = make_pin(base, pd.DataFrame({"t": []}), {}, number=1)
    rows = compare_with_pin(pin, base, replications=3)
    assert {r["difference"] for r in rows} <= {"+0.0 pp", "0", "+0.0", "+0"}  # CRN: no change, no difference
    rows = compare_with_pin(pin, better, replications=3)
    assert rows[0]["outcome"] == "Ever adopted (share of population)" and set(rows[0]) == {
        "outcome", "pin 1", "current", "difference", "95% CI"}  # fmt: skip
    # The CLI on the same two scenarios (saved as the page saves them) gives the same numbers: one compare API.
    files = []
    for name, scenario in (("pinned", base), ("current", better)):
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(saving.scenario_file(scenario))
    out = tmp_path / "cmp"
    result = CliRunner().invoke(cli, ["compare", *map(str, files), "-r", "3", "--workers", "0", "--out", str(out),
                                      "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    (table,) = out.rglob("uplift.csv")
    cli_uplift = pd.read_csv(table).set_index("outcome").loc[list(COMPARE_OUTCOMES)]
    page = paired_comparison(pin, better, 3).uplift.set_index("outcome").loc[list(COMPARE_OUTCOMES)]
    columns = ["base_mean", "treatment_mean", "uplift", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(page[columns], cli_uplift[columns], check_exact=False, rtol=1e-12)
    assert (page["uplift"] != 0).any()  # the quality change did something, so the equality is not 0 == 0


def test_saved_settings_reproduce_the_run_with_wom_sim_run(tmp_path):
    from wom_sim.viz import saving

    params = {**initial_kwargs(_params("baseline")), "contact_prob": 0.27, "quality": 0.6, "seed": "11",
              "referral_reward": 15.0}  # fmt: skip
    model = VizModel(**params)
    while model.running:
        model.step()
    path = tmp_path / "mine.yaml"
    path.write_text(saving.scenario_file(model.sim.wom_scenario))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(out), "--format", "csv", "-q"])
    assert result.exit_code == 0, result.output
    (metrics,) = out.rglob("metrics.csv")
    ran = pd.read_csv(metrics)
    page = pd.read_csv(io.BytesIO(saving.timeseries_csv(model.sim.metrics_frame())))
    assert list(page.columns[:2]) == ["week", "t"] and len(page) == len(ran) == 12
    pd.testing.assert_frame_equal(page.drop(columns=["week"]), ran[page.columns[1:]], check_dtype=False)


def test_charts_save_as_png_and_svg_and_excel_when_available():
    from wom_sim.viz import saving

    model = _stepped(2)
    fig = KpiPlots(12).update(model.sim.metrics_frame())
    assert saving.chart_bytes(fig, "png").startswith(b"\x89PNG")
    assert b"<svg" in saving.chart_bytes(fig, "svg")[:400]
    with pytest.raises(ValueError, match="png, svg"):
        saving.chart_bytes(fig, "gif")
    if saving.excel_available():
        assert saving.timeseries_xlsx(model.sim.metrics_frame()).startswith(b"PK")


def test_labels_use_the_tick_unit_and_say_advertising_is_always_on():
    params = _params("baseline")
    assert params["ad_reach"]["label"] == "Always-on advertising reach (share per week)"
    assert params[SWITCH_PREFIX + "advertising"]["label"] == "Intervention: Advertising campaign (on top of always-on)"
    model = _stepped(1)
    fig = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol, unit="week").update(
        model.sim.population, model.sim.last_tick
    )
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "positive WOM this week" in texts and not [t for t in texts if "tick" in t]


def test_frames_drawn_over_a_cached_background_match_a_full_draw():
    from PIL import Image

    from wom_sim.viz.pins import make_pin

    def pixels(data: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)

    model = _stepped(3)
    net = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol)
    kpi = KpiPlots(12)
    pin = make_pin(model.sim.wom_scenario, model.sim.metrics_frame(), model.in_force(), number=1)
    for colour_by, pins in (("status", ()), ("satisfaction", (pin,)), ("status", (pin,))):
        model.step()  # new data over the same background, or a new background (colouring, pins, y range)
        net.update(model.sim.population, model.sim.last_tick, colour_by)
        kpi.update(model.sim.metrics_frame(), pins)
        for plot in (net, kpi):
            fast, full = pixels(plot.frame_png()), pixels(png(plot.fig))
            assert (
                fast.shape == full.shape and np.mean(np.abs(fast - full) > 40) < 0.0003
            )  # the curves alone are ~0.25%


def test_wom_flows_fade_over_three_ticks():
    from wom_sim.viz.figures import FADE_TICKS

    model = VizModel(**initial_kwargs(_params("baseline")))
    plot = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol)
    counts = []
    for _ in range(FADE_TICKS + 1):
        model.step()
        plot.update(model.sim.population, model.sim.last_tick)
        a, _ = model.drawn.drawn_messages(model.sim.last_tick.positive.src, model.sim.last_tick.positive.dst)
        counts.append(len(a))
    plot.update(model.sim.population, model.sim.last_tick, "satisfaction")  # recolouring is not a new tick
    shown = [len(pair[1].get_segments()) for pair in reversed(plot.fading)]  # newest first
    assert shown == counts[::-1][:FADE_TICKS]
    alphas = [pair[1].get_alpha() for pair in reversed(plot.fading) if len(pair[1].get_segments())]
    assert alphas == sorted(alphas, reverse=True) and len(set(alphas)) == len(alphas)
    plot.update(model.sim.population, None)  # a new run: no old flows
    assert not any(len(lines.get_segments()) for pair in plot.fading for lines in pair)


def test_dashboard_pins_a_run_and_shows_the_difference_after_reset():
    import ipyvuetify as v
    from mesa.visualization.utils import force_update

    model = solara.reactive(VizModel(**initial_kwargs(_params("baseline"))))
    pins = solara.reactive(())
    _box, rc = solara.render(Dashboard(model, pins), handle_error=False)
    for _ in range(3):
        model.value.step()
    force_update()
    rc.find(v.Btn, children=["Pin this run"]).widget.click()
    assert [p.label.split()[0] for p in pins.value] == ["pin"] and len(pins.value[0].frame) == 3
    model.value = VizModel(**{**initial_kwargs(_params("baseline")), "contact_prob": 0.4})
    model.value.step()
    force_update()

    def labels() -> list[str]:
        return [w.children[0] for w in rc.find(v.Html, class_="wom-pin-label").widgets]

    # The re-render for the new model may be committed from another thread (Mesa's update counter is global, and
    # threads of the page bump it): wait for it rather than read the widgets at one instant (a CI failure read the
    # label of the old model's render).
    deadline = time.monotonic() + 10.0
    while "(now 0.40)" not in "".join(labels()) and time.monotonic() < deadline:
        time.sleep(0.05)
        force_update()
    assert len(labels()) == 1 and "(now 0.40)" in labels()[0], labels()
    deltas = [w.children[0] for w in rc.find(v.Html, class_="wom-kpi-delta").widgets]
    assert deltas and all(d.endswith(f"vs {pins.value[0].label}") for d in deltas)
    assert rc.find(v.Btn, children=[f"Compare with {pins.value[0].label}"]).widget is not None


# --------------------------------------------------------------------------------------------- aggregate view
def test_label_propagation_finds_planted_communities():
    from wom_sim.viz.groups import communities, flows, label_propagation

    # Four cliques of 30 joined in a ring by one tie each: four communities.
    edges = [(b * 30 + i, b * 30 + j) for b in range(4) for i in range(30) for j in range(i + 1, 30)]
    edges += [(b * 30, ((b + 1) % 4) * 30 + 1) for b in range(4)]
    g = make_graph(120, edges)
    labels = label_propagation(g)
    majority = []
    for b in range(4):  # each clique is one community (a bridge end may keep its other side's label)
        values, counts = np.unique(labels[b * 30 : (b + 1) * 30], return_counts=True)
        assert counts.max() >= 29
        majority.append(values[counts.argmax()])
    assert len(set(majority)) == 4
    groups = communities(g, max_groups=2)
    assert groups.k == 3 and groups.sizes[:2].min() >= 29 and groups.sizes.sum() == 120
    assert communities(g, max_groups=2) is groups  # computed once per graph
    src, dst = np.array([2, 2, 45, 100]), np.array([3, 45, 100, 45])
    expected = np.zeros((3, 3), dtype=int)
    for a, b in zip(src, dst, strict=True):
        expected[groups.of[a], groups.of[b]] += 1
    assert np.array_equal(flows(groups, src, dst), expected)


def _ring_of_cliques():
    # Four cliques of 30 joined in a ring by one tie each: four communities.
    edges = [(b * 30 + i, b * 30 + j) for b in range(4) for i in range(30) for j in range(i + 1, 30)]
    edges += [(b * 30, ((b + 1) % 4) * 30 + 1) for b in range(4)]
    return make_graph(120, edges)


def test_people_view_coloured_by_community_gives_each_community_its_colour():
    from wom_sim.viz.figures import COMMUNITY_COLOURS, node_colours
    from wom_sim.viz.groups import communities

    g = _ring_of_cliques()
    groups = communities(g, max_groups=3)
    drawn = sample_nodes(g, np.array([0]))
    colours = node_colours(drawn, None, "community", groups)
    assert list(colours) == list(COMMUNITY_COLOURS[[0, 1, 2, len(COMMUNITY_COLOURS) - 1]][groups.of[drawn.nodes]])
    assert len(set(colours[::30])) == 4  # one colour per clique: three communities and the others
    with pytest.raises(ValueError, match="community"):
        node_colours(drawn, None, "community")
    model = _stepped(1)
    of = communities(model.sim.graph)  # the model started it in the background; this waits for or reads it
    plot = NetworkPlot(model.drawn, model.positions, model.sim.population.is_kol)
    plot.update(model.sim.population, model.sim.last_tick, "community", of)
    assert [t.get_text() for t in plot.legend.get_texts()][:2] == ["community 1", "community 2"]


def test_aggregate_view_draws_every_group_without_overlapping_labels():
    from wom_sim.viz.groups import aggregate_figure, communities

    model = _stepped(3)
    groups = communities(model.sim.graph)
    fig = aggregate_figure(groups, model.sim.population, model.sim.last_tick, "week")
    assert png(fig).startswith(b"\x89PNG")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    boxes = [t.get_window_extent(canvas.get_renderer()) for t in fig.axes[0].texts]
    assert len(boxes) == groups.k
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert all(fig.bbox.contains(b.x0, b.y0) and fig.bbox.contains(b.x1, b.y1) for b in boxes)


def test_a_tick_no_frame_shows_is_reported_once_the_model_is_quiet():
    model = VizModel(**initial_kwargs(_params("baseline")))
    model.frame_started()
    model.frame_shown()
    assert not model.needs_frame(quiet_s=0.0)
    model.step()  # e.g. the last step of a Play paused while it waited for a frame
    assert not model.needs_frame(quiet_s=10.0)  # still stepping, maybe
    assert model.needs_frame(quiet_s=0.0)
    model.frame_started()
    assert not model.needs_frame(quiet_s=0.0)  # being drawn
    model.frame_shown()
    assert not model.needs_frame(quiet_s=0.0)


def test_tiles_show_market_shares_when_the_scenario_has_rivals():
    # A competitor scenario's page must say who holds the market: our share and each rival's, with the pin's
    # difference; a market without rivals keeps the usual tiles (its share is 100% by definition).
    from wom_sim.viz.figures import kpi_differences, pin_row

    model = VizModel(**initial_kwargs(_params("competitor_price_cut")))
    for _ in range(3):
        model.step()
    m, sc = model.sim.last_metrics, model.sim.wom_scenario
    shown = {k: (label, v) for k, label, v in kpi_values(m, 3, 12, "week", sc.competitors)}
    assert shown["market"] == ("Market share", format_value("market_share", m["market_share"]))
    assert shown["rival_acme"] == ("Acme market share", format_value("market_share", m["rival_acme_market_share"]))
    deltas = kpi_differences(m, pin_row(model.sim.metrics_frame(), 3), sc.competitors)
    assert deltas["market"] == "+0.0 pp" and deltas["rival_acme"] == "+0.0 pp"
    base = _stepped(2)
    assert "market" not in dict((k, v) for k, _, v in kpi_values(base.sim.last_metrics, 2, 12, "week"))


def test_compare_panel_shows_the_market_when_the_scenarios_have_rivals():
    # A strategist comparing two settings of a competitor scenario must see what happens to market share, ours
    # and the rival's, as `wom-sim compare` shows it; a market without rivals keeps the six outcomes.
    from wom_sim.catalogue import describe
    from wom_sim.viz.pins import COMPARE_OUTCOMES, compare_outcomes, compare_with_pin, make_pin

    base = VizModel(**initial_kwargs(_params("competitor_price_cut"))).sim.wom_scenario
    better = VizModel(**{**initial_kwargs(_params("competitor_price_cut")), "quality": 0.95}).sim.wom_scenario
    pin = make_pin(base, pd.DataFrame({"t": []}), {}, number=1)
    rows = compare_with_pin(pin, better, replications=2)
    shown = [r["outcome"] for r in rows]
    assert describe("market_share", unit="week") in shown
    assert describe("rival_acme_market_share", unit="week") in shown
    assert shown[-1] == describe("profit", unit="week")  # the money last, as in `wom-sim compare`
    plain = VizModel(**initial_kwargs(_params("baseline"))).sim.wom_scenario
    assert compare_outcomes(make_pin(plain, pd.DataFrame({"t": []}), {}, number=2), plain) == COMPARE_OUTCOMES


def test_compare_table_renders_without_a_script_from_solaras_cdn():
    # solara.Markdown loads mermaid from /_solara/cdn/, which the offline page does not have: the compare panel
    # showed its table but logged a 404 and a script error in the browser. The table is plain HTML now.
    import ipywidgets

    from wom_sim.viz.components import CompareTable

    rows = [{"outcome": "Ever adopted <share>", "pin 1": "49.3%", "current": "45.9%", "difference": "-3.4 pp",
             "95% CI": "-5.3 pp to -1.4 pp"}]  # fmt: skip
    _box, rc = solara.render(CompareTable(rows), handle_error=False)
    widgets = rc.find(ipywidgets.Widget).widgets
    assert not [w for w in widgets if "mermaid" in str(getattr(w, "template", "") or "")]
    (table,) = [w for w in widgets if "wom-compare-result" in str(getattr(w, "attributes", {}).get("class", ""))]
    html = table.unsafe_innerHTML
    for cell in ("<th>pin 1</th>", "<td>-3.4 pp</td>", "<td>Ever adopted &lt;share&gt;</td>"):
        assert cell in html, html


def test_in_force_names_the_rivals_of_a_market():
    # launch_race's page showed rocket's market share tile, but "In force" listed our levers only.
    race = VizModel(**initial_kwargs(_params("launch_race"))).in_force()
    assert race["Rivals"] == "rocket"
    assert VizModel(**initial_kwargs(_params("baseline"))).in_force()["Rivals"] == "none"


def test_tiles_show_the_starting_state_at_week_0():
    # Every tile but the week read "–" until the first step, though the market has customers, an NPS, a brand and
    # (with rivals) shares from the start: the page opened on a row of dashes.
    import ipyvuetify as v

    from wom_sim.sim.population import CUSTOMER
    from wom_sim.viz.figures import start_metrics

    model = solara.reactive(VizModel(**initial_kwargs(_params("competitor_price_cut"))))
    _box, rc = solara.render(Dashboard(model), handle_error=False)
    sim = model.value.sim
    tiles = [w.children[0] for w in rc.find(v.Html, class_="wom-kpi-value").widgets]
    keys = [k for k, _, _ in kpi_values(None, 0, 12, "week", sim.wom_scenario.competitors)]
    shown = dict(zip(keys, tiles, strict=True))
    assert shown["tick"] == "0 / 12" and "\u2013" not in tiles, shown
    customers = int(np.count_nonzero(sim.population.status == CUSTOMER))
    assert customers > 0 and shown["customers"] == f"{customers:,}"
    start = start_metrics(sim)
    assert shown["nps"] == format_value("nps", start["nps"]) and shown["brand"] == format_value("brand", sim.brand)
    assert shown["wom"] == "+0 / \u22120"
    assert start["market_share"] + start["rival_acme_market_share"] == pytest.approx(1.0)
    # No customers at the start: nobody to ask, so no NPS ("–") rather than "+0.0".
    launch = WomModel(overrides={"network.n": 300, "ticks": 12, "population.initial.customer": 0.0})
    assert start_metrics(launch)["nps"] is None and start_metrics(launch)["customers"] == 0
    assert dict((k, v) for k, _, v in kpi_values(start_metrics(launch), 0, 12, "week"))["nps"] == "\u2013"
