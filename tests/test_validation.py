"""The validation suite (wom_sim/validation): every stylized fact passes in quick mode, plus its machinery.

`test_quick_validation_passes` runs all facts of the registry at the quick size (under 2 minutes)
and fails when any fact fails; the full run (`wom-sim validate`, under 20 minutes) is opt-in in the tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import wom_sim
from wom_sim.errors import ScenarioError
from wom_sim.validation import load_registry, mean_ci, overall_passed, run_validation, take_off, time_to_half
from wom_sim.validation.checks import _ticks_to_regain, need_kinds
from wom_sim.validation.registry import BASELINE_FILE, CHECKS, REGISTRY_FILE, FactResult, Part, Pending, mode_value
from wom_sim.validation.report import markdown, summary_line, text_table, write_reports
from wom_sim.validation.verification import _differences, welch_score

ROOT = Path(__file__).resolve().parents[1]
# The project's shared list of facts to reproduce, beside the repository (optional): the registry must cover it
# when it is there. The package never reads it (it is not in a wheel); only this test does.
FACTS_MD = ROOT.parent / "shared" / "validation" / "facts.md"


def facts_md_ids(path: Path = FACTS_MD) -> list[str]:
    """Fact ids listed in the shared facts.md table (empty when the file is not there)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    return re.findall(r"^\|\s*(F\d+)\s*\|", text, flags=re.MULTILINE)


def wom(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wom_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def _report(results: list[FactResult]) -> str:
    return "\n" + text_table(results) + "\n" + "\n".join(f"{r.id}: {r.detail}" for r in results if r.detail)


# --------------------------------------------------------------------------------------------- the facts
def test_quick_validation_passes():
    # Two processes: the suite's longest test, and a fact's result does not depend on which process ran it.
    results, _ = run_validation("quick", workers=2)
    ids = [r.id for r in results]
    assert {f"F{i}" for i in range(1, 17)} <= set(ids), ids
    assert overall_passed(results), _report(results)
    assert all(r.status == "pass" for r in results if r.id != "F14"), _report(results)
    # Its speed (under 2 minutes on the 2-core box) is measured by `wom-sim validate --quick`, not asserted here.


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("WOM_SIM_FULL_VALIDATION"),
    reason="the full validation (30 replications at 5,000 people) takes 4-8 minutes: run `wom-sim validate` or set "
    "WOM_SIM_FULL_VALIDATION=1; the quick validation above runs every fact in every test run",
)
def test_full_validation_passes():
    results, _ = run_validation("full")
    assert overall_passed(results), _report(results)


# --------------------------------------------------------------------------------------------- the registry
def test_registry_covers_every_fact_of_facts_md_with_a_known_check():
    _, specs = load_registry()
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids))
    listed = facts_md_ids()
    if listed:  # the shared file is outside the repository and may be absent
        assert set(listed) <= set(ids), set(listed) - set(ids)


def test_every_fact_is_a_calibration_target_or_a_test_and_calibration_uses_only_targets():
    """Calibration discipline (issue 13): the registry splits facts; the baseline's target file fits only targets."""
    import yaml

    from wom_sim.calibrate.targets import fact_roles, load_problem
    from wom_sim.scenario.catalogue import bundled_path

    raw = yaml.safe_load((ROOT / "wom_sim" / "validation" / "facts" / "facts.yaml").read_text(encoding="utf-8"))
    roles = {f["id"]: f.get("role") for f in raw["facts"]}
    assert set(roles.values()) == {"target", "test"}, roles
    assert fact_roles() == roles
    assert {f"F{i}" for i in range(17, 27)} <= set(roles)  # the issue-13 facts
    facts_dir = ROOT / "wom_sim" / "validation" / "facts"
    problem = load_problem(bundled_path("baseline"), facts_dir / "baseline_targets.yaml")
    used = {t.spec.fact for t in problem.targets if t.spec.fact}
    assert used and all(roles[f] == "target" for f in used)


def test_checks_are_registered_for_every_entry():
    from wom_sim.validation import checks, verification  # noqa: F401

    _, specs = load_registry()
    assert {s.check for s in specs} <= set(CHECKS)


def test_a_fact_listed_in_facts_md_but_not_registered_is_reported(tmp_path):
    registry = tmp_path / "facts.yaml"
    registry.write_text(
        "seed: 1\nmodes: {quick: {replications: 1, size: {network.n: 300, ticks: 5}}}\nfacts:\n"
        "  - {id: F13, short: Determinism, fact: same twice, expected: identical, check: determinism,\n"
        "     params: {runs: 1}}\n"
    )
    facts_md = tmp_path / "facts.md"
    facts_md.write_text("| id | fact |\n|---|---|\n| F13 | determinism |\n| F99 | a new fact |\n")
    results, _ = run_validation("quick", registry=registry, listed=facts_md_ids(facts_md))
    status = {r.id: r.status for r in results}
    assert status == {"F13": "pass", "F99": "not implemented"}
    assert not overall_passed(results)


def test_facts_in_two_processes_give_the_same_results_as_in_one(tmp_path):
    registry = tmp_path / "facts.yaml"
    registry.write_text(
        "seed: 1\nmodes: {quick: {replications: 2, size: {network.n: 300, ticks: 5}}}\nfacts:\n"
        "  - {id: F13, short: Determinism, fact: same twice, expected: identical, check: determinism,\n"
        "     params: {runs: 1}}\n"
        "  - {id: F2, short: Again, fact: same twice, expected: identical, check: determinism, params: {runs: 2}}\n"
    )
    one, rec_one = run_validation("quick", registry=registry)
    two, rec_two = run_validation("quick", registry=registry, workers=2)
    assert [r.id for r in two] == ["F2", "F13"]
    assert [(r.id, r.status, [(p.label, p.measured) for p in r.parts]) for r in one] == [
        (r.id, r.status, [(p.label, p.measured) for p in r.parts]) for r in two
    ]
    assert rec_two["seeds"] == rec_one["seeds"] and rec_two["runs"] >= rec_one["runs"]
    with pytest.raises(ScenarioError, match="workers"):
        run_validation("quick", registry=registry, workers=0)


def test_facts_md_ids_reads_the_table(tmp_path):
    path = tmp_path / "f.md"
    path.write_text("# x\n| id | fact |\n|---|---|\n| F1 | a |\n| F16 | b |\n| F13 | c |\nF2 is prose\n")
    assert facts_md_ids(path) == ["F1", "F16", "F13"]
    assert facts_md_ids(tmp_path / "missing.md") == []


def test_mode_value():
    assert mode_value({"quick": 1, "full": 2}, "full") == 2
    assert mode_value({"quick": 1}, "full") == {"quick": 1}
    assert mode_value(5, "quick") == 5


def test_pending_when_an_intervention_kind_is_missing():
    with pytest.raises(Pending, match="no_such_kind"):
        need_kinds("service_recovery", "no_such_kind")


# --------------------------------------------------------------------------------------------- measures
def test_mean_ci():
    est = mean_ci([1.0, 2.0, 3.0, float("nan")])
    assert est.value == 2.0 and est.n == 3
    assert est.low == pytest.approx(2 - 4.302653 * 1 / np.sqrt(3), rel=1e-5)
    assert mean_ci([]).n == 0 and np.isnan(mean_ci([]).value)
    assert mean_ci([4.0]).text() == "4"


def test_take_off_and_time_to_half():
    metrics = pd.DataFrame({"t": range(6), "adoption_share": [0.0, 0.1, 0.2, 0.6, 0.8, 0.8]})
    assert take_off(metrics) == 3  # first tick with >= 0.4 adopted
    # half of 0.8 is 0.4: between row 2 (after 3 ticks, 0.2) and row 3 (after 4 ticks, 0.6)
    assert time_to_half(metrics) == pytest.approx(3.5)


def test_ticks_to_regain():
    shortfall = np.array([0.01, 0.04, 0.03, 0.02, 0.01, 0.0039, 0.003])
    assert _ticks_to_regain(shortfall, 0.9) == 5  # first at or below 10% of 0.04 after the worst tick
    assert np.isnan(_ticks_to_regain(np.array([0.0, 0.05, 0.04]), 0.9))


def test_differences_is_bit_for_bit():
    a = pd.DataFrame({"x": [1.0, np.nan, 0.0], "s": ["a", "b", "c"]})
    assert _differences(a, a.copy()) == 0
    b = a.copy()
    b.loc[2, "x"] = -0.0  # equal as numbers, different bits
    assert _differences(a, b) == 1
    assert _differences(a, a[["s", "x"]]) == a.size


# --------------------------------------------------------------------------------------------- reports and CLI
def test_reports_are_written_with_every_row(tmp_path):
    results = [
        FactResult("F1", "Bass", "fact", "src", [Part("p", "0.02 +-15%", mean_ci([0.021, 0.019]), True)], "pass"),
        FactResult("F14", "Ref", "fact", "", [Part("Ref", "all", None, None)], "not run", "reference missing"),
    ]
    record = {"mode": "quick", "replications": 2, "size": {}, "seeds": [1, 2], "runs": 4, "seconds": 1.0}
    md, page = write_reports(tmp_path / "out", results, record, "wom-sim validate --quick")
    text = md.read_text()
    assert "| fact | expected | measured (95% CI) | pass |" in text
    assert "F1 Bass: p" in text and "not run" in text and "reference missing" in text
    assert "<table>" in page.read_text() and "F14 Ref" in page.read_text()
    assert "F1 Bass: p" in markdown(results, record, "x")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_validate_command_runs_selected_facts_and_writes_reports(tmp_path):
    res = wom("validate", "--quick", "--facts", "F13", "--out", "rep", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "F13 Determinism" in res.stdout and "pass" in res.stdout
    assert (tmp_path / "rep" / "validation.md").is_file() and (tmp_path / "rep" / "validation.html").is_file()


def test_validate_runs_on_all_cores_by_default_as_the_experiment_commands(tmp_path, monkeypatch):
    # --workers defaulted to 1 while compare, sweep, curves and optimise use all cores; a full run is 20 minutes.
    from click.testing import CliRunner

    import wom_sim.experiment.executors as executors
    import wom_sim.validation as validation
    from wom_sim.cli import cli

    asked = []

    def stop(*args, workers=1, **kwargs):
        asked.append(workers)
        raise RuntimeError("stop here")

    monkeypatch.setattr(validation, "run_validation", stop)
    monkeypatch.setattr(executors, "default_workers", lambda: 7)
    for extra, expected in (([], 7), (["--workers", "3"], 3), (["-w", "0"], 1)):
        CliRunner().invoke(cli, ["validate", "--quick", "--facts", "F13", "--out", str(tmp_path / "v"), *extra])
        assert asked.pop() == expected, extra
    shown = " ".join(CliRunner().invoke(cli, ["validate", "--help"]).output.split())
    assert "default: all cores" in shown and "0 = in this process" in shown


def test_validate_command_unknown_fact_is_exit_2(tmp_path):
    res = wom("validate", "--quick", "--facts", "F99", "--out", "rep", cwd=tmp_path)
    assert res.returncode == 2
    assert "unknown fact F99" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "rep").exists()


@pytest.mark.parametrize("facts", ["", " ", ",", " , "])
def test_validate_command_empty_fact_list_is_exit_2_not_every_fact(tmp_path, facts):
    # `--facts ""` (an unset shell variable) ran every fact: without --quick a full run of up to 20 minutes
    res = wom("validate", "--quick", "--facts", facts, "--out", "rep", cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--facts" in res.stderr and "no fact id" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "rep").exists()


def test_registry_and_its_scenarios_are_package_data():
    package = Path(wom_sim.__file__).resolve().parent
    assert REGISTRY_FILE.is_file() and REGISTRY_FILE.resolve().is_relative_to(package / "validation" / "facts")
    assert BASELINE_FILE.is_file() and BASELINE_FILE.resolve().is_relative_to(package / "scenario" / "bundled")


def test_kernel_reference_ships_with_the_package():
    from wom_sim.validation import verification

    assert hasattr(verification.load_reference(), "run_reference")


def test_reports_show_calibration_targets_and_test_facts_apart():
    # The brief's discipline: facts the defaults were fitted to are reported apart from out-of-sample tests.
    part = [Part("p", "x", mean_ci([0.021, 0.019]), True)]
    results = [FactResult("F2", "Fitted", "f", "", part, "pass", role="target"),
               FactResult("F3", "Tested", "f", "", part, "pass", role="test"),
               FactResult("F5", "Fitted too", "f", "", part, "fail", role="target")]  # fmt: skip
    record = {"mode": "quick", "replications": 2, "size": {}, "seeds": [1, 2], "runs": 4, "seconds": 1.0}
    for text in (markdown(results, record, "x"), text_table(results)):
        targets, tests = text.index("Calibration targets"), text.index("Test facts")
        assert targets < text.index("F2 Fitted") < text.index("F5 Fitted too") < tests < text.index("F3 Tested")
    line = summary_line(results, record)
    assert "calibration targets 2: 1 fail, 1 pass" in line and "test facts 1: 1 pass" in line
    roles = {spec.id: spec.role for spec in load_registry()[1]}
    assert roles["F2"] == "target" and roles["F3"] == "test"


def test_f14_compares_each_metric_with_the_welch_interval_not_the_normal_one():
    """Two samples of 5 with equal variance: Welch's degrees of freedom are 2 x 5 - 2 = 8, so the 99% limit is
    t(0.995, 8) = 3.36 standard errors; the normal 2.58 would call a 3-SE difference a disagreement."""
    a = np.arange(5.0)
    score, limit = welch_score(a, a + 3.0, 0.01)  # se = sqrt(2.5 / 5 + 2.5 / 5) = 1
    assert score == pytest.approx(3.0, rel=1e-12)
    assert limit == pytest.approx(stats.t.ppf(0.995, 8), rel=1e-9) and score < limit
    assert welch_score(np.ones(3), np.ones(3) * 2, 0.01)[0] > welch_score(np.ones(3), np.ones(3) * 2, 0.01)[1]
    assert welch_score(np.ones(3), np.ones(3), 0.01)[0] <= welch_score(np.ones(3), np.ones(3), 0.01)[1]
