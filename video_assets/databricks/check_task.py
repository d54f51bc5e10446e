"""What `video-assets databricks check` runs on the configured compute: the package, Spark, one Delta round trip.

Imports ``video_assets`` (from the uploaded code.zip), opens Spark the way a
step does (``SparkResource``: the session the compute provides), writes a
one-row Delta table in the warehouse (a ``_video_assets_check_<tag>`` table
of its Unity Catalog schema, or folder), reads it back, removes it, and
writes what happened to a JSON result file for the launching side.
"""

import json
import os
import shutil
import time
import uuid

CHECK_TABLE_PREFIX = "_video_assets_check_"
EXPECTED_ROW = {"id": 1, "written_by": "video-assets databricks check"}


def run_check(warehouse: str, result_path: str, dbutils=None) -> int:
    """0 when the row came back as written and the table was removed; the result file says what happened."""
    started = time.monotonic()
    result: dict = {"ok": False}
    try:
        import video_assets  # noqa: PLC0415 - the first thing checked is that the package imports
        from video_assets import config  # noqa: PLC0415
        from video_assets.io.delta import DeltaTableLocation  # noqa: PLC0415
        from video_assets.io.spark import SparkResource  # noqa: PLC0415

        result["package"] = video_assets.__file__
        yaml_config = config.load_environment_config("databricks")
        spark = SparkResource(**config.spark_settings("databricks", yaml_config)).get_session()
        result["spark"] = spark.version
        location = DeltaTableLocation(warehouse, f"{CHECK_TABLE_PREFIX}{uuid.uuid4().hex[:12]}")
        result["table"] = location.name
        try:
            written = spark.sql(
                f"SELECT {EXPECTED_ROW['id']} AS id, '{EXPECTED_ROW['written_by']}' AS written_by"
            )
            location.write(written.write.format("delta").mode("overwrite"))
            result["rows"] = [row.asDict() for row in location.read(spark).limit(10).collect()]
        finally:
            result["removed"] = _remove(spark, location, dbutils)
        result["ok"] = result["rows"] == [EXPECTED_ROW] and result["removed"] is True
    except Exception as error:  # noqa: BLE001 - the result carries it to the launching side
        # The first line says what happened (a JVM's stack trace follows it on Spark Connect).
        first_line = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
        result["error"] = f"{type(error).__name__}: {first_line[:800]}"
    result["seconds"] = round(time.monotonic() - started, 1)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, default=str)
    return 0 if result["ok"] else 1


def _remove(spark, location, dbutils) -> bool | str:
    """True once the check's table is gone; otherwise what is left, to remove by hand."""
    if location.is_catalog_table:
        spark.sql(f"DROP TABLE IF EXISTS {location.sql_name}")
        return True
    local = location.name.removeprefix("file:")
    if os.path.isdir(local):  # a local folder, or a volume through its /Volumes mount
        shutil.rmtree(local)
        return True
    files = getattr(dbutils, "fs", None)
    if files is not None:
        files.rm(location.name, True)
        return True
    return f"left {location.name}: remove it by hand"
