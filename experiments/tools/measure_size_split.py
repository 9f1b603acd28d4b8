"""Double jeopardy: a larger, more advertised rival against a smaller one of the same offer, over paired seeds.

Of two brands alike in all but size, the larger has far more buyers and its buyers are slightly more loyal
(Ehrenberg, Goodhardt & Barwise 1990, "Double Jeopardy Revisited"; the Dirichlet model, Goodhardt, Ehrenberg &
Chatfield 1984; Sharp 2010), and market shares are stationary: a brand that starts larger and advertises more stays
larger over years. Each seed runs the baseline with two rivals of the baseline's quality, failure, price, margin
and reputation, one larger (6% of people at the start, ads reaching 20% a week) and one smaller (1.5%, 5%); the
seeds are the same for every variant, so a switch (`--set`) is compared with the same markets.

    python experiments/tools/measure_size_split.py --n 2000 --seeds 8 --workers 2

Prints, per horizon, the larger / smaller customers ratio (mean over the seeds, 95% t interval), and for each brand
its weekly retention (1 - lost / customers of the week before, mean over weeks 53 to the end: the repeat rate of
the stationary market), its mean loyalty at the end and the difference larger - smaller of both, paired by seed.
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
# The baseline's offer (scenarios/baseline.yaml) for both; only the start and the ads differ.
OFFER = {"quality": 0.8, "service_failure": 0.05, "price": 1.0, "margin": 0.3, "reputation": 0.6, "initial_aware": 0.05}
LARGER = {"name": "larger", **OFFER, "initial_customers": 0.06, "advertising": 0.2}
SMALLER = {"name": "smaller", **OFFER, "initial_customers": 0.015, "advertising": 0.05}
STATIONARY_FROM = 53  # weeks: retention is averaged from the second year on, after the launch phase


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def size_run(seed: int, n: int, horizons: tuple[int, ...], overrides: dict) -> dict:
    """One market: each rival's customers at each horizon (tick index week - 1), retention and loyalty."""
    ticks = max(horizons)
    model = WomModel(
        bundled_path("baseline"),
        overrides={"network.n": n, "ticks": ticks, "competitors": [LARGER, SMALLER], **overrides},
        seed=seed,
    ).run()
    frame = model.metrics_frame()
    out: dict = {"customers": {}, "retention": {}, "loyalty": {}}
    market = model.market
    for code, name in enumerate(market.names, start=1):
        customers = frame[f"rival_{name}_customers"].to_numpy(dtype=float)
        lost = frame[f"rival_{name}_lost"].to_numpy(dtype=float)
        out["customers"][name] = {w: float(customers[w - 1]) for w in horizons}
        before, gone = customers[STATIONARY_FROM - 2 : -1], lost[STATIONARY_FROM - 1 :]
        weeks = before > 0
        out["retention"][name] = float(np.mean(1.0 - gone[weeks] / before[weeks])) if weeks.any() else float("nan")
        users = np.flatnonzero(market.rival == code)
        out["loyalty"][name] = float(market.loyalty[code - 1][users].mean()) if users.size else float("nan")
    out["ours"] = float(frame["customers"].iloc[-1])
    return out


def interval(values) -> tuple[float, float, float]:
    """Mean and 95% t interval over the seeds."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float(x.mean()), float("nan"), float("nan")
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def measure(n: int, seeds: list[int], horizons=HORIZONS, overrides=None, workers: int = 1, context=None) -> dict:
    """Ratio per horizon, retention and loyalty per brand and their paired differences, each (mean, lo, hi)."""
    args = [(s, n, tuple(horizons), overrides or {}) for s in seeds]
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            runs = list(pool.map(size_run, *zip(*args, strict=True)))
    else:
        runs = [size_run(*a) for a in args]
    big, small = LARGER["name"], SMALLER["name"]
    ratio = {w: interval([r["customers"][big][w] / max(r["customers"][small][w], 1.0) for r in runs]) for w in horizons}
    per_brand = lambda key, name: interval([r[key][name] for r in runs])  # noqa: E731
    paired = lambda key: interval([r[key][big] - r[key][small] for r in runs])  # noqa: E731
    return {
        "ratio": ratio,
        "customers": {name: {w: interval([r["customers"][name][w] for r in runs]) for w in horizons}
                      for name in (big, small)},
        "retention": {name: per_brand("retention", name) for name in (big, small)},
        "loyalty": {name: per_brand("loyalty", name) for name in (big, small)},
        "retention_gap": paired("retention"),
        "loyalty_gap": paired("loyalty"),
        "ours": interval([r["ours"] for r in runs]),
        "runs": runs,
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="people")
    p.add_argument("--seeds", type=int, default=8, help="seeds 0..seeds-1")
    p.add_argument("--workers", type=int, default=1, help="processes (at most 2 on a shared machine)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="scenario override (JSON value)")
    args = p.parse_args()
    overrides = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    out = measure(args.n, list(range(args.seeds)), overrides=overrides, workers=args.workers)
    fmt = lambda m, lo, hi, d=2: f"{m:.{d}f} ({lo:.{d}f}-{hi:.{d}f})"  # noqa: E731
    print(" ".join(args.set) or "as is")
    print("  larger / smaller customers: " + "  ".join(f"w{w} {fmt(*c)}" for w, c in out["ratio"].items()))
    for name in (LARGER["name"], SMALLER["name"]):
        cust = "  ".join(f"w{w} {m:.0f}" for w, (m, _, _) in out["customers"][name].items())
        print(f"  {name}: customers {cust}; weekly retention from week {STATIONARY_FROM} "
              f"{fmt(*out['retention'][name], d=4)}; mean loyalty at the end {fmt(*out['loyalty'][name], d=3)}")  # fmt: skip
    print(f"  larger - smaller, paired: retention {fmt(*out['retention_gap'], d=4)}, "
          f"loyalty {fmt(*out['loyalty_gap'], d=3)}; ours at the end {out['ours'][0]:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
