"""The package's layers, each importing only those below it: core (the model, which knows nothing of
files) -> inputs (parameter files, checked against the levers the core declares) -> runs -> analysis
-> report -> cli.

Read from the source (every ``import`` statement, at module level or inside a function), so the
test fails the day someone adds an import that points up a layer or closes a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sanctions_model"
#: Rank of each layer; a module may import its own layer or a lower one.
LAYERS = {"_version": 0, "errors": 0, "limits": 0, "outdir": 0, "provenance": 0,
          "core": 1, "inputs": 2, "runs": 3, "analysis": 4, "report": 5, "jobs": 6, "explore": 6, "cli": 7,
          # the old names of public modules, each the module of the same name in its layer
          "sensitivity": 7, "ensemble": 7, "sweep": 7, "history": 7, "backtesting": 7, "calibrate": 7}
#: Imports that point up a layer on purpose, each inside one function: a result's ``.plot()``
#: draws with the report layer's figures, never at import time. (Words are ``runs/describe.py``'s,
#: which both the notebook display and the reports use.)
DISPLAY_ONLY = {("runs.run", "report.figures"), ("runs.ensemble", "report.figures"),
                ("runs.sweep_result", "report.figures"), ("analysis.backtesting", "report.backtest")}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, bool]]:
    """(imported module within the package, whether at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = {id(node) for node in tree.body}
    top |= {id(n) for node in tree.body if isinstance(node, ast.If) for n in ast.walk(node)}  # TYPE_CHECKING
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.startswith("sanctions_model"):
                target = node.module.removeprefix("sanctions_model").lstrip(".")
            else:
                continue
            # "from . import x" names a module when x is one
            for alias in node.names:
                sub = f"{target}.{alias.name}".lstrip(".")
                found.append((sub if sub in MODULES else target, id(node) in top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sanctions_model."):
                    found.append((alias.name.removeprefix("sanctions_model."), id(node) in top))
    return found


def _layer(name: str) -> int | None:
    return LAYERS.get(name.split(".")[0]) if name else None


def test_every_module_belongs_to_a_layer():
    assert all(_layer(name) is not None for name in MODULES if name), sorted(
        name for name in MODULES if name and _layer(name) is None)


def test_no_module_imports_a_layer_above_it():
    upward = []
    for name, path in MODULES.items():
        if not name:
            continue  # the package root re-exports the API
        for target, _ in _imports(name, path):
            if target == "":
                upward.append((name, "the package root"))
            elif _layer(target) > _layer(name) and (name, target) not in DISPLAY_ONLY:
                upward.append((name, target))
    assert not upward, upward


def test_imports_that_point_up_are_display_only_and_inside_functions():
    for name, path in MODULES.items():
        for target, at_top in _imports(name, path):
            if (name, target) in DISPLAY_ONLY:
                assert not at_top, f"{name} imports {target} at import time"


def test_no_import_cycles():
    graph = {name: {t for t, at_top in _imports(name, path) if at_top and t and t != name}
             for name, path in MODULES.items() if name}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_layering_test_sees_an_upward_import(tmp_path):
    """The reader of imports is not blind: an import from core into report is found."""
    path = tmp_path / "model.py"
    path.write_text("from ..report.markdown import x\n\ndef f():\n    from ..runs import sweep\n")
    found = _imports("core.model", path)
    assert ("report.markdown", True) in found and ("runs.sweep", False) in found
