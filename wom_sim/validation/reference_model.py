"""A slow, per-agent reference implementation of docs/model.md, written from the documentation alone.

This is a specification in code: one `Person` (a `mesa.Agent`) per node holds its own state, and every step of a
tick (docs/model.md, "One tick", steps 2-10) is a plain Python loop over people and over each person's neighbour
list. It deliberately shares nothing with the vectorised kernel (`wom_sim/dynamics.py`) except the scenario schema,
so that agreement between the two (statistical, since the random streams differ) is evidence that both follow the
doc.

Step 1 (interventions and events) is neutral here: advertising multiplier 1, claim = `advertising.claim`, talk
multiplier 1, no referral reward, no repurchase/win-back boosts, hazard multiplier 1, service recovery from
`experience.recovery`, no forced posts, no shocks. Brand values come from `brand.*`.

Places where the doc admits more than one reading are marked `# AMBIGUOUS:` with the reading chosen.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd

from wom_sim.scenario.durations import in_ticks
from wom_sim.scenario.schema import Dist, Scenario

# Status codes (docs/model.md, State).
UNAWARE, AWARE, CUSTOMER, CHURNED = 0, 1, 2, 3
# Channel codes for last_touch and acquired_by.
NONE, ADVERTISING, WOM, KOL, REFERRAL = 0, 1, 2, 3, 4

METRIC_COLUMNS = [
    "t",
    "unaware",
    "aware",
    "customers",
    "churned",
    "new_customers",
    "new_advertising",
    "new_wom",
    "new_kol",
    "new_referral",
    "new_none",
    "adoption_share",
    "churn_events",
    "churn_rate",
    "winbacks",
    "repurchases",
    "repurchase_rate",
    "revenue",
    "cost_of_goods",
    "intervention_cost",
    "profit",
    "cum_revenue",
    "cum_profit",
    "mean_E",
    "mean_S",
    "mean_T",
    "mean_A",
    "mean_L",
    "nps",
    "promoters",
    "passives",
    "detractors",
    "pos_messages",
    "neg_messages",
    "pos_speakers",
    "neg_speakers",
    "pos_reach",
    "neg_reach",
    "kol_share",
    "brand",
    "awareness",
    "wom_acquired_share",
    "failures",
    "recoveries",
    "at_risk",
]


def clip01(x: float) -> float:
    """All states live in [0, 1] (docs/model.md, One tick: clipped after each step)."""
    return min(1.0, max(0.0, x))


def pull(x: float, target: float, rate: float) -> float:
    """'Pull X toward Y at rate r' means X <- X + r (Y - X)."""
    return x + rate * (target - x)


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def draw(dist: Dist, rng: np.random.Generator) -> float:
    """One draw of a per-person trait (schema `Dist`)."""
    if dist.dist == "constant":
        return float(dist.value)
    if dist.dist == "uniform":
        return float(rng.uniform(dist.low, dist.high))
    if dist.dist == "normal":
        return float(rng.normal(dist.mean, dist.sd))
    if dist.dist == "lognormal":
        # `mean` is the mean of the variable itself: E[exp(N(mu, sigma))] = exp(mu + sigma^2 / 2).
        mu = math.log(dist.mean) - dist.sigma**2 / 2
        return float(rng.lognormal(mu, dist.sigma))
    if dist.dist == "beta":
        return float(rng.beta(dist.a, dist.b))
    raise ValueError(f"unknown distribution {dist.dist}")


def initial_counts(n: int, customer_share: float, aware_share: float) -> tuple[int, int]:
    """How many people start as CUSTOMER and as AWARE (docs/model.md, Start).

    Exact counts round(share * N) of randomly chosen people (not an independent coin per person); both shares are
    of the whole population (docs/model.md, Start; the schema checks aware + customer <= 1).
    """
    return round(customer_share * n), round(aware_share * n)


class Person(mesa.Agent):
    """One person: all of their state (docs/model.md, State) lives on this object."""

    def __init__(self, model: ReferenceModel, node: int, is_kol: bool):
        super().__init__(model)
        sc = model.wom_scenario
        rng = model.rng
        pop = sc.population
        self.node = node
        self.is_kol = is_kol

        # Traits (docs/model.md, Start): segment, talkativeness tau, credibility kappa, conformity c, psi, spend.
        shares = [s.share for s in pop.segments]
        self.segment = int(rng.choice(len(shares), p=np.asarray(shares) / sum(shares)))
        # AMBIGUOUS: traits are not clipped (only the states E, S, T, A, L are); the default distributions keep
        # conformity, credibility and price sensitivity inside [0, 1] anyway.
        self.conformity = draw(pop.segments[self.segment].conformity, rng)
        self.talkativeness = draw(pop.talkativeness, rng) * (sc.kols.talkativeness if is_kol else 1.0)
        self.credibility = sc.kols.credibility if is_kol else draw(pop.credibility, rng)
        self.price_sensitivity = draw(pop.price_sensitivity, rng)
        self.spend = draw(pop.spend, rng)
        # Persistent product fit (added to every quality this person experiences) and need for the category.
        self.fit = draw(pop.fit, rng)
        self.need = bool(rng.random() < pop.market_potential)

        # States. E, T, A, L drawn for everyone; S only means something once experienced.
        self.status = UNAWARE
        self.experienced = False
        self.E = clip01(draw(pop.initial.expectation, rng))
        self.T = clip01(draw(pop.initial.trust, rng))
        self.A = clip01(draw(pop.initial.attachment, rng))
        self.L = clip01(draw(pop.initial.loyalty, rng))
        self.S = 0.0
        self.member = False  # set only by interventions (none here)
        self.engaged = False
        self.last_touch = NONE
        self.acquired_by = NONE
        self.failed_last = 0.0
        self.forward_pos = False
        self.forward_neg = False
        self.relay_pos = 0.0  # satisfaction voiced by the story this person will retell
        self.relay_neg = 0.0
        self.doubt = 0.0  # net-negative WOM impression held by a never-experienced person (>= 0)
        self.persuasion = 0.0  # WOM term of the adoption logit this tick
        self.pending_recoveries: list[tuple[int, float, float, float | None]] = []  # (due, S, T before, rest)

        # Counters over the whole run.
        self.purchases = 0
        self.last_purchase = -1  # tick of the last purchase; initial customers bought just before tick 0
        self.revenue = 0.0
        self.pos_sent = self.neg_sent = 0
        self.pos_received = self.neg_received = 0
        self.failure_count = 0
        self.recovery_count = 0

        self.reset_tick()

    def reset_tick(self) -> None:
        """Per-tick scratch state: what was heard, said and lived this tick."""
        self.n_pos = 0  # positive messages delivered to me this tick
        self.n_neg = 0
        self.W_pos = 0.0  # credibility-weighted sums of the same
        self.W_neg = 0.0
        self.said = 0.0  # credibility-weighted sum of the satisfaction the messages voice (conformity)
        self.firsthand_pos: list[float] = []  # content of first-hand (or, with chain, any) messages heard
        self.firsthand_neg: list[float] = []
        self.heard_kol_pos = False
        self.heard_referral = False
        self.impact = 0.0  # I = tanh(W+ - lambda W-)
        self.speaks_pos = False
        self.speaks_neg = False
        self.purchased = False
        self.adopted_now = False
        self.failed_now = 0.0  # share of this tick lived with an unrecovered failure (1, or less if recovered in it)

    # ---------------------------------------------------------------------------------------- per-person values
    def perceived_value(self) -> float:
        """V_i = clip(Q + w * psi_i * (1 - P), 0, 1)."""
        m = self.model
        return clip01(m.quality + m.wom_scenario.purchase.value_price_weight * self.price_sensitivity * (1 - m.price))

    def clip_states(self) -> None:
        self.E = min(1.0, max(0.0, self.E))
        self.S = min(1.0, max(0.0, self.S))
        self.T = min(1.0, max(0.0, self.T))
        self.A = min(1.0, max(0.0, self.A))
        self.L = min(1.0, max(0.0, self.L))

    def contact_prob(self, weight: float, negative: bool) -> float:
        """c_ij = min(1, c_i * w_ij * (negative_reach if negative else 1)) (docs/model.md step 3)."""
        wom = self.model.wom_scenario.wom
        c_i = self.model.wom_scenario.kols.reach if self.is_kol else wom.contact_prob
        return min(1.0, c_i * weight * (wom.negative_reach if negative else 1.0))


class ReferenceModel(mesa.Model):
    """docs/model.md with one Python object per person and plain loops; slow on purpose."""

    def __init__(self, scenario: Scenario, indptr, indices, weights, kol_ids, seed: int):
        super().__init__(rng=seed)
        self.wom_scenario = sc = scenario
        self.n = n = len(indptr) - 1
        kols = {int(k) for k in kol_ids}

        # Graph: out-neighbour lists with w_ij = edge weight / mean edge weight, or 1 (docs/model.md step 3).
        if weights is None or not sc.wom.use_weights or len(weights) == 0:
            edge_w = [1.0] * len(indices)
        else:
            mean_w = float(np.mean(weights))
            edge_w = [float(w) / mean_w for w in weights]
        self.neighbours: list[list[tuple[int, float]]] = [
            [(int(indices[e]), edge_w[e]) for e in range(int(indptr[i]), int(indptr[i + 1]))] for i in range(n)
        ]

        # Brand (docs/model.md, State): neutral interventions, so Q, f, P come straight from `brand.*`.
        self.quality = sc.brand.quality
        self.failure_prob = sc.brand.service_failure
        self.price = sc.brand.price
        self.reputation = sc.brand.reputation
        self.reference_price = 1.0  # docs/model.md step 9b: starts at the price index 1
        # Neutral levers of step 1.
        self.ad_multiplier = 1.0
        self.claim = sc.advertising.claim
        self.talk_multiplier = 1.0
        self.referral_active = False
        self.hazard_multiplier = 1.0
        self.repurchase_boost = 0.0
        self.winback_boost = 0.0

        self.people = [Person(self, i, i in kols) for i in range(n)]

        # Start (tick 0): a share `initial.customer` CUSTOMER and experienced with S = Q, chosen at random; a share
        # `initial.aware` of the others AWARE.
        order = [int(i) for i in self.rng.permutation(n)]
        n_customers, n_aware = initial_counts(n, sc.population.initial.customer, sc.population.initial.aware)
        for i in order[:n_customers]:
            p = self.people[i]
            p.status = CUSTOMER
            p.experienced = True
            p.need = True
            p.S = clip01(sc.brand.quality)
            self.live_history(p)
        for i in order[n_customers : n_customers + n_aware]:
            self.people[i].status = AWARE

        self.t = 0
        self.cum_revenue = 0.0
        self.cum_profit = 0.0
        self.rows: list[dict] = []

    def live_history(self, p: Person) -> None:
        """An initial customer's `population.initial.history` purchases before tick 0 (docs/model.md, Start)."""
        sc = self.wom_scenario
        ex, rc = sc.experience, sc.experience.recovery
        k = sc.population.initial.history
        for h in range(k):
            x = clip01(sc.brand.quality + p.fit + ex.noise * self.rng.standard_normal())
            unrecovered = False
            if self.random.random() < sc.brand.service_failure:
                recovered = self.random.random() < rc.coverage
                penalty = ex.failure_penalty * (1 - rc.effectiveness) if recovered else ex.failure_penalty
                x = max(0.0, x - penalty)
                unrecovered = not recovered
            d = x - p.E
            weight = ex.disconfirmation_weight if d >= 0 else ex.negative_disconfirmation_weight
            target = clip01(x + weight * d + ex.recall_bias)
            p.S = target if h == 0 else pull(p.S, target, ex.satisfaction_rate)
            p.E = pull(p.E, x, ex.expectation_rate)
            p.T = p.T * (1 - ex.trust_failure_drop) if unrecovered else p.T + ex.trust_gain * (1 - abs(d)) * (1 - p.T)
            p.clip_states()
        if k:
            lw = sc.loyalty.weights
            p.L = (lw.value * p.perceived_value() + lw.satisfaction * p.S + lw.trust * p.T + lw.attachment * p.A
                   + lw.brand * sc.brand.reputation)  # fmt: skip

    # ---------------------------------------------------------------------------------------------- one tick
    def step(self) -> None:
        for p in self.people:
            p.reset_tick()
        self.customers_at_start = [p for p in self.people if p.status == CUSTOMER]
        self.churned_at_start = [p for p in self.people if p.status == CHURNED]
        self.tick = {"revenue": 0.0, "cost_of_goods": 0.0, "failures": 0, "recoveries": 0}
        # Step 1 (interventions and events) is neutral: the levers set in __init__ never change.
        self.advertising()  # 2
        self.wom_emission()  # 3
        self.reception()  # 4
        self.purchase()  # 5
        self.experience()  # 6
        self.loyalty_and_attachment()  # 7
        self.churn()  # 8
        self.brand_reputation()  # 9
        self.record_metrics()  # 10
        self.t += 1

    # 2. Advertising ---------------------------------------------------------------------------------------
    def advertising(self) -> None:
        ad = self.wom_scenario.advertising
        reach = ad.reach * self.ad_multiplier
        for p in self.people:
            if p.experienced:
                continue
            if self.random.random() < reach:
                if p.status == UNAWARE:
                    p.status = AWARE
                p.last_touch = ADVERTISING
                p.E = pull(p.E, self.claim, ad.expectation_pull)
                # Category-building ads may give a person without a need one (market potential expands).
                if ad.need_creation > 0 and not p.need and self.random.random() < ad.need_creation:
                    p.need = True
            p.clip_states()

    # 3. WOM emission ----------------------------------------------------------------------------------------
    def wom_emission(self) -> None:
        wom = self.wom_scenario.wom
        theta_neg = wom.negative_threshold
        for p in self.people:
            # Own talk: experienced people (CUSTOMER or CHURNED), one uniform decides the valence.
            own_pos = own_neg = False
            if p.experienced:
                satisfaction = p.S
                # Novelty: own talk fades with the ticks since the last purchase (age 0 = the tick after it).
                age = max(self.t - 1 - p.last_purchase, 0)
                fresh = wom.talk_floor + (1 - wom.talk_floor) * (1 - wom.novelty_decay) ** age
                p_pos = 0.0
                if satisfaction >= wom.positive_threshold:
                    p_pos = min(
                        1.0,
                        p.talkativeness
                        * wom.positive_rate
                        * satisfaction**wom.satisfaction_elasticity
                        * (1 + wom.loyalty_boost * p.L)
                        * self.talk_multiplier
                        * fresh,
                    )
                p_neg_s = 0.0
                if satisfaction < theta_neg:
                    shortfall = (theta_neg - satisfaction) / theta_neg
                    p_neg_s = min(1.0, p.talkativeness * wom.negative_rate * fresh * shortfall**wom.negative_exponent)
                p_neg = 1 - (1 - p_neg_s) * (1 - wom.failure_talk * p.failed_last)
                u = self.random.random()
                if u < p_neg:
                    own_neg = True
                elif u < p_neg + p_pos:
                    own_pos = True
            # Speakers = own talk + forwarding of what was heard last tick (+ forced posts: none here).
            # AMBIGUOUS: "own positive + forward_pos" read as a union: someone who both talks and forwards is one
            # speaker and makes one round of sends of that valence, not two.
            p.speaks_pos = own_pos or p.forward_pos
            p.speaks_neg = own_neg or p.forward_neg
            # What a message voices: own talk the speaker's S; a retold story what its forwarder heard.
            p.own_pos, p.own_neg = own_pos, own_neg
            p.voice_pos = p.S if own_pos else p.relay_pos
            p.voice_neg = p.S if own_neg else p.relay_neg

        # Delivery: each speaker reaches each out-neighbour independently with probability c_ij.
        self.pos_messages = self.neg_messages = self.kol_pos_messages = 0
        for p in self.people:
            for negative, speaks in ((False, p.speaks_pos), (True, p.speaks_neg)):
                if not speaks:
                    continue
                for j, w in self.neighbours[p.node]:
                    if self.random.random() >= p.contact_prob(w, negative):
                        continue
                    listener = self.people[j]
                    content = p.voice_neg if negative else p.voice_pos
                    listener.said += p.credibility * content
                    if (p.own_neg if negative else p.own_pos) or wom.forward.chain:
                        (listener.firsthand_neg if negative else listener.firsthand_pos).append(content)
                    if negative:
                        listener.n_neg += 1
                        listener.W_neg += p.credibility
                        p.neg_sent += 1
                        self.neg_messages += 1
                    else:
                        listener.n_pos += 1
                        listener.W_pos += p.credibility
                        p.pos_sent += 1
                        self.pos_messages += 1
                        if p.is_kol:
                            listener.heard_kol_pos = True
                            self.kol_pos_messages += 1
                        # Referral tagging needs an active referral reward (never, here).
                        if self.referral_active and p.status == CUSTOMER:
                            listener.heard_referral = True

    # 4. Reception -------------------------------------------------------------------------------------------
    def reception(self) -> None:
        wom, rec = self.wom_scenario.wom, self.wom_scenario.reception
        for p in self.people:
            p.pos_received += p.n_pos
            p.neg_received += p.n_neg
            heard = p.n_pos + p.n_neg > 0
            p.impact = math.tanh(p.W_pos - wom.negativity_bias * p.W_neg)
            i_pos, i_neg = max(p.impact, 0.0), max(-p.impact, 0.0)
            # Doubt: a never-experienced person keeps the net-negative part of their WOM impression (faded by
            # `negative_memory` a tick); good news first has to outweigh it, and it persuades every later decision.
            p.doubt *= rec.negative_memory
            if heard and not p.experienced:
                impression = p.W_pos - wom.negativity_bias * p.W_neg - p.doubt
                p.doubt = max(-impression, 0.0)
                p.persuasion = math.tanh(impression)
            else:
                p.persuasion = math.tanh(-p.doubt)
            if heard and p.status == UNAWARE:
                p.status = AWARE
            if p.n_pos > 0 and not p.experienced:
                p.last_touch = REFERRAL if p.heard_referral else KOL if p.heard_kol_pos else WOM
            if not p.experienced:
                p.E += rec.expectation_rate * (i_pos * (1 - p.E) - i_neg * p.E)
                p.T += rec.trust_rate * (i_pos * (1 - p.T) - i_neg * p.T)
            else:
                p.S += rec.satisfaction_weight * (i_pos * (1 - p.S) - i_neg * p.S)
                p.T += rec.trust_weight * (i_pos * (1 - p.T) - i_neg * p.T)
            # AMBIGUOUS: the bullets are applied in the order written, so conformity pulls the value already
            # moved by the net impact; and with zero total credibility (W+ + W- = 0) the voiced mean is undefined
            # and conformity is skipped.
            if heard and p.W_pos + p.W_neg > 0:
                # The credibility-weighted mean satisfaction the messages voice (on the S scale).
                voiced = p.said / (p.W_pos + p.W_neg)
                rate = rec.conformity_rate * p.conformity
                if p.experienced:
                    p.S = pull(p.S, voiced, rate)
                else:
                    p.E = pull(p.E, voiced, rate)
            # Forwarding next tick (independent draws); everyone who did not hear gets False.
            u_pos, u_neg = self.random.random(), self.random.random()
            # Only first-hand accounts are retold (unless wom.forward.chain); the retold story voices the mean
            # of what was heard. At most one story a tick: positive with the share s of positive ones heard, each
            # retold with its valence's probability, so P(positive) = p+ s and P(negative) = p- (1 - s).
            k_pos, k_neg = len(p.firsthand_pos), len(p.firsthand_neg)
            k = k_pos + k_neg
            share_pos = k_pos / k if k else 0.0
            share_neg = k_neg / k if k else 0.0
            p.forward_pos = u_pos < wom.forward.positive * share_pos
            p.forward_neg = not p.forward_pos and u_neg < wom.forward.negative * share_neg / (
                1.0 - wom.forward.positive * share_pos
            )
            if p.forward_pos:
                p.relay_pos = sum(p.firsthand_pos) / len(p.firsthand_pos)
            if p.forward_neg:
                p.relay_neg = sum(p.firsthand_neg) / len(p.firsthand_neg)
            p.clip_states()

    # 5. Purchase --------------------------------------------------------------------------------------------
    def purchase(self) -> None:
        buy = self.wom_scenario.purchase
        self.new_by_channel = {NONE: 0, ADVERTISING: 0, WOM: 0, KOL: 0, REFERRAL: 0}
        self.repurchases = self.winbacks = 0
        start_customers = {id(p) for p in self.customers_at_start}
        start_churned = {id(p) for p in self.churned_at_start}
        for p in self.people:
            u = self.random.random()
            # AMBIGUOUS: "AWARE" is the status at this point of the tick, so people who became aware through
            # this tick's ads or WOM may adopt this tick (the doc's stated purpose of the order).
            if p.status == AWARE and p.need:  # no need for the category: never buys
                a = buy.adoption
                z = (
                    a.intercept
                    + a.expectation * p.E
                    + a.trust * p.T
                    + a.brand * self.reputation
                    + a.value * p.perceived_value()
                    + a.wom * p.persuasion
                    + a.referral * p.heard_referral
                    + self.price_term(p)
                )
                if u < sigmoid(z):
                    p.status = CUSTOMER
                    p.adopted_now = True
                    p.acquired_by = p.last_touch
                    self.new_by_channel[p.acquired_by] += 1
                    self.make_purchase(p)
            elif id(p) in start_customers:
                r = buy.repurchase
                z = r.intercept + r.loyalty * p.L + r.member * p.member + r.engaged * p.engaged + self.repurchase_boost
                z += self.price_term(p)
                if u < sigmoid(z):
                    self.repurchases += 1
                    self.make_purchase(p)
            elif id(p) in start_churned:
                w = buy.winback
                if u < sigmoid(w.intercept + w.loyalty * p.L + self.winback_boost + self.price_term(p)):
                    p.status = CUSTOMER
                    self.winbacks += 1
                    self.make_purchase(p)

    def price_term(self, p: Person) -> float:
        """-price_response * psi_i * log(P / P_ref), a rise over the reference times the loss aversion."""
        buy = self.wom_scenario.purchase
        gap = math.log(self.price / self.reference_price)
        if gap > 0:
            gap *= buy.price_loss_aversion
        return -buy.price_response * p.price_sensitivity * gap

    def make_purchase(self, p: Person) -> None:
        """Every purchase earns spend_i * P and costs spend_i * (1 - margin)."""
        p.purchased = True
        p.last_purchase = self.t
        p.purchases += 1
        revenue = p.spend * self.price
        p.revenue += revenue
        self.tick["revenue"] += revenue
        self.tick["cost_of_goods"] += p.spend * (1 - self.wom_scenario.brand.margin)

    # 6. Experience (purchasers) -----------------------------------------------------------------------------
    def experience(self) -> None:
        ex = self.wom_scenario.experience
        rc = ex.recovery
        delay = in_ticks(rc.delay, self.wom_scenario.tick_unit)  # "2 days" = 2/7 of a weekly tick
        for p in self.people:
            # Recoveries due this tick arrive first.
            # AMBIGUOUS: a delayed recovery arrives on its due tick whether or not the person buys again that
            # tick (it is the company reaching out), i.e. it is not restricted to this tick's purchasers.
            due = [r for r in p.pending_recoveries if r[0] == self.t]
            p.pending_recoveries = [r for r in p.pending_recoveries if r[0] != self.t]
            for _, s_before, t_before, rest in due:
                if rest is not None:  # the rest of the pull of a recovery that landed within last tick
                    p.S = pull(p.S, s_before, rest)
                    p.T = pull(p.T, t_before, rest)
                    p.clip_states()
                    continue
                p.S = pull(p.S, s_before, rc.effectiveness)
                p.T = pull(p.T, t_before, rc.effectiveness)
                p.S += rc.paradox * (1 - p.S)
                p.recovery_count += 1
                self.tick["recoveries"] += 1
                p.clip_states()
            if not p.purchased:
                continue

            first = not p.experienced
            if first:  # recoveries of a failed first purchase restore toward S = E
                p.experienced = True
                p.S = p.E
            s_before, t_before = p.S, p.T

            x = clip01(self.quality + p.fit + ex.noise * self.rng.standard_normal())
            penalty = 0.0
            recovered_now = False
            recover_now = None
            if self.random.random() < self.failure_prob:
                self.tick["failures"] += 1
                p.failure_count += 1
                penalty = ex.failure_penalty
                if self.random.random() < rc.coverage:
                    if delay == 0:
                        # Recovered at once: smaller penalty, paradox bonus, not an unrecovered failure.
                        penalty = ex.failure_penalty * (1 - rc.effectiveness)
                        recovered_now = True
                        p.recovery_count += 1
                        self.tick["recoveries"] += 1
                    else:
                        # AMBIGUOUS: with delay >= 1 the customer "lives the full failure now", read as: it counts
                        # as an unrecovered failure this tick (trust drop, failed_last, churn multiplier). Every
                        # recovered failure gets its own recovery: a person can have several on the way at once.
                        # A delay under one tick (hours, days) lands later in this tick: the failure's talk and
                        # churn multiplier count for the share of the tick before it (failed_now), and S and T
                        # are restored after this purchase's update below.
                        p.failed_now = delay if delay < 1 else 1.0
                        if delay < 1:
                            recover_now = (s_before, t_before)
                        else:
                            p.pending_recoveries.append((self.t + int(delay), s_before, t_before, None))
                else:
                    p.failed_now = 1.0
            if penalty > 0:
                x = max(0.0, x - penalty)

            d = x - p.E
            weight = ex.disconfirmation_weight if d >= 0 else ex.negative_disconfirmation_weight
            s_target = clip01(x + weight * d + ex.recall_bias)
            # A first purchase sets S to the target; a repeat purchase pulls S toward it.
            p.S = s_target if first else pull(p.S, s_target, ex.satisfaction_rate)
            p.E = pull(p.E, x, ex.expectation_rate)
            if recovered_now:
                # AMBIGUOUS: the immediate recovery's "paradox bonus" is applied as for an arriving recovery,
                # S += paradox * (1 - S), after the satisfaction update.
                p.S += rc.paradox * (1 - p.S)
            if p.failed_now:
                p.T = p.T * (1 - ex.trust_failure_drop)
            else:
                p.T += ex.trust_gain * (1 - abs(d)) * (1 - p.T)
            if recover_now is not None:
                # The recovery within this tick: the tick's later steps see the week's average state, so the
                # pull back lands 1 - delay of the way now (paradox, counted) and the rest next tick.
                now = rc.effectiveness * (1 - delay)
                p.S = pull(p.S, recover_now[0], now)
                p.T = pull(p.T, recover_now[1], now)
                p.S += rc.paradox * (1 - p.S)
                p.recovery_count += 1
                self.tick["recoveries"] += 1
                rest = 1 - (1 - rc.effectiveness) / (1 - now)
                p.pending_recoveries.append((self.t + 1, *recover_now, rest))
            p.clip_states()

        # failed_last for the next tick = this tick's unrecovered failure.
        # AMBIGUOUS: set for everyone, so anyone who did not buy this tick has failed_last = False next tick.
        for p in self.people:
            p.failed_last = p.failed_now

    # 7. Loyalty and attachment (CUSTOMERs) ------------------------------------------------------------------
    def loyalty_and_attachment(self) -> None:
        lw = self.wom_scenario.loyalty.weights
        la = self.wom_scenario.loyalty.attachment
        rate = self.wom_scenario.loyalty.rate
        for p in self.people:
            if p.status != CUSTOMER:
                continue
            target = (
                lw.value * p.perceived_value()
                + lw.satisfaction * p.S
                + lw.trust * p.T
                + lw.attachment * p.A
                + lw.brand * self.reputation
            )
            # A new customer's loyalty starts at its target (docs/model.md step 7); then it moves at `rate`.
            p.L = target if p.adopted_now else pull(p.L, target, rate)
            # AMBIGUOUS: spoke_positive = was a positive speaker this tick (own talk or forwarding), whether or
            # not any message was delivered.
            gain = la.spread_gain * p.speaks_pos + la.member_gain * p.member + la.engaged_gain * p.engaged
            p.A += gain * (1 - p.A) - la.decay * p.A
            p.clip_states()

    # 8. Churn (CUSTOMERs) -----------------------------------------------------------------------------------
    def churn(self) -> None:
        ch = self.wom_scenario.churn
        self.churn_events = 0
        self.at_risk = 0
        self.exposed = 0  # customers facing the hazard: the churn rate's denominator (docs/model.md, Metrics)
        # Every CUSTOMER at this point faces the hazard, including those who adopted or came back this very tick.
        for p in self.people:
            if p.status != CUSTOMER:
                continue
            self.exposed += 1
            h = (
                ch.base_hazard
                * math.exp(-ch.loyalty_slope * (p.L - ch.reference_loyalty))
                * (1 + ch.negative_wom * p.W_neg)
                * (1 + ch.failure_multiplier * p.failed_now)
                * self.hazard_multiplier
            )
            if h >= 3 * ch.base_hazard:
                self.at_risk += 1
            if self.random.random() < 1 - math.exp(-h):
                p.status = CHURNED
                self.churn_events += 1

    # 9. Brand reputation ------------------------------------------------------------------------------------
    def brand_reputation(self) -> None:
        br = self.wom_scenario.brand
        total = self.pos_messages + self.neg_messages
        # Voice share of delivered messages (counts, not credibility-weighted); B itself when none.
        voice = self.pos_messages / total if total > 0 else self.reputation
        target = br.reputation_quality_weight * self.quality + (1 - br.reputation_quality_weight) * voice
        self.reputation = clip01(pull(self.reputation, target, br.reputation_rate))
        # 9b. The reference price moves toward the price paid; above the index 1 only part of the way.
        pu = self.wom_scenario.purchase
        target = self.price if self.price <= 1.0 else 1.0 + pu.price_rise_adaptation * (self.price - 1.0)
        self.reference_price = pull(self.reference_price, target, pu.reference_price_rate)

    # 10. Metrics --------------------------------------------------------------------------------------------
    def record_metrics(self) -> None:
        sc = self.wom_scenario
        n = self.n
        people = self.people
        customers = [p for p in people if p.status == CUSTOMER]
        n_customers = len(customers)
        n_churned = sum(p.status == CHURNED for p in people)
        n_unaware = sum(p.status == UNAWARE for p in people)
        n_aware = sum(p.status == AWARE for p in people)
        n_start = len(self.customers_at_start)

        def mean_over_customers(attr: str) -> float:
            return sum(getattr(p, attr) for p in customers) / n_customers if customers else math.nan

        # NPS over customers: R = round(10 (wS S + wT T + wL L)); promoters 9-10, detractors 0-6.
        # AMBIGUOUS: "round" taken as round-half-up (floor(x + 0.5)); ties have probability ~0 anyway.
        promoters = passives = detractors = 0
        for p in customers:
            score = math.floor(10 * (sc.nps.satisfaction * p.S + sc.nps.trust * p.T + sc.nps.loyalty * p.L) + 0.5)
            if score >= 9:
                promoters += 1
            elif score <= 6:
                detractors += 1
            else:
                passives += 1
        # With no customers the shares and NPS are 0 (docs/model.md, Metrics); the means are NaN.
        share = (lambda k: k / n_customers) if n_customers else (lambda k: 0.0)

        ever = [p for p in people if p.status in (CUSTOMER, CHURNED)]
        wom_acquired = sum(p.acquired_by in (WOM, KOL, REFERRAL) for p in ever)

        revenue = self.tick["revenue"]
        cost = self.tick["cost_of_goods"]
        intervention_cost = 0.0
        profit = revenue - cost - intervention_cost
        self.cum_revenue += revenue
        self.cum_profit += profit
        new = self.new_by_channel

        self.rows.append(
            {
                "t": self.t,
                "unaware": n_unaware,
                "aware": n_aware,
                "customers": n_customers,
                "churned": n_churned,
                "new_customers": sum(new.values()),
                "new_advertising": new[ADVERTISING],
                "new_wom": new[WOM],
                "new_kol": new[KOL],
                "new_referral": new[REFERRAL],
                "new_none": new[NONE],
                "adoption_share": (n_customers + n_churned) / n,
                "churn_events": self.churn_events,
                "churn_rate": self.churn_events / self.exposed if self.exposed else 0.0,
                "winbacks": self.winbacks,
                "repurchases": self.repurchases,
                "repurchase_rate": self.repurchases / n_start if n_start else 0.0,
                "revenue": revenue,
                "cost_of_goods": cost,
                "intervention_cost": intervention_cost,
                "profit": profit,
                "cum_revenue": self.cum_revenue,
                "cum_profit": self.cum_profit,
                "mean_E": mean_over_customers("E"),
                "mean_S": mean_over_customers("S"),
                "mean_T": mean_over_customers("T"),
                "mean_A": mean_over_customers("A"),
                "mean_L": mean_over_customers("L"),
                "nps": 100 * (share(promoters) - share(detractors)),
                "promoters": share(promoters),
                "passives": share(passives),
                "detractors": share(detractors),
                "pos_messages": self.pos_messages,
                "neg_messages": self.neg_messages,
                "pos_speakers": sum(p.speaks_pos for p in people),
                "neg_speakers": sum(p.speaks_neg for p in people),
                "pos_reach": sum(p.n_pos > 0 for p in people),
                "neg_reach": sum(p.n_neg > 0 for p in people),
                "kol_share": self.kol_pos_messages / self.pos_messages if self.pos_messages else 0.0,
                "brand": self.reputation,
                "awareness": (n - n_unaware) / n,
                # AMBIGUOUS: the doc says "share of customers acquired through WOM"; following the brief, the
                # denominator is everyone ever acquired (CUSTOMER or CHURNED), initial customers included
                # (their acquired_by is none); 0 when there is no one (docs/model.md, Metrics).
                "wom_acquired_share": wom_acquired / len(ever) if ever else 0.0,
                "failures": self.tick["failures"],
                "recoveries": self.tick["recoveries"],
                "at_risk": self.at_risk,
            }
        )


def run_reference(scenario, indptr, indices, weights, kol_ids, seed: int, ticks: int | None = None) -> pd.DataFrame:
    """Run the per-agent reference model and return one row of metrics per tick.

    Parameters
    ----------
    scenario : wom_sim.schema.Scenario
        Every parameter; `network.*` and `kols.select` are ignored (the graph and KOLs are given).
    indptr, indices, weights
        The graph as CSR arrays: out-neighbours of node i are ``indices[indptr[i]:indptr[i+1]]``; ``weights`` is
        one float per stored edge or None. Undirected graphs store each edge both ways.
    kol_ids
        Node indices of the KOLs.
    seed : int
        Seed of this run (the reference's random streams need not match the kernel's).
    ticks : int, optional
        Number of ticks (default ``scenario.ticks``); rows are t = 0 .. ticks - 1, each the state after that tick.

    Returns
    -------
    pandas.DataFrame with the columns `METRIC_COLUMNS`.
    """
    model = ReferenceModel(scenario, indptr, indices, weights, kol_ids, seed)
    for _ in range(scenario.ticks if ticks is None else ticks):
        model.step()
    return pd.DataFrame(model.rows, columns=METRIC_COLUMNS)
