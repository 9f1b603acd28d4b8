"""One Excel workbook for a run, replications, comparison, sweep or attribution folder (`--xlsx`).

Sheets: Summary (the verdicts of a comparison when `verdicts.csv` exists, else the headline outcomes), Uplift
(a comparison's paired uplifts, labelled, in points for shares), By <column> (a comparison made with `--by`:
the paired differences per group), Time series, Sweep points, Attribution and Scenario (every resolved key and
value). Labels and number formats come from the metric catalogue; written with pandas and openpyxl (the `excel`
extra), atomically.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from wom_sim.analysis.outcomes import label as named_outcome_label
from wom_sim.analysis.outcomes import outcome
from wom_sim.analysis.segments import BY, GROUP_LABELS, GROUP_METRICS
from wom_sim.catalogue import RUN_SUMMARY, decimals, market_summary, metric
from wom_sim.display import outcome_frame, outcome_label, run_rows, summary_rows, sweep_metrics, sweep_rows
from wom_sim.errors import ScenarioError
from wom_sim.output import atomic_file, read_manifest, write_manifest

INSTALL_HINT = 'writing .xlsx needs openpyxl: pip install "wom-sim[excel]"'
# Excel number formats by catalogue scale (and a named outcome's: a damage is a relative change, a payback a
# tick); an uplift of a share is shown in percentage points.
EXCEL_FORMATS = {"percent": "0.0%", "money": "#,##0", "count": "#,##0", "index": "0.000", "points": "0.0",
                 "relative": "+0.0%;-0.0%", "tick": "0"}  # fmt: skip
UPLIFT_FORMATS = {"percent": '+0.0" pts";-0.0" pts"', "points": '+0.0" pts";-0.0" pts"', "money": "+#,##0;-#,##0",
                  "count": "+#,##0;-#,##0", "index": "+0.000;-0.000", "ratio": "+0.00;-0.00",
                  "relative": "+0.0%;-0.0%", "tick": "0"}  # fmt: skip
EXCEL_EXACT_INTEGER = 2**53  # Excel keeps numbers as doubles: a larger whole number loses its last digits
MAX_COLUMN_WIDTH = 60  # characters: a sentence column wraps past this


def require_openpyxl() -> None:
    """Raise ScenarioError (one line with the install command) when openpyxl is missing; call before any run."""
    try:
        import openpyxl  # noqa: F401 - optional extra, imported where it is used
    except ImportError:
        raise ScenarioError(INSTALL_HINT) from None


def _number_format(name: str, uplift: bool = False) -> str | None:
    """The Excel format of a column or outcome (`uplift`: of a difference), from its scale; a share or rate keeps
    the decimals the catalogue prints it with (a churn rate 0.63%, +0.04 pts; not 0.6% and +0.0 pts)."""
    scale = _scale(name)
    fmt = (UPLIFT_FORMATS if uplift else EXCEL_FORMATS).get(scale or "")
    if fmt and scale == "percent":
        fmt = fmt.replace("0.0", "0." + "0" * decimals(metric(outcome(name).column).fmt))
    return fmt


def _scale(name: str) -> str | None:
    """The scale of a column or outcome name (payback, crisis_damage and roi have their own); None for others."""
    try:
        return outcome(name).scale
    except ScenarioError:
        return None


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    # Parquet first: it keeps types, and an empty table (an optimiser run without its check) stays readable.
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        if (folder / f"{name}{suffix}").exists():
            try:
                return reader(folder / f"{name}{suffix}")
            except pd.errors.EmptyDataError:
                return pd.DataFrame()
    return None


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested scenario (lists of entries as ``interventions.0.kind``)."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        items = ((str(i), v) for i, v in enumerate(data))
    else:
        return {prefix: json.dumps(data) if isinstance(data, list | dict) else data}
    out: dict[str, Any] = {}
    for key, value in items:
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _scenario_sheet(folder: Path, kind: str) -> pd.DataFrame:
    """key, then one value column per arm (a run or the base of a study: one `value` column)."""
    if kind == "run":
        text = (folder / "scenario.yaml").read_text(encoding="utf-8") if (folder / "scenario.yaml").exists() else ""
        arms = {"value": yaml.safe_load(text) or {}}
    else:
        spec = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("spec", {})
        listed = spec.get("arms") or [{"label": "value", "scenario": spec.get("base", {})}]  # a sweep: its base
        arms = {a["label"]: a["scenario"] for a in listed}
    flat = {label: _flatten(sc) for label, sc in arms.items()}
    keys = list(dict.fromkeys(k for f in flat.values() for k in f))
    frame = pd.DataFrame({"key": keys, **{label: [f.get(k) for k in keys] for label, f in flat.items()}})
    return frame.map(_scenario_cell)


def _scenario_cell(value: Any) -> Any:
    """A scenario value as a cell: lists and mappings as JSON; a whole number Excel cannot hold exactly (a seed up
    to 2**63 - 1) as its digits, so the seed read off the sheet reproduces the run."""
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, int) and abs(value) > EXCEL_EXACT_INTEGER:
        return str(value)
    return value


def _labelled(frame: pd.DataFrame, unit: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Columns renamed to their catalogue labels (or `names`), with each column's Excel number format kept in
    ``attrs["formats"]``."""
    names = names or {c: outcome_label(c, unit) for c in frame.columns if c not in ("t", "arm")}
    out = frame.rename(columns={**names, "t": unit})
    formats = {}
    for column, label in names.items():
        stem = column.rsplit("_mean", 1)[0].rsplit("_ci_", 1)[0]
        fmt = _number_format(stem)
        if fmt:
            formats[label] = fmt
    out.attrs["formats"] = formats
    return out


def _uplift_sheet(uplift: pd.DataFrame, unit: str) -> pd.DataFrame:
    frame = uplift.copy()
    frame.attrs["uplift"] = True
    points = frame["outcome"].map(_scale).isin(["percent"])
    for col in ("uplift", "ci_low", "ci_high"):  # shares in percentage points, as the CLI shows them
        frame.loc[points, col] = frame.loc[points, col] * 100
    frame.insert(1, "label", [named_outcome_label(o, unit) for o in frame["outcome"]])
    frame["note"] = _paid_back_notes(frame)
    keep = [c for c in ("treatment", "label", "outcome", "base_mean", "treatment_mean", "uplift", "ci_low",
                        "ci_high", "n", "note") if c in frame.columns]  # fmt: skip
    return frame[keep]


def _paid_back_notes(uplift: pd.DataFrame) -> list[str]:
    """ "2 of 3 runs paid back" on a payback row when only some runs did, as the CLI and the report say it: the
    mean payback is over the runs that paid back, so week 18 of one run in three is not the answer."""
    if "n" not in uplift.columns or uplift.empty:
        return [""] * len(uplift)
    runs = uplift.groupby("treatment")["n"].transform("max")  # a treatment's replications
    notes = []
    for name, n, total in zip(uplift["outcome"], uplift["n"], runs, strict=True):
        paid = _scale(str(name)) == "tick" and n == n and n < total
        notes.append(("none" if n == 0 else f"{int(n)}") + f" of {int(total)} runs paid back" if paid else "")
    return notes


def _verdict_sheet(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The verdicts as compare wrote them (verdicts.csv), money, ROI and payback tick formatted as the verdict lines
    show them."""
    frame = verdicts.copy()
    signed = ("incremental_profit", "profit_ci_low", "profit_ci_high")
    frame.attrs["formats"] = {
        **dict.fromkeys(signed, UPLIFT_FORMATS["money"]),
        **dict.fromkeys(("programme_cost", "volume_cost"), EXCEL_FORMATS["money"]),
        **dict.fromkeys(("roi", "roi_ci_low", "roi_ci_high"), UPLIFT_FORMATS["ratio"]),
        "payback_tick": EXCEL_FORMATS["tick"],
    }
    return frame


def _group_sheet(by_group: pd.DataFrame, unit: str) -> pd.DataFrame:
    """A comparison's paired differences per group (`by_<column>.csv`), biggest first, labelled and formatted per
    row like the Uplift sheet (shares in percentage points)."""
    frame = by_group.copy()
    frame.attrs["uplift"] = True
    frame["outcome"] = [GROUP_METRICS.get(m) or m for m in frame["metric"]]  # the catalogue entry it reads as
    points = frame["outcome"].map(_scale).isin(["percent"])
    for col in ("uplift", "ci_low", "ci_high"):
        frame.loc[points, col] = frame.loc[points, col] * 100
    frame.insert(0, "label", [GROUP_LABELS.get(m) or outcome_label(o, unit)
                              for m, o in zip(frame["metric"], frame["outcome"], strict=True)])  # fmt: skip
    keep = ["treatment", "group", "label", "outcome", "base_mean", "treatment_mean", "uplift", "ci_low", "ci_high",
            "n"]  # fmt: skip
    return frame[keep]


def _numbers(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """An outcome table for Excel: label first (with the statistic that summarises the run, "Revenue (total)", as
    the CLI prints it), the numbers (formatted by the cell), no text copies."""
    out = frame.drop(columns=["shown", "95% CI"], errors="ignore")
    out["label"] = [named_outcome_label(o, unit) for o in out["outcome"]]
    return out[["label", *(c for c in out.columns if c != "label")]]


def _sheets(folder: Path, kind: str | None = None) -> tuple[dict[str, pd.DataFrame], str, str]:
    """The sheets of an output folder, its kind (default: its manifest's) and tick unit."""
    if kind is None:
        manifest = read_manifest(folder)
        if manifest is None:
            raise ScenarioError(f"{folder}: not a wom-sim output folder (no wom-sim.json manifest)")
        kind = manifest.get("kind")
    sheets: dict[str, pd.DataFrame] = {}
    scenario = _scenario_sheet(folder, kind)
    units = scenario.set_index("key").iloc[:, 0] if not scenario.empty else pd.Series(dtype=object)
    unit = str(units.get("tick_unit", "tick"))
    verdicts = _read(folder, "verdicts")
    if kind == "run":
        metrics = _read(folder, "metrics")
        sheets["Summary"] = _numbers(
            outcome_frame(run_rows(metrics, (*RUN_SUMMARY, *market_summary(metrics))), unit), unit
        )
        sheets["Time series"] = _labelled(metrics, unit)
    elif kind == "replications":
        sheets["Summary"] = _numbers(outcome_frame(summary_rows(_read(folder, "summary")), unit), unit)
        sheets["Time series"] = _wide_timeseries(_read(folder, "timeseries"), unit)
    elif kind == "compare":
        uplift = _read(folder, "uplift")
        sheets["Uplift"] = _uplift_sheet(uplift, unit)
        if verdicts is not None:  # the comparison's verdicts, when the compare that wrote the folder made them
            sheets["Summary"] = _verdict_sheet(verdicts)
        else:
            sheets["Summary"] = sheets["Uplift"].drop(columns=["base_mean", "treatment_mean", "n"], errors="ignore")
            sheets["Summary"].attrs["uplift"] = True
        sheets = {"Summary": sheets["Summary"], "Uplift": sheets["Uplift"]}
        for by in BY:  # the breakdowns a `compare --by` wrote into the folder
            table = _read(folder, f"by_{by}")
            if table is not None and len(table):
                sheets[f"By {by}"] = _group_sheet(table, unit)
        sheets["Time series"] = _wide_timeseries(_read(folder, "timeseries"), unit)
    elif kind == "sweep":
        points = _read(folder, "points")
        sheets["Summary"] = _numbers(outcome_frame(sweep_rows(points), unit), unit)
        sheets["Sweep points"] = _labelled(points, unit, _point_labels(points, unit))
    elif kind == "attribution":
        table = _read(folder, "attribution")
        sheets["Summary"] = table[["label", "verdict", "sentence"]]
        sheets["Attribution"] = table
    elif kind == "curves":
        table = _read(folder, "curves")
        sheets["Summary"] = table[table["current"]] if table["current"].any() else table
        sheets["Curves"] = table
    elif kind == "optimise":
        check, close, trials = (_read(folder, name) for name in ("check", "indistinguishable", "trials"))
        # The fresh-seed check when it ran, else the plans within the noise of the best.
        sheets["Summary"] = check if check is not None and len(check) else close
        if close is not None:
            sheets["Within the noise"] = close
        sheets["Trials"] = trials
    else:
        raise ScenarioError(
            f"{folder}: a wom-sim {kind} output has no workbook (run, replications, compare, sweep, attribution, "
            "curves, optimise)"
        )
    sheets["Scenario"] = scenario
    return sheets, kind, unit


def _point_labels(points: pd.DataFrame, unit: str) -> dict[str, str]:
    _, names = sweep_metrics(points)
    out = {}
    for name in names:
        label = outcome_label(name, unit)
        out |= {f"{name}_mean": label, f"{name}_ci_low": f"{label}: 95% CI low", f"{name}_ci_high": f"{label}: high"}
    return out


def _wide_timeseries(series: pd.DataFrame | None, unit: str) -> pd.DataFrame:
    """Mean per tick, one column per metric label (and an arm column for a comparison)."""
    if series is None or series.empty:
        return pd.DataFrame()
    index = [c for c in ("arm", "t") if c in series.columns]
    wide = series.pivot_table(index=index, columns="metric", values="mean", aggfunc="first", sort=False)
    return _labelled(wide.reset_index(), unit)


def _format(sheet, frame: pd.DataFrame, name: str, kind: str) -> None:
    """Number formats from the catalogue, a frozen header and readable column widths."""
    sheet.freeze_panes = "A2"
    for j, column in enumerate(frame.columns, start=1):
        letter = sheet.cell(row=1, column=j).column_letter
        width = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))]) + 2
        sheet.column_dimensions[letter].width = min(width, MAX_COLUMN_WIDTH)
        fmt = _column_format(frame, column, name, kind)
        if fmt:
            for row in range(2, len(frame) + 2):
                sheet.cell(row=row, column=j).number_format = fmt


def _column_format(frame: pd.DataFrame, column: str, name: str, kind: str) -> str | None:
    if name == "Attribution" and ("share" in column or column.startswith(("ci_", "lost_", "gap"))):
        return "0.0%"
    return frame.attrs.get("formats", {}).get(column)


def workbook_bytes(sheets: dict[str, pd.DataFrame], kind: str) -> bytes:
    """The .xlsx file of the sheets, formatted (openpyxl)."""
    require_openpyxl()
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            _format(writer.sheets[name], frame, name, kind)
            _row_formats(writer.sheets[name], frame, uplift=bool(frame.attrs.get("uplift")))
        writer.book.properties.creator = WORKBOOK_CREATOR  # how a later write knows the file is ours to replace
    return buffer.getvalue()


# The creator (docProps/core.xml) of the workbooks wom-sim writes; "openpyxl" is what they said before.
WORKBOOK_CREATOR = "wom-sim"
_OWN_CREATORS = (f"<dc:creator>{WORKBOOK_CREATOR}</dc:creator>", "<dc:creator>openpyxl</dc:creator>")


def check_workbook_target(path: str | Path) -> Path:
    """Refuse (one line) to replace a file at `path` that is not a workbook wom-sim wrote: a folder keeps the files
    its user put there (a `compare.xlsx` of their own beside the store), as every other output does."""
    path = Path(path)
    if not path.exists():
        return path
    try:
        with zipfile.ZipFile(path) as book:
            core = book.read("docProps/core.xml").decode("utf-8", "replace")
        ours = any(mark in core for mark in _OWN_CREATORS)
    except (OSError, KeyError, zipfile.BadZipFile):
        ours = False
    if not ours:
        raise ScenarioError(
            f"{path}: exists and is not a workbook wom-sim wrote; move or rename it (nothing of yours is replaced)"
        )
    return path


def _row_formats(sheet, frame: pd.DataFrame, uplift: bool) -> None:
    """Per row, the number format of the row's outcome (an outcome table mixes shares, counts and money)."""
    if "outcome" not in frame.columns:
        return
    numeric = [j for j, c in enumerate(frame.columns, start=1) if c in ("value", "ci_low", "ci_high", "base_mean",
                                                                          "treatment_mean", "uplift")]  # fmt: skip
    for i, name in enumerate(frame["outcome"], start=2):
        for j in numeric:
            fmt = _number_format(str(name), uplift and frame.columns[j - 1] in ("uplift", "ci_low", "ci_high"))
            if fmt:
                sheet.cell(row=i, column=j).number_format = fmt


def write_workbook(folder: str | Path, path: str | Path | None = None, kind: str | None = None) -> Path:
    """Write the workbook of an output folder (default: FOLDER/<kind>.xlsx), atomically; returns its path.

    `kind` (run, replications, compare, sweep, attribution) is read from the folder's manifest unless given (a
    run's folder is written before its manifest).

    Raises
    ------
    ScenarioError
        Without openpyxl (with the install command), or for a folder that is no wom-sim output.
    """
    require_openpyxl()
    folder = Path(folder)
    sheets, kind, _ = _sheets(folder, kind)
    target = check_workbook_target(Path(path) if path else folder / f"{kind}.xlsx")
    data = workbook_bytes(sheets, kind)
    with atomic_file(target) as handle:
        handle.write(data)
    _list_in_manifest(folder, target)
    return target


# Keys every manifest record has (manifest_record writes them afresh); the rest are the writer's own.
_RECORD_KEYS = ("kind", "files", "wom_sim_version", "written", "host", "pid")


def _list_in_manifest(folder: Path, target: Path) -> None:
    """A workbook added to a finished run folder (`wom-sim report DIR --xlsx`) joins its manifest's files, so a
    later `wom-sim run --force` there may replace it. A store's manifest lists only the store's own files."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("store") or target.parent.resolve() != folder.resolve():
        return
    files = manifest.get("files", [])
    if target.name not in files:
        extra = {k: v for k, v in manifest.items() if k not in _RECORD_KEYS}
        write_manifest(folder, manifest["kind"], [*files, target.name], **extra)
