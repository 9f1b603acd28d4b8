"""The Bass diffusion model: its adoption curve, a least-squares fit of p, q and m, and the p and q a wom-sim
scenario implies when it is set up to dock with Bass (fact F1).

Bass (1969) writes the adoption hazard of someone who has not adopted yet as p + q F, with F the share of the
market that has adopted: p is innovation (external influence: advertising), q imitation (word of mouth). In
discrete time, which is what wom-sim simulates, the new adopters of period t are
``n(t) = (p + q N(t-1) / m) (m - N(t-1))`` with N the cumulative adopters and m the market size; this is the
form Bass estimated (by regression) in the original paper. The continuous form has the closed solution
``N(t) = m (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))`` (Srinivasan & Mason 1986 fit it by non-linear
least squares). `fit_bass` fits either by least squares on the cumulative curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

# Starting points of the fit (p, q): the optimiser restarts from each and keeps the best, because the Bass
# least-squares surface has a long flat valley between "all innovation" and "all imitation".
_STARTS = ((0.01, 0.3), (0.001, 0.5), (0.05, 0.05), (0.03, 1.0))


@dataclass(frozen=True)
class BassFit:
    """A fitted Bass model; unpacks as ``p, q, m = fit_bass(...)``.

    Attributes
    ----------
    p, q : float
        Innovation and imitation coefficients per unit of `t` (per tick for model output).
    m : float
        Market size (in the units of the adopter counts).
    rmse : float
        Root mean squared error of the fitted cumulative curve.
    r2 : float
        Share of the variance of the cumulative curve the fit explains.
    discrete : bool
        Which form was fitted (True: the period recursion; False: the continuous closed form).
    """

    p: float
    q: float
    m: float
    rmse: float
    r2: float
    discrete: bool

    def __iter__(self):
        return iter((self.p, self.q, self.m))

    @property
    def peak_time(self) -> float:
        """Time of the peak of new adoptions in the continuous model, ln(q/p) / (p+q) (0 when q <= p)."""
        return math.log(self.q / self.p) / (self.p + self.q) if self.q > self.p > 0 else 0.0


def bass_curve(t: Any, p: float, q: float, m: float, discrete: bool = True) -> np.ndarray:
    """Cumulative adopters N(t) of a Bass model that starts at N(0) = 0.

    Parameters
    ----------
    t : array of float
        Times since launch. With ``discrete=True`` they must be whole periods (1 = after the first period).
    p, q, m : float
        Innovation, imitation, market size.
    discrete : bool
        Period recursion ``N(t) = N(t-1) + (p + q N(t-1)/m)(m - N(t-1))`` or the continuous closed form.

    Returns
    -------
    numpy.ndarray of N at each t.
    """
    t = np.asarray(t, dtype=float)
    if not discrete:
        e = np.exp(-(p + q) * t)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = (1.0 - e) / (1.0 + (q / p) * e) if p > 0 else np.zeros_like(t)
        return m * np.nan_to_num(share)
    periods = np.rint(t).astype(np.int64)
    horizon = int(periods.max(initial=0))
    cumulative = np.zeros(horizon + 1)
    for k in range(1, horizon + 1):
        prev = cumulative[k - 1]
        cumulative[k] = prev + (p + q * prev / m) * (m - prev) if m > 0 else 0.0
    return cumulative[np.clip(periods, 0, None)]


def _check_input(t: np.ndarray, y: np.ndarray, discrete: bool) -> None:
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"t and cumulative adopters must be 1-d and of equal length (got {t.shape}, {y.shape})")
    if t.size < 4:
        raise ValueError(f"need at least 4 observations to fit p, q and m (got {t.size})")
    if not (np.isfinite(t).all() and np.isfinite(y).all()):
        raise ValueError("t and cumulative adopters must be finite numbers")
    if (y < 0).any():
        raise ValueError("cumulative adopters must be >= 0")
    if y.max() <= 0:
        raise ValueError("no adopters at all: nothing to fit")
    if (np.diff(t) <= 0).any():
        raise ValueError("t must be strictly increasing")
    if t.min() < 0:
        raise ValueError("t counts periods since launch and must be >= 0")
    if discrete and not np.allclose(t, np.rint(t)):
        raise ValueError("the discrete Bass model needs whole periods in t (use discrete=False for other times)")


def fit_bass(t: Any, cumulative_adopters: Any, discrete: bool = True, m_max: float | None = None) -> BassFit:
    """Fit Bass p, q and m to an adoption curve by least squares.

    Parameters
    ----------
    t : array of float
        Periods since launch of each observation (1 = the end of the first period); adopters are taken as 0 at
        t = 0. Model output row ``t`` (state after tick t) is period ``t + 1``.
    cumulative_adopters : array of float
        Cumulative adopters (counts or shares) at each t.
    discrete : bool
        Fit the period recursion (default: per-period p and q, what a per-tick model implies) or the continuous
        closed form.
    m_max : float, optional
        Upper bound of the market size (default: 100 x the last observation).

    Returns
    -------
    BassFit with p, q, m (it unpacks as a 3-tuple) and the fit's RMSE and R^2.

    Raises
    ------
    ValueError
        On fewer than 4 points, non-finite or negative values, or a t that is not increasing.

    Examples
    --------
    >>> t = np.arange(1, 61)
    >>> p, q, m = fit_bass(t, bass_curve(t, 0.01, 0.2, 1000.0))
    >>> round(p, 3), round(q, 3), round(m)
    (0.01, 0.2, 1000)

    References
    ----------
    Bass, F. M. (1969). A new product growth for model consumer durables. Management Science 15(5), 215-227.
    Srinivasan, V., Mason, C. H. (1986). Nonlinear least squares estimation of new product diffusion models.
    Marketing Science 5(2), 169-178.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(cumulative_adopters, dtype=float)
    _check_input(t, y, discrete)
    last = float(y.max())
    upper_m = m_max if m_max is not None else 100.0 * last

    def residuals(x: np.ndarray) -> np.ndarray:
        p, q, m = x
        return (bass_curve(t, p, q, m, discrete) - y) / last

    best = None
    for p0, q0 in _STARTS:
        x0 = np.array([p0, q0, min(max(1.05 * last, last + 1e-9), upper_m)])
        sol = least_squares(residuals, x0, bounds=([1e-7, 0.0, last * 0.5], [1.0, 10.0, upper_m]), x_scale="jac")
        if best is None or sol.cost < best.cost:
            best = sol
    p, q, m = (float(v) for v in best.x)
    resid = bass_curve(t, p, q, m, discrete) - y
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else float("nan")
    return BassFit(p=p, q=q, m=m, rmse=float(np.sqrt((resid**2).mean())), r2=r2, discrete=discrete)


def implied_bass(scenario: Any) -> tuple[float, float]:
    """The per-tick Bass p and q a scenario implies when it is set up to dock with Bass (fact F1).

    Docking conditions (checked): a complete graph, no KOLs, no forwarding, no negative WOM, no churn, no
    service failures, constant talkativeness, positive WOM independent of satisfaction and loyalty
    (``wom.satisfaction_elasticity = 0``, ``wom.loyalty_boost = 0``, ``wom.positive_threshold = 0``), nobody
    aware or a customer at the start, and adoption certain once aware (``purchase.adoption.intercept >= 20``).

    Then, per tick, an unaware person is reached by an ad with probability ``a = advertising.reach`` and by at
    least one of the ``N F`` adopters' messages with probability ``1 - (1 - r c)^(N F)``, with
    ``r = wom.positive_rate`` (each adopter speaks) and ``c = wom.contact_prob`` (each message reaches each
    neighbour); WOM comes before purchase in the tick, so the hazard is
    ``1 - (1 - a)(1 - r c)^(N F(t-1)) ~= a + (N-1) r c F(t-1)``: Bass with ``p = a`` and ``q = (N-1) r c``. The
    approximation drops terms of order ``a q F`` and ``(q F)^2 / 2``, so the fitted q runs a few percent below
    the implied one, more as q per tick grows (about -7% at q = 0.2, -13% at q = 0.38).

    Raises
    ------
    ValueError naming the first docking condition the scenario breaks.
    """
    sc = scenario
    pop = sc.population
    checks = [
        (sc.network.generator == "complete" and not sc.network.file, "network.generator must be complete"),
        (sc.kols.select.k == 0, "kols.select.k must be 0"),
        (sc.wom.forward.positive == 0 and sc.wom.forward.negative == 0, "wom.forward.* must be 0"),
        (sc.wom.negative_rate == 0 and sc.wom.failure_talk == 0, "wom.negative_rate and wom.failure_talk must be 0"),
        (sc.churn.base_hazard == 0, "churn.base_hazard must be 0"),
        (sc.brand.service_failure == 0, "brand.service_failure must be 0"),
        (pop.talkativeness.dist == "constant" and pop.talkativeness.value == 1, "population.talkativeness must be 1"),
        (sc.wom.satisfaction_elasticity == 0 and sc.wom.loyalty_boost == 0 and sc.wom.positive_threshold == 0,
         "wom.satisfaction_elasticity, wom.loyalty_boost and wom.positive_threshold must be 0"),
        (pop.initial.customer == 0 and pop.initial.aware == 0, "population.initial.customer and .aware must be 0"),
        (sc.purchase.adoption.intercept >= 20, "purchase.adoption.intercept must be >= 20 (adoption certain)"),
        (sc.wom.contact_prob * sc.wom.positive_rate < 1, "wom.contact_prob * wom.positive_rate must be < 1"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise ValueError(f"not a Bass docking scenario: {message}")
    n = sc.network.n
    return float(sc.advertising.reach), float((n - 1) * sc.wom.positive_rate * sc.wom.contact_prob)
