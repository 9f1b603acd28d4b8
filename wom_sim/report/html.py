"""One self-contained HTML report (figures embedded as base64 PNG or inline SVG, no external files) for a run
folder, a replications or comparison folder, or a sweep store: `wom-sim report DIR`.

Every report reads from the top down as a decision: first the answer (a comparison's verdicts, ranking and profit
uplift over time with the payback week; a run's programmes and spend; a sweep's best point and what drives the
outcome), then what was compared (each arm's question and the scenario keys it changes against the base), then
the details (every outcome with its CI, the figures), and the method (common random numbers, CI widths, seeds,
completeness) last."""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wom_sim.analysis.outcomes import format_outcome, outcome
from wom_sim.analysis.segments import BY, GROUP_METRICS, breakdown_display
from wom_sim.analysis.statistics import t_half_width
from wom_sim.analysis.verdicts import payback_note
from wom_sim.catalogue import CATALOGUE, CHANGE_UNITS_NOTE, NO_TOUCH_NOTE, format_money, summary_rows, ticks_text
from wom_sim.catalogue import format_value as catalogue_format_value
from wom_sim.catalogue import metric as catalogue_metric
from wom_sim.errors import ScenarioError
from wom_sim.experiment.comparison import load_comparison
from wom_sim.experiment.curves import ROI_GAIN
from wom_sim.experiment.store import ResultStore
from wom_sim.experiment.studies import summarise_replications
from wom_sim.experiment.sweep import summarise_sweep
from wom_sim.output import atomic_file, read_manifest
from wom_sim.report import figures as report
from wom_sim.report.changes import changes
from wom_sim.report.optimise import curve_figure
from wom_sim.report.optimise import table_html as optimise_table

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}table{border-collapse:collapse;font-size:.88em;margin:.6em 0}th,td{border:1px solid #ddd;
padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.note{color:#555;font-size:.92em}
.sig{font-weight:600}code{background:#f5f5f5;padding:0 .25em}
.verdict{font-size:1.12em;margin:.4em 0;padding:.5em .8em;border-left:6px solid #999;background:#fafafa}
.pays{border-color:#009E73}.loses{border-color:#D55E00}.unsure{border-color:#999999}
ul.changes{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em}
"""
# How figures are embedded: "png" (base64, any viewer) or "svg" (inline vector, sharp when zoomed or printed).
EMBED = ("png", "svg")


def _img(fig, alt: str, embed: str = "png") -> str:
    if fig is None:
        return ""
    if embed == "svg":
        text = report.figure_svg(fig)
        return f'<figure role="img" aria-label="{html.escape(alt)}">{text[text.index("<svg") :]}</figure>'
    data = base64.b64encode(report.figure_png(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="n/a")


def _p(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _runs_stored(folder: Path) -> tuple[int, int]:
    """(runs stored, runs the store's tasks call for)."""
    store = ResultStore(folder)
    keys = set(store.tasks()["run_key"])
    return len(keys & store.done_keys()), len(keys)


def _incomplete_warning(folder: Path) -> str:
    """A line for the top of a store's report when runs are missing (an interrupted command): the decision below
    rests on fewer replications than asked for, which the method at the bottom said only in passing."""
    try:
        done, total = _runs_stored(folder)
    except (ScenarioError, OSError, KeyError):
        return ""
    if done >= total:
        return ""
    return _p(
        f"Incomplete: {done} of {total} runs are stored (the command was interrupted); everything below rests on "
        "the runs that finished. Run the same command again to finish them, then make this report again.",
        "verdict loses",
    )


def _completeness(folder: Path, manifest: dict) -> str:
    done, total = _runs_stored(folder)
    note = "" if done == total else " (incomplete: run the same command again to finish)"
    return (
        f"{done} of {total} runs stored{note}; spec hash {manifest.get('spec_hash')}, wom-sim "
        f"{manifest.get('wom_sim_version')}, updated {manifest.get('updated')}."
    )


# ------------------------------------------------------------------------------------------------ what was in force
def programmes_in_force(scenario: dict, metrics: pd.DataFrame | None = None, currency: str | None = None) -> list[str]:
    """One line per intervention and event of a resolved scenario: when it was on and, with a run's metrics, what it
    cost (its cost_<name> column); the baseline's KOLs, when there is no campaign, are said to be unpaid."""
    unit = scenario.get("tick_unit", "tick")
    lines = []
    for section in ("interventions", "events"):
        for entry in scenario.get(section) or []:
            name = entry.get("name") or entry.get("kind")
            schedule, when = entry.get("schedule") or {}, entry.get("when")
            at = schedule.get("at", entry.get("at"))
            if when is not None:
                span = f"when {when['metric']} {when['op']} {when['value']:g}"
            elif at is not None:
                span = f"at {unit} {', '.join(str(a) for a in (at if isinstance(at, list) else [at]))}"
            elif schedule.get("from") is not None or schedule.get("until") is not None:
                until = schedule.get("until")
                start = schedule.get("from") or 0
                span = f"{unit}s {start} to {until if until is not None else 'the end'}"
                if scenario.get("ticks") is not None and start >= scenario["ticks"]:
                    # e.g. a bundled week-26 rival move run for 20 weeks: listed, but it never happened
                    span += f": after the run's last {unit} ({scenario['ticks'] - 1}), never in force"
                elif scenario.get("ticks") is not None and until is not None and until >= scenario["ticks"]:
                    # a year-long programme run for 20 weeks ("weeks 0 to 51"): its spend is of the weeks run
                    span += f" (the run ended at {unit} {scenario['ticks'] - 1})"
            elif section == "events" and entry.get("probability_per_year") is not None:
                span = f"at random, {entry['probability_per_year']:g} a year"
            else:
                span = "every " + unit
            spend = ""
            column = f"cost_{name}"
            if metrics is not None and column in metrics.columns:
                spend = f"; spend {format_money(float(metrics[column].sum()), currency)}"
            what = "event" if section == "events" else "programme"
            lines.append(f"{name} ({what}, {entry.get('kind')}): {span}{spend}")
    reach = (scenario.get("advertising") or {}).get("reach")
    if reach:
        lines.insert(0, f"always-on advertising: reaches {reach:.0%} of unaware people per {unit} (advertising.reach)")
    kols = (scenario.get("kols") or {}).get("select") or {}
    paid = any(e.get("kind") == "kol_campaign" for e in scenario.get("interventions") or [])
    if not paid and (kols.get("k") or kols.get("ids")):
        count = kols.get("k") or len(kols.get("ids") or [])
        lines.append(f"{count} natural influencers (kols.select): unpaid, no KOL campaign; the KOL channel counts "
                     "customers their own posts reached first")  # fmt: skip
    for rival in scenario.get("competitors") or []:
        # a market with rivals is not "the market as it is" with our programmes alone: say who we compete with
        lines.append(
            f"rival {rival.get('name')} (competitors): quality {rival.get('quality', 0.8):g}, price index "
            f"{rival.get('price', 1.0):g} (1 = the category's reference price), its ads reach "
            f"{rival.get('advertising', 0.1):.0%} of non-users per {unit}, {rival.get('initial_customers', 0.01):.0%} "
            "of the population its customers at the start"
        )
    return lines or ["no programme or event: the market as it is"]


def _spend_line(metrics: pd.DataFrame, currency: str | None) -> str:
    spend, profit = float(metrics["intervention_cost"].sum()), float(metrics["cum_profit"].iloc[-1])
    revenue = float(metrics["cum_revenue"].iloc[-1])
    return (f"Spend on programmes {format_money(spend, currency)}, revenue {format_money(revenue, currency)}"
            f", profit {format_money(profit, currency)} (net of the spend and the cost of goods).")  # fmt: skip


def _list(lines: list[str], cls: str = "") -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f'<ul class="{cls}">{items}</ul>' if cls else f"<ul>{items}</ul>"


def _run_breakdowns(folder: Path, currency: str | None) -> list[str]:
    """The by_<column> tables a `wom-sim run --by` wrote (by_segment.parquet or .csv), as the run printed them: a
    run made with --by had its breakdown on the terminal and in the folder, but not in its report."""
    parts = []
    for by in BY:
        table = _read(folder, f"by_{by}")
        if table is None and (folder / f"by_{by}.csv").exists():
            table = pd.read_csv(folder / f"by_{by}.csv")
        if table is None or by not in table.columns:
            continue
        parts += [
            f"<h2>By {html.escape(by)}</h2>",
            _table(breakdown_display(table, by, currency)),
            _p(
                f"Outcomes at the end of the run among the people of each {by} group (satisfaction and NPS over its "
                "active customers; n/a: no customers). One run, no error bar: `wom-sim compare BASE TREATMENT --by "
                f"{by}` gives each group's change with its 95% CI."
            ),
        ]
    return parts


# ------------------------------------------------------------------------------------------------ kinds
def _run_sections(folder: Path, embed: str) -> tuple[str, list[str]]:
    metrics = _read(folder, "metrics")
    if metrics is None:
        metrics = pd.read_csv(folder / "metrics.csv")
    scenario = yaml.safe_load((folder / "scenario.yaml").read_text()) if (folder / "scenario.yaml").exists() else {}
    name, unit = scenario.get("name", folder.name), scenario.get("tick_unit", "tick")
    currency = scenario.get("currency")
    rows = [{"outcome": label, "value": value} for label, value in summary_rows(metrics, unit=unit, currency=currency)]
    question = (scenario.get("description") or "").strip().splitlines()
    body = [
        f'<p class="verdict unsure">{html.escape(question[0] if question else name)}</p>',
        _p(_spend_line(metrics, currency), "sig"),
        "<h2>What was in force</h2>",
        _list(programmes_in_force(scenario, metrics, currency)),
        "<h2>Summary</h2>",
        _table(pd.DataFrame(rows)),
        _p(NO_TOUCH_NOTE + "."),
        *_run_breakdowns(folder, currency),
        "<h2>Dashboard</h2>",
        _img(report.dashboard_figure(metrics, name, unit, scenario=scenario, currency=currency), "dashboard", embed),
        "<h2>Method</h2>",
        _p(
            f"One run of {name}: seed {scenario.get('seed', '?')}, {ticks_text(len(metrics), unit)}. One run has no "
            "error bar: use `wom-sim run SCENARIO --replications 30` for confidence intervals, and `wom-sim compare` "
            "to measure what a programme changes."
        ),
    ]
    return f"Run: {name}", body


def ci_table(summary: pd.DataFrame, unit: str = "tick", currency: str | None = None) -> pd.DataFrame:
    """Outcome, mean, 95% CI and n as a user reads them (shared by the CLI and the report); `unit`: of a tick.
    Money with k/M and the scenario's `currency`, as in every other table."""
    rows = []
    for r in summary.itertuples():
        mean, ci = _with_ci(r.metric, r.mean, r.ci_low, r.ci_high, currency)
        if r.n < 2:  # one run has no spread, so no interval: say why rather than "n/a to n/a"
            ci = NO_CI
        rows.append({"outcome": report.outcome_label(r.metric, unit), "mean": mean, "95% CI": ci, "n": int(r.n)})
    return pd.DataFrame(rows)


def _replications_sections(folder: Path, manifest: dict, embed: str) -> tuple[str, list[str]]:
    tables = summarise_replications(folder, write=False)
    spec = manifest["spec"]
    arm = spec["arms"][0]["scenario"]
    unit, currency = arm.get("tick_unit", "tick"), arm.get("currency")
    question = (arm.get("description") or "").strip().splitlines()
    body = [
        f'<p class="verdict unsure">{html.escape(question[0] if question else str(arm.get("name")))}</p>',
        "<h2>What was in force</h2>",
        _list(programmes_in_force(arm, None, currency)),
        "<h2>Outcomes: mean and 95% confidence interval</h2>",
        _table(ci_table(tables["summary"], unit, currency)),
        "<h2>Over time</h2>",
        _img(
            report.ci_dashboard_figure(tables["timeseries"], arm.get("name", ""), unit, scenario=arm),
            "time series with CI bands",
            embed,
        ),
        _p(
            "One replication has no error bar: run the same command with --replications 30 for 95% confidence "
            "intervals."
        )
        if spec["replications"] < 2
        else "",
        "<h2>Method</h2>",
        _p(
            f"{spec['replications']} replication{'' if spec['replications'] == 1 else 's'} of {arm.get('name')} "
            f"({report.people_in(tables['timeseries']):,} people, {ticks_text(arm['ticks'], unit)}); "
            f"replication seeds derived from seed {spec['seed']} "
            "with numpy SeedSequence spawn keys. " + _completeness(folder, manifest)
        ),
    ]
    return f"Replications: {arm.get('name')}", body


# ------------------------------------------------------------------------------------------------ decisions
def _arm_lines(arm: dict, base: dict | None) -> str:
    """What an arm is: its question (the description's first line) and the keys it changes against the base. An
    arm that keeps the base's description (overrides of the base) has no question of its own: its keys say it."""
    scenario = arm["scenario"]
    own = base is None or scenario.get("description") != base.get("description")
    question = (scenario.get("description") or "").strip().splitlines() if own else []
    head = f"<h3>{html.escape(arm['label'])}</h3>" + (_p(question[0], "sig") if question else "")
    if base is None:
        # what the base runs (a rival's price cut from week 26 of a 20-week run never happened): every treatment's
        # changes below are read against it
        return (
            head
            + _p("The base: every treatment is measured against it. In force:")
            + _list(programmes_in_force(scenario, None, scenario.get("currency")))
        )
    found = [c.text() for c in changes(scenario, base)]
    if not found:
        return head + _p("Changes nothing against the base (same resolved scenario).")
    shown = found[:40]
    more = f" and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
    return (
        head
        + _p(f"Changes against the base ({len(found)} key{'' if len(found) == 1 else 's'}{more}):")
        + _list(shown, "changes")
    )


def uplift_display(uplift: pd.DataFrame, unit: str = "tick", currency: str | None = None) -> pd.DataFrame:
    """The uplift table as the report shows it: business columns first (outcome, base, treatment, change with its
    paired 95% CI; shares and rates in percentage points, NPS in points, money with the currency), then the
    statistics (unpaired CI, paired/unpaired width ratio). The ROI row is left to the verdicts."""
    rows = []
    runs = uplift.groupby("treatment")["n"].max()  # a treatment's replications: every plain outcome has them all
    for _, r in uplift[uplift["outcome"] != "roi"].iterrows():
        name = r["outcome"]
        relative = r["base_mean"] != r["base_mean"]  # payback, crisis damage: a value against the base

        def show(v, name=name, delta=True, relative=relative):
            return format_outcome(name, v, currency, unit, delta=delta and not relative)

        significant = (r["ci_low"] > 0 or r["ci_high"] < 0) and name != "payback"
        change = show(r["uplift"]) + (" *" if significant else "")
        if name.startswith("payback") and r["n"] < runs[r["treatment"]]:
            # The mean payback is over the runs that paid back: without their count, 2 runs at week 13 and 11 and
            # one never read "week 12", beside a verdict's payback (of the mean curve) in week 11.
            paid = int(r["n"])
            change = f"{change if paid else 'none'} ({paid} of {int(runs[r['treatment']])} runs paid back)"
        rows.append(
            {
                "treatment": r["treatment"],
                "outcome": report.outcome_label(name, unit),
                "base": "" if relative else show(r["base_mean"], delta=False),
                "treatment mean": "" if relative else show(r["treatment_mean"], delta=False),
                "change": change,
                "paired 95% CI": f"{show(r['ci_low'])} to {show(r['ci_high'])}",
                "unpaired 95% CI": "" if relative else f"{show(r['unpaired_ci_low'])} to {show(r['unpaired_ci_high'])}",
                "paired/unpaired width": f"{r['width_ratio']:.2f}" if r["width_ratio"] == r["width_ratio"] else "",
            }
        )
    return pd.DataFrame(rows)


def _group_value(name: str, value: float, currency: str | None, unit: str, delta: bool) -> str:
    """A breakdown metric's value as its catalogue metric reads (`GROUP_METRICS`); people as a head count."""
    column = GROUP_METRICS.get(name)
    if column is not None:
        return format_outcome(column, value, currency, unit, delta=delta)
    return "n/a" if value != value else (f"{value:+,.0f}" if delta else f"{value:,.0f}")


def group_display(
    by_group: pd.DataFrame, currency: str | None = None, unit: str = "tick", moved_only: bool = False
) -> pd.DataFrame:
    """`Comparison.by_group` as the CLI and the report show it, in its order (biggest relative change first):
    treatment, group, metric (the catalogue's short label), base, treatment mean, change (* where the paired 95% CI
    excludes 0) and the paired 95% CI. `moved_only`: leave out metrics no replication moved or none measured (a
    group absent from every base run has no satisfaction to compare)."""
    rows = []
    for r in by_group.to_dict("records"):
        if moved_only and (r["uplift"] != r["uplift"] or (r["uplift"] == 0 and r["ci_low"] == r["ci_high"])):
            continue
        column = GROUP_METRICS.get(r["metric"])
        label = CATALOGUE[column].short_label if column in CATALOGUE else r["metric"]

        def show(v, name=r["metric"], delta=True):
            return _group_value(name, v, currency, unit, delta)

        significant = r["ci_low"] > 0 or r["ci_high"] < 0
        rows.append(
            {
                "treatment": r["treatment"],
                "group": r["group"],
                "metric": label,
                "base": show(r["base_mean"], delta=False),
                "treatment mean": show(r["treatment_mean"], delta=False),
                "change": show(r["uplift"]) + (" *" if significant else ""),
                "paired 95% CI": f"{show(r['ci_low'])} to {show(r['ci_high'])}",
            }
        )
    return pd.DataFrame(rows, columns=["treatment", "group", "metric", "base", "treatment mean", "change",
                                       "paired 95% CI"])  # fmt: skip


def _group_sections(result) -> list[str]:
    """The section of a comparison made with `--by`: each treatment against the base per group, biggest first."""
    if not result.by or result.by_group.empty:
        return []
    # As the terminal prints it: rows no replication moved (a segment's head count, "+0 to +0") or none measured
    # (satisfaction "n/a" of a group without customers) are left out; by_<column>.csv has them all.
    shown = group_display(result.by_group, result.currency, result.tick_unit, moved_only=True)
    return [
        f"<h2>By {html.escape(result.by)}: each treatment against the base, per group</h2>",
        _table(shown) if len(shown) else _p(f"No outcome of any {result.by} group moved in any replication.", "sig"),
        _p(
            f"Outcomes at the horizon among the people of each {result.by} group (people, active customers, share "
            "who ever adopted, churned, purchases and revenue over the run, customers' mean satisfaction and NPS), "
            "paired by seed like the overall outcomes; * the paired 95% CI excludes 0. Sorted by the relative "
            "change, biggest first (a group's rows together). Metrics no replication moved (e.g. the people of a "
            f"segment) or none measured (no customers in the group) are left out; by_{result.by}.csv has them all "
            f"and every run's table is in by_{result.by}_runs.csv."
        ),
    ]


def pairing_gain(uplift: pd.DataFrame) -> list[str]:
    """One sentence per treatment: how much narrower the paired CIs are than unpaired ones on the same runs."""
    lines = []
    for treatment, part in uplift[uplift["outcome"] != "roi"].groupby("treatment", sort=False):
        ratios = part["width_ratio"].replace([np.inf, -np.inf], np.nan).dropna()
        # 0: an outcome whose paired difference never moved (the treatment did not touch it, e.g. a rival's move
        # after the horizon); it says nothing about pairing, and a median of 0 would divide by zero below
        ratios = ratios[ratios > 0]
        if ratios.empty:
            lines.append(f"{treatment}: paired and unpaired CIs cannot be compared (no variation).")
            continue
        median = float(ratios.median())
        lines.append(
            f"{treatment}: paired 95% CIs are {median:.2f}x the width of unpaired CIs on the same runs (median over "
            f"outcomes, range {ratios.min():.2f}-{ratios.max():.2f}); as tight as about {1 / median**2:.1f}x as many "
            "unpaired replications."
        )
    return lines


def unchanged_treatments(uplift: pd.DataFrame) -> list[str]:
    """The treatments whose every outcome equals the base's in every replication (paired difference 0, CI 0 to 0):
    nothing they change took effect within the horizon, e.g. a price match triggered by a rival's cut in week 26
    of a 20-week run. Their "does not pay: 0 profit (95% CI 0 to 0)" says nothing about the programme."""
    plain = uplift[(uplift["outcome"] != "roi") & uplift["base_mean"].notna()]
    still = (plain["uplift"] == 0) & (plain["ci_low"] == 0) & (plain["ci_high"] == 0)
    return [t for t, part in still.groupby(plain["treatment"], sort=False) if len(part) and part.all()]


def written_outcomes(folder: Path) -> list[str] | None:
    """The outcomes the last `compare` into `folder` tabulated (its uplift table, --outcome or the defaults), so the
    report shows what the terminal and uplift.csv showed; None (the defaults) without that table. The ROI row is
    added by the comparison itself."""
    stored = _read(folder, "uplift")
    if stored is None or "outcome" not in stored:
        return None
    names = [name for name in dict.fromkeys(stored["outcome"]) if name != "roi"]
    return names or None


def _compare_sections(folder: Path, manifest: dict, embed: str) -> tuple[str, list[str]]:
    result = load_comparison(folder, written_outcomes(folder))
    tables = result.tables
    spec = manifest["spec"]
    labels = [a["label"] for a in spec["arms"]]
    base = spec["arms"][0]["scenario"]
    unit, currency = result.tick_unit, result.currency
    decided, pairs = result.verdicts(), result.pairwise()
    tone = {"pays": "pays", "does not pay": "loses", "not sure": "unsure"}

    def money(value: float) -> str:
        return format_money(value, currency, signed=True)

    def tick(value: float) -> str:
        return "" if value != value else str(int(value))

    ranking = pd.DataFrame(
        {
            "rank": decided["rank"],
            "treatment": decided["treatment"],
            "verdict": decided["verdict"],
            "profit vs base": [money(v) for v in decided["incremental_profit"]],
            "95% CI": [f"{money(lo)} to {money(hi)}" for lo, hi in zip(decided["profit_ci_low"],
                                                                      decided["profit_ci_high"], strict=True)],
            "programme spend": [format_money(v, currency) if v > 0 else "-" for v in decided["programme_cost"]],
            "ROI": [f"{v:+.1f}" if v == v else "-" for v in decided["roi"]],
            f"payback ({unit})": [tick(v) for v in decided["payback_tick"]],
        }
    )  # fmt: skip
    paybacks = dict(zip(decided["treatment"], decided["payback_tick"], strict=True))
    scenarios = {a["label"]: a["scenario"] for a in spec["arms"]}
    pairwise = [
        "<h3>Head to head (incremental profit of one treatment minus the other)</h3>",
        _table(
            pd.DataFrame(
                {
                    "pair": [f"{p.treatment} - {p.other}" for p in pairs.itertuples()],
                    "difference": [money(v) for v in pairs["difference"]],
                    "95% CI": [f"{money(lo)} to {money(hi)}" for lo, hi in zip(pairs["ci_low"], pairs["ci_high"],
                                                                              strict=True)],
                    "p (Holm)": [f"{v:.3g}" if v == v else "n/a" for v in pairs["p_holm"]],
                    "verdict": ["ahead" if b else "not distinguishable" for b in pairs["beats"]],
                }
            )
        ),
        _p(f"p (Holm): {pairs['adjustment'].iloc[0]}; paired t-tests on the same replications."),
    ] if len(pairs) else []  # fmt: skip
    body = [
        "<h2>Decision</h2>",
        *(
            f'<p class="verdict {tone.get(r.verdict, "unsure")}">{html.escape(r.sentence)}</p>'
            for r in decided.itertuples()
        ),  # fmt: skip
        _p(
            f"Verdict on the incremental profit against {labels[0]} over {ticks_text(result.horizon, unit)}: pays when "
            "its paired 95% CI is above 0, does not pay when it is at most 0, not sure when the CI spans 0 (more "
            "replications narrow it). Profit is net of all spend and the cost of goods; ROI is the incremental "
            "profit per unit of the treatment's own programme spend (costs that follow volume are apart)."
        ),
        *(
            _p(
                f"{label} changed nothing in these runs: every outcome equals the base's in every replication, so "
                f"what it changes never took effect within {ticks_text(result.horizon, unit)} (a trigger or a "
                f"schedule after the last {unit}?). Its verdict says nothing about the programme itself; run longer "
                "(--ticks) to measure it.",
                "sig",
            )
            for label in unchanged_treatments(tables["uplift"])
        ),
        "<h3>Ranking by incremental profit</h3>",
        _table(ranking),
        *pairwise,
        _img(
            report.profit_uplift_figure(tables["uplift_timeseries"], unit, currency, paybacks, scenarios),
            "profit uplift over time",
            embed,
        ),  # fmt: skip
        "<h2>What each arm is</h2>",
        *(_arm_lines(arm, None if i == 0 else base) for i, arm in enumerate(spec["arms"])),
        *_group_sections(result),
        "<h2>Details: every outcome (treatment - base)</h2>",
        _table(uplift_display(tables["uplift"], unit, currency)),
        _p(
            f"* the paired 95% CI excludes 0. {CHANGE_UNITS_NOTE}. The unpaired CI "
            "is what the same runs would give without common random numbers."
            + (f" {payback_note(unit)}" if tables["uplift"]["outcome"].str.startswith("payback").any() else "")
        ),
        _img(report.uplift_figure(tables["uplift"], None, unit, currency), "uplift", embed),
        "<h3>Arms over time</h3>",
        _img(report.ci_dashboard_figure(tables["timeseries"], "", unit, currency=currency), "arms", embed),
        "<h2>Method</h2>",
        _p(
            f"Base {labels[0]} vs {', '.join(labels[1:])}: {spec['replications']} replications each; replication i "
            "of every arm uses the same seed (same graph, population and random streams: common random numbers), "
            "so a per-replication difference is the treatment's effect plus little noise. "
            + _completeness(folder, manifest)
        ),
        *(_p(line) for line in pairing_gain(tables["uplift"])),
    ]
    return f"Comparison: {labels[0]} vs {', '.join(labels[1:])}", body


def replications_needed(points: pd.DataFrame, metric: str, replications: int, share: float = 0.1) -> int | None:
    """Replications per point that pin a point's mean to +-`share` of the spread between point means (95% CI
    half-width, the median over points); None when the points do not differ.

    The half-width is t(0.975, n-1) sd / sqrt(n): the replication sd is recovered from the current half-width and
    the smallest n whose t-interval is narrow enough is returned. Scaling the half-width as 1/sqrt(n) alone would
    keep the current t-quantile (12.7 on 2 replications) and ask for many times the runs needed."""
    means = points[f"{metric}_mean"]
    spread = float(means.max() - means.min())
    half = float(((points[f"{metric}_ci_high"] - points[f"{metric}_ci_low"]) / 2).median())
    if not spread > 0 or half != half or replications < 2:
        return None
    target = share * spread * (1 + 1e-9)  # 1e-9: float noise, not a run
    sd = half / float(t_half_width(1.0, replications))  # t_half_width is linear in sd
    z_runs = (1.96 * sd / target) ** 2  # the normal answer; the t answer exceeds it by a few runs at most
    n = np.arange(2, math.ceil(z_runs) + 100)
    return int(n[np.argmax(t_half_width(sd, n) <= target)])


def _value(metric: str, value: float, currency: str | None = None, scale: float | None = None) -> str:
    """A value of an outcome for a sentence: money with k/M and the currency, others as `format_value` (`scale`:
    the largest number printed beside it, so a mean and its CI bounds get the same decimals)."""
    try:
        parsed = outcome(metric)
    except ScenarioError:  # a name of no outcome: the generic number format
        return report.format_value(metric, value, scale)
    if parsed.stat in ("incremental", "damage"):
        # A difference against the base (a share's in points, "-5.2 pts") and a relative drop ("-2.9%"), as compare
        # and the sweep summary print them (`format_outcome`), not a share's "-5.25%" and a damage's "-0.029".
        return format_outcome(metric, value, currency, delta=parsed.stat == "incremental")
    if parsed.relative:  # payback, roi: no column format to read
        return report.format_value(metric, value, scale)
    if catalogue_metric(parsed.column).scale == "money":  # a rival's profit too (rival_<name>_profit)
        return format_money(value, currency)
    # The catalogue's format, as compare and the run summary print it (59.9%, +4.0, 465; not 59.90%, 4.0, 465.0)
    return catalogue_format_value(metric, value)


NO_CI = "none: needs 2 or more replications"


def _with_ci(metric: str, mean: float, low: float, high: float, currency: str | None) -> tuple[str, str]:
    """(mean, "low to high") printed alike: the largest of the three sets the decimals."""
    floor, ceiling = report.value_range(metric)
    low, high = (min(max(v, floor), ceiling) if v == v else v for v in (low, high))  # "-3% to 169%": cut to 0-100%
    scale = max((abs(v) for v in (mean, low, high) if v == v), default=None)
    text = [_value(metric, v, currency, scale) for v in (mean, low, high)]
    if low != low and high != high:  # one replication (per point): no interval, and "n/a to n/a" says not why
        return text[0], NO_CI
    return text[0], f"{text[1]} to {text[2]}"


def _difference(metric: str, value: float, currency: str | None = None) -> str:
    """A difference of an outcome (a swing), unsigned: shares and rates in percentage points, NPS in points, money
    with the currency, as `format_outcome` writes every difference (compare, sweep, curves)."""
    try:
        return format_outcome(metric, value, currency, delta=True).removeprefix("+")
    except ScenarioError:  # a name of no outcome: the generic number format
        return _value(metric, value, currency)


def sweep_points_display(points: pd.DataFrame, params: list[str], metrics: list[str], unit: str,
                         currency: str | None) -> pd.DataFrame:  # fmt: skip
    """Sweep points as the report shows them: the parameters, then per outcome (its label) the mean and the 95% CI,
    formatted as the decision lines are (shares in %, money with k/M and the currency), not raw column names."""
    out = points[["point", *params]].copy()
    for m in metrics:
        label = report.outcome_label(m, unit)
        rows = zip(points[f"{m}_mean"], points[f"{m}_ci_low"], points[f"{m}_ci_high"], strict=True)
        shown = [_with_ci(m, mean, lo, hi, currency) for mean, lo, hi in rows]
        out[label] = [mean for mean, _ in shown]
        out[f"{label}: 95% CI"] = [ci for _, ci in shown]
    return out


def sweep_sensitivity_display(sens: pd.DataFrame, unit: str, currency: str | None) -> pd.DataFrame:
    """The sensitivity table with outcome labels and units: the lowest and highest partial-dependence mean in the
    outcome's format, the swing as a difference (shares in points); Sobol indices (no unit) rounded."""
    out = pd.DataFrame({"parameter": sens["parameter"],
                        "outcome": [report.outcome_label(m, unit) for m in sens["metric"]]})  # fmt: skip
    for column, name, fmt in (("pd_min", "lowest mean", _value), ("pd_max", "highest mean", _value),
                              ("swing", "swing", _difference)):  # fmt: skip
        out[name] = [fmt(m, v, currency) for m, v in zip(sens["metric"], sens[column], strict=True)]
    for column in ("S1", "S1_conf", "ST", "ST_conf"):
        if column in sens.columns:
            out[column] = sens[column].round(3).to_numpy()
    return out


def _noise_share(share: float) -> str:
    """A replication-noise share as a percentage; below 1% says so (0.5% is not "0%", which reads as no noise)."""
    if share != share:
        return "n/a (one replication per point)"
    return "under 1%" if 0 < share < 0.01 else f"{share:.0%}"


def sweep_noise_display(noise: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The replication-noise table as the report shows it: the outcome's label, the within-point share of its
    variance, and the sums of squares with three significant digits (rounding them to 4 decimals printed a churn
    rate's 8.4e-06 as 0 beside a share of 82%)."""
    return pd.DataFrame(
        {
            "outcome": [report.outcome_label(m, unit) for m in noise["metric"]],
            "within-point (random) share of the variance": [_noise_share(v) for v in noise["noise_share"]],
            "sum of squares: total": [f"{v:.3g}" for v in noise["ss_total"]],
            "sum of squares: within points": [f"{v:.3g}" for v in noise["ss_within"]],
        }
    )


def _drivers(sens: pd.DataFrame, metric: str, count: int = 3, currency: str | None = None) -> tuple[str, str]:
    part = sens[sens["metric"] == metric]
    by = "ST" if "ST" in part.columns and part["ST"].notna().any() else "swing"
    top = part.sort_values(by, ascending=False).head(count)
    if by == "ST":
        text = ", ".join(f"{r.parameter} (total Sobol index {r.ST:.2f} +- {r.ST_conf:.2f})" for r in top.itertuples())
    else:
        text = ", ".join(f"{r.parameter} (swing {_difference(metric, r.swing, currency)})" for r in top.itertuples())
    return by, text


def _sweep_sections(folder: Path, manifest: dict, embed: str) -> tuple[str, list[str]]:
    tables = summarise_sweep(folder, write=False)
    spec, params, metrics = manifest["spec"], manifest["spec"]["parameters"], manifest["spec"]["metrics"]
    sweep = spec["spec"]
    points, noise = tables["points"], tables["noise"]
    ranges = "; ".join(f"{k}: {v}" for k, v in sweep["parameters"].items())
    first = metrics[0]
    top = points.sort_values(f"{first}_mean", ascending=False).head(10)
    sens = tables["sensitivity"]
    base = spec.get("base") or {}
    unit, currency = base.get("tick_unit", "tick"), base.get("currency")
    decisions = []
    drawn = [m for m in metrics if points[f"{m}_mean"].notna().any()]  # an all-NaN roi (no spend): nothing to say
    for metric in drawn:
        entry = CATALOGUE.get(metric.split(":")[-1])
        lowest = metric.startswith("payback") or (entry is not None and entry.better == "down")  # less is better
        means = points[f"{metric}_mean"]
        best = points.loc[means.idxmin() if lowest else means.idxmax()]
        extreme = "Lowest" if lowest else "Highest"
        where = ", ".join(f"{p} = {best[p]:.4g}" if isinstance(best[p], float) else f"{p} = {best[p]}" for p in params)

        _, drivers = _drivers(tables["sensitivity"], metric, currency=currency)
        needed = replications_needed(points, metric, int(sweep["replications"]))
        noise_share = noise.set_index("metric")["noise_share"].get(metric, float("nan"))
        mean, ci = _with_ci(metric, best[f"{metric}_mean"], best[f"{metric}_ci_low"], best[f"{metric}_ci_high"],
                            currency)  # fmt: skip
        interval = f"95% CI {ci}" if ci != NO_CI else "one replication per point: no 95% CI"
        lines = [
            f"{extreme} {report.outcome_label(metric, unit)}: {mean} ({interval}) at {where}.",
            f"What drives it: {drivers}.",
        ]
        if needed is not None:
            lines.append(
                f"Replication noise is {_noise_share(noise_share)} of its variance across runs; {needed} replications "
                "per point "
                f"(now {sweep['replications']}) pin each point's mean to +-10% of the spread between points."
            )
        decisions.append((metric, lines))
    body = [
        "<h2>Decision</h2>",
        *(
            f'<p class="verdict {"pays" if i == 0 else "unsure"}">{html.escape(lines[0])}</p>' + _list(lines[1:])
            for i, (metric, lines) in enumerate(decisions)
        ),  # fmt: skip
        "<h2>What drives the outcome</h2>",
        _img(report.sensitivity_figure(tables["sensitivity"], unit, currency), "sensitivity", embed),
        _table(sweep_sensitivity_display(sens, unit, currency)),
        _p(
            "swing: max - min of the partial-dependence mean. S1/ST: first-order and total Sobol indices on the "
            "per-point means with 95% bootstrap half-widths (SALib)."
        )
        if spec["design"] == "sobol"
        else _p("swing: max - min of the partial-dependence mean (the tornado)."),
        "<h2>Heatmaps</h2>",
        _img(report.heatmap_figure(points, params, drawn, unit, currency) if drawn else None, "heatmaps", embed),
        "<h2>Partial dependence</h2>",
        _img(report.partial_dependence_figure(tables["effects"], unit, currency), "partial dependence", embed),
        f"<h2>Top points by {html.escape(report.outcome_label(first, unit))}</h2>",
        _table(sweep_points_display(top, params, metrics, unit, currency)),
        "<h2>Replication noise</h2>",
        _table(sweep_noise_display(noise, unit)),
        _p(
            "Within-point share: the share of the outcome's variance across all runs that is variation between the "
            "replications of a point (random), not between points; sums of squares in the outcome's unit squared."
        ),
        "<h2>Method</h2>",
        _p(
            f"Spec {spec['spec_file']}: design {spec['design']}, {len(points)} points x {sweep['replications']} "
            f"replication{'' if sweep['replications'] == 1 else 's'} (replication i of every point shares its seed: "
            f"common random numbers across the design); parameters {ranges}. " + _completeness(folder, manifest)
        ),
    ]
    return f"Sweep: {sweep.get('name') or Path(spec['spec_file']).stem}", body


def _share_ci(value: float, low: float, high: float) -> str:
    return "n/a" if value != value else f"{value:.0%} ({low:.0%} to {high:.0%})"


def _attribution_sections(folder: Path, manifest: dict, embed: str) -> tuple[str, list[str]]:
    table = _read(folder, "attribution")
    if table is None:
        raise ScenarioError(f"{folder}: attribution.parquet is missing; run the same attribution command again")
    spec = manifest.get("spec", {})
    credited = table[["last_touch_share", "ci_low", "ci_high"]].itertuples(index=False)
    lost = table[["lost_share", "lost_ci_low", "lost_ci_high"]].itertuples(index=False)
    shown = pd.DataFrame(
        {
            "channel": table["label"],
            "switched off by": table["switched_off"],
            "credited (last touch), 95% CI": [_share_ci(*r) for r in credited],
            "lost when off, 95% CI": [_share_ci(*r) for r in lost],
            "verdict": table["verdict"],
        }
    )
    body = [
        "<h2>Decision: what each channel truly causes</h2>",
        *(f'<p class="verdict">{html.escape(str(line))}</p>' for line in table["sentence"]),
        _table(shown),
        "<h2>Method</h2>",
        _p(
            "Each channel is switched off in its own arm (the key shown), run on the same seeds as the base (common "
            "random numbers). Credited: the share of the base's new customers whose last touch was the channel. "
            "Lost: the share of the base's new customers that disappears with the channel off. Last touch over-"
            "credits a channel when some of the customers it touched last would have bought anyway; it under-"
            f"credits one that also feeds the others. {int(table['n'].max())} paired replications."
        ),
    ]
    arms = spec.get("arms") or [{}]
    return f"Channel incrementality: {arms[0].get('label', folder.name)}", body


def curves_display(table: pd.DataFrame, unit: str = "tick", currency: str | None = None) -> pd.DataFrame:
    """The response-curve table as a reader reads it: each outcome's label, its uplift and 95% CI against the
    lever's lowest level in the outcome's unit (shares in points, money with the currency), the extra spend in
    money and the ROIs rounded; not raw column names and "-2158.8687" (the saturation is in the decision lines)."""

    def change(name: str, v: float) -> str:
        return format_outcome(name, v, currency, unit, delta=True)

    def ratio(v: float) -> str:
        return f"{v:+.2f}" if v == v else ""

    rows = table.to_dict("records")
    # The ROIs are profit per unit of extra spend, the same numbers on every outcome's rows of a level: shown once,
    # on the profit rows (or the first outcome's when profit is not among them), not beside NPS as if its return.
    names = list(dict.fromkeys(table["outcome"]))
    roi_rows = ROI_GAIN if ROI_GAIN in names else (names[0] if names else None)

    def roi(r: dict, column: str) -> str:
        return ratio(r.get(column, math.nan)) if r["outcome"] == roi_rows else ""

    return pd.DataFrame(
        {
            "lever": [r["lever"] for r in rows],
            "level": [f"{r['value']:g}" for r in rows],
            "current plan": ["yes" if r["current"] else "" for r in rows],
            "extra spend": [format_money(r["spend_uplift"], currency) for r in rows],
            "outcome": [report.outcome_label(r["outcome"], unit) for r in rows],
            "uplift vs the lowest level": [change(r["outcome"], r["uplift"]) for r in rows],
            "95% CI": [f"{change(r['outcome'], r['ci_low'])} to {change(r['outcome'], r['ci_high'])}" for r in rows],
            "average ROI": [roi(r, "avg_roi") for r in rows],
            "marginal ROI": [roi(r, "marginal_roi") for r in rows],
            "n": [int(r["n"]) for r in rows],
        }
    )


def curves_decisions(table: pd.DataFrame, unit: str = "tick") -> list[str]:
    """Where each lever's outcome stops rising significantly (its saturation level), one line per lever and outcome,
    with the current plan's level; an outcome still rising significantly at the largest level tried says so (its
    saturation is beyond the levels tried: the curve says nothing about where spending more stops paying)."""
    lines = []
    for (lever, name), part in table.groupby(["lever", "outcome"], sort=False):
        saturation = part["saturation"].iloc[0]
        current = part.loc[part["current"], "value"]
        now = f"; the current plan is at {current.iloc[0]:g}" if len(current) else ""
        lowest, highest = part["value"].min(), part["value"].max()
        label = report.outcome_label(name, unit)
        # The saturation is judged in the outcome's better direction: a churn rate that improves falls.
        down = catalogue_metric(outcome(name).column).better == "down"
        moving, move = ("falling", "fall") if down else ("rising", "rise")
        if saturation != saturation and len(part) > 1:
            lines.append(
                f"{lever}: {label} is still {moving} at the largest level tried ({highest:g}): try larger levels{now}."
            )
        elif saturation <= lowest:
            # saturated at the lowest level: the outcome never rose, it did not "stop rising from 0"
            lines.append(f"{lever}: {label} does not {move} significantly at any level above {saturation:g}{now}.")
        elif saturation == saturation:
            lines.append(f"{lever}: {label} stops {moving} significantly from {saturation:g}{now}.")
    return lines


def _curves_sections(folder: Path, manifest: dict, embed: str) -> tuple[str, list[str]]:
    table = _read(folder, "curves")
    if table is None:
        raise ScenarioError(f"{folder}: curves.parquet is missing; run the same curves command again")
    arm = ((manifest.get("spec") or {}).get("arms") or [{}])[0].get("scenario") or {}
    unit, currency = arm.get("tick_unit", "tick"), arm.get("currency")
    body = ["<h2>Decision: where each lever stops paying</h2>", _list(curves_decisions(table, unit))]
    for lever in dict.fromkeys(table["lever"]):
        body.append(_img(curve_figure(table, lever), f"response curves of {lever}", embed))
    body += [
        "<h2>Details</h2>",
        _table(curves_display(table, unit, currency)),
        "<h2>Method</h2>",
        _p(
            "Every level runs on the same seeds (common random numbers); uplifts and their 95% bands are paired "
            "differences against the lever's lowest level. Saturation: the lowest level from which no further step "
            "raises the outcome significantly. Average ROI: profit uplift per unit of extra spend; marginal ROI: the "
            "same for the last step."
        ),
    ]
    return "Response curves", body


def _optimise_sections(folder: Path, manifest: dict, embed: str) -> tuple[str, list[str]]:
    check, trials, close = (_read(folder, name) for name in ("check", "trials", "indistinguishable"))
    if check is None or trials is None:
        raise ScenarioError(f"{folder}: the optimiser's tables are missing; run the same optimise command again")
    spec = (manifest.get("spec") or {}).get("spec") or {}
    objective, levers = spec.get("objective", "profit"), list(spec.get("levers") or {})
    # Which plan is recommended: the check names a plan of its own "recommended (trial 7)"; the current plan kept
    # has no row of its own there, and is the plan 0 away from the best among the indistinguishable ones.
    named = [p for p in check["plan"] if str(p).startswith("recommended (")] if len(check) else []
    if named:
        label = named[0][len("recommended (") : -1]
    elif close is not None and len(close) and "difference" in close:
        label = str(close.loc[close["difference"].abs().idxmin(), "plan"])
    else:
        label = None
    row = trials[trials["plan"] == label] if label is not None else trials.iloc[0:0]
    values = ", ".join(f"{k} = {row[k].iloc[0]:,.4g}" for k in levers if k in row and len(row) and row[k].notna().all())
    sentences = []
    if (folder / "check").is_dir():
        try:  # the check is a comparison store: its verdict sentences, as `wom-sim optimise` prints them
            sentences = load_comparison(folder / "check").summary().splitlines()  # "Against no spend (n ...):"
        except (ScenarioError, OSError, KeyError):
            sentences = []
    lead = (f"Recommended: {label}" + (f" ({values})" if values else "") + f"; objective {objective}."
            if label is not None else "")  # fmt: skip
    if len(check):
        body = ["<h2>Decision: the recommended plan, checked on fresh seeds</h2>", _p(lead, "verdict") if lead else "",
                *(_p(line, "verdict") for line in sentences),
                _p("Fresh-seed check, paired 95% CIs (vs_current: against the current plan; vs_no_spend: against "
                   "spending nothing):"), optimise_table(check, objective)]  # fmt: skip
    else:
        skipped = _p("The fresh-seed check did not run (optimise was called with check=False).")
        body = ["<h2>Decision: the recommended plan</h2>", _p(lead, "verdict") if lead else "", skipped]
    if close is not None and len(close) > 1:
        body += [_p(f"{len(close)} plans are indistinguishable within the noise:"), optimise_table(close, objective)]
    plan = folder / "plan.yaml"
    if plan.exists():
        body += ["<h3>The plan as a scenario file (plan.yaml)</h3>",
                 f"<pre>{html.escape(plan.read_text(encoding='utf-8'))}</pre>"]  # fmt: skip
    body += ["<h2>Details: every trial</h2>", optimise_table(trials, objective)]
    return "Budget plan", body


def build_report(folder: str | Path, out: str | Path | None = None, embed: str = "png") -> Path:
    """Write `report.html` (or `out`) for a run, replications, comparison or sweep folder; returns its path.
    `embed`: "png" (base64 images) or "svg" (inline vector figures)."""
    if embed not in EMBED:
        raise ScenarioError(f"figure format {embed!r} cannot be embedded in a page (allowed: {', '.join(EMBED)})")
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: no such folder")
    manifest = ResultStore(folder).manifest()
    if manifest is not None:
        kind = manifest.get("kind")
        builder = {
            "replications": _replications_sections,
            "compare": _compare_sections,
            "sweep": _sweep_sections,
            "attribution": _attribution_sections,
            "curves": _curves_sections,
            "optimise": _optimise_sections,
        }.get(kind)
        if builder is None:
            raise ScenarioError(f"{folder}/manifest.json: unknown kind {kind!r}")
        title, body = builder(folder, manifest, embed)
        body = [_incomplete_warning(folder), *body]
    elif (folder / "metrics.parquet").exists() or (folder / "metrics.csv").exists():
        title, body = _run_sections(folder, embed)
    else:
        # Name every kind it reads (attribution, curves and optimise were left out), and what to read instead for
        # the outputs that have their own summary.
        own = (read_manifest(folder) or {}).get("kind")
        instead = {
            "calibrate": "; a calibration's report is its fit.md",
            "validate": "; a validation's is its validation.html",
        }
        raise ScenarioError(
            f"{folder}: not an output report reads (run, run --replications, compare, attribution, sweep, curves, "
            f"optimise): no manifest.json or metrics table{instead.get(own, '')}"
        )
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<p class="note">wom-sim report of {html.escape(str(folder))}, made {stamp}.</p>'
        + "\n".join(part for part in body if part)
        + "</body></html>\n"
    )
    path = Path(out) if out else folder / "report.html"
    with atomic_file(path, "w") as handle:
        handle.write(page)
    return path
