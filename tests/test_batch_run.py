"""`mesa.batch_run` drives WomModel through its flat keyword arguments on Mesa 3.3 and 3.5.

How the two versions seed runs (see docs/experiments.md): Mesa 3.3 takes seeds only as a swept parameter
(`parameters={"seed": [...]}`); Mesa 3.5 has its own `rng=[...]` argument and, because WomModel's signature has a
`seed` argument, passes each value as `seed=`, overriding any `seed` in `parameters`. `iterations=` still works in
3.5 (with a DeprecationWarning) and gives every iteration seed None, i.e. the scenario's seed: identical runs.
"""

from __future__ import annotations

import inspect
import warnings

import mesa
import pytest

from wom_sim.sim.model import REPORTED, WomModel

MESA_RNG = "rng" in inspect.signature(mesa.batch_run).parameters  # Mesa >= 3.4
FLAT = {"n": 300, "ticks": 10, "quality": 0.7, "service_failure": 0.05, "price": 1.0, "n_kols": 3, "ad_reach": 0.02}


def _reported(row: dict) -> tuple:
    """The DataCollector's reporters of one row (or of a model's last metrics), NaN as None so they compare."""
    return tuple(None if row[name] != row[name] else row[name] for name in REPORTED)


def _batch(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.5: `iterations` is deprecated in favour of `rng`
        return mesa.batch_run(WomModel, max_steps=10, number_processes=1, display_progress=False, **kwargs)


def test_batch_run_with_iterations_sweeps_flat_parameters():
    rows = _batch(parameters={**FLAT, "contact_prob": [0.1, 0.3]}, iterations=2)
    assert len(rows) == 4  # 2 values x 2 iterations, one row each (data_collection_period=-1: the last step)
    for row in rows:
        assert row["customers"] > 0 and 0 < row["adoption_share"] <= 1
        assert float(row["Step"]) in (9.0, 10.0)  # 3.3 reports the last step index, 3.5 the model time
    by_value = {}
    for row in rows:
        by_value.setdefault(row["contact_prob"], []).append(_reported(row))
    assert sorted(by_value) == [0.1, 0.3]
    # No seeds given: every iteration runs the scenario's seed, so the iterations repeat one run.
    assert all(v[0] == v[1] for v in by_value.values())
    assert by_value[0.1][0] != by_value[0.3][0]


def test_batch_run_seeds_on_either_mesa_version_match_wom_sim_runs():
    seeds = [1, 2]
    # The portable recipe: 3.5 takes the seeds as rng=, 3.3 as a swept `seed` parameter.
    seeding = {"rng": seeds} if MESA_RNG else {"iterations": 1, "parameters": {**FLAT, "seed": seeds}}
    rows = _batch(**{"parameters": FLAT, **seeding})
    assert len(rows) == 2
    reported = [_reported(row) for row in rows]
    assert reported[0] != reported[1]  # different seeds, different runs
    for seed, values in zip(seeds, reported, strict=True):
        model = WomModel(**FLAT, seed=seed).run()
        assert _reported(model.last_metrics) == values  # batch_run == a direct run with the same seed


@pytest.mark.skipif(not MESA_RNG, reason="Mesa 3.3 has no rng argument")
def test_mesa_35_rng_overrides_a_seed_parameter():
    rows = _batch(parameters={**FLAT, "seed": 999}, rng=[1])
    assert _reported(rows[0]) == _reported(WomModel(**FLAT, seed=1).run().last_metrics)
