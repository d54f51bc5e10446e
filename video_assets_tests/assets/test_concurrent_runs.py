"""Two writers of one table: Delta commit races are recognised and located; two runs started together take turns."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from video_assets.io.delta import _conflict_kind, _touches_days
from video_assets_tests.assets.small_landing import record, snapshot, write_day
from video_assets_tests.dagster_runs import read_table

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_a_commit_race_is_recognised_and_located():
    assert _conflict_kind(RuntimeError("io.delta.exceptions.ConcurrentAppendException: Files were added")) == (
        "ConcurrentAppendException"
    )
    assert _conflict_kind(RuntimeError("[DELTA_CONCURRENT_APPEND.WITH_PARTITION_HINT] ...")) == "DELTA_CONCURRENT_APPEND"
    assert _conflict_kind(ValueError("a bug")) is None
    rival = {"predicate": "[\"(event_date >= DATE'2024-01-16' AND event_date < DATE'2024-01-18')\"]", "mode": "Overwrite"}
    assert _touches_days(rival, ("2024-01-17", "2024-01-18"))
    assert not _touches_days(rival, ("2024-01-15", "2024-01-16"))
    assert _touches_days({"predicate": None, "mode": "Overwrite"}, ("2024-01-15", "2024-01-16"))
    assert not _touches_days({"predicate": None, "mode": "Append"}, ("2024-01-15", "2024-01-16"))


DAY = "2024-01-17"  # a day of its own: no session of the fixture's days closes on it


@pytest.mark.slow
def test_two_runs_of_one_day_started_together_both_end_correct(
    spark, spark_connect_address, landing, warehouse_dir, tmp_path, monkeypatch
):
    """`video-assets run` twice at once for the same day, on one Dagster home with the project's dagster.yaml.

    Each run is its own process with its own Spark session, as two cron jobs or
    two deploys would be; both reach the tests' shared JVM through Spark
    Connect, as deploys on one Spark server do. They start alike, so they reach
    the raw step together: when one of them started a JVM of its own, it came
    to each step about 10 s behind the other and, on one day of data, once
    never met it at a pool (2026-12-05). Starting Spark in a process is what
    the tests' shared session does (`SparkResource`). Both write the same
    partition of every daily table and MERGE into the same all-time tables; the
    pools of dagster.yaml make their writers of a table take turns, so neither
    loses a Delta commit race, no rerun is needed, and the day counts once.
    """
    write_day(landing, DAY, [
        record(DAY, "09:00:00", "dee", "v180", "play", 0),
        record(DAY, "09:02:00", "dee", "v180", "pause", 120),
        record(DAY, "20:00:00", "eve", "v300", "play", 0),
        record(DAY, "20:05:00", "eve", "v300", "end", 300),
    ])
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    # The instance's storage exists before the runs, as under `dagster dev` (two processes creating a
    # fresh SQLite storage at once collide on its schema, a set-up race that is not this test's subject).
    # So do the pools' slots: two processes that both use a pool for the first time can each allocate
    # its one slot (Dagster initializes a pool's default limit on first claim, unlocked); on an instance
    # that has run the graph once, as any instance that runs it daily has, the slots exist.
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    from video_assets.definitions import defs

    pools = {op.pool for op in defs.resolve_job_def("video_engagement_job").all_node_defs if op.pool}
    assert {"writes_raw_video_events", "writes_user_video_engagement", "writes_video_engagement_summary"} <= pools, pools
    with dg.DagsterInstance.get() as instance:
        for pool in pools:
            instance.event_log_storage.initialize_concurrency_limit_to_default(pool)
    # The shared JVM runs with the tests' Spark settings (spark_settings.py): on 2 cores per-query compilation
    # would be most of this test's time.
    connected_spark = {**os.environ, "VIDEO_ASSETS_SPARK_REMOTE": spark_connect_address}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "video_assets.cli", "run", "--from", DAY, "--to", DAY],
            env=connected_spark, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-4000:]

    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records()
        assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * 2
        failed_checks = [
            (e.asset_key.to_user_string(), e.dagster_event.event_specific_data.check_name)
            for r in records
            for e in instance.all_logs(r.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            if not e.dagster_event.event_specific_data.passed
        ]
        assert failed_checks == []
        waited = [
            e for r in records for e in instance.all_logs(r.dagster_run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
            if "blocked by limit for pool writes_" in (e.dagster_event.message or "")
        ]
    assert waited, "neither run waited for a pool slot: the two runs did not overlap"

    metrics = snapshot(spark, warehouse_dir, "user_video_metrics")
    assert [(r["metric_date"].isoformat(), r["user_id"], r["total_watch_seconds"]) for r in metrics] == [
        (DAY, "dee", 120.0), (DAY, "eve", 300.0),
    ]
    # The day counts once in the all-time table, though both runs merged it.
    lifetime = {(r["user_id"], r["video_id"]): r for r in snapshot(spark, warehouse_dir, "user_video_engagement")}
    assert sorted(lifetime) == [("dee", "v180"), ("eve", "v300")]
    assert (lifetime[("dee", "v180")]["total_watch_seconds"], lifetime[("dee", "v180")]["active_days"]) == (120.0, 1)
    assert lifetime[("eve", "v300")]["completed_at_least_once"] is True
    videos = {r["video_id"]: r for r in snapshot(spark, warehouse_dir, "video_lifetime_summary")}
    assert {video: (r["viewers"], r["total_watch_seconds"], r["completed_viewers"]) for video, r in videos.items()} == {
        "v180": (1, 120.0, 0), "v300": (1, 300.0, 1),
    }
    raw_days = read_table(spark, warehouse_dir, "raw_video_events").groupBy("event_date").count()
    assert {r["event_date"].isoformat(): r["count"] for r in raw_days.collect()} == {DAY: 4}
