"""What a calibration writes: the fitted scenario, fit quality (Markdown, JSON), trials and a plot."""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.calibrate.search import CalibrationResult
from wom_sim.calibrate.targets import _cast
from wom_sim.catalogue import ARM_COLOURS
from wom_sim.output import atomic_dir, save_figure
from wom_sim.scenario.loading import scenario_to_yaml


def fit_table(result: CalibrationResult) -> pd.DataFrame:
    """Per target: observed, simulated (calibration seeds and fresh seeds), normalised error, weight."""
    rows = []
    for t in result.problem.targets:
        row = {"target": t.name, "weight": t.spec.weight, "error": result.best.errors[t.name]}
        if t.is_series:
            obs = np.asarray(t.observed)
            sim = np.asarray(result.best.simulated[t.name])
            ss = float(((obs - obs.mean()) ** 2).sum())
            row.update(observed=f"series of {obs.size}", simulated=f"NRMSE {row['error']:.3f}",
                       r2=1 - float(np.nansum((sim - obs) ** 2)) / ss if ss > 0 else math.nan)  # fmt: skip
        else:
            row.update(
                observed=f"{t.observed:.4g}", simulated=f"{float(result.best.simulated[t.name]):.4g}", r2=math.nan
            )
        if result.check is not None:
            row["error (fresh seeds)"] = result.check.errors[t.name]
        rows.append(row)
    return pd.DataFrame(rows)


def report_text(result: CalibrationResult) -> str:
    """Markdown summary: parameters found, loss, per-target fit."""
    p = result.problem
    lines = [f"# Calibration of {p.scenario_path.name} to {p.target_path.name}", "",
             f"{len(result.trials)} trials x {p.spec.replications} replications ({p.spec.optimiser}), "
             f"{result.seconds:.0f} s. Loss {result.best.loss:.4g} on the calibration seeds"
             + (f", {result.check.loss:.4g} on fresh seeds." if result.check else "."), "",
             "| parameter | low | high | fitted |", "|---|---|---|---|"]  # fmt: skip
    for key, b in p.spec.parameters.items():
        lines.append(f"| {key} | {b.low:g} | {b.high:g} | {_cast(result.best.values[key], b):.6g} |")
    lines += ["", _markdown(fit_table(result)), ""]
    return "\n".join(lines)


def _markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers to 4 significant digits; "-" where there is none, e.g. the R^2 of
    a single-number target)."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.4g}"
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def fit_figure(result: CalibrationResult) -> Any:
    """Simulated vs observed: one panel per series target (mean +- sd of replications), one for the scalars."""
    from matplotlib.figure import Figure  # no pyplot: the caller's backend stays as it is

    p = result.problem
    series = [t for t in p.targets if t.is_series]
    scalars = [t for t in p.targets if not t.is_series]
    panels = len(series) + (1 if scalars else 0)
    fig = Figure(figsize=(5.5 * panels, 4))
    axes = fig.subplots(1, panels, squeeze=False)
    ev = result.check or result.best
    for ax, t in zip(axes[0], series, strict=False):
        sim, sd = np.asarray(ev.simulated[t.name]), np.asarray(ev.spread[t.name])
        ax.plot(t.ticks, t.observed, "o", ms=3, color="black", label="observed")
        ax.plot(t.ticks, sim, color=ARM_COLOURS[0], label="simulated (mean)")
        ax.fill_between(t.ticks, sim - sd, sim + sd, color=ARM_COLOURS[0], alpha=0.25, lw=0, label="+-1 sd of runs")
        ax.set(title=t.name, xlabel=p.scenario.tick_unit, ylabel=t.spec.metric)
        ax.legend(fontsize=8)
    if scalars:
        ax = axes[0][-1]
        x = np.arange(len(scalars))
        rel_obs = [1.0 for _ in scalars]
        rel_sim = [float(ev.simulated[t.name]) / t.observed if t.observed else math.nan for t in scalars]
        rel_sd = [float(ev.spread[t.name]) / abs(t.observed) if t.observed else 0.0 for t in scalars]
        ax.bar(x - 0.2, rel_obs, 0.4, color="black", label="observed")
        ax.bar(x + 0.2, rel_sim, 0.4, yerr=rel_sd, color=ARM_COLOURS[0], label="simulated")
        ax.set_xticks(x, [t.name for t in scalars], rotation=20, ha="right", fontsize=8)
        ax.set(title="scalar targets (relative to observed)", ylabel="simulated / observed")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_outputs(result: CalibrationResult, out_dir: str | Path) -> Path:
    """Write the fitted scenario, fit.md, fit.json, trials.csv and fit.png into `out_dir`, all or nothing."""
    out_dir = Path(out_dir)
    p = result.problem
    with atomic_dir(out_dir, "calibrate") as tmp:
        # The command that made it, with the --set overrides whose values the fitted scenario carries (a
        # `network.n` set for a quick fit is in scenario.yaml too) and the trials and runs actually used.
        command = shlex.join(["wom-sim", "calibrate", str(p.scenario_path), "--target", str(p.target_path),
                              *(arg for o in p.overrides for arg in ("--set", o)), "--trials", str(p.spec.trials),
                              "-r", str(p.spec.replications), "--optimiser", p.spec.optimiser])  # fmt: skip
        header = f"# Fitted by `{command}`: loss {result.best.loss:.4g} ({len(result.trials)} trials). See fit.md.\n"
        (tmp / "scenario.yaml").write_text(header + scenario_to_yaml(result.fitted), encoding="utf-8")
        (tmp / "fit.md").write_text(report_text(result), encoding="utf-8")
        record = {
            "parameters": {k: _cast(v, p.spec.parameters[k]) for k, v in result.best.values.items()},
            "loss": result.best.loss,
            "loss_fresh_seeds": result.check.loss if result.check else None,
            "errors": result.best.errors,
            "trials": len(result.trials),
            "replications": p.spec.replications,
            "optimiser": p.spec.optimiser,
            "seconds": result.seconds,
        }
        (tmp / "fit.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        result.trials.to_csv(tmp / "trials.csv", index=False)
        save_figure(fit_figure(result), tmp / "fit.png")
    return out_dir
