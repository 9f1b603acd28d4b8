"""The network layer: the social graph (`graph`), its generators and file readers, building it for a scenario
(`build`, with the memory estimate) and choosing its KOLs (`kols`). Imports only errors and the scenario format.

Inside the layer imports go one way: graph <- generators, files <- build; graph <- kols.
"""

from wom_sim.network.build import build_graph, estimate_memory_bytes
from wom_sim.network.graph import Graph
from wom_sim.network.kols import select_kols

__all__ = ["Graph", "build_graph", "estimate_memory_bytes", "select_kols"]
