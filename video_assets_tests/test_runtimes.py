"""The runtime matrix's own infrastructure: line environments and their Spark Connect servers with Delta."""

import json
import subprocess

import pytest

from video_assets_tests.runtimes import SPARK_LINES, env_key, line_env

# Runs in a line's environment: a one-row Delta table written and read back through the Connect server, and
# Delta's own SQL (DESCRIBE HISTORY) answered, which only a server with Delta's extension and catalog can do.
_DELTA_ROUND_TRIP = """
import json, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
spark.createDataFrame([(1, "one")], "id INT, name STRING").write.format("delta").save(sys.argv[2])
rows = [row.asDict() for row in spark.read.format("delta").load(sys.argv[2]).collect()]
history = spark.sql(f"DESCRIBE HISTORY delta.`{sys.argv[2]}`").select("version", "operation").collect()
print(json.dumps({"client": spark.version, "rows": rows, "history": [list(h) for h in history]}))
"""


def test_the_lines_delta_jars_are_the_artifacts_delta_publishes_for_them():
    # Delta 4.0 has one artifact; from 4.1 on, one per Spark minor (Maven Central, io.delta).
    assert SPARK_LINES["4.0"].delta_maven_coordinate == "io.delta:delta-spark_2.13:4.0.0"
    assert SPARK_LINES["4.1"].delta_maven_coordinate == "io.delta:delta-spark_4.1_2.13:4.1.0"
    assert SPARK_LINES["4.2"].delta_maven_coordinate == "io.delta:delta-spark_4.2_2.13:4.4.0"


def test_an_environment_is_keyed_by_its_python_requirements_and_exclusions():
    key = env_key(["pyspark==4.0.1"], "3.12")
    assert key == env_key(["pyspark==4.0.1"], "3.12")
    assert len({key, env_key(["pyspark==4.0.2"], "3.12"), env_key(["pyspark==4.0.1"], "3.11"),
                env_key(["pyspark==4.0.1"], "3.12", excludes=["pyspark"])}) == 4


@pytest.mark.slow
def test_a_spark_4_0_connect_server_with_delta_answers_a_4_0_client(connect_server_of, tmp_path):
    address = connect_server_of("4.0")
    assert connect_server_of("4.0") == address, "one server per line per test session"
    table = tmp_path / "one_row"
    result = subprocess.run(
        [str(line_env("4.0")), "-c", _DELTA_ROUND_TRIP, address, str(table)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"client": "4.0.1", "rows": [{"id": 1, "name": "one"}], "history": [[0, "WRITE"]]}
    assert (table / "_delta_log" / "00000000000000000000.json").is_file()
