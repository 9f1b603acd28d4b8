"""wom-sim: an agent-based word-of-mouth diffusion simulator for marketing what-if questions.

Quick use::

    from wom_sim.sim.model import WomModel, simulate
    result = simulate("scenarios/baseline.yaml")
    result.metrics  # one row per tick
"""

__version__ = "0.1.0"
