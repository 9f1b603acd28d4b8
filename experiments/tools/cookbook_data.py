"""Developer tool: runs the cookbook's comparisons (docs/cookbook.md) and stores them in runs/cookbook.json.

Every bundled what-if scenario against the baseline with `wom_sim.compare`: five replications with the replication
seeds of base seed 1 (the one seed scheme, docs/experiments.md), paired uplifts with t-intervals and the ROI
estimator of `wom_sim.analysis.statistics.roi`. `make_cookbook.py` writes the page from the file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from wom_sim.catalogue import CATALOGUE
from wom_sim.experiment.comparison import compare
from wom_sim.sim.interventions import crisis_impact

ROOT = Path(__file__).resolve().parents[2]
REPLICATIONS, SEED = 5, 1
# The cookbook's names for its rows -> outcome names (wom_sim.analysis.outcomes; a bare name uses the catalogue's
# statistic: the last value of stocks and cumulative sums, the mean of rates).
KEYS = {
    "cum_profit": "cum_profit",
    "cum_intervention_cost": "cum_intervention_cost",
    "cum_revenue": "cum_revenue",
    "adoption_share": "adoption_share",
    "adoption_mean": "mean:adoption_share",  # mean over ticks: higher = faster adoption
    "customers": "customers",
    "churn_rate": "churn_rate",
    "repurchase_rate": "repurchase_rate",
    "nps": "nps",
    "pos_messages": "pos_messages",
    "neg_messages": "neg_messages",
    "wom_acquired_share": "wom_acquired_share",
    "brand": "brand",
    "brand_min": "min:brand",
    "mean_T": "mean_T",
    "margin_per_purchase": "margin_per_purchase",
    "clv": "clv",
}
NAMES = ["kol_launch", "kol_launch_unscreened", "kol_vs_ads", "referral_program", "loyalty_program",
         "community_building", "service_improvement", "service_recovery", "product_crisis", "product_crisis_handled",
         "product_crisis_mishandled", "price_war", "churn_early_warning", "personalised_marketing",
         "fake_review_scandal"]  # fmt: skip


def run_comparison(base: str, treatment: str):
    """The cookbook's paired comparison of two bundled scenarios."""
    return compare(base, treatment, replications=REPLICATIONS, seed=SEED, outcomes=list(KEYS.values()))


def entry(c) -> dict:
    """The comparison as the cookbook reads it: summary rows (mean, ci_low, ci_high), arm means, per seed."""
    uplift = c.uplift.set_index("outcome")
    summary = {
        f"delta_{key}": {"mean": uplift.loc[name, "uplift"], "ci_low": uplift.loc[name, "ci_low"],
                         "ci_high": uplift.loc[name, "ci_high"]}
        for key, name in KEYS.items()
    }  # fmt: skip
    summary["incremental_profit"] = summary["delta_cum_profit"]
    summary["incremental_cost"] = summary["delta_cum_intervention_cost"]
    roi = c.roi.iloc[0]
    summary["roi"] = {"mean": roi["roi"], "ci_low": roi["ci_low"], "ci_high": roi["ci_high"]}
    per_seed = c.per_seed
    return {
        "summary": summary,
        "base": {f"base_{key}": float(per_seed[f"base_{name}"].mean()) for key, name in KEYS.items()},
        "treat": {f"treat_{key}": float(per_seed[f"treat_{name}"].mean()) for key, name in KEYS.items()},
        "seeds": per_seed["seed"].tolist(),
        "per_seed": per_seed.to_dict(orient="list"),
    }


def main(names: list[str]) -> None:
    out = {}
    for name in names:
        start = time.time()
        c = run_comparison("baseline", name)
        out[name] = entry(c)
        if "crisis" in name:
            base, crisis = c.runs_of(c.base), c.runs_of(c.treatments[0])
            impact = [crisis_impact(crisis[r], 40, baseline=base[r], window=64) for r in sorted(base)]
            out[name]["crisis"] = pd.DataFrame(impact).to_dict(orient="list")
        print(name, round(time.time() - start, 1), "s", file=sys.stderr)
    target = ROOT / "runs" / ("cookbook.json" if names == NAMES else "cookbook_part.json")
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(out, default=float), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:] or NAMES)


# The cookbook tables' row labels and number formats, by metric (make_cookbook.py, cookbook_levers.py).
LABEL = {
    "adoption_mean": ("Mean adoption share over the run (speed)", "{:.3f}"),
    "adoption_share": ("Ever adopted at the end", "{:.1%}"),
    "customers": ("Active customers at the end", "{:,.0f}"),
    "churn_rate": ("Churn rate per week (mean)", "{:.3%}"),
    "repurchase_rate": ("Repurchase rate per week (mean)", "{:.3f}"),
    "nps": ("NPS at the end", "{:+.1f}"),
    "pos_messages": ("Positive WOM messages (total)", "{:,.0f}"),
    "neg_messages": ("Negative WOM messages (total)", "{:,.0f}"),
    "wom_acquired_share": (CATALOGUE["wom_acquired_share"].label, "{:.1%}"),  # the catalogue's label, as elsewhere
    "brand": ("Brand B at the end", "{:.3f}"),
    "mean_T": ("Mean trust of customers at the end", "{:.3f}"),
    "margin_per_purchase": ("Gross margin per purchase", "{:.2f}"),
    "clv": ("CLV estimate at the end", "{:,.0f}"),
    "cum_revenue": ("Revenue (cumulative)", "{:,.0f}"),
    "cum_intervention_cost": ("Intervention cost (cumulative)", "{:,.0f}"),
    "cum_profit": ("Profit (cumulative)", "{:,.0f}"),
}
