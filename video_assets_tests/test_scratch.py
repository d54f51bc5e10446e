"""A step's scratch rows: written once, read by part with their types, gone when the step ends, failed or not."""

import os
import re
import socket
import subprocess
import uuid

import dagster as dg
import pytest
from pyspark.sql import functions as F

from video_assets.assets.common import run_state_in
from video_assets.io.scratch import owner_tag, remove_abandoned, scratch_rows
from video_assets.frames import literal_frame
from video_assets_tests.observation_guard import refuse_analysis_of_observed_frames

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
        assert (warehouse / "_scratch" / f"lines-{owner_tag('run-1')}").is_dir()
        assert owner_tag("run-1") == f"run1-{_host()}-{os.getpid()}"
    assert sorted(p.name for p in warehouse.iterdir()) == ["some_table"]


def test_scratch_rows_are_removed_when_the_step_fails_and_another_runs_are_kept(spark, tmp_path):
    with scratch_rows(spark, str(tmp_path), "lines", "other") as kept:
        kept.write(frame(spark), "flagged")
        with pytest.raises(RuntimeError), scratch_rows(spark, str(tmp_path), "lines", "failing") as failing:
            failing.write(frame(spark), "flagged")
            raise RuntimeError("the step failed")
        assert sorted(p.name for p in (tmp_path / "_scratch").iterdir()) == [f"lines-{owner_tag('other')}"]
        assert parts(kept) == ([1], [2, 3], "boolean")
    assert not (tmp_path / "_scratch").exists()


def test_scratch_rows_in_a_catalog_schema_are_a_table_dropped_at_the_end(spark, tmp_path):
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS scratch_test LOCATION '{tmp_path / 'schema'}'")
    try:
        with scratch_rows(spark, "spark_catalog.scratch_test", "lines", "run-2") as scratch:
            scratch.write(frame(spark), "flagged")
            table = f"_scratch_lines_{owner_tag('run-2').replace('-', '_')}"
            assert scratch.name == f"spark_catalog.scratch_test.{table}"
            assert spark.catalog.tableExists(scratch.name)
            assert parts(scratch) == ([1], [2, 3], "boolean")
        assert not spark.catalog.tableExists(f"spark_catalog.scratch_test.{table}")
    finally:
        spark.sql("DROP SCHEMA IF EXISTS scratch_test CASCADE")


def _host() -> str:
    return re.sub(r"[^0-9a-zA-Z]", "", socket.gethostname())[:24]


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(text)


def _run(instance, status) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id=run_id, status=status))
    return run_id


def test_scratch_of_finished_and_killed_runs_is_removed_and_of_live_or_unknown_runs_kept(tmp_path):
    """Issue 39 item 5: kill -9 left _scratch folders that no later run removed."""
    instance = dg.DagsterInstance.ephemeral()
    dead, host = _dead_pid(), _host()
    folders = {
        "finished": (_run(instance, dg.DagsterRunStatus.FAILURE), host, dead),
        "killed": (_run(instance, dg.DagsterRunStatus.STARTED), host, dead),
        "live": (_run(instance, dg.DagsterRunStatus.STARTED), host, os.getpid()),
        "unknown": (str(uuid.uuid4()), host, dead),  # another instance's run, maybe alive
        "elsewhere": (_run(instance, dg.DagsterRunStatus.STARTED), "otherhost", dead),  # no pid to ask there
    }
    scratch = tmp_path / "_scratch"
    for label, (run_id, on_host, pid) in folders.items():
        (scratch / f"lifetime_pairs-{run_id.replace('-', '')}-{on_host}-{pid}" / "part-0.parquet").mkdir(parents=True)
    (scratch / "lifetime_pairs-run1").mkdir()  # an older release's name: whose it is cannot be told
    (scratch / "mine.txt").write_text("not a scratch folder")

    log = _Log()
    remove_abandoned(None, str(tmp_path), run_state_in(instance), log)
    name = {label: f"lifetime_pairs-{run_id.replace('-', '')}-{on_host}-{pid}"
            for label, (run_id, on_host, pid) in folders.items()}
    assert {p.name for p in scratch.iterdir()} == {
        name["live"], name["unknown"], name["elsewhere"], "lifetime_pairs-run1", "mine.txt"}
    assert log.lines == [
        f"Removed the scratch rows of an earlier step that is no longer running: {scratch / name[label]}"
        for label in sorted(("finished", "killed"), key=lambda label: name[label])
    ]


def test_abandoned_scratch_tables_of_a_catalog_schema_are_dropped(spark, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    finished, live = _run(instance, dg.DagsterRunStatus.SUCCESS), _run(instance, dg.DagsterRunStatus.STARTED)
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS scratch_clean LOCATION '{tmp_path / 'schema'}'")
    try:
        names = {}
        for label, run_id, pid in (("finished", finished, _dead_pid()), ("live", live, os.getpid())):
            names[label] = f"_scratch_lines_{run_id.replace('-', '')}_{_host()}_{pid}"
            frame(spark).write.format("delta").saveAsTable(f"spark_catalog.scratch_clean.{names[label]}")
        removed = remove_abandoned(spark, "spark_catalog.scratch_clean", run_state_in(instance), _Log())
        assert removed == [f"spark_catalog.scratch_clean.{names['finished']}".lower()]
        assert spark.catalog.tableExists(f"spark_catalog.scratch_clean.{names['live']}")
    finally:
        spark.sql("DROP SCHEMA IF EXISTS scratch_clean CASCADE")


def test_scratch_rows_count_what_they_write_without_analyzing_the_observed_frame(spark, tmp_path, monkeypatch):
    refuse_analysis_of_observed_frames(monkeypatch)
    with scratch_rows(spark, str(tmp_path), "lines", "run-3") as scratch:
        counted = scratch.write(frame(spark), "flagged", observe={"rows": F.count(F.lit(1)), "flagged": F.count_if("flagged")})
        assert counted == {"rows": 3, "flagged": 1}
        assert parts(scratch) == ([1], [2, 3], "boolean")
