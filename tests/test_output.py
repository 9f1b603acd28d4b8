"""wom_sim/output.py: no command deletes or overwrites a file it did not write; manifests; leftovers of killed runs;
checks of the output folder before any work; non-finite results refused."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.output import (
    HOST,
    MANIFEST,
    abandoned,
    atomic_dir,
    check_finite_frame,
    clean_abandoned,
    prepare_out,
    read_manifest,
)

TINY = "name: tiny\nseed: 5\nticks: 3\nnetwork: {n: 40, m: 2}\n"


def invoke(*args, cwd: Path | None = None):
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, [str(a) for a in args])
    finally:
        os.chdir(old)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no such process now (pid reuse within a test is practically impossible)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.output
    return errors[0]


# ------------------------------------------------------------------------------------------------ refusing
@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_a_folder_of_the_users_files_is_refused_and_left_alone(tmp_path, tiny, command):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "budget.xlsx").write_bytes(b"the user's numbers")
    (tmp_path / "t.yaml").write_text("parameters: {wom.contact_prob: [0.1, 0.2]}\ntargets: [{metric: nps, value: 1}]\n")
    extra = ["--target", tmp_path / "t.yaml"] if command == "calibrate" else ["-q"]
    line = _one_error_line(invoke(command, tiny, *extra, "--out", mine))
    assert "not a wom-sim output" in line and "budget.xlsx" in line
    assert sorted(p.name for p in mine.iterdir()) == ["budget.xlsx"]
    assert (mine / "budget.xlsx").read_bytes() == b"the user's numbers"


def test_the_current_folder_is_never_replaced(tmp_path, tiny):
    (tmp_path / "notes.txt").write_text("keep", encoding="utf-8")
    _one_error_line(invoke("run", tiny, "-q", "--out", ".", cwd=tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "keep"


def test_an_earlier_run_needs_force_and_force_keeps_foreign_files(tmp_path, tiny):
    out = tmp_path / "out"
    assert invoke("run", tiny, "-q", "--trace", "--out", out).exit_code == 0
    manifest = read_manifest(out)
    assert manifest["kind"] == "run" and "wom_trace.parquet" in manifest["files"]
    (out / "my-notes.md").write_text("mine", encoding="utf-8")
    assert "--force" in _one_error_line(invoke("run", tiny, "-q", "--out", out))
    assert invoke("run", tiny, "-q", "--force", "--out", out).exit_code == 0
    names = {p.name for p in out.iterdir()}
    assert "my-notes.md" in names  # not ours: kept
    assert "wom_trace.parquet" not in names  # ours from the earlier run, not written this time: removed
    assert {"metrics.parquet", "people.parquet", "scenario.yaml", "dashboard.png", MANIFEST} <= names
    assert not [n for n in names if n.endswith(".tmp")]


def test_another_kind_of_output_is_refused_even_with_force(tmp_path, tiny):
    out = tmp_path / "out"
    assert invoke("run", tiny, "-q", "--out", out).exit_code == 0
    line = _one_error_line(invoke("compare", tiny, "wom.contact_prob=0.2", "-r", 2, "--workers", 0, "--out", out))
    assert "run output" in line
    line = _one_error_line(invoke("sweep", tiny, "--out", out))  # a scenario is not a sweep spec either
    assert "Traceback" not in line


def test_out_below_a_file_or_a_file_is_refused_before_simulating(tmp_path, tiny):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert "is below" in _one_error_line(invoke("run", tiny, "-q", "--out", tmp_path / "afile" / "sub"))
    assert "file" in _one_error_line(invoke("run", tiny, "-q", "--out", tmp_path / "afile"))
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_simulating(tmp_path, tiny):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "cannot write" in _one_error_line(invoke("run", tiny, "-q", "--out", locked / "out"))
    finally:
        locked.chmod(0o700)


def test_prepare_out_checks_without_writing(tmp_path):
    target = tmp_path / "a" / "b"
    assert prepare_out(target, "run") == target
    assert not (tmp_path / "a").exists()
    with pytest.raises(ScenarioError, match="NUL"):
        prepare_out(tmp_path / "x\x00y", "run")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_out(empty, "run") == empty


# ------------------------------------------------------------------------------------------------ atomic folders
def test_atomic_dir_leaves_nothing_on_failure_and_writes_a_manifest(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(out, "run") as tmp:
        (tmp / "metrics.csv").write_text("t\n0\n")
        raise RuntimeError("simulated crash while writing")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out, "run", seed=3) as tmp:
        (tmp / "metrics.csv").write_text("t\n0\n")
    record = json.loads((out / MANIFEST).read_text())
    assert record["kind"] == "run" and record["files"] == ["metrics.csv"] and record["seed"] == 3
    assert record["pid"] == os.getpid() and record["host"] == HOST and record["wom_sim_version"]


def test_only_provably_abandoned_temps_are_cleaned(tmp_path):
    dead = tmp_path / f".out.{_dead_pid()}@{HOST}.abc123.tmp"
    alive = tmp_path / f".out.{os.getpid()}@{HOST}.def456.tmp"
    remote = tmp_path / f".out.{_dead_pid()}@some-other-host.ghi789.tmp"
    unknown = tmp_path / ".out.xyz.tmp"
    for path in (dead, alive, remote):
        path.mkdir()
        (path / "metrics.parquet").write_bytes(b"half")
    unknown.write_bytes(b"?")
    assert abandoned(dead) and not abandoned(alive) and not abandoned(remote) and not abandoned(unknown)
    assert clean_abandoned(tmp_path, "out") == 1
    assert not dead.exists() and alive.exists() and remote.exists() and unknown.exists()


def test_a_killed_single_run_leaves_a_temp_that_the_next_run_removes(tmp_path, tiny):
    out = tmp_path / "out"
    code = (
        "import os, signal, sys\n"
        "from wom_sim.output import atomic_dir\n"
        f"with atomic_dir({str(out)!r}, 'run') as tmp:\n"
        "    (tmp / 'metrics.parquet').write_bytes(b'half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=60)
    assert proc.returncode == -9
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert len(leftovers) == 1 and abandoned(leftovers[0])
    assert invoke("run", tiny, "-q", "--out", out).exit_code == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


# ------------------------------------------------------------------------------------------------ finite results
def test_non_finite_money_or_infinite_values_are_refused():
    frame = pd.DataFrame({"t": [0, 1], "revenue": [1.0, np.inf], "nps": [np.nan, 1.0]})
    with pytest.raises(ScenarioError, match="revenue is inf at t = 1"):
        check_finite_frame(frame, "run")
    check_finite_frame(frame.assign(revenue=[1.0, 2.0]), "run")  # a NaN NPS (no customers yet) is an answer
    with pytest.raises(ScenarioError, match="profit is nan"):
        check_finite_frame(pd.DataFrame({"t": [0], "profit": [np.nan]}), "run")


def test_validate_and_calibrate_carry_their_kind(tmp_path):
    out = tmp_path / "v"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"kind": "validate", "files": []}))
    with pytest.raises(ScenarioError, match="validate output, not a calibrate"):
        prepare_out(out, "calibrate", force=True)
    with pytest.raises(ScenarioError, match="--force"):
        prepare_out(out, "validate")
    assert prepare_out(out, "validate", force=True) == out


def test_an_output_that_appears_meanwhile_is_not_replaced_without_force(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ScenarioError, match="appeared meanwhile"), atomic_dir(out, "run", replace=False) as tmp:
        (tmp / "metrics.csv").write_text("mine\n")
        with atomic_dir(out, "run") as other:  # a second run, started at the same time, finishes first
            (other / "metrics.csv").write_text("theirs\n")
    assert (out / "metrics.csv").read_text() == "theirs\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("command", ["run", "run-r"])
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, tiny, monkeypatch, command):
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pyarrow.parquet.write_table", full)  # every Parquet file is written through it
    out = tmp_path / "out"
    extra = ["-r", 2, "--workers", 0] if command == "run-r" else []
    line = _one_error_line(invoke("run", tiny, "-q", *extra, "--out", out))
    assert "no space left" in line
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("tiny.yaml", "out")]
    assert leftovers == []
    if command == "run":
        assert not out.exists()


def test_parquet_tables_read_back_the_same_and_dictionary_encode_only_non_numeric_columns(tmp_path):
    import pyarrow.parquet as pq

    from wom_sim.output import write_table

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "id": np.arange(50), "satisfaction": rng.random(50), "is_kol": rng.random(50) < 0.1,
        "status": pd.Categorical.from_codes(rng.integers(0, 3, 50), ["unaware", "aware", "customer"]),
        "name": [f"p{i % 4}" for i in range(50)],
    })  # fmt: skip
    path = write_table(frame, tmp_path / "people")
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    dictionary = {name for name, used in encodings.items() if any("DICTIONARY" in e for e in used)}
    assert dictionary == {"status", "name"}
