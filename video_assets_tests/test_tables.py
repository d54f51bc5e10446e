"""The table specs are the one definition of every table: docs, checks, Dagster and the transforms follow them."""

import subprocess
import sys

import dagster as dg
import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from video_assets import tables
from video_assets.checks.schemas import SCHEMAS, field_rules
from video_assets.frames import literal_frame
from video_assets.tables import DOUBLE, LONG, STRING_ARRAY, TABLES, Column, TableSpec, column_schema, project


def test_docs_tables_md_is_rendered_from_the_specs():
    written = tables.DOCS_PATH.read_text(encoding="utf-8")
    assert written == tables.render_docs(), (
        f"docs/tables.md differs from the table specs in video_assets/tables.py; regenerate it with "
        f"`{tables.REGENERATE_DOCS}` and commit the result"
    )


def test_the_docs_show_type_nullability_meaning_and_values_of_each_column():
    docs = tables.render_docs()
    assert "Partitioned by `session_date`; key: `session_id`, `interval_index`." in docs
    assert "Not partitioned; key: `user_id`, `video_id`." in docs
    assert "Partitioned by `partition_date`; key: none." in docs
    assert (
        "Partitioned by `event_date`; key: `event_date`, `event_key`; data-skipping statistics on `event_ts`, "
        "`user_id`, `video_id`, `event_name`." in docs
    )
    assert "| `watched_seconds` | `double` | no | content seconds watched: the sum of its segments | > 0 |" in docs
    assert "| `video_title` | `string` | yes | catalog title; null when the catalog has none |  |" in docs
    assert (
        "| `rewatched_seconds` | `double` | no | total − unique (content s); ≥ 0 up to float noise | ≥ -1e-06 |" in docs
    )
    assert (
        "| `derivation` | `string` | no | how its seconds were credited: a switch credit, else a jump rule, else "
        "plain play | one of: continuous, jump_adjusted, switch_credit |" in docs
    )
    assert "| `segments` | `array<struct<start:double,end:double>>` | no |" in docs


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_spec_names_its_partition_and_key_among_its_columns(name):
    spec = TABLES[name]
    names = spec.column_names
    assert len(names) == len(set(names)), "a column is listed twice"
    assert spec.description
    by_name = {column.name: column for column in spec.columns}
    for key in spec.key_columns:
        assert not by_name[key].nullable, key
    if spec.partition_column:
        assert by_name[spec.partition_column].type == T.DateType()
        assert not by_name[spec.partition_column].nullable
    assert all(column.meaning for column in spec.columns)
    # Delta refuses statistics on a partition column, and a name not among the columns would fail the first write.
    assert set(spec.statistics_columns) <= set(names) - {spec.partition_column}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_transforms_output_has_the_specs_columns_in_order_and_types(good_tables, name):
    produced = [(field.name, field.dataType) for field in good_tables[name].schema.fields]
    assert [column for column, _ in produced] == list(tables.column_names(name))
    for (column, data_type), spec in zip(produced, TABLES[name].columns, strict=True):
        assert tables.same_type(data_type, spec.type), (column, data_type.simpleString(), spec.type.simpleString())


def test_the_pandera_schemas_are_built_from_the_specs(spark):  # rules are Spark Columns: a session must exist
    for name, spec in TABLES.items():
        schema = SCHEMAS[name]
        assert list(schema.columns) == list(spec.column_names)
        assert schema.strict is True
    assert [rule.name for rule in field_rules("video_catalog")] == [
        "video_id is not null", "duration_seconds is finite", "duration_seconds > 0"
    ]
    interval_rules = [rule.name for rule in field_rules("watch_intervals")]
    assert interval_rules[4:7] == ["interval_index is not null", "interval_index >= 1", "start_position_seconds is not null"]
    assert "watched_seconds > 0" in interval_rules
    assert "derivation in (continuous, jump_adjusted, switch_credit)" in interval_rules


@pytest.fixture
def tiny_table(monkeypatch):
    """A two-column table of the contract, for project's rules in isolation."""
    spec = TableSpec(
        "tiny", None, ("id",), "test table",
        (Column("id", LONG, "identifier"), Column("score", DOUBLE, "a score"), Column("flags", STRING_ARRAY, "flags")),
    )
    monkeypatch.setitem(TABLES, "tiny", spec)
    return spec


def test_project_orders_the_columns_drops_others_and_widens_types(spark, tiny_table):
    frame = literal_frame(spark, [(7.5, 3, "x")], "score float, id int, extra string").select(
        "*", F.array_compact(F.array(F.lit("a"), F.lit(None))).alias("flags")
    )
    projected = project(frame, "tiny")
    assert projected.schema.simpleString() == "struct<id:bigint,score:double,flags:array<string>>"
    # The array keeps its own element nullability: a column of the right type is not cast.
    assert projected.schema["flags"].dataType == T.ArrayType(T.StringType(), containsNull=False)
    assert [tuple(row) for row in projected.collect()] == [(3, 7.5, ["a"])]


def test_project_casts_a_typed_null(spark, tiny_table):
    frame = spark.range(1).select(F.lit(None).alias("flags"), F.col("id"), F.lit(None).alias("score"))
    projected = project(frame, "tiny")
    assert projected.schema.simpleString() == "struct<id:bigint,score:double,flags:array<string>>"
    assert [tuple(row) for row in projected.collect()] == [(0, None, None)]


def test_project_refuses_a_missing_column_or_a_cast_that_could_change_values(spark, tiny_table):
    with pytest.raises(ValueError, match="tiny: the transform gives no column score, flags"):
        project(spark.range(1), "tiny")
    wrong = spark.range(1).select("id", F.lit("7.5").alias("score"), F.array(F.lit("a")).alias("flags"))
    with pytest.raises(ValueError, match="tiny.score: the transform gives string, the contract says double"):
        project(wrong, "tiny")
    narrowing = spark.range(1).select(F.col("id").cast("double"), F.lit(1.0).alias("score"), F.array().alias("flags"))
    with pytest.raises(ValueError, match="tiny.id: the transform gives double, the contract says bigint"):
        project(narrowing, "tiny")


def test_column_schema_lists_every_column_with_its_meaning():
    sessions = column_schema("video_sessions")
    assert [column.name for column in sessions.columns] == list(tables.column_names("video_sessions"))
    by_name = {column.name: column for column in sessions.columns}
    assert by_name["session_id"].constraints == dg.TableColumnConstraints(nullable=False, unique=True, other=[])
    assert by_name["video_title"].constraints.nullable is True
    assert by_name["wall_seconds"].type == "double"
    assert by_name["wall_seconds"].description == "last − first event (wall s)"
    assert by_name["wall_seconds"].constraints.other == ["≥ 0"]
    assert by_name["ended_by"].constraints.other == ["one of: end_event, pause, video_switch, browser_close"]
    assert by_name["quality_flags"].type == "array<string>"
    metrics = {column.name: column for column in column_schema("user_video_metrics").columns}
    assert metrics["user_id"].constraints.unique is False  # part of a three-column key, not unique alone
    assert metrics["completion_percentage"].constraints.other == ["in [0, 100]"]


def test_every_asset_shows_its_column_schema():
    from video_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        name = key.to_user_string()
        assert graph.get(key).metadata["dagster/column_schema"] == column_schema(name), name


def test_importing_the_specs_starts_no_spark_and_loads_no_dagster_or_transform():
    probe = (
        "import sys, video_assets.tables\n"
        "from pyspark import SparkContext\n"
        "loaded = [m for m in sys.modules if m == 'dagster' or m.startswith('video_assets.transforms')]\n"
        "assert not loaded, loaded\n"
        "assert SparkContext._active_spark_context is None\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
