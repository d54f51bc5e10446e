"""io.spark.literal_frame: small lookup frames handed to Spark as Arrow tables (no Python workers)."""

from datetime import date, datetime

import pyspark.sql.pandas.types
from pyspark.sql.types import StructType

from video_assets.frames import arrow_schema_in_utc, literal_frame


def test_the_rows_come_back_with_the_schemas_names_and_types(spark):
    # A timestamp is a naive datetime in UTC (the sessions' time zone) both ways.
    rows = [
        (date(2024, 1, 15), "it's a \\ \"quoted\" path", None, datetime(2024, 1, 15, 23, 59, 59, 500000)),
        (date(2024, 1, 16), "low", 2.5, None),
    ]
    frame = literal_frame(spark, rows, "metric_date date, engagement_tier string, share double, at timestamp")
    assert [(f.name, f.dataType.simpleString()) for f in frame.schema.fields] == [
        ("metric_date", "date"), ("engagement_tier", "string"), ("share", "double"), ("at", "timestamp"),
    ]
    assert frame.selectExpr("cast(at as string)").first()[0] == "2024-01-15 23:59:59.5"
    assert [tuple(row) for row in frame.collect()] == rows


def test_no_rows_give_an_empty_frame_of_exactly_the_schema(spark):
    schema = "video_id string not null, duration_seconds double, published_at timestamp, day date, tags array<string>"
    frame = literal_frame(spark, [], schema)
    assert frame.schema == StructType.fromDDL(schema)
    assert frame.schema["video_id"].nullable is False
    assert frame.count() == 0



def test_a_pyspark_without_the_timezone_keyword_gives_the_same_arrow_schema(monkeypatch):
    # pyspark 4.0 and 4.1 (DBR 17.3, 18.x and their databricks-connect) have to_arrow_schema without `timezone`
    # (new in 4.2); they write timestamps in UTC, as timestamp_utc=True, their default, says.
    real = pyspark.sql.pandas.types.to_arrow_schema
    struct = StructType.fromDDL("at timestamp, local_at timestamp_ntz, day date, tags array<string>")
    expected = real(struct, timezone="UTC")
    assert str(expected.field("at").type) == "timestamp[us, tz=UTC]"

    def spark_4_0_to_arrow_schema(schema, error_on_duplicated_field_names_in_struct=False, timestamp_utc=True,
                                  prefers_large_types=False):
        return real(schema, timezone="UTC" if timestamp_utc else None)

    monkeypatch.setattr(pyspark.sql.pandas.types, "to_arrow_schema", spark_4_0_to_arrow_schema)
    assert arrow_schema_in_utc(struct) == expected
