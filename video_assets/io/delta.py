"""Delta Lake IO manager for PySpark DataFrames.

One Delta table per asset, under one warehouse location, partitioned by the
table's date column (``video_assets.tables``). Writing partition D, or a range
of days, replaces exactly that range in one atomic commit (``replaceWhere``):
a rerun never duplicates rows and never touches other days. Loading an
upstream reads exactly the window its partition mapping asks for.

The warehouse is a folder/URI (``data/warehouse``, ``dbfs:/…``, ``s3://…``)
or, on Databricks with Unity Catalog, ``catalog.schema``.

Every Delta operation is a DataFrame write or SQL (``DESCRIBE HISTORY``,
``MERGE INTO``, ``ALTER TABLE``), never the ``DeltaTable`` Python API: that one
needs a classic session, and Spark Connect sessions (serverless,
standard-access clusters) have none.
"""

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dagster as dg
from pydantic import Field

from video_assets.io import table_upgrades
from video_assets.io.spark import SparkResource, observed, spark_errors
from video_assets.sql_names import delta_path_sql, dotted_sql, parse_warehouse, quote_identifier
from video_assets.tables import table_spec


class PartitionRangeViolation(dg.Failure):
    """A transform produced rows outside the partition range being written."""


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


class DeltaTableLocation:
    """Where one asset's table lives: a path, or a Unity Catalog table name.

    ``name`` is the path or the dotted name as a person reads it; ``sql_name`` the table as SQL and the
    catalog API name it, every part quoted (```catalog`.`schema`.`table```, or ``delta.`<path>```).
    """

    def __init__(self, warehouse: str, table_name: str):
        schema = parse_warehouse(warehouse)
        self.is_catalog_table = not schema.is_path
        if self.is_catalog_table:
            self.name = f"{schema.text}.{table_name}"
            self.sql_name = dotted_sql((*schema.parts, table_name))
        else:
            self.name = f"{warehouse.rstrip('/')}/{table_name}"
            self.sql_name = delta_path_sql(self.name)

    def exists(self, spark) -> bool:
        if self.is_catalog_table:
            return spark.catalog.tableExists(self.sql_name)
        try:
            self.read(spark).schema  # noqa: B018 - resolving the table reads its log (cached by Delta), no job
        except spark_errors() as error:
            if _says_no_delta_table(error):
                return False
            raise
        return True

    def history(self, spark, limit: int):
        """The latest ``limit`` commits, newest first (DESCRIBE HISTORY's columns); lazy."""
        return spark.sql(f"DESCRIBE HISTORY {self.sql_name} LIMIT {int(limit)}")

    def latest_commit(self, spark):
        """The newest commit's row of DESCRIBE HISTORY, or None when no Delta table is there."""
        if self.is_catalog_table and not spark.catalog.tableExists(self.sql_name):
            return None
        try:
            return self.history(spark, 1).first()
        except spark_errors() as error:
            if _says_no_delta_table(error):
                return None
            raise

    def read(self, spark, version: int | None = None):
        reader = spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.table(self.sql_name) if self.is_catalog_table else reader.load(self.name)

    def write(self, writer):
        return writer.saveAsTable(self.sql_name) if self.is_catalog_table else writer.save(self.name)


# What Delta and Spark answer when a path holds no Delta table (missing, empty or another format).
_NO_DELTA_TABLE = (
    "DELTA_TABLE_ONLY_OPERATION", "DELTA_MISSING_DELTA_TABLE", "DELTA_TABLE_NOT_FOUND", "DELTA_PATH_DOES_NOT_EXIST",
    "DELTA_EMPTY_DIRECTORY", "PATH_NOT_FOUND", "TABLE_OR_VIEW_NOT_FOUND",
)


def _says_no_delta_table(error: Exception) -> bool:
    return any(condition in str(error) for condition in _NO_DELTA_TABLE)


def _previous_day(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def range_condition(column: str, start_day: str, end_day_exclusive: str) -> str:
    column = quote_identifier(column)
    return f"{column} >= DATE'{start_day}' AND {column} < DATE'{end_day_exclusive}'"


# Our commit is looked up among the newest commits after the write (others may have committed since).
_OWN_COMMIT_SEARCH = 10
_ROWS_WRITTEN = "_video_assets_rows_written"
_STATISTICS_COLUMNS = "delta.dataSkippingStatsColumns"

CONFLICT_ATTEMPTS = 5
CONFLICT_FIRST_DELAY_SECONDS = 2.0
# Delta's optimistic-concurrency exceptions (io.delta.exceptions.*), by class or error-class name.
_CONFLICTS = (
    "ConcurrentAppendException", "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException", "MetadataChangedException", "ProtocolChangedException",
    "DELTA_CONCURRENT_APPEND", "DELTA_CONCURRENT_DELETE", "DELTA_METADATA_CHANGED", "DELTA_PROTOCOL_CHANGED",
)


def _conflict_kind(error: Exception) -> str | None:
    text = f"{type(error).__name__} {error}"
    return next((name for name in _CONFLICTS if name in text), None)


def _touches_days(commit: dict, days: tuple[str, str]) -> bool:
    """Whether a commit replaced whole-table rows or a day range overlapping [days[0], days[1])."""
    predicate = commit.get("predicate")
    if not predicate:
        return commit.get("mode") == "Overwrite"
    found = re.findall(r"\d{4}-\d{2}-\d{2}", predicate)
    if len(found) < 2:
        return True
    other_start, other_end = min(found), max(found)
    return other_start < days[1] and days[0] < other_end


class ConcurrentWriteConflict(dg.Failure):
    """Another writer committed the same days of a table while this run was writing them."""


class EmptyOverwriteRefused(dg.Failure):
    """A write would replace days (or a whole table) that hold rows with nothing (SEMANTICS.md 2)."""


@dataclass
class WriteResult:
    """What one table write reports: Dagster metadata and the counts observed while the rows went by."""

    metadata: dict
    observed: dict = field(default_factory=dict)
    backfill: table_upgrades.Backfill | None = None  # columns an upgrade added, and the rows still without them

    @property
    def rows_written(self) -> int:
        return int(self.metadata["rows_written"])


class DeltaWarehouse(dg.ConfigurableResource):
    """Where the tables live and how a day range of one is replaced; every asset writes through it."""

    location: str = Field(description="Folder/URI holding one table per asset, or a Unity Catalog 'catalog.schema'.")
    allow_empty_overwrite: bool = Field(
        default=False,
        description=(
            "Allow replacing days (or the catalog) that hold rows with zero rows. Off by default, so a wrong "
            "or empty landing location can never erase history; turn on for one run to clear days on purpose."
        ),
    )
    spark: dg.ResourceDependency[SparkResource]

    def table(self, asset_name: str) -> DeltaTableLocation:
        return DeltaTableLocation(self.location, asset_name)

    def read_range(self, name: str, days: list[str], version: int | None = None):
        """The table's rows of ``days`` (all rows when ``days`` is empty or the table is all-time); lazy.

        With ``version``, the rows of that Delta version: every query of the
        frame then sees the same rows, whatever another run commits meanwhile.
        """
        frame = self.table(name).read(self.spark.get_session(), version)
        column = table_spec(name).partition_column
        if days and column:
            end = (date.fromisoformat(days[-1]) + timedelta(days=1)).isoformat()
            frame = frame.where(range_condition(column, days[0], end))
        return frame

    def days_with_rows(self, name: str, days: list[str]) -> list[str]:
        """Which of these days the table holds rows for (a partition-pruned look-up; [] when it does not exist)."""
        if not days:
            return []
        spark = self.spark.get_session()
        location = self.table(name)
        column = table_spec(name).partition_column
        if column is None or not location.exists(spark):
            return []
        wanted = ", ".join(f"DATE'{day}'" for day in days)
        present = location.read(spark).where(f"{column} IN ({wanted})").select(column).distinct()
        return sorted(row[0].isoformat() for row in present.collect())

    def table_rows(self, name: str) -> int | None:
        """Rows the whole table holds (Delta answers from its log, no scan); None when there is no such table."""
        spark = self.spark.get_session()
        location = self.table(name)
        if not location.exists(spark):
            return None
        return int(spark.sql(f"SELECT count(*) FROM {location.sql_name}").first()[0])

    def has_rows(self, name: str) -> bool:
        spark = self.spark.get_session()
        location = self.table(name)
        return location.exists(spark) and bool(location.read(spark).limit(1).count())

    def refuse_to_empty(self, name: str, days: list[str], why: str, log) -> None:
        """Fails, before anything is written, when days of ``name`` that hold rows would be replaced by nothing.

        ``days`` are the run's days that will get zero rows; ``why`` says why
        (no landing files, ...). Passes when none of them holds rows, or when
        ``allow_empty_overwrite`` is on (then it logs what will be cleared).
        """
        doomed = self.days_with_rows(name, days)
        if not doomed:
            return
        if self.allow_empty_overwrite:
            log.warning(f"{name}: replacing {', '.join(doomed)} with zero rows ({why}); allow_empty_overwrite is on.")
            return
        raise EmptyOverwriteRefused(
            description=(
                f"{name}: refusing to replace {', '.join(doomed)} with zero rows ({why}); those days hold rows now. "
                "Nothing was written. If the landing location is wrong, fix it and run again; if the days are "
                "meant to be empty, rerun with allow_empty_overwrite (docs/operating.md, 'Clearing days')."
            ),
            metadata={"table": self.table(name).name, "days": ", ".join(doomed), "why": why},
        )

    def write_table(
        self,
        name: str,
        frame,
        days: tuple[str, str] | None,
        log,
        *,
        observe: dict | None = None,
        writer_id: str | None = None,
    ) -> WriteResult:
        """Writes one asset's table: the day range [start, end) replaced atomically, or all rows when days is None.

        ``observe`` names aggregate Columns counted over the rows as they are
        written (``DataFrame.observe``: no second pass); their values come back
        in ``WriteResult.observed``. Metadata: table, range, rows written,
        Delta version, seconds. ``writer_id`` (the Dagster run) is stored in
        the commit's userMetadata, so a conflicting writer can be named.
        """
        from pyspark.sql import functions as F  # noqa: PLC0415 - only where Spark runs

        spec = table_spec(name)
        location = self.table(name)
        spark = self.spark.get_session()
        upgrade = table_upgrades.prepare(spark, location, name, log, full_rewrite=days is None)
        # The rows written are counted as they go by: exact even when another writer commits right after.
        frame, observation = observed(frame, {**(observe or {}), _ROWS_WRITTEN: F.count(F.lit(1))})
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

        if writer_id:
            writer = writer.option("userMetadata", writer_id)
        if spec.statistics_columns:
            writer = self._with_statistics_columns(location, writer, spec.statistics_columns, upgrade.properties, log)
        log.info(f"Writing {name} ({range_text}) to {location.name}")
        started = time.perf_counter()
        try:
            version_before = self._write_with_retries(name, location, writer, days, writer_id, log)
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
        counted = dict(observation.get)
        rows = int(counted.pop(_ROWS_WRITTEN) or 0)
        metadata = {
            "table": dg.MetadataValue.path(location.name),
            "written_range": range_text,
            "rows_written": rows,
            "delta_version": self._version_written(location, version_before, writer_id),
            "dagster/row_count": rows,
            "write_seconds": round(time.perf_counter() - started, 2),
        }
        log.info(f"Wrote {rows} rows to {name} ({range_text}) in {metadata['write_seconds']} s")
        written_days = table_upgrades.expand_ranges(f"{days[0]}..{_previous_day(days[1])}") if days else None
        backfill = upgrade.after_write(spark, location, written_days, rebuilt=days is None)
        if backfill.pending:
            metadata["backfill_due"] = backfill.describe()
            log.warning(backfill.describe())
        return WriteResult(metadata, counted, backfill)

    def merge_rows(self, name: str, source, keys: tuple[str, ...], gone_column: str, log) -> dict:
        """Upserts ``source`` into an all-time table by ``keys``; rows with ``gone_column`` true are deleted.

        Only the keys in ``source`` are touched, and of those only the rows whose
        values differ from the stored ones are rewritten (a rerun of unchanged
        days writes nothing); with deletion vectors on, the files of untouched
        rows are not rewritten. Returns the commit's
        metadata with Delta's merge metrics (rows inserted, updated, deleted,
        copied; files added and removed). A MERGE that changes nothing records
        no commit: zero rows, no metrics, the version the table had.
        """
        spark = self.spark.get_session()
        location = self.table(name)
        upgrade = table_upgrades.prepare(spark, location, name, log, full_rewrite=False)
        fields = [f for f in source.schema.fields if f.name != gone_column]
        columns = [f.name for f in fields]
        q = quote_identifier
        on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
        changed = _differs_sql([f for f in fields if f.name not in keys])
        view = f"video_assets_merge_source_{uuid.uuid4().hex}"
        log.info(f"Merging {name} by ({', '.join(keys)}) into {location.name}")
        started = time.perf_counter()
        version_before = self._version(location, spark)
        source.createOrReplaceTempView(view)
        try:
            spark.sql(
                f"MERGE INTO {location.sql_name} t USING {q(view)} s ON {on} "
                f"WHEN MATCHED AND s.{q(gone_column)} THEN DELETE "
                f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {', '.join(f't.{q(c)} = s.{q(c)}' for c in columns)} "
                f"WHEN NOT MATCHED AND NOT s.{q(gone_column)} THEN INSERT ({', '.join(q(c) for c in columns)}) "
                f"VALUES ({', '.join(f's.{q(c)}' for c in columns)})"
            ).collect()
        finally:
            spark.catalog.dropTempView(view)
        last = location.latest_commit(spark)
        # A MERGE that changes nothing (an empty source) commits nothing: the latest commit is an older one.
        committed = int(last["version"]) != version_before
        metrics = (last["operationMetrics"] or {}) if committed else {}
        merged = {k: int(v) for k, v in metrics.items() if k.startswith("numTarget")}
        rows = merged.get("numTargetRowsInserted", 0) + merged.get("numTargetRowsUpdated", 0)
        metadata = {
            "table": dg.MetadataValue.path(location.name),
            "written_range": f"merged by {', '.join(keys)}",
            "rows_written": rows,
            "dagster/row_count": rows,
            "delta_version": int(last["version"]),
            "merge_metrics": dg.MetadataValue.json(merged),
            "write_seconds": round(time.perf_counter() - started, 2),
        }
        if upgrade.before.pending:
            metadata["backfill_due"] = upgrade.before.describe()
            log.warning(upgrade.before.describe())
        log.info(f"Merged {name}: {merged}")
        return metadata, upgrade.before

    def enable_deletion_vectors(self, name: str) -> None:
        """Lets MERGE mark changed rows instead of rewriting whole files (all-time tables)."""
        spark = self.spark.get_session()
        spark.sql(f"ALTER TABLE {self.table(name).sql_name} SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")

    def _write_with_retries(self, name, location, writer, days, writer_id, log) -> int | None:
        """One commit; a lost optimistic-concurrency race on *other* days is retried with backoff.

        Returns the table's version before the write that went through (None when it did not exist).

        Delta replaces a day range atomically and checks, at commit, whether a
        commit since this write started touched what it read. When another
        writer committed other days (or created the table first), the write is
        simply retried. When the other writer replaced some of the same days,
        retrying would silently pick a winner: the step fails, naming the
        other writer's run and the days, and nothing of this write is committed.
        """
        spark = self.spark.get_session()
        started_at = self._version(location, spark)
        delay = CONFLICT_FIRST_DELAY_SECONDS
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                location.write(writer)
                return started_at
            except Exception as error:
                conflict = _conflict_kind(error)
                if conflict is None:
                    raise
                rivals = self._commits_since(location, spark, started_at)
                overlapping = [c for c in rivals if days and _touches_days(c, days)]
                if overlapping or attempt == CONFLICT_ATTEMPTS:
                    others = ", ".join(sorted({c["writer"] or f"version {c['version']}" for c in overlapping or rivals}))
                    raise ConcurrentWriteConflict(
                        description=(
                            f"{name}: another writer ({others or 'unknown'}) committed "
                            + (f"the same days ({days[0]} up to {days[1]}) " if overlapping else "")
                            + f"while this run was writing ({conflict}). Nothing of this write was committed. "
                            "Let the other run finish, then re-execute this run from failure."
                        ),
                        metadata={"table": location.name, "conflict": conflict, "other_writers": others},
                    ) from error
                log.warning(
                    f"{name}: another writer committed other days first ({conflict}); retrying in {delay:.0f} s "
                    f"(attempt {attempt + 1} of {CONFLICT_ATTEMPTS})."
                )
                time.sleep(delay)
                delay *= 2
                started_at = self._version(location, spark)

    def current_version(self, name: str) -> int | None:
        """The table's latest Delta version (None when it does not exist)."""
        return self._version(self.table(name), self.spark.get_session())

    def _with_statistics_columns(self, location: DeltaTableLocation, writer, columns: tuple[str, ...], properties, log):
        """The writer, for a table that keeps data-skipping statistics on ``columns`` only.

        A new table (``properties`` None) gets the property from the write that
        creates it; a table created by an earlier version (statistics on every
        column) has it set once, by an ALTER TABLE before this write.
        """
        wanted = ",".join(columns)
        spark = self.spark.get_session()
        if properties is not None:
            if properties.get(_STATISTICS_COLUMNS) != wanted:
                log.info(f"{location.name}: data-skipping statistics from now on for {wanted} only")
                spark.sql(f"ALTER TABLE {location.sql_name} SET TBLPROPERTIES ('{_STATISTICS_COLUMNS}' = '{wanted}')")
            return writer
        return writer.option(_STATISTICS_COLUMNS, wanted)

    @staticmethod
    def _version(location: DeltaTableLocation, spark) -> int | None:
        last = location.latest_commit(spark)
        return None if last is None else int(last["version"])

    @staticmethod
    def _commits_since(location: DeltaTableLocation, spark, version: int | None) -> list[dict]:
        """The commits after ``version`` (all of them when the table did not exist): version, writer, predicate."""
        if not location.exists(spark):
            return []
        history = location.history(spark, 20).where(f"version > {-1 if version is None else version}")
        return [
            {
                "version": row["version"],
                "writer": row["userMetadata"],
                "predicate": (row["operationParameters"] or {}).get("predicate"),
                "mode": (row["operationParameters"] or {}).get("mode"),
            }
            for row in history.select("version", "userMetadata", "operationParameters").collect()
        ]

    def _version_written(self, location: DeltaTableLocation, version_before: int | None, writer_id: str | None) -> int:
        """The version of this write's commit: the newest since ``version_before`` carrying ``writer_id``.

        Another writer may have committed right after this one, so the newest commit is not necessarily
        ours. A write that changed nothing (zero rows into days that held none) records no commit at all
        (Delta skips empty commits): then the table's version is the one it had.
        """
        spark = self.spark.get_session()
        since = -1 if version_before is None else version_before
        recent = location.history(spark, _OWN_COMMIT_SEARCH).where(f"version > {since}")
        commits = recent.select("version", "userMetadata").collect()
        ours = [int(row["version"]) for row in commits if writer_id is None or row["userMetadata"] == writer_id]
        return max(ours, default=since)


def _differs_sql(fields) -> str:
    """SQL that is true when a MERGE's target row ``t`` and source row ``s`` differ in any of ``fields``
    (nulls equal to nulls). Maps cannot be compared in Spark SQL: a map column counts as always changed."""
    if not fields or any("map<" in f.dataType.simpleString() for f in fields):
        return "true"
    q = quote_identifier
    return "NOT (" + " AND ".join(f"t.{q(f.name)} <=> s.{q(f.name)}" for f in fields) + ")"


class DeltaIOManager(dg.ConfigurableIOManager):
    """Stores each asset as a Delta table of the warehouse; partitioned assets replace exactly their day range."""

    warehouse: dg.ResourceDependency[DeltaWarehouse]

    @property
    def tables(self) -> DeltaWarehouse:
        return self.warehouse

    @property
    def spark(self) -> SparkResource:
        return self.warehouse.spark

    def location(self, asset_name: str) -> DeltaTableLocation:
        return self.tables.table(asset_name)

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if obj is None:
            return
        days = None
        if context.has_asset_partitions:
            window = context.asset_partitions_time_window
            days = (_day(window.start), _day(window.end))
        context.add_output_metadata(self.tables.write_table(context.asset_key.path[-1], obj, days, context.log).metadata)

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
