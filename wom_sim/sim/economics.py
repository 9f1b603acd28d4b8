"""Economics: per-tick and cumulative money and a customer-lifetime-value estimate.

Per tick the metrics already carry revenue (spend x price), cost of goods (spend x (1 - margin)), each
intervention's cost (`cost_<name>`, booked by the intervention) and profit = revenue - cost of goods - all
intervention costs. This module adds the cumulative columns the metrics need (`tick_economics`), the ledger of
a finished run (`ledger`) and the customer lifetime value (`RetentionTable`, `sbg_fit`, `discounted_lifetime`):
a shifted-beta-geometric retention curve fitted to the run's retention by tenure, extrapolated beyond the horizon
and discounted. The return on a lever's spend compares two scenarios over replications: `wom_sim.compare`
(experiment layer) with the ROI estimator of `wom_sim.analysis.statistics.roi`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from wom_sim.catalogue import ECONOMICS_COLUMNS  # noqa: F401 - part of this module's API (tick_economics adds them)

if TYPE_CHECKING:
    from wom_sim.sim.dynamics import TickState
    from wom_sim.sim.population import Population

# Annual discount rate of the CLV: 10%, the rate Gupta, Lehmann & Stuart (2004, "Valuing customers", J. Marketing
# Research) use for their base case (a typical cost of capital; their values move little between 8% and 16%).
ANNUAL_DISCOUNT_RATE = 0.10
# Ticks a year by the scenario's `tick_unit` (a unit not listed is taken as a week, the default tick).
TICKS_PER_YEAR = {"day": 365.0, "week": 52.0, "month": 12.0, "quarter": 4.0, "year": 1.0}


def tick_economics(st: TickState, row: dict, previous: dict | None) -> dict:
    """The economics columns of one tick, from this tick's state and row and the previous row.

    `margin_per_purchase` is the mean gross margin (revenue - cost of goods) per purchase so far. `clv` is NaN in
    every row: it needs a maximum-likelihood fit, too dear for every tick, so the model fills the last row of its
    metrics table from its `RetentionTable` (`WomModel.metrics_frame`).
    """
    prev = previous or {}
    # Adoptions, repurchases and win-backs of this tick, as the row has already counted them.
    purchases = row["new_customers"] + row["repurchases"] + row["winbacks"]
    cum_purchases = prev.get("cum_purchases", 0) + purchases
    cum_cogs = prev.get("cum_cost_of_goods", 0.0) + st.cost_of_goods
    cum_repurchases = prev.get("cum_repurchases", 0) + row["repurchases"]
    cum_churn = prev.get("cum_churn_events", 0) + row["churn_events"]
    margin = (row["cum_revenue"] - cum_cogs) / cum_purchases if cum_purchases else float("nan")
    return {
        "purchases": purchases,
        "cum_purchases": cum_purchases,
        "cum_cost_of_goods": cum_cogs,
        "cum_repurchases": cum_repurchases,
        "cum_churn_events": cum_churn,
        "margin_per_purchase": margin,
        "clv": float("nan"),
    }


def cost_columns(metrics: pd.DataFrame) -> list[str]:
    """The `cost_<name>` columns of a metrics table, in order."""
    return [c for c in metrics.columns if c.startswith("cost_") and c != "cost_of_goods"]


def ledger(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per tick and cumulative: revenue, cost of goods, each intervention's cost, profit."""
    flows = ["revenue", "cost_of_goods", *cost_columns(metrics), "profit"]
    out = metrics[["t", *flows]].copy()
    for col in flows:
        out[f"cum_{col}"] = out[col].cumsum()
    return out


# ------------------------------------------------------------------------------------- customer lifetime value
@dataclass
class RetentionTable:
    """The run's life table: customers facing the churn hazard and churning, by tenure (ticks as a customer).

    `at_risk[k]` counts the customer-ticks lived at tenure k (the k-th tick of a customer's life, k >= 1: step 8
    adds the tick to everyone it exposes, the tick of leaving included) and `churned[k]` the churn events at tenure
    k, over every tick so far. A won-back customer goes on from the tenure they had (the tenure is ticks as a
    customer, not the current spell's). Recording a tick costs two bincounts over the customers.
    """

    at_risk: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    churned: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    def record(self, pop: Population, customers: np.ndarray, churned: np.ndarray) -> None:
        """Add one tick: `customers` are this tick's customers after step 8, `churned` who churned in it (masks)."""
        exposed = pop.customer_ticks[customers | churned]
        left = pop.customer_ticks[churned]
        need = int(exposed.max()) + 1 if exposed.size else 0
        if need > self.at_risk.size:
            # Grown by doubling, not to the tenure just reached: tenures grow by one a tick, and a copy per tick
            # (np.pad) cost more than the counting. Zeros past the longest tenure are no periods lived.
            grown = max(need, 2 * self.at_risk.size)
            self.at_risk = np.concatenate([self.at_risk, np.zeros(grown - self.at_risk.size, dtype=np.int64)])
            self.churned = np.concatenate([self.churned, np.zeros(grown - self.churned.size, dtype=np.int64)])
        size = self.at_risk.size
        self.at_risk += np.bincount(exposed, minlength=size)
        self.churned += np.bincount(left, minlength=size)

    @property
    def customer_ticks(self) -> int:
        """Ticks lived as a customer, everyone together (the margin per customer-tick divides by it)."""
        return int(self.at_risk.sum())


def sbg_fit(at_risk: np.ndarray, churned: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood shifted-beta-geometric retention from a life table (Fader & Hardie 2007).

    Each customer churns at the end of any period with a probability theta of their own, theta ~ Beta(alpha,
    beta) across customers, so the survivors of a cohort are ever more the loyal ones and the hazard of period k,
    alpha / (alpha + beta + k - 1), falls with tenure. Retention from period k to k+1 is
    (beta + k - 1) / (alpha + beta + k - 1).

    Parameters
    ----------
    at_risk, churned : arrays indexed by tenure k (index 0 unused)
        Customers facing the hazard in their k-th period and those of them who churned in it.

    Returns
    -------
    (alpha, beta)
        NaN, NaN when nobody churned or nobody stayed (the likelihood has no interior maximum).

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. J. Interactive Marketing 21(1).
    """
    at_risk, churned = np.asarray(at_risk, dtype=float), np.asarray(churned, dtype=float)
    k = np.flatnonzero(at_risk[1:] > 0) + 1  # tenure 0 is no period lived (step 8 counts the tick it exposes)
    n, d = at_risk[k], churned[k]
    if k.size == 0 or d.sum() == 0 or d.sum() == n.sum():
        return float("nan"), float("nan")
    stay, churned_total = n - d, d.sum()

    def nll(x: np.ndarray) -> tuple[float, np.ndarray]:
        # Each array term computed once and reused where the formula repeats it (the same numbers as writing it
        # out twice; the optimizer calls this some 30 times per fit).
        a, b = np.exp(x)
        s = a + b + k - 1.0
        log_s, b_k = np.log(s), b + k - 1.0
        at_risk_over_s = n @ (1.0 / s)
        loglik = d @ (np.log(a) - log_s) + stay @ (np.log(b_k) - log_s)
        grad_a = churned_total / a - at_risk_over_s
        grad_b = stay @ (1.0 / b_k) - at_risk_over_s
        return -loglik, -np.array([grad_a * a, grad_b * b])  # in log(alpha), log(beta): both stay positive

    # The start: a constant hazard (the pooled churn rate) as a mildly heterogeneous Beta(1, 1/h - 1).
    h = d.sum() / n.sum()
    # TNC, not L-BFGS-B: the same optimum in 2 ms where scipy 1.17's L-BFGS-B took 350 ms for 17 evaluations.
    res = minimize(nll, np.log([1.0, max(1.0 / h - 1.0, 1e-3)]), jac=True, method="TNC",
                   bounds=[(-12.0, 16.0), (-12.0, 20.0)])  # fmt: skip
    a, b = _newton_polish(*np.exp(res.x), k, n, d, stay)
    # TNC stops within its tolerance, about 1e-5 relative, at a point that depends on the last bits of each
    # evaluation; those differ between machines (BLAS kernels and SIMD logs pick by CPU: the golden file's CLV
    # moved by 8e-6 between two machines of this project). Newton's steps above take the optimum to about 1e-14,
    # where the start no longer matters, and 9 significant digits keep only what every machine agrees on.
    return _significant(a), _significant(b)


def _newton_polish(a: float, b: float, k: np.ndarray, n: np.ndarray, d: np.ndarray, stay: np.ndarray):
    """`sbg_fit`'s (alpha, beta) taken to the likelihood's maximum by Newton's method on its gradient, from TNC's
    answer; TNC's answer itself where a step fails (leaves the positive quadrant, the Hessian is not negative
    definite: a maximum on a bound) or 30 steps do not settle it to a relative 1e-13."""
    total = float(d.sum())
    x = np.array([a, b])
    for _ in range(30):
        s, r = x[0] + x[1] + k - 1.0, x[1] + k - 1.0
        common = math.fsum(n / s)
        grad = np.array([total / x[0] - common, math.fsum(stay / r) - common])
        cross = math.fsum(n / s**2)
        hess = np.array([[cross - total / x[0] ** 2, cross], [cross, cross - math.fsum(stay / r**2)]])
        if not (hess[0, 0] < 0 and np.linalg.det(hess) > 0):
            return a, b
        step = np.linalg.solve(hess, grad)
        moved = x - step
        if not (moved > 0).all():
            return a, b
        x = moved
        if (np.abs(step) <= 1e-13 * np.abs(x)).all():
            return float(x[0]), float(x[1])
    return a, b


def _significant(x: float, digits: int = 9) -> float:
    """x rounded to `digits` significant digits (NaN and infinities as they are)."""
    return float(f"{x:.{digits - 1}e}") if math.isfinite(x) else x


def per_tick_discount(tick_unit: str, annual_rate: float = ANNUAL_DISCOUNT_RATE) -> float:
    """The discount rate of one tick, from an annual rate: (1 + annual)^(1 / ticks a year) - 1."""
    per_year = TICKS_PER_YEAR.get(tick_unit.rstrip("s"), TICKS_PER_YEAR["week"])
    return (1.0 + annual_rate) ** (1.0 / per_year) - 1.0


def discounted_lifetime(alpha: float, beta: float, discount: float, tol: float = 1e-12) -> float:
    """Expected discounted ticks of a new customer's life under sBG(alpha, beta), the first tick undiscounted:
    sum over t >= 0 of S(t) / (1 + discount)^t, with S(t) = B(alpha, beta + t) / B(alpha, beta) the share still a
    customer after t ticks (Fader & Hardie 2010, DEL; equal to 2F1(1, beta; alpha + beta; 1 / (1 + discount))).

    Summed term by term until (1 + discount)^-t < tol (S <= 1, so the tail left off is below tol / discount), S by
    its recurrence S(t) = S(t - 1) (beta + t - 1) / (alpha + beta + t - 1): the closed form's hypergeometric series
    converges slowly near 1 / (1 + discount) = 1. NaN for NaN parameters or a discount <= 0 (an sBG life can have
    no finite mean).
    """
    if not (discount > 0 and alpha == alpha and beta == beta):
        return float("nan")
    t = np.arange(1, int(math.ceil(math.log(tol) / -math.log1p(discount))) + 1, dtype=float)
    # S(t) / (1 + d)^t by one running product of each tick's retention and discount factor, and the sum exactly
    # rounded (math.fsum): only IEEE products and quotients, so every machine gets the same bits. (A dot product with
    # np.exp's factors did not: OpenBLAS splits one of 15,076 terms over its threads, so the sum's order followed the
    # thread count, and woke a second thread that spun about 40 ms of CPU after each CLV.)
    factors = (beta + t - 1.0) / (alpha + beta + t - 1.0)
    factors *= 1.0 / (1.0 + discount)
    return 1.0 + math.fsum(np.cumprod(factors).tolist())


def customer_lifetime_value(table: RetentionTable, gross_margin: float, tick_unit: str,
                            annual_rate: float = ANNUAL_DISCOUNT_RATE) -> float:  # fmt: skip
    """CLV of a new customer, in currency: expected discounted gross margin over their life (Gupta, Lehmann & Stuart
    2004), m x DEL, with m the gross margin per customer-tick so far (revenue - cost of goods over the customer-ticks
    lived, so purchase frequency and spend are in it) and DEL the expected discounted lifetime of the sBG retention
    fitted to the run's retention by tenure (`sbg_fit`, `discounted_lifetime`), which extrapolates beyond the
    horizon. Discounted at `annual_rate` a year. NaN until someone churned, or before any customer-tick.
    Intervention costs (rewards, offers) are not netted: it is the value the margin of a customer is worth.
    """
    ticks = table.customer_ticks
    if ticks == 0:
        return float("nan")
    alpha, beta = sbg_fit(table.at_risk, table.churned)
    return gross_margin / ticks * discounted_lifetime(alpha, beta, per_tick_discount(tick_unit, annual_rate))
