"""wom-sim: an agent-based word-of-mouth diffusion simulator for marketing what-if questions.

Quick use::

    import wom_sim
    result = wom_sim.simulate(None, overrides={"network.n": 2000}, seed=1)   # one run, the defaults
    result.metrics                                                           # one row per tick
    c = wom_sim.compare("baseline", "referral_program", replications=30)     # paired, common random numbers
    c.uplift, c.roi, c.per_seed
    a = wom_sim.attribution("baseline", replications=10)                    # last touch vs switching off
    a.table

The public names: `simulate`, `WomModel`, `Scenario`, `load_scenario`, `ScenarioError`, `compare`, `replicate`,
`sweep`, `attribution`. Each is imported from its layer on first use (PEP 562), so `import wom_sim`, and with
it every `wom-sim` command's start-up, does not pay for the model, Mesa and the experiment stack until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> (module, attribute).
_PUBLIC = {
    "simulate": ("wom_sim.sim.model", "simulate"),
    "WomModel": ("wom_sim.sim.model", "WomModel"),
    "Scenario": ("wom_sim.scenario.schema", "Scenario"),
    "load_scenario": ("wom_sim.scenario.loading", "load_scenario"),
    "ScenarioError": ("wom_sim.errors", "ScenarioError"),
    "compare": ("wom_sim.experiment.comparison", "compare"),
    "replicate": ("wom_sim.experiment.studies", "replicate"),
    "sweep": ("wom_sim.experiment.sweep", "run_sweep"),
    "attribution": ("wom_sim.experiment.attribution", "attribution"),
    "curves": ("wom_sim.experiment.curves", "curves"),
    "optimise": ("wom_sim.experiment.optimise", "optimise"),
}
__all__ = ["Scenario", "ScenarioError", "WomModel", "attribution", "compare", "curves", "load_scenario", "optimise",
           "replicate", "simulate", "sweep"]  # fmt: skip

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from wom_sim.errors import ScenarioError
    from wom_sim.experiment.attribution import attribution
    from wom_sim.experiment.comparison import compare
    from wom_sim.experiment.curves import curves
    from wom_sim.experiment.optimise import optimise
    from wom_sim.experiment.studies import replicate
    from wom_sim.experiment.sweep import run_sweep as sweep
    from wom_sim.scenario.loading import load_scenario
    from wom_sim.scenario.schema import Scenario
    from wom_sim.sim.model import WomModel, simulate


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'wom_sim' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    # Loaded on first use, not at `import wom_sim`: CLI start-up time (see the module docstring).
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
