"""Verification facts: the model is deterministic (F13) and the kernel agrees with the reference model (F14).

Unlike the stylized facts these check the implementation, not the theory: the same seed must give the same run
bit for bit, and the vectorised kernel must agree statistically with the slow per-agent reference model written
from docs/model.md alone (wom_sim/validation/reference_model.py, shipped with the package).
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

import wom_sim.validation.reference_model as reference_model
from wom_sim.network.graph import Graph
from wom_sim.sim.model import simulate
from wom_sim.validation.lab import Estimate, Lab, run_once
from wom_sim.validation.registry import Part, check


# --------------------------------------------------------------------------------------------- F13
@check("determinism")
def determinism(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F13: the same scenario and seed twice give identical metrics and people tables, bit for bit."""
    sc = lab.scenario(params.get("scenario"))
    differing = []
    for seed in lab.seeds[: int(params["runs"])]:
        a, b = run_once(sc, seed), run_once(sc, seed)
        differing.append(float(_differences(a.metrics, b.metrics) + _differences(a.people, b.people)))
    est = Estimate(float(sum(differing)), math.nan, math.nan, 1)
    return [Part(f"differing values over {len(differing)} repeated runs", "0 (identical)", est, sum(differing) == 0,
                 "{:.0f}")]  # fmt: skip


def _differences(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """Cells that differ between two frames, bit for bit (NaN equals NaN); shape or column changes count all."""
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return max(a.size, b.size)
    count = 0
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f" and y.dtype.kind == "f":
            count += int(np.count_nonzero(x.view(np.uint64) != y.view(np.uint64)))
        else:
            count += int(np.count_nonzero(pd.Series(x).astype(str).to_numpy() != pd.Series(y).astype(str).to_numpy()))
    return count


# --------------------------------------------------------------------------------------------- F14
def welch_score(a: np.ndarray, b: np.ndarray, alpha: float) -> tuple[float, float]:
    """|mean b - mean a| in standard errors and the limit of the two-sided Welch (1 - alpha) interval: the
    t-quantile at the Welch-Satterthwaite degrees of freedom (`scipy.stats.ttest_ind(equal_var=False)`), not the
    normal one, which is narrower on a few dozen runs and would raise the stated false-alarm rate."""
    diff = float(b.mean() - a.mean())
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    if not se > 0:
        return (0.0 if diff == 0 else math.inf), 0.0  # no spread: any difference is outside
    dof = float(stats.ttest_ind(b, a, equal_var=False).df)
    return abs(diff) / se, float(stats.t.ppf(1 - alpha / 2, dof))


def load_reference() -> Any:
    """The per-agent reference model module (shipped with the package: wom_sim/validation/reference_model.py)."""
    return reference_model


@check("kernel_reference")
def kernel_reference(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F14: the vectorised kernel vs the per-agent reference model, each metric's time average over replications.

    Per metric, the 99% interval of the difference of means (Welch) must contain 0. The intervals are
    simultaneous (Bonferroni over the metrics: each at 1 - 0.01/k), so the whole table has a 1% false-alarm rate.
    """
    reference = load_reference()
    n, m, ticks, k_kols = int(params["n"]), int(params["m"]), int(params["ticks"]), int(params["kols"])
    reps = int(params["replications"])
    g = nx.barabasi_albert_graph(n, m, seed=int(params["graph_seed"]))
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([g.degree(i) for i in range(n)])
    indices = np.asarray([j for i in range(n) for j in sorted(g.neighbors(i))], dtype=np.int64)
    kol_ids = np.argsort(-np.diff(indptr), kind="stable")[:k_kols].astype(np.int64)
    kols = {"by": "ids", "k": k_kols, "ids": kol_ids.tolist()}
    sc = lab.scenario(None, {"network.n": n, "ticks": ticks, **params.get("overrides", {}), "kols.select": kols}, False)
    graph = Graph(n=n, indptr=indptr, indices=indices, weights=None, directed=False)
    kernel = [simulate(sc, graph=graph, kol_ids=kol_ids, seed=10_000 + s).metrics for s in range(reps)]
    ref = [
        reference.run_reference(sc, indptr, indices, None, kol_ids.tolist(), seed=s, ticks=ticks) for s in range(reps)
    ]
    columns = [c for c in reference.METRIC_COLUMNS if c != "t" and c in kernel[0].columns]
    alpha = 0.01 / len(columns)
    outside, worst, worst_score, worst_limit = [], "", 0.0, math.nan
    for col in columns:
        a = np.array([np.nanmean(r[col].to_numpy(dtype=float)) for r in ref])
        b = np.array([np.nanmean(r[col].to_numpy(dtype=float)) for r in kernel])
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        score, limit = welch_score(a, b, alpha)
        if score > worst_score or not worst:
            worst, worst_score, worst_limit = col, score, limit
        if score > limit:
            outside.append(col)
    est = Estimate(float(len(columns) - len(outside)), math.nan, math.nan, 1)
    note = f"worst: {worst} at {worst_score:.1f} SE (limit {worst_limit:.1f})"
    part = Part(f"metrics whose mean agrees (of {len(columns)})", f"all {len(columns)} within the 99% CI", est,
                not outside, "{:.0f}", note)  # fmt: skip
    detail = note + (f"; outside: {', '.join(outside)}" if outside else "")
    return [part, Part("  worst metric", "", None, None, note=detail)]
