"""The benchmark code at tiny sizes: tables, ratios, profile, the CLI. A smoke test, not a timing assertion."""

from __future__ import annotations

import json
import sys

import click
import pytest
from click.testing import CliRunner

import wom_sim.sim.dynamics as dynamics
from wom_sim import bench
from wom_sim.cli import cli
from wom_sim.cli.bench import _measuring_args, parse_sizes
from wom_sim.experiment.executors import pool_context
from wom_sim.sim.model import WomModel

SIZES = (1500, 2000)
STEPS = ("advertise", "emit_wom", "receive_wom", "purchase", "experience", "update_loyalty", "churn", "tick_metrics",
         "random draws", "other")  # fmt: skip


@pytest.fixture(scope="module")
def result() -> bench.BenchResult:
    # Each size in its own subprocess, as in a real run; a tiny end-to-end `wom-sim run` too.
    return bench.run_benchmark(SIZES, ticks=2, warmup=2, profile_ticks=2, e2e_n=2000, e2e_ticks=2, command="test")


def ratio(cell: str) -> float:
    assert cell.endswith("x"), cell
    return float(cell[:-1].replace(",", ""))


def test_size_table_has_a_row_per_size_and_positive_ratios(result):
    rows = bench.size_rows(result)
    assert [list(row) for row in rows] == [[name for name, _ in bench.SIZE_COLUMNS]] * len(SIZES)
    assert [row["N"] for row in rows] == [f"{n:,}" for n in SIZES]
    for row, r in zip(rows, result.sizes, strict=True):
        assert ratio(row["kernel / mat-vec"]) > 0 and ratio(row["kernel speed-up"]) > 0
        assert r.kernel_ms > 0 and r.matvec_ms > 0 and r.reference_ms > 0 and r.peak_rss_mb > 0
        # Today's kernel is timed beside the new one, tick for tick, in the same process.
        assert len(r.todays_ticks_ms) == r.timed_ticks and r.todays_ms > 0 and ratio(row["vs today's"]) > 0
        assert r.edges > 0 and r.build_s >= 0
        assert len(r.kernel_ticks_ms) == r.warmup + r.timed_ticks == 4
        assert len(r.reference_ticks_ms) == 2  # every timed tick is timed at these sizes
    table = bench.markdown_table(rows)
    assert table.count("\n") == 2 + len(SIZES)


def test_targets_are_named_and_judged_only_at_their_sizes(result):
    rows = bench.target_rows(result)
    assert [list(row) for row in rows] == [list(bench.TARGET_COLUMNS)] * 8
    # The targets are at 5k, 100k and 1M: nothing at these sizes can pass or miss them.
    assert [row["result"] for row in rows] == ["n/a"] * 8
    e2e = result.end_to_end
    assert e2e.returncode == 0, e2e.error
    assert e2e.wall_s > 0 and e2e.cpu_s > 0 and e2e.peak_rss_mb > 0
    assert "wom-sim run" in e2e.command and "network.n=2000" in e2e.command
    assert "s wall" in rows[6]["measured"] and "GB" in rows[7]["measured"]


def test_two_rivals_are_timed_beside_one_brand_with_memory_per_person(result):
    rows = bench.rivals_rows(result)
    assert [row["N"] for row in rows] == [f"{n:,}" for n in SIZES]
    for row, r in zip(rows, result.sizes, strict=True):
        assert len(r.rivals_ticks_ms) == r.timed_ticks and ratio(row["two rivals / one brand"]) > 0
        # The market adds a few bytes per person and rival on top of the population's arrays (docs/performance.md).
        assert 0 < r.market_bytes_per_person < r.population_bytes_per_person


def test_result_round_trips_through_json(result):
    data = json.loads(result.to_json())
    assert [s["n"] for s in data["sizes"]] == list(SIZES)
    again = bench.BenchResult.from_json(result.to_json())
    assert again == result
    assert bench.size_rows(again) == bench.size_rows(result) and bench.target_rows(again) == bench.target_rows(result)


def test_the_huge_run_is_a_target_row_that_passes_only_when_it_completes_at_ten_million(result):
    # `--huge` adds one end-to-end run of ten million people (minutes): judged here on made-up runs.
    def rows(run: bench.EndToEnd) -> list[dict[str, str]]:
        again = bench.BenchResult.from_json(bench.BenchResult(**{**vars(result), "huge": run}).to_json())
        assert again.huge == run
        return [row for row in bench.target_rows(again) if "completes" in row["target"]]

    done = bench.EndToEnd(bench.HUGE_N, 52, "wom-sim run", 300.0, 290.0, 9_100.0, 0)
    [row] = rows(done)
    assert row["result"] == "PASS" and "300 s wall" in row["measured"] and "9.1 GB" in row["measured"]
    [row] = rows(bench.EndToEnd(bench.HUGE_N, 52, "wom-sim run", 30.0, 29.0, 9_100.0, -9, "Killed"))
    assert row["result"] == "MISS" and "Killed" in row["measured"]
    [row] = rows(bench.EndToEnd(20_000, 52, "wom-sim run", 3.0, 2.9, 300.0, 0))  # a smaller run judges nothing
    assert row["result"] == "n/a"
    assert not [row for row in bench.target_rows(result) if "completes" in row["target"]]  # not asked for


def test_profile_covers_the_steps_of_the_tick(result):
    profile = result.sizes[-1].profile
    for step in STEPS:
        assert step in profile, step
    assert "emit_wom/deliver" in profile
    assert all(ms >= 0 for ms in profile.values())
    rows = bench.profile_rows(profile, result.sizes[-1].profile_total_ms)
    assert rows[-1]["step"] == "tick (median)"
    # Every top-level step is timed inside the tick, so together with "other" they make up the profiled tick.
    top = sum(ms for path, ms in profile.items() if "/" not in path)
    assert top == pytest.approx(result.sizes[-1].profile_total_ms, rel=0.25)
    assert bench.largest_profiled(result) is result.sizes[-1]


def test_profiling_patches_nothing_and_removes_its_hook():
    originals = dict(vars(dynamics))
    r = bench.measure_size(800, ticks=1, warmup=1, profile_ticks=1)
    assert {k: v for k, v in vars(dynamics).items() if k in originals} == originals
    assert sys.getprofile() is None
    assert r.profile and r.reference_note == "not timed"
    assert "emit_wom" in r.profile and "random draws" in r.profile


def test_reference_plan_times_fewer_ticks_as_the_reference_gets_slow():
    assert bench.reference_plan(10_000, 5, 26) == (5, 26)
    assert bench.reference_plan(100_000, 5, 26) == (2, 26)
    assert bench.reference_plan(bench.REFERENCE_MAX_N + 1, 5, 26) == (0, 0)


def test_parse_sizes():
    assert parse_sizes("10000, 100k,1M,2_500") == (10_000, 100_000, 1_000_000, 2_500)
    for bad in ("", "ten", "50", "1e3,x"):
        with pytest.raises(click.BadParameter):
            parse_sizes(bad)


def test_docs_show_the_command_without_its_json_copy():
    assert _measuring_args(["bench", "--write-docs", "--json", "x.json", "--repeat", "3"]) == [
        "--write-docs", "--repeat", "3"
    ]  # fmt: skip
    assert _measuring_args(["--json=x.json", "--quick"]) == ["--quick"]


def test_cli_prints_the_tables(tmp_path):
    raw = tmp_path / "bench.json"
    args = ["bench", "--sizes", "1200", "--ticks", "1", "--warmup", "1", "--no-reference", "--json", str(raw)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "| N | edges (stored)" in res.output and "| target | goal | measured | result |" in res.output
    assert "Where the time goes at N = 1,200" in res.output
    # At 1,200 people no size-bound target is measured; only the executor's throughput
    # (always 5,000-person runs) gets a verdict, and it may pass or miss with the machine's load.
    targets = [ln for ln in res.output.splitlines() if ln.startswith("| ") and ("| >= " in ln or "| <= " in ln)]
    assert len(targets) == 9, targets
    for row in targets:
        if row.startswith("| runs/min through the executor"):
            assert row.endswith("| PASS |") or row.endswith("| MISS |"), row
        else:
            assert row.endswith("| not measured | n/a |"), row
    saved = bench.BenchResult.from_json(raw.read_text())
    assert [s.n for s in saved.sizes] == [1200] and saved.meta["command"].startswith("wom-sim bench")
    bad = CliRunner().invoke(cli, ["bench", "--sizes", "lots"])
    assert bad.exit_code == 2 and "--sizes" in bad.output


def test_json_that_would_replace_a_file_of_the_users_is_refused_before_measuring(tmp_path):
    mine = tmp_path / "notes.json"
    mine.write_text('{"mine": true}')
    res = CliRunner().invoke(cli, ["bench", "--sizes", "1200", "--ticks", "1", "--json", str(mine)])
    assert res.exit_code == 2 and "exists and is not a file wom-sim wrote" in res.output
    assert "| N |" not in res.output and mine.read_text() == '{"mine": true}'  # nothing measured or written


def test_repeated_runs_combine_into_medians_with_each_runs_ratios():
    def run(kernel: float, matvec: float, reference: float) -> bench.SizeResult:
        return bench.SizeResult(
            n=100, edges=10, generator="networkx", build_s=0.1, setup_s=0.1, kernel_ms=kernel,
            kernel_ticks_ms=[kernel], kernel_wall_ms=kernel, warmup=1, timed_ticks=1, matvec_ms=matvec,
            matvec_runs_ms=[matvec], peak_rss_mb=100.0, reference_ms=reference, kernel_beside_reference_ms=kernel,
            profile={"emit_wom": kernel / 2}, profile_total_ms=kernel,
        )  # fmt: skip

    combined = bench.combine_runs([run(10, 2, 1000), run(30, 5, 2000), run(20, 10, 1500)])
    assert combined.repeats == 3 and combined.kernel_ms == 20 and combined.matvec_ms == 5
    assert combined.kernel_over_matvec_runs == [5.0, 6.0, 2.0] and combined.kernel_over_matvec == 5.0
    assert combined.speedup_runs == pytest.approx([100.0, 2000 / 30, 75.0]) and combined.speedup == 75.0
    assert combined.profile == {"emit_wom": 10.0} and combined.kernel_ticks_ms == [20]
    row = bench.size_rows(bench.BenchResult([combined], None, {}))[0]
    assert row["kernel / mat-vec"] == "5.0x (2.0-6.0)" and row["kernel speed-up"] == "75x (67-100)"
    e2e = [bench.EndToEnd(1, 1, "wom-sim run", wall, wall / 2, 500.0, 0) for wall in (30.0, 10.0, 20.0)]
    middle = bench.combine_end_to_end(e2e)
    assert middle.wall_s == 20.0 and middle.wall_runs_s == [30.0, 10.0, 20.0]


def test_profiled_model_runs_on_its_own_streams_and_draws_the_same_numbers():
    sc = bench.bench_scenario(600, 6)
    plain, profiled = WomModel(sc, seed=3), WomModel(sc, seed=3)
    streams = profiled.streams
    for _ in range(3):
        plain.step()
    bench.profile_steps(profiled, ticks=3)
    assert profiled.streams is streams  # restored after the profiled ticks
    assert plain.metrics_frame().equals(profiled.metrics_frame())


def test_throughput_runs_the_executor_with_one_and_two_workers():
    # Tiny runs (300 people, 3 ticks): the measurement's plumbing, not its speed. The stored parts are checked
    # identical for both worker counts inside `measure_throughput`.
    tp = bench.measure_throughput(n=300, ticks=3, runs=3, rounds=1)
    assert tp.workers == [1, 2] and len(tp.load) == 2
    # Forked workers are this process's children and their CPU is counted; forkserver ones (a threaded caller) not.
    assert tp.cpu_counted == (pool_context().get_start_method() == "fork")
    assert all(tp.runs_per_min(w) > 0 and (tp.cpu_per_run_s(w) or 0) >= 0 for w in tp.workers)
    result = bench.BenchResult([], None, {}, [], tp)
    rows = bench.throughput_rows(result)
    assert [row["workers"] for row in rows] == ["1", "2"] and list(rows[0]) == list(bench.THROUGHPUT_COLUMNS)
    target = bench.target_rows(result)[-1]
    assert target["target"].startswith("runs/min through the executor") and target["goal"] == ">= 600"
    assert target["result"] == "n/a"  # judged only for the 5,000-person, 104-tick baseline
    again = bench.BenchResult.from_json(result.to_json())
    assert again.throughput == tp and bench.throughput_rows(again) == rows


def test_throughput_without_the_workers_cpu_says_so_instead_of_a_rate():
    # Forkserver workers' CPU is not reaped by this process: a CPU rate from this process alone would be some 20x
    # too high (CI printed 11 ms per run and 10,804 runs/min from CPU), so the tables say it was not counted.
    tp = bench.Throughput(n=5_000, ticks=104, runs=24, rounds=1, cores=2, wall_s={"1": [6.0], "2": [3.0]},
                          cpu_s={"1": [0.3], "2": [0.3]}, load=[1.0, 1.0], cpu_counted=False)  # fmt: skip
    assert tp.cpu_per_run_s(2) is None and tp.idle_runs_per_min(2) is None
    result = bench.BenchResult([], None, {}, [], tp)
    for row in bench.throughput_rows(result):
        assert row["CPU ms per run"] == row["runs/min from CPU"] == "workers' CPU not counted (forkserver)"
    target = bench.target_rows(result)[-1]
    assert target["measured"] == "480 wall (0.80x the goal; workers' CPU not counted (forkserver))"
    assert target["result"] == "MISS"
    counted = bench.Throughput(**{**tp.__dict__, "cpu_counted": True})
    assert counted.cpu_per_run_s(2) == 0.3 / 24 and counted.idle_runs_per_min(2) == 60 * 2 / (0.3 / 24)
