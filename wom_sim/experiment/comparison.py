"""Paired comparisons: a base and treatments run with the same replication seeds (common random numbers), their
uplifts with paired CIs, a verdict per treatment (does it pay, by how much, from when), the return on each
treatment's own programme spend, and the treatments ranked against each other. `compare` is the one comparison
API: the CLI (`wom-sim compare`), the HTML report, the Excel workbook and the cookbook use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import wom_sim.display as display
from wom_sim.analysis.outcomes import (
    add_derived,
    check_horizon,
    outcome,
    paired_outcomes,
    run_outcomes,
    split_outcomes,
)
from wom_sim.analysis.segments import BY, check_by, group_differences
from wom_sim.analysis.statistics import mean_ci, paired_difference, roi, t_half_width, timeseries_ci
from wom_sim.analysis.verdicts import (
    PAIRWISE_COLUMNS,
    VERDICT_COLUMNS,
    pairwise_differences,
    payback_tick,
    programme_entries,
    rank_treatments,
    verdict,
    verdict_sentence,
)
from wom_sim.catalogue import market_summary
from wom_sim.errors import ScenarioError
from wom_sim.experiment.executors import Execution, Executor
from wom_sim.experiment.store import ResultStore
from wom_sim.experiment.studies import Arm, Store, as_arm, label_arms, run_study, write_tables
from wom_sim.scenario.schema import Scenario

# What `compare` reports by default, in order; the ROI row follows (profit uplift / intervention spend uplift).
COMPARE_OUTCOMES = ["adoption_share", "customers", "nps", "churn_rate", "pos_messages", "neg_messages", "brand",
                    "crisis_damage", "revenue", "cost", "intervention_cost", "profit", "payback"]  # fmt: skip
# The ROI's gain and the spend it is split from: profit is already net of all spend, so an ROI of 0 is break-even.
# The ROI's cost is the treatment's programme spend only: the `cost_<name>` of the interventions and events it adds
# or changes against the base. What else the treatment moves (cost of goods, payouts of a programme both arms run)
# is volume-driven cost, reported next to it but not divided by.
ROI_GAIN, ROI_COST = "profit", "intervention_cost"
VOLUME_COSTS = ("cost_of_goods", "intervention_cost")
# Per-tick metrics whose paired uplift over time a comparison keeps (the figure and the report draw them).
UPLIFT_SERIES = ["adoption_share", "customers", "nps", "brand", "cum_profit", "pos_messages", "neg_messages"]


@dataclass
class Comparison:
    """What `compare` returns: the base's label first, then the treatments', and these tables.

    Attributes
    ----------
    uplift : DataFrame
        One row per treatment and outcome (and an ``roi`` row per treatment): base_mean, treatment_mean, uplift
        (treatment - base), uplift_pct, ci_low, ci_high (paired 95% t-interval), unpaired_ci_low/high (Welch, same
        runs), width_ratio (paired / unpaired width), n, scale (the catalogue's: "percent" means an uplift in
        percentage points).
    roi : DataFrame
        One row per treatment: roi = mean profit uplift / mean programme-spend uplift, ci_low, ci_high (paired
        Fieller's interval), unpaired_ci_low/high, width_ratio, incremental_profit, incremental_cost (= programme_cost,
        the spend of the interventions and events the treatment adds or changes), volume_cost (the change in cost
        of goods and in the spend of programmes both arms run alike), programmes (their names), n. NaN ROI where
        the treatment has no programme spend of its own.
    verdict_table, pairwise_table : DataFrame
        What `verdicts()` and `pairwise()` return (verdicts.csv and pairwise.csv in a store folder).
    per_seed : DataFrame
        One row per treatment and replication: seed, then ``base_<o>``, ``treat_<o>``, ``delta_<o>`` per outcome.
    outcomes : DataFrame
        One row per run: arm, arm_index, replication, seed, run_key and every outcome.
    timeseries, uplift_timeseries : DataFrame
        Mean and CI per tick per arm; paired uplift and CI per tick per treatment of `UPLIFT_SERIES`.
    runs : DataFrame
        The per-tick metrics of every run (run_key and seed columns first).
    path : Path or None
        The store folder (None: in memory); execution and notes say what ran and what the store warned.
    by, by_group, by_runs : str or None, DataFrame
        With ``by`` (e.g. "segment"): `by_group`, the paired difference of each treatment against the base per
        group and metric with its paired 95% CI, biggest first (`wom_sim.analysis.segments.group_differences`;
        ``by_<by>.csv`` in a store folder), and `by_runs`, every run's outcomes per group (arm, replication, seed,
        run_key, group, then the metrics; ``by_<by>_runs.csv``). Empty without ``by``.
    """

    labels: list[str]
    replications: int
    seed: int
    outcome_names: list[str]
    uplift: pd.DataFrame
    roi: pd.DataFrame
    per_seed: pd.DataFrame
    outcomes: pd.DataFrame
    timeseries: pd.DataFrame
    uplift_timeseries: pd.DataFrame
    runs: pd.DataFrame
    path: Path | None = None
    execution: Execution | None = None
    notes: list[str] = field(default_factory=list)
    verdict_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VERDICT_COLUMNS))
    pairwise_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PAIRWISE_COLUMNS))
    currency: str | None = None
    tick_unit: str = "tick"
    horizon: int = 0
    by: str | None = None
    by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_runs: pd.DataFrame = field(default_factory=pd.DataFrame)

    # Notebook display (wom_sim.display): the paired uplifts, labelled, shares in points.
    def to_frame(self) -> pd.DataFrame:
        """One row per treatment and outcome: label, uplift (shares in percentage points) and its paired 95% CI."""
        rows = display.uplift_rows(self.uplift)
        return display.outcome_frame(rows, self.tick_unit, uplift=True, currency=self.currency)

    def _repr_html_(self) -> str:
        title = f"{', '.join(self.treatments)} vs {self.base}: paired uplift, {self.replications} replications"
        table = display.html_table(self.to_frame(), title, "95% CIs paired by seed (common random numbers)")
        return display.html_lines(self.verdict_table.get("sentence", [])) + table

    def plot(self, metrics: list[str] | None = None):
        """Paired uplift per tick with its CI band, one line per treatment; returns the matplotlib Figure."""
        return display.series_figure(
            self.uplift_timeseries, metrics or UPLIFT_SERIES, self.tick_unit, by="treatment", uplift=True
        )

    @property
    def base(self) -> str:
        """The base's label."""
        return self.labels[0]

    @property
    def treatments(self) -> list[str]:
        """The treatments' labels, in order."""
        return self.labels[1:]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables a store folder keeps (verdicts, pairwise, uplift, roi, per_seed, outcomes, timeseries,
        uplift_timeseries; with `by`, by_<by> and by_<by>_runs)."""
        by = {f"by_{self.by}": self.by_group, f"by_{self.by}_runs": self.by_runs} if self.by else {}
        return {
            "verdicts": self.verdict_table,
            "pairwise": self.pairwise_table,
            "uplift": self.uplift,
            "roi": self.roi,
            "per_seed": self.per_seed,
            "outcomes": self.outcomes,
            "timeseries": self.timeseries,
            "uplift_timeseries": self.uplift_timeseries,
            **by,
        }

    def verdicts(self) -> pd.DataFrame:
        """One row per treatment, best first: does it pay, by how much, how sure, from when.

        Columns (`wom_sim.analysis.verdicts.VERDICT_COLUMNS`, also verdicts.csv): rank; treatment; verdict ("pays",
        "does not pay", "not sure": the 95% CI of the incremental profit above, below or around 0);
        incremental_profit, profit_ci_low, profit_ci_high (paired, over the horizon, in the scenario's currency);
        programme_cost (the treatment's own spend: interventions and events it adds or changes against the base);
        volume_cost (cost of goods and the payouts of programmes both arms run, moved by the volume); roi,
        roi_ci_low, roi_ci_high (incremental profit per unit of programme cost, 0 = break-even; NaN without a
        programme cost); payback_tick (first tick from which the mean cumulative profit uplift stays >= 0; NaN:
        not within the horizon); n; horizon (ticks); tick_unit; currency; sentence (`summary()`'s line).
        """
        return self.verdict_table.copy()

    def pairwise(self) -> pd.DataFrame:
        """Every pair of treatments, better-ranked first: their difference in incremental profit (paired: the base
        cancels), its 95% CI, the paired t-test p-value and its Holm adjustment over all pairs; ``beats`` where the
        adjusted p < 5%. Columns: `wom_sim.analysis.verdicts.PAIRWISE_COLUMNS` (also pairwise.csv)."""
        return self.pairwise_table.copy()

    def ranking(self) -> pd.DataFrame:
        """The treatments by incremental profit, best first: rank, treatment, verdict, incremental profit and CI,
        and whether each beats the next one down after the Holm adjustment."""
        table = self.verdict_table[["rank", "treatment", "verdict", "incremental_profit", "profit_ci_low",
                                    "profit_ci_high"]].copy()  # fmt: skip
        pairs = self.pairwise_table.set_index(["treatment", "other"])
        order = list(table["treatment"])
        table["beats_next"] = [
            bool(pairs.loc[(a, b), "beats"]) if (a, b) in pairs.index else None
            for a, b in zip(order, [*order[1:], None], strict=True)
        ]
        return table.reset_index(drop=True)

    def summary(self) -> str:
        """One verdict sentence per treatment, best first, in the scenario's currency, e.g. "referral_program pays:
        +298k profit (95% CI +282k to +314k) over 104 weeks, 6.0 back per unit of programme spend after paying for
        it (...), payback in week 11; beats kol_launch by +79k (+41k to +117k)"."""
        lines = [f"Against {self.base} ({self.replications} paired replications):"]
        lines += [f"  {text}" for text in self.verdict_table["sentence"]]
        if len(self.pairwise_table):
            lines.append(f"  (pairwise: {self.pairwise_table['adjustment'].iloc[0]})")
        return "\n".join(lines)

    def runs_of(self, label: str) -> dict[int, pd.DataFrame]:
        """The per-tick metrics of every replication of one arm, by replication."""
        keys = self.outcomes[self.outcomes["arm"] == label].set_index("replication")["run_key"]
        by_key = dict(tuple(self.runs.groupby("run_key", sort=False)))
        return {int(r): by_key[k].reset_index(drop=True) for r, k in keys.items() if k in by_key}


def compare(
    base: Arm | Scenario | str | Path,
    *treatments: Arm | Scenario | str | Path,
    replications: int = 30,
    seed: int | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    outcomes: list[str] | None = None,
    progress: bool = False,
    warn: bool = True,
    by: str | None = None,
) -> Comparison:
    """Run the base and every treatment with the same replication seeds and tabulate the paired uplifts and ROI.

    Replication i of every arm runs with ``replication_seed(seed, i)``: the same graph, population and random
    streams, so a per-replication difference is the treatment's effect plus little noise (common random numbers).

    Parameters
    ----------
    base, *treatments : Scenario, str, Path or Arm
        Scenarios, scenario files or bundled scenario names (labelled by name or file stem; a repeated label gets
        ``#2``), or `Arm` (a label and a scenario). Every arm needs the same number of ticks.
    replications : int
        Replications per arm.
    seed : int, optional
        The base seed of the replications (default: the base scenario's); a treatment's own seed is ignored.
    executor : Executor, optional
        Where runs execute (default: this process); see `wom_sim.experiment.make_executor`.
    out : str or Path, optional
        A store folder: finished runs and the tables are kept there, and calling again runs only missing runs.
        None (default) keeps everything in memory.
    overrides : dict, optional
        Dotted overrides applied to every arm, e.g. ``{"network.n": 2000}``.
    outcomes : list of str, optional
        Outcome names (`wom_sim.analysis.outcomes`, e.g. ``"mean:adoption_share"``; default `COMPARE_OUTCOMES`
        and, when the arms have rivals, the market's: our shares, switching, each rival's share and profit).
    progress, warn : bool
        Show a progress bar; warn (StoreWarning) when the store folder holds runs of another spec.
    by : str, optional
        Also break the outcomes down by a per-person column (`wom_sim.analysis.segments.BY`: segment,
        acquired_by, is_kol; brand with competitors): each run computes its outcomes per group where it runs (so
        any executor works) and the store keeps them with the run; a stored run without them runs again.

    Returns
    -------
    Comparison
        ``.uplift``, ``.roi`` and ``.per_seed`` DataFrames, and more (see `Comparison`; ``.by_group`` with `by`).

    Raises
    ------
    ScenarioError
        For an arm that cannot be loaded, arms of different horizons, a bad outcome name or `by` column.

    Examples
    --------
    >>> import wom_sim
    >>> small = {"network.n": 300, "ticks": 10}
    >>> c = wom_sim.compare("baseline", "kol_launch", replications=3, overrides=small)
    >>> c.labels
    ['baseline', 'kol_launch']
    >>> row = c.roi.iloc[0]
    >>> row["treatment"], int(row["n"]), bool(row["ci_low"] <= row["roi"] <= row["ci_high"])
    ('kol_launch', 3, True)
    >>> len(c.per_seed), "delta_profit" in c.per_seed
    (3, True)
    """
    if not treatments:
        raise ScenarioError("compare needs a base and at least one treatment")
    arms = label_arms([as_arm(source, overrides) for source in (base, *treatments)])
    for arm in arms[1:]:
        if arm.scenario.ticks != arms[0].scenario.ticks:
            raise ScenarioError(
                f"compare: {arm.label} runs {arm.scenario.ticks} ticks, the base {arms[0].label} "
                f"{arms[0].scenario.ticks}; paired uplifts need the same horizon (set ticks for every arm)"
            )
    names = list(outcomes or ())
    for name in names:
        outcome(name)  # an unknown outcome fails before anything runs
        check_horizon(name, arms[0].scenario.ticks)  # and so does a tick past the horizon (NaN in every run)
    if by is not None:
        check_by(by, all(arm.scenario.competitors for arm in arms))  # brand: every arm needs rivals to say it
    store, execution, notes = run_study(
        "compare", arms, replications, seed, executor, out, progress, warn, breakdowns=by is not None
    )
    with store:  # the writer lock, taken by open, is held until the summary tables are written
        result = summarise_comparison(store, names or None, by)
        if execution.without_breakdowns:
            notes = [*notes, f"{execution.without_breakdowns} stored runs were kept without their outcomes per group; "
                     "they ran again for --by (same keys, same numbers)"]  # fmt: skip
        result.execution, result.notes = execution, notes
        csv = ("verdicts", "pairwise", "uplift", "roi", "per_seed", "outcomes", f"by_{by}", f"by_{by}_runs")
        write_tables(store.path, result.tables, csv)
    return result


def load_comparison(folder: str | Path, outcomes: list[str] | None = None, by: str | None = None) -> Comparison:
    """The comparison in a store folder written by `compare(..., out=folder)` (what `wom-sim report` reads).

    `by`: the breakdown to tabulate; default: the one the last `compare --by` into the folder wrote (its
    ``by_<by>.parquet``), none when it has none. A store whose runs were kept without breakdowns cannot give one
    (ScenarioError naming the command that adds them).
    """
    folder = Path(folder)
    if by is None:
        written = {b: (folder / f"by_{b}.parquet").stat().st_mtime for b in BY if (folder / f"by_{b}.parquet").exists()}
        by = max(written, key=written.__getitem__) if written else None
    else:
        check_by(by)
    return summarise_comparison(ResultStore(folder), list(outcomes) if outcomes else None, by)


def default_outcomes(runs: pd.DataFrame) -> list[str]:
    """`COMPARE_OUTCOMES` with, when the runs have rivals, the market's outcomes before the money."""
    market, at = market_summary(runs), COMPARE_OUTCOMES.index("revenue")
    return [*COMPARE_OUTCOMES[:at], *market, *COMPARE_OUTCOMES[at:]]


def summarise_comparison(store: Store, names: list[str] | None, by: str | None = None) -> Comparison:
    """Every table of a `Comparison` from a store's runs (nothing runs); with `by`, the per-group tables too.

    `names`: the outcomes; None: `default_outcomes` of the runs."""
    manifest = store.manifest() or {}
    spec = manifest.get("spec", {})
    tasks = store.tasks()
    runs = store.load(tasks["run_key"])
    names = default_outcomes(runs) if names is None else names
    labels = list(dict.fromkeys(tasks.sort_values("arm_index", kind="stable")["arm"]))
    payloads = {arm.get("label"): arm.get("scenario", {}) for arm in spec.get("arms", [])}
    programmes = {label: programme_entries(payloads.get(labels[0], {}), payloads.get(label, {})) for label in labels}
    spend_columns = [f"cost_{name}" for name in dict.fromkeys(n for names_ in programmes.values() for n in names_)]
    per_run_names, relative = split_outcomes(names)
    wanted = list(dict.fromkeys([*per_run_names, ROI_GAIN, *VOLUME_COSTS, *spend_columns]))
    per_run = run_outcomes(runs, wanted)
    outcomes = tasks.join(per_run, on="run_key")
    if relative:  # each run against the base run of its seed (the base against itself: no damage, no payback)
        base_keys = tasks[tasks["arm"] == labels[0]].set_index("replication")["run_key"]
        pairs = tasks.assign(base_key=tasks["replication"].map(base_keys), group=tasks["arm"])
        outcomes = outcomes.join(paired_outcomes(runs, pairs, relative, programmes))
        wanted += relative
    # A run shared by two identical arms is one row per arm; NaN outcomes (a payback never reached) are kept.
    wide = outcomes.drop_duplicates(["replication", "arm"]).pivot(index="replication", columns="arm", values=wanted)
    seeds = tasks.drop_duplicates("replication").set_index("replication")["seed"]
    uplift_rows, roi_rows, per_seed = [], [], []
    ticks = (float(runs["t"].min()), float(runs["t"].max())) if len(runs) else None  # where a payback can lie
    for label in labels[1:]:
        pair = {
            name: wide[name][[labels[0], label]] if name in relative else wide[name][[labels[0], label]].dropna()
            for name in wanted
        }
        for name in names:
            if outcome(name).stat == "roi":
                # The comparison's ROI is the estimator's row below (ratio of mean uplifts, Fieller's interval); a
                # mean of the per-seed ratios here would be a second, different ROI row (they stay in per_seed).
                continue
            both = pair[name]
            change = (
                _relative_row(both[label].to_numpy(), ticks if outcome(name).stat == "payback" else None)
                if name in relative
                else paired_difference(both[labels[0]].to_numpy(), both[label].to_numpy())
            )
            uplift_rows.append({"treatment": label, "outcome": name, **change, "scale": outcome(name).scale})
        money = pd.concat({k: pair[k] for k in (ROI_GAIN, *VOLUME_COSTS)}, axis=1).dropna()
        spend = sum(
            (wide[c][[labels[0], label]].reindex(money.index) for c in (f"cost_{n}" for n in programmes[label])),
            start=pd.DataFrame(0.0, index=money.index, columns=[labels[0], label]),
        )
        estimate = roi(money[ROI_GAIN][labels[0]], money[ROI_GAIN][label], spend[labels[0]], spend[label])
        volume = sum(float((money[c][label] - money[c][labels[0]]).mean()) for c in VOLUME_COSTS) - estimate["cost"]
        roi_rows.append(_roi_row(label, estimate, volume, programmes[label]))
        uplift_rows.append(_uplift_roi_row(label, estimate))
        per_seed.append(_per_seed(label, labels[0], pair, wanted, seeds, relative))
    per_seed_frame = pd.concat(per_seed, ignore_index=True) if per_seed else pd.DataFrame()
    uplift_ts = _uplift_timeseries(runs, tasks, labels)
    base_payload = payloads.get(labels[0], {})
    currency, unit = base_payload.get("currency"), base_payload.get("tick_unit", "tick")
    horizon = int(base_payload.get("ticks", runs["t"].max() if len(runs) else 0))
    verdicts, pairwise = _verdicts(labels, wide, pd.DataFrame(roi_rows), uplift_ts, currency, unit, horizon)
    by_runs, by_group = _group_tables(store, tasks, labels, by) if by else (pd.DataFrame(), pd.DataFrame())
    return Comparison(
        labels=labels,
        replications=int(spec.get("replications", tasks["replication"].nunique())),
        seed=int(spec.get("seed", 0)),
        outcome_names=names,
        uplift=pd.DataFrame(uplift_rows),
        roi=pd.DataFrame(roi_rows),
        per_seed=per_seed_frame,
        outcomes=outcomes,
        timeseries=_arm_timeseries(add_derived(runs), tasks),
        uplift_timeseries=uplift_ts,
        runs=runs,
        path=store.path,
        verdict_table=verdicts,
        pairwise_table=pairwise,
        currency=currency,
        tick_unit=unit,
        horizon=horizon,
        by=by,
        by_runs=by_runs,
        by_group=by_group,
    )


def _group_tables(store: Store, tasks: pd.DataFrame, labels: list[str], by: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every run's outcomes per group of `by` (one row per run and group) and the paired differences per group."""
    # Only the runs the store holds: an interrupted compare --by lacks some runs altogether, which is not a run
    # "stored without a breakdown" (the overall tables leave missing runs out too).
    tasks = tasks[tasks["run_key"].isin(store.done_keys())]
    stored = store.breakdowns(tasks["run_key"])
    lacking = [k for k in dict.fromkeys(tasks["run_key"]) if by not in stored.get(k, {})]
    if lacking:
        where = store.path or "this comparison"
        raise ScenarioError(
            f"{where}: {len(lacking)} of {tasks['run_key'].nunique()} runs were stored without a breakdown by {by} "
            f"(made without --by or by an older wom-sim); run the same compare with --by {by} to add it"
        )
    keep = ["arm", "arm_index", "replication", "seed", "run_key"]
    frames = [
        stored[row.run_key][by].rename(columns={by: "group"}).assign(**{c: getattr(row, c) for c in keep})
        for row in tasks.drop_duplicates(["replication", "arm"]).itertuples()
    ]  # one small table per run (a few groups), never per person
    per_run = pd.concat(frames, ignore_index=True)
    per_run = per_run[[*keep, "group", *(c for c in per_run.columns if c not in (*keep, "group"))]]
    return per_run.assign(by=by), group_differences(per_run, labels[0], labels[1:], by)


def _verdicts(labels, wide, roi_table, uplift_ts, currency, unit, horizon) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The verdict table (one row per treatment, best first) and the pairwise table of the treatments."""
    base, treatments = labels[0], labels[1:]
    profit = wide[ROI_GAIN][labels].dropna() if len(labels) > 1 else pd.DataFrame()
    rows = {}
    roi_by = roi_table.set_index("treatment") if len(roi_table) else pd.DataFrame()
    for label in treatments:
        test = paired_difference(profit[base].to_numpy(), profit[label].to_numpy())
        r = roi_by.loc[label]
        payback = float("nan")
        if len(uplift_ts):
            curve = uplift_ts[(uplift_ts["treatment"] == label) & (uplift_ts["metric"] == "cum_profit")]
            payback = payback_tick(curve["t"], curve["uplift"])
        rows[label] = {
            "treatment": label,
            "verdict": verdict(test["ci_low"], test["ci_high"]),
            "incremental_profit": test["uplift"],
            "profit_ci_low": test["ci_low"],
            "profit_ci_high": test["ci_high"],
            "programme_cost": r["programme_cost"],
            "volume_cost": r["volume_cost"],
            "roi": r["roi"],
            "roi_ci_low": r["ci_low"],
            "roi_ci_high": r["ci_high"],
            "payback_tick": payback,
            "n": test["n"],
            "horizon": horizon,
            "tick_unit": unit,
            "currency": currency,
        }
    order = rank_treatments({k: v["incremental_profit"] for k, v in rows.items()})
    pairs = pairwise_differences({k: profit[k].to_numpy() for k in order}, order)
    table = []
    for rank, label in enumerate(order, start=1):
        row = {"rank": rank, **rows[label]}
        row["sentence"] = verdict_sentence(row, pairs, currency)
        table.append(row)
    return pd.DataFrame(table, columns=VERDICT_COLUMNS), pairs


def _roi_row(label: str, estimate: dict[str, float], volume: float, programmes: list[str]) -> dict[str, Any]:
    return {
        "treatment": label,
        "roi": estimate["roi"],
        "ci_low": estimate["ci_low"],
        "ci_high": estimate["ci_high"],
        "unpaired_ci_low": estimate["unpaired_ci_low"],
        "unpaired_ci_high": estimate["unpaired_ci_high"],
        "width_ratio": estimate["width_ratio"],
        "incremental_profit": estimate["gain"],
        "incremental_cost": estimate["cost"],
        "programme_cost": estimate["cost"],
        "volume_cost": volume,
        "programmes": ", ".join(programmes),
        "n": estimate["n"],
    }


def _relative_row(values: np.ndarray, within: tuple[float, float] | None = None) -> dict[str, Any]:
    """A relative outcome (already treatment against base per replication) as a row of the uplift table: its mean
    and t-interval over the replications that have one (a payback not reached within the horizon has none).

    `within`: the first and last tick, where every payback and so their mean lie; the t-interval of a few widely
    spread paybacks reaches past them (week -9 to 41 of 30) and is cut to them, which keeps its coverage."""
    est, nan = mean_ci(values), float("nan")
    low, high = est.low, est.high
    if within is not None and low == low:
        low, high = max(low, within[0]), min(high, within[1])
    return {"base_mean": nan, "treatment_mean": est.value, "uplift": est.value, "uplift_pct": nan,
            "ci_low": low, "ci_high": high, "unpaired_ci_low": nan, "unpaired_ci_high": nan,
            "width_ratio": nan, "n": est.n}  # fmt: skip


def _uplift_roi_row(label: str, estimate: dict[str, float]) -> dict[str, Any]:
    """The ROI as a row of the uplift table (its value in the uplift column), as the CLI and the report show it."""
    nan = float("nan")
    return {
        "treatment": label,
        "outcome": "roi",
        "base_mean": nan,
        "treatment_mean": nan,
        "uplift": estimate["roi"],
        "uplift_pct": nan,
        **{k: estimate[k] for k in ("ci_low", "ci_high", "unpaired_ci_low", "unpaired_ci_high", "width_ratio", "n")},
        "scale": "ratio",
    }


def _per_seed(label: str, base: str, pair: dict[str, pd.DataFrame], names: list[str], seeds: pd.Series, relative):
    """base_, treat_ and delta_ per outcome and replication; a relative outcome (already the treatment against the
    base) only as treat_<name>."""
    reps = pair[names[0]].index if names else pd.Index([])
    frame = pd.DataFrame({"treatment": label, "replication": reps, "seed": seeds.reindex(reps).to_numpy()})
    for name in relative:
        frame[f"treat_{name}"] = pair[name][label].reindex(reps).to_numpy()
    for name in (n for n in names if n not in relative):
        both = pair[name].reindex(reps)
        frame[f"base_{name}"] = both[base].to_numpy()
        frame[f"treat_{name}"] = both[label].to_numpy()
        frame[f"delta_{name}"] = frame[f"treat_{name}"] - frame[f"base_{name}"]
    return frame


def _arm_timeseries(runs: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """Mean and CI per tick per arm (a run shared by two identical arms counts in both)."""
    frames = []
    for label, group in tasks.groupby("arm", sort=False):
        part = runs[runs["run_key"].isin(group["run_key"])]
        frames.append(timeseries_ci(part).assign(arm=label))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _uplift_timeseries(runs: pd.DataFrame, tasks: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Paired uplift per tick of the UPLIFT_SERIES metrics, per treatment."""
    rows = []
    keyed = {label: tasks[tasks["arm"] == label].set_index("replication")["run_key"] for label in labels}
    by_key = runs.drop_duplicates(["run_key", "t"]).set_index(["run_key", "t"])
    metrics = [m for m in UPLIFT_SERIES if m in by_key.columns]
    stored = set(runs["run_key"]) if not runs.empty else set()
    for label in labels[1:]:
        reps = [
            r
            for r in keyed[labels[0]].index.intersection(keyed[label].index)
            if keyed[labels[0]][r] in stored and keyed[label][r] in stored
        ]
        if not reps:
            continue
        base = by_key.loc[list(keyed[labels[0]][reps]), metrics].to_numpy().reshape(len(reps), -1, len(metrics))
        treat = by_key.loc[list(keyed[label][reps]), metrics].to_numpy().reshape(len(reps), -1, len(metrics))
        ticks = by_key.loc[keyed[label][reps].iloc[0]].index.to_numpy()
        diff = treat - base
        mean, sd = diff.mean(0), diff.std(0, ddof=1) if len(reps) > 1 else np.full(diff.shape[1:], np.nan)
        half = t_half_width(sd, len(reps))
        for j, metric in enumerate(metrics):
            rows.append(
                pd.DataFrame(
                    {
                        "treatment": label,
                        "metric": metric,
                        "t": ticks,
                        "uplift": mean[:, j],
                        "ci_low": mean[:, j] - half[:, j],
                        "ci_high": mean[:, j] + half[:, j],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
