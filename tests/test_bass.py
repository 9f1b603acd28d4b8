"""Bass fit (wom_sim/bass.py): exact recovery on Bass curves, input errors, docking conditions, `wom-sim fit-bass`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wom_sim.analysis.bass import bass_curve, fit_bass, implied_bass
from wom_sim.scenario.loading import apply_overrides, build_scenario, load_raw, load_scenario

ROOT = Path(__file__).resolve().parents[1]
DOCKING = ROOT / "wom_sim" / "validation" / "facts" / "f1_bass_docking.yaml"


def wom(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wom_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize("discrete", [True, False])
@pytest.mark.parametrize(("p", "q", "m"), [(0.01, 0.2, 1000.0), (0.03, 0.38, 1.0), (0.002, 0.6, 5e5)])
def test_fit_recovers_the_parameters_of_a_bass_curve(discrete, p, q, m):
    t = np.arange(1, 81)
    fit = fit_bass(t, bass_curve(t, p, q, m, discrete), discrete=discrete)
    assert fit.p == pytest.approx(p, rel=1e-4)
    assert fit.q == pytest.approx(q, rel=1e-4)
    assert fit.m == pytest.approx(m, rel=1e-4)
    assert fit.r2 == pytest.approx(1.0)


def test_fit_unpacks_and_tolerates_noise():
    t = np.arange(1, 61)
    rng = np.random.default_rng(0)
    noisy = bass_curve(t, 0.02, 0.3, 2000.0) + rng.normal(0, 10, t.size)
    p, q, m = fit_bass(t, noisy)
    assert p == pytest.approx(0.02, rel=0.15)
    assert q == pytest.approx(0.3, rel=0.1)
    assert m == pytest.approx(2000.0, rel=0.02)


def test_a_curve_cut_before_its_peak_still_fits_without_crashing():
    t = np.arange(1, 15)
    fit = fit_bass(t, bass_curve(t, 0.01, 0.3, 1000.0))
    assert fit.m >= bass_curve(t, 0.01, 0.3, 1000.0)[-1] and fit.r2 > 0.99


@pytest.mark.parametrize(
    ("t", "y", "message"),
    [
        ([1, 2, 3], [1, 2, 3], "at least 4"),
        ([1, 2, 3, 4], [0, 0, 0, 0], "no adopters"),
        ([1, 2, 2, 4], [1, 2, 3, 4], "increasing"),
        ([1, 2, 3, 4], [1, 2, np.nan, 4], "finite"),
        ([1, 2, 3, 4], [1, -2, 3, 4], ">= 0"),
        ([0.5, 1.5, 2.5, 3.5], [1, 2, 3, 4], "whole periods"),
    ],
)
def test_bad_input_is_a_value_error(t, y, message):
    with pytest.raises(ValueError, match=message):
        fit_bass(t, y)


def test_implied_bass_of_the_docking_scenario():
    sc = load_scenario(DOCKING, {"network.n": 500, "wom.contact_prob": 0.004})
    p, q = implied_bass(sc)
    assert p == sc.advertising.reach
    assert q == pytest.approx(499 * 0.1 * 0.004)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("network.generator", "barabasi_albert", "complete"),
        ("churn.base_hazard", 0.01, "churn"),
        ("wom.satisfaction_elasticity", 1.5, "satisfaction_elasticity"),
        ("purchase.adoption.intercept", 0.0, "adoption"),
        ("wom.forward.positive", 0.1, "forward"),
    ],
)
def test_implied_bass_refuses_a_scenario_off_the_docking_conditions(key, value, message):
    sc = build_scenario(apply_overrides(load_raw(DOCKING), {key: value}))
    with pytest.raises(ValueError, match=message):
        implied_bass(sc)


def test_fit_bass_command_on_a_csv(tmp_path):
    t = np.arange(1, 51)
    pd.DataFrame({"week": t, "adopters": bass_curve(t, 0.01, 0.25, 800.0)}).to_csv(tmp_path / "a.csv", index=False)
    res = wom("fit-bass", "a.csv", "--column", "adopters", "--time-column", "week", "--plot", "fit.png", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "p (innovation)  0.01000" in res.stdout and "q (imitation)   0.25000" in res.stdout
    assert (tmp_path / "fit.png").is_file()


def test_fit_bass_plot_never_replaces_a_file_it_did_not_write(tmp_path):
    t = np.arange(1, 31)
    pd.DataFrame({"adopters": bass_curve(t, 0.01, 0.25, 800.0)}).to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "budget.xlsx").write_text("mine")
    (tmp_path / "fit.png").write_text("my own picture")
    for name, why in (("budget.xlsx", "a figure file ends in .png, .svg, .pdf"),
                      ("fit.png", "exists and is not a file wom-sim wrote"),):  # fmt: skip
        res = wom("fit-bass", "a.csv", "--plot", name, cwd=tmp_path)
        assert res.returncode == 2 and res.stdout == "" and res.stderr.startswith(f"error: --plot {name}: {why}")
    assert (tmp_path / "budget.xlsx").read_text() == "mine" and (tmp_path / "fit.png").read_text() == "my own picture"
    for _ in range(2):  # a figure it wrote is replaced
        assert wom("fit-bass", "a.csv", "--plot", "fit.svg", cwd=tmp_path).returncode == 0


def test_fit_bass_command_sums_new_adopters_from_parquet(tmp_path):
    # Parquet, as `wom-sim run` writes metrics.parquet
    t = np.arange(1, 51)
    new = np.diff(bass_curve(np.arange(0, 51), 0.02, 0.3, 100.0))
    pd.DataFrame({"new": new}).to_parquet(tmp_path / "n.parquet", index=False)
    res = wom("fit-bass", str(tmp_path / "n.parquet"), "--new")
    assert res.returncode == 0, res.stderr
    assert "p (innovation)  0.02000" in res.stdout and len(t) == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "file not found"),
        (["missing.parquet"], "file not found"),
        (["a.csv", "--column", "nope"], "no column 'nope'"),
        (["a.csv", "--column", "x"], "at least 4"),
        # New adopters per period given as cumulative (no --new): a Bass fit to it would be nonsense.
        (["falls.csv"], "column 'y' falls from 5 to 3 at data row 2: cumulative adopters never fall; if it holds "
                        "new adopters per period, add --new"),
    ],
)  # fmt: skip
def test_fit_bass_command_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    pd.DataFrame({"x": [1, 2, 3]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"y": [5, 3, 1, 0, 0]}).to_csv(tmp_path / "falls.csv", index=False)
    res = wom("fit-bass", *args, cwd=tmp_path)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_fit_bass_command_tolerates_a_small_dip_and_says_when_r2_is_undefined(tmp_path):
    # A dip under CUMULATIVE_SLACK of the peak (a revised figure) is fitted; a flat series has no R^2.
    t = np.arange(1, 41)
    y = bass_curve(t, 0.02, 0.3, 1000.0)
    y[20] -= 0.001 * y.max()
    pd.DataFrame({"y": y}).to_csv(tmp_path / "dip.csv", index=False)
    assert wom("fit-bass", "dip.csv", cwd=tmp_path).returncode == 0
    pd.DataFrame({"y": [7.0] * 10}).to_csv(tmp_path / "flat.csv", index=False)
    res = wom("fit-bass", "flat.csv", cwd=tmp_path)
    assert res.returncode == 0 and "R^2 n/a (the series is flat)" in res.stdout and "nan" not in res.stdout
