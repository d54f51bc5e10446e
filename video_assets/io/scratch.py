"""Rows one step computes once and reads more than once: kept next to the warehouse's tables while the step runs.

Spark cannot write two tables from one job, and its cache is not available on
every compute (Databricks serverless refuses ``persist``, ``cache`` and
``unpersist``), so no step caches a DataFrame. A step that would otherwise
compute an expensive frame twice writes it once here (split by a column when
each part feeds its own table), then reads it back for every use.

Each step gets its own folder (or table) named after its owner, so two runs
never read each other's rows, and it is removed when the step ends, failed or
not: for a warehouse folder, ``<warehouse>/_scratch/<name>-<owner>`` as
Parquet; for a Unity Catalog schema, a managed table
``_scratch_<name>_<owner>`` in it, dropped at the end. The owner is the run id
(its 32 hex digits), the host and the process id of the step.

A step killed with ``kill -9`` cannot remove its rows. The next step that
uses scratch rows removes those of earlier steps that are no longer running
(``remove_abandoned``): the run id in the name, and Dagster's run storage,
tell which ones; a name of an older release, or of a run the storage does not
know, is left alone.
"""

import os
import re
import shutil
import socket
from collections.abc import Callable
from contextlib import contextmanager
from enum import Enum

from video_assets.io.delta import DeltaTableLocation
from video_assets.frames import literal_frame
from video_assets.io.spark import observed, spark_errors
from video_assets.sql_names import dotted_sql, parse_warehouse

SCRATCH_FOLDER = "_scratch"
# <name>-<run id, 32 hex digits>-<host>-<pid>; a folder uses "-" between them, a catalog table "_".
_OWNER = re.compile(r"^(?P<name>.+?)[-_](?P<run>[0-9a-f]{32})[-_](?P<host>[0-9A-Za-z]+)[-_](?P<pid>\d+)$")


class RunState(Enum):
    """What Dagster's run storage says of a run."""

    FINISHED = "finished"  # succeeded, failed or canceled
    UNFINISHED = "unfinished"  # queued, starting, started or canceling: alive, or killed unseen
    UNKNOWN = "unknown"  # not in this instance's storage (another instance, or an ephemeral one)


def owner_tag(run_id: str) -> str:
    """``<run id hex>-<host>-<pid>`` of the process that writes scratch rows now."""
    return f"{_alphanumeric(run_id)}-{_alphanumeric(socket.gethostname())[:24] or 'host'}-{os.getpid()}"


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]", "", text)


class ScratchRows:
    """One step's scratch rows: ``write`` once, ``read`` any number of times, removed by ``scratch_rows``."""

    def __init__(self, spark, warehouse_location: str, name: str, run_id: str):
        self._spark = spark
        tag = owner_tag(run_id)
        table = DeltaTableLocation(warehouse_location, f"{SCRATCH_FOLDER}_{name}_{tag.replace('-', '_')}")
        self.is_catalog_table = table.is_catalog_table
        self.name = table.name if table.is_catalog_table else f"{warehouse_location.rstrip('/')}/{SCRATCH_FOLDER}/{name}-{tag}"
        self._table_sql_name = table.sql_name
        self._schema = None

    def write(self, frame, partition_column: str | None = None, *, observe: dict | None = None) -> dict:
        """Computes ``frame`` once and stores it, split by ``partition_column`` (a column of a few values) if given.

        ``observe`` names aggregate Columns counted over the rows as they are written; returns their values.
        """
        self._schema = frame.schema  # of the frame before it is observed (io.spark.observed says why)
        observation = None
        if observe:
            frame, observation = observed(frame, observe)
        writer = frame.write.mode("overwrite")
        if partition_column:
            writer = writer.partitionBy(partition_column)
        if self.is_catalog_table:
            writer.format("delta").saveAsTable(self._table_sql_name)
        else:
            writer.format("parquet").save(self.name)
        return dict(observation.get) if observation is not None else {}

    def read(self):
        """The rows written, with the written schema (no inference: the partition column keeps its type)."""
        if self.is_catalog_table:
            return self._spark.read.table(self._table_sql_name)
        return self._spark.read.schema(self._schema).parquet(self.name)

    def remove(self) -> None:
        if self._schema is None:  # never written (e.g. the all-time step's full rebuild): nothing to remove
            return
        if self.is_catalog_table:
            self._spark.sql(f"DROP TABLE IF EXISTS {self._table_sql_name}")
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


def is_abandoned(owner: re.Match, run_state: Callable[[str], RunState]) -> bool:
    """True when the step that wrote these rows is surely gone.

    Its run finished; or its run is unfinished in the storage (a killed
    process never reports) while the step's process, on this host, no longer
    exists. A run the storage does not know is never taken as gone: it may be
    alive in another Dagster instance sharing the warehouse.
    """
    state = run_state(_uuid(owner["run"]))
    if state is RunState.FINISHED:
        return True
    this_host = _alphanumeric(socket.gethostname())[:24] or "host"
    if state is RunState.UNFINISHED and owner["host"].lower() == this_host.lower():
        return not _process_exists(int(owner["pid"]))
    return False


def _uuid(hex_digits: str) -> str:
    h = hex_digits
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(spark, warehouse_location: str, run_state: Callable[[str], RunState], log) -> list[str]:
    """Removes the scratch rows of earlier steps that are no longer running; returns what it removed.

    Only names this module writes (``<name>-<run id>-<host>-<pid>``) are
    looked at; the current step's own process is never gone. A warehouse
    folder that this process cannot list (an object store), and a Unity
    Catalog schema, are looked at through Spark.
    """
    schema = parse_warehouse(warehouse_location)
    if not schema.is_path:
        return _drop_abandoned_tables(spark, schema.parts, run_state, log)
    folder = warehouse_location.removeprefix("file:").rstrip("/") + f"/{SCRATCH_FOLDER}"
    if not os.path.isdir(folder):
        return []
    removed = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        owner = _OWNER.match(entry.name)
        if owner and entry.is_dir(follow_symlinks=False) and is_abandoned(owner, run_state):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
            log.info(f"Removed the scratch rows of an earlier step that is no longer running: {entry.path}")
    return removed


def _drop_abandoned_tables(spark, schema: tuple[str, ...], run_state, log) -> list[str]:
    try:
        names = [row["tableName"] for row in spark.sql(f"SHOW TABLES IN {dotted_sql(schema)} LIKE '_scratch_*'").collect()]
    except spark_errors():
        return []
    removed = []
    for table in names:
        owner = _OWNER.match(table.removeprefix(f"{SCRATCH_FOLDER}_"))
        if owner and is_abandoned(owner, run_state):
            spark.sql(f"DROP TABLE IF EXISTS {dotted_sql((*schema, table))}")
            removed.append(".".join((*schema, table)))
            log.info(f"Dropped the scratch rows of an earlier step that is no longer running: {removed[-1]}")
    return removed
