"""One self-contained HTML report (figures embedded as base64 PNG, no external files) for a run folder, a
replications or comparison folder, or a sweep store: `wom-sim report DIR`."""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from wom_sim.catalogue import summary_rows
from wom_sim.errors import ScenarioError
from wom_sim.experiment.comparison import load_comparison
from wom_sim.experiment.store import ResultStore
from wom_sim.experiment.studies import summarise_replications
from wom_sim.experiment.sweep import summarise_sweep
from wom_sim.output import atomic_file
from wom_sim.report import figures as report

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}table{border-collapse:collapse;font-size:.88em;margin:.6em 0}th,td{border:1px solid #ddd;
padding:.25em .6em;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.note{color:#555;font-size:.92em}
.sig{font-weight:600}code{background:#f5f5f5;padding:0 .25em}
"""


def _img(fig, alt: str) -> str:
    if fig is None:
        return ""
    data = base64.b64encode(report.figure_png(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="n/a")


def _p(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _completeness(folder: Path, manifest: dict) -> str:
    store = ResultStore(folder)
    keys = set(store.tasks()["run_key"])
    done = len(keys & store.done_keys())
    note = "" if done == len(keys) else " (incomplete: run the same command again to finish)"
    return (
        f"{done} of {len(keys)} runs stored{note}; spec hash {manifest.get('spec_hash')}, wom-sim "
        f"{manifest.get('wom_sim_version')}, updated {manifest.get('updated')}."
    )


# ------------------------------------------------------------------------------------------------ kinds
def _run_sections(folder: Path) -> tuple[str, list[str]]:
    metrics = _read(folder, "metrics")
    if metrics is None:
        metrics = pd.read_csv(folder / "metrics.csv")
    scenario = yaml.safe_load((folder / "scenario.yaml").read_text()) if (folder / "scenario.yaml").exists() else {}
    name, unit = scenario.get("name", folder.name), scenario.get("tick_unit", "tick")
    rows = [{"outcome": label, "value": value} for label, value in summary_rows(metrics, unit=unit)]
    body = [
        _p(
            f"One run of {name}: seed {scenario.get('seed', '?')}, {len(metrics)} {unit}s. One run has no error "
            "bar: use `wom-sim run SCENARIO --replications 30` for confidence intervals."
        ),
        "<h2>Summary</h2>",
        _table(pd.DataFrame(rows)),
        "<h2>Dashboard</h2>",
        _img(report.dashboard_figure(metrics, name, unit), "dashboard"),
    ]
    return f"Run: {name}", body


def _scale(values) -> float:
    """The largest magnitude among values (NaN when there is none): sets the decimals of a row."""
    values = np.abs(np.asarray(values, dtype=float))
    return float(values[~np.isnan(values)].max()) if (~np.isnan(values)).any() else float("nan")


def ci_table(summary: pd.DataFrame, unit: str = "tick") -> pd.DataFrame:
    """Outcome, mean, 95% CI and n as a user reads them (shared by the CLI and the report); `unit`: of a tick."""
    rows = []
    for r in summary.itertuples():
        scale = _scale([r.mean, r.ci_low, r.ci_high])

        def fmt(v, m=r.metric, s=scale):
            return report.format_value(m, v, s)

        rows.append(
            {
                "outcome": report.outcome_label(r.metric, unit),
                "mean": fmt(r.mean),
                "95% CI": f"{fmt(r.ci_low)} to {fmt(r.ci_high)}",
                "n": int(r.n),
            }
        )
    return pd.DataFrame(rows)


def _replications_sections(folder: Path, manifest: dict) -> tuple[str, list[str]]:
    tables = summarise_replications(folder, write=False)
    spec = manifest["spec"]
    arm = spec["arms"][0]["scenario"]
    body = [
        _p(
            f"{spec['replications']} replications of {arm.get('name')} ({arm['network']['n']:,} people, "
            f"{arm['ticks']} {arm.get('tick_unit', 'tick')}s); replication seeds derived from seed {spec['seed']} "
            "with numpy SeedSequence spawn keys. " + _completeness(folder, manifest)
        ),
        "<h2>Outcomes: mean and 95% confidence interval</h2>",
        _table(ci_table(tables["summary"], arm.get("tick_unit", "tick"))),
        "<h2>Over time</h2>",
        _img(
            report.ci_dashboard_figure(tables["timeseries"], arm.get("name", ""), arm.get("tick_unit", "tick")),
            "time series with CI bands",
        ),
    ]
    return f"Replications: {arm.get('name')}", body


def uplift_display(uplift: pd.DataFrame, unit: str = "tick") -> pd.DataFrame:
    """The uplift table as a user reads it (shared by the CLI and the report); `unit`: of a tick."""
    rows = []
    for _, r in uplift.iterrows():
        name = r["outcome"]
        scale = _scale(r[["base_mean", "treatment_mean", "uplift", "ci_low", "ci_high"]].to_numpy(float))

        def fmt(v, n=name, s=scale):
            if n == "roi":
                return f"{v:.2f}" if v == v else "n/a"
            return report.format_value(n, v, s)

        significant = r["ci_low"] > 0 or r["ci_high"] < 0
        rows.append(
            {
                "treatment": r["treatment"],
                "outcome": report.outcome_label(name, unit) if name != "roi" else "ROI on extra spend",
                "base": fmt(r["base_mean"]) if name != "roi" else "",
                "treatment mean": fmt(r["treatment_mean"]) if name != "roi" else "",
                "uplift": fmt(r["uplift"]) + (" *" if significant else ""),
                "uplift %": f"{r['uplift_pct']:+.1f}%" if r["uplift_pct"] == r["uplift_pct"] else "",
                "paired 95% CI": f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}",
                "unpaired 95% CI": f"{fmt(r['unpaired_ci_low'])} to {fmt(r['unpaired_ci_high'])}",
                "paired/unpaired width": f"{r['width_ratio']:.2f}" if r["width_ratio"] == r["width_ratio"] else "",
            }
        )
    return pd.DataFrame(rows)


def pairing_gain(uplift: pd.DataFrame) -> list[str]:
    """One sentence per treatment: how much narrower the paired CIs are than unpaired ones on the same runs."""
    lines = []
    for treatment, part in uplift[uplift["outcome"] != "roi"].groupby("treatment", sort=False):
        ratios = part["width_ratio"].replace([np.inf, -np.inf], np.nan).dropna()
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


def _compare_sections(folder: Path, manifest: dict) -> tuple[str, list[str]]:
    tables = load_comparison(folder).tables
    spec = manifest["spec"]
    labels = [a["label"] for a in spec["arms"]]
    unit = spec["arms"][0]["scenario"].get("tick_unit", "tick")
    body = [
        _p(
            f"Base {labels[0]} vs {', '.join(labels[1:])}: {spec['replications']} replications each; replication i "
            "of every arm uses the same seed (same graph, population and random streams). "
            + _completeness(folder, manifest)
        ),
        *(_p(line, "sig") for line in pairing_gain(tables["uplift"])),
        "<h2>Uplift vs base (treatment - base)</h2>",
        _table(uplift_display(tables["uplift"], unit)),
        _p(
            "* the paired 95% CI excludes 0. ROI = profit uplift / extra intervention spend (profit is already net "
            "of the spend; 0 = break-even), a ratio of mean uplifts; its CIs are BCa bootstrap intervals."
        ),
        _img(report.uplift_figure(tables["uplift"], tables["uplift_timeseries"], unit), "uplift"),
        "<h2>Arms over time</h2>",
        _img(report.ci_dashboard_figure(tables["timeseries"], "", unit), "arms"),
    ]
    return f"Comparison: {labels[0]} vs {', '.join(labels[1:])}", body


def _sweep_sections(folder: Path, manifest: dict) -> tuple[str, list[str]]:
    tables = summarise_sweep(folder, write=False)
    spec, params, metrics = manifest["spec"], manifest["spec"]["parameters"], manifest["spec"]["metrics"]
    sweep = spec["spec"]
    points, noise = tables["points"], tables["noise"]
    ranges = "; ".join(f"{k}: {v}" for k, v in sweep["parameters"].items())
    top = points.sort_values(f"{metrics[0]}_mean", ascending=False).head(10)
    top_cols = params + [f"{m}_{s}" for m in metrics for s in ("mean", "ci_low", "ci_high")]
    sens = tables["sensitivity"].round(4)
    body = [
        _p(
            f"Spec {spec['spec_file']}: design {spec['design']}, {len(points)} points x {sweep['replications']} "
            f"replications (replication i of every point shares its seed); parameters {ranges}. "
            + _completeness(folder, manifest)
        ),
        "<h2>Sensitivity</h2>",
        _img(report.sensitivity_figure(tables["sensitivity"]), "sensitivity"),
        _table(sens),
        _p(
            "swing: max - min of the partial-dependence mean. S1/ST: first-order and total Sobol indices on the "
            "per-point means with 95% bootstrap half-widths (SALib)."
        )
        if spec["design"] == "sobol"
        else "",
        "<h2>Replication noise</h2>",
        _table(noise.round(4)),
        _p("noise_share: share of the outcome variance across runs that is within-point (random) variation."),
        "<h2>Heatmaps</h2>",
        _img(report.heatmap_figure(points, params, metrics), "heatmaps"),
        "<h2>Partial dependence</h2>",
        _img(report.partial_dependence_figure(tables["effects"]), "partial dependence"),
        f"<h2>Top points by {html.escape(metrics[0])}</h2>",
        _table(top[["point", *top_cols]].round(4)),
    ]
    return f"Sweep: {sweep.get('name') or Path(spec['spec_file']).stem}", body


def build_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write `report.html` (or `out`) for a run, replications, comparison or sweep folder; returns its path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: no such folder")
    manifest = ResultStore(folder).manifest()
    if manifest is not None:
        kind = manifest.get("kind")
        builder = {"replications": _replications_sections, "compare": _compare_sections, "sweep": _sweep_sections}.get(
            kind
        )
        if builder is None:
            raise ScenarioError(f"{folder}/manifest.json: unknown kind {kind!r}")
        title, body = builder(folder, manifest)
    elif (folder / "metrics.parquet").exists() or (folder / "metrics.csv").exists():
        title, body = _run_sections(folder)
    else:
        raise ScenarioError(f"{folder}: not a run, comparison or sweep folder (no manifest.json or metrics table)")
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
