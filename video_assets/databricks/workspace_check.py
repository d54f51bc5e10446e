"""`video-assets databricks check`: is the workspace of resources/databricks.yaml ready for the step launcher?

One line per item, in order; an item runs only when every item before it
passed (the others say "skipped"):

    config        resources/databricks.yaml's `databricks:` section is valid
    auth          DATABRICKS_HOST / DATABRICKS_TOKEN are accepted (who the token is)
    staging       a file can be written, read back and deleted in the staging folder (and, with volume
                  staging, in the workspace folder of the entry scripts)
    dependencies  the environment's dependencies resolve without pyspark (databricks/dependency_check.py)
    task          a one-task run on the configured compute imports the package from code.zip, opens Spark,
                  writes and reads back a one-row Delta table in the warehouse, and removes it

The token is never printed: every line is also scrubbed of it.
"""

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from databricks.sdk.errors import PermissionDenied, Unauthenticated

from video_assets import config
from video_assets.databricks import check_main
from video_assets.databricks import launcher as databricks
from video_assets.databricks.staging import StagedFiles, StagingLocationError
from video_assets.databricks.dependency_check import SPARK_DISTRIBUTIONS, ResolutionFailed, resolve

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"
TASK_TIMEOUT_SECONDS = 900  # a new job cluster takes 3-6 minutes to start
FINISHED_STATES = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


class CheckFailed(Exception):
    """An item failed; the message says what was seen and what to do."""


@dataclass(frozen=True)
class ItemResult:
    item: str
    status: str
    detail: str

    def line(self) -> str:
        return f"{self.item:<13}{self.status:<8}{self.detail}"


@dataclass
class _Workspace:
    """What the items find out, in order, for the ones after them."""

    yaml_config: Mapping[str, Any]
    settings: dict | None = None
    launcher: "databricks.VideoAssetsStepLauncher | None" = None
    token: str = ""


def environment_dependencies(run_config: Mapping[str, Any]) -> list[str]:
    """The pip requirements a serverless environment (or a cluster's libraries) gets from the launcher."""
    return databricks.pinned_dependencies(run_config)


def check_workspace(
    yaml_config: Mapping[str, Any] | None = None,
    report: Callable[[str], None] = print,
    task_timeout_seconds: float = TASK_TIMEOUT_SECONDS,
) -> list[ItemResult]:
    """Runs the items in order, reporting one line each; returns every item's result."""
    state = _Workspace(config.load_environment_config("databricks") if yaml_config is None else yaml_config)
    items: list[tuple[str, Callable[[_Workspace], str]]] = [
        ("config", _check_config),
        ("auth", _check_auth),
        ("staging", _check_staging),
        ("dependencies", _check_dependencies),
        ("task", lambda workspace: _check_task(workspace, task_timeout_seconds)),
    ]
    results: list[ItemResult] = []
    for item, check in items:
        failed = [result.item for result in results if result.status != OK]
        if failed:
            result = ItemResult(item, SKIPPED, f"(fix {failed[0]} first)")
        else:
            try:
                result = ItemResult(item, OK, check(state))
            except CheckFailed as failure:
                result = ItemResult(item, FAILED, str(failure))
            except Exception as error:  # noqa: BLE001 - an unforeseen failure is still this item's line
                result = ItemResult(item, FAILED, f"{type(error).__name__}: {error}")
        result = ItemResult(result.item, result.status, _scrub(result.detail, state.token))
        report(result.line())
        results.append(result)
    return results


def _without_sdk_config(error: Exception) -> str:
    """The workspace's answer, without the " Config: host=…, token=***" that databricks-sdk appends."""
    return str(error).split(" Config: ", 1)[0]


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


# --- the items ------------------------------------------------------------------------------------------


def _check_config(state: _Workspace) -> str:
    try:
        state.settings = databricks.validate_databricks_config(state.yaml_config.get("databricks") or {})
        warehouse = config.warehouse_location(state.yaml_config)
    except config.ConfigurationError as error:
        raise CheckFailed(f"{error} Fix resources/databricks.yaml, then run the check again.") from None
    return f"{_compute(state.settings)}; staging {state.settings['staging_prefix']}; warehouse {warehouse}"


def _check_auth(state: _Workspace) -> str:
    try:
        launcher = databricks.make_step_launcher(state.settings, state.yaml_config)
    except databricks.DatabricksConfigurationError as error:
        raise CheckFailed(str(error)) from None
    state.launcher, state.token = launcher, launcher.databricks_token
    host = launcher.databricks_host
    try:
        me = launcher.databricks_runner.client.workspace_client.current_user.me()
    except (PermissionDenied, Unauthenticated) as error:
        raise CheckFailed(
            f"{host} rejected the token in {config.DATABRICKS_TOKEN_VARIABLE} ({type(error).__name__}: "
            f"{_without_sdk_config(error)}). "
            f"Create a token for this workspace (Settings > Developer > Access tokens, or a service principal's), "
            f"export it as {config.DATABRICKS_TOKEN_VARIABLE}, and check that {config.DATABRICKS_HOST_VARIABLE} "
            "is the workspace URL."
        ) from None
    except Exception as error:  # noqa: BLE001 - unreachable host, TLS, proxy: all say the same thing to do
        raise CheckFailed(
            f"could not reach {host} ({type(error).__name__}: {error}). Check {config.DATABRICKS_HOST_VARIABLE} "
            "(the workspace URL) and the network between here and the workspace."
        ) from None
    return f"{host} accepts the token of {me.user_name}"


def _check_staging(state: _Workspace) -> str:
    launcher = state.launcher
    staged = launcher.staged
    folder = staged.remote_path(f"_check-{uuid.uuid4().hex[:12]}")
    probe = f"video-assets databricks check {uuid.uuid4().hex}".encode()
    try:
        staged.write(probe, f"{folder}/probe.txt")
        if staged.read(f"{folder}/probe.txt") != probe:
            raise CheckFailed(f"the file written to {folder} read back different; check the staging folder's storage.")
        staged.remove_folder(folder)
        if staged.read(f"{folder}/probe.txt") is not None:
            raise CheckFailed(f"{folder}/probe.txt is still there after its deletion; remove {folder} by hand.")
    except StagingLocationError as error:
        raise CheckFailed(str(error)) from None
    except (PermissionDenied, Unauthenticated) as error:
        raise CheckFailed(
            f"{type(error).__name__} on {launcher.staging_prefix} ({error}). Grant the token's principal READ VOLUME "
            "and WRITE VOLUME on that volume, or set databricks.staging_prefix in resources/databricks.yaml to a "
            "volume folder it can write (/Volumes/<catalog>/<schema>/<volume>/<folder>)."
        ) from None
    done = f"wrote, read back and deleted a file in {launcher.staging_prefix}"
    if not staged.on_volume:
        return done
    script = f"{launcher.workspace_folder}/_check-{uuid.uuid4().hex[:12]}.py"
    workspace = launcher.databricks_runner.client.workspace_client.workspace
    try:
        databricks.upload_workspace_file(launcher.databricks_runner.client.workspace_client, probe, script)
        workspace.get_status(script)
        workspace.delete(script)
    except Exception as error:  # noqa: BLE001 - what the workspace answered, and where
        raise CheckFailed(
            f"{done}, but not in {launcher.workspace_folder} ({type(error).__name__}: {error}), where each step's "
            "entry script goes. Give the principal CAN MANAGE on that folder, or set databricks.workspace_folder "
            "in resources/databricks.yaml to a workspace folder it can write (e.g. /Workspace/Users/<you>/video_assets)."
        ) from None
    return f"{done} and in {launcher.workspace_folder}"


def _check_dependencies(state: _Workspace) -> str:
    requirements = environment_dependencies(state.settings["run_config"])
    try:
        resolution = resolve(requirements)
    except ResolutionFailed as error:
        raise CheckFailed(
            f"the environment's {len(requirements)} requirements do not resolve ({error}). Fix the versions in "
            "databricks.run_config.libraries of resources/databricks.yaml."
        ) from None
    spark_packages = resolution.spark_packages()
    if spark_packages:
        found = "; ".join(
            f"{name}=={version} (from {', '.join(resolution.brought_by(name)) or 'the requirements'})"
            for name, version in sorted(spark_packages.items())
        )
        raise CheckFailed(
            f"installing the environment's dependencies would install {found} over the Spark Databricks "
            "provides, which stops the session. Drop those requirements (or their [pyspark] extras) from "
            "databricks.run_config.libraries in resources/databricks.yaml."
        )
    return (
        f"{len(requirements)} requirements resolve ({resolution.resolver}, Python {resolution.python}) to "
        f"{len(resolution.packages)} packages, none of {', '.join(SPARK_DISTRIBUTIONS)}"
    )


def _check_task(state: _Workspace, timeout_seconds: float) -> str:
    launcher = state.launcher
    staged: StagedFiles = launcher.staged
    name = f"_check-{uuid.uuid4().hex[:12]}"
    folder = staged.remote_path(name)
    warehouse = config.warehouse_location(state.yaml_config)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="video-assets-check-") as temporary:
            zip_path = Path(temporary) / "code.zip"
            databricks.build_code_zip(zip_path, Path(launcher.local_dagster_job_package_path))
            staged.write(zip_path.read_bytes(), f"{folder}/code.zip")
        script = Path(check_main.__file__)
        if staged.on_volume:
            python_file = databricks.entry_point_path(launcher.workspace_folder, script)
            databricks.upload_workspace_file(launcher.databricks_runner.client.workspace_client,
                                             script.read_bytes(), python_file)
        else:
            python_file = f"{folder}/{script.name}"
            staged.write(script.read_bytes(), python_file)
        task = {
            "spark_python_task": {
                "python_file": python_file,
                "parameters": [staged.task_path(name, "code.zip"), warehouse, staged.task_path(name, "result.json")],
            }
        }
        run_id = launcher._submit(task)
        run = _wait_for(launcher, run_id, timeout_seconds)
        raw = staged.read(f"{folder}/result.json")
    finally:
        try:
            staged.remove_folder(folder)
        except Exception:  # noqa: BLE001, S110 - the outcome stands; the folder name is in the lines above
            pass
    seconds = time.monotonic() - started
    result = json.loads(raw) if raw else {}
    state_text = "/".join(
        getattr(value, "value", "-") for value in (run.state.life_cycle_state, run.state.result_state)
    )
    if result.get("ok"):
        return (
            f"run {run_id} on {_compute(state.settings)}: imported video_assets from code.zip, Spark "
            f"{result['spark']}, wrote and read back 1 row in {result['table']}, removed it ({seconds:.0f} s)"
        )
    cause = result.get("error") or (
        f"the table was not removed: {result['removed']}" if result.get("removed") not in (None, True)
        else f"read back {result.get('rows')}" if "rows" in result
        else f"the run ended {state_text}: {run.state.state_message}"
    )
    raise CheckFailed(
        f"run {run_id} on {_compute(state.settings)}: {cause} ({seconds:.0f} s). See the run's output in the "
        f"workspace ({run.run_page_url}); the compute, its access to {warehouse}, or the package failed there."
    )


def _wait_for(launcher, run_id: int, timeout_seconds: float):
    jobs = launcher.databricks_runner.client.workspace_client.jobs
    deadline = time.monotonic() + timeout_seconds
    while True:
        run = jobs.get_run(run_id)
        if run.state.life_cycle_state.value in FINISHED_STATES:
            return run
        if time.monotonic() > deadline:
            jobs.cancel_run(run_id)
            raise CheckFailed(
                f"run {run_id} did not finish within {timeout_seconds:.0f} s (cancelled): check that the compute "
                f"can start ({run.run_page_url})."
            )
        time.sleep(min(launcher.databricks_runner.poll_interval_sec, 5))


def _compute(settings: Mapping[str, Any]) -> str:
    if settings.get(databricks.SERVERLESS_KEY):
        return f"serverless compute, environment {settings[databricks.SERVERLESS_KEY]['environment_version']}"
    cluster = settings["run_config"]["cluster"]
    if "existing" in cluster:
        return f"cluster {cluster['existing']}"
    return f"a new job cluster ({cluster['new'].get('spark_version')})"
