"""VIDEO_ASSETS_ENV=databricks-connect with Databricks' own client: a real asset step through a DatabricksSession.

The process that runs the step is a Python 3.12 environment with databricks-connect 17.3 (which ships pyspark
4.0 and no PyPI pyspark) and the project's other dependencies; the project comes from this checkout. Its
Spark is the runtime matrix's open-source Spark Connect server of the 4.0 line, with Delta: the Spark
Connect address in VIDEO_ASSETS_SPARK_REMOTE replaces the YAML's serverless compute, which is how
DatabricksSession.builder.remote(...) reaches a server that is not a workspace.
"""

import csv
import json
import subprocess

import pytest
from deltalake import DeltaTable

from video_assets import sample_data
from video_assets_tests.runtimes import SPARK_LINES, databricks_connect_env, project_pythonpath

pytestmark = pytest.mark.slow

LINE = "4.0"  # DBR 17.3 LTS: databricks-connect 17.3, Spark 4.0

# Runs in the databricks-connect environment: one asset step of video_assets.definitions, in this process, with
# DatabricksSession.builder.getOrCreate wrapped to record what it was asked (the real one still runs).
_ONE_STEP = """
import json, sys, time
from importlib.metadata import version
started = time.monotonic()
import dagster as dg
from databricks.connect import DatabricksSession

asked = []
get_or_create = DatabricksSession.Builder.getOrCreate
def recording(builder):
    session = get_or_create(builder)
    asked.append({"connection_string": builder._conn_string, "serverless": builder._serverless_mode,
                  "session": id(session)})
    return session
DatabricksSession.Builder.getOrCreate = recording

from video_assets.definitions import defs
result = dg.materialize(
    assets=list(defs.assets), resources=dict(defs.resources), selection=dg.AssetSelection.assets(sys.argv[1]),
    raise_on_error=False,
)
checks = sorted((e.check_name, e.passed) for e in result.get_asset_check_evaluations())
import pyspark
print(json.dumps({
    "success": result.success, "asked": asked, "checks": checks, "pyspark": pyspark.__version__,
    "databricks_connect": version("databricks-connect"), "seconds": round(time.monotonic() - started, 1),
}))
"""


def test_an_asset_step_runs_through_databricks_connect_against_a_spark_4_0_server(connect_server_of, tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    sample_data.cli(["--days", "1", "--users", "10", "--start-date", "2024-01-15", "--out", str(landing)])
    environment = project_pythonpath()
    environment.pop("DAGSTER_HOME", None)
    environment.update({
        "VIDEO_ASSETS_ENV": "databricks-connect",  # resources/databricks-connect.yaml: serverless, no step launcher
        "VIDEO_ASSETS_SPARK_REMOTE": connect_server_of(LINE),
        "VIDEO_ASSETS_LANDING_DIR": str(landing),
        "VIDEO_ASSETS_WAREHOUSE_DIR": str(warehouse),
    })
    done = subprocess.run(
        [str(databricks_connect_env(LINE)), "-c", _ONE_STEP, "video_catalog"],
        env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["success"], done.stderr[-5000:]
    print(f"the step's process, imports included: {outcome['seconds']} s")

    # Databricks' client, of the 17.3 line, made the session on the Connect server's address (asked again by
    # each resource that holds the Spark resource, it returns the one session it made).
    assert outcome["databricks_connect"].startswith(SPARK_LINES[LINE].databricks_connect.rstrip("*"))
    assert outcome["pyspark"].startswith("4.0.")
    asked = outcome["asked"]
    assert asked and {(a["connection_string"], a["serverless"]) for a in asked} == {(connect_server_of(LINE), False)}
    assert len({a["session"] for a in asked}) == 1
    assert outcome["checks"] and all(passed for _name, passed in outcome["checks"]), outcome["checks"]

    # The step wrote the catalog as Delta, row for row the landing's videos.csv.
    with (landing / "videos" / "videos.csv").open() as handle:
        expected = sorted(row["video_id"] for row in csv.DictReader(handle))
    written = DeltaTable(str(warehouse / "video_catalog")).to_pyarrow_table(columns=["video_id"])
    assert sorted(written.column("video_id").to_pylist()) == expected and expected
