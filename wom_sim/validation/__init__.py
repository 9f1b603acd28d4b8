"""Validation against stylized facts: `run_validation` runs the registry of facts as paired, replicated experiments.

Modules, in import order: `lab` (arms, common random numbers, probes, intervals), `registry` (facts.yaml, the
types every check uses, check registration), `checks` and `verification` (one function per fact), `runner` (runs
the registry), `report` (terminal table, Markdown, HTML). The facts and their parameters are data in
wom_sim/validation/facts/facts.yaml; the definitions are in docs/validation.md.
"""

from wom_sim.validation.lab import Estimate, Lab, mean_ci, take_off, time_to_half
from wom_sim.validation.registry import (
    CHECKS,
    FactResult,
    FactSpec,
    NotRun,
    Part,
    Pending,
    check,
    load_registry,
)
from wom_sim.validation.runner import overall_passed, run_validation

__all__ = [
    "CHECKS",
    "Estimate",
    "FactResult",
    "FactSpec",
    "Lab",
    "NotRun",
    "Part",
    "Pending",
    "check",
    "load_registry",
    "mean_ci",
    "overall_passed",
    "run_validation",
    "take_off",
    "time_to_half",
]
