"""The whole graph on a Spark Connect session (serverless and standard-access Databricks are Spark Connect).

The Connect runs are `video-assets run` in another process with
VIDEO_ASSETS_SPARK_REMOTE pointing at the tests' shared JVM (which serves
Spark Connect, with Delta); that process has no JVM of its own: JAVA_HOME
points nowhere, so any attempt to start one would fail the run. They go day
by day, so the second one MERGEs into the all-time table. The classic run is
the session's default run (one range run of the same landing, in this
process). Every stage, every check, the quarantine, the all-time MERGE and the
pictures run both ways; every table must be equal.
"""

import sys
from pathlib import Path

import pytest

from video_assets.tables import TABLES
from video_assets_tests.whole_graph import child_environment, run_in_child, same_as_default

PICTURES = {
    "video_engagement_summary": "retention_top_videos",
    "user_video_metrics": "score_histogram",
    "video_platform_summary": "platform_mix",
}


@pytest.mark.slow
def test_the_whole_graph_on_spark_connect_equals_the_classic_run(spark, spark_connect_address, default_run, tmp_path):
    environment = child_environment(
        VIDEO_ASSETS_SPARK_REMOTE=spark_connect_address,
        JAVA_HOME=str(tmp_path / "no-java-here"),  # Spark's launcher runs $JAVA_HOME/bin/java
    )
    sessions_before = open_connect_sessions(spark)
    connect = run_in_child(Path(sys.executable), environment, tmp_path, default_run.landing)
    # Each step released the Connect session it opened: the server holds none of them for its idle hour.
    assert open_connect_sessions(spark) - sessions_before == set()

    assert len(connect.checks) >= 30
    # The pictures and the MERGE's metrics were made on Connect too.
    for asset, picture in PICTURES.items():
        assert picture in connect.metadata_keys[asset], (asset, sorted(connect.metadata_keys[asset]))
    assert "merge_metrics" in connect.metadata_keys["user_video_engagement"]  # the second day MERGEd
    assert "merge_metrics" in connect.metadata_keys["video_lifetime_summary"]
    # Every check of the classic run with the same outcome, the same metadata, the same rows in every table.
    assert {p.name for p in connect.warehouse.iterdir() if (p / "_delta_log").is_dir()} == set(TABLES)
    assert default_run.rows(spark, "raw_video_events_quarantine"), "the landing's bad lines must reach the quarantine"
    same_as_default(spark, default_run, connect)


def open_connect_sessions(spark) -> set[str]:
    """The ids of the sessions the shared JVM's Spark Connect server holds open now."""
    service = getattr(spark._jvm.org.apache.spark.sql.connect.service, "SparkConnectService$")  # Scala's object
    manager = getattr(service, "MODULE$").sessionManager()
    sessions = manager.listActiveSessions()
    return {sessions.apply(index).sessionId() for index in range(sessions.length())}
