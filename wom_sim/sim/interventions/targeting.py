"""Who an entry reaches: the bool mask of its `target:` (segment, lifecycle state, KOLs, ids) at the start of a tick.

The mask is evaluated again on every tick the entry is on air, since lifecycle states and KOLs change over time;
every condition is one vectorised comparison over the population, the conditions combine with AND. The lifecycle
states are a partition of the people (docs/interventions.md, Targeting): prospect, new, loyal, at_risk, churned,
and the customers who are none of new, loyal and at risk. Reads only the `InterventionContext`.
"""

from __future__ import annotations

import numpy as np

from wom_sim.errors import ScenarioError
from wom_sim.network.build import label_positions
from wom_sim.network.graph import Graph
from wom_sim.scenario.interventions import Target
from wom_sim.sim.interventions.context import InterventionContext
from wom_sim.sim.population import CHURNED, CUSTOMER


def start_hazard(ctx: InterventionContext) -> np.ndarray:
    """Churn hazard of everyone at the start of the tick (docs/model.md step 8 with last tick's W-, no failures).

    This tick's failures are not known yet, so they are left out (as a churn early warning must).
    """
    ch, pop = ctx.scenario.churn, ctx.population
    heard = ctx.last_tick.heard_negative if ctx.last_tick is not None else 0.0
    return ch.base_hazard * np.exp(-ch.loyalty_slope * (pop.L - ch.reference_loyalty)) * (1 + ch.negative_wom * heard)


def lifecycle_masks(ctx: InterventionContext, target: Target, t: int) -> dict[str, np.ndarray]:
    """The lifecycle states at the start of tick t as disjoint bool masks (the thresholds are `target`'s)."""
    pop = ctx.population
    customer = pop.status == CUSTOMER
    at_risk = customer & (start_hazard(ctx) >= target.at_risk_hazard * ctx.scenario.churn.base_hazard)
    # adopted_at is -1 for the initial customers: they lived `initial.history` purchases before tick 0.
    new = customer & ~at_risk & (pop.adopted_at >= 0) & (t - pop.adopted_at < target.new_ticks)
    return {
        "prospect": pop.status < CUSTOMER,
        "new": new,
        "loyal": customer & ~at_risk & ~new & (pop.L >= target.loyal_loyalty),
        "at_risk": at_risk,
        "churned": pop.status == CHURNED,
    }


def resolve_ids(target: Target | None, graph: Graph, name: str) -> Target | None:
    """The target with its ids as node indices of the built model (checked: an imported network is read only now).

    An imported network's people are known by the file's own ids (the edge list's and person table's, matched as
    `kols.select.ids` are: 7 and "7" are the same person); a generated network's are 0 .. n-1.
    """
    if target is None or target.ids is None:
        return target
    if graph.labels is None:
        nodes = np.array([int(x) for x in target.ids], dtype=np.int64)  # the scenario check let only digits through
        if nodes.max() >= graph.n:
            raise ScenarioError(f"{name}: target.ids: id {nodes.max()} is out of range (the network has {graph.n} "
                                f"people, ids 0 .. {graph.n - 1})")  # fmt: skip
        return target.model_copy(update={"ids": nodes.tolist()})
    asked = np.asarray(target.ids)  # all integers: int64, else text (label_positions then compares as text)
    nodes = label_positions(graph.labels, asked)
    missing = asked[nodes < 0]
    if missing.size:
        raise ScenarioError(f"{name}: target.ids: {missing.size} id(s) are not people of the network file, first "
                            f"{str(missing[0])!r} (ids are the file's own, as in its edge list and person table)"
                            )  # fmt: skip
    return target.model_copy(update={"ids": nodes.tolist()})


def target_mask(ctx: InterventionContext, target: Target, t: int) -> np.ndarray:
    """Bool mask of length N: the people `target` names at the start of tick t (its conditions combined by AND)."""
    pop = ctx.population
    mask = np.ones(ctx.n, dtype=bool)
    names = target.segments()
    codes = [code for code, seg in enumerate(ctx.scenario.population.segments) if seg.name in names]
    if names:
        mask &= np.isin(pop.segment, codes)
    if target.kols is not None:
        mask &= pop.is_kol == target.kols
    if target.ids is not None:
        chosen = np.zeros(ctx.n, dtype=bool)
        chosen[np.asarray(target.ids, dtype=np.int64)] = True
        mask &= chosen
    states = target.states()
    if states:
        masks = lifecycle_masks(ctx, target, t)
        mask &= np.logical_or.reduce([masks[s] for s in states])
    return mask
