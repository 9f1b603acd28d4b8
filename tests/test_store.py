"""wom_sim/experiment/store.py and the worker checks of executors.py: one writer at a time (a real second
process), run keys and parts carrying code version and resolved parameters, damaged parts found and rerun,
stores of another kind refused, workers with other code refused, servers on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.experiment import runner
from wom_sim.experiment.executors import (
    DaskExecutor,
    InProcessExecutor,
    VersionMismatch,
    execute,
    run_checked,
    version_skew,
    worker_versions,
)
from wom_sim.experiment.runner import make_task, run_key, scenario_payload
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.experiment.store import ResultStore, StoreBusy, StoreWarning, code_version
from wom_sim.sim.model import resolve_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = {"network.n": 200, "network.m": 3, "ticks": 6}
GRID = (
    "name: grid\nscenario: tiny.yaml\ndesign: grid\nparameters:\n  wom.contact_prob: [0.1, 0.2]\n"
    "replications: 1\nmetrics: [adoption_share]\n"
)


def _tasks(n: int) -> list[dict]:
    scenario = resolve_scenario(None, TINY)
    return [make_task(scenario, seed) for seed in replication_seeds(3, n)]


def _hold_lock(path: Path) -> subprocess.Popen:
    """A second process that takes the store's writer lock and keeps it until killed."""
    code = (
        "import sys, time\n"
        "from wom_sim.experiment.store import ResultStore\n"
        f"ResultStore({str(path)!r}).lock()\n"
        "print('locked', flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


# ------------------------------------------------------------------------------------------------ one writer
def test_a_second_writer_is_refused_while_the_first_runs_and_takes_over_when_it_dies(tmp_path):
    store_path = tmp_path / "store"
    holder = _hold_lock(store_path)
    try:
        tasks = _tasks(2)
        table = pd.DataFrame({"run_key": [t["key"] for t in tasks]})
        with pytest.raises(StoreBusy, match=rf"pid {holder.pid} on .*is writing this store"):
            ResultStore(store_path).open("replications", {}, "h", table)
        assert not (store_path / "manifest.json").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    store = ResultStore(store_path)  # the holder was killed: its lock is free at once, no timeout
    store.open("replications", {}, "h", table)
    assert execute(tasks, store, InProcessExecutor(), progress=False).ran == 2
    store.close()


def test_the_cli_refuses_a_concurrent_sweep_in_one_line(tmp_path):
    (tmp_path / "tiny.yaml").write_text("name: tiny\nticks: 3\nnetwork: {n: 60, m: 2}\n", encoding="utf-8")
    (tmp_path / "grid.yaml").write_text(GRID, encoding="utf-8")
    out = tmp_path / "sw"
    first = CliRunner().invoke(cli, ["sweep", str(tmp_path / "grid.yaml"), "--workers", "0", "-q", "--out", str(out)])
    assert first.exit_code == 0, first.output
    holder = _hold_lock(out)
    try:
        result = CliRunner().invoke(cli, ["sweep", str(tmp_path / "grid.yaml"), "--workers", "0", "--out", str(out)])
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "is writing this store" in errors[0], result.output


def test_compare_into_a_sweep_store_is_refused(tmp_path):
    (tmp_path / "tiny.yaml").write_text("name: tiny\nticks: 3\nnetwork: {n: 60, m: 2}\n", encoding="utf-8")
    (tmp_path / "grid.yaml").write_text(GRID, encoding="utf-8")
    out = tmp_path / "sw"
    runner_ = CliRunner()
    assert (
        runner_.invoke(cli, ["sweep", str(tmp_path / "grid.yaml"), "--workers", "0", "-q", "--out", str(out)]).exit_code
        == 0
    )
    before = sorted(p.name for p in (out / "runs").iterdir())
    result = runner_.invoke(
        cli,
        [
            "compare",
            str(tmp_path / "tiny.yaml"),
            "wom.contact_prob=0.3",
            "-r",
            "2",
            "--workers",
            "0",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2 and "sweep output, not a compare output" in result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


# ------------------------------------------------------------------------------------------------ keys and parts
def test_run_keys_hash_the_resolved_scenario_and_the_code_version(monkeypatch):
    scenario = resolve_scenario(None, TINY)
    payload = scenario_payload(scenario)
    explicit = resolve_scenario(None, {**TINY, "wom.contact_prob": scenario.wom.contact_prob})
    assert run_key(payload, 1) == run_key(scenario_payload(explicit), 1)  # a default spelt out: same run
    key = run_key(payload, 1)
    monkeypatch.setattr(runner, "code_version", lambda: "0.0.0+otherhash")
    assert run_key(payload, 1) != key  # other code: never the same key


def test_parts_carry_code_version_seed_and_fully_resolved_parameters(tmp_path):
    store = ResultStore(tmp_path)
    tasks = _tasks(1)
    execute(tasks, store, InProcessExecutor(), progress=False)
    meta = store.provenance(tasks[0]["key"])
    assert meta["code_version"] == code_version() and meta["seed"] == tasks[0]["seed"]
    assert meta["parameters"]["wom"]["contact_prob"] == 0.15  # a default, never written by the user
    assert meta["parameters"]["network"]["n"] == 200


def test_a_run_shared_by_two_tasks_is_loaded_once(tmp_path):
    # Two identical arms (or sweep points) share their runs; loading a run twice would double every summed outcome.
    store = ResultStore(tmp_path)
    tasks = _tasks(2)
    execute(tasks, store, InProcessExecutor(), progress=False)
    keys = [t["key"] for t in tasks]
    once = store.load(keys)
    pd.testing.assert_frame_equal(store.load([keys[0], keys[1], keys[0], keys[1]]), once)
    assert len(once) == 2 * TINY["ticks"]


def test_a_truncated_or_empty_part_is_named_and_recomputed(tmp_path):
    store = ResultStore(tmp_path)
    tasks = _tasks(3)
    execute(tasks, store, InProcessExecutor(), progress=False)
    original = {t["key"]: pd.read_parquet(store.part(t["key"])) for t in tasks}
    cut, empty = store.part(tasks[0]["key"]), store.part(tasks[1]["key"])
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])  # a copy cut short
    empty.write_bytes(b"")  # a full disk
    with pytest.warns(StoreWarning) as caught:
        again = execute(tasks, store, InProcessExecutor(), progress=False)
    named = " ".join(str(w.message) for w in caught)
    assert cut.name in named and empty.name in named
    assert (again.reused, again.ran) == (1, 2)
    for key, frame in original.items():
        pd.testing.assert_frame_equal(pd.read_parquet(store.part(key)), frame, check_exact=True)


def test_a_damaged_part_with_intact_markers_is_named_when_read(tmp_path):
    store = ResultStore(tmp_path)
    tasks = _tasks(1)
    execute(tasks, store, InProcessExecutor(), progress=False)
    part = store.part(tasks[0]["key"])
    data = bytearray(part.read_bytes())
    data[8 : len(data) // 2] = b"\x00" * (len(data) // 2 - 8)
    part.write_bytes(bytes(data))
    with pytest.raises(ScenarioError, match=part.name):
        store.load([tasks[0]["key"]])
    assert store.missing([tasks[0]["key"]]) == [tasks[0]["key"]]  # set aside: the next run recomputes it


# ------------------------------------------------------------------------------------------------ worker versions
def test_a_worker_with_other_code_refuses_the_task():
    task = {**_tasks(1)[0], "code": "0.0.0+someoneelse"}
    with pytest.raises(VersionMismatch, match="runs wom-sim .*the client 0.0.0\\+someoneelse"):
        run_checked(task)


class _FakeClient:
    def __init__(self, versions):
        self.versions = versions
        self.closed = False

    def run(self, fn):
        assert fn is worker_versions
        return self.versions

    def close(self):
        self.closed = True


def test_dask_workers_are_compared_with_the_client_before_any_task():
    mine = worker_versions()
    executor = DaskExecutor.__new__(DaskExecutor)
    executor.name, executor.cluster = "a fake cluster", None
    executor.client = _FakeClient({"tcp://10.0.0.9:4000": mine})
    executor.check_versions()  # same code everywhere: fine
    executor.client = _FakeClient({"tcp://10.0.0.9:4000": mine, "tcp://10.0.0.7:4000": {**mine, "numpy": "1.0"}})
    with pytest.raises(VersionMismatch, match=r"worker tcp://10.0.0.7:4000 runs numpy 1.0"):
        executor.check_versions()
    assert version_skew(mine, {**mine, "wom-sim code": "x"}).startswith("wom-sim code x")


@pytest.mark.slow
def test_dask_local_cluster_listens_on_loopback_only():
    pytest.importorskip("distributed")
    with DaskExecutor(local_workers=1) as executor:
        info = executor.client.scheduler_info()
        assert executor.client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(address.startswith("tcp://127.0.0.1:") for address in info["workers"])
        assert "127.0.0.1" in executor.client.dashboard_link
        frame = next(executor.map_unordered(run_checked, [{k: v for k, v in _tasks(1)[0].items()}]))
        assert len(frame) == TINY["ticks"]


def test_a_stale_lock_file_of_a_dead_process_does_not_block(tmp_path):
    (tmp_path / "wom-sim.lock").write_text('{"pid": 999999999, "host": "x", "since": "then"}')
    store = ResultStore(tmp_path)
    store.lock()
    assert f'"pid": {os.getpid()}' in (tmp_path / "wom-sim.lock").read_text()
    store.close()


@pytest.mark.slow
def test_a_real_dask_worker_running_other_code_is_refused_before_any_task(tmp_path):
    """A `dask worker` whose wom-sim has one default changed (wom.contact_prob 0.15 -> 0.16), as a stale install
    on one machine would be: the client refuses the cluster, naming the worker, and writes nothing."""
    pytest.importorskip("distributed")
    from distributed import Client

    other = tmp_path / "other"
    shutil.copytree(ROOT / "wom_sim", other / "wom_sim", ignore=shutil.ignore_patterns("__pycache__"))
    schema = other / "wom_sim" / "scenario" / "schema.py"
    text = schema.read_text(encoding="utf-8")
    assert "contact_prob: float = Field(0.15," in text
    schema.write_text(text.replace("contact_prob: float = Field(0.15,", "contact_prob: float = Field(0.16,"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = open(tmp_path / "dask.log", "wb")  # noqa: SIM115 - closed in finally
    scheduler_cmd = [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"]
    worker_cmd = [*dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
    procs = [subprocess.Popen([*scheduler_cmd, "--no-show"], stdout=logs, stderr=logs)]
    try:
        env = {**os.environ, "PYTHONPATH": str(other)}
        # cwd: `python -m` puts the working folder first on sys.path, before PYTHONPATH
        procs.append(subprocess.Popen(worker_cmd, stdout=logs, stderr=logs, env=env, cwd=tmp_path))
        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    client.wait_for_workers(1, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        store = ResultStore(tmp_path / "store")
        match = r"worker tcp://127.0.0.1:\d+ runs wom-sim code"
        with pytest.raises(VersionMismatch, match=match), DaskExecutor(address) as cluster:
            execute(_tasks(1), store, cluster, progress=False)
        assert not (tmp_path / "store").exists()
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logs.close()


def test_a_store_of_another_kind_is_named_with_its_article(tmp_path):
    # "not a optimise store" read as a typo in the one line a user gets; the article follows the kind's sound.
    table = pd.DataFrame({"run_key": [t["key"] for t in _tasks(1)]})
    ResultStore(tmp_path / "s").open("sweep", {}, "h", table)
    with pytest.raises(ScenarioError, match="holds a wom-sim sweep output, not an optimise output"):
        ResultStore(tmp_path / "s").open("optimise", {}, "h", table)


def test_resuming_a_store_whose_edge_list_changed_is_refused_in_one_line_before_any_run(tmp_path):
    # The run key names a data file by its path: after the edge list was edited in place, `run -r` resumed the old
    # runs as runs of the new graph and summarised both together. It is refused, naming the store, the file and
    # how to start fresh, with exit code 2; the stored runs and the manifest are left as they were.
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target\n" + "".join(f"{i},{(i + 1) % 40}\n{i},{(i + 7) % 40}\n" for i in range(40)))
    (tmp_path / "net.yaml").write_text(f"name: net\nticks: 5\nnetwork: {{file: {edges}}}\n", encoding="utf-8")
    out = tmp_path / "rep"
    args = ["run", str(tmp_path / "net.yaml"), "-r", "2", "--workers", "0", "--out", str(out), "-q"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    again = CliRunner().invoke(cli, args)  # unchanged: resumes, nothing refused
    assert again.exit_code == 0, again.output
    before = {p.name: p.stat().st_mtime_ns for p in [out / "manifest.json", *(out / "runs").iterdir()]}
    edges.write_text(edges.read_text() + "0,20\n")
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"error: {out}: {edges} changed since the runs stored here were made from it; resuming would mix runs of "
        "the old and the new file: start fresh with another --out (or move this store away)"
    ]
    assert {p.name: p.stat().st_mtime_ns for p in [out / "manifest.json", *(out / "runs").iterdir()]} == before
    assert CliRunner().invoke(cli, [*args[:-3], "--out", str(tmp_path / "fresh"), "-q"]).exit_code == 0


def test_a_changed_spec_is_warned_about_before_the_first_run(tmp_path):
    # `wom-sim run -r N` printed "the replications spec changed" after the runs: a warning about the input comes
    # before the long work (here: before the progress bar's first line).
    out = tmp_path / "rep"
    base = ["run", "baseline", "-r", "2", "--set", "network.n=200", "--workers", "0", "--out", str(out)]
    assert CliRunner().invoke(cli, [*base, "--ticks", "5", "-q"]).exit_code == 0
    result = CliRunner().invoke(cli, [*base, "--ticks", "6"])
    assert result.exit_code == 0, result.output
    warning = result.stderr.index("warning: ")
    assert "spec changed" in result.stderr[warning:] and warning < result.stderr.index("replications:")


def test_a_part_table_is_the_one_from_pandas_gives(tmp_path):
    # The store converts a part with the schema of the first part of the same layout; the file must be the one
    # `pa.Table.from_pandas` would give, byte for byte, NaN as null included.
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from wom_sim.experiment.store import _arrow_table

    scenario = resolve_scenario("baseline", {"network.n": 300, "ticks": 6})
    for seed in replication_seeds(5, 3):
        frame = runner.run_task(make_task(scenario, seed))
        frame.loc[2, "brand"] = np.nan
        want, got = pa.Table.from_pandas(frame, preserve_index=False), _arrow_table(frame)
        assert got.equals(want) and got.schema.metadata == want.schema.metadata
        blobs = []
        for table in (want, got):
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            blobs.append(buffer.getvalue())
        assert blobs[0] == blobs[1]
