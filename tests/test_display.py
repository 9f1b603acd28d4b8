"""Notebook display (wom_sim/display.py): `_repr_html_`, `to_frame` and `plot` on run, replication, comparison
and sweep results, labelled from the catalogue."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: figures are drawn, never shown

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import wom_sim  # noqa: E402
from wom_sim.catalogue import metric  # noqa: E402
from wom_sim.experiment.sweep_spec import load_sweep  # noqa: E402
from wom_sim.scenario.catalogue import bundled_path  # noqa: E402

SMALL = {"network.n": 200, "ticks": 10}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _titles_and_ylabels(fig) -> tuple[list[str], list[str]]:
    visible = [ax for ax in fig.axes if ax.get_visible()]
    return [ax.get_title() for ax in visible], [ax.get_ylabel() for ax in visible]


def test_a_run_shows_its_headline_outcomes_and_plots_them():
    result = wom_sim.simulate(bundled_path("baseline"), overrides=SMALL, seed=3)
    frame = result.to_frame().set_index("outcome")
    assert frame.loc["customers", "value"] == result.metrics["customers"].iloc[-1]
    html = result._repr_html_()
    assert metric("adoption_share").label in html and "Churn rate per week" in html  # tick unit of the scenario
    assert f"{result.metrics['adoption_share'].iloc[-1]:.1%}" in html
    titles, ylabels = _titles_and_ylabels(result.plot(["adoption_share", "customers"]))
    assert titles == [metric("adoption_share").label, metric("customers").label] and ylabels == ["%", "people"]


def test_a_run_on_a_graph_file_shows_the_people_of_the_file():
    result = wom_sim.simulate(bundled_path("crm_market"), overrides={"ticks": 2})  # network.n 5,000 from baseline
    assert "crm_market: 2,000 people, 2 weeks" in result._repr_html_()


def test_replications_show_means_with_intervals():
    result = wom_sim.replicate("baseline", replications=2, overrides=SMALL)
    frame = result.to_frame().set_index("outcome")
    summary = result.tables["summary"].set_index("metric")
    assert frame.loc["nps", "value"] == summary.loc["nps", "mean"]
    assert frame.loc["nps", "95% CI"] in result._repr_html_() and "NPS (customers)" in result._repr_html_()
    fig = result.plot(["brand"])
    assert _titles_and_ylabels(fig)[0] == ["Brand favourability"] and fig.axes[0].collections  # the CI band


def test_a_comparison_shows_uplifts_in_points():
    result = wom_sim.compare("baseline", "referral_program", replications=2, overrides=SMALL)
    frame = result.to_frame().set_index("outcome")
    uplift = result.uplift.set_index("outcome")
    assert frame.loc["profit", "value"] == uplift.loc["profit", "uplift"]
    assert frame.loc["adoption_share", "shown"] == f"{100 * uplift.loc['adoption_share', 'uplift']:+.1f} pts"
    assert "Ever adopted (share of population)" in result._repr_html_()
    titles, ylabels = _titles_and_ylabels(result.plot(["adoption_share", "cum_profit"]))
    assert titles == [metric("adoption_share").label, metric("cum_profit").label]
    assert ylabels == ["uplift (points)", "uplift (currency)"]


def test_a_sweep_shows_its_best_point_per_outcome(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        f"name: tiny\nscenario: {bundled_path('baseline')}\nset: {{network.n: 200, ticks: 8}}\ndesign: grid\n"
        "parameters:\n  wom.contact_prob: [0.05, 0.3]\nreplications: 2\nseed: 1\nmetrics: [adoption_share]\n"
    )
    result = wom_sim.sweep(load_sweep(spec))
    points = result.tables["points"]
    best = points.loc[points["adoption_share_mean"].idxmax()]
    row = result.to_frame().set_index("outcome").loc["adoption_share"]
    assert (
        row["value"] == best["adoption_share_mean"]
        and row["best point"] == f"wom.contact_prob={best['wom.contact_prob']:.4g}"
    )
    assert "best point" in result._repr_html_() and metric("adoption_share").label in result._repr_html_()
    fig = result.plot()
    assert fig.axes[0].get_xlabel() == "wom.contact_prob" and fig.axes[0].get_ylabel() == "%"


def test_a_difference_against_the_base_reads_in_points_and_a_damage_in_percent():
    # A sweep's `incremental:adoption_share` is a difference of shares and showed "-5.2%" (a relative change to a
    # reader); `damage:brand` / `crisis_damage`, a relative drop, showed "-0.029" as if it were a brand index.
    from wom_sim.display import format_outcome

    assert format_outcome("incremental:adoption_share", -0.0525) == "-5.2 pts"
    assert format_outcome("damage:brand", -0.029) == format_outcome("crisis_damage", -0.029) == "-2.9%"
    assert format_outcome("adoption_share", 0.432) == "43.2%" and format_outcome("adoption_share", 0.05, True) == (
        "+5.0 pts"
    )
