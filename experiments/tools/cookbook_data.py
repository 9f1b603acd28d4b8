"""Developer tool: regenerates a docs/ page from the code (see docs/interventions.md and docs/cookbook.md)."""

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
import json
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
import pandas as pd

from wom_sim.sim.economics import paired_roi
from wom_sim.sim.interventions import crisis_impact
from wom_sim.sim.model import resolve_scenario, simulate

SEEDS = [1, 2, 3, 4, 5]
names = sys.argv[1:] or [
    "kol_launch",
    "kol_launch_unscreened",
    "kol_vs_ads",
    "referral_program",
    "loyalty_program",
    "community_building",
    "service_improvement",
    "service_recovery",
    "product_crisis",
    "product_crisis_handled",
    "product_crisis_mishandled",
    "price_war",
    "churn_early_warning",
    "personalised_marketing",
    "fake_review_scandal",
]
out = {}
for name in names:
    t = time.time()
    r = paired_roi(str(ROOT) + "/scenarios/baseline.yaml", f"{ROOT}/scenarios/{name}.yaml", SEEDS)
    base = r.per_seed.filter(like="base_").mean()
    treat = r.per_seed.filter(like="treat_").mean()
    entry = {
        "summary": r.summary.to_dict(orient="index"),
        "base": base.to_dict(),
        "treat": treat.to_dict(),
        "roi_of_means": r.roi_of_means,
        "per_seed": r.per_seed.to_dict(orient="list"),
    }
    if "crisis" in name:
        imp = []
        for s in SEEDS:
            b = simulate(resolve_scenario(str(ROOT) + "/scenarios/baseline.yaml"), seed=s)
            c = simulate(
                resolve_scenario(f"{ROOT}/scenarios/{name}.yaml"), graph=b.model.graph, kol_ids=b.model.kol_ids, seed=s
            )
            imp.append(crisis_impact(c.metrics, 40, baseline=b.metrics, window=64))
        entry["crisis"] = pd.DataFrame(imp).to_dict(orient="list")
    out[name] = entry
    print(name, round(time.time() - t, 1), "s", file=sys.stderr)
json.dump(
    out,
    open(str(ROOT) + "/runs/cookbook.json" if len(sys.argv) < 2 else str(ROOT) + "/runs/cookbook_part.json", "w"),
    default=float,
)
