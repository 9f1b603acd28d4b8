"""Figures and the HTML report: CI bands, uplift bars, sweep heatmaps, partial dependence, Sobol/tornado bars."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from wom_sim.catalogue import format_value
from wom_sim.errors import ScenarioError
from wom_sim.experiment import Arm, compare, replicate
from wom_sim.experiment.attribution import attribution
from wom_sim.experiment.comparison import load_comparison
from wom_sim.experiment.curves import curves
from wom_sim.output import write_manifest
from wom_sim.report import figures as report
from wom_sim.report.changes import changed_payload, changes
from wom_sim.report.html import (
    _arm_lines,
    build_report,
    ci_table,
    group_display,
    pairing_gain,
    replications_needed,
    uplift_display,
)
from wom_sim.report.workbook import write_workbook
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim.model import resolve_scenario, simulate

TINY = {"network.n": 300, "network.m": 3, "ticks": 10}


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    base = resolve_scenario(None, TINY)
    ads = resolve_scenario(None, {**TINY, "interventions": [{"kind": "advertising", "budget_per_tick": 50}]})
    folder = tmp_path_factory.mktemp("cmp")
    return folder, compare(Arm("base", base), Arm("ads", ads), replications=4, out=folder, by="segment").tables


def _png(fig) -> bytes:
    data = report.figure_png(fig)
    assert data.startswith(b"\x89PNG") and len(data) > 5_000
    return data


def test_format_value():
    assert report.format_value("adoption_share", 0.1234) == "12.34%"
    assert report.format_value("mean:churn_rate", 0.01) == "1.00%"
    assert report.format_value("profit", 12345.6) == "12,346"
    assert report.format_value("nps", -12.34) == "-12.3"
    assert report.format_value("brand", 0.6666) == "0.667"
    assert report.format_value("nps", 7.6, scale=16.7) == "7.6"  # a CI printed like its mean
    assert report.format_value("nps", float("nan")) == "n/a"


def test_outcome_labels_come_from_the_catalogue():
    assert report.outcome_label("churn_rate", "week") == "Churn rate per week (mean)"
    assert report.outcome_label("max:nps") == "NPS (customers, maximum)"
    assert report.outcome_label("profit") == "Profit (total)"  # a named outcome of the experiment tables
    # a bare column: summarised by the catalogue's statistic (analysis.outcomes), the mean for this rate
    assert report.outcome_label("pos_speakers") == "People speaking positively per tick (mean)"
    assert report.outcome_label("nosuch") == "nosuch"  # not an outcome: the name itself
    assert report.outcome_label("roi").startswith("Return on programme spend")  # a relative outcome


def test_ci_dashboard_draws_bands_for_one_or_several_arms(tmp_path, comparison):
    _, tables = comparison
    _png(report.ci_dashboard_figure(tables["timeseries"], "two arms", "week"))
    folder = tmp_path / "rep"
    single = replicate(resolve_scenario(None, TINY), 3, out=folder).tables["timeseries"]
    fig = report.ci_dashboard_figure(single, "one arm")
    assert len(fig.axes[0].collections) == 1  # the band (fill_between) of the single arm
    _png(fig)
    summary = replicate(resolve_scenario(None, TINY), 3, out=folder).tables["summary"]
    table = ci_table(summary)
    assert list(table.columns) == ["outcome", "mean", "95% CI", "n"] and (table["n"] == 3).all()
    # Money in the scenario's currency, with k/M, as the run summary and the compare tables show it.
    profit = ci_table(summary, "week", "EUR").set_index("outcome").loc["Profit (total)"]
    assert profit["mean"].endswith(" EUR") and profit["95% CI"].count(" EUR") == 2


def test_an_arm_that_only_overrides_the_base_does_not_take_the_bases_question():
    # `compare competitor_price_cut 'brand.price=0.9'`: the override arm inherits the base's description, so its
    # section read "Our main competitor cuts its price by 20%: what does it cost us if we do not answer?".
    base = {"description": "Does our rival's price cut hurt?\nMore.", "brand": {"price": 1.0}}
    cheaper = {"label": "brand.price=0.9", "scenario": {**base, "brand": {"price": 0.9}}}
    text = _arm_lines(cheaper, base)
    assert "rival" not in text and "brand.price: 1 -> 0.9" in html.unescape(text)
    own = {"label": "match", "scenario": {**base, "description": "Does matching it pay?"}}
    assert "Does matching it pay?" in _arm_lines(own, base)
    assert "Does our rival" in _arm_lines({"label": "base", "scenario": base}, None)


def test_uplift_figure_and_tables(comparison):
    _, tables = comparison
    fig = report.uplift_figure(tables["uplift"], tables["uplift_timeseries"], "week", currency="EUR")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert "Churn rate per week (mean)" in titles and "Profit (total)" in titles
    profit = fig.axes[titles.index("Profit (total)")]
    assert "EUR" in profit.get_xlabel()
    assert "percentage points" in fig.axes[titles.index("Ever adopted (share of population)")].get_xlabel()
    _png(fig)
    shown = uplift_display(tables["uplift"], "week")
    assert "Churn rate per week (mean)" in set(shown["outcome"])
    assert shown["paired 95% CI"].str.contains(" to ").all()
    adoption = shown[shown["outcome"] == "Ever adopted (share of population)"].iloc[0]
    assert adoption["change"].split()[1].startswith("pts") and adoption["base"].endswith("%")  # points, not %
    (line,) = pairing_gain(tables["uplift"])
    assert line.startswith("ads: paired 95% CIs are")


def _sweep_tables(sobol: bool):
    rng = np.random.default_rng(0)
    k, p = np.repeat([0, 5, 10], 3), np.tile([0.1, 0.2, 0.3], 3)
    points = pd.DataFrame({"point": range(9), "kols.select.k": k, "wom.contact_prob": p})
    for metric in ("adoption_share", "profit"):
        mean = 0.3 + 0.02 * k + p + rng.normal(0, 0.01, 9)
        points[f"{metric}_mean"], points[f"{metric}_ci_low"], points[f"{metric}_ci_high"] = (
            mean,
            mean - 0.02,
            mean + 0.02,
        )
    effects = pd.DataFrame(
        [
            {
                "parameter": param,
                "metric": m,
                "value": v,
                "category": None,
                "mean": v,
                "ci_low": v - 0.1,
                "ci_high": v + 0.1,
                "sd": 0.1,
                "n": 3,
            }
            for param, values in (("kols.select.k", (0, 5, 10)), ("wom.contact_prob", (0.1, 0.3)))
            for m in ("adoption_share", "profit")
            for v in values
        ]
    )
    sens = effects.groupby(["parameter", "metric"])["mean"].agg(pd_min="min", pd_max="max").reset_index()
    sens["swing"] = sens["pd_max"] - sens["pd_min"]
    if sobol:
        sens = sens.assign(S1=0.4, S1_conf=0.1, ST=0.5, ST_conf=0.1)
    return points, effects, sens


@pytest.mark.parametrize("sobol", [False, True])
def test_sweep_figures(sobol):
    points, effects, sens = _sweep_tables(sobol)
    params, metrics = ["kols.select.k", "wom.contact_prob"], ["adoption_share", "profit"]
    heat = report.heatmap_figure(points, params, metrics)
    assert len(heat.axes) == 4  # two heatmaps and their colour bars
    _png(heat)
    assert report.heatmap_figure(points, params[:1], metrics) is None  # one parameter: nothing to map
    _png(report.partial_dependence_figure(effects))
    fig = report.sensitivity_figure(sens)
    assert ("Sobol" in fig._suptitle.get_text()) == sobol
    _png(fig)


def test_sweep_heatmaps_of_outcomes_against_a_baseline():
    # payback, roi and crisis_damage have no catalogue entry of their own: their colour bar has no unit to name
    points, _, _ = _sweep_tables(False)
    relative = ["payback", "roi", "crisis_damage"]
    for metric in relative:
        points = points.assign(**{f"{metric}_mean": points["profit_mean"], f"{metric}_ci_low": np.nan})
    heat = report.heatmap_figure(points, ["kols.select.k", "wom.contact_prob"], ["profit", *relative])
    bars = [ax for ax in heat.axes if ax.get_label() == "<colorbar>"]
    assert [bar.get_ylabel() for bar in bars] == ["mean (money)", "mean", "mean", "mean"]
    _png(heat)


def test_dashboard_of_a_single_run_still_works(tmp_path):
    metrics = simulate(resolve_scenario(None, TINY), seed=1).metrics
    fig = report.dashboard_figure(metrics, "one run")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["no touch", "advertising", "word of mouth", "KOL", "referral"]
    path = report.save_figure(fig, tmp_path / "d.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    text = build_report(tmp_path).read_text(encoding="utf-8")
    assert "Churn rate per tick (mean)" in text and "Ever adopted (share of population)" in text


def test_the_dashboard_of_a_market_adds_a_row_of_shares_and_switching():
    metrics = simulate(resolve_scenario(bundled_path("launch_race"), {"network.n": 400, "ticks": 8}), seed=1).metrics
    fig = report.dashboard_figure(metrics, "market", "week")
    assert len(fig.axes) == 9 and len(report.dashboard_figure(simulate(resolve_scenario(None, TINY)).metrics).axes) == 6
    share, voice, switching = fig.axes[6:]
    assert [t.get_text() for t in share.get_legend().get_texts()] == ["ours", "rocket"]
    # Each brand's line is its column; ours and the rival's shares add up to 1 (one rival, someone is a customer).
    np.testing.assert_allclose(share.lines[1].get_ydata(), metrics["rival_rocket_market_share"])
    np.testing.assert_allclose(share.lines[0].get_ydata() + share.lines[1].get_ydata(), 1.0)
    assert "positive voice" in voice.get_title() and len(switching.lines) == 2


def test_the_ci_dashboard_of_a_market_adds_our_market_row():
    small = {"network.n": 300, "ticks": 6}
    market = replicate("launch_race", 2, overrides=small, progress=False).tables["timeseries"]
    fig = report.ci_dashboard_figure(market, "market", "week")
    assert [ax.get_title() for ax in fig.axes[8:]] == [report.series_label(m, "week") for m in report.CI_MARKET_PANELS]
    alone = replicate("baseline", 2, overrides=small, progress=False).tables["timeseries"]
    assert len(report.ci_dashboard_figure(alone).axes) == 8


def test_html_report_of_a_comparison_is_self_contained(comparison):
    folder, _ = comparison
    path = build_report(folder)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Comparison: base vs ads" in text
    assert text.count("data:image/png;base64,") == 3 and "<script" not in text and "http" not in text
    # the decision first, then what each arm is (the keys it changes), then the details, the method last
    order = [text.index(h) for h in ("<h2>Decision", "<h2>What each arm is", "<h2>Details", "<h2>Method")]
    assert order == sorted(order)
    (sentence,) = load_comparison(folder).verdicts()["sentence"]
    assert re.match(r"ads (pays|does not pay|not sure): [+-]", sentence) and html.escape(sentence) in text
    assert "interventions.advertising: added" in text and "advertising.budget_per_tick: 0 -&gt; 50" in text
    # made with --by segment: each group's paired differences, before the overall details, biggest change first
    assert text.index("<h2>By segment: each treatment against the base, per group") < text.index("<h2>Details")
    shown = group_display(load_comparison(folder).by_group)
    assert len(shown) == 2 * 8 and list(shown.columns[:3]) == ["treatment", "group", "metric"]
    assert html.escape(shown["paired 95% CI"].iloc[0]) in text


def test_html_report_rejects_folders_it_cannot_read(tmp_path):
    with pytest.raises(ScenarioError, match="no such folder"):
        build_report(tmp_path / "missing")
    with pytest.raises(ScenarioError, match=r"not an output report reads \(run, run --replications, compare, "
                       r"attribution, sweep, curves, optimise\)"):  # fmt: skip
        build_report(tmp_path)
    write_manifest(tmp_path, "calibrate", ["fit.md"])  # an output with a summary of its own: says where it is
    with pytest.raises(ScenarioError, match="a calibration's report is its fit.md$"):
        build_report(tmp_path)


def test_money_and_axes_read_on_a_slide():
    assert report.axis_label("adoption_share", "uplift", difference=True) == "uplift (percentage points)"
    assert report.axis_label("profit", "profit", "EUR") == "profit (EUR)"


def test_uplift_colours_say_good_or_bad_for_the_business():
    # lower churn is good, more churn bad, a CI that spans 0 neither; a metric with no direction is never coloured
    assert report.uplift_colour("churn_rate", -0.01, -0.02, -0.005) == report.GOOD
    assert report.uplift_colour("churn_rate", 0.01, 0.005, 0.02) == report.BAD
    assert report.uplift_colour("profit", 100, -5, 205) == report.UNSURE
    assert report.uplift_colour("intervention_cost", 100, 50, 150) == report.UNSURE
    # ... so the legend must not call every grey bar "not distinguishable from 0": a spend of +4k (CI +1.2k to
    # +6.8k) is grey and marked * in the table.
    uplift = pd.DataFrame([{"treatment": "t", "outcome": "intervention_cost", "base_mean": 0.0, "treatment_mean": 4e3,
                            "uplift": 4e3, "ci_low": 1.2e3, "ci_high": 6.8e3}])  # fmt: skip
    title = report.uplift_figure(uplift)._suptitle.get_text()
    assert "neither good nor bad" in title


def test_dashboard_labels_every_axis_marks_programmes_and_has_no_offset(tmp_path):
    scenario = resolve_scenario(
        None,
        {**TINY, "ticks": 30, "interventions": [{"kind": "advertising", "budget_per_tick": 5_000_000,
                                                   "schedule": {"from": 3, "until": 9}}],  # fmt: skip
         "events": [{"kind": "crisis", "at": 15}]},
    )  # fmt: skip
    assert report.programme_marks(scenario) == [("advertising", 3, 9), ("crisis", 15, 15)]
    metrics = simulate(scenario, seed=1).metrics  # millions of spend: matplotlib would write a 1e6 offset
    fig = report.dashboard_figure(metrics, "marked", "week", scenario=scenario, currency="EUR")
    fig.canvas.draw()
    for ax in fig.axes:
        assert ax.get_ylabel() and ax.get_xlabel() == "week"
        assert ax.yaxis.get_offset_text().get_text() == ""  # no 1e6 above the axis
    texts = [t.get_text() for t in fig.axes[2].texts]
    assert "advertising" in texts and "crisis" in texts  # named at the top of the panel
    assert "EUR" in fig.axes[5].get_ylabel()
    small = Figure(figsize=(2, 1))  # the format is the point here, not the drawing
    small.subplots().plot([0, 1])
    for fmt, magic in (("svg", b"<?xml"), ("pdf", b"%PDF"), ("png", b"\x89PNG")):
        assert report.save_figure(small, tmp_path / f"d.{fmt}").read_bytes().startswith(magic)


def test_changes_against_a_base_and_against_the_defaults():
    base = resolve_scenario(None, TINY)
    kol = resolve_scenario(None, {**TINY, "wom.contact_prob": 0.25,
                                  "interventions": [{"kind": "kol_campaign", "screening": 0.9}]})  # fmt: skip
    texts = [c.text() for c in changes(kol, base)]
    assert texts == [f"wom.contact_prob: {base.wom.contact_prob:g} -> 0.25", "interventions.kol_campaign: added",
                     "interventions.kol_campaign.screening: 0.8 -> 0.9"]  # fmt: skip
    assert [c.text() for c in changes(base, kol)][-1] == "interventions.kol_campaign: removed"
    shown, hidden = changed_payload(kol)
    assert shown["wom"] == {"contact_prob": 0.25} and shown["network"] == {"n": 300, "m": 3}
    assert shown["interventions"][0]["fee_per_post"] == 300.0  # an entry is shown whole, its defaults too
    assert hidden > 100


def test_changes_name_an_added_competitor_move():
    # A competitor move has a required key (`competitor`): its defaults, what an added entry is compared against,
    # could not be built, so `wom-sim report` of a comparison adding one (competitor_crisis against
    # competitor_price_cut) stopped with a traceback.
    rivals = [{"name": "acme"}]
    base = resolve_scenario(None, {**TINY, "competitors": rivals})
    hit = resolve_scenario(
        None,
        {
            **TINY,
            "competitors": rivals,
            "events": [{"kind": "competitor_crisis", "competitor": "acme", "brand_damage": 0.3}],
        },
    )
    texts = [c.text() for c in changes(hit, base)]
    assert texts[0] == "events.competitor_crisis: added"
    assert "events.competitor_crisis.competitor: none -> acme" in texts
    assert "events.competitor_crisis.brand_damage: 0.15 -> 0.3" in texts


def test_replications_follow_the_noise():
    points = pd.DataFrame({"m_mean": [0.0, 1.0], "m_ci_low": [-0.1, 0.9], "m_ci_high": [0.1, 1.1]})
    assert replications_needed(points, "m", 5) == 5  # a half-width of 10% of the spread is what is asked
    # Twice the asked half-width on 5 replications: sd = 0.2 sqrt(5) / t(0.975, 4) = 0.161, and t(0.975, n-1) sd /
    # sqrt(n) first drops to 0.1 at n = 13 (0.097; 12 gives 0.102). The t-quantile shrinks too: not 4 x 5 = 20.
    assert replications_needed(points.assign(m_ci_low=[-0.2, 0.8], m_ci_high=[0.2, 1.2]), "m", 5) == 13


def test_replications_needed_from_two_replications_uses_the_t_quantile_of_each_count():
    """On 2 replications the CI is wide mostly because t(0.975, 1) = 12.7: a half-width of 30% of the spread means
    sd = 0.3 sqrt(2) / 12.7 = 0.033, and 3 replications give 4.30 x 0.033 / sqrt(3) = 0.083 <= 0.1. Scaling the
    half-width as 1/sqrt(n) alone asked for 2 x 3^2 = 18."""
    points = pd.DataFrame({"m_mean": [0.0, 1.0], "m_ci_low": [-0.3, 0.7], "m_ci_high": [0.3, 1.3]})
    assert replications_needed(points, "m", 2) == 3


def test_reports_of_attribution_and_response_curves_lead_with_their_decision(tmp_path):
    small = {"network.n": 300, "ticks": 8}
    found = attribution("baseline", replications=2, overrides=small, out=tmp_path / "att")
    page = build_report(tmp_path / "att").read_text(encoding="utf-8")
    assert page.index("what each channel truly causes") < page.index("Method")
    for sentence in found.table["sentence"]:  # every channel's sentence, as the terminal prints it
        assert html.escape(sentence) in page
    curves("baseline", {"kols.select.k": [0, 20]}, replications=2, overrides=small, out=tmp_path / "cur",
           outcomes=["adoption_share"])  # fmt: skip
    page = build_report(tmp_path / "cur").read_text(encoding="utf-8")
    assert "where each lever stops paying" in page and "kols.select.k" in page and "<img" in page
    sheets = pd.read_excel(write_workbook(tmp_path / "cur"), sheet_name=None)
    assert list(sheets)[:2] == ["Summary", "Curves"] and set(sheets["Curves"]["value"]) == {0, 10, 20}


def test_pairing_gain_ignores_outcomes_whose_paired_difference_never_moved():
    # A treatment that changes nothing within the horizon (a rival's price cut after the last week) has paired CIs
    # of width 0 on every outcome: the report must say so, not divide by zero; an outcome that never moved says
    # nothing about how much pairing narrows the CIs, so it stays out of the median and the range.
    uplift = pd.DataFrame({"treatment": ["late"] * 2 + ["ads"] * 3, "outcome": ["profit", "nps"] * 2 + ["customers"],
                           "width_ratio": [0.0, 0.0, 0.0, 0.5, 0.3]})  # fmt: skip
    late, ads = pairing_gain(uplift)
    assert late == "late: paired and unpaired CIs cannot be compared (no variation)."
    assert ads.startswith("ads: paired 95% CIs are 0.40x") and "range 0.30-0.50" in ads


def test_sweep_tables_show_outcomes_with_their_labels_and_units():
    # The sweep report's tables read as its decision lines do: an adoption share in %, a swing of a share in
    # points, profit in the currency, outcome labels instead of column names (it printed 0.8655 under
    # `swing` beside "swing 86.55%", and `adoption_share_ci_low` headers).
    from wom_sim.report.html import sweep_points_display, sweep_sensitivity_display

    points, _, sens = _sweep_tables(False)
    params, metrics = ["kols.select.k", "wom.contact_prob"], ["adoption_share", "profit"]
    shown = sweep_points_display(points.head(2), params, metrics, "week", "EUR")
    label = report.outcome_label("adoption_share", "week")
    assert list(shown.columns) == ["point", *params, label, f"{label}: 95% CI", report.outcome_label("profit", "week"),
                                   f"{report.outcome_label('profit', 'week')}: 95% CI"]  # fmt: skip
    first = points.iloc[0]
    # the catalogue's format, as compare prints it
    assert shown[label].iloc[0] == format_value("adoption_share", first["adoption_share_mean"])
    assert shown[label].iloc[0].endswith("%") and " to " in shown[f"{label}: 95% CI"].iloc[0]
    assert "EUR" in shown[report.outcome_label("profit", "week")].iloc[0]
    table = sweep_sensitivity_display(sens, "week", "EUR")
    row = table[(table["parameter"] == "kols.select.k") & (table["outcome"] == label)].iloc[0]
    swing = sens[(sens["parameter"] == "kols.select.k") & (sens["metric"] == "adoption_share")]["swing"].iloc[0]
    assert row["swing"] == f"{100 * swing:.1f} pts" and row["lowest mean"].endswith("%")
    sobol = sweep_sensitivity_display(_sweep_tables(True)[2], "week", "EUR")
    assert {"S1", "ST"} <= set(sobol.columns)


def test_what_was_in_force_says_when_a_programme_starts_after_the_run():
    # competitor_price_cut run for 20 weeks: its price cut (from week 26) never happened, so the run report's
    # "What was in force" must not list it as "weeks 26 to the end" as if it had been on.
    from wom_sim.report.html import programmes_in_force

    scenario = {"ticks": 20, "tick_unit": "week",
                "events": [{"kind": "competitor_price", "schedule": {"from": 26}}],
                "interventions": [{"kind": "price_change", "schedule": {"at": [5, 30]}}]}  # fmt: skip
    at, late = programmes_in_force(scenario)  # programmes, then events
    assert late.endswith("weeks 26 to the end: after the run's last week (19), never in force")
    assert at == "price_change (programme, price_change): at week 5, 30"  # partly in the run: as it was
    scenario["ticks"] = 52
    assert programmes_in_force(scenario)[1].endswith("weeks 26 to the end")


def test_sweep_points_print_a_mean_and_its_ci_with_the_same_decimals():
    # "NPS 4.540 (95% CI -19.1 to 28.2)": a mean and its bounds must read alike (the largest sets the decimals).
    from wom_sim.report.html import sweep_points_display

    points = pd.DataFrame({"point": [0], "k": [5], "nps_mean": [4.54], "nps_ci_low": [-19.1], "nps_ci_high": [28.2]})
    shown = sweep_points_display(points, ["k"], ["nps"], "week", None).iloc[0]
    label = report.outcome_label("nps", "week")
    assert (shown[label], shown[f"{label}: 95% CI"]) == ("+4.5", "-19.1 to +28.2")  # signed, as compare prints it


def test_a_sweeps_brand_damage_interval_is_not_cut_to_the_range_of_the_brand():
    # "damage:brand" is a drop relative to the base (-12%); the report read its column's 0-1 range and printed
    # "95% CI 0.000 to 0.000".
    from wom_sim.report.html import sweep_points_display

    points = pd.DataFrame({"point": [0], "k": [5], "damage:brand_mean": [-0.12],
                           "damage:brand_ci_low": [-0.15], "damage:brand_ci_high": [-0.09]})  # fmt: skip
    shown = sweep_points_display(points, ["k"], ["damage:brand"], "week", None).iloc[0]
    # A relative drop in %, as compare prints it ("-0.150" read as a brand index)
    assert shown[f"{report.outcome_label('damage:brand', 'week')}: 95% CI"] == "-15.0% to -9.0%"


def test_a_sweeps_difference_of_a_share_against_the_base_is_in_points():
    # incremental:adoption_share is a difference of shares: it printed "-5.25% (95% CI -17.32% to 6.82%)", a
    # relative change to a reader, where compare prints "-5.2 pts".
    from wom_sim.report.html import sweep_points_display

    name = "incremental:adoption_share"
    points = pd.DataFrame({"point": [0], "k": [5], f"{name}_mean": [-0.0525], f"{name}_ci_low": [-0.1732],
                           f"{name}_ci_high": [0.0682]})  # fmt: skip
    shown = sweep_points_display(points, ["k"], [name], "week", None).iloc[0]
    label = report.outcome_label(name, "week")
    assert (shown[label], shown[f"{label}: 95% CI"]) == ("-5.2 pts", "-17.3 pts to +6.8 pts")


def test_sweep_drivers_give_a_profit_swing_in_the_scenarios_currency():
    # The decision line's "What drives it: k (swing 258k)" had no currency while the profit beside it had one.
    from wom_sim.report.html import _drivers

    _, _, sens = _sweep_tables(False)
    _, text = _drivers(sens, "profit", currency="EUR")
    assert text.count("EUR") == 2 and text.startswith("kols.select.k (swing ")


def test_replications_of_a_graph_file_count_the_people_the_runs_had(tmp_path):
    """crm_market's edge list and person table hold 2,000 people; the network.n it inherits from baseline says 5,000."""
    folder = tmp_path / "crm"
    timeseries = replicate("crm_market", 2, overrides={"ticks": 2}, out=folder, progress=False).tables["timeseries"]
    assert report.people_in(timeseries) == 2000
    text = build_report(folder).read_text(encoding="utf-8")
    assert "2 replications of crm_market (2,000 people, 2 weeks)" in text


def test_a_payback_reached_in_some_runs_only_says_how_many_in_the_report():
    nan = float("nan")
    base = {"treatment": "kols", "uplift_pct": nan, "unpaired_ci_low": nan, "unpaired_ci_high": nan,
            "width_ratio": nan, "scale": "tick"}  # fmt: skip
    rows = [
        {**base, "outcome": "profit", "base_mean": 1e3, "treatment_mean": 2e3, "uplift": 1e3, "ci_low": 5e2,
         "ci_high": 1.5e3, "n": 3},
        {**base, "outcome": "payback", "base_mean": nan, "treatment_mean": 18.0, "uplift": 18.0, "ci_low": nan,
         "ci_high": nan, "n": 1},
    ]  # fmt: skip
    shown = uplift_display(pd.DataFrame(rows), "week").set_index("outcome")["change"]
    assert shown.iloc[-1] == "week 18 (1 of 3 runs paid back)"
    rows[1].update(uplift=nan, treatment_mean=nan, n=0)
    assert uplift_display(pd.DataFrame(rows), "week")["change"].iloc[-1] == "none (0 of 3 runs paid back)"
    rows[1].update(uplift=12.0, treatment_mean=12.0, ci_low=10.0, ci_high=14.0, n=3)  # all paid back: as before
    assert uplift_display(pd.DataFrame(rows), "week")["change"].iloc[-1] == "week 12"


def test_one_replication_says_it_has_no_interval(tmp_path):
    # `wom-sim run X -r 1` then `wom-sim report`: the outcome table read "n/a to n/a" in every row, the method
    # "1 replications" and the figure "mean and 95% CI over 1 replications".
    folder = tmp_path / "one"
    tables = replicate(resolve_scenario(None, TINY), 1, out=folder).tables
    table = ci_table(tables["summary"])
    assert (table["95% CI"] == "none: needs 2 or more replications").all()
    text = html.unescape(re.sub(r"<[^>]+>", " ", build_report(folder).read_text()))
    assert "n/a" not in text and "1 replications" not in text
    assert "One replication has no error bar" in text and "1 replication of" in text
    assert "over 1 replications" not in report.ci_dashboard_figure(tables["timeseries"], "one")._suptitle.get_text()


def test_a_payback_reached_by_some_runs_says_how_many():
    # referral_program, 3 runs: paybacks in weeks 13 and 11 and one never; the details row read "week 12" (the mean
    # of two) beside a verdict's "payback in week 11" with nothing to say that one run never paid back.
    nan = float("nan")
    row = {"base_mean": 14.8e3, "treatment_mean": 16.4e3, "uplift": 1.55e3, "ci_low": -2.3e3, "ci_high": 5.4e3,
           "unpaired_ci_low": -3.7e3, "unpaired_ci_high": 6.8e3, "width_ratio": 0.7, "n": 3}  # fmt: skip
    payback = {**row, "base_mean": nan, "treatment_mean": 12.0, "uplift": 12.0, "ci_low": 0.0, "ci_high": 19.0,
               "unpaired_ci_low": nan, "unpaired_ci_high": nan, "width_ratio": nan, "n": 2}  # fmt: skip
    uplift = pd.DataFrame([
        {"treatment": "some", "outcome": "profit", **row}, {"treatment": "some", "outcome": "payback", **payback},
        {"treatment": "all", "outcome": "profit", **row}, {"treatment": "all", "outcome": "payback", **payback, "n": 3},
        {"treatment": "none", "outcome": "profit", **row},
        {"treatment": "none", "outcome": "payback", **payback, "uplift": nan, "ci_low": nan, "ci_high": nan, "n": 0},
    ])  # fmt: skip
    shown = uplift_display(uplift, "week").set_index(["treatment", "outcome"])["change"]
    label = report.outcome_label("payback", "week")
    assert shown[("some", label)] == "week 12 (2 of 3 runs paid back)"
    assert shown[("all", label)] == "week 12"  # every run paid back: the mean of all
    assert shown[("none", label)] == "none (0 of 3 runs paid back)"


def test_the_sweep_noise_table_reads_as_shares_of_the_variance():
    # Rounded to 4 decimals, a churn rate's sums of squares (8.4e-06) printed as 0 beside a noise share of 0.8151,
    # under raw column names; an adoption share's 0.5% read "0%" in the decision line.
    from wom_sim.report.html import sweep_noise_display

    noise = pd.DataFrame({"metric": ["mean:churn_rate", "adoption_share"], "ss_total": [8.41e-06, 0.336],
                          "ss_within": [6.86e-06, 0.00168], "noise_share": [0.8151, 0.0050]})  # fmt: skip
    shown = sweep_noise_display(noise, "week")
    assert list(shown["outcome"]) == [report.outcome_label("mean:churn_rate", "week"),
                                      report.outcome_label("adoption_share", "week")]  # fmt: skip
    assert list(shown["within-point (random) share of the variance"]) == ["82%", "under 1%"]
    assert list(shown["sum of squares: total"]) == ["8.41e-06", "0.336"]


def test_what_was_in_force_names_the_rivals_and_a_programme_cut_by_the_horizon():
    # launch_race's run report listed our KOL campaign but not the rival it races; segment_referral run for 20
    # weeks read "weeks 0 to 51" as if the reward had run a year.
    from wom_sim.report.html import programmes_in_force

    scenario = {"ticks": 20, "tick_unit": "week",
                "interventions": [{"kind": "referral_reward", "schedule": {"from": 0, "until": 51}}],
                "competitors": [{"name": "rocket", "quality": 0.8, "price": 0.9, "advertising": 0.15,
                                 "initial_customers": 0.01}]}  # fmt: skip
    reward, rival = programmes_in_force(scenario)
    assert reward == "referral_reward (programme, referral_reward): weeks 0 to 51 (the run ended at week 19)"
    assert rival.startswith("rival rocket (competitors): quality 0.8, price index 0.9")
    assert "15% of non-users per week" in rival and "1% of the population" in rival
    scenario["ticks"] = 52
    assert programmes_in_force(scenario)[0].endswith("weeks 0 to 51")


def test_the_report_of_a_run_made_with_by_shows_its_breakdown(tmp_path):
    # `wom-sim run segment_referral --by segment` wrote by_segment.parquet and printed it, but `wom-sim report` of
    # that folder left it out.
    from wom_sim.analysis.segments import breakdown

    result = simulate(resolve_scenario(None, TINY), seed=1)
    result.metrics.to_parquet(tmp_path / "metrics.parquet")
    breakdown(result.people, "segment").to_parquet(tmp_path / "by_segment.parquet")
    text = html.unescape(re.sub(r"<[^>]+>", " ", build_report(tmp_path).read_text(encoding="utf-8")))
    assert "By segment" in text and "One run, no error bar" in text
    for group in result.people["segment"].unique():
        assert f" {group} " in text


def test_an_interval_is_kept_within_the_values_an_outcome_can_take():
    # launch_race, 2 replications: "Market share -3.34% to 169.23%", "Active customers -214 to 1,755"; a mean of
    # values within a range lies within it, so the interval is cut there (as a payback's is cut to the run's weeks).
    summary = pd.DataFrame({"metric": ["market_share", "customers", "nps", "profit", "rival_rocket_market_share"],
                            "mean": [0.829, 770.0, -4.9, 8.5e3, 0.17],
                            "ci_low": [-0.033, -214.0, -141.7, -35.2e3, -0.69],
                            "ci_high": [1.692, 1755.0, 31.9, 52.2e3, 1.03], "n": 2})  # fmt: skip
    shown = ci_table(summary, "week").set_index("outcome")["95% CI"]
    assert shown[report.outcome_label("market_share", "week")] == "0.0% to 100.0%"
    assert shown[report.outcome_label("customers", "week")] == "0 to 1,755"
    assert shown[report.outcome_label("nps", "week")].startswith("-100")
    assert shown[report.outcome_label("profit", "week")].startswith("-35")  # money can be below 0: kept
    assert shown[report.outcome_label("rival_rocket_market_share", "week")] == "0.0% to 100.0%"
    assert report.value_range("incremental:customers") == (-np.inf, np.inf)  # a difference: either sign
    assert report.value_range("payback") == (-np.inf, np.inf)
    # the CI bands of the replications' figure are cut alike
    rows = [{"metric": m, "t": t, "mean": 0.5, "ci_low": -0.2, "ci_high": 1.3, "n": 2}
            for m in report.CI_PANELS for t in range(3)]  # fmt: skip
    fig = report.ci_dashboard_figure(pd.DataFrame(rows), "two runs")
    share = fig.axes[0]  # the first panel: a share
    assert report.value_range(report.CI_PANELS[0]) == (0.0, 1.0)
    low, high = (
        share.collections[0].get_paths()[0].vertices[:, 1].min(),
        share.collections[0].get_paths()[0].vertices[:, 1].max(),
    )
    assert low >= 0 and high <= 1


def test_a_treatment_that_changed_nothing_in_the_runs_is_said_to(tmp_path):
    # competitor_price_match over 20 weeks: its match waits for a rival price cut from week 26, so every run equals
    # the base's; the report said only "does not pay: 0 profit (95% CI 0 to 0)".
    base = resolve_scenario(None, TINY)
    late = resolve_scenario(None, {**TINY, "interventions": [{"kind": "price_change", "price": 0.9,
                                                               "schedule": {"from": 50}}]})  # fmt: skip
    folder = tmp_path / "late"
    compare(Arm("base", base), Arm("late", late), replications=2, out=folder)
    text = html.unescape(re.sub(r"<[^>]+>", " ", build_report(folder).read_text(encoding="utf-8")))
    assert "late changed nothing in these runs" in text and "within 10 weeks" in text and "after the last week?" in text


def test_response_curves_read_in_the_outcomes_units_and_a_flat_lever_is_not_said_to_stop_rising(tmp_path):
    # The curves report's details were raw columns ("spend_uplift", "ci_low", -2158.8687, an adoption share as
    # 0.0), and a lever whose outcome never rose "stops rising significantly from 0".
    table = pd.DataFrame({
        "lever": "referral_reward.sender_reward", "value": [0.0, 10.0, 20.0], "current": [False, True, False],
        "spend_uplift": [0.0, 380.0, 760.0], "outcome": "adoption_share", "uplift": [0.0, 0.012, 0.013],
        "ci_low": [0.0, -0.004, -0.002], "ci_high": [0.0, 0.028, 0.03], "avg_roi": [np.nan, -1.0, -1.0],
        "marginal_roi": [np.nan, -1.0, -1.0], "saturation": 0.0, "n": 2,
    })  # fmt: skip
    from wom_sim.report.html import curves_display

    shown = curves_display(table, "week", "EUR")
    assert list(shown["uplift vs the lowest level"]) == ["+0.0 pts", "+1.2 pts", "+1.3 pts"]
    assert shown["extra spend"].iloc[1] == "380 EUR" and shown["current plan"].iloc[1] == "yes"
    assert shown["average ROI"].iloc[0] == "" and shown["average ROI"].iloc[1] == "-1.00"
    folder = tmp_path / "cur"
    folder.mkdir()
    table.to_parquet(folder / "curves.parquet")
    from wom_sim.report.html import _curves_sections

    _, body = _curves_sections(folder, {"spec": {"arms": [{"scenario": {"tick_unit": "week"}}]}}, "png")
    text = html.unescape(" ".join(body))
    assert "stops rising significantly from 0" not in text
    assert "does not rise significantly at any level above 0; the current plan is at 10" in text


def test_a_curve_still_rising_at_its_largest_level_says_so_and_the_roi_is_shown_once():
    # A curve whose last step still paid (saturation NaN) printed no decision line at all, so a reader could take
    # the largest level tried for the best one; and the ROI (profit per unit of extra spend) was printed again on
    # every other outcome's rows, as if it were their return.
    rows = []
    for name, uplift in (("profit", [0.0, 900.0, 2000.0]), ("mean:churn_rate", [0.0, -0.001, -0.002])):
        rows.append(pd.DataFrame({
            "lever": "kols.select.k", "value": [0.0, 10.0, 20.0], "current": [False, True, False],
            "spend_uplift": [0.0, 300.0, 600.0], "outcome": name, "uplift": uplift, "ci_low": uplift,
            "ci_high": uplift, "avg_roi": [np.nan, 2.0, 2.33], "marginal_roi": [np.nan, 2.0, 2.67],
            "saturation": np.nan, "n": 4,
        }))  # fmt: skip
    table = pd.concat(rows, ignore_index=True)
    from wom_sim.report.html import curves_decisions, curves_display

    lines = curves_decisions(table, "week")
    assert lines[0] == (
        "kols.select.k: Profit (total) is still rising at the largest level tried (20): try larger levels; "
        "the current plan is at 10."
    )
    assert "Churn rate per week (mean) is still falling at the largest level tried (20)" in lines[1]
    flat = table.assign(saturation=10.0)  # both stop improving from 10: a churn rate stops falling, not rising
    assert curves_decisions(flat, "week")[1].startswith("kols.select.k: Churn rate per week (mean) stops falling")
    shown = curves_display(table, "week")
    assert list(shown["average ROI"]) == ["", "+2.00", "+2.33", "", "", ""]
    assert list(shown["marginal ROI"][3:]) == ["", "", ""]
    alone = curves_display(table[table["outcome"] != "profit"], "week")  # no profit rows: on the first outcome's
    assert list(alone["average ROI"]) == ["", "+2.00", "+2.33"]


def test_the_budget_plan_report_names_the_recommended_plan_and_reads_in_money(tmp_path):
    # `wom-sim report` of an optimise folder showed the check table (objective 4636.5763, vs_current_ci_low
    # 30443.2007, "n/a" cells) without saying which plan was recommended; the current plan kept has no
    # "recommended (...)" row of its own.
    from wom_sim.report.html import _optimise_sections

    nan = float("nan")
    pd.DataFrame({"plan": ["no spend", "current plan"], "objective": [4636.5763, -45716.7331], "spend": [0.0, 86810.0],
                  "vs_current": [50353.3093, nan], "vs_no_spend": [nan, -50353.3093]}).to_parquet(
        tmp_path / "check.parquet")  # fmt: skip
    pd.DataFrame({"trial": [nan, 0.0], "plan": ["current plan", "trial 0"], "state": "complete",
                  "kols.select.k": [10.0, 8.0], "objective": [-46754.01, -51207.56]}).to_parquet(
        tmp_path / "trials.parquet")  # fmt: skip
    pd.DataFrame({"plan": ["current plan"], "kols.select.k": [10.0], "objective": [-46754.01],
                  "difference": [0.0]}).to_parquet(tmp_path / "indistinguishable.parquet")  # fmt: skip
    manifest = {"spec": {"spec": {"objective": "profit", "levers": {"kols.select.k": {"low": 0, "high": 40}}}}}
    _, body = _optimise_sections(tmp_path, manifest, "png")
    text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(body)))
    assert "Recommended: current plan (kols.select.k = 10); objective profit." in text
    assert "4636.5763" not in text and "4,637" in text and "nan" not in text and "n/a" not in text
    # a recommendation that is a trial of its own is named by its check row
    check = pd.read_parquet(tmp_path / "check.parquet")
    check.loc[2] = ["recommended (trial 0)", -40e3, 92e3, 5e3, -45e3]
    check.to_parquet(tmp_path / "check.parquet")
    _, body = _optimise_sections(tmp_path, manifest, "png")
    assert "Recommended: trial 0 (kols.select.k = 8)" in html.unescape(" ".join(body))


def test_the_base_arm_says_what_it_runs():
    # compare competitor_price_cut competitor_price_match --ticks 20: the base section said only "The base: every
    # treatment is measured against it.", not that its rival's price cut (from week 26) never happened in the run.
    base = {"description": "Our main competitor cuts its price by 20%.", "ticks": 20, "tick_unit": "week",
            "events": [{"kind": "competitor_price", "schedule": {"from": 26}}]}  # fmt: skip
    text = html.unescape(re.sub(r"<[^>]+>", " ", _arm_lines({"label": "cut", "scenario": base}, None)))
    assert "The base: every treatment is measured against it. In force:" in text
    assert "weeks 26 to the end: after the run's last week (19), never in force" in text


def test_the_group_table_of_a_comparison_leaves_out_what_no_run_moved(comparison):
    # The report's --by table listed every group's head count as "+0 to +0" and a customer-less group's
    # satisfaction as "n/a n/a n/a n/a to n/a", rows the terminal leaves out.
    folder, _ = comparison
    text = build_report(folder).read_text(encoding="utf-8")
    section = text[text.index("<h2>By segment") : text.index("<h2>Details")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)[1:]  # the header row first
    metrics = [re.findall(r"<td>(.*?)</td>", r, flags=re.S)[2] for r in rows]
    assert rows and "people" not in metrics
    assert "n/a" not in section and "by_segment.csv has them all" in section


def test_the_compare_report_shows_the_outcomes_the_compare_was_asked_for(tmp_path):
    # `wom-sim compare ... --outcome profit --outcome at:5:customers`: the terminal and uplift.csv had those, the
    # report re-tabulated the default list and left them out.
    base = resolve_scenario(None, TINY)
    ads = resolve_scenario(None, {**TINY, "interventions": [{"kind": "advertising", "budget_per_tick": 50}]})
    folder = tmp_path / "picked"
    compare(Arm("base", base), Arm("ads", ads), replications=2, out=folder, outcomes=["profit", "at:5:customers"])
    text = html.unescape(build_report(folder).read_text(encoding="utf-8"))
    details = text[text.index("<h2>Details") : text.index("<h3>Arms over time")]
    assert report.outcome_label("at:5:customers", "week") in details and "Profit (total)" in details
    assert "Ever adopted (share of population)" not in details


def test_a_sweep_of_one_replication_says_it_has_no_interval(tmp_path):
    # `wom-sim sweep SPEC -r 1` then `wom-sim report`: every decision read "(95% CI n/a to n/a)", the points table
    # "n/a to n/a" and the method "1 replications".
    from wom_sim.experiment.sweep import run_sweep

    (tmp_path / "small.yaml").write_text("network: {n: 300, m: 3}\nticks: 6\n")
    spec = "scenario: small.yaml\ndesign: grid\nparameters:\n  wom.contact_prob: [0.1, 0.3]\nreplications: 1\n"
    (tmp_path / "sweep.yaml").write_text(spec + "metrics: [profit]\n")
    run_sweep(tmp_path / "sweep.yaml", out=tmp_path / "store")
    text = html.unescape(re.sub(r"<[^>]+>", " ", build_report(tmp_path / "store").read_text(encoding="utf-8")))
    assert "n/a to n/a" not in text and "1 replications" not in text
    assert "(one replication per point: no 95% CI)" in text and "none: needs 2 or more replications" in text


def test_the_report_of_an_interrupted_store_warns_at_the_top(tmp_path, comparison):
    # A compare interrupted with Ctrl-C: the report gave its verdicts as if complete, and said "8 of 9 runs
    # stored (incomplete ...)" only in the method at the bottom.
    import shutil

    folder = tmp_path / "cut"
    shutil.copytree(comparison[0], folder)
    assert "Incomplete:" not in build_report(folder, tmp_path / "whole.html").read_text(encoding="utf-8")
    part = sorted((folder / "runs").glob("*.parquet"))[0]
    part.unlink()
    text = build_report(folder).read_text(encoding="utf-8")
    assert "Incomplete: 7 of 8 runs are stored" in text
    assert text.index("Incomplete:") < text.index("<h2>Decision")


def test_the_replications_table_formats_as_compare_and_the_run_summary_do():
    # run -r printed "Ever adopted 59.90%", "Active customers 465.0", "NPS 4.0" and a rival's profit "10,273"
    # where compare and the run summary print 59.9%, 465, +4.0 and 10.3k (the catalogue's formats).
    summary = pd.DataFrame({"metric": ["adoption_share", "customers", "nps", "rival_rocket_profit", "churn_rate"],
                            "mean": [0.599, 465.0, 4.0, 10_273.0, 0.0063],
                            "ci_low": [0.269, 109.2, -44.1, -39_641.0, 0.0],
                            "ci_high": [0.929, 820.8, 52.1, 60_188.0, 0.0127], "n": 2})  # fmt: skip
    shown = ci_table(summary, "week").set_index("outcome")
    row = lambda name: tuple(shown.loc[report.outcome_label(name, "week"), ["mean", "95% CI"]])  # noqa: E731
    assert row("adoption_share") == ("59.9%", "26.9% to 92.9%")
    assert row("customers") == ("465", "109 to 821")
    assert row("nps") == ("+4.0", "-44.1 to +52.1")
    assert row("rival_rocket_profit") == ("10.3k", "-39.6k to 60.2k")
    assert row("churn_rate") == ("0.63%", "0.00% to 1.27%")
