"""The resumable result store: one Parquet part per finished run, keyed by a hash of its parameters and seed.

Layout of a store folder::

    manifest.json     kind (replications, compare, sweep), the spec, its hash, the wom-sim version
    tasks.parquet     one row per task of the current spec: run_key, seed, replication, arm or point, parameters
    runs/<key>.parquet  the per-tick metrics of one finished run (written atomically: temp file, then rename)

A part exists only once its run finished, so after a kill (even SIGKILL) every part on disk is complete and a
second invocation runs only the keys that are missing. A changed spec keeps its old parts apart: summaries read
only the keys listed in tasks.parquet, and the user is warned.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from wom_sim.errors import ScenarioError
from wom_sim.output import atomic_file, write_table

MANIFEST = "manifest.json"
TASKS = "tasks.parquet"
RUNS = "runs"


class StoreWarning(UserWarning):
    """The store holds results of a different spec or wom-sim version (they are not mixed in)."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wom-sim")
    except PackageNotFoundError:
        return "unknown"


class ResultStore:
    """A folder of finished runs (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.runs = self.path / RUNS

    # ----------------------------------------------------------------------------------- manifest and tasks
    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when the folder is not a store (yet)."""
        try:
            return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def open(
        self, kind: str, spec: dict[str, Any], spec_hash: str, tasks: pd.DataFrame, warn: bool = True
    ) -> list[str]:
        """Create or resume the store for this spec; returns warnings (issued as StoreWarning when `warn`)."""
        old = self.manifest()
        if old is None and self.path.is_dir():
            foreign = [p.name for p in self.path.iterdir() if p.name not in (RUNS, TASKS) and p.name[0] != "."]
            if foreign:
                raise ScenarioError(
                    f"{self.path}: exists and is not an experiment store (it holds {foreign[0]}); choose another --out"
                )
        notes: list[str] = []
        keys = set(tasks["run_key"])
        if old is not None and (old.get("spec_hash") != spec_hash or old.get("kind") != kind):
            done = self.done_keys()
            reused, stale = len(done & keys), len(done - keys)
            notes.append(
                f"{self.path}: the {old.get('kind', 'experiment')} spec changed since this store was written "
                f"(spec hash {old.get('spec_hash')} -> {spec_hash}); {reused} stored runs with identical parameters "
                f"and seed are reused, {stale} runs of the old spec are ignored (kept on disk, not mixed in)"
            )
        if old is not None and old.get("wom_sim_version") not in (None, _version()):
            notes.append(
                f"{self.path}: stored runs were made by wom-sim {old.get('wom_sim_version')}, this is {_version()}; "
                "delete the folder to recompute them with this version"
            )
        for note in notes if warn else ():
            warnings.warn(note, StoreWarning, stacklevel=2)
        self.runs.mkdir(parents=True, exist_ok=True)
        self.clean_temp()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest = {
            "kind": kind,
            "spec_hash": spec_hash,
            "wom_sim_version": _version(),
            "created": (old or {}).get("created", now) if old and old.get("spec_hash") == spec_hash else now,
            "updated": now,
            "tasks": len(tasks),
            "unique_runs": len(keys),
            "spec": spec,
        }
        write_table(tasks, self.path / TASKS)
        with atomic_file(self.path / MANIFEST, "w") as handle:
            handle.write(json.dumps(manifest, indent=2, sort_keys=False, default=str))
        return notes

    def tasks(self) -> pd.DataFrame:
        """The task table of the current spec."""
        return pd.read_parquet(self.path / TASKS)

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
        """Remove temp files a killed writer left behind; returns how many."""
        count = 0
        for tmp in self.runs.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            count += 1
        return count

    def write_run(self, key: str, frame: pd.DataFrame) -> Path:
        """Store one finished run atomically."""
        return write_table(frame, self.part(key))

    def load(self, keys: list[str] | set[str] | None = None) -> pd.DataFrame:
        """The per-tick metrics of the given runs (default: every task of the current spec), concatenated."""
        if keys is None:
            keys = list(dict.fromkeys(self.tasks()["run_key"]))
        frames = [pd.read_parquet(self.part(k)) for k in keys if self.part(k).exists()]
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def missing(self, keys: list[str]) -> list[str]:
        """Keys (in order, without duplicates) that have no part yet."""
        done = self.done_keys()
        return [k for k in dict.fromkeys(keys) if k not in done]


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

    def write_run(self, key: str, frame: pd.DataFrame) -> None:
        """Keep one finished run."""
        self._runs[key] = frame

    def load(self, keys: list[str] | set[str] | None = None) -> pd.DataFrame:
        """The per-tick metrics of the given runs (default: every task), concatenated."""
        if keys is None:
            keys = list(dict.fromkeys(self._tasks["run_key"]))
        frames = [self._runs[k] for k in keys if k in self._runs]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def missing(self, keys: list[str]) -> list[str]:
        """Keys (in order, without duplicates) that have no run yet."""
        return [k for k in dict.fromkeys(keys) if k not in self._runs]
