"""A class-data-sharing archive for the Spark JVM this process starts: about 5 s off every cold start.

A cold local run spends seconds loading and verifying the same few thousand
classes of Spark, Delta and Hadoop that every run loads. The JVM can map them
from an archive instead (Java's AppCDS, ``-XX:SharedArchiveFile``); nothing
that runs changes, only where the classes come from. Measured on the 2-core
machine (``benchmarks/cold_start.py``): Spark start plus a first Delta write
and read, 22.5-23.4 s without the archive, 17.1-19.4 s with it.

``scripts/setup.sh`` builds the archive once per machine (``python -m
video_assets.io.jvm_archive``: a JVM runs a small Delta workload and writes the
classes it loaded when it exits, about 30 s). It is named after what it was
built for (pyspark, the Java runtime, the Delta jars), so another pyspark or
Java never uses it; where it is missing, Spark starts as it always did. Each
virtualenv has its own (about 200 MB); the next build deletes those whose
virtualenv or Java is gone (``remove_stale``).
Only a JVM this process launches (local master) uses it: Spark Connect,
Databricks Connect and Databricks' own sessions are started elsewhere.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from video_assets import config
from video_assets.sql_names import delta_path_sql

OPTION = "spark.driver.defaultJavaOptions"
# What decides which classes and jars the JVM loads.
_JAR_SETTINGS = ("spark.jars", "spark.jars.packages", "spark.jars.excludes")


# Spark splits a JVM option string on blanks and quotes: an archive path with them would break the JVM's start.
_PLAIN_PATH = re.compile(r"^[\w./+@,=:-]+$")


def archive_folder() -> Path:
    return Path(config.from_environment().cache_dir or "~/.cache/video-assets").expanduser() / "jvm"


def _java_identity() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home, "bin", "java") if java_home else shutil.which("java")
    return os.path.realpath(java) if java else ""


def _identity(settings: dict[str, str]) -> dict:
    import pyspark  # noqa: PLC0415 - only where Spark starts

    return {
        "pyspark": [pyspark.__version__, os.path.dirname(pyspark.__file__)],
        "java": _java_identity(),
        **{key: settings.get(key, "") for key in _JAR_SETTINGS},
    }


def archive_path(settings: dict[str, str]) -> Path:
    """Where the archive for a JVM started with ``settings`` lives (whether or not it exists)."""
    digest = hashlib.sha256(json.dumps(_identity(settings), sort_keys=True).encode()).hexdigest()[:16]
    return archive_folder() / f"spark-{digest}.jsa"


def _record(archive: Path) -> Path:
    """Beside each archive, what it was built for (its pyspark folder and Java): how a stale one is known."""
    return archive.with_suffix(".json")


def _write_record(archive: Path, settings: dict[str, str]) -> None:
    _record(archive).write_text(json.dumps(_identity(settings), sort_keys=True))


def remove_stale(folder: Path) -> list[Path]:
    """Deletes the archives (about 200 MB each) built for a pyspark folder or a Java that no longer exists.

    Each virtualenv gets its own archive, so every fresh clone adds one. Only an archive with a record
    (``spark-<digest>.json``, written by ``build``) is ever deleted; returns the archives deleted.
    """
    removed = []
    for record in sorted(folder.glob("spark-*.json")):
        archive = record.with_suffix(".jsa")
        try:
            identity = json.loads(record.read_text())
            pyspark_folder, java = identity["pyspark"][1], identity["java"]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
        if Path(pyspark_folder).is_dir() and (not java or Path(java).exists()):
            continue
        archive.unlink(missing_ok=True)
        record.unlink(missing_ok=True)
        removed.append(archive)
    return removed


def with_archive(settings: dict[str, str]) -> dict[str, str]:
    """``settings`` plus the JVM option that maps the archive, when one was built for them and nothing else
    sets the JVM's default options; else ``settings`` unchanged."""
    if OPTION in settings or not settings.get("spark.master", "").startswith("local"):
        return settings
    archive = archive_path(settings)
    if not _PLAIN_PATH.match(str(archive)) or not archive.is_file():
        return settings
    return {**settings, OPTION: f"-XX:SharedArchiveFile={archive}"}


def _warm_up(target: str) -> None:
    """In the JVM whose classes are archived at its exit: a small workload of the kind the graph runs."""
    from pyspark.sql import functions as F  # noqa: PLC0415
    from pyspark.sql.window import Window  # noqa: PLC0415

    from video_assets.io.spark import SparkResource, start_spark_session  # noqa: PLC0415

    settings = SparkResource().settings()
    spark = start_spark_session({**settings, OPTION: f"-XX:ArchiveClassesAtExit={target}"})
    table = os.path.abspath("table")
    lines = spark.createDataFrame(
        [('{"user_id":"u","video_id":"v","event":"play","ts":"2024-01-15T10:00:00Z","position":1.5}',)], "value string"
    )
    events = lines.select(
        F.from_json("value", "user_id string, video_id string, event string, ts string, position double").alias("e")
    ).select("e.*", F.to_date(F.to_timestamp("ts")).alias("day"))
    by_user = Window.partitionBy("user_id").orderBy("ts")
    ranked = events.withColumn("previous", F.lag("position").over(by_user))
    ranked.write.format("delta").partitionBy("day").save(table)
    (ranked.write.format("delta").mode("overwrite").option("replaceWhere", "day >= DATE'2024-01-15'")
     .partitionBy("day").save(table))
    stored = spark.read.format("delta").load(table)
    stored.groupBy("day", "video_id").agg(F.count_if(F.col("event") == "play"), F.median("position")).collect()
    stored.createOrReplaceTempView("warm_up_source")
    spark.sql(f"MERGE INTO {delta_path_sql(table)} t USING warm_up_source s ON t.user_id = s.user_id "
              "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *").collect()
    spark.sql(f"DESCRIBE HISTORY {delta_path_sql(table)} LIMIT 1").collect()
    spark.stop()


def build() -> Path | None:
    """Builds the archive for the local default settings unless it exists; returns its path (None: not built)."""
    from video_assets.io.spark import SparkResource  # noqa: PLC0415

    settings = SparkResource().settings()
    archive = archive_path(settings)
    for stale in remove_stale(archive.parent):  # a folder not made yet holds nothing to remove
        print(f"JVM class archive removed: {stale} (its virtualenv or Java is gone)")
    if archive.is_file():
        if not _record(archive).is_file():  # built before records were kept
            _write_record(archive, settings)
        print(f"JVM class archive: {archive} (already built)")
        return archive
    if not _PLAIN_PATH.match(str(archive)):
        print(f"JVM class archive not built: its path {archive} has blanks or quotes, which a JVM option cannot hold "
              f"(set {config.CACHE_DIR_VARIABLE} to a plain path); Spark starts without it")
        return None
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_suffix(f".{os.getpid()}.partial")
    scratch = archive.parent / f"warm-up-{os.getpid()}"
    try:
        # The JVM writes the archive as it exits, after the Python process that started it; it holds this
        # process's pipes until then, so capturing the output waits for it.
        done = subprocess.run(
            [sys.executable, "-m", "video_assets.io.jvm_archive", "--warm-up", str(partial), str(scratch)],
            capture_output=True, text=True,
        )
        if done.returncode != 0 or not partial.is_file():
            print(f"JVM class archive not built (Spark starts without it): {done.stderr.strip()[-600:]}")
            return None
        _write_record(archive, settings)
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"JVM class archive: {archive} (built)")
    return archive


if __name__ == "__main__":
    if sys.argv[1:2] == ["--warm-up"]:
        _warm_up_target, _scratch = sys.argv[2], sys.argv[3]
        os.makedirs(_scratch, exist_ok=True)
        os.chdir(_scratch)
        _warm_up(_warm_up_target)
    else:
        build()
