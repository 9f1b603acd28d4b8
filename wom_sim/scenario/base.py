"""The base model of every scenario section, and the KOL selection both the schema and the intervention models use.

One base class (`Strict`, and `Spec` for scenario sections): a rule that must hold for every key of the format
(unknown keys are errors, NaN and infinity are refused, assignments are validated) is configured here once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Bounds of fields that have no natural range: large enough for any real market, small enough that sums and
# products over millions of people and thousands of ticks stay finite in float64.
MAX_MONEY = 1e9  # currency per person, per purchase or per tick; a price index is bounded separately
MAX_COEFFICIENT = 100.0  # a logistic coefficient (log-odds per unit); exp(100) is already certainty
MAX_TRAIT = 1e6  # a Dist parameter (a trait value, a mean, a bound)
MAX_MULTIPLIER = 1e3  # a multiplier or weight on a rate


class Strict(BaseModel):
    """Base of every user-facing model (scenario sections, intervention parameters, sweep specs, calibration
    targets): unknown keys are errors and NaN or infinity is refused in every float field."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


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
