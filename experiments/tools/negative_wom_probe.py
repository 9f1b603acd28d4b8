"""Does word of mouth hurt a bad product and help a good one? Paired seeds, WOM on vs off.

For each product (the baseline's quality and a poor one) the same replication seeds run with WOM and with WOM
switched off (`wom.contact_prob` 0, `kols.reach` 0, as fact F17 does). Reported per product: adoption share at the
end (WOM on - off, mean and 95% CI over the seed pairs) and the cut in first-year new customers without WOM.

    python experiments/tools/negative_wom_probe.py --n 3000 --weeks 104 --seeds 6

docs/model.md (Findings, "Model probe, 2026-12-03", item 6) records what it measured before and after the rule
that keeps what a prospect heard acting on later decisions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from wom_sim.experiment.seeds import replication_seeds
from wom_sim.scenario.loading import apply_overrides, build_scenario, load_raw
from wom_sim.validation.lab import run_once

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
WOM_OFF = {"wom.contact_prob": 0.0, "kols.reach": 0.0}


def paired_effect(
    quality: float | None, n: int, weeks: int, seeds: int, extra: dict | None = None, first_year: int = 52
) -> dict[str, float]:
    """WOM on - off for one product: end adoption difference (mean, CI half-width) and the first-year cut."""
    base = {"network.n": n, "ticks": weeks, **(extra or {}), **({} if quality is None else {"brand.quality": quality})}
    arms = {
        name: build_scenario(apply_overrides(load_raw(BASELINE), {**base, **arm}, str(BASELINE)), str(BASELINE))
        for name, arm in (("on", {}), ("off", WOM_OFF))
    }
    diff, cut, nps = [], [], []
    for seed in replication_seeds(1, seeds):
        on, off = (run_once(arms[a], seed).metrics for a in ("on", "off"))
        diff.append(on["adoption_share"].iloc[-1] - off["adoption_share"].iloc[-1])
        new_on = on["new_customers"].iloc[:first_year].sum()
        cut.append(1.0 - off["new_customers"].iloc[:first_year].sum() / new_on if new_on else 0.0)
        nps.append(on["nps"].mean())
    d = np.asarray(diff)
    half = 1.96 * d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
    return {"diff": float(d.mean()), "half": float(half), "cut": float(np.mean(cut)), "nps": float(np.mean(nps))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--poor", type=float, default=0.55, help="quality of the bad product")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a scenario override")
    args = parser.parse_args()
    extra = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    for label, q in (("baseline", None), (f"poor Q {args.poor:g}", args.poor)):
        r = paired_effect(q, args.n, args.weeks, args.seeds, extra)
        print(
            f"{label:>14}: adoption WOM on - off {r['diff']:+.4f} (95% CI {r['diff'] - r['half']:+.4f} to "
            f"{r['diff'] + r['half']:+.4f}); first-year new customers cut without WOM {r['cut']:.1%}; "
            f"mean NPS {r['nps']:+.1f}"
        )


if __name__ == "__main__":
    main()
