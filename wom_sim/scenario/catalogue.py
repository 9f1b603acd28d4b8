"""The bundled what-if scenarios: package data (wom_sim/scenario/bundled/*.yaml), found wherever installed."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

BUNDLED_DIR = Path(str(files("wom_sim.scenario").joinpath("bundled")))


def bundled_names() -> list[str]:
    """Names of the bundled scenarios (file stems), sorted."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def bundled_path(name: str) -> Path:
    """The file of a bundled scenario by name (`baseline` -> .../bundled/baseline.yaml)."""
    return BUNDLED_DIR / f"{name}.yaml"
