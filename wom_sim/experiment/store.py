"""The resumable result store: one Parquet part per finished run, keyed by a hash of its parameters, seed and code.

Layout of a store folder::

    wom-sim.json      the output manifest every wom-sim output has (kind, version, time; see wom_sim.output)
    manifest.json     kind (replications, compare, sweep), the spec, its hash, the wom-sim version, the digest
                      of every data file the spec reads (a store whose file changed is refused: `data_files`)
    tasks.parquet     one row per task of the current spec: run_key, seed, replication, arm or point, parameters
    runs/<key>.parquet  the per-tick metrics of one finished run (written atomically: temp file, then rename);
                      its Parquet metadata keeps the code version, the seed and the fully resolved parameters
                      and, for a run made with `compare --by`, its outcomes per group (BY_META)
    wom-sim.lock      the writer's pid, host and start time while a command writes the store

A part exists only once its run finished, so after a kill (even SIGKILL) every part on disk is complete and a
second invocation runs only the keys that are missing. The run key hashes the fully resolved scenario (defaults
included) and the code version (`code_version`), so results of different code or parameters never share a key.
A part that is empty or damaged (a full disk, a copy cut short) is named on stderr, set aside and run again.

One writer at a time: `open` takes an exclusive lock (flock) on wom-sim.lock and refuses, in one line, while
another process holds it. The kernel drops the lock when its holder dies, so the lock of a killed run is taken
over at once, without a timeout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from wom_sim.errors import ScenarioError
from wom_sim.output import (
    HOST,
    LOCK_NAME,
    atomic_file,
    package_version,
    prepare_out,
    with_article,
    write_manifest,
    write_table,
)

MANIFEST = "manifest.json"
TASKS = "tasks.parquet"
RUNS = "runs"
LOCK = LOCK_NAME
PART_META = b"wom_sim"  # Parquet key-value metadata of a part: code version, seed, parameters
# A part's outcomes per group (segment, acquired_by, ...; `wom_sim.analysis.segments.run_breakdowns`) as JSON, when
# its run was asked for them (`compare --by`); parts written without them (or before they existed) have no such key.
BY_META = b"wom_sim_by"
# The files a scenario reads (`network.file`, the edge list; `network.people`, the person table) enter a run key by
# their path, not their content: a file changed under the same name would resume the runs of its old content as if
# they were runs of the new one. Their digests are kept in the manifest, and a store whose file changed is refused.
DATA_FILE_KEYS = ("file", "people")
# The code that decides a run's numbers: its sources are hashed into the code version (and so into run keys).
_NUMERIC_SOURCES = ("errors.py", "scenario", "network", "sim", "experiment/runner.py")


class StoreWarning(UserWarning):
    """The store holds results of a different spec or wom-sim version (they are not mixed in)."""


class StoreBusy(ScenarioError):
    """Another process is writing the store."""


def _version() -> str:
    return package_version()


@functools.cache
def code_version() -> str:
    """The wom-sim version and a hash of the sources that decide a run's numbers (scenario, network, sim, runner).

    Two installs report the same code version only if every one of those files is byte-identical, so a worker
    with one default changed is caught, and a store never mixes runs of different code under one key.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for entry in _NUMERIC_SOURCES:
        base = root / entry
        files = sorted(base.rglob("*.py")) if base.is_dir() else [base]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(b"\0")
            with contextlib.suppress(OSError):
                digest.update(file.read_bytes())
    return f"{_version()}+{digest.hexdigest()[:12]}"


# Locks this process holds, by store folder: a process may reopen a store it is already writing.
_HELD: dict[Path, tuple[int, int]] = {}


# The Arrow schema (pandas metadata included) of each column layout a part was written with: every run of an
# experiment has the same columns and dtypes, and `pa.Table.from_pandas` spent most of its time (about 7 of a
# part's 12 ms of the parent's CPU at 104 ticks) working out that schema again, column by column.
_PART_SCHEMAS: dict[tuple, pa.Schema] = {}


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """`pa.Table.from_pandas(frame, preserve_index=False)`, the same table: the schema of a layout seen before is
    reused and each column converted as `from_pandas` converts it (`pa.array(..., from_pandas=True)`: NaN is null)."""
    if frame.attrs or not frame.columns.is_unique:
        return pa.Table.from_pandas(frame, preserve_index=False)
    layout = (tuple(frame.columns), tuple(frame.dtypes), type(frame.columns), frame.columns.dtype)
    schema = _PART_SCHEMAS.get(layout)
    if schema is None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        _PART_SCHEMAS[layout] = table.schema
        return table
    arrays = [
        pa.array(col.to_numpy() if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf" else col,
                 type=field.type, from_pandas=True)
        for (_, col), field in zip(frame.items(), schema, strict=True)
    ]  # fmt: skip
    return pa.Table.from_arrays(arrays, schema=schema)


class ResultStore:
    """A folder of finished runs (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.runs = self.path / RUNS
        self._locked = False

    # ----------------------------------------------------------------------------------- lock
    def _lock_key(self) -> Path:
        return self.path.resolve()

    def lock(self) -> None:
        """Become the store's only writer, or raise StoreBusy naming the holder (pid, host, since when)."""
        if self._locked:
            return
        key = self._lock_key()
        if key in _HELD:
            fd, count = _HELD[key]
            _HELD[key] = (fd, count + 1)
            self._locked = True
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('since', '?')}"
            raise StoreBusy(
                f"{self.path}: another wom-sim ({who}) is writing this store; wait until it finishes "
                "(its command prints a summary) or use another --out"
            ) from None
        record = {"pid": os.getpid(), "host": HOST, "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        _HELD[key] = (fd, 1)
        self._locked = True

    def close(self) -> None:
        """Release the writer lock (also released by the kernel when the process ends, however it ends)."""
        if not self._locked:
            return
        self._locked = False
        key = self._lock_key()
        fd, count = _HELD.get(key, (None, 0))
        if fd is None:
            return
        if count > 1:
            _HELD[key] = (fd, count - 1)
            return
        del _HELD[key]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------- manifest and tasks
    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when the folder is not a store (yet)."""
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def open(
        self, kind: str, spec: dict[str, Any], spec_hash: str, tasks: pd.DataFrame, warn: bool = True
    ) -> list[str]:
        """Lock, then create or resume the store for this spec; returns warnings (issued as StoreWarning when `warn`).

        Refused (ScenarioError): a folder that is not a wom-sim output, a store of another kind (a comparison into
        a sweep store), and a store another process is writing.
        """
        prepare_out(self.path, kind, resume=True)
        fresh = not self.path.exists()
        self.lock()
        try:
            return self._open(kind, spec, spec_hash, tasks, warn)
        except BaseException:
            self.close()
            if fresh and self.manifest() is None:  # nothing of ours was written: leave nothing behind
                with contextlib.suppress(OSError):
                    (self.path / LOCK).unlink()
                    shutil.rmtree(self.runs, ignore_errors=True)
                    self.path.rmdir()
            raise

    def _open(self, kind: str, spec: dict[str, Any], spec_hash: str, tasks: pd.DataFrame, warn: bool) -> list[str]:
        old = self.manifest()
        if old is not None and old.get("kind") != kind:
            raise ScenarioError(
                f"--out {self.path}: holds a wom-sim {old.get('kind')} store, not {with_article(kind)} store; "
                "choose another folder"
            )
        notes: list[str] = []
        keys = set(tasks["run_key"])
        inputs = data_files(spec)
        changed = [f for f, digest in ((old or {}).get("inputs") or {}).items() if inputs.get(f, digest) != digest]
        if changed and self.done_keys() & keys:
            # Refused, not warned: the same keys would mix runs of the old and the new file in one summary.
            raise ScenarioError(
                f"{self.path}: {changed[0]} changed since the runs stored here were made from it; resuming would mix "
                "runs of the old and the new file: start fresh with another --out (or move this store away)"
            )
        if old is not None and old.get("spec_hash") != spec_hash:
            done = self.done_keys()
            reused, stale = len(done & keys), len(done - keys)
            notes.append(
                f"{self.path}: the {old.get('kind', 'experiment')} spec changed since this store was written "
                f"(spec hash {old.get('spec_hash')} -> {spec_hash}); {reused} stored runs with identical parameters "
                f"and seed are reused, {stale} runs of the old spec are ignored (kept on disk, not mixed in)"
            )
        if old is not None and old.get("code_version", old.get("wom_sim_version")) not in (None, code_version()):
            notes.append(
                f"{self.path}: stored runs were made by wom-sim {old.get('code_version', old.get('wom_sim_version'))}, "
                f"this is {code_version()}; they are kept apart (different run keys) and recomputed where needed"
            )
        for note in notes if warn else ():
            warnings.warn(note, StoreWarning, stacklevel=3)
        self.runs.mkdir(parents=True, exist_ok=True)
        self.clean_temp()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest = {
            "kind": kind,
            "spec_hash": spec_hash,
            "wom_sim_version": _version(),
            "code_version": code_version(),
            "created": (old or {}).get("created", now) if old and old.get("spec_hash") == spec_hash else now,
            "updated": now,
            "tasks": len(tasks),
            "unique_runs": len(keys),
            "inputs": inputs,
            "spec": spec,
        }
        write_table(tasks, self.path / TASKS)
        with atomic_file(self.path / MANIFEST, "w") as handle:
            handle.write(json.dumps(manifest, indent=2, sort_keys=False, default=str))
        write_manifest(self.path, kind, [MANIFEST, TASKS, RUNS], store=True, code_version=code_version(), notes=notes)
        return notes

    def tasks(self) -> pd.DataFrame:
        """The task table of the current spec."""
        try:
            return pd.read_parquet(self.path / TASKS)
        except FileNotFoundError:
            raise ScenarioError(f"{self.path}: not an experiment store (no {TASKS})") from None
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise ScenarioError(
                f"{self.path / TASKS}: damaged ({str(exc).splitlines()[0][:80]}); run the same command again"
            ) from None

    # ----------------------------------------------------------------------------------- runs
    def part(self, key: str) -> Path:
        """Where the part of run `key` lives."""
        return self.runs / f"{key}.parquet"

    def done_keys(self) -> set[str]:
        """Keys of every finished run on disk (temp files of interrupted writes are not parts)."""
        if not self.runs.is_dir():
            return set()
        return {p.stem for p in self.runs.glob("*.parquet") if not p.name.startswith(".")}

    def clean_temp(self) -> int:
        """Remove temp files a killed writer left in runs/; returns how many.

        Only while no other process writes the store: under the lock (taken here when this process does not
        hold it yet) every temp file is a dead writer's.
        """
        if not self.runs.is_dir():
            return 0
        held = self._locked
        if not held:
            self.lock()
        try:
            count = 0
            for tmp in self.runs.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                count += 1
            return count
        finally:
            if not held:
                self.close()

    def write_run(
        self, key: str, frame: pd.DataFrame, meta: dict[str, Any] | None = None, breakdowns: dict | None = None
    ) -> Path:
        """Store one finished run atomically, with its provenance (code version, seed, parameters) as metadata and,
        when given, its outcomes per group (`breakdowns`: plain lists by column, as `run_breakdowns` gives)."""
        table = _arrow_table(frame)
        record = {"run_key": key, "code_version": code_version(), **(meta or {})}
        extra = {PART_META: json.dumps(record, default=str).encode()}
        if breakdowns is not None:
            extra[BY_META] = json.dumps(breakdowns).encode()  # floats round-trip exactly through JSON
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
        path = self.part(key)
        with atomic_file(path) as handle:
            pq.write_table(table, handle)
        return path

    def provenance(self, key: str) -> dict[str, Any]:
        """The metadata a part was written with ({} for parts of older versions)."""
        meta = pq.read_schema(self.part(key)).metadata or {}
        return json.loads(meta[PART_META]) if PART_META in meta else {}

    def breakdowns(self, keys: list[str] | set[str]) -> dict[str, dict[str, pd.DataFrame]]:
        """The outcomes per group of the given runs, by key and column (``{key: {"segment": frame}}``); runs stored
        without them, or not stored, are left out. Reads only the parts' footers."""
        out = {}
        for key in dict.fromkeys(keys):
            try:
                meta = pq.read_schema(self.part(key)).metadata or {}
            except (OSError, ValueError, pa.ArrowException):
                continue  # not stored (or damaged: `missing` sets it aside and it runs again)
            if BY_META in meta:
                out[key] = {by: pd.DataFrame(cols) for by, cols in json.loads(meta[BY_META]).items()}
        return out

    def damaged(self, keys: list[str] | set[str] | None = None) -> list[str]:
        """Keys whose part is empty or not a complete Parquet file (both magic markers checked: fast)."""
        out = []
        for key in sorted(self.done_keys() if keys is None else set(keys) & self.done_keys()):
            path = self.part(key)
            try:
                size = path.stat().st_size
                with open(path, "rb") as handle:
                    head = handle.read(4)
                    handle.seek(max(0, size - 4))
                    tail = handle.read(4)
            except OSError:
                out.append(key)
                continue
            if size < 12 or head != b"PAR1" or tail != b"PAR1":
                out.append(key)
        return out

    def set_aside(self, key: str) -> Path:
        """Move a damaged part out of the way (hidden, kept for inspection) so that the next run recomputes it."""
        target = self.runs / f".{key}.parquet.damaged"
        os.replace(self.part(key), target)
        return target

    def repair(self, keys: list[str] | set[str] | None = None) -> list[str]:
        """Set every damaged part aside, warning about each; returns the keys (they count as missing)."""
        bad = self.damaged(keys)
        for key in bad:
            warnings.warn(
                f"{self.part(key)}: damaged or empty part (e.g. a full disk or a copy cut short); set aside as "
                f".{key}.parquet.damaged and run again",
                StoreWarning,
                stacklevel=2,
            )
            self.set_aside(key)
        return bad

    def load(self, keys: list[str] | set[str] | None = None) -> pd.DataFrame:
        """The per-tick metrics of the given runs (default: every task of the current spec), concatenated.

        A part that cannot be read is set aside and named in a one-line ScenarioError: running the same command
        again recomputes it.
        """
        # Each run once, however many tasks share it (two identical arms or points): sums must not double.
        keys = list(dict.fromkeys(self.tasks()["run_key"] if keys is None else keys))
        frames = []
        for key in keys:
            path = self.part(key)
            if not path.exists():
                continue
            try:
                frames.append(pd.read_parquet(path))
            except (OSError, ValueError, pa.ArrowException) as exc:
                with contextlib.suppress(OSError):
                    self.set_aside(key)
                raise ScenarioError(
                    f"{path}: damaged part ({str(exc).splitlines()[0][:80]}); set aside, run the same command "
                    "again to recompute it"
                ) from None
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def missing(self, keys: list[str]) -> list[str]:
        """Keys (in order, without duplicates) that have no complete part yet (damaged parts are set aside)."""
        wanted = list(dict.fromkeys(keys))
        self.repair(wanted)
        done = self.done_keys()
        return [k for k in wanted if k not in done]


class MemoryStore:
    """A store in memory, for an experiment run without an output folder (`compare(..., out=None)`).

    It has the methods of `ResultStore` that running and summarising use; nothing is written to disk, nothing can
    be resumed, and `path` is None.
    """

    path = None

    def __init__(self) -> None:
        self._manifest: dict[str, Any] | None = None
        self._tasks = pd.DataFrame()
        self._runs: dict[str, pd.DataFrame] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._breakdowns: dict[str, dict] = {}

    def manifest(self) -> dict[str, Any] | None:
        """The manifest `open` recorded (None before)."""
        return self._manifest

    def open(
        self, kind: str, spec: dict[str, Any], spec_hash: str, tasks: pd.DataFrame, warn: bool = True
    ) -> list[str]:
        """Start the study (memory holds one spec: nothing to resume or warn about)."""
        self._manifest = {"kind": kind, "spec_hash": spec_hash, "wom_sim_version": _version(), "spec": spec}
        self._tasks = tasks.copy()
        return []

    def tasks(self) -> pd.DataFrame:
        """The task table of the spec."""
        return self._tasks.copy()

    def done_keys(self) -> set[str]:
        """Keys of every finished run."""
        return set(self._runs)

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lock(self) -> None:
        """Nothing to lock: a memory store has one writer, its own process."""

    def close(self) -> None:
        """Nothing to release."""

    def write_run(
        self, key: str, frame: pd.DataFrame, meta: dict[str, Any] | None = None, breakdowns: dict | None = None
    ) -> None:
        """Keep one finished run (its provenance and breakdowns too, as a file store keeps them with the part)."""
        self._runs[key] = frame
        self._meta[key] = dict(meta or {})
        if breakdowns is not None:
            self._breakdowns[key] = breakdowns

    def breakdowns(self, keys: list[str] | set[str]) -> dict[str, dict[str, pd.DataFrame]]:
        """The outcomes per group of the given runs that have them, by key and column (as `ResultStore`)."""
        return {
            k: {by: pd.DataFrame(cols) for by, cols in self._breakdowns[k].items()}
            for k in dict.fromkeys(keys)
            if k in self._breakdowns
        }

    def provenance(self, key: str) -> dict[str, Any]:
        """What a run was made with (code version, seed, parameters), as recorded by write_run."""
        return self._meta.get(key, {})

    def damaged(self, keys: list[str] | set[str] | None = None) -> list[str]:
        """No part can be damaged in memory."""
        return []

    def repair(self, keys: list[str] | set[str] | None = None) -> list[str]:
        """Nothing to repair in memory."""
        return []

    def load(self, keys: list[str] | set[str] | None = None) -> pd.DataFrame:
        """The per-tick metrics of the given runs (default: every task), concatenated."""
        keys = list(dict.fromkeys(self._tasks["run_key"] if keys is None else keys))  # each run once, as above
        frames = [self._runs[k] for k in keys if k in self._runs]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def missing(self, keys: list[str]) -> list[str]:
        """Keys (in order, without duplicates) that have no run yet."""
        return [k for k in dict.fromkeys(keys) if k not in self._runs]


def data_files(spec: Any) -> dict[str, str]:
    """path -> sha256 of every data file (`DATA_FILE_KEYS` of a `network` section) a study's spec names."""
    found: dict[str, str] = {}
    nodes = [spec]
    while nodes:
        node = nodes.pop()
        if isinstance(node, dict):
            network = node.get("network")
            for key in DATA_FILE_KEYS if isinstance(network, dict) else ():
                path = network.get(key)
                if isinstance(path, str) and path not in found:
                    found[path] = _file_digest(Path(path))
            nodes.extend(node.values())
        elif isinstance(node, list):
            nodes.extend(node)
    return found


def _file_digest(path: Path) -> str:
    """The sha256 of a file's bytes ("missing" when it cannot be read: the run itself then says why)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "missing"
    return digest.hexdigest()


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
