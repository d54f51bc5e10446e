"""Rows one step computes once and reads more than once: kept next to the warehouse's tables while the step runs.

Spark cannot write two tables from one job, and its cache is not available on
every compute (Databricks serverless refuses ``persist``, ``cache`` and
``unpersist``), so no step caches a DataFrame. A step that would otherwise
compute an expensive frame twice writes it once here (split by a column when
each part feeds its own table), then reads it back for every use.

Each step gets its own folder (or table) named after its run, so two runs never
read each other's rows, and it is removed when the step ends, failed or not:
for a warehouse folder, ``<warehouse>/_scratch/<name>-<run id>`` as Parquet;
for a Unity Catalog schema, a managed table ``_scratch_<name>_<run id>`` in it,
dropped at the end.
"""

import os
import re
import shutil
from contextlib import contextmanager

from video_assets.io.delta import DeltaTableLocation
from video_assets.io.spark import literal_frame

SCRATCH_FOLDER = "_scratch"


class ScratchRows:
    """One step's scratch rows: ``write`` once, ``read`` any number of times, removed by ``scratch_rows``."""

    def __init__(self, spark, warehouse_location: str, name: str, run_id: str):
        self._spark = spark
        tag = re.sub(r"[^0-9a-zA-Z]", "", run_id)[:16] or "run"
        table = DeltaTableLocation(warehouse_location, f"{SCRATCH_FOLDER}_{name}_{tag}")
        self.is_catalog_table = table.is_catalog_table
        self.name = table.name if table.is_catalog_table else f"{warehouse_location.rstrip('/')}/{SCRATCH_FOLDER}/{name}-{tag}"
        self._schema = None

    def write(self, frame, partition_column: str | None = None) -> None:
        """Computes ``frame`` once and stores it, split by ``partition_column`` (a column of a few values) if given."""
        self._schema = frame.schema
        writer = frame.write.mode("overwrite")
        if partition_column:
            writer = writer.partitionBy(partition_column)
        if self.is_catalog_table:
            writer.format("delta").saveAsTable(self.name)
        else:
            writer.format("parquet").save(self.name)

    def read(self):
        """The rows written, with the written schema (no inference: the partition column keeps its type)."""
        if self.is_catalog_table:
            return self._spark.read.table(self.name)
        return self._spark.read.schema(self._schema).parquet(self.name)

    def remove(self) -> None:
        if self._schema is None:  # never written (e.g. the all-time step's full rebuild): nothing to remove
            return
        if self.is_catalog_table:
            self._spark.sql(f"DROP TABLE IF EXISTS {self.name}")
            return
        local = self.name.removeprefix("file:")
        if os.path.isdir(local):
            shutil.rmtree(local, ignore_errors=True)
            try:
                os.rmdir(os.path.dirname(local))  # the _scratch folder, when no other run's rows are in it
            except OSError:
                pass
        else:
            # Storage the driver cannot list (object stores): an empty overwrite deletes the rows' files.
            empty = literal_frame(self._spark, [], self._schema.toDDL())
            empty.write.mode("overwrite").format("parquet").save(self.name)


@contextmanager
def scratch_rows(spark, warehouse_location: str, name: str, run_id: str):
    """A ``ScratchRows`` for the body of a ``with``; its rows are removed when the body ends, failed or not."""
    scratch = ScratchRows(spark, warehouse_location, name, run_id)
    try:
        yield scratch
    finally:
        scratch.remove()
