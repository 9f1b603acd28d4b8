"""Response curves: each lever moved alone over its levels, every level run on the same replication seeds (common
random numbers), and per level the spend, each outcome's paired uplift over the lever's lowest level with its 95%
CI, the average and marginal ROI, and the saturation point (docs/optimise.md, "Response curves").

Saturation point of a lever for an outcome: the lowest level from which no further step up raises the outcome
significantly (every later step's paired 95% CI of the gain, in the outcome's better direction, reaches 0). On
profit, which is net of the spend, it is where spending more stops paying; NaN when the last step still pays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.outcomes import check_horizon, outcome, run_outcomes
from wom_sim.analysis.statistics import paired_difference
from wom_sim.catalogue import metric
from wom_sim.errors import ScenarioError
from wom_sim.experiment.executors import Executor
from wom_sim.experiment.levers import SPEND, Lever, current_value, parse_range, plan_scenario, resolve, takes_integers
from wom_sim.experiment.store import MANIFEST as STORE_MANIFEST
from wom_sim.experiment.store import RUNS, TASKS, code_version
from wom_sim.experiment.studies import Arm, run_study, write_tables
from wom_sim.network.kols import check_kols_fit
from wom_sim.output import read_manifest, write_manifest
from wom_sim.scenario.catalogue import bundled_names, bundled_path
from wom_sim.scenario.loading import apply_overrides, load_raw
from wom_sim.scenario.schema import Scenario

CURVE_OUTCOMES = ["profit", "adoption_share", "nps"]  # the first one also decides the ROI columns' gain
ROI_GAIN = "profit"  # profit is net of the spend: an ROI of 0 is break-even


def scenario_raw(
    source: Scenario | str | Path, overrides: dict[str, Any] | list[str] | None = None
) -> tuple[str, dict]:
    """(label, raw scenario dict with `overrides`) of a scenario, a scenario file or a bundled name."""
    if isinstance(source, Scenario):
        raw = source.model_dump(mode="json", by_alias=True, exclude_unset=True)
        label = source.name
    else:
        path = Path(source)
        if not path.exists() and str(source) in bundled_names():
            path = bundled_path(str(source))
        if not path.exists():
            raise ScenarioError(f"{source}: file not found (and no bundled scenario of that name)")
        raw, label = load_raw(path), path.stem
    return label, apply_overrides(raw, overrides) if overrides else raw


def parse_levers(levers: dict[str, Any] | list[str], where: str = "--lever") -> dict[str, list[float]]:
    """``{"key": [values]}`` or ``["key=low:high:steps", "key=a,b,c"]`` into key -> sorted values."""
    if isinstance(levers, dict):
        out = {}
        for key, values in levers.items():
            out[key] = parse_range(values, f"{where} {key}") if isinstance(values, str) else sorted(set(values))
        return out
    out = {}
    for text in levers:
        key, sep, values = text.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"{where} {text[:60]!r}: write KEY=low:high:steps, e.g. kol_campaign.select.k=0:80:9")
        out[key.strip()] = parse_range(values.strip(), f"{where} {key.strip()}")
    return out


def curves(
    scenario: Scenario | str | Path,
    levers: dict[str, Any] | list[str],
    replications: int = 20,
    seed: int | None = None,
    outcomes: list[str] | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    links: dict[str, dict[str, tuple[float, float]]] | None = None,
    progress: bool = False,
    warn: bool = True,
) -> pd.DataFrame:
    """Response curves of each lever over its levels, paired by seed (see the module docstring).

    Parameters
    ----------
    scenario : Scenario, str or Path
        The current plan: a Scenario, a scenario file or a bundled name.
    levers : dict or list of str
        ``{"referral_reward.sender_reward": [0, 5, 10]}`` or ``["kol_campaign.select.k=0:80:9"]``; keys as in
        `wom_sim.experiment.levers` (a kind the scenario lacks is added with its defaults). The scenario's current
        value is added to the levels when missing, and marked.
    replications, seed : int
        Replications per level (replication i of every level shares its seed); base seed (default: scenario's).
    outcomes : list of str, optional
        Outcome names (``stat:column``; default `CURVE_OUTCOMES`). Profit is always computed for the ROI.
    executor, out, progress, warn
        As for `wom_sim.compare` (out: a resumable store folder; the table is written there as curves.csv).
    overrides : dict or list of str, optional
        Dotted overrides of every run, e.g. ``{"network.n": 2000}`` or ``["network.n=2000"]``.
    links : dict, optional
        Per lever key, effect parameters set from the lever: ``{"advertising.reach_multiplier": (1.0, 0.0003)}``
        (keys as for levers; value = at_zero + per_unit * lever).

    Returns
    -------
    DataFrame
        One row per lever, level and outcome: lever, value, current, spend (mean of the lever's spend over the
        horizon), spend_uplift (paired, vs the lowest level), outcome, mean, uplift, ci_low, ci_high, step_uplift,
        step_ci_low, step_ci_high (vs the level below), avg_roi, marginal_roi, saturation (the lever's saturation
        level for that outcome), n.

    Examples
    --------
    >>> import wom_sim
    >>> table = wom_sim.curves("baseline", {"kols.select.k": [0, 20]}, replications=2,
    ...                        overrides={"network.n": 300, "ticks": 8}, outcomes=["adoption_share"])
    >>> sorted(set(table["value"])), bool(table["current"].any())
    ([0.0, 10.0, 20.0], True)
    """
    names = list(dict.fromkeys([*(outcomes or CURVE_OUTCOMES)]))
    label, arms, plan = curve_arms(scenario, levers, names, overrides, links)
    store, _execution, _notes = run_study("curves", arms, replications, seed, executor, out, progress, warn)
    with store:
        tasks = store.tasks()
        spend_names = [SPEND, *(f"sum:cost_{lv.entry}" for lv, _, _ in plan if lv.entry)]
        wanted = list(dict.fromkeys([*names, ROI_GAIN, *spend_names]))
        keys = list(dict.fromkeys(tasks["run_key"]))  # a run shared by two levels (the current plan) loads once
        per_run = tasks.join(run_outcomes(store.load(keys), wanted), on="run_key")
        wide = {name: per_run.pivot_table(index="replication", columns="arm", values=name) for name in wanted}
        table = pd.concat([_lever_rows(lv, levels, labels, names, wide) for lv, levels, labels in plan])
        table.insert(0, "scenario", label)
        write_tables(store.path, {"curves": table}, ("curves",))
        record_outputs(store.path, "curves", ["curves.csv", "curves.parquet"], _notes)
    return table.reset_index(drop=True)


def curve_arms(
    scenario: Scenario | str | Path,
    levers: dict[str, Any] | list[str],
    names: list[str],
    overrides: dict[str, Any] | list[str] | None = None,
    links: dict[str, dict[str, tuple[float, float]]] | None = None,
) -> tuple[str, list[Arm], list[tuple[Lever, list[float], list[str]]]]:
    """(scenario label, arms: the current plan then every level of every lever, the plan per lever) of a curves
    study, every level built and checked (a bad lever, link or outcome, more KOLs than people, a horizon an
    outcome is past): `wom-sim curves` calls it before an executor starts, so bad input fails before any work.
    Arguments as for `curves` (`names`: the outcomes)."""
    for name in names:
        outcome(name)  # an unknown outcome fails before anything runs
    label, raw = scenario_raw(scenario, overrides)
    grid = parse_levers(levers)
    if not grid:
        raise ScenarioError("curves: give at least one --lever KEY=low:high:steps")
    arms = [Arm("current plan", plan_scenario(raw, [], {}))]
    plan: list[tuple[Lever, list[float], list[str]]] = []
    for key, values in grid.items():
        lever_raw, path, entry = resolve(raw, key, f"--lever {key}")
        current = current_value(raw, path) if lever_raw is raw else None
        integer = takes_integers(lever_raw, path, current, min(values), max(values))
        lever = Lever(key, path, min(values), max(values), integer, current, entry)
        for link, coefficients in (links or {}).get(key, {}).items():  # link keys as the user wrote them
            linked_raw, link_path, _ = resolve(lever_raw, link, f"--lever {key} links")
            if linked_raw is not lever_raw:
                raise ScenarioError(f"--lever {key}: links: {link} names no entry of the plan")
            lever.links[link_path] = tuple(coefficients)
        known = {float(current)} if isinstance(current, int | float) and not isinstance(current, bool) else set()
        levels = sorted({float(lever.value(v)) for v in values} | known)
        labels = []
        for value in levels:
            arm_label = f"{key}={lever.value(value):g}"
            level = plan_scenario(lever_raw, [lever], {key: value}, f"--lever {key}")
            try:  # the graph's size is known now: a level hiring more KOLs than people would fail mid-study
                check_kols_fit(level)
            except ScenarioError as exc:
                raise ScenarioError(f"--lever {arm_label}: {exc}") from None
            arms.append(Arm(arm_label, level))
            labels.append(arm_label)
        plan.append((lever, levels, labels))
    ticks = {arm.scenario.ticks for arm in arms}
    if len(ticks) > 1:
        raise ScenarioError(f"curves: the levels run different horizons {sorted(ticks)}; a lever cannot set ticks")
    for name in names:
        check_horizon(name, arms[0].scenario.ticks)  # before the first run: past the horizon is NaN in every run
    return label, arms, plan


def record_outputs(path: Path | None, kind: str, files: list[str], notes: list[str] | None = None) -> None:
    """List the files written beside a store in its wom-sim.json (so a later --out there replaces only ours)."""
    if path is None:
        return
    listed = [STORE_MANIFEST, TASKS, RUNS, *files]
    old = read_manifest(path) or {}
    keep = [f for f in old.get("files", []) if (path / f).exists()]
    write_manifest(
        path, kind, sorted(set(listed) | set(keep)), store=True, code_version=code_version(), notes=list(notes or [])
    )


def _lever_rows(lever: Lever, levels: list[float], labels: list[str], names: list[str], wide: dict) -> pd.DataFrame:
    spend_name = f"sum:cost_{lever.entry}" if lever.entry else SPEND
    spend = wide[spend_name][labels]
    gain = wide[ROI_GAIN][labels]
    zero = labels[0]
    rows = []
    for name in names:
        values = wide[name][labels]
        better = metric(outcome(name).column).better
        sign = -1.0 if better == "down" else 1.0
        for i, (level, arm) in enumerate(zip(levels, labels, strict=True)):
            vs_zero = paired_difference(values[zero].to_numpy(), values[arm].to_numpy())
            step = paired_difference(values[labels[i - 1]].to_numpy(), values[arm].to_numpy()) if i else None
            d_spend = float((spend[arm] - spend[zero]).mean())
            step_spend = float((spend[arm] - spend[labels[i - 1]]).mean()) if i else np.nan
            d_gain = float((gain[arm] - gain[zero]).mean())
            step_gain = float((gain[arm] - gain[labels[i - 1]]).mean()) if i else np.nan
            rows.append(
                {
                    "lever": lever.key,
                    "value": float(level),
                    "current": lever.current is not None and float(lever.current) == float(level),
                    "spend": float(spend[arm].mean()),
                    "spend_uplift": d_spend,
                    "outcome": name,
                    "mean": float(values[arm].mean()),
                    "uplift": vs_zero["uplift"] if i else 0.0,
                    "ci_low": vs_zero["ci_low"] if i else 0.0,
                    "ci_high": vs_zero["ci_high"] if i else 0.0,
                    "step_uplift": step["uplift"] if step else np.nan,
                    "step_ci_low": step["ci_low"] if step else np.nan,
                    "step_ci_high": step["ci_high"] if step else np.nan,
                    "avg_roi": d_gain / d_spend if abs(d_spend) > 0 else np.nan,
                    "marginal_roi": step_gain / step_spend if i and abs(step_spend) > 0 else np.nan,
                    "n": int(values[arm].notna().sum()),
                    "_sign": sign,
                }
            )
    frame = pd.DataFrame(rows)
    frame["saturation"] = (
        frame.groupby("outcome", sort=False, group_keys=False).apply(_saturation).reindex(frame["outcome"]).to_numpy()
    )
    return frame.drop(columns="_sign")


def _saturation(group: pd.DataFrame) -> float:
    """The lowest level from which no later step has a significant gain in the better direction (NaN: none)."""
    sign = group["_sign"].iloc[0]
    gain_low = np.where(sign > 0, group["step_ci_low"], -group["step_ci_high"])
    significant = np.nan_to_num(gain_low, nan=-np.inf) > 0
    values = group["value"].to_numpy()
    if significant[-1]:
        return float("nan")
    last = np.flatnonzero(significant)
    return float(values[last[-1]] if len(last) else values[0])
