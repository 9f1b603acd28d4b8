"""The scenario schema: every parameter of docs/model.md once, with its default, unit and source.

The intervention and event entries (common keys, one parameter model per kind) are `scenario.interventions`;
loading, inheritance and overrides are `scenario.loading`. This module only says what is allowed.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue

from wom_sim.catalogue import METRIC_COLUMNS, RIVAL_METRICS
from wom_sim.scenario.base import (  # noqa: F401 - Strict and the bounds are part of this module's API
    MAX_COEFFICIENT,
    MAX_MONEY,
    MAX_MULTIPLIER,
    MAX_SEED,
    MAX_TRAIT,
    KolSelect,
    Spec,
    Strict,
)
from wom_sim.scenario.durations import Delay, in_ticks
from wom_sim.scenario.interventions import SECTIONS, Entry, InterventionSpec


# --------------------------------------------------------------------------------------------- distributions
class Dist(Spec):
    """A distribution of a per-person trait: `{dist: beta, a: 2, b: 5}`, or a bare number for a constant."""

    dist: Literal["constant", "uniform", "normal", "lognormal", "beta"] = "constant"
    value: float | None = Field(None, ge=-MAX_TRAIT, le=MAX_TRAIT, description="constant: the value")
    low: float | None = Field(None, ge=-MAX_TRAIT, le=MAX_TRAIT, description="uniform: lower bound")
    high: float | None = Field(None, ge=-MAX_TRAIT, le=MAX_TRAIT, description="uniform: upper bound")
    mean: float | None = Field(
        None, ge=-MAX_TRAIT, le=MAX_TRAIT, description="normal/lognormal: mean of the variable itself"
    )
    sd: float | None = Field(None, ge=0, le=MAX_TRAIT, description="normal: standard deviation")
    sigma: float | None = Field(None, ge=0, le=10, description="lognormal: sigma of the underlying normal")
    a: float | None = Field(None, gt=0, le=MAX_TRAIT, description="beta: alpha")
    b: float | None = Field(None, gt=0, le=MAX_TRAIT, description="beta: beta")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # A bare number is a constant (`_number_is_constant`): the JSON Schema editors check files with says so too.
        return {"anyOf": [{"type": "number"}, handler(core_schema)]}

    @model_validator(mode="before")
    @classmethod
    def _number_is_constant(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError("expected a number or a mapping with `dist:`")
        if isinstance(data, int | float):
            return {"dist": "constant", "value": float(data)}
        return data

    @model_validator(mode="after")
    def _required_parameters(self) -> Dist:
        needed = {
            "constant": ("value",),
            "uniform": ("low", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("mean", "sigma"),
            "beta": ("a", "b"),
        }[self.dist]
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f"dist {self.dist} needs {', '.join(needed)} (missing {', '.join(missing)})")
        if self.dist == "uniform" and self.low > self.high:
            raise ValueError("uniform needs low <= high")
        if self.dist == "lognormal" and self.mean <= 0:
            raise ValueError("lognormal needs mean > 0")
        return self


def const(x: float) -> Dist:
    """A constant distribution (helper for defaults)."""
    return Dist(dist="constant", value=x)


# --------------------------------------------------------------------------------------------- sections
class NetworkSpec(Spec):
    """The social graph: a generator or a file."""

    generator: Literal[
        "barabasi_albert", "watts_strogatz", "erdos_renyi", "powerlaw_cluster", "stochastic_block", "complete"
    ] = Field("barabasi_albert", description="graph model, ignored when `file` is given")
    n: int = Field(2000, ge=2, le=50_000_000, description="number of people")
    m: int = Field(5, ge=1, le=50_000_000, description="barabasi_albert/powerlaw_cluster: edges per new node")
    k: int = Field(10, ge=2, le=50_000_000, description="watts_strogatz: each node joined to k nearest neighbours")
    p: float = Field(
        0.05, ge=0, le=1, description="watts_strogatz: rewiring prob; erdos_renyi: edge prob; powerlaw: triangle prob"
    )
    blocks: int = Field(4, ge=1, le=50_000_000, description="stochastic_block: number of equal communities")
    p_in: float = Field(0.01, ge=0, le=1, description="stochastic_block: edge prob within a community")
    p_out: float = Field(0.0005, ge=0, le=1, description="stochastic_block: edge prob between communities")
    directed: bool = Field(False, description="WOM travels along out-edges only (file graphs)")
    file: str | None = Field(None, description="edge list .csv, .graphml, .gexf or .parquet (relative to scenario)")
    source_column: str = Field("source", description="csv/parquet: column of the sender id")
    target_column: str = Field("target", description="csv/parquet: column of the receiver id")
    weight_column: str | None = Field(
        None, description="csv/parquet: tie strength column (>0); scales contact probability"
    )
    people: str | None = Field(
        None,
        description="your customer data: a person table .csv or .parquet (relative to the scenario) that sets "
        "the starting state of each person, matched to `file`'s ids (needs `file`). Columns: `id` (required, "
        "unique) and any of `segment` (a name of population.segments), `status` (prospect = aware, unaware, "
        "customer, churned), `brand` (ours or a name of `competitors:`, status customer only), `tenure` (ticks "
        "as a customer so far: starts the per-person tenure count and caps that person's history burn-in at "
        "that many purchases), `spend` (currency per purchase at price index 1, as population.spend), "
        "`satisfaction` (0-1) or `nps` (the 0-10 recommend answer: sets the satisfaction that gives the person "
        "that recommend score with their trust and loyalty, clipped to 0-1; for a rival's customer, their view of "
        "the rival = answer / 10), both for customers and churned people only, and the trait overrides "
        "`product_fit` (-1..1), `need` (true/false), `price_sensitivity`, `credibility`, `conformity`, "
        "`expectation`, `trust`, `attachment`, "
        "`loyalty` (0-1) and `talkativeness` (>= 0), used as given. An empty cell keeps the drawn value; people "
        "in the table but not in the edge list join as isolated people (one warning with their count); edge-list "
        "ids missing from the table keep drawn values (one warning with their count); the per-person output keeps "
        "the table's ids in `id`",
    )
    fast_threshold: int = Field(
        100_000,
        ge=0,
        le=2**62,
        description="n at or above which barabasi_albert, erdos_renyi, watts_strogatz and stochastic_block "
        "use vectorised numpy generators instead of networkx",
    )
    max_memory_gb: float = Field(
        16.0, gt=0, le=1e6, description="refuse to build when the estimated memory exceeds this"
    )

    @model_validator(mode="after")
    def _people_need_a_file(self) -> NetworkSpec:
        if self.people is not None and self.file is None:
            raise ValueError("people needs network.file: the table's ids are matched to the edge list's ids")
        return self


class Segment(Spec):
    """A population segment (culture, market) with its own conformity."""

    name: str
    share: float = Field(ge=0, le=1)
    conformity: Dist = Field(default_factory=lambda: Dist(dist="beta", a=2, b=3))


class InitialSpec(Spec):
    """Who knows and owns the brand at tick 0 (shares of the population)."""

    aware: float = Field(0.05, ge=0, le=1, description="share AWARE at start (excluding customers)")
    customer: float = Field(0.01, ge=0, le=1, description="share CUSTOMER at start")
    expectation: Dist = Field(default_factory=lambda: Dist(dist="beta", a=6, b=4), description="E at start")
    trust: Dist = Field(default_factory=lambda: Dist(dist="beta", a=5, b=5), description="T at start")
    attachment: Dist = Field(default_factory=lambda: const(0.1), description="A at start")
    loyalty: Dist = Field(default_factory=lambda: const(0.4), description="L at start (prospects; see `history`)")
    history: int = Field(
        12,
        ge=0,
        le=520,
        description="purchases each initial customer has already lived before tick 0 (burn-in: their E, S, T "
        "come from these experiences and L starts at its target), so week 1 looks like an established market; "
        "0 = start from S = Q and the `initial.*` draws (the model before issue 13)",
    )

    @model_validator(mode="after")
    def _shares(self) -> InitialSpec:
        if self.aware + self.customer > 1:
            raise ValueError("aware + customer must be <= 1")
        return self


class PopulationSpec(Spec):
    """Per-person traits, drawn once at the start."""

    segments: list[Segment] = Field(
        default_factory=lambda: [
            Segment(name="collectivist", share=0.5, conformity=Dist(dist="beta", a=4, b=3)),
            Segment(name="individualist", share=0.5, conformity=Dist(dist="beta", a=2, b=5)),
        ],
        description="segments with shares summing to 1; conformity is higher in collectivist segments "
        "(loyalty-WOM report)",
    )
    talkativeness: Dist = Field(
        default_factory=lambda: Dist(dist="lognormal", mean=1.0, sigma=0.5), description="WOM propensity, mean 1"
    )
    credibility: Dist = Field(
        default_factory=lambda: Dist(dist="beta", a=5, b=5), description="weight a listener gives this sender"
    )
    price_sensitivity: Dist = Field(default_factory=lambda: Dist(dist="beta", a=2, b=2), description="0-1")
    spend: Dist = Field(
        default_factory=lambda: Dist(dist="lognormal", mean=50.0, sigma=0.4),
        description="currency per purchase at price index 1",
    )
    fit: Dist = Field(
        default_factory=lambda: Dist(dist="normal", mean=0.0, sd=0.3),
        description="persistent individual product fit (taste, needs), added to the quality each person "
        "experiences, on the 0-1 quality scale; sd 0.3 gives a fifth to a third of customers detractors, as in "
        "NPS and ACSI surveys (Reichheld 2003; Fornell et al. 1996)",
    )
    market_potential: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of people with a need for the category (Bass's m / N): only they can adopt; the "
        "others hear and talk but never buy (Bass 1969; Libai, Muller & Peres 2013: expansion vs acceleration)",
    )
    initial: InitialSpec = Field(default_factory=InitialSpec)

    @field_validator("segments")
    @classmethod
    def _segment_shares(cls, v: list[Segment]) -> list[Segment]:
        if not v:
            raise ValueError("at least one segment is needed")
        # A segment is known by its name everywhere (targets, person tables, `--by segment`): two of one name
        # would be one category with two shares.
        _unique_names([s.name for s in v], "segment")
        total = sum(s.share for s in v)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"segment shares must sum to 1 (they sum to {total:g})")
        return v


class BrandSpec(Spec):
    """The focal brand: offer, price and public reputation."""

    quality: float = Field(
        0.8, ge=0, le=1, description="mean experienced quality Q (product + service); 0.8 = a decent product"
    )
    service_failure: float = Field(0.05, ge=0, le=1, description="probability f that a purchase has a failure")
    price: float = Field(1.0, gt=0, le=10, description="price index (1 = reference price)")
    margin: float = Field(0.3, ge=-1, le=1, description="gross margin at price 1; cost of goods = spend*(1-margin)")
    reputation: float = Field(0.6, ge=0, le=1, description="brand favourability B at start")
    reputation_rate: float = Field(
        0.05, ge=0, le=1, description="per tick pull of B toward its target (calibrated: recovery in 6-12 months, F8)"
    )
    reputation_quality_weight: float = Field(
        0.5, ge=0, le=1, description="weight of Q in B's target; the rest is the share of positive public WOM"
    )


MAX_COMPETITORS = 8  # who knows which rival is one byte per person (docs/performance.md)
BRAND_LABELS = ("none", "ours")  # the brands besides the rivals in the outputs (brand column, switching matrix)


class CompetitorSpec(Spec):
    """A rival brand: the same offer keys as `brand`, plus its advertising and its share of the market at tick 0.

    A rival follows the focal brand's rules (docs/model.md, Competition), with one view per person and rival
    standing for what that person expects of it before buying and how satisfied they are after, beside their
    trust, loyalty and attachment to it.
    """

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="short name (lower case, digits, _): its metric columns are rival_<name>_<metric>",
    )
    quality: float = Field(0.8, ge=0, le=1, description="mean experienced quality of the rival's offer")
    service_failure: float = Field(0.05, ge=0, le=1, description="probability a purchase from the rival fails")
    price: float = Field(1.0, gt=0, le=10, description="price index (1 = the category's reference price)")
    margin: float = Field(0.3, ge=-1, le=1, description="gross margin at price 1 (for the rival's profit)")
    reputation: float = Field(0.6, ge=0, le=1, description="brand favourability of the rival at start")
    advertising: float = Field(
        0.1, ge=0, le=1, description="per tick probability an ad reaches each person who never bought the rival "
        "(as advertising.reach reaches the never-experienced); the ad claims the rival's quality",
    )  # fmt: skip
    initial_customers: float = Field(0.01, ge=0, le=1, description="share of the population buying it at tick 0")
    initial_aware: float = Field(
        0.05,
        ge=0,
        le=1,
        description="chance that a person knows it at tick 0, drawn over everyone (its customers know it anyway)",
    )

    @field_validator("name")
    @classmethod
    def _not_a_brand_label(cls, v: str) -> str:
        # The per-person `brand` column, the switching matrix and a person table's `brand` call the focal brand
        # "ours" and no brand "none": a rival of either name could not be told apart from them.
        if v in BRAND_LABELS:
            raise ValueError(f"{v!r} is reserved (the outputs call our brand 'ours' and no brand 'none')")
        return v


class CompetitionSpec(Spec):
    """Brand choice when rivals are named: a multinomial logit over brands (Guadagni & Little 1983; McFadden 1974).

    Each alternative's utility uses the adoption coefficients of `purchase.adoption` (common attribute weights,
    as in Guadagni & Little's brand-choice logit); these keys are the terms only a market with rivals has.
    """

    category_buyer: float = Field(
        3.6,
        ge=-MAX_COEFFICIENT,
        le=MAX_COEFFICIENT,
        description="log-odds added to buying a brand for someone who already buys in the category (their need "
        "is proven; 3.6 puts a lapsed buyer's intercept at purchase.winback.intercept, -6)",
    )
    switching_cost: float = Field(
        1.5,
        ge=0,
        le=MAX_COEFFICIENT,
        description="log-odds a current customer of one brand needs to overcome to switch (inertia; Guadagni & "
        "Little 1983's last-purchase loyalty term)",
    )
    stay_loyalty: float = Field(
        4.0,
        ge=0,
        le=MAX_COEFFICIENT,
        description="log-odds per unit of loyalty to the brand used now (L for ours, their loyalty to the rival for "
        "a rival's customer) against every alternative",
    )


class AdvertisingSpec(Spec):
    """Always-on marketing (the Bass innovation term)."""

    reach: float = Field(
        0.1, ge=0, le=1, description="per tick prob an unaware/aware person sees an ad (Bass p; calibrated: F11, F17)"
    )
    claim: float = Field(0.8, ge=0, le=1, description="quality the ads claim; E of the reached moves toward it")
    expectation_pull: float = Field(0.2, ge=0, le=1, description="share of the gap E -> claim closed per ad contact")
    need_creation: float = Field(
        0.0,
        ge=0,
        le=1,
        description="prob an ad contact gives a person without a need for the category one (category-building "
        "advertising expands the market potential; 0 = ads only accelerate within it, Libai, Muller & Peres 2013)",
    )


class Coefficients(Spec):
    """Logistic coefficients of the adoption decision of an AWARE prospect."""

    intercept: float = Field(
        -9.6,
        ge=-MAX_COEFFICIENT,
        le=MAX_COEFFICIENT,
        description="log-odds at E=T=B=0 with no WOM (calibrated with `wom`: about half of first-year adoption "
        "is caused by WOM, F17)",
    )
    expectation: float = Field(3.0, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="per unit E")
    trust: float = Field(2.0, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="per unit T")
    brand: float = Field(1.0, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="per unit B")
    value: float = Field(1.0, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="per unit perceived value V")
    wom: float = Field(
        5.5,
        ge=-MAX_COEFFICIENT,
        le=MAX_COEFFICIENT,
        description="persuasion: per unit net WOM impact I received this tick (-1..1); WOM is far more persuasive "
        "than advertising (Trusov, Bucklin & Pauwels 2009: referral elasticity 0.53, ~20x that of marketing)",
    )
    referral: float = Field(
        1.0,
        ge=-MAX_COEFFICIENT,
        le=MAX_COEFFICIENT,
        description="added when a referral message was received this tick from a referral reward that pays the "
        "referred adopter (`receiver_reward` > 0): the pull of the receiver's reward (Ahrens, Coyle & Strahilevitz "
        "2013); a programme that pays the referred nothing adds only its own `adoption_boost`",
    )


class RepurchaseSpec(Spec):
    """Logistic repurchase of a CUSTOMER each tick; defaults give a mean rate near 0.42 (mobile-loyalty report)."""

    intercept: float = Field(
        -2.7, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="log-odds at L=0 (calibrated: F5)"
    )
    loyalty: float = Field(3.5, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="per unit L")
    member: float = Field(0.6, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="loyalty-programme member")
    engaged: float = Field(
        0.5,
        ge=-MAX_COEFFICIENT,
        le=MAX_COEFFICIENT,
        description="engaged community member (+30% repurchase, loyalty-WOM report)",
    )


class WinbackSpec(Spec):
    """Logistic return of a CHURNED person each tick."""

    intercept: float = Field(-6.0, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="log-odds at L=0")
    loyalty: float = Field(
        2.0, ge=-MAX_COEFFICIENT, le=MAX_COEFFICIENT, description="per unit L (the loyalty they kept)"
    )


class PurchaseSpec(Spec):
    adoption: Coefficients = Field(default_factory=Coefficients)
    repurchase: RepurchaseSpec = Field(default_factory=RepurchaseSpec)
    winback: WinbackSpec = Field(default_factory=WinbackSpec)
    value_price_weight: float = Field(
        0.5,
        ge=0,
        le=MAX_MULTIPLIER,
        description="V = Q + w * price_sensitivity * (1 - price): price cuts raise perceived value",
    )
    price_response: float = Field(
        5.0,
        ge=0,
        le=50,
        description="log-odds of every purchase decision per unit of price_sensitivity x log(price / reference "
        "price); 5 x mean sensitivity 0.5 gives a short-run price elasticity of about -2.5 for adoption "
        "(Bijmolt, van Heerde & Pieters 2005: mean -2.62; Tellis 1988: -1.76)",
    )
    price_loss_aversion: float = Field(
        1.5,
        ge=1,
        le=5,
        description="a price above the reference price weighs this much more than a cut below it "
        "(Kalyanaram & Winer 1995; Putler 1992)",
    )
    reference_price_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="per tick pull of the reference price (starting at index 1) toward the price paid: a cut "
        "becomes the new normal in about half a year (exponential smoothing of past prices, Kalyanaram & Winer "
        "1995; rate an assumption)",
    )
    price_rise_adaptation: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of a price above the category's index 1 that the reference price adapts to (the "
        "rest stays a loss for good): a rise over the usual price is judged against a fair-price norm that the "
        "firm's own price does not move (Kahneman, Knetsch & Thaler 1986; Bolton, Warlop & Alba 2003; "
        "Mazumdar, Raj & Sinha 2005); cuts below 1 are adapted to fully. 1 = follow the price paid; share an "
        "assumption, not fitted",
    )


class RecoverySpec(Spec):
    """Baseline service recovery (the service_recovery intervention raises coverage)."""

    coverage: float = Field(0.0, ge=0, le=1, description="share of failures the company recovers")
    delay: Delay = Field(
        1,
        description='time until a delayed recovery reaches the customer: ticks, or a duration such as "2 days" '
        "(at most 52 ticks); under a tick, the failure's talk and churn multiplier count for the part of the tick "
        "before it lands (docs/model.md step 6)",
    )
    effectiveness: float = Field(0.8, ge=0, le=1, description="share of the failure penalty the recovery gives back")
    paradox: float = Field(
        0.0,
        ge=0,
        le=0.5,
        description="extra satisfaction above the unfailed level after recovery; 0 = none (de Matos et al. 2007)",
    )


class ExperienceSpec(Spec):
    """Expectation-disconfirmation (Oliver 1980) and trust."""

    noise: float = Field(0.1, ge=0, le=1, description="sd of experienced quality around Q")
    failure_penalty: float = Field(0.4, ge=0, le=1, description="experienced quality lost on a service failure")
    disconfirmation_weight: float = Field(
        0.5, ge=0, le=2, description="S target = x + w * (x - E) + recall bias, for positive disconfirmation x > E"
    )
    negative_disconfirmation_weight: float = Field(
        1.0,
        ge=0,
        le=4,
        description="w for negative disconfirmation x < E: falling short of expectations weighs about twice as "
        "much as exceeding them (Anderson & Sullivan 1993; prospect theory)",
    )
    recall_bias: float = Field(0.05, ge=-0.2, le=0.2, description="mild positive memory bias of satisfaction")
    satisfaction_rate: float = Field(
        0.5, ge=0, le=1, description="share of the gap S -> target closed per repeat purchase (a first one sets S)"
    )
    expectation_rate: float = Field(0.3, ge=0, le=1, description="share of the gap E -> x closed per purchase")
    trust_gain: float = Field(0.11, ge=0, le=1, description="trust gained per consistent experience, toward 1")
    trust_failure_drop: float = Field(0.15, ge=0, le=1, description="share of trust lost on an unrecovered failure")
    recovery: RecoverySpec = Field(default_factory=RecoverySpec)


class ForwardSpec(Spec):
    positive: float = Field(0.05, ge=0, le=1, description="prob a receiver forwards a positive message next tick")
    negative: float = Field(0.12, ge=0, le=1, description="prob a receiver forwards a negative message next tick")
    chain: bool = Field(
        False,
        description="forwarded messages may be forwarded again; false = only first-hand accounts are retold "
        "(one hop), so a story cannot echo round the network forever (stiflers, Daley & Kendall 1965)",
    )


class WomSpec(Spec):
    """Who talks, to whom, and how far it travels."""

    contact_prob: float = Field(0.15, ge=0, le=1, description="per tick prob a message reaches each out-neighbour")
    positive_rate: float = Field(0.15, ge=0, le=1, description="w_pos: prob of positive WOM at S=1, talkativeness 1")
    negative_rate: float = Field(
        0.2, ge=0, le=1, description="w_neg: prob of negative WOM at S=0 (calibrated with failure_talk: F15)"
    )
    satisfaction_elasticity: float = Field(
        2.8,
        ge=0,
        le=5,
        description="exponent of S in a person's positive WOM; calibrated so that positive WOM per customer rises "
        "15% when mean satisfaction rises 10% (loyalty-WOM report, F2), forwarded WOM and the loyalty boost not "
        "depending on S (2.2 before issue 13's product fit and novelty fade)",
    )
    loyalty_boost: float = Field(
        0.5, ge=0, le=MAX_MULTIPLIER, description="rho: positive WOM multiplied by 1 + rho * L"
    )
    positive_threshold: float = Field(0.5, ge=0, le=1, description="theta_pos: no positive WOM below this S")
    negative_threshold: float = Field(0.35, ge=0, le=1, description="theta_neg: negative WOM below this S")
    negative_exponent: float = Field(1.0, gt=0, le=5, description="k in ((theta_neg - S)/theta_neg)^k")
    failure_talk: float = Field(
        0.5, ge=0, le=1, description="prob of negative WOM after an unrecovered failure (calibrated: F15 about 3:1)"
    )
    negative_reach: float = Field(1.5, ge=1, le=10, description="m_neg: contact prob multiplier for negative WOM")
    negativity_bias: float = Field(2.0, ge=0, le=10, description="weight of negative vs positive messages heard")
    novelty_decay: float = Field(
        0.1,
        ge=0,
        le=1,
        description="share of the fading part of own-talk propensity lost per tick since the last purchase: WOM "
        "is most likely soon after an experience (Berger & Schwartz 2011); 1 with talk_floor 0 = talk only in the "
        "tick after each purchase (independent-cascade behaviour)",
    )
    talk_floor: float = Field(
        0.3,
        ge=0,
        le=1,
        description="share of own-talk propensity that never fades (ongoing WOM about an accessible brand, "
        "Berger & Schwartz 2011; assumption); 1 = talk never fades (the model before issue 13)",
    )
    forward: ForwardSpec = Field(default_factory=ForwardSpec)
    use_weights: bool = Field(True, description="scale contact prob by edge weight where the graph has weights")


class ReceptionSpec(Spec):
    """How heard WOM moves the listener."""

    expectation_rate: float = Field(0.2, ge=0, le=1, description="prospects: E step per unit of net impact")
    trust_rate: float = Field(0.1, ge=0, le=1, description="prospects: T step per unit of net impact")
    satisfaction_weight: float = Field(
        0.035, ge=0, le=1, description="customers: S step per unit impact (loyalty-WOM report path 0.35, per tick x0.1)"
    )
    trust_weight: float = Field(
        0.042, ge=0, le=1, description="customers: T step per unit impact (loyalty-WOM report path 0.42, per tick x0.1)"
    )
    conformity_rate: float = Field(0.1, ge=0, le=1, description="pull of opinion toward the voiced mean x conformity")
    sponsored_weight: float = Field(
        0.1,
        ge=0,
        le=1,
        description="experienced people (customers, lapsed): weight of a paid post (a forced positive post, e.g. a "
        "KOL campaign's) relative to a friend's account, in what moves their satisfaction, trust and conformity; "
        "prospects weigh it fully. Experience dominates advertising for those who tried the product (Hoch & "
        "Deighton 1989; Kempf & Smith 1998), and step 2's ads do not reach them at all; 0.1 is small, not 0 "
        "(assumption: the literature gives the dominance, not a ratio); 1 = the rule before 2026-12-04",
    )
    negative_memory: float = Field(
        0.8,
        ge=0,
        le=1,
        description="prospects: share of a net-negative WOM impression (doubt) still held a tick later; it weighs "
        "on every later adoption decision until good news outweighs it (bad impressions resist disconfirmation, "
        "Baumeister, Bratslavsky, Finkenauer & Vohs 2001; hearers of negative WOM become rejecters, Goldenberg, "
        "Libai, Moldovan & Muller 2007); 0.8 a week is a half-life of about 3 weeks, the scale on which WOM's effect "
        "on decisions carries over (Trusov, Bucklin & Pauwels 2009: about three weeks); 0 = only this tick's "
        "messages persuade (the rule before 2026-12-04)",
    )


class LoyaltyWeights(Spec):
    value: float = Field(0.25, ge=0, le=1, description="weight of perceived value V")
    satisfaction: float = Field(0.3, ge=0, le=1, description="weight of satisfaction S")
    trust: float = Field(0.2, ge=0, le=1, description="weight of trust T")
    attachment: float = Field(0.15, ge=0, le=1, description="weight of attachment A")
    brand: float = Field(0.1, ge=0, le=1, description="weight of brand reputation B")

    @model_validator(mode="after")
    def _sum_to_one(self) -> LoyaltyWeights:
        total = self.value + self.satisfaction + self.trust + self.attachment + self.brand
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"loyalty weights must sum to 1 (they sum to {total:g})")
        return self


class AttachmentSpec(Spec):
    spread_gain: float = Field(0.05, ge=0, le=1, description="A gain after sending positive WOM (spreaders bond)")
    member_gain: float = Field(0.03, ge=0, le=1, description="A gain per tick as loyalty-programme member")
    engaged_gain: float = Field(0.04, ge=0, le=1, description="A gain per tick as engaged community member")
    decay: float = Field(0.01, ge=0, le=1, description="share of A lost per tick")


class LoyaltySpec(Spec):
    """L moves toward a weighted mix of value, satisfaction, trust, attachment and brand."""

    weights: LoyaltyWeights = Field(default_factory=LoyaltyWeights)
    rate: float = Field(0.1, ge=0, le=1, description="lambda_L: share of the gap L -> L* closed per tick")
    attachment: AttachmentSpec = Field(default_factory=AttachmentSpec)


class ChurnSpec(Spec):
    """Hazard h = h0 exp(-gamma (L - L_ref)) (1 + chi W-) (1 + failure_multiplier * failed)."""

    base_hazard: float = Field(0.01, ge=0, le=1, description="h0: per tick hazard at L = L_ref")
    loyalty_slope: float = Field(8.0, ge=0, le=50, description="gamma (calibrated: quartile hazard ratio >= 3, F4)")
    reference_loyalty: float = Field(0.5, ge=0, le=1, description="L_ref")
    negative_wom: float = Field(
        0.5, ge=0, le=MAX_MULTIPLIER, description="chi: per unit of credibility-weighted negative WOM heard"
    )
    failure_multiplier: float = Field(
        8.0,
        ge=0,
        le=MAX_MULTIPLIER,
        description="hazard multiplier after an unrecovered failure (75% of churn from service, mobile-loyalty report)",
    )


class KolSpec(Spec):
    """Key opinion leaders: amplifiers chosen from the graph."""

    select: KolSelect = Field(default_factory=KolSelect)
    credibility: float = Field(0.9, ge=0, le=1, description="credibility of KOL messages")
    reach: float = Field(0.4, ge=0, le=1, description="per tick prob a KOL message reaches each follower")
    talkativeness: float = Field(2.0, ge=0, le=MAX_MULTIPLIER, description="talkativeness multiplier of KOLs")


class NpsSpec(Spec):
    """Recommend score R = round(10 * (wS S + wT T + wL L)); promoters 9-10, detractors 0-6."""

    satisfaction: float = Field(
        0.6,
        ge=0,
        le=1,
        description="weight of S in the 0-10 recommend score; satisfaction is its main driver (Keiningham et al. "
        "2007: recommend intention adds little to satisfaction in predicting behaviour); was 0.5, which kept "
        "every new customer, whose trust and loyalty are still building, from being a promoter",
    )
    trust: float = Field(0.2, ge=0, le=1, description="weight of T in the recommend score")
    loyalty: float = Field(0.2, ge=0, le=1, description="weight of L in the recommend score")


class Scenario(Spec):
    """A what-if: a population on a graph, a brand, and the levers the company pulls.

    Every field has a default (docs/scenarios.md); files are read with `load_scenario`, which also validates the
    intervention parameters.

    Examples
    --------
    >>> import wom_sim
    >>> sc = wom_sim.Scenario(name="small", ticks=8, network={"n": 300})
    >>> sc.network.n, sc.seed, sc.tick_unit
    (300, 42, 'week')
    """

    name: str = Field("unnamed", description="short name shown in summaries")
    description: str = Field("", description="the question this scenario answers (first line) and notes")
    extends: str | None = Field(None, description="path of a scenario this one starts from (resolved on load)")
    seed: int = Field(42, ge=0, le=MAX_SEED, description="one seed fixes graph, population and every random stream")
    ticks: int = Field(104, ge=1, le=100_000, description="horizon in ticks")
    tick_unit: str = Field("week", description="what one tick means (rates are per tick)")
    currency: str | None = Field(
        None, description='how money is shown: a code ("EUR", after amounts) or a symbol ("$", before them)'
    )
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    brand: BrandSpec = Field(default_factory=BrandSpec)
    advertising: AdvertisingSpec = Field(default_factory=AdvertisingSpec)
    purchase: PurchaseSpec = Field(default_factory=PurchaseSpec)
    experience: ExperienceSpec = Field(default_factory=ExperienceSpec)
    wom: WomSpec = Field(default_factory=WomSpec)
    reception: ReceptionSpec = Field(default_factory=ReceptionSpec)
    loyalty: LoyaltySpec = Field(default_factory=LoyaltySpec)
    churn: ChurnSpec = Field(default_factory=ChurnSpec)
    kols: KolSpec = Field(default_factory=KolSpec)
    nps: NpsSpec = Field(default_factory=NpsSpec)
    competitors: list[CompetitorSpec] = Field(
        default_factory=list, description="rival brands (none = the focal brand alone, the model before issue 15)"
    )
    competition: CompetitionSpec = Field(default_factory=CompetitionSpec)
    interventions: list[Entry] = Field(default_factory=list, description="company levers (interventions.md)")
    events: list[Entry] = Field(default_factory=list, description="crises and shocks (interventions.md)")
    base_dir: str = Field(".", description="folder relative paths are resolved against (set on load)")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        # Shown next to every amount: a short code or symbol, never digits, signs or spaces that read as a number.
        if value is not None and not re.fullmatch(r"[^\s\d.,+-]{1,5}", value):
            raise ValueError(f'{value[:20]!r} is no currency: give a code of up to 5 letters ("EUR") or a symbol ("$")')
        return value

    @field_validator("competitors")
    @classmethod
    def _rival_names(cls, v: list[CompetitorSpec]) -> list[CompetitorSpec]:
        _unique_names([c.name for c in v], "competitor")
        if len(v) > MAX_COMPETITORS:
            raise ValueError(f"at most {MAX_COMPETITORS} competitors (got {len(v)})")
        if sum(c.initial_customers + c.initial_aware for c in v) > 1:
            raise ValueError("the competitors' initial_customers + initial_aware must sum to at most 1")
        return v

    @model_validator(mode="after")
    def _cost_triggers(self) -> Scenario:
        # A `cost_<name>` trigger must name an entry of this scenario: only the whole scenario knows the names.
        check_cost_metrics(self)
        check_competitor_names(self)
        check_targets(self)
        check_delays(self)
        return self


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (what `wom-sim schema` prints), for editors that complete and check YAML.

    It describes one file as written: every key optional, `extends:` allowed; inheritance and overrides are
    resolved on load. Checks across keys (shares summing to 1, a trigger's `cost_<name>`) are made on load only.
    """
    schema = Scenario.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "wom-sim scenario"}


# --------------------------------------------------------------------------------------------- entry names, costs
# Here, beside `Scenario`, because both read a whole scenario (the entry models in interventions.py never do).
def named_entries(scenario: Scenario) -> list[tuple[str, int, InterventionSpec, str]]:
    """(section, index, entry, unique name) in build order: events first, then interventions, each in file order.

    Names are the entry's `name`, else its kind; repeats get `_2`, `_3`... Costs appear as `cost_<name>`.
    """
    out, counts = [], {}
    for section in SECTIONS:
        for i, spec in enumerate(getattr(scenario, section)):
            base = spec.name or spec.kind
            counts[base] = counts.get(base, 0) + 1
            out.append((section, i, spec, base if counts[base] == 1 else f"{base}_{counts[base]}"))
    return out


def check_cost_metrics(scenario: Scenario) -> None:
    """Each entry's `cost_<name>` column is its own, and a `cost_<name>` trigger must name an entry of the scenario
    (raises ValueError naming the key)."""
    named = named_entries(scenario)
    first: dict[str, str] = {}
    for section, i, _, name in named:
        # A metric's name (cost_of_goods) or another entry's (advertising_2 given to a third advertising entry)
        # would share the column: one of the two amounts would be lost from the metrics and the costs.
        if f"cost_{name}" in METRIC_COLUMNS:
            raise ValueError(f"{section}[{i}].name: {name!r} gives the cost column cost_{name}, which is a metric; "
                             "choose another name")  # fmt: skip
        if name in first:
            raise ValueError(f"{section}[{i}].name: {name!r} is also the name of {first[name]} (its cost column "
                             f"cost_{name}); give the entries distinct names")  # fmt: skip
        first[name] = f"{section}[{i}]"
    names = set(first)
    for section, i, spec, _ in named:
        metric = spec.when.metric if spec.when is not None else ""
        if metric.startswith("cost_") and metric not in METRIC_COLUMNS and metric.removeprefix("cost_") not in names:
            allowed = ", ".join(sorted(f"cost_{n}" for n in names)) or "none"
            raise ValueError(f"{section}[{i}].when.metric: unknown cost metric {metric!r} (intervention costs here: "
                             f"{allowed})")  # fmt: skip


def check_competitor_names(scenario: Scenario) -> None:
    """A competitor move and a `rival_<name>_<metric>` trigger must name a rival of `competitors:` (ValueError)."""
    names = [c.name for c in scenario.competitors]
    allowed = ", ".join(names) or "none: the scenario names no competitors"
    columns = {f"rival_{n}_{m}" for n in names for m in RIVAL_METRICS}
    for section, i, spec, _ in named_entries(scenario):
        rival = getattr(spec, "competitor", None)
        if rival is not None and rival not in names:
            raise ValueError(f"{section}[{i}].competitor: unknown competitor {rival!r} (allowed: {allowed})")
        metric = spec.when.metric if spec.when is not None else ""
        if metric.startswith("rival_") and metric not in METRIC_COLUMNS and metric not in columns:
            raise ValueError(f"{section}[{i}].when.metric: unknown rival metric {metric!r} (rival_<name>_<metric>, "
                             f"names: {allowed}; metrics: {', '.join(RIVAL_METRICS)})")  # fmt: skip


def check_targets(scenario: Scenario) -> None:
    """A `target` must name segments of population.segments and ids below network.n (ValueError naming the key).

    An imported network's size is known only when it is read: its ids are checked when the model is built.
    """
    names = [seg.name for seg in scenario.population.segments]
    for section, i, spec, _ in named_entries(scenario):
        target = spec.target
        if target is None:
            continue
        unknown = [s for s in target.segments() if s not in names]
        if unknown:
            raise ValueError(f"{section}[{i}].target.segment: unknown segment {unknown[0]!r} (allowed: "
                             f"{', '.join(names)})")  # fmt: skip
        n = scenario.network.n if scenario.network.file is None else None
        if target.ids is None or n is None:
            continue
        text = [x for x in target.ids if isinstance(x, str) and not x.strip().isdigit()]
        if text:  # a generated network's people have no names of their own
            raise ValueError(f"{section}[{i}].target.ids: {text[0]!r} is not a person of a generated network (people "
                             f"are 0 .. {n - 1}; text ids need an imported network, network.file)")  # fmt: skip
        top = max(int(x) for x in target.ids)
        if top >= n:
            raise ValueError(f"{section}[{i}].target.ids: id {top} is out of range (people are 0 .. "
                             f"{n - 1}, network.n = {n})")  # fmt: skip


# The longest delay each key may name, in ticks (a year for a service recovery, two for a crisis answer).
MAX_DELAY_TICKS = {"service_recovery": 52, "crisis_response": 104}


def check_delays(scenario: Scenario) -> None:
    """Every delay, in ticks of this scenario's `tick_unit`, within its key's range (ValueError naming the key)."""
    keys = [("experience.recovery.delay", scenario.experience.recovery.delay, MAX_DELAY_TICKS["service_recovery"])]
    for section, i, spec, _ in named_entries(scenario):
        if spec.kind in MAX_DELAY_TICKS:
            keys.append((f"{section}[{i}].delay", spec.delay, MAX_DELAY_TICKS[spec.kind]))
    for key, value, top in keys:
        try:
            ticks = in_ticks(value, scenario.tick_unit)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
        if ticks > top:
            raise ValueError(f"{key}: {value!r} is {ticks:g} ticks of a {scenario.tick_unit}; at most {top} allowed")


def _unique_names(names: list[str], what: str) -> None:
    """Refuse a name given twice (a `what` is known by its name in targets, tables and breakdowns)."""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{what} names must be unique (repeated: {', '.join(twice)})")
