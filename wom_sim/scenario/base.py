"""The base model of every scenario section, and the KOL selection both the schema and the intervention models use.

One base class (`Strict`, and `Spec` for scenario sections): a rule that must hold for every key of the format
(unknown keys are errors, NaN and infinity are refused, assignments are validated) is configured here once.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bounds of fields that have no natural range: large enough for any real market, small enough that sums and
# products over millions of people and thousands of ticks stay finite in float64.
MAX_MONEY = 1e9  # currency per person, per purchase or per tick; a price index is bounded separately
MAX_COEFFICIENT = 100.0  # a logistic coefficient (log-odds per unit); exp(100) is already certainty
MAX_TRAIT = 1e6  # a Dist parameter (a trait value, a mean, a bound)
MAX_MULTIPLIER = 1e3  # a multiplier or weight on a rate
# Every seed a user gives (scenario, sweep, optimiser and calibration specs, --seed): int64, as the stores and
# tables keep seeds. numpy's SeedSequence takes any size; a seed derived from one stays in 0..MAX_SEED too.
MAX_SEED = 2**63 - 1


class Strict(BaseModel):
    """Base of every user-facing model (scenario sections, intervention parameters, sweep specs, calibration
    targets): unknown keys are errors and NaN or infinity is refused in every float field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data: Any) -> Any:
        # pydantic reads true as 1 for an int or float, and YAML reads yes/no/on/off as true/false: `ticks: yes`
        # would run one tick and `price: off` give the product away. A key takes true/false only if it says so.
        # (A model validator, not a field one: pydantic allows no before-validator on a discriminator like `kind`.)
        if not isinstance(data, dict):
            return data
        # Items of a list too: `ids: [yes]` would target person 1 and `at: [on]` run at tick 1.
        fields = {f.alias or name: f for name, f in cls.model_fields.items()}
        for key, value in data.items():
            if key not in fields or _takes_bool(fields[key].annotation):
                continue
            items = enumerate(value) if isinstance(value, list) else [(None, value)]
            for i, item in items:
                if isinstance(item, bool):
                    where = key if i is None else f"{key}[{i}]"
                    raise ValueError(
                        f"{where}: a true/false value ({str(item).lower()}) is not allowed here (YAML reads yes, no, "
                        "on and off as true/false)"
                    )
        return data


class Spec(Strict):
    """Base of every scenario section and entry: unknown keys are errors, NaN and infinity are refused, values are
    validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class KolSelect(Spec):
    """How KOLs are picked from the graph."""

    by: Literal["ids", "degree", "pagerank", "betweenness", "kcore", "random", "greedy"] = Field(
        "degree", description="centrality used to rank candidates; greedy = lazy-greedy influence maximisation"
    )
    k: int = Field(0, ge=0, le=50_000_000, description="number of KOLs (0 = none)")
    ids: list[int | str] = Field(default_factory=list, description="explicit node ids (by: ids)")


def _takes_bool(annotation: Any) -> bool:
    """Whether a field's type admits true/false: bool itself, Any, or a union or container holding either."""
    return annotation is bool or annotation is Any or any(_takes_bool(arg) for arg in get_args(annotation))
