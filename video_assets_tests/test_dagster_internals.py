"""Every private Dagster name the runtime uses still exists (an upgrade that moves one fails here, by name)."""

import ast
from pathlib import Path

import video_assets
from video_assets import dagster_internals

PACKAGE = Path(video_assets.__file__).parent


def test_every_private_dagster_name_still_imports():
    tree = ast.parse(Path(dagster_internals.__file__).read_text())
    imported = [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dagster._")
        for alias in node.names
    ]
    assert len(imported) >= 7
    for module, name in imported:
        assert getattr(dagster_internals, name, None) is not None, f"{module}.{name} is gone: see dagster_internals.py"


def test_no_other_runtime_module_imports_dagster_internals_directly():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "dagster_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if (module or "").startswith("dagster._") or any(n.startswith("dagster._") for n in names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert offenders == []
