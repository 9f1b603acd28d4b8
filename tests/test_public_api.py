"""The public face (wom_sim/__init__.py): `import wom_sim` gives the public names, each with a numpy-style
docstring whose Examples run here as doctests; the analysis modules' examples run too."""

from __future__ import annotations

import doctest
import inspect
import subprocess
import sys

import pytest

import wom_sim
from wom_sim.analysis import outcomes, statistics
from wom_sim.experiment import seeds

PUBLIC = ["Scenario", "ScenarioError", "WomModel", "attribution", "compare", "curves", "load_scenario", "optimise",
          "replicate", "simulate", "sweep"]  # fmt: skip
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _run(tests: list[doctest.DocTest]) -> doctest.TestResults:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test)
    return runner.summarize(verbose=False)


def test_the_public_names():
    assert sorted(wom_sim.__all__) == PUBLIC
    assert set(PUBLIC) <= set(dir(wom_sim))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        wom_sim.nope  # noqa: B018


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_has_examples_that_run(name):
    obj = getattr(wom_sim, name)
    assert "\nExamples\n--------\n" in inspect.cleandoc(obj.__doc__), f"{name}: no numpy-style Examples section"
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs={})
    assert sum(len(t.examples) for t in tests) >= 2
    result = _run(tests)
    assert result.failed == 0 and result.attempted >= 2


@pytest.mark.parametrize("module", [statistics, outcomes, seeds], ids=lambda m: m.__name__)
def test_analysis_and_seed_examples_run(module):
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.failed == 0 and result.attempted > 0


def test_import_wom_sim_loads_neither_the_model_nor_mesa():
    # The CLI imports wom_sim first; the names load on first use, so `wom-sim --help` stays fast.
    code = "import sys, wom_sim; print(any(m.startswith(('mesa', 'wom_sim.sim', 'scipy')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
