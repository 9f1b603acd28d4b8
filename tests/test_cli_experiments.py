"""`wom-sim run --replications`, `compare`, `sweep` and `report` end to end on tiny scenarios, bad input, and a
real SIGKILL / SIGINT of a running sweep."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from wom_sim.cli import cli
from wom_sim.cli.experiments import print_comparison, print_groups
from wom_sim.experiment import load_comparison
from wom_sim.experiment.store import ResultStore

TINY = "name: tiny\nseed: 5\nticks: 12\nnetwork: {n: 300, m: 3}\nkols: {select: {by: degree, k: 3}}\n"
ADS = (
    "extends: tiny.yaml\nname: ads\ninterventions:\n  - kind: advertising\n    reach_multiplier: 2.0\n"
    "    budget_per_tick: 100\n"
)
GRID = (
    "name: grid\nscenario: tiny.yaml\ndesign: grid\nparameters:\n  kols.select.k: [0, 6]\n"
    "  wom.contact_prob: {low: 0.1, high: 0.3, steps: 2}\nreplications: 2\nmetrics: [adoption_share, profit]\n"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (tmp_path / "ads.yaml").write_text(ADS, encoding="utf-8")
    (tmp_path / "grid.yaml").write_text(GRID, encoding="utf-8")
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def assert_html_embeds_figures(path: Path, figures: int) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') >= figures
    assert "http://" not in text and "https://" not in text  # self-contained: nothing fetched from elsewhere


# ------------------------------------------------------------------------------------------------ end to end
def test_run_with_replications_gives_cis_bands_and_a_report(folder):
    out = folder / "rep"
    result = invoke("run", folder / "tiny.yaml", "--replications", 4, "--workers", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert "95% CI" in result.stdout and "Ever adopted" in result.stdout
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    assert (summary["n"] == 4).all() and (summary["ci_low"] <= summary["mean"]).all()
    series = pd.read_parquet(out / "timeseries.parquet")
    assert set(series["t"]) == set(range(12)) and {"mean", "ci_low", "ci_high"} <= set(series.columns)
    assert (out / "dashboard.png").stat().st_size > 10_000
    assert len(ResultStore(out).done_keys()) == 4
    again = invoke("run", folder / "tiny.yaml", "-r", 4, "--workers", 0, "--out", out)
    assert again.exit_code == 0 and "0 runs" in again.stderr and "4 reused" in again.stderr
    report = invoke("report", out)
    assert report.exit_code == 0
    assert_html_embeds_figures(out / "report.html", 1)


def test_compare_files_and_overrides_with_paired_cis(folder):
    out = folder / "cmp"
    result = invoke(
        "compare",
        folder / "tiny.yaml",
        folder / "ads.yaml",
        "wom.contact_prob=0.2",
        "-r",
        5,
        "--workers",
        2,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "ads vs tiny" in result.stdout and "wom.contact_prob=0.2 vs tiny" in result.stdout
    assert "paired 95% CI" in result.stdout and "Verdicts against tiny" in result.stdout
    # every file the closing line names is there (uplift_timeseries.parquet was written but not named)
    listed = " ".join(result.stdout.split("Outputs in")[1].split("HTML:")[0].split())
    named = [n.strip(" ,.") for n in listed.split(":", 1)[1].split(", ")]
    for name in [n.split(" (")[0] for n in named]:
        assert (out / name).exists(), name
    assert "uplift_timeseries.parquet" in listed and (out / "uplift_timeseries.parquet").is_file()
    verdicts = pd.read_csv(out / "verdicts.csv")
    assert set(verdicts["treatment"]) == {"ads", "wom.contact_prob=0.2"} and list(verdicts["rank"]) == [1, 2]
    for sentence in verdicts["sentence"]:  # the verdict lines lead the output, in rank order
        assert sentence.split(":")[0].split(" ")[0] in result.stdout.split("Ranking")[0]
    uplift = pd.read_csv(out / "uplift.csv")
    assert set(uplift["treatment"]) == {"ads", "wom.contact_prob=0.2"}
    expected = {
        "adoption_share",
        "customers",
        "nps",
        "churn_rate",
        "pos_messages",
        "neg_messages",
        "brand",
        "crisis_damage",
        "revenue",
        "cost",
        "intervention_cost",
        "profit",
        "payback",
        "roi",
    }
    assert set(uplift["outcome"]) == expected
    ads = uplift[uplift["treatment"] == "ads"].set_index("outcome")
    assert ads.loc["intervention_cost", "uplift"] == pytest.approx(1200.0)  # 100 per tick for 12 ticks
    assert ads.loc["roi", "uplift"] == pytest.approx(ads.loc["profit", "uplift"] / 1200.0)
    assert (out / "compare.png").exists() and (out / "dashboard.png").exists()
    assert invoke("report", out).exit_code == 0
    assert_html_embeds_figures(out / "report.html", 2)


def test_sweep_writes_a_tidy_store_resumes_and_reports(folder):
    out = folder / "sw"
    result = invoke("sweep", folder / "grid.yaml", "--workers", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert "adoption_share: point means" in result.stdout and "drivers:" in result.stdout
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 4 and {"adoption_share_mean", "adoption_share_ci_low", "profit_ci_high"} <= set(points)
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert len(outcomes) == 8 and outcomes["run_key"].is_unique
    assert {"heatmaps.png", "partial_dependence.png", "sensitivity.png"} <= {p.name for p in out.iterdir()}
    again = invoke("sweep", folder / "grid.yaml", "--workers", 0, "--out", out)
    assert again.exit_code == 0 and "0 runs" in again.stderr and "8 reused" in again.stderr
    (folder / "grid.yaml").write_text(GRID.replace("replications: 2", "replications: 3"), encoding="utf-8")
    changed = invoke("sweep", folder / "grid.yaml", "--workers", 0, "--out", out, "-q")
    assert "warning:" in changed.stderr and "spec changed" in changed.stderr and "8 stored runs" in changed.stderr
    assert invoke("report", out).exit_code == 0
    assert_html_embeds_figures(out / "report.html", 3)


def test_the_sweep_summary_prints_a_share_difference_in_points(folder):
    # A sweep printed the swing of a share as "swing 0.150" or "16.40%" (a relative change to a reader) where compare
    # says "+15.0 pts": the same formatter (format_outcome) writes both now, a point's mean as compare prints it.
    spec = GRID.replace("[adoption_share, profit]", "[adoption_share, profit, incremental:adoption_share]")
    (folder / "pts.yaml").write_text(spec + "baseline: {}\n", encoding="utf-8")
    result = invoke("sweep", folder / "pts.yaml", "--workers", 0, "--out", folder / "sw")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    share = lines[lines.index(next(x for x in lines if x.startswith("adoption_share:"))) + 1]
    assert re.search(r"\(swing \d+\.\d pts\)", share), share
    relative = next(x for x in lines if x.startswith("incremental:adoption_share:"))
    assert re.search(r"point means [+-]\d+\.\d pts to [+-]\d+\.\d pts", relative), relative
    assert not re.search(r"\d\.\d\d%", result.stdout), result.stdout  # means as compare: 43.2%, not 43.20%


def test_a_sobol_sweep_of_one_replication_prints_no_nan(folder):
    # One replication per point leaves the replication noise unmeasured, and an outcome that never varies (no
    # intervention, so no spend) has no Sobol index: the summary says so instead of printing "nan%" or "nan ± nan".
    spec = GRID.replace("design: grid", "design: sobol\nsamples: 4").replace("kols.select.k: [0, 6]", "")
    spec = spec.replace("steps: 2", "").replace("[adoption_share, profit]", "[profit, sum:intervention_cost]")
    (folder / "sobol.yaml").write_text(spec, encoding="utf-8")
    result = invoke("sweep", folder / "sobol.yaml", "-r", 1, "--workers", 0, "--out", folder / "sw")
    assert result.exit_code == 0, result.output
    assert "nan" not in result.stdout.lower()
    assert "replication noise not measured" in result.stdout and "Sobol indices" in result.stdout


def test_a_damaged_part_set_aside_is_named_even_when_another_part_then_stops_the_summary(folder):
    out = folder / "sw"
    assert invoke("sweep", folder / "grid.yaml", "--workers", 0, "--out", out, "-q").exit_code == 0
    cut, scrambled = sorted((out / "runs").glob("*.parquet"))[:2]
    cut.write_bytes(cut.read_bytes()[:100])  # a copy cut short: found before any run, set aside, run again
    data = bytearray(scrambled.read_bytes())
    data[200:400] = bytes(200)  # both Parquet markers intact, a page inside unreadable: found by the summary
    scrambled.write_bytes(bytes(data))
    result = invoke("sweep", folder / "grid.yaml", "--workers", 0, "--out", out, "-q")
    assert result.exit_code == 2, result.output
    assert f"warning: {cut}: damaged or empty part" in result.stderr
    assert f"error: {scrambled}: damaged part" in result.stderr


def test_report_of_a_single_run_folder(folder):
    out = folder / "single"
    assert invoke("run", folder / "tiny.yaml", "--out", out, "-q").exit_code == 0
    result = invoke("report", out, "--out", folder / "r.html")
    assert result.exit_code == 0 and result.stdout.strip().endswith("r.html")
    assert_html_embeds_figures(folder / "r.html", 1)


def test_report_keeps_a_report_html_of_the_users_in_the_folder(folder):
    # A store keeps files the user adds; DIR/report.html, the default, must not replace one wom-sim did not write.
    out = folder / "single"
    assert invoke("run", folder / "tiny.yaml", "--out", out, "-q").exit_code == 0
    (out / "report.html").write_text("<html>my notes</html>", encoding="utf-8")
    result = invoke("report", out)
    assert result.exit_code == 2 and "report.html: exists and is not a wom-sim report" in result.output
    assert (out / "report.html").read_text(encoding="utf-8") == "<html>my notes</html>"
    assert invoke("report", out, "--force").exit_code == 0
    assert invoke("report", out).exit_code == 0  # now an earlier wom-sim report: replaced
    assert_html_embeds_figures(out / "report.html", 1)


def test_a_sweep_over_a_key_that_costs_nothing_warns_before_it_runs(folder):
    # advertising.reach has no cost in the economics, so the sweep's "best" is always the most reach; one warning
    # line, before the sweep's first line (and with -q, which keeps warnings), names the priced lever.
    spec = GRID.replace("kols.select.k: [0, 6]", "advertising.reach: [0.05, 0.1]")
    (folder / "reach.yaml").write_text(spec, encoding="utf-8")
    result = invoke("sweep", folder / "reach.yaml", "--workers", 0, "--out", folder / "sw")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("warning: advertising.reach costs nothing in the model"), result.stderr
    assert "the `advertising` intervention's budget" in lines[0] and lines[1].startswith("executing on")
    quiet = invoke("sweep", folder / "reach.yaml", "--workers", 0, "--out", folder / "sw", "-q")
    assert quiet.stderr.splitlines()[0] == lines[0]
    assert "wom.contact_prob" not in result.stderr  # a market parameter, not a bought lever: no warning


def test_sweep_calls_no_point_best_on_an_outcome_without_a_better_direction(folder):
    # A programme's spend is neither good nor bad for the business (the catalogue says neither), so the summary
    # names its highest point without calling it the best.
    spec = GRID.replace("tiny.yaml", "ads.yaml").replace("[adoption_share, profit]", "[profit, sum:cost_advertising]")
    (folder / "spend.yaml").write_text(spec, encoding="utf-8")
    result = invoke("sweep", folder / "spend.yaml", "--workers", 0, "--out", folder / "sw", "-q")
    assert result.exit_code == 0, result.output
    result = invoke("sweep", folder / "spend.yaml", "--workers", 0, "--out", folder / "sw")
    spend = next(line for line in result.stdout.splitlines() if line.startswith("sum:cost_advertising:"))
    assert "highest at" in spend and "best" not in spend
    profit = next(line for line in result.stdout.splitlines() if line.startswith("profit:"))
    assert "highest (best) at" in profit


# ------------------------------------------------------------------------------------------------ bad input
def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BAD_SPECS = {
    "unknown parameter": ("  wom.contactprob: [0.1, 0.2]\n", "parameters.wom.contactprob", "no parameter"),
    "inverted range": (
        "  wom.contact_prob: {low: 0.3, high: 0.1, steps: 3}\n",
        "parameters.wom.contact_prob",
        "inverted",
    ),
    "empty range": (
        "  wom.contact_prob: {low: 0.2, high: 0.2, steps: 3}\n",
        "parameters.wom.contact_prob",
        "empty range",
    ),
    "empty list": ("  wom.contact_prob: []\n", "parameters.wom.contact_prob", "empty list"),
    # A repeated value would count its points twice in the other parameters' partial dependence.
    "repeated value": ("  wom.contact_prob: [0.1, 0.2, 0.1]\n", "parameters.wom.contact_prob", "0.1 is listed twice"),
    "out of bounds": ("  wom.contact_prob: [0.1, 1.5]\n", "wom.contact_prob", "less than or equal to 1"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_sweep_parameters_give_one_line_exit_2_and_write_nothing(folder, case):
    body, key, words = BAD_SPECS[case]
    spec = folder / "bad.yaml"
    spec.write_text(f"scenario: tiny.yaml\ndesign: grid\nparameters:\n{body}", encoding="utf-8")
    _assert_rejected(folder, ["sweep", spec], [spec.name, key, words])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("design: random", ["design", "grid", "lhs", "sobol"]),
        ("design: lhs\nsamples: 0", ["samples", "greater than or equal to 1"]),
        ("design: lhs", ["samples", "needs samples"]),
        ("design: sobol\nsamples: 12", ["samples", "power of 2"]),
        ("design: grid\nsamples: 8", ["samples", "design grid takes no samples", "lhs or sobol"]),
        ("design: grid\nmetrics: [adoptoin_share]", ["metrics", "adoption_share"]),
        ("design: grid\nparamters: {}", ["paramters", "did you mean"]),
    ],
)
def test_bad_sweep_specs_give_one_line_exit_2_and_write_nothing(folder, text, words):
    spec = folder / "bad.yaml"
    params = "parameters:\n  wom.contact_prob: {low: 0.1, high: 0.3, steps: 2}\n" if "paramters" not in text else ""
    spec.write_text(f"scenario: tiny.yaml\n{params}{text}\n", encoding="utf-8")
    _assert_rejected(folder, ["sweep", spec], [spec.name, *words])


def test_unreachable_scheduler_gives_one_line_exit_2_and_writes_nothing(folder):
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    _assert_rejected(folder, ["sweep", folder / "grid.yaml", "--dask", address], ["--dask", address])
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.8", "--dask", address], [address])
    _assert_rejected(folder, ["run", folder / "tiny.yaml", "-r", 3, "--dask", address], [address])


def test_bad_treatment_gives_one_line_exit_2(folder):
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "wom.contact_prob=7"], ["treatment", "contact_prob"])
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "nosuch"], ["nosuch", "not found"])


def _assert_rejected(folder: Path, args: list, words: list[str]) -> None:
    out = folder / "out"
    result = invoke(*args, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert str(word) in lines[0], (word, lines[0])
    assert not out.exists() and not (folder / "runs").exists()


# ------------------------------------------------------------------------------------------------ real signals
KILL_SPEC = (
    "name: killme\nscenario: big.yaml\ndesign: grid\nparameters:\n  wom.contact_prob: [0.1, 0.12, 0.14, "
    "0.16, 0.18, 0.2, 0.22, 0.24, 0.26, 0.28]\nreplications: 3\nmetrics: [adoption_share]\n"
)
TOTAL = 30


def _start_sweep(folder: Path, replications: int = 3) -> subprocess.Popen:
    (folder / "big.yaml").write_text(
        TINY.replace("n: 300", "n: 1500").replace("ticks: 12", "ticks: 20"), encoding="utf-8"
    )
    spec = KILL_SPEC.replace("replications: 3", f"replications: {replications}")
    (folder / "kill.yaml").write_text(spec, encoding="utf-8")
    cmd = [sys.executable, "-m", "wom_sim", "sweep", "kill.yaml", "--workers", "2", "--out", "store", "-q"]
    # Ctrl-C as in a terminal: a job started in the background by a non-interactive shell (a CI runner's, say)
    # inherits SIGINT ignored, and Python then keeps ignoring it, as it should; the test must not depend on that.
    return subprocess.Popen(cmd, cwd=folder, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_parts(store: ResultStore, proc: subprocess.Popen, count: int, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while len(store.done_keys()) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.02)


SIGINT_BIT = 1 << (signal.SIGINT - 1)  # in the signal masks of /proc/<pid>/status


def _signal_masks(pid: int) -> dict[str, int]:
    """The SigIgn (ignored) and SigCgt (caught) masks of a process ({} once it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v, 16) for k, _, v in (line.partition(":") for line in lines) if k in ("SigIgn", "SigCgt")}


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            out.append(int(stat.parent.name))
    return out


def _wait_until_ctrl_c_is_handled(proc: subprocess.Popen, workers: int, limit: float = 120.0) -> None:
    """Wait for the readiness the test's Ctrl-C relies on, read from the kernel, not guessed from a delay: the sweep
    catches SIGINT (Python's handler) and each of its `workers` pool processes ignores it (the pool initializer).

    Why: parts on disk prove that some worker ran, not that every worker reached its initializer; on a loaded
    machine a freshly forked worker can wait for the CPU long enough that the group's SIGINT finds it still with
    Python's default handler, and its KeyboardInterrupt traceback failed the test. Without /proc (not Linux) only
    the parts are waited for."""
    if not Path(f"/proc/{proc.pid}/status").exists():
        return
    deadline = time.monotonic() + limit
    while True:
        assert proc.poll() is None, proc.communicate()
        caught = _signal_masks(proc.pid).get("SigCgt", 0) & SIGINT_BIT
        pool = [_signal_masks(c).get("SigIgn", 0) & SIGINT_BIT for c in _children(proc.pid)]
        if caught and len(pool) >= workers and all(pool):
            return
        assert time.monotonic() < deadline, f"the sweep's workers never ignored SIGINT: {pool}"
        time.sleep(0.02)


def _group_gone(pgid: int, limit: float = 15.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_sigkill_midway_then_the_same_command_runs_only_the_missing_runs(folder):
    store = ResultStore(folder / "store")
    proc = _start_sweep(folder)
    _wait_for_parts(store, proc, 4)
    os.kill(proc.pid, signal.SIGKILL)  # the sweep itself, with no chance to clean up
    proc.wait()
    assert _group_gone(proc.pid)  # its pool workers die with it instead of waiting forever
    before = store.done_keys()
    assert 4 <= len(before) < TOTAL, "the sweep finished before the kill: make it bigger"
    for key in before:  # every part on disk is complete
        assert len(pd.read_parquet(store.part(key))) == 20

    result = subprocess.run(
        [sys.executable, "-m", "wom_sim", "sweep", "kill.yaml", "--workers", "2", "--out", "store"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"{TOTAL - len(before)} runs in" in result.stderr and f"{len(before)} reused" in result.stderr
    keys = set(store.tasks()["run_key"])
    assert len(keys) == TOTAL and store.done_keys() == keys  # every run exactly once (one part per key)
    assert not list(store.runs.glob(".*"))
    assert len(pd.read_parquet(folder / "store" / "outcomes.parquet")) == TOTAL


def test_sigint_stops_cleanly_and_leaves_a_valid_store(folder):
    store = ResultStore(folder / "store")
    # 300 runs, so that a loaded machine cannot finish the sweep between the third part and the signal; the
    # sweep is interrupted, so its size costs nothing.
    proc = _start_sweep(folder, replications=30)
    _wait_for_parts(store, proc, 3)  # the run loop is running ...
    _wait_until_ctrl_c_is_handled(proc, workers=2)  # ... and every process of the group is ready for Ctrl-C
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    text = err.decode()
    assert "interrupted:" in text and "run the same command to resume" in text and "Traceback" not in text
    assert _group_gone(proc.pid)  # no worker left behind
    for key in store.done_keys():
        assert len(pd.read_parquet(store.part(key))) == 20
    assert not list(store.runs.glob(".*"))


# ------------------------------------------------------------------------------------------------ decisions
def test_compare_names_treatments_leads_with_verdicts_and_fits_the_terminal(folder, capsys):
    out = folder / "named"
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli,
        [
            str(a)
            for a in (
                "compare",
                folder / "tiny.yaml",
                f"tv={folder / 'ads.yaml'}",
                "wom.contact_prob=0.2",
                "--label",
                "tv-again",
                "--label",
                "chatty",
                "--outcome",
                "min:brand",
                "--outcome",
                "payback",
                "-r",
                3,
                "--workers",
                0,
                "--out",
                out,
                "--details",
            )
        ],  # fmt: skip
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.lstrip().startswith("Verdicts against tiny") and text.index("Ranking") < text.index("chatty vs tiny")
    assert "tv-again vs tiny" in text  # --label wins over NAME=
    assert max(len(line) for line in text.splitlines()) <= 80  # every line, the tables too
    assert "left out to fit 80 characters" in text  # --details columns that did not fit are named
    # The deepest brand drop is a relative change in %, beside shares' changes in points: the note says both.
    assert "pts = percentage points (shares, rates) or NPS points; % = a relative change" in " ".join(text.split())
    verdicts = pd.read_csv(out / "verdicts.csv")
    assert set(verdicts["treatment"]) == {"tv-again", "chatty"} and verdicts["sentence"].str.len().min() > 40
    uplift = pd.read_csv(out / "uplift.csv")
    assert set(uplift["outcome"]) == {"min:brand", "payback", "roi"}
    pairs = pd.read_csv(out / "pairwise.csv")
    assert len(pairs) == 1 and "Holm" in pairs["adjustment"].iloc[0]
    capsys.readouterr()
    print_comparison(load_comparison(out, ["adoption_share", "min:brand", "payback"]), True, 200)  # a wide terminal
    wide = capsys.readouterr().out
    assert "tv-again vs tiny" in wide and "width ratio" in wide
    assert "left out" not in wide and "pts" in wide  # a share changes in percentage points


def test_bad_outcome_and_too_many_labels_are_one_line(folder):
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.9", "--outcome", "best:profit"],
                     ["--outcome best:profit", "allowed"])  # fmt: skip
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.9", "--label", "a", "--label", "b"],
                     ["--label", "2 labels for 1 treatments"])  # fmt: skip


def test_an_outcome_at_a_tick_past_the_horizon_is_one_line_before_anything_runs(folder):
    # tiny.yaml has 12 ticks (0-11): at:12 would be NaN in every run, so it is refused before the first run.
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.9", "--outcome", "at:12:profit"],
                     ["--outcome at:12:profit", "0-11", "12 ticks"])  # fmt: skip
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.9", "--outcome", "at:-1:profit"],
                     ["--outcome at:-1:profit", "tick T >= 0"])  # fmt: skip
    spec = folder / "late.yaml"
    spec.write_text(GRID.replace("[adoption_share, profit]", "[adoption_share, 'at:8:customers']"), encoding="utf-8")
    _assert_rejected(folder, ["sweep", spec, "--ticks", 8], [spec.name, "metrics", "at:8:customers", "0-7"])


def test_sweep_options_change_the_spec_and_relative_metrics_need_a_baseline(folder):
    out = folder / "quick"
    result = invoke("sweep", folder / "grid.yaml", "--set", "network.n=200", "-r", 1, "--ticks", 8, "--workers", 0,
                    "--out", out, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert len(outcomes) == 4 and set(outcomes["replication"]) == {0}  # 4 points x 1 replication
    spec = json.loads((out / "manifest.json").read_text())["spec"]["spec"]
    assert spec["set"] == {"network.n": 200, "ticks": 8} and spec["replications"] == 1
    relative = (
        "name: rel\nscenario: ads.yaml\ndesign: grid\nparameters:\n  interventions.0.budget_per_tick: [50, 400]\n"
        "replications: 2\nmetrics: [roi, incremental:profit]\n"
    )
    (folder / "rel.yaml").write_text(relative, encoding="utf-8")
    _assert_rejected(folder, ["sweep", folder / "rel.yaml"], ["roi", "baseline"])
    (folder / "rel.yaml").write_text(relative + "baseline: {interventions: []}\n", encoding="utf-8")
    done = invoke("sweep", folder / "rel.yaml", "--ticks", 8, "--workers", 0, "--out", folder / "rel", "-q")
    assert done.exit_code == 0, done.output
    points = pd.read_csv(folder / "rel" / "points.csv").set_index("interventions.0.budget_per_tick")
    assert len(points) == 2 and (points["n"] == 2).all()  # the baseline runs are no design point
    # The campaign's own spend is its budget x 8 ticks in every run, so each run's ROI is its extra profit / it.
    for budget, row in points.iterrows():
        assert row["roi_mean"] == pytest.approx(row["incremental:profit_mean"] / (budget * 8))


def test_bad_by_is_one_line_before_any_run(folder):
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.9", "--by", "area"],
                     ["--by", "'area'", "allowed here: segment, acquired_by, is_kol"])  # fmt: skip
    _assert_rejected(folder, ["compare", folder / "tiny.yaml", "brand.quality=0.9", "--by", "brand"],
                     ["brand needs competitors"])  # fmt: skip


def test_the_by_group_table_fits_100_columns_biggest_change_first(folder, capsys):
    # The printing alone (the figures of a full `compare --by` cost seconds and are tested above).
    from wom_sim.experiment import compare

    c = compare(folder / "tiny.yaml", folder / "ads.yaml", replications=2, by="acquired_by")
    print_groups(c, 100)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("ads vs tiny by acquired_by (2 paired replications)")
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["acquired_by", "metric"])
    assert lines[header].split()[2:] == ["tiny", "ads", "change", "(95%", "CI)"]  # base, treatment, change
    assert all(len(line) <= 100 for line in lines)
    first_group = lines[header + 1].split()[0]
    moved = c.by_group[(c.by_group["uplift"] != 0) & c.by_group["uplift"].notna()]
    assert first_group == moved["group"].iloc[0]  # the table's order: the biggest change's group leads


@pytest.mark.parametrize(
    "parameter",
    ["kols.select.k: [3, 400]", "interventions.0.select.k: [3, 400]"],
    ids=["kols", "kol_campaign"],
)
def test_sweep_refuses_more_kols_than_people_before_any_run(folder, parameter):
    # a design point hiring more KOLs than the graph has people failed only when its run started, after every
    # point before it had run
    campaign = "interventions:\n  - {kind: kol_campaign, select: {by: degree, k: 3}}\n"
    (folder / "camp.yaml").write_text("extends: tiny.yaml\n" + campaign, encoding="utf-8")
    spec = f"name: big\nscenario: camp.yaml\ndesign: grid\nparameters:\n  {parameter}\nmetrics: [adoption_share]\n"
    (folder / "big.yaml").write_text(spec, encoding="utf-8")
    out = folder / "big"
    result = invoke("sweep", folder / "big.yaml", "--workers", 0, "--out", out, "-q")
    assert result.exit_code == 2, result.output
    assert (
        "design point 1" in result.stderr
        and "select.k" in result.stderr
        and "= 400" in result.stderr
        and "300 people" in result.stderr
    )
    assert not out.exists()


def test_long_arm_names_go_on_two_header_lines_before_outcome_labels_are_cut():
    from wom_sim.cli.experiments import fit_rows

    rows = [
        {"outcome": "Positive WOM messages", "competitor_price_cut": "1,508", "competitor_price_match": "1,529",
         "change (95% CI)": "+21 (-64 to +105)"},
        {"outcome": "Share of positive voice", "competitor_price_cut": "57.2%", "competitor_price_match": "57.3%",
         "change (95% CI)": "+0.1 pts (-0.1 to +0.2)"},
    ]  # fmt: skip
    lines = fit_rows(rows, 80, keep=4)  # one header line needs 98 characters
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["competitor_", "competitor_"] and lines[1].split()[1:3] == ["price_cut", "price_match"]
    assert "Positive WOM messages" in lines[2] and "Share of positive voice" in lines[3]  # labels whole
    assert len(fit_rows(rows, 200, keep=4)) == 3  # room enough: one header line


def test_a_payback_reached_in_some_runs_only_says_how_many_paid_back():
    # The mean payback is over the runs that paid back: "week 18 (n/a to n/a)" of one run in three read as the
    # answer. The row now says how many runs paid back.
    from types import SimpleNamespace

    from wom_sim.cli.experiments import compare_rows

    nan = float("nan")
    row = {"treatment": "kols", "base_mean": nan, "treatment_mean": 18.0, "uplift": 18.0, "uplift_pct": nan,
           "unpaired_ci_low": nan, "unpaired_ci_high": nan, "width_ratio": nan, "scale": "tick"}  # fmt: skip
    profit = {**row, "outcome": "profit", "base_mean": 1e3, "treatment_mean": 2e3, "uplift": 1e3, "ci_low": 5e2,
              "ci_high": 1.5e3, "n": 3}  # fmt: skip
    cases = [
        ({"uplift": 18.0, "ci_low": nan, "ci_high": nan, "n": 1}, "week 18 (1 of 3 runs paid back) "),
        ({"uplift": 15.0, "ci_low": 6.0, "ci_high": 19.0, "n": 2}, "week 15 (6 to 19; 2 of 3 runs paid back) "),
        ({"uplift": nan, "ci_low": nan, "ci_high": nan, "n": 0}, "none of 3 runs paid back "),
        ({"uplift": 12.0, "ci_low": 10.0, "ci_high": 14.0, "n": 3}, "week 12 (10 to 14) "),  # all paid back
    ]
    for payback, shown in cases:
        table = pd.DataFrame([profit, {**row, "outcome": "payback", **payback}])
        result = SimpleNamespace(uplift=table, tick_unit="week", currency=None, base="baseline")
        rows = compare_rows(result, "kols", details=False)
        assert rows[-1]["change (95% CI)"] == shown


def test_one_replication_says_it_has_no_error_bar(folder):
    result = invoke("run", folder / "tiny.yaml", "-r", 1, "--workers", 0, "--ticks", 3, "--out", folder / "one")
    assert result.exit_code == 0, result.output
    assert "tiny: 1 replication, 3 weeks," in result.stdout
    assert "One replication has no error bar: use -r 2 or more for a 95% CI (-r 30 for a decision)." in result.stdout


def test_compare_says_why_the_verdicts_payback_and_the_tables_can_differ(tmp_path):
    # referral_program: "payback in week 16" in the verdict and the ranking, "Payback week: week 14 (8 to 20)" in
    # its table (the mean of each run's payback) with no word on why; the report had the same two numbers.
    import html
    import re

    from wom_sim.analysis.verdicts import payback_note
    from wom_sim.report.html import build_report

    out = tmp_path / "cmp"
    args = ["compare", "baseline", "referral_program", "-r", "2", "--set", "network.n=200", "--ticks", "20",
            "--workers", "0", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert " ".join(payback_note("week").split()) in " ".join(result.stdout.split())
    page = html.unescape(re.sub(r"<[^>]+>", " ", build_report(out).read_text(encoding="utf-8")))
    assert payback_note("week") in " ".join(page.split())
    assert payback_note("month").startswith("Payback month in the tables") and "a few months" in payback_note("month")


def test_a_treatment_that_only_turns_up_a_free_key_is_warned_about_before_it_runs(folder):
    # `compare BASE advertising.reach=0.2` "pays" at no spend: the same warning as a sweep over the key, first.
    result = invoke("compare", folder / "tiny.yaml", "advertising.reach=0.2", "-r", 2, "--workers", 0,
                    "--out", folder / "cmp")  # fmt: skip
    assert result.exit_code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("warning: advertising.reach costs nothing in the model") and "budget_per_tick" in first
