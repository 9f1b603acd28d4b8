"""`wom-sim validate`, `wom-sim fit-bass` and `wom-sim calibrate`."""

from __future__ import annotations

import io
import shlex
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd

from wom_sim.catalogue import ARM_COLOURS
from wom_sim.cli.common import cli, quiet_option, resolve_scenario_path, set_option, ticks_option
from wom_sim.cli.experiments import EXIT_INTERRUPTED
from wom_sim.errors import ScenarioError
from wom_sim.output import FIGURE_FORMATS, FIGURE_MARK, check_own_file, prepare_out, write_manifest
from wom_sim.scenario.loading import read_text_file


def _fact_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    ids = [f.strip().upper() for f in value.split(",") if f.strip()]
    if not ids:  # `--facts ""` (an unset shell variable) must not mean every fact: a full run is up to 20 minutes
        raise ScenarioError(
            f"--facts: no fact id in {value!r}; give comma-separated ids such as F1,F3, or leave "
            "--facts out to check every fact"
        )
    return ids


@cli.command()
@click.option("--quick", is_flag=True, help="Smaller population and fewer replications (< 2 minutes); the default "
              "is the full run (< 20 minutes).")  # fmt: skip
@click.option("--facts", "facts", metavar="F1,F3", help="Only these facts (comma-separated ids).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="runs/validation", show_default=True,
              metavar="FOLDER", help="Folder for validation.md and validation.html.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an earlier `wom-sim validate` output in --out.")
@quiet_option("No progress lines; only the table.")
@click.option("--workers", "-w", type=click.IntRange(0, 4096), metavar="N",
              help="Run the facts in N processes (default: all cores, as compare and sweep; 0 = in this process); "
              "the results are the same.")  # fmt: skip
def validate(quick: bool, facts: str | None, out_dir: str, force: bool, quiet: bool, workers: int | None) -> None:
    """Check the model against the stylized facts (docs/validation.md).

    Each fact runs as a paired, replicated experiment: every arm uses the same seeds (common random numbers), and
    each measured value is a mean over replications with its 95% confidence interval. Prints
    `fact | expected | measured (95% CI) | pass`, writes the same table as validation.md and validation.html, and
    exits with 1 when a fact fails. The facts and their parameters are wom_sim/validation/facts/facts.yaml; the
    definitions of the measures are in docs/validation.md. An existing --out must be empty or an earlier
    validate output (replaced only with --force).
    """
    # lazy: CLI start-up time (this subcommand's imports load only when it runs)
    from wom_sim.experiment.executors import default_workers
    from wom_sim.validation import overall_passed, run_validation
    from wom_sim.validation.report import summary_line, text_table, write_reports

    def say(line: str) -> None:
        if not quiet and not line.startswith("Traceback") and "\n" not in line.strip():
            click.echo(line, err=True)

    fact_ids = _fact_list(facts)  # before --out is prepared: bad input leaves nothing behind
    out = prepare_out(out_dir, "validate", force=force)
    workers = default_workers() if workers is None else max(workers, 1)  # 0 and 1: in this process
    results, record = run_validation("quick" if quick else "full", fact_ids, progress=say, workers=workers)
    command = "wom-sim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "wom-sim validate"
    md, page = write_reports(out, results, record, command, record.get("glance"))
    write_manifest(out, "validate", [md.name, page.name])
    click.echo(text_table(results))
    click.echo("")
    click.echo(summary_line(results, record))
    click.echo(f"Wrote {md} and {page}")
    if not overall_passed(results):
        sys.exit(1)


def _adoption_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet table (a run's metrics.parquet or metrics.csv), by its suffix; one line naming the file when
    it cannot be read."""
    if path.suffix.lower() in (".parquet", ".pq"):
        if not path.is_file():  # also refuses a pipe or a device, as read_text_file does for a CSV
            raise ScenarioError(f"{path}: file not found (or not a regular file)")
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise ScenarioError(f"{path}: cannot read as Parquet ({' '.join(str(exc).split())[:200]})") from None
    text = read_text_file(path, "file", 50_000_000)  # no pipes or devices, a size cap, UTF-8
    try:
        return pd.read_csv(io.StringIO(text))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ScenarioError(f"{path}: cannot read as CSV ({exc})") from None


CUMULATIVE_SLACK = 0.005  # share of the series' peak a cumulative count may dip by (rounding, revised figures)


def _check_cumulative(path: Path, column: str, values: np.ndarray) -> None:
    """Cumulative adopters never fall: a series that does is per-period counts (--new) or active customers, and a
    Bass fit to it is meaningless. Non-finite values are left to fit_bass, which refuses them with its own line."""
    if values.size < 2 or not np.isfinite(values).all():
        return
    drops = np.flatnonzero(np.diff(values) < -CUMULATIVE_SLACK * max(float(np.abs(values).max()), 1e-300))
    if drops.size:
        i = int(drops[0])
        raise ScenarioError(
            f"{path}: column {column!r} falls from {values[i]:g} to {values[i + 1]:g} at data row {i + 2}: cumulative "
            "adopters never fall; if it holds new adopters per period, add --new"
        )


@cli.command("fit-bass")
@click.argument("csv", metavar="TABLE", type=click.Path(dir_okay=False))
@click.option(
    "--column",
    metavar="COLUMN",
    help="Column of cumulative adopters (default: adoption_share if present, else the last column).",
)
@click.option(
    "--time-column", metavar="COLUMN", help="Column of periods since launch (default: rows are periods 1, 2, 3...)."
)
@click.option("--new", "new", is_flag=True, help="The column holds new adopters per period; they are summed up.")
@click.option("--continuous", is_flag=True, help="Fit the continuous-time Bass curve instead of the per-period one.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    help="Also write observed vs fitted as a figure (.png, .svg or .pdf).",
)
def fit_bass_command(csv: str, column: str | None, time_column: str | None, new: bool, continuous: bool,
                     plot_path: str | None) -> None:  # fmt: skip
    """Fit Bass p (innovation), q (imitation) and m (market size) to an adoption curve by least squares.

    TABLE is a CSV or Parquet file (.parquet) with one row per period: any such table, or the metrics.parquet or
    metrics.csv that `wom-sim run` writes (its adoption_share column is used). p and q are per period; m is in the
    units of the column.
    """
    # lazy: CLI start-up time (this subcommand's imports load only when it runs)
    from wom_sim.analysis.bass import bass_curve, fit_bass

    if plot_path:  # before reading anything: a figure never replaces a file of the user's
        suffix = Path(plot_path).suffix.lstrip(".").lower()
        if suffix not in FIGURE_FORMATS:
            raise ScenarioError(
                f"--plot {plot_path}: a figure file ends in {', '.join('.' + f for f in FIGURE_FORMATS)}"
            )
        check_own_file(plot_path, "--plot", FIGURE_MARK)
    path = Path(csv)
    frame = _adoption_table(path)
    if frame.empty:
        raise ScenarioError(f"{path}: no rows")
    column = column or ("adoption_share" if "adoption_share" in frame.columns else str(frame.columns[-1]))
    for name, option in ((column, "--column"), (time_column, "--time-column")):
        if name is not None and name not in frame.columns:
            raise ScenarioError(f"{path}: {option}: no column {name!r} (columns: {', '.join(map(str, frame.columns))})")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    t = (pd.to_numeric(frame[time_column], errors="coerce").to_numpy(dtype=float) if time_column
         else np.arange(1, len(frame) + 1, dtype=float))  # fmt: skip
    if new:
        values = np.cumsum(values)
    else:
        _check_cumulative(path, column, values)
    try:
        fit = fit_bass(t, values, discrete=not continuous)
    except ValueError as exc:
        raise ScenarioError(f"{path}: column {column!r}: {exc}") from None
    form = "continuous" if continuous else "per period"
    click.echo(f"Bass fit to {path} column {column!r} ({len(values)} periods, {form}):")
    click.echo(f"  p (innovation)  {fit.p:.5f}")
    click.echo(f"  q (imitation)   {fit.q:.5f}")
    click.echo(f"  m (market size) {fit.m:.6g}")
    r2 = f"{fit.r2:.4f}" if np.isfinite(fit.r2) else "n/a (the series is flat)"
    click.echo(f"  R^2 {r2}, RMSE {fit.rmse:.4g}; q/p = {fit.q / fit.p:.1f}, peak of new adoptions at "
               f"period {fit.peak_time:.1f}")  # fmt: skip
    if plot_path:
        from matplotlib.figure import Figure  # no pyplot: the backend stays as it is

        # lazy: CLI start-up time (this subcommand's imports load only when it runs)
        from wom_sim.report.figures import save_figure

        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ax.plot(t, values, "o", ms=3, color="black", label="observed")
        ax.plot(t, bass_curve(t, fit.p, fit.q, fit.m, discrete=not continuous), color=ARM_COLOURS[0],
                label=f"Bass p={fit.p:.4f} q={fit.q:.3f} m={fit.m:.4g}")  # fmt: skip
        ax.set(xlabel="period", ylabel=column, title="Bass fit")
        ax.legend(fontsize=8)
        fig.tight_layout()
        click.echo(f"Wrote {save_figure(fig, plot_path)}")


@cli.command("calibrate")
@click.argument("scenario", metavar="SCENARIO")
@click.option("--target", "target", required=True, type=click.Path(dir_okay=False),
              help="Target file (YAML): free parameters and bounds, observed targets and weights, budget.")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False), metavar="FOLDER",
              help="Output folder (default: runs/calibrate-<scenario file name>).")  # fmt: skip
@click.option("--trials", "--samples", "trials", type=click.IntRange(2, 100_000), metavar="N",
              help="Override the target file's number of trials (parameter samples the optimiser tries).")  # fmt: skip
@click.option("--replications", "-r", type=click.IntRange(1, 1000), metavar="N", help="Override the runs per trial.")
@set_option
@ticks_option("Number of ticks of the scenario (--set ticks=N).")
@click.option("--optimiser", type=click.Choice(["tpe", "cmaes", "de"]), help="Override the optimiser.")
@click.option("--force", is_flag=True, help="Replace an earlier `wom-sim calibrate` output in --out (only the files "
              "it wrote). Without it an existing output is refused; a folder of anything else always is.")  # fmt: skip
@quiet_option("No progress lines and no fit table (fit.md has it); only errors.")
def calibrate_command(scenario: str, target: str, out_dir: str | None, trials: int | None, replications: int | None,
                      overrides: tuple[str, ...], ticks: int | None, optimiser: str | None, force: bool,
                      quiet: bool) -> None:  # fmt: skip
    """Fit SCENARIO's free parameters to observed data (series and scalars) given in a target file.

    Each trial runs the scenario several times with the same seeds (common random numbers) and scores the mean
    against every target; the optimiser (optuna TPE by default) searches the bounds. Writes the fitted
    scenario.yaml, fit.md and fit.json (fit quality per target), trials.csv and fit.png (simulated vs observed)
    into the output folder, all at once at the end, with a wom-sim.json manifest. An existing --out must be
    empty or an earlier calibrate output (replaced only with --force). See docs/calibration.md.
    """
    # lazy: CLI start-up time (this subcommand's imports load only when it runs)
    from wom_sim.calibrate import calibrate, load_problem, report_text, write_outputs

    path = resolve_scenario_path(scenario)
    problem = load_problem(path, target, [*overrides, *([f"ticks={ticks}"] if ticks else [])])  # before any write
    out = prepare_out(out_dir or Path("runs") / f"calibrate-{path.stem}", "calibrate", force=force)
    updates = {k: v for k, v in (("trials", trials), ("replications", replications), ("optimiser", optimiser)) if v}
    if updates:
        problem.spec = problem.spec.model_copy(update=updates)

    done = [0]

    def progress(trial: int, loss: float, best: float) -> None:
        done[0] = trial
        if not quiet:
            click.echo(f"trial {trial}/{problem.spec.trials}: loss {loss:.4g} (best {best:.4g})", err=True)

    try:
        result = calibrate(problem, progress)
    except KeyboardInterrupt:  # Ctrl-C: the outputs are written only at the end, so there is nothing to clean up
        click.echo(f"\ninterrupted after {done[0]} of {problem.spec.trials} trials: nothing written to {out}", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    if not np.isfinite(result.best.loss):
        raise ScenarioError(
            f"{target}: no trial gave a finite loss (best {result.best.loss}); check the targets and bounds"
        )
    out = write_outputs(result, out)
    if quiet:  # as every other command's -q: errors and warnings only; fit.md holds the same table
        return
    click.echo(report_text(result))
    click.echo(f"Wrote {out}/scenario.yaml, fit.md, fit.json, trials.csv, fit.png")
