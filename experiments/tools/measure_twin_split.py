"""Our market share against an identical rival (a twin) at several horizons, over paired seeds.

By symmetry (Bell, Keeney & Little 1975: equal attraction, equal share) a twin with the baseline's quality,
failure, price, margin, reputation, ads and initial shares should hold half the market at every horizon; a
share that drifts with the horizon means the two brands follow different rules (docs/model.md, Competition,
Checks). Each seed runs the baseline with one twin; the seeds are the same for every variant, so a switch
(`--set`) is compared with the same markets.

    python experiments/tools/measure_twin_split.py --n 2000 --seeds 8
    python experiments/tools/measure_twin_split.py --set wom.contact_prob=0 --twin advertising=0

Prints, per horizon, the mean share over the seeds with a 95% t interval, and the switching totals to the end.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim.model import WomModel

HORIZONS = (13, 52, 104, 207)  # weeks: a quarter, one, two and four years
# The baseline's own offer and start, as a rival (scenarios/baseline.yaml; schema defaults for the rest).
TWIN = {"name": "twin", "quality": 0.8, "service_failure": 0.05, "price": 1.0, "margin": 0.3, "reputation": 0.6,
        "advertising": 0.1, "initial_customers": 0.01, "initial_aware": 0.05}  # fmt: skip


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def twin_run(seed: int, n: int, horizons: tuple[int, ...], overrides: dict, twin: dict) -> dict:
    """One market with a twin: our share at each horizon (tick index week - 1) and the switching to the end."""
    ticks = max(horizons)
    model = WomModel(
        bundled_path("baseline"),
        overrides={"network.n": n, "ticks": ticks, "competitors": [{**TWIN, **twin}], **overrides},
        seed=seed,
    ).run()
    frame = model.metrics_frame()
    share = {w: float(frame["market_share"].iloc[w - 1]) for w in horizons}
    switches = model.switching_frame(cumulative=True)
    matrix = switches.pivot_table(index="from", columns="to", values="count", aggfunc="sum", observed=False)
    return {
        "share": share,
        "ours_to_twin": int(matrix.loc["ours", "twin"]),
        "twin_to_ours": int(matrix.loc["twin", "ours"]),
        "customers": (int(frame["customers"].iloc[-1]), int(frame["rival_customers"].iloc[-1])),
    }


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% t interval over the seeds."""
    x = np.asarray(values)
    if x.size < 2:
        return float(x.mean()), float("nan"), float("nan")
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def measure(
    n: int, seeds: list[int], horizons=HORIZONS, overrides=None, twin=None, workers: int = 1, context=None
) -> dict:
    """Share per horizon (mean, lo, hi) and mean switching over `seeds` (`context`: a multiprocessing context)."""
    args = [(s, n, tuple(horizons), overrides or {}, twin or {}) for s in seeds]
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            runs = list(pool.map(twin_run, *zip(*args, strict=True)))
    else:
        runs = [twin_run(*a) for a in args]
    return {
        "share": {w: interval([r["share"][w] for r in runs]) for w in horizons},
        "ours_to_twin": float(np.mean([r["ours_to_twin"] for r in runs])),
        "twin_to_ours": float(np.mean([r["twin_to_ours"] for r in runs])),
        "runs": runs,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="people")
    p.add_argument("--seeds", type=int, default=8, help="seeds 0..seeds-1")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="scenario override (JSON value)")
    p.add_argument("--twin", action="append", default=[], metavar="KEY=VALUE", help="twin spec override")
    args = p.parse_args()
    overrides = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    twin = {k: _value(v) for k, v in (s.split("=", 1) for s in args.twin)}
    out = measure(args.n, list(range(args.seeds)), overrides=overrides, twin=twin, workers=args.workers)
    label = " ".join(args.set + [f"twin.{t}" for t in args.twin]) or "as is"
    cells = "  ".join(f"w{w} {m:.3f} ({lo:.3f}-{hi:.3f})" for w, (m, lo, hi) in out["share"].items())
    print(f"{label}: {cells}  switches ours->twin {out['ours_to_twin']:.0f}, twin->ours {out['twin_to_ours']:.0f}")


if __name__ == "__main__":
    main()
