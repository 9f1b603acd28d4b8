"""The people: per-person state and trait arrays, drawn once from the scenario at tick 0.

One slot per node, numpy arrays only; nothing here steps time (that is `dynamics.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wom_sim.scenario.schema import Dist, Scenario

# Status codes (docs/model.md, State). The order matters: status >= CUSTOMER means 'ever adopted'.
UNAWARE, AWARE, CUSTOMER, CHURNED = 0, 1, 2, 3
STATUS_NAMES = ("unaware", "aware", "customer", "churned")

# Acquisition channel codes: last_touch and acquired_by. The order matters: code >= WOM means word of mouth.
NONE, ADVERTISING, WOM, KOL, REFERRAL = 0, 1, 2, 3, 4
CHANNELS = ("none", "advertising", "wom", "kol", "referral")
# How the people table names the way each person came to us: a channel of CHANNELS, "initial" for who was our
# customer (or a past customer) before tick 0, or "never" for who was never our customer. Both codes stay NONE (no
# channel of the run acquired them, and the new_<channel> and WOM-share metrics count them nowhere), so the two are
# names only, never codes in the arrays (a code after REFERRAL would read as word of mouth); without them "none"
# would lump them with the run's no-touch adopters.
ACQUIRED_BY_GROUPS = (*CHANNELS, "initial", "never")


def acquired_by_groups(pop: Population, idx: np.ndarray | slice) -> np.ndarray:
    """Each person's index into `ACQUIRED_BY_GROUPS`: their acquisition channel; "initial" for who was ever our
    customer without adopting during the run (adoption tick -1); "never" for who was never our customer (so
    "none" is only the run's adopters no channel reached, as `new_none` counts them)."""
    status = pop.status[idx]
    group = np.where((status >= CUSTOMER) & (pop.adopted_at[idx] < 0), ACQUIRED_BY_GROUPS.index("initial"),
                     pop.acquired_by[idx])  # fmt: skip
    return np.where(status < CUSTOMER, ACQUIRED_BY_GROUPS.index("never"), group)


def draw(dist: Dist, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw n values of a trait distribution (lognormal `mean` is the mean of the variable itself)."""
    match dist.dist:
        case "constant":
            return np.full(n, dist.value, dtype=np.float64)
        case "uniform":
            return rng.uniform(dist.low, dist.high, n)
        case "normal":
            return rng.normal(dist.mean, dist.sd, n)
        case "lognormal":
            mu = np.log(dist.mean) - dist.sigma**2 / 2
            return rng.lognormal(mu, dist.sigma, n)
        case "beta":
            return rng.beta(dist.a, dist.b, n)
    raise ValueError(f"unknown distribution {dist.dist}")  # pragma: no cover - schema forbids it


def draw_unit(dist: Dist, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw a state that lives in [0, 1]."""
    return np.clip(draw(dist, n, rng), 0.0, 1.0)


@dataclass
class Population:
    """Per-person arrays. States in [0, 1]; S is meaningful only where `experienced`."""

    n: int
    status: np.ndarray
    experienced: np.ndarray
    E: np.ndarray
    S: np.ndarray
    T: np.ndarray
    A: np.ndarray
    L: np.ndarray
    member: np.ndarray
    engaged: np.ndarray
    last_touch: np.ndarray
    acquired_by: np.ndarray
    failed_last: np.ndarray  # share of last tick lived with an unrecovered service failure (0-1; 1 = all of it)
    forward_pos: np.ndarray
    forward_neg: np.ndarray
    relay_pos: np.ndarray  # satisfaction voiced by the message a forwarder retells (mean of what they heard)
    relay_neg: np.ndarray
    # The net-negative impression a never-experienced person holds from the WOM they heard (>= 0, on the scale of
    # the impact's argument W+ - lambda W-; kept at `reception.negative_memory` a tick): it weighs on every later
    # adoption decision until good news outweighs it (dynamics.hold_doubt).
    doubt: np.ndarray
    # traits
    talkativeness: np.ndarray
    credibility: np.ndarray
    conformity: np.ndarray
    price_sensitivity: np.ndarray
    spend: np.ndarray
    segment: np.ndarray
    is_kol: np.ndarray
    fit: np.ndarray  # persistent product fit, added to the quality this person experiences
    need: np.ndarray  # bool: has a need for the category (market potential); only they can adopt
    # counters
    purchases: np.ndarray
    revenue: np.ndarray
    pos_sent: np.ndarray
    neg_sent: np.ndarray
    pos_received: np.ndarray
    neg_received: np.ndarray
    failures: np.ndarray
    recoveries: np.ndarray
    last_purchase: np.ndarray
    adopted_at: np.ndarray  # tick of first adoption; -1 for initial customers (ever adopted: status >= CUSTOMER)
    churned_at: np.ndarray  # tick of the last churn (-1: never)
    customer_ticks: np.ndarray  # ticks spent as CUSTOMER (tenure)
    segment_names: list[str] = field(default_factory=list)
    # Delayed service recoveries on their way: due tick -> list of (person ids, S and T before the failure, rest):
    # rest None for a recovery, else the rest of the pull of one that landed within last tick (recover_within).
    # A person can have several in flight (one per failed purchase), so this is a queue, not a per-person slot.
    pending_recoveries: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]] = field(
        default_factory=dict
    )


def init_population(
    scenario: Scenario,
    kol_ids: np.ndarray,
    n: int,
    rng: np.random.Generator,
    heterogeneity: np.random.Generator | None = None,
) -> Population:
    """Draw traits and initial states for n people (docs/model.md, Start).

    `heterogeneity` draws product fit and need (a stream of its own, so adding them left every earlier draw of
    `rng` as it was); without it they come from `rng` after everything else.
    """
    pop_spec = scenario.population
    init = pop_spec.initial
    shares = np.array([s.share for s in pop_spec.segments])
    segment = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int16)
    conformity = np.zeros(n)
    for code, seg in enumerate(pop_spec.segments):
        conformity[segment == code] = draw_unit(seg.conformity, int(np.sum(segment == code)), rng)

    talkativeness = np.maximum(draw(pop_spec.talkativeness, n, rng), 0.0)
    credibility = draw_unit(pop_spec.credibility, n, rng)
    price_sensitivity = draw_unit(pop_spec.price_sensitivity, n, rng)
    spend = np.maximum(draw(pop_spec.spend, n, rng), 0.0)
    is_kol = np.zeros(n, dtype=bool)
    is_kol[np.asarray(kol_ids, dtype=np.int64)] = True
    credibility[is_kol] = scenario.kols.credibility
    talkativeness[is_kol] *= scenario.kols.talkativeness

    # Initial statuses: a random permutation, so customers and aware prospects are spread over the graph.
    order = rng.permutation(n)
    n_customer = int(round(init.customer * n))
    n_aware = int(round(init.aware * n))
    status = np.full(n, UNAWARE, dtype=np.int8)
    status[order[:n_customer]] = CUSTOMER
    status[order[n_customer : n_customer + n_aware]] = AWARE
    experienced = status == CUSTOMER

    E = draw_unit(init.expectation, n, rng)
    T = draw_unit(init.trust, n, rng)
    A = draw_unit(init.attachment, n, rng)
    L = draw_unit(init.loyalty, n, rng)
    S = np.where(experienced, scenario.brand.quality, 0.0)
    extra = rng if heterogeneity is None else heterogeneity
    fit = draw(pop_spec.fit, n, extra)
    need = extra.random(n) < pop_spec.market_potential
    need[experienced] = True  # a customer has the need by definition

    zeros_i = lambda: np.zeros(n, dtype=np.int32)  # noqa: E731 - a local factory keeps the table below short
    return Population(
        n=n,
        status=status,
        experienced=experienced,
        E=E,
        S=S,
        T=T,
        A=A,
        L=L,
        member=np.zeros(n, dtype=bool),
        engaged=np.zeros(n, dtype=bool),
        last_touch=np.zeros(n, dtype=np.int8),
        acquired_by=np.zeros(n, dtype=np.int8),
        failed_last=np.zeros(n),
        forward_pos=np.zeros(n, dtype=bool),
        forward_neg=np.zeros(n, dtype=bool),
        relay_pos=np.zeros(n),
        relay_neg=np.zeros(n),
        doubt=np.zeros(n),
        talkativeness=talkativeness,
        credibility=credibility,
        conformity=conformity,
        price_sensitivity=price_sensitivity,
        spend=spend,
        segment=segment,
        is_kol=is_kol,
        fit=fit,
        need=need,
        purchases=zeros_i(),
        revenue=np.zeros(n),
        pos_sent=zeros_i(),
        neg_sent=zeros_i(),
        pos_received=zeros_i(),
        neg_received=zeros_i(),
        failures=zeros_i(),
        recoveries=zeros_i(),
        last_purchase=np.full(n, -1, dtype=np.int32),
        adopted_at=np.full(n, -1, dtype=np.int32),
        churned_at=np.full(n, -1, dtype=np.int32),
        customer_ticks=zeros_i(),
        segment_names=[s.name for s in pop_spec.segments],
    )
