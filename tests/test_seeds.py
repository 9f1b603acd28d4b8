"""The one replication-seed scheme (wom_sim/experiment/seeds.py), and that experiments, validation and calibration
all use it."""

from __future__ import annotations

from pathlib import Path

from wom_sim.calibrate import load_problem, search
from wom_sim.experiment.seeds import replication_seed, replication_seeds
from wom_sim.experiment.studies import Arm, arm_tasks
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.sim.model import resolve_scenario
from wom_sim.validation.lab import Lab


def test_further_replications_continue_the_same_sequence():
    assert replication_seeds(7, 3, first=2) == replication_seeds(7, 5)[2:]
    assert replication_seeds(7, 2, first=3) == [replication_seed(7, 3), replication_seed(7, 4)]
    assert not set(replication_seeds(7, 4)) & set(replication_seeds(7, 4, first=4))


def test_experiments_and_the_validation_give_replication_r_the_same_seed():
    scenario = resolve_scenario(None, {"network.n": 300})
    _, table = arm_tasks([Arm("a", scenario)], 4, base_seed=1)
    lab = Lab(Path("."), bundled_path("baseline"), {}, replications=4, seed=1)
    assert list(table["seed"]) == lab.seeds == replication_seeds(1, 4)


def test_the_calibration_checks_its_fit_on_the_replications_after_the_searched_ones(monkeypatch, tmp_path):
    (tmp_path / "market.yaml").write_text("ticks: 5\nnetwork: {n: 200, m: 3}\n", encoding="utf-8")
    (tmp_path / "targets.yaml").write_text(
        "replications: 3\ncheck_replications: 2\ntrials: 2\nseed: 9\noptimiser: de\n"
        "parameters: {wom.contact_prob: [0.1, 0.3]}\n"
        "targets: [{name: share, metric: adoption_share, stat: final, value: 0.1}]\n",
        encoding="utf-8",
    )
    seen: list[list[int]] = []

    def record(problem, values, seeds):
        seen.append(list(seeds))
        return search.Evaluation(dict(values), float(len(seen)), {}, {}, {})

    monkeypatch.setattr(search, "evaluate", record)
    search.calibrate(load_problem(tmp_path / "market.yaml", tmp_path / "targets.yaml"))
    assert all(s == replication_seeds(9, 3) for s in seen[:-1])
    assert seen[-1] == replication_seeds(9, 2, first=3)
