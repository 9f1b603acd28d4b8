"""Developer tool: regenerates a docs/ page from the code (see docs/interventions.md and docs/cookbook.md)."""

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from wom_sim.scenario.interventions import KINDS as MODELS
from wom_sim.scenario.interventions import Target, params_table
from wom_sim.sim.interventions import REGISTRY

HEAD = """# Interventions and events

Every company lever and every event a scenario can list, with its parameters (default, unit, source), what it does
to the tick (docs/model.md, step 1 sets this tick's `Levers`; see `wom_sim/sim/levers.py`), its cost model and a YAML
example. The code is `wom_sim/sim/interventions/` (one small registered class per kind); its parameters are the
scenario's (`wom_sim/scenario/interventions.py`, one model per kind, validated when the scenario loads). The
parameter tables below are generated from those models (`wom_sim.scenario.interventions.params_table`) and a test
keeps them equal; `wom-sim check` prints every parameter of every entry, defaults included.

## How an entry is written

```yaml
interventions:                  # company levers
  - kind: referral_reward       # one of the kinds below
    name: give10                # optional; the cost column is cost_<name> (default: the kind; repeats get _2, _3)
    schedule: {from: 0, until: 51}
    sender_reward: 10           # the kind's own parameters
events:                         # things that happen to the company
  - kind: crisis
    at: 40
```

**Schedules** (`schedule:`), all bounds inclusive: no schedule = every tick; `from: t0` / `until: t1` bound a
window (`from` defaults to 0, `until` to the end); inside it `at: t` or `at: [t1, t2]` picks exact ticks, else
`every: k` picks `from, from+k, from+2k, ...`, else every tick. `until` before `from`, or both `at` and `every`,
is an error.

**Triggers** (`when: {metric, op, value}`) compare a metric of the *previous* tick's row (any column of the
metrics table, or `cost_<name>` of an intervention in the scenario; a cost not booked reads as 0) with one of
`> >= < <= == !=`; they are data, never evaluated code, and never fire at tick 0 or on NaN. When a trigger fires
at tick f (inside the schedule, if there is one) the intervention is on for ticks f .. f+`duration`-1 (default
1; it stays on past the schedule's `until`: the schedule gates firing). `once: true` fires at most once;
`cooldown: c` blocks firing again until c ticks after its last on tick (f+duration-1+c). `once`, `cooldown` and
`duration` without `when` are errors. Example, compensation when complaints spike:

```yaml
  - kind: service_recovery
    when: {metric: neg_messages, op: ">", value: 400}
    duration: 8
    cooldown: 4
```

**Order in a tick.** Events act first, then interventions, each in file order; a kind that is off air this tick may
still play out what it started (a backlash burst, a crisis, running retention offers). After the tick's dynamics
each kind books the costs that depend on what happened (referral payouts, recovered cases, member rewards), so
every cost lands in the tick it belongs to.

**Costs** are booked with `Levers.add_cost` and appear as `cost_<name>` columns, summed into
`intervention_cost`; `profit = revenue - cost_of_goods - intervention_cost`. Revenue is spend x price and cost of
goods spend x (1 - `brand.margin`), so a price change needs no cost of its own. See [economics](#economics).

**Targeting** (`target: {segment, lifecycle, kols, ids}`) limits who an entry reaches, e.g. a referral reward
only for the loyal customers of one segment; see [targeting](#targeting) for the lifecycle states and the kinds
that accept it.

**Randomness.** A kind draws only from numbers derived from the run's `interventions` stream, keyed by its name,
the tick and a slot (`Intervention.uniforms`), always as full length-N arrays. So what one intervention draws
never depends on the others or on the state, and a scenario and its baseline share every other random number
(common random numbers): an intervention that pulls no lever leaves a run identical bit for bit.

**Shared state.** Interventions keep their state on themselves. The only two kinds that must talk, `crisis` and
`crisis_response`, do it through `ctx.shared["crisis"]` (a `CrisisState` holding the running `Crisis` record and past
ones): the event writes the crisis, the response writes its answer into it (`CrisisState.respond`), each reads
the other's entries, neither touches the other object.

Kinds: """

KINDS = {
    "advertising": dict(
        what="""A campaign on top of always-on marketing (`advertising.*`). While on air: the ad reach `a` of docs/model.md
step 2 is multiplied by `reach_multiplier`, the claim that reached prospects' expectations move toward is
`claim`, and the brand gains `brand_lift` per tick (step 9). Over-claiming raises adoption now and disappointment
after the first purchase (expectation-disconfirmation). With a `target` (a media buy aimed at a segment, a
lifecycle state or a list of ids), the reach multiplier and the claim apply to the target only (per person; the
always-on reach and the scenario's claim stay for everyone else) and the brand lift stays global (reputation is
one number per brand).""",
        cost="`budget_per_tick` per tick on air (with a target, the budget of the targeted buy).",
        example="""  - kind: advertising
    schedule: {from: 0, until: 12}
    reach_multiplier: 2.0
    budget_per_tick: 3000""",
    ),
    "kol_campaign": dict(
        what="""Paid posts by KOLs. The hired KOLs are the scenario's (`kols.select`), or, with `select:`, people chosen by
`wom_sim.network.kols.select_kols` (ids, degree, pagerank, betweenness, kcore, random, greedy within `time_budget`) and
promoted to KOLs at the start (KOL reach, credibility and talkativeness for the whole run). Each tick on air
each hired KOL posts with probability `posts_per_tick`: a forced positive broadcast (`Levers.force("positive")`)
at KOL reach. With `disclosure`, the credibility of their positive messages this tick is multiplied by
`disclosure_credibility` (`Levers.positive_credibility`). **Backlash**: each post, with probability
`backlash_risk x (1 - screening)` (x `undisclosed_risk` without disclosure), backfires: the KOL is dropped; the
trust of all its followers falls by `backlash_trust_drop` and the brand by `backlash_brand_shock` at once; the KOL
and a share `backlash_share` of its followers post negatively for the next `backlash_ticks` ticks
(`Levers.force("negative")`), also after the campaign ends. The per-post risk is scaled by `backlash_risk` (0.05)
rather than being 1 - screening itself, which would make a 90%-screened campaign of 10 KOLs backfire once a week;
set `backlash_risk: 1` for that reading.""",
        cost="`fee_per_post` per post actually made (dropped KOLs are not paid).",
        example="""  - kind: kol_campaign
    schedule: {from: 0, until: 12}
    select: {by: pagerank, k: 20}
    fee_per_post: 300
    screening: 0.9
    disclosure: true""",
    ),
    "referral_reward": dict(
        what="""What a reward buys grows with its value v (the reward / the mean spend per purchase x price) with diminishing
returns (Ryu & Feick 2007; Wirtz, Orsingh, Chew & Tambyah 2013): g(v) = 2 (1 - 2^(-v / `reward_half`)), 0 without
a reward, 1 at `reward_half` (0.2: the give-10-get-10 at the baseline's mean spend of 50, so the bundled programmes
keep their effects), 1.5 at twice it, at most 2. While on air: the positive-talk probability is multiplied by 1 +
g(sender) x `talk_uplift` (`Levers.talk_multiplier`); positive messages from customers carry a referral tag
(`Levers.referral_active`) and their credibility is multiplied by 1 - g(sender) x (1 - `credibility`)
(`Levers.referral_credibility`: incentivised WOM is seen as less sincere); a prospect who received a tagged message
this tick gets g(receiver) x (`purchase.adoption.referral` + `adoption_boost`) log-odds (`Levers.referral_boost`
and `Levers.referral_receiver_paid`; a tag that pays the referred nothing is a recommendation like any other), and,
if they adopt, is acquired by `referral`. Rewards of 0 change no behaviour. A successful referral is a prospect who
adopts with a referral as last touch (the `new_referral` metric), also after the programme ended if the referral
came while it ran.""",
        cost="(`sender_reward` + `receiver_reward`) x successful referrals, in the tick of adoption: (sender + receiver) x `new_referral`.",
        example="""  - kind: referral_reward
    schedule: {from: 0, until: 51}
    sender_reward: 10
    receiver_reward: 10""",
    ),
    "loyalty_program": dict(
        what="""The reward's value drives enrolment and use with diminishing returns (Kivetz & Simonson 2002; Dorotic, Bijmolt &
Verhoef 2012): g = 2 (1 - 2^(-`reward_share` / `reward_half`)), 0 without a reward, 1 at `reward_half` (3%, the
bundled programme's, which keeps its effects), at most 2. Enrols customers: each person has a fixed affinity
(drawn once), so a share min(1, g x `uptake`) will ever join; each tick on air every willing customer with at least
`min_purchases` purchases joins with probability `enrol_rate` and gets `pop.member`. Members repurchase with g x
`purchase.repurchase.member` extra log-odds (step 5; the programme adds (g - 1) x that to its members'
`Levers.repurchase_boost`) and gain attachment `loyalty.attachment.member_gain` per tick (step 7, whatever the
reward), which raises loyalty and lowers churn. A programme that gives nothing enrols nobody. Customers who churn
leave the programme; when the programme ends (its first tick off air) its members leave it. Each programme
counts, pays for and lets go of its own members (two programmes, e.g. one per segment, share `pop.member`).""",
        cost="`cost_per_member` x members each tick on air, plus `reward_share` x revenue of members' purchases that tick.",
        example="""  - kind: loyalty_program
    min_purchases: 2
    uptake: 0.6
    cost_per_member: 0.5
    reward_share: 0.03""",
    ),
    "community": dict(
        what="""Engages customers (`pop.engaged`), enrolling like the loyalty programme (fixed affinity < `uptake`, joining at
`join_rate` per tick). Engaged customers repurchase with `purchase.repurchase.engaged` extra log-odds (+30%,
loyalty-WOM report) and gain attachment `loyalty.attachment.engaged_gain`. On top, each tick their loyalty is multiplied
by a factor g with (1 + g) = (1 - lambda / (1 + 0.03 k)) / (1 - lambda) (lambda = `loyalty.rate`, k =
`interactions_per_tick`, 0.03 = `loyalty_per_interaction`), which makes their steady-state loyalty exactly
L* (1 + 0.03 k): +3% per weekly interaction (loyalty-WOM report). Its members leave when the community closes
(each community counts and scales its own members).""",
        cost="`cost_per_tick` + `cost_per_member` x engaged customers, each tick on air.",
        example="""  - kind: community
    schedule: {from: 13}
    uptake: 0.3
    cost_per_tick: 1000""",
    ),
    "service_improvement": dict(
        what="""While on air: quality Q + `quality_gain`, failure probability f x (1 - `failure_reduction`), positive-talk
probability x (1 + `talk_uplift`) (smart service: positive WOM about 30% faster, mobile-loyalty report). Higher Q lifts
experienced quality, satisfaction, perceived value and the brand's target; fewer failures mean less failure talk
and churn.""",
        cost="`one_off_cost` on the first tick on air + `cost_per_tick` every tick on air.",
        example="""  - kind: service_improvement
    schedule: {from: 0}
    quality_gain: 0.05
    failure_reduction: 0.4
    one_off_cost: 20000
    cost_per_tick: 500""",
    ),
    "service_recovery": dict(
        what="""While on air the service-recovery levers of docs/model.md step 6 are `coverage`, `delay`, `effectiveness`
(and `paradox` if given; by default the scenario's `experience.recovery.paradox`, 0: recovery restores
satisfaction but not above the never-failed level, de Matos et al. 2007, fact F16). With `delay: 0` a recovered
failure is not an unrecovered failure: no failure talk, no trust drop, no churn spike. With a delay the customer
lives the failure and is made whole `delay` ticks later. A delay may be written in ticks or as a duration ("2 days",
"12 hours", "1.5 weeks", converted with `tick_unit`): one under a tick lands within the failure's tick, so the
failure's talk and churn multiplier count for the part of the tick before it (2/7 for "2 days" of a week) and the
tick's later steps see the week's average state (docs/model.md step 6); 80% recovered on the spot, after 2 and 4
days and after a week: negative messages -38%, -30%, -17%, -2% against no recovery (3,000 people, 104 weeks).""",
        cost="`cost_per_case` x recoveries, booked when a recovery reaches the customer, in ticks on air and up to `delay` ticks after (the cases it started; whole ticks of the delay).",
        example="""  - kind: service_recovery
    coverage: 0.8
    delay: 0
    cost_per_case: 20""",
    ),
    "personalised_marketing": dict(
        what="""Each tick on air a share `share` of customers (fresh draw each tick) is targeted: their repurchase log-odds
rise by logit(r (1 + `uplift`)) - logit(r), r = `reference_rate` (`Levers.repurchase_boost`), i.e. +15%
repurchase for a customer at the seed's 42% rate (mobile-loyalty report).""",
        cost="`cost_per_target` x targeted customers, each tick on air.",
        example="""  - kind: personalised_marketing
    share: 0.3
    uplift: 0.15
    cost_per_target: 0.5""",
    ),
    "churn_prevention": dict(
        what="""Churn early warning. Each tick on air: at-risk customers are the top `at_risk_share` by churn hazard at the
start of the tick (the hazard of docs/model.md step 8 with loyalty and last tick's negative WOM; this tick's
failures cannot be known yet). Each customer is detectable with fixed probability `recall` (drawn once: a
model's blind spots persist); at-risk, detectable customers without a running offer are flagged, plus, for
precision p, (1 - p)/p customers not at risk per true flag (stochastically rounded), so precision is p in
expectation. Each flagged customer gets an offer that multiplies its churn hazard by 1 - `offer_effect` for
`offer_ticks` ticks (`Levers.hazard_multiplier`); offers made run their course after the programme ends. With the
defaults churn falls about 15% (loyalty-WOM and mobile-loyalty reports, fact F12; measured in docs/cookbook.md, churn_early_warning).""",
        cost="`cost_per_offer` x offers made (true and false flags alike).",
        example="""  - kind: churn_prevention
    schedule: {from: 26}
    precision: 0.85
    recall: 0.7
    cost_per_offer: 5""",
    ),
    "price_change": dict(
        what="""While on air the price index is `price`. A cut raises perceived value V = Q + w psi (1 - price) (step 5),
so adoption and loyalty rise a little (most for the price-sensitive), and lowers the margin per sale (revenue =
spend x price, cost of goods unchanged). A cut below `brand.price` also erodes the brand: B loses
`brand_erosion` x cut per tick on air (price wars: short-term gain, long-term brand loss, loyalty-WOM report).""",
        cost="None booked: the lost margin shows in revenue and profit.",
        example="""  - kind: price_change
    schedule: {from: 26, until: 51}
    price: 0.8""",
    ),
    "crisis": dict(
        what="""An event. With `at`, a crisis surfaces at each listed tick (one at a time: a listed crisis closes one still
running, e.g. one left open for a late answer, so answered or not every listed crisis happens; one whose precursor
tick is off air begins on its first tick on air before it surfaces); without it, each
tick on air with no crisis running one begins with probability 1 - (1 - `probability_per_year`)^(1/`ticks_per_year`) (30% a
year, crisis report). A crisis that begins at tick s - `precursor_lead` picks the affected customers (share
`affected_share`); the **precursor**: half of them (`precursor_share`) post negatively until it surfaces at s
(negative reviews spike about a week before, crisis report). **At s**: the brand falls to its pre-crisis level less
`initial_share` x `damage` (damage default 0.08 + 0.07 x severity: 8-15%, crisis report); the affected lose
`satisfaction_hit` x severity of satisfaction; a `quality` crisis lowers Q by `quality_drop` x severity for
`defect_ticks` ticks (or until a response fixes it); a `scandal` cuts everyone's trust by `scandal_trust_hit` x
severity and prospects' expectations by 0.1 x severity. **Escalation**: each tick it stays unresolved (no
transparent answer yet) the damage grows by `escalation` x `damage` up to 1 x `damage` (the typical loss), or up
to `mishandled_factor` x `damage` after an opaque answer (doubled, crisis report); while it escalates the brand is held
at or below pre-crisis x (1 - damage so far), after that it recovers toward its target at
`brand.reputation_rate` (90% of the loss made good in about 45 weekly ticks: 6-12 months, crisis report).
**Venting**: for `outrage_ticks` ticks each affected, uncompensated customer posts negatively with probability
`outrage_rate` per tick. It stays open to an answer for `open_ticks` ticks. Ongoing and past crises are in
`ctx.shared["crisis"]`; `wom_sim.sim.interventions.crisis_impact(metrics, surfaced, baseline)` measures brand damage,
trust cut and recovery time.""",
        cost="None (its costs are lost revenue and the response's costs).",
        example="""events:
  - kind: crisis
    at: 40
    type: quality
    severity: 0.6""",
    ),
    "crisis_response": dict(
        what="""The company's answer to the open crisis, landing `delay` after it surfaced (ticks, or a duration such as
"2 hours" or "2 days", converted with `tick_unit`), in the first tick on air at least that long after (without
schedule or trigger it is a standing crisis plan; with `when` it answers when the trigger fires). The answer is
written into `ctx.shared["crisis"]` and the crisis reads it: a `transparent` answer stops the escalation from the
moment it lands (the week it lands in escalates for the part before it, front-loaded in the week the crisis
surfaced: `crisis.attention_days`), and wins back `trust_repair` x the share of the first week's spread still to
come of a scandal's trust cut; an opaque one lets it run to `mishandled_factor` x damage and, at
once, cuts the trust of everyone aware by `opaque_trust_cut` (about -40%, crisis report). Its own effects, at once:
`apology` adds `apology_lift` to the brand; `compensation` > 0 restores `compensation_effect` of the affected
customers' lost satisfaction and trust and ends their venting when it lands (that tick's venting and the
compensation's reach into that tick count for the parts before and after it); `fix_ticks` ends a product defect
that many ticks after the answer (a recall; none = it runs its course); `kol_support` makes the scenario's KOLs post
positively for `kol_ticks` ticks from the answer. Answered (transparent, compensated, KOL support) 2 hours, 2 days,
1 week and 2 weeks after a severity-0.6 defect surfaces: two-year profit about +70k, +66k, +62k, +54k against no
answer (3,000 people, six seeds; docs/model.md Findings). Measured at the bundled size (severity 0.6, five seeds; docs/cookbook.md): no answer
about 14% brand damage; fast + transparent + compensated about 3% (< 5%, crisis report); four weeks late and opaque
about 25% (1.8x the unanswered damage) with trust about -40%.""",
        cost="`compensation` x affected customers at the answer, plus `fee_per_post` x KOLs per tick of KOL support.",
        example="""  - kind: crisis_response
    delay: 0
    transparent: true
    apology: true
    compensation: 20
    kol_support: true""",
    ),
    "fake_reviews": dict(
        what="""Bought reviews. Each tick on air until exposed: the expectation of everyone who never bought rises by
`expectation_lift` (`Levers.expectation_shift`), so more prospects adopt (and more are disappointed later).
Exposure happens at `exposed_at` (also after the campaign ended) or, without it, with probability
`exposure_prob` per tick on air. On exposure: everyone aware loses `trust_drop` of their trust, the brand
`brand_shock`, the accumulated lift is withdrawn from prospects' expectations, a share `outrage_share` of
experienced people post negatively for `outrage_ticks` ticks, and the campaign stops for good (customer-WOM report: fake
reviews lower trust when exposed).""",
        cost="`cost_per_tick` per tick on air until exposure (inclusive).",
        example="""  - kind: fake_reviews
    schedule: {until: 30}
    exposed_at: 20""",
    ),
    "competitor_price": dict(
        what="""A rival's price index while on air (`RivalLevers.price`, docs/model.md Competition): its perceived value and
the price term of its utility in everyone's brand choice change, against the category's reference price (ours,
step 9b). The metrics `rival_price_ratio` (the cheapest rival's price over ours) and `rival_undercut_ticks`
(consecutive ticks a rival has been cheaper) let our answer be an ordinary trigger, e.g. a `price_change` with
`when: {metric: rival_undercut_ticks, op: ">=", value: 2}`.""",
        cost="none (a rival's move).",
        example="""events:
  - kind: competitor_price
    competitor: acme
    schedule: {from: 26}
    price: 0.8""",
    ),
    "competitor_quality": dict(
        what="""A rival's quality (and, if given, failure probability) while on air: what its buyers experience, its ads claim,
its perceived value and its reputation's target.""",
        cost="none (a rival's move).",
        example="""events:
  - kind: competitor_quality
    competitor: acme
    schedule: {from: 40}
    quality: 0.9""",
    ),
    "competitor_advertising": dict(
        what="""A rival's advertising burst: its per-tick ad reach (`competitors[].advertising`) times `reach_multiplier`, and
`brand_lift` added to its reputation per tick on air.""",
        cost="none (a rival's move).",
        example="""events:
  - kind: competitor_advertising
    competitor: acme
    schedule: {from: 10, until: 22}
    reach_multiplier: 3""",
    ),
    "competitor_kol_campaign": dict(
        what="""The scenario's KOLs (`kols.select`) post positively about a rival: each with probability `posts_per_tick` per
tick on air (`RivalLevers.force("positive")`), at KOL reach and credibility; listeners' views of the rival move.""",
        cost="none (a rival's move).",
        example="""events:
  - kind: competitor_kol_campaign
    competitor: acme
    schedule: {from: 0, until: 12}""",
    ),
    "competitor_crisis": dict(
        what="""A rival's crisis: on the first tick of each spell on air its reputation loses `brand_damage` (as
`crisis.damage`), its quality is `quality_drop` lower while on air (a defect its buyers experience), and each
of its customers posts negatively about it with probability `outrage_rate` per tick (`RivalLevers.force`). Its
customers' views fall, so more of them lapse or switch: to us, if our offer is known and good (fact F30).""",
        cost="none (a rival's move).",
        example="""events:
  - kind: competitor_crisis
    competitor: acme
    schedule: {from: 30, until: 37}""",
    ),
    "crisis_monitoring": dict(
        what="""Social listening for the negative-WOM precursor of a crisis (crisis report: negative reviews spike about a
week before a crisis surfaces). Each tick on air it reads `signal` (`neg_messages` or `neg_speakers`) from last
tick's metrics row and compares it with the mean of the last `window` values it read; above that mean x (1 +
`threshold`) it raises an alarm (default +30%: the report's complaint threshold). An alarm while a crisis is
running (its precursor included) marks it detected in `ctx.shared["crisis"]` (`CrisisState.detect`), and
`crisis_response` then answers at detection, or when the crisis surfaces if detected before, instead of `delay`
ticks after surfacing. Without a `crisis_response` an alarm changes nothing. The alarms (false ones included) are
kept on the instance (`alarms`, `caught`). List it before the response so an alarm counts the same tick.""",
        cost="`cost_per_tick` per tick on air.",
        example="""  - kind: crisis_monitoring
    threshold: 0.3
  - kind: crisis_response
    delay: 4""",
    ),
    "crisis_plan": dict(
        what="""A prepared crisis plan (crisis report: crisis plan -> response efficiency +60%). While on air it writes
`efficiency_gain` g into `ctx.shared["crisis"]` (`plan_efficiency`; back to 0 when it lapses); `crisis_response`
then answers after `delay` / (1 + g) instead of `delay` (4 weeks: 2.5), and its compensation restores
1 - (1 - `compensation_effect`) / (1 + g) of the affected customers' loss instead of `compensation_effect`: a
faster answer that leaves 1/1.6 of the loss it would have left. Without a response it changes nothing. List it
before the response so it counts the same tick.""",
        cost="`one_off_cost` on the first tick on air plus `cost_per_tick` per tick on air.",
        example="""  - kind: crisis_plan
  - kind: crisis_response
    delay: 4""",
    ),
    "crisis_reflection": dict(
        what="""Post-crisis reflection (crisis report: reflection -> future crisis probability -37%). Each crisis that
ends while it is on air is reviewed: the chance of a random crisis (`crisis.probability_per_year`, when the
`crisis` event has no `at`) is multiplied by 1 - `probability_cut` (`CrisisState.hazard_factor`, compounding
per review). Crises at given ticks (`crisis.at`) are what-ifs written down by the user, so they happen as
written; reflection changes the random ones only. Crises that end while it is off air are not reviewed.""",
        cost="`cost_per_review` per crisis reviewed.",
        example="""  - kind: crisis_reflection
    probability_cut: 0.37""",
    ),
    "omnichannel": dict(
        what="""Integrated service across channels (mobile-loyalty report: cross-channel customers' loyalty 2.6x, satisfaction
+15%, cost to serve -5%). A share `share` of people is cross-channel (drawn once per person). While on air,
cross-channel customers' churn hazard is divided by `loyalty_ratio` (loyalty 2.6x read as 2.6x the expected
lifetime; the report's figure is an association, so this is an upper bound of the causal effect), and after each
purchase their satisfaction is multiplied by 1 + `satisfaction_gain` (capped at 1; the `scale_satisfaction`
effect, applied after the tick's dynamics). The cost-to-serve saving is `serve_saving` x the cost of goods of
their purchases.""",
        cost="`cost_per_tick` per tick on air less the cost-to-serve saving of that tick, not below 0 (the saving "
        "is also kept as `saved` on the instance).",
        example="""  - kind: omnichannel
    schedule: {from: 26}
    share: 0.3""",
    ),
    "social_content": dict(
        what="""Social content and short video (crisis report: short video -> spread +50%). While on air the positive-WOM
probability of every experienced person is multiplied by 1 + `spread_uplift` (`Levers.talk_multiplier`, docs/model.md
step 3): more people pass the word on, at the same reach per message.""",
        cost="`cost_per_tick` per tick on air.",
        example="""  - kind: social_content
    schedule: {from: 0, until: 51}""",
    ),
    "mobile_experience": dict(
        what="""A better mobile app (mobile-loyalty report: mobile UX +1 point -> churn -5%). A share `app_share` of people use
the app (drawn once per person). While on air the churn hazard of app users who are customers is multiplied by
(1 - `churn_cut_per_point`)^`rating_gain` (`Levers.hazard_multiplier`, docs/model.md step 8).""",
        cost="`one_off_cost` on the first tick on air plus `cost_per_tick` per tick on air.",
        example="""  - kind: mobile_experience
    schedule: {from: 26}
    rating_gain: 1.0""",
    ),
}

TARGETING = """## Targeting

An entry of a kind that acts on people one by one may name who it reaches with `target:`; the conditions given
combine with AND, and the mask is evaluated again on every tick the entry is on air (from the state at the start of
the tick, like every lever of step 1), so a lifecycle target follows people as they move between states:

```yaml
interventions:
  - kind: referral_reward
    target: {segment: urban, lifecycle: loyal}   # urban AND loyal
  - kind: churn_prevention
    target: {lifecycle: [new, at_risk]}           # a list is a union: new OR at risk
  - kind: personalised_marketing
    target: {kols: false, ids: [1, 5, 9]}
```

- `segment`: a name or a list of names of `population.segments` (an unknown name is an error naming the entry and
  the allowed names).
- `kols`: `true` only KOLs (the scenario's and those a `kol_campaign` promoted), `false` only non-KOLs.
- `ids`: person ids. With an imported network (`network.file`, and a person table) they are the file's own ids, as
  in `kols.select.ids` (`ids: [C00017, C00342]`; 7 and "7" are the same person), and ids the file does not have
  are one error line when the model is built; with a generated network they are 0 .. n-1 (an id beyond `network.n`
  or a name is an error on load).
- `lifecycle`: one or a list of these states, a partition of the people at the start of the tick (thresholds are
  keys of the target, table below):
  - `prospect`: never a customer (unaware or aware);
  - `at_risk`: a customer whose churn hazard at the start of the tick (docs/model.md step 8 with loyalty and last
    tick's negative WOM; this tick's failures are not known yet) is at least `at_risk_hazard` x
    `churn.base_hazard`, the rule of the `at_risk` metric;
  - `new`: a customer, not at risk, who first adopted fewer than `new_ticks` ticks ago (customers at tick 0 have
    lived `population.initial.history` purchases and are never new);
  - `loyal`: a customer, neither at risk nor new, with loyalty L >= `loyal_loyalty`;
  - `churned`: an ex-customer who has not come back;
  - customers who are none of new, loyal and at risk (established, loyalty below the threshold) match no state.

  A kind acts on some states only, and a target naming another is refused on load (it would reach nobody while
  its spend is booked): `advertising` reaches only `prospect` (ads reach people who never bought, so a win-back
  ad to the churned does nothing); `referral_reward`, `personalised_marketing`, `loyalty_program`, `community`,
  `churn_prevention`, `crisis`, `omnichannel` and `mobile_experience` act on customers only (`new`, `loyal`,
  `at_risk`).

{target_table}

What a target restricts, per kind (the others act on everyone through a global lever: a price, the quality, the
brand, a rival, so the scenario refuses a `target` for them with one line naming the kinds that
accept it). Costs follow who is actually reached: offers, members and referral payouts are counted among the
targeted only.

{kinds_table}
"""

ECON = """## Economics

Per tick the metrics table has `revenue` (spend x price), `cost_of_goods` (spend x (1 - margin)), one
`cost_<name>` per intervention, `intervention_cost` (their sum) and `profit` = revenue - cost of goods -
intervention cost, with cumulative `cum_revenue`, `cum_cost_of_goods`, `cum_intervention_cost`, `cum_profit`.
`wom_sim.sim.economics.ledger(metrics)` adds the cumulative cost of each intervention. Also per tick:

- `purchases`, `cum_purchases`, `cum_repurchases`, `cum_churn_events`;
- `margin_per_purchase` = (cum revenue - cum cost of goods) / cum purchases;
- `clv`, the lifetime value of a new customer in currency, in the last row only (NaN before): the expected gross
  margin over their life, discounted at 10% a year (Gupta, Lehmann & Stuart 2004), = margin per customer-tick x
  the expected discounted lifetime of a shifted-beta-geometric retention fitted by maximum likelihood to the run's
  retention by tenure (Fader & Hardie 2007), which lets the hazard fall with tenure and extrapolates beyond the
  horizon (`wom_sim.sim.economics.customer_lifetime_value`; NaN before the first churn).

`wom_sim.compare(base, treatment, replications=5)` runs both scenarios with the same replication seeds (same
graph, population and streams: common random numbers) and returns, per replication (`per_seed`) and as mean with a
95% t-interval (`uplift`), the paired difference of each outcome (by default adoption, customers, NPS, churn, WOM
volumes, brand, crisis damage, revenue, cost, intervention spend, profit net of intervention costs and payback;
`outcomes=[...]` names others, such as `repurchase_rate`, `clv` or `wom_acquired_share`), and `roi`: ROI = mean
incremental profit / mean incremental programme cost (0 = break-even) with a paired 95% CI (Fieller's)
(docs/experiments.md, "The ROI estimator"). Results for every bundled scenario: [cookbook.md](cookbook.md).

```python
import wom_sim
c = wom_sim.compare("baseline", "referral_program", replications=5, seed=1,
                    outcomes=["profit", "adoption_share", "wom_acquired_share", "clv"])
print(c.roi)                                                    # ROI with its 95% CI, incremental profit and cost
print(c.uplift.set_index("outcome").loc["wom_acquired_share"])  # a paired change with its 95% CI
```
"""

ORDER = list(KINDS)
assert set(ORDER) == set(REGISTRY)
parts = [HEAD + ", ".join(f"[`{k}`](#{k})" for k in ORDER) + ".\n"]
for kind in ORDER:
    cls = REGISTRY[kind]
    k = KINDS[kind]
    section = "events" if kind == "crisis" or kind.startswith("competitor_") else "interventions"
    doc = (cls.__doc__ or "").strip().split("\n")[0]
    parts.append(
        f"## `{kind}`\n\n{doc}\n\n{k['what']}\n\n**Cost:** {k['cost']}\n\n"
        + (f"**Target:** {cls.Params.targetable} ([targeting](#targeting)).\n\n" if cls.Params.targetable else "")
        + f"{params_table(cls.Params)}\n\n"
        f"```yaml\n{'' if k['example'].startswith('events') else section + ':' + chr(10)}{k['example']}\n```\n"
    )
kinds_table = "\n".join(
    ["| kind | `target` restricts |", "|---|---|"]
    + [f"| [`{k}`](#{k}) | {MODELS[k].targetable} |" for k in ORDER if MODELS[k].targetable]
)
parts.append(TARGETING.replace("{target_table}", params_table(Target)).replace("{kinds_table}", kinds_table))
parts.append(ECON)
open(str(ROOT) + "/docs/interventions.md", "w").write("\n".join(parts))
