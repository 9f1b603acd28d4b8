"""Developer tool: writes docs/cookbook.md from runs/cookbook.json (made by cookbook_data.py) and a few more
paired comparisons, all with `wom_sim.compare` (five replications, replication seeds of base seed 1), then appends
the sections other tools write beside it: cookbook_market.py (competition, crm_market) and cookbook_levers.py. Each
of those runs on its own; run it before this tool when its numbers are to be refreshed."""

import functools
import json
import textwrap

import numpy as np
from cookbook_data import KEYS, LABEL, ROOT, change_text, ci_text, run_comparison

from wom_sim.analysis.statistics import mean_ci
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import load_scenario

D = json.loads((ROOT / "runs" / "cookbook.json").read_text(encoding="utf-8"))
comparison = functools.lru_cache(maxsize=None)(run_comparison)

SHOW = {
    "kol_launch": ["adoption_mean", "wom_acquired_share", "pos_messages", "neg_messages", "nps"],
    "kol_launch_unscreened": ["adoption_mean", "wom_acquired_share", "pos_messages", "neg_messages", "nps"],
    "kol_vs_ads": ["adoption_mean", "wom_acquired_share", "pos_messages"],
    "referral_program": ["adoption_mean", "wom_acquired_share", "pos_messages", "nps"],
    "loyalty_program": ["repurchase_rate", "churn_rate", "nps", "neg_messages", "clv"],
    "community_building": ["repurchase_rate", "churn_rate", "nps", "clv"],
    "service_improvement": ["pos_messages", "neg_messages", "churn_rate", "repurchase_rate", "nps", "brand", "clv"],
    "service_recovery": ["neg_messages", "churn_rate", "repurchase_rate", "nps", "mean_T", "brand", "clv"],
    "product_crisis": ["customers", "churn_rate", "repurchase_rate", "neg_messages", "nps", "mean_T"],
    "product_crisis_handled": ["customers", "churn_rate", "repurchase_rate", "neg_messages", "nps", "mean_T"],
    "product_crisis_mishandled": ["customers", "churn_rate", "repurchase_rate", "neg_messages", "nps", "mean_T"],
    "price_war": ["adoption_mean", "margin_per_purchase", "repurchase_rate", "brand", "cum_revenue"],
    "churn_early_warning": ["churn_rate", "customers", "clv"],
    "personalised_marketing": ["repurchase_rate", "cum_revenue", "clv"],
    "fake_review_scandal": ["adoption_mean", "mean_T", "neg_messages", "nps"],
}


def fmt(key, v):
    return LABEL[key][1].format(v) if v == v else "n/a"


def table(name):
    e = D[name]
    rows = ["| metric | baseline | scenario | paired change (95% CI) |", "|---|---|---|---|"]
    for k in SHOW[name] + ["cum_intervention_cost", "cum_profit"]:
        b, t = e["base"][f"base_{k}"], e["treat"][f"treat_{k}"]
        rows.append(f"| {LABEL[k][0]} | {fmt(k, b)} | {fmt(k, t)} | {ci_text(k, e['summary'][f'delta_{k}'])} |")
    s = e["summary"]
    roi = s["roi"]
    if e["summary"]["incremental_cost"]["mean"]:
        rows.append(
            f"| **ROI** (mean incremental profit / mean incremental cost) | | | **{roi['mean']:+.2f}** "
            f"({roi['ci_low']:+.2f} to {roi['ci_high']:+.2f}) |"
        )
    return "\n".join(rows)


def windowed(name, fn):
    """Paired per-replication values of fn(metrics) for baseline and scenario (the cookbook's comparison)."""
    c = comparison("baseline", name)
    base, treat = c.runs_of(c.base), c.runs_of(c.treatments[0])
    return np.array([(fn(base[r]), fn(treat[r])) for r in sorted(base)])


def extra_row(label, arr, f, name):
    """A row of a windowed metric; `name` is the catalogue column it reads as (a share's change is in points)."""
    mb, mt = arr[:, 0].mean(), arr[:, 1].mean()
    est = mean_ci(arr[:, 1] - arr[:, 0])
    m, lo, hi = (change_text(name, v, f, unit=i == 0) for i, v in enumerate((est.value, est.low, est.high)))
    return f"| {label} | {f.format(mb)} | {f.format(mt)} | {m} ({lo} to {hi}) |"


EXTRA = {
    "kol_launch": [("Ever adopted by week 12", lambda m: m["adoption_share"][12], "{:.1%}", "adoption_share")],
    "kol_launch_unscreened": [
        ("Ever adopted by week 12", lambda m: m["adoption_share"][12], "{:.1%}", "adoption_share"),
        ("Negative WOM messages weeks 0-15", lambda m: m["neg_messages"][:16].sum(), "{:,.0f}", "neg_messages"),
    ],
    "kol_vs_ads": [("Ever adopted by week 12", lambda m: m["adoption_share"][12], "{:.1%}", "adoption_share")],
    "referral_program": [("Ever adopted by week 12", lambda m: m["adoption_share"][12], "{:.1%}", "adoption_share")],
    "churn_early_warning": [
        ("Churn rate per week, weeks 26-103", lambda m: m["churn_rate"][26:].mean(), "{:.3%}", "churn_rate")
    ],
    "price_war": [
        (
            "Gross margin per purchase, weeks 26-51",
            lambda m: (m["revenue"] - m["cost_of_goods"])[26:52].sum() / m["purchases"][26:52].sum(),
            "{:.2f}",
            "margin_per_purchase",
        ),
        ("Brand B at week 51", lambda m: m["brand"][51], "{:.3f}", "brand"),
        ("New customers weeks 26-51", lambda m: m["new_customers"][26:52].sum(), "{:,.1f}", "new_customers"),
    ],
    "fake_review_scandal": [
        ("New customers weeks 0-19", lambda m: m["new_customers"][:20].sum(), "{:,.0f}", "new_customers"),
        ("Mean trust of customers at week 20", lambda m: m["mean_T"][20], "{:.3f}", "mean_T"),
    ],
    "personalised_marketing": [],
}


def dm(name, key):
    return D[name]["summary"][key]["mean"]


def rel(name, key):
    return dm(name, f"delta_{key}") / D[name]["base"][f"base_{key}"]


def pts(name, key, digits=None):
    """The mean change of a share, rate or NPS in points ("+12.2 pts"), as the tables print it."""
    fmt = "{:." + str(digits) + "%}" if digits is not None else LABEL[key][1]
    return change_text(KEYS[key], dm(name, f"delta_{key}"), fmt)


def rate_change(name, key, digits=3):
    """A rate's change in points with its relative size: "-0.155 pts, -33% of the baseline's rate"."""
    return f"{pts(name, key, digits)}, {rel(name, key):+.0%} of the baseline's rate"


def pays(name):
    """The verdict the ROI interval supports: a lever pays only when its interval is above break-even."""
    s = D[name]["summary"]["roi"]
    if s["ci_low"] > 0:
        return "pays"
    if s["mean"] > 0:
        return "probably pays, though at five replications its interval reaches break-even"
    return "does not pay"


def roi(name):
    s = D[name]["summary"]["roi"]
    return f"ROI {s['mean']:+.1f} (95% CI {s['ci_low']:+.1f} to {s['ci_high']:+.1f})"


SECTIONS = [
    (
        "kol_launch",
        f"Ten screened hubs posting every week in the launch quarter speed adoption (mean adoption share "
        f"{pts('kol_launch', 'adoption_mean')}) and shift acquisition to word of mouth "
        f"({pts('kol_launch', 'wom_acquired_share', 0)}); the customers they pull forward earn their fees "
        f"back several times over two years: {roi('kol_launch')}.",
    ),
    (
        "kol_launch_unscreened",
        f"The same campaign with screening 0.1: backfiring KOLs are dropped and their followers "
        f"post negatively for three weeks (negative WOM {rel('kol_launch_unscreened', 'neg_messages'):+.0%} over the run), "
        f"which undoes the adoption gain (mean adoption share "
        f"{pts('kol_launch_unscreened', 'adoption_mean')} against "
        f"{pts('kol_launch', 'adoption_mean')} screened): {roi('kol_launch_unscreened')}. The wide interval is "
        f"real: how much a backlash costs depends on which hub backfires and when.",
    ),
    (
        "kol_vs_ads",
        f"The kol_launch budget in advertising {pays('kol_vs_ads')} ({roi('kol_vs_ads')}), and "
        f"earns less than the KOLs "
        f"({roi('kol_launch')}): ads make people aware, the KOLs' posts also carry credibility and reach whole "
        f"neighbourhoods, and they shift acquisition toward WOM rather than away from it.",
    ),
    (
        "referral_program",
        f"Referral rewards raise the share of customers acquired via WOM, KOLs or referrals by "
        f"{pts('referral_program', 'wom_acquired_share', 0)} and speed adoption (mean adoption share "
        f"{pts('referral_program', 'adoption_mean')}); at 20 per referred adopter: {roi('referral_program')}.",
    ),
    (
        "loyalty_program",
        f"Members repurchase more (rate {pts('loyalty_program', 'repurchase_rate')}, "
        f"{rel('loyalty_program', 'repurchase_rate'):+.0%} of the baseline's rate; mobile-loyalty report reports 42% -> 58% with multichannel service "
        f"as well), NPS and the CLV estimate rise; the extra margin pays the member fees and rewards and a bit more: "
        f"{roi('loyalty_program')}. More purchases also mean more service failures, so negative WOM rises too.",
    ),
    (
        "community_building",
        f"The community raises the repurchase rate ({rate_change('community_building', 'repurchase_rate', 1)}), "
        f"NPS and CLV, and about pays for itself: {roi('community_building')}.",
    ),
    (
        "service_improvement",
        f"The strongest lever in the bundle: higher quality and fewer failures lift NPS "
        f"({pts('service_improvement', 'nps')}), positive WOM ({rel('service_improvement', 'pos_messages'):+.0%}) "
        f"and adoption, and cut the churn rate ({rate_change('service_improvement', 'churn_rate')}): "
        f"{roi('service_improvement')}.",
    ),
    (
        "service_recovery",
        f"Recovering 80% of failures on the spot cuts negative WOM by "
        f"{-rel('service_recovery', 'neg_messages'):.0%} and the churn rate by "
        f"{-rel('service_recovery', 'churn_rate'):.0%} of its level ({pts('service_recovery', 'churn_rate')}) (fact F9), lifts trust and NPS, and pays back its 20 per case: {roi('service_recovery')}.",
    ),
    (
        "churn_early_warning",
        "The warning cuts churn in the weeks it runs by about the seeds' 15% (fact F12; row 1), "
        f"but at 5 per offer, renewed every four weeks, the customers it keeps do not repay the offers within two years "
        f"({roi('churn_early_warning')}): the CLV estimate rises, the profit does not yet.",
    ),
    (
        "personalised_marketing",
        f"Targeting 30% of customers a week raises the repurchase rate by "
        f"{rel('personalised_marketing', 'repurchase_rate'):.0%} of its level "
        f"({pts('personalised_marketing', 'repurchase_rate', 1)}; about 0.3 x 15%): {roi('personalised_marketing')}.",
    ),
    (
        "price_war",
        "A 20% cut for half a year wipes out two-thirds of the margin on every sale in those weeks; it wins "
        "few extra customers (perceived value rises only for the price-sensitive) and the brand erodes while it lasts: "
        f"profit {dm('price_war', 'incremental_profit'):+,.0f} over two years.",
    ),
    (
        "fake_review_scandal",
        "Bought reviews lift adoption a little until week 20; the exposure then cuts trust by ~20%, "
        "the brand by about a tenth at its worst and sets customers venting, which slows adoption for months: profit "
        f"{dm('fake_review_scandal', 'incremental_profit'):+,.0f} for 6,300 spent.",
    ),
]

out = [
    """# Cookbook: the bundled what-if scenarios

Each bundled scenario (`scenarios/*.yaml`) extends `baseline.yaml`, changes one lever and asks one question
(the first line of its `description`; `wom-sim scenarios` lists them). This page shows, for each, the command
and the result it produced against the baseline at the bundled size (5,000 people, 104 weekly ticks), paired
over five replications (the replication seeds of base seed 1, docs/experiments.md): each replication runs
baseline and scenario on the same graph, population and random streams (common random numbers), so the change
column is the lever's effect, with a 95% t-interval over replications.

The tables were made with `wom_sim.compare` (docs/experiments.md, Python API):

```python
import wom_sim
c = wom_sim.compare("baseline", "kol_launch", replications=5, seed=1)
print(c.uplift)           # paired change per outcome: mean and 95% CI
print(c.roi)              # ROI = mean incremental profit / mean incremental cost, paired 95% CI (Fieller's)
print(c.per_seed)         # one row per replication: seed, base_*, treat_*, delta_*
```

and each scenario runs on its own with `wom-sim run <name>` (summary, tables, dashboard) or against the
baseline with `wom-sim compare baseline <name> -r 30` (more replications, paired uplifts for every metric).

How to read the money rows: profit is revenue minus cost of goods minus every intervention cost, so the change in
cumulative profit is already net of the lever's cost. **ROI = mean incremental profit / mean incremental cost** over
the replications (a ratio of means; its interval is Fieller's, on the paired uplifts): 0 is
break-even (the lever paid for itself exactly), 1 means every unit spent came back plus one more, negative
means it lost money. Revenue timing matters: a lever that only speeds up adoption in a market that saturates
within two years earns mostly by pulling purchases forward (the baseline reaches about half the population by week 52
and 80% by week 91). Metrics: adoption speed is the mean adoption share over the run; churn and repurchase rates are
means over weeks; NPS, trust, brand and CLV are end values. Units of the change column: a change of a share or a
rate (adoption, churn, repurchase, the WOM-acquired share) is in percentage points (pts; from 6.1% to 26.3% is a
change of +20.2 pts), of NPS in NPS points; a % in the text is a relative change (negative WOM +68% is 1.68 times
as many messages).
"""
]

for name, text in SECTIONS:
    q = load_scenario(bundled_path(name)).description.splitlines()[0]
    text = "\n".join(textwrap.wrap(text, 116))
    out.append(
        f"## {name}\n\n**{q}**\n\n```\nwom-sim run {name}\nwom-sim compare baseline {name} -r 5 --seed 1\n```\n\n{text}\n"
    )
    t = table(name)
    extras = [extra_row(label, windowed(name, fn), f, metric) for label, fn, f, metric in EXTRA.get(name, [])]
    if extras:
        lines = t.splitlines()
        t = "\n".join(lines[:2] + extras + lines[2:])
    out.append(t + "\n")
    if name == "kol_vs_ads":
        s = comparison("kol_launch", "kol_vs_ads").uplift.set_index("outcome")
        out.append(
            "Head to head (paired, kol_vs_ads minus kol_launch, same seeds): profit "
            f"{s.loc['cum_profit', 'uplift']:+,.0f} ({s.loc['cum_profit', 'ci_low']:+,.0f} to "
            f"{s.loc['cum_profit', 'ci_high']:+,.0f}); mean adoption share "
            f"{change_text('mean:adoption_share', s.loc['mean:adoption_share', 'uplift'], '{:.1%}')}; "
            f"share of customers acquired via WOM, KOLs or referrals "
            f"{change_text('wom_acquired_share', s.loc['wom_acquired_share', 'uplift'], '{:.1%}')}.\n"
        )

# crisis section
out.append("""## product_crisis, product_crisis_handled, product_crisis_mishandled

**How much does a product crisis cost, and how much of it does the answer decide?**

```
wom-sim run product_crisis
wom-sim compare baseline product_crisis product_crisis_handled product_crisis_mishandled -r 5 --seed 1
```

The same defect (severity 0.6, 10% of customers hit) surfaces in week 40 after a week of rising complaints.
Brand damage is the largest shortfall of B against the paired baseline in the 64 weeks after; recovery is the
number of weeks after surfacing until 90% of that shortfall is made good (`wom_sim.sim.interventions.crisis_impact`). The crisis report says: a
typical crisis costs 8-15% of brand value, doubled if mishandled; transparency and compensation keep the loss
under 5%; non-transparent handling cuts trust by about 40%; recovery to >90% takes 6-12 months.
""")
rows = ["| | no answer | fast, transparent, compensated | 4 weeks late, opaque |", "|---|---|---|---|"]
arms = ["product_crisis", "product_crisis_handled", "product_crisis_mishandled"]


def cmean(name, key, f):
    v = np.array(D[name]["crisis"][key], dtype=float)
    est = mean_ci(v)
    m, lo, hi = est.value, est.low, est.high
    if np.isnan(v).all():
        return "not within the run"
    txt = f.format(m) + (f" ({f.format(lo)} to {f.format(hi)})" if lo == lo else "")
    return txt + (f" [{np.isnan(v).sum()} of 5 replications not within the run]" if np.isnan(v).any() else "")


rows.append(
    "| Brand damage (peak shortfall vs baseline) | "
    + " | ".join(cmean(a, "brand_damage", "{:.1%}") for a in arms)
    + " |"
)
rows.append("| Trust cut (customers' mean, peak) | " + " | ".join(cmean(a, "trust_cut", "{:.1%}") for a in arms) + " |")
rows.append(
    "| Weeks to make good 90% of the loss | "
    + " | ".join(cmean(a, "ticks_to_recover_90", "{:.0f}") for a in arms)
    + " |"
)
rows.append(
    "| Weeks below 90% of the baseline brand | " + " | ".join(cmean(a, "ticks_to_90", "{:.0f}") for a in arms) + " |"
)
for k in ["customers", "churn_rate", "nps", "cum_intervention_cost", "cum_profit"]:
    rows.append(
        f"| {LABEL[k][0]}: change | " + " | ".join(ci_text(k, D[a]["summary"][f"delta_{k}"]) for a in arms) + " |"
    )
out.append("\n".join(rows) + "\n")
dmg = {a: np.nanmean(np.array(D[a]["crisis"]["brand_damage"], float)) for a in arms}
rec = np.nanmean(np.array(D["product_crisis_handled"]["crisis"]["ticks_to_recover_90"], float))
prof = {a: dm(a, "incremental_profit") for a in arms}
out.append(f"""The well-handled crisis stays under 5% ({
    dmg["product_crisis_handled"]:.1%}; it never dips below 90% of the
no-crisis brand) and 90% of its small loss is made good in about {rec:.0f} weeks (6-12 months, crisis report); the
unanswered one lands in the seeds' 8-15% band ({dmg["product_crisis"]:.1%}); the late, opaque answer nearly doubles
that ({dmg["product_crisis_mishandled"] / dmg["product_crisis"]:.1f}x; {
    dmg["product_crisis_mishandled"]
    / dmg["product_crisis_handled"]:.0f}x the well-handled damage) and cuts trust by ~40%. The answer is worth far more
than it costs: the handled crisis changes two-year profit by {prof["product_crisis_handled"]:+,.0f} (compensation
and KOL fees included), the unanswered one by {prof["product_crisis"]:+,.0f}, the mishandled one by
{prof["product_crisis_mishandled"]:+,.0f}.
""")

# Competition scenarios (issue 15): written by cookbook_market.py (its own comparisons), kept beside this tool.
out.append((ROOT / "experiments" / "tools" / "cookbook_competition.md").read_text(encoding="utf-8"))
# Levers from the source reports (issue 15, item 8): written by cookbook_levers.py, kept beside this tool.
out.append((ROOT / "experiments" / "tools" / "cookbook_levers.md").read_text(encoding="utf-8"))
# Starting from your customer data (crm_market): written by cookbook_market.py too.
out.append((ROOT / "experiments" / "tools" / "cookbook_crm.md").read_text(encoding="utf-8"))
(ROOT / "docs" / "cookbook.md").write_text("\n".join(out), encoding="utf-8")
