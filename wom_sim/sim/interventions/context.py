"""What an intervention may see and ask for: `InterventionContext` and the named effects the tick applies.

An intervention never holds the model. Its hooks get an `InterventionContext`: read-only views of the people, the
graph and the KOL ids, the resolved scenario, the brand reputation and last tick's metrics row and `TickState`,
a keyed random source and a `shared` slot for state two kinds must share. Anything that lasts beyond this tick's
`Levers` (a satisfaction hit, a trust cut, a compensation, a loyalty lift, memberships, promoted KOLs) is asked
for with `ctx.request(effect)`; the tick applies the requests of a phase at one fixed point, in `EFFECT_ORDER`
(docs/model.md, Interventions: the contract). A new kind of effect is one dataclass here plus its place in
`EFFECT_ORDER`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np

from wom_sim.network.graph import Graph
from wom_sim.scenario.schema import Scenario
from wom_sim.sim.population import Population


# --------------------------------------------------------------------------------------------- read-only views
def frozen(array: np.ndarray) -> np.ndarray:
    """A view of `array` that raises on any write (the data is shared, not copied)."""
    view = array.view()
    view.flags.writeable = False
    return view


class ReadOnly:
    """A read-only face of a dataclass (the Population, a TickState): arrays come back as frozen views.

    Numpy arrays are returned as views that raise `ValueError: assignment destination is read-only` on any write,
    nested dataclasses as `ReadOnly` again, dicts as mappings that cannot be changed, lists as tuples; setting an
    attribute raises `AttributeError`. A copy (`ctx.population.S.copy()`, any fancy-indexed selection) is the
    caller's own and may be changed freely. Views are made on access, so they always show the current values.
    """

    __slots__ = ("_target",)

    def __init__(self, target: Any):
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_target"), name)
        if isinstance(value, np.ndarray):
            return frozen(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return ReadOnly(value)
        if isinstance(value, dict):
            return MappingProxyType(value)
        if isinstance(value, list):
            return tuple(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{name}: interventions read the model's state; request an effect to change it")

    def __reduce__(self) -> tuple:
        return ReadOnly, (object.__getattribute__(self, "_target"),)

    def __repr__(self) -> str:
        return f"ReadOnly({type(object.__getattribute__(self, '_target')).__name__})"


def frozen_graph(graph: Graph) -> Graph:
    """The same graph with frozen arrays (a shallow copy: no edge is copied)."""
    values = {f.name: getattr(graph, f.name) for f in dataclasses.fields(graph)}
    return dataclasses.replace(graph, **{k: frozen(v) for k, v in values.items() if isinstance(v, np.ndarray)})


# --------------------------------------------------------------------------------------------- effects
@dataclass(frozen=True)
class Effect:
    """A change of the people's lasting state that an intervention asks the tick for.

    `who` is a bool mask of length N or an array of person ids. Values that depend on the state (a gap to close,
    who is new) are computed when the effect is applied, from the state at that point, so the outcome follows
    `EFFECT_ORDER` and not the order in which kinds happen to ask. The tick owns the arrays passed in.
    """

    name: ClassVar[str] = ""

    def apply(self, pop: Population) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class PromoteKols(Effect):
    """Make `who` (ids) KOLs: those not yet KOLs get `credibility` and their talkativeness times `talkativeness`."""

    name: ClassVar[str] = "promote_kols"
    who: np.ndarray
    credibility: float
    talkativeness: float

    def apply(self, pop: Population) -> None:
        new = self.who[~pop.is_kol[self.who]]
        pop.is_kol[new] = True
        pop.credibility[new] = self.credibility
        pop.talkativeness[new] *= self.talkativeness


@dataclass(frozen=True)
class LowerSatisfaction(Effect):
    """Satisfaction of `who` falls by `amount` (not below 0), e.g. the customers a crisis affects."""

    name: ClassVar[str] = "lower_satisfaction"
    who: np.ndarray
    amount: float

    def apply(self, pop: Population) -> None:
        pop.S[self.who] = np.maximum(0.0, pop.S[self.who] - self.amount)


@dataclass(frozen=True)
class CutTrust(Effect):
    """Trust of `who` falls by `share` of itself (an opaque crisis answer, a KOL backlash among its followers)."""

    name: ClassVar[str] = "cut_trust"
    who: np.ndarray
    share: float

    def apply(self, pop: Population) -> None:
        pop.T[self.who] *= 1.0 - self.share


@dataclass(frozen=True)
class Restore(Effect):
    """Satisfaction and trust of `who` regain `share` of what they lost against `S_before`/`T_before` (length N).

    Only losses are restored (the gap is measured when the effect is applied, so after this phase's cuts).
    """

    name: ClassVar[str] = "restore"
    who: np.ndarray
    S_before: np.ndarray
    T_before: np.ndarray
    share: float

    def apply(self, pop: Population) -> None:
        a = self.who
        pop.S[a] += self.share * np.maximum(self.S_before[a] - pop.S[a], 0.0)
        pop.T[a] += self.share * np.maximum(self.T_before[a] - pop.T[a], 0.0)


@dataclass(frozen=True)
class ScaleLoyalty(Effect):
    """Loyalty of `who` times `factor`, capped at 1 (a brand community's engagement)."""

    name: ClassVar[str] = "scale_loyalty"
    who: np.ndarray
    factor: float

    def apply(self, pop: Population) -> None:
        pop.L[self.who] = np.minimum(1.0, pop.L[self.who] * self.factor)


@dataclass(frozen=True)
class ScaleSatisfaction(Effect):
    """Satisfaction of `who` times `factor`, capped at 1 (a cross-channel customer's better experience)."""

    name: ClassVar[str] = "scale_satisfaction"
    who: np.ndarray
    factor: float

    def apply(self, pop: Population) -> None:
        pop.S[self.who] = np.minimum(1.0, pop.S[self.who] * self.factor)


FLAGS = ("member", "engaged")  # the programme flags of the population that effects may set


@dataclass(frozen=True)
class _FlagEffect(Effect):
    """An effect on one programme flag of the population ('member' or 'engaged')."""

    flag: Literal["member", "engaged"]
    who: np.ndarray

    def __post_init__(self) -> None:
        if self.flag not in FLAGS:
            raise ValueError(f"{self.name}: unknown flag {self.flag!r} (allowed: {', '.join(FLAGS)})")


@dataclass(frozen=True)
class Join(_FlagEffect):
    """`who` join a programme: the population flag `flag` is set for them."""

    name: ClassVar[str] = "join"

    def apply(self, pop: Population) -> None:
        getattr(pop, self.flag)[self.who] = True


@dataclass(frozen=True)
class Leave(_FlagEffect):
    """`who` leave a programme: the population flag `flag` is cleared for them."""

    name: ClassVar[str] = "leave"

    def apply(self, pop: Population) -> None:
        getattr(pop, self.flag)[self.who] = False


# The one order in which the tick applies the requests of a phase (setup, step 1, settle); requests of one name
# keep the order they were made in (events first, then interventions, each in file order). Why this order: a
# crisis hits satisfaction before anyone answers it; trust cuts come before a compensation, which restores a
# share of everything lost so far; loyalty and memberships touch other arrays, so their place changes nothing;
# people leave after joining, so someone who joins and stops being a customer in one tick ends up out; a
# satisfaction raise comes last, so it scales what the phase's cuts and restores left.
EFFECTS: dict[str, type[Effect]] = {
    cls.name: cls
    for cls in (PromoteKols, LowerSatisfaction, CutTrust, Restore, ScaleLoyalty, Join, Leave, ScaleSatisfaction)
}
EFFECT_ORDER = tuple(EFFECTS)  # ("promote_kols", "lower_satisfaction", "cut_trust", "restore", ...)
# Effects that do not count as targeting someone: leaving a programme (every non-customer leaves it each tick).
UNTARGETED = frozenset({"leave"})
_RANK = {name: i for i, name in enumerate(EFFECT_ORDER)}


def apply_effects(pop: Population, effects: list[Effect]) -> None:
    """Apply requested effects to the population in `EFFECT_ORDER` (stable: same-name requests in request order)."""
    for effect in sorted(effects, key=lambda e: _RANK[e.name]):
        effect.apply(pop)


# --------------------------------------------------------------------------------------------- randomness
class KeyedRandom:
    """Counter-based random numbers for interventions, derived from the run's `interventions` stream.

    The numbers for (key, tick t, slot) depend only on the run's seed, the key (a hash of the intervention's
    name), t and the slot, never on what else was drawn or on which ticks an intervention was on air. So a
    scenario and its baseline (or a variant with one intervention more) keep common random numbers.
    """

    def __init__(self, root: np.random.SeedSequence):
        self._entropy, self._spawn_key = root.entropy, tuple(root.spawn_key)

    def seed_sequence(self, key: int, t: int, slot: int = 0) -> np.random.SeedSequence:
        """The seed of (key, tick t, slot); t = -1 is the set-up."""
        return np.random.SeedSequence(self._entropy, spawn_key=(*self._spawn_key, key, t + 1, slot))

    def uniforms(self, key: int, t: int, size: int, slot: int = 0) -> np.ndarray:
        """`size` uniforms in [0, 1) for (key, tick t, slot)."""
        return np.random.default_rng(self.seed_sequence(key, t, slot)).random(size)


# --------------------------------------------------------------------------------------------- the context
class InterventionContext:
    """Everything an intervention's hooks may read, and the one way they change lasting state (`request`).

    Attributes
    ----------
    population : `ReadOnly` view of the people's arrays (writing one raises).
    graph : the social graph with frozen arrays.
    kol_ids : frozen int64 ids of the scenario's KOLs.
    scenario : the resolved scenario (read it, never change it); a kind's own section is `self.spec`/`self.params`.
    n : number of people.
    brand : reputation B at the start of the current tick (before its shocks); at set-up the initial B.
    previous : last tick's metrics row (a read-only mapping), None at tick 0.
    last_tick : last tick's `TickState` as a `ReadOnly`, None at tick 0.
    random : the keyed random source (`Intervention.uniforms` draws from it).
    shared : state two kinds must share, keyed by a name they agree on (e.g. "crisis": the `CrisisState`).
    market : `ReadOnly` view of the rivals' state (who uses which rival, their views), None without competitors.
    """

    def __init__(
        self, population: Population, graph: Graph, kol_ids: np.ndarray, scenario: Scenario, random: KeyedRandom
    ):
        self.population = ReadOnly(population)
        self.graph = frozen_graph(graph)
        self.kol_ids = frozen(np.asarray(kol_ids, dtype=np.int64))
        self.scenario = scenario
        self.n = population.n
        self.random = random
        self.brand = scenario.brand.reputation
        self.previous: MappingProxyType | None = None
        self.last_tick: ReadOnly | None = None
        self.shared: dict[str, Any] = {}
        self.market: ReadOnly | None = None  # the rivals' state (`competition.Market`), set when there are rivals
        self._requests: list[Effect] = []
        # Times targeted (people table): per intervention entry name, in how many ticks its effect requests named
        # each person. `owner` is the entry whose hook is running (set by setup_all/apply_all/settle_all); a
        # tick's requests of one owner count once per person, however many effects and phases name them.
        self.owner: str | None = None
        self.targeted: dict[str, np.ndarray] = {}
        self._named: dict[str, list[np.ndarray]] = {}

    def begin_tick(self, brand: float, previous: dict | None, last_tick: Any) -> None:
        """Called by the tick before step 1: what the hooks of this tick see."""
        self.count_targets()
        self.brand = brand
        self.previous = MappingProxyType(previous) if previous is not None else None
        self.last_tick = ReadOnly(last_tick) if last_tick is not None else None

    def request(self, effect: Effect) -> None:
        """Ask the tick for `effect`; it is applied at the end of the current phase, in `EFFECT_ORDER`."""
        if type(effect) is not EFFECTS.get(getattr(effect, "name", None)):
            raise TypeError(f"{effect!r} is not a registered effect (known: {', '.join(EFFECT_ORDER)})")
        self._requests.append(effect)
        if effect.name not in UNTARGETED and hasattr(effect, "who"):
            self.targeting(effect.who)

    def targeting(self, who: np.ndarray) -> None:
        """Count `who` (bool mask or ids) as targeted this tick by the running entry (people table).

        Effect requests call it; a kind that targets people only through this tick's levers (a churn-prevention
        offer) calls it itself, so its column counts the same way.
        """
        if self.owner is not None:
            who = np.asarray(who)
            self._named.setdefault(self.owner, []).append(np.flatnonzero(who) if who.dtype == bool else who)

    def count_targets(self) -> dict[str, np.ndarray]:
        """Fold the requests since the last call into `targeted` (each person once per owner) and return it.

        The cost is one `np.unique` of the ids named, no loop over people; called at the start of every tick.
        """
        for owner, ids in self._named.items():
            counts = self.targeted.setdefault(owner, np.zeros(self.n, dtype=np.int32))
            counts[np.unique(np.concatenate(ids))] += 1  # unique ids, so the fancy-indexed add counts each once
        self._named = {}
        return self.targeted

    def take_requests(self) -> list[Effect]:
        """The requests made since the last call, emptied (the tick applies them with `apply_effects`)."""
        out, self._requests = self._requests, []
        return out
