"""`wom-sim attribution`: each acquisition channel's last-touch share next to what switching it off costs."""

from __future__ import annotations

from pathlib import Path

import click

from wom_sim.cli.common import (
    cli,
    paired_replications_option,
    quiet_option,
    resolve_scenario_path,
    seed_option,
    set_option,
    ticks_option,
)
from wom_sim.cli.experiments import (
    _check_xlsx_target,
    _executor,
    _need_xlsx,
    _preflight,
    _print_rows,
    _run_study,
    _xlsx,
    executor_options,
    xlsx_option,
)
from wom_sim.output import add_warnings, prepare_out
from wom_sim.scenario.loading import load_scenario


def _share(value: float, low: float, high: float) -> str:
    if value != value:  # NaN: no last-touch channel
        return "not recorded"
    return f"{value:.0%} ({low:.0%} to {high:.0%})" if low == low else f"{value:.0%}"


@cli.command()
@click.argument("scenario", metavar="SCENARIO")
@paired_replications_option(20, "Paired replications per arm (the base and one arm per channel switched off).")
@set_option
@seed_option("Base seed of the replications (default: SCENARIO's).")
@ticks_option("Number of ticks.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    metavar="FOLDER",
    help="Store folder (default: runs/attribution-SCENARIO).",
)
@executor_options
@xlsx_option
@quiet_option("No progress bar and no table; only errors and warnings.")
def attribution(scenario, replications, overrides, seed, ticks, out_dir, workers, dask, dask_local, xlsx, quiet):
    """Channel incrementality: last-touch share of new customers next to the share lost with the channel off.

    \b
    For advertising (advertising.reach=0), peer word of mouth (wom.contact_prob=0), KOLs (kols.reach=0) and each
    intervention of SCENARIO (removed), one arm with it switched off runs with the same seeds as SCENARIO (common
    random numbers). The table shows what last touch credits each channel with, what switching it off loses,
    both with 95% CIs, and says where they disagree. Interrupt with Ctrl-C and run again to resume.
    """
    # Imported when the command runs, so `wom-sim --help` stays fast.
    from wom_sim.experiment.attribution import attribution as run_attribution

    path = resolve_scenario_path(scenario)
    sc = load_scenario(path, list(overrides), seed=seed, ticks=ticks)
    out = prepare_out(
        Path(out_dir) if out_dir else Path("runs") / f"attribution-{path.stem}", "attribution", resume=True
    )
    _need_xlsx(xlsx)
    _check_xlsx_target(out, "attribution", xlsx)
    notes = _preflight([sc], [str(path)])
    executor = _executor(workers, dask, dask_local, quiet)
    with executor:
        result = _run_study(
            lambda: run_attribution(sc, replications, executor=executor, out=out, progress=not quiet, warn=True),
            quiet,
        )
    add_warnings(out, notes)
    _xlsx(out, xlsx)
    if quiet:
        return
    click.echo(f"\n{sc.name}: acquisition channels, {replications} paired replications, {sc.ticks} {sc.tick_unit}s\n")
    rows = [
        {
            "channel": r.label,
            "switched off by": r.switched_off or "-",
            "last-touch share": _share(r.last_touch_share, r.ci_low, r.ci_high),
            "lost when off": _share(r.get("lost_share", float("nan")), r.get("lost_ci_low"), r.get("lost_ci_high"))
            if r.channel != "none"
            else "-",
        }
        for _, r in result.table.iterrows()
    ]
    _print_rows(rows)
    click.echo("")
    for sentence in result.table["sentence"]:
        click.echo(f"  {sentence}")
    click.echo(
        "\n  Shares of the base's new customers over the horizon; 95% CIs over paired replications. Channels "
        "overlap and feed each other, so the lost shares need not sum to 100%."
    )
    click.echo(f"\nOutputs in {out}/: attribution.csv, attribution_per_seed.parquet, runs/.")
