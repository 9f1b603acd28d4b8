"""The budget optimiser: optuna proposes plans (lever values), each plan runs on the same replication seeds as every
other (common random numbers), replications come in rungs (2, 4, 8, ... seeds) and a plan whose paired 95% CI of
the difference from the best complete plan lies below 0 stops there (racing); the winner and its rivals within the
noise are re-run on fresh seeds and compared with the current plan and with no spend (`wom_sim.compare`).

Feasibility (budget, target ROI, constraints) is judged on means over the plan's replications; an infeasible plan
is told to optuna as such (TPE's constraints) and can never be recommended. Everything runs through the executors
and the store: a second call with the same spec and store folder replays the same trials from stored runs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from wom_sim.analysis.outcomes import run_outcomes
from wom_sim.analysis.statistics import paired_difference, t_half_width
from wom_sim.catalogue import format_value
from wom_sim.errors import ScenarioError
from wom_sim.experiment.comparison import Comparison, compare
from wom_sim.experiment.curves import record_outputs
from wom_sim.experiment.executors import Executor, InProcessExecutor, execute
from wom_sim.experiment.levers import SPEND, no_spend_scenario, plan_scenario
from wom_sim.experiment.optimise_spec import Optimisation, OptimiseSpec, build_optimisation, load_optimisation
from wom_sim.experiment.runner import canonical_hash, make_task, scenario_payload
from wom_sim.experiment.seeds import offset_seed, replication_seeds, sampler_seed
from wom_sim.experiment.studies import Arm, open_store, write_tables
from wom_sim.output import atomic_file
from wom_sim.scenario.loading import scenario_to_yaml
from wom_sim.scenario.schema import Scenario

CHECK_FOLDER = "check"  # the fresh-seed comparison's store, inside the optimiser's folder
CHECK_SEED_OFFSET = 1  # the final check's base seed is the search's + 1 (`offset_seed`): fresh, independent seeds


@dataclass
class Plan:
    """One evaluated plan: lever values, per-seed outcomes (rows: the replications run), and what optuna was told."""

    label: str
    values: dict[str, float]
    scenario: Scenario
    per_seed: pd.DataFrame = field(default_factory=pd.DataFrame)
    state: str = "running"
    trial: int | None = None


@dataclass
class OptimiseResult:
    """What `optimise` returns.

    Attributes
    ----------
    trials : DataFrame
        The trial history: trial, state (complete / pruned / infeasible), replications used, each lever's value and
        spend, objective mean and 95% CI, spend, feasible, and each constraint's mean.
    recommended : dict
        The recommended plan's lever values (by lever key); ``plan_yaml`` is its resolved scenario file.
    indistinguishable : DataFrame
        Complete feasible plans whose paired 95% CI of the difference from the best includes 0 (the best first).
    check : Comparison or None
        The paired re-run on fresh seeds: no spend (base), the current plan, the recommended plan (and the cheapest
        indistinguishable plan when it differs).
    check_table : DataFrame
        The check's headline rows: each plan's objective and spend vs no spend and vs the current plan, with CIs.
    notes : list of str
        What a reader must know (noise, infeasible plans, runs used, what the fresh seeds say).
    warnings : list of str
        The notes that put the recommendation itself in doubt (no feasible plan; on fresh seeds it does worse than
        the current plan); also in ``notes``. `optimise --quiet` still prints them.
    verdict : str
        The check's verdict sentences against no spend (`Comparison.summary()`), when the comparison has them.
    runs : int
        Simulation runs the search used (the check's are extra, ``check_runs``).
    """

    spec: OptimiseSpec
    trials: pd.DataFrame
    recommended: dict[str, float]
    recommended_label: str
    plan_yaml: str
    indistinguishable: pd.DataFrame
    check: Comparison | None
    check_table: pd.DataFrame
    notes: list[str]
    runs: int
    check_runs: int
    verdict: str = ""
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)


class _Search:
    """The state of one search: the seeds, the store, the plans evaluated so far and the reference plans."""

    def __init__(self, opt: Optimisation, store: Any, executor: Executor):
        self.opt, self.spec, self.store, self.executor = opt, opt.spec, store, executor
        self.seeds = replication_seeds(opt.seed, self.spec.replications)
        self.outcome_names = list(
            dict.fromkeys(
                [
                    self.spec.objective,
                    SPEND,
                    "profit",
                    *(c.outcome for c in self.spec.constraints),
                    *(f"sum:cost_{lv.entry}" for lv in opt.levers if lv.entry),
                ]
            )
        )
        self.rows: list[dict] = []
        self.runs = 0
        self.rungs = _rungs(self.spec.min_replications, self.spec.replications)

    # ------------------------------------------------------------------ running plans
    def run(self, plans: list[Plan], n: int) -> None:
        """Run the first `n` seeds of every plan (stored runs are reused) and keep their per-seed outcomes."""
        tasks, keys = [], []
        for plan in plans:
            payload = scenario_payload(plan.scenario)
            plan_keys = []
            for seed in self.seeds[:n]:
                task = make_task(plan.scenario, seed, payload)
                tasks.append(task)
                plan_keys.append(task["key"])
            keys.append(plan_keys)
            self.rows += [
                {"plan": plan.label, "replication": r, "seed": s, "run_key": k}
                for r, (s, k) in enumerate(zip(self.seeds[:n], plan_keys, strict=True))
            ]
        ex = execute(tasks, self.store, self.executor, progress=False)
        self.runs += ex.ran  # new runs only: a plan proposed twice reuses its stored runs
        wanted = list(dict.fromkeys(k for ks in keys for k in ks))
        per_run = run_outcomes(self.store.load(wanted), self.outcome_names)
        for plan, plan_keys in zip(plans, keys, strict=True):
            plan.per_seed = per_run.loc[plan_keys].reset_index(drop=True)

    def score(self, plan: Plan) -> np.ndarray:
        """Per-seed score, larger is better: the objective (sign by direction), less target_mroi x spend."""
        sign = 1.0 if self.opt.maximise else -1.0
        values = sign * plan.per_seed[self.spec.objective].to_numpy(dtype=float)
        if self.spec.target_mroi is not None:
            values = values - self.spec.target_mroi * plan.per_seed[SPEND].to_numpy(dtype=float)
        return values

    def violations(self, plan: Plan, current: Plan, none: Plan) -> dict[str, float]:
        """Constraint values (<= 0 feasible), on means over the plan's replications (the references' same seeds)."""
        n = len(plan.per_seed)
        mean = plan.per_seed.mean()
        out: dict[str, float] = {}
        if self.spec.budget is not None:
            out["budget"] = float(mean[SPEND] - self.spec.budget)
        if self.spec.target_roi is not None:
            ref = none.per_seed.iloc[:n].mean()
            spend = float(mean[SPEND] - ref[SPEND])
            roi = float(mean["profit"] - ref["profit"]) / spend if spend > 0 else -np.inf
            out["target_roi"] = float(self.spec.target_roi - roi) if spend > 0 else 0.0
        base = current.per_seed.iloc[:n].mean()
        for i, c in enumerate(self.spec.constraints):
            x = float(mean[c.outcome])
            for bound, sign in ((c.at_least, 1.0), (c.at_most, -1.0)):
                if bound is None:
                    continue
                if bound == "base":
                    ref = float(base[c.outcome])
                    limit = ref - sign * c.tolerance * abs(ref)
                else:
                    limit = float(bound)
                key = f"{c.outcome} {'>=' if sign > 0 else '<='} {bound}" + (
                    f" -{c.tolerance:.0%}" if c.tolerance else ""
                )
                out[f"c{i}: {key}"] = sign * (limit - x)
        return out


def _rungs(first: int, last: int) -> list[int]:
    """Replications per racing rung: first, 2 x first, ... up to last (always ending at last)."""
    out, n = [], first
    while n < last:
        out.append(n)
        n *= 2
    return [*out, last]


def _sampler(spec: OptimiseSpec, seed: int):
    import optuna

    seed = sampler_seed(seed)  # optuna takes 32 bits
    startup = min(10, max(3, spec.trials // 4))

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler == "cmaes":
        try:
            import cmaes  # noqa: F401 - optuna's CMA-ES needs it
        except ImportError:
            raise ScenarioError(
                "sampler: cmaes needs the cmaes package (pip install cmaes), or use sampler: tpe"
            ) from None
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True, constant_liar=True)


def _suggest(trial, opt: Optimisation) -> dict[str, float]:
    values = {}
    for lever in opt.levers:
        step = opt.spec.levers[lever.key].step
        if lever.integer:
            low, step = int(np.ceil(lever.low)), int(step or 1)
            high = _last_on_grid(low, int(np.floor(lever.high)), step)
            values[lever.key] = trial.suggest_int(lever.key, low, high, step=step)
        else:
            high = lever.high if step is None else _last_on_grid(lever.low, lever.high, step)
            values[lever.key] = trial.suggest_float(lever.key, lever.low, high, step=step)
    return values


def _last_on_grid(low, high, step):
    """The largest low + i * step not above high: the grid's last point, so optuna does not warn (on stderr, in its
    own words) that it moved high there itself."""
    last = low + np.floor((high - low) / step + 1e-9) * step
    return type(low)(min(last, high))


def optimise(
    spec: Optimisation | OptimiseSpec | str | Path,
    out: str | Path | None = None,
    executor: Executor | None = None,
    check: bool = True,
    progress: bool = False,
    warn: bool = True,
) -> OptimiseResult:
    """Search the levers' bounds for the best plan, then check it on fresh seeds (see the module docstring).

    Parameters
    ----------
    spec : Optimisation, OptimiseSpec, str or Path
        An optimiser spec file (docs/optimise.md), a validated `OptimiseSpec` or a loaded `Optimisation`.
    out : str or Path, optional
        A store folder (resumable: the same spec replays its trials from stored runs); the trial history
        (trials.csv), the plan (plan.yaml) and the check (check.csv) are written there. None: in memory.
    executor : Executor, optional
        Where runs execute (default: this process); see `wom_sim.experiment.make_executor`.
    check : bool
        Re-run the recommended plan, the current plan and no spend on fresh seeds (`wom_sim.compare`).
    progress, warn : bool
        A progress bar over trials; warn (StoreWarning) when the store holds runs of another spec.

    Returns
    -------
    OptimiseResult
        ``trials``, ``recommended``, ``indistinguishable``, ``check_table``, ``notes`` and more.

    Raises
    ------
    ScenarioError
        For a spec that does not validate (one line naming the file and key), before anything runs.

    Examples
    --------
    >>> import wom_sim
    >>> from wom_sim.experiment.optimise_spec import OptimiseSpec
    >>> spec = OptimiseSpec(scenario="kol_launch", set={"network.n": 200, "ticks": 8}, trials=3, replications=2,
    ...                     levers={"kol_campaign.select.k": {"low": 0, "high": 20}}, budget=30000)
    >>> result = wom_sim.optimise(spec, check=False)
    >>> len(result.trials), sorted(result.recommended) == ["kol_campaign.select.k"] or result.recommended == {}
    (5, True)
    >>> bool((result.trials.query("state == 'complete'")["spend"] <= 30000).all())
    True
    """
    try:
        import optuna
    except ImportError:  # an optional extra: a plain install has no optuna
        raise ScenarioError("the optimiser needs optuna: pip install 'wom-sim[calibrate]'") from None

    opt = (
        spec
        if isinstance(spec, Optimisation)
        else (build_optimisation(spec) if isinstance(spec, OptimiseSpec) else load_optimisation(spec))
    )
    spec_ = opt.spec
    executor = executor or InProcessExecutor()
    record = {"spec": spec_.model_dump(mode="json"), "current": scenario_payload(opt.current), "seed": opt.seed}
    store = open_store(out)
    empty = pd.DataFrame(
        {
            "plan": pd.Series(dtype=str),
            "replication": pd.Series(dtype=int),
            "seed": pd.Series(dtype="int64"),
            "run_key": pd.Series(dtype=str),
        }
    )
    notes = store.open("optimise", record, canonical_hash(record), empty, warn=warn)
    try:
        search = _Search(opt, store, executor)
        current = Plan(
            "current plan", {lv.key: lv.current if lv.current is not None else np.nan for lv in opt.levers}, opt.current
        )
        none = Plan("no spend", {}, no_spend_scenario(opt.raw, opt.levers))
        search.run([current, none], spec_.replications)
        refs = [current, none]
        for ref in refs:  # candidates too: the answer may be to keep the current plan or to spend nothing
            ref.violations = search.violations(ref, current, none)  # type: ignore[attr-defined]
            ref.state = "complete" if all(v <= 0 for v in ref.violations.values()) else "infeasible"
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize", sampler=_sampler(spec_, opt.seed))
        plans: list[Plan] = []
        batch = spec_.batch  # fixed, not from the workers: the same spec proposes the same plans anywhere
        bar = tqdm(
            total=spec_.trials,
            desc="optimise",
            unit="plan",
            disable=not progress,
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )
        bar.monitor_interval = 0
        try:
            while len(plans) < spec_.trials:
                trials = [study.ask() for _ in range(min(batch, spec_.trials - len(plans)))]
                live = []
                for trial in trials:
                    values = _suggest(trial, opt)
                    scenario = plan_scenario(opt.raw, opt.levers, values, f"trial {trial.number}")
                    live.append(Plan(f"trial {trial.number}", values, scenario, trial=trial.number))
                _race(search, study, trials, live, plans + refs, current, none)
                plans += live
                bar.update(len(live))
        finally:
            bar.close()
        result = _answer(search, plans, refs, executor, check, warn, store.path)
        result.notes = notes + result.notes
        result.path = store.path
        tasks = pd.DataFrame(search.rows).drop_duplicates(["plan", "replication"])
        store.open("optimise", record, canonical_hash(record), tasks, warn=False)  # record every task in the store
        if store.path is not None:
            write_tables(
                store.path,
                {"trials": result.trials, "check": result.check_table, "indistinguishable": result.indistinguishable},
                ("trials", "check", "indistinguishable"),
            )
            with atomic_file(store.path / "plan.yaml", "w") as handle:
                handle.write(result.plan_yaml)
            tables = [f"{n}.{x}" for n in ("trials", "check", "indistinguishable") for x in ("csv", "parquet")]
            record_outputs(store.path, "optimise", [*tables, "plan.yaml", CHECK_FOLDER], notes)
    finally:
        store.close()
    return result


def _race(search: _Search, study, trials, live: list[Plan], plans: list[Plan], current: Plan, none: Plan) -> None:
    """Run a batch of plans rung by rung; stop a plan at a rung when it is clearly worse than the best complete one
    (paired 95% CI of its score minus the incumbent's below 0 on the same seeds) or clearly over budget."""
    import optuna

    by_trial = dict(zip([p.trial for p in live], trials, strict=True))
    incumbent = _best(search, plans)
    alive = list(live)
    for rung in search.rungs:
        search.run(alive, rung)
        keep = []
        for plan in alive:
            trial = by_trial[plan.trial]
            score = search.score(plan)
            trial.report(float(score.mean()), rung)
            stop = None
            if rung < search.spec.replications:
                if incumbent is not None:
                    diff = paired_difference(search.score(incumbent)[:rung], score)
                    if diff["ci_high"] < 0:
                        stop = "pruned"
                spend = plan.per_seed[SPEND].to_numpy(dtype=float)
                if search.spec.budget is not None and rung > 1:
                    low = spend.mean() - float(t_half_width(spend.std(ddof=1), rung))
                    if low > search.spec.budget:
                        stop = "infeasible"
            if stop:
                _tell(search, study, trial, plan, current, none, optuna.trial.TrialState.PRUNED, stop)
            else:
                keep.append(plan)
        alive = keep
        if not alive:
            break
    for plan in alive:
        _tell(search, study, by_trial[plan.trial], plan, current, none, optuna.trial.TrialState.COMPLETE, "complete")


def _tell(search, study, trial, plan, current, none, state, label) -> None:
    violations = search.violations(plan, current, none)
    for key, value in violations.items():
        # optuna's constraints (<= 0 feasible) steer TPE away from infeasible regions; it refuses NaN and inf
        trial.set_constraint(key, float(np.clip(np.nan_to_num(value, nan=1.0), -1e15, 1e15)))
    feasible = all(v <= 0 for v in violations.values())
    plan.state = label if label != "complete" or feasible else "infeasible"
    if state.name == "COMPLETE":
        study.tell(trial, float(search.score(plan).mean()))
    else:
        study.tell(trial, state=state)
    plan.violations = violations  # type: ignore[attr-defined]


def _best(search: _Search, plans: list[Plan]) -> Plan | None:
    """The best complete feasible plan, the current plan and no spend among the candidates."""
    complete = [p for p in plans if p.state == "complete"]
    return max(complete, key=lambda p: search.score(p).mean()) if complete else None


def _answer(search: _Search, plans, refs, executor, check: bool, warn: bool, folder: Path | None) -> OptimiseResult:
    spec, opt = search.spec, search.opt
    current, none = refs
    trials = _history(search, plans)
    references = _history(search, refs)
    plans = plans + refs
    best = _best(search, plans)
    notes, warnings = [], []
    if best is None:
        warnings.append("no feasible plan completed: widen the bounds or the budget, or relax the constraints")
        notes += warnings
        best = none
    same = []
    for plan in [p for p in plans if p.state == "complete"]:
        diff = paired_difference(search.score(best), search.score(plan))
        if diff["ci_high"] >= 0 or plan is best:
            same.append(
                {
                    "plan": plan.label,
                    **plan.values,
                    "spend": float(plan.per_seed[SPEND].mean()),
                    "objective": float(plan.per_seed[spec.objective].mean()),
                    "difference": diff["uplift"],
                    "ci_low": diff["ci_low"],
                    "ci_high": diff["ci_high"],
                }
            )
    same_frame = pd.DataFrame(same)
    cheapest = None
    if len(same_frame) > 1:
        cheapest_row = same_frame.sort_values("spend", kind="stable").iloc[0]
        cheapest = next(p for p in plans if p.label == cheapest_row["plan"])
        notes.append(
            f"{len(same_frame)} plans are indistinguishable from the best within the noise (paired 95% CI of the "
            f"difference includes 0 on {spec.replications} seeds); the cheapest is {cheapest.label} "
            f"({_values_text(cheapest.values) if cheapest not in refs else 'as it is'}, "
            f"spend {cheapest_row['spend']:,.0f})"
        )
    objective = search.score(best)
    half = float(t_half_width(objective.std(ddof=1), len(objective)))
    complete = trials[trials["state"] == "complete"]["objective"]
    if len(complete) > 2 and half > float(complete.max() - complete.median()):
        notes.append(
            f"the objective's 95% CI (+/- {half:,.3g}) is wider than the differences between most plans tried "
            f"(best - median = {float(complete.max() - complete.median()):,.3g}): more replications would separate them"
        )
    pruned = int((trials["state"] == "pruned").sum())
    notes.append(
        f"{search.runs} runs for {len(plans) - len(refs)} plans (+ current and no spend); {pruned} plans stopped early "
        f"by racing; {int((trials['state'] == 'infeasible').sum())} infeasible"
    )
    comparison, table, check_runs, verdict = None, pd.DataFrame(), 0, ""
    if check:
        arms = [Arm("no spend", none.scenario), Arm("current plan", current.scenario)]
        if best not in refs:
            arms.append(Arm(f"recommended ({best.label})", best.scenario))
        if cheapest is not None and cheapest is not best and cheapest not in refs:
            arms.append(Arm(f"cheapest equivalent ({cheapest.label})", cheapest.scenario))
        # One arm per distinct scenario: a trial that repeats the current plan would pair a run with itself.
        distinct: dict[str, Arm] = {}
        for arm in arms:
            distinct.setdefault(canonical_hash(scenario_payload(arm.scenario)), arm)
        arms = list(distinct.values())
        names = list(dict.fromkeys([spec.objective, "profit", SPEND, *(c.outcome for c in spec.constraints)]))
        comparison = compare(
            *arms,
            replications=spec.check_replications,
            seed=offset_seed(opt.seed, CHECK_SEED_OFFSET),
            executor=executor,
            out=None if folder is None else folder / CHECK_FOLDER,  # a compare store: resumed with the search
            outcomes=names,
            warn=warn,
        )
        table = check_table(comparison, spec.objective)
        said, doubt = _check_notes(table, best in refs, spec.objective)
        over = budget_warnings(table, spec.budget)
        notes += said + over
        warnings += doubt + over
        if hasattr(comparison, "summary"):  # the verdict sentences of the decision-ready comparison
            verdict = comparison.summary()
        check_runs = spec.check_replications * len(arms)
    return OptimiseResult(
        spec=spec,
        trials=pd.concat([references, trials], ignore_index=True),
        recommended=dict(best.values),
        recommended_label=best.label,
        plan_yaml=scenario_to_yaml(best.scenario),
        indistinguishable=same_frame,
        check=comparison,
        check_table=table,
        notes=notes,
        runs=search.runs,
        check_runs=check_runs,
        verdict=verdict,
        warnings=warnings,
    )


def _check_notes(table: pd.DataFrame, kept: bool, objective: str) -> tuple[list[str], list[str]]:
    """What the fresh-seed check says of the recommendation against the current plan (paired 95% CI): the notes,
    and those of them that are warnings (it does worse)."""
    rows = table[table["plan"].str.startswith("recommended")] if "vs_current" in table else table.iloc[0:0]
    if kept or rows.empty or not np.isfinite(rows["vs_current"].iloc[0]):
        return [], []
    row = rows.iloc[0]
    est = ", ".join(
        [
            format_value(objective, row["vs_current"]),
            f"95% CI {format_value(objective, row['vs_current_ci_low'])} to "
            f"{format_value(objective, row['vs_current_ci_high'])}",
        ]
    )
    if row["vs_current_ci_high"] < 0:
        worse = [
            f"on fresh seeds the recommended plan does worse than the current plan ({est}): its lead on the search "
            "seeds was noise; keep the current plan or search with more replications"
        ]
        return worse, worse
    if row["vs_current_ci_low"] <= 0:
        return [f"on fresh seeds the recommended plan is indistinguishable from the current plan ({est})"], []
    return [f"on fresh seeds the recommended plan beats the current plan ({est})"], []


def budget_warnings(table: pd.DataFrame, budget: float | None) -> list[str]:
    """A warning when the recommended plan's mean spend on the fresh check seeds is over the budget: the search
    judged it within budget on its own seeds, but a spend that follows volume (rewards per referral, offers per
    customer) moves with the seeds too."""
    rows = table[table["plan"].str.startswith("recommended")]
    if budget is None or rows.empty or not rows["spend"].iloc[0] > budget:
        return []
    spend = float(rows["spend"].iloc[0])
    return [f"on fresh seeds the recommended plan spends {format_value('intervention_cost', spend)} on average, "
            f"over the budget of {format_value('intervention_cost', budget)} ({spend / budget - 1:.1%} more): its "
            "spend follows volume; leave headroom under the budget or search with more replications"]  # fmt: skip


def _values_text(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in values.items())


def _history(search: _Search, plans: list[Plan]) -> pd.DataFrame:
    rows = []
    for plan in plans:
        ps = plan.per_seed
        obj = ps[search.spec.objective].to_numpy(dtype=float)
        half = float(t_half_width(obj.std(ddof=1), len(obj))) if len(obj) > 1 else float("nan")
        row = {"trial": plan.trial, "plan": plan.label, "state": plan.state, "replications": len(ps), **plan.values}
        for lever in search.opt.levers:
            if lever.entry:
                row[f"spend {lever.key}"] = float(ps[f"sum:cost_{lever.entry}"].mean())
        row.update(
            {
                "spend": float(ps[SPEND].mean()),
                "objective": float(obj.mean()),
                "ci_low": float(obj.mean()) - half,
                "ci_high": float(obj.mean()) + half,
                "score": float(search.score(plan).mean()),
            }
        )
        row.update(getattr(plan, "violations", {}))
        rows.append(row)
    return pd.DataFrame(rows)


def check_table(comparison: Comparison, objective: str) -> pd.DataFrame:
    """Each plan's objective and spend against no spend (the comparison's base) and against the current plan."""
    rows = []
    outcomes = comparison.outcomes
    wide = {n: outcomes.pivot_table(index="replication", columns="arm", values=n) for n in (objective, SPEND)}
    for label in comparison.labels:
        row: dict[str, Any] = {
            "plan": label,
            "objective": float(wide[objective][label].mean()),
            "spend": float(wide[SPEND][label].mean()),
        }
        for ref, tag in (("no spend", "vs_no_spend"), ("current plan", "vs_current")):
            if label == ref or ref not in wide[objective]:  # the current plan may be no spend (one arm)
                continue
            d = paired_difference(wide[objective][ref].to_numpy(), wide[objective][label].to_numpy())
            row.update({f"{tag}": d["uplift"], f"{tag}_ci_low": d["ci_low"], f"{tag}_ci_high": d["ci_high"]})
        rows.append(row)
    roi = comparison.roi.set_index("treatment")
    frame = pd.DataFrame(rows)
    frame["roi_vs_no_spend"] = frame["plan"].map(roi["roi"])
    frame["roi_ci_low"] = frame["plan"].map(roi["ci_low"])
    frame["roi_ci_high"] = frame["plan"].map(roi["ci_high"])
    return frame
