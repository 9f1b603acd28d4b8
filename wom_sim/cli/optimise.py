"""`wom-sim curves` (response curves per lever) and `wom-sim optimise` (the budget optimiser); docs/optimise.md."""

from __future__ import annotations

import click

from wom_sim.cli.common import cli
from wom_sim.cli.experiments import _executor, executor_options


@cli.command()
@click.argument("scenario")
@click.option(
    "--lever",
    "levers",
    multiple=True,
    required=True,
    metavar="KEY=LOW:HIGH:STEPS",
    help="A lever and its levels, e.g. kol_campaign.select.k=0:80:9 (repeatable).",
)
@click.option("-r", "--replications", type=click.IntRange(2, 100_000), default=20, show_default=True)
@click.option("--outcome", "outcomes", multiple=True, help="Outcomes (stat:column; default profit, adoption, NPS).")
@click.option("--out", "out_dir", default="runs/curves", show_default=True, help="Store folder (resumable).")
@executor_options
def curves(scenario, levers, replications, outcomes, out_dir, workers, dask, dask_local):
    """Response curves of each LEVER of SCENARIO: spend against incremental outcomes, paired 95% bands."""
    from wom_sim.experiment.curves import curves as run_curves  # lazy: CLI start-up time

    with _executor(workers, dask, dask_local, False) as executor:
        table = run_curves(
            scenario,
            list(levers),
            replications,
            outcomes=list(outcomes) or None,
            executor=executor,
            out=out_dir,
            progress=True,
        )
    click.echo(table.drop(columns=["scenario"]).round(3).to_string(index=False))
    click.echo(f"table: {out_dir}/curves.csv", err=True)


@cli.command()
@click.argument("spec")
@click.option("--out", "out_dir", default=None, help="Store folder (default runs/<spec name>; resumable).")
@executor_options
def optimise(spec, out_dir, workers, dask, dask_local):
    """Find the best split of the budget between the levers of SPEC (YAML), then check it on fresh seeds."""
    from wom_sim.experiment.optimise import optimise as run_optimise  # lazy: CLI start-up time
    from wom_sim.experiment.optimise_spec import load_optimisation  # lazy: CLI start-up time

    plan = load_optimisation(spec)  # bad input fails here, before anything runs
    out_dir = out_dir or f"runs/{plan.name}"
    with _executor(workers, dask, dask_local, False) as executor:
        result = run_optimise(plan, out=out_dir, executor=executor, progress=True)
    click.echo(
        f"recommended: {result.recommended_label} " + ", ".join(f"{k}={v:g}" for k, v in result.recommended.items())
    )
    if not result.check_table.empty:
        click.echo(result.check_table.round(2).to_string(index=False))
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"trials: {out_dir}/trials.csv; plan: {out_dir}/plan.yaml; check: {out_dir}/check.csv", err=True)
