"""Pinned runs: a run kept as a reference while the user changes sliders and runs again, and the paired comparison.

A pin holds the scenario a run used and its metrics so far; the page overlays pinned runs in grey on the KPI
plots and shows the tiles' difference to the first pin. `compare_with_pin` runs both scenarios over a few
replications with the same seeds (common random numbers) through `wom_sim.compare`, the one comparison API, so
the page and `wom-sim compare` give the same paired difference and CI for the same settings.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pandas as pd

from wom_sim.catalogue import describe, format_value
from wom_sim.experiment.comparison import Comparison, compare
from wom_sim.experiment.studies import Arm
from wom_sim.scenario.schema import Scenario
from wom_sim.viz.figures import format_difference

MAX_PINS = 3  # more grey lines than three do not stay apart on a small plot
COMPARE_REPLICATIONS = 5  # default replications per arm: a few seconds at 5,000 people, enough for a rough CI
# What the compare panel reports, each summarised over the run as the catalogue says (profit: summed over the run);
# all are rows of `wom-sim compare`'s table too.
COMPARE_OUTCOMES = ("adoption_share", "customers", "nps", "pos_messages", "neg_messages", "profit")
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


def compare_outcomes(pin: Pin, current: Scenario) -> tuple[str, ...]:
    """What the compare panel reports: `COMPARE_OUTCOMES`, and with rivals (in either arm) our market share and
    that of each rival both arms have, before the profit, so a competitor scenario's comparison says who holds
    the market (as `wom-sim compare` does)."""
    if not (pin.scenario.competitors or current.competitors):
        return COMPARE_OUTCOMES
    ours = {c.name for c in current.competitors}
    rivals = tuple(f"rival_{c.name}_market_share" for c in pin.scenario.competitors if c.name in ours)
    return (*COMPARE_OUTCOMES[:-1], "market_share", *rivals, COMPARE_OUTCOMES[-1])


def compare_with_pin(
    pin: Pin, current: Scenario, replications: int = COMPARE_REPLICATIONS, outcomes=None
) -> list[dict[str, str]]:
    """Rows of the compare panel: per outcome the pin's and the current run's mean and the paired difference.

    The numbers are `wom_sim.compare`'s (the one comparison API, which `wom-sim compare` prints): the pinned
    scenario is the base, the current one the treatment, replication i of both with the same seed derived from
    the pin's seed (common random numbers). Each row: outcome (its catalogue label with its summary, in the
    scenario's tick unit), pin, current, difference and the 95% CI of the difference over the paired replications.
    `outcomes`: default `compare_outcomes`.
    """
    outcomes = compare_outcomes(pin, current) if outcomes is None else outcomes
    result = paired_comparison(pin, current, replications, outcomes)
    unit = current.tick_unit
    rows = []
    for d in result.uplift[result.uplift["outcome"].isin(list(outcomes))].to_dict("records"):
        name = d["outcome"]
        rows.append({
            "outcome": describe(name, unit=unit),
            pin.label: format_value(name, d["base_mean"]),
            "current": format_value(name, d["treatment_mean"]),
            "difference": format_difference(name, d["uplift"]),
            "95% CI": f"{format_difference(name, d['ci_low'])} to {format_difference(name, d['ci_high'])}",
        })  # fmt: skip
    return rows


def paired_comparison(pin: Pin, current: Scenario, replications: int, outcomes=COMPARE_OUTCOMES) -> Comparison:
    """`wom_sim.compare` of the pinned run (base) and the current settings, seeded by the pin's seed, in memory."""
    return compare(Arm(pin.label, pin.scenario), Arm("current", current), replications=replications,
                   seed=pin.scenario.seed, outcomes=list(outcomes))  # fmt: skip
