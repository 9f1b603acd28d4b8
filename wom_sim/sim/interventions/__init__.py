"""Interventions and events: small registered classes that change this tick's `Levers`, book their cost and ask
the tick for lasting effects through an `InterventionContext` (never the model).

A scenario lists them under `interventions:` (company levers) and `events:` (things that happen to the company).
Each entry has a `kind`, optional `name`, optional `schedule` (at / every / from-until) and `when` trigger on a
metric of the previous tick (with `once`, `cooldown`, `duration`); the rest are the kind's own parameters.
Every key is validated with the scenario (wom_sim/scenario/interventions.py: one model per kind, the class's
`Params`). Triggers are data, compared with a fixed table of operators, never evaluated.

Modules: `base` (registry, schedules, triggers, building, the hooks' contract), `context` (what hooks see, the
named effects and their order), `marketing` (advertising, kol_campaign,
referral_reward, price_change, personalised_marketing, fake_reviews), `retention` (loyalty_program, community,
churn_prevention), `service` (service_improvement, service_recovery), `crisis` (crisis, crisis_response and the
shared `CrisisState` in `ctx.shared["crisis"]`), `crisis_management` (crisis_monitoring, crisis_plan,
crisis_reflection: they act on that record), `experience` (omnichannel, social_content, mobile_experience).
Every kind is documented in docs/interventions.md.
"""

from wom_sim.sim.interventions import (  # noqa: F401 - importing registers the kinds
    competition,
    crisis,
    crisis_management,
    experience,
    marketing,
    retention,
    service,
)
from wom_sim.sim.interventions.base import (
    EFFECT_ORDER,
    OPERATORS,
    REGISTRY,
    Intervention,
    InterventionContext,
    apply_all,
    apply_effects,
    build_interventions,
    register,
    scheduled,
    settle_all,
    setup_all,
    triggered,
)
from wom_sim.sim.interventions.crisis import Crisis, CrisisState, crisis_impact, crisis_state

__all__ = [
    "EFFECT_ORDER",
    "OPERATORS",
    "REGISTRY",
    "Crisis",
    "CrisisState",
    "Intervention",
    "InterventionContext",
    "apply_all",
    "apply_effects",
    "build_interventions",
    "crisis_impact",
    "crisis_state",
    "register",
    "scheduled",
    "settle_all",
    "setup_all",
    "triggered",
]
