"""The `wom-sim` command line: the group (common.py) and its subcommands, which register themselves on import."""

from __future__ import annotations

import sys

from wom_sim.cli import attribution as _attribution  # noqa: F401
from wom_sim.cli import bench as _bench  # noqa: F401
from wom_sim.cli import experiments as _experiments  # noqa: F401
from wom_sim.cli import optimise as _optimise  # noqa: F401
from wom_sim.cli import run as _run  # noqa: F401
from wom_sim.cli import validate as _validate  # noqa: F401
from wom_sim.cli import viz as _viz  # noqa: F401
from wom_sim.cli.common import cli, resolve_scenario_path, set_option  # noqa: F401 - the group and its helpers


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="wom-sim")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
