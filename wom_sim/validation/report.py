"""The validation table as terminal text, Markdown and a self-contained HTML page (written atomically)."""

from __future__ import annotations

import datetime as dt
import html
import platform
from pathlib import Path
from typing import Any

from wom_sim.output import atomic_file
from wom_sim.validation.registry import FactResult

HEADERS = ("fact", "expected", "measured (95% CI)", "pass")
VERDICT = {True: "pass", False: "FAIL", None: ""}


def rows(results: list[FactResult]) -> list[tuple[str, str, str, str]]:
    """One row per measured part; a fact's first row carries its id and name, its status when it did not run."""
    out = []
    for r in results:
        for i, part in enumerate(r.parts):
            if i == 0:
                name = f"{r.id} {r.short}: {part.label}"
            elif part.label.startswith(" "):  # context row
                name = part.label
            else:
                name = f"{r.id} {part.label}"
            if r.status in ("pass", "fail"):
                verdict = VERDICT[part.passed]
            else:
                verdict = r.status.upper() if r.status == "error" else r.status
            measured = part.measured if r.status in ("pass", "fail") else (r.detail or r.status)
            out.append((name, part.expected, measured, verdict))
    return out


def text_table(results: list[FactResult]) -> str:
    """The table for a terminal: fixed-width columns separated by `|`."""
    table = [HEADERS, *rows(results)]
    widths = [min(max(len(row[i]) for row in table), limit) for i, limit in enumerate((84, 44, 44, 16))]

    def fit(cell: str, width: int) -> str:
        return cell if len(cell) <= width else cell[: width - 1] + "~"

    def line(row: tuple[str, ...]) -> str:
        return " | ".join(fit(c, w).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    lines = []
    for label, group in grouped(results):
        lines += ["" if lines else None, label, line(HEADERS), "-+-".join("-" * w for w in widths)]
        lines += [line(row) for row in rows(group)]
    return "\n".join(x for x in lines if x is not None)


# The two groups of a report, in this order: what the defaults were fitted to, and what was never fitted.
GROUPS = (("target", "Calibration targets (the defaults were fitted to these)"),
          ("test", "Test facts (never fitted: out-of-sample checks of the mechanisms)"))  # fmt: skip


def _counts(results: list[FactResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def summary_line(results: list[FactResult], record: dict[str, Any]) -> str:
    by_role = "; ".join(
        f"{label.split(' (')[0].lower()} {len(group)}: {_counts(group)}"
        for role, label in GROUPS
        if (group := [r for r in results if r.role == role])
    )
    settings = f"{record['replications']} replications per arm, {record['runs']} runs, {record['seconds']:.0f} s"
    return f"{len(results)} facts: {_counts(results)} ({by_role}). {record['mode']} mode, {settings}."


def grouped(results: list[FactResult]) -> list[tuple[str, list[FactResult]]]:
    """The results split into calibration targets and test facts (a group with no fact is left out)."""
    groups = [(label, [r for r in results if r.role == role]) for role, label in GROUPS]
    other = [r for r in results if r.role not in dict(GROUPS)]
    return [(label, group) for label, group in [*groups, ("Other facts", other)] if group]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(results: list[FactResult], record: dict[str, Any], command: str, glance: Any = None) -> str:
    """The full report as Markdown: command, settings, the table, notes of facts that did not run."""
    lines = [
        "# Validation against stylized facts",
        "",
        f"Command: `{command}`  ",
        f"Run: {record.get('finished', '')}, {record['seconds']:.0f} s wall time, {record['runs']} simulation runs, "
        f"{record['replications']} replications per arm (replication seeds of base seed {record.get('seed', 1)}, "
        f"the same in every arm), size overrides {record['size'] or 'none (the baseline as is)'}.",
        "",
        summary_line(results, record),
        "",
    ]
    for label, group in grouped(results):
        lines += [f"**{label}**", "", "| " + " | ".join(HEADERS) + " |", "|---|---|---|---|",
                  *["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows(group)], ""]  # fmt: skip
    notes = [f"- {r.id}: {r.status}: {r.detail}" for r in results if r.detail]
    if notes:
        lines += ["Notes:", *notes, ""]
    if glance is not None:
        lines += ["Baseline at a glance (not facts; means over the replications):", "",
                  "| measure | mean (95% CI) |", "|---|---|",
                  *[f"| {k} | {v} |" for k, v in glance.iloc[:, 0].items()], ""]  # fmt: skip
    return "\n".join(lines)


def html_page(results: list[FactResult], record: dict[str, Any], command: str, glance: Any = None) -> str:
    """A self-contained HTML page of the same report."""
    colour = {"pass": "#2e7d32", "FAIL": "#c62828"}
    body = []
    head = f"<tr>{''.join(f'<th>{h}</th>' for h in HEADERS)}</tr>"
    for label, group in grouped(results):
        body.append(f"<h2>{html.escape(label)}</h2><table>{head}")
        for row in rows(group):
            style = f' style="color:{colour.get(row[3], "#8d6e00")};font-weight:600"' if row[3] else ""
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in row[:3]) + f"<td{style}>{html.escape(row[3])}</td>"
            body.append(f"<tr>{cells}</tr>")
        body.append("</table>")
    extra = ""
    if glance is not None:
        items = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                        for k, v in glance.iloc[:, 0].items())  # fmt: skip
        extra = f"<h2>Baseline at a glance</h2><table><tr><th>measure</th><th>mean (95% CI)</th></tr>{items}</table>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wom-sim validation</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}th{{background:#f4f4f4}}</style>
</head><body><h1>Validation against stylized facts</h1>
<p>Command: <code>{html.escape(command)}</code><br>{html.escape(summary_line(results, record))}</p>
{"".join(body)}{extra}
<p>Generated {html.escape(record.get("finished", ""))} on {html.escape(platform.node())}.</p></body></html>
"""


def write_reports(out_dir: str | Path, results: list[FactResult], record: dict[str, Any], command: str,
                  glance: Any = None) -> tuple[Path, Path]:  # fmt: skip
    """Write validation.md and validation.html into `out_dir`, each atomically."""
    out = Path(out_dir)
    record = {**record, "finished": dt.datetime.now().strftime("%Y-%m-%d %H:%M")}
    md, page = out / "validation.md", out / "validation.html"
    with atomic_file(md, "w") as handle:
        handle.write(markdown(results, record, command, glance))
    with atomic_file(page, "w") as handle:
        handle.write(html_page(results, record, command, glance))
    return md, page
