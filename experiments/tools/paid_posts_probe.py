"""Do paid KOL posts change how experienced customers of a poor product feel? Paired seeds, campaign vs none.

A poor product (quality 0.55) with an always-on KOL campaign of 20 KOLs (hired by degree, no backlash, so only
the posts act) against the same market without it, on the same replication seeds. Reported: year-2 churn events,
mean NPS and mean trust over year 2, the customers at the end and the initial customers' satisfaction and trust
at the end (the same people in both arms, experienced before any post) (relative changes or differences, 95% CI over the
seed pairs). A paid post is advertising: it should move prospects (awareness, expectation), and barely move the
satisfaction and trust of people who have tried the product (Hoch & Deighton 1989; Kempf & Smith 1998).

    python experiments/tools/paid_posts_probe.py --n 3000 --weeks 104 --seeds 6

docs/model.md (Findings, "Model probe, 2026-12-03", item 4) records what it measured before and after the rule
`reception.sponsored_weight`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from wom_sim.experiment.seeds import replication_seeds
from wom_sim.scenario.loading import apply_overrides, build_scenario, load_raw
from wom_sim.validation.lab import run_once

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
CAMPAIGN = {"kind": "kol_campaign", "select": {"by": "degree", "k": 20}, "backlash_risk": 0.0}


def _ci(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values)
    return float(v.mean()), float(1.96 * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def paired_effect(
    n: int = 3000, weeks: int = 104, seeds: int = 6, quality: float = 0.55, extra: dict | None = None
) -> dict[str, tuple[float, float]]:
    """Campaign - none on the same seeds: year-2 churn (relative), NPS and trust over year 2, customers and
    adoption at the end, and the initial customers' satisfaction (S0) and trust (T0) at the end."""
    base = {"network.n": n, "ticks": weeks, "brand.quality": quality, **(extra or {})}
    raw = load_raw(BASELINE)
    arms = {
        "none": build_scenario(apply_overrides(raw, base, str(BASELINE)), str(BASELINE)),
        "kol": build_scenario(
            apply_overrides({**raw, "interventions": [CAMPAIGN]}, base, str(BASELINE)), str(BASELINE)
        ),  # fmt: skip
    }
    year2 = slice(52, weeks)
    out: dict[str, list[float]] = {k: [] for k in ("churn", "nps", "trust", "customers", "adoption", "S0", "T0")}
    for seed in replication_seeds(1, seeds):
        runs = {a: run_once(arms[a], seed) for a in ("none", "kol")}
        none, kol = runs["none"].metrics, runs["kol"].metrics
        # The initial customers are the same people in both arms and tried the product before any post: what the
        # campaign does to their satisfaction and trust is what it does to experienced people.
        initial = {a: r.people[r.people["adoption_tick"] < 0] for a, r in runs.items()}
        out["S0"].append(initial["kol"]["satisfaction"].mean() - initial["none"]["satisfaction"].mean())
        out["T0"].append(initial["kol"]["trust"].mean() - initial["none"]["trust"].mean())
        out["churn"].append(kol["churn_rate"].iloc[year2].mean() / none["churn_rate"].iloc[year2].mean() - 1.0)
        out["nps"].append(kol["nps"].iloc[year2].mean() - none["nps"].iloc[year2].mean())
        out["trust"].append(kol["mean_T"].iloc[year2].mean() - none["mean_T"].iloc[year2].mean())
        out["customers"].append(kol["customers"].iloc[-1] / none["customers"].iloc[-1] - 1.0)
        out["adoption"].append(kol["adoption_share"].iloc[-1] - none["adoption_share"].iloc[-1])
    return {k: _ci(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a scenario override")
    args = parser.parse_args()
    extra = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    r = paired_effect(args.n, args.weeks, args.seeds, extra=extra)
    for key, fmt in (("churn", "{:+.1%}"), ("nps", "{:+.1f}"), ("trust", "{:+.3f}"), ("customers", "{:+.1%}"),
                     ("adoption", "{:+.3f}"), ("S0", "{:+.3f}"), ("T0", "{:+.3f}")):  # fmt: skip
        mean, half = r[key]
        print(f"{key:>10}: campaign - none {fmt.format(mean)} (95% CI {fmt.format(mean - half)} to "
              f"{fmt.format(mean + half)})")  # fmt: skip


if __name__ == "__main__":
    main()
