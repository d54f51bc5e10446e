"""The workspace emulator answers like Databricks for the calls the launcher makes (no Spark needed).

Requests go through dagster-databricks' own DatabricksClient (databricks-sdk
underneath), so these tests also pin the exact API surface the launcher uses.
"""

import io
import json
import re
import urllib.request

import pytest
from dagster_databricks import DatabricksClient
from databricks.sdk.errors import NotFound, PermissionDenied
from databricks.sdk.service.compute import Environment
from databricks.sdk.service.jobs import JobEnvironment, SubmitTask

from video_assets_tests.databricks import serverless
from video_assets_tests.databricks.conftest import TOKEN
from video_assets_tests.databricks.emulator import ENDPOINTS, DatabricksEmulator

pytestmark = pytest.mark.databricks


@pytest.fixture
def workspace(tmp_path):
    with DatabricksEmulator(root=tmp_path / "workspace", token=TOKEN) as emulator:
        yield emulator


def _client(workspace, token=TOKEN) -> DatabricksClient:
    return DatabricksClient(host=workspace.url, token=token)


def test_dbfs_round_trip_in_several_blocks(workspace):
    client = _client(workspace)
    payload = bytes(range(256)) * 9000  # > 2 MB: several 1 MB blocks each way
    client.put_file(io.BytesIO(payload), "dbfs:///staging/run/step/code.zip", overwrite=True)
    assert workspace.local_path("/dbfs/staging/run/step/code.zip").read_bytes() == payload
    assert client.read_file("dbfs:///staging/run/step/code.zip") == payload


def test_missing_and_empty_files(workspace):
    client = _client(workspace)
    with pytest.raises(NotFound) as missing:
        client.read_file("dbfs:///staging/run/step/0_events.pkl")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"  # what the launcher treats as "no events yet"

    empty = workspace.local_path("dbfs:/staging/run/step/stdout")
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    assert client.workspace_client.dbfs.read("/staging/run/step/stdout").as_dict() == {"bytes_read": 0, "data": ""}
    assert client.read_file("dbfs:///staging/run/step/stdout") == b""


def test_an_upload_is_visible_only_once_closed(workspace):
    dbfs = _client(workspace).workspace_client.dbfs
    handle = dbfs.create("/staging/file", overwrite=True).handle
    dbfs.add_block(handle, "aGVsbG8=")
    assert not workspace.local_path("/staging/file").exists()
    dbfs.close(handle)
    assert workspace.local_path("/staging/file").read_bytes() == b"hello"
    with pytest.raises(Exception, match="already exists"):
        dbfs.create("/staging/file", overwrite=False)


def test_a_wrong_token_is_refused_with_403_and_no_token_with_401(workspace):
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        _client(workspace, token="dapi-not-the-right-one").read_file("dbfs:///anything")
    request = urllib.request.Request(f"{workspace.url}/api/2.0/dbfs/read?path=/x")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 401


def test_unknown_endpoints_answer_404_and_are_recorded(workspace):
    clusters = _client(workspace).workspace_client.clusters
    with pytest.raises(NotFound, match="No API found"):
        clusters.get("0000-000000-emulator")
    assert [(r.method, r.path) for r in workspace.unknown_requests] == [("GET", "/api/2.1/clusters/get")]


def test_runs_get_and_cancel_of_unknown_and_finished_runs(workspace):
    jobs = _client(workspace).workspace_client.jobs
    with pytest.raises(Exception, match="Run 424242 does not exist"):
        jobs.get_run(424242)

    # A run whose python file was never uploaded cannot start: INTERNAL_ERROR; cancelling it then is a no-op.
    task = SubmitTask.from_dict(
        {
            "task_key": "dagster-task",
            "new_cluster": {"spark_version": "17.3.x-scala2.13", "node_type_id": "m5d.large", "num_workers": 1},
            "spark_python_task": {"python_file": "dbfs:///staging/missing.py", "parameters": []},
        }
    )
    run_id = jobs.submit(run_name="no file", tasks=[task]).bind()["run_id"]
    workspace.wait_for(lambda e: not e.runs[run_id].is_active)
    state = jobs.get_run(run_id).state
    assert (state.life_cycle_state.value, state.result_state.value) == ("INTERNAL_ERROR", "FAILED")
    assert "dbfs:///staging/missing.py does not exist" in state.state_message
    jobs.cancel_run(run_id)
    assert workspace.cancel_requests == [run_id]
    assert jobs.get_run(run_id).state.life_cycle_state.value == "INTERNAL_ERROR"


def test_submit_rejects_unknown_clusters_and_malformed_runs(workspace):
    def submit(task) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{workspace.url}/api/2.2/jobs/runs/submit", data=json.dumps({"tasks": [task]}).encode(), method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as rejected:
            urllib.request.urlopen(request)
        return rejected.value.code, json.loads(rejected.value.read())["message"]

    python_task = {"python_file": "dbfs:///x.py"}
    assert submit({"task_key": "t", "existing_cluster_id": "nope", "spark_python_task": python_task}) == (
        400, "Cluster nope does not exist",
    )
    assert submit({"task_key": "t", "spark_python_task": python_task})[0] == 400
    assert workspace.runs == {}


VOLUME = "/Volumes/main/video_assets/staging"


def test_files_api_round_trip_on_a_volume_as_the_sdk_calls_it(workspace):
    files = _client(workspace).workspace_client.files
    payload = bytes(range(256)) * 4000
    files.upload(f"{VOLUME}/run/step/code.zip", io.BytesIO(payload), overwrite=True)
    files.upload(f"{VOLUME}/run/step/stdout", io.BytesIO(b""), overwrite=True)
    assert workspace.local_path(f"{VOLUME}/run/step/code.zip").read_bytes() == payload
    assert files.download(f"{VOLUME}/run/step/code.zip").contents.read() == payload
    assert files.get_metadata(f"{VOLUME}/run/step/code.zip").content_length == len(payload)
    listed = {(entry.name, entry.is_directory) for entry in files.list_directory_contents(f"{VOLUME}/run/step")}
    assert listed == {("code.zip", False), ("stdout", False)}
    with pytest.raises(NotFound):
        files.download(f"{VOLUME}/run/step/0_events.pkl")
    files.delete(f"{VOLUME}/run/step/code.zip")
    files.delete(f"{VOLUME}/run/step/stdout")
    files.delete_directory(f"{VOLUME}/run/step")
    assert not workspace.local_path(f"{VOLUME}/run/step").exists()
    assert {f"{r.method} {r.path}" for r in workspace.requests} <= set(ENDPOINTS)


def test_a_workspace_without_a_dbfs_root_refuses_dbfs_as_databricks_does(workspace):
    workspace.dbfs_root_disabled = True
    with pytest.raises(PermissionDenied, match="Public DBFS root is disabled"):
        _client(workspace).put_file(io.BytesIO(b"x"), "dbfs:///staging/file", overwrite=True)
    _client(workspace).workspace_client.files.upload(f"{VOLUME}/file", io.BytesIO(b"x"))  # volumes still work


def test_a_submitted_field_the_sdk_does_not_know_is_recorded(workspace):
    task = SubmitTask.from_dict({"task_key": "t", "existing_cluster_id": "nope", "spark_python_task": {"python_file": "/x.py"}})
    body = {"tasks": [{**task.as_dict(), "python_wheel_flavour": "x"}], "run_name": "r", "surprise": 1}
    request = urllib.request.Request(
        f"{workspace.url}/api/2.2/jobs/runs/submit", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request)  # the unknown cluster is refused; the fields were looked at first
    assert workspace.sdk_mismatches == ["runs/submit: unknown field surprise", "task: unknown field python_wheel_flavour"]


def _serverless_task(python_file: str) -> SubmitTask:
    return SubmitTask.from_dict(
        {"task_key": "t", "environment_key": "env", "spark_python_task": {"python_file": python_file}}
    )


@pytest.mark.runtimes
def test_serverless_environment_that_would_install_pyspark_fails_the_run_with_databricks_words(tmp_path):
    """dagster-pyspark requires the PyPI pyspark: pip would install it over databricks-connect's. The run fails
    before its task starts (no Spark is asked for), with the sentence of Databricks' serverless docs."""
    asked_for_spark = []
    with DatabricksEmulator(
        root=tmp_path / "workspace", token=TOKEN, connect_server_of=lambda line: asked_for_spark.append(line) or "sc://x"
    ) as workspace:
        jobs = _client(workspace).workspace_client.jobs
        _client(workspace).workspace_client.files.upload(f"{VOLUME}/task.py", io.BytesIO(b"print('ran')\n"))
        environment = JobEnvironment(
            environment_key="env",
            spec=Environment(environment_version="4", dependencies=["dagster-pyspark==0.29.27", "pyyaml>=6"]),
        )
        run_id = jobs.submit(
            run_name="pyspark", tasks=[_serverless_task(f"{VOLUME}/task.py")], environments=[environment]
        ).bind()["run_id"]
        workspace.wait_for(lambda e: not e.runs[run_id].is_active, timeout=900)
        state = jobs.get_run(run_id).state
    assert (state.life_cycle_state.value, state.result_state.value) == ("INTERNAL_ERROR", "FAILED")
    assert re.search(r"they install pyspark==4\.\d+\.\d+ over the PySpark", state.state_message), state.state_message
    assert state.state_message.endswith(serverless.DATABRICKS_PYSPARK_WARNING)
    assert asked_for_spark == [] and not workspace.runs[run_id].report


def test_serverless_runs_only_the_environment_versions_of_the_tested_clients(tmp_path):
    with DatabricksEmulator(root=tmp_path / "workspace", token=TOKEN, connect_server_of=lambda line: "sc://x") as workspace:
        jobs = _client(workspace).workspace_client.jobs
        for version in ("3", None):
            environment = JobEnvironment(environment_key="env", spec=Environment(environment_version=version))
            with pytest.raises(Exception, match=r"serverless environment versions \['4', '5'\]"):
                jobs.submit(tasks=[_serverless_task(f"{VOLUME}/task.py")], environments=[environment])
        assert workspace.runs == {}
    assert serverless.supported_versions() == {"4": "4.0", "5": "4.1"}
