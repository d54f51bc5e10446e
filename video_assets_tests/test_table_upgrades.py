"""Tables an earlier release wrote, under this release's specs (issue 41 item 4, docs/operating.md 'Upgrading').

Each test writes a table as an older release would have (a spec without one
column, or with another type), then writes it with today's code.
"""

from datetime import date

import dagster as dg
import pytest
from pyspark.sql import functions as F

from video_assets.checks.results import backfill_result
from video_assets.io.delta import DeltaWarehouse
from video_assets.frames import literal_frame
from video_assets.io.table_upgrades import BACKFILL_PROPERTY, IncompatibleTableChange
from video_assets.tables import table_spec

TIERS = "engagement_tier_summary"
LIFETIME = "user_video_engagement"
DAYS = ["2024-01-15", "2024-01-16", "2024-01-17"]
_DEFAULTS = {"string": "High", "double": 1.0, "bigint": 2, "boolean": False, "date": date(2024, 1, 15)}


class Log:
    def __init__(self):
        self.warnings = []

    def info(self, _):
        pass

    def warning(self, text):
        self.warnings.append(text)


def frame(spark, table: str, days: list[str], *, without: str | None = None, retyped: tuple[str, str] | None = None):
    """One row per day of ``table`` with plain values; ``without`` leaves a column out, ``retyped`` changes one's type."""
    spec = table_spec(table)
    columns = [c for c in spec.columns if c.name != without]
    types = {c.name: c.type.simpleString() for c in columns}
    if retyped:
        types[retyped[0]] = retyped[1]
    rows = []
    for index, day in enumerate(days or ["2024-01-15"]):
        values = {c.name: _DEFAULTS.get(c.type.simpleString()) for c in columns}
        if spec.partition_column:
            values[spec.partition_column] = date.fromisoformat(day)
        for key in spec.key_columns:
            if key != spec.partition_column and types[key] == "string":
                values[key] = f"{key}-{index}"
        if retyped:
            values[retyped[0]] = str(values[retyped[0]])
        rows.append(tuple(values[c.name] for c in columns))
    schema = ", ".join(f"`{c.name}` {types[c.name]}" for c in columns)
    return literal_frame(spark, rows, schema)


@pytest.fixture
def warehouse(spark_resource, tmp_path):
    return DeltaWarehouse(location=str(tmp_path / "warehouse"), spark=spark_resource)


def _properties(spark, warehouse, table) -> dict:
    rows = spark.sql(f"SHOW TBLPROPERTIES {warehouse.table(table).sql_name}").collect()
    return {row["key"]: row["value"] for row in rows}


def test_a_new_column_is_added_and_the_days_written_before_are_named_until_rewritten(spark, warehouse):
    old = frame(spark, TIERS, DAYS, without="user_count")
    warehouse.write_table(TIERS, old, (DAYS[0], "2024-01-18"), Log())  # an earlier release: no user_count

    log = Log()
    result = warehouse.write_table(TIERS, frame(spark, TIERS, DAYS[1:2]), (DAYS[1], DAYS[2]), log)
    stored = {row["metric_date"].isoformat(): row["user_count"] for row in warehouse.read_range(TIERS, []).collect()}
    assert stored == {"2024-01-15": None, "2024-01-16": 2, "2024-01-17": None}
    assert result.backfill.days == ("2024-01-15", "2024-01-17") and result.backfill.columns == ("user_count",)
    due = (
        "engagement_tier_summary: user_count added by an upgrade; the days 2024-01-15, 2024-01-17 hold NULL in it "
        "until rewritten. Fill them with: dagster asset materialize -m video_assets.definitions "
        "--select 'engagement_tier_summary*' --partition-range 2024-01-15...2024-01-17"
    )
    assert result.metadata["backfill_due"] == due
    assert log.warnings[0].startswith("engagement_tier_summary: this release adds user_count") and log.warnings[-1] == due
    check = backfill_result(TIERS, result.backfill, DAYS[1:2])
    assert (check.passed, check.severity, check.description) == (False, dg.AssetCheckSeverity.WARN, due)
    assert check.metadata["days_to_backfill"].value == 2
    [column] = [f for f in warehouse.table(TIERS).read(spark).schema.fields if f.name == "user_count"]
    assert column.metadata["comment"] == next(c.meaning for c in table_spec(TIERS).columns if c.name == "user_count")

    for day, end in (("2024-01-15", "2024-01-16"), ("2024-01-17", "2024-01-18")):  # the backfill, day by day
        result = warehouse.write_table(TIERS, frame(spark, TIERS, [day]), (day, end), Log())
    assert not result.backfill.pending and "backfill_due" not in result.metadata
    assert BACKFILL_PROPERTY not in _properties(spark, warehouse, TIERS)
    assert backfill_result(TIERS, result.backfill, ["2024-01-17"]).passed
    assert {row["user_count"] for row in warehouse.read_range(TIERS, []).collect()} == {2}


def test_the_all_time_table_gains_the_column_on_its_merge_and_a_rebuild_fills_it(spark, warehouse):
    old = frame(spark, LIFETIME, [], without="active_days")
    warehouse.write_table(LIFETIME, old, None, Log())
    source = frame(spark, LIFETIME, ["2024-01-16", "2024-01-17"]).withColumn("_gone", F.lit(False))
    metadata, backfill = warehouse.merge_rows(LIFETIME, source, ("user_id", "video_id"), "_gone", Log())
    assert backfill.all_rows and backfill.columns == ("active_days",)
    assert metadata["backfill_due"].startswith(
        "user_video_engagement: active_days added by an upgrade; every row written before the upgrade holds NULL")
    assert backfill.command() == "dagster asset materialize -m video_assets.definitions --select user_video_engagement"
    rebuilt = warehouse.write_table(LIFETIME, frame(spark, LIFETIME, []), None, Log())
    assert not rebuilt.backfill.pending and BACKFILL_PROPERTY not in _properties(spark, warehouse, LIFETIME)


@pytest.mark.parametrize(
    ("old", "named"),
    [
        ({"retyped": ("pair_count", "string")}, "column pair_count is STRING in the table and BIGINT in this release"),
        ({"without": None, "extra": "tier_share"}, "column tier_share (DOUBLE) is in the table but no longer in this release"),
    ],
    ids=["changed type", "removed or renamed column"],
)
def test_an_incompatible_table_stops_the_write_naming_the_column_types_and_rebuild(spark, warehouse, old, named):
    extra = old.pop("extra", None)
    written = frame(spark, TIERS, DAYS[:1], **old)
    if extra:
        written = written.withColumn(extra, written["pair_count"].cast("double"))
    warehouse.write_table(TIERS, written, (DAYS[0], DAYS[1]), Log())
    version = warehouse.current_version(TIERS)
    with pytest.raises(IncompatibleTableChange) as stopped:
        warehouse.write_table(TIERS, frame(spark, TIERS, DAYS[:1]), (DAYS[0], DAYS[1]), Log())
    message = stopped.value.description
    assert f"engagement_tier_summary at {warehouse.table(TIERS).name} was written by a release" in message
    assert named in message and "Nothing was written" in message
    assert "--select 'engagement_tier_summary*' --partition-range FIRST...LAST" in message
    assert warehouse.current_version(TIERS) == version
