"""The whole graph on a Spark Connect session (serverless and standard-access Databricks are Spark Connect).

The Connect runs are `video-assets run` in another process with
VIDEO_ASSETS_SPARK_REMOTE pointing at the tests' shared JVM (which serves
Spark Connect, with Delta); that process has no JVM of its own: JAVA_HOME
points nowhere, so any attempt to start one would fail the run. They go day
by day, so the second one MERGEs into the all-time table. The classic run is
one range run of the same landing through the same Definitions in this
process. Every stage, every check, the quarantine, the all-time MERGE and the
pictures run both ways; every table must be equal.
"""

import os
import subprocess
import sys

import dagster as dg
import pytest

from video_assets.sample_data import generate_landing
from video_assets.tables import TABLES
from video_assets_tests.assets.small_landing import ALL
from video_assets_tests.dagster_runs import materialize, snapshot_tables, tables_differ, use_folders

FIRST_DAY, LAST_DAY = "2024-03-04", "2024-03-05"
PICTURES = {"video_engagement_summary": "retention_top_videos", "user_video_metrics": "score_histogram"}


def _checks_by_name(evaluations) -> dict[str, bool]:
    """check -> passed; a check evaluated for several days or runs passed only if it passed every time."""
    outcome: dict[str, bool] = {}
    for e in evaluations:
        key = f"{e.asset_key.to_user_string()}:{e.check_name}"
        outcome[key] = outcome.get(key, True) and e.passed
    return outcome


def _metadata_keys(materializations) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for materialization in materializations:
        keys.setdefault(materialization.asset_key.to_user_string(), set()).update(materialization.metadata)
    return keys


@pytest.mark.slow
def test_the_whole_graph_on_spark_connect_equals_the_classic_run(
    spark, spark_connect_address, tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    generate_landing(
        landing, days=2, users=30, videos=8, seed=23, start_date=FIRST_DAY, bad_line_share=0.02,
        duplicate_share=0.02, formats=("jsonl.gz", "parquet"),
    )
    monkeypatch.setenv("VIDEO_ASSETS_PARTITION_START", FIRST_DAY)
    use_folders(monkeypatch, landing, tmp_path / "classic")
    classic = materialize(ALL, FIRST_DAY, LAST_DAY)
    assert classic.success

    home = tmp_path / "dagster_home"
    home.mkdir()
    environment = {
        **os.environ,
        "VIDEO_ASSETS_WAREHOUSE_DIR": str(tmp_path / "connect"),
        "VIDEO_ASSETS_SPARK_REMOTE": spark_connect_address,
        "DAGSTER_HOME": str(home),
        "JAVA_HOME": str(tmp_path / "no-java-here"),  # Spark's launcher runs $JAVA_HOME/bin/java
    }
    for day in (FIRST_DAY, LAST_DAY):
        run = subprocess.run(
            [sys.executable, "-m", "video_assets.cli", "run", "--from", day, "--to", day],
            env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=900,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]

    with dg.DagsterInstance.from_config(str(home)) as instance:
        events = [
            record.dagster_event
            for run_record in instance.get_run_records()
            for record in instance.all_logs(run_record.dagster_run.run_id)
            if record.dagster_event
        ]
    connect_checks = _checks_by_name(
        event.event_specific_data for event in events if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    )
    connect_metadata = _metadata_keys(
        event.event_specific_data.materialization
        for event in events
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    )

    # Every check of the classic run was evaluated on Connect too, with the same outcome.
    assert connect_checks == _checks_by_name(classic.get_asset_check_evaluations())
    assert len(connect_checks) >= 30
    # The same metadata (row counts, timings, pictures, the MERGE's metrics) on every asset.
    classic_metadata = _metadata_keys(e.materialization for e in classic.get_asset_materialization_events())
    for asset, picture in PICTURES.items():
        assert picture in connect_metadata[asset], (asset, sorted(connect_metadata[asset]))
    assert "merge_metrics" in connect_metadata["user_video_engagement"]  # the second day MERGEd
    # The all-time table's metadata differs by design between a first build and a MERGE.
    del connect_metadata["user_video_engagement"], classic_metadata["user_video_engagement"]
    assert connect_metadata == classic_metadata

    classic_tables = snapshot_tables(spark, tmp_path / "classic")
    assert set(classic_tables) == set(snapshot_tables(spark, tmp_path / "connect")) == set(TABLES)
    assert classic_tables["raw_video_events_quarantine"], "the landing's bad lines must reach the quarantine"
    for name in TABLES:
        assert classic_tables[name], f"{name} is empty: the generated landing should give every table rows"
        assert tables_differ(spark, tmp_path / "classic", tmp_path / "connect", name) is None
