"""Scoring a parameter set against the targets (replicated, common random numbers) and searching the bounds."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.calibrate.targets import Problem, Target, _metric_parts, scenario_with
from wom_sim.errors import ScenarioError
from wom_sim.experiment.seeds import replication_seeds, sampler_seed
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.model import simulate


def _stat(series: pd.Series, stat: str) -> float:
    if stat == "final":
        return float(series.iloc[-1])
    return float(getattr(series, stat)())


def measure(target: Target, metrics: pd.DataFrame) -> np.ndarray | float:
    """The simulated counterpart of a target in one run's metrics."""
    spec = target.spec
    parts = _metric_parts(spec.metric)
    if target.is_series:
        frame = metrics.set_index("t")
        values = frame[parts[0]].reindex(target.ticks).to_numpy(dtype=float)
        if len(parts) == 2:
            den = frame[parts[1]].reindex(target.ticks).to_numpy(dtype=float)
            values = np.divide(values, den, out=np.full_like(values, np.nan), where=den != 0)
        return values
    window = (
        metrics if spec.ticks is None else metrics[(metrics["t"] >= spec.ticks[0]) & (metrics["t"] <= spec.ticks[1])]
    )
    values = [_stat(window[p], spec.stat) for p in parts]
    if len(values) == 2:
        return values[0] / values[1] if values[1] else math.nan
    return values[0]


def target_error(target: Target, simulated: np.ndarray | float) -> float:
    """Normalised error of a target: RMSE / scale for a series, |difference| / scale for a scalar."""
    if target.is_series:
        diff = np.asarray(simulated, dtype=float) - target.observed
        return float(np.sqrt(np.nanmean(diff**2)) / target.scale) if np.isfinite(diff).any() else math.inf
    if not math.isfinite(simulated):
        return math.inf
    return abs(simulated - target.observed) / target.scale


@dataclass
class Evaluation:
    """One parameter set run on a set of seeds."""

    values: dict[str, float]
    loss: float
    errors: dict[str, float]
    simulated: dict[str, Any]  # mean over replications
    spread: dict[str, Any]  # sd over replications


def evaluate(problem: Problem, values: dict[str, float], seeds: list[int]) -> Evaluation:
    """Run the scenario with `values` once per seed and score the mean of the runs against every target."""
    sc = scenario_with(problem, values)
    per_run: dict[str, list] = {t.name: [] for t in problem.targets}
    for seed in seeds:
        metrics = simulate(sc, seed=seed).metrics
        for t in problem.targets:
            per_run[t.name].append(measure(t, metrics))
    simulated, spread, errors = {}, {}, {}
    for t in problem.targets:
        stack = np.asarray(per_run[t.name], dtype=float)
        simulated[t.name] = np.nanmean(stack, axis=0) if stack.size else math.nan
        spread[t.name] = np.nanstd(stack, axis=0, ddof=1) if len(seeds) > 1 else np.zeros_like(simulated[t.name])
        errors[t.name] = target_error(t, simulated[t.name])
    weights = np.array([t.spec.weight for t in problem.targets])
    errs = np.array([errors[t.name] for t in problem.targets])
    loss = float((weights * errs**2).sum() / weights.sum()) if np.isfinite(errs).all() else math.inf
    return Evaluation(dict(values), loss, errors, simulated, spread)


# --------------------------------------------------------------------------------------------- optimisers
def _optuna_search(problem: Problem, objective: Callable[[dict[str, float]], float]) -> None:
    try:
        import optuna
    except ImportError:
        raise ScenarioError(
            "optimiser tpe/cmaes needs optuna: pip install 'wom-sim[calibrate]' (or use optimiser: de)"
        ) from None
    spec = problem.spec
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec.optimiser == "cmaes":
        try:
            sampler = optuna.samplers.CmaEsSampler(
                seed=sampler_seed(spec.seed), n_startup_trials=min(10, spec.trials // 4)
            )
        except ImportError:
            raise ScenarioError("optimiser cmaes needs the cmaes package: pip install cmaes") from None
    else:
        sampler = optuna.samplers.TPESampler(
            seed=sampler_seed(spec.seed), n_startup_trials=min(10, max(2, spec.trials // 4))
        )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    interrupted = False

    def run(trial: Any) -> float:
        nonlocal interrupted
        values = {}
        for key, b in spec.parameters.items():
            if b.integer:
                values[key] = float(trial.suggest_int(key, int(math.ceil(b.low)), int(math.floor(b.high)), log=b.log))
            else:
                values[key] = trial.suggest_float(key, b.low, b.high, log=b.log)
        try:
            loss = objective(values)
        except KeyboardInterrupt:
            # Ctrl-C is the caller's to report: optuna would log this trial as failed, with a traceback. The
            # study is stopped and thrown away, so the placeholder loss is never seen.
            interrupted = True
            study.stop()
            return math.inf
        return loss if math.isfinite(loss) else 1e12

    study.optimize(run, n_trials=spec.trials)
    if interrupted:
        raise KeyboardInterrupt


def _de_search(problem: Problem, objective: Callable[[dict[str, float]], float]) -> None:
    from scipy.optimize import differential_evolution

    spec = problem.spec
    keys = list(spec.parameters)
    bounds = [(math.log(b.low), math.log(b.high)) if b.log else (b.low, b.high) for b in spec.parameters.values()]
    # popsize is per dimension; the evaluation budget is (maxiter + 1) * popsize * dims.
    popsize = max(2, min(15, spec.trials // (4 * len(keys)) or 2))
    maxiter = max(0, spec.trials // (popsize * len(keys)) - 1)
    evaluations = [0]

    def f(x: np.ndarray) -> float:
        if evaluations[0] >= spec.trials:
            return 1e12
        evaluations[0] += 1
        values = {
            k: (math.exp(v) if b.log else float(v)) for k, v, b in zip(keys, x, spec.parameters.values(), strict=True)
        }
        loss = objective(values)
        return loss if math.isfinite(loss) else 1e12

    differential_evolution(f, bounds, popsize=popsize, maxiter=maxiter, seed=sampler_seed(spec.seed), polish=False,
                           init="sobol", tol=0.0)  # fmt: skip


# --------------------------------------------------------------------------------------------- the calibration
@dataclass
class CalibrationResult:
    """What a calibration found."""

    problem: Problem
    best: Evaluation  # on the calibration seeds
    check: Evaluation | None  # the best parameters on fresh seeds
    trials: pd.DataFrame
    seconds: float
    fitted: Scenario = field(repr=False, default=None)


def calibrate(problem: Problem, progress: Callable[[int, float, float], None] | None = None) -> CalibrationResult:
    """Search the free parameters for the lowest loss, then re-run the best on fresh seeds.

    `progress(trial, loss, best_loss)` is called after every trial.
    """
    spec = problem.spec
    seeds = replication_seeds(spec.seed, spec.replications)
    history: list[Evaluation] = []
    start = time.perf_counter()

    def objective(values: dict[str, float]) -> float:
        ev = evaluate(problem, values, seeds)
        history.append(ev)
        if progress:
            progress(len(history), ev.loss, min(h.loss for h in history))
        return ev.loss

    if spec.optimiser == "de":
        _de_search(problem, objective)
    else:
        _optuna_search(problem, objective)
    best = min(history, key=lambda h: h.loss)
    n_check = spec.replications if spec.check_replications is None else spec.check_replications
    # Fresh seeds: the replications after the searched ones, same scheme, never seen by the search.
    fresh = replication_seeds(spec.seed, n_check, first=spec.replications)
    check = evaluate(problem, best.values, fresh) if n_check else None
    trials = pd.DataFrame(
        [{**h.values, "loss": h.loss, **{f"error:{k}": v for k, v in h.errors.items()}} for h in history]
    )
    trials.insert(0, "trial", range(len(trials)))
    return CalibrationResult(
        problem, best, check, trials, time.perf_counter() - start, scenario_with(problem, best.values)
    )
