"""The input files a user names (scenarios, graphs, person tables): one stat-first check of what a path is.

Decided from stat alone, before anything opens the path: opening a FIFO with no writer blocks forever, and a
folder or a device gives a parser's error instead of a sentence.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from wom_sim.errors import ScenarioError

# How pandas reads a user's csv (graph, person table): only an empty cell is missing. Its default also reads NA,
# N/A, None, null and nan as missing, so segment "NA" (North America) or person "None" would silently vanish.
CSV_MISSING = {"keep_default_na": False, "na_values": [""]}


def stat_input_file(path: Path, what: str, key: str | None = None) -> os.stat_result:
    """The stat of a regular file, or one line saying what `path` is instead (`key`: the scenario key naming it).

    Refused: a missing path, one the system cannot stat (with its reason), a folder, a FIFO, device or socket.
    """
    where = f" ({key})" if key else ""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: {what} not found{where}") from None
    except (OSError, ValueError) as exc:  # ValueError: a path the file system cannot hold
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ScenarioError(f"{path}: cannot read {what} ({key + ': ' if key else ''}{reason})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(f"{path}: is a folder, expected a {what}{where}")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"{path}: is not a regular file (a pipe, device or socket); expected a {what}{where}")
    return info
