"""Fixtures for the Databricks tests: the workspace emulator and runs of video_assets.definitions through it.

Storage choice: the landing zone and the warehouse are plain local folders
(absolute paths in VIDEO_ASSETS_LANDING_DIR / VIDEO_ASSETS_WAREHOUSE_DIR),
which the emulated cluster reads and writes directly, as a real cluster
reads dbfs:/ or s3://. Only the launcher's staging files go through the
emulator's DBFS (<workspace>/dbfs/...). Local Spark has no dbfs:/ filesystem,
so a dbfs:/ warehouse cannot be exercised here.
"""

import importlib
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

from video_assets import config as project_config
from video_assets_tests.databricks.emulator import DEFAULT_CLUSTER_ID, DatabricksEmulator

# Random per test session, so no file or log left over from another run can contain them by chance: the
# leak search of test_secrets.py looks for both everywhere. The token is the emulator's only accepted one.
TOKEN = f"dapi-emulated-{secrets.token_hex(16)}"
LEAK_PROBE_SECRET = f"secret-leak-probe-{secrets.token_hex(16)}"
SECRETS = {"video-assets/probe": "emulated-secret-value", "video-assets/leak-probe": LEAK_PROBE_SECRET}
DEFINITIONS_MODULE = "video_assets.definitions"
IMPLICIT_ASSET_JOB = "__ASSET_JOB"


@pytest.fixture(autouse=True)
def _no_databricks_settings(monkeypatch, tmp_path_factory):
    """No DATABRICKS_* (or VIDEO_ASSETS_*) of the developer's shell may reach a test."""
    for name in [n for n in os.environ if n.startswith(("DATABRICKS_", "VIDEO_ASSETS_"))]:
        monkeypatch.delenv(name)
    # The SDK fills anything not set explicitly from ~/.databrickscfg: point it at a file that does not exist.
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path_factory.getbasetemp() / "absent.databrickscfg"))


@pytest.fixture(scope="package")
def emulator(tmp_path_factory, connect_server_of) -> Iterator[DatabricksEmulator]:
    """A workspace on 127.0.0.1 with one all-purpose cluster, whose JVM starts in the background right away.

    One for every test of this folder that needs a workspace: a cluster JVM is the dearest thing here.
    """
    from video_assets.io.spark import SparkResource

    # The project's own Spark settings (code generation, adaptive execution): of all the tests' Spark,
    # this cluster is the one that runs the graph exactly as configured for production.
    settings = SparkResource(shuffle_partitions=2, driver_memory="1g").settings()
    with DatabricksEmulator(
        root=tmp_path_factory.mktemp("workspace"), token=TOKEN, secrets=SECRETS, spark_settings=settings,
        # Serverless tasks: the open-source Connect server of their environment's Spark line, started on first use.
        connect_server_of=connect_server_of,
    ) as workspace:
        workspace.prewarm(DEFAULT_CLUSTER_ID)
        yield workspace


@dataclass
class RunOutcome:
    result: "dg.JobExecutionResult"
    messages: list[str]  # every event's message (user logs, engine events, failures), in order

    @property
    def success(self) -> bool:
        return self.result.success

    def failures(self) -> list[str]:
        """Each failed step's error with its causes, one text per failed step."""
        return [_error_text(event.step_failure_data.error) for event in self.result.all_events if event.is_step_failure]

    def text(self) -> str:
        """Messages plus every error any event carries (step, resource init, run failures)."""
        errors = [
            _error_text(event.event_specific_data.error)
            for event in self.result.all_events
            if getattr(event.event_specific_data, "error", None) is not None
        ]
        return "\n".join(self.messages + errors)


def _error_text(error) -> str:
    text = []
    while error is not None:
        text.append(f"{error.cls_name}: {error.message}")
        error = error.cause
    return "\n".join(text)


def databricks_overrides(**databricks) -> dict:
    """resources/databricks.yaml as committed, with the given keys of its `databricks:` section replaced."""
    config = project_config.load_environment_config("databricks")
    return {**config, "databricks": {**config["databricks"], **databricks}}


@contextmanager
def fresh_definitions(monkeypatch, env: dict[str, str], config: dict | None = None):
    """video_assets.definitions imported anew under `env` (and a replaced resources/<env>.yaml content)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if config is not None:
        monkeypatch.setattr(project_config, "load_environment_config", lambda _env: config)
    _forget_definitions()
    try:
        yield
    finally:
        _forget_definitions()  # the next importer builds its own


def _forget_definitions() -> None:
    sys.modules.pop(DEFINITIONS_MODULE, None)
    # ReconstructableJob keeps the last loaded definition in process-wide lru_caches, and two
    # pointers at video_assets.definitions are equal: without this a run would reuse the job
    # (and resources) that a previous test built under another environment.
    ReconstructableJob.get_definition.cache_clear()
    ReconstructableJob.get_repository_definition.cache_clear()


def run_asset_job(
    monkeypatch,
    env: dict[str, str],
    *,
    partition: str | None,
    selection: list[dg.AssetKey] | None = None,
    config: dict | None = None,
) -> RunOutcome:
    """One run of the code location's implicit asset job, exactly as a run worker executes it.

    The job is reconstructable from the module `video_assets.definitions`
    (what `dagster.reconstructable` builds for a module-level target, and what
    the webserver's run worker uses), so step launchers can ship its steps.
    """
    with fresh_definitions(monkeypatch, env, config), dg.instance_for_test() as instance:
        repository = ReconstructableRepository.for_module(
            DEFINITIONS_MODULE, "defs", working_directory=str(project_config.PROJECT_ROOT)
        )
        job = repository.get_reconstructable_job(IMPLICIT_ASSET_JOB)
        tags = {"dagster/partition": partition} if partition else {}
        result = dg.execute_job(job, instance=instance, asset_selection=selection, tags=tags, raise_on_error=False)
        messages = [record.message or "" for record in instance.all_logs(result.run_id)]
        return RunOutcome(result, messages)


def materialize_locally(monkeypatch, env: dict[str, str], *, partition: str) -> dg.ExecuteInProcessResult:
    """Every asset of video_assets.definitions for one partition, in this process (local Spark).

    The reference for the Databricks run. Each asset's checks run inside its
    step (they cannot be left out of an asset that is not subsettable).
    """
    with fresh_definitions(monkeypatch, env):
        defs = importlib.import_module(DEFINITIONS_MODULE).defs
        return dg.materialize(
            assets=list(defs.assets or []),
            resources=dict(defs.resources or {}),
            partition_key=partition,
            selection=dg.AssetSelection.all(),
            raise_on_error=False,
        )


def databricks_env(emulator: DatabricksEmulator, landing: Path, warehouse: Path, token: str = TOKEN) -> dict:
    return {
        "VIDEO_ASSETS_ENV": "databricks",
        "DATABRICKS_HOST": emulator.url,
        "DATABRICKS_TOKEN": token,
        "VIDEO_ASSETS_LANDING_DIR": str(landing),
        "VIDEO_ASSETS_WAREHOUSE_DIR": str(warehouse),
    }


# The legacy staging folder, for the tests of workspaces that still have a DBFS root (the committed YAML stages on a
# Unity Catalog volume).
DBFS_STAGING = "/dagster_staging/video_assets"


def staging_folder(emulator: DatabricksEmulator, run) -> Path:
    """A launched step's staging folder on the emulated workspace: where its code.zip and pickles went."""
    code_zip = run.task["spark_python_task"]["parameters"][2]
    return emulator.local_path(code_zip).parent
