"""Calibration (wom_sim/calibrate.py): recovering known parameters from a target the model itself generated,
bad target files, and `wom-sim calibrate` writing everything or nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from wom_sim.calibrate import calibrate, load_problem, write_outputs
from wom_sim.calibrate.search import evaluate
from wom_sim.errors import ScenarioError
from wom_sim.experiment.seeds import replication_seeds
from wom_sim.scenario.loading import load_scenario
from wom_sim.sim.model import simulate

# A small market (600 people, 40 weeks, no KOLs) whose ads reach 2% and messages 15% of neighbours per week.
SCENARIO = {"name": "small", "ticks": 40, "network": {"n": 600, "m": 4}, "kols": {"select": {"k": 0}}}
TRUTH = {"wom.contact_prob": 0.15, "advertising.reach": 0.02}


def wom(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wom_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    """A scenario file plus an observed adoption curve and WOM share made by the model with TRUTH (seeds 500-503,
    which the calibration never uses)."""
    write(tmp_path / "market.yaml", SCENARIO)
    sc = load_scenario(tmp_path / "market.yaml", TRUTH)
    runs = [simulate(sc, seed=500 + s).metrics for s in range(4)]
    curve = pd.concat(runs).groupby("t")["adoption_share"].mean()
    pd.DataFrame({"week": curve.index, "adopters": curve.to_numpy()}).to_csv(tmp_path / "observed.csv", index=False)
    share = float(np.mean([r["wom_acquired_share"].iloc[-1] for r in runs]))
    write(tmp_path / "targets.yaml", {
        "replications": 4, "trials": 40, "seed": 1, "optimiser": "tpe",
        "parameters": {"wom.contact_prob": [0.03, 0.5], "advertising.reach": {"low": 0.003, "high": 0.1, "log": True}},
        "targets": [
            {"name": "adoption", "metric": "adoption_share", "series": "observed.csv", "column": "adopters",
             "time_column": "week"},
            {"name": "WOM share", "metric": "wom_acquired_share", "stat": "final", "value": share},
        ],
    })  # fmt: skip
    return tmp_path


def test_recovers_known_parameters_from_a_synthetic_target(synthetic):
    """TPE, 40 trials x 4 replications, recovers both parameters within 25%.

    Why 25%: the target is the mean of 4 runs of 600 people and each trial averages 4 runs on other seeds, so
    both sides carry sampling noise of several percent; 40 trials in 2-D resolve a parameter to about +-10%; and
    advertising reach is weakly identified (most adopters hear of the product by WOM; a 20% change of reach moves
    the curve less than a 5% change of contact probability). Why 4 replications: with 2 (the replication seeds of
    base seed 1) the search fits the noise of its two runs (contact probability 0.105, loss 0.003 on them but 0.139
    on fresh seeds), which is what the fresh-seed check is for. Measured with 4: 22% and 13% off, fresh-seed loss
    0.011.

    The fresh-seed check compares the fit with the true parameters on the same fresh seeds, not with a fixed
    number: since prospects keep the doubt negative WOM leaves (docs/model.md, step 4), take-off at 600 people
    varies more from run to run, and the loss of the truth itself against the target's 4-run mean ranged 0.002 to
    0.082 over four disjoint sets of 4 fresh seeds (measured 2026-12-04). The fit may exceed the truth's loss on
    its fresh seeds by at most 0.05: measured excess 0.026 (4 replications; 0.023 with 8), while the over-fit
    search of 2 replications scored 0.139 on fresh seeds.
    """
    pytest.importorskip("optuna")
    problem = load_problem(synthetic / "market.yaml", synthetic / "targets.yaml")
    result = calibrate(problem)
    for key, truth in TRUTH.items():
        assert result.best.values[key] == pytest.approx(truth, rel=0.25), (key, result.best.values)
    assert result.best.loss < 0.01
    fresh = replication_seeds(1, 4, first=4)  # the seeds `calibrate` checks on (targets: seed 1, 4 replications)
    truth_on_fresh = evaluate(problem, TRUTH, fresh).loss
    assert result.check is not None and result.check.loss < truth_on_fresh + 0.05  # fresh seeds: not luck


def test_differential_evolution_runs_within_its_budget(synthetic):
    data = yaml.safe_load((synthetic / "targets.yaml").read_text())
    data.update(optimiser="de", trials=12, replications=1, check_replications=0)
    problem = load_problem(synthetic / "market.yaml", write(synthetic / "de.yaml", data))
    result = calibrate(problem)
    assert len(result.trials) == 12
    assert result.check is None
    assert result.best.loss == result.trials["loss"].min()


@pytest.mark.parametrize("optimiser", ["tpe", "de"])
def test_the_largest_seed_calibrates(tmp_path, optimiser):
    # optuna and scipy take 32-bit seeds: they get the low 32 bits of the base seed, the runs all of it.
    write(tmp_path / "market.yaml", {"ticks": 5, "network": {"n": 200, "m": 3}})
    write(tmp_path / "targets.yaml", {
        "replications": 2, "check_replications": 1, "trials": 4, "seed": 2**63 - 1, "optimiser": optimiser,
        "parameters": {"wom.contact_prob": [0.1, 0.3]},
        "targets": [{"name": "share", "metric": "adoption_share", "stat": "final", "value": 0.1}],
    })  # fmt: skip
    result = calibrate(load_problem(tmp_path / "market.yaml", tmp_path / "targets.yaml"))
    assert len(result.trials) == 4 and result.check is not None


def test_outputs_are_the_fitted_scenario_fit_quality_and_plot(synthetic):
    data = yaml.safe_load((synthetic / "targets.yaml").read_text())
    data.update(trials=4, replications=1, optimiser="de")
    problem = load_problem(synthetic / "market.yaml", write(synthetic / "few.yaml", data))
    out = write_outputs(calibrate(problem), synthetic / "out")
    for name in ("scenario.yaml", "fit.md", "fit.json", "trials.csv", "fit.png"):
        assert (out / name).is_file(), name
    record = json.loads((out / "fit.json").read_text())
    fitted = load_scenario(out / "scenario.yaml")
    assert fitted.wom.contact_prob == pytest.approx(record["parameters"]["wom.contact_prob"])
    assert len(pd.read_csv(out / "trials.csv")) == 4
    assert "| adoption |" in (out / "fit.md").read_text()
    wom_share = next(line for line in (out / "fit.md").read_text().splitlines() if line.startswith("| WOM share |"))
    assert "nan" not in wom_share.lower() and "| - |" in wom_share  # a single number has no R^2: "-"


def bad_target(tmp_path: Path, change: dict) -> Path:
    data = {
        "parameters": {"wom.contact_prob": [0.05, 0.3]},
        "targets": [{"metric": "nps", "value": 20}],
        **change,
    }
    return write(tmp_path / "bad.yaml", data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parameters": {"wom.contact_prob": [0.3, 0.05]}}, "inverted"),
        ({"parameters": {"wom.contact_probability": [0.05, 0.3]}}, "unknown parameter key"),
        ({"parameters": {"network.generator": [0, 1]}}, "not a number"),
        ({"parameters": {"wom.contact_prob": [0.05, 3.0]}}, "bound high=3"),
        # a whole-number key searched as a float failed at the first trial drawing a fraction, after runs started
        ({"parameters": {"network.n": [100, 300]}}, r"parameters.network.n: takes whole numbers; add integer: true"),
        (
            {"parameters": {"kols.select.k": {"low": 0, "high": 5000, "integer": True}}},
            r"bound high=5000 is not allowed \(kols.select.k = 5000 is more than the",
        ),
        ({"parameters": {}}, "at least one free parameter"),
        ({"targets": [{"metric": "happiness", "value": 1}]}, "unknown metric 'happiness'"),
        ({"targets": [{"metric": "nps"}]}, "exactly one of"),
        ({"targets": [{"metric": "nps", "series": "nowhere.csv"}]}, "file not found"),
        ({"targets": [{"metric": "nps", "value": 1, "ticks": [5, 60]}]}, "window ends at 60"),
        ({"optimiser": "genetic"}, "optimiser"),
    ],
)
def test_bad_target_files_are_one_line_errors(tmp_path, change, message):
    write(tmp_path / "market.yaml", SCENARIO)
    with pytest.raises(ScenarioError, match=message) as err:
        load_problem(tmp_path / "market.yaml", bad_target(tmp_path, change))
    assert "\n" not in str(err.value)


def test_missing_target_file(tmp_path):
    write(tmp_path / "market.yaml", SCENARIO)
    with pytest.raises(ScenarioError, match="target file not found"):
        load_problem(tmp_path / "market.yaml", tmp_path / "nope.yaml")


def test_set_and_parameters_change_items_of_a_default_list_as_run_set_does(tmp_path):
    # market.yaml names no segments: --set and the free parameters change the defaults' items
    from wom_sim.calibrate.targets import scenario_with

    write(tmp_path / "market.yaml", SCENARIO)
    path = bad_target(tmp_path, {"parameters": {"population.segments.0.conformity.a": [1.5, 3.0]}})
    shares = ["population.segments.0.share=0.6", "population.segments.1.share=0.4"]
    problem = load_problem(tmp_path / "market.yaml", path, shares)
    assert [s.share for s in problem.scenario.population.segments] == [0.6, 0.4]
    tried = scenario_with(problem, {"population.segments.0.conformity.a": 2.5}).population.segments
    assert tried[0].conformity.a == 2.5 and [s.share for s in tried] == [0.6, 0.4]


def test_series_longer_than_the_horizon(tmp_path):
    write(tmp_path / "market.yaml", SCENARIO)
    pd.DataFrame({"v": np.arange(60.0)}).to_csv(tmp_path / "long.csv", index=False)
    path = bad_target(tmp_path, {"targets": [{"metric": "customers", "series": "long.csv"}]})
    with pytest.raises(ScenarioError, match="runs to tick 59 but the scenario has 40 ticks"):
        load_problem(tmp_path / "market.yaml", path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (None, "target file not found"),
        ({"parameters": {"wom.nope": [0.1, 0.2]}}, "unknown parameter key"),
        ({"parameters": {"wom.contact_prob": [0.3, 0.1]}}, "inverted"),
    ],
)
def test_calibrate_command_bad_input_exit_2_and_nothing_written(tmp_path, change, message):
    write(tmp_path / "market.yaml", SCENARIO)
    target = "missing.yaml" if change is None else bad_target(tmp_path, change).name
    res = wom("calibrate", "market.yaml", "--target", target, "--out", "out", cwd=tmp_path)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_calibrate_command_end_to_end(synthetic):
    data = yaml.safe_load((synthetic / "targets.yaml").read_text())
    data.update(trials=3, replications=1, check_replications=1, optimiser="de")
    write(synthetic / "quick.yaml", data)
    res = wom("calibrate", "market.yaml", "--target", "quick.yaml", "--out", "fitted", "--set", "network.m=3",
              cwd=synthetic)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "| wom.contact_prob |" in res.stdout and "trial 1/3" in res.stderr
    assert (synthetic / "fitted" / "scenario.yaml").is_file() and (synthetic / "fitted" / "fit.png").is_file()
    # The fitted scenario carries the --set value, so the command its header names must carry it too.
    header = (synthetic / "fitted" / "scenario.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert "--target quick.yaml --set network.m=3 --trials 3 -r 1 --optimiser de`" in header


def test_calibrate_quiet_prints_nothing_but_errors_as_the_other_commands(synthetic):
    # -q printed the whole fit table (parameters, loss, every target); run, compare, sweep, curves and optimise -q
    # print nothing on success (common.quiet_option: errors and warnings only), and the outputs are the same.
    data = yaml.safe_load((synthetic / "targets.yaml").read_text())
    data.update(trials=2, replications=1, check_replications=1, optimiser="de")
    write(synthetic / "quick.yaml", data)
    res = wom("calibrate", "market.yaml", "--target", "quick.yaml", "--out", "fitted", "-q", cwd=synthetic)
    assert res.returncode == 0, res.stderr
    assert (res.stdout, res.stderr) == ("", "")
    assert (synthetic / "fitted" / "fit.md").is_file() and (synthetic / "fitted" / "scenario.yaml").is_file()


@pytest.mark.parametrize("optimiser", ["tpe", "de"])
def test_ctrl_c_during_a_calibration_exits_130_without_a_traceback_and_writes_nothing(
    synthetic, monkeypatch, caplog, optimiser
):
    from click.testing import CliRunner

    import wom_sim.calibrate.search as search
    from wom_sim.cli import cli

    calls = [0]

    def interrupted(*args, **kwargs):  # what Ctrl-C raises in the middle of the fourth trial's run
        calls[0] += 1
        if calls[0] > 3:
            raise KeyboardInterrupt
        return simulate(*args, **kwargs)

    monkeypatch.setattr(search, "simulate", interrupted)
    monkeypatch.chdir(synthetic)
    args = ["calibrate", "market.yaml", "--target", "targets.yaml", "-r", "1", "--optimiser", optimiser]
    result = CliRunner().invoke(cli, [*args, "--out", "fitted"])
    assert result.exit_code == 130, result.output
    assert "interrupted after 3 of 40 trials: nothing written to fitted" in result.output
    assert not [r for r in caplog.records if r.name.startswith("optuna")]  # no "Trial 3 failed" with a traceback
    assert not (synthetic / "fitted").exists()
    assert not [p for p in synthetic.iterdir() if p.name.startswith(".")]


def test_the_example_target_file_is_valid():
    root = Path(__file__).resolve().parents[1]
    problem = load_problem(root / "scenarios" / "baseline.yaml", root / "experiments" / "targets_example.yaml")
    assert [t.is_series for t in problem.targets] == [True, False, False, False]
    assert len(problem.targets[0].observed) == 52


def test_inline_series_needs_two_values(tmp_path):
    write(tmp_path / "market.yaml", SCENARIO)
    with pytest.raises(ScenarioError, match="inline series"):
        load_problem(tmp_path / "market.yaml", bad_target(tmp_path, {"targets": [{"metric": "nps", "series": [1]}]}))


def test_targets_take_the_outcome_syntax_of_compare_and_sweep_and_overrides(tmp_path):
    write(tmp_path / "market.yaml", SCENARIO)
    targets = {"parameters": {"wom.contact_prob": [0.05, 0.3]},
               "targets": [{"metric": "min:brand", "value": 0.6}, {"metric": "at:5:customers", "value": 40},
                           {"metric": "last:nps", "value": 10}]}  # fmt: skip
    problem = load_problem(tmp_path / "market.yaml", write(tmp_path / "t.yaml", targets), ["ticks=12"])
    assert problem.scenario.ticks == 12  # as --ticks 12 / --set ticks=12 give it
    specs = [(t.spec.metric, t.spec.stat, t.spec.ticks) for t in problem.targets]
    assert specs == [("brand", "min", None), ("customers", "final", (5, 5)), ("nps", "final", None)]
    # `stat: last`, the word compare and sweep use, is the final value too (it was refused)
    targets["targets"] = [{"metric": "nps", "stat": "last", "value": 10}]
    assert load_problem(tmp_path / "market.yaml", write(tmp_path / "t.yaml", targets)).targets[0].spec.stat == "final"
    targets["targets"] = [{"metric": "payback", "value": 3}]
    with pytest.raises(ScenarioError, match="compares with a base run"):
        load_problem(tmp_path / "market.yaml", write(tmp_path / "t.yaml", targets))
