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

from wom_sim.catalogue import decimals, format_delta, metric
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


# The cookbook tables' row labels and number formats, by metric (make_cookbook.py, cookbook_levers.py). Shares and
# rates are printed in %, their changes in percentage points (`change_text`).
LABEL = {
    "adoption_mean": ("Mean adoption share over the run (speed)", "{:.1%}"),
    "adoption_share": ("Ever adopted at the end", "{:.1%}"),
    "customers": ("Active customers at the end", "{:,.0f}"),
    "churn_rate": ("Churn rate per week (mean)", "{:.3%}"),
    "repurchase_rate": ("Repurchase rate per week (mean)", "{:.1%}"),
    "nps": ("NPS at the end", "{:+.1f}"),
    "pos_messages": ("Positive WOM messages (total)", "{:,.0f}"),
    "neg_messages": ("Negative WOM messages (total)", "{:,.0f}"),
    # The catalogue's label: the share counts KOLs and referrals too, beside a "word of mouth" channel of peers alone.
    "wom_acquired_share": (metric("wom_acquired_share").label, "{:.1%}"),
    "brand": ("Brand B at the end", "{:.3f}"),
    "mean_T": ("Mean trust of customers at the end", "{:.3f}"),
    "margin_per_purchase": ("Gross margin per purchase", "{:.2f}"),
    "clv": ("CLV estimate at the end", "{:,.0f}"),
    # The catalogue's labels: "Intervention cost" beside the tables' "Intervention spend" read as another cost.
    "cum_revenue": (metric("cum_revenue").label, "{:,.0f}"),
    "cum_intervention_cost": (metric("cum_intervention_cost").label, "{:,.0f}"),
    "cum_profit": (metric("cum_profit").label, "{:,.0f}"),
}


def change_text(name: str, value: float, fmt: str, unit: bool = True) -> str:
    """A change of outcome `name` (a `KEYS` value or a catalogue column) printed with `fmt`'s decimals: a share or
    rate in percentage points ("+10.9 pts", never "+10.9%", which reads as a relative change; the catalogue's
    `format_delta`), NPS in points, anything else signed in `fmt`. `unit=False` leaves " pts" off (a CI bound)."""
    if value != value:
        return "n/a"
    scale = metric(name.split(":")[-1]).scale
    if scale == "percent":
        text = format_delta(name, value, digits=decimals(fmt))
    elif scale == "points":
        text = format_delta(name, value)
    else:
        return fmt.format(value) if "+" in fmt else ("+" if value >= 0 else "") + fmt.format(value)
    return text if unit else text.removesuffix(" pts")


def ci_text(key: str, s: dict) -> str:
    """A cookbook change cell: the mean change and its 95% CI, "+10.9 pts (+8.0 to +13.8)"."""
    name, fmt = KEYS.get(key, key), LABEL[key][1] if key in LABEL else "{:,.0f}"
    mean = change_text(name, s["mean"], fmt)
    if s["ci_low"] != s["ci_low"]:
        return mean
    return f"{mean} ({change_text(name, s['ci_low'], fmt, False)} to {change_text(name, s['ci_high'], fmt, False)})"


if __name__ == "__main__":
    main(sys.argv[1:] or NAMES)
