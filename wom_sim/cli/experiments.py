"""`wom-sim compare`, `wom-sim sweep`, `wom-sim report`, and the replicated path of `wom-sim run`."""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import textwrap
from pathlib import Path

import click
import pandas as pd

from wom_sim.cli.common import (
    cli,
    figure_format_option,
    from_source,
    paired_replications_option,
    quiet_option,
    resolve_scenario_path,
    seed_option,
    set_option,
    ticks_option,
)
from wom_sim.errors import ScenarioError
from wom_sim.network.build import check_network
from wom_sim.network.kols import check_kols_fit
from wom_sim.output import add_warnings, check_writable_file, prepare_out, read_manifest
from wom_sim.scenario.loading import load_scenario, scenario_warnings

EXIT_INTERRUPTED = 130


def executor_options(f):
    """--workers, --dask and --dask-local (shared by run, compare and sweep)."""
    f = click.option(
        "--dask-local",
        type=click.IntRange(1, 512),
        metavar="N",
        help="Start a Dask LocalCluster of N worker processes and run there.",
    )(f)
    f = click.option(
        "--dask",
        metavar="ADDRESS",
        help="Run on a Dask cluster: the scheduler address, e.g. tcp://10.0.0.5:8786 (needs wom-sim[distributed] "
        "on every worker).",
    )(f)
    return click.option(
        "--workers",
        type=click.IntRange(0, 4096),
        metavar="N",
        help="Local worker processes (default: all cores; 0 = run in this process).",
    )(f)


def _executor(workers, dask, dask_local, quiet: bool):
    from wom_sim.experiment.executors import make_executor  # lazy: CLI start-up time

    executor = make_executor(workers, dask, dask_local)
    if not quiet:
        click.echo(f"executing on {executor.name}", err=True)
    return executor


@contextlib.contextmanager
def store_warnings_shown():
    """Print each of the store's warnings (a changed spec, runs of other code, a damaged part set aside) as one line
    the moment the store issues it, so one about the input (resuming a store whose spec changed) comes before the
    runs start, not after a long study, and never as Python's two-line warning; yields the messages shown."""
    import warnings

    from wom_sim.experiment.store import StoreWarning  # lazy: CLI start-up time

    shown: list[str] = []

    def show_now(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, StoreWarning):
            return others(message, category, filename, lineno, file, line)
        shown.append(str(message))
        click.echo(f"warning: {message}", err=True)

    with warnings.catch_warnings():  # restores showwarning on the way out
        warnings.simplefilter("always", StoreWarning)
        others, warnings.showwarning = warnings.showwarning, show_now
        yield shown


def _run_study(study, quiet: bool):
    """Run a study function (called with ``warn=True``: `store_warnings_shown` prints them as they come), turning
    Ctrl-C into a clean message and exit code 130."""
    from wom_sim.experiment.executors import Interrupted  # lazy: CLI start-up time

    try:
        with store_warnings_shown() as shown:
            result = study()
    except Interrupted as exc:
        click.echo(f"\n{exc}", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    for note in result.notes:
        if note not in shown:
            click.echo(f"warning: {note}", err=True)
    if not quiet:
        ex = result.execution
        click.echo(
            f"{ex.ran} runs in {ex.seconds:.1f} s, {ex.reused} reused from the store; {ex.total} in all", err=True
        )
    return result


def xlsx_option(f):
    """--xlsx (run, compare, sweep, attribution, report)."""
    return click.option("--xlsx", is_flag=True, help="Also write an Excel workbook (needs wom-sim[excel]).")(f)


def _need_xlsx(xlsx: bool) -> None:
    """Refuse --xlsx without openpyxl before any run starts."""
    if xlsx:
        from wom_sim.report.workbook import require_openpyxl  # lazy: an optional extra

        require_openpyxl()


def _check_xlsx_target(out: Path, kind: str, xlsx: bool) -> None:
    """Before any run: the workbook --xlsx will write must not replace a file of the user's in the folder."""
    if xlsx:
        from wom_sim.report.workbook import check_workbook_target  # lazy: CLI start-up time

        check_workbook_target(Path(out) / f"{kind}.xlsx")


def _xlsx(out: Path, xlsx: bool) -> None:
    if xlsx:
        from wom_sim.report.workbook import write_workbook  # lazy: an optional extra

        click.echo(f"workbook: {write_workbook(out)}", err=True)


def _print_rows(rows: list[dict], indent: str = "  ") -> None:
    frame = pd.DataFrame(rows).astype(str)
    widths = {c: max(len(c), *(len(v) for v in frame[c])) for c in frame.columns}
    click.echo(
        indent + "  ".join(c.ljust(widths[c]) if i == 0 else c.rjust(widths[c]) for i, c in enumerate(frame.columns))
    )
    for _, row in frame.iterrows():
        click.echo(
            indent
            + "  ".join(
                row[c].ljust(widths[c]) if i == 0 else row[c].rjust(widths[c]) for i, c in enumerate(frame.columns)
            )
        )


def _preflight(scenarios: list, sources: list[str], warn: bool = True) -> list[str]:
    """Before any run: refuse a graph that does not fit (as a run would), print what would run but mean nothing
    (returned too, for the output's manifest)."""
    seen: set[int] = set()
    notes: list[str] = []
    for scenario, source in zip(scenarios, sources, strict=True):
        with from_source(source):
            check_network(scenario.network)
            check_kols_fit(scenario)
        if warn and id(scenario) not in seen:
            seen.add(id(scenario))
            for note in scenario_warnings(scenario, source):
                click.echo(f"warning: {note}", err=True)
                notes.append(note)
    return notes


def warn_free_keys(keys) -> list[str]:
    """Before any run: one warning line per varied key that costs nothing in the model (a sweep, curve or plan over
    it always says "more"), naming the priced lever; returned too, for the output's manifest."""
    from wom_sim.experiment.levers import free_key_warnings  # lazy: CLI start-up time

    notes = free_key_warnings(list(keys))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    return notes


# Sections that make replication i of two arms the same market: same graph, same people (common random numbers).
PAIRED_SECTIONS = ("network", "population")


def _check_paired(arms: list, unpaired: bool) -> list[str]:
    """Paired uplifts assume every arm draws the same graph and population from the shared seed."""
    base = arms[0].scenario
    notes: list[str] = []
    for arm in arms[1:]:
        for section in PAIRED_SECTIONS:
            if getattr(arm.scenario, section) != getattr(base, section):
                mine, theirs = getattr(base, section).model_dump(), getattr(arm.scenario, section).model_dump()
                key = next((k for k in mine if mine[k] != theirs.get(k)), "")
                text = (
                    f"compare: {arm.label} has another {section} than {arms[0].label} ({section}.{key}: "
                    f"{theirs.get(key)!r} vs {mine.get(key)!r}), so its runs are not paired with the base's"
                )
                if not unpaired:
                    raise ScenarioError(f"{text}; give --unpaired to compare them anyway (read the unpaired CI)")
                notes.append(f"{text}; the paired CI does not apply, read the unpaired CI")
                click.echo(f"warning: {notes[-1]}", err=True)
    return notes


# ------------------------------------------------------------------------------------------------ run --replications
def run_replicated(
    path: Path,
    scenario,
    replications: int,
    out_dir,
    workers,
    dask,
    dask_local,
    quiet: bool,
    figure_format: str = "png",
    xlsx: bool = False,
) -> None:
    """`wom-sim run SCENARIO --replications N`: mean and 95% CI per metric per tick, a dashboard with CI bands."""
    # Imported when the command runs, so `wom-sim --help` stays fast.
    from wom_sim.catalogue import ticks_text  # lazy: CLI start-up time
    from wom_sim.experiment.studies import replicate
    from wom_sim.report.figures import ci_dashboard_figure, people_in, save_figure  # lazy: CLI start-up time
    from wom_sim.report.html import ci_table  # lazy: CLI start-up time

    out = prepare_out(
        Path(out_dir) if out_dir else Path("runs") / f"{path.stem}-replications", "replications", resume=True
    )
    _check_xlsx_target(out, "replications", xlsx)
    notes = _preflight([scenario], [str(path)])
    executor = _executor(workers, dask, dask_local, quiet)
    with executor:
        result = _run_study(
            lambda: replicate(scenario, replications, executor=executor, out=out, progress=not quiet, warn=True),
            quiet,
        )
    add_warnings(out, notes)
    tables = result.tables
    title = f"{scenario.name} ({people_in(tables['timeseries']):,} people)"
    dashboard = ci_dashboard_figure(tables["timeseries"], title, scenario.tick_unit, scenario=scenario)
    save_figure(dashboard, out / f"dashboard.{figure_format}")
    _xlsx(out, xlsx)
    if quiet:
        return
    runs = f"{replications} replication{'' if replications == 1 else 's'}"
    click.echo(
        f"\n{scenario.name}: {runs}, {ticks_text(scenario.ticks, scenario.tick_unit)}, seeds from "
        f"base seed {scenario.seed} (replication_seed: SeedSequence spawn keys)\n"
    )
    _print_rows(ci_table(tables["summary"], scenario.tick_unit, scenario.currency).to_dict("records"))
    if replications < 2:  # every CI column reads "n/a to n/a": say why and what to do, not leave it a puzzle
        click.echo("\n  One replication has no error bar: use -r 2 or more for a 95% CI (-r 30 for a decision).")
    click.echo(
        f"\nOutputs in {out}/: summary.csv (mean and 95% CI per outcome), timeseries.parquet (per metric per "
        f"{scenario.tick_unit}), outcomes.csv (per replication), dashboard.{figure_format}, runs/ (one part per run). "
        f"HTML: wom-sim report {out}"
    )


# ------------------------------------------------------------------------------------------------ compare
# NAME=FILE labels a treatment; NAME is a plain word, so `kols.select.k=20` stays an override of BASE.
ARM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,59}")


def _named(text: str) -> tuple[str | None, str]:
    """`NAME=FILE` -> (NAME, FILE) when FILE is a scenario file or a bundled name; else (None, text)."""
    name, sep, rest = text.partition("=")
    if sep and ARM_NAME.fullmatch(name) and rest and not Path(text).exists():
        try:
            resolve_scenario_path(rest)
        except ScenarioError:
            return None, text
        return name, rest
    return None, text


def _arms(base: str, treatments: tuple[str, ...], overrides: list[str], seed, ticks, labels=()) -> list:
    """BASE and the TREATMENTs as labelled scenarios; an override treatment is BASE + --set + its own overrides.

    A treatment is labelled by `NAME=` before it, else by --label (in treatment order), else by its file stem or
    its override text.
    """
    from wom_sim.experiment.studies import Arm  # lazy: CLI start-up time

    if len(labels) > len(treatments):
        raise ScenarioError(f"--label: {len(labels)} labels for {len(treatments)} treatments (one per treatment)")
    base_path = resolve_scenario_path(base)
    arms = [Arm(base_path.stem, load_scenario(base_path, overrides, seed=seed, ticks=ticks))]
    for index, given in enumerate(treatments):
        name, text = _named(given)
        label = labels[index] if index < len(labels) else name
        try:
            if "=" in text and not Path(text).exists():
                items = shlex.split(text)
                scenario = load_scenario(base_path, [*overrides, *items], seed=seed, ticks=ticks)
                arms.append(Arm(label or text, scenario))
                # A treatment that only turns up a key that costs nothing "pays" at no spend: say so first.
                warn_free_keys(item.partition("=")[0].strip() for item in items)
            else:
                path = resolve_scenario_path(text)
                arms.append(Arm(label or path.stem, load_scenario(path, overrides, seed=seed, ticks=ticks)))
        except ValueError as exc:  # ScenarioError, or shlex on unbalanced quotes
            raise ScenarioError(f"treatment {given!r}: {exc}") from None
    return arms


def _width() -> int:
    """The terminal's width (80 when it is not a terminal, e.g. a pipe or a test)."""
    return max(60, shutil.get_terminal_size((80, 24)).columns)


def _header_lines(name: str, room: int) -> list[str]:
    """A column header on two lines when it is wider than the column's values (`room`), split after the "_", "-"
    or space nearest its middle; one line when it fits or has nowhere to split."""
    if len(name) <= room:
        return [name]
    cuts = [i + 1 for i, ch in enumerate(name[:-1]) if ch in "_- "]
    if not cuts:
        return [name]
    cut = min(cuts, key=lambda i: max(i, len(name) - i))
    return [name[:cut].rstrip(), name[cut:]]


def fit_rows(rows: list[dict], width: int, indent: str = "  ", keep: int = 2) -> list[str]:
    """Rows as aligned text lines no wider than `width`. When they are wider: a header wider than its column's
    values (an arm's name over its numbers) goes on two lines; then the first column (labels) is cut with "..."
    down to 28 characters, then columns beyond the first `keep` are dropped from the right, then the first column
    is cut down to 12. The first column is left-aligned, the others right-aligned."""
    if not rows:
        return []
    frame = pd.DataFrame(rows).astype(str)
    columns = list(frame.columns)
    first = columns[0]
    heads = {c: [c] for c in columns}

    def widths() -> dict[str, int]:
        return {c: max(*(len(h) for h in heads[c]), *(len(v) for v in frame[c])) for c in columns}

    def over() -> int:
        return len(indent) + sum(w[c] for c in columns) + 2 * (len(columns) - 1) - width

    w = widths()
    if over() > 0:  # too wide: headers wider than their numbers go on two lines before any label is cut
        heads.update({c: _header_lines(c, max(len(v) for v in frame[c])) for c in columns[1:]})
        w = widths()

    w[first] = max(min(w[first], 30), w[first] - max(over(), 0))
    dropped = []
    while len(columns) > keep and over() > 0:
        dropped.insert(0, columns.pop())
    w[first] = max(12, w[first] - max(over(), 0))
    frame[first] = [v if len(v) <= w[first] else v[: w[first] - 3] + "..." for v in frame[first]]

    def line(values: dict) -> str:
        cells = [str(values[c]).ljust(w[c]) if i == 0 else str(values[c]).rjust(w[c]) for i, c in enumerate(columns)]
        return (indent + "  ".join(cells)).rstrip()

    depth = max(len(heads[c]) for c in columns)
    header = [line({c: ([""] * (depth - len(heads[c])) + heads[c])[i][: w[c]] for c in columns}) for i in range(depth)]
    lines = [*header, *(line(r) for r in frame[columns].to_dict("records"))]
    if dropped:
        lines += textwrap.wrap(f"(left out to fit {width} characters: {', '.join(dropped)})", width,
                               initial_indent=indent, subsequent_indent=indent)  # fmt: skip
    return lines


def compare_rows(result, treatment: str, details: bool) -> list[dict]:
    """The table of one treatment: business columns (outcome, base, treatment, change with its paired 95% CI);
    `details` adds the statistics (unpaired CI, paired/unpaired width ratio, n)."""
    from wom_sim.analysis.outcomes import format_outcome, outcome, short_label  # lazy: CLI start-up time

    unit, currency = result.tick_unit, result.currency
    rows = []
    table = result.uplift[result.uplift["treatment"] == treatment]
    runs = int(table["n"].max()) if len(table) else 0  # replications of the pair (a payback row counts fewer)
    for _, r in table.iterrows():
        name = r["outcome"]
        if name == "roi":
            continue  # the verdict line says it, on the programme's own spend
        relative = r["base_mean"] != r["base_mean"]  # payback, damage: a treatment-vs-base value, no base column

        def change(value, name=name, relative=relative):
            return format_outcome(name, value, currency, unit, delta=not relative)

        def bound(value, name=name, relative=relative):  # a CI bound without the unit the value already says
            text = change(value)
            for tail in (" pts", f" {currency}" if currency else None):
                if tail and text.endswith(tail):
                    text = text[: -len(tail)]
            return text.removeprefix(f"{unit} ")

        mark = "*" if (r["ci_low"] > 0 or r["ci_high"] < 0) and name != "payback" else " "
        shown = f"{change(r['uplift'])} ({bound(r['ci_low'])} to {bound(r['ci_high'])}){mark}"
        if outcome(name).stat == "payback" and int(r["n"]) < runs:
            # The mean payback is over the runs that paid back only: say how many did, so "week 18" of one run in
            # three does not read as the answer (and "n/a to n/a", a single run's interval, is not shown).
            paid = f"{int(r['n'])} of {runs} runs paid back"
            interval = f"{bound(r['ci_low'])} to {bound(r['ci_high'])}; " if r["ci_low"] == r["ci_low"] else ""
            shown = f"{change(r['uplift'])} ({interval}{paid}) " if r["n"] else f"none of {runs} runs paid back "
        row = {
            "outcome": short_label(name, unit),
            result.base: "" if relative else format_outcome(name, r["base_mean"], currency, unit),
            treatment: "" if relative else format_outcome(name, r["treatment_mean"], currency, unit),
            "change (95% CI)": shown,
        }
        if details:
            row["unpaired 95% CI"] = (
                "n/a" if relative else f"{bound(r['unpaired_ci_low'])} to {bound(r['unpaired_ci_high'])}"
            )
            row["width ratio"] = f"{r['width_ratio']:.2f}" if r["width_ratio"] == r["width_ratio"] else "n/a"
            row["n"] = str(int(r["n"]))
        rows.append(row)
    return rows


def ranking_rows(result) -> list[dict]:
    """The ranking as rows: rank, treatment, verdict, incremental profit (95% CI), ROI, payback."""
    from wom_sim.catalogue import format_money  # lazy: CLI start-up time

    rows = []
    for _, v in result.verdicts().iterrows():
        money = lambda x: format_money(x, result.currency, signed=True)  # noqa: E731
        rows.append(
            {
                "treatment (rank)": f"{v['rank']}. {v['treatment']}",
                "verdict": v["verdict"],
                "profit vs base (95% CI)": f"{money(v['incremental_profit'])} ({money(v['profit_ci_low'])} to "
                f"{money(v['profit_ci_high'])})",
                "programme spend": format_money(v["programme_cost"], result.currency)
                if v["programme_cost"] > 0
                else "-",
                "ROI": f"{v['roi']:+.1f}" if v["roi"] == v["roi"] else "-",
                f"payback {result.tick_unit}": str(int(v["payback_tick"]))
                if v["payback_tick"] == v["payback_tick"]
                else "-",
            }
        )
    return rows


def check_outcome_names(outcomes) -> None:
    """Refuse an unknown --outcome in one line naming the option, before an executor starts or anything runs."""
    from wom_sim.analysis.outcomes import outcome  # lazy: CLI start-up time

    for name in outcomes:
        try:
            outcome(name)
        except ScenarioError as exc:
            raise ScenarioError(f"--outcome {name}: {exc}") from None


@cli.command()
@click.argument("base", metavar="BASE")
@click.argument("treatments", metavar="TREATMENT...", nargs=-1, required=True)
@paired_replications_option(30, "Replications per arm (replication i of every arm shares its seed).")
@set_option
@seed_option("Base seed of the replications (default: BASE's).")
@ticks_option("Number of ticks of every arm.")
@click.option("--label", "labels", multiple=True, metavar="NAME",
              help="Name the treatments in order (repeatable; NAME=FILE as a TREATMENT does the same).")  # fmt: skip
@click.option("--outcome", "outcomes", multiple=True, metavar="STAT:COLUMN",
              help="Outcomes to tabulate instead of the default list (repeatable): a column of the metric catalogue "
              "(profit), stat:column with stat last, mean, sum, min, max or at:T (mean:churn_rate, at:52:customers), "
              "or payback, crisis_damage (deepest brand relative to the base), incremental:COLUMN, roi.")  # fmt: skip
@click.option("--details", is_flag=True, help="Add the statistics columns: unpaired CI, paired/unpaired CI width "
              "ratio (what common random numbers buy) and n.")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False), metavar="FOLDER",
              help="Store folder (default: runs/compare-BASE).")  # fmt: skip
@executor_options
@click.option(
    "--unpaired",
    is_flag=True,
    help="Allow arms whose graph or population differ (e.g. another network.n); their paired CIs then assume "
    "nothing: read the unpaired CI. Without it such a comparison is refused.",
)
@click.option("--by", "by", metavar="COLUMN", help="Also break the outcomes down by a per-person column (segment, "
              "acquired_by, is_kol; brand with competitors): per group, each treatment against the base with its "
              "paired 95% CI (by_COLUMN.csv). Stored runs made without it run again.")  # fmt: skip
@quiet_option("No progress bar and no table; only errors and warnings.")
@figure_format_option
@xlsx_option
def compare(base, treatments, replications, overrides, seed, ticks, labels, outcomes, details, out_dir, workers,
            dask, dask_local, unpaired, quiet, figure_format, xlsx=False, by=None):  # fmt: skip
    """Compare TREATMENTs with BASE: does each pay, by how much, how sure, from when; which beats which.

    \b
    BASE and each TREATMENT are scenario files or bundled names; NAME=FILE names a treatment (or --label). A
    TREATMENT may instead be overrides of BASE, e.g. 'kols.select.k=20' or 'wom.contact_prob=0.2
    advertising.reach=0.03' (one quoted argument per treatment). --set applies to every arm (e.g. --set
    network.n=1000 for a quick look).
    \b
    Prints a verdict per treatment first: "pays", "does not pay" or "not sure" as the 95% CI of its incremental
    profit lies above, below or around 0, with the return on its own programme spend (the interventions it adds
    or changes; costs that only follow volume, such as cost of goods, are apart) and its payback; then the
    treatments ranked, with their pairwise differences (Holm-adjusted), then one table per treatment. Shares and
    rates change in percentage points (pts), NPS in points, money in the scenario's currency.
    \b
    Replication i of every arm uses the same seed, so the same graph, population and random streams: the
    difference is the effect of the treatment, not of luck. Interrupt with Ctrl-C and run the same command again
    to resume; only missing runs run.
    \b
    --by segment (acquired_by, is_kol, brand) adds one table per treatment: its change against the base in each
    group (customers, adoption, churn, purchases, revenue, satisfaction, NPS) with the paired 95% CI, biggest
    change first; written to by_segment.csv and shown by `wom-sim report`.
    """
    # Imported when the command runs, so `wom-sim --help` stays fast.
    from wom_sim.analysis.outcomes import check_horizon  # lazy: CLI start-up time
    from wom_sim.experiment.comparison import compare as run_compare
    from wom_sim.report.figures import ci_dashboard_figure, profit_uplift_figure, save_figure, uplift_figure  # lazy

    check_outcome_names(outcomes)
    arms = _arms(base, treatments, list(overrides), seed, ticks, labels)
    horizon = min(arm.scenario.ticks for arm in arms)  # arms may differ with --unpaired; each must have the tick
    for name in outcomes:
        try:
            check_horizon(name, horizon)
        except ScenarioError as exc:
            raise ScenarioError(f"--outcome {name}: {exc}") from None
    if by is not None:
        from wom_sim.analysis.segments import check_by  # lazy: CLI start-up time

        check_by(by, all(arm.scenario.competitors for arm in arms))  # before any run starts
    _need_xlsx(xlsx)
    out = prepare_out(Path(out_dir) if out_dir else Path("runs") / f"compare-{arms[0].label}", "compare", resume=True)
    _check_xlsx_target(out, "compare", xlsx)
    notes = _preflight([a.scenario for a in arms], [a.label for a in arms]) + _check_paired(arms, unpaired)
    executor = _executor(workers, dask, dask_local, quiet)
    with executor:
        result = _run_study(
            lambda: run_compare(
                *arms,
                replications=replications,
                executor=executor,
                out=out,
                outcomes=list(outcomes) or None,
                progress=not quiet,
                warn=True,
                by=by,
            ),
            quiet,
        )
    add_warnings(out, notes)
    unit = arms[0].scenario.tick_unit
    currency = result.currency
    scenarios = {arm.label: arm.scenario for arm in arms}
    save_figure(uplift_figure(result.uplift, None, unit, currency), out / f"compare.{figure_format}")
    paybacks = dict(zip(result.verdicts()["treatment"], result.verdicts()["payback_tick"], strict=True))
    profit = profit_uplift_figure(result.uplift_timeseries, unit, currency, paybacks, scenarios)
    save_figure(profit, out / f"profit_uplift.{figure_format}")
    save_figure(ci_dashboard_figure(result.timeseries, "", unit, currency=currency), out / f"dashboard.{figure_format}")
    _xlsx(out, xlsx)
    if quiet:
        return
    width = _width()
    print_comparison(result, details, width)
    if by:
        print_groups(result, width)
    by_files = f"by_{by}.csv, by_{by}_runs.csv, " if by else ""
    outputs = (
        f"Outputs in {out}/: verdicts.csv, pairwise.csv, uplift.csv, roi.csv, per_seed.csv, outcomes.csv, {by_files}"
        f"timeseries.parquet, uplift_timeseries.parquet, compare.{figure_format}, profit_uplift.{figure_format}, "
        f"dashboard.{figure_format}, runs/ (the tables also as .parquet). HTML: wom-sim report {out}"
    )
    click.echo("\n" + textwrap.fill(outputs, width, break_on_hyphens=False, break_long_words=False))


def print_comparison(result, details: bool, width: int) -> None:
    """Verdict lines, the ranking and the pairwise differences, then one table per treatment, within `width`."""
    from wom_sim.analysis.outcomes import outcome  # lazy: CLI start-up time
    from wom_sim.analysis.verdicts import payback_note  # lazy: CLI start-up time
    from wom_sim.catalogue import ticks_text  # lazy: CLI start-up time

    wrap = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="      ")
    click.echo(f"\nVerdicts against {result.base} ({result.replications} paired replications, "
               f"{ticks_text(result.horizon, result.tick_unit)}):")  # fmt: skip
    for sentence in result.verdicts()["sentence"]:
        click.echo(wrap.fill(sentence))
    click.echo("\nRanking by incremental profit:")
    for text in fit_rows(ranking_rows(result), width, keep=3):
        click.echo(text)
    pairs = result.pairwise()
    if len(pairs):
        from wom_sim.catalogue import format_money  # lazy: CLI start-up time

        money = lambda x: format_money(x, result.currency, signed=True)  # noqa: E731
        rows = [
            {
                "pair": f"{p['treatment']} - {p['other']}",
                "profit difference (95% CI)": (
                    f"{money(p['difference'])} ({money(p['ci_low'])} to {money(p['ci_high'])})"
                ),
                "p (Holm)": f"{p['p_holm']:.3g}" if p["p_holm"] == p["p_holm"] else "n/a",
                "verdict": "ahead" if p["beats"] else "not distinguishable",
            }
            for _, p in pairs.iterrows()
        ]
        click.echo("\nPairwise differences in incremental profit:")
        for text in fit_rows(rows, width, keep=3):
            click.echo(text)
        click.echo(wrap.fill(f"p (Holm): {pairs['adjustment'].iloc[0]}; paired t-tests (common random numbers)."))
    for treatment in result.treatments:
        click.echo(f"\n{treatment} vs {result.base} ({result.replications} paired replications)")
        for text in fit_rows(compare_rows(result, treatment, details), width, keep=4):
            click.echo(text)
    if details:
        from wom_sim.report.html import pairing_gain  # lazy: CLI start-up time

        click.echo("\n  Common random numbers (replication i of every arm shares its seed):")
        for line in pairing_gain(result.uplift):
            click.echo(wrap.fill(line))
    from wom_sim.catalogue import CHANGE_UNITS_NOTE  # lazy: CLI start-up time

    notes = f"* paired 95% CI excludes 0. {CHANGE_UNITS_NOTE}. ROI = incremental "
    notes += "profit per unit of the programme's own spend (0 = break-even)."
    click.echo("\n" + wrap.fill(notes if details else notes + " --details adds the statistics columns."))
    if result.uplift["outcome"].map(lambda name: outcome(name).stat == "payback").any():
        click.echo(wrap.fill(payback_note(result.tick_unit)))


def group_rows(result, treatment: str) -> list[dict]:
    """One treatment's differences per group (`Comparison.by_group`, biggest first) as rows: group (on its first
    row only), metric, base, treatment, change with its paired 95% CI; a metric no replication moved or none
    measured is left out."""
    from wom_sim.report.html import group_display  # lazy: CLI start-up time

    table = group_display(result.by_group[result.by_group["treatment"] == treatment], result.currency,
                          result.tick_unit, moved_only=True)  # fmt: skip
    rows, last = [], None
    for r in table.to_dict("records"):
        rows.append({result.by: r["group"] if r["group"] != last else "", "metric": r["metric"],
                     result.base: r["base"], treatment: r["treatment mean"],
                     "change (95% CI)": f"{r['change']} ({r['paired 95% CI'].replace(' pts', '')})"})  # fmt: skip
        last = r["group"]
    return rows


def print_groups(result, width: int) -> None:
    """Per treatment, its differences against the base per group of `result.by`, within `width`."""
    for treatment in result.treatments:
        click.echo(f"\n{treatment} vs {result.base} by {result.by} ({result.replications} paired replications), "
                   "biggest relative change first:")  # fmt: skip
        for text in fit_rows(group_rows(result, treatment), width, keep=5):
            click.echo(text)
    click.echo(textwrap.fill("  * paired 95% CI excludes 0. Metrics no replication moved (e.g. people of a segment) "
                             "or none measured (no customers in the group) are left out here; by_"
                             f"{result.by}.csv has them all.", width, subsequent_indent="  "))  # fmt: skip


# ------------------------------------------------------------------------------------------------ sweep
@cli.command()
@click.argument("spec", metavar="SPEC", type=click.Path(dir_okay=False))
@set_option
@click.option("--replications", "-r", type=click.IntRange(1, 100_000), metavar="N",
              help="Replications per design point (default: the spec's).")  # fmt: skip
@ticks_option("Number of ticks of every run (--set ticks=N).")
@click.option("--samples", type=click.IntRange(1, 1_000_000), metavar="N",
              help="lhs: points; sobol: base sample N (default: the spec's).")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False), metavar="FOLDER",
              help="Store folder (default: runs/<spec name>).")  # fmt: skip
@executor_options
@quiet_option("No progress bar and no summary; only errors and warnings.")
@figure_format_option
@xlsx_option
def sweep(spec, overrides, replications, ticks, samples, out_dir, workers, dask, dask_local, quiet, figure_format,
          xlsx=False):  # fmt: skip
    """Run the parameter sweep described by SPEC (YAML) into a resumable store and summarise it.

    \b
    SPEC names a scenario (relative to SPEC), parameters (dotted keys) with lists or {low, high} ranges, a design
    (grid, lhs = Latin hypercube, sobol = Saltelli/Sobol' sequence with Sobol indices via SALib), samples,
    replications, seed and metrics; see experiments/*.yaml and docs/experiments.md. Every design point is
    validated before anything runs. --set, --replications, --ticks and --samples change the spec for this run
    (e.g. --set network.n=1000 -r 2 for a quick look). Metrics are outcomes of the metric catalogue (profit,
    mean:churn_rate, at:52:customers) and, with a `baseline:` in SPEC, outcomes against it: roi, incremental:profit,
    payback, crisis_damage. One Parquet part per finished run: kill it and run the same command again to finish;
    a changed SPEC (or options) warns and never mixes its results with the old ones.
    """
    from wom_sim.experiment.sweep import run_sweep  # lazy: CLI start-up time
    from wom_sim.experiment.sweep_spec import load_sweep  # lazy: CLI start-up time

    # lazy: CLI start-up time
    from wom_sim.report.figures import heatmap_figure, partial_dependence_figure, save_figure, sensitivity_figure

    plan = load_sweep(spec, list(overrides), replications=replications, samples=samples, ticks=ticks)
    _need_xlsx(xlsx)
    out = prepare_out(Path(out_dir) if out_dir else Path("runs") / plan.name, "sweep", resume=True)
    _check_xlsx_target(out, "sweep", xlsx)
    notes = _preflight([plan.base], [str(plan.scenario_path)])
    _preflight(plan.scenarios, [f"{spec}: design point {i}" for i in range(len(plan.scenarios))], warn=False)
    notes += warn_free_keys(p.key for p in plan.parameters)
    executor = _executor(workers, dask, dask_local, quiet)
    if not quiet:
        click.echo(
            f"sweep {plan.name}: {plan.spec.design} design, {len(plan.points)} points x "
            f"{plan.spec.replications} replications = {len(plan.points) * plan.spec.replications} runs",
            err=True,
        )
    with executor:
        result = _run_study(lambda: run_sweep(plan, out, executor, progress=not quiet, warn=True), quiet)
    add_warnings(out, notes)
    tables, params, metrics = result.tables, [p.key for p in plan.parameters], plan.spec.metrics
    unit, currency = plan.base.tick_unit, getattr(plan.base, "currency", None)
    drawn = [m for m in metrics if tables["points"][f"{m}_mean"].notna().any()]  # an all-NaN roi: nothing to draw
    heat = heatmap_figure(tables["points"], params, drawn, unit, currency) if drawn else None
    if heat is not None:
        save_figure(heat, out / f"heatmaps.{figure_format}")
    dependence = partial_dependence_figure(tables["effects"], unit, currency)
    save_figure(dependence, out / f"partial_dependence.{figure_format}")
    save_figure(sensitivity_figure(tables["sensitivity"], unit, currency), out / f"sensitivity.{figure_format}")
    _xlsx(out, xlsx)
    if not quiet:
        _print_sweep(tables, params, metrics, out, unit, currency)


def _print_sweep(
    tables: dict, params: list[str], metrics: list[str], out: Path, unit: str = "tick", currency: str | None = None
) -> None:
    from wom_sim.analysis.outcomes import format_outcome, outcome  # lazy: CLI start-up time
    from wom_sim.catalogue import metric as catalogue_entry  # lazy: CLI start-up time

    def value(metric: str, v: float) -> str:  # a point's mean: as compare prints the outcome (59.6%, 109k)
        return format_outcome(metric, v, currency, unit)

    def swing(metric: str, v: float) -> str:  # a difference: a share's in points (16.4 pts, not 16.40% or 0.164)
        return format_outcome(metric, v, currency, unit, delta=True).removeprefix("+")

    points, sens, noise = tables["points"], tables["sensitivity"], tables["noise"].set_index("metric")

    for metric in metrics:
        means = points[f"{metric}_mean"]
        if means.isna().all():
            click.echo(f"\n{metric}: no point has a value (e.g. roi without programme spend against the baseline)")
            continue
        parsed = outcome(metric)
        better = catalogue_entry(parsed.column).better
        lower = parsed.stat == "payback" or (parsed.stat != "damage" and better == "down")
        # A programme's spend (cost_<entry>) is neither good nor bad in itself: its extreme is no "best".
        judged = parsed.stat in ("payback", "damage") or better is not None
        best = points.loc[means.idxmin() if lower else means.idxmax()]
        where = ", ".join(f"{p}={best[p]:.4g}" if isinstance(best[p], float) else f"{p}={best[p]}" for p in params)
        part = sens[sens["metric"] == metric]
        by = "ST" if "ST" in part.columns and part["ST"].notna().any() else "swing"
        drivers = part.sort_values(by, ascending=False).head(3)
        text = ", ".join(
            f"{r.parameter} ({by} {swing(metric, r[by]) if by == 'swing' else f'{r[by]:.2f}'})"
            for _, r in drivers.iterrows()
        )
        click.echo(
            f"\n{metric}: point means {value(metric, means.min())} to {value(metric, means.max())}"
            f"; {'lowest' if lower else 'highest'}{' (best)' if judged else ''} at {where}"
        )
        share = noise.loc[metric, "noise_share"]
        # Not measurable with one replication per point, nor for an outcome that is the same in every run.
        noisy = f"{share:.0%} of the variance" if pd.notna(share) else "not measured (one replication or no spread)"
        click.echo(f"  drivers: {text}; replication noise {noisy}")
    if "ST" in sens.columns:
        click.echo("\nSobol indices (95% CI half-widths):")
        order = {m: i for i, m in enumerate(metrics)}
        sens = sens.assign(_m=sens["metric"].map(order)).sort_values(["_m", "ST"], ascending=[True, False])
        rows = [
            {
                "metric": r.metric,
                "parameter": r.parameter,
                # An outcome that is the same at every point has no variance to share out: no index.
                "S1": f"{r.S1:.3f} ± {r.S1_conf:.3f}" if pd.notna(r.S1) else "-",
                "ST": f"{r.ST:.3f} ± {r.ST_conf:.3f}" if pd.notna(r.ST) else "-",
            }
            for _, r in sens.iterrows()
        ]
        _print_rows(rows)
    click.echo(
        f"\nOutputs in {out}/: points.csv, sensitivity.csv, outcomes.parquet, effects.parquet, noise.parquet, "
        f"figures, runs/. HTML: wom-sim report {out}"
    )


# ------------------------------------------------------------------------------------------------ report
@cli.command()
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="HTML file to write (default: DIR/report.html).")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite an existing report file (--out, or DIR/report.html) that is not "
              "a wom-sim report.")  # fmt: skip
@click.option(
    "--figure-format",
    "figure_format",
    type=click.Choice(["png", "svg"]),
    default="png",
    show_default=True,
    help="How figures are embedded: png (images) or svg (vector, sharp when zoomed, printed or pasted in a deck).",
)
@click.option("--xlsx", is_flag=True, help="Also write DIR/<kind>.xlsx, an Excel workbook (needs wom-sim[excel]).")
def report(folder, out, force, figure_format, xlsx=False):
    """Write one self-contained HTML report (figures embedded) of DIR, written by run (with or without
    --replications), compare, attribution, sweep, curves or optimise.

    \b
    It opens with the decision: for a comparison the verdict per treatment (pays / does not pay / not sure from
    the 95% CI of the profit uplift), the ranking and the profit uplift over time with its payback week; for a run
    what was in force and the spend; for a sweep the best point with its CI, what drives the outcome and how many
    replications the noise calls for; a comparison made with --by adds its changes per group. Then what each arm
    is (its question, the keys it changes against the base), the details, and the method last. An existing
    report file (--out, or DIR/report.html) is replaced only when it is an earlier wom-sim report (or with --force).
    """
    from wom_sim.report.html import build_report  # lazy: CLI start-up time

    if out is not None:
        check_writable_file(out)
    # DIR/report.html may be a file the user put in the folder (a store keeps files it did not write): the same
    # rule as for --out, so that the default never replaces what wom-sim did not write.
    target = Path(out) if out is not None else Path(folder) / "report.html"
    if target.is_file() and not force and not _is_report(target):
        where = f"--out {out}" if out is not None else str(target)
        raise ScenarioError(f"{where}: exists and is not a wom-sim report; choose another file (--out) or add --force")
    _need_xlsx(xlsx)
    if xlsx:  # before the page is written: the workbook must not replace a file of the user's either
        _check_xlsx_target(Path(folder), (read_manifest(folder) or {}).get("kind", "run"), xlsx)
    try:
        click.echo(str(build_report(folder, out, figure_format)))
        if xlsx:
            _xlsx(Path(folder), xlsx)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:  # a manifest or table edited or cut short
        raise ScenarioError(f"{folder}: incomplete or damaged wom-sim output ({type(exc).__name__}: {exc})") from None


# What the head of each HTML page wom-sim writes says: a folder's report (`wom-sim report`) and an optimisation's
# budget plan (`wom-sim optimise`, report/optimise.py).
_REPORT_MARKS = (b"wom-sim report of", b"<title>wom-sim budget plan</title>")


def _is_report(path: Path) -> bool:
    """Whether a file is an HTML report wom-sim wrote (its head names it so)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return head[:15].lower() == b"<!doctype html>" and any(mark in head for mark in _REPORT_MARKS)
