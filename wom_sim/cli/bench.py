"""`wom-sim bench`: the kernel's speed and memory against the per-agent reference and one sparse mat-vec."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wom_sim.cli.common import cli
from wom_sim.output import atomic_file, check_own_file

if TYPE_CHECKING:
    from wom_sim.bench import BenchResult

_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def parse_sizes(text: str) -> tuple[int, ...]:
    """'10000,100k,1M' -> (10000, 100000, 1000000); each size at least 100."""
    sizes = []
    for part in text.split(","):
        token = part.strip().lower().replace("_", "")
        scale = _SUFFIXES.get(token[-1:], 1) if token else 1
        digits = token[:-1] if scale > 1 else token
        try:
            value = int(float(digits) * scale) if digits else None
        except ValueError:
            value = None
        if value is None or value < 100:
            raise click.BadParameter(
                f"{part.strip()!r} is not a population size; give whole numbers >= 100 separated by commas, "
                "e.g. 10000,100k,1M",
                param_hint="--sizes",
            )
        sizes.append(value)
    return tuple(sizes)


def _measuring_args(argv: list[str]) -> list[str]:
    """The command line as the docs should show it: without the subcommand name and the --json side output."""
    args, skip = [], False
    for arg in argv:
        if skip or arg == "bench" or arg.startswith("--json="):
            skip = False
            continue
        if arg == "--json":
            skip = True
            continue
        args.append(arg)
    return args


def measuring_options(f):
    """The options that choose what is measured (shared with experiments/tools/write_performance_doc.py)."""
    options = [
        click.option(
            "--sizes", default="5000,100000,1000000", show_default=True, metavar="N,N,...",
            help="Population sizes of the Barabási-Albert graphs (m = 5); 100k and 1M are accepted.",
        ),
        click.option(
            "--ticks",
            type=click.IntRange(1, 1000),
            metavar="N",
            help="Timed ticks per size, after the warm-up [default: 5].",
        ),
        click.option(
            "--warmup", type=click.IntRange(0, 1000), metavar="N",
            help="Untimed ticks before timing, so WOM flows [default: 26, half the 52-tick run].",
        ),
        click.option(
            "--quick", is_flag=True,
            help="A first look in a minute or two: sizes 5k and 100k, 3 timed ticks after 13, no 1M end-to-end run.",
        ),
        click.option(
            "--repeat", type=click.IntRange(1, 20), default=1, show_default=True, metavar="N",
            help="Run the whole series this many times and report medians, with each ratio's range.",
        ),
        click.option("--no-reference", is_flag=True, help="Skip the per-agent reference (it takes most of the time)."),
        click.option(
            "--huge", is_flag=True,
            help="Also run the baseline end to end with 10 million people for 52 ticks (minutes; about a third of "
            "a 24 GB machine's memory), once.",
        ),
        click.option(
            "--throughput-runs", type=click.IntRange(0, 10_000), metavar="RUNS",
            help="Runs of the 5,000-person, 104-week baseline per executor measurement (1 and 2 workers, 2 rounds); "
            "0 skips it [default: 24; 8 and one round with --quick].",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


def measure(sizes: str, ticks: int | None, warmup: int | None, quick: bool, repeat: int, no_reference: bool,
            command: str, throughput_runs: int | None = None, huge: bool = False) -> BenchResult:  # fmt: skip
    """Run the benchmark the options describe; `command` is how the result says it was made."""
    from wom_sim import bench as b  # CLI start-up time: the benchmark imports the model, validation and mesa

    chosen = parse_sizes(sizes)
    if quick and sizes == "5000,100000,1000000":
        chosen = b.QUICK_SIZES
    ticks = ticks or (3 if quick else b.TIMED_TICKS)
    warmup = b.WARMUP_TICKS // 2 if quick and warmup is None else (b.WARMUP_TICKS if warmup is None else warmup)
    try:
        return b.run_benchmark(
            chosen,
            ticks=ticks,
            warmup=warmup,
            repeat=repeat,
            reference=not no_reference,
            e2e_n=b.E2E_N if b.E2E_N in chosen else None,
            command=command.strip(),
            progress=b.stderr_progress,
            throughput_runs=(8 if quick else b.THROUGHPUT_RUNS) if throughput_runs is None else throughput_runs,
            throughput_rounds=1 if quick else 2,
            huge_n=b.HUGE_N if huge else None,
        )
    except RuntimeError as exc:  # a size's subprocess failed; its own traceback is already on stderr
        raise click.ClickException(str(exc)) from None


def echo_tables(result: BenchResult) -> None:
    """The size table, the targets and the per-step profile of the largest profiled size, on stdout."""
    from wom_sim import bench as b  # CLI start-up time, as in `measure`

    click.echo("")
    click.echo(b.markdown_table(b.size_rows(result)))
    click.echo(b.markdown_table(b.target_rows(result)))
    if b.rivals_rows(result):
        click.echo(b.markdown_table(b.rivals_rows(result)))
    if result.throughput is not None:
        tp = result.throughput
        click.echo(f"Runs per minute through the experiment executor ({tp.n:,} people x {tp.ticks} ticks, "
                   f"{tp.runs} runs per measurement, median of {tp.rounds} rounds)\n")  # fmt: skip
        click.echo(b.markdown_table(b.throughput_rows(result)))
    profiled = b.largest_profiled(result)
    if profiled:
        click.echo(f"Where the time goes at N = {profiled.n:,} (median CPU ms per tick, by step of WomModel.step)\n")
        click.echo(b.markdown_table(b.profile_rows(profiled.profile, profiled.profile_total_ms)))


BENCH_MARK = b'"end_to_end"'  # a key of every saved BenchResult (`to_json`): an earlier --json may be replaced


@cli.command()
@measuring_options
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also save raw results.")
def bench(json_path: Path | None, **options: Any) -> None:
    """Benchmark the kernel on Barabási-Albert graphs and check the speed and memory targets.

    For each size, in a fresh process: graph build time, CPU milliseconds of one full tick (WomModel.step,
    median after a warm-up) beside today's kernel (the reference tick of dynamics.py on a twin model, tick for
    tick), of one sparse mat-vec on the same graph (the memory-bandwidth floor) and of the
    per-agent reference model (up to 100k people), peak RSS, a per-step profile of the tick, and the tick with two
    rivals beside the one-brand tick with the bytes per person of state. When 1M is among the sizes, also
    `wom-sim run` of the baseline with a million people for 52 ticks (wall time and peak RSS).
    Then runs per minute of the 5,000-person, 104-week baseline through the experiment executor with 1 and 2
    workers (set-up, metrics frame and store writes included), against the target of 600 on 2 cores.
    Prints the tables with the ratios and PASS/MISS against the targets: kernel >= 3x today's at 5k and 2.5x at
    100k and 1M, >= 250x the per-agent reference at 100k, two rivals' tick <= 1.5x the one-brand tick at 1M,
    tick <= 4 mat-vecs at 1M, 1M people for 52 ticks in <= 12 s and <= 1 GB; with --huge, that 10 million
    people for 52 ticks complete (time and peak memory reported). In a checkout,
    experiments/tools/write_performance_doc.py (same options) writes them into docs/performance.md.

    \b
    Examples:
      wom-sim bench --quick
      wom-sim bench --repeat 3 --json bench.json
      wom-sim bench --sizes 50000 --ticks 3 --no-reference
    """
    if json_path:  # before the minutes of measuring: a bad path, or a file of the user's, is one line now
        check_own_file(json_path, "--json", BENCH_MARK)
    command = "wom-sim bench " + " ".join(shlex.quote(a) for a in _measuring_args(sys.argv[1:]))
    result = measure(**options, command=command)
    echo_tables(result)
    if json_path:
        with atomic_file(json_path, "w") as handle:  # whole or not at all
            handle.write(result.to_json())
