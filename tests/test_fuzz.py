"""Fuzzing the user's edge (wom_sim/scenario/loading.py, experiment/sweep_spec.py, calibrate/targets.py, the CLI):
generated and mutated scenario documents, --set lists, sweep specs, calibration targets and command lines.

Every input must end in success or in one ScenarioError line (the CLI: exit 2 with one `error` line and nothing
written). Deterministic: hypothesis runs derandomized, without an example database.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wom_sim.calibrate.targets import load_problem
from wom_sim.cli import cli
from wom_sim.errors import ScenarioError
from wom_sim.experiment.sweep_spec import load_sweep
from wom_sim.network.build import check_network
from wom_sim.scenario.catalogue import BUNDLED_DIR
from wom_sim.scenario.loading import load_scenario, scenario_warnings


def fuzz(examples: int) -> settings:
    """Deterministic settings: derandomized, no example database, no deadline (the first call imports a lot)."""
    return settings(
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        max_examples=examples,
        print_blob=False,
    )


BUNDLED = sorted(BUNDLED_DIR.glob("*.yaml"))
BASELINE = BUNDLED_DIR / "baseline.yaml"

# Values that have broken parsers and arithmetic before: non-finite, huge, tiny, wrong types, deep, empty, NUL.
NASTY: list[Any] = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 1e-308, 10**30, -(10**30), 2**63, 2**63 - 1, -1, 0, 1, 0.5, 2,
    1e15, 1e16, True, False, None, "", "x" * 300, "\x00", "../../etc", [], {}, [[[[[]]]]], {"a": {"b": {"c": 1}}},
    [1, 2, 3], {"dist": "beta", "a": math.nan, "b": 1}, {"dist": "uniform", "low": 1e308, "high": math.inf},
    {"kind": "advertising"}, {"kind": "crisis", "at": 10**9}, "1e308", ".nan", "2024-01-01",
]  # fmt: skip
NASTY_TEXT = [
    ".nan", ".inf", "-.inf", "1e308", "-1e308", "9" * 5000, "-" + "9" * 4400, "[" * 200 + "]" * 200,
    "{a: [1, {b: .nan}]}",
    "!!python/object/apply:os.system ['true']", "\x00", "'unterminated", "[1, 2", "&a [*a]", "*nope", "", " ",
    "1", "0", "-1", "0.2", "true", "null", "~", "[]", "{}", "{kind: advertising, schedule: {from: 500}}",
    "[{kind: crisis, at: 300}]", "2**63", str(2**63), "0x7fffffffffffffff", "1_000", "yes", "é", "\ud800x",
]  # fmt: skip


def _flat_keys(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, dict):
        return [k for key, v in data.items() for k in _flat_keys(v, f"{prefix}{key}.")] or [prefix.rstrip(".")]
    if isinstance(data, list) and data:
        return [k for i, v in enumerate(data) for k in _flat_keys(v, f"{prefix}{i}.")]
    return [prefix.rstrip(".")]


KEYS = sorted(set(_flat_keys(load_scenario(BASELINE).model_dump(mode="json", by_alias=True)))) + [
    "interventions", "events", "interventions.0.kind", "kols.select.ids", "network.file", "nope.deeper", "a..b",
    "network.n.x", "population.segments.7.share", "population.segments.0", "extends", "seed", "ticks",
]  # fmt: skip


def _one_line(exc: ScenarioError) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text, text
    assert len(text) < 2000, text[:200]


def _mutate(data: Any, draw, depth: int = 0) -> Any:
    """Replace, drop or add a few entries somewhere in a document."""
    if isinstance(data, dict) and data and depth < 6:
        keys = sorted(data, key=str)
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["replace", "recurse", "recurse", "drop", "add"]))
        out = dict(data)
        if action == "replace":
            out[key] = draw(st.sampled_from(NASTY))
        elif action == "recurse":
            out[key] = _mutate(out[key], draw, depth + 1)
        elif action == "drop":
            out.pop(key)
        else:
            out[draw(st.sampled_from(["nope", "seed", "ticks", "x" * 50, "extends", "base_dir"]))] = draw(
                st.sampled_from(NASTY)
            )
        return out
    if isinstance(data, list) and data and depth < 6:
        out = list(data)
        i = draw(st.integers(0, len(out) - 1))
        out[i] = _mutate(out[i], draw, depth + 1) if draw(st.booleans()) else draw(st.sampled_from(NASTY))
        return out
    return draw(st.sampled_from(NASTY))


def _bundled_raw(index: int) -> dict:
    return yaml.safe_load(BUNDLED[index % len(BUNDLED)].read_text(encoding="utf-8"))


@st.composite
def documents(draw) -> bytes:
    """A bundled scenario, mutated as data or as bytes (encodings, truncation, junk)."""
    raw = _bundled_raw(draw(st.integers(0, 100)))
    raw.pop("extends", None)
    for _ in range(draw(st.integers(1, 4))):
        raw = _mutate(raw, draw)
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    mode = draw(st.sampled_from(["data", "data", "data", "utf16", "latin1", "truncate", "junk", "deep", "alias"]))
    if mode == "utf16":
        return text.encode("utf-16")
    if mode == "latin1":
        return text.encode("utf-8") + b"\nname: caf\xe9\n"
    if mode == "truncate":
        body = text.encode("utf-8")
        return body[: draw(st.integers(0, len(body)))]
    if mode == "junk":
        body = bytearray(text.encode("utf-8"))
        for _ in range(draw(st.integers(1, 5))):
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
        return bytes(body)
    if mode == "deep":
        depth = draw(st.sampled_from([30, 40, 200, 600]))
        return ("a: " + "[" * depth + "]" * depth + "\n").encode()
    if mode == "alias":
        lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
        return ("\n".join(lines) + "\n").encode()
    return text.encode("utf-8")


def _load_ok_or_one_line(path: Path, overrides: list[str] | None = None) -> None:
    try:
        scenario = load_scenario(path, overrides or [])
        check_network(scenario.network)
        scenario_warnings(scenario, str(path))
    except ScenarioError as exc:
        _one_line(exc)


@fuzz(1000)
@given(doc=documents())
def test_scenario_documents(tmp_path_factory, doc):
    folder = tmp_path_factory.mktemp("doc", numbered=True)
    path = folder / "s.yaml"
    path.write_bytes(doc)
    _load_ok_or_one_line(path)
    assert sorted(p.name for p in folder.iterdir()) == ["s.yaml"]  # loading writes nothing


@fuzz(300)
@given(
    items=st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(NASTY_TEXT) | st.text(max_size=20)).map(
            lambda kv: f"{kv[0]}={kv[1]}"
        )
        | st.sampled_from(["novalue", "=1", ".=1", "a" * 70 + "=1", "x." * 40 + "y=1", "wom.contact_prob"]),
        min_size=1,
        max_size=4,
    )
)
def test_set_lists(items):
    _load_ok_or_one_line(BASELINE, items)


SPEC = {
    "name": "fz",
    "scenario": "tiny.yaml",
    "set": {"ticks": 3},
    "design": "grid",
    "parameters": {"wom.contact_prob": {"low": 0.1, "high": 0.3, "steps": 2}, "kols.select.k": [0, 2]},
    "replications": 1,
    "metrics": ["adoption_share"],
}
SPEC_NASTY = NASTY + [
    "lhs", "sobol", "grid", 64, 10**6, 10**7, 20_001, {"low": 0.1, "high": 0.2}, {"low": 1, "high": 0},
    {"low": math.nan, "high": 1}, {"low": 0, "high": 1e308, "steps": 3}, {"low": 0.1, "high": 0.2, "steps": 10**6},
    ["a", "b"], "/tmp/abs", "../../../x", ".hidden", "nosuch.yaml", ["adoption_share", "nope"],
    {"low": 0.01, "high": 0.2, "scale": "log"}, {"low": -1, "high": 1, "scale": "log"},
]  # fmt: skip


@fuzz(200)
@given(data=st.data())
def test_sweep_specs(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("sweep", numbered=True)
    (folder / "tiny.yaml").write_text("name: tiny\nnetwork: {n: 60, m: 2}\nticks: 3\n", encoding="utf-8")
    spec = dict(SPEC)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from([*SPEC, "samples", "seed", "nope"]))
        if key == "parameters" and data.draw(st.booleans()):
            name = data.draw(st.sampled_from(["wom.contact_prob", "kols.select.k", "nope.x", "network.n", "seed"]))
            current = spec["parameters"] if isinstance(spec["parameters"], dict) else {}
            spec["parameters"] = {**current, name: data.draw(st.sampled_from(SPEC_NASTY))}
        else:
            spec[key] = data.draw(st.sampled_from(SPEC_NASTY))
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    try:
        sweep = load_sweep(path)
    except ScenarioError as exc:
        _one_line(exc)
    else:
        assert "/" not in sweep.name and not sweep.name.startswith(".")
    assert sorted(p.name for p in folder.iterdir()) == ["spec.yaml", "tiny.yaml"]


TARGET = {
    "parameters": {"wom.contact_prob": [0.05, 0.3]},
    "targets": [{"metric": "adoption_share", "series": [0.01, 0.02, 0.03]}, {"metric": "nps", "value": 10}],
    "replications": 1,
    "trials": 2,
}
TARGET_NASTY = NASTY + [
    [0.3, 0.05], [0, 1e308], [math.nan, 1], {"low": 0.1, "high": 0.2, "log": True}, {"low": -1, "high": 1, "log": True},
    [{"metric": "nope", "value": 1}], [{"metric": "adoption_share", "series": "nosuch.csv"}],
    [{"metric": "adoption_share", "series": "obs.csv"}], [{"metric": "adoption_share", "series": [math.inf, 1]}],
    [{"metric": "adoption_share / nps", "value": 1e308, "weight": math.inf}], {"brand.price": [0.5, 2]},
    {"nope.x": [0, 1]}, "tpe", "cmaes", "bogus",
]  # fmt: skip


@fuzz(200)
@given(data=st.data())
def test_calibration_targets(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("target", numbered=True)
    (folder / "market.yaml").write_text("name: m\nnetwork: {n: 60, m: 2}\nticks: 5\n", encoding="utf-8")
    (folder / "obs.csv").write_text(
        data.draw(st.sampled_from(["t,v\n0,0.1\n1,0.2\n", "t,v\n0,1e308\n1,inf\n", "", "\xff\xfe", "v\n"])),
        encoding="utf-8",
        errors="surrogateescape",
    )
    target = dict(TARGET)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from([*TARGET, "seed", "optimiser", "check_replications", "nope"]))
        target[key] = data.draw(st.sampled_from(TARGET_NASTY))
    path = folder / "target.yaml"
    path.write_text(yaml.safe_dump(target), encoding="utf-8")
    try:
        load_problem(folder / "market.yaml", path)
    except ScenarioError as exc:
        _one_line(exc)
    assert sorted(p.name for p in folder.iterdir()) == ["market.yaml", "obs.csv", "target.yaml"]


# ------------------------------------------------------------------------------------------------ the CLI
TINY = "name: tiny\nseed: 5\nticks: 3\nnetwork: {n: 40, m: 2}\n"
OUT_KINDS = ["new", "foreign", "file", "below-file", "nul", "run-output", "sweep-store"]


def _prepare(folder: Path, kind: str) -> str:
    if kind == "foreign":
        (folder / "mine").mkdir(exist_ok=True)
        (folder / "mine" / "budget.xlsx").write_bytes(b"the user's own file")
        return str(folder / "mine")
    if kind == "file":
        (folder / "afile").write_text("x", encoding="utf-8")
        return str(folder / "afile")
    if kind == "below-file":
        (folder / "afile").write_text("x", encoding="utf-8")
        return str(folder / "afile" / "sub")
    if kind == "nul":
        return str(folder / "bad\x00name")
    if kind == "run-output":
        (folder / "prev").mkdir(exist_ok=True)
        (folder / "prev" / "wom-sim.json").write_text('{"kind": "run", "files": []}', encoding="utf-8")
        (folder / "prev" / "notes.txt").write_text("keep me", encoding="utf-8")
        return str(folder / "prev")
    if kind == "sweep-store":
        (folder / "store").mkdir(exist_ok=True)
        (folder / "store" / "manifest.json").write_text('{"kind": "sweep"}', encoding="utf-8")
        return str(folder / "store")
    return str(folder / "new-out")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
@fuzz(100)
@given(data=st.data())
def test_cli_calls(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("cli", numbered=True)
    (folder / "tiny.yaml").write_text(TINY, encoding="utf-8")
    out = _prepare(folder, data.draw(st.sampled_from(OUT_KINDS)))
    scenario = data.draw(st.sampled_from(["tiny.yaml", "nosuch.yaml", "tiny.yaml\x00", "/dev/zero", ".", "baseline"]))
    sets = data.draw(st.lists(st.sampled_from(["network.n=40", "ticks=2", *NASTY_TEXT[:12]]), max_size=2))
    set_args = [a for s in sets for a in ("--set", s if "=" in s else f"wom.contact_prob={s}")]
    command = data.draw(st.sampled_from(["run", "run", "check", "compare", "run-r", "report", "sweep", "calibrate"]))
    if command == "run":
        args = ["run", scenario, *set_args, "-q", "--out", out, "--set", "network.n=40"]
    elif command == "run-r":
        args = ["run", scenario, "-r", "2", "--workers", "0", "-q", "--out", out, "--set", "network.n=40"]
    elif command == "check":
        args = ["check", scenario, *set_args]
    elif command == "compare":
        treatment = data.draw(st.sampled_from(["wom.contact_prob=0.2", "network.n=50", "tiny.yaml", "a=.nan"]))
        args = ["compare", scenario, treatment, "-r", "2", "--workers", "0", "-q", "--out", out, *set_args]
    elif command == "sweep":
        spec = {
            **SPEC,
            "scenario": "tiny.yaml",
            data.draw(st.sampled_from(sorted(SPEC))): data.draw(st.sampled_from(SPEC_NASTY)),
        }
        (folder / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        args = ["sweep", "spec.yaml", "--workers", "0", "-q", "--out", out]
    elif command == "calibrate":
        target = {**TARGET, data.draw(st.sampled_from(sorted(TARGET))): data.draw(st.sampled_from(TARGET_NASTY))}
        (folder / "target.yaml").write_text(yaml.safe_dump(target), encoding="utf-8")
        args = ["calibrate", scenario, "--target", "target.yaml", "-q", "--out", out]
    else:
        args = ["report", out]
    before = _snapshot(folder)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        os.chdir(cwd)
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    if result.exit_code == 2:
        errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
        assert len(errors) == 1, (args, result.output)
        assert "Traceback" not in result.output
        after = _snapshot(folder)
        assert after == before, (args, set(after) ^ set(before))  # nothing written, nothing lost
    for name, content in before.items():  # whatever happened, no file of the user's was changed or removed
        if name.endswith(("budget.xlsx", "notes.txt", "afile")):
            assert (folder / name).read_bytes() == content, (args, name)
