"""The package works as a wheel, outside its checkout: bundled scenarios, validation facts and the reference model
are package data or modules, nothing is read from the repository or beside it (issue 11, point 6).

The wheel is built from a copy of the sources (so a stale build/ folder of the checkout cannot leak into it),
installed with --no-deps into a folder of its own, and run with this interpreter's dependencies from an empty
folder, with nothing of the checkout on the path. .ci/run does the same with a fresh venv and registry deps.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # building the wheel alone takes about 30 s (pip fetches setuptools to build it)

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--set", "network.n=400", "--ticks", "8"]


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def _offline_build_possible() -> bool:
    """Whether this interpreter can build the wheel itself (setuptools with its bdist_wheel, or the wheel package)."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        from setuptools.command import bdist_wheel  # noqa: F401 - setuptools >= 70.1 builds wheels on its own
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the folder the wheel is installed into, the wheel file)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "wom_sim", src / "wom_sim", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    isolation = ["--no-build-isolation"] if _offline_build_possible() else []  # else pip fetches setuptools
    built = _pip("wheel", str(src), "--no-deps", "-q", *isolation, "-w", str(tmp / "dist"), cwd=tmp)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp / "dist").glob("wom_sim-*.whl")
    site = tmp / "site"
    done = _pip("install", "-q", "--no-deps", "--no-compile", "--target", str(site), str(wheel), cwd=tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    return site, wheel


def wom(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m wom_sim ...` with only the installed wheel (and this interpreter's dependencies) importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-m", "wom_sim", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip


def test_wheel_holds_the_package_data(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("wom_sim/scenario/bundled/baseline.yaml", "wom_sim/scenario/bundled/referral_program.yaml",
                   "wom_sim/validation/facts/facts.yaml", "wom_sim/validation/reference_model.py",
                   "wom_sim/bench/__init__.py", "wom_sim/network/generators.py",
                   "wom_sim/scenario/bundled/data/crm_edges.csv",
                   "wom_sim/scenario/bundled/data/crm_people.csv"):  # fmt: skip
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tests/", "docs/", "experiments/", "scenarios/"))]


def test_the_four_commands_work_from_an_empty_folder(installed, tmp_path):
    site, _ = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    where = wom(site, empty, "--help")
    assert where.returncode == 0, where.stderr
    origin = subprocess.run([sys.executable, "-c", "import wom_sim; print(wom_sim.__file__)"], cwd=empty,
                            env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True)  # fmt: skip
    assert Path(origin.stdout.strip()).is_relative_to(site), origin.stdout  # the wheel, not the checkout

    listed = wom(site, empty, "scenarios")
    assert listed.returncode == 0, listed.stderr
    assert "baseline" in listed.stdout and "referral_program" in listed.stdout

    run = wom(site, empty, "run", "baseline", *SMALL, "--out", "run", "--quiet")
    assert run.returncode == 0, run.stderr
    assert (empty / "run" / "scenario.yaml").is_file() and (empty / "run" / "dashboard.png").is_file()
    # A bundled scenario whose edge list and person table are package data beside it.
    crm = wom(site, empty, "run", "crm_market", "--ticks", "3", "--out", "crm", "--quiet")
    assert crm.returncode == 0 and (empty / "crm" / "people.parquet").is_file(), crm.stderr

    # Two facts: the kernel vs the packaged reference model, and one whose arm is a scenario file of the facts folder.
    checked = wom(site, empty, "validate", "--quick", "--facts", "F14,F16", "--out", "validation")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "not implemented" not in checked.stdout and (empty / "validation" / "validation.md").is_file()

    compared = wom(site, empty, "compare", "baseline", "referral_program", "-r", "3", *SMALL, "--out", "cmp",
                   "--workers", "0")  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert "referral_program" in compared.stdout
