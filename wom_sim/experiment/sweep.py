"""Parameter sweeps (grid, Latin hypercube, Sobol) into a resumable store, and their summary: per-point means
with CIs, partial dependence, swings (tornado) and, for Sobol designs, first-order and total Sobol indices."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.outcomes import paired_outcomes, run_outcomes, split_outcomes
from wom_sim.analysis.statistics import t_half_width
from wom_sim.errors import ScenarioError
from wom_sim.experiment.executors import Execution, Executor, InProcessExecutor, execute
from wom_sim.experiment.runner import canonical_hash, make_task, scenario_payload
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.experiment.store import MemoryStore, ResultStore
from wom_sim.experiment.studies import Store, StudyResult, open_store, write_tables
from wom_sim.experiment.sweep_spec import Parameter, Sweep, load_sweep, sobol_problem

PD_BINS = 8  # partial-dependence bins for sampled (lhs, sobol) designs
BASELINE_POINT = -1  # the point index of the baseline runs (spec `baseline:`), left out of every summary table


def sweep_tasks(sweep: Sweep) -> tuple[list[dict], pd.DataFrame]:
    """Replication-major tasks (a partial sweep covers the whole design); replication i of every point shares a
    seed, so differences between points are not blurred by different random numbers (CRN)."""
    tasks, rows = [], []
    payloads = [scenario_payload(sc) for sc in sweep.scenarios]
    for rep, seed in enumerate(replication_seeds(sweep.seed, sweep.spec.replications)):
        for index, (point, payload) in enumerate(zip(sweep.points, payloads, strict=True)):
            task = make_task(sweep.scenarios[index], seed, payload)
            tasks.append(task)
            rows.append({"point": index, "replication": rep, "seed": seed, "run_key": task["key"], **point})
        if sweep.baseline is not None:  # point BASELINE_POINT: the base of the relative metrics, same seed
            task = make_task(sweep.baseline, seed)
            tasks.append(task)
            rows.append({"point": BASELINE_POINT, "replication": rep, "seed": seed, "run_key": task["key"]})
    return tasks, pd.DataFrame(rows)


def spec_record(sweep: Sweep) -> dict[str, Any]:
    """What the manifest keeps of a sweep (the spec, the base scenario, the parameter order)."""
    return {
        "spec_file": str(sweep.path),
        "spec": sweep.spec.model_dump(mode="json"),
        "base": scenario_payload(sweep.base),
        "parameters": [p.key for p in sweep.parameters],
        "design": sweep.spec.design,
        "metrics": sweep.spec.metrics,
        "seed": sweep.seed,
        "programmes": sweep.programmes,
    }


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path | None = None,
    executor: Executor | None = None,
    progress: bool = False,
    warn: bool = True,
) -> StudyResult:
    r"""Run every run of a parameter sweep that the store does not hold yet, and summarise the sweep.

    Parameters
    ----------
    sweep : Sweep, str or Path
        A sweep spec file (YAML; docs/experiments.md, "Sweeps and sensitivity") or a loaded `Sweep`.
    out : str or Path, optional
        A store folder (resumable; the tables are written next to it). None keeps everything in memory.
    executor : Executor, optional
        Where runs execute (default: this process); see `wom_sim.experiment.make_executor`.
    progress, warn : bool
        Show a progress bar; warn (StoreWarning) when the store holds runs of another spec.

    Returns
    -------
    StudyResult
        ``tables``: outcomes (per run), points (mean and CI per point), effects (partial dependence),
        sensitivity (swings; Sobol indices for a sobol design) and noise.

    Examples
    --------
    >>> import wom_sim, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "small.yaml").write_text("network: {n: 300, m: 3}\nticks: 8\n")
    >>> _ = (folder / "sweep.yaml").write_text(
    ...     "scenario: small.yaml\ndesign: grid\nparameters:\n  wom.contact_prob: [0.1, 0.3]\n"
    ...     "replications: 2\nmetrics: [adoption_share]\n")
    >>> points = wom_sim.sweep(folder / "sweep.yaml").tables["points"]
    >>> list(points["wom.contact_prob"]), list(points["n"]), "adoption_share_ci_low" in points
    ([0.1, 0.3], [2, 2], True)
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    tasks, table = sweep_tasks(sweep)
    record = spec_record(sweep)
    store = open_store(out)
    notes = store.open(
        "sweep", record, canonical_hash({k: v for k, v in record.items() if k != "spec_file"}), table, warn=warn
    )
    with store:  # the writer lock, taken by open, is held until the summary tables are written
        execution: Execution = execute(tasks, store, executor or InProcessExecutor(), progress=progress, desc="sweep")
        return StudyResult(store.path, execution, summarise_sweep(store), notes, sweep.base.tick_unit)


def summarise_sweep(store: Store | str | Path, write: bool = True) -> dict[str, pd.DataFrame]:
    """outcomes (per run), points (mean and CI per point), effects (partial dependence), sensitivity (swing,
    Sobol S1/ST with CIs) and noise (share of outcome variance that is replication noise)."""
    store = store if isinstance(store, ResultStore | MemoryStore) else ResultStore(store)
    record = (store.manifest() or {}).get("spec")
    if not isinstance(record, dict) or not {"parameters", "metrics", "design"} <= set(record):
        raise ScenarioError(f"{store.path}/manifest.json: not a complete sweep manifest; run the sweep again")
    params, metrics = record["parameters"], record["metrics"]
    tasks = store.tasks()
    runs = store.load(tasks["run_key"])
    per_run, relative = split_outcomes(metrics)
    outcomes = tasks.join(run_outcomes(runs, per_run), on="run_key", how="inner")
    if relative:  # every run against the baseline run of its seed
        base_keys = tasks[tasks["point"] == BASELINE_POINT].set_index("replication")["run_key"]
        pairs = outcomes.assign(base_key=outcomes["replication"].map(base_keys), group="sweep")
        spend = {"sweep": record.get("programmes", [])}
        outcomes = outcomes.join(paired_outcomes(runs, pairs, relative, spend))[[*outcomes.columns, *relative]]
    if (tasks["point"] == BASELINE_POINT).any():
        outcomes = outcomes[outcomes["point"] != BASELINE_POINT].reset_index(drop=True)
        tasks = tasks[tasks["point"] != BASELINE_POINT]
        for param in params:  # the baseline's empty parameter cells made integer columns float: undo that
            column = outcomes[param]
            if pd.api.types.is_float_dtype(column) and column.notna().all() and (column % 1 == 0).all():
                outcomes[param] = column.astype("int64")
    points = _points(outcomes, params, metrics)
    effects = _partial_dependence(outcomes, params, metrics, record["design"])
    sensitivity = _swings(effects)
    if record["design"] == "sobol":
        sensitivity = sensitivity.merge(_sobol(points, tasks, record), on=["parameter", "metric"], how="left")
    tables = {
        "outcomes": outcomes,
        "points": points,
        "effects": effects,
        "sensitivity": sensitivity,
        "noise": _noise(outcomes, metrics),
    }
    if write:
        write_tables(store.path, tables, ("points", "sensitivity"))
    return tables


def _points(outcomes: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    groups = outcomes.groupby("point", sort=True)
    frame = groups[params].first()
    frame["n"] = groups.size()
    for metric in metrics:
        mean, sd = groups[metric].mean(), groups[metric].std(ddof=1)
        # Over the replications that have a value (a payback never reached is NaN), as mean and sd are: the
        # point's run count would make the interval too narrow.
        half = t_half_width(sd, groups[metric].count())
        frame[f"{metric}_mean"], frame[f"{metric}_ci_low"], frame[f"{metric}_ci_high"] = mean, mean - half, mean + half
    return frame.reset_index()


def _partial_dependence(outcomes: pd.DataFrame, params: list[str], metrics: list[str], design: str) -> pd.DataFrame:
    """Mean outcome per value of one parameter, averaged over the others and the replications (grid: per value;
    sampled designs: per quantile bin, at the bin's mean value). The band is a t-interval over those runs.

    A numeric parameter's value is in `value`; a list of items that are not numbers (network.generator) has its item
    in `category` (and no `value`), so that each column has one type, as Parquet needs."""
    rows = []
    for param in params:
        column = outcomes[param]
        numeric = pd.api.types.is_numeric_dtype(column)
        if design == "grid" or not numeric or column.nunique() <= PD_BINS:
            keys = column.astype(str) if not numeric else column
        else:
            keys = pd.qcut(column, PD_BINS, labels=False, duplicates="drop")
        for metric in metrics:
            grouped = outcomes.assign(_key=keys).groupby("_key", sort=True)
            agg = grouped.agg(
                **({"value": (param, "mean")} if numeric else {"category": (param, "first")}),
                mean=(metric, "mean"),
                sd=(metric, "std"),
                n=(metric, "count"),  # runs with a value, as mean and sd (NaN: a payback never reached)
            )
            half = t_half_width(agg["sd"], agg["n"])
            rows.append(
                agg.assign(
                    parameter=param, metric=metric, ci_low=agg["mean"] - half, ci_high=agg["mean"] + half
                ).reset_index(drop=True)
            )
    cols = ["parameter", "metric", "value", "category", "mean", "ci_low", "ci_high", "sd", "n"]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(rows, ignore_index=True).reindex(columns=cols).astype({"value": float, "category": object})


def _swings(effects: pd.DataFrame) -> pd.DataFrame:
    """Tornado: how far the partial-dependence mean moves across each parameter's range."""
    grouped = effects.groupby(["parameter", "metric"], sort=False)["mean"]
    out = grouped.agg(pd_min="min", pd_max="max").reset_index()
    out["swing"] = out["pd_max"] - out["pd_min"]
    return out


def _noise(outcomes: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Share of the spread of each outcome over all runs that is within-point (replication) noise: the sum of
    squares within points over the total sum of squares (0 = the parameters explain everything)."""
    rows = []
    replicated = outcomes.groupby("point").size().max() > 1
    for metric in metrics:
        values = outcomes[metric]
        total = float(((values - values.mean()) ** 2).sum())
        within = float(((values - outcomes.groupby("point")[metric].transform("mean")) ** 2).sum())
        rows.append(
            {
                "metric": metric,
                "ss_total": total,
                "ss_within": within,
                "noise_share": within / total if total > 0 and replicated else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _sobol(points: pd.DataFrame, tasks: pd.DataFrame, record: dict) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices with 95% bootstrap CIs (SALib), on per-point means."""
    from SALib.analyze import sobol as salib_sobol

    params = record["parameters"]
    n_points = int(tasks["point"].max()) + 1
    rows = []
    for metric in record["metrics"]:
        y = points.set_index("point")[f"{metric}_mean"].reindex(range(n_points)).to_numpy(dtype=float)
        if np.isnan(y).any() or np.nanvar(y) == 0:
            rows += [{"parameter": p, "metric": metric} for p in params]
            continue
        problem = sobol_problem([Parameter(p) for p in params])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = salib_sobol.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=1000,
                conf_level=0.95,
                seed=int(record["seed"]) % 2**32,
            )
        for j, param in enumerate(params):
            rows.append(
                {
                    "parameter": param,
                    "metric": metric,
                    "S1": si["S1"][j],
                    "S1_conf": si["S1_conf"][j],
                    "ST": si["ST"][j],
                    "ST_conf": si["ST_conf"][j],
                }
            )
    return pd.DataFrame(rows, columns=["parameter", "metric", "S1", "S1_conf", "ST", "ST_conf"])
