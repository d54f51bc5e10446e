"""The whole graph on one small generated landing: the default run (classic, local Spark 4.2, in this process)
and the same graph run elsewhere (another Spark, a Connect server, another client) in a child process.

Every comparison of a runtime with the default uses the session's one default run (conftest ``default_run``).
"""

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

FIRST_DAY, LAST_DAY = "2024-03-04", "2024-03-05"
DAYS = (FIRST_DAY, LAST_DAY)


def generate_small_landing(folder: Path) -> Path:
    """Two days, 30 viewers, 8 videos, a few bad lines and duplicates, in two of the landing's formats."""
    from video_assets.sample_data import generate_landing  # noqa: PLC0415

    generate_landing(
        folder, days=2, users=30, videos=8, seed=23, start_date=FIRST_DAY, bad_line_share=0.02,
        duplicate_share=0.02, formats=("jsonl.gz", "parquet"),
    )
    return folder


@dataclass(frozen=True)
class GraphRun:
    """Where a run of the whole graph read and wrote, and what its checks and materializations said."""

    landing: Path
    warehouse: Path
    checks: dict[str, bool]
    metadata_keys: dict[str, set[str]]
    _rows: dict = field(default_factory=dict, compare=False, repr=False)

    def rows(self, spark, name: str) -> list[dict]:
        """A table's rows as ``dagster_runs.comparable_rows`` gives them, read once per run and kept."""
        from video_assets_tests.dagster_runs import comparable_rows  # noqa: PLC0415

        if name not in self._rows:
            self._rows[name] = comparable_rows(spark, self.warehouse, name)
        return self._rows[name]


def checks_by_name(evaluations) -> dict[str, bool]:
    """asset:check -> passed; a check evaluated for several days or runs passed only if it passed every time."""
    outcome: dict[str, bool] = {}
    for evaluation in evaluations:
        key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        outcome[key] = outcome.get(key, True) and evaluation.passed
    return outcome


def metadata_keys(materializations) -> dict[str, set[str]]:
    """asset -> the metadata keys of its materializations."""
    keys: dict[str, set[str]] = {}
    for materialization in materializations:
        keys.setdefault(materialization.asset_key.to_user_string(), set()).update(materialization.metadata)
    return keys


def recorded_outcome(dagster_home: Path) -> tuple[dict[str, bool], dict[str, set[str]]]:
    """(checks_by_name, metadata_keys) of every run recorded in a Dagster home."""
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        events = [
            record.dagster_event
            for run_record in instance.get_run_records()
            for record in instance.all_logs(run_record.dagster_run.run_id)
            if record.dagster_event
        ]
    return (
        checks_by_name(
            e.event_specific_data for e in events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ),
        metadata_keys(
            e.event_specific_data.materialization
            for e in events
            if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        ),
    )


# Runs each range given ("first:last") as its own Dagster run, in one process (one interpreter and, on classic
# Spark, one JVM for all of them), stopping at the first that fails.
_RUN_RANGES = (
    "import sys\n"
    "from video_assets.cli import run_graph\n"
    "sys.exit(0 if all(run_graph(*days.split(':')) for days in sys.argv[1:]) else 1)\n"
)
# Day by day: the second day MERGEs into the all-time table; one range run builds it afresh.
DAY_BY_DAY = ((FIRST_DAY, FIRST_DAY), (LAST_DAY, LAST_DAY))
ONE_RANGE = ((FIRST_DAY, LAST_DAY),)


@dataclass
class ChildRun:
    """A run of the whole graph in a child process, started by ``start_in_child``; ``result`` waits for it."""

    process: subprocess.Popen
    python: Path
    folder: Path
    landing: Path
    timeout: float

    def result(self) -> GraphRun:
        """The finished run (fails the test with the run's output if it failed)."""
        try:
            out, _ = self.process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
            raise AssertionError(f"{self.python}: the run took longer than {self.timeout:.0f} s\n{out[-6000:]}") from None
        assert self.process.returncode == 0, f"{self.python}: the run failed\n{out[-10000:]}"
        checks, keys = recorded_outcome(self.folder / "dagster_home")
        return GraphRun(self.landing, self.folder / "warehouse", checks, keys)


def start_in_child(python: Path, environment: dict[str, str], folder: Path, landing: Path,
                   ranges=DAY_BY_DAY, timeout: float = 900) -> ChildRun:
    """Starts the whole graph over ``ranges`` with ``python`` in a child process on ``landing``, writing under
    ``folder`` (its warehouse and Dagster home)."""
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    environment = {
        **environment,
        "VIDEO_ASSETS_LANDING_DIR": str(landing),
        "VIDEO_ASSETS_WAREHOUSE_DIR": str(folder / "warehouse"),
        "VIDEO_ASSETS_PARTITION_START": FIRST_DAY,
        "DAGSTER_HOME": str(home),
    }
    process = subprocess.Popen(
        [str(python), "-c", _RUN_RANGES, *(f"{first}:{last}" for first, last in ranges)], env=environment,
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return ChildRun(process, python, folder, landing, timeout)


def run_in_child(python: Path, environment: dict[str, str], folder: Path, landing: Path,
                 ranges=DAY_BY_DAY, timeout: float = 900) -> GraphRun:
    """``start_in_child`` and wait for its result."""
    return start_in_child(python, environment, folder, landing, ranges, timeout).result()


def child_environment(**variables: str | None) -> dict[str, str]:
    """This process's environment without anything that would choose a Spark for the child, plus ``variables``
    (None removes one)."""
    environment = {
        key: value for key, value in os.environ.items()
        if key not in ("SPARK_HOME", "SPARK_REMOTE", "PYSPARK_PYTHON", "PYTHONPATH", "SPARK_CONF_DIR")
    }
    for key, value in variables.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return environment


def same_as_default(spark, default: GraphRun, other: GraphRun) -> None:
    """Asserts that ``other`` ran every check of ``default`` with the same outcome, reported the same metadata,
    and wrote the same rows to every table (floats up to summation order)."""
    from video_assets.tables import TABLES  # noqa: PLC0415
    from video_assets_tests.dagster_runs import comparable_rows, rows_differ  # noqa: PLC0415

    assert other.checks == default.checks
    # The all-time tables' metadata differs by design between a first build and a MERGE.
    all_time = ("user_video_engagement", "video_lifetime_summary")
    assert {k: v for k, v in other.metadata_keys.items() if k not in all_time} == {
        k: v for k, v in default.metadata_keys.items() if k not in all_time
    }
    for name in TABLES:
        assert default.rows(spark, name), f"{name} is empty: the small landing should give every table rows"
        assert rows_differ(name, default.rows(spark, name), comparable_rows(spark, other.warehouse, name)) is None


def engine_of(warehouse: Path, table: str = "raw_video_events") -> str:
    """The engine that wrote a Delta table's first commit, as Delta records it ("Apache-Spark/4.0.1 Delta-Lake/4.0.0")."""
    import json  # noqa: PLC0415

    first_commit = warehouse / table / "_delta_log" / "00000000000000000000.json"
    for line in first_commit.read_text().splitlines():
        action = json.loads(line)
        if "commitInfo" in action:
            return action["commitInfo"]["engineInfo"]
    raise AssertionError(f"{first_commit} has no commitInfo")
