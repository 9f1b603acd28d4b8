"""Delays written in ticks or in hours, days and weeks: `delay: 1` (ticks, as always), `delay: "2 days"`.

A strategy question names real time ("we answer in two days instead of two hours"), while the model's clock is
the tick (`tick_unit`, a week by default). A delay with a unit is turned into a (fractional) number of ticks with
the scenario's tick length, so "2 days" is 2/7 of a weekly tick; the tick rules (docs/model.md step 6, the crisis
response) then say what the part of a tick before the delay is over does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

# Length in days of each unit a delay may be written in, and of each `tick_unit` whose length is known.
DAYS = {"hour": 1.0 / 24.0, "day": 1.0, "week": 7.0}
_UNIT = {"h": "hour", "hour": "hour", "hours": "hour", "d": "day", "day": "day", "days": "day", "w": "week"}
_UNIT |= {"week": "week", "weeks": "week", "tick": "tick", "ticks": "tick"}
_TEXT = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)
ALLOWED = 'a number of ticks (>= 0) or a duration such as "2 hours", "1.5 days", "2 weeks"'


def _check(value: Any) -> Any:
    """A number of ticks >= 0 (kept as written) or a duration text (kept as written, normalised spacing)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is no delay: give {ALLOWED}")
    if isinstance(value, int | float):
        if not value >= 0 or value == float("inf"):
            raise ValueError(f"{value!r} is no delay: give {ALLOWED}")
        return value
    if isinstance(value, str):
        amount, unit = parse(value)
        return f"{amount:g} {unit}s" if amount != 1 else f"1 {unit}"
    raise ValueError(f"{value!r} is no delay: give {ALLOWED}")


def parse(text: str) -> tuple[float, str]:
    """(amount, unit) of a duration text: unit one of hour, day, week, tick (ValueError naming what is allowed)."""
    match = _TEXT.fullmatch(text)
    unit = _UNIT.get(match.group(2).lower()) if match else None
    if unit is None:
        raise ValueError(f"{text[:40]!r} is no delay: give {ALLOWED}")
    return float(match.group(1)), unit


def in_ticks(value: float | str, tick_unit: str) -> float:
    """A delay in ticks (fractional) for a scenario whose tick is `tick_unit`.

    >>> in_ticks("2 days", "week"), in_ticks("2 weeks", "week"), in_ticks(3, "week")
    (0.2857142857, 2.0, 3.0)
    """
    if not isinstance(value, str):
        return float(value)
    amount, unit = parse(value)
    if unit == "tick":
        return amount
    tick = DAYS.get(tick_unit.strip().lower().rstrip("s"))
    if tick is None:
        raise ValueError(
            f"{value!r} needs a tick of known length: tick_unit is {tick_unit!r} (allowed: hour, day, week; or "
            "give the delay as a number of ticks)"
        )
    # Rounded to 1e-10 of a tick, so "14 days" is 2 ticks exactly and a whole-week delay keeps today's rules.
    return round(amount * DAYS[unit] / tick, 10)


@dataclass(frozen=True)
class Documented:
    """How the scenario reference (docgen) names a key's type and what it allows, where the annotation would not."""

    type_name: str
    allowed: str


# A delay key: a number of ticks or a duration text. Validated as written (the tick length is the scenario's,
# checked with the whole scenario by `schema.check_delays`); a JSON-Schema editor sees both forms.
Delay = Annotated[
    int | float | str,
    BeforeValidator(_check),
    Documented("ticks or duration", '>= 0 ticks, or "N hours", "N days", "N weeks"'),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(\.\d*)?|\.\d+)\s*(h|hours?|d|days?|w|weeks?|ticks?)\s*$"},
            ]
        }
    ),
]
