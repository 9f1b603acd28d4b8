"""Benchmark the kernel: the same as `wom-sim bench` (same options; see `python experiments/benchmark.py --help`).

python experiments/benchmark.py --quick
(experiments/tools/write_performance_doc.py, same options, also writes the tables into docs/performance.md.)
"""

from wom_sim.cli.bench import bench

if __name__ == "__main__":
    bench(prog_name="python experiments/benchmark.py")
