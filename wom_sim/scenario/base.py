"""The base model of every scenario section, and the KOL selection both the schema and the intervention models use.

One base class (`Spec`): a rule that must hold for every key of the scenario format (unknown keys are errors,
assignments are validated) is configured here once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Spec(BaseModel):
    """Base of every scenario section and entry: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class KolSelect(Spec):
    """How KOLs are picked from the graph."""

    by: Literal["ids", "degree", "pagerank", "betweenness", "kcore", "random", "greedy"] = Field(
        "degree", description="centrality used to rank candidates; greedy = lazy-greedy influence maximisation"
    )
    k: int = Field(0, ge=0, description="number of KOLs (0 = none)")
    ids: list[int | str] = Field(default_factory=list, description="explicit node ids (by: ids)")
