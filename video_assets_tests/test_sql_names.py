"""Configured names in SQL (issue 39): quoted by one helper, refused at load when they cannot be names.

The hostile values are the issue's: a path that closes its backticks and
adds ``LIMIT 100 --``, a doubled backtick (which, undoubled, names another
table than the DataFrame writer writes), a quote, Spark's own ``delta.`/path```
spelling, and a path that does not exist. Each either reads the same rows as
the clean name or stops before anything is written, naming the setting; a
canary table beside the warehouse is never touched.
"""

from datetime import datetime, timezone

import pytest

from video_assets import config
from video_assets.io.delta import DeltaTableLocation, DeltaWarehouse
from video_assets.frames import literal_frame
from video_assets.sql_names import (
    TableReference,
    parse_table_reference,
    parse_warehouse,
    quote_identifier,
)
from video_assets_tests.dagster_runs import materialize, use_folders

DAY = "2024-01-15"
RAW = ["raw_video_events", "raw_video_events_quarantine"]


def test_a_backtick_is_doubled_so_the_name_cannot_end_early():
    assert quote_identifier("events") == "`events`"
    assert quote_identifier("/lake/events` LIMIT 100 --") == "`/lake/events`` LIMIT 100 --`"
    assert quote_identifier("w``x") == "`w````x`"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("main.bronze.video_events", TableReference(parts=("main", "bronze", "video_events"))),
        ("bronze.events", TableReference(parts=("bronze", "events"))),
        ("`my-catalog`.bronze.`ev``ents`", TableReference(parts=("my-catalog", "bronze", "ev`ents"))),
        ("/lake/events", TableReference(path="/lake/events")),
        ("s3://bucket/events", TableReference(path="s3://bucket/events")),
        ("/lake/events` LIMIT 100 --", TableReference(path="/lake/events` LIMIT 100 --")),
        ("delta.`/lake/events`", TableReference(path="/lake/events")),
        ("DELTA.`/lake/ev``ents`", TableReference(path="/lake/ev`ents")),
    ],
)
def test_a_source_table_is_a_catalog_name_or_a_path(text, expected):
    parsed = parse_table_reference(text)
    assert parsed == expected
    assert parse_table_reference(parsed.text) == parsed  # what the configuration passes on parses the same


def test_sql_names_quote_every_part():
    assert parse_table_reference("`my-catalog`.bronze.events").sql == "`my-catalog`.`bronze`.`events`"
    assert parse_table_reference("/a/b`c").sql == "delta.`/a/b``c`"


@pytest.mark.parametrize(
    "text",
    ["events LIMIT 5 --", "main.bronze.events; DROP TABLE x", "a.b.c.d", "main..events", "delta.`/a` x",
     "`unclosed.events", "events\nLIMIT 1"],
)
def test_a_value_that_cannot_be_a_table_is_refused_at_load_naming_the_setting(text, monkeypatch):
    monkeypatch.setenv(config.EVENTS_TABLE_VARIABLE, text)
    with pytest.raises(config.ConfigurationError) as refused:
        config.table_sources({})
    message = str(refused.value)
    assert message.startswith(f"{config.EVENTS_TABLE_VARIABLE}={text!r}: ")
    assert "catalog.schema.table" in message and "delta.`/path`" in message  # what is accepted


def test_the_yaml_key_is_named_when_the_yaml_set_it(monkeypatch):
    with pytest.raises(config.ConfigurationError, match=r"^landing.videos_table in the resources YAML='v LIMIT 1'"):
        config.table_sources({"landing": {"videos_table": "v LIMIT 1"}})
    with pytest.raises(config.ConfigurationError, match=r"^warehouse.location in the resources YAML='a.b.c'"):
        config.warehouse_location({"warehouse": {"location": "a.b.c"}})


def test_the_ordinary_delta_spelling_configures_the_path(monkeypatch):
    monkeypatch.setenv(config.EVENTS_TABLE_VARIABLE, "delta.`/lake/events`")
    assert config.table_sources({}).events_table == "/lake/events"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("main.analytics", TableReference(parts=("main", "analytics"))), ("/data/w``x'q", TableReference(path="/data/w``x'q")),
     ("warehouse", TableReference(path="warehouse")), ("`dev-cat`.analytics", TableReference(parts=("dev-cat", "analytics")))],
)
def test_a_warehouse_is_a_folder_or_a_schema(text, expected):
    assert parse_warehouse(text) == expected


def _canary(spark, path):
    literal_frame(spark, [("canary", 1)], "name string, n int").write.format("delta").save(str(path))


def _canary_untouched(spark, path) -> bool:
    history = spark.sql(f"DESCRIBE HISTORY delta.{quote_identifier(str(path))}").collect()
    rows = spark.read.format("delta").load(str(path)).collect()
    return [h["version"] for h in history] == [0] and [tuple(r) for r in rows] == [("canary", 1)]


def test_a_warehouse_path_with_backticks_and_a_quote_is_one_table_for_sql_and_the_writer(spark, spark_resource, tmp_path):
    """Undoubled, ``w``x`` in SQL names ``w`x``: DESCRIBE HISTORY, MERGE and ALTER went to the canary's table."""
    warehouse = DeltaWarehouse(location=str(tmp_path / "w``x'q"), spark=spark_resource)
    _canary(spark, tmp_path / "w`x'q" / "user_video_engagement")
    location = warehouse.table("user_video_engagement")
    assert location.sql_name == f"delta.`{tmp_path}/w````x'q/user_video_engagement`"
    literal_frame(
        spark, [("u1", "v1", 1.0), ("u3", "v1", 3.0), ("u4", "v1", None)],
        "user_id string, video_id string, total_watch_seconds double",
    ).write.format("delta").save(location.name)
    warehouse.enable_deletion_vectors("user_video_engagement")
    # u3 and u4 come again unchanged (u4's null equal to its null): the MERGE rewrites neither.
    source = literal_frame(
        spark, [("u1", "v1", 5.0, False), ("u2", "v1", 2.0, False), ("u3", "v1", 3.0, False), ("u4", "v1", None, False)],
        "user_id string, video_id string, total_watch_seconds double, _gone boolean",
    )

    class Log:
        def info(self, _):
            pass

        def warning(self, _):
            pass

    merged, _ = warehouse.merge_rows("user_video_engagement", source, ("user_id", "video_id"), "_gone", Log())
    assert merged["merge_metrics"].value == {
        **merged["merge_metrics"].value, "numTargetRowsInserted": 1, "numTargetRowsUpdated": 1}
    merged_rows = location.read(spark).select("user_id", "video_id", "total_watch_seconds").collect()
    assert merged["rows_written"] == 2
    assert sorted(tuple(r) for r in merged_rows) == [("u1", "v1", 5.0), ("u2", "v1", 2.0), ("u3", "v1", 3.0), ("u4", "v1", None)]
    assert location.latest_commit(spark)["operation"] == "MERGE"
    assert _canary_untouched(spark, tmp_path / "w`x'q" / "user_video_engagement")


def test_a_catalog_warehouse_names_its_tables_with_quoted_parts():
    location = DeltaTableLocation("`dev-cat`.analytics", "raw_video_events")
    assert (location.name, location.sql_name) == (
        "`dev-cat`.analytics.raw_video_events", "`dev-cat`.`analytics`.`raw_video_events`")


def _bronze(spark, path):
    rows = [(datetime(2024, 1, 15, 10, 0, s, tzinfo=timezone.utc), "ann", "v1", "video_play", float(s)) for s in range(30)]
    literal_frame(
        spark, rows, "timestamp timestamp, userId string, videoId string, eventName string, currentTime double"
    ).write.format("delta").save(str(path))


def _raw_run(monkeypatch, events_table: str):
    monkeypatch.setenv(config.EVENTS_TABLE_VARIABLE, events_table)
    return materialize(RAW, DAY)


@pytest.mark.slow
def test_hostile_events_table_names_read_the_same_rows_or_stop_before_writing(
    spark, landing_dir, tmp_path, monkeypatch
):
    bronze = tmp_path / "lake" / "events"
    _bronze(spark, bronze)
    canary = tmp_path / "canary"
    _canary(spark, canary)
    warehouse = tmp_path / "warehouse"
    use_folders(monkeypatch, landing_dir, warehouse)

    for name in (str(bronze), f"delta.`{bronze}`"):  # the clean name, and Spark's spelling of it
        run = _raw_run(monkeypatch, name)
        assert run.success
        assert spark.read.format("delta").load(str(warehouse / "raw_video_events")).count() == 30
        [materialization] = [e for e in run.get_asset_materialization_events()
                             if e.asset_key.to_user_string() == "raw_video_events"]
        assert materialization.materialization.metadata["source_table"].value == str(bronze)

    fresh = tmp_path / "fresh_warehouse"
    use_folders(monkeypatch, landing_dir, fresh)
    for name in (f"{bronze}` LIMIT 100 --", str(tmp_path / "lake" / "missing")):
        run = _raw_run(monkeypatch, name)
        assert not run.success
        [failure] = [e for e in run.all_events if e.event_type_value == "STEP_FAILURE"]
        message = failure.event_specific_data.error.message
        assert f"The source table {name} (set by landing.events_table of the resources YAML or " \
               f"{config.EVENTS_TABLE_VARIABLE}) does not exist" in message
        assert "Nothing was written" in message
        assert not fresh.exists() or not any(fresh.iterdir())
    assert _canary_untouched(spark, canary)
