"""`WomModel(mesa.Model)`: random streams, state, one vectorised tick per `step()`, a Mesa DataCollector.

The dynamics live in `dynamics.py`; this module only wires them in the order of docs/model.md. People are
arrays, not a million Python objects: `Customer` agents are thin views created on demand (`model.person(i)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

import wom_sim.display as display
from wom_sim.catalogue import RUN_SUMMARY
from wom_sim.network.build import build_graph
from wom_sim.network.graph import Graph
from wom_sim.network.kols import select_kols
from wom_sim.scenario.catalogue import bundled_names, bundled_path
from wom_sim.scenario.loading import apply_overrides, build_scenario, load_scenario
from wom_sim.scenario.people import read_people
from wom_sim.scenario.schema import Scenario
from wom_sim.sim import competition as comp
from wom_sim.sim import crm, fast
from wom_sim.sim import dynamics as dyn
from wom_sim.sim.economics import RetentionTable, customer_lifetime_value
from wom_sim.sim.interventions import (
    InterventionContext,
    apply_all,
    apply_effects,
    build_interventions,
    settle_all,
    setup_all,
)
from wom_sim.sim.interventions.context import KeyedRandom, ReadOnly
from wom_sim.sim.levers import Levers
from wom_sim.sim.metrics import METRIC_COLUMNS, people_table, tick_metrics
from wom_sim.sim.population import ACQUIRED_BY_GROUPS, CUSTOMER, STATUS_NAMES, acquired_by_groups, init_population

# One independent random stream per purpose (docs/model.md, Randomness). Append new names at the end only:
# the order fixes which child seed each stream gets, so reordering would change every result.
STREAMS = (
    "network", "kols", "population", "advertising", "talk", "delivery",
    "reception", "purchase", "experience", "churn", "interventions", "heterogeneity", "history", "need",
    "competition", "people",
)  # fmt: skip

# Flat keyword arguments (for mesa.batch_run and SolaraViz sliders) and the scenario keys they set.
FLAT_PARAMS = {
    "n": "network.n",
    "ticks": "ticks",
    "contact_prob": "wom.contact_prob",
    "quality": "brand.quality",
    "service_failure": "brand.service_failure",
    "price": "brand.price",
    "n_kols": "kols.select.k",
    "ad_reach": "advertising.reach",
}

# Metrics the Mesa DataCollector records (the full table is `model.metrics_frame()`).
REPORTED = ("customers", "adoption_share", "nps", "pos_messages", "neg_messages", "mean_S", "mean_T", "mean_L",
            "brand", "churn_rate", "repurchase_rate", "cum_profit")  # fmt: skip


def _reported_metric(model: WomModel, name: str) -> float:
    """One metric of the last tick (a module-level function, so a partial of it pickles for batch_run)."""
    return model.last_metrics.get(name, float("nan")) if model.last_metrics else float("nan")


class Customer(mesa.Agent):
    """A read-only view of person `index` over the model's arrays (created on demand, for Mesa tools)."""

    def __init__(self, model: WomModel, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def status(self) -> str:
        return STATUS_NAMES[self.model.population.status[self.index]]

    @property
    def acquired_by(self) -> str:
        return ACQUIRED_BY_GROUPS[acquired_by_groups(self.model.population, np.array([self.index]))[0]]

    def state(self) -> dict[str, Any]:
        """Every state and trait of this person as a dict (one row of the per-person table)."""
        return self.model.people(rows=np.array([self.index])).iloc[0].to_dict()

    def __getattr__(self, name: str) -> Any:
        # expectation/satisfaction/trust/attachment/loyalty and any array of the population by its field name.
        alias = {"expectation": "E", "satisfaction": "S", "trust": "T", "attachment": "A", "loyalty": "L"}
        pop = self.__dict__.get("model") and self.model.population
        field = alias.get(name, name)
        if pop is not None and isinstance(getattr(pop, field, None), np.ndarray):
            return getattr(pop, field)[self.index].item()
        raise AttributeError(name)


def _seed_from(seed: Any, rng: Any, default: int) -> int:
    """One integer seed from mesa's `seed`/`rng` conventions (3.3 passes seed, 3.5 passes rng)."""
    for value in (seed, rng):
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, np.random.Generator):
            return int(value.integers(0, 2**63 - 1))
    return default


def resolve_scenario(scenario: Scenario | str | Path | None, overrides: dict[str, Any] | None = None) -> Scenario:
    """A Scenario from an object, a file path, a bundled scenario's name (as `compare` and `wom-sim run` take,
    when no file of that name exists) or None (the schema defaults), with dotted overrides applied."""
    if scenario is None:
        base: dict = {}
    elif isinstance(scenario, Scenario):
        if not overrides:
            return scenario
        base = scenario.model_dump(by_alias=True, exclude_none=False)
    else:
        path = Path(scenario)
        if not path.exists() and str(scenario) in bundled_names():
            path = bundled_path(str(scenario))
        return load_scenario(path, overrides or None)
    return build_scenario(apply_overrides(base, overrides or {}), "parameters")


class WomModel(mesa.Model):
    """The word-of-mouth model. Build from a Scenario (or file) and/or flat keyword parameters; `step()` = one tick.

    `spec` is a wom-sim Scenario, a scenario file path, a bundled scenario's name, or None for the defaults; the
    resolved scenario is `model.wom_scenario`. (Mesa 3.5 reserves the name `scenario`, on the model and in
    `__init__`, for its own experiment scenarios, and SolaraViz relies on it, so wom-sim uses neither name for its
    own.)

    Examples
    --------
    >>> import wom_sim
    >>> model = wom_sim.WomModel(n=300, ticks=4, contact_prob=0.2, seed=3)
    >>> model.run().tick, model.n, model.wom_scenario.wom.contact_prob
    (4, 300, 0.2)
    """

    def __init__(
        self,
        spec: Scenario | str | Path | None = None,
        *,
        n: int | None = None,
        ticks: int | None = None,
        contact_prob: float | None = None,
        quality: float | None = None,
        service_failure: float | None = None,
        price: float | None = None,
        n_kols: int | None = None,
        ad_reach: float | None = None,
        overrides: dict[str, Any] | None = None,
        graph: Graph | None = None,
        kol_ids: np.ndarray | None = None,
        seed: int | None = None,
        rng: Any = None,
    ):
        flat = {"n": n, "ticks": ticks, "contact_prob": contact_prob, "quality": quality,
                "service_failure": service_failure, "price": price, "n_kols": n_kols, "ad_reach": ad_reach}  # fmt: skip
        dotted = {FLAT_PARAMS[k]: v for k, v in flat.items() if v is not None}
        sc = resolve_scenario(spec, {**dotted, **(overrides or {})})
        self.seed_value = _seed_from(seed, rng, sc.seed)
        super().__init__(rng=self.seed_value)
        self.wom_scenario = sc.model_copy(update={"seed": self.seed_value})
        children = np.random.SeedSequence(self.seed_value).spawn(len(STREAMS))
        self.streams = {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}

        self.graph = graph if graph is not None else build_graph(sc.network, self.streams["network"])
        if kol_ids is None:
            kol_ids = select_kols(self.graph, sc.kols.select, self.streams["kols"])
        self.kol_ids = np.asarray(kol_ids, dtype=np.int64)
        self.population = init_population(
            sc, self.kol_ids, self.graph.n, self.streams["population"], self.streams["heterogeneity"]
        )
        # Your customer data (network.people): laid over the draws; the `people` stream is drawn from only here.
        table = read_people(sc) if sc.network.people is not None else None
        if table is None:
            dyn.settle_history(self.population, sc, self.streams["history"])
        else:
            rows = crm.match_people(self.graph, table)
            crm.start_population(self.population, sc, table, rows, self.streams["history"], self.streams["people"])
        # Rivals (issue 15): None without competitors, and then the `competition` stream is never drawn from.
        self.market = comp.init_market(sc, self.population, self.streams["competition"])
        if table is not None:
            crm.start_market(self.market, self.population, sc, table, rows)
        self.last_market: comp.MarketTick | None = None
        self.brand = sc.brand.reputation
        self.reference_price = 1.0  # the price index customers are used to (docs/model.md step 9b)
        # "fast": the restructured tick of sim/fast.py wherever it covers the scenario (bit-identical state);
        # "reference": always dynamics.py's steps as written (for checking and for the benchmark's baseline).
        self.kernel = "fast"
        self._fast = fast.FastTick(self.graph.n)
        self.tick = 0
        self.rows: list[dict] = []
        self.retention = RetentionTable()  # retention by tenure, for the CLV of the metrics table's last row
        self.last_metrics: dict | None = None
        self.last_tick: dyn.TickState | None = None
        self.last_levers: Levers | None = None
        self.interventions = build_interventions(sc)
        # What the interventions see and the one way they change lasting state (docs/model.md, the contract).
        random = KeyedRandom(self.streams["interventions"].bit_generator.seed_seq)
        self.context = InterventionContext(self.population, self.graph, self.kol_ids, self.wom_scenario, random)
        if self.market is not None:
            self.context.market = ReadOnly(self.market)
        setup_all(self.interventions, self.context)
        apply_effects(self.population, self.context.take_requests())
        self._views: dict[int, Customer] = {}
        self.trace: list[pd.DataFrame] | None = None  # who told whom, per tick; see record_trace()
        # Built after the state exists: Mesa 3.5 calls reporters once at construction.
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_reported_metric, name=name) for name in REPORTED}
        )
        # False: `step` skips the DataCollector (the experiment runner reads `metrics_frame`, which has every column).
        self.collect_mesa = True

    @property
    def n(self) -> int:
        """Number of people."""
        return self.graph.n

    def step(self) -> None:
        """One tick, steps 1-10 of docs/model.md."""
        sc, pop, g, n, t, ctx = self.wom_scenario, self.population, self.streams, self.graph.n, self.tick, self.context
        lev = Levers.neutral(sc)
        ctx.begin_tick(self.brand, self.last_metrics, self.last_tick)
        apply_all(self.interventions, ctx, lev, t)
        apply_effects(pop, ctx.take_requests())  # step 1's lasting effects, in EFFECT_ORDER, before its shocks
        lev.clipped()
        st = dyn.TickState(t=t, n=n)
        mt = None
        if self.kernel == "fast" and fast.covers(sc, lev, pop):
            self.brand, self.reference_price, mt = self._fast.run(
                self.graph, pop, lev, sc, g, self.brand, self.reference_price, st, self.market
            )
        else:
            mt = self._reference_tick(lev, st)
        settle_all(self.interventions, ctx, lev, st)  # costs that depend on this tick (referral payouts, ...)
        apply_effects(pop, ctx.take_requests())  # e.g. omnichannel: satisfaction of cross-channel buyers
        row = tick_metrics(pop, st, sc, self.brand, lev, self.last_metrics)
        self.retention.record(pop, pop.status == CUSTOMER, st.churned)
        row.update(comp.market_metrics(pop, self.market, st, lev, row, mt, sc))
        self.last_market = mt
        self.rows.append(row)
        if self.trace is not None:
            self.trace.append(_trace_rows(st, pop))
        self.last_metrics, self.last_tick, self.last_levers = row, st, lev
        self.tick += 1
        if self.collect_mesa:
            self.datacollector.collect(self)
        if self.tick >= sc.ticks:
            self.running = False

    def _reference_tick(self, lev: Levers, st: dyn.TickState):
        """Steps 1-9b as `dynamics.py` states them (the readable reference; `fast.py` mirrors it, rivals included).

        Returns this tick's market state (None without rivals)."""
        sc, pop, g, n, t = self.wom_scenario, self.population, self.streams, self.graph.n, self.tick
        self.brand = dyn.apply_shocks(pop, self.brand, lev)
        market, mt = self.market, None
        if market is not None:  # the rivals' steps (docs/model.md, Competition); `cs` draws only here
            cs = g["competition"]
            mt = comp.new_tick(market, n, t, cs)
            comp.apply_rival_shocks(market, lev)
        # Need creation draws from its own stream, and only when it is on, so other streams never shift.
        u_need = g["need"].random(n) if sc.advertising.need_creation > 0 else None
        dyn.advertise(pop, lev, sc, g["advertising"].random(n), u_need)
        keys = tuple(int(k) for k in g["delivery"].integers(0, 2**63 - 1, size=2))
        quiet = market.rival > 0 if market is not None else None
        dyn.emit_wom(self.graph, pop, lev, sc, g["talk"].random(n), keys, st, quiet)
        dyn.receive_wom(pop, lev, sc, g["reception"].random(n), g["reception"].random(n), st)
        choice = None
        if market is not None:
            comp.advertise_rivals(market, lev, sc, cs.random(n))
            comp.talk_rivals(self.graph, pop, market, lev, sc, mt)
            u_purchase = g["purchase"].random(n)
            choice = comp.Choice(pop, market, lev, sc, mt, u_purchase, self.reference_price, self.brand)
        else:
            u_purchase = g["purchase"].random(n)
        dyn.purchase(pop, lev, sc, self.brand, u_purchase, st, self.reference_price, choice)
        if market is not None:
            comp.rival_repurchase(pop, market, lev, sc, mt, self.reference_price)
        ex = g["experience"]
        dyn.experience(pop, lev, sc, t, (ex.random(n), ex.random(n), ex.random(n)), st)
        if market is not None:
            comp.experience_rivals(pop, market, lev, sc, mt)
            comp.update_rival_loyalty(pop, market, lev, sc, mt)
        dyn.update_loyalty(pop, lev, sc, self.brand, st)
        dyn.churn(pop, lev, sc, g["churn"].random(n), st)
        if market is not None:
            comp.churn_rivals(pop, market, lev, sc, mt)
        self.brand = dyn.update_brand(self.brand, lev, sc, st)
        if market is not None:
            comp.update_rival_brands(market, lev, sc, mt, st)
        self.reference_price = dyn.update_reference_price(self.reference_price, lev, sc)
        dyn.clip_states(pop)
        return mt

    def run(self, ticks: int | None = None, progress: Any = None) -> WomModel:
        """Run `ticks` more ticks (default: to the scenario's horizon); `progress` is an optional callback(t)."""
        for _ in range(ticks if ticks is not None else self.wom_scenario.ticks - self.tick):
            self.step()
            if progress is not None:
                progress(self.tick)
        return self

    def metrics_frame(self) -> pd.DataFrame:
        """All ticks' metrics as a tidy DataFrame (one row per tick).

        `clv` is filled in the last row only, from the retention by tenure up to it (`economics.RetentionTable`):
        a maximum-likelihood fit per tick would cost more than the tick.
        """
        frame = _rows_frame(self.rows)
        if self.rows:
            last = self.rows[-1]
            margin = last["cum_revenue"] - last["cum_cost_of_goods"]
            frame.loc[frame.index[-1], "clv"] = customer_lifetime_value(
                self.retention, margin, self.wom_scenario.tick_unit
            )
        return frame

    def switching_frame(self, cumulative: bool = False) -> pd.DataFrame:
        """The switching matrix: people who chose brand `to` this tick, by the brand they came `from`.

        Only choices are counted (step 5: a first purchase, a switch, a return after a lapse), not a customer's
        repurchase of the brand they use: so the diagonal holds returns only (lapsed from `to`, back to it). One row
        per tick and (from, to) pair with a count above 0 (`cumulative`: one row per pair, over the run). `from` is
        the brand used at the time, else the one bought last, else "none" (a first purchase); the focal brand is
        "ours". Empty without competitors.
        """
        cols = ["t", "from", "to", "count"] if not cumulative else ["from", "to", "count"]
        if self.market is None:
            return pd.DataFrame({c: [] for c in cols})
        labels = ["none", "ours", *self.market.names]
        mats = [self.market.cumulative] if cumulative else self.market.history
        rows = [
            (t, labels[i], labels[j], int(m[i, j]))
            for t, m in enumerate(mats)
            for i, j in zip(*np.nonzero(m), strict=True)
        ]  # a loop over ticks and brand pairs (at most (K + 2)^2 per tick), never over people
        frame = pd.DataFrame(rows, columns=["t", "from", "to", "count"])
        return frame.drop(columns="t") if cumulative else frame

    def record_trace(self) -> None:
        """Keep every delivered message (tick, sender, receiver, valence) from now on, to trace cascades."""
        self.trace = [] if self.trace is None else self.trace

    def trace_frame(self) -> pd.DataFrame:
        """The recorded messages as one table (empty when tracing was never switched on)."""
        parts = self.trace or []
        return pd.concat(parts, ignore_index=True) if parts else _trace_rows(None, self.population)

    def people(self, rows: np.ndarray | None = None, copy: bool = True) -> pd.DataFrame:
        """The per-person table (states, traits, counters, degree), for everyone or for `rows`.

        It counts the times each intervention targeted each person (`targeted_<entry name>`); with competitors it
        also has `brand` (the brand each person uses now: none, ours or a rival's name). `copy=False`: for everyone,
        columns are views of the model's state, valid until the next `step` (for a table written out at once).
        """
        targeted = self.context.count_targets()  # times each intervention targeted each person
        table = people_table(self.population, self.graph, self.wom_scenario, rows, targeted, copy=copy)
        if self.market is not None:
            idx = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
            codes = self.market.brand_index(self.population)[idx] + 1
            table["brand"] = pd.Categorical.from_codes(codes, ["none", "ours", *self.market.names])
        return table

    def person(self, index: int) -> Customer:
        """A Mesa agent view of one person (cached, so repeated calls give the same object)."""
        if index not in self._views:
            self._views[index] = Customer(self, index)
        return self._views[index]


_FLAGS = frozenset({bool, np.bool_})


def _rows_frame(rows: list[dict]) -> pd.DataFrame:
    """The metrics rows as a frame: `METRIC_COLUMNS` first, then the other keys in the order they first appear; NaN
    where a row lacks a key, and 0.0 in the `cost_` columns (a cost not booked in a tick).

    The frame `pd.DataFrame(rows)` would give, reordered and filled, built one numpy column at a time: pandas'
    path for a list of dicts infers every cell's type, which costs more than a 5,000-person tick. A column of
    numbers becomes int64, float64 (ints and floats mixed, or a key missing somewhere) or bool as pandas infers;
    anything else stays a column of Python objects for pandas to infer.
    """
    names = dict.fromkeys(k for row in rows for k in row)
    order = [c for c in METRIC_COLUMNS if c in names] + [c for c in names if c not in METRIC_COLUMNS]
    nan = float("nan")
    columns = {}
    for name in order:
        values = [row.get(name, nan) for row in rows]
        arr = np.array(values)
        odd = arr.dtype.kind not in "biuf" or (arr.dtype.itemsize != 8 and arr.dtype.kind != "b")
        # bool and np.bool_ cannot be subclassed: a set of the cells' types finds them without a Python-level loop.
        if odd or (arr.dtype.kind == "f" and not _FLAGS.isdisjoint(map(type, values))):
            columns[name] = values  # strings, None, flags with gaps (numpy: 1.0/NaN, pandas: objects): pandas infers
            continue
        if name.startswith("cost_") and arr.dtype.kind == "f":
            arr[np.isnan(arr)] = 0.0
        columns[name] = arr
    return pd.DataFrame(columns, columns=order) if rows else pd.DataFrame()


def _trace_rows(st: dyn.TickState | None, pop) -> pd.DataFrame:
    """One row per delivered message of a tick; sender_kol says whether a KOL sent it."""
    if st is None:
        empty = np.zeros(0, dtype=np.int64)
        return pd.DataFrame({"t": empty, "sender": empty, "receiver": empty, "valence": empty.astype(str),
                             "sender_kol": empty.astype(bool)})  # fmt: skip
    src = np.concatenate([st.positive.src, st.negative.src])
    valence = np.repeat(np.array(["positive", "negative"]), [st.positive.src.size, st.negative.src.size])
    return pd.DataFrame({
        "t": np.full(src.size, st.t), "sender": src, "receiver": np.concatenate([st.positive.dst, st.negative.dst]),
        "valence": valence, "sender_kol": pop.is_kol[src],
    })  # fmt: skip


@dataclass
class SimResult:
    """What one run produced."""

    scenario: Scenario
    metrics: pd.DataFrame
    people: pd.DataFrame
    model: WomModel

    # Notebook display (wom_sim.display): the headline outcomes of the run, labelled from the catalogue.
    def to_frame(self) -> pd.DataFrame:
        """The run's headline outcomes (`RUN_SUMMARY`): outcome, label, value, and the value as text."""
        sc = self.scenario
        return display.outcome_frame(display.run_rows(self.metrics, RUN_SUMMARY), sc.tick_unit, currency=sc.currency)

    def _repr_html_(self) -> str:
        sc = self.scenario
        # the model's count: a graph file sets the population, whatever network.n says
        return display.html_table(self.to_frame(), f"{sc.name}: {self.model.n:,} people, {sc.ticks} {sc.tick_unit}s")

    def plot(self, metrics: list[str] | None = None):
        """Small multiples of per-tick metrics (default: the headline ones); returns the matplotlib Figure."""
        names = [m for m in (metrics or RUN_SUMMARY) if m in self.metrics]
        long = self.metrics[["t", *names]].melt(id_vars="t", var_name="metric", value_name="mean")
        return display.series_figure(long, names, self.scenario.tick_unit, title=self.scenario.name)


def simulate(
    scenario: Scenario | str | Path,
    graph: Graph | None = None,
    kol_ids: np.ndarray | None = None,
    progress: Any = None,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> SimResult:
    """Run one scenario to its horizon and return its metrics and per-person table.

    Parameters
    ----------
    scenario : Scenario, str, Path or None
        A Scenario, a scenario file, a bundled scenario's name ("baseline", when no such file exists), or None
        for the schema's defaults.
    graph, kol_ids : optional
        A prebuilt graph and KOL ids (to reuse another run's); default: built from the scenario and seed.
    progress : callable, optional
        Called with the tick number after every tick.
    seed : int, optional
        The run's seed (default: the scenario's); one seed fixes graph, population and every random stream.
    overrides : dict, optional
        Dotted overrides of the scenario, e.g. ``{"network.n": 2000, "wom.contact_prob": 0.2}``.

    Returns
    -------
    SimResult
        ``metrics`` (one row per tick), ``people`` (one row per person at the end), the resolved ``scenario``
        and the ``model``.

    Examples
    --------
    >>> import wom_sim
    >>> result = wom_sim.simulate(None, overrides={"network.n": 300, "ticks": 5}, seed=1)
    >>> len(result.metrics), len(result.people), result.scenario.seed
    (5, 300, 1)
    >>> bool((result.metrics["adoption_share"].diff().dropna() >= 0).all())  # ever adopted never falls
    True
    """
    model = WomModel(scenario, overrides=overrides, graph=graph, kol_ids=kol_ids, seed=seed)
    model.run(progress=progress)
    return SimResult(model.wom_scenario, model.metrics_frame(), model.people(), model)
