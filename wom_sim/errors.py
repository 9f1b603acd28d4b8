"""Errors a user can cause: the bottom of the package, imported by every layer that checks input."""


class ScenarioError(ValueError):
    """A problem with a scenario file, override, spec or flag that the user can fix (exit code 2).

    The message is one line naming the file or key and what is allowed.

    Examples
    --------
    >>> import wom_sim
    >>> try:
    ...     wom_sim.simulate(None, overrides={"wom.contact_prob": 2})
    ... except wom_sim.ScenarioError as exc:
    ...     print("wom.contact_prob" in str(exc))
    True
    """
