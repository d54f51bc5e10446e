"""The supported-runtime table (README, "Supported runtimes"), row by row: the whole graph on each Spark line
and client that Databricks runs equals the default run (local Spark 4.2, classic).

Each run is in a child process with that line's own Python 3.12 environment (runtimes.py: built once per
machine) and this checkout on its PYTHONPATH; the Connect servers are one per line per test session
(conftest ``connect_server_of``). The three runs start together, before the default run they are compared
with: on a few rows a run is mostly round trips and JVM warm-up, which overlap well.
"""

import subprocess

import pytest

from video_assets_tests.runtimes import SPARK_LINES, databricks_connect_env, line_env, project_pythonpath
from video_assets_tests.spark_settings import SHORT_LIVED_JVM_SETTINGS, spark_defaults_dir
from video_assets_tests.whole_graph import (
    DAY_BY_DAY,
    ONE_RANGE,
    child_environment,
    engine_of,
    same_as_default,
    start_in_child,
)

pytestmark = [pytest.mark.slow, pytest.mark.runtimes]

CLASSIC_4_0, CONNECT_4_0, DATABRICKS_CONNECT_18_3 = "classic 4.0", "connect 4.0", "databricks-connect 18.3"


@pytest.fixture(scope="session")
def matrix_runs(small_landing, connect_server_of, tmp_path_factory):
    """The matrix's runs, started at once (before the default run is asked for); ``.result()`` waits for one."""
    root = tmp_path_factory.mktemp("runtime_matrix")
    runs = {}
    # DBR 17.3 LTS on a job or existing cluster: classic Spark 4.0 started by the project itself (its Delta jar
    # chosen by io.spark.delta_maven_coordinate), day by day: the second day MERGEs into the all-time table.
    python = line_env("4.0")
    runs[CLASSIC_4_0] = start_in_child(python, project_pythonpath(child_environment(
        SPARK_CONF_DIR=str(spark_defaults_dir(root / "spark-conf", SHORT_LIVED_JVM_SETTINGS)),
        PYSPARK_PYTHON=str(python),
    )), _folder(root, CLASSIC_4_0), small_landing, DAY_BY_DAY)
    # Spark Connect 4.0, client and server: the range run that failed lines_reconcile (SPARK-53908). No JVM in
    # the client: JAVA_HOME points nowhere.
    runs[CONNECT_4_0] = start_in_child(python, project_pythonpath(child_environment(
        VIDEO_ASSETS_SPARK_REMOTE=connect_server_of("4.0"), JAVA_HOME=str(root / "no-java-here"),
    )), _folder(root, CONNECT_4_0), small_landing, ONE_RANGE)
    # DBR 18.x through Databricks' own client: databricks-connect 18.3 (its bundled pyspark; no PyPI pyspark
    # in its environment) against an open-source Spark 4.1 Connect server with Delta.
    runs[DATABRICKS_CONNECT_18_3] = start_in_child(databricks_connect_env("4.1"), project_pythonpath(child_environment(
        VIDEO_ASSETS_SPARK_REMOTE=connect_server_of("4.1"), JAVA_HOME=str(root / "no-java-here"),
    )), _folder(root, DATABRICKS_CONNECT_18_3), small_landing, ONE_RANGE)
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def _folder(root, name):
    folder = root / name.replace(" ", "-")
    folder.mkdir()
    return folder


def _engine(line: str) -> str:
    return f"Apache-Spark/{SPARK_LINES[line].pyspark} Delta-Lake/{SPARK_LINES[line].delta_spark}"


def test_classic_spark_4_0_with_delta_4_0_equals_the_default_run(matrix_runs, default_run, spark):
    run = matrix_runs[CLASSIC_4_0].result()
    assert engine_of(run.warehouse) == _engine("4.0")
    assert "merge_metrics" in run.metadata_keys["user_video_engagement"]
    same_as_default(spark, default_run, run)


def test_spark_connect_4_0_client_and_server_equals_the_default_run(matrix_runs, default_run, spark):
    run = matrix_runs[CONNECT_4_0].result()
    assert engine_of(run.warehouse) == _engine("4.0")
    same_as_default(spark, default_run, run)


def test_databricks_connect_18_3_on_a_spark_4_1_server_equals_the_default_run(matrix_runs, default_run, spark):
    client = subprocess.run(
        [str(databricks_connect_env("4.1")), "-c",
         "import importlib.metadata as m, pyspark; print(m.version('databricks-connect'), pyspark.__version__, "
         "sorted({d.metadata['Name'] for d in m.distributions()} & {'pyspark', 'pyspark-client', 'delta-spark'}))"],
        capture_output=True, text=True, timeout=120,
    )
    version, bundled_pyspark, spark_distributions = client.stdout.split(maxsplit=2)
    assert version.startswith("18.3.") and bundled_pyspark.startswith("4.1."), client.stdout + client.stderr
    assert spark_distributions.strip() == "[]"
    run = matrix_runs[DATABRICKS_CONNECT_18_3].result()
    assert engine_of(run.warehouse) == _engine("4.1")
    same_as_default(spark, default_run, run)
