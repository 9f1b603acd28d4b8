"""The starting state from your customer data: a checked person table (`scenario.people`) laid over the drawn one.

Each column given overrides the drawn value of the people whose cell is not empty; everyone else keeps the
draws. Three steps, around the history burn-in and the rivals' start (docs/scenarios.md, "Your customer data"):

1. `before_history`: segment (conformity redrawn from the new segment), status, tenure, spend and traits;
2. the burn-in (`dynamics.settle_history`), a tenure capping the purchases that person has lived;
3. `after_history`: expectation, satisfaction, trust, attachment, loyalty as given, an NPS answer turned into
   the satisfaction that gives that recommend score (L back at its target when satisfaction, trust or attachment
   were given and loyalty was not); `start_market`: the brand used today.

All vectorised over the table's rows; a loop runs over columns and segments only.
"""

from __future__ import annotations

import warnings

import numpy as np

from wom_sim.errors import ScenarioError
from wom_sim.network.build import label_positions
from wom_sim.network.graph import Graph
from wom_sim.scenario.people import PeopleTable
from wom_sim.scenario.schema import Scenario
from wom_sim.sim import dynamics as dyn
from wom_sim.sim.competition import loyalty_target
from wom_sim.sim.population import AWARE, CUSTOMER, Population, draw_unit

__all__ = ["PeopleWarning", "after_history", "before_history", "match_people", "start_market", "start_population"]

# Table column -> Population array, for the values set before the burn-in (traits it reads) and after it
# (states it would overwrite).
TRAITS = {"product_fit": "fit", "price_sensitivity": "price_sensitivity", "credibility": "credibility",
          "conformity": "conformity", "talkativeness": "talkativeness", "spend": "spend"}  # fmt: skip
STATES = {"expectation": "E", "satisfaction": "S", "trust": "T", "attachment": "A", "loyalty": "L"}


class PeopleWarning(UserWarning):
    """A person table that is valid but leaves part of the market to the draws (edge-list ids it does not hold)."""


def match_people(graph: Graph, table: PeopleTable) -> np.ndarray:
    """Node index of each row of the table; warns (PeopleWarning) with the count of graph people it misses.

    The graph must come from `build_graph` of the same scenario (which added the table's isolated people).
    """
    rows = label_positions(graph.labels, table.ids) if graph.labels is not None else np.full(len(table), -1)
    absent = np.flatnonzero(rows < 0)
    if absent.size:
        raise ScenarioError(
            f"{table.path}: id {str(table.ids[absent[0]])!r} is not in the graph ({absent.size} ids); the graph given "
            "to the model must be built from this scenario (network.file with network.people)"
        )
    missing = graph.n - len(table)
    if missing:
        warnings.warn(
            f"{table.path}: {missing:,} people of the edge list (of {graph.n:,} in all) are not in the person table; "
            "they start from the scenario's drawn values",
            PeopleWarning,
            stacklevel=2,
        )
    # People of the table whom no edge names join as isolated people (`add_people`): say how many, since an id
    # written another way than in the edge list ("01" for 1) lands here too, as a second, tie-less person.
    ties = graph.out_degree() + graph.in_degree()  # each edge counted at both ends
    alone = int(np.count_nonzero(ties[rows] == 0))
    if alone:
        warnings.warn(
            f"{table.path}: {alone:,} people of the person table (of {len(table):,}) have no tie in the edge list; "
            "they join as isolated people (check that their ids are written as in the edge list)",
            PeopleWarning,
            stacklevel=2,
        )
    return rows


def start_population(
    pop: Population, sc: Scenario, table: PeopleTable, rows: np.ndarray, history: np.random.Generator,
    rng: np.random.Generator,
) -> None:  # fmt: skip
    """Steps 1-3 on the population (the brand used today is `start_market`, once the rivals exist)."""
    before_history(pop, sc, table, rows, rng)
    lengths = None
    tenure = table.values.get("tenure")
    if tenure is not None:
        # A tenure of t ticks is at most t purchases (at least the first one): it caps the burn-in.
        lengths = np.full(pop.n, sc.population.initial.history, dtype=np.int64)
        given = ~np.isnan(tenure)
        lengths[rows[given]] = np.clip(tenure[given], 1, sc.population.initial.history).astype(np.int64)
    dyn.settle_history(pop, sc, history, lengths)
    after_history(pop, sc, table, rows)


def before_history(pop: Population, sc: Scenario, table: PeopleTable, rows: np.ndarray,
                   rng: np.random.Generator) -> None:  # fmt: skip
    v = table.values
    if "segment" in v:
        seg = v["segment"]
        who = rows[seg >= 0]
        pop.segment[who] = seg[seg >= 0]
        for code, spec in enumerate(sc.population.segments):  # conformity is drawn per segment
            members = who[pop.segment[who] == code]
            pop.conformity[members] = draw_unit(spec.conformity, members.size, rng)
    for column, name in TRAITS.items():
        if column in v:
            given = ~np.isnan(v[column])
            getattr(pop, name)[rows[given]] = v[column][given]
    if "need" in v:
        given = ~np.isnan(v["need"])
        pop.need[rows[given]] = v["need"][given] > 0.5
    if "status" in v:
        status = v["status"]
        given = status >= 0
        who, code = rows[given], status[given].astype(np.int8)
        if "brand" in v:  # a rival's customer is not ours; being in our CRM, they know us
            code = np.where(v["brand"][given] > 0, AWARE, code).astype(np.int8)
        pop.status[who] = code
        pop.experienced[who] = code >= CUSTOMER
        pop.S[who] = np.where(code >= CUSTOMER, sc.brand.quality, 0.0)
        pop.need[who[code >= CUSTOMER]] = True  # a (past) customer has the need by definition
    if "tenure" in v:  # ticks as our customer so far (a rival's customer's tenure is not modelled)
        given = ~np.isnan(v["tenure"]) & (pop.status[rows] >= CUSTOMER)
        pop.customer_ticks[rows[given]] = v["tenure"][given].astype(np.int32)


def after_history(pop: Population, sc: Scenario, table: PeopleTable, rows: np.ndarray) -> None:
    v = table.values
    ours = v["brand"] <= 0 if "brand" in v else np.ones(len(table), dtype=bool)
    for column, name in STATES.items():
        if column in v:
            # A rival's customer's satisfaction is with the rival: `start_market` sets their view of it.
            given = ~np.isnan(v[column]) & (ours if column == "satisfaction" else True)
            getattr(pop, name)[rows[given]] = v[column][given]
    if "nps" in v:
        satisfaction_from_nps(pop, sc, rows, v["nps"], ours, fixed_loyalty="loyalty" in v)
    moved = [c for c in ("satisfaction", "nps", "trust", "attachment") if c in v]
    if "loyalty" not in v and moved:
        who = rows[np.logical_or.reduce([~np.isnan(v[c]) for c in moved])]
        who = who[pop.experienced[who]]
        pop.L[who] = dyn.start_loyalty(pop, sc, who)


def satisfaction_from_nps(
    pop: Population, sc: Scenario, rows: np.ndarray, nps: np.ndarray, ours: np.ndarray, fixed_loyalty: bool
) -> None:
    """S such that the person's recommend score R = round(10 (wS S + wT T + wL L)) is their 0-10 answer.

    L itself moves with S at the start (L = L0 + wL* S, the loyalty target), unless the table gives loyalty:
    S = (answer / 10 - wT T - wL L0) / (wS + wL wL*), clipped to 0-1 where trust and loyalty alone already
    put the score above, or S = 1 cannot lift it to, the answer. A rival's customer's answer is about the rival:
    `start_market` reads it as their view of it (answer / 10).
    """
    given = ~np.isnan(nps) & ours
    who, answer = rows[given], nps[given] / 10.0
    w, pull = sc.nps, sc.loyalty.weights.satisfaction
    if fixed_loyalty:
        S = (answer - w.trust * pop.T[who] - w.loyalty * pop.L[who]) / max(w.satisfaction, 1e-12)
    else:
        rest = dyn.start_loyalty(pop, sc, who) - pull * pop.S[who]  # L0: the loyalty target without S
        S = (answer - w.trust * pop.T[who] - w.loyalty * rest) / max(w.satisfaction + w.loyalty * pull, 1e-12)
    pop.S[who] = np.clip(S, 0.0, 1.0)


def start_market(market, pop: Population, sc: Scenario, table: PeopleTable, rows: np.ndarray) -> None:
    """The brand each person of the table uses today (`market` is `competition.Market`, None without rivals).

    People with a status given use ours (customer), a rival (customer with its brand) or none; their rival's
    view starts at its quality, or at the satisfaction given, and their loyalty to it at its target (their trust
    and attachment keep their draws).
    """
    v = table.values
    if market is None or "status" not in v:
        return
    given = v["status"] >= 0
    who = rows[given]
    brand = v["brand"][given].astype(np.int8) if "brand" in v else np.zeros(who.size, dtype=np.int8)
    rival = np.where(v["status"][given] == CUSTOMER, np.maximum(brand, 0), 0).astype(np.int8)
    market.rival[who] = rival
    market.last_brand[who] = np.where(pop.status[who] >= CUSTOMER, 0, np.where(rival > 0, rival, -1))
    users, code = who[rival > 0], rival[rival > 0]
    bits = (np.uint8(1) << (code - 1).astype(np.uint8)).astype(np.uint8)
    market.knows[users] |= bits
    market.tried[users] |= bits  # a customer of a rival has bought it
    quality = np.array([c.quality for c in sc.competitors])[code - 1]
    view = quality
    for column, scale in (("satisfaction", 1.0), ("nps", 0.1)):
        if column in v:
            stated = v[column][given][rival > 0] * scale
            view = np.where(np.isnan(stated), quality, stated)
    market.view[code - 1, users] = view
    market.loyalty[code - 1, users] = loyalty_target(pop, market, sc.competitors, sc, users, code)
    pop.need[users] = True
