"""The scheduled PySpark notebook our users come from, written the way such a notebook usually is (issue 42).

    .venv/bin/python benchmarks/notebook_peer.py --landing benchmarks/out/<run>/landing --out /tmp/notebook

Cell by cell: start Spark (with Delta), read the landing's JSON lines into one
bronze Delta table with Spark's JSON reader and a schema, keep play, pause,
resume and ended events, measure each play/resume -> next pause/ended stretch
with a window by user and video, aggregate per (day, user, video) with one
groupBy, write one Delta table. No sessions across midnight, no quarantine,
no checks: what such a notebook does not do. Prints each cell's seconds and
the total from the process's start (``versus_notebook.py`` times it from
outside too).
"""

import argparse
import os
import shutil
import time
from pathlib import Path

PROCESS_START = time.time()

# The players write camelCase or snake_case names and three time formats: the notebook's schema names both
# spellings and its first cell coalesces them, as a notebook over such a bronze table has to.
BRONZE_SCHEMA = (
    "eventId string, event_id string, userId string, user_id string, videoId string, video_id string, "
    "eventName string, event_name string, timestamp string, currentTime double, current_time double, "
    "videoDuration double, video_duration double, platform string"
)
# The spellings of the four kinds the notebook keeps (the contract's aliases, lower case).
KEPT_EVENTS = {
    "play": ("play", "start", "started", "video_play", "video_start", "video_started", "video playback started"),
    "pause": ("pause", "paused", "video_pause", "video playback paused", "video playback interrupted"),
    "resume": ("resume", "resumed", "video_resume", "video playback resumed"),
    "ended": ("end", "ended", "complete", "completed", "video_end", "video_ended", "video_complete",
              "video_completed", "video playback completed", "video content completed"),
}


def spark_session():
    from delta import configure_spark_with_delta_pip  # noqa: PLC0415
    from pyspark.sql import SparkSession  # noqa: PLC0415

    builder = (
        SparkSession.builder.master("local[*]")
        .appName("notebook-peer")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("NOTEBOOK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
    )
    return configure_spark_with_delta_pip(builder).getOrCreate()


def bronze(spark, landing: Path, out: Path) -> None:
    """Cell 2: the landing's JSON into one bronze Delta table."""
    events = spark.read.schema(BRONZE_SCHEMA).json(str(landing / "events"))
    events.write.format("delta").mode("overwrite").save(str(out / "bronze"))


def engagement(spark, out: Path) -> None:
    """Cells 3-4: play/pause/resume/ended, a window by user and video, one groupBy, one table."""
    from pyspark.sql import Window  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: PLC0415

    raw_name = F.lower(F.trim(F.coalesce("eventName", "event_name")))
    name = F.lit(None).cast("string")
    for kind, spellings in KEPT_EVENTS.items():
        name = F.when(raw_name.isin(*spellings), F.lit(kind)).otherwise(name)
    epoch = F.when(F.col("timestamp").rlike("^[0-9]{12,}$"), F.timestamp_millis(F.col("timestamp").cast("long")))
    events = (
        spark.read.format("delta").load(str(out / "bronze"))
        .select(
            F.coalesce("userId", "user_id").alias("userId"),
            F.coalesce("videoId", "video_id").alias("videoId"),
            name.alias("name"),
            F.coalesce(epoch, F.try_to_timestamp("timestamp")).alias("ts"),
            F.coalesce("currentTime", "current_time").alias("currentTime"),
            F.coalesce("videoDuration", "video_duration").alias("videoDuration"),
        )
        .where(F.col("name").isNotNull() & F.col("ts").isNotNull())
    )
    by_pair = Window.partitionBy("userId", "videoId").orderBy("ts")
    stretches = events.withColumn("next_ts", F.lead("ts").over(by_pair)).withColumn(
        "next_position", F.lead("currentTime").over(by_pair)
    )
    playing = F.col("name").isin("play", "resume")
    watched = F.when(playing, F.col("next_ts").cast("double") - F.col("ts").cast("double")).otherwise(0.0)
    summary = stretches.groupBy(F.to_date("ts").alias("day"), "userId", "videoId").agg(
        F.sum(F.least(watched, F.lit(3600.0))).alias("watch_seconds"),
        F.count_if(F.col("name") == "play").alias("plays"),
        F.max("currentTime").alias("furthest_position"),
        F.max("videoDuration").alias("duration"),
        F.max(F.col("name") == "ended").alias("completed"),
    )
    summary.write.format("delta").mode("overwrite").save(str(out / "user_video_engagement"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    cells = {}
    started = time.perf_counter()
    spark = spark_session()
    cells["spark start"] = time.perf_counter() - started
    for name, cell in (("JSON into bronze Delta", lambda: bronze(spark, args.landing, args.out)),
                       ("aggregation, one table", lambda: engagement(spark, args.out))):
        started = time.perf_counter()
        cell()
        cells[name] = time.perf_counter() - started
    for name, seconds in cells.items():
        print(f"notebook {name:28} {seconds:7.1f} s")
    print(f"NOTEBOOK total_from_process_start={time.time() - PROCESS_START:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
