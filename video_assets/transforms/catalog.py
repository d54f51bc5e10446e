"""The video catalog: ``<landing>/videos/videos.csv`` -> one row per video."""

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

CATALOG_COLUMNS = ("video_id", "title", "duration_seconds", "category", "published_at")
_EMPTY_SCHEMA = "video_id string, title string, duration_seconds double, category string, published_at timestamp"


def empty_catalog(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], _EMPTY_SCHEMA)


def read_catalog(spark: SparkSession, csv_path: str) -> DataFrame:
    """Catalog rows with typed columns.

    duration_seconds is the video's length in seconds; a value that is not a
    positive number becomes null, so section 5's fallbacks (player-reported,
    then inferred) apply to that video. A video listed twice keeps the row
    with a usable duration, then the first title in sort order.
    """
    raw = spark.read.option("header", "true").option("inferSchema", "false").csv(csv_path)
    for column in CATALOG_COLUMNS:
        if column not in raw.columns:
            raw = raw.withColumn(column, F.lit(None).cast("string"))
    duration = F.trim("duration_seconds").try_cast("double")
    typed = raw.select(
        F.trim("video_id").alias("video_id"),
        F.trim("title").alias("title"),
        F.when(duration > 0, duration).alias("duration_seconds"),
        F.trim("category").alias("category"),
        F.try_to_timestamp(F.trim("published_at")).alias("published_at"),
    ).where(F.col("video_id").isNotNull() & (F.col("video_id") != ""))
    preference = Window.partitionBy("video_id").orderBy(
        F.col("duration_seconds").isNull(), F.col("title").asc_nulls_last(), F.col("duration_seconds")
    )
    return typed.withColumn("_rank", F.row_number().over(preference)).where("_rank = 1").drop("_rank")
