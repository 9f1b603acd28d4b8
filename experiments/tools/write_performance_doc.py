"""Write the benchmark into docs/performance.md: its "Kernel speed and memory" and "Where the time goes" sections.

    python experiments/tools/write_performance_doc.py --repeat 3          # measure (the options of `wom-sim bench`)
    python experiments/tools/write_performance_doc.py --from-json b.json  # a saved `wom-sim bench --json` result

Only those two sections are replaced (atomically); every other section of the page is left as it is. Needs the
package importable (the README's editable install).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import click

from wom_sim.bench import (
    BA_M,
    BenchResult,
    largest_profiled,
    markdown_table,
    profile_rows,
    rivals_rows,
    self_times,
    size_rows,
    target_rows,
    throughput_rows,
)
from wom_sim.bench.measure import REFERENCE_FEW_TICKS
from wom_sim.bench.tables import format_ms
from wom_sim.cli.bench import _measuring_args, echo_tables, measure, measuring_options
from wom_sim.output import atomic_file

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "performance.md"
SPEED_SECTION = "Kernel speed and memory"
PROFILE_SECTION = "Where the time goes"


def speed_section(result: BenchResult) -> str:
    """Body of the "Kernel speed and memory" section of docs/performance.md."""
    m = result.meta
    openblas = ", ".join(f"{k}={v}" for k, v in m["openblas_env"].items()) or "not set"
    big = max(result.sizes, key=lambda r: r.n) if result.sizes else None
    growth = (
        f" (at N = {big.n:,}: {big.kernel_ticks_ms[1]:.0f} ms at tick 2, {big.kernel_ms:.0f} ms at ticks "
        f"{big.warmup + 1}-{big.warmup + big.timed_ticks})"
        if big and len(big.kernel_ticks_ms) > 1
        else ""
    )
    repeats = (
        f"The whole series ran {m['repeat']} times in a row: every number is the median of the {m['repeat']} "
        "runs, and a ratio's range over the runs is in brackets (CPU times too move with the load here, by tens "
        "of percent between runs; the ratios, each measured side by side within a run, less)."
        if m.get("repeat", 1) > 1
        else "One run: CPU times here move by tens of percent with the load; `--repeat 3` gives medians and ranges."
    )
    lines = [
        f"Measured with `{m['command'] or 'wom-sim bench'}` on {m['date'][:10]}: {m['cpu']}, {m['cores']} cores "
        f"(shared with other jobs: load average {m['load_before'][0]:.1f} before, {m['load_after'][0]:.1f} after); "
        f"Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE "
        f"{openblas} (scipy's CSR mat-vec does not use BLAS).",
        "",
        f"- Scenario: {Path(m['scenario']).name} on a Barabási-Albert graph with m = {BA_M}, seed {m['seed']}.",
        f"- **kernel**: one full tick, `WomModel.step` (draws, steps 1-10, metrics row, DataCollector); median CPU "
        f"time of {m['ticks']} ticks after {m['warmup']} warm-up ticks. A tick's cost grows with adoption and word "
        f"of mouth{growth}; ticks from the middle of a 52-tick run cost about its median tick.",
        '- **today\'s kernel**: the reference tick of `dynamics.py` (`WomModel.kernel = "reference"`, what every '
        "run did before `sim/fast.py`), on a twin model of the same graph and seed warmed up to the same tick; each "
        "timed round runs one tick of each, the order alternating, so both see the same load and the same state "
        "(the two are bit-identical). *vs today's* = today's median over the kernel's median beside it.",
        f"- **mat-vec**: one `graph.csr() @ x` on the same graph, timed {m['matvec_per_tick']} times right after each "
        "timed kernel tick (so both see the same load), median: the memory-bandwidth floor of a step that touches "
        "every edge once.",
        "- **reference**: the per-agent model of `wom_sim/validation/reference_model.py` (one Mesa agent per person, "
        "Python "
        "loops) on the same graph and scenario after the same warm-up, each timed tick beside one tick of a "
        "kernel model warmed up alike (same tick numbers, same load); every timed tick up to 20k people, "
        f"{REFERENCE_FEW_TICKS} at 100k, none above. Speed-up = reference median over that kernel median.",
        "- **peak RSS**: each size runs in a fresh Python process; its peak after building the graph, the "
        "population and the warm-up ticks (before the mat-vec's matrix and the reference exist).",
        "- **graph build**: CPU seconds of `build_graph` (below `network.fast_threshold` = 100k networkx's "
        "Barabási-Albert algorithm and draws without its graph object, the vectorised generator from there).",
        "- Times are CPU time (`time.process_time`): on a shared machine wall time measures the neighbours. The "
        "end-to-end run is timed on the wall clock, as its target is, with its CPU time beside it.",
        "- **two rivals**: the same scenario with two competitors (`wom_sim.bench.measure.RIVALS`: `acme` "
        "advertises at 0.1 with 3% of the market, `budget` has quality 0.7 and price 0.85 with 2%) beside the "
        "one-brand scenario, on the same graph, KOLs and seed, warmed up alike; each timed round runs one tick of "
        "each, the order alternating; *two rivals / one brand* is the median of the rounds' ratios.",
        "- **memory per person**: bytes per person of lasting state, the `nbytes` of the `Population` arrays "
        "(one brand) plus those of the `Market` (rivals' per-person and per-rival state) over N; the peak RSS "
        "column above adds the graph and a tick's temporaries.",
        f"- {repeats}",
        "",
        markdown_table(size_rows(result)),
        markdown_table(target_rows(result)),
    ]
    if rivals_rows(result):
        lines.append(markdown_table(rivals_rows(result)))
    if result.end_to_end:
        lines.append(f"End to end: `{result.end_to_end.command}` (writes the tables and the dashboard too).\n")
    if result.huge:
        lines.append(f"Ten million people (`--huge`): `{result.huge.command}`, once, after the sizes; its wall time "
                     "on a shared machine measures the neighbours too, its CPU time and peak RSS less so.\n")  # fmt: skip
    tp = result.throughput
    if tp is not None:
        lines += [
            f"**Runs per minute through the experiment executor** (`wom_sim.bench.measure_throughput`): {tp.runs} "
            f"replications of the baseline at {tp.n:,} people for {tp.ticks} ticks, each with its own seed, graph "
            "and population, through `execute` on a local process pool into a fresh result store, with 1 and 2 "
            f"workers interleaved, {tp.rounds} round(s), medians (load average {min(tp.load):.1f}-"
            f"{max(tp.load):.1f} before the rounds). Pool start, graph build, population and history burn-in, "
            "the ticks, the metrics frame, the result's trip back and one Parquet part per run are all inside the "
            "time, and the stored parts are checked identical for every worker count. *runs/min from CPU* = "
            "min(workers, cores) x 60 / (CPU seconds per run of the workers and this process): what an idle "
            "machine would give; the wall-clock rate on a shared machine also measures the neighbours.",
            "",
            markdown_table(throughput_rows(result)),
        ]
    return "\n".join(lines)


def profile_section(result: BenchResult) -> str | None:
    """Body of the "Where the time goes" section: the per-step profile of the largest size measured."""
    r = largest_profiled(result)
    if r is None:
        return None
    steps = {k: v for k, v in r.profile.items() if "/" not in k and k != "other"}
    first = max(steps, key=steps.get)
    edge_ms = sum(v for k, v in r.profile.items() if k.rsplit("/", 1)[-1] == "deliver")
    runs = f" in each of {r.repeats} runs, then the median of the runs" if r.repeats > 1 else ""
    hot = ", ".join(f"`{k.replace('/', ' / ')}` {format_ms(v)} ms" for k, v in self_times(r.profile)[:6])
    lines = [
        f"One tick at N = {r.n:,} ({r.edges:,} stored edges), by step of `WomModel.step`: median CPU ms over "
        f"{result.meta['profile_ticks']} ticks right after the timed ones (ticks {r.warmup + r.timed_ticks + 1}-"
        f"{r.warmup + r.timed_ticks + result.meta['profile_ticks']}){runs}, measured by "
        "`wom_sim.bench.profile_steps`: a profile hook times every function of `dynamics.py`, `fast.py` and "
        "`metrics.py` "
        "(no module global is patched) and timing proxies in the model's streams dict time its random draws "
        "(the hook's own cost is inside the times; sub-steps under 0.5% of the tick are left out). One mat-vec on "
        "this graph takes "
        f"{format_ms(r.matvec_ms)} ms.",
        "",
        markdown_table(profile_rows(r.profile, r.profile_total_ms)),
        f"The costliest step is `{first}` ({format_ms(steps[first])} ms, {steps[first] / r.profile_total_ms:.0%} of the "
        f"tick). Message delivery (`deliver`, the only work per edge) takes {format_ms(edge_ms)} ms, "
        f"{edge_ms / r.matvec_ms:.1f} mat-vecs; the node-level rest {format_ms(r.profile_total_ms - edge_ms)} ms "
        f"({(r.profile_total_ms - edge_ms) / r.matvec_ms:.1f} mat-vecs) is spread over full-length masks, gathers "
        "and draws in every step, all linear in N. Largest self times (a function's own time, without the "
        f"functions it calls): {hot}.",
        "",
    ]
    return "\n".join(lines)


def replace_section(text: str, heading: str, body: str) -> str:
    """`text` with the body of `## heading` replaced (up to the next `## ` heading), or the section appended."""
    pattern = re.compile(rf"^## {re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    section = f"## {heading}\n\n{body.strip()}\n\n"
    if pattern.search(text):
        return pattern.sub(lambda _m: section, text, count=1)
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + section


def write_docs(result: BenchResult, path: Path = DOCS_PATH) -> Path:
    """Write the two sections into docs/performance.md atomically, leaving every other section as it is."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else (
        "# Performance\n\nHow fast and how large wom-sim runs, and where its time goes. Each section says how it "
        "was measured.\n"
    )  # fmt: skip
    text = replace_section(text, SPEED_SECTION, speed_section(result))
    profile = profile_section(result)
    if profile:
        text = replace_section(text, PROFILE_SECTION, profile)
    with atomic_file(path, "w") as handle:
        handle.write(text.rstrip("\n") + "\n")
    return path


def _shown_args(argv: list[str]) -> list[str]:
    """The measuring options of a command line, as the page shows them (without --docs and its value)."""
    shown, skip = [], False
    for arg in _measuring_args(argv):
        if skip or arg.startswith("--docs="):
            skip = False
        elif arg == "--docs":
            skip = True
        else:
            shown.append(arg)
    return shown


@click.command()
@measuring_options
@click.option(
    "--from-json", "from_json", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Write the docs from a saved `wom-sim bench --json` result instead of measuring.",
)  # fmt: skip
@click.option(
    "--docs", "docs_path", type=click.Path(dir_okay=False, path_type=Path), default=DOCS_PATH,
    help="The performance page to write [default: docs/performance.md of this checkout].",
)  # fmt: skip
def main(from_json: Path | None, docs_path: Path, **options) -> None:
    """Measure (or read a saved result), print the tables and write them into the performance page."""
    if from_json:
        result = BenchResult.from_json(from_json.read_text(encoding="utf-8"))
    else:
        args = " ".join(shlex.quote(a) for a in _shown_args(sys.argv[1:]))
        result = measure(**options, command=f"python experiments/tools/write_performance_doc.py {args}")
    echo_tables(result)
    written = write_docs(result, docs_path)
    click.echo(f"wrote the sections '{SPEED_SECTION}' and '{PROFILE_SECTION}' of {written}", err=True)


if __name__ == "__main__":
    main()
