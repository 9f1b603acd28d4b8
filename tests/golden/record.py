"""Write tests/golden/metrics_2000_seed7.parquet: per-tick metrics of four bundled scenarios at 2,000 people, seed 7.

Run `python -m tests.golden.record` from the project root only when a model change is deliberate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wom_sim.sim.model import resolve_scenario, simulate

GOLDEN = Path(__file__).with_name("metrics_2000_seed7.parquet")
SCENARIOS = ("baseline", "product_crisis_handled", "referral_program", "kol_launch")
ROOT = Path(__file__).resolve().parents[2]


def record() -> pd.DataFrame:
    frames = []
    for name in SCENARIOS:
        scenario = resolve_scenario(ROOT / "scenarios" / f"{name}.yaml", {"network.n": 2000})
        metrics = simulate(scenario, seed=7).metrics.copy()
        metrics.insert(0, "scenario", name)
        frames.append(metrics)
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    frame = record()
    frame.to_parquet(GOLDEN, index=False)
    print(f"wrote {GOLDEN} ({frame.shape[0]} rows, {frame.shape[1]} columns)")
