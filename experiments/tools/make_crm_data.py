"""Write the bundled CRM example (`crm_market.yaml`): an edge list and a person table of 2,000 customers' data.

Seeded, so the files in wom_sim/scenario/bundled/data/ are exactly what this script writes:

    PYTHONPATH=$PWD python experiments/tools/make_crm_data.py

The data is made up but shaped like a CRM export: text ids ("C00001"), two segments (urban 60%, rural 40%),
30% customers today with their tenure in weeks and a 0-10 recommend (NPS) answer, 5% churned, the rest prospects,
spend per purchase lognormal around 50. 1,900 people have friendship ties (a scale-free graph, 4 ties per new
person); the last 100 have none (known to the CRM, not seen in the social data): they join as isolated people.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

SEED = 2026
N, N_LINKED = 2000, 1900
OUT = Path(__file__).resolve().parents[2] / "wom_sim" / "scenario" / "bundled" / "data"


def main() -> None:
    rng = np.random.default_rng(SEED)
    ids = np.array([f"C{i:05d}" for i in range(1, N + 1)], dtype=object)
    graph = nx.barabasi_albert_graph(N_LINKED, 4, seed=SEED)
    edges = np.array(graph.edges(), dtype=np.int64)
    pd.DataFrame({"source": ids[edges[:, 0]], "target": ids[edges[:, 1]]}).to_csv(OUT / "crm_edges.csv", index=False)

    segment = np.where(rng.random(N) < 0.6, "urban", "rural")
    status = rng.choice(["customer", "churned", "prospect"], size=N, p=[0.30, 0.05, 0.65])
    customer, churned = status == "customer", status == "churned"
    # Tenure in weeks: geometric, mean about a year; NPS answers skewed to 7-9 (a typical B2C distribution).
    tenure = np.where(customer | churned, rng.geometric(1 / 52, N), np.nan)
    nps = np.where(customer | churned, np.clip(np.round(rng.beta(5, 1.8, N) * 10), 0, 10), np.nan)
    nps[churned] = np.clip(nps[churned] - 3, 0, 10)  # people who left answered lower
    spend = np.round(rng.lognormal(np.log(50) - 0.4**2 / 2, 0.4, N), 2)
    spend[segment == "urban"] *= 1.2
    table = pd.DataFrame({
        "id": ids, "segment": segment, "status": status, "tenure": pd.array(tenure, dtype="Int64"),
        "spend": np.round(spend, 2), "nps": pd.array(nps, dtype="Int64"),
    })  # fmt: skip
    table.to_csv(OUT / "crm_people.csv", index=False)
    print(f"{OUT}: {len(edges):,} edges, {N:,} people ({int(customer.sum())} customers, {int(churned.sum())} churned)")


if __name__ == "__main__":
    main()
