"""The bundled what-if scenarios: package data (wom_sim/scenario/bundled/*.yaml), found wherever installed."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from wom_sim.errors import ScenarioError

BUNDLED_DIR = Path(str(files("wom_sim.scenario").joinpath("bundled")))


def bundled_names() -> list[str]:
    """Names of the bundled scenarios (file stems), sorted."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def bundled_path(name: str) -> Path:
    """The file of a bundled scenario by name (`baseline` -> .../bundled/baseline.yaml)."""
    return BUNDLED_DIR / f"{name}.yaml"


def resolve_scenario_path(name: str) -> Path:
    """A scenario path as given, or a bundled scenario by name (`baseline` -> .../bundled/baseline.yaml).

    Raises
    ------
    ScenarioError
        When `name` is neither an existing file nor the name of a bundled scenario.
    """
    if "\x00" in name:
        raise ScenarioError(f"{name!r}: a path cannot contain a NUL byte")
    path = Path(name)
    try:
        if path.exists() or path.is_symlink():
            return path
        bundled = BUNDLED_DIR / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
        if bundled.exists():
            return bundled
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise ScenarioError(f"{name[:80]}: {exc.strerror or 'not a usable path'}") from None
    raise ScenarioError(f"{name}: file not found (and no bundled scenario of that name; see `wom-sim scenarios`)")
