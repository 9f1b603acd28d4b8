"""Developer tool: the cookbook's two market sections, rival brands and starting from your customer data, written
to experiments/tools/cookbook_competition.md and experiments/tools/cookbook_crm.md, which make_cookbook.py appends
to docs/cookbook.md.

Every number of the two sections comes from the runs made here (the scenario's own inputs, such as a rival's price,
are read from the bundled files): the competition comparisons with `wom_sim.compare` (four replications of base
seed 1 at 3,000 people, paired), the launch race from one run per seed, the CRM facts from the bundled person table
and edge list and from the first replication's model, the referral reward with `wom_sim.compare` on crm_market.
Each verdict sentence is chosen by where the 95% interval of its change lies against 0 (`direction`), so the page
stays true when the model changes. Run on its own (about 60 runs), not by cookbook_data.py:

    cd experiments/tools && python cookbook_market.py
"""

from __future__ import annotations

import datetime
import re
import sys
import textwrap
import time

import numpy as np
import pandas as pd
from cookbook_data import REPLICATIONS, ROOT, SEED, change_text

from wom_sim.analysis.statistics import mean_ci
from wom_sim.experiment.comparison import Comparison, compare
from wom_sim.experiment.executors import make_executor
from wom_sim.experiment.studies import Arm
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import load_scenario
from wom_sim.sim.model import WomModel, simulate

TOOLS = ROOT / "experiments" / "tools"
# The competition section's sizes: rivals double the cost of a run, so 3,000 people and four replications.
RIVAL_REPLICATIONS, RIVAL_SIZE = 4, {"network.n": 3000}
CRM_REPLICATIONS = 4
RACE_SEEDS = (1, 2)
OUTCOMES = ["market_share", "profit", "customers", "switch_out", "switch_in", "new_customers", "intervention_cost",
            "adoption_share", "nps"]  # fmt: skip
WORKERS = 2  # the machine's shared cores


# --- verdict wording --------------------------------------------------------------------------------------------


def direction(low: float, high: float) -> str:
    """Where a change's 95% interval lies: "up" (above 0), "down" (below 0) or "unsure" (around 0, or none)."""
    if low > 0:
        return "up"
    if high < 0:
        return "down"
    return "unsure"


def pick(est: dict, up: str, down: str, unsure: str) -> str:
    """The sentence of `up`, `down` or `unsure` that the change `est` (mean, ci_low, ci_high) supports."""
    return {"up": up, "down": down, "unsure": unsure}[direction(est["ci_low"], est["ci_high"])]


# --- reading a comparison ---------------------------------------------------------------------------------------


def change(c: Comparison, treatment: str, name: str) -> dict:
    """One outcome's paired change of a treatment: base, treat (arm means), mean, ci_low, ci_high."""
    u = c.uplift
    row = u[(u["treatment"] == treatment) & (u["outcome"] == name)].iloc[0]
    return {"base": float(row["base_mean"]), "treat": float(row["treatment_mean"]), "mean": float(row["uplift"]),
            "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"])}  # fmt: skip


def roi_of(c: Comparison, treatment: str) -> dict:
    row = c.roi.set_index("treatment").loc[treatment]
    return {"mean": float(row["roi"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]),
            "cost": float(row["incremental_cost"])}  # fmt: skip


def cell(name: str, est: dict, fmt: str) -> str:
    """A change with its 95% CI, "+10.6 pts (+7.5 to +13.7)" (a share's change in points: `change_text`)."""
    mean = change_text(name, est["mean"], fmt)
    if est["ci_low"] != est["ci_low"]:
        return mean
    return f"{mean} ({change_text(name, est['ci_low'], fmt, False)} to {change_text(name, est['ci_high'], fmt, False)})"


def interval(est: dict, fmt: str) -> str:
    return f"{fmt.format(est['mean'])} ({fmt.format(est['ci_low'])} to {fmt.format(est['ci_high'])})"


def paired(c: Comparison, treatment: str, fn) -> dict:
    """Mean and 95% CI over replications of fn(treatment run) - fn(base run), for windows `compare` does not keep."""
    base, treat = c.runs_of(c.base), c.runs_of(treatment)
    est = mean_ci([fn(treat[r]) - fn(base[r]) for r in sorted(base)])
    return {"mean": est.value, "ci_low": est.low, "ci_high": est.high}


def at(run: pd.DataFrame, week: int, column: str) -> float:
    return float(run.loc[run["t"] == week, column].iloc[0])


def weeks(values: list[int | None]) -> str:
    """When something first happened in each replication: "in week 31 in all 4 replications", "in weeks 32, 33,
    never and 36 of the 4 replications" (None: never in the run)."""
    text = ["never" if w is None else str(w) for w in values]
    if len(set(text)) == 1:
        return ("never" if text[0] == "never" else f"in week {text[0]}") + f" in all {len(text)} replications"
    return f"in weeks {', '.join(text[:-1])} and {text[-1]} of the {len(text)} replications"


def first_week(run: pd.DataFrame, mask: pd.Series) -> int | None:
    hit = run.loc[mask.to_numpy(), "t"]
    return int(hit.iloc[0]) if len(hit) else None


LIST_START = re.compile(r"(\d+[.)]|[-+*>])\s")


def wrap(page: str, width: int = 116) -> str:
    """The page's prose paragraphs filled to `width`; headings, tables and code blocks as written."""
    blocks = []
    for block in page.split("\n\n"):
        if block.lstrip().startswith(("|", "```", "#")):
            blocks.append(block)
            continue
        # " - " kept inside a line: at the start of one it would read as a list item
        text = " ".join(block.split()).replace(" - ", "\0- ")
        filled = textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)
        lines = filled.replace("\0", " ").split("\n")
        for i in range(len(lines) - 1, 0, -1):  # a line opening like a list item ("26. ", "+ "): its word moves up
            if LIST_START.match(lines[i]):
                word, _, rest = lines[i].partition(" ")
                lines[i - 1] += " " + word
                lines[i] = rest
        blocks.append("\n".join(line for line in lines if line))
    return "\n\n".join(blocks).rstrip("\n") + "\n"


# --- competition ------------------------------------------------------------------------------------------------


def scenario(name: str):
    return load_scenario(bundled_path(name))


def price_section(executor) -> str:
    cut_sc, match_sc = scenario("competitor_price_cut"), scenario("competitor_price_match")
    acme, cut_event = cut_sc.competitors[0], cut_sc.events[0]
    match = next(e for e in match_sc.interventions if e.kind == "price_change")
    # One comparison against the price cut: matching (the question) and a market without acme (what acme costs).
    c = compare("competitor_price_cut", "competitor_price_match", "baseline", replications=RIVAL_REPLICATIONS,
                seed=SEED, overrides=RIVAL_SIZE, outcomes=OUTCOMES, executor=executor)  # fmt: skip
    share, profit = change(c, "competitor_price_match", "market_share"), change(c, "competitor_price_match", "profit")
    rows = [("Market share at the end", "market_share", "{:.1%}"), ("Active customers at the end", "customers",
            "{:,.0f}"), (f"Customers lost to {acme.name} (two years)", "switch_out", "{:,.0f}"),
            ("Profit (two years)", "profit", "{:,.0f}")]  # fmt: skip
    table = [f"| outcome | no answer | match at {match.price:g} | change (95% CI) |", "|---|---|---|---|"]
    for label, name, fmt in rows:
        est = change(c, "competitor_price_match", name)
        table.append(f"| {label} | {fmt.format(est['base'])} | {fmt.format(est['treat'])} | {cell(name, est, fmt)} |")
    # What acme's presence costs: the market without it minus the cut (a rival-less market's share is 1).
    alone_share, alone_profit = change(c, "baseline", "market_share"), change(c, "baseline", "profit")
    taken, lost = alone_share["mean"], alone_profit["mean"]
    presence = (
        f"costs us {change_text('market_share', taken, '{:.1%}').lstrip('+')} of the market"
        if taken >= 0
        else f"adds {change_text('market_share', -taken, '{:.1%}')} to our share"
    ) + (f" and {lost:,.0f} of two-year profit" if lost >= 0 else f" and {-lost:,.0f} to our two-year profit")
    ours = (
        "our quality and price"
        if (acme.quality, acme.price) == (cut_sc.brand.quality, cut_sc.brand.price)
        else f"quality {acme.quality:g}, price {acme.price:g}; ours {cut_sc.brand.quality:g} and {cut_sc.brand.price:g}"
    )
    won_back = (
        f"wins back {share['mean'] / taken:.0%} of the share {acme.name} takes"
        if taken > 0
        else f"changes our share by {cell('market_share', share, '{:.1%}')}"
    )
    profit_rel = abs(profit["mean"]) / abs(profit["base"]) if profit["base"] else float("nan")
    share_part = pick(share, won_back, f"loses share ({cell('market_share', share, '{:.1%}')})",
                      f"does not clearly move our share ({cell('market_share', share, '{:.1%}')})")  # fmt: skip
    verdict = pick(
        profit,
        f"Matching {share_part} and adds {profit_rel:.0%} to our two-year profit. The model says: here, matching "
        "a rival's permanent cut pays.",
        f"Matching {share_part} but costs {profit_rel:.0%} of our two-year profit: the lower price applies to every "
        "sale of ours, the share it protects is a small part of them. The model says: do not match a rival's "
        "permanent cut on price alone (compare `service_improvement` or `loyalty_program` against the cut instead).",
        f"Matching {share_part}; its effect on two-year profit ({cell('profit', profit, '{:,.0f}')}) cannot be told "
        f"from 0 at {RIVAL_REPLICATIONS} replications: run `wom-sim compare competitor_price_cut "
        "competitor_price_match -r 30` before deciding.",
    )
    return (
        f"**Our competitor cuts its price by {1 - cut_event.price / acme.price:.0%}: do we match?** {acme.name} ({ours}; "
        f"{acme.initial_customers:.0%} of the market at the start) sells at {cut_event.price:g} from week "
        f"{cut_event.schedule.from_}. Against a market without {acme.name} at all (baseline), {acme.name} {presence} "
        f"(our share {alone_share['base']:.1%} at the end). Matching once undercut for "
        f"{match.when.value:g} weeks (competitor_price_match vs competitor_price_cut):\n\n"
        + "\n".join(table)
        + f"\n\n{verdict}\n"
    )


def crisis_section(executor) -> str:
    wait_sc, fast_sc = scenario("competitor_crisis"), scenario("competitor_crisis_fast")
    acme, crisis = wait_sc.competitors[0], wait_sc.events[0]
    ads = next(e for e in fast_sc.interventions if e.kind == "advertising")
    start = crisis.schedule.from_
    # The rival's crisis against the same rival without it: does the model give fact F30 in this market?
    calm = Arm(f"{acme.name} without its crisis", wait_sc.model_copy(update={"events": []}))
    c = compare("competitor_crisis", "competitor_crisis_fast", calm, replications=RIVAL_REPLICATIONS, seed=SEED,
                overrides=RIVAL_SIZE, outcomes=OUTCOMES, executor=executor)  # fmt: skip
    share, profit = change(c, "competitor_crisis_fast", "market_share"), change(c, "competitor_crisis_fast", "profit")
    roi = roi_of(c, "competitor_crisis_fast")
    # F30's measures (docs/validation.md): acquisitions and mean market share from the crisis on, crisis - none.
    since = lambda run: run[run["t"] >= start]  # noqa: E731
    gained = paired(c, calm.label, lambda r: -since(r)["new_customers"].sum())
    base_new = np.mean([since(r)["new_customers"].sum() for r in c.runs_of(calm.label).values()])
    gained_share = paired(c, calm.label, lambda r: -since(r)["market_share"].mean())
    switched = paired(c, calm.label, lambda r: -since(r)["switch_in"].sum())
    fast_runs = [r for _, r in sorted(c.runs_of("competitor_crisis_fast").items())]
    fired = [first_week(r, r[f"cost_{ads.name}"] > 0) for r in fast_runs]
    soured = [first_week(r, r[f"rival_{acme.name}_voice_share_neg"] > 0.5)
              for _, r in sorted(c.runs_of("competitor_crisis").items())]  # fmt: skip
    aware = [at(r, w, "awareness") for w, r in zip(fired, fast_runs, strict=True) if w is not None]
    early = all(w is not None and w < start for w in soured)
    low, high = (f"{min(aware):.0%}", f"{max(aware):.0%}") if aware else ("", "")
    span = low if low == high else f"{low}-{high}"
    aware_text = f"when the burst starts, {span} of the market already is" if aware else "the burst never started"
    f30 = pick(
        {
            **gained,
            "ci_low": min(gained["ci_low"], gained_share["ci_low"]),
            "ci_high": max(gained["ci_high"], gained_share["ci_high"]),
        },  # fmt: skip
        "the model agrees here",
        "the model disagrees here",
        "the model's intervals here do not settle it",
    )
    verdict = pick(
        profit,
        "the fast ad burst pays.",
        pick(
            gained,
            "the crisis brings us new customers without help, so the fast ad burst does not pay.",
            "the fast ad burst does not pay.",
            "the fast ad burst does not pay.",
        ),
        f"whether the fast ad burst pays cannot be told from 0 at {RIVAL_REPLICATIONS} replications.",
    )
    return (
        f"**The competitor has a scandal: move fast or wait?** {acme.name} has a crisis in weeks {start}-"
        f"{crisis.schedule.until} (reputation -{crisis.brand_damage:.0%}, a quality defect, venting customers). Fact "
        f"F30 (docs/validation.md): a rival's crisis raises our acquisitions and market share; {f30}: from week "
        f"{start} on, {acme.name}'s crisis changes our new customers by {gained['mean'] / base_new:+.1%} "
        f"({cell('new_customers', gained, '{:,.0f}')}), our mean market share by "
        f"{cell('market_share', gained_share, '{:.1%}')} and the customers we win from rivals by "
        f"{cell('switch_in', switched, '{:,.0f}')} (competitor_crisis vs the same file without the crisis). Moving "
        f"fast (competitor_crisis_fast: {ads.reach_multiplier:g}x our advertising for {ads.duration} weeks from the "
        f"week after {acme.name}'s customers' NPS falls below {ads.when.value:g}, {ads.budget_per_tick:,.0f} a week; "
        f"it fires {weeks(fired)}) against waiting (competitor_crisis): "
        f"market share {cell('market_share', share, '{:.1%}')}, profit {cell('profit', profit, '{:,.0f}')}, "
        f"ROI {interval(roi, '{:+.2f}')}. (A trigger on {acme.name}'s share of negative voice above a half would "
        f"fire {weeks(soured)}{', on few messages, before the crisis' if early else ''}.) Ads make people "
        f"aware of us, and {aware_text}: {verdict}\n"
    )


def race_section() -> str:
    sc = scenario("launch_race")
    rocket, kol = sc.competitors[0], next(e for e in sc.interventions if e.kind == "kol_campaign")
    runs = {s: simulate(sc, seed=s, overrides=RIVAL_SIZE).metrics for s in RACE_SEEDS}
    last = int(next(iter(runs.values()))["t"].iloc[-1])
    marks = sorted({kol.schedule.until, 25, 51, last})
    head = "| | " + " | ".join(f"seed {s}" for s in RACE_SEEDS) + " |"
    table = [head, "|---" * (len(RACE_SEEDS) + 1) + "|"]

    def line(label, fn, fmt):
        table.append(f"| {label} | " + " | ".join(fmt.format(fn(runs[s])) for s in RACE_SEEDS) + " |")

    for w in marks:
        line(f"Our market share, week {w}", lambda m, w=w: at(m, w, "market_share"), "{:.1%}")
    line(f"Our share of positive voice, week {last}", lambda m: at(m, last, "voice_share_pos"), "{:.1%}")
    line("Our profit (two years, after KOL fees)", lambda m: m["profit"].sum(), "{:,.0f}")
    line(f"{rocket.name}'s gross profit (two years)", lambda m: m[f"rival_{rocket.name}_profit"].sum(), "{:,.0f}")
    n = len(RACE_SEEDS)
    lead_early = sum(at(m, kol.schedule.until, "market_share") > 0.5 for m in runs.values())
    lead_end = sum(at(m, last, "market_share") > 0.5 for m in runs.values())
    richer = sum(m["profit"].sum() > m[f"rival_{rocket.name}_profit"].sum() for m in runs.values())
    if richer == n:
        moral = "the early lead pays" + (", but a cheaper, louder rival keeps taking the market." if lead_end < n else
                                         " and holds.")  # fmt: skip
    elif richer == 0:
        moral = "the KOL launch's early lead does not make up for a cheaper, louder rival."
    else:
        moral = "the seeds disagree: one run per seed does not settle the race."
    return (
        f"**A two-brand launch race.** We and {rocket.name} (quality {rocket.quality:g} against our "
        f"{sc.brand.quality:g}, price {rocket.price:g} against {sc.brand.price:g}, advertising reach "
        f"{rocket.advertising / sc.advertising.reach:.2g}x ours) start with {rocket.initial_customers:.0%} of the market each; we run KOL "
        f"posts in weeks {kol.schedule.from_}-{kol.schedule.until}. One run each of seeds "
        f"{' and '.join(map(str, RACE_SEEDS))} at {RIVAL_SIZE['network.n']:,} people:\n\n"
        + "\n".join(table)
        + f"\n\nWe lead (more than half the market) at week {kol.schedule.until} in {lead_early} of {n} seeds and at "
        f"week {last} in {lead_end} of {n}; our two-year profit is above {rocket.name}'s gross profit in {richer} of "
        f"{n}: {moral} Per brand: "
        f"`rival_{rocket.name}_customers`, `rival_{rocket.name}_market_share`, `rival_{rocket.name}_profit`, "
        f"`rival_{rocket.name}_voice_share_pos`; who switched from whom: `model.switching_frame()`.\n"
    )


COMPETITION_HEAD = """## Competition: competitor_price_cut, competitor_price_match, competitor_crisis, competitor_crisis_fast, launch_race

Rival brands (issue 15; docs/model.md, Competition). Each file names its rivals under `competitors:` and their
moves under `events:`; the focal brand's answers are ordinary interventions with triggers on the competition
columns (`rival_undercut_ticks`, `rival_<name>_voice_share_neg`, ...). Numbers: `wom_sim.compare(a, b,
replications={reps}, seed={seed}, overrides={{"network.n": {n}}}, outcomes=["market_share", "profit", "customers",
"switch_out", "switch_in", ...])`, paired, 95% t-intervals over the {reps} replications (ROI: Fieller's interval),
{ticks} weeks; the launch race from one run per seed. Run on {date} by experiments/tools/cookbook_market.py (not by
cookbook_data.py); each verdict is chosen by where its interval lies against 0.
"""


def competition(executor) -> str:
    base = scenario("competitor_price_cut")
    head = COMPETITION_HEAD.format(reps=RIVAL_REPLICATIONS, seed=SEED, n=RIVAL_SIZE["network.n"], ticks=base.ticks,
                                   date=datetime.date.today().isoformat())  # fmt: skip
    parts = [head]
    for name, fn in (("price", price_section), ("crisis", crisis_section), ("race", lambda _: race_section())):
        start = time.time()
        parts.append(fn(executor))
        print(f"competition {name}: {time.time() - start:.0f} s", file=sys.stderr)
    return "\n".join(parts)


# --- CRM --------------------------------------------------------------------------------------------------------


def crm_facts(first_seed: int, first_run: pd.DataFrame) -> dict:
    """What the bundled CRM example holds, and how week 0 starts from it (the first replication's seed)."""
    data = bundled_path("crm_market").parent / "data"
    people = pd.read_csv(data / "crm_people.csv")
    edges = pd.read_csv(data / "crm_edges.csv")
    tied = set(edges.iloc[:, 0].astype(str)) | set(edges.iloc[:, 1].astype(str))
    status = people["status"].value_counts()
    start = WomModel(bundled_path("crm_market"), ticks=1, seed=first_seed).people()
    start = start.merge(people[["id", "status", "nps"]], on="id", suffixes=("", "_crm"))
    stated = start[(start["status_crm"] == "customer") & start["nps"].notna()]
    exact = stated["recommend_score"] == stated["nps"]
    off = stated.loc[~exact, "satisfaction"]
    week0 = first_run.iloc[0]
    return {
        "n": len(people),
        "segments": people["segment"].value_counts(normalize=True),
        "customers": int(status.get("customer", 0)),
        "churned": int(status.get("churned", 0)),
        "spend": float(people["spend"].median()),
        "isolated": int((~people["id"].astype(str).isin(tied)).sum()),
        "week0_customers": int(week0["customers"]),
        "week0_new": int(week0["new_customers"]),
        "week0_adopted": float(week0["adoption_share"]),
        "exact": float(exact.mean()),
        "clipped": int(((off == 0) | (off == 1)).sum()),
        "off": len(off),
    }


def crm(executor) -> str:
    start = time.time()
    ref = scenario("referral_program")
    reward = [e for e in ref.interventions if e.kind == "referral_reward"]
    crm_sc = scenario("crm_market")
    label = "crm_market with referral reward"
    arm = Arm(label, crm_sc.model_copy(update={"interventions": [*crm_sc.interventions, *reward]}))
    c = compare("crm_market", arm, replications=CRM_REPLICATIONS, seed=SEED, outcomes=OUTCOMES, executor=executor)
    # The same reward in the bundled baseline market, as the referral_program section of the page compares it.
    b = compare("baseline", "referral_program", replications=REPLICATIONS, seed=SEED, outcomes=OUTCOMES,
                executor=executor)  # fmt: skip
    print(f"crm comparisons: {time.time() - start:.0f} s", file=sys.stderr)
    first = c.outcomes[(c.outcomes["arm"] == "crm_market") & (c.outcomes["replication"] == 0)].iloc[0]
    f = crm_facts(int(first["seed"]), c.runs_of("crm_market")[0])
    nearest = (
        " and get the nearest satisfaction, 0 or 1"
        if f["clipped"] == f["off"]
        else f"; {f['clipped']:,} of them get the nearest satisfaction, 0 or 1"
    )
    seg = ", ".join(f"{name} {share:.0%}" for name, share in f["segments"].items())
    r, s = reward[0], ref.interventions[0].schedule
    rows = [("Active customers at the end", "customers", "{:,.0f}"), ("Ever adopted at the end", "adoption_share",
            "{:.1%}"), ("NPS at the end", "nps", "{:+.1f}"), ("Profit (two years)", "profit", "{:,.0f}")]  # fmt: skip
    table = ["| outcome | crm_market | with referral reward | change (95% CI) |", "|---|---|---|---|"]
    for name_label, name, fmt in rows:
        est = change(c, label, name)
        table.append(
            f"| {name_label} | {fmt.format(est['base'])} | {fmt.format(est['treat'])} | {cell(name, est, fmt)} |"
        )
    roi, roi_base = roi_of(c, label), roi_of(b, "referral_program")
    overlap = roi["ci_low"] <= roi_base["ci_high"] and roi_base["ci_low"] <= roi["ci_high"]
    against = (
        "an interval that overlaps the ROI it has"
        if overlap
        else ("above" if roi["mean"] > roi_base["mean"] else "below") + " the ROI it has"
    )
    profit = change(c, label, "profit")
    verdict = pick(
        profit,
        "With these customers the reward pays",
        "With these customers the reward does not pay",
        f"Whether the reward pays with these customers cannot be told from 0 at {CRM_REPLICATIONS} replications",
    )
    return f"""## crm_market: starting from your customer data

**Here is our CRM: who is a customer today, their segment, spend, tenure and NPS answer - start from that.**
`network.file` is the edge list of who knows whom, `network.people` the CRM export (one row per person; only
`id` is required, every other column overrides what the model would draw for that person; docs/scenarios.md,
`network.people`). The bundled example is made up by `experiments/tools/make_crm_data.py` (seeded): {f["n"]:,} people,
{len(f["segments"])} segments ({seg}), {f["customers"]:,} customers today with their tenure in weeks and a 0-10
recommend answer, {f["churned"]:,} churned, the rest prospects, median spend per purchase {f["spend"]:.0f};
{f["isolated"]:,} of them have no ties and join as isolated people. Week 0 starts from that market (first replication
below): {f["week0_customers"]:,} customers ({f["week0_new"]:,} adopting in the first week), {f["week0_adopted"]:.0%}
ever adopted, every customer's satisfaction set so that their recommend score is the answer they gave (exact for
{f["exact"]:.0%} of the customers with an answer; the other {f["off"]:,} have trust and loyalty that put their answer
out of reach{nearest}).

**With our actual customers, does the give-{r.receiver_reward:g}-get-{r.sender_reward:g} referral reward of `referral_program` pay?** The same
programme (weeks {s.from_}-{s.until}, {r.sender_reward:g} to the sender and {r.receiver_reward:g} to the receiver per
referred adopter) added to crm_market. Numbers: `wom_sim.compare`, {CRM_REPLICATIONS} replications, seed {SEED}, paired
95% t-intervals, {crm_sc.ticks} weeks; the two arms are crm_market and crm_market with `referral_program`'s
`referral_reward` entry added. Run on {datetime.date.today().isoformat()} by experiments/tools/cookbook_market.py (not
by cookbook_data.py):

{chr(10).join(table)}

{verdict}: profit {cell("profit", profit, "{:,.0f}")}. The programme costs {roi["cost"]:,.0f} in rewards and returns
{roi["mean"]:.1f} per unit spent (95% CI {roi["ci_low"]:.1f} to {roi["ci_high"]:.1f}; Fieller's interval), {against} in
the bundled baseline market (referral_program above: {interval(roi_base, "{:+.1f}")}, {REPLICATIONS} replications).
Replace `data/crm_people.csv` with your own export (same columns, your ids) and `data/crm_edges.csv` with your ties
to ask the same question of your market; `wom-sim check` reports a wrong column, value, segment or repeated id as one
line before anything runs.

**Send it to named customers only.** With your data, `target: {{ids: [...]}}` names people by your own ids (the
edge list's and the table's, as `kols.select.ids` does), e.g. a retention offer for a list of accounts (a file beside
crm_market.yaml, as in `scenarios/`):

```yaml
extends: crm_market.yaml
interventions:
  - kind: churn_prevention
    target: {{ids: [C00017, C00342, C01288]}}   # ids of data/crm_people.csv
  - kind: service_improvement
    target: {{segment: rural}}                   # a better service for rural customers only
```

An id your files do not have is one error line with the count and the first one missing, when the model is built
(`wom-sim check` builds it too).
"""


if __name__ == "__main__":
    began = time.time()
    with make_executor(WORKERS) as executor:
        (TOOLS / "cookbook_competition.md").write_text(wrap(competition(executor)), encoding="utf-8")
        (TOOLS / "cookbook_crm.md").write_text(wrap(crm(executor)), encoding="utf-8")
    print(f"cookbook_market: {time.time() - began:.0f} s", file=sys.stderr)
