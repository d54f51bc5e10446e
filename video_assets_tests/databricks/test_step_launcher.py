"""The asset graph on "Databricks": the real dagster-databricks step launcher against the workspace emulator.

Runs go through dagster.execute_job on a reconstructable job of
video_assets.definitions (materialize() cannot run step launchers). Each
step becomes one emulated Databricks run: a fresh Python process that gets
only the uploaded code.zip, attached to a warm all-purpose cluster JVM
(or starting its own Spark for a `new:` job cluster).
"""

import json
import os
import signal
import threading
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from video_assets import config as project_config
from video_assets.databricks import launcher as databricks
from video_assets_tests.databricks.conftest import (
    DBFS_STAGING,
    SECRETS,
    databricks_env,
    databricks_overrides,
    materialize_locally,
    run_asset_job,
    staging_folder,
)
from video_assets_tests.databricks.emulator import DEFAULT_CLUSTER_ID, ENDPOINTS
from video_assets_tests.runtimes import SPARK_LINES

pytestmark = pytest.mark.databricks

DAY = "2024-05-01"
FAST_POLL = {"poll_interval_sec": 0.25}
EXISTING_CLUSTER = {"cluster": {"existing": DEFAULT_CLUSTER_ID}}
CATALOG_CSV = (
    "video_id,title,duration_seconds,category,published_at\n"
    "v1,Intro to Spark,600,howto,2024-04-01T00:00:00Z\n"
    "v2,Delta deep dive,300,howto,2024-04-02T00:00:00Z\n"
)


def _event(event_id, when, user, video, name, position, **extra):
    return json.dumps(
        {"eventId": event_id, "timestamp": f"{DAY}T{when}Z", "userId": user, "videoId": video,
         "eventName": name, "currentTime": position, **extra}
    )


LANDING_LINES = [
    # u1 watches v1 most of the way with a pause, then finishes it
    _event("e01", "10:00:00", "u1", "v1", "play", 0, videoDuration=600),
    _event("e02", "10:04:00", "u1", "v1", "pause", 240),
    _event("e03", "10:06:00", "u1", "v1", "resume", 240),
    _event("e04", "10:11:00", "u1", "v1", "end", 540),
    # u2 samples v1, seeks ahead, then watches all of v2
    _event("e05", "11:00:00", "u2", "v1", "play", 0),
    _event("e06", "11:01:00", "u2", "v1", "seek", 400, fromPosition=60),
    _event("e07", "11:02:00", "u2", "v1", "pause", 460),
    _event("e08", "12:00:00", "u2", "v2", "start", 0),
    _event("e09", "12:02:30", "u2", "v2", "heartbeat", 150),
    _event("e10", "12:05:00", "u2", "v2", "completed", 300),
    # u3: two sessions on v2 more than 30 min apart
    _event("e11", "08:00:00", "u3", "v2", "play", 0),
    _event("e12", "08:01:00", "u3", "v2", "pause", 60),
    _event("e13", "09:30:00", "u3", "v2", "play", 60),
    _event("e14", "09:32:00", "u3", "v2", "end", 180),
    _event("e14", "09:32:00", "u3", "v2", "end", 180),  # a retried line: duplicate eventId
    '{"eventId": "broken", "timestamp": ',  # malformed: quarantined
]


def write_landing(root: Path) -> Path:
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "videos.csv").write_text(CATALOG_CSV)
    day = root / "events" / f"date={DAY}"
    day.mkdir(parents=True)
    (day / "player-1.jsonl").write_text("\n".join(LANDING_LINES) + "\n")
    return root


@pytest.fixture
def landing(tmp_path) -> Path:
    return write_landing(tmp_path / "landing")


def _delta_tables(warehouse: Path) -> list[str]:
    return sorted(p.name for p in warehouse.iterdir() if (p / "_delta_log").is_dir()) if warehouse.exists() else []


def _rows(frame) -> list[str]:
    """A small table's rows, canonical (JSON, keys sorted) and sorted: equal lists mean equal multisets of rows."""
    return sorted(json.dumps(row.asDict(recursive=True), sort_keys=True, default=str) for row in frame.collect())


def _assert_same_table(spark, name: str, expected_path: Path, actual_path: Path) -> None:
    expected = spark.read.format("delta").load(str(expected_path))
    actual = spark.read.format("delta").load(str(actual_path))
    assert [(f.name, f.dataType.simpleString()) for f in actual.schema.fields] == [
        (f.name, f.dataType.simpleString()) for f in expected.schema.fields
    ], f"{name}: schemas differ"
    expected_rows, actual_rows = _rows(expected), _rows(actual)
    assert expected_rows, f"{name} is empty: the hand-written landing should give every table rows"
    assert actual_rows == expected_rows, (
        f"{name}: rows differ; only on Databricks: {sorted(set(actual_rows) - set(expected_rows))[:3]}, "
        f"only local: {sorted(set(expected_rows) - set(actual_rows))[:3]}"
    )


def _launched_runs(emulator, since: int) -> list:
    return [run for run_id, run in sorted(emulator.runs.items()) if run_id > since]


def _submits(emulator) -> int:
    return sum(1 for request in emulator.requests if request.path.endswith("/jobs/runs/submit"))


def _last_run_id(emulator) -> int:
    return max(emulator.runs, default=0)


VOLUME_STAGING = "/Volumes/main/video_assets/staging/dagster"
# What every step gets installed on Databricks: resources/databricks.yaml's libraries, and dagster pinned.
STEP_DEPENDENCIES = ["pandera>=0.35,<0.36", "pyyaml>=6", "matplotlib>=3.10,<3.12", f"dagster=={dg.__version__}"]


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    """The hand-written landing and the graph's tables for DAY from a local run: what every mode must equal."""
    root = tmp_path_factory.mktemp("reference")
    landing = write_landing(root / "landing")
    with pytest.MonkeyPatch.context() as monkeypatch:
        local = materialize_locally(
            monkeypatch,
            {"VIDEO_ASSETS_LANDING_DIR": str(landing), "VIDEO_ASSETS_WAREHOUSE_DIR": str(root / "local")},
            partition=DAY,
        )
    assert local.success
    checks = {
        (e.asset_key.to_user_string(), e.check_name)
        for e in local.get_asset_check_evaluations()
        if e.check_name != "freshness_check"
    }
    return landing, root / "local", checks


RAW_STEP = ("raw_video_events", "raw_video_events_quarantine")


def _remote_run_matching_local(emulator, spark, local_reference, tmp_path, monkeypatch, only=None, **databricks):
    """One day of the whole graph (or of the assets ``only`` names, one step) through the launcher: a run per
    step, every check evaluated, tables equal to local."""
    landing, local_warehouse, local_checks = local_reference
    if only:
        local_checks = {(asset, check) for asset, check in local_checks if asset in only}
    config = databricks_overrides(
        run_config={**databricks_overrides()["databricks"]["run_config"], **databricks.pop("run_config", {})},
        **FAST_POLL,
        **databricks,
    )
    before = _last_run_id(emulator)
    submits_before, mismatches_before = _submits(emulator), len(emulator.sdk_mismatches)
    unknown_before = len(emulator.unknown_requests)  # the emulator is shared: this run's requests only
    remote = run_asset_job(
        monkeypatch, databricks_env(emulator, landing, tmp_path / "remote"), partition=DAY, config=config,
        selection=[dg.AssetKey(name) for name in only] if only else None,
    )
    assert remote.success, remote.text()
    # Every Spark step of the graph: seven (the video and platform summaries are one step, the two all-time
    # tables another).
    expected_runs = 1 if only else 7

    # Every step of the plan ran as its own Databricks run, and nothing else was called. Checks run inside
    # their asset's step, so a day of the whole graph is one launch per asset step: 7 runs, 7 submits.
    step_keys = {event.step_key for event in remote.result.all_events if event.is_step_success}
    # The partition freshness checks read Dagster's event log only: their step stays on the launching side.
    spark_steps = {key for key in step_keys if not key.startswith("freshness_check")}
    runs = _launched_runs(emulator, before)
    assert len(runs) == len(spark_steps) == expected_runs
    assert _submits(emulator) - submits_before == expected_runs
    assert all(run.result_state == "SUCCESS" and run.life_cycle_state == "TERMINATED" for run in runs)
    assert emulator.unknown_requests[unknown_before:] == []
    assert {f"{r.method} {r.path}" for r in emulator.requests} <= set(ENDPOINTS)
    assert emulator.sdk_mismatches[mismatches_before:] == [], "fields databricks-sdk's request classes do not know"
    # Every check the local run evaluated came back from the remote steps (the freshness checks, evaluated
    # on the launching side from Dagster's event log, aside).
    remote_checks = {
        (e.asset_key.to_user_string(), e.check_name)
        for e in remote.result.get_asset_check_evaluations()
        if e.check_name != "freshness_check"
    }
    assert remote_checks == local_checks and len(local_checks) >= (8 if only else 30)

    # Identical tables, table by table.
    local_tables = [name for name in _delta_tables(local_warehouse) if not only or name in only]
    assert local_tables and _delta_tables(tmp_path / "remote") == local_tables
    for name in local_tables:
        _assert_same_table(spark, name, local_warehouse / name, tmp_path / "remote" / name)
    return remote, runs


def test_a_step_on_an_existing_cluster_with_dbfs_staging_matches_a_local_run(
    emulator, spark, local_reference, tmp_path, monkeypatch
):
    """DBFS staging, an existing all-purpose cluster: the legacy path, for workspaces that still have a DBFS root.

    One step (the raw stage's two tables): the whole graph through the launcher is the serverless test's; what
    differs here (staging, attaching to the cluster's Spark, code.zip, libraries) is per step.
    """
    remote, runs = _remote_run_matching_local(
        emulator, spark, local_reference, tmp_path, monkeypatch, only=RAW_STEP,
        run_config=EXISTING_CLUSTER, staging_prefix=DBFS_STAGING,
        secrets_to_env_variables=[{"name": "VIDEO_ASSETS_SECRET_PROBE", "scope": "video-assets", "key": "probe"}],
        keep_staging_files=True,  # code.zip is looked at below
    )
    landing = local_reference[0]
    for run in runs:
        report = run.report
        # The step imported video_assets from the uploaded code.zip (extracted into the run's TMPDIR),
        # not from the project checkout that is on this machine.
        assert report["video_assets_file"].startswith(str(run.run_dir / "tmp")), report
        assert not report["video_assets_file"].startswith(str(project_config.PROJECT_ROOT)), report
        assert report["attached"], "a run on an existing cluster reuses the cluster's Spark"
        # The cluster saw the launching side's settings and the exported secret, not this process's env.
        assert report["environment"]["VIDEO_ASSETS_ENV"] == "databricks"
        assert report["environment"]["VIDEO_ASSETS_WAREHOUSE_DIR"] == str(tmp_path / "remote")
        assert report["environment"]["VIDEO_ASSETS_LANDING_DIR"] == str(landing)
        assert report["environment"]["VIDEO_ASSETS_SECRET_PROBE"] == SECRETS["video-assets/probe"]

    # What was submitted: the step's own libraries (the YAML's, and dagster pinned to the local version), not
    # dagster-databricks' defaults, whose dagster-pyspark would install pyspark over the cluster's.
    task = runs[0].task
    packages = sorted(lib["pypi"]["package"] for lib in task["libraries"] if "pypi" in lib)
    assert packages == sorted(STEP_DEPENDENCIES)
    assert task["existing_cluster_id"] == DEFAULT_CLUSTER_ID
    python_file = task["spark_python_task"]["python_file"]
    # Our entry point (no SparkContext needed), not dagster-databricks' (no storage keys configured).
    assert python_file.startswith("dbfs:///dagster_staging/video_assets/") and python_file.endswith("step_main.py")
    assert not python_file.endswith("databricks_step_main.py")
    # code.zip holds the package and the environment YAMLs, nothing of the rest of the checkout.
    with zipfile.ZipFile(emulator.local_path(python_file).with_name("code.zip")) as archive:
        names = archive.namelist()
    assert "video_assets/__init__.py" in names and "video_assets/definitions.py" in names
    assert "resources/databricks.yaml" in names
    assert not [n for n in names if not n.startswith(("video_assets/", "resources/")) or "__pycache__" in n]

    # The remote logs came back: the asset's own log lines and the captured stdout of the step.
    assert any("Captured stdout for step" in message for message in remote.messages)
    assert any("Writing raw_video_events" in message for message in remote.messages)


def _serverless(line: str) -> dict:
    return {"cluster": {"serverless": {"environment_version": SPARK_LINES[line].serverless_environment_version}}}


def _assert_ran_in_the_serverless_environment(run, line: str, connect_server_of) -> None:
    """No cluster, no libraries: an environment with the step's dependencies, installed with pip over that
    version's databricks-connect (whose pyspark module is the only one there), on a Spark Connect server of its line."""
    assert run.task["environment_key"] and not {"existing_cluster_id", "new_cluster", "libraries"} & set(run.task)
    [environment] = run.request["environments"]
    assert environment["spec"]["environment_version"] == SPARK_LINES[line].serverless_environment_version
    assert sorted(environment["spec"]["dependencies"]) == sorted(STEP_DEPENDENCIES)
    report = run.report
    assert report["serverless"] and not report["attached"], report
    assert report["spark_remote"] == connect_server_of(line)
    assert report["python"] == "3.12"
    installed = report["distributions"]
    assert installed["databricks-connect"].startswith(SPARK_LINES[line].databricks_connect.rstrip("*"))
    assert installed["dagster"] == dg.__version__ and "pandera" in installed
    assert not {"pyspark", "pyspark-client", "pyspark-connect", "delta-spark", "dagster-databricks",
                "dagster-pyspark"} & set(installed), installed


@pytest.mark.runtimes
def test_whole_graph_on_serverless_with_volume_staging_matches_a_local_run(
    emulator, spark, local_reference, tmp_path, monkeypatch, connect_server_of
):
    """What an account opened today has: staging on a Unity Catalog volume, serverless jobs compute, here the
    environment of DBR 17.3's client (databricks-connect 17.3 on Spark 4.0): every table equal to the local run's,
    the all-time MERGE's included."""
    requests_before = len(emulator.requests)
    remote, runs = _remote_run_matching_local(
        emulator, spark, local_reference, tmp_path, monkeypatch,
        run_config=_serverless("4.0"),
        staging_prefix=VOLUME_STAGING,
        secrets_to_env_variables=[{"name": "VIDEO_ASSETS_SECRET_PROBE", "scope": "video-assets", "key": "probe"}],
    )
    for run in runs:
        _assert_ran_in_the_serverless_environment(run, "4.0", connect_server_of)
        # The entry script is a workspace file (a kind the Jobs API documents for python_file); the step's
        # files are on the volume.
        python_file = run.task["spark_python_task"]["python_file"]
        assert python_file.startswith(databricks.DEFAULT_WORKSPACE_FOLDER + "/step_main-"), python_file
        assert emulator.local_path(python_file).read_bytes() == Path(databricks.step_main.__file__).read_bytes()
        assert all(p.startswith(VOLUME_STAGING + "/") for p in run.task["spark_python_task"]["parameters"])
        assert run.report["environment"]["VIDEO_ASSETS_SECRET_PROBE"] == SECRETS["video-assets/probe"]
    # Staged through the Files API, never DBFS; each step's folder removed once read back.
    called = {f"{r.method} {r.path}" for r in emulator.requests[requests_before:]}
    assert "PUT /api/2.0/fs/files/{path}" in called and "GET /api/2.0/fs/files/{path}" in called
    assert "POST /api/2.0/workspace/import" in called  # the entry script
    assert not [path for path in called if "/dbfs/" in path]
    run_folder = emulator.local_path(f"{VOLUME_STAGING}/{remote.result.run_id}")
    assert run_folder.is_dir() and not any(run_folder.iterdir()), sorted(run_folder.rglob("*"))
    assert any("Captured stdout for step" in message for message in remote.messages)


@pytest.mark.runtimes
def test_a_step_on_the_newest_serverless_environment_matches_a_local_run(
    emulator, spark, local_reference, tmp_path, monkeypatch, connect_server_of
):
    """The other supported environment version (databricks-connect 18.3 on Spark 4.1): one step, the raw stage."""
    _, runs = _remote_run_matching_local(
        emulator, spark, local_reference, tmp_path, monkeypatch, only=RAW_STEP, run_config=_serverless("4.1"),
        staging_prefix=VOLUME_STAGING,
    )
    [run] = runs
    _assert_ran_in_the_serverless_environment(run, "4.1", connect_server_of)


def test_volume_staging_on_an_existing_cluster_and_a_dbfs_prefix_without_a_dbfs_root(
    emulator, local_reference, tmp_path, monkeypatch
):
    """Volume staging with dagster-databricks' own entry point; a DBFS prefix where DBFS is off says what to set."""
    landing = local_reference[0]
    # Both configurations now: a run leaves resources/databricks.yaml replaced by its own for this test.
    on_dbfs = databricks_overrides(
        run_config={**databricks_overrides()["databricks"]["run_config"], **EXISTING_CLUSTER},
        staging_prefix=DBFS_STAGING, **FAST_POLL,
    )
    volume = {**on_dbfs, "databricks": {**on_dbfs["databricks"], "staging_prefix": VOLUME_STAGING}}
    before = _last_run_id(emulator)
    on_volume = run_asset_job(
        monkeypatch, databricks_env(emulator, landing, tmp_path / "remote"), partition=None,
        selection=[dg.AssetKey("video_catalog")], config=volume,
    )
    assert on_volume.success, on_volume.text()
    (run,) = _launched_runs(emulator, before)
    assert run.task["spark_python_task"]["python_file"].startswith(databricks.DEFAULT_WORKSPACE_FOLDER + "/")
    assert staging_folder(emulator, run).is_relative_to(emulator.local_path(VOLUME_STAGING))
    assert run.report["attached"]

    emulator.dbfs_root_disabled = True
    try:
        requests_before = len(emulator.requests)
        refused = run_asset_job(
            monkeypatch, databricks_env(emulator, landing, tmp_path / "remote"), partition=None,
            selection=[dg.AssetKey("video_catalog")], config=on_dbfs,
        )
    finally:
        emulator.dbfs_root_disabled = False
    assert not refused.success
    (failure,) = refused.failures()
    assert "has no DBFS root" in failure and "databricks.staging_prefix" in failure and "/Volumes/" in failure
    assert not any(r.path.endswith("/jobs/runs/submit") for r in emulator.requests[requests_before:])


def test_a_failing_asset_on_a_new_job_cluster_fails_the_step_with_the_remote_error(
    emulator, landing, tmp_path, monkeypatch
):
    # A landing location the cluster cannot read: the asset itself fails on the cluster.
    env = databricks_env(emulator, landing, tmp_path / "remote")
    env["VIDEO_ASSETS_LANDING_DIR"] = "unmountedfs://landing-bucket/video_assets"
    before = _last_run_id(emulator)
    outcome = run_asset_job(
        monkeypatch, env, partition=None, selection=[dg.AssetKey("video_catalog")],
        config=databricks_overrides(**FAST_POLL),  # the committed new-cluster spec
    )
    assert not outcome.success
    failures = outcome.failures()
    assert len(failures) == 1 and "video_catalog" in outcome.text()
    assert "No FileSystem for scheme" in failures[0] and "unmountedfs" in failures[0], failures[0]

    (run,) = _launched_runs(emulator, before)
    # The Databricks run itself succeeded: the step failed inside it and reported that back as events.
    assert run.result_state == "SUCCESS", run.driver_log
    # Its events and logs were read back, then its staging folder went (keep_staging_files is off); the
    # entry script, a workspace file shared by every step, stays.
    staging = staging_folder(emulator, run)
    assert staging.is_relative_to(emulator.local_path(databricks_overrides()["databricks"]["staging_prefix"]))
    assert staging.parent.is_dir() and not staging.exists(), sorted(staging.parent.rglob("*"))
    assert emulator.local_path(run.task["spark_python_task"]["python_file"]).is_file()
    assert any("Captured stderr for step video_catalog" in message for message in outcome.messages)
    assert not run.report["attached"], "a new job cluster starts its own Spark"
    new_cluster = run.task["new_cluster"]
    assert new_cluster["node_type_id"] and new_cluster["num_workers"] == 1
    assert ("__dagster_version", dg.__version__) in {(t, v) for t, v in new_cluster["custom_tags"].items()}


def test_a_missing_secret_fails_the_run_clearly(emulator, landing, tmp_path, monkeypatch):
    config = databricks_overrides(
        run_config={**databricks_overrides()["databricks"]["run_config"], **EXISTING_CLUSTER},
        secrets_to_env_variables=[{"name": "SOME_API_KEY", "scope": "video-assets", "key": "not-there"}],
        **FAST_POLL,
    )
    before = _last_run_id(emulator)
    outcome = run_asset_job(
        monkeypatch, databricks_env(emulator, landing, tmp_path / "remote"), partition=None,
        selection=[dg.AssetKey("video_catalog")], config=config,
    )
    assert not outcome.success
    (failure,) = outcome.failures()
    assert "FAILED" in failure
    assert "Secret does not exist with scope: video-assets and key: not-there" in failure, failure
    (run,) = _launched_runs(emulator, before)
    assert (run.life_cycle_state, run.result_state) == ("TERMINATED", "FAILED")
    assert not (tmp_path / "remote").exists(), "nothing may be written when the step cannot start"


def test_a_wrong_token_fails_with_an_authentication_error(emulator, landing, tmp_path, monkeypatch):
    before = _last_run_id(emulator)
    outcome = run_asset_job(
        monkeypatch, databricks_env(emulator, landing, tmp_path / "remote", token="dapi-wrong-token"),
        partition=None, selection=[dg.AssetKey("video_catalog")], config=databricks_overrides(**FAST_POLL),
    )
    assert not outcome.success
    (failure,) = outcome.failures()
    assert "DatabricksAuthenticationError" in failure and "rejected the credentials in DATABRICKS_TOKEN" in failure
    assert "Invalid access token" in failure
    assert "dapi-wrong-token" not in outcome.text(), "the token must never be logged"
    assert _last_run_id(emulator) == before, "nothing was submitted"


def test_missing_credentials_fail_before_anything_is_uploaded(emulator, landing, tmp_path, monkeypatch):
    env = databricks_env(emulator, landing, tmp_path / "remote")
    del env["DATABRICKS_TOKEN"]
    requests_before = len(emulator.requests)
    outcome = run_asset_job(
        monkeypatch, env, partition=None, selection=[dg.AssetKey("video_catalog")],
        config=databricks_overrides(**FAST_POLL),
    )
    assert not outcome.success
    assert "needs DATABRICKS_TOKEN" in outcome.text()
    assert len(emulator.requests) == requests_before


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_cancelling_the_dagster_run_cancels_the_databricks_run(emulator, landing, tmp_path, monkeypatch):
    before = _last_run_id(emulator)

    def interrupt_once_the_task_runs():
        # Like `dagster run terminate` / the UI's Terminate: the run worker gets SIGINT.
        run = emulator.wait_for(
            lambda e: next((r for r in _launched_runs(e, before) if r.life_cycle_state == "RUNNING"), None),
            timeout=120,
        )
        assert run.process is not None
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt_once_the_task_runs, daemon=True)
    watcher.start()
    outcome = run_asset_job(
        monkeypatch, databricks_env(emulator, landing, tmp_path / "remote"), partition=None,
        selection=[dg.AssetKey("video_catalog")], config=databricks_overrides(**FAST_POLL),
    )
    watcher.join(timeout=5)
    assert not outcome.success
    (run,) = _launched_runs(emulator, before)
    assert run.run_id in emulator.cancel_requests
    emulator.wait_for(lambda e: run.life_cycle_state == "TERMINATED", timeout=30)
    assert run.result_state == "CANCELED" and run.user_cancelled
    assert run.process.poll() is not None, "the task's process was stopped"
