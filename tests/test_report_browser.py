"""The HTML reports as a user opens them: a run, a comparison and a sweep report, each rendered in Debian's chromium
(headless, driven by Playwright from a file:// URL, every other request aborted so the page must be
self-contained), with the decision visible at the top and every figure decoded.

Skipped only when no chromium can be found (and failed instead when WOM_SIM_REQUIRE_BROWSER=1, as in CI). Tiny
markets and few replications: what is checked is what the page shows, not the numbers (tests/test_report.py and
tests/test_comparison.py check those).
"""

from __future__ import annotations

import html
import os
import shutil

import pytest

from wom_sim.experiment import Arm, compare
from wom_sim.experiment.sweep import run_sweep
from wom_sim.report.html import build_report
from wom_sim.scenario.loading import scenario_to_yaml
from wom_sim.sim.model import resolve_scenario, simulate

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
REQUIRED = bool(os.environ.get("WOM_SIM_REQUIRE_BROWSER"))
TINY = {"network.n": 300, "network.m": 3, "ticks": 12}
ADS = {"interventions": [{"kind": "advertising", "budget_per_tick": 40, "schedule": {"from": 2, "until": 8}}]}
SWEEP = """name: tiny
scenario: {scenario}
set: {{network.n: 300, network.m: 3, ticks: 12}}
design: grid
parameters:
  wom.contact_prob: [0.05, 0.25]
  advertising.reach: [0.02, 0.1]
replications: 2
seed: 3
metrics: [profit, adoption_share]
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Debian's chromium is not installed (apt-get install chromium)"
    if REQUIRED:
        pytest.fail(f"{reason} (WOM_SIM_REQUIRE_BROWSER is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """{kind: (report path, the decision text the page must show)} for a run, a comparison and a sweep."""
    root = tmp_path_factory.mktemp("reports")
    run = root / "run"
    run.mkdir()
    scenario = resolve_scenario(None, {**TINY, **ADS, "description": "Do short ads pay?"})
    simulate(scenario, seed=1).metrics.to_csv(run / "metrics.csv", index=False)
    (run / "scenario.yaml").write_text(scenario_to_yaml(scenario))
    result = compare(Arm("base", resolve_scenario(None, TINY)), Arm("ads", scenario), replications=3,
                     out=root / "compare")  # fmt: skip
    spec = root / "tiny.yaml"
    spec.write_text(SWEEP.format(scenario=(root / "run" / "scenario.yaml").as_posix()))
    run_sweep(spec, root / "sweep")
    return {
        "run": (build_report(run), "Do short ads pay?"),
        "compare": (build_report(root / "compare"), result.verdicts()["sentence"].iloc[0]),
        "sweep": (build_report(root / "sweep"), "Highest Profit (total)"),
    }


def test_each_report_shows_its_decision_first_in_a_browser(reports, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    outside: list[str] = []

    def only_files(route):
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_files)
            for kind, (path, decision) in reports.items():
                page.goto(path.as_uri())
                first = page.locator(".verdict").first
                expect(first).to_be_visible()
                assert html.unescape(decision) in first.inner_text(), kind
                # the decision is above the fold: a reader sees it without scrolling
                assert first.bounding_box()["y"] < 900, kind
                images = page.locator("img")
                assert images.count() >= 1, kind
                for i in range(images.count()):
                    assert page.evaluate(
                        "img => img.complete && img.naturalWidth > 100", images.nth(i).element_handle()
                    )
                if kind == "compare":
                    headings = page.locator("h2").all_inner_texts()
                    assert headings[0] == "Decision" and headings[-1] == "Method", headings
                    expect(page.get_by_text("Ranking by incremental profit")).to_be_visible()
                    page.screenshot(path=str(tmp_path / "compare_report.png"))
        finally:
            browser.close()
    assert not outside, f"the reports asked for other hosts: {outside[:3]}"
