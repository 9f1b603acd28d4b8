"""One small function per stylized fact: run the arms it needs (paired, replicated), measure, compare.

Every check returns `Part`s: a measured mean over replications with its 95% t-interval, the expectation in words
and a verdict. The precise definitions are in docs/validation.md; the parameters (arms, tolerances, windows) in
wom_sim/validation/facts/facts.yaml. Unless said otherwise a measure is taken per replication over the ticks
after take-off (the first tick by which half of the baseline replication's final adopters had adopted; both arms
of a pair use the baseline's tick), and a pair's arms share their seeds (common random numbers).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from wom_sim.analysis.bass import fit_bass, implied_bass
from wom_sim.sim.interventions import REGISTRY, crisis_impact
from wom_sim.validation.lab import Arm, Estimate, Lab, after, mean_ci, ratio, take_off, time_to_half
from wom_sim.validation.registry import Part, Pending, check


# --------------------------------------------------------------------------------------------- verdict helpers
def in_range(label: str, est: Estimate, low: float, high: float, fmt: str = "{:.3g}", expected: str = "") -> Part:
    """Passes when the mean lies in [low, high]."""
    ok = math.isfinite(est.value) and low <= est.value <= high
    return Part(label, expected or f"{fmt.format(low)} to {fmt.format(high)}", est, ok, fmt)


def above(
    label: str, est: Estimate, bound: float, expected: str, fmt: str = "{:.3g}", significant: bool = True
) -> Part:
    """Passes when the mean is above `bound`; with `significant`, the whole interval must be."""
    value = est.low if significant and est.n > 1 else est.value
    return Part(label, expected, est, math.isfinite(value) and value > bound, fmt)


def below(
    label: str, est: Estimate, bound: float, expected: str, fmt: str = "{:.3g}", significant: bool = True
) -> Part:
    """Passes when the mean is below `bound`; with `significant`, the whole interval must be."""
    value = est.high if significant and est.n > 1 else est.value
    return Part(label, expected, est, math.isfinite(value) and value < bound, fmt)


def need_kinds(*kinds: str) -> None:
    """Facts that use interventions wait (pending) until those kinds are registered."""
    missing = [k for k in kinds if k not in REGISTRY]
    if missing:
        raise Pending(f"intervention kind(s) not registered yet: {', '.join(missing)}")


def arm(lab: Lab, name: str, source: str | None, overrides: dict | None = None, probes: tuple = ()) -> Arm:
    return Arm(name, lab.scenario(source, overrides), probes)


def windows(lab: Lab) -> list[int]:
    """The take-off tick of each baseline replication."""
    return [take_off(r.metrics) for r in lab.baseline()]


# --------------------------------------------------------------------------------------------- F1
@check("bass_docking")
def bass_docking(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F1: fit Bass to each replication's adoption curve in the docking scenario; compare with the implied p, q."""
    n, q, tol = int(params["n"]), float(params["q"]), float(params["tolerance"])
    base = lab.scenario(params["scenario"], sized=False)
    overrides = {"network.n": n, "wom.contact_prob": q / ((n - 1) * base.wom.positive_rate)}
    sc = lab.scenario(params["scenario"], overrides, sized=False)
    p_implied, q_implied = implied_bass(sc)
    runs = lab.runs(Arm("f1_bass_docking", sc), replications=int(params["replications"]))
    fits = [fit_bass(r.metrics["t"].to_numpy() + 1, r.metrics["adoption_share"].to_numpy() * n) for r in runs]
    p_est = mean_ci([f.p for f in fits])
    q_est = mean_ci([f.q for f in fits])
    return [
        in_range("Bass p (innovation, per tick)", p_est, p_implied * (1 - tol), p_implied * (1 + tol), "{:.4f}",
                 f"{p_implied:.4f} +-{tol:.0%} (implied)"),
        in_range("Bass q (imitation, per tick)", q_est, q_implied * (1 - tol), q_implied * (1 + tol), "{:.4f}",
                 f"{q_implied:.4f} +-{tol:.0%} (implied)"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------- F2
@check("satisfaction_wom")
def satisfaction_wom(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F2: elasticity of positive WOM per customer to mean customer satisfaction, quality raised (paired)."""
    base_runs = lab.baseline()
    quality = lab.scenario().brand.quality
    raised = min(1.0, quality * (1.0 + float(params["quality_rise"])))
    treated = lab.runs(arm(lab, "f2_quality_up", None, {"brand.quality": raised}))
    s_rise, w_rise, elasticity = [], [], []
    for b, t, start in zip(base_runs, treated, windows(lab), strict=True):
        mb, mt = after(b.metrics, start), after(t.metrics, start)
        ds = mt["mean_S"].mean() / mb["mean_S"].mean() - 1.0
        dw = (
            ratio(mt["pos_messages"].sum(), mt["customers"].sum())
            / ratio(mb["pos_messages"].sum(), mb["customers"].sum())
            - 1.0
        )
        s_rise.append(ds)
        w_rise.append(dw)
        elasticity.append(ratio(dw, ds))
    low, high = params["elasticity"]
    return [
        in_range("WOM elasticity to satisfaction", mean_ci(elasticity), low, high, "{:.2f}",
                 f"{(low + high) / 2:.1f} ({low:g} to {high:g}: +10% S -> +{10 * low:g}% to +{10 * high:g}% WOM)"),
        Part(f"  mean satisfaction rise (quality +{params['quality_rise']:.0%})", "about +10%", mean_ci(s_rise), None,
             "{:+.1%}"),
        Part("  positive WOM per customer rise", "", mean_ci(w_rise), None, "{:+.1%}"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------- F3
@check("negative_reach")
def negative_reach(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F3: distinct people reached per speaker, negative over positive, after take-off in the baseline."""
    values = []
    for r, start in zip(lab.baseline(), windows(lab), strict=True):
        m = after(r.metrics, start)
        neg = ratio(m["neg_reach"].sum(), m["neg_speakers"].sum())
        pos = ratio(m["pos_reach"].sum(), m["pos_speakers"].sum())
        values.append(ratio(neg, pos))
    return [above("reach per negative / per positive message", mean_ci(values), 1.0, "> 1 (about 1.5-2)", "{:.2f}")]


# --------------------------------------------------------------------------------------------- F4
@check("loyalty_churn")
def loyalty_churn(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F4: churn hazard of the least loyal quartile of customers over that of the most loyal (baseline)."""
    values = []
    for r, start in zip(lab.baseline(), windows(lab), strict=True):
        q = r.probes["loyalty_churn"]
        q = q[q["t"] >= start]
        low = ratio(q["churned_q1"].sum(), q["customers_q1"].sum())
        high = ratio(q["churned_q4"].sum(), q["customers_q4"].sum())
        values.append(ratio(low, high))
    bound = float(params["min_ratio"])
    return [above("hazard ratio, lowest / highest L quartile", mean_ci(values), bound, f">= {bound:g}", "{:.2f}",
                  significant=False)]  # fmt: skip


# --------------------------------------------------------------------------------------------- F5
@check("repurchase")
def repurchase(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F5: mean repurchase rate per tick after take-off, baseline and with the programme arm."""
    need_kinds(*params["kinds"])
    treated = lab.runs(arm(lab, "f5_programme", params["scenario"]))
    base_rate, treated_rate = [], []
    for b, t, start in zip(lab.baseline(), treated, windows(lab), strict=True):
        base_rate.append(after(b.metrics, start)["repurchase_rate"].mean())
        treated_rate.append(after(t.metrics, start)["repurchase_rate"].mean())
    (bl, bh), (tl, th) = params["baseline"], params["programme"]
    return [
        in_range("repurchase rate, baseline", mean_ci(base_rate), bl, bh, "{:.3f}"),
        in_range("repurchase rate, loyalty programme + service", mean_ci(treated_rate), tl, th, "{:.3f}"),
    ]


# --------------------------------------------------------------------------------------------- F6
@check("spreaders_loyal")
def spreaders_loyal(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F6: mean loyalty of customers who sent positive WOM minus that of those who did not (end of run)."""
    diffs, shares = [], []
    for r in lab.baseline():
        people = r.people[r.people["status"] == "customer"]
        spread = people["positive_wom_sent"] > 0
        diffs.append(people.loc[spread, "loyalty"].mean() - people.loc[~spread, "loyalty"].mean())
        shares.append(spread.mean())
    return [
        above("loyalty gap, spreaders - non-spreaders", mean_ci(diffs), 0.0, "> 0, significant", "{:+.3f}"),
        Part("  share of customers who spread", "", mean_ci(shares), None, "{:.1%}"),
    ]


# --------------------------------------------------------------------------------------------- F7, F8
def crisis_impacts(lab: Lab, params: dict[str, Any]) -> dict[str, list[dict[str, float]]]:
    """Brand damage, trust cut and recovery of each crisis arm against the baseline (same seeds)."""
    need_kinds("crisis", "crisis_response")
    surfaced, horizon = int(params["surfaced"]), {"ticks": int(params["ticks"])}
    # The crisis arms run longer than the baseline so that slow recoveries are seen; their reference is the
    # baseline run as long (the first ticks of a longer run are the same run: draws do not depend on the horizon).
    reference = lab.runs(arm(lab, "crisis_reference", None, horizon))
    out = {}
    for name in ("unanswered", "handled_well", "mishandled"):
        runs = lab.runs(arm(lab, f"crisis_{name}", params[name], horizon))
        out[name] = [
            crisis_impact(r.metrics, surfaced, b.metrics, lead=int(params["lead"]), window=int(params["window"]))
            for r, b in zip(runs, reference, strict=True)
        ]
    return out


@check("crisis_handling")
def crisis_handling(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F7: damage of a mishandled crisis relative to an unanswered one; loss when handled well; opaque trust cut."""
    imp = crisis_impacts(lab, params)
    typical = [i["brand_damage"] for i in imp["unanswered"]]
    doubled = [ratio(m["brand_damage"], u) for m, u in zip(imp["mishandled"], typical, strict=True)]
    (dl, dh), (cl, ch) = params["mishandled_ratio"], params["opaque_trust_cut"]
    return [
        in_range("damage, mishandled / unanswered", mean_ci(doubled), dl, dh, "{:.2f}", f"about 2 ({dl:g} to {dh:g})"),
        below("reputation loss, handled well", mean_ci([i["brand_damage"] for i in imp["handled_well"]]),
              float(params["handled_max_loss"]), f"< {float(params['handled_max_loss']):.0%}", "{:.1%}"),
        in_range("trust cut, non-transparent", mean_ci([i["trust_cut"] for i in imp["mishandled"]]), cl, ch,
                 "{:.0%}", f"about 40% ({cl:.0%} to {ch:.0%})"),
        Part("  damage, unanswered (typical)", "8% to 15% (crisis report)", mean_ci(typical), None, "{:.1%}"),
    ]  # fmt: skip


@check("crisis_recovery")
def crisis_recovery(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F8: ticks after a well-handled crisis surfaced until 90% of the lost favourability is regained.

    Favourability is B relative to the no-crisis reference run with the same seed. Per replication B moves by a
    few tenths of a percent from tick to tick, as much as 10% of a small loss, so the recovery tick is read off
    the mean over replications of B_crisis / B_reference (smooth), with a bootstrap interval over replications.
    """
    need_kinds("crisis", "crisis_response")
    surfaced, window = int(params["surfaced"]), int(params["window"])
    horizon = {"ticks": int(params["ticks"])}
    reference = lab.runs(arm(lab, "crisis_reference", None, horizon))
    handled = lab.runs(arm(lab, "crisis_handled_well", params["handled_well"], horizon))
    curves = []
    for r, b in zip(handled, reference, strict=True):
        t = r.metrics["t"].to_numpy()
        inside = (t >= surfaced) & (t < surfaced + window)
        curves.append(1.0 - r.metrics["brand"].to_numpy()[inside] / b.metrics["brand"].to_numpy()[inside])
    shortfall = np.array(curves)
    value = _ticks_to_regain(shortfall.mean(axis=0), 0.9)
    rng = np.random.default_rng(int(params.get("bootstrap_seed", 0)))
    picks = rng.integers(0, len(curves), size=(int(params.get("bootstrap", 400)), len(curves)))
    boot = np.array([_ticks_to_regain(shortfall[i].mean(axis=0), 0.9) for i in picks])
    est = Estimate(value, float(np.nanpercentile(boot, 2.5)), float(np.nanpercentile(boot, 97.5)), len(curves))
    low, high = params["recovery_ticks"]
    literal = [float(np.argmax(np.append(c <= 0.1, True))) for c in curves]  # first tick at >= 90% of reference B
    return [
        in_range("ticks to regain 90% of lost favourability", est, low, high, "{:.1f}",
                 f"{low} to {high} ticks (6-12 months)"),
        Part("  peak loss of favourability", "", mean_ci(shortfall.max(axis=1)), None, "{:.1%}"),
        Part("  ticks until B >= 90% of the no-crisis level", "(literal reading)", mean_ci(literal), None, "{:.1f}"),
    ]  # fmt: skip


def _ticks_to_regain(shortfall: np.ndarray, share: float) -> float:
    """Ticks from the start of `shortfall` until, after its worst point, it is down to (1 - share) of the worst.

    NaN when that never happens inside the window.
    """
    worst = int(np.argmax(shortfall))
    done = np.flatnonzero(shortfall[worst:] <= (1.0 - share) * shortfall[worst])
    return float(worst + done[0]) if done.size else math.nan


# --------------------------------------------------------------------------------------------- F9
@check("service_recovery")
def service_recovery(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F9: relative change of negative WOM and of churn with service recovery (coverage 0.8) vs none (paired)."""
    need_kinds("service_recovery")
    treated = lab.runs(arm(lab, "f9_service_recovery", params["scenario"]))
    neg, churn = [], []
    for b, t, start in zip(lab.baseline(), treated, windows(lab), strict=True):
        mb, mt = after(b.metrics, start), after(t.metrics, start)
        neg.append(ratio(mt["neg_messages"].sum(), mb["neg_messages"].sum()) - 1.0)
        churn.append(ratio(mt["churn_events"].sum(), mb["churn_events"].sum()) - 1.0)
    return [
        below("negative WOM change", mean_ci(neg), 0.0, "< 0, significant", "{:+.1%}"),
        below("churn change", mean_ci(churn), 0.0, "< 0, significant", "{:+.1%}"),
    ]


# --------------------------------------------------------------------------------------------- F10
@check("kol_seeding")
def kol_seeding(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F10: time to 50% of final adopters, seeds by degree or PageRank minus random seeds, same k (paired)."""
    need_kinds("kol_campaign")
    times = {}
    for by in ("random", "degree", "pagerank"):
        overrides = {"interventions.0.select.by": by}
        times[by] = [
            time_to_half(r.metrics) for r in lab.runs(arm(lab, f"f10_kol_{by}", params["scenario"], overrides))
        ]
    parts = []
    for by in ("degree", "pagerank"):
        diff = [a - b for a, b in zip(times[by], times["random"], strict=True)]
        parts.append(below(f"time to 50%, {by} - random seeds", mean_ci(diff), 0.0, "< 0 (faster), significant",
                           "{:+.2f}"))  # fmt: skip
    parts.append(Part("  time to 50%, random seeds (ticks)", "", mean_ci(times["random"]), None, "{:.1f}"))
    return parts


# --------------------------------------------------------------------------------------------- F11
@check("wom_acquisition")
def wom_acquisition(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F11: share of everyone ever acquired whose channel was WOM, KOL or referral, at the end of the baseline."""
    low, high = params["share"]
    values = [r.metrics["wom_acquired_share"].iloc[-1] for r in lab.baseline()]
    return [in_range("share of customers acquired through WOM", mean_ci(values), low, high, "{:.2f}",
                     f"about 0.6 ({low:g} to {high:g})")]  # fmt: skip


# --------------------------------------------------------------------------------------------- F12
@check("churn_prevention")
def churn_prevention(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F12: relative change of churn events after take-off with churn early warning (precision 0.85), paired."""
    need_kinds("churn_prevention")
    treated = lab.runs(arm(lab, "f12_churn_prevention", params["scenario"]))
    change = []
    for b, t, start in zip(lab.baseline(), treated, windows(lab), strict=True):
        change.append(
            ratio(after(t.metrics, start)["churn_events"].sum(), after(b.metrics, start)["churn_events"].sum()) - 1
        )
    low, high = params["change"]
    return [in_range("churn change", mean_ci(change), low, high, "{:+.1%}", f"about -15% ({low:+.0%} to {high:+.0%})")]


# --------------------------------------------------------------------------------------------- F15
@check("pos_neg_ratio")
def pos_neg_ratio(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F15: positive over negative WOM messages delivered after take-off in the baseline."""
    values = []
    for r, start in zip(lab.baseline(), windows(lab), strict=True):
        m = after(r.metrics, start)
        values.append(ratio(m["pos_messages"].sum(), m["neg_messages"].sum()))
    low, high = params["ratio"]
    return [in_range("positive : negative messages", mean_ci(values), low, high, "{:.2f}",
                     f"about 3 ({low:g} to {high:g})")]  # fmt: skip


# --------------------------------------------------------------------------------------------- F16
@check("recovery_paradox")
def recovery_paradox(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F16: purchases with a recovered failure vs unrecovered and vs no failure (natural experiment, see probe)."""
    need_kinds("service_recovery")
    runs = lab.runs(arm(lab, "f16_service_recovery", params["scenario"], probes=("failure_outcome",)))
    s_gap, rep_gap, wom_gap = [], [], []
    for r in runs:
        f = r.probes["failure_outcome"].sum()
        s = {g: ratio(f[f"S_{g}"], f[f"n_{g}"]) for g in ("recovered", "unrecovered")}
        nxt = {g: f[f"next_n_{g}"] for g in ("none", "recovered")}
        rep = {g: ratio(f[f"next_repurchase_{g}"], nxt[g]) for g in nxt}
        wom = {g: ratio(f[f"next_positive_wom_{g}"], nxt[g]) for g in nxt}
        s_gap.append(s["recovered"] - s["unrecovered"])
        rep_gap.append(rep["recovered"] - rep["none"])
        wom_gap.append(wom["recovered"] - wom["none"])
    rep_est, wom_est = mean_ci(rep_gap), mean_ci(wom_gap)
    return [
        above("S after purchase, recovered - unrecovered", mean_ci(s_gap), 0.0, ">= 0 (recovery lifts S)", "{:+.3f}"),
        Part("repurchase next tick, recovered - no failure", "<= 0 (not significantly above)", rep_est,
             math.isfinite(rep_est.low) and rep_est.low <= 0, "{:+.4f}"),
        Part("positive WOM next tick, recovered - no failure", "<= 0 (not significantly above)", wom_est,
             math.isfinite(wom_est.low) and wom_est.low <= 0, "{:+.4f}"),
    ]  # fmt: skip


def baseline_glance(lab: Lab) -> pd.DataFrame:
    """Plausibility numbers of the baseline an analyst looks at first (not facts): NPS, adoption, churn."""
    rows = []
    for r, start in zip(lab.baseline(), windows(lab), strict=True):
        m = r.metrics
        rows.append({
            "take-off tick": start,
            "adopted after 30 ticks": m.loc[m["t"] == min(29, len(m) - 1), "adoption_share"].iloc[0],
            "adopted at the end": m["adoption_share"].iloc[-1],
            "NPS after take-off": after(m, start)["nps"].mean(),
            "NPS at the end": m["nps"].iloc[-1],
            "churn rate per tick after take-off": after(m, start)["churn_rate"].mean(),
            "mean satisfaction after take-off": after(m, start)["mean_S"].mean(),
            "mean loyalty after take-off": after(m, start)["mean_L"].mean(),
            "active customers at the end": m["customers"].iloc[-1] / r.people.shape[0],
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    return pd.DataFrame({c: [mean_ci(frame[c]).text("{:.3g}")] for c in frame.columns}).T.rename(
        columns={0: "mean (95% CI)"}
    )


# --------------------------------------------------------------------------------------------- F17-F21 (issue 13)
@check("causal_wom")
def causal_wom(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F17: share of first-year adoption that word of mouth causes (switched off, paired) vs the share credited."""
    horizon = int(params["weeks"])
    off = lab.runs(arm(lab, "f17_no_wom", None, {"wom.contact_prob": 0.0, "kols.reach": 0.0}))
    cut, credited = [], []
    for b, o in zip(lab.baseline(), off, strict=True):
        first_year = b.metrics["new_customers"].iloc[:horizon].sum()
        cut.append(1.0 - ratio(o.metrics["new_customers"].iloc[:horizon].sum(), first_year))
        credited.append(b.metrics["wom_acquired_share"].iloc[min(horizon, len(b.metrics)) - 1])
    low, high = params["cut"]
    return [
        in_range(f"cut in new customers over {horizon} ticks without WOM", mean_ci(cut), low, high, "{:.0%}",
                 f"{low:.0%} to {high:.0%} (WOM the main channel)"),
        Part(f"  share credited to WOM (last touch) at tick {horizon}", "", mean_ci(credited), None, "{:.0%}"),
    ]  # fmt: skip


@check("wom_amplifies_truth")
def wom_amplifies_truth(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F18: more WOM contact raises adoption of a good product and lowers that of a poor one (paired, same seeds)."""
    low_c, high_c = params["contact"]
    parts = []
    for label, quality, sign in (("good", None, 1), ("poor", float(params["poor_quality"]), -1)):
        q = {} if quality is None else {"brand.quality": quality}
        runs = {
            c: lab.runs(arm(lab, f"f18_{label}_c{c:g}", None, {**q, "wom.contact_prob": c})) for c in (low_c, high_c)
        }
        diff = [h.metrics["adoption_share"].iloc[-1] - lo.metrics["adoption_share"].iloc[-1]
                for lo, h in zip(runs[low_c], runs[high_c], strict=True)]  # fmt: skip
        name = f"{label} product (Q {quality if quality is not None else lab.scenario().brand.quality:g})"
        text = f"adoption at the end, contact {high_c:g} - {low_c:g}, {name}"
        if sign > 0:
            parts.append(above(text, mean_ci(diff), 0.0, "> 0, significant (WOM helps)", "{:+.3f}"))
        else:
            parts.append(below(text, mean_ci(diff), 0.0, "< 0, significant (WOM hurts)", "{:+.3f}"))
    return parts


@check("early_nps")
def early_nps(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F19: NPS of the baseline (a decent product) over its first ticks, and its detractor share after take-off."""
    weeks = int(params["weeks"])
    early = [r.metrics["nps"].iloc[:weeks].mean() for r in lab.baseline()]
    (nl, nh) = params["nps"]
    return [in_range(f"NPS over the first {weeks} ticks", mean_ci(early), nl, nh, "{:+.1f}",
                     f"{nl:+g} to {nh:+g} (a decent product's NPS from the start)")]  # fmt: skip


@check("detractor_share")
def detractor_share(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F20: share of customers who are detractors (recommend score 0-6), mean over the ticks after take-off."""
    values, nps = [], []
    for r, start in zip(lab.baseline(), windows(lab), strict=True):
        m = after(r.metrics, start)
        values.append(m["detractors"].mean())
        nps.append(m["nps"].mean())
    low, high = params["share"]
    return [
        in_range("detractors among customers", mean_ci(values), low, high, "{:.0%}",
                 f"a fifth to a third ({low:.0%} to {high:.0%})"),
        Part("  NPS after take-off", "", mean_ci(nps), None, "{:+.1f}"),
    ]  # fmt: skip


@check("overclaiming")
def overclaiming(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F21: ads claiming more than the product delivers lower new customers' satisfaction (paired, same seeds)."""
    weeks = int(params["weeks"])
    claim = float(params["claim"])
    over = lab.runs(arm(lab, "f21_overclaim", None, {"advertising.claim": claim}))
    s_gap, adopt_gap = [], []
    for b, o in zip(lab.baseline(), over, strict=True):
        mb, mo = b.metrics.iloc[:weeks], o.metrics.iloc[:weeks]
        # Mean S of new customers just after their first purchase, weighted by how many adopted each tick.
        s_b = ratio((mb["mean_S_new"].fillna(0) * mb["new_customers"]).sum(), mb["new_customers"].sum())
        s_o = ratio((mo["mean_S_new"].fillna(0) * mo["new_customers"]).sum(), mo["new_customers"].sum())
        s_gap.append(s_o - s_b)
        adopt_gap.append(mo["adoption_share"].iloc[-1] - mb["adoption_share"].iloc[-1])
    return [
        below(f"new customers' S after the first purchase, claim {claim:g} - truthful", mean_ci(s_gap), 0.0,
              "< 0, significant (disconfirmation)", "{:+.3f}"),
        Part(f"  adoption at tick {weeks}, over-claiming - truthful", "", mean_ci(adopt_gap), None, "{:+.3f}"),
    ]  # fmt: skip


def _purchases(metrics: pd.DataFrame, first: int, last: int) -> float:
    """Adoptions, repurchases and win-backs in ticks first..last (inclusive)."""
    m = metrics[(metrics["t"] >= first) & (metrics["t"] <= last)]
    return float((m["new_customers"] + m["repurchases"] + m["winbacks"]).sum())


@check("price_elasticity")
def price_elasticity(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F22: arc elasticity of purchases to a permanent price cut, over the quarter and the year after it (paired)."""
    need_kinds("price_change")
    start, quarter, cut = int(params["from"]), int(params["weeks"]), float(params["cut"])
    treated = lab.runs(arm(lab, "f22_price_cut", params["scenario"]))
    short, year = [], []
    for b, t in zip(lab.baseline(), treated, strict=True):
        last = int(b.metrics["t"].iloc[-1])
        short.append((ratio(_purchases(t.metrics, start, start + quarter - 1),
                            _purchases(b.metrics, start, start + quarter - 1)) - 1) / -cut)  # fmt: skip
        year.append((ratio(_purchases(t.metrics, start, last), _purchases(b.metrics, start, last)) - 1) / -cut)
    low, high = params["elasticity"]
    return [
        in_range(f"price elasticity of purchases, {quarter} ticks after a {cut:.0%} cut", mean_ci(short), low, high,
                 "{:.2f}", f"{low:g} to {high:g} (meta-analytic mean about -2.6)"),
        Part("  the same to the end of the run (the reference price adapts)", "", mean_ci(year), None, "{:.2f}"),
    ]  # fmt: skip


@check("price_war")
def price_war(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F23: a temporary deep cut gains purchases while it lasts and loses some after it ends (paired)."""
    need_kinds("price_change")
    first, last = params["war"]
    treated = lab.runs(arm(lab, "f23_price_war", params["scenario"]))
    during, after_war = [], []
    for b, t in zip(lab.baseline(), treated, strict=True):
        end = int(b.metrics["t"].iloc[-1])
        during.append(ratio(_purchases(t.metrics, first, last), _purchases(b.metrics, first, last)) - 1)
        after_war.append(ratio(_purchases(t.metrics, last + 1, end), _purchases(b.metrics, last + 1, end)) - 1)
    return [
        above("purchases during the cut vs no cut", mean_ci(during), 0.0, "> 0, significant (short-term gain)",
              "{:+.1%}"),
        below("purchases after the cut ended vs no cut", mean_ci(after_war), 0.0,
              "< 0, significant (long-term loss)", "{:+.1%}"),
    ]  # fmt: skip


@check("market_potential")
def market_potential(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F24: a market potential m caps adoption; more WOM accelerates within it; category ads expand it (paired)."""
    m, ticks = float(params["potential"]), int(params["ticks"])
    base = {"population.market_potential": m, "ticks": ticks}
    reps = int(params["replications"]) if "replications" in params else None  # of the paired acceleration arms
    capped = lab.runs(arm(lab, "f24_potential", None, base), replications=reps)
    louder = lab.runs(arm(lab, "f24_more_wom", None, {**base, "wom.contact_prob": float(params["contact"])}),
                      replications=reps)  # fmt: skip
    grown = lab.runs(arm(lab, "f24_need_ads", None, {**base, "advertising.need_creation": float(params["need"])}))
    final = [r.metrics["adoption_share"].iloc[-1] for r in capped]
    final_louder = [r.metrics["adoption_share"].iloc[-1] for r in louder]
    mid = int(params["mid"])
    faster = [w.metrics["adoption_share"].iloc[mid] - c.metrics["adoption_share"].iloc[mid]
              for c, w in zip(capped, louder, strict=True)]  # fmt: skip
    expanded = [g.metrics["adoption_share"].iloc[-1] for g in grown]
    initial = lab.scenario().population.initial.customer  # initial customers have the need by definition
    return [
        in_range(f"adoption at tick {ticks} with m = {m:g}", mean_ci(final), 0.0, m + initial, "{:.3f}",
                 f"<= m ({m:g}, + {initial:g} initial customers)"),
        above(f"adoption at tick {mid}, contact {params['contact']:g} - baseline", mean_ci(faster), 0.0,
              "> 0, significant (WOM accelerates)", "{:+.3f}"),
        in_range(f"adoption at tick {ticks} with contact {params['contact']:g}", mean_ci(final_louder), 0.0,
                 m + initial, "{:.3f}", "<= m (WOM cannot expand it)"),
        above(f"adoption at tick {ticks} with category ads (need creation {params['need']:g})", mean_ci(expanded),
              m + initial, "> m, significant (expansion)", "{:.3f}"),
    ]  # fmt: skip


def _talk_rate(frame: pd.DataFrame, ages: tuple[int, int]) -> float:
    """First-hand messages per experienced person-tick at ages ages[0]..ages[1] (ticks since the last purchase)."""
    rows = frame[(frame["age"] >= ages[0]) & (frame["age"] <= ages[1])]
    return ratio(float(rows["messages"].sum()), float(rows["person_ticks"].sum()))


@check("talk_after_experience")
def talk_after_experience(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F25: own WOM is most frequent soon after a purchase and fades; decay 1, floor 0 gives talk-once cascades."""
    soon, late = (tuple(int(a) for a in params[k]) for k in ("soon", "late"))
    fade = [ratio(_talk_rate(r.probes["talk_age"], soon), _talk_rate(r.probes["talk_age"], late))
            for r in lab.baseline()]  # fmt: skip
    # The same ratio when talk never fades (decay 0) shows what the mix of people at each age gives alone: long
    # after a purchase most people are lapsed customers. The paired excess over it is the fading itself.
    flat = lab.runs(arm(lab, "f25_never_fades", None, {"wom.novelty_decay": 0.0}, probes=("talk_age",)))
    excess = [f - ratio(_talk_rate(r.probes["talk_age"], soon), _talk_rate(r.probes["talk_age"], late))
              for f, r in zip(fade, flat, strict=True)]  # fmt: skip
    once = lab.runs(arm(lab, "f25_talk_once", None, {"wom.novelty_decay": 1.0, "wom.talk_floor": 0.0},
                        probes=("talk_age",)))  # fmt: skip
    later, spoke, reached = [], [], []
    for r in once:
        f = r.probes["talk_age"]
        later.append(ratio(float(f.loc[f["age"] > 0, "messages"].sum()), float(f["messages"].sum())))
        spoke.append(float(f["messages"].sum()))
        reached.append(r.metrics["adoption_share"].iloc[-1] - r.metrics["adoption_share"].iloc[0])
    low = float(params["min_ratio"])
    return [
        above(f"first-hand WOM per customer-tick, {soon[0]}-{soon[1]} / {late[0]}+ ticks after the last purchase",
              mean_ci(fade), low, f"> {low:g}, significant (talk follows recent experience)", "{:.2f}"),
        above("the same ratio, default - talk never fades (decay 0)", mean_ci(excess), 0.0,
              "> 0, significant (the fade is not only who is left at each age)", "{:+.2f}"),
        in_range("talk-once (decay 1, floor 0): share of first-hand messages sent later than the tick after a "
                 "purchase", mean_ci(later), 0.0, 0.0, "{:.3f}", "0 (each experience is talked about once)"),
        above("  talk-once: first-hand messages per run", mean_ci(spoke), 0.0, "> 0 (people still talk)", "{:.0f}"),
        above("  talk-once: adoption gained over the run", mean_ci(reached), 0.0, "> 0 (the cascade spreads)",
              "{:+.3f}"),
    ]  # fmt: skip


WOM_CHANNELS = ("wom", "kol", "referral")  # the channels F11's share counts as word of mouth


@check("credited_vs_causal_wom")
def credited_vs_causal_wom(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F26: WOM's last-touch credit among first-year new customers vs the cut without WOM (paired, same people).

    With common random numbers the no-WOM arm holds the same people, so "credited to WOM but adopted within the
    horizon anyway" is measured person by person: the conversions last touch credits to WOM that it did not cause.
    """
    horizon = int(params["weeks"])
    off = lab.runs(arm(lab, "f17_no_wom", None, {"wom.contact_prob": 0.0, "kols.reach": 0.0}))
    relation, gap, anyway, credited, causal = [], [], [], [], []
    for b, o in zip(lab.baseline(), off, strict=True):
        new_b = ((b.people["adoption_tick"] >= 0) & (b.people["adoption_tick"] < horizon)).to_numpy()
        new_o = ((o.people["adoption_tick"] >= 0) & (o.people["adoption_tick"] < horizon)).to_numpy()
        by_wom = new_b & b.people["acquired_by"].isin(WOM_CHANNELS).to_numpy()
        share = ratio(by_wom.sum(), new_b.sum())
        cut = 1.0 - ratio(new_o.sum(), new_b.sum())
        credited.append(share)
        causal.append(cut)
        relation.append(ratio(cut, share))
        gap.append(cut - share)
        anyway.append(ratio((by_wom & new_o).sum(), by_wom.sum()))
    low, high = params["causal_over_credited"]
    return [
        below(f"caused - credited share of new customers over {horizon} ticks", mean_ci(gap), 0.0,
              "< 0, significant (last touch over-credits)", "{:+.2f}"),
        in_range("caused / credited", mean_ci(relation), low, high, "{:.2f}",
                 f"{low:g} to {high:g} (WOM causes most of what it is credited with)"),
        Part("  credited to WOM (last touch)", "", mean_ci(credited), None, "{:.0%}"),
        Part("  caused by WOM (cut without it)", "", mean_ci(causal), None, "{:.0%}"),
        Part("  WOM-credited adopters who adopt within the horizon without WOM", "", mean_ci(anyway), None, "{:.0%}"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------- F30-F31 (issue 15)
def _competition_acquisitions(metrics: pd.DataFrame, first: int, last: int) -> float:
    """Our new customers and win-backs in ticks first..last (inclusive): every way a buyer comes to us."""
    m = metrics[(metrics["t"] >= first) & (metrics["t"] <= last)]
    return float((m["new_customers"] + m["winbacks"]).sum())


@check("competition_rival_crisis")
def competition_rival_crisis(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F30: a rival's crisis raises our acquisitions and our market share (paired: same seeds, crisis or not)."""
    need_kinds("competitor_crisis")
    first, last = params["crisis"]
    crisis = [{"kind": "competitor_crisis", "competitor": "major", "schedule": {"from": first, "until": last}}]
    reps = int(params["replications"])
    market = lab.runs(arm(lab, "f30_market", params["scenario"]), reps)
    hit = lab.runs(arm(lab, "f30_rival_crisis", params["scenario"], {"events": crisis}), reps)
    gain, share = [], []
    for b, c in zip(market, hit, strict=True):
        end = int(b.metrics["t"].iloc[-1])
        gain.append(
            ratio(_competition_acquisitions(c.metrics, first, end), _competition_acquisitions(b.metrics, first, end))
            - 1
        )
        # Mean share from the crisis on: one end-of-run tick is noisier than the window.
        share.append(c.metrics["market_share"].iloc[first:].mean() - b.metrics["market_share"].iloc[first:].mean())
    return [
        above("our acquisitions from the crisis on, rival crisis vs none", mean_ci(gain), 0.0,
              "> 0, significant", "{:+.1%}"),
        above("our market share from the crisis on (mean), rival crisis - none", mean_ci(share), 0.0,
              "> 0, significant",
              "{:+.3f}"),
    ]  # fmt: skip


@check("competition_rival_price_cut")
def competition_rival_price_cut(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F31: a rival's price cut costs us share, more (about in proportion) when buyers are more price-sensitive."""
    need_kinds("competitor_price")
    cut = [{"kind": "competitor_price", "competitor": "major", "price": float(params["price"]),
            "schedule": {"from": int(params["from"])}}]  # fmt: skip
    losses = []
    for psi in params["sensitivity"]:
        sens = {"population.price_sensitivity": float(psi)}
        reps = int(params["replications"])
        base = lab.runs(arm(lab, f"f31_market_psi{psi:g}", params["scenario"], sens), reps)
        hit = lab.runs(arm(lab, f"f31_rival_cut_psi{psi:g}", params["scenario"], {**sens, "events": cut}), reps)
        losses.append([b.metrics["market_share"].iloc[-1] - c.metrics["market_share"].iloc[-1]
                       for b, c in zip(base, hit, strict=True)])  # fmt: skip
    low, high = (np.array(x) for x in losses)
    lo_psi, hi_psi = params["sensitivity"]
    r_low, r_high = params["ratio"]
    return [
        above(f"share lost to the cut, price sensitivity {lo_psi:g}", mean_ci(low), 0.0, "> 0, significant",
              "{:+.3f}"),
        above(f"extra share lost at sensitivity {hi_psi:g}", mean_ci(high - low), 0.0, "> 0, significant",
              "{:+.3f}"),
        in_range(f"share lost at {hi_psi:g} / at {lo_psi:g}", Estimate(float(ratio(high.mean(), low.mean())), math.nan,
                 math.nan, len(low)), r_low, r_high, "{:.2f}",
                 f"{r_low:g} to {r_high:g} ({hi_psi / lo_psi:g} = proportional)"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------- F32 (issue 15)
def _weekly_retention(metrics: pd.DataFrame, rival: str, first: int) -> float:
    """A rival's weekly retention from tick `first` on: mean of 1 - lost / customers of the tick before."""
    customers = metrics[f"rival_{rival}_customers"].to_numpy(dtype=float)
    lost = metrics[f"rival_{rival}_lost"].to_numpy(dtype=float)
    before, gone = customers[first - 1 : -1], lost[first:]
    held = before > 0
    return float(np.mean(1.0 - gone[held] / before[held])) if held.any() else math.nan


@check("competition_double_jeopardy")
def competition_double_jeopardy(lab: Lab, params: dict[str, Any]) -> list[Part]:
    """F32: of two rivals alike but in size and ads, the larger keeps more buyers, and they are no less loyal."""
    larger, smaller = params["brands"]
    first, tolerance = int(params["retention_from"]), float(params["retention_tolerance"])
    runs = lab.runs(arm(lab, "f32_double_jeopardy", params["scenario"]), int(params["replications"]))
    sizes, gaps = [], []
    for r in runs:
        last = r.metrics.iloc[-1]
        sizes.append(ratio(last[f"rival_{larger}_customers"], last[f"rival_{smaller}_customers"]))
        gaps.append(_weekly_retention(r.metrics, larger, first) - _weekly_retention(r.metrics, smaller, first))
    return [
        above(f"{larger} / {smaller} customers at the end", mean_ci(sizes), 1.0, "> 1, significant", "{:.2f}"),
        above(f"weekly retention from tick {first}, {larger} - {smaller}", mean_ci(gaps), -tolerance,
              f"> -{tolerance:g}, significant (not lower)", "{:+.4f}"),
    ]  # fmt: skip
