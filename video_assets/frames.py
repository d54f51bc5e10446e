"""Small DataFrames of literal rows (lookup frames: the four tiers, a run's days, files that could not be read)."""

import inspect


def literal_frame(spark, rows, schema):
    """A small DataFrame of ``rows`` (tuples in the column order of ``schema``, a DDL string or a StructType),
    from an Arrow table.

    ``spark.createDataFrame(<python list>)`` is a Python RDD: the first job that reads it makes the
    JVM start Python worker processes, and a frame of literals costs several calls into Spark per
    value. An Arrow table is handed over whole and planned as a local relation (small lookup frames:
    the four tiers, a run's days, the files that could not be read), so a join with it is a broadcast.
    Without rows the frame is empty with exactly ``schema`` (nullability included).
    """
    import pyarrow as pa  # noqa: PLC0415 - only where Spark runs
    from pyspark.sql.types import StructType  # noqa: PLC0415

    struct = schema if isinstance(schema, StructType) else StructType.fromDDL(schema)
    # Timestamps are naive datetimes in UTC, the sessions' time zone, as Spark returns them.
    arrow_schema = arrow_schema_in_utc(struct)
    table = pa.Table.from_pylist([dict(zip(struct.names, row, strict=True)) for row in rows], schema=arrow_schema)
    return spark.createDataFrame(table, schema=struct)


def arrow_schema_in_utc(struct):
    """The Arrow schema of a Spark StructType, its timestamps in UTC, on every pyspark from 4.0 on.

    pyspark 4.2 takes the time zone as ``timezone``; 4.0 and 4.1 (DBR 17.3, 18.x and their
    databricks-connect) have no such keyword and write UTC by default (``timestamp_utc=True``).
    """
    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415

    if "timezone" in inspect.signature(to_arrow_schema).parameters:
        return to_arrow_schema(struct, timezone="UTC")
    return to_arrow_schema(struct)
