"""The one replication-seed scheme of wom-sim: replication r of base seed s runs with `replication_seed(s, r)`.

Experiments (replications, compare, sweeps), the validation and the calibration all derive their runs' seeds
here, so "replication 3 of seed 1" is the same run everywhere (docs/experiments.md, "Replications and seeds").
"""

from __future__ import annotations

import numpy as np

from wom_sim.scenario.schema import MAX_SEED

SAMPLER_SEEDS = 2**32  # optuna's samplers and scipy's optimisers seed numpy's legacy RandomState: 0 to 2**32 - 1


def replication_seed(base_seed: int, replication: int) -> int:
    """The seed of replication `replication` derived from `base_seed`.

    It is the first 63 bits of ``numpy.random.SeedSequence(base_seed, spawn_key=(replication,))``, i.e. of
    ``SeedSequence(base_seed).spawn(R)[replication]`` for any R > replication. So replication i has the same seed
    whatever the number of replications, in every arm of a comparison and at every point of a sweep (common random
    numbers), adding replications later reuses the runs already stored, and seeds of different replications are
    statistically independent (SeedSequence hashing, not `base_seed + i`, whose streams could overlap with those
    of a neighbouring base seed).

    Examples
    --------
    >>> replication_seed(1, 0) == replication_seed(1, 0) != replication_seed(1, 1)
    True
    >>> 0 <= replication_seed(1, 3) < 2**63
    True
    """
    words = np.random.SeedSequence(int(base_seed), spawn_key=(int(replication),)).generate_state(2, np.uint32)
    return ((int(words[0]) << 32) | int(words[1])) >> 1


def sampler_seed(base_seed: int) -> int:
    """The seed of a search's sampler (optuna, scipy) from a base seed of any size up to MAX_SEED: its low 32 bits.

    A seed below 2**32 is its own sampler seed, so a search seeded so far replays the same trials; the runs'
    seeds (`replication_seed`) use the whole base seed.

    Examples
    --------
    >>> sampler_seed(7), sampler_seed(2**63 - 1)
    (7, 4294967295)
    """
    return int(base_seed) % SAMPLER_SEEDS


def offset_seed(base_seed: int, offset: int) -> int:
    """`base_seed + offset` kept in the seed range 0 to MAX_SEED (past the largest seed it wraps round to 0), so a
    seed derived from a valid one is valid too (the optimiser's check runs on base seed + 1).

    Examples
    --------
    >>> offset_seed(7, 1), offset_seed(2**63 - 1, 1)
    (8, 0)
    """
    return (int(base_seed) + int(offset)) % (MAX_SEED + 1)


def replication_seeds(base_seed: int, replications: int, first: int = 0) -> list[int]:
    """Seeds of replications first..first+replications-1 (see `replication_seed`).

    `first` > 0 gives further replications of the same base seed, disjoint from the first ones (the calibration
    checks its best fit on replications it never searched on).
    """
    return [replication_seed(base_seed, i) for i in range(first, first + replications)]
