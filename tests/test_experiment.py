"""Experiments API: seeds, run keys, executors, the resumable store, paired statistics, sweep designs, Dask.

Statistical assertions run on fixed seeds, so they are deterministic; each states its tolerance and why.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from wom_sim.analysis.statistics import roi
from wom_sim.errors import ScenarioError
from wom_sim.experiment import (
    Arm,
    DaskExecutor,
    InProcessExecutor,
    Interrupted,
    PoolExecutor,
    ResultStore,
    StoreWarning,
    compare,
    execute,
    make_task,
    replicate,
    replication_seed,
    replication_seeds,
    run_key,
    run_task,
)
from wom_sim.experiment.runner import scenario_payload
from wom_sim.experiment.sweep_spec import load_sweep, sobol_problem
from wom_sim.sim.model import resolve_scenario, simulate

TINY = {"network.n": 300, "network.m": 3, "ticks": 12}


def tiny(**overrides):
    """A scenario that runs in ~50 ms."""
    return resolve_scenario(None, {**TINY, **overrides})


# ------------------------------------------------------------------------------------------------ seeds and keys
def test_replication_seeds_are_seedsequence_spawns_and_do_not_depend_on_the_count():
    children = np.random.SeedSequence(42).spawn(5)
    for i, child in enumerate(children):
        words = child.generate_state(2, np.uint32)
        assert replication_seed(42, i) == ((int(words[0]) << 32) | int(words[1])) >> 1
    assert replication_seeds(42, 3) == replication_seeds(42, 10)[:3]
    seeds = replication_seeds(42, 200)
    assert len(set(seeds)) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert replication_seeds(43, 3) != replication_seeds(42, 3)


def test_run_key_hashes_parameters_and_seed_but_not_labels():
    a = scenario_payload(tiny())
    b = scenario_payload(tiny().model_copy(update={"name": "other", "description": "x"}))
    c = scenario_payload(tiny(**{"wom.contact_prob": 0.2}))
    assert run_key(a, 1) == run_key(b, 1)
    assert run_key(a, 1) != run_key(a, 2)
    assert run_key(a, 1) != run_key(c, 1)


def test_a_task_is_plain_data_and_reproduces_simulate():
    scenario = tiny()
    task = make_task(scenario, 123)
    # Plain data only: JSON round trip loses nothing (no lambdas, no objects, no caller globals).
    import json

    assert json.loads(json.dumps(task)) == task
    frame = run_task(task)
    direct = simulate(scenario, seed=123).metrics
    pd.testing.assert_frame_equal(frame.drop(columns=["run_key", "seed"]), direct)
    assert (frame["run_key"] == task["key"]).all()


def test_a_worker_reuses_the_graph_and_kols_of_a_seed_across_arms_with_the_same_results():
    from wom_sim.experiment import runner

    runner._shared.clear()
    arms = [tiny(), tiny(**{"wom.contact_prob": 0.2}), tiny(**{"kols.select.k": 7})]
    frames = [run_task(make_task(sc, 5)) for sc in arms]  # the second reuses the first's graph and KOLs
    assert len(runner._shared) == 2  # another KOL selection is another entry
    for sc, frame in zip(arms, frames, strict=True):
        direct = simulate(sc, seed=5).metrics  # a fresh graph and KOLs
        pd.testing.assert_frame_equal(frame.drop(columns=["run_key", "seed"]), direct, check_exact=True)
    graph, kols = next(iter(runner._shared.values()))
    assert not graph.indices.flags.writeable and not kols.flags.writeable  # nothing may change a shared graph
    runner._shared.clear()


# ------------------------------------------------------------------------------------------------ executors and store
def _tasks(n=6, **overrides):
    scenario = tiny(**overrides)
    return [make_task(scenario, s) for s in replication_seeds(scenario.seed, n)]


def _stored(store: ResultStore) -> pd.DataFrame:
    return store.load(sorted(store.done_keys())).sort_values(["run_key", "t"]).reset_index(drop=True)


def test_process_pool_gives_results_identical_to_this_process(tmp_path):
    tasks = _tasks(6)
    serial, pooled = ResultStore(tmp_path / "serial"), ResultStore(tmp_path / "pool")
    for store in (serial, pooled):
        store.runs.mkdir(parents=True)
    execute(tasks, serial, InProcessExecutor(), progress=False)
    with PoolExecutor(2) as pool:
        done = execute(tasks, pooled, pool, progress=False)
    assert done.ran == 6
    pd.testing.assert_frame_equal(_stored(serial), _stored(pooled))  # bit-identical, not approximately


def test_store_resumes_only_missing_runs_and_cleans_temp_files(tmp_path):
    store = ResultStore(tmp_path)
    store.runs.mkdir(parents=True)
    tasks = _tasks(5)
    first = execute(tasks[:3], store, InProcessExecutor(), progress=False)
    (store.runs / ".abc.parquet.x.tmp").write_bytes(b"half-written")  # what a SIGKILL mid-write leaves
    assert store.clean_temp() == 1
    second = execute(tasks + tasks[:2], store, InProcessExecutor(), progress=False)  # duplicates run once
    assert (first.ran, second.reused, second.ran, second.total) == (3, 3, 2, 5)
    assert store.done_keys() == {t["key"] for t in tasks}


class _InterruptingExecutor(InProcessExecutor):
    """Raises KeyboardInterrupt (as Ctrl-C would) after `after` results."""

    def __init__(self, after: int):
        self.after = after

    def map_unordered(self, fn, tasks):
        for i, task in enumerate(tasks):
            if i == self.after:
                raise KeyboardInterrupt
            yield fn(task)


def test_ctrl_c_leaves_a_valid_store_and_the_next_call_finishes(tmp_path):
    store = ResultStore(tmp_path)
    store.runs.mkdir(parents=True)
    tasks = _tasks(5)
    with pytest.raises(Interrupted) as info:
        execute(tasks, store, _InterruptingExecutor(after=2), progress=False)
    assert (info.value.done, info.value.total) == (2, 5)
    assert len(store.done_keys()) == 2 and not list(store.runs.glob(".*"))
    assert len(store.load(sorted(store.done_keys()))) == 2 * TINY["ticks"]  # every stored part is complete
    assert execute(tasks, store, InProcessExecutor(), progress=False).ran == 3


def test_changed_spec_warns_and_keeps_old_results_out_of_the_summary(tmp_path):
    scenario = tiny()
    replicate(scenario, 3, out=tmp_path, warn=False)
    with pytest.warns(StoreWarning, match="spec changed"):
        result = replicate(scenario, 4, out=tmp_path)  # replication seeds do not depend on the count
    assert (result.execution.reused, result.execution.ran) == (3, 1)
    with pytest.warns(StoreWarning, match="ignored"):
        other = replicate(tiny(**{"wom.contact_prob": 0.3}), 2, out=tmp_path)
    assert other.execution.ran == 2
    assert len(other.tables["outcomes"]) == 2  # the 4 runs of the old spec are not mixed in
    assert len(ResultStore(tmp_path).done_keys()) == 6


def test_a_folder_that_is_not_a_store_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "metrics.parquet").write_bytes(b"a single run's output")
    with pytest.raises(ScenarioError, match="not an experiment store"):
        replicate(tiny(), 2, out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.parquet"]


# ------------------------------------------------------------------------------------------------ statistics
def test_roi_is_profit_uplift_per_unit_of_extra_spend():
    base_profit, base_spend = np.array([100.0, 110, 90, 105]), np.zeros(4)
    out = roi(base_profit, base_profit + 30, base_spend, base_spend + 20)
    assert out["roi"] == pytest.approx(1.5) and out["ci_low"] == pytest.approx(1.5)
    assert np.isnan(roi(base_profit, base_profit + 30, base_spend, base_spend)["roi"])  # no extra spend


def test_common_random_numbers_make_the_paired_ci_narrower(tmp_path):
    base = tiny()
    treatment = tiny(**{"wom.contact_prob": 0.18})
    result = compare(Arm("base", base), Arm("more_talk", treatment), replications=10, out=tmp_path)
    uplift = result.tables["uplift"].set_index("outcome")
    ratios = uplift.loc[["adoption_share", "customers", "revenue", "profit"], "width_ratio"]
    # Measured 0.03-0.09 on these seeds (model of 2026-11-23). Without pairing the ratio would be about 1; 0.6 leaves
    # room for model changes and float differences while still proving that common random numbers pay (a paired CI
    # 0.6x as wide is worth 2.8x as many unpaired runs).
    assert (ratios < 0.6).all(), ratios
    # The same seeds went to both arms: replication i has one seed in both.
    tasks = ResultStore(tmp_path).tasks()
    assert (tasks.groupby("replication")["seed"].nunique() == 1).all()
    assert uplift.loc["pos_messages", "ci_low"] > 0  # more contact, more messages delivered


def test_identical_arms_share_runs_and_have_zero_uplift(tmp_path):
    scenario = tiny()
    result = compare(
        Arm("a", scenario), Arm("b", scenario.model_copy(update={"name": "b"})), replications=3, out=tmp_path
    )
    assert result.execution.total == 3  # one run per replication, shared by both arms
    uplift = result.tables["uplift"].set_index("outcome")["uplift"]
    assert (uplift.drop(index=["roi", "payback"]) == 0).all()  # crisis damage too: never below itself
    assert uplift[["roi", "payback"]].isna().all()  # no programme spend; never ahead, so no payback


# ------------------------------------------------------------------------------------------------ sweep designs
def _spec(tmp_path, body: str):
    (tmp_path / "s.yaml").write_text(
        "network: {n: 300, m: 3}\nticks: 10\nkols: {select: {by: degree, k: 3}}\n", encoding="utf-8"
    )
    path = tmp_path / "sweep.yaml"
    path.write_text("scenario: s.yaml\n" + body, encoding="utf-8")
    return load_sweep(path)


def test_grid_lhs_and_sobol_designs(tmp_path):
    grid = _spec(
        tmp_path,
        "design: grid\nparameters:\n  kols.select.k: [0, 5]\n  wom.contact_prob: {low: 0.1, high: 0.3, steps: 3}\n",
    )
    assert len(grid.points) == 6 and {p["kols.select.k"] for p in grid.points} == {0, 5}
    lhs = _spec(
        tmp_path,
        "design: lhs\nsamples: 10\nparameters:\n  kols.select.k: {low: 0, high: 9}\n"
        "  advertising.reach: {low: 0.001, high: 0.1, scale: log}\n",
    )
    ks = sorted(p["kols.select.k"] for p in lhs.points)
    assert ks == list(range(10))  # integer parameter: one point per unit stratum (Latin hypercube)
    reach = np.log10([p["advertising.reach"] for p in lhs.points])
    assert sorted(np.floor((reach + 3) / 0.2).astype(int)) == list(range(10))  # one point per log stratum
    sobol = _spec(
        tmp_path,
        "design: sobol\nsamples: 8\nparameters:\n  wom.contact_prob: {low: 0.1, high: 0.3}\n"
        "  brand.quality: {low: 0.5, high: 0.9}\n",
    )
    assert len(sobol.points) == 8 * (2 + 2)  # Saltelli without second order: N (D + 2)


def test_a_value_listed_twice_is_refused(tmp_path):
    # it was a second copy of its points: the same runs, counted twice in the sweep's averages
    with pytest.raises(ScenarioError, match=r"parameters.wom.contact_prob: the value 0.1 is listed twice"):
        _spec(tmp_path, "parameters:\n  wom.contact_prob: [0.1, 0.2, 0.10]\n")


def test_a_sweep_sets_an_item_of_a_default_list_as_set_does(tmp_path):
    # s.yaml names no segments: the defaults' first segment is swept, as --set population.segments.0... changes it
    sweep = _spec(tmp_path, "parameters:\n  population.segments.0.conformity.a: [2, 3]\n")
    assert [sc.population.segments[0].conformity.a for sc in sweep.scenarios] == [2, 3]
    assert [sc.population.segments[1] for sc in sweep.scenarios] == [sweep.base.population.segments[1]] * 2


@pytest.mark.parametrize(
    ("name", "points"), [("kol_contact_grid", 36), ("referral_lhs", 60), ("baseline_sobol", 64 * (8 + 2))]
)
def test_bundled_sweep_specs_are_valid(name, points):
    from pathlib import Path

    sweep = load_sweep(Path(__file__).resolve().parents[1] / "experiments" / f"{name}.yaml")
    assert len(sweep.points) == len(sweep.scenarios) == points


def test_a_sweep_spec_names_a_bundled_scenario_as_an_optimiser_spec_does(tmp_path):
    # Installed without the checkout there is no ../scenarios/ to point at: `scenario: kol_launch` is the bundled one
    path = tmp_path / "sweep.yaml"
    path.write_text("scenario: kol_launch\nset: {network.n: 300}\nparameters:\n  kols.select.k: [0, 5]\n")
    sweep = load_sweep(path)
    assert sweep.base.name == "kol_launch" and len(sweep.points) == 2
    path.write_text("scenario: no_such_scenario\nparameters:\n  kols.select.k: [0, 5]\n")
    with pytest.raises(
        ScenarioError, match=r"scenario: file not found: .*\(and no bundled scenario 'no_such_scenario'\)"
    ):
        load_sweep(path)


def test_sobol_wiring_recovers_known_indices_of_a_linear_function(tmp_path):
    """Our design order and value mapping must line up with SALib's analysis: on y = 4 x1 + 2 x2 + x3 of uniform
    inputs the first-order indices are 16/21, 4/21 and 1/21 (Saltelli 2010)."""
    from SALib.analyze import sobol as salib_sobol

    sweep = _spec(
        tmp_path,
        "design: sobol\nsamples: 128\nparameters:\n  wom.contact_prob: {low: 0, high: 1}\n"
        "  brand.quality: {low: 0, high: 1}\n  advertising.reach: {low: 0, high: 1}\n",
    )
    x = np.array([[p[k] for k in ("wom.contact_prob", "brand.quality", "advertising.reach")] for p in sweep.points])
    y = 4 * x[:, 0] + 2 * x[:, 1] + x[:, 2]
    si = salib_sobol.analyze(sobol_problem(sweep.parameters), y, calc_second_order=False, seed=1)
    # With 128 base samples the largest error over 20 design seeds was 0.038 (median 0.008); 0.05 is a safe bound.
    assert si["S1"] == pytest.approx([16 / 21, 4 / 21, 1 / 21], abs=0.05)
    assert si["ST"] == pytest.approx([16 / 21, 4 / 21, 1 / 21], abs=0.05)


# ------------------------------------------------------------------------------------------------ Dask
def _dask_tasks():
    return _tasks(4)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(tmp_path):
    tasks = _dask_tasks()
    serial, remote = ResultStore(tmp_path / "a"), ResultStore(tmp_path / "b")
    for store in (serial, remote):
        store.runs.mkdir(parents=True)
    execute(tasks, serial, InProcessExecutor(), progress=False)
    with DaskExecutor(local_workers=2) as cluster:
        assert cluster.workers == 2
        execute(tasks, remote, cluster, progress=False)
    pd.testing.assert_frame_equal(_stored(serial), _stored(remote))


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dask_cluster_from_the_command_line_gives_identical_results(tmp_path):
    """As a user's cluster would be: `dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = open(tmp_path / "dask.log", "wb")  # noqa: SIM115 - closed in finally
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0", "--no-show"],
            stdout=logs,
            stderr=logs,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        *dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    stdout=logs,
                    stderr=logs,
                )
            )
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        tasks = _dask_tasks()
        serial, remote = ResultStore(tmp_path / "a"), ResultStore(tmp_path / "b")
        for store in (serial, remote):
            store.runs.mkdir(parents=True)
        execute(tasks, serial, InProcessExecutor(), progress=False)
        with DaskExecutor(address) as cluster:
            assert cluster.workers == 2
            execute(tasks, remote, cluster, progress=False)
        pd.testing.assert_frame_equal(_stored(serial), _stored(remote))
    finally:
        for proc in reversed(procs):  # workers first, then the scheduler
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logs.close()


def test_replications_of_a_market_summarise_our_share_and_the_rivals():
    result = replicate("competitor_price_cut", 2, overrides={"network.n": 300, "ticks": 6}, progress=False)
    summary = result.tables["summary"].set_index("metric")
    assert {"market_share", "switch_out", "rival_acme_market_share", "rival_acme_profit"} <= set(summary.index)
    assert (summary.loc["market_share", "mean"] + summary.loc["rival_acme_market_share", "mean"]) == pytest.approx(1)
    assert "market_share" not in replicate(tiny(), 2, progress=False).tables["summary"]["metric"].tolist()


@pytest.mark.parametrize(("dask", "dask_local"), [("tcp://127.0.0.1:1", None), (None, 2)])
def test_workers_beside_a_dask_cluster_are_refused_not_ignored(dask, dask_local):
    # A Dask cluster runs the jobs on its own workers: `--workers 2 --dask-local 2` ran on the cluster and dropped
    # --workers without a word. Refused before any cluster starts.
    from wom_sim.experiment.executors import make_executor

    with pytest.raises(ScenarioError, match="--workers and --dask"):
        make_executor(2, dask, dask_local)
