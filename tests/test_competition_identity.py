"""The competition steps' speed-ups keep the same draws giving the same state (wom_sim/sim/competition.py).

The digests below were recorded with the implementation before the vectorised rewrite (commit 9f17284): every
metric of every tick and the final market and population arrays of small runs with rivals, a crisis (forced
negative posts), a KOL launch and a price war. Any change here is a model change: say so in docs/model.md.
Re-recorded once for a change of the switching matrix alone (a lapsed customer of ours comes from ours): the same
digest without `switch_in`, `switch_out` and the cumulative matrix was unchanged, every state the same. Re-recorded
again for a change of random scheme: the competition steps that read a few people (talk, switching, repurchase,
experience, churn) hash per-person uniforms instead of reading full stream draws (docs/model.md, Randomness); 16
seeds of three bundled markets at 2,000 people before and after agree (Welch p >= 0.07 on 21 outcomes).
Re-recorded for a model change (2026-12-03): an ad contact or a heard message moves a person's view of a rival at
`competition.view_rate`, not at E's rate, so an identical rival no longer wins more than we do (docs/model.md).
Re-recorded for a model change (2026-12-03): a person retells at most one heard story a tick, its valence in
proportion to the first-hand stories heard (docs/model.md, "A person retells at most one story a tick"); the
rivals' steps are unchanged.
Re-recorded for a model change (2026-12-04): a rival follows the focal brand's rules (expectation and trust drawn
as ours, a lived history for its initial customers, trust, loyalty and attachment per person and rival, win-back
for everyone who bought it, the category-buyer term for ours, talk by its lapsed buyers), so an identical rival
holds half the market at every horizon (docs/model.md, Competition, Checks); the digest adds the new arrays.
Re-recorded (2026-12-04) for the CLV column alone: the sBG fit is polished by Newton's method and kept to 9
significant digits (economics.sbg_fit), as TNC's stopping point moved with the machine (the digests recorded on
one machine failed on another, with every other column and array the same).
Re-recorded for a model change (2026-12-04, double jeopardy): a person holds a doubt of each rival they never
bought, as of ours (`Market.doubt`, step 4's rule), and a category buyer weighs every brand they never bought by
win-back's form with their loyalty target for it (`category_buyer_logit`, `rival_utility`), so a larger, more
advertised rival stays larger (docs/model.md, Competition); the digest adds `doubt`.
Re-recorded for the CLV column alone when its discounted lifetime became an exactly rounded sum
(economics.discounted_lifetime: moves of 2e-11, no BLAS, the same bits on every machine).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim.model import WomModel

RIVALS = [
    {"name": "acme", "advertising": 0.1, "initial_customers": 0.05},
    {"name": "budget", "quality": 0.65, "price": 0.85, "initial_customers": 0.02, "initial_aware": 0.1},
]


def digest(model: WomModel) -> str:
    h = hashlib.sha256()
    frame = model.metrics_frame()
    for col in frame.columns:
        h.update(col.encode())
        h.update(np.ascontiguousarray(frame[col].to_numpy(dtype=np.float64)).tobytes())
    m, pop = model.market, model.population
    for arr in (m.rival, m.last_brand, m.knows, m.failed, m.view, m.reputation, m.last_purchase, m.cumulative,
                m.trust, m.loyalty, m.attachment, m.tried, m.doubt,
                pop.status, pop.E, pop.S, pop.T, pop.L, pop.churned_at):  # fmt: skip
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


CASES = {
    "two_rivals": (None, {"network.n": 1500, "ticks": 40, "competitors": RIVALS}, 3),
    "crisis": (bundled_path("competitor_crisis"), {"network.n": 1500, "ticks": 40}, 4),
    "launch_race": (bundled_path("launch_race"), {"network.n": 1500, "ticks": 30}, 5),
    "price_match": (bundled_path("competitor_price_match"), {"network.n": 1500, "ticks": 40}, 6),
}
RECORDED = {
    "two_rivals": "41a745835762b2f0",
    "crisis": "39beac8a98a57521",
    "launch_race": "b6b4db3c071335a1",
    "price_match": "14ce321d4f704275",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_draws_give_the_same_market(case):
    spec, overrides, seed = CASES[case]
    assert digest(WomModel(spec, overrides=overrides, seed=seed).run()) == RECORDED[case]
