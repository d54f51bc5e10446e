"""Run each Spark asset step on Databricks through dagster-databricks' step launcher.

``VIDEO_ASSETS_ENV=databricks`` puts the resource built here under the
``step_launcher`` key. For every step, the launching process (the Dagster run
worker; it never starts Spark) uploads four files to DBFS under
``<staging_prefix>/<run id>/<step key>/``:

    databricks_step_main.py   dagster-databricks' entry point, run as a spark_python_task
    code.zip                  the video_assets package (less sample_data/) and resources/*.yaml
    step_run_ref.pkl          which step of which run, with the run's config
    config.pkl                environment variables and secrets to set up on the cluster

then submits a one-task run (jobs/runs/submit), polls it (jobs/runs/get) and
reads back the step's Dagster events and its stdout/stderr from DBFS. On the
cluster the step rebuilds ``video_assets.definitions`` from code.zip with the
same VIDEO_ASSETS_* settings (forwarded below) and reuses the cluster's
SparkSession (see ``io/spark.py``).

Two things differ from the stock ``databricks_pyspark_step_launcher``:

* code.zip holds only what the cluster needs. The stock launcher zips the
  whole ``local_pipeline_package_path`` (the project root, so that the
  ``video_assets`` package sits at the top of the zip), which would ship the
  virtualenv, .git, local data and tests.
* the job's code pointer loses its ``working_directory``. dagster sets it to
  the launching process's cwd, and the cluster puts that folder first on
  sys.path: wherever the same path exists remotely (a shared mount, a local
  emulator) the step would import that checkout instead of the uploaded zip.

Host and token come only from DATABRICKS_HOST / DATABRICKS_TOKEN, read when a
run starts; they are never written to files, run config or logs.
"""

import pickle
import re
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_databricks import DatabricksError, DatabricksPySparkStepLauncher, databricks_pyspark_step_launcher
from dagster_databricks.databricks_pyspark_step_launcher import CODE_ZIP_NAME, PICKLED_CONFIG_FILE_NAME
from databricks.sdk.errors import PermissionDenied, Unauthenticated

from video_assets import config
from video_assets.dagster_internals import PICKLED_STEP_RUN_REF_FILE_NAME, process_config

HOST_VARIABLE = config.DATABRICKS_HOST_VARIABLE
TOKEN_VARIABLE = config.DATABRICKS_TOKEN_VARIABLE
# Set on the cluster only (through the launcher's env_variables): there the
# step already runs remotely, so the step_launcher resource is inert.
ON_CLUSTER_VARIABLE = config.ON_DATABRICKS_VARIABLE
PACKAGE_NAME = "video_assets"
PROJECT_ROOT = config.PROJECT_ROOT

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|NotFound|Denied)\b.*")

# Keys of resources/databricks.yaml's `databricks:` section that this module
# sets itself: credentials only from the environment, the package path from
# the project layout.
_RESERVED_KEYS = {
    "databricks_host": f"the host comes only from {HOST_VARIABLE}",
    "databricks_token": f"the token comes only from {TOKEN_VARIABLE}",
    "oauth_credentials": f"authentication is a personal access token in {TOKEN_VARIABLE}",
    "azure_credentials": f"authentication is a personal access token in {TOKEN_VARIABLE}",
    "local_pipeline_package_path": "it is always the project root (the folder that contains video_assets/)",
    "local_dagster_job_package_path": "it is always the project root (the folder that contains video_assets/)",
}


class DatabricksConfigurationError(config.ConfigurationError):
    """resources/databricks.yaml or the DATABRICKS_* variables are not usable; the message says how to fix it."""


class DatabricksAuthenticationError(RuntimeError):
    """The workspace rejected DATABRICKS_TOKEN (HTTP 401/403)."""


class DatabricksRunFailed(RuntimeError):
    """The Databricks run of a step failed before the step could report its own failure."""


def validate_databricks_config(section: Mapping[str, Any]) -> dict[str, Any]:
    """The `databricks:` section checked against dagster-databricks' schema, with its defaults filled in."""
    section = dict(section or {})
    for key, reason in _RESERVED_KEYS.items():
        if key in section:
            raise DatabricksConfigurationError(
                f"resources/databricks.yaml: remove databricks.{key}; {reason}."
            )
    if not section.get("run_config", {}).get("cluster"):
        raise DatabricksConfigurationError(
            "resources/databricks.yaml: databricks.run_config.cluster is required: "
            "either `existing: <cluster id>` or `new: {spark_version, nodes, size, ...}`."
        )
    result = process_config(databricks_pyspark_step_launcher.config_schema.config_type, section)
    if not result.success:
        problems = "; ".join(error.message.split(' Expected: "')[0] for error in result.errors or [])
        raise DatabricksConfigurationError(f"resources/databricks.yaml, section databricks: {problems}")
    processed = dict(result.value)
    processed.setdefault("secrets_to_env_variables", [])
    processed.setdefault("env_variables", {})
    return processed


def build_step_launcher(
    section: Mapping[str, Any], environment_config: Mapping[str, Any] | None = None
) -> dg.ResourceDefinition:
    """The `step_launcher` resource for VIDEO_ASSETS_ENV=databricks, from resources/databricks.yaml's section.

    The YAML is validated now (at definitions load); credentials are read when
    a run starts, so loading the definitions needs no DATABRICKS_* variables.
    ``environment_config`` is the whole databricks YAML the resources were
    built from (read again when not given), for the locations the cluster gets.
    """
    settings = validate_databricks_config(section)

    def launcher(_init_context) -> DatabricksPySparkStepLauncher | None:
        if config.from_environment().on_databricks:
            return None  # on the cluster the step itself runs here
        host, token = databricks_credentials()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # step launchers are "superseded" by Pipes; still supported
            return VideoAssetsStepLauncher(
                **{
                    **settings,
                    "databricks_host": host,
                    "databricks_token": token,
                    "env_variables": {**settings["env_variables"], **remote_environment(environment_config)},
                    "local_pipeline_package_path": str(PROJECT_ROOT),
                }
            )

    return dg.ResourceDefinition(
        resource_fn=launcher,
        description=(
            "Runs each Spark step as a Databricks run (dagster-databricks step launcher); "
            f"host and token from {HOST_VARIABLE} / {TOKEN_VARIABLE}."
        ),
    )


def databricks_credentials() -> tuple[str, str]:
    """(workspace URL with its scheme, token) from DATABRICKS_HOST / DATABRICKS_TOKEN; both are required."""
    current = config.from_environment()
    host, token = current.databricks_host, current.databricks_token
    missing = [name for name, value in ((HOST_VARIABLE, host), (TOKEN_VARIABLE, token)) if not value]
    if missing:
        raise DatabricksConfigurationError(
            f"VIDEO_ASSETS_ENV=databricks needs {' and '.join(missing)} in the environment of the process "
            f"that launches runs (the workspace URL, e.g. https://adb-123.4.azuredatabricks.net, and a "
            f"personal access token or service principal token). They are never read from files."
        )
    return host, token


def remote_environment(environment_config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Variables the cluster needs so that it builds the same definitions as the launching process.

    Every VIDEO_ASSETS_* setting of this process, with the landing and
    warehouse locations as this process resolved them, plus the marker that
    makes the cluster's step_launcher inert.
    """
    if environment_config is None:
        environment_config = config.load_environment_config("databricks")
    forwarded = config.forwarded_variables()
    forwarded.update(
        {
            config.ENV_VARIABLE: "databricks",
            config.LANDING_DIR_VARIABLE: config.landing_location(environment_config),
            config.WAREHOUSE_DIR_VARIABLE: config.warehouse_location(environment_config),
            ON_CLUSTER_VARIABLE: "1",
        }
    )
    return forwarded


def code_zip_members(project_root: Path = PROJECT_ROOT) -> list[tuple[Path, str]]:
    """(file, name in the zip) for everything the cluster needs: the package and the environment YAMLs."""
    members = []
    package = project_root / PACKAGE_NAME
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(project_root)
        if not path.is_file() or path.suffix in (".pyc", ".pyo"):
            continue
        if any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            continue
        # The sample-data generator writes landing files on a laptop, in tests and benchmarks; no step imports it.
        if relative.parts[:2] == (PACKAGE_NAME, "sample_data"):
            continue
        members.append((path, relative.as_posix()))
    for path in sorted((project_root / "resources").glob("*.yaml")):
        members.append((path, f"resources/{path.name}"))
    return members


def build_code_zip(target: Path | str, project_root: Path = PROJECT_ROOT) -> list[str]:
    """Write code.zip (paths relative to the project root, so `video_assets/` is at its top); returns its names."""
    names = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in code_zip_members(project_root):
            archive.write(path, name)
            names.append(name)
    if f"{PACKAGE_NAME}/__init__.py" not in names:
        raise DatabricksConfigurationError(f"No {PACKAGE_NAME}/__init__.py under {project_root}: nothing to upload.")
    return names


def detach_from_local_checkout(recon_job):
    """The job with a code pointer that the cluster resolves from code.zip only.

    step_context_to_step_run_ref turns a file pointer into a module pointer
    but keeps (or sets) working_directory = this process's cwd; the cluster
    would put that folder first on sys.path.
    """
    repository = recon_job.repository
    pointer = repository.pointer
    module = getattr(pointer, "module", None)
    if module is None or module.split(".")[0] != PACKAGE_NAME:
        raise DatabricksConfigurationError(
            f"The job's code pointer ({pointer.describe()}) is not a module of the {PACKAGE_NAME} package, "
            f"and code.zip holds only {PACKAGE_NAME}: run jobs of video_assets.definitions "
            "(the code location), not jobs defined in scripts or tests."
        )
    if getattr(pointer, "working_directory", None) is not None:
        pointer = pointer._replace(working_directory=None)
    return recon_job._replace(repository=repository._replace(pointer=pointer))


class VideoAssetsStepLauncher(DatabricksPySparkStepLauncher):
    """dagster-databricks' launcher with a lean code.zip, a step that imports only from it, clearer failures."""

    def launch_step(self, step_context):
        try:
            yield from super().launch_step(step_context)
        except DatabricksError as error:
            # The run failed outside the step (setup, secrets, libraries): the stock message is only
            # "Run N failed with result state FAILED"; the cause is in the task's stderr on DBFS.
            cause = self._remote_error(step_context.run_id, step_context.step.key)
            if not cause:
                raise
            raise DatabricksRunFailed(f"{error} Cause on the cluster: {cause}") from error

    def _remote_error(self, run_id: str, step_key: str) -> str | None:
        """The last exception line the task printed (stderr, then stdout), if any."""
        for stream in ("stderr", "stdout"):
            try:
                text = self.databricks_runner.client.read_file(self._dbfs_path(run_id, step_key, stream)).decode(
                    errors="replace"
                )
            except Exception:  # noqa: BLE001 - best effort: the stock error is raised instead
                continue
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            for line in reversed(lines):
                if _EXCEPTION_LINE.match(line):
                    return line[:2000]
        return None

    def _upload_artifacts(self, log, step_run_ref, run_id: str, step_key: str) -> None:
        step_run_ref = step_run_ref._replace(recon_job=detach_from_local_checkout(step_run_ref.recon_job))
        client = self.databricks_runner.client

        def upload(data: bytes, name: str) -> None:
            client.put_file(BytesIO(data), self._dbfs_path(run_id, step_key, name), overwrite=True)

        staging = self._dbfs_path(run_id, step_key, "")
        log.info(f"Uploading {self._main_file_name()} to {staging}")
        try:
            upload(Path(self._main_file_local_path()).read_bytes(), self._main_file_name())
        except (PermissionDenied, Unauthenticated) as error:
            raise DatabricksAuthenticationError(
                f"Databricks at {self.databricks_host} rejected the credentials in {TOKEN_VARIABLE} "
                f"({type(error).__name__}: {error}). Check that the token is valid, not expired, and "
                f"issued for this workspace, and that {HOST_VARIABLE} is the workspace URL."
            ) from error

        with tempfile.TemporaryDirectory() as temp_dir:
            zip_path = Path(temp_dir) / CODE_ZIP_NAME
            names = build_code_zip(zip_path, Path(self.local_dagster_job_package_path))
            log.info(f"Uploading {CODE_ZIP_NAME}: {len(names)} files, {zip_path.stat().st_size} bytes")
            upload(zip_path.read_bytes(), CODE_ZIP_NAME)

        log.info(f"Uploading {PICKLED_STEP_RUN_REF_FILE_NAME} and {PICKLED_CONFIG_FILE_NAME}")
        upload(pickle.dumps(step_run_ref), PICKLED_STEP_RUN_REF_FILE_NAME)
        upload(pickle.dumps(self.create_remote_config()), PICKLED_CONFIG_FILE_NAME)
