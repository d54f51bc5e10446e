"""The package's layers, read from its source: no import cycle, pure transforms, sources and Databricks at the top.

    assets, automation, cli, definitions, environment      (the Dagster layer: may import anything)
    sources, databricks                                     (imported by the Dagster layer only)
    checks, reporting, io                                   (below them)
    transforms                                              (pyspark, and the leaves below)
    tables, settings, frames, sql_names                     (leaves)

Read with ``ast``: nothing is imported, so the test needs no Spark and runs in milliseconds.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = "video_assets"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
# What transforms may import from the package besides each other: the table spec, the contract's parameters,
# small literal frames, and the one quoting helper every identifier and literal in SQL goes through.
TRANSFORM_LEAVES = {"video_assets.tables", "video_assets.settings", "video_assets.frames", "video_assets.sql_names"}
TOP_ONLY = ("video_assets.sources", "video_assets.databricks")
BELOW_THE_TOP = ("video_assets.transforms", "video_assets.io", "video_assets.checks", "video_assets.reporting",
                 "video_assets.tables", "video_assets.settings", "video_assets.frames", "video_assets.sql_names")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module_level_only: bool) -> set[str]:
    """The package modules a file imports (``from video_assets.x import y`` counts x.y when y is a module)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(PACKAGE)}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE) and not node.level:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


MODULES = {_module_name(path): path for path in ROOT.rglob("*.py")}


def _within(module: str, prefixes) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def test_the_package_has_no_import_cycle():
    graph = {name: _imports(path, module_level_only=True) & MODULES.keys() for name, path in MODULES.items()}
    # A package imports its own modules through its __init__ only when they are listed there: drop the
    # edge from a module to the package that holds it (Python loads the package first anyway).
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    visiting, done, cycles = set(), set(), []

    def visit(name, trail):
        if name in done:
            return
        if name in visiting:
            cycles.append(trail[trail.index(name):] + [name])
            return
        visiting.add(name)
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, ["video_assets.transforms"])))
def test_transforms_import_only_pyspark_and_the_leaves(module):
    imported = _imports(MODULES[module], module_level_only=False)
    assert {m for m in imported if not _within(m, ["video_assets.transforms", *TRANSFORM_LEAVES])} == set()


def test_sources_and_databricks_are_imported_by_the_dagster_layer_only():
    offenders = {
        (name, target)
        for name, path in MODULES.items()
        if _within(name, BELOW_THE_TOP)
        for target in _imports(path, module_level_only=False)
        if _within(target, TOP_ONLY)
    }
    assert offenders == set()


def test_the_layers_named_here_exist():
    """A renamed package would make the two tests above pass on nothing."""
    assert {"video_assets.sources.landing_zone", "video_assets.transforms.events", "video_assets.io.delta"} <= MODULES.keys()
    assert _imports(MODULES["video_assets.assets.raw"], module_level_only=True) >= {"video_assets.sources.landing_zone"}
