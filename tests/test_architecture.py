"""The package's import structure, read from the source with `ast`: layers import only downward, no cycles.

The rules are the ones written in docs/architecture.md ("Layers"). A new module must be given a layer here and
there; a module without one fails `test_every_module_has_a_layer`, so the decision is made on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wom_sim"

# Lowest first. A module may import modules of its own layer or of a lower one, never of a higher one.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("wom_sim.errors", "wom_sim.catalogue", "wom_sim.output", "wom_sim.version", "wom_sim.display")),
    ("scenario", ("wom_sim.scenario",)),
    ("network", ("wom_sim.network",)),
    ("sim", ("wom_sim.sim",)),
    ("analysis", ("wom_sim.analysis",)),
    ("experiment", ("wom_sim.experiment",)),
    ("validation", ("wom_sim.validation", "wom_sim.calibrate")),
    ("presentation", ("wom_sim.report", "wom_sim.viz", "wom_sim.bench", "wom_sim.docgen")),
    ("cli", ("wom_sim.cli", "wom_sim.__main__")),
    ("public face", ("wom_sim",)),  # wom_sim/__init__.py: imported by users, never by the package itself
]
# Where a function-level import of a wom_sim module is allowed (CLI start-up time: each subcommand loads only
# what it runs). Each such import carries a comment saying why; optional extras are not wom_sim modules.
LAZY_ALLOWED = ("wom_sim.cli",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The wom_sim module an import of `name` loads (the longest existing prefix), or None if not wom_sim."""
    if name != "wom_sim" and not name.startswith("wom_sim."):
        return None
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _is_type_checking(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`): imports for annotations only, never executed."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(module: str, path: Path, typing_only: bool = True) -> list[tuple[str, int, bool]]:
    """(imported wom_sim module, line, at function level) for every import in the file.

    `typing_only=False` leaves out the imports under `if TYPE_CHECKING:`: they never run, so they cannot close a
    cycle at import time, but they still count for the layer rule (a type from above is a dependency on it).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if not typing_only and _is_type_checking(child):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if (target := _resolve(alias.name)) is not None:
                        found.append((target, child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                for alias in child.names:
                    target = _resolve(f"{source}.{alias.name}") or _resolve(source)
                    if target is not None:
                        found.append((target, child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def layer_of(module: str) -> int | None:
    """Index of the layer a module belongs to (the longest matching prefix wins)."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def import_graph() -> dict[str, set[str]]:
    """Module -> the wom_sim modules it imports when it runs (annotation-only imports left out)."""
    return {m: {t for t, _, _ in _imports(m, p, typing_only=False) if t != m} for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, f"modules with no layer in tests/test_architecture.py and docs/architecture.md: {missing}"


def test_imports_only_go_downward():
    upward = []
    for module, path in MODULES.items():
        own = layer_of(module)
        for target, line, _ in _imports(module, path):
            theirs = layer_of(target)
            if own is not None and theirs is not None and theirs > own:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} ({LAYERS[own][0]}) imports "
                              f"{target} ({LAYERS[theirs][0]})")  # fmt: skip
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = import_graph()
    # Package __init__ files that re-export their submodules would form trivial two-cycles with a submodule that
    # imports the package; a submodule must import its siblings directly, so those count as cycles too.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    assert not cycles, f"import cycles: {cycles}"


def test_function_level_imports_only_where_allowed():
    bad = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, line, in_function in _imports(module, path):
            if not in_function:
                continue
            allowed = module.startswith(LAZY_ALLOWED)
            above = line - 2  # the comment may head a block of consecutive imports
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
                above -= 1
            commented = "#" in lines[line - 1] or (above >= 0 and lines[above].strip().startswith("#"))
            if not (allowed and commented):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {target} inside a function")
    assert not bad, "function-level imports of wom_sim modules:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("wom_sim.sim.model", "sim"),
        ("wom_sim.cli.run", "cli"),
        ("wom_sim", "public face"),
        ("wom_sim.errors", "foundation"),
    ],
)
def test_layer_of_uses_the_longest_prefix(module, expected):
    assert LAYERS[layer_of(module)][0] == expected


def test_the_checker_sees_a_planted_upward_import(tmp_path):
    # The rule tests must be able to fail: a scenario module importing the model runs up two layers, and an
    # import inside a function is seen as one.
    planted = tmp_path / "planted.py"
    planted.write_text("from wom_sim.sim.model import WomModel\n\ndef f():\n    from wom_sim.cli import main\n")
    found = _imports("wom_sim.scenario.planted", planted)
    assert ("wom_sim.sim.model", 1, False) in found and ("wom_sim.cli", 4, True) in found
    assert layer_of("wom_sim.sim.model") > layer_of("wom_sim.scenario.planted")


def test_annotation_only_imports_count_for_layers_but_not_for_cycles(tmp_path):
    planted = tmp_path / "typed.py"
    planted.write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from wom_sim.sim.model import WomModel\n"
    )
    assert [t for t, _, _ in _imports("wom_sim.scenario.typed", planted)] == ["wom_sim.sim.model"]
    assert _imports("wom_sim.scenario.typed", planted, typing_only=False) == []
