"""Pinned runs: a run kept as a reference while the user changes sliders and runs again, and the paired comparison.

A pin holds the scenario a run used and its metrics so far; the page overlays pinned runs in grey on the KPI
plots and shows the tiles' difference to the first pin. `compare_with_pin` runs both scenarios over a few
replications with the same seeds (common random numbers) and reports the paired difference with its 95% CI.
The experiment layer is reached through `replicate_pair` only, so the page follows that layer through one seam.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pandas as pd

from wom_sim.analysis.statistics import paired_difference
from wom_sim.catalogue import describe, format_value, metric, summarise
from wom_sim.experiment.runner import make_task, run_task
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.scenario.schema import Scenario
from wom_sim.viz.figures import format_difference

MAX_PINS = 3  # more grey lines than three do not stay apart on a small plot
COMPARE_REPLICATIONS = 5  # default replications per arm: a few seconds at 5,000 people, enough for a rough CI
# What the compare panel reports, each summarised over the run as the catalogue says.
COMPARE_OUTCOMES = ("adoption_share", "customers", "nps", "pos_messages", "neg_messages", "cum_profit")
_NUMBERS = itertools.count(1)


@dataclass(frozen=True, eq=False)
class Pin:
    """A run kept as a reference.

    Attributes
    ----------
    label : what the plots' legend and the page call it ("pin 1").
    scenario : the resolved scenario the run used (sliders, switches and seed applied).
    frame : its per-tick metrics when it was pinned.
    settings : the parameters in force (`VizModel.in_force`), to show what differs from the current run.
    """

    label: str
    scenario: Scenario
    frame: pd.DataFrame
    settings: dict[str, str] = field(default_factory=dict)


def make_pin(scenario: Scenario, frame: pd.DataFrame, settings: dict[str, str], number: int | None = None) -> Pin:
    """A pin of a run; numbered on from the last pin made when `number` is None."""
    return Pin(f"pin {number if number is not None else next(_NUMBERS)}", scenario, frame.copy(), dict(settings))


def add_pin(pins: tuple[Pin, ...], pin: Pin) -> tuple[Pin, ...]:
    """`pins` with `pin` added at the end; unchanged when MAX_PINS are already pinned."""
    return pins if len(pins) >= MAX_PINS else (*pins, pin)


def changed_settings(pin: Pin, now: dict[str, str]) -> list[str]:
    """What the pinned run had that differs from the current run's parameters ("Quality 0.80 (now 0.60)")."""
    return [f"{name} {value} (now {now.get(name, '?')})" for name, value in pin.settings.items()
            if now.get(name) != value and name != "Scenario"]  # fmt: skip


def replicate_pair(base: Scenario, treatment: Scenario, replications: int) -> tuple[list, list]:
    """The per-tick metrics of `replications` runs of each scenario, replication i of both with the same seed.

    The page's one call into the experiment layer (the lowest-level functions it has: a task per run and the
    replication seeds derived from the base scenario's seed); swap this body to follow that layer's API.
    """
    seeds = replication_seeds(base.seed, replications)
    return [run_task(make_task(base, s)) for s in seeds], [run_task(make_task(treatment, s)) for s in seeds]


def compare_with_pin(
    pin: Pin, current: Scenario, replications: int = COMPARE_REPLICATIONS, outcomes=COMPARE_OUTCOMES
) -> list[dict[str, str]]:
    """Rows of the compare panel: per outcome the pin's and the current run's mean and the paired difference.

    Each row: outcome (its catalogue label with its summary, in the scenario's tick unit), pin, current,
    difference and the 95% CI of the difference over the paired replications.
    """
    base_runs, current_runs = replicate_pair(pin.scenario, current, replications)
    unit = current.tick_unit
    rows = []
    for name in outcomes:
        stat = metric(name).summary
        base = [summarise(run[name], stat) for run in base_runs]
        treatment = [summarise(run[name], stat) for run in current_runs]
        d = paired_difference(base, treatment)
        rows.append({
            "outcome": describe(name, unit=unit),
            pin.label: format_value(name, d["base_mean"]),
            "current": format_value(name, d["treatment_mean"]),
            "difference": format_difference(name, d["uplift"]),
            "95% CI": f"{format_difference(name, d['ci_low'])} to {format_difference(name, d['ci_high'])}",
        })  # fmt: skip
    return rows
