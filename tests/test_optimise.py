"""The budget optimiser (wom_sim/experiment/optimise.py): its plan is as good as the exhaustive grid's optimum, with
fewer runs; spec errors are one line naming the file and key."""

from __future__ import annotations

import html
import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from wom_sim.analysis.statistics import mean_ci
from wom_sim.errors import ScenarioError
from wom_sim.experiment.levers import plan_scenario
from wom_sim.experiment.optimise import budget_warnings, optimise
from wom_sim.experiment.optimise_spec import OptimiseSpec, build_optimisation, load_optimisation
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.report.html import build_report
from wom_sim.report.workbook import write_workbook
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.schema import MAX_SEED
from wom_sim.sim.model import simulate

KOL, ADS = "kol_campaign.select.k", "advertising.budget_per_tick"
SEED, REPS = 5, 3


def _market(tmp_path):
    """250 people, 14 weeks, a 10-week KOL campaign and ad burst: profit peaks at an interior KOL count (fees of
    60 a post outgrow the extra reach) and falls with ad spend; the current plan (40 KOLs, 100 a week) is poor."""
    path = tmp_path / "market.yaml"
    path.write_text(
        f"extends: {bundled_path('baseline')}\nnetwork: {{n: 250}}\nticks: 14\ninterventions:\n"
        "  - {kind: kol_campaign, select: {by: degree, k: 40}, fee_per_post: 60, schedule: {from: 0, until: 9}}\n"
        "  - {kind: advertising, budget_per_tick: 100, reach_multiplier: 5.0, schedule: {from: 0, until: 9}}\n"
    )
    return path


def _spec(tmp_path, **extra):
    return OptimiseSpec.model_validate(
        {
            "scenario": str(_market(tmp_path)),
            "levers": {
                KOL: {"low": 0, "high": 40, "step": 10},
                ADS: {"low": 0, "high": 100, "step": 50,
                      "links": {"advertising.reach_multiplier": {"at_zero": 1.0, "per_unit": 0.04}}},
            },
            "replications": REPS,
            "trials": 10,
            "seed": SEED,
            **extra,
        }
    )  # fmt: skip


def _profits(opt, values):
    scenario = plan_scenario(opt.raw, opt.levers, values)
    return np.array([simulate(scenario, seed=s).metrics["profit"].sum() for s in replication_seeds(SEED, REPS)])


def test_optimiser_matches_the_exhaustive_grid_with_fewer_runs(tmp_path):
    opt = build_optimisation(_spec(tmp_path))
    # The exhaustive grid (5 x 3 plans, the same 3 seeds each), run here by plain simulate calls: the reference.
    grid = {(k, b): _profits(opt, {KOL: k, ADS: b}) for k, b in itertools.product(range(0, 41, 10), (0, 50, 100))}
    best = max(grid, key=lambda p: grid[p].mean())
    result = optimise(opt, check=False)
    found = _profits(opt, result.recommended) if result.recommended else _profits(opt, {})
    # Within the grid optimum's 95% CI (t-interval of its mean over the same seeds) ...
    low = mean_ci(grid[best]).low
    assert found.mean() >= low, (result.recommended, best)
    # ... while the criterion has power: most grid plans, and the current plan, fall below it.
    assert sum(v.mean() < low for v in grid.values()) > len(grid) / 2
    assert _profits(opt, {KOL: 40, ADS: 100}).mean() < low
    assert result.runs < len(grid) * REPS  # fewer runs than the grid (racing and the sampler, not luck)
    history = result.trials
    assert set(history["state"]) <= {"complete", "pruned", "infeasible"}
    assert (history.loc[history["state"] == "complete", "replications"] == REPS).all()


def test_over_budget_plans_are_infeasible_never_recommended_and_the_search_resumes(tmp_path):
    # A budget below every KOL plan with k >= 10 (10 weeks x 10 KOLs x 60 = 6,000): only cheaper plans qualify.
    opt = build_optimisation(_spec(tmp_path, budget=5000, trials=3, replications=2))
    result = optimise(opt, out=tmp_path / "store", check=False)
    trials = result.trials.set_index("plan")
    assert (trials.loc[trials["spend"] > 5000, "state"] != "complete").all()
    assert trials.loc[result.recommended_label, "spend"] <= 5000
    assert (tmp_path / "store" / "trials.csv").is_file() and (tmp_path / "store" / "plan.yaml").is_file()
    # Resumable: the same spec and store replay the same trials from stored runs, running nothing new.
    again = optimise(opt, out=tmp_path / "store", check=False)
    assert again.runs == 0 and again.trials.equals(result.trials)
    # `wom-sim report DIR` (and --xlsx) read the optimiser's folder: its plan and every trial.
    page = build_report(tmp_path / "store").read_text(encoding="utf-8")
    assert "Budget plan" in page and "every trial" in page and html.escape(result.recommended_label) in page
    sheets = pd.read_excel(write_workbook(tmp_path / "store"), sheet_name=None)
    assert len(sheets["Trials"]) == len(result.trials) and "Summary" in sheets


def test_the_largest_seed_searches_and_checks(tmp_path):
    # optuna takes a 32-bit seed (the low 32 bits of the base seed); the check's base seed (+ 1) wraps round to 0.
    opt = build_optimisation(_spec(tmp_path, seed=MAX_SEED, trials=2, replications=2, check_replications=2))
    result = optimise(opt)
    assert result.check.seed == 0 and not result.check_table.empty
    assert set(result.check.per_seed["seed"]) == set(replication_seeds(0, 2))


def test_spec_errors_are_one_line_naming_file_and_key(tmp_path):
    spec = tmp_path / "plan.yaml"
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\ntrails: 5\n")
    with pytest.raises(ScenarioError, match=r"plan.yaml: unknown key trails; did you mean 'trials'"):
        load_optimisation(spec)
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{kol_campain.k: {{low: 0, high: 10}}}}\n")
    with pytest.raises(ScenarioError, match=r"levers.kol_campain.k.*no intervention entry"):
        load_optimisation(spec)
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 5, high: 1}}}}\n")
    with pytest.raises(ScenarioError, match=r"low 5 must be below high 1"):
        load_optimisation(spec)
    spec.write_text(
        f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\nobjective: at:14:profit\n"
    )
    with pytest.raises(ScenarioError, match=r"plan.yaml: objective.*tick 14 is past the horizon of 14 ticks"):
        load_optimisation(spec)  # the market runs ticks 0-13: the objective would be NaN in every trial
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 400}}}}\n")
    with pytest.raises(
        ScenarioError, match=r"levers.kol_campaign.select.k = 400: .*select.k .*= 400 is more than the 250"
    ):
        load_optimisation(spec)  # a plan hiring 400 of 250 people failed only when the search drew it


@pytest.mark.parametrize(
    ("lever", "extra", "message"),
    [
        # optuna replaced the range by [0, 0] (with a warning on stderr): every trial tried low
        (f"{ADS}: {{low: 0, high: 100, step: 1000}}", "", r"step 1000 is more than high - low = 100"),
        (f"{KOL}: {{low: 0.2, high: 0.8}}", "", r"an integer lever needs a whole number from 0.2 to 0.8"),
        (f"{KOL}: {{low: 0, high: 10, step: 2.5}}", "", r"step 2.5: an integer lever takes a whole-number step"),
        (f"{KOL}: {{low: 0, high: 10}}", "constraints: [{outcome: nps, at_least: 5, at_most: 2}]\n",
         r"constraints\[0\]: at_least 5 is above at_most 2; no plan can meet both"),
    ],
)  # fmt: skip
def test_levers_and_constraints_no_plan_can_search_or_meet_are_refused(tmp_path, lever, extra, message):
    spec = tmp_path / "plan.yaml"
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{lever}}}\n{extra}")
    with pytest.raises(ScenarioError, match=message):
        load_optimisation(spec)


def test_a_step_that_does_not_divide_the_range_searches_its_grid_without_optuna_warning(tmp_path):
    opt = build_optimisation(_spec(tmp_path, levers={ADS: {"low": 0, "high": 100, "step": 30}}, trials=3,
                                   replications=2, check_replications=2))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # optuna's "the range is not divisible by step" is a UserWarning
        result = optimise(opt, progress=False)
    searched = result.trials[result.trials["trial"].notna()]  # not the current plan or no spend
    assert set(searched[ADS]) <= {0, 30, 60, 90}


def _refused(tmp_path, budget: float) -> str:
    """The one error line of `wom-sim optimise` on a small spec with this budget (exit 2, nothing written)."""
    from click.testing import CliRunner

    from wom_sim.cli import cli

    spec = tmp_path / "plan.yaml"
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\nbudget: {budget}\n")
    result = CliRunner().invoke(cli, ["optimise", str(spec), "--workers", "0", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.output
    assert not (tmp_path / "out").exists()
    return errors[0]


def test_the_command_refuses_a_bad_spec_in_one_line_before_running(tmp_path):
    error = _refused(tmp_path, -5)
    assert "plan.yaml" in error and "budget" in error, error


def test_without_optuna_the_command_says_which_extra_to_install_before_running(tmp_path, monkeypatch):
    # optuna is an optional extra: a plain `pip install wom-sim` has none, and that is one line, not a traceback.
    monkeypatch.setitem(__import__("sys").modules, "optuna", None)  # `import optuna` raises ImportError
    error = _refused(tmp_path, 5000)
    assert "optuna" in error and "wom-sim[calibrate]" in error, error


def test_the_command_line_changes_the_spec_for_one_run(tmp_path):
    # --set, --ticks, --trials, -r and --check-replications replace the spec's values (a quick look at a small
    # market), the command line winning over the spec's own `set:`.
    spec = tmp_path / "plan.yaml"
    spec.write_text(
        f"scenario: {_market(tmp_path)}\nset: {{network.n: 400}}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\n"
        "trials: 40\nreplications: 8\ncheck_replications: 30\n"
    )
    opt = load_optimisation(spec, ["network.n=200", "wom.contact_prob=0.2", "ticks=10"], trials=3, replications=2,
                            check_replications=None)  # fmt: skip
    assert (opt.spec.trials, opt.spec.replications, opt.spec.check_replications) == (3, 2, 30)
    assert (opt.current.network.n, opt.current.ticks, opt.current.wom.contact_prob) == (200, 10, 0.2)
    with pytest.raises(ScenarioError, match=r"--set: 'ticks' must look like key.sub=value"):
        load_optimisation(spec, ["ticks"])

    from click.testing import CliRunner

    from wom_sim.cli import cli

    args = ["optimise", str(spec), "--set", "network.n=150", "--ticks", "8", "--trials", "2", "-r", "2",
            "--check-replications", "2", "--workers", "0", "--out", str(tmp_path / "out")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    import yaml

    plan = yaml.safe_load((tmp_path / "out" / "plan.yaml").read_text())
    assert (plan["network"]["n"], plan["ticks"]) == (150, 8) and "recommended:" in result.output


def test_quiet_still_warns_when_no_plan_is_feasible(tmp_path):
    # A constraint no plan can meet (adoption share above 1): the answer is "nothing feasible", which --quiet must
    # not hide ("only errors and warnings"); without --quiet the same line is a warning, not a note.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    spec = tmp_path / "plan.yaml"
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\n"
                    "constraints:\n  - {outcome: adoption_share, at_least: 1.5}\n")  # fmt: skip
    base = ["optimise", str(spec), "--set", "network.n=120", "--ticks", "6", "--trials", "2", "-r", "2",
            "--check-replications", "2", "--workers", "0"]  # fmt: skip
    quiet = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "quiet"), "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and quiet.stderr.startswith("warning: no feasible plan completed")
    assert quiet.stderr.count("\n") == 1
    loud = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "loud")])
    assert loud.exit_code == 0, loud.output
    assert "warning: no feasible plan completed" in loud.stdout and "note: no feasible" not in loud.stdout


def test_quiet_prints_nothing_but_writes_everything(tmp_path):
    # As for run, compare and sweep: no "executing on", no progress bar, no summary; the outputs are the same.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    spec = tmp_path / "plan.yaml"
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\n")
    args = ["optimise", str(spec), "--set", "network.n=120", "--ticks", "6", "--trials", "2", "-r", "2",
            "--check-replications", "2", "--workers", "0", "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert all((tmp_path / "out" / name).stat().st_size > 0 for name in ("plan.yaml", "trials.csv", "report.html"))


def test_a_report_html_of_the_users_in_the_store_is_refused_before_running_and_kept(tmp_path):
    # The store keeps files the user adds; the budget plan page written at the end must not replace one of theirs,
    # while a second run over the store's own page replaces it.
    from click.testing import CliRunner

    from wom_sim.cli import cli

    spec = tmp_path / "plan.yaml"
    spec.write_text(f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 10}}}}\n")
    args = ["optimise", str(spec), "--set", "network.n=120", "--ticks", "6", "--trials", "2", "-r", "2",
            "--check-replications", "2", "--workers", "0", "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert CliRunner().invoke(cli, args).exit_code == 0  # its own page: replaced
    page = tmp_path / "out" / "report.html"
    page.write_text("<html>my notes</html>", encoding="utf-8")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "report.html: exists and is not a wom-sim report" in result.output
    assert page.read_text(encoding="utf-8") == "<html>my notes</html>"


def test_a_recommended_plan_over_budget_on_fresh_seeds_is_a_warning():
    table = pd.DataFrame({"plan": ["no spend", "current plan", "recommended (trial 4)"], "spend": [0.0, 900.0, 1030.0]})
    (line,) = budget_warnings(table, 1000.0)
    assert "spends 1,030 on average, over the budget of 1,000 (3.0% more)" in line
    assert budget_warnings(table, 1030.0) == [] and budget_warnings(table, None) == []  # at the budget: within it


def test_the_command_prints_the_plan_and_its_check_as_compare_does(tmp_path):
    # It printed "advertising.budget_per_tick=1519.62, referral_reward.sender_reward=0.108741" and the raw check
    # frame ("vs_current_ci_low 1892.19"), while compare prints "+7.13k (+1.89k to +12.4k)".
    from click.testing import CliRunner

    from wom_sim.cli import cli

    spec = tmp_path / "plan.yaml"
    spec.write_text(
        f"scenario: {_market(tmp_path)}\nlevers: {{{KOL}: {{low: 0, high: 40}}, {ADS}: {{low: 0, high: 100}}}}\n"
        "budget: 100000\ntrials: 3\nreplications: 2\ncheck_replications: 3\nseed: 5\n"
    )
    result = CliRunner().invoke(cli, ["optimise", str(spec), "--workers", "0", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("recommended: ") and not re.search(r"\d\.\d{5}", lines[0]), lines[0]
    header = next(line for line in lines if "vs current plan (95% CI)" in line)
    assert "Profit (total)" in header and "programme spend" in header and "vs_current_ci_low" not in result.stdout
    rows = lines[lines.index(header) + 1 : lines.index(header) + 4]
    assert any(re.search(r"[+-][\d.]+k? \([+-][\d.]+k? to [+-][\d.]+k?\)", r) for r in rows), result.stdout


def test_a_lever_that_costs_nothing_is_named_with_the_priced_one(tmp_path):
    # `advertising.reach` is a scenario key with no budget (docs/model.md, model probe item 8): a search over it
    # spends nothing and always says "more". The command says so in one line before anything runs, pointing to the
    # `advertising` intervention's budget; a priced lever is not warned about.
    from click.testing import CliRunner

    from wom_sim.cli import cli
    from wom_sim.experiment.levers import free_key_warnings

    assert free_key_warnings([KOL, ADS, "wom.contact_prob"]) == []
    (note,) = free_key_warnings(["advertising.reach", KOL, "advertising.reach"])
    assert note.startswith("advertising.reach costs nothing in the model") and "advertising.budget_per_tick" in note
    spec = tmp_path / "free.yaml"
    spec.write_text(
        f"scenario: {bundled_path('baseline')}\nset: {{network.n: 200}}\n"
        "levers:\n  advertising.reach: {low: 0.02, high: 0.2}\n"
        "budget: 1000\ntrials: 2\nreplications: 2\ncheck_replications: 2\nseed: 1\n"
    )
    args = ["optimise", str(spec), "--ticks", "3", "--workers", "0", "-q", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == f"warning: {note}"
