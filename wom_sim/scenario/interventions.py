"""Intervention and event entries of a scenario: the keys they share, one parameter model per kind, one union.

A scenario lists entries under `interventions:` (company levers) and `events:` (things that happen to the company).
Every entry has the common keys of `InterventionSpec` (kind, name, schedule, when, once, cooldown, duration,
target) and the parameters of its kind, each with its default, unit and source (`param`). `Entry` is the union of
the kinds, discriminated by `kind`: a scenario validates every entry in one pass, and its dump (`wom-sim check`, a
run's scenario.yaml) shows every parameter, defaults included. The classes that play the entries out are in
wom_sim/sim/interventions/; each refers to its model here as `Params`. docs/interventions.md says what each
parameter does to the tick.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from wom_sim.catalogue import METRIC_COLUMNS
from wom_sim.scenario.base import KolSelect, Spec
from wom_sim.scenario.durations import Delay

# Events play out before the company's levers within a tick, so a response can see a crisis that surfaces now.
SECTIONS = ("events", "interventions")


def param(default: Any, what: str, unit: str, source: str, **constraints: Any) -> Any:
    """A parameter field whose description states what it is, its unit and where its default comes from."""
    return Field(
        default,
        description=f"{what} (unit: {unit}; source: {source})",
        json_schema_extra={"what": what, "unit": unit, "source": source},
        **constraints,
    )


def kind_field() -> Any:
    """The `kind` key of an entry: required, since it selects the model of the entry."""
    return param(..., "which intervention or event the entry is (docs/interventions.md)", "-", "scenario input")


# --------------------------------------------------------------------------------------------- schedule, trigger
class Schedule(Spec):
    """When an intervention is on: `at`, `every` (from `from`), or `from`/`until` (inclusive)."""

    at: NonNegativeInt | list[NonNegativeInt] | None = Field(None, description="tick or list of ticks")
    every: int | None = Field(None, ge=1, le=100_000, description="every k ticks from `from`")
    from_: int | None = Field(None, alias="from", ge=0, le=100_000, description="first tick of the window (default 0)")
    until: int | None = Field(None, ge=0, le=100_000, description="last tick of the window (default: the end)")

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _can_be_on(self) -> Schedule:
        # Schedules that can never be on, or that say two things at once, are mistakes worth naming.
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise ValueError(f"until ({self.until}) is before from ({self.from_}), so it is never on")
        if self.at is not None and self.every is not None:
            raise ValueError("give either at or every, not both")
        return self


class Trigger(Spec):
    """A condition on a metric of the previous tick (data, never evaluated code)."""

    metric: str = Field(description="a column of the metrics table, or cost_<name> of an entry of the scenario")
    op: Literal[">", ">=", "<", "<=", "==", "!="] = Field(description="comparison of the metric with `value`")
    value: float = Field(ge=-1e12, le=1e12, description="the threshold")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        # cost and rival names are checked by the scenario, which knows its entries and competitors
        if metric in METRIC_COLUMNS or metric.startswith(("cost_", "rival_")):
            return metric
        hint = difflib.get_close_matches(metric, METRIC_COLUMNS, n=1)
        did = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown metric {metric!r}{did} (allowed: {', '.join(METRIC_COLUMNS)}, cost_<name>)")


# The lifecycle states a `target` may name (docs/interventions.md, Targeting; wom_sim/sim/interventions/targeting.py).
LIFECYCLE = ("prospect", "new", "loyal", "at_risk", "churned")
CUSTOMER_STATES = ("new", "loyal", "at_risk")  # the states of people who are customers now
Lifecycle = Literal["prospect", "new", "loyal", "at_risk", "churned"]


def one_or_many(item: dict) -> WithJsonSchema:
    """The JSON Schema of a key that takes one value or a list (`segment: urban` reads as `segment: [urban]`)."""
    return WithJsonSchema({"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]})


class Target(Spec):
    """Who an entry reaches: the conditions given combine with AND; evaluated again on every tick on air.

    Lifecycle states, from the people's state at the start of the tick (a partition of the population):
    `prospect` never a customer (unaware or aware); `churned` an ex-customer (now nobody's customer of ours);
    `at_risk` a customer whose churn hazard at the start of the tick (loyalty and last tick's negative WOM) is at
    least `at_risk_hazard` x churn.base_hazard; `new` a customer, not at risk, who first adopted fewer than
    `new_ticks` ticks ago (the initial customers are never new); `loyal` a customer, neither at risk nor new,
    whose loyalty L is at least `loyal_loyalty`. Customers who are none of these three are reached by no state.
    """

    segment: Annotated[list[str], one_or_many({"type": "string"})] | None = param(
        None, "segment name(s) of population.segments; none = every segment", "-", "scenario input", min_length=1
    )
    lifecycle: Annotated[list[Lifecycle], one_or_many({"enum": list(LIFECYCLE)})] | None = param(
        None,
        "lifecycle state(s): prospect, new, loyal, at_risk, churned; none = any",
        "-",
        "scenario input",
        min_length=1,
    )
    kols: bool | None = param(None, "true = only KOLs, false = only non-KOLs; none = either", "bool", "scenario input")
    ids: list[NonNegativeInt | str] | None = param(
        None,
        "person ids: an imported network's own ids (the edge list's and person table's, as kols.select.ids), else "
        "0 .. n-1; none = anyone",
        "ids",
        "scenario input",
        min_length=1,
        max_length=10_000_000,
    )
    new_ticks: int = param(
        13,
        "lifecycle new: a customer is new for this many ticks after first adopting",
        "ticks",
        "assumption: a quarter (13 weekly ticks), a common onboarding window",
        ge=1,
        le=100_000,
    )
    loyal_loyalty: float = param(
        0.6,
        "lifecycle loyal: loyalty L at or above this",
        "0-1 loyalty",
        "assumption: 0.1 above churn.reference_loyalty, where the churn hazard is 0.45x the base (slope 8)",
        ge=0,
        le=1,
    )
    at_risk_hazard: float = param(
        3.0,
        "lifecycle at_risk: churn hazard at or above this times churn.base_hazard",
        "x",
        "as the at_risk metric (docs/model.md step 8)",
        gt=0,
        le=1000,
    )

    @field_validator("segment", "lifecycle", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        # `segment: urban` reads as `segment: [urban]`; a list is kept as given
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _says_who(self) -> Target:
        if self.segment is None and self.lifecycle is None and self.kols is None and self.ids is None:
            raise ValueError("give at least one of segment, lifecycle, kols, ids")
        return self

    def segments(self) -> list[str]:
        """The segment names asked for (empty: any)."""
        return self.segment or []

    def states(self) -> list[str]:
        """The lifecycle states asked for (empty: any)."""
        return self.lifecycle or []


# --------------------------------------------------------------------------------------------- common keys
class InterventionSpec(Spec):
    """The keys every intervention and event has; the model of each kind adds its own parameters.

    `targetable`: what `target:` restricts for this kind (docs/interventions.md, Targeting); empty = the kind's
    effect is global (a price, the quality, the brand) and the scenario refuses a `target`.
    """

    targetable: ClassVar[str] = ""
    # The lifecycle states the kind acts on (ads reach only people who never bought; offers, programmes and crises
    # only customers): a target naming another state reaches nobody, so the scenario refuses it.
    reaches: ClassVar[tuple[str, ...]] = LIFECYCLE
    reaches_why: ClassVar[str] = ""
    kind: str = kind_field()
    name: str | None = param(
        None, "name of the entry; its cost column is cost_<name>; none = the kind (repeats get _2, _3)", "-",
        "scenario input",
    )  # fmt: skip
    schedule: Schedule | None = param(
        None, "when it is on: at, every, from-until (inclusive); none = every tick", "ticks", "scenario input"
    )
    when: Trigger | None = param(
        None, "trigger on a metric of the previous tick; none = the schedule alone decides", "-", "scenario input"
    )
    once: bool = param(False, "with `when`: fire at most once", "bool", "scenario input")
    cooldown: int = param(
        0,
        "with `when`: ticks to wait after firing before it may fire again",
        "ticks",
        "scenario input",
        ge=0,
        le=100_000,
    )
    duration: int = param(
        1, "with `when`: ticks it stays on after it fires", "ticks", "scenario input", ge=1, le=100_000
    )
    target: Target | None = param(
        None,
        "who it reaches: {segment, lifecycle, kols, ids}, combined with AND; none = everyone it would reach",
        "-",
        "scenario input",
    )

    @field_validator("once", "cooldown", "duration")
    @classmethod
    def _needs_trigger(cls, value: Any, info: ValidationInfo) -> Any:
        # By value, not by presence: a scenario dumped and reloaded carries every default explicitly. A `when`
        # that failed its own validation is absent from info.data; that error is the one worth reporting.
        if "when" in info.data and info.data["when"] is None and value != cls.model_fields[info.field_name].default:
            raise ValueError("once, cooldown and duration only apply with a `when` trigger")
        return value

    @model_validator(mode="after")
    def _can_target(self) -> InterventionSpec:
        if self.target is not None and not type(self).targetable:
            allowed = ", ".join(kind_of(m) for m in KINDS.values() if m.targetable)
            raise ValueError(f"target: kind {self.kind!r} acts on everyone (kinds that accept target: {allowed})")
        unreached = [s for s in (self.target.states() if self.target is not None else []) if s not in self.reaches]
        if unreached:
            raise ValueError(
                f"target.lifecycle: kind {self.kind!r} {self.reaches_why}, so {', '.join(unreached)} would reach "
                f"nobody (allowed: {', '.join(self.reaches)})"
            )
        return self


COMMON_KEYS = frozenset(InterventionSpec.model_fields)


# --------------------------------------------------------------------------------------------- acquisition levers
class AdvertisingParams(InterventionSpec):
    """`advertising`: an advertising campaign on top of always-on marketing."""

    reaches = ("prospect",)
    reaches_why = "reaches people who never bought (as always-on ads do)"

    targetable = (
        "who the extra reach and the claim reach (always-on advertising still reaches everyone; brand_lift is not "
        "targeted)"
    )
    kind: Literal["advertising"] = kind_field()
    reach_multiplier: float = param(
        2.0,
        "multiplies advertising.reach while on air",
        "x",
        "Bass innovation p scales with spend (assumption)",
        ge=0,
        le=100,
    )
    claim: float | None = param(
        None, "quality the ads claim; none = advertising.claim", "0-1 quality", "scenario input", ge=0, le=1
    )
    brand_lift: float = param(0.0, "reputation B added per tick on air", "B per tick", "assumption", ge=0, le=0.1)
    budget_per_tick: float = param(0.0, "media spend per tick on air", "currency/tick", "scenario input", ge=0)


class KolCampaignParams(InterventionSpec):
    """`kol_campaign`: paid KOL posts."""

    targetable = (
        "which of the campaign's KOLs post (judged each tick on air); with `select` by a ranking or at random (not "
        "greedy), the `k` hired are the best `k` of the people the target names at the start"
    )
    kind: Literal["kol_campaign"] = kind_field()
    select: KolSelect | None = param(
        None,
        "who to hire ({by, k, ids} as in kols.select); none = the "
        "scenario's KOLs; others are promoted to KOLs at the start",
        "people",
        "scenario input",
    )
    time_budget: float = param(10.0, "seconds allowed for greedy selection", "s", "assumption", gt=0)
    posts_per_tick: float = param(
        1.0,
        "expected posts per KOL per tick on air (at most one broadcast per "
        "person per tick; use schedule.every for rarer posts)",
        "posts/tick",
        "scenario input",
        gt=0,
        le=1,
    )
    fee_per_post: float = param(300.0, "fee paid per KOL post", "currency/post", "assumption", ge=0)
    screening: float = param(
        0.8,
        "how well the KOLs were vetted (1 = fully)",
        "0-1",
        "crisis report: unscreened KOLs cause secondary crises",
        ge=0,
        le=1,
    )
    backlash_risk: float = param(
        0.05,
        "backlash probability of one post by an unscreened KOL; per post risk "
        "= backlash_risk * (1 - screening); 1 = the literal per-post reading",
        "prob/post",
        "assumption",
        ge=0,
        le=1,
    )
    disclosure: bool = param(True, "posts are disclosed as sponsored", "bool", "FTC/ASA rules")
    disclosure_credibility: float = param(
        0.8,
        "credibility multiplier of disclosed sponsored posts",
        "x",
        "Boerman et al. 2017: disclosure lowers persuasion",
        ge=0,
        le=1,
    )
    undisclosed_risk: float = param(
        2.0,
        "backlash risk multiplier when posts are not disclosed",
        "x",
        "assumption: hidden sponsorship gets exposed",
        ge=1,
        le=10,
    )
    backlash_ticks: int = param(3, "ticks the negative burst lasts", "ticks", "assumption", ge=1, le=52)
    backlash_share: float = param(
        0.3, "share of the KOL's followers who join the negative burst", "share", "assumption", ge=0, le=1
    )
    backlash_trust_drop: float = param(
        0.1, "share of trust the KOL's followers lose", "share", "assumption", ge=0, le=1
    )
    backlash_brand_shock: float = param(
        0.01, "share of brand reputation B lost per backlash", "share", "assumption", ge=0, le=1
    )

    @model_validator(mode="after")
    def _greedy_is_not_targeted(self) -> KolCampaignParams:
        # Greedy influence maximisation picks seeds over the whole graph; restricting its candidates is not built.
        if self.target is not None and self.select is not None and self.select.by == "greedy":
            raise ValueError("target: select.by 'greedy' cannot be targeted (use degree, pagerank, betweenness, "
                             "kcore, random or ids with a target)")  # fmt: skip
        return self


class ReferralRewardParams(InterventionSpec):
    """`referral_reward`: a reward per successful referral."""

    reaches = CUSTOMER_STATES
    reaches_why = "rewards the referrals of customers"

    targetable = "the customers whose referrals are rewarded (they talk more, their messages carry the tag)"
    kind: Literal["referral_reward"] = kind_field()
    sender_reward: float = param(
        10.0, "paid to the referrer per referred adopter", "currency/referral", "scenario input", ge=0
    )
    receiver_reward: float = param(10.0, "paid to the referred adopter", "currency/referral", "scenario input", ge=0)
    talk_uplift: float = param(
        0.25,
        "relative rise of positive WOM probability while on air, for a sender's reward of `reward_half`; it "
        "rises with the sender's reward as 2 (1 - 2^(-v / reward_half)), v = reward / spend per purchase "
        "(0 without a reward, twice this at most)",
        "share",
        "Ryu & Feick 2007: rewards raise referral likelihood, more so larger ones",
        ge=0,
        le=5,
    )
    credibility: float = param(
        0.85,
        "credibility multiplier of referral-tagged messages for a sender's reward of `reward_half` (the discount "
        "1 - credibility grows with the sender's reward as the talk uplift does; 1 without a reward)",
        "x",
        "Verlegh et al. 2013: rewarded WOM is seen as less sincere",
        ge=0,
        le=1,
    )
    adoption_boost: float = param(
        0.5,
        "log-odds added to the adoption of a prospect referred this tick, on top of purchase.adoption.referral, "
        "for a receiver's reward of `reward_half`; both rise with the receiver's reward as the talk uplift does "
        "(0 if only senders are paid)",
        "log-odds",
        "assumption",
        ge=0,
        le=5,
    )
    reward_half: float = param(
        0.2,
        "reward at which its effects reach half their maximum, as a share of the mean spend per purchase: the "
        "effects above are those at this reward, zero without one, and saturate at twice these (a saturating "
        "exponential: max (1 - exp(-v / scale)), scale = reward_half / ln 2)",
        "share of spend per purchase",
        "assumption: the give-10-get-10 of referral_program at the baseline's mean spend of 50; reward size raises "
        "referral likelihood with diminishing returns (Ryu & Feick 2007; Wirtz, Orsingh, Chew & Tambyah 2013)",
        gt=0,
        le=100,
    )


class PriceChangeParams(InterventionSpec):
    """`price_change`: a new price index while on air."""

    kind: Literal["price_change"] = kind_field()
    price: float = param(0.9, "price index while on air (1 = reference)", "index", "scenario input", gt=0, le=10)
    brand_erosion: float = param(
        0.01,
        "share of brand B lost per tick on air per unit of price cut below "
        "brand.price (a 20% cut: 0.2 * this per tick)",
        "share/tick/unit",
        "loyalty-WOM report: price wars gain now, lose brand later (assumption)",
        ge=0,
        le=1,
    )


class PersonalisedMarketingParams(InterventionSpec):
    """`personalised_marketing`: personalised offers to a share of customers each tick."""

    reaches = CUSTOMER_STATES
    reaches_why = "makes its offers to customers"

    targetable = "the customers who may get an offer (`share` of them each tick)"
    kind: Literal["personalised_marketing"] = kind_field()
    share: float = param(0.3, "share of customers targeted each tick on air", "share", "scenario input", ge=0, le=1)
    uplift: float = param(
        0.15,
        "relative rise of a targeted customer's repurchase probability at the reference rate",
        "share",
        "mobile-loyalty report: personalisation -> repurchase +15%",
        ge=0,
        le=2,
    )
    reference_rate: float = param(
        0.42,
        "repurchase rate at which `uplift` holds exactly (converted once to log-odds)",
        "prob/tick",
        "mobile-loyalty report: repurchase rate 42%",
        gt=0,
        lt=1,
    )
    cost_per_target: float = param(
        0.5, "cost per targeted customer per tick", "currency/customer/tick", "assumption", ge=0
    )


class FakeReviewsParams(InterventionSpec):
    """`fake_reviews`: bought reviews."""

    kind: Literal["fake_reviews"] = kind_field()
    expectation_lift: float = param(
        0.005,
        "added to the expectation E of the never-experienced per tick on air",
        "E/tick",
        "assumption (short lift, loyalty-WOM and customer-WOM reports)",
        ge=0,
        le=0.2,
    )
    cost_per_tick: float = param(300.0, "spend on reviews per tick on air", "currency/tick", "assumption", ge=0)
    exposure_prob: float = param(
        0.03, "probability per tick on air that the fakes are exposed", "prob/tick", "assumption", ge=0, le=1
    )
    exposed_at: int | None = param(
        None, "tick of exposure (overrides the random exposure)", "tick", "scenario input", ge=0
    )
    trust_drop: float = param(
        0.2,
        "share of trust lost by everyone aware on exposure",
        "share",
        "customer-WOM report: fake reviews lower trust when exposed",
        ge=0,
        le=1,
    )
    brand_shock: float = param(
        0.08, "share of brand B lost on exposure", "share", "crisis report: damage 8-15% (low end)", ge=0, le=1
    )
    outrage_share: float = param(
        0.05, "share of experienced people who post negatively after exposure", "share", "assumption", ge=0, le=1
    )
    outrage_ticks: int = param(3, "ticks the negative posts last", "ticks", "assumption", ge=1, le=52)


# --------------------------------------------------------------------------------------------- retention levers
class LoyaltyProgramParams(InterventionSpec):
    """`loyalty_program`: a loyalty programme."""

    reaches = CUSTOMER_STATES
    reaches_why = "enrols customers"

    targetable = "who may join (members already in stay while they are customers)"
    kind: Literal["loyalty_program"] = kind_field()
    uptake: float = param(
        0.6,
        "share of eligible customers who ever join, at a reward of `reward_half`",
        "share",
        "assumption",
        ge=0,
        le=1,
    )
    enrol_rate: float = param(
        0.1, "probability per tick that an eligible, willing customer joins", "prob/tick", "assumption", ge=0, le=1
    )
    min_purchases: int = param(1, "purchases needed to be eligible", "purchases", "scenario input", ge=0)
    cost_per_member: float = param(0.5, "running cost per member per tick", "currency/member/tick", "assumption", ge=0)
    reward_share: float = param(
        0.03,
        "share of members' revenue paid back as rewards; the reward's value drives enrolment and use: `uptake` "
        "and the members' repurchase lift (purchase.repurchase.member) are those at a reward of `reward_half` and "
        "scale by 2 (1 - 2^(-reward_share / reward_half)): nobody joins a programme that gives nothing",
        "share of revenue",
        "assumption (typical 1-5% points value)",
        ge=0,
        le=1,
    )
    reward_half: float = param(
        0.03,
        "reward share at which enrolment and the repurchase lift reach half their maximum (uptake at most 1)",
        "share of revenue",
        "assumption: the bundled programme's 3%, so it keeps its effects; reward value drives enrolment and use "
        "with diminishing returns (Kivetz & Simonson 2002; Dorotic, Bijmolt & Verhoef 2012)",
        gt=0,
        le=1,
    )


class CommunityParams(InterventionSpec):
    """`community`: a brand community."""

    reaches = CUSTOMER_STATES
    reaches_why = "engages customers"

    targetable = "who may join (engaged customers already in stay while they are customers)"
    kind: Literal["community"] = kind_field()
    uptake: float = param(0.3, "share of customers who ever engage", "share", "assumption", ge=0, le=1)
    join_rate: float = param(
        0.05, "probability per tick that a willing customer joins", "prob/tick", "assumption", ge=0, le=1
    )
    interactions_per_tick: float = param(
        1.0, "social interactions per engaged customer per tick", "interactions/tick", "assumption", ge=0, le=10
    )
    loyalty_per_interaction: float = param(
        0.03,
        "relative loyalty gain per interaction (steady state)",
        "share",
        "loyalty-WOM report: +1 social interaction -> loyalty +3%",
        ge=0,
        le=0.2,
    )
    cost_per_tick: float = param(1000.0, "running cost of the community per tick", "currency/tick", "assumption", ge=0)
    cost_per_member: float = param(
        0.0, "cost per engaged customer per tick", "currency/member/tick", "assumption", ge=0
    )


class ChurnPreventionParams(InterventionSpec):
    """`churn_prevention`: churn early warning."""

    reaches = CUSTOMER_STATES
    reaches_why = "flags customers"

    targetable = "who may be flagged and get an offer (the at-risk ranking stays over all customers)"
    kind: Literal["churn_prevention"] = kind_field()
    precision: float = param(
        0.85,
        "share of flagged customers who are really at risk",
        "share",
        "loyalty-WOM and mobile-loyalty reports: early warning accuracy >85%",
        gt=0,
        le=1,
    )
    recall: float = param(0.7, "share of at-risk customers the warning can detect", "share", "assumption", ge=0, le=1)
    at_risk_share: float = param(
        0.25,
        "share of customers (highest hazard) counted as at risk",
        "share",
        "assumption (top quartile)",
        gt=0,
        le=1,
    )
    offer_effect: float = param(
        0.4,
        "share of churn hazard removed while an offer runs",
        "share",
        "calibrated so the defaults give churn about -15% (loyalty-WOM and mobile-loyalty reports)",
        ge=0,
        le=1,
    )
    offer_ticks: int = param(4, "ticks an offer lasts (no new offer meanwhile)", "ticks", "assumption", ge=1, le=104)
    cost_per_offer: float = param(5.0, "cost of one retention offer", "currency/offer", "assumption", ge=0)


# --------------------------------------------------------------------------------------------- service levers
class ServiceImprovementParams(InterventionSpec):
    """`service_improvement`: smart service."""

    targetable = (
        "whose service improves: the quality they experience and weigh, their failure probability and their "
        "positive WOM (the brand's reputation moves toward the average quality over everyone; the cost is the same)"
    )
    kind: Literal["service_improvement"] = kind_field()
    quality_gain: float = param(0.05, "added to brand quality Q while on air", "Q", "assumption", ge=-1, le=1)
    failure_reduction: float = param(
        0.4,
        "relative cut of the service failure probability f",
        "share",
        "mobile-loyalty report: poor service causes 75% of churn (assumption)",
        ge=0,
        le=1,
    )
    talk_uplift: float = param(
        0.3,
        "relative rise of positive WOM probability",
        "share",
        "mobile-loyalty report: smart service -> positive WOM speed +30%",
        ge=0,
        le=5,
    )
    one_off_cost: float = param(20000.0, "investment booked on the first tick on air", "currency", "assumption", ge=0)
    cost_per_tick: float = param(500.0, "running cost per tick on air", "currency/tick", "assumption", ge=0)


class ServiceRecoveryParams(InterventionSpec):
    """`service_recovery`: service recovery."""

    targetable = (
        "whose failures the programme recovers (its coverage, delay, effectiveness and paradox; everyone else keeps "
        "the scenario's `experience.recovery`); its cost counts the target's recoveries"
    )
    kind: Literal["service_recovery"] = kind_field()
    coverage: float = param(0.8, "share of failures recovered", "share", "facts F9: coverage 0.8", ge=0, le=1)
    delay: Delay = param(
        0,
        "time until the recovery reaches the customer (0 = on the spot): ticks, or hours, days or weeks such as "
        '"2 days" (at most 52 ticks); a recovery within the failure\'s tick damps its talk and churn multiplier to the '
        "part of the tick before it lands",
        "ticks or a duration",
        "crisis report: respond within hours-days; Gelbrich & Roschk 2011: promptness raises post-complaint "
        "satisfaction",
    )
    effectiveness: float = param(
        0.8, "share of the failure's damage the recovery gives back", "share", "assumption", ge=0, le=1
    )
    paradox: float | None = param(
        None,
        "satisfaction above the unfailed level after recovery; none = experience.recovery.paradox",
        "S",
        "de Matos et al. 2007: none on average",
        ge=0,
        le=0.5,
    )
    cost_per_case: float = param(20.0, "cost of one recovered case", "currency/case", "assumption", ge=0)


# --------------------------------------------------------------------------- crises and the company's response
class CrisisParams(InterventionSpec):
    """`crisis`: a product crisis or scandal."""

    reaches = CUSTOMER_STATES
    reaches_why = "affects customers"

    targetable = "the customers who may be affected (`affected_share` of them)"
    kind: Literal["crisis"] = kind_field()
    at: NonNegativeInt | list[NonNegativeInt] | None = param(
        None, "tick(s) the crisis surfaces; none = at random", "tick", "scenario input"
    )
    probability_per_year: float = param(
        0.3,
        "chance of a crisis per year (when `at` is none)",
        "prob/year",
        "crisis report: ~30% of firms face a crisis a year",
        ge=0,
        le=1,
    )
    ticks_per_year: float = param(52.0, "ticks in a year (52 for weeks)", "ticks", "tick_unit", gt=0)
    type: Literal["quality", "scandal"] = param(
        "quality", "quality: a defect lowers Q for a while; scandal: trust and expectations fall", "-", "crisis report"
    )
    severity: float = param(0.5, "how bad it is", "0-1", "scenario input", ge=0, le=1)
    damage: float | None = param(
        None,
        "typical brand damage when unanswered; none = 0.08 + 0.07 x severity",
        "share of B",
        "crisis report: 8-15%",
        ge=0,
        le=1,
    )
    initial_share: float = param(
        0.3,
        "share of `damage` that hits when it surfaces",
        "share",
        "calibrated: a fast transparent answer keeps loss < 5% (crisis report)",
        ge=0,
        le=1,
    )
    escalation: float = param(
        0.15,
        "share of `damage` added per tick it stays unresolved",
        "share/tick",
        "calibrated: typical damage reached in ~5 ticks",
        ge=0,
        le=1,
    )
    mishandled_factor: float = param(
        2.0,
        "damage cap after an opaque answer, in units of `damage`",
        "x",
        "crisis report: doubled if mishandled",
        ge=1,
        le=5,
    )
    precursor_lead: int = param(
        1,
        "ticks between the negative-WOM precursor and surfacing",
        "ticks",
        "crisis report: negative reviews spike about a week before",
        ge=0,
        le=12,
    )
    precursor_share: float = param(
        0.5, "share of affected customers who post negatively in the precursor", "share", "assumption", ge=0, le=1
    )
    affected_share: float = param(0.1, "share of customers directly affected", "share", "assumption", ge=0, le=1)
    satisfaction_hit: float = param(
        0.3, "satisfaction lost by the affected, times severity", "S", "assumption", ge=0, le=1
    )
    quality_drop: float = param(
        0.2, "quality Q lost while the defect lasts, times severity (type quality)", "Q", "assumption", ge=0, le=1
    )
    defect_ticks: int = param(
        6, "ticks the defect lasts unless a response fixes it sooner", "ticks", "assumption", ge=0, le=104
    )
    scandal_trust_hit: float = param(
        0.1, "share of trust lost by everyone aware, times severity (scandal)", "share", "assumption", ge=0, le=1
    )
    outrage_rate: float = param(
        0.2,
        "probability per tick an affected, uncompensated customer posts negatively",
        "prob/tick",
        "assumption",
        ge=0,
        le=1,
    )
    outrage_ticks: int = param(8, "ticks after surfacing the venting lasts", "ticks", "assumption", ge=0, le=104)
    attention_days: float = param(
        1.0,
        "time constant of attention to the crisis in the week it surfaces: the share of that week's escalation and "
        "venting done d days after surfacing is (1 - exp(-d/a)) / (1 - exp(-7/a)) for a weekly tick (8% by 2 hours, "
        "63% by a day, 86% by two days); an answer stops what comes after it",
        "days",
        "assumption: attention to a news story peaks within about a day (Leskovec, Backstrom & Kleinberg 2009); "
        "crisis report: statement within 2 h (major) / 24 h (minor)",
        gt=0,
        le=30,
    )
    open_ticks: int = param(
        26,
        "ticks after surfacing an answer can still come (the crisis stays open)",
        "ticks",
        "assumption",
        ge=0,
        le=520,
    )


class CrisisResponseParams(InterventionSpec):
    """`crisis_response`: the company's answer to a crisis, `delay` (ticks, hours or days) after it surfaces."""

    kind: Literal["crisis_response"] = kind_field()
    delay: Delay = param(
        0,
        'time after surfacing before the answer: ticks, or hours, days or weeks such as "2 hours" (at most 104 '
        "ticks); the part of a tick before the answer lands decides how much of that tick's escalation and venting "
        "happen",
        "ticks or a duration",
        "crisis report: statement within 2 h (major) / 24 h (minor)",
    )
    transparent: bool = param(True, "open about cause and remedy", "bool", "crisis report")
    apology: bool = param(True, "a public apology", "bool", "crisis report")
    apology_lift: float = param(0.01, "brand B regained by the apology", "B", "assumption", ge=0, le=0.2)
    compensation: float = param(
        20.0,
        "paid per affected customer (0 = none)",
        "currency/customer",
        "crisis report: transparency + compensation -> loss < 5%",
        ge=0,
    )
    compensation_effect: float = param(
        0.8,
        "share of the affected customers' lost satisfaction and trust restored by compensation",
        "share",
        "assumption",
        ge=0,
        le=1,
    )
    fix_ticks: int | None = param(
        1,
        "ticks after the answer until a product defect is fixed (recall); none = the defect runs its course",
        "ticks",
        "assumption",
        ge=0,
        le=104,
    )
    trust_repair: float = param(
        0.5,
        "share of a scandal's trust cut a transparent answer wins back, times the share of the first week's spread "
        "still to come when it lands (all of it at once, none after a week; `crisis.attention_days`)",
        "share",
        "assumption; stealing thunder (Arpan & Roskos-Ewoldsen 2005) and SCCT (Coombs 2007): an early, open answer "
        "limits reputational damage; crisis report: transparent + compensated -> loss < 5% of 8-15%",
        ge=0,
        le=1,
    )
    opaque_trust_cut: float = param(
        0.4,
        "share of trust lost by everyone aware after an opaque answer",
        "share",
        "crisis report: non-transparent handling -> trust -40%",
        ge=0,
        le=1,
    )
    kol_support: bool = param(
        False, "the scenario's KOLs post positively after the answer", "bool", "crisis report: KOLs as amplifiers"
    )
    kol_ticks: int = param(4, "ticks of KOL support", "ticks", "assumption", ge=1, le=52)
    fee_per_post: float = param(300.0, "fee per supporting KOL post", "currency/post", "assumption", ge=0)


# --------------------------------------------------------------------------------------------- competitor moves
def competitor_field() -> Any:
    """The `competitor` key of a competitor move: the `name` of an entry of `competitors:`."""
    return param(..., "the rival that moves: a name from `competitors:`", "-", "scenario input")


class CompetitorPriceParams(InterventionSpec):
    """`competitor_price`: a rival's price index while on air (a price cut or rise)."""

    kind: Literal["competitor_price"] = kind_field()
    competitor: str = competitor_field()
    price: float = param(0.8, "the rival's price index while on air", "index", "scenario input", gt=0, le=10)


class CompetitorQualityParams(InterventionSpec):
    """`competitor_quality`: a rival's quality (and optionally its failure rate) while on air."""

    kind: Literal["competitor_quality"] = kind_field()
    competitor: str = competitor_field()
    quality: float = param(0.9, "the rival's quality while on air", "0-1 quality", "scenario input", ge=0, le=1)
    service_failure: float | None = param(
        None, "the rival's failure probability while on air; none = unchanged", "prob", "scenario input", ge=0, le=1
    )


class CompetitorAdvertisingParams(InterventionSpec):
    """`competitor_advertising`: a rival's advertising burst."""

    kind: Literal["competitor_advertising"] = kind_field()
    competitor: str = competitor_field()
    reach_multiplier: float = param(
        3.0, "multiplies the rival's ad reach while on air", "x", "as `advertising` (assumption)", ge=0, le=100
    )
    brand_lift: float = param(0.0, "rival reputation added per tick on air", "B per tick", "assumption", ge=0, le=0.1)


class CompetitorKolCampaignParams(InterventionSpec):
    """`competitor_kol_campaign`: the scenario's KOLs post about a rival (paid by it)."""

    kind: Literal["competitor_kol_campaign"] = kind_field()
    competitor: str = competitor_field()
    posts_per_tick: float = param(
        1.0, "probability per tick each KOL posts for the rival while on air", "posts/tick", "as `kol_campaign`",
        gt=0, le=1,
    )  # fmt: skip


class CompetitorCrisisParams(InterventionSpec):
    """`competitor_crisis`: a rival's crisis: reputation loss, a defect and its customers venting."""

    kind: Literal["competitor_crisis"] = kind_field()
    competitor: str = competitor_field()
    brand_damage: float = param(
        0.15, "share of the rival's reputation lost on the first tick on air", "share of B", "crisis report: 8-15%",
        ge=0, le=1,
    )  # fmt: skip
    quality_drop: float = param(
        0.2, "quality the rival loses while on air (a defect)", "Q", "as `crisis.quality_drop` (assumption)", ge=0, le=1
    )
    outrage_rate: float = param(
        0.2, "probability per tick each of its customers posts negatively about it while on air", "prob/tick",
        "as `crisis.outrage_rate` (assumption)", ge=0, le=1,
    )  # fmt: skip


COMPETITOR_MODELS = (CompetitorPriceParams, CompetitorQualityParams, CompetitorAdvertisingParams,
                     CompetitorKolCampaignParams, CompetitorCrisisParams)  # fmt: skip


# --------------------------------------------------------------- levers from the source reports (issue 15, item 8)
class CrisisMonitoringParams(InterventionSpec):
    """`crisis_monitoring`: an early warning on the negative-WOM precursor of a crisis."""

    kind: Literal["crisis_monitoring"] = kind_field()
    signal: Literal["neg_share", "neg_messages", "neg_speakers"] = param(
        "neg_share",
        "what is watched in last tick's row: neg_share, the negative share of all WOM messages (does not grow with "
        "the customer base, so a growing market raises no alarm), or the count neg_messages or neg_speakers",
        "-",
        "crisis report: negative reviews spike first",
    )
    min_messages: int = param(
        20,
        "no alarm on a tick with fewer WOM messages than this (a share of a handful of messages is noise)",
        "messages",
        "assumption",
        ge=0,
    )
    z_min: float = param(
        2.0,
        "the rise must also be this many standard deviations of the baseline ticks above their mean, so "
        "week-to-week noise raises no alarm",
        "standard deviations",
        "control charts (Montgomery, Introduction to Statistical Quality Control): 2-sigma warning limits; at "
        "5,000 people 5-8 false alarms in 104 weeks against about 28 for raw counts, a crisis caught 1-3 weeks "
        "after it surfaces",
        ge=0,
        le=20,
    )
    threshold: float = param(
        0.3,
        "alarm when the signal exceeds its rolling baseline by this share",
        "share",
        "crisis report: complaints +30% -> compensation triggered",
        gt=0,
        le=10,
    )
    window: int = param(
        8,
        "ticks in the rolling baseline (its mean and spread)",
        "ticks",
        "assumption (two months of weeks: enough ticks to measure the spread)",
        ge=1,
        le=52,
    )
    cost_per_tick: float = param(
        200.0, "cost of the monitoring (social listening) per tick on air", "currency/tick", "assumption", ge=0
    )


class CrisisPlanParams(InterventionSpec):
    """`crisis_plan`: a prepared crisis plan that makes the company's crisis response more efficient."""

    kind: Literal["crisis_plan"] = kind_field()
    efficiency_gain: float = param(
        0.6,
        "relative rise of response efficiency: the answer's delay and the loss compensation leaves are divided by "
        "1 + this",
        "share",
        "crisis report: crisis plan -> response efficiency +60%",
        ge=0,
        le=5,
    )
    one_off_cost: float = param(5000.0, "cost of writing the plan (first tick on air)", "currency", "assumption", ge=0)
    cost_per_tick: float = param(50.0, "cost of keeping it current (drills) per tick on air", "currency/tick",
                                 "assumption", ge=0)  # fmt: skip


class CrisisReflectionParams(InterventionSpec):
    """`crisis_reflection`: a post-crisis review that lowers the chance of later random crises."""

    kind: Literal["crisis_reflection"] = kind_field()
    probability_cut: float = param(
        0.37,
        "relative cut of `crisis.probability_per_year` after a crisis is reviewed (once per crisis, compounding)",
        "share",
        "crisis report: reflection -> future crisis probability -37%",
        ge=0,
        le=1,
    )
    cost_per_review: float = param(3000.0, "cost of one post-crisis review", "currency/review", "assumption", ge=0)


class OmnichannelParams(InterventionSpec):
    """`omnichannel`: integrated service across channels; a share of customers becomes cross-channel."""

    reaches = CUSTOMER_STATES
    reaches_why = "serves customers"

    targetable = (
        "which cross-channel customers get the integrated service (`share` is drawn among everyone, so among the "
        "target too; the others keep today's service, loyalty and cost to serve)"
    )
    kind: Literal["omnichannel"] = kind_field()
    share: float = param(
        0.3, "share of customers who become cross-channel (fixed per person)", "share", "assumption", ge=0, le=1
    )
    loyalty_ratio: float = param(
        2.6,
        "cross-channel customers' loyalty relative to others, read as expected lifetime: churn hazard / this",
        "x",
        "mobile-loyalty report: cross-channel customers' loyalty 2.6x",
        ge=1,
        le=10,
    )
    satisfaction_gain: float = param(
        0.15,
        "relative rise of a cross-channel customer's satisfaction after each purchase (capped at 1)",
        "share",
        "mobile-loyalty report: cross-channel satisfaction +15%",
        ge=0,
        le=1,
    )
    serve_saving: float = param(
        0.05,
        "share of the cost of goods of cross-channel purchases saved (deducted from the running cost)",
        "share",
        "mobile-loyalty report: cross-channel cost to serve -5%",
        ge=0,
        le=1,
    )
    cost_per_tick: float = param(1000.0, "running cost of the integrated channels per tick on air", "currency/tick",
                                 "assumption", ge=0)  # fmt: skip


class SocialContentParams(InterventionSpec):
    """`social_content`: social content and short video that make positive word of mouth spread more."""

    targetable = "whose positive word of mouth the content lifts (the content is made for them; the cost is the same)"
    kind: Literal["social_content"] = kind_field()
    spread_uplift: float = param(
        0.5,
        "relative rise of positive WOM probability while on air",
        "share",
        "crisis report: short video -> spread +50%",
        ge=0,
        le=5,
    )
    cost_per_tick: float = param(
        800.0, "content production and posting per tick on air", "currency/tick", "assumption", ge=0
    )


class MobileExperienceParams(InterventionSpec):
    """`mobile_experience`: a better app: its rating rises, app users churn less."""

    reaches = CUSTOMER_STATES
    reaches_why = "cuts the churn of customers"

    targetable = (
        "which app users' churn falls (one platform's users as a segment, say; `app_share` is drawn among "
        "everyone; the cost is the same)"
    )
    kind: Literal["mobile_experience"] = kind_field()
    app_share: float = param(
        0.5, "share of customers who use the app (fixed per person)", "share", "assumption", ge=0, le=1
    )
    rating_gain: float = param(1.0, "points the app rating rises (5-point scale)", "points", "scenario input", ge=0,
                               le=4)  # fmt: skip
    churn_cut_per_point: float = param(
        0.05,
        "relative cut of an app user's churn hazard per rating point (multiplier (1 - this)^points)",
        "share/point",
        "mobile-loyalty report: mobile UX +1 point -> churn -5%",
        ge=0,
        le=1,
    )
    one_off_cost: float = param(15000.0, "app redesign, first tick on air", "currency", "assumption", ge=0)
    cost_per_tick: float = param(300.0, "app upkeep per tick on air", "currency/tick", "assumption", ge=0)


REPORT_MODELS = (CrisisMonitoringParams, CrisisPlanParams, CrisisReflectionParams, OmnichannelParams,
                 SocialContentParams, MobileExperienceParams)  # fmt: skip


# --------------------------------------------------------------------------------------------- the union
MODELS: tuple[type[InterventionSpec], ...] = (
    AdvertisingParams, KolCampaignParams, ReferralRewardParams, LoyaltyProgramParams, CommunityParams,
    ServiceImprovementParams, ServiceRecoveryParams, PersonalisedMarketingParams, ChurnPreventionParams,
    PriceChangeParams, CrisisParams, CrisisResponseParams, FakeReviewsParams, *COMPETITOR_MODELS, *REPORT_MODELS,
)  # fmt: skip


def kind_of(model: type[InterventionSpec]) -> str:
    """The `kind` a parameter model stands for (its `kind: Literal[...]`)."""
    return model.model_fields["kind"].annotation.__args__[0]


# kind -> parameter model, in the order of docs/interventions.md.
KINDS: dict[str, type[InterventionSpec]] = {kind_of(m): m for m in MODELS}

# One entry of `interventions:` or `events:`: pydantic picks the model by `kind` and reports the key path.
Entry = Annotated[Union[MODELS], Field(discriminator="kind")]  # noqa: UP007 - a Union of a tuple of models


def own_fields(model: type[InterventionSpec]) -> list[str]:
    """The parameters of a kind beyond the common keys, in declaration order."""
    return [name for name in model.model_fields if name not in COMMON_KEYS]


def params_table(model: type[InterventionSpec]) -> str:
    """The markdown table of a kind's own parameters (docs/interventions.md embeds it; a test keeps them equal)."""
    lines = ["| parameter | default | unit | meaning | source |", "|---|---|---|---|---|"]
    for name in own_fields(model):
        f = model.model_fields[name]
        extra = f.json_schema_extra or {}
        default = f.default.model_dump() if isinstance(f.default, BaseModel) else f.default
        shown = "none" if default is None else str(default).lower() if isinstance(default, bool) else default
        if f.is_required():
            shown = "required"
        what = str(extra.get("what", f.description)).replace("|", "\\|")
        lines.append(f"| `{name}` | {shown} | {extra.get('unit', '')} | {what} | {extra.get('source', '')} |")
    return "\n".join(lines)
