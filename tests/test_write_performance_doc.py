"""experiments/tools/write_performance_doc.py: the benchmark's sections of docs/performance.md, and only those."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from wom_sim import bench

TOOL = Path(__file__).resolve().parents[1] / "experiments" / "tools" / "write_performance_doc.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("write_performance_doc", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def result() -> bench.BenchResult:
    # One tiny size in its own subprocess, with the reference and a profile: every part the sections describe.
    # And a tiny executor throughput measurement (300 people, 3 ticks, 2 runs per worker count, one round).
    tiny = {"throughput_runs": 2, "throughput_rounds": 1, "throughput_n": 300, "throughput_ticks": 3}
    return bench.run_benchmark((1500,), ticks=2, warmup=2, profile_ticks=2, e2e_n=None, command="test", **tiny)


def test_write_docs_replaces_only_its_sections(result, tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(
        "# Performance\n\nIntro.\n\n## Sweeps\n\nsomeone else's text\n\n"
        f"## {tool.SPEED_SECTION}\n\nold numbers\n\n## {tool.PROFILE_SECTION}\n\nold profile\n\n"
        "## Memory of file graphs\n\nmore of someone else's text\n"
    )
    tool.write_docs(result, doc)
    text = doc.read_text()
    assert "old numbers" not in text and "old profile" not in text
    assert "someone else's text" in text and "more of someone else's text" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Sweeps", f"## {tool.SPEED_SECTION}", f"## {tool.PROFILE_SECTION}",
                        "## Memory of file graphs"]  # fmt: skip
    assert "| N | edges (stored)" in text and "| target | goal | measured | result |" in text
    assert "| step | ms per tick | share of tick |" in text and "reference_model.py" in text
    assert "| workers | runs/min (wall) |" in text and "Runs per minute through the experiment executor" in text
    tool.write_docs(result, doc)
    assert doc.read_text() == text  # idempotent
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_write_docs_creates_the_page(result, tmp_path):
    doc = tmp_path / "docs" / "performance.md"
    tool.write_docs(result, doc)
    assert doc.read_text().startswith("# Performance")


def test_sections_come_out_the_same_from_saved_json(result):
    again = bench.BenchResult.from_json(result.to_json())
    assert tool.speed_section(again) == tool.speed_section(result)
    assert tool.profile_section(again) == tool.profile_section(result)
    assert "Where" not in tool.profile_section(result)  # the heading is added by write_docs


def test_command_writes_the_page_from_a_saved_result(result, tmp_path):
    saved, doc = tmp_path / "bench.json", tmp_path / "performance.md"
    saved.write_text(result.to_json())
    res = CliRunner().invoke(tool.main, ["--from-json", str(saved), "--docs", str(doc)])
    assert res.exit_code == 0, res.output
    assert "| N | edges (stored)" in res.output and f"## {tool.SPEED_SECTION}" in doc.read_text()


def test_page_shows_the_measuring_options_only():
    shown = tool._shown_args(["--repeat", "3", "--docs", "x.md", "--json", "b.json", "--quick"])
    assert shown == ["--repeat", "3", "--quick"]
    assert tool._shown_args(["--docs=x.md", "--no-reference"]) == ["--no-reference"]
