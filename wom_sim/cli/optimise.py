"""`wom-sim curves` (response curves per lever) and `wom-sim optimise` (the budget optimiser); docs/optimise.md."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from wom_sim.cli.common import cli, paired_replications_option, quiet_option, seed_option, set_option, ticks_option
from wom_sim.cli.experiments import (
    EXIT_INTERRUPTED,
    _executor,
    _is_report,
    _print_rows,
    check_outcome_names,
    executor_options,
    store_warnings_shown,
    warn_free_keys,
)
from wom_sim.errors import ScenarioError


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C: one line saying what is stored (the same command resumes), exit code 130, no traceback; the store's
    warnings one line each, before the runs (`store_warnings_shown`)."""
    from wom_sim.experiment.executors import Interrupted  # lazy: CLI start-up time

    try:
        with store_warnings_shown():
            yield
    except Interrupted as exc:
        click.echo(f"\n{exc}", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None


@cli.command()
@click.argument("scenario")
@click.option(
    "--lever",
    "levers",
    multiple=True,
    metavar="LEVER=LOW:HIGH:STEPS",
    help="A lever (a dotted scenario key) and its levels: STEPS evenly spaced levels from LOW to HIGH, or a list "
    "LEVER=A,B,C; e.g. kol_campaign.select.k=0:80:9 (repeatable).",
)
@paired_replications_option(20, "Replications per level; every level runs on the same seeds (paired).")
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    metavar="METRIC",
    help="An outcome to draw: a metric or stat:metric, e.g. mean:churn_rate (repeatable; default profit, "
    "adoption_share, nps).",
)
@seed_option("Base seed of the replications (default: scenario's).")
@click.option(
    "--steps",
    type=click.IntRange(2, 100),
    default=5,
    show_default=True,
    metavar="N",
    help="Levels per lever of an optimiser spec given as SCENARIO (its bounds, evenly spaced).",
)
@click.option(
    "--out", "out_dir", default="runs/curves", show_default=True, metavar="FOLDER", help="Store folder (resumable)."
)
@set_option
@ticks_option("Number of ticks of every run (--set ticks=N).")
@executor_options
@quiet_option("No progress bar and no table; only errors and warnings.")
def curves(
    scenario, levers, replications, outcomes, seed, steps, out_dir, overrides, ticks, workers, dask, dask_local, quiet
):
    """Response curves of each LEVER of SCENARIO: spend against incremental outcomes, paired 95% bands.

    SCENARIO is a scenario file, a bundled name, or an optimiser spec (its scenario, overrides, levers with their
    bounds in --steps levels, and their links). See docs/optimise.md.

    \b
    Example (KOLs hired in the launch campaign, 0 to 40 in 5 levels, on a small market):
      wom-sim curves kol_launch --lever kols.select.k=0:40:5 -r 10 --set network.n=2000
    """
    from wom_sim.experiment.curves import CURVE_OUTCOMES, curve_arms, parse_levers  # lazy: CLI start-up time
    from wom_sim.experiment.curves import curves as run_curves  # lazy: CLI start-up time
    from wom_sim.experiment.optimise_spec import curve_plan  # lazy: CLI start-up time

    links = None
    if scenario.endswith((".yaml", ".yml")) and Path(scenario).is_file():
        plan = curve_plan(scenario, steps)  # None: a scenario file, not an optimiser spec
        if plan is not None:
            scenario, spec_levers, links, spec_overrides = plan
            levers = (*spec_levers, *levers)
            overrides = (*spec_overrides, *overrides)
    overrides = (*overrides, *([f"ticks={ticks}"] if ticks else []))  # last: it wins over a spec's `set:` too
    if not levers:
        raise click.UsageError("give at least one --lever KEY=LOW:HIGH:STEPS (or an optimiser spec as SCENARIO)")
    grid = parse_levers(list(levers))  # a bad --lever fails before any worker starts
    check_outcome_names(outcomes)  # and so does a bad --outcome
    warn_free_keys(grid)
    # Every level built and checked (a key the scenario lacks, a bad link, too many KOLs, a horizon) before an
    # executor starts: one line and exit 2, not after "executing on ..." and a pool.
    curve_arms(scenario, list(levers), list(outcomes) or CURVE_OUTCOMES, list(overrides) or None, links)

    with _executor(workers, dask, dask_local, quiet) as executor, _interruptible():
        table = run_curves(
            scenario,
            list(levers),
            replications,
            seed=seed,
            overrides=list(overrides) or None,
            links=links,
            outcomes=list(outcomes) or None,
            executor=executor,
            out=out_dir,
            progress=not quiet,
        )
    from wom_sim.experiment.curves import record_outputs  # lazy: CLI start-up time
    from wom_sim.report.optimise import write_curve_figures  # lazy: CLI start-up time (matplotlib)

    figures = write_curve_figures(table, out_dir)
    record_outputs(Path(out_dir), "curves", ["curves.csv", "curves.parquet", *figures])
    if quiet:
        return
    from wom_sim.output import read_manifest  # lazy: CLI start-up time
    from wom_sim.report.html import curves_decisions, curves_display  # lazy: CLI start-up time

    arm = (((read_manifest(out_dir) or {}).get("spec") or {}).get("arms") or [{}])[0].get("scenario") or {}
    unit, currency = arm.get("tick_unit", "tick"), arm.get("currency")
    _print_rows(curves_display(table, unit, currency).to_dict("records"), indent="")
    for line in curves_decisions(table, unit):
        click.echo(line)
    click.echo(f"table: {out_dir}/curves.csv; figures: {', '.join(figures)}", err=True)


@cli.command()
@click.argument("spec")
@click.option(
    "--out", "out_dir", default=None, metavar="FOLDER", help="Store folder (default runs/<spec name>; resumable)."
)
@set_option
@ticks_option("Number of ticks of every run (--set ticks=N).")
@click.option(
    "--trials", type=click.IntRange(1, 10_000), metavar="N", help="Plans to try (default: the spec's trials)."
)
@click.option(
    "--replications", "-r", type=click.IntRange(2, 1_000), metavar="N",
    help="Seeds a surviving plan is run on (default: the spec's replications).",
)  # fmt: skip
@click.option(
    "--check-replications", type=click.IntRange(2, 10_000), metavar="N",
    help="Fresh seeds of the final paired check (default: the spec's check_replications).",
)  # fmt: skip
@executor_options
@quiet_option("No progress bar and no summary; only errors and warnings.")
def optimise(
    spec, out_dir, overrides, ticks, trials, replications, check_replications, workers, dask, dask_local, quiet
):
    """Find the best split of the budget between the levers of SPEC (YAML), then check it on fresh seeds.

    --set, --ticks, --trials, -r and --check-replications change the spec for this run (a quick look at a small
    market: --set network.n=2000 --ticks 26 --trials 8 -r 2 --check-replications 4).
    """
    from wom_sim.experiment.optimise import optimise as run_optimise  # lazy: CLI start-up time
    from wom_sim.experiment.optimise_spec import load_optimisation  # lazy: CLI start-up time

    sets = [*overrides, *([f"ticks={ticks}"] if ticks else [])]
    plan = load_optimisation(  # bad input fails here, before anything runs
        spec, sets, trials=trials, replications=replications, check_replications=check_replications
    )
    warn_free_keys(lever.key for lever in plan.levers)
    out_dir = out_dir or f"runs/{plan.name}"
    page = Path(out_dir) / "report.html"  # written at the end: never over a report.html the user put in the store
    if page.is_file() and not _is_report(page):
        raise ScenarioError(f"{page}: exists and is not a wom-sim report; move it or choose another --out")
    with _executor(workers, dask, dask_local, quiet) as executor, _interruptible():
        result = run_optimise(plan, out=out_dir, executor=executor, progress=not quiet)
    if not quiet:
        from wom_sim.report.optimise import check_display, plan_text  # lazy: CLI start-up time (matplotlib)

        values = plan_text(result.recommended)
        click.echo(f"recommended: {result.recommended_label}" + (f" ({values})" if values else ""))
        if not result.check_table.empty:
            currency, unit = (result.check.currency, result.check.tick_unit) if result.check else (None, "tick")
            click.echo("fresh-seed check, paired 95% CIs:")
            _print_rows(check_display(result.check_table, result.spec.objective, currency, unit).to_dict("records"))
        if result.verdict:
            click.echo(result.verdict)
        for note in result.notes:
            click.echo(f"{'warning' if note in result.warnings else 'note'}: {note}")
    else:  # --quiet: "only errors and warnings", and these put the recommendation in doubt
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    from wom_sim.experiment.curves import record_outputs  # lazy: CLI start-up time
    from wom_sim.output import read_manifest  # lazy: CLI start-up time
    from wom_sim.report.optimise import write_optimise_html  # lazy: CLI start-up time

    write_optimise_html(result, Path(out_dir) / "report.html")
    record_outputs(Path(out_dir), "optimise", [*(read_manifest(out_dir) or {}).get("files", []), "report.html"])
    if quiet:
        return
    click.echo(
        f"trials: {out_dir}/trials.csv; plan: {out_dir}/plan.yaml; check: {out_dir}/check.csv; "
        f"report: {out_dir}/report.html",
        err=True,
    )
