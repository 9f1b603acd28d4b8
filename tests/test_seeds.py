"""The one replication-seed scheme (wom_sim/experiment/seeds.py), and that experiments, validation and calibration
all use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from wom_sim.calibrate import load_problem, search
from wom_sim.calibrate.targets import CalibrationSpec
from wom_sim.cli import cli
from wom_sim.experiment.optimise_spec import OptimiseSpec
from wom_sim.experiment.seeds import offset_seed, replication_seed, replication_seeds, sampler_seed
from wom_sim.experiment.studies import Arm, arm_tasks
from wom_sim.experiment.sweep_spec import SweepSpec
from wom_sim.scenario.catalogue import bundled_path
from wom_sim.scenario.schema import MAX_SEED, Scenario
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


@pytest.mark.parametrize("model", [Scenario, SweepSpec, OptimiseSpec, CalibrationSpec])
def test_every_seed_field_takes_0_to_the_largest_int64(model):
    bounds = [(m.ge if hasattr(m, "ge") else m.le) for m in model.model_fields["seed"].metadata]
    assert sorted(bounds) == [0, MAX_SEED] == [0, 2**63 - 1]


def test_every_seed_option_takes_0_to_the_largest_int64():
    options = {name: p for name, command in cli.commands.items() for p in command.params if p.name == "seed"}
    assert {"run", "compare", "attribution", "curves"} <= set(options)
    assert all((p.type.min, p.type.max) == (0, MAX_SEED) for p in options.values()), options


def test_seeds_derived_from_the_largest_stay_in_range():
    # The runs' seeds (63 bits), the optimiser's check seed (base + 1) and the 32-bit seed optuna and scipy take.
    assert all(0 <= s <= MAX_SEED for s in replication_seeds(MAX_SEED, 3))
    assert offset_seed(MAX_SEED, 1) == 0 and offset_seed(MAX_SEED - 1, 1) == MAX_SEED and offset_seed(41, 1) == 42
    assert sampler_seed(MAX_SEED) == 2**32 - 1 and sampler_seed(2**32) == 0 and sampler_seed(2026) == 2026
