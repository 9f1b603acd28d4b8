"""This tick's levers: what interventions/events (who set them) tell this tick's dynamics (who read them).

A fresh neutral `Levers` is made every tick from the scenario's brand values; each active intervention then
changes the fields it owns. Per-person fields are either a scalar (same for all) or an array of length N.
Levers last one tick. A change of the people's state that outlasts the tick is not a lever: interventions ask for
it as a named effect (`interventions/context.py`, `EFFECT_ORDER`), which the tick applies after step 1's hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wom_sim.scenario.durations import in_ticks
from wom_sim.scenario.schema import Scenario

# The ufunc behind `np.clip` (same loop, same numbers), called directly: `np.clip`'s Python wrappers cost more than
# clipping a few thousand values, and a tick clips a dozen arrays. clip_array(x, lo, hi[, out=]) as np.clip.
clip_array = getattr(getattr(np, "_core", None), "umath", None)
clip_array = getattr(clip_array, "clip", None) or np.clip


@dataclass
class RivalLevers:
    """A rival brand's offer this tick (its scenario values, changed by competitor events)."""

    quality: float
    service_failure: float
    price: float
    advertising: float  # per tick ad reach among people who do not use it
    talk_multiplier: float = 1.0  # multiplies its customers' positive-talk probability
    brand_shock: float = 0.0  # share of its reputation lost this tick (a crisis)
    brand_lift: float = 0.0  # reputation added this tick (an ad burst, KOL content)
    forced_positive: np.ndarray | None = None  # bool mask: people made to post positively about it (its KOLs)
    forced_negative: np.ndarray | None = None  # bool mask: people made to post negatively about it (a crisis)

    def force(self, valence: str, mask: np.ndarray) -> None:
        """Make the people in `mask` post about this rival this tick (valence 'positive' or 'negative')."""
        attr = "forced_positive" if valence == "positive" else "forced_negative"
        current = getattr(self, attr)
        setattr(self, attr, mask.copy() if current is None else current | mask)


@dataclass
class Levers:
    """What the company and the world set for this tick (docs/model.md step 1)."""

    quality: float | np.ndarray  # brand quality Q (per person: a service improved for a target)
    service_failure: float | np.ndarray  # failure probability f per purchase (per person: likewise)
    price: float
    ad_reach: float | np.ndarray  # per tick ad reach among the never-experienced (per person: a targeted campaign)
    claim: float | np.ndarray  # quality the ads claim (per person: a targeted campaign's claim for its target)
    recovery_coverage: float | np.ndarray  # share of failures recovered (per person: a targeted programme)
    recovery_delay: (
        float | np.ndarray
    )  # ticks until a recovery reaches the customer, fractional (per person if targeted)
    recovery_effectiveness: float | np.ndarray  # share of a failure's damage a recovery gives back
    recovery_paradox: float | np.ndarray  # satisfaction above the unfailed level after an on-the-spot recovery
    talk_multiplier: float | np.ndarray = 1.0  # multiplies positive-WOM probability (incentives, smart service)
    referral_active: bool = False  # positive messages from customers carry a referral tag
    referral_senders: np.ndarray | None = None  # bool mask: whose messages carry the tag (None: every customer's)
    referral_credibility: float = 1.0  # credibility multiplier of referral-tagged messages (incentivised WOM)
    referral_boost: float = 0.0  # log-odds added to adoption of a prospect referred this tick (receiver reward)
    # A reward to the referred adopter is on offer: only then does a tag carry `purchase.adoption.referral` (a tag
    # from a programme that pays the referred nothing is a recommendation like any other).
    referral_receiver_paid: bool = False
    positive_credibility: float | np.ndarray = 1.0  # per-sender credibility multiplier of positive messages
    repurchase_boost: float | np.ndarray = 0.0  # log-odds added to repurchase
    winback_boost: float | np.ndarray = 0.0  # log-odds added to win-back
    adoption_boost: float | np.ndarray = 0.0  # log-odds added to adoption
    hazard_multiplier: float | np.ndarray = 1.0  # churn hazard multiplier (retention offers)
    forced_positive: np.ndarray | None = None  # bool mask: people made to post positively (KOL posts)
    forced_negative: np.ndarray | None = None  # bool mask: people made to post negatively (backlash, precursor)
    brand_shock: float = 0.0  # share of reputation B lost this tick
    brand_lift: float = 0.0  # reputation added this tick (ads, KOL content, apology)
    trust_shock: float = 0.0  # share of trust lost this tick by everyone aware
    expectation_shift: float = 0.0  # added to everyone's expectation this tick (fake reviews, scandal)
    extra_revenue: float = 0.0  # currency; e.g. none by default
    costs: dict[str, float] | None = None  # intervention name -> cost this tick
    rivals: list[RivalLevers] | None = None  # each competitor's offer this tick, in scenario order (issue 15)

    @classmethod
    def neutral(cls, scenario: Scenario) -> Levers:
        """Levers with no intervention: the scenario's brand and always-on advertising."""
        recovery = scenario.experience.recovery
        return cls(
            quality=scenario.brand.quality,
            service_failure=scenario.brand.service_failure,
            price=scenario.brand.price,
            ad_reach=scenario.advertising.reach,
            claim=scenario.advertising.claim,
            recovery_coverage=recovery.coverage,
            recovery_delay=in_ticks(recovery.delay, scenario.tick_unit),
            recovery_effectiveness=recovery.effectiveness,
            recovery_paradox=recovery.paradox,
            costs={},
            rivals=[
                RivalLevers(
                    quality=c.quality, service_failure=c.service_failure, price=c.price, advertising=c.advertising
                )
                for c in scenario.competitors
            ],
        )

    def add_cost(self, name: str, amount: float) -> None:
        """Book a cost (currency) for an intervention this tick."""
        if amount < 0:
            raise ValueError(f"cost of {name} must be >= 0, got {amount}")
        self.costs[name] = self.costs.get(name, 0.0) + float(amount)

    def force(self, valence: str, mask: np.ndarray) -> None:
        """Make the people in `mask` post this tick (valence 'positive' or 'negative')."""
        attr = "forced_positive" if valence == "positive" else "forced_negative"
        current = getattr(self, attr)
        setattr(self, attr, mask.copy() if current is None else current | mask)

    def clipped(self) -> Levers:
        """Keep probabilities and qualities in their ranges after interventions stacked their effects."""
        self.quality = clip01(self.quality) if np.ndim(self.quality) == 0 else clip_array(self.quality, 0.0, 1.0)
        fail = self.service_failure
        self.service_failure = clip01(fail) if np.ndim(fail) == 0 else clip_array(fail, 0.0, 1.0)
        self.ad_reach = clip01(self.ad_reach) if np.ndim(self.ad_reach) == 0 else np.clip(self.ad_reach, 0.0, 1.0)
        self.claim = clip01(self.claim) if np.ndim(self.claim) == 0 else np.clip(self.claim, 0.0, 1.0)
        cover = self.recovery_coverage
        self.recovery_coverage = clip01(cover) if np.ndim(cover) == 0 else clip_array(cover, 0.0, 1.0)
        self.price = max(float(self.price), 1e-6)
        for rl in self.rivals or ():
            rl.quality = clip01(rl.quality)
            rl.service_failure = clip01(rl.service_failure)
            rl.advertising = clip01(rl.advertising)
            rl.price = max(float(rl.price), 1e-6)
        return self


def clip01(x: float) -> float:
    """`float(np.clip(x, 0.0, 1.0))` of one number, without numpy's per-call cost (every tick clips a few levers).

    The same rule as numpy's clip loop: NaN stays NaN, max before min, a tie keeps x (so -0.0 stays -0.0, as there).
    """
    x = float(x)
    if x != x:
        return x
    x = x if x >= 0.0 else 0.0
    return x if x <= 1.0 else 1.0
