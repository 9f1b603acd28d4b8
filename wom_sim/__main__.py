"""`python -m wom_sim` is the same as the `wom-sim` command."""

from wom_sim.cli import main

main()
