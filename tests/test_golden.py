"""The restructure guard: per-tick metrics of four bundled scenarios (2,000 people, seed 7) equal a recorded file.

The file was written on the code before the architecture restructure; any change of the dynamics, the random
streams or the intervention logic shows here as a difference. A deliberate model change re-records it with
`python tests/golden/record.py` and says so in its commit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.golden.record import GOLDEN, SCENARIOS, record

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def fresh() -> pd.DataFrame:
    return record()


@pytest.mark.parametrize("name", SCENARIOS)
def test_metrics_bit_identical_to_golden(fresh: pd.DataFrame, name: str):
    golden = pd.read_parquet(GOLDEN)
    want = golden[golden["scenario"] == name].reset_index(drop=True)
    got = fresh[fresh["scenario"] == name].reset_index(drop=True)
    assert len(got) == len(want)
    missing = [c for c in want.columns if c not in got.columns]
    assert not missing, f"columns gone from the metrics table: {missing}"
    for col in want.columns:
        if col == "scenario":
            continue
        a, b = want[col].to_numpy(), got[col].to_numpy()
        same = np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else np.array_equal(a, b)
        assert same, f"{name}: column {col} differs from the golden file (first at row {np.flatnonzero(a != b)[:1]})"
