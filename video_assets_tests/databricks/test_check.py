"""`video-assets databricks check` against the workspace emulator: every item passing, and items failing."""

import pytest

from video_assets import cli
from video_assets.databricks import workspace_check as databricks_check
from video_assets_tests.databricks.conftest import DBFS_STAGING, TOKEN, databricks_overrides
from video_assets_tests.databricks.emulator import DEFAULT_CLUSTER_ID

pytestmark = pytest.mark.databricks

VOLUME_STAGING = "/Volumes/main/video_assets/staging/check"
# A dependency list as the launcher should send it: nothing that brings a pyspark of its own.
CLEAN_DEPENDENCIES = ["pyyaml>=6", "pandera>=0.35,<0.36"]


@pytest.fixture
def check_env(emulator, tmp_path, monkeypatch):
    """The emulated workspace, a serverless environment staging on a volume, a warehouse folder of the test's."""
    monkeypatch.setenv("DATABRICKS_HOST", emulator.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    (tmp_path / "warehouse").mkdir()
    monkeypatch.setattr(databricks_check, "environment_dependencies", lambda _run_config: list(CLEAN_DEPENDENCIES))
    return databricks_overrides(
        run_config={**databricks_overrides()["databricks"]["run_config"], "cluster": {"serverless": {}}},
        staging_prefix=VOLUME_STAGING,
        poll_interval_sec=0.25,
    )


def _run_check(yaml_config, capsys) -> tuple[list[databricks_check.ItemResult], list[str]]:
    results = databricks_check.check_workspace(yaml_config, task_timeout_seconds=120)
    return results, capsys.readouterr().out.splitlines()


def test_a_ready_workspace_passes_every_item(emulator, check_env, tmp_path, capsys):
    runs_before = max(emulator.runs, default=0)
    results, lines = _run_check(check_env, capsys)
    assert [(r.item, r.status) for r in results] == [
        ("config", "ok"), ("auth", "ok"), ("staging", "ok"), ("dependencies", "ok"), ("task", "ok")
    ], lines
    assert lines == [result.line() for result in results]
    details = {result.item: result.detail for result in results}
    assert details["auth"] == f"{emulator.url} accepts the token of {emulator.user_name}"
    assert f"in {VOLUME_STAGING} and in /Workspace/Shared/video_assets" in details["staging"]
    assert "2 requirements resolve (uv, Python 3.12)" in details["dependencies"]
    assert "none of pyspark, pyspark-client, pyspark-connect, delta-spark" in details["dependencies"]
    assert "on serverless compute, environment 5: imported video_assets from code.zip, Spark 4." in details["task"]
    assert f"1 row in {tmp_path / 'warehouse'}/_video_assets_check_" in details["task"]

    # One run, on serverless, whose task imported the package from the uploaded code.zip.
    (run,) = [run for run_id, run in emulator.runs.items() if run_id > runs_before]
    assert run.result_state == "SUCCESS" and run.report["serverless"], run.driver_log
    assert run.report["video_assets_file"].startswith(str(run.run_dir / "tmp")), run.report
    assert run.task["spark_python_task"]["python_file"].startswith("/Workspace/Shared/video_assets/check_main-")
    # Nothing left behind: the check's table, the staging probes, the probe script.
    assert list((tmp_path / "warehouse").iterdir()) == []
    staging = emulator.local_path(VOLUME_STAGING)
    assert not staging.exists() or list(staging.iterdir()) == []
    assert not [p for p in emulator.local_path("/Workspace/Shared/video_assets").iterdir() if "_check-" in p.name]
    assert not any(TOKEN in line for line in lines)


def test_an_existing_cluster_with_dbfs_staging_passes_too(emulator, check_env, tmp_path, capsys):
    """The legacy layout: the task's script staged on DBFS (a cloud file URI), run on the all-purpose cluster."""
    dbfs = {
        **check_env,
        "databricks": {
            **check_env["databricks"], "staging_prefix": DBFS_STAGING,
            "run_config": {**check_env["databricks"]["run_config"], "cluster": {"existing": DEFAULT_CLUSTER_ID}},
        },
    }
    runs_before = max(emulator.runs, default=0)
    results, lines = _run_check(dbfs, capsys)
    assert [r.status for r in results] == ["ok"] * 5, lines
    assert f"wrote, read back and deleted a file in {DBFS_STAGING}" == results[2].detail
    assert f"on cluster {DEFAULT_CLUSTER_ID}: imported video_assets from code.zip" in results[4].detail
    (run,) = [run for run_id, run in emulator.runs.items() if run_id > runs_before]
    assert run.report["attached"], "the task used the cluster's own Spark"
    python_file = run.task["spark_python_task"]["python_file"]
    assert python_file.startswith(f"dbfs:///{DBFS_STAGING.strip('/')}/_check-") and python_file.endswith("/check_main.py")
    assert list((tmp_path / "warehouse").iterdir()) == []
    assert not emulator.local_path(python_file).parent.exists(), "the check's staging folder was removed"


def test_a_rejected_token_fails_auth_and_nothing_else_is_attempted(emulator, check_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-not-the-right-one")
    requests_before, runs_before = len(emulator.requests), max(emulator.runs, default=0)
    results, lines = _run_check(check_env, capsys)
    assert [(r.item, r.status) for r in results] == [
        ("config", "ok"), ("auth", "FAILED"), ("staging", "skipped"), ("dependencies", "skipped"),
        ("task", "skipped"),
    ]
    auth = results[1].detail
    assert auth.startswith(f"{emulator.url} rejected the token in DATABRICKS_TOKEN (PermissionDenied: Invalid access token.)")
    assert "Create a token for this workspace" in auth and "DATABRICKS_HOST" in auth
    assert all(result.detail == "(fix auth first)" for result in results[2:])
    # The one call was "who am I"; nothing was written or submitted, and the token was not printed.
    assert [(r.method, r.path, r.status) for r in emulator.requests[requests_before:]] == [
        ("GET", "/api/2.0/preview/scim/v2/Me", 403)
    ]
    assert max(emulator.runs, default=0) == runs_before
    assert not any("dapi-not-the-right-one" in line for line in lines)


def test_dependencies_that_bring_pyspark_fail_and_say_which(emulator, check_env, monkeypatch, capsys):
    monkeypatch.setattr(
        databricks_check, "environment_dependencies", lambda _run_config: ["pyyaml>=6", "pandera[pyspark]>=0.35,<0.36"]
    )
    runs_before = max(emulator.runs, default=0)
    results, _lines = _run_check(check_env, capsys)
    assert [(r.item, r.status) for r in results] == [
        ("config", "ok"), ("auth", "ok"), ("staging", "ok"), ("dependencies", "FAILED"), ("task", "skipped"),
    ]
    detail = results[3].detail
    assert "would install pyspark==4." in detail and "(from pandera[pyspark]>=0.35,<0.36)" in detail, detail
    assert "stops the session" in detail and "databricks.run_config.libraries" in detail
    assert max(emulator.runs, default=0) == runs_before


def test_a_task_that_cannot_write_the_warehouse_fails_with_the_remote_error(emulator, check_env, monkeypatch, capsys):
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", "unmountedfs://warehouse-bucket/video_assets")
    results, _lines = _run_check(check_env, capsys)
    assert [(r.item, r.status) for r in results][-1] == ("task", "FAILED")
    detail = results[-1].detail
    assert "No FileSystem for scheme" in detail and "unmountedfs" in detail, detail
    assert "See the run's output in the workspace" in detail


def test_the_command_line_prints_one_line_per_item_and_exits_nonzero_on_a_failure(check_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-not-the-right-one")
    monkeypatch.setattr(databricks_check.config, "load_environment_config", lambda _env: check_env)
    assert cli.main(["databricks", "check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["config", "auth", "staging", "dependencies", "task"]
    assert lines[2].split()[1] == "FAILED" and "dapi-not-the-right-one" not in "\n".join(lines)
