"""The restructured tick of wom_sim/sim/fast.py against the reference tick of dynamics.py: bit-identical state.

Each scenario runs twice from the same seed, once with `model.kernel = "reference"`; after every tick every array
of the people and of the tick state must be equal bit for bit, and the metrics tables equal. Small markets
(400-800 people, 20-30 ticks) keep this under a few seconds; the scenarios are chosen to exercise interventions
and events (KOL posts, referral tags, crises, recoveries with and without delay, price moves, need creation).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim import fast
from wom_sim.sim.levers import Levers
from wom_sim.sim.model import WomModel

TICK_FIELDS = ("impact", "heard_negative", "referred", "referrer", "adopted", "repurchased", "won_back", "churned",
               "unrecovered", "spoke_positive")  # fmt: skip


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype and bytes (so -0.0 and 0.0, or two NaNs with other payloads, count as different)."""
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def _pair(name: str, n: int, ticks: int, overrides: dict | None = None) -> tuple[WomModel, WomModel]:
    reference = WomModel(bundled_path(name), n=n, ticks=ticks, seed=11, overrides=overrides)
    reference.kernel = "reference"
    return reference, WomModel(bundled_path(name), n=n, ticks=ticks, seed=11, overrides=overrides)


def _assert_identical_runs(reference: WomModel, candidate: WomModel, ticks: int) -> None:
    for t in range(ticks):
        reference.step()
        candidate.step()
        for f in dataclasses.fields(reference.population):
            a, b = getattr(reference.population, f.name), getattr(candidate.population, f.name)
            if isinstance(a, np.ndarray):
                assert _same_bits(a, b), f"tick {t}: population.{f.name} differs"
        for name in TICK_FIELDS:
            assert _same_bits(getattr(reference.last_tick, name), getattr(candidate.last_tick, name)), (t, name)
        for valence in ("positive", "negative"):
            a, b = getattr(reference.last_tick, valence), getattr(candidate.last_tick, valence)
            assert _same_bits(a.src, b.src) and _same_bits(a.dst, b.dst), (t, valence)
        assert reference.brand == candidate.brand and reference.reference_price == candidate.reference_price
    assert reference.metrics_frame().equals(candidate.metrics_frame())
    assert reference.people().equals(candidate.people())


def test_the_fast_tick_mirrors_todays_reference():
    # Fails when dynamics.py's rules, the scenario schema, Levers or Population changed since fast.py was checked:
    # then every run silently takes the reference tick. Check fast.py against the change (this file's tests), then
    # set MIRRORED_FINGERPRINT to fast.reference_fingerprint().
    assert fast.reference_fingerprint() == fast.MIRRORED_FINGERPRINT
    sc = WomModel(None, n=200, ticks=1, seed=1)
    assert fast.covers(sc.wom_scenario, Levers.neutral(sc.wom_scenario), sc.population)


@pytest.mark.parametrize(
    ("name", "n", "ticks"),
    [
        ("baseline", 800, 30),
        ("kol_launch", 500, 25),
        ("referral_program", 500, 25),
        ("product_crisis_handled", 500, 25),
        ("price_war", 400, 20),
        ("fake_review_scandal", 400, 20),
        ("personalised_marketing", 400, 20),
        ("segment_referral", 500, 25),
    ],
)
def test_fast_tick_is_bit_identical_to_the_reference(name, n, ticks):
    _assert_identical_runs(*_pair(name, n, ticks), ticks)


def test_rarer_settings_are_bit_identical_too():
    # Need creation (its own stream), delayed and immediate recoveries with the paradox, chained forwarding and
    # a novelty decay: the branches the bundled scenarios leave at their defaults.
    overrides = {"advertising.need_creation": 0.3, "population.market_potential": 0.5,
                 "experience.recovery.coverage": 0.7, "experience.recovery.delay": 2,
                 "wom.forward.chain": True, "wom.satisfaction_elasticity": 1.5}  # fmt: skip
    _assert_identical_runs(*_pair("service_recovery", 700, 25, overrides), 25)
    overrides = {"experience.recovery.coverage": 0.9, "experience.recovery.delay": 0,
                 "experience.recovery.paradox": 0.2}  # fmt: skip
    _assert_identical_runs(*_pair("baseline", 600, 20, overrides), 20)
    # Recoveries within the failure's tick ("3 days" of a week: failure talk and churn multiplier at 3/7) and
    # beyond whole ticks (1.5 weeks), the latter for a target only (per-person delays).
    overrides = {"experience.recovery.coverage": 0.9, "experience.recovery.delay": "3 days",
                 "brand.service_failure": 0.15}  # fmt: skip
    _assert_identical_runs(*_pair("baseline", 600, 20, overrides), 20)
    recovery = {
        "kind": "service_recovery",
        "coverage": 1.0,
        "delay": "1.5 weeks",
        "target": {"segment": "collectivist"},
    }
    overrides = {"experience.recovery.coverage": 0.8, "experience.recovery.delay": "2 days",
                 "brand.service_failure": 0.15, "interventions": [recovery]}  # fmt: skip
    _assert_identical_runs(*_pair("segment_referral", 500, 20, overrides), 20)


def test_an_uncovered_reference_takes_the_reference_tick(monkeypatch):
    # A reference that changed since fast.py was checked (here: a fingerprint that no longer matches) must run the
    # reference steps, not the fast ones.
    monkeypatch.setattr(fast, "MIRRORED_FINGERPRINT", "something-else")
    model = WomModel(None, n=300, ticks=3, seed=2)
    calls = []
    monkeypatch.setattr(model._fast, "run", lambda *a, **k: calls.append("fast"))
    reference_tick = model._reference_tick
    monkeypatch.setattr(model, "_reference_tick", lambda *a: (calls.append("reference"), reference_tick(*a))[1])
    model.run()
    assert calls == ["reference"] * 3


@pytest.mark.parametrize(
    ("name", "n", "ticks"),
    [("competitor_price_cut", 600, 30), ("competitor_crisis_fast", 500, 30), ("launch_race", 500, 25),
     ("competitor_price_match", 500, 25)],
)  # fmt: skip
def test_a_market_with_rivals_is_bit_identical_too(monkeypatch, name, n, ticks):
    # The rivals' steps are competition.py's in both ticks, called at the same points with the same draws; the
    # focal brand's steps are the fast ones (checked above), with the brand choice and switching in step 5.
    reference, candidate = _pair(name, n, ticks)
    assert candidate.market is not None
    ran = []
    fast_run = candidate._fast.run
    monkeypatch.setattr(candidate._fast, "run", lambda *a, **k: (ran.append(1), fast_run(*a, **k))[1])
    _assert_identical_runs(reference, candidate, ticks)
    assert len(ran) == ticks  # the fast tick did run the market
    for field in ("rival", "last_brand", "knows", "failed", "view", "reputation", "last_purchase", "cumulative"):
        assert _same_bits(getattr(reference.market, field), getattr(candidate.market, field)), field
    assert reference.switching_frame().equals(candidate.switching_frame())


def test_levers_of_an_unknown_kind_take_the_reference_tick():
    # Whitelist, not blacklist: a Levers subclass (fields the fast tick may not know) is not covered.
    sc = WomModel(None, n=200, ticks=1, seed=1)

    @dataclasses.dataclass
    class MoreLevers(Levers):
        competitor_price: float = 1.0

    assert not fast.covers(sc.wom_scenario, MoreLevers.neutral(sc.wom_scenario), sc.population)
