"""A step's scratch rows: written once, read by part with their types, gone when the step ends, failed or not."""

import pytest
from pyspark.sql import functions as F

from video_assets.io.scratch import scratch_rows
from video_assets.io.spark import literal_frame

ROWS = [(1, "a", True), (2, "b", False), (3, "c", False)]


def frame(spark):
    return literal_frame(spark, ROWS, "id int, label string, flagged boolean")


def parts(scratch):
    rows = scratch.read()
    flagged = sorted(r["id"] for r in rows.where(F.col("flagged")).collect())
    others = sorted(r["id"] for r in rows.where(~F.col("flagged")).collect())
    return flagged, others, dict(rows.dtypes)["flagged"]


def test_scratch_rows_in_a_warehouse_folder_are_read_by_part_and_removed_with_their_folder(spark, tmp_path):
    warehouse = tmp_path / "warehouse"
    (warehouse / "some_table").mkdir(parents=True)
    with scratch_rows(spark, str(warehouse), "lines", "run-1") as scratch:
        scratch.write(frame(spark), "flagged")
        assert parts(scratch) == ([1], [2, 3], "boolean")
        assert (warehouse / "_scratch" / "lines-run1").is_dir()
    assert sorted(p.name for p in warehouse.iterdir()) == ["some_table"]


def test_scratch_rows_are_removed_when_the_step_fails_and_another_runs_are_kept(spark, tmp_path):
    with scratch_rows(spark, str(tmp_path), "lines", "other") as kept:
        kept.write(frame(spark), "flagged")
        with pytest.raises(RuntimeError), scratch_rows(spark, str(tmp_path), "lines", "failing") as failing:
            failing.write(frame(spark), "flagged")
            raise RuntimeError("the step failed")
        assert sorted(p.name for p in (tmp_path / "_scratch").iterdir()) == ["lines-other"]
        assert parts(kept) == ([1], [2, 3], "boolean")
    assert not (tmp_path / "_scratch").exists()


def test_scratch_rows_in_a_catalog_schema_are_a_table_dropped_at_the_end(spark, tmp_path):
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS scratch_test LOCATION '{tmp_path / 'schema'}'")
    try:
        with scratch_rows(spark, "spark_catalog.scratch_test", "lines", "run-2") as scratch:
            scratch.write(frame(spark), "flagged")
            assert scratch.name == "spark_catalog.scratch_test._scratch_lines_run2"
            assert spark.catalog.tableExists(scratch.name)
            assert parts(scratch) == ([1], [2, 3], "boolean")
        assert not spark.catalog.tableExists("spark_catalog.scratch_test._scratch_lines_run2")
    finally:
        spark.sql("DROP SCHEMA IF EXISTS scratch_test CASCADE")
