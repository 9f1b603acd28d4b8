"""What every subcommand of `wom-sim` shares: the click group, its one-line error handling, common options."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from wom_sim.errors import ScenarioError
from wom_sim.output import FIGURE_FORMATS, USER_ERRNOS
from wom_sim.scenario.catalogue import BUNDLED_DIR, resolve_scenario_path  # noqa: F401 - subcommands import it from here
from wom_sim.scenario.schema import MAX_SEED


class WomGroup(click.Group):
    """A click group that turns user-fixable errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if exc.ctx is None or exc.ctx.command is self or type(exc).__name__ == "NoArgsIsHelpError":
                raise  # the group's own usage (no command, help) stays click's
            # A subcommand's option or argument refused by click (out of range, a file where a folder goes, a
            # missing argument): one line as for every other bad input, with where to read what is allowed.
            message = " ".join(exc.format_message().split()).rstrip(".")
            click.echo(f"error: {message} (see `{exc.ctx.command_path} --help`)", err=True)
            ctx.exit(2)
        except ScenarioError as exc:
            click.echo(f"error: {' '.join(str(exc).split())}", err=True)
            ctx.exit(2)
        except OSError as exc:
            if exc.errno not in USER_ERRNOS:
                raise
            where = exc.filename if exc.filename is not None else "output"
            click.echo(f"error: {where}: {USER_ERRNOS[exc.errno]}", err=True)
            ctx.exit(2)
        except ValueError as exc:
            if "null byte" not in str(exc) and "null character" not in str(exc):  # NUL in a path (3.11, 3.13)
                raise
            click.echo("error: a path given on the command line contains a NUL byte", err=True)
            ctx.exit(2)
        except MemoryError:
            click.echo("error: out of memory; use fewer people (network.n), ticks or runs at once", err=True)
            ctx.exit(2)


@click.group(cls=WomGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="wom-sim")
def cli() -> None:
    """wom-sim: agent-based word-of-mouth what-if simulator.

    \b
    Start here:
      wom-sim scenarios                     list the bundled what-if scenarios
      wom-sim run baseline                  run one, print a summary, write tables and a dashboard
      wom-sim check my.yaml                 validate a scenario and print every resolved parameter
    """


def bundled_scenarios_dir() -> Path:
    """The bundled scenarios, shipped as package data (wom_sim/scenario/bundled)."""
    return BUNDLED_DIR


def paired_replications_option(default: int, help: str):
    """`-r/--replications` of a paired study (compare, attribution, curves): at least 2, as a paired CI needs."""
    return click.option(
        "--replications", "-r", type=click.IntRange(2, 100_000), default=default, show_default=True, metavar="N",
        help=help,
    )  # fmt: skip


def seed_option(help: str):
    """`--seed S`: the run's seed, or the base seed of the replications (0 to MAX_SEED, as a scenario's `seed`)."""
    return click.option("--seed", type=click.IntRange(0, MAX_SEED), metavar="SEED", help=help)


def ticks_option(help: str):
    """`--ticks N`: the horizon of every run of the command instead of the scenario's `ticks` (as --set ticks=N)."""
    return click.option("--ticks", type=click.IntRange(1, 100_000), metavar="N", help=help)


def quiet_option(help: str):
    """`-q/--quiet`: no progress bar, no progress lines ("executing on ...", runs done) and no summary on the
    terminal; errors and warnings still print, and what the command writes is the same."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def set_option(f):
    """The repeatable `--set key.sub=value` option."""
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a scenario value by dotted key, e.g. --set wom.contact_prob=0.2 (repeatable).",
    )(f)


def figure_format_option(f):
    """`--figure-format png|svg|pdf`: the format of the figures a command writes (PNG at 200 dpi by default; SVG
    and PDF are vector, for a deck)."""
    return click.option(
        "--figure-format",
        "figure_format",
        type=click.Choice(FIGURE_FORMATS),
        default="png",
        show_default=True,
        help="Format of the figures written: png (200 dpi), svg or pdf (vector, for slides).",
    )(f)


@contextmanager
def from_source(path: Path | str):
    """Errors found after loading (the graph does not fit n, KOLs, target ids, found while the model is built or
    checked before a study) name the scenario file they come from, as the loader's errors do."""
    try:
        yield
    except ScenarioError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ScenarioError(f"{path}: {exc}") from None
