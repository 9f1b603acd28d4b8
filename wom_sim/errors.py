"""Errors a user can cause: the bottom of the package, imported by every layer that checks input."""


class ScenarioError(ValueError):
    """A problem with a scenario file, override, spec or flag that the user can fix (exit code 2)."""
