"""Measure the page as a user sees it: `python experiments/tools/measure_browser.py [N ...]` (test extra, chromium).

For each population size N (default 2,000 and 100,000) the baseline scenario is served twice on a free 127.0.0.1
port, first with an empty layout cache ("cold"), then on that cache ("warm"). Debian's chromium, driven by
Playwright with every request to another host aborted, measures: server start to its first HTTP answer; time to
first render (navigation until Mesa's Step button and both figures are shown); time per step, timed inside the
page from the Step click until both new images are decoded; and weeks per second while playing. One JSON line
per run on stdout. The numbers in docs/performance.md (Visualisation) come from this.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

from wom_sim.scenario.catalogue import resolve_scenario_path
from wom_sim.viz import server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip

# In the page: click Step, wait until the tick tile and both images changed, wait for the images to decode.
STEP_JS = """async () => {
  const imgs = [document.querySelector('img.wom-network-figure'), document.querySelector('img.wom-kpi-figure')];
  const tile = document.querySelector('.wom-kpi-tick .wom-kpi-value');
  const before = imgs.map(i => i.src), tick = tile.innerText;
  const step = [...document.querySelectorAll('button')].find(b => b.innerText.trim().toUpperCase() === 'STEP');
  const t0 = performance.now();
  step.click();
  while (imgs.some((im, j) => im.src === before[j]) || tile.innerText === tick) {
    await new Promise(r => requestAnimationFrame(r));
  }
  await Promise.all(imgs.map(im => im.decode()));
  return (performance.now() - t0) / 1000;
}"""


def measure(n: int, cache: str, steps: int = 10, play_s: float = 10.0) -> dict:
    """One served run at `n` people with layout cache folder `cache`."""
    from playwright.sync_api import expect, sync_playwright  # the test extra; imported here so --help needs none

    port = server.free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = server.start_server(resolve_scenario_path("baseline").resolve(), (f"network.n={n}", "ticks=2000"),
                               "127.0.0.1", port, env={"WOM_SIM_CACHE_DIR": cache},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    out: dict = {"n": n}
    try:
        server.wait_ready(proc, url)
        out["server_ready_s"] = time.perf_counter() - started
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.route(
                "**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort()
            )
            expect.set_options(timeout=120_000)
            page.set_default_timeout(120_000)
            started = time.perf_counter()
            page.goto(url)
            step = page.get_by_role("button", name="Step", exact=True)
            expect(step).to_be_visible()
            for figure in (page.locator("img.wom-network-figure"), page.locator("img.wom-kpi-figure")):
                expect(figure).to_be_visible()
                page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=figure.element_handle())
            out["first_render_s"] = time.perf_counter() - started
            week = page.locator(".wom-kpi-tick .wom-kpi-value")
            times = []
            for i in range(steps):
                expect(step).to_be_enabled()
                times.append(page.evaluate(STEP_JS))
                expect(week).to_have_text(re.compile(rf"^{i + 1} / "))
            out["step_median_s"], out["step_max_s"] = statistics.median(times), max(times)
            first = int(week.inner_text().split()[0])
            page.get_by_role("button", name="\u25b6", exact=True).click()
            started = time.perf_counter()
            time.sleep(play_s)
            page.get_by_role("button", name="\u275a\u275a", exact=True).click()
            elapsed = time.perf_counter() - started
            expect(step).to_be_enabled()
            time.sleep(3)  # the last frame
            out["play_weeks_per_s"] = (int(week.inner_text().split()[0]) - first) / elapsed
            browser.close()
    finally:
        server.stop_server(proc)
    return out


def main(sizes: list[int]) -> None:
    for n in sizes:
        cache = tempfile.mkdtemp(prefix="wom-sim-measure-")
        try:
            print(json.dumps({**measure(n, cache), "cache": "cold"}), flush=True)
            print(json.dumps({**measure(n, cache, steps=5), "cache": "warm"}), flush=True)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps({"load_average": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2_000, 100_000])
