"""Dagster's `dg` CLI finds the project through pyproject.toml's [tool.dg] sections (docs/dg.md).

`dg list defs --json` and `dg check defs` run as users run them: the venv's `dg`, from the project root.
Loading the definitions starts no Spark (the SparkSession is lazy), and each run gets a DAGSTER_HOME of
its own. The two commands run side by side, once for the module: each spends ~8 s of CPU importing
dagster and the project.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from video_assets.definitions import defs

# Two `dg` processes, each importing dagster and the project: a check of the CLI, not of the data.
pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The `dg` script of the interpreter running the tests (not resolved: .venv/bin/python is a symlink).
DG = Path(sys.executable).parent / "dg"

ASSETS = {
    "video_catalog",
    "raw_video_events",
    "raw_video_events_quarantine",
    "video_sessions",
    "watch_intervals",
    "user_video_metrics",
    "user_video_engagement",
    "video_engagement_summary",
    "engagement_tier_summary",
    "video_platform_summary",
    "video_lifetime_summary",
}


def _dg_environment(dagster_home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("VIDEO_ASSETS_", "DATABRICKS_", "DAGSTER_", "SPARK_"))
    }
    # Telemetry off for the temporary instance (dg reads the same setting).
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env.update(
        DAGSTER_HOME=str(dagster_home),
        VIDEO_ASSETS_ENV="local",
        # The venv whose `dg` runs counts as the active one: dg warns when it differs from ./.venv.
        VIRTUAL_ENV=sys.prefix,
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def dg_runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    if not DG.exists():
        pytest.fail(f"{DG} is missing: dagster-dg-cli is a dependency, run `bash scripts/setup.sh`")
    commands = {"list": [str(DG), "list", "defs", "--json"], "check": [str(DG), "check", "defs"]}
    processes = {
        name: subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_dg_environment(tmp_path_factory.mktemp(f"dagster_home_{name}")),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, command in commands.items()
    }
    results = {}
    for name, process in processes.items():
        try:
            stdout, stderr = process.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            for other in processes.values():
                other.kill()
            raise
        results[name] = subprocess.CompletedProcess(commands[name], process.returncode, stdout, stderr)
    return results


@pytest.fixture(scope="module")
def listed(dg_runs) -> dict:
    run = dg_runs["list"]
    assert run.returncode == 0, f"dg list defs failed:\n{run.stdout}\n{run.stderr}"
    return json.loads(run.stdout)


def test_dg_list_defs_lists_the_eleven_assets(listed):
    assert {asset["asset_key"] for asset in listed["assets"]} == ASSETS
    assert len(listed["assets"]) == 11


def test_dg_list_defs_lists_every_asset_check_of_the_definitions(listed):
    expected = {key.to_user_string() for key in defs.resolve_asset_graph().asset_check_keys}
    keys = [check["key"] for check in listed["asset_checks"]]
    assert len(keys) == len(expected)
    assert set(keys) == expected
    for key in (
        "raw_video_events:unique_key",
        "raw_video_events:lines_reconcile",
        "raw_video_events_quarantine:quarantine_share",
        "video_catalog:catalog_rows_valid",
        "user_video_metrics:watch_seconds_match_intervals",
        "video_sessions:freshness_check",
    ):
        assert key in keys


def test_dg_list_defs_lists_the_job_schedule_and_resources(listed):
    assert [job["name"] for job in listed["jobs"]] == ["video_engagement_job"]
    assert [schedule["name"] for schedule in listed["schedules"]] == ["daily_engagement_schedule"]
    assert {"spark", "io_manager", "warehouse", "landing", "engagement", "step_launcher"} <= {
        resource["name"] for resource in listed["resources"]
    }


def test_dg_check_defs_passes(dg_runs):
    run = dg_runs["check"]
    assert run.returncode == 0, f"dg check defs failed:\n{run.stdout}\n{run.stderr}"
    assert "All definitions loaded successfully." in run.stdout


def test_dg_and_dagster_dev_load_the_same_module_under_the_same_location_name():
    tool = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]
    (entry,) = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())["load_from"]
    assert tool["dg"]["directory_type"] == "project"
    assert tool["dg"]["project"]["root_module"] == "video_assets"
    for module, name in (
        (tool["dg"]["project"]["code_location_target_module"], tool["dg"]["project"]["code_location_name"]),
        (tool["dagster"]["module_name"], tool["dagster"]["code_location_name"]),
    ):
        assert (module, name) == (entry["python_module"]["module_name"], entry["python_module"]["location_name"])
