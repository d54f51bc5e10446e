"""`video-assets export`: plain Parquet/CSV copies of a table, for readers without Delta (docs/reading-tables.md).

Why it exists: user_video_engagement has deletion vectors (its MERGE marks
changed rows instead of rewriting files), and delta-rs, the Delta reader of
pandas/polars/DuckDB users, refuses them; the daily tables it reads.
"""

import json
from datetime import date

import deltalake
import pandas as pd
import pytest
from deltalake.exceptions import DeltaProtocolError

from video_assets import cli
from video_assets.io.delta import DeltaWarehouse
from video_assets.io.export import ExportError, export_table
from video_assets.io.export_folder import MARKER
from video_assets.frames import literal_frame
from video_assets.tables import column_names, ddl_schema, table_spec
from video_assets_tests.builders import ts

LIFETIME, VIDEO_DAYS = "user_video_engagement", "video_engagement_summary"
DAY2 = date(2024, 1, 16)
TITLE = 'Say "hi", then cook'  # a quote and a comma: CSV quoting must keep them


def rows(table: str, *given: dict) -> list[tuple]:
    """Rows of ``table`` in its column order: the values given, a plain default for every other column."""
    defaults = {"string": "x", "double": 0.0, "bigint": 1, "boolean": False, "date": "2024-01-15",
                "timestamp": "2024-01-15 10:00:00"}
    parse = {"date": date.fromisoformat, "timestamp": ts}
    columns = table_spec(table).columns

    def value(values, column):
        kind = column.type.simpleString()
        raw = values.get(column.name, defaults.get(kind))
        return parse[kind](raw) if kind in parse and isinstance(raw, str) else raw

    return [tuple(value(values, c) for c in columns) for values in given]


@pytest.fixture(scope="module")
def warehouse(spark, spark_resource, tmp_path_factory):
    """A warehouse with user_video_engagement as its asset leaves it (deletion vectors on), one pair deleted
    since, and video_engagement_summary, partitioned by metric_date like every daily table, for two days."""
    tables = DeltaWarehouse(location=str(tmp_path_factory.mktemp("export_warehouse")), spark=spark_resource)
    lifetime = rows(
        LIFETIME,
        {"user_id": "u1", "video_id": "v1", "video_title": "Soup", "total_watch_seconds": 30.0,
         "first_watch_ts": "2024-01-15 10:00:00", "last_metric_date": "2024-01-16", "engagement_tier": "High"},
        {"user_id": "u1", "video_id": "v2", "total_watch_seconds": 5.0, "engagement_tier": "Minimal"},
        {"user_id": "u2", "video_id": "v1", "video_title": None, "total_watch_seconds": 12.5,
         "completed_at_least_once": True, "first_watch_ts": "2024-01-16 23:59:30", "last_metric_date": "2024-01-16",
         "engagement_tier": "Low"},
    )
    frame = literal_frame(spark, lifetime, ddl_schema(LIFETIME)).coalesce(1)
    frame.write.format("delta").save(tables.table(LIFETIME).name)
    tables.enable_deletion_vectors(LIFETIME)
    spark.sql(f"DELETE FROM {tables.table(LIFETIME).sql_name} WHERE user_id = 'u1' AND video_id = 'v2'")
    summary = rows(
        VIDEO_DAYS,
        {"metric_date": "2024-01-15", "video_id": "v1", "viewers": 3, "retention_curve": [1.0]},
        {"metric_date": "2024-01-16", "video_id": "v1", "video_title": TITLE, "viewers": 2,
         "retention_curve": [1.0, 0.5]},
        {"metric_date": "2024-01-16", "video_id": "v2", "video_title": None, "viewers": 1, "retention_curve": [0.25]},
    )
    frame = literal_frame(spark, summary, ddl_schema(VIDEO_DAYS))
    frame.write.format("delta").partitionBy("metric_date").save(tables.table(VIDEO_DAYS).name)
    return tables


def test_delta_rs_refuses_the_lifetime_table_and_reads_the_daily_ones(warehouse):
    lifetime = deltalake.DeltaTable(warehouse.table(LIFETIME).name)
    assert lifetime.history(1)[0]["operationMetrics"]["numDeletionVectorsAdded"] == "1"  # the DELETE made one
    try:
        read = lifetime.to_pandas()
    except DeltaProtocolError as error:
        assert "deletionVectors" in str(error)
    else:  # pragma: no cover - the day a delta-rs release reads them
        pytest.fail(
            f"deltalake {deltalake.__version__} read a table with deletion vectors ({len(read)} rows): "
            "update docs/reading-tables.md (and compare its rows with Spark's here)"
        )
    daily = deltalake.DeltaTable(warehouse.table(VIDEO_DAYS).name).to_pandas()
    assert sorted(zip(daily["video_id"], daily["viewers"], strict=True)) == [("v1", 2), ("v1", 3), ("v2", 1)]


def test_the_parquet_export_holds_the_current_rows_without_the_deleted_one(warehouse, spark, tmp_path):
    result = export_table(spark, warehouse, LIFETIME, tmp_path / "lifetime")
    assert (result.rows, result.path, result.days) == (2, str(tmp_path / "lifetime"), "all rows")
    exported = pd.read_parquet(result.path).sort_values(["user_id", "video_id"], ignore_index=True)
    assert list(exported.columns) == list(column_names(LIFETIME))
    assert exported[["user_id", "video_id", "total_watch_seconds", "engagement_tier"]].values.tolist() == [
        ["u1", "v1", 30.0, "High"], ["u2", "v1", 12.5, "Low"],
    ]
    assert exported["video_title"].tolist() == ["Soup", None]
    assert exported["completed_at_least_once"].tolist() == [False, True]
    assert exported["last_metric_date"].tolist() == [DAY2, DAY2]
    # Timestamps as UTC instants, not INT96 times without a zone.
    assert exported["first_watch_ts"].tolist() == [
        pd.Timestamp("2024-01-15 10:00:00", tz="UTC"), pd.Timestamp("2024-01-16 23:59:30", tz="UTC"),
    ]


def test_the_command_exports_days_as_csv_over_a_previous_export(warehouse, spark, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", warehouse.location)
    out = tmp_path / "videos"
    earlier = export_table(spark, warehouse, VIDEO_DAYS, out, "csv")  # all three rows: replaced below
    assert earlier.rows == 3
    argv = ["export", VIDEO_DAYS, "--format", "csv", "--from", "2024-01-16", "--to", "2024-01-16", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == f"Wrote 2 rows of {VIDEO_DAYS} (metric_date 2024-01-16..2024-01-16) as csv to {out}"
    [csv_file] = out.glob("*.csv")  # the earlier export's file is gone
    assert json.loads((out / MARKER).read_text())["days"] == "metric_date 2024-01-16..2024-01-16"
    exported = pd.read_csv(csv_file).sort_values("video_id", ignore_index=True)
    assert list(exported.columns) == list(column_names(VIDEO_DAYS))
    assert exported["metric_date"].tolist() == ["2024-01-16", "2024-01-16"]
    assert exported["video_id"].tolist() == ["v1", "v2"]
    assert exported["viewers"].tolist() == [2, 1]
    assert exported["video_title"].fillna("<null>").tolist() == [TITLE, "<null>"]
    assert [json.loads(curve) for curve in exported["retention_curve"]] == [[1.0, 0.5], [0.25]]


def test_the_command_refuses_bad_requests_with_what_to_do(warehouse, spark, tmp_path, monkeypatch, capsys):
    for argv in (["export", "user_video_engagment"], ["export", LIFETIME, "--from", "2024-01-15"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(argv)
        assert stop.value.code == 2
    errors = capsys.readouterr().err
    assert "unknown table 'user_video_engagment'; the tables are: video_catalog, raw_video_events," in errors
    assert f"{LIFETIME} is not partitioned by day" in errors

    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(tmp_path / "empty_warehouse"))
    assert cli.main(["export", LIFETIME, "--out", str(tmp_path / "out")]) == 1
    assert "materialize it first" in capsys.readouterr().err

    occupied = tmp_path / "notes"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match=r"--out .*notes is not empty and is not an earlier export .*\(it holds keep.txt\)"):
        export_table(spark, warehouse, LIFETIME, occupied)
    assert (occupied / "keep.txt").read_text() == "mine"


def test_files_that_only_look_like_spark_output_are_never_replaced(warehouse, tmp_path, monkeypatch, capsys):
    """The issue's first repro: names starting part-, in the folder and in a subfolder, are a user's files."""
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", warehouse.location)
    out = tmp_path / "v"
    (out / "part-archive").mkdir(parents=True)
    (out / "part-of-my-thesis.docx").write_text("x")
    (out / "part-archive" / "2019.txt").write_text("y")
    assert cli.main(["export", "video_engagement_summary", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert f"--out {out} is not empty and is not an earlier export of this command" in error
    assert "part-archive/2019.txt, part-of-my-thesis.docx" in error
    assert "Choose a new or empty folder with --out" in error
    assert (out / "part-of-my-thesis.docx").read_text() == "x"
    assert (out / "part-archive" / "2019.txt").read_text() == "y"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]  # no staging folder left beside it


def test_a_file_uri_is_checked_like_a_path_and_written_like_one(warehouse, spark, tmp_path, monkeypatch, capsys):
    """The issue's second repro (a URI skipped the check), then a new folder and a re-export through a URI."""
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", warehouse.location)
    occupied = tmp_path / "u"
    occupied.mkdir()
    (occupied / "precious.txt").write_text("z")
    assert cli.main(["export", LIFETIME, "--out", f"file://{occupied}"]) == 1
    assert "(it holds precious.txt)" in capsys.readouterr().err
    assert (occupied / "precious.txt").read_text() == "z"

    fresh = tmp_path / "new" / "lifetime"
    for _ in range(2):  # the second export replaces the first, which its marker lists
        result = export_table(spark, warehouse, LIFETIME, f"file://{fresh}")
        assert (result.path, result.rows) == (str(fresh), 2)
        assert len(pd.read_parquet(fresh)) == 2
    marker = json.loads((fresh / MARKER).read_text())
    assert (marker["table"], marker["format"]) == (LIFETIME, "parquet")
    assert sorted(marker["files"]) == sorted(p.name for p in fresh.iterdir() if p.name != MARKER)


def test_an_earlier_export_with_a_file_added_since_is_not_replaced(warehouse, spark, tmp_path):
    out = tmp_path / "lifetime"
    export_table(spark, warehouse, LIFETIME, out)
    (out / "my-notes.txt").write_text("added by hand")
    with pytest.raises(ExportError, match=r"\(it holds my-notes.txt\)"):
        export_table(spark, warehouse, LIFETIME, out)
    assert (out / "my-notes.txt").read_text() == "added by hand"
    assert sum(len(pd.read_parquet(part)) for part in out.glob("part-*.parquet")) == 2  # the earlier export is whole
