"""Spark settings of the tests' SparkSession and of the runs the e2e and concurrent-run tests start.

On the tests' few rows, Spark's fixed costs per query are the suite's time. None of these settings
changes a result, only how it is computed. The emulated Databricks cluster keeps the project's
production settings (databricks/conftest.py), so a whole graph still runs as configured.
"""

import socket
from pathlib import Path

TEST_SPARK_SETTINGS = {
    # Adaptive execution plans each shuffle stage as its own job: about 12 % of the quick tier.
    "spark.sql.adaptive.enabled": "false",
    # Interpreted expressions instead of generating and compiling Java for every query (Janino takes
    # longer than the query itself on a few rows): 177 s -> 135 s on transforms + checks + assets.
    # factoryMode is the setting Spark's own test suites use to run their interpreted path.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    # PySpark records the Python call site of every Column function for Spark's error messages: about
    # eight Py4J round trips per function (classify_lines: 6,000 -> 2,600), 15 % of the transform tests.
    "spark.python.sql.dataFrameDebugging.enabled": "false",
    # Delta keeps the log and snapshot of up to 1,000 tables it has read, about 3.4 MB of plans each here, and
    # the suite makes hundreds of small tables that nothing reads again: this bounds that part of the shared
    # JVM's heap (60 tables: 250 MB live by default, 120 MB with this). A test's own few tables stay cached.
    # No measurable change in the suite's time (docs/performance.md, "What fills the tests' heap").
    "spark.databricks.delta.delta.log.cacheSize": "32",
}


# For a JVM that lives a few minutes (a runtime-matrix run or Connect server): the JIT's first tier only. C2's
# compilations cost more CPU than they save before such a JVM ends (a Spark 4.0 Connect server through the
# small graph: 94 CPU s with both tiers, 61-70 s with the first only). The JVM's default options, because the
# project's SparkResource sets its extra options itself, and an explicit setting wins over spark-defaults.conf.
SHORT_LIVED_JVM_SETTINGS = {"spark.driver.defaultJavaOptions": "-XX:TieredStopAtLevel=1"}


def spark_defaults_dir(directory: Path, extra: dict[str, str] | None = None) -> Path:
    """A SPARK_CONF_DIR for Spark started by a child process: TEST_SPARK_SETTINGS (and ``extra``) as its
    spark-defaults.conf.

    Spark reads these as defaults only: what the project's SparkResource sets itself (adaptive
    execution) keeps the project's value in those processes.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} {value}" for key, value in {**TEST_SPARK_SETTINGS, **(extra or {})}.items()]
    (directory / "spark-defaults.conf").write_text("\n".join(lines) + "\n")
    return directory


def free_port() -> int:
    """A TCP port nobody listens on now (for a Spark Connect server the tests start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
