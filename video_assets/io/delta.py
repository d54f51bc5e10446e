"""Delta Lake IO manager for PySpark DataFrames.

One Delta table per asset, under one warehouse location, partitioned by the
table's date column (``video_assets.tables``). Writing partition D, or a range
of days, replaces exactly that range in one atomic commit (``replaceWhere``):
a rerun never duplicates rows and never touches other days. Loading an
upstream reads exactly the window its partition mapping asks for.

The warehouse is a folder/URI (``data/warehouse``, ``dbfs:/…``, ``s3://…``)
or, on Databricks with Unity Catalog, ``catalog.schema``.
"""

import re
import time
from datetime import datetime

import dagster as dg
from pydantic import Field

from video_assets.io.spark import SparkResource
from video_assets.tables import table_spec

_CATALOG_SCHEMA = re.compile(r"^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$")


class PartitionRangeViolation(dg.Failure):
    """A transform produced rows outside the partition range being written."""


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


class DeltaTableLocation:
    """Where one asset's table lives: a path, or a Unity Catalog table name."""

    def __init__(self, warehouse: str, table_name: str):
        self.is_catalog_table = bool(_CATALOG_SCHEMA.match(warehouse))
        self.name = f"{warehouse}.{table_name}" if self.is_catalog_table else f"{warehouse.rstrip('/')}/{table_name}"

    def exists(self, spark) -> bool:
        from delta.tables import DeltaTable  # noqa: PLC0415

        if self.is_catalog_table:
            return spark.catalog.tableExists(self.name)
        return DeltaTable.isDeltaTable(spark, self.name)

    def read(self, spark):
        reader = spark.read.format("delta")
        return reader.table(self.name) if self.is_catalog_table else reader.load(self.name)

    def delta_table(self, spark):
        from delta.tables import DeltaTable  # noqa: PLC0415

        return DeltaTable.forName(spark, self.name) if self.is_catalog_table else DeltaTable.forPath(spark, self.name)

    def write(self, writer):
        return writer.saveAsTable(self.name) if self.is_catalog_table else writer.save(self.name)


def range_condition(column: str, start_day: str, end_day_exclusive: str) -> str:
    return f"{column} >= DATE'{start_day}' AND {column} < DATE'{end_day_exclusive}'"


class DeltaWarehouse(dg.ConfigurableResource):
    """Where the tables live and how a day range of one is replaced; the IO manager and assets share it."""

    location: str = Field(description="Folder/URI holding one table per asset, or a Unity Catalog 'catalog.schema'.")
    spark: dg.ResourceDependency[SparkResource]

    def table(self, asset_name: str) -> DeltaTableLocation:
        return DeltaTableLocation(self.location, asset_name)

    def write_table(self, name: str, frame, days: tuple[str, str] | None, log) -> dict:
        """Writes one asset's table: the day range [start, end) replaced atomically, or all rows when days is None.

        Returns the write's metadata (table, range, rows written, Delta version).
        """
        spec = table_spec(name)
        location = self.table(name)
        writer = frame.write.format("delta").mode("overwrite")
        range_text = "all rows"
        if days and spec.partition_column:
            condition = range_condition(spec.partition_column, *days)
            writer = writer.option("replaceWhere", condition).partitionBy(spec.partition_column)
            range_text = f"{spec.partition_column} in [{days[0]}, {days[1]})"
        elif spec.partition_column:
            writer = writer.partitionBy(spec.partition_column)
        if days is None:
            writer = writer.option("overwriteSchema", "true")

        log.info(f"Writing {name} ({range_text}) to {location.name}")
        started = time.perf_counter()
        try:
            location.write(writer)
        except Exception as error:
            if "replaceWhere" in str(error) or "DELTA_REPLACE_WHERE_MISMATCH" in str(error):
                raise PartitionRangeViolation(
                    description=(
                        f"{name}: the transform produced rows outside the partition range being written "
                        f"({range_text}). Nothing was written. This is a bug in the asset's transform; "
                        f"the rows must carry a {spec.partition_column} inside the run's range."
                    ),
                    metadata={"table": location.name, "range": range_text},
                ) from error
            raise
        metadata = self._write_metadata(location, range_text)
        metadata["write_seconds"] = round(time.perf_counter() - started, 2)
        log.info(f"Wrote {metadata['rows_written']} rows to {name} ({range_text}) in {metadata['write_seconds']} s")
        return metadata

    def _write_metadata(self, location: DeltaTableLocation, range_text: str) -> dict:
        spark = self.spark.get_session()
        last_commit = location.delta_table(spark).history(1).select("version", "operationMetrics").first()
        operation_metrics = last_commit["operationMetrics"] or {}
        return {
            "table": dg.MetadataValue.path(location.name),
            "written_range": range_text,
            "rows_written": int(operation_metrics.get("numOutputRows", 0)),
            "delta_version": int(last_commit["version"]),
            "dagster/row_count": int(operation_metrics.get("numOutputRows", 0)),
        }


class DeltaIOManager(dg.ConfigurableIOManager):
    """Stores each asset as a Delta table; partitioned assets replace exactly their day range."""

    warehouse: str = Field(description="Folder/URI holding one table per asset, or a Unity Catalog 'catalog.schema'.")
    spark: dg.ResourceDependency[SparkResource]

    @property
    def tables(self) -> DeltaWarehouse:
        return DeltaWarehouse(location=self.warehouse, spark=self.spark)

    def location(self, asset_name: str) -> DeltaTableLocation:
        return self.tables.table(asset_name)

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if obj is None:
            return
        days = None
        if context.has_asset_partitions:
            window = context.asset_partitions_time_window
            days = (_day(window.start), _day(window.end))
        context.add_output_metadata(self.tables.write_table(context.asset_key.path[-1], obj, days, context.log))

    def load_input(self, context: dg.InputContext):
        name = context.asset_key.path[-1]
        spec = table_spec(name)
        location = self.location(name)
        spark = self.spark.get_session()
        if not location.exists(spark):
            raise dg.Failure(
                description=(
                    f"Upstream table '{name}' does not exist at {location.name}. "
                    f"Materialize '{name}' first (for the partitions this run needs), "
                    f"or check VIDEO_ASSETS_WAREHOUSE_DIR."
                ),
                metadata={"table": location.name},
            )
        frame = location.read(spark)
        if context.has_asset_partitions and spec.partition_column:
            window = context.asset_partitions_time_window
            frame = frame.where(range_condition(spec.partition_column, _day(window.start), _day(window.end)))
        return frame
