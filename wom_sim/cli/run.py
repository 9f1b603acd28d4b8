"""`wom-sim run`, `wom-sim check`, `wom-sim schema` and `wom-sim scenarios`."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click
import pandas as pd
from tqdm import tqdm

from wom_sim.analysis.segments import breakdown, breakdown_display, check_by
from wom_sim.catalogue import summary_rows, ticks_text
from wom_sim.cli.common import (
    bundled_scenarios_dir,
    cli,
    figure_format_option,
    from_source,
    quiet_option,
    resolve_scenario_path,
    seed_option,
    set_option,
    ticks_option,
)
from wom_sim.cli.experiments import EXIT_INTERRUPTED, executor_options, run_replicated
from wom_sim.errors import ScenarioError
from wom_sim.network.build import build_graph, check_network, estimate_memory_bytes
from wom_sim.output import (
    atomic_dir,
    atomic_file,
    check_finite_frame,
    check_own_file,
    prepare_out,
    write_table,
)
from wom_sim.report.changes import changed_yaml
from wom_sim.scenario.loading import load_scenario, read_text_file, scenario_to_yaml, scenario_warnings
from wom_sim.scenario.schema import scenario_json_schema
from wom_sim.sim.crm import PeopleWarning
from wom_sim.sim.model import WomModel

CHECK_BUILD_BYTES = 1e9  # `check` builds the model (not runs it) up to this estimate, so it refuses what run does
SCHEMA_MARK = b'"title": "wom-sim scenario"'  # the root title of `wom-sim schema`: an earlier schema may be replaced
TRACE_LIMIT = 50_000  # people; a trace holds every message, so it grows with N x ticks


def takeaways(metrics: pd.DataFrame, n: int, unit: str = "tick") -> list[str]:
    """Two or three plain sentences an analyst can act on."""
    last = metrics.iloc[-1]
    pos, neg = metrics["pos_messages"].sum(), metrics["neg_messages"].sum()
    ratio = f"{pos / neg:.1f} positive messages for every negative one" if neg else "no negative WOM at all"
    half = metrics.index[metrics["adoption_share"] >= last["adoption_share"] / 2]
    # nobody adopted: every tick is ">= half of 0", and "half of them by tick 0" would describe no one
    t_half = int(metrics.loc[half[0], "t"]) if len(half) and last["adoption_share"] > 0 else None
    first = metrics.iloc[0]
    # Those who had adopted before the first tick (the scenario's starting customers): "half of them by week 0"
    # said a run of 10 weeks where hardly anyone new adopted was over at once.
    at_start = first["adoption_share"] * n - first.get("new_customers", 0)
    if t_half is not None and at_start >= last["adoption_share"] * n / 2:
        when = "; half of them were customers from the start."
    else:
        when = f"; half of them by {unit} {t_half}." if t_half is not None else "."
    lines = [
        f"Word of mouth brought {last['wom_acquired_share']:.0%} of all customers (peers, KOLs and referrals); "
        f"people heard {ratio}.",
        f"{last['adoption_share']:.0%} of {n:,} people adopted{when}",
    ]
    if last["at_risk"]:
        risk = int(last["at_risk"])
        who = "active customer is" if risk == 1 else "active customers are"
        lines.append(f"{risk:,} {who} at risk of churning (hazard >= 3x base).")
    return lines


@cli.command()
@click.argument("scenario", metavar="SCENARIO")
@set_option
@seed_option("Random seed (default: the scenario's).")
@ticks_option("Number of ticks (default: the scenario's).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    metavar="FOLDER",
    help="Output folder (default: runs/<scenario file name>, without .yaml).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
    help="Format of the metrics and people tables of one run (a --replications store writes CSV and Parquet).",
)  # fmt: skip
@quiet_option("No progress bar and no summary; only errors.")
@click.option(
    "--force",
    is_flag=True,
    help="Replace an earlier `wom-sim run` output in --out (only the files it wrote; other files are kept). "
    "Without it an existing output is refused, and a folder that is not a wom-sim run output always is.",
)
@click.option(
    "--trace", is_flag=True,
    help=f"Also write wom_trace.<fmt>: every message (tick, sender, receiver, valence). Up to {TRACE_LIMIT:,} people.",
)  # fmt: skip
@click.option(
    "--replications", "-r", type=click.IntRange(1, 100_000), metavar="N",
    help="Run N seeds (derived from the scenario seed) and report mean and 95% CI per metric per tick; "
    "resumable store in --out (default: runs/<scenario file name>-replications).",
)  # fmt: skip
@click.option(
    "--by", "by", metavar="COLUMN",
    help="Also break the outcomes down by a per-person column (segment, acquired_by, is_kol; brand with "
    "competitors): a table printed after the summary and written as by_<COLUMN>.<fmt>. One run only: with "
    "replications, `wom-sim compare BASE TREATMENT --by COLUMN` gives each group's change with its 95% CI.",
)  # fmt: skip
@executor_options
@figure_format_option
@click.option("--xlsx", is_flag=True, help="Also write an Excel workbook (run.xlsx; needs wom-sim[excel]).")
def run(
    scenario: str, overrides: tuple[str, ...], seed, ticks, out_dir, fmt, quiet, force, trace, replications, by,
    workers, dask, dask_local, figure_format, xlsx=False,
) -> None:  # fmt: skip
    """Run SCENARIO (a YAML file or a bundled scenario name) once and summarise it.

    Writes metrics.<fmt> (one row per tick), people.<fmt> (one row per person at the end), dashboard.png (or
    .svg/.pdf with --figure-format) and
    the fully resolved scenario.yaml into the output folder, all at once at the end (nothing half-written),
    with a wom-sim.json manifest. An existing --out must be empty or an earlier run output (replaced only with
    --force); anything else is refused before the simulation starts.
    With --replications N: N runs on all cores (or --workers/--dask/--dask-local), summary.csv and
    timeseries.parquet with 95% CIs, and a dashboard with CI bands.
    """
    # lazy: CLI start-up time (this subcommand's imports load only when it runs)
    from wom_sim.report.figures import dashboard_figure, save_figure

    path = resolve_scenario_path(scenario)
    sc = load_scenario(path, list(overrides), seed=seed, ticks=ticks)
    if by is not None:
        check_by(by, bool(sc.competitors))  # one line, before anything runs (`brand` needs rivals)
    if xlsx:
        from wom_sim.report.workbook import require_openpyxl  # lazy: an optional extra, checked before any run

        require_openpyxl()
    if replications is None and (workers is not None or dask or dask_local):
        # A single run is one process: these options spread replications, so silently ignoring them would let a
        # user believe the run used them.
        raise click.UsageError("--workers, --dask and --dask-local spread replications; add --replications N")
    if replications is not None:
        if trace or by:
            raise click.UsageError("--trace and --by describe one run; they cannot be combined with --replications")
        given = click.get_current_context().get_parameter_source("fmt") != click.core.ParameterSource.DEFAULT
        if given or force:
            # Silently ignored, they let a user believe the tables are CSV or the old runs were replaced.
            raise click.UsageError(
                f"{'--format' if given else '--force'} is for one run's folder: with --replications the store "
                "writes summary and outcomes as CSV and Parquet and resumes its runs (it replaces none); leave it "
                "out, or choose another --out"
            )
        return run_replicated(
            path, sc, replications, out_dir, workers, dask, dask_local, quiet, figure_format, xlsx=xlsx
        )
    out = prepare_out(Path(out_dir) if out_dir else Path("runs") / path.stem, "run", force=force)
    with from_source(path):
        check_network(sc.network)
    if trace and not sc.network.file and sc.network.n > TRACE_LIMIT:
        raise ScenarioError(f"--trace keeps every message: allowed up to {TRACE_LIMIT:,} people, got {sc.network.n:,}")
    notes = scenario_warnings(sc, str(path))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    if not quiet:
        question = sc.description.strip().splitlines()[0] if sc.description else ""
        graph = f"the graph in {sc.network.file}" if sc.network.file else f"a {sc.network.generator} graph"
        people = "" if sc.network.file else f" of {sc.network.n:,} people"
        click.echo(f"wom-sim: {sc.name}: {question}", err=True)
        click.echo(f"building {graph}{people} (seed {sc.seed})...", err=True)
    with from_source(path):
        model, people_notes = build_model(sc)
    for note in people_notes:
        click.echo(f"warning: {note}", err=True)
    notes = [*notes, *people_notes]
    if trace:
        model.record_trace()
    try:
        with tqdm(total=sc.ticks, desc="simulating", unit=sc.tick_unit, disable=quiet, leave=False) as bar:
            model.run(progress=lambda _t: bar.update(1))
    except KeyboardInterrupt:  # Ctrl-C: the outputs are written only at the end, so there is nothing to clean up
        click.echo(f"\ninterrupted after {len(model.rows)} of {sc.ticks} {sc.tick_unit}s: nothing written to {out}",
                   err=True)  # fmt: skip
        raise SystemExit(EXIT_INTERRUPTED) from None
    metrics = model.metrics_frame()
    check_finite_frame(metrics, str(path))
    people = model.people(copy=False)  # views of the final state (the model steps no more): written as they are
    table = breakdown(people, by) if by else None
    with atomic_dir(out, "run", replace=force, scenario=sc.name, seed=sc.seed, warnings=notes) as tmp:
        write_table(metrics, tmp / "metrics", fmt)
        write_table(people, tmp / "people", fmt)
        if table is not None:
            write_table(table, tmp / f"by_{by}", fmt)
        if trace:
            write_table(model.trace_frame(), tmp / "wom_trace", fmt)
        dashboard = dashboard_figure(metrics, f"{sc.name} (seed {sc.seed})", sc.tick_unit, scenario=sc)
        save_figure(dashboard, tmp / f"dashboard.{figure_format}")
        with atomic_file(tmp / "scenario.yaml", "w") as handle:
            handle.write(scenario_to_yaml(sc))
        if xlsx:
            from wom_sim.report.workbook import write_workbook  # lazy: an optional extra

            write_workbook(tmp, tmp / "run.xlsx", kind="run")
    if quiet:
        return
    click.echo(f"\n{sc.name}: {model.n:,} people, {ticks_text(sc.ticks, sc.tick_unit)}, seed {sc.seed}\n")
    rows = summary_rows(metrics, unit=sc.tick_unit, currency=sc.currency)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"  {label:<{width}}  {value:>14}")
    click.echo("")
    for line in takeaways(metrics, model.n, sc.tick_unit):
        click.echo(f"  * {line}")
    if table is not None:
        click.echo(f"\nBy {by}:\n" + breakdown_display(table, by, sc.currency).to_string(index=False))
    click.echo(
        f"\nOutputs in {out}/: metrics.{fmt} (per tick), people.{fmt} (per person), "
        + (f"by_{by}.{fmt} (per group), " if table is not None else "")
        + f"dashboard.{figure_format}, "
        f"scenario.yaml. HTML: wom-sim report {out}"
    )


def build_model(sc) -> tuple[WomModel, list[str]]:
    """The model of a scenario and the person table's warnings (edge-list ids it misses) as one-line notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PeopleWarning)
        model = WomModel(sc)
    for w in caught:  # anything else is passed on as it came
        if not issubclass(w.category, PeopleWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model, [str(w.message) for w in caught if issubclass(w.category, PeopleWarning)]


@cli.command()
@click.argument("scenario", metavar="SCENARIO")
@set_option
@click.option("--all", "show_all", is_flag=True, help="Print every resolved parameter, also those at their defaults.")
def check(scenario: str, overrides: tuple[str, ...], show_all: bool) -> None:
    """Validate SCENARIO and print what it sets (the keys that differ from the defaults) and the memory estimate.

    Every intervention and event is printed with all of its parameters, also those left at their defaults (what a
    programme does hides in them). With --all, every resolved parameter is printed (defaults filled in). Either
    output is a scenario file itself: running it gives the same run. The format is `wom-sim schema`; the defaults
    and their sources are docs/scenarios.md.

    Refuses what `run` would refuse before simulating: the graph does not fit memory or its parameters do not fit
    n, a graph file cannot be read, KOL ids are not in the graph (the model is built, not run, when it needs under
    1 GB). Warns about what would run but mean nothing (e.g. a schedule after the horizon).
    """
    path = resolve_scenario_path(scenario)
    sc = load_scenario(path, list(overrides))
    with from_source(path):
        check_network(sc.network)
        if estimate_memory_bytes(sc.network) <= CHECK_BUILD_BYTES:
            # graph, people, KOLs and interventions as a run builds them: their errors are the run's errors
            _, people_notes = build_model(sc)
        elif sc.network.file:
            build_graph(sc.network, None)  # a file graph is read in full
            people_notes = []
        else:
            people_notes = []
    for note in [*scenario_warnings(sc, str(path)), *people_notes]:
        click.echo(f"warning: {note}", err=True)
    if show_all:
        click.echo(scenario_to_yaml(sc), nl=False)
    else:
        text, hidden = changed_yaml(sc)
        click.echo(text, nl=False)
        click.echo(f"# {hidden} more keys at their defaults; wom-sim check {scenario} --all prints them", err=True)
    if not sc.network.file:
        gb = estimate_memory_bytes(sc.network) / 1e9
        click.echo(f"# OK: {path} is valid; estimated memory {gb:.2f} GB for {sc.network.n:,} people", err=True)
    else:
        click.echo(f"# OK: {path} is valid", err=True)


@cli.command()
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), metavar="FILE",
    help="Write the schema to FILE (written whole or not at all) instead of printing it.",
)  # fmt: skip
def schema(out_file: str | None) -> None:
    """Print the JSON Schema of the scenario format, for editors that complete and check scenario YAML.

    Every key with its type, default, bounds and meaning, and every intervention and event kind with its own
    parameters (chosen by `kind:`). Checks across keys (shares summing to 1, a trigger naming another entry's
    cost) are made when a scenario loads (`wom-sim check`). With the YAML language server, for example, a
    scenario file that starts with `# yaml-language-server: $schema=scenario.schema.json` is completed and
    checked as it is typed.
    """
    if out_file is not None:
        # a folder, a special file, a path below a file or a file that is not an earlier schema: one line, nothing
        # written (the title is the schema's last line, so the whole file is read)
        check_own_file(out_file, "--out", SCHEMA_MARK)
    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if out_file is None:
        click.echo(text, nl=False)
        return
    with atomic_file(Path(out_file), "w") as handle:
        handle.write(text)
    click.echo(f"# wrote the scenario JSON Schema to {out_file}", err=True)


def scenario_headline(path: Path) -> tuple[str, str]:
    """(name, first line of description) of a scenario file, without failing on a broken one."""
    try:
        sc = load_scenario(path)
    except ScenarioError as exc:
        return path.stem, f"(invalid: {exc})"
    return sc.name, (sc.description.strip().splitlines() or [""])[0]


@cli.command()
@click.argument("name", required=False)
@click.option("--reference", is_flag=True, help="Print the reference of every scenario key (docs/scenarios.md).")
def scenarios(name: str | None, reference: bool) -> None:
    """List the bundled scenarios and the question each answers; with NAME, print that file."""
    folder = bundled_scenarios_dir()
    if reference:
        # lazy: CLI start-up time (this subcommand's imports load only when it runs)
        from wom_sim.docgen import scenario_reference

        click.echo(scenario_reference(), nl=False)
        return
    if name:
        click.echo(read_text_file(resolve_scenario_path(name), "scenario file"), nl=False)
        return
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ScenarioError(f"{folder}: no bundled scenarios found")
    width = max(len(f.stem) for f in files)
    for f in files:
        _, question = scenario_headline(f)
        click.echo(f"{f.stem:<{width}}  {question}")
    click.echo(f"\n{len(files)} scenarios in {folder}. Run one: wom-sim run {files[0].stem}", err=True)
