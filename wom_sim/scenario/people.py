"""Your customer data: the person table of `network.people` (.csv or .parquet), read and checked against a scenario.

One row per person: `id` (required, unique, matched to the edge list's ids) and any of the columns of `COLUMNS`.
An empty cell keeps the value the model draws. Every problem is one ScenarioError naming the file, the column,
the line (csv) or row (parquet) and what is allowed; the checks are vectorised over rows, a loop runs over
columns only. What the values do at tick 0 is `sim.crm`; the isolated people it adds to the graph,
`network.build`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wom_sim.errors import ScenarioError
from wom_sim.scenario.base import MAX_MONEY, MAX_TRAIT
from wom_sim.scenario.files import CSV_MISSING, stat_input_file
from wom_sim.scenario.schema import Scenario

__all__ = ["COLUMNS", "PEOPLE_FORMATS", "STATUS_CODES", "PeopleTable", "read_people", "read_people_ids"]

PEOPLE_FORMATS = (".csv", ".parquet")

# The status codes of sim.population (UNAWARE, AWARE, CUSTOMER, CHURNED). A CRM "prospect" is someone the company
# knows and who knows the brand but has not bought: AWARE.
STATUS_CODES = {"unaware": 0, "aware": 1, "prospect": 1, "customer": 2, "churned": 3}
CUSTOMER, CHURNED = 2, 3

# Numeric columns and their allowed range (inclusive). Trait overrides are the per-person traits and states of
# sim.population, under the names of the per-person output table.
NUMERIC = {
    "tenure": (0.0, 100_000.0),
    "spend": (0.0, MAX_MONEY),
    "satisfaction": (0.0, 1.0),
    "nps": (0.0, 10.0),
    "product_fit": (-1.0, 1.0),
    "price_sensitivity": (0.0, 1.0),
    "credibility": (0.0, 1.0),
    "conformity": (0.0, 1.0),
    "expectation": (0.0, 1.0),
    "trust": (0.0, 1.0),
    "attachment": (0.0, 1.0),
    "loyalty": (0.0, 1.0),
    "talkativeness": (0.0, MAX_TRAIT),
}
TEXT = ("segment", "status", "brand")
COLUMNS = ("id", *TEXT, *NUMERIC, "need")
BOOLEAN = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "yes": 1.0, "no": 0.0, "1.0": 1.0, "0.0": 0.0}
# Values that only a (past) customer has: they need status customer or churned on the same row.
CUSTOMER_ONLY = ("tenure", "satisfaction", "nps")


@dataclass
class PeopleTable:
    """A checked person table. `ids` are int64 when every id is a plain integer, else text (as graph labels are).

    `values` holds each column given: float64 with NaN for an empty cell (numbers, `need` as 0/1), or int codes
    with -1 for an empty cell: `segment` (index in population.segments), `status` (STATUS_CODES), `brand`
    (0 = ours, k = the k-th competitor).
    """

    path: Path
    ids: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def resolve(file: str) -> Path:
    path = Path(file)
    return path if path.is_absolute() else Path(os.getcwd()) / path


def _read(file: str, columns: list[str] | None = None) -> tuple[Path, pd.DataFrame, str]:
    """The table as text cells (csv) or typed columns (parquet), with only the checks that need no scenario."""
    path = resolve(file)
    info = stat_input_file(path, "person table", "network.people")
    kind = path.suffix.lower()
    if kind not in PEOPLE_FORMATS:
        raise ScenarioError(
            f"{path}: unknown person table type {kind or '(none)'}; network.people must end in "
            f"{', '.join(PEOPLE_FORMATS)}"
        )
    if info.st_size == 0:
        raise ScenarioError(f"{path}: the person table is empty (it needs a header with an `id` column)")
    try:
        if kind == ".csv":
            # Text cells: ids such as "007" stay as written, and a bad number is reported, not guessed.
            # A row with more cells than the header is an error, not an index column pandas would silently add.
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                table = pd.read_csv(path, dtype=str, skipinitialspace=True, index_col=False, **CSV_MISSING)
            header = pd.read_csv(path, header=None, nrows=1, dtype=str, skipinitialspace=True, **CSV_MISSING)
            header = header.iloc[0].tolist()
            repeated = next((c for i, c in enumerate(header) if c in header[:i]), None)
            if repeated is not None:  # pandas would rename the second one `name.1` and call it unknown
                raise ScenarioError(f"{path}: column {repeated!r} appears twice in the person table's header")
            if columns is not None and "id" in table.columns:
                table = table[["id"]]
        else:
            table = pd.read_parquet(path, columns=columns)
    except ScenarioError:
        raise
    except Exception as exc:  # whatever the parser says, the user's file is the problem
        if columns is not None and kind == ".parquet" and "id" not in _parquet_names(path):
            raise _no_id(path, _parquet_names(path)) from None
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ScenarioError(f"{path}: malformed {kind[1:]} person table ({detail})") from None
    if "id" not in table.columns:
        raise _no_id(path, [str(c) for c in table.columns])
    if table.empty:
        raise ScenarioError(f"{path}: the person table has no rows")
    return path, table, kind


def _parquet_names(path: Path) -> list[str]:
    try:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception:
        return []


def _no_id(path: Path, found: list[str]) -> ScenarioError:
    return ScenarioError(
        f"{path}: no column 'id' (network.people needs one, matching the edge list's ids); the file has columns: "
        f"{', '.join(found) or 'none'}"
    )


def _where(kind: str, i: int) -> str:
    return f"line {i + 2}" if kind == ".csv" else f"row {i + 1}"


def _ids(path: Path, column: pd.Series, kind: str) -> np.ndarray:
    """Ids as int64 when every one is an integer written plainly ("7", not "07"), else as text; unique."""
    empty = np.flatnonzero(column.isna().to_numpy() | (column.astype(str).str.strip() == "").to_numpy())
    if empty.size:
        raise ScenarioError(f"{path}: column 'id': empty id at {_where(kind, int(empty[0]))}")
    if pd.api.types.is_integer_dtype(column):
        ids = column.to_numpy(np.int64)
    elif pd.api.types.is_float_dtype(column) and (column == np.round(column)).all():
        ids = column.to_numpy(np.int64)  # a parquet writer's float ids (1.0): the integers they stand for
    else:
        text = column.astype(str).str.strip()
        as_int = pd.to_numeric(text, errors="coerce")
        plain = as_int.notna().all() and (as_int.astype(np.int64).astype(str) == text).all()
        ids = as_int.to_numpy(np.int64) if plain else text.to_numpy(object)
    series = pd.Series(ids)
    twice = series.duplicated(keep=False).to_numpy()
    if twice.any():
        i = int(np.flatnonzero(twice)[0])
        j = int(np.flatnonzero(series.eq(ids[i]).to_numpy())[1])
        raise ScenarioError(
            f"{path}: column 'id': id {_show(ids[i])} appears more than once ({_where(kind, i)} and {_where(kind, j)}; "
            f"{int(twice.sum())} rows share an id); each person needs one row"
        )
    return ids


def _show(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def read_people_ids(file: str) -> np.ndarray:
    """Only the checked ids of a person table (what `network.build` adds to the graph)."""
    path, table, kind = _read(file, columns=["id"])
    return _ids(path, table["id"], kind)


def read_people(scenario: Scenario) -> PeopleTable:
    """The person table of `scenario.network.people`, every column checked against the scenario.

    Raises
    ------
    ScenarioError
        One line naming file, column and line or row: a missing or unreadable file, no `id` column, an unknown
        column, an empty or repeated id, a value that is not allowed (with what is), a segment or brand the
        scenario does not name, a customer-only value on a row whose status is not customer or churned.
    """
    path, table, kind = _read(scenario.network.people)
    unknown = [str(c) for c in table.columns if c not in COLUMNS]
    if unknown:
        raise ScenarioError(f"{path}: unknown column {unknown[0]!r} in the person table; allowed: {', '.join(COLUMNS)}")
    if "satisfaction" in table.columns and "nps" in table.columns:
        raise ScenarioError(f"{path}: columns 'satisfaction' and 'nps' both given; give one (an nps answer sets "
                            "the satisfaction that gives that recommend score)")  # fmt: skip
    out = PeopleTable(path, _ids(path, table["id"], kind))
    segments = [s.name for s in scenario.population.segments]
    brands = ["ours", *(c.name for c in scenario.competitors)]
    allowed = {"segment": segments, "status": list(STATUS_CODES), "brand": brands}
    for name in table.columns:  # a loop over columns; each check is vectorised over rows
        column = table[name]
        if name in TEXT:
            out.values[name] = _codes(path, kind, name, column, allowed[name], scenario)
        elif name in NUMERIC:
            out.values[name] = _numbers(path, kind, name, column)
        elif name == "need":
            out.values[name] = _booleans(path, kind, column)
    _check_rows(out, kind)
    return out


def _blank(column: pd.Series) -> np.ndarray:
    return (column.isna() | (column.astype(str).str.strip() == "")).to_numpy()


def _codes(path: Path, kind: str, name: str, column: pd.Series, allowed: list[str], sc: Scenario) -> np.ndarray:
    blank = _blank(column)
    text = column.astype(str).str.strip()
    if name == "status":
        text = text.str.lower()
    index = pd.Index(allowed).get_indexer(text)
    bad = np.flatnonzero((index < 0) & ~blank)
    if bad.size:
        i = int(bad[0])
        what = {
            "segment": "a name of population.segments",
            "status": "prospect (= aware), unaware, aware, customer, churned",
            "brand": "ours or a name of competitors:" if sc.competitors else "ours (the scenario names no competitors)",
        }[name]
        # The names themselves where `what` does not list them (segments, rivals); status and a lone "ours" read
        # twice otherwise ("prospect (= aware), unaware, ... (unaware, aware, prospect, ...)").
        names = f" ({', '.join(allowed)})" if name == "segment" or (name == "brand" and sc.competitors) else ""
        raise ScenarioError(
            f"{path}: column {name!r}: {column.iloc[i]!r} at {_where(kind, i)} is not allowed; allowed: {what}{names}"
        )
    codes = np.where(blank, -1, index)
    if name == "status":
        codes = np.where(blank, -1, pd.Series(STATUS_CODES).to_numpy()[np.maximum(index, 0)])
    return codes.astype(np.int16)


def _numbers(path: Path, kind: str, name: str, column: pd.Series) -> np.ndarray:
    blank = _blank(column)
    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    low, high = NUMERIC[name]
    bad = np.flatnonzero(~blank & ~((values >= low) & (values <= high)))  # NaN and inf fail too
    if bad.size:
        i = int(bad[0])
        raise ScenarioError(
            f"{path}: column {name!r}: {column.iloc[i]!r} at {_where(kind, i)} is not allowed; allowed: a number "
            f"from {low:g} to {high:g}{' (ticks)' if name == 'tenure' else ''}"
        )
    if name == "tenure":
        frac = np.flatnonzero(~blank & (values != np.round(values)))
        if frac.size:
            i = int(frac[0])
            raise ScenarioError(f"{path}: column 'tenure': {column.iloc[i]!r} at {_where(kind, i)} is not a whole "
                                "number of ticks")  # fmt: skip
    return np.where(blank, np.nan, values)


def _booleans(path: Path, kind: str, column: pd.Series) -> np.ndarray:
    blank = _blank(column)
    text = column.astype(str).str.strip().str.lower()
    values = text.map(BOOLEAN).to_numpy(np.float64)
    bad = np.flatnonzero(~blank & np.isnan(values))
    if bad.size:
        i = int(bad[0])
        raise ScenarioError(
            f"{path}: column 'need': {column.iloc[i]!r} at {_where(kind, i)} is not allowed; allowed: true, false "
            "(or 1, 0, yes, no)"
        )
    return np.where(blank, np.nan, values)


def _check_rows(table: PeopleTable, kind: str) -> None:
    """Values that only fit some statuses: a brand only for customers, tenure and satisfaction only for people
    who are or were customers."""
    v, path = table.values, table.path
    status = v.get("status", np.full(len(table), -1, dtype=np.int16))
    for name in CUSTOMER_ONLY:
        shown = "satisfaction or nps" if name == "satisfaction" else name
        if name not in v:
            continue
        bad = np.flatnonzero(~np.isnan(v[name]) & (status != CUSTOMER) & (status != CHURNED))
        if bad.size:
            raise ScenarioError(
                f"{path}: column {shown!r} at {_where(kind, int(bad[0]))}: given for a person whose status is not "
                "customer or churned; only (past) customers have one (set status on that row, or leave the cell empty)"
            )
    if "brand" in v:
        bad = np.flatnonzero((v["brand"] >= 0) & (status != CUSTOMER))
        if bad.size:
            raise ScenarioError(
                f"{path}: column 'brand' at {_where(kind, int(bad[0]))}: given for a person whose status is not "
                "customer; the brand a person uses today needs status customer on that row"
            )
