"""The generator's modules import each other in one direction only (no import cycle, type-only imports included)."""

import ast
from pathlib import Path

import video_assets.sample_data as sample_data

PACKAGE = "video_assets.sample_data"


def _imports_within_the_package() -> dict[str, set[str]]:
    graph = {}
    for path in Path(sample_data.__file__).parent.glob("*.py"):
        module = path.stem
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE + "."):
                targets.add(node.module.removeprefix(PACKAGE + ".").split(".")[0])
        graph[module] = targets - {module}
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str]:
    visiting, done = [], set()

    def visit(module):
        if module in visiting:
            return visiting[visiting.index(module):] + [module]
        if module in done:
            return []
        visiting.append(module)
        for target in sorted(graph.get(module, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(module)
        return []

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return []


def test_the_cycle_finder_finds_a_cycle():
    assert _a_cycle({"formats": {"viewing"}, "viewing": {"world"}, "world": {"formats"}}) == [
        "formats", "viewing", "world", "formats",
    ]


def test_the_generator_modules_form_no_import_cycle():
    graph = _imports_within_the_package()
    assert {"players", "formats", "viewing", "world"} <= set(graph)
    assert _a_cycle(graph) == [], " -> ".join(_a_cycle(graph))
    # The event kinds and the SDK table live in one module that the others import.
    assert "players" in graph["formats"] | graph["viewing"] and "players" in graph["world"]
