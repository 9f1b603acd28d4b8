"""The command line end to end: real subprocesses for run/check/scenarios, exit codes and nothing half-written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from wom_sim.scenario.interventions import KINDS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
SMALL = ["--set", "network.n=300", "--ticks", "6"]


def wom(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wom_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_run_writes_tables_dashboard_and_summary(tmp_path):
    out = tmp_path / "out"
    res = wom("run", BASELINE, *SMALL, "--seed", "3", "--out", str(out))
    assert res.returncode == 0, res.stderr
    for name in ("metrics.parquet", "people.parquet", "dashboard.png", "scenario.yaml"):
        assert (out / name).is_file(), name
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert len(metrics) == 6
    assert len(pd.read_parquet(out / "people.parquet")) == 300
    for words in ("Ever adopted", "NPS", "Churn rate", "Repurchase rate", "Brand", "Revenue", "Word of mouth brought"):
        assert words in res.stdout
    assert "seed: 3" in (out / "scenario.yaml").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_run_csv_and_quiet_and_bundled_name(tmp_path):
    res = wom("run", "baseline", *SMALL, "--format", "csv", "--quiet", "--out", "o", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert len(pd.read_csv(tmp_path / "o" / "metrics.csv")) == 6


def test_trace_has_every_message(tmp_path):
    res = wom("run", BASELINE, *SMALL, "--trace", "-q", "--out", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    trace = pd.read_parquet(tmp_path / "o" / "wom_trace.parquet")
    metrics = pd.read_parquet(tmp_path / "o" / "metrics.parquet")
    per_tick = trace.groupby(["t", "valence"]).size().unstack(fill_value=0).reindex(metrics["t"], fill_value=0)
    per_tick = per_tick.reindex(columns=["positive", "negative"], fill_value=0)
    assert per_tick["positive"].tolist() == metrics["pos_messages"].tolist()
    assert per_tick["negative"].tolist() == metrics["neg_messages"].tolist()
    assert metrics["pos_messages"].sum() > 0  # the check above is not vacuous


def test_same_seed_same_files(tmp_path):
    for name in ("a", "b"):
        assert wom("run", BASELINE, *SMALL, "-q", "--out", str(tmp_path / name)).returncode == 0
    a, b = (pd.read_parquet(tmp_path / x / "metrics.parquet") for x in ("a", "b"))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", BASELINE, "--set", "wom.contact_prob=2"], ["wom.contact_prob", "less than or equal to 1"]),
        (["run", BASELINE, "--set", "wom.contact_prb=0.1"], ["did you mean 'contact_prob'"]),
        (["run", "nosuch.yaml"], ["nosuch.yaml", "not found"]),
        (["run", BASELINE, "--set", "network.file=missing.csv"], ["missing.csv", "not found"]),
        (["run", BASELINE, "--set", "network.n=40000000"], ["memory"]),
        (["run", BASELINE, "--ticks", "0"], ["--ticks"]),
        (["run", BASELINE, "--bogus"], ["No such option"]),
        (["check", BASELINE, "--set", "nope"], ["key.sub=value"]),
        (["run", BASELINE, "--trace", "--set", "network.n=60000"], ["--trace", "50,000"]),
        # a single run is one process: --workers was silently ignored without --replications
        (["run", BASELINE, "--workers", "2"], ["--workers, --dask and --dask-local spread replications"]),
        # a store writes CSV and Parquet and resumes: --format and --force were silently ignored with -r
        (["run", BASELINE, "-r", "2", "--format", "csv", "--set", "network.n=200", "--ticks", "3"],
         ["--format is for one run's folder", "--replications"]),
        (["run", BASELINE, "-r", "2", "--force", "--set", "network.n=200", "--ticks", "3"],
         ["--force is for one run's folder"]),
    ],
)  # fmt: skip
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, args, words):
    res = wom(*args, "--out", str(tmp_path / "out")) if args[0] == "run" else wom(*args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    errors = [line for line in res.stderr.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, res.stderr
    for word in words:
        assert word in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


def test_check_prints_what_differs_from_the_defaults_and_all_with_all():
    res = wom("check", BASELINE, "--set", "wom.contact_prob=0.2")
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load(res.stdout)["wom"] == {"contact_prob": 0.2}  # the user's change, not lost in defaults
    assert "satisfaction_elasticity:" not in res.stdout and "--all prints them" in res.stderr
    assert "valid" in res.stderr and "GB" in res.stderr
    res = wom("check", BASELINE, "--set", "wom.contact_prob=0.2", "--all")
    assert "contact_prob: 0.2" in res.stdout and "satisfaction_elasticity:" in res.stdout


def test_scenarios_lists_bundled_questions():
    res = wom("scenarios")
    assert res.returncode == 0, res.stderr
    assert "baseline" in res.stdout and "How does word of mouth spread" in res.stdout
    assert "name: baseline" in wom("scenarios", "baseline").stdout


def test_help_reads_like_a_manual():
    res = wom("run", "--help")
    assert res.returncode == 0
    for option in ("--set", "--seed", "--ticks", "--out", "--format", "--quiet"):
        assert option in res.stdout


def test_every_option_names_what_it_takes():
    # `--out DIRECTORY`, `-r INTEGER RANGE`, `--host TEXT`: click's type names tell a strategist nothing about what
    # to type. Every option of every subcommand names it (N, FOLDER, FILE, COLUMN, METRIC, PORT, ...).
    from click.testing import CliRunner

    from wom_sim.cli import cli

    generic = re.compile(r"^\s+(?:-\w, )?--[\w-]+(?:, --[\w-]+)? (TEXT|INTEGER|FLOAT|PATH|DIRECTORY|FILENAME)\b")
    for name in cli.list_commands(None):
        text = CliRunner().invoke(cli, [name, "--help"], terminal_width=200).output
        assert not [line for line in text.splitlines() if generic.match(line)], (name, text)


def test_check_shows_every_parameter_of_an_entry_left_at_its_defaults(tmp_path):
    path = tmp_path / "crisis.yaml"
    path.write_text("extends: " + BASELINE + "\nevents: [{kind: crisis, at: 10}]\n"
                    "interventions: [{kind: crisis_response, delay: 3, transparent: false}]\n")  # fmt: skip
    res = wom("check", str(path))
    assert res.returncode == 0, res.stderr
    resolved = yaml.safe_load(res.stdout)
    (response,) = resolved["interventions"]
    assert response["delay"] == 3 and response["transparent"] is False
    # The defaults a written-out answer would otherwise hide: it apologises, compensates and fixes the defect.
    assert (response["apology"], response["compensation"], response["fix_ticks"]) == (True, 20.0, 1)
    assert set(response) == set(KINDS["crisis_response"].model_fields)
    assert set(resolved["events"][0]) == set(KINDS["crisis"].model_fields)


def test_schema_is_json_naming_every_kind(tmp_path):
    res = wom("schema")
    assert res.returncode == 0, res.stderr
    schema = json.loads(res.stdout)
    for section in ("interventions", "events"):
        assert set(schema["properties"][section]["items"]["discriminator"]["mapping"]) == set(KINDS), section
    assert schema["$defs"]["CrisisResponseParams"]["properties"]["compensation"]["default"] == 20.0
    out = tmp_path / "sub" / "scenario.schema.json"
    res = wom("schema", "--out", str(out))
    assert res.returncode == 0 and res.stdout == "", res.stderr
    assert json.loads(out.read_text()) == schema


def test_schema_out_below_a_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "afile").write_text("mine")
    res = wom("schema", "--out", str(tmp_path / "afile" / "x.json"))
    assert res.returncode == 2 and res.stderr.strip() == f"error: --out {tmp_path / 'afile'}: is a file, not a folder"
    assert (tmp_path / "afile").read_text() == "mine"


def test_schema_out_never_replaces_a_file_it_did_not_write(tmp_path):
    mine = tmp_path / "budget.xlsx"
    mine.write_text("mine")
    res = wom("schema", "--out", str(mine))
    assert res.returncode == 2 and res.stderr.strip() == (
        f"error: --out {mine}: exists and is not a file wom-sim wrote; choose another file name (nothing of yours "
        "is replaced)"
    )
    assert mine.read_text() == "mine"
    earlier = tmp_path / "scenario.schema.json"
    assert wom("schema", "--out", str(earlier)).returncode == 0
    assert wom("schema", "--out", str(earlier)).returncode == 0  # an earlier schema is replaced


def test_takeaways_give_no_half_time_when_nobody_adopted():
    # with adoption 0 every tick is ">= half of 0", so the summary said "half of them by week 0" of no one
    from wom_sim.cli.run import takeaways

    flat = pd.DataFrame({"t": [0, 1, 2], "adoption_share": 0.0, "pos_messages": 0, "neg_messages": 0,
                         "wom_acquired_share": 0.0, "at_risk": 0})  # fmt: skip
    assert "half of them" not in " ".join(takeaways(flat, 500, "week"))
    rising = flat.assign(adoption_share=[0.0, 0.1, 0.2])
    assert "half of them by week 1." in " ".join(takeaways(rising, 500, "week"))


def test_takeaways_say_when_half_of_the_adopters_were_customers_from_the_start():
    # baseline over 10 weeks at 500 people: 1% customers at the start, 2% at the end; it said "half of them by
    # week 0", as if adoption had been over in the first week.
    from wom_sim.cli.run import takeaways

    short = pd.DataFrame({"t": [0, 1, 2], "adoption_share": [0.012, 0.016, 0.02], "new_customers": [1, 2, 2],
                          "pos_messages": 5, "neg_messages": 1, "wom_acquired_share": 0.1, "at_risk": 0})  # fmt: skip
    assert "2% of 500 people adopted; half of them were customers from the start." in takeaways(short, 500, "week")
    fast = short.assign(adoption_share=[0.3, 0.35, 0.4], new_customers=[140, 25, 25])  # first-week adopters
    assert "40% of 500 people adopted; half of them by week 0." in takeaways(fast, 500, "week")


def test_ctrl_c_during_a_run_exits_130_and_writes_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from wom_sim.cli import cli
    from wom_sim.sim.model import WomModel

    def interrupted(self, *args, **kwargs):  # what Ctrl-C raises in the middle of the ticks
        self.step()
        raise KeyboardInterrupt

    monkeypatch.setattr(WomModel, "run", interrupted)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", "baseline", "--set", "network.n=200", "--ticks", "5", "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert "interrupted after 1 of 5 weeks: nothing written" in result.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("command", ["run", "check"])
def test_an_error_found_while_the_model_is_built_names_the_scenario_file(tmp_path, command):
    mine = tmp_path / "mine.yaml"
    mine.write_text("network: {n: 4, m: 5}\nticks: 2\n")
    res = wom(command, str(mine), *(["--out", str(tmp_path / "out")] if command == "run" else []))
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [
        f"error: {mine}: network.m = 5 must be less than network.n = 4 for barabasi_albert"
    ], res.stderr
