"""The Databricks token and the exported secrets never leak out of the one place each must travel.

The token may travel only in the ``Authorization`` header of the launching
process's requests; a secret of ``secrets_to_env_variables`` only as a
(scope, key) reference to the cluster, where dbutils turns it into an
environment variable of the step. A real step goes through the step launcher
against the workspace emulator, which accepts only a random probe token and serves
a random probe secret (the folder's one emulator: the other tests' runs are searched too), then every place a value could end up is searched for
both strings: the Dagster event log (each record serialized, plus the
instance's files on disk: event database and compute logs), everything staged
on DBFS (inside code.zip and the gzipped events too), the emulated run's own
files (driver log, scratch folders), the tables written, the raw HTTP requests
(request line, headers other than Authorization, bodies and the files they
upload), this process's stdout/stderr and its Python log records down to DEBUG.

Three outcomes are covered because each carries different text back: a step
that succeeds, a step whose asset fails on the cluster (the step failure's
error and stack), and a run that fails before the step starts (the launcher
quotes the task's stderr).
"""

import base64
import gzip
import io
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._serdes import serialize_value

from video_assets import config as project_config
from video_assets_tests.databricks.conftest import (
    DEFINITIONS_MODULE,
    IMPLICIT_ASSET_JOB,
    LEAK_PROBE_SECRET,
    TOKEN,
    databricks_env,
    databricks_overrides,
    fresh_definitions,
    staging_folder,
)
from video_assets_tests.databricks.emulator import DEFAULT_CLUSTER_ID, RecordedRequest

pytestmark = pytest.mark.databricks

PROBE_TOKEN, PROBE_SECRET = TOKEN, LEAK_PROBE_SECRET  # random per test session (conftest.py)
SECRET_SCOPE, SECRET_KEY = "video-assets", "leak-probe"
SECRET_VARIABLE = "VIDEO_ASSETS_SECRET_PROBE"  # VIDEO_ASSETS_* so the emulated driver's report shows it
PROBES = {"token": PROBE_TOKEN, "secret": PROBE_SECRET}

CATALOG_CSV = (
    "video_id,title,duration_seconds,category,published_at\n"
    "v1,Intro to Spark,600,howto,2024-04-01T00:00:00Z\n"
)
# Files of the emulator itself, not of the workspace it emulates: the secret store it hands its driver,
# and the driver's report of the environment the step saw (the positive evidence below).
EMULATOR_OWN_FILES = {"spec.json", "report.json"}


@dataclass
class InspectedRun:
    success: bool
    serialized: list[str]  # every event log record (serialize_value and str) and the run record
    messages: list[str]
    failure_errors: list[str]  # serialized error of each STEP_FAILURE event
    instance_dir: Path


def run_keeping_the_evidence(monkeypatch, env, *, selection, config, instance_dir: Path) -> InspectedRun:
    """conftest.run_asset_job, with the instance's folder kept and every record serialized before it closes."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    with (
        fresh_definitions(monkeypatch, env, config),
        dg.instance_for_test(temp_dir=str(instance_dir)) as instance,
    ):
        repository = ReconstructableRepository.for_module(
            DEFINITIONS_MODULE, "defs", working_directory=str(project_config.PROJECT_ROOT)
        )
        job = repository.get_reconstructable_job(IMPLICIT_ASSET_JOB)
        result = dg.execute_job(job, instance=instance, asset_selection=selection, raise_on_error=False)
        records = list(instance.all_logs(result.run_id))
        serialized = [text for record in records for text in (serialize_value(record), str(record))]
        serialized.append(serialize_value(instance.get_run_by_id(result.run_id)))
        failures = [
            serialize_value(record.dagster_event.step_failure_data.error)
            for record in records
            if record.dagster_event is not None and record.dagster_event.is_step_failure
        ]
        return InspectedRun(result.success, serialized, [r.message or "" for r in records], failures, instance_dir)


def found_probes(data: bytes, where: str) -> list[str]:
    """'<probe> in <where>' for each probe in the bytes, or inside them if they are a zip or gzip."""
    hits = [f"{name} in {where}" for name, value in PROBES.items() if value.encode() in data]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                hits += found_probes(archive.read(member), f"{where}!{member}")
    elif data[:2] == b"\x1f\x8b":
        hits += found_probes(gzip.decompress(data), f"{where} (gunzipped)")
    return hits


def files_under(root: Path, skip: set[str] = frozenset()) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in skip)


def probes_in_files(files: list[Path]) -> list[str]:
    return [hit for path in files for hit in found_probes(path.read_bytes(), str(path))]


def probes_in_request(request: RecordedRequest) -> list[str]:
    """Everything of a request but its Authorization header, and any file block it uploads, decoded."""
    where = request.request_line
    hits = found_probes(request.request_line.encode(), f"request line {where}")
    for name, value in request.headers:
        if name.lower() != "authorization":
            hits += found_probes(f"{name}: {value}".encode(), f"header {name} of {where}")
    hits += found_probes(request.body, f"body of {where}")
    try:
        payload = json.loads(request.body) if request.body else None
    except ValueError:  # a Files API upload: the file itself, searched above
        payload = None
    # Base64 file contents: a DBFS add-block's data, a workspace import's content.
    for key, what in (("data", "uploaded block"), ("content", "uploaded workspace file")):
        encoded = payload.get(key) if isinstance(payload, dict) else None
        if encoded:
            hits += found_probes(base64.b64decode(encoded), f"{what} of {where}")
    return hits


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "videos.csv").write_text(CATALOG_CSV)
    return root


OUTCOMES = {
    # outcome: (landing override, extra secrets, expected run success, Databricks result state)
    "step succeeds": (None, [], True, "SUCCESS"),
    "asset fails on the cluster": ("unmountedfs://landing-bucket/video_assets", [], False, "SUCCESS"),
    "run fails before the step": (
        None, [{"name": "SOME_API_KEY", "scope": SECRET_SCOPE, "key": "not-there"}], False, "FAILED"
    ),
}


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_the_token_and_the_secret_appear_nowhere_but_where_they_must(
    outcome, emulator, landing, tmp_path, monkeypatch, capfd, caplog
):
    landing_override, extra_secrets, expect_success, databricks_result = OUTCOMES[outcome]
    caplog.set_level(logging.DEBUG)  # the SDK's request/response log included
    workspace = emulator
    runs_before, requests_before = max(workspace.runs, default=0), len(workspace.requests)
    env = databricks_env(workspace, landing, tmp_path / "warehouse", token=PROBE_TOKEN)
    if landing_override:
        env["VIDEO_ASSETS_LANDING_DIR"] = landing_override
    config = databricks_overrides(
        run_config={**databricks_overrides()["databricks"]["run_config"], "cluster": {"existing": DEFAULT_CLUSTER_ID}},
        secrets_to_env_variables=[
            {"name": SECRET_VARIABLE, "scope": SECRET_SCOPE, "key": SECRET_KEY}, *extra_secrets
        ],
        poll_interval_sec=0.25,
        keep_staging_files=True,  # the search below reads what was staged
    )
    run = run_keeping_the_evidence(
        monkeypatch, env, selection=[dg.AssetKey("video_catalog")], config=config,
        instance_dir=tmp_path / "dagster_home",
    )
    printed = capfd.readouterr()

    # The probes were used: the run went as intended, the token authenticated every request,
    # the secret reached the step's environment, the cluster's stdout came back into the event log.
    assert run.success is expect_success, "\n".join(run.messages)
    (emulated,) = [r for run_id, r in workspace.runs.items() if run_id > runs_before]
    assert emulated.result_state == databricks_result, emulated.driver_log
    assert emulated.report["environment"][SECRET_VARIABLE] == PROBE_SECRET
    requests = workspace.requests[requests_before:]
    assert any(r.request_line.startswith("POST /api/2.2/jobs/runs/submit") for r in requests)
    for request in requests:
        authorizations = [value for name, value in request.headers if name.lower() == "authorization"]
        assert authorizations == [f"Bearer {PROBE_TOKEN}"], request.request_line
    exported = f"Exporting {SECRET_VARIABLE} from Databricks secret {SECRET_KEY}, scope {SECRET_SCOPE}"
    assert any(exported in message for message in run.messages), "the cluster's stdout did not come back"
    assert exported in printed.out, "the launcher echoes the step's stdout: the search below must see it"
    assert any(record.name.startswith("databricks.sdk") for record in caplog.records), "DEBUG logs were captured"
    if outcome == "step succeeds":
        assert run.failure_errors == []
    if outcome == "asset fails on the cluster":
        (failure,) = run.failure_errors
        assert "unmountedfs" in failure, failure
    if outcome == "run fails before the step":
        (failure,) = run.failure_errors
        assert "Secret does not exist with scope: video-assets and key: not-there" in failure, failure

    # What was staged on the volume for this step, everything the step sent back included; the entry script is
    # a workspace file.
    staging = staging_folder(workspace, emulated)
    staged_names = {p.name for p in staging.iterdir()}
    assert {"code.zip", "step_run_ref.pkl", "config.pkl", "stdout", "stderr"} <= staged_names
    assert workspace.local_path(emulated.task["spark_python_task"]["python_file"]).is_file()
    if outcome != "run fails before the step":
        assert "0_events.pkl" in staged_names
    # config.pkl carries the secret by reference only.
    remote_config = (staging / "config.pkl").read_bytes()
    assert SECRET_VARIABLE.encode() in remote_config and SECRET_KEY.encode() in remote_config

    leaks = []
    leaks += [hit for i, text in enumerate(run.serialized) for hit in found_probes(text.encode(), f"event log #{i}")]
    leaks += probes_in_files(files_under(run.instance_dir))  # event database, compute logs, run storage
    leaks += probes_in_files(files_under(workspace.dbfs_root))
    leaks += probes_in_files(files_under(workspace.volumes_root))
    leaks += probes_in_files(files_under(workspace.workspace_root))
    leaks += probes_in_files(files_under(workspace.root / "runs", skip=EMULATOR_OWN_FILES))  # driver logs, scratch
    leaks += probes_in_files(files_under(workspace.root / "clusters", skip=EMULATOR_OWN_FILES))
    leaks += probes_in_files(files_under(tmp_path / "warehouse")) if (tmp_path / "warehouse").exists() else []
    leaks += [hit for request in requests for hit in probes_in_request(request)]
    leaks += found_probes(printed.out.encode(), "stdout of the launching process")
    leaks += found_probes(printed.err.encode(), "stderr of the launching process")
    leaks += found_probes(caplog.text.encode(), "Python log records of the launching process")
    assert leaks == [], "\n".join(leaks)


def test_the_search_finds_a_probe_inside_zips_gzips_and_upload_blocks():
    """The search itself cannot miss a value hidden the way staged files hide it."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("video_assets/settings.py", f"TOKEN = '{PROBE_TOKEN}'\n" * 50)
    assert found_probes(archive.getvalue(), "code.zip") == ["token in code.zip!video_assets/settings.py"]
    events = gzip.compress(f"[{{'env': '{PROBE_SECRET}'}}]".encode())
    assert found_probes(events, "0_events.pkl") == ["secret in 0_events.pkl (gunzipped)"]
    block = json.dumps({"handle": 1, "data": base64.b64encode(PROBE_TOKEN.encode()).decode()}).encode()
    upload = RecordedRequest(
        "POST", "/api/2.0/dbfs/add-block", 200,
        "POST /api/2.0/dbfs/add-block HTTP/1.1", [("Authorization", f"Bearer {PROBE_TOKEN}")], block,
    )
    assert probes_in_request(upload) == ["token in uploaded block of POST /api/2.0/dbfs/add-block HTTP/1.1"]
    script = json.dumps({"path": "/Workspace/x.py", "content": base64.b64encode(PROBE_SECRET.encode()).decode()})
    imported = RecordedRequest("POST", "/api/2.0/workspace/import", 200, "POST /api/2.0/workspace/import HTTP/1.1",
                               [], script.encode())
    assert probes_in_request(imported) == [
        "secret in uploaded workspace file of POST /api/2.0/workspace/import HTTP/1.1"
    ]
    binary = RecordedRequest("PUT", "/x", 200, "PUT /x HTTP/1.1", [], b"\x86\x00" + PROBE_TOKEN.encode())
    assert probes_in_request(binary) == ["token in body of PUT /x HTTP/1.1"]
    download = RecordedRequest("GET", "/x", 200, "GET /x HTTP/1.1", [("Authorization", f"Bearer {PROBE_TOKEN}")])
    assert probes_in_request(download) == []
