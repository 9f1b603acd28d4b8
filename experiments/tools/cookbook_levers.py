"""Developer tool: the cookbook section of the levers from the source reports (issue 15, item 8), written to
experiments/tools/cookbook_levers.md, which make_cookbook.py appends to docs/cookbook.md.

Each lever against its reference with `wom_sim.compare` (five replications, replication seeds of base seed 1, as
cookbook_data.py): the three crisis levers against the same bundled file with the lever's entry removed (so both
arms have the crisis and the response), the others against the baseline. Run on its own (about 60 runs at the
bundled size) so the rest of the cookbook need not be run again.
"""

from __future__ import annotations

import sys

from cookbook_data import KEYS, LABEL, REPLICATIONS, ROOT, SEED, ci_text, entry

from wom_sim.experiment.comparison import compare
from wom_sim.experiment.studies import Arm
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.loading import load_scenario
from wom_sim.sim.interventions import crisis_impact
from wom_sim.sim.model import simulate


def fmt(key: str, v: float) -> str:
    return LABEL[key][1].format(v) if v == v else "n/a"


# name -> (the kind whose entry the reference leaves out, or None for the baseline; rows shown)
LEVERS = {
    "crisis_monitoring": ("crisis_monitoring", ["customers", "churn_rate", "neg_messages", "nps", "mean_T", "brand"]),
    "crisis_plan": ("crisis_plan", ["customers", "churn_rate", "neg_messages", "nps", "mean_T", "brand"]),
    "crisis_reflection": ("crisis_reflection", ["customers", "churn_rate", "neg_messages", "nps", "mean_T", "brand"]),
    "omnichannel": (None, ["churn_rate", "customers", "repurchase_rate", "nps", "margin_per_purchase", "clv"]),
    "social_content": (None, ["adoption_mean", "pos_messages", "wom_acquired_share", "nps", "customers"]),
    "mobile_experience": (None, ["churn_rate", "customers", "clv"]),
}


def arms(name: str) -> tuple[Arm, Arm]:
    """(reference, scenario) of a lever."""
    sc = load_scenario(bundled_path(name))
    kind = LEVERS[name][0]
    if kind is None:
        return Arm("baseline", load_scenario(bundled_path("baseline"))), Arm(name, sc)
    kept = [e for e in sc.interventions if e.kind != kind]
    return Arm(f"{name} without {kind}", sc.model_copy(update={"interventions": kept})), Arm(name, sc)


def table(e: dict, rows: list[str], ref: str) -> str:
    lines = [f"| metric | {ref} | scenario | paired change (95% CI) |", "|---|---|---|---|"]
    for k in rows + ["cum_intervention_cost", "cum_profit"]:
        b, t = e["base"][f"base_{k}"], e["treat"][f"treat_{k}"]
        lines.append(f"| {LABEL[k][0]} | {fmt(k, b)} | {fmt(k, t)} | {ci_text(k, e['summary'][f'delta_{k}'])} |")
    return "\n".join(lines)


def section(name: str) -> str:
    base, treat = arms(name)
    c = compare(base, treat, replications=REPLICATIONS, seed=SEED, outcomes=list(KEYS.values()))
    e = entry(c)
    q = treat.scenario.description.splitlines()[0]
    ref = "baseline" if LEVERS[name][0] is None else f"without {LEVERS[name][0]}"
    out = [f"### {name}\n\n**{q}**\n\n```\nwom-sim run {name}\n```\n", table(e, LEVERS[name][1], ref) + "\n"]
    s = e["summary"]
    roi = s["roi"]
    if s["incremental_cost"]["mean"]:
        out.append(f"ROI {roi['mean']:+.2f} (95% CI {roi['ci_low']:+.2f} to {roi['ci_high']:+.2f}).\n")
    if name in ("crisis_monitoring", "crisis_plan"):
        runs_b, runs_t = c.runs_of(c.base), c.runs_of(c.treatments[0])
        # brand damage against the no-crisis baseline is not available here; the paired shortfall of B against the
        # reference arm (same crisis, no lever) shows how much damage the lever avoids
        gain = [crisis_impact(runs_b[r], 40, baseline=runs_t[r], window=64)["brand_damage"] for r in sorted(runs_b)]
        out.append(f"Brand B lost without the lever against with it (peak shortfall, weeks 40-103): mean "
                   f"{sum(gain) / len(gain):.1%} over the {len(gain)} replications.\n")  # fmt: skip
    if name == "crisis_monitoring":
        runs = [simulate(treat.scenario, seed=seed).model for seed in range(1, 6)]
        monitors = [i for m in runs for i in m.interventions if i.kind == "crisis_monitoring"]
        caught = [m.caught[0] - 40 if m.caught else None for m in monitors]
        alarms = [len(m.alarms) for m in monitors]
        out.append(f"Weeks from surfacing (week 40) to the alarm that caught it, in runs of seeds 1-5: "
                   f"{', '.join('missed' if w is None else str(w) for w in caught)}; alarms in 104 weeks: "
                   f"{', '.join(map(str, alarms))}. At 5,000 people a week's negative share swings by a third on "
                   "its own, so the one-week precursor is rarely above the 2-sd guard: the alarm comes at or after "
                   "surfacing, or misses the crisis before the four-week answer is due; it saves part of the delay at "
                   "best. The raw count "
                   "(`signal: neg_messages, z_min: 0`) catches the precursor but alarms most weeks of a growing "
                   "market.\n")  # fmt: skip
    return "\n".join(out)


HEAD = """## Levers from the source reports: crisis_monitoring, crisis_plan, crisis_reflection, omnichannel, social_content, mobile_experience

Six levers the seed reports give a number for (issue 15, item 8; docs/interventions.md). Each table is
`wom_sim.compare(reference, scenario, replications=5, seed=1)` at the bundled size, paired by replication: the
crisis levers against the same file with the lever's entry removed (both arms have the crisis and the company's
answer, so the change is the lever's alone), the others against the baseline. Made by
experiments/tools/cookbook_levers.py (not by cookbook_data.py).
"""

if __name__ == "__main__":
    names = sys.argv[1:] or list(LEVERS)
    parts = [HEAD]
    for name in names:
        parts.append(section(name))
        print(name, "done", file=sys.stderr)
    (ROOT / "experiments" / "tools" / "cookbook_levers.md").write_text("\n".join(parts), encoding="utf-8")
