"""Writing results safely: nothing half-written is ever left where a user (or a resumed sweep) looks, and no
command deletes or overwrites a file it did not write.

Every output folder carries a manifest, ``wom-sim.json``: the kind of output (run, replications, compare, sweep,
calibrate, validate), the wom-sim version, when it was written and the files it wrote. `prepare_out` checks an
``--out`` folder before any simulation starts: a folder that is not empty and is not a wom-sim output of the same
kind is refused, and replacing an earlier output of the same command needs ``--force``. Only the files listed in
the old manifest are then replaced or removed; anything the user added is left alone.

Temp files and folders are named ``.<name>.<pid>@<host>.<random>.tmp``, so the next run into the same place can
tell a killed writer's leftovers (its pid is dead on this host) from a writer that is still running.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError

MANIFEST = "wom-sim.json"
# Store manifests written before wom-sim.json existed (kind: replications, compare, sweep) still count as ours.
LEGACY_MANIFEST = "manifest.json"
LOCK_NAME = "wom-sim.lock"  # a store's writer lock (wom_sim.experiment.store); not content of its own
KINDS = ("run", "replications", "compare", "sweep", "calibrate", "validate", "attribution", "curves", "optimise")
HOST = socket.gethostname()
_TEMP_RE = re.compile(r"^\..+\.(?P<pid>\d+)@(?P<host>.+)\.[A-Za-z0-9_]+\.tmp$")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def with_article(word: str) -> str:
    """`word` after "a" or "an", by its first letter ("an optimise", "a sweep"): output kinds in messages.

    Examples
    --------
    >>> with_article("optimise"), with_article("sweep")
    ('an optimise', 'a sweep')
    """
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def package_version() -> str:
    """The installed wom-sim version ("unknown" when run from a source tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wom-sim")
    except PackageNotFoundError:
        return "unknown"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}@{HOST}."


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (a zombie counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def abandoned(tmp: Path) -> bool:
    """Whether a temp file or folder was left by a writer that is provably dead (same host, pid gone)."""
    match = _TEMP_RE.match(tmp.name)
    return bool(match) and match["host"] == HOST and not pid_alive(int(match["pid"]))


def clean_abandoned(folder: Path, name: str | None = None) -> int:
    """Remove the temp files and folders of killed writers in `folder` (only ``.<name>.*`` when `name` is given);
    returns how many. A temp of a live process, of another host or of an unknown writer is left alone."""
    count = 0
    if not folder.is_dir():
        return 0
    for tmp in folder.glob(f".{name}.*.tmp" if name else ".*.tmp"):
        if abandoned(tmp):
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink()
                count += 1
    return count


# Operating-system errors a user causes (and can fix) while wom-sim reads or writes: said in one line, exit 2
# (here and by the CLI for errors that reach it).
USER_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder",
    errno.EEXIST: "exists",
    errno.ENAMETOOLONG: "name too long",
    errno.ENOENT: "no such file or folder",
}


def os_error(path: Path | str, exc: OSError, flag: str = "--out") -> ScenarioError:
    """A one-line user error for a failed write (full disk, read-only folder, permission)."""
    reason = USER_ERRNOS.get(exc.errno, exc.strerror or type(exc).__name__)
    return ScenarioError(f"{flag} {path}: cannot write ({reason})")


# --------------------------------------------------------------------------------------------- manifests
def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The manifest of a wom-sim output folder (wom-sim.json, or a store's older manifest.json), else None."""
    folder = Path(folder)
    for name in (MANIFEST, LEGACY_MANIFEST):
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("kind") in KINDS:
            return data
    return None


def manifest_record(kind: str, files: list[str], **extra: Any) -> dict[str, Any]:
    """What wom-sim.json says: kind, version, time, writer, the files written and any warnings."""
    return {
        "kind": kind,
        "wom_sim_version": package_version(),
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": HOST,
        "pid": os.getpid(),
        "files": sorted(files),
        **extra,
    }


def write_manifest(folder: str | Path, kind: str, files: list[str], **extra: Any) -> Path:
    """Write (atomically) the manifest of an output folder."""
    path = Path(folder) / MANIFEST
    with atomic_file(path, "w") as handle:
        handle.write(json.dumps(manifest_record(kind, files, **extra), indent=2, default=str))
    return path


def add_warnings(folder: str | Path, notes: list[str]) -> None:
    """Record warnings about the input in an output's wom-sim.json (kept with what was already there)."""
    if not notes:
        return
    path = Path(folder) / MANIFEST
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    record["warnings"] = list(dict.fromkeys([*record.get("warnings", []), *notes]))
    with atomic_file(path, "w") as handle:
        handle.write(json.dumps(record, indent=2, default=str))


# --------------------------------------------------------------------------------------------- checks before work
def check_path_text(path: str | Path, flag: str = "--out") -> Path:
    """Refuse a path a file system cannot hold (NUL bytes, empty)."""
    text = os.fspath(path)
    if "\x00" in text:
        raise ScenarioError(f"{flag} {text!r}: a path cannot contain a NUL byte")
    if not text.strip():
        raise ScenarioError(f"{flag}: empty path")
    return Path(text)


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists() or parent.is_symlink():
            return parent
    return Path(".")


def check_writable_dir(path: str | Path, flag: str = "--out") -> Path:
    """Check that `path` is, or can become, a folder this process can write (before any work is done)."""
    path = check_path_text(path, flag)
    base = _nearest_existing(path.absolute())
    if not base.is_dir():
        where = "is a file" if base == path.absolute() else f"is below {base}, which is a file"
        raise ScenarioError(f"{flag} {path}: {where}, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ScenarioError(f"{flag} {path}: cannot write into {base} (permission denied or read-only)")
    try:
        with tempfile.NamedTemporaryFile(prefix=_temp_prefix(Path("probe")), suffix=".tmp", dir=base):
            pass  # a real write: os.access says yes on a read-only mount or a full disk
    except OSError as exc:
        raise os_error(path, exc, flag) from None
    return path


def check_writable_file(path: str | Path, flag: str = "--out") -> Path:
    """Check that file `path` can be written: its folder is writable and it is not a folder or special file."""
    path = check_path_text(path, flag)
    if path.is_dir():
        raise ScenarioError(f"{flag} {path}: is a folder, expected a file")
    if path.exists() and not path.is_file():
        raise ScenarioError(f"{flag} {path}: is not a regular file")
    check_writable_dir(path.parent if str(path.parent) else Path("."), flag)
    return path


def check_own_file(path: str | Path, flag: str, mark: bytes) -> Path:
    """`check_writable_file`, and an existing file is replaced only when wom-sim wrote it: its bytes hold `mark`
    (what every such file carries, e.g. matplotlib's name in a figure), so `--plot budget.xlsx` leaves the user's
    workbook alone. Files of a single-file option are small (a figure, a schema): read whole, at most 64 MB."""
    path = check_writable_file(path, flag)
    if path.is_file():
        try:
            with open(path, "rb") as handle:
                ours = mark.lower() in handle.read(64 << 20).lower()
        except OSError as exc:
            raise os_error(path, exc, flag) from None
        if not ours:
            raise ScenarioError(
                f"{flag} {path}: exists and is not a file wom-sim wrote; choose another file name (nothing of "
                "yours is replaced)"
            )
    return path


def prepare_out(path: str | Path, kind: str, force: bool = False, flag: str = "--out", resume: bool = False) -> Path:
    """Check an output folder before any work: writable, not below a file, and not someone else's.

    An existing folder must be empty or a wom-sim output of the same `kind`; the latter is replaced only with
    `force` (or resumed, for the stores of compare, sweep and replications: `resume`). Abandoned temp folders of
    killed runs beside it are removed. Raises ScenarioError (one line) otherwise.
    """
    path = check_writable_dir(path, flag)
    if path.exists():
        entries = [
            p.name
            for p in path.iterdir()
            if not (p.name.startswith(".") and p.name.endswith(".tmp")) and p.name != LOCK_NAME
        ]
        if entries:
            manifest = read_manifest(path)
            if manifest is None:
                what = "an experiment store" if resume else "a wom-sim output"
                raise ScenarioError(
                    f"{flag} {path}: exists and is not {what} (it holds {sorted(entries)[0]}); "
                    "choose a new or empty folder"
                )
            if manifest["kind"] != kind:
                raise ScenarioError(
                    f"{flag} {path}: holds a wom-sim {manifest['kind']} output, not {with_article(kind)} output; "
                    "choose another folder"
                )
            if not force and not resume:
                raise ScenarioError(
                    f"{flag} {path}: holds an earlier wom-sim {kind} output; add --force to replace it "
                    "(only the files wom-sim wrote there are replaced)"
                )
        clean_abandoned(path)
    clean_abandoned(path.absolute().parent, path.name)
    return path


# --------------------------------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb") -> Iterator:
    """Open a temp file beside `path`; on success rename it over `path`, on error remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    moved = False
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files others may read
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        moved = True
    finally:
        if not moved:  # an error or a Ctrl-C at any point after mkstemp, the cleanup included
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | Path, kind: str = "run", replace: bool = True, **manifest: Any) -> Iterator[Path]:
    """Build an output folder in a temp sibling; on success move it into place with a wom-sim.json manifest.

    A new or empty `path` is replaced by the temp folder in one rename. An existing wom-sim output of the same
    kind (checked by `prepare_out`, which callers run first) keeps every file it did not write: each new file
    replaces its namesake atomically, files the previous output wrote and this one does not are removed, and the
    manifest is written last (only when `replace`: a command without --force passes False, so an output that
    appeared meanwhile, e.g. from a second run started at the same time, is refused too). Anything else in `path`
    raises ScenarioError and nothing is touched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    tmp.chmod(0o777 & ~_UMASK)
    try:
        yield tmp
        files = [p.name for p in tmp.iterdir() if p.name != MANIFEST]
        write_manifest(tmp, kind, files, **manifest)
        existing = [p for p in path.iterdir() if not p.name.endswith(".tmp")] if path.is_dir() else None
        if not existing:
            if path.is_dir():
                path.rmdir()  # empty: rename cannot replace a folder that has entries, only an empty one
            os.replace(tmp, path)
            return
        old = read_manifest(path)
        if old is None or old.get("kind") != kind:
            raise ScenarioError(f"--out {path}: is not a wom-sim {kind} output any more; nothing was replaced")
        if not replace:
            raise ScenarioError(f"--out {path}: another {kind} output appeared meanwhile; add --force to replace it")
        ours = set(old.get("files", []))
        for name in files:  # first check them all: a refusal half-way would leave a mix
            target = path / name
            if (target.is_dir() and not target.is_symlink()) or (target.exists() and name not in ours):
                raise ScenarioError(f"--out {path}: {name} is not a file the earlier output wrote; nothing replaced")
        for name in files:
            os.replace(tmp / name, path / name)
        for name in ours - set(files):
            stale = path / Path(name).name  # a bare name: a manifest never makes us delete outside the folder
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
        os.replace(tmp / MANIFEST, path / MANIFEST)
        shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise os_error(path, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


MONEY_COLUMNS = ("revenue", "cost_of_goods", "intervention_cost", "profit", "cum_revenue", "cum_profit")


def check_finite_frame(frame: pd.DataFrame, source: str) -> None:
    """Refuse results with an infinite value anywhere, or a missing (NaN) revenue, cost or profit: such numbers
    come from inputs at the edge of what float64 holds, and a table of them answers nothing."""
    numeric = frame.select_dtypes("number")
    if numeric.empty:
        return
    values = numeric.to_numpy(dtype=float, na_value=float("nan"))
    money = [i for i, c in enumerate(numeric.columns) if c in MONEY_COLUMNS or str(c).startswith("cost_")]
    bad = ~np.isfinite(values)
    bad[:, [i for i in range(values.shape[1]) if i not in money]] &= np.isinf(
        values[:, [i for i in range(values.shape[1]) if i not in money]]
    )
    if bad.any():
        row, col = (int(x[0]) for x in np.nonzero(bad))
        tick = f" at t = {frame['t'].iat[row]}" if "t" in frame.columns else ""
        raise ScenarioError(
            f"{source}: {numeric.columns[col]} is {values[row, col]}{tick}; the inputs are too large or too small "
            "for the arithmetic (check costs, prices, coefficients and weights)"
        )


def write_parquet(frame: pd.DataFrame, handle: Any) -> None:
    """`frame` as Parquet, dictionary-encoding only its non-numeric columns (categories, text).

    Parquet's default dictionary-encodes every column: for a column of floats (nearly every value distinct) that
    is work for nothing, and it was two thirds of writing a 1M-person people table (0.64 s of CPU, now 0.2 s; the
    file 1% larger). Reading it back gives the same frame.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq  # lazy: loaded when a table is written, not at every command's start-up

    table = pa.Table.from_pandas(frame, preserve_index=False)
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
    dictionary = [f.name for f in table.schema if not any(kind(f.type) for kind in numeric)]
    pq.write_table(table, handle, use_dictionary=dictionary)


def write_table(frame: pd.DataFrame, path: str | Path, fmt: str = "parquet") -> Path:
    """Write a DataFrame as Parquet or CSV, atomically; returns the path written (with its extension)."""
    path = Path(path).with_suffix(".parquet" if fmt == "parquet" else ".csv")
    with atomic_file(path) as handle:
        if fmt == "parquet":
            write_parquet(frame, handle)
        else:
            handle.write(frame.to_csv(index=False).encode("utf-8"))
    return path


# Formats a figure can be saved in (`--figure-format` of the commands that write figures): PNG for a page or a
# quick look, SVG and PDF (vector) for a deck or a paper.
FIGURE_FORMATS = ("png", "svg", "pdf")
FIGURE_MARK = b"matplotlib"  # in the metadata of every PNG, SVG and PDF matplotlib writes (`check_own_file`)
FIGURE_DPI = 200  # PNG resolution: a 15-inch-wide figure is 3000 px, sharp on a full-screen slide


def save_figure(fig: Any, path: str | Path, dpi: int = FIGURE_DPI) -> Path:
    """Save a matplotlib figure atomically in the format its suffix names (.png, .svg or .pdf; PNG otherwise) (a
    figure made with pyplot is closed there afterwards).

    Here, not in the report layer, because every layer that writes a figure (a run's dashboard, a calibration's
    fit plot) writes it the way every other output is written: whole or not at all.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    fmt = fmt if fmt in FIGURE_FORMATS else "png"
    with atomic_file(path) as handle:
        fig.savefig(handle, format=fmt, dpi=dpi)
    release_figure(fig)
    return path


def release_figure(fig: Any) -> None:
    """Close `fig` in pyplot if pyplot made it (it keeps such figures alive); `Figure` objects need nothing."""
    if fig.canvas.manager is not None:
        import matplotlib.pyplot as plt  # only reached for a pyplot figure: pyplot is loaded already

        plt.close(fig)
