"""The command line against classes of bad input (in-process, click's CliRunner): files that would hang or exhaust
the machine, encodings, nesting, aliases, non-finite and huge numbers, design sizes, paths; `check` refusing what
`run` refuses; and warnings for input that is valid but answers nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from wom_sim.cli import cli

TINY = "name: tiny\nseed: 5\nticks: 4\nnetwork: {n: 60, m: 2}\n"


def invoke(*args, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, [str(a) for a in args])
    finally:
        os.chdir(old)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    return tmp_path


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


SCENARIO_FILES = {
    "utf16": ("name: x\n".encode("utf-16"), ["UTF-16"]),
    "latin1": (b"name: caf\xe9\n", ["line 1", "UTF-8"]),
    "too-big": (b"# " + b"x" * 5_100_000 + b"\n", ["5,000,000"]),
    "deep": (("a: " + "[" * 500 + "]" * 500 + "\n").encode(), ["nested more than"]),
    "alias-bomb": (
        (
            "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9))
        ).encode(),
        ["values (after expanding aliases)"],
    ),
    "nan-coefficient": (b"purchase: {adoption: {intercept: .nan}}\n", ["purchase.adoption.intercept", "finite"]),
    "inf-dist": (b"population: {spend: {dist: constant, value: .inf}}\n", ["population.spend.value", "finite"]),
    "huge-dist": (b"population: {spend: 1.0e+308}\n", ["population.spend"]),
    "huge-weight": (b"purchase: {value_price_weight: 1.0e+300}\n", ["value_price_weight"]),
    "huge-cost": (b"interventions: [{kind: advertising, budget_per_tick: 1.0e+200}]\n", ["budget_per_tick"]),
    "text-exponent": (b"interventions: [{kind: advertising, budget_per_tick: 1e308}]\n", ["budget_per_tick"]),
    "nan-text": (b"interventions: [{kind: advertising, budget_per_tick: nan}]\n", ["budget_per_tick", "finite"]),
    "huge-int": (("seed: " + "9" * 5000 + "\n").encode(), ["seed"]),
    "nul-in-text": (b'name: "a\\0b"\n', ["name", "NUL"]),
    "extends-dev-zero": (b"extends: /dev/zero\n", ["/dev/zero", "not a regular file"]),
    "extends-folder": (b"extends: .\n", ["is a folder"]),
    "not-a-mapping": (b"- 1\n- 2\n", ["mapping"]),
    "graph-folder": (b"network: {file: .}\n", ["is a folder, expected a graph file (network.file)"]),
    "duplicate-key": (b"brand:\n  price: 1\n  price: 2\n", ["key 'brand.price' appears twice (lines 2 and 3)"]),
    "m-too-big": (b"network: {n: 50, m: 60}\n", ["network.m"]),
    "complete-too-big": (b"network: {n: 1000000, generator: complete}\n", ["memory"]),
    "ids-not-in-graph": (b"network: {n: 50, m: 2}\nkols: {select: {by: ids, ids: [999]}}\n", ["kols.select.ids"]),
    # Delays: ticks or a duration with a unit, within the key's range in ticks of the scenario's tick_unit.
    "delay-text": (
        b"interventions: [{kind: service_recovery, delay: soon}]\n",
        ["interventions[0].delay", '"2 hours"'],
    ),
    "delay-unit": (b"interventions: [{kind: crisis_response, delay: 3 fortnights}]\n", ["interventions[0].delay"]),
    "delay-negative": (b"interventions: [{kind: crisis_response, delay: -1}]\n", ["interventions[0].delay", ">= 0"]),
    "delay-nan": (b"interventions: [{kind: crisis_response, delay: .nan}]\n", ["delay", "finite"]),
    "delay-too-long": (b"interventions: [{kind: service_recovery, delay: 53 weeks}]\n", ["53 ticks", "at most 52"]),
    "delay-baseline": (b"experience: {recovery: {delay: 400 days}}\n", ["experience.recovery.delay", "at most 52"]),
    "delay-tick-unknown": (
        b"tick_unit: month\ninterventions: [{kind: service_recovery, delay: 2 days}]\n",
        ["interventions[0].delay", "tick_unit is 'month'", "allowed: hour, day, week"],
    ),
}


@pytest.mark.parametrize("command", ["run", "check"])
@pytest.mark.parametrize("case", sorted(SCENARIO_FILES))
def test_bad_scenario_files_are_refused_by_run_and_check_alike(folder, command, case):
    content, words = SCENARIO_FILES[case]
    path = _write(folder, f"{case}.yaml", content)
    args = [command, path] + (["-q", "--out", folder / "out"] if command == "run" else [])
    assert_refused(invoke(*args, cwd=folder), *words)
    assert not (folder / "out").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_key_given_twice_is_one_exact_line_and_exit_2(folder):
    path = _write(folder, "dup.yaml", TINY + "ticks: 6\n")
    result = invoke("run", path, "-q", "--out", folder / "out", cwd=folder)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.output == f"error: {path.resolve()}: key 'ticks' appears twice (lines 3 and 5)\n"
    assert not (folder / "out").exists()


@pytest.mark.timeout(60)  # a FIFO opened with no writer blocks forever: fail instead of hanging the suite
def test_a_fifo_is_refused_without_blocking(folder):
    fifo = folder / "pipe.yaml"
    os.mkfifo(fifo)
    assert_refused(invoke("check", fifo, cwd=folder), "not a regular file")
    _write(folder, "child.yaml", "extends: pipe.yaml\n")
    assert_refused(invoke("run", "child.yaml", "-q", "--out", "out", cwd=folder), "not a regular file")
    os.mkfifo(folder / "edges.csv")
    _write(folder, "graph.yaml", "name: tiny\nticks: 4\nnetwork: {file: edges.csv}\n")
    for args in (["check"], ["run", "-q", "--out", "out"]):
        assert_refused(invoke(args[0], "graph.yaml", *args[1:], cwd=folder), "edges.csv: is not a regular file")


def test_long_extends_chains_are_refused(folder):
    for i in range(20):
        _write(folder, f"c{i}.yaml", f"extends: c{i + 1}.yaml\n" if i < 19 else "name: end\n")
    assert_refused(invoke("check", "c0.yaml", cwd=folder), "extends chain longer than")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("purchase.adoption.intercept=.inf", ["finite"]),
        ("brand.price=1e308", ["brand.price"]),
        ("seed=" + "9" * 4400, ["seed"]),
        ("wom.contact_prob=" + "[" * 100 + "]" * 100, ["nested"]),
        ("a." * 30 + "b=1", ["dotted key"]),
        ("interventions.0.kind=x", ["interventions.0.kind: the list is empty; --set changes items"]),
        ("population.segments.x.share=0.5", ["population.segments.x.share: 'x' is not a list index"]),
        ("population.segments.7.share=0.5", ["population.segments.7.share: list index 7 out of range (0-1)"]),
        ("churn.negative_wom=1e20", ["churn.negative_wom"]),
        ("kols.talkativeness=.nan", ["finite"]),
    ],
)
def test_bad_set_values_are_refused(folder, value, words):
    assert_refused(invoke("run", "tiny.yaml", "--set", value, "-q", "--out", "out", cwd=folder), *words)
    assert not (folder / "out").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "tiny.yaml", "--ticks", "0"], ["--ticks", "0 is not in the range 1<=x<=100000", "run --help`"]),
        (["run", "tiny.yaml", "--seed", "-1"], ["--seed", "-1 is not in the range"]),
        (["run", "tiny.yaml", "--out", "tiny.yaml"], ["--out", "'tiny.yaml' is a file"]),
        (["compare", "tiny.yaml", "-r", "1", "--out", "out"], ["--replications", "1 is not in the range 2<=x"]),
        (["compare", "tiny.yaml"], ["Missing argument 'TREATMENT...'", "compare --help`"]),
        (["fit-bass", "."], ["TABLE", "is a directory"]),
    ],
)  # fmt: skip
def test_options_click_refuses_are_one_line_as_well(folder, args, words):
    # Out-of-range numbers and wrong kinds of path are checked by click before the command starts: the same one
    # line as every other bad input (was click's usage line, a hint line, a blank line and the error).
    result = invoke(*args, cwd=folder)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert not (folder / "out").exists() and not (folder / "runs").exists()


def test_a_nul_byte_in_a_path_is_refused(folder):
    assert_refused(invoke("check", "tiny\x00.yaml", cwd=folder), "NUL")
    assert_refused(invoke("run", "tiny.yaml", "-q", "--out", "o\x00ut", cwd=folder), "NUL")


SWEEPS = {
    "traversal": ("name: ../../escape\nscenario: tiny.yaml\nparameters: {wom.contact_prob: [0.1]}\n", ["name"]),
    "absolute": ("name: /tmp/escape\nscenario: tiny.yaml\nparameters: {wom.contact_prob: [0.1]}\n", ["name"]),
    "huge-lhs": (
        "scenario: tiny.yaml\ndesign: lhs\nsamples: 1000000\nparameters: {wom.contact_prob: {low: 0.1, high: 0.2}}\n",
        ["1,000,000 points", "20,000"],
    ),
    "huge-grid": (
        "scenario: tiny.yaml\nparameters:\n"
        + "".join(f"  {k}: {{low: 0.1, high: 0.2, steps: 30}}\n" for k in ("wom.contact_prob", "wom.positive_rate"))
        + "  wom.negative_rate: {low: 0.1, high: 0.2, steps: 30}\n",
        ["27,000 points"],
    ),
    "nan-range": ("scenario: tiny.yaml\nparameters: {wom.contact_prob: {low: .nan, high: 0.2, steps: 2}}\n", ["low"]),
    "inf-set": ("scenario: tiny.yaml\nset: {brand.margin: .inf}\nparameters: {wom.contact_prob: [0.1]}\n", ["finite"]),
    "utf16": ("", ["UTF-16"]),
}


@pytest.mark.parametrize("case", sorted(SWEEPS))
def test_bad_sweep_specs_are_refused_before_anything_is_built(folder, case):
    text, words = SWEEPS[case]
    path = _write(folder, "spec.yaml", text.encode() if case != "utf16" else "scenario: tiny.yaml\n".encode("utf-16"))
    assert_refused(invoke("sweep", path, "--workers", 0, "-q", cwd=folder), *words)
    assert not (folder / "runs").exists()


TARGETS = {
    "nan-bound": ("parameters: {wom.contact_prob: [.nan, 0.2]}\ntargets: [{metric: nps, value: 1}]\n", ["finite"]),
    "inf-value": ("parameters: {wom.contact_prob: [0.1, 0.2]}\ntargets: [{metric: nps, value: .inf}]\n", ["finite"]),
    "huge-value": (
        "parameters: {wom.contact_prob: [0.1, 0.2]}\ntargets: [{metric: nps, value: 1.0e+300}]\n",
        ["value"],
    ),
    "inf-weight": (
        "parameters: {wom.contact_prob: [0.1, 0.2]}\ntargets: [{metric: nps, value: 1, weight: .inf}]\n",
        ["weight"],
    ),
    "huge-series": (
        "parameters: {wom.contact_prob: [0.1, 0.2]}\ntargets: [{metric: nps, series: obs.csv}]\n",
        ["obs.csv"],
    ),
}


@pytest.mark.parametrize("case", sorted(TARGETS))
def test_bad_calibration_targets_are_refused(folder, case):
    text, words = TARGETS[case]
    _write(folder, "obs.csv", "t,v\n0,1e308\n1,2e308\n")
    _write(folder, "target.yaml", text)
    assert_refused(
        invoke("calibrate", "tiny.yaml", "--target", "target.yaml", "-q", "--out", "cal", cwd=folder), *words
    )
    assert not (folder / "cal").exists()


def test_csv_weights_that_overflow_are_refused_and_an_unused_weight_column_warns(folder):
    _write(folder, "edges.csv", "source,target,weight\n0,1,1e308\n1,2,1e308\n2,0,1\n")
    _write(folder, "g.yaml", "ticks: 3\nnetwork: {file: edges.csv, weight_column: weight}\n")
    assert_refused(invoke("check", "g.yaml", cwd=folder), "weight", "too large")
    _write(folder, "h.yaml", "ticks: 3\nnetwork: {file: edges.csv}\n")
    result = invoke("check", "h.yaml", cwd=folder)
    assert result.exit_code == 0, result.output
    assert "'weight' column that is not used" in result.output


def test_meaningless_inputs_warn_in_check_and_run_and_the_manifest(folder):
    _write(
        folder,
        "late.yaml",
        "extends: tiny.yaml\nkols: {select: {ids: [1, 2], k: 2}}\n"
        "interventions: [{kind: advertising, schedule: {from: 120}}, "
        "{kind: advertising, when: {metric: adoption_share, op: '>', value: 2}}]\n"
        "events: [{kind: crisis, at: 200}]\n",
    )
    check = invoke("check", "late.yaml", cwd=folder)
    assert check.exit_code == 0, check.output
    for words in ("starts at tick 120", "at 200 is after the horizon", "kols.select.ids is ignored", "never hold"):
        assert words in check.output, words
    run = invoke("run", "late.yaml", "-q", "--out", "out", cwd=folder)
    assert run.exit_code == 0, run.output
    assert "starts at tick 120" in run.output
    assert any("starts at tick 120" in w for w in json.loads((folder / "out" / "wom-sim.json").read_text())["warnings"])
    _write(folder, "empty.yaml", "")
    assert "runs the defaults" in invoke("check", "empty.yaml", cwd=folder).output


def test_compare_arms_of_different_markets_need_unpaired(folder):
    args = ["compare", "tiny.yaml", "network.n=80", "-r", 2, "--workers", 0, "-q", "--out", "cmp"]
    assert_refused(invoke(*args, cwd=folder), "network.n", "--unpaired")
    assert not (folder / "cmp").exists()
    result = invoke(*args, "--unpaired", cwd=folder)
    assert result.exit_code == 0, result.output
    assert "the paired CI does not apply" in result.output
    manifest = json.loads((folder / "cmp" / "wom-sim.json").read_text())
    assert manifest["kind"] == "compare" and any("paired CI does not apply" in w for w in manifest["warnings"])
