"""What a table write reports: its own rows and its own commit, whatever another writer commits around it."""

import json
import logging
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from video_assets.io.delta import DeltaTableLocation, DeltaWarehouse
from video_assets.frames import literal_frame
from video_assets.tables import table_spec

TABLE = "watch_intervals"  # partitioned by session_date
DAYS = ("2024-01-15", "2024-01-16")
LOG = logging.getLogger(__name__)


@pytest.fixture
def warehouse(spark_resource, tmp_path):
    return DeltaWarehouse(location=str(tmp_path / "warehouse"), spark=spark_resource)


def _rows(spark, day: str, users: list[str]):
    """One row of 10 watched seconds per user on ``day``; the table's other columns null (a table as the spec has it,
    so that no write here is also an upgrade adding columns: io/table_upgrades.py)."""
    given = {"session_date": f"DATE'{day}'", "user_id": "user_id", "watched_seconds": "watched_seconds"}
    return literal_frame(spark, [(user, 10.0) for user in users], "user_id string, watched_seconds double").selectExpr(
        *[f"{given.get(c.name, f'CAST(NULL AS {c.type.simpleString()})')} AS {c.name}" for c in table_spec(TABLE).columns]
    )


def test_rows_and_version_are_the_writes_own_when_another_writer_commits_right_after(
    spark, warehouse, monkeypatch
):
    first = warehouse.write_table(TABLE, _rows(spark, DAYS[0], ["ann", "bo"]), DAYS, LOG, writer_id="run a")
    assert (first.rows_written, first.metadata["delta_version"]) == (2, 0)

    real_write = DeltaTableLocation.write
    rival = _rows(spark, "2024-01-20", ["cy"])

    def write_then_a_rival_commits(location, writer):
        real_write(location, writer)
        rival_writer = rival.write.format("delta").mode("append").option("userMetadata", "run b")
        real_write(location, rival_writer)

    monkeypatch.setattr(DeltaTableLocation, "write", write_then_a_rival_commits)
    second = warehouse.write_table(TABLE, _rows(spark, DAYS[0], ["ann", "bo", "di"]), DAYS, LOG, writer_id="run a")
    # Version 1 is this write's commit; the rival's one-row append is version 2 and the newest.
    assert (second.rows_written, second.metadata["delta_version"]) == (3, 1)
    assert warehouse.current_version(TABLE) == 2


def test_a_write_that_changes_nothing_reports_zero_rows_and_the_version_it_found(spark, warehouse):
    other_day = ("2024-01-17", "2024-01-18")
    warehouse.write_table(TABLE, _rows(spark, DAYS[0], ["ann"]), DAYS, LOG, writer_id="run a")
    empty = warehouse.write_table(TABLE, _rows(spark, DAYS[0], []), other_day, LOG, writer_id="run b")
    # Delta records no commit for zero rows into a day that held none: still version 0, and 0 rows (not 1).
    assert (empty.rows_written, empty.metadata["delta_version"]) == (0, 0)
    assert warehouse.current_version(TABLE) == 0


def test_a_column_added_to_the_contract_is_added_to_an_older_table_its_other_days_null(spark, warehouse):
    warehouse.write_table(TABLE, _rows(spark, DAYS[0], ["ann"]).drop("interval_index"), DAYS, LOG)
    newer = _rows(spark, "2024-01-17", ["bo"]).withColumn("interval_index", F.lit(2).cast("bigint"))
    warehouse.write_table(TABLE, newer, ("2024-01-17", "2024-01-18"), LOG)
    rows = warehouse.read_range(TABLE, []).orderBy("session_date").collect()
    assert [(r["user_id"], r["interval_index"]) for r in rows] == [("ann", None), ("bo", 2)]


def _events(spark, day: str):
    """One raw event on ``day``, every other column of the table null (so no write here adds columns)."""
    given = {"event_date": f"DATE'{day}'", "event_ts": f"TIMESTAMP'{day} 10:00:00'", "event_key": f"'id:{day}'",
             "user_id": "'u'", "video_id": "'v'", "event_name": "'video_play'", "source_file": "'landing/a.jsonl'"}
    return spark.range(1).selectExpr(
        *[f"{given.get(c.name, 'NULL')} :: {c.type.simpleString()} AS {c.name}" for c in table_spec("raw_video_events").columns]
    )


def _statistics_of_newest_files(location: str) -> set[str]:
    """The columns with min values in the add actions of the table's newest commit."""
    newest = sorted(Path(location, "_delta_log").glob("*.json"))[-1]
    adds = [json.loads(text)["add"] for text in newest.read_text().splitlines() if '"add"' in text]
    return {column for add in adds for column in json.loads(add["stats"])["minValues"]}


def test_raw_events_keep_statistics_on_the_filtered_columns_only_new_table_or_old(spark, warehouse):
    wanted = {"event_ts", "user_id", "video_id", "event_name"}
    warehouse.write_table("raw_video_events", _events(spark, DAYS[0]), DAYS, LOG)
    assert _statistics_of_newest_files(warehouse.table("raw_video_events").name) == wanted

    # A table written before the property existed keeps statistics on every column until its next write.
    old = warehouse.table("raw_video_events").name.replace("warehouse", "old_warehouse")
    _events(spark, DAYS[0]).write.format("delta").partitionBy("event_date").save(old)
    assert "event_key" in _statistics_of_newest_files(old)
    old_warehouse = DeltaWarehouse(location=old.rsplit("/", 1)[0], spark=warehouse.spark)
    old_warehouse.write_table("raw_video_events", _events(spark, DAYS[0]), DAYS, LOG)
    assert _statistics_of_newest_files(old) == wanted
