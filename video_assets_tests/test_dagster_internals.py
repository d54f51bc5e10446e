"""Every private Dagster name the runtime uses still exists (an upgrade that moves one fails here, by name)."""

import ast
from pathlib import Path

import pytest

import video_assets
from video_assets import dagster_internals
from video_assets.databricks import dagster_internals as launcher_internals

PACKAGE = Path(video_assets.__file__).parent


@pytest.mark.parametrize("door", [dagster_internals, launcher_internals], ids=["graph", "step launcher"])
def test_every_private_dagster_name_still_imports(door):
    tree = ast.parse(Path(door.__file__).read_text())
    imported = [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dagster._")
        for alias in node.names
    ]
    assert len(imported) >= 5
    for module, name in imported:
        assert getattr(door, name, None) is not None, f"{module}.{name} is gone: see {door.__file__}"


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


def test_the_e2e_daemon_hook_still_lowers_the_interval_the_backfill_loop_reads():
    """video_assets_tests/e2e/fast_daemon: without it each e2e backfill waits up to 30 s per chained run."""
    import inspect
    import os
    import subprocess
    import sys

    from dagster._daemon import backfill

    hook = Path(__file__).parent / "e2e" / "fast_daemon"
    patched = subprocess.run(
        [sys.executable, "-c", "import dagster._daemon.controller as c; print(c.DEFAULT_DAEMON_INTERVAL_SECONDS)"],
        env={**os.environ, "PYTHONPATH": str(hook), "E2E_DAEMON_INTERVAL_SECONDS": "3"},
        capture_output=True, text=True, check=True,
    )
    assert patched.stdout.strip() == "3", patched.stderr
    # The loop looks the constant up when it runs, so the lowered value is the one it sleeps.
    assert "DEFAULT_DAEMON_INTERVAL_SECONDS" in inspect.getsource(backfill.execute_backfill_iteration_loop)
