"""Run each Spark asset step on Databricks through dagster-databricks' step launcher.

``VIDEO_ASSETS_ENV=databricks`` puts the resource built here under the
``step_launcher`` key. For every step, the launching process (the Dagster run
worker; it never starts Spark) uploads four files to its staging folder
``<staging_prefix>/<run id>/<step key>/`` (a Unity Catalog volume through the
Files API, or DBFS; ``databricks/staging.py``):

    step_main.py              the entry point, run as a spark_python_task (databricks/step_main.py; dagster-
                              databricks' databricks_step_main.py only with storage keys)
    code.zip                  the video_assets package (less sample_data/) and resources/*.yaml
    step_run_ref.pkl          which step of which run, with the run's config
    config.pkl                environment variables and secrets to set up on the cluster

then submits a one-task run (jobs/runs/submit: on an existing or new cluster,
or on serverless compute with an environment), polls it (jobs/runs/get),
reads back the step's Dagster events and its stdout/stderr, and removes the
folder. On the cluster the step rebuilds ``video_assets.definitions`` from
code.zip with the same VIDEO_ASSETS_* settings (forwarded below) and reuses
the session Databricks gives it (see ``io/spark.py``).

Besides staging, serverless and clean-up, two things differ from the stock
``databricks_pyspark_step_launcher``:

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

import base64
import gzip
import hashlib
import os
import pickle
import re
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_databricks import DatabricksError, DatabricksPySparkStepLauncher, databricks_pyspark_step_launcher
from dagster_databricks.databricks_pyspark_step_launcher import CODE_ZIP_NAME, PICKLED_CONFIG_FILE_NAME
from databricks.sdk.errors import PermissionDenied, Unauthenticated
from databricks.sdk.service import compute, jobs
from databricks.sdk.service.workspace import ImportFormat

from video_assets import config
from video_assets.databricks.dagster_internals import (
    PICKLED_EVENTS_FILE_NAME,
    PICKLED_STEP_RUN_REF_FILE_NAME,
    backoff,
    deserialize_value,
    process_config,
    raise_execution_interrupts,
    step_context_to_step_run_ref,
)
from video_assets.databricks import step_main
from video_assets.databricks.staging import StagedFiles, normalized_prefix

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


# A variable whose name says it holds a credential; its value would travel in config.pkl.
_SECRET_LIKE_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|(^|_)(API_?)?KEY($|_)", re.IGNORECASE)
# This project's own keys of the `databricks:` section (the rest is dagster-databricks' schema).
KEEP_STAGING_FILES_KEY = "keep_staging_files"
# Where the step's entry script goes when staging is on a volume: the Jobs API runs a spark_python_task's
# python_file from a workspace path or a cloud file URI (databricks-sdk's SparkPythonTask.python_file).
WORKSPACE_FOLDER_KEY = "workspace_folder"
DEFAULT_WORKSPACE_FOLDER = "/Workspace/Shared/video_assets"
WORKSPACE_PREFIX = "/Workspace/"
SERVERLESS_KEY = "serverless"  # run_config.cluster.serverless: serverless jobs compute instead of a cluster
SERVERLESS_ENVIRONMENT_KEY = "video_assets"
# The newest serverless environment whose client the tests run: environment 5 ships Databricks Connect 18
# (the Spark 4.1 line), environment 4 Databricks Connect 17.3 (Spark 4.0, DBR 17.3 LTS); both Python 3.12.
# https://learn.microsoft.com/azure/databricks/release-notes/serverless/environment-version/ (the table of
# versions); video_assets_tests/runtimes.py's SPARK_LINES names the client of each, and a test keeps the two equal.
DEFAULT_SERVERLESS_ENVIRONMENT_VERSION = "5"
# dagster-databricks' schema wants a cluster; a serverless section stands in for it while it is checked.
_SERVERLESS_STAND_IN = {"existing": "serverless"}


def _serverless_settings(value: Any) -> dict[str, str]:
    value = {} if value is None else value
    if not isinstance(value, Mapping) or set(value) - {"environment_version"}:
        raise DatabricksConfigurationError(
            "resources/databricks.yaml: databricks.run_config.cluster.serverless takes only environment_version "
            f"(the serverless environment's version, e.g. \"{DEFAULT_SERVERLESS_ENVIRONMENT_VERSION}\"); got {value!r}."
        )
    return {"environment_version": str(value.get("environment_version", DEFAULT_SERVERLESS_ENVIRONMENT_VERSION))}


# Distributions that are, or require, pyspark, pyspark-client or delta-spark: where Databricks provides Spark,
# installing one replaces it. Databricks' serverless docs: "Do not install PySpark or any library that installs
# PySpark as a dependency on your serverless notebooks. Doing so will stop your session and result in an error."
# (https://docs.databricks.com/aws/en/compute/serverless/dependencies). A name check only: the emulator's
# serverless tasks install the list with pip over databricks-connect, which catches what a name does not say.
_SPARK_DISTRIBUTIONS = {
    "pyspark", "pyspark-client", "pyspark-connect", "delta-spark", "databricks-connect",
    "dagster-pyspark", "dagster-databricks", "dagster-spark",
}
_SPARK_EXTRAS = {"pandera": {"pyspark", "all"}}


def _requirement_name(requirement: str) -> tuple[str, set[str]]:
    """(normalized distribution name, extras) of a pip requirement line such as ``pandera[pyspark]>=0.35``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", requirement)
    if not match:
        return requirement.strip().lower(), set()
    extras = {extra.strip().lower() for extra in (match.group(2) or "").split(",") if extra.strip()}
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), extras


def pinned_dependencies(run_config: Mapping[str, Any]) -> list[str]:
    """The pip requirements of the remote step: the YAML's PyPI libraries, plus dagster as installed here.

    Only what the step imports (databricks/step_main.py, databricks/remote_step.py and the definitions they rebuild, which never
    import dagster-databricks there); Databricks provides Spark, Delta, pandas, pyarrow and databricks-sdk.
    A serverless environment's dependencies, and a cluster's libraries. A library that would install pyspark,
    pyspark-client or delta-spark over Databricks' own is refused, naming the setting.
    """
    listed = [library["pypi"]["package"] for library in run_config.get("libraries", []) if "pypi" in library]
    for requirement in listed:
        name, extras = _requirement_name(requirement)
        if name in _SPARK_DISTRIBUTIONS or extras & _SPARK_EXTRAS.get(name, set()):
            raise DatabricksConfigurationError(
                f"resources/databricks.yaml: databricks.run_config.libraries lists {requirement!r}, which installs "
                "pyspark (or delta-spark) over the Spark that Databricks provides; on serverless that stops the "
                "session. Remove it (for pandera, list plain `pandera`: Databricks provides pyspark)."
            )
    if "dagster" not in {_requirement_name(requirement)[0] for requirement in listed}:
        # The pickled step needs the same Dagster on both sides.
        listed.append(f"dagster=={dg.__version__}")
    return listed


def _refuse_secret_like_variables(variables: Mapping[str, Any]) -> None:
    named_like_secrets = sorted(name for name in variables if _SECRET_LIKE_NAME.search(name))
    if named_like_secrets:
        raise DatabricksConfigurationError(
            f"resources/databricks.yaml: databricks.env_variables {', '.join(named_like_secrets)} look like "
            "secrets, and env_variables travel as plain text in the staged config.pkl. Put the value in a "
            "Databricks secret scope and list it under databricks.secrets_to_env_variables "
            "({name: <VARIABLE>, scope: <secret scope>, key: <secret key>}) instead."
        )


def validate_databricks_config(section: Mapping[str, Any]) -> dict[str, Any]:
    """The `databricks:` section checked against dagster-databricks' schema, with its defaults filled in.

    The project's own keys (``keep_staging_files``) are checked here and kept
    beside the processed schema; ``env_variables`` named like secrets are refused.
    """
    section = dict(section or {})
    keep_staging_files = section.pop(KEEP_STAGING_FILES_KEY, False)
    if not isinstance(keep_staging_files, bool):
        raise DatabricksConfigurationError(
            f"resources/databricks.yaml: databricks.{KEEP_STAGING_FILES_KEY} must be true or false, "
            f"got {keep_staging_files!r}."
        )
    workspace_folder = section.pop(WORKSPACE_FOLDER_KEY, DEFAULT_WORKSPACE_FOLDER)
    if not isinstance(workspace_folder, str) or not workspace_folder.startswith(WORKSPACE_PREFIX):
        raise DatabricksConfigurationError(
            f"resources/databricks.yaml: databricks.{WORKSPACE_FOLDER_KEY}={workspace_folder!r}: expected a "
            f"workspace folder, e.g. {DEFAULT_WORKSPACE_FOLDER} (where the step's entry script goes)."
        )
    _refuse_secret_like_variables(section.get("env_variables") or {})
    serverless = None
    cluster = (section.get("run_config") or {}).get("cluster") or {}
    if isinstance(cluster, Mapping) and SERVERLESS_KEY in cluster:
        if len(cluster) != 1:
            raise DatabricksConfigurationError(
                "resources/databricks.yaml: databricks.run_config.cluster takes one of new, existing or serverless."
            )
        serverless = _serverless_settings(cluster[SERVERLESS_KEY])
        section["run_config"] = {**section["run_config"], "cluster": _SERVERLESS_STAND_IN}
    pinned_dependencies(section.get("run_config") or {})  # a library that would replace Databricks' Spark
    for key, reason in _RESERVED_KEYS.items():
        if key in section:
            raise DatabricksConfigurationError(
                f"resources/databricks.yaml: remove databricks.{key}; {reason}."
            )
    if not section.get("run_config", {}).get("cluster"):
        raise DatabricksConfigurationError(
            "resources/databricks.yaml: databricks.run_config.cluster is required: "
            "`existing: <cluster id>`, `new: {spark_version, nodes, size, ...}` or `serverless: {environment_version}`."
        )
    result = process_config(databricks_pyspark_step_launcher.config_schema.config_type, section)
    if not result.success:
        problems = "; ".join(error.message.split(' Expected: "')[0] for error in result.errors or [])
        raise DatabricksConfigurationError(f"resources/databricks.yaml, section databricks: {problems}")
    processed = dict(result.value)
    processed.setdefault("secrets_to_env_variables", [])
    processed.setdefault("env_variables", {})
    processed[KEEP_STAGING_FILES_KEY] = keep_staging_files
    processed[WORKSPACE_FOLDER_KEY] = workspace_folder.rstrip("/")
    processed[SERVERLESS_KEY] = serverless
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
        return make_step_launcher(settings, environment_config)

    return dg.ResourceDefinition(
        resource_fn=launcher,
        description=(
            "Runs each Spark step as a Databricks run (dagster-databricks step launcher); "
            f"host and token from {HOST_VARIABLE} / {TOKEN_VARIABLE}."
        ),
    )


def make_step_launcher(
    settings: Mapping[str, Any], environment_config: Mapping[str, Any] | None = None
) -> "VideoAssetsStepLauncher":
    """The launcher for ``settings`` (``validate_databricks_config``'s), with DATABRICKS_HOST / DATABRICKS_TOKEN."""
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
    """dagster-databricks' launcher with a lean code.zip and a step that imports only from it; staging on a
    Unity Catalog volume or DBFS; serverless compute; clearer failures; a staging folder that does not
    outlive its step."""

    def __init__(
        self,
        *,
        keep_staging_files: bool = False,
        serverless: dict | None = None,
        workspace_folder: str = DEFAULT_WORKSPACE_FOLDER,
        **settings,
    ):
        super().__init__(**{**settings, "staging_prefix": normalized_prefix(settings["staging_prefix"])})
        self.keep_staging_files = keep_staging_files
        self.serverless = serverless
        self.workspace_folder = workspace_folder
        self.staged = StagedFiles(self.databricks_runner.client, self.staging_prefix)

    def launch_step(self, step_context):
        """Upload, submit one run, relay its events as they come, then read its logs back and clean up."""
        step_run_ref = step_context_to_step_run_ref(step_context, self.local_dagster_job_package_path)
        run_id, step_key, log = step_context.dagster_run.run_id, step_run_ref.step_key, step_context.log
        uploaded = False
        try:
            self._upload_artifacts(log, step_run_ref, run_id, step_key)
            uploaded = True
            databricks_run_id = self._submit(self._get_databricks_task(run_id, step_key))
            if self.permissions:
                self._grant_permissions(log, databricks_run_id)
            try:
                with raise_execution_interrupts():
                    yield from self.step_events_iterator(step_context, step_key, databricks_run_id)
            except BaseException:
                # Interrupted (the Dagster run was terminated) or failed: never leave the Databricks run going.
                self.databricks_runner.client.workspace_client.jobs.cancel_run(databricks_run_id)
                raise
            finally:
                self.log_compute_logs(log, run_id, step_key)
                if self.wait_for_logs:
                    self._log_logs_from_cluster(log, databricks_run_id)
        except DatabricksError as error:
            # The run failed outside the step (setup, secrets, libraries): the stock message is only
            # "Run N failed with result state FAILED"; the cause is in the task's stderr.
            cause = self._remote_error(run_id, step_key)
            if not cause:
                raise
            raise DatabricksRunFailed(f"{error} Cause on the cluster: {cause}") from error
        finally:
            # The events and the logs have been read back (or the step ended without them).
            if uploaded and not self.keep_staging_files:
                self._remove_staging_folder(log, run_id, step_key)

    def _submit(self, task: Mapping[str, Any]) -> int:
        """One run of the task: on the configured cluster, or on serverless jobs compute with its environment."""
        if self.serverless is None:
            return self.databricks_runner.submit_run(self._cluster_run_config(), task)
        environment = jobs.JobEnvironment(
            environment_key=SERVERLESS_ENVIRONMENT_KEY,
            spec=compute.Environment(
                environment_version=self.serverless["environment_version"],
                dependencies=pinned_dependencies(self.run_config),
            ),
        )
        submitted = self.databricks_runner.client.workspace_client.jobs.submit(
            run_name=self.run_config.get("run_name"),
            tasks=[
                jobs.SubmitTask.from_dict(
                    {**task, "task_key": "dagster-task", "environment_key": SERVERLESS_ENVIRONMENT_KEY}
                )
            ],
            environments=[environment],
            idempotency_token=self.run_config.get("idempotency_token"),
            timeout_seconds=self.run_config.get("timeout_seconds"),
        )
        return submitted.bind()["run_id"]

    def _get_databricks_task(self, run_id: str, step_key: str) -> Mapping[str, Any]:
        task = super()._get_databricks_task(run_id, step_key)
        if not self.staged.on_volume:
            return task  # dbfs:/…, a cloud file URI: a kind the Jobs API documents for python_file
        return {"spark_python_task": {**task["spark_python_task"], "python_file": self._entry_point_path()}}

    def _entry_point_path(self) -> str:
        """The entry script as a workspace file, named after its content: one file per version of the script,
        shared by every step and run (uploaded again, unchanged, by each step; never removed)."""
        return entry_point_path(self.workspace_folder, Path(self._main_file_local_path()))

    def _cluster_run_config(self) -> dict:
        """The run config with the step's own libraries instead of dagster-databricks' defaults.

        The defaults add dagster-databricks and dagster-pyspark, which require pyspark from PyPI; our entry
        point imports neither. dagster-databricks' entry point (storage keys only) needs them: defaults kept.
        """
        if self.storage:
            return self.run_config
        libraries = [library for library in self.run_config.get("libraries", []) if "pypi" not in library]
        libraries += [{"pypi": {"package": package}} for package in pinned_dependencies(self.run_config)]
        return {**self.run_config, "libraries": libraries, "install_default_libraries": False}

    def create_remote_config(self):
        """config.pkl: plain data for our entry point, which runs where dagster-databricks is not installed."""
        remote = super().create_remote_config()
        if self.storage:
            return remote  # read by dagster-databricks' entry point
        return {"env_variables": dict(remote.env_variables), "secrets": list(remote.secrets)}

    def _main_file_local_path(self) -> str:
        # Ours runs on any compute; dagster-databricks' hands a SparkContext to its set-up, which serverless
        # and standard-access (Spark Connect) compute do not have. Its storage-key set-up needs one: only
        # then is the stock entry point used.
        return super()._main_file_local_path() if self.storage else step_main.__file__

    def _dbfs_path(self, run_id: str, step_key: str, filename: str) -> str:
        return self.staged.remote_path(run_id, self._sanitize_step_key(step_key), os.path.basename(filename))

    def _internal_dbfs_path(self, run_id: str, step_key: str, filename: str) -> str:
        return self.staged.task_path(run_id, self._sanitize_step_key(step_key), os.path.basename(filename))

    def get_step_events(self, run_id: str, step_key: str, retry_number: int):
        """Every event record the step has written so far ([] before it wrote any)."""
        path = self._dbfs_path(run_id, step_key, f"{retry_number}_{PICKLED_EVENTS_FILE_NAME}")

        def records():
            data = self.staged.read(path)
            return deserialize_value(pickle.loads(gzip.decompress(data))) if data else []

        # The task rewrites the file while it runs: a half-written read is retried.
        return backoff(fn=records, retry_on=(pickle.UnpicklingError, OSError, zlib.error, EOFError), max_retries=4)

    def log_compute_logs(self, log, run_id: str, step_key: str) -> None:
        """The task's captured stdout and stderr, into the run's log and this process's own streams."""
        for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
            try:
                data = self.staged.read(self._dbfs_path(run_id, step_key, name))
            except Exception as error:  # noqa: BLE001 - the step's outcome stands without its logs
                log.error(f"Could not read the {name} of step {step_key} ({type(error).__name__}: {error}).")
                continue
            if data is None:
                log.warning(f"Step {step_key} left no {name} (it did not start); see the run in Databricks.")
                continue
            text = data.decode(errors="replace")
            log.info(f"Captured {name} for step {step_key}:")
            log.info(text)
            stream.write(text)

    def _remove_staging_folder(self, log, run_id: str, step_key: str) -> None:
        folder = self._dbfs_path(run_id, step_key, "").rstrip("/")
        try:
            self.staged.remove_folder(folder)
        except Exception as error:  # noqa: BLE001 - a leftover folder must not fail a finished step
            log.warning(
                f"Could not remove the step's staging folder {folder} ({type(error).__name__}: {error}); "
                "remove it by hand."
            )

    def _remote_error(self, run_id: str, step_key: str) -> str | None:
        """The last exception line the task printed (stderr, then stdout), if any."""
        for stream in ("stderr", "stdout"):
            try:
                data = self.staged.read(self._dbfs_path(run_id, step_key, stream))
            except Exception:  # noqa: BLE001 - best effort: the stock error is raised instead
                continue
            lines = [line.strip() for line in (data or b"").decode(errors="replace").splitlines() if line.strip()]
            for line in reversed(lines):
                if _EXCEPTION_LINE.match(line):
                    return line[:2000]
        return None

    def _upload_artifacts(self, log, step_run_ref, run_id: str, step_key: str) -> None:
        step_run_ref = step_run_ref._replace(recon_job=detach_from_local_checkout(step_run_ref.recon_job))

        def upload(data: bytes, name: str) -> None:
            self.staged.write(data, self._dbfs_path(run_id, step_key, name))

        staging = self._dbfs_path(run_id, step_key, "")
        try:
            if self.staged.on_volume:
                log.info(f"Uploading {self._main_file_name()} to {self._entry_point_path()}")
                upload_workspace_file(
                    self.databricks_runner.client.workspace_client,
                    Path(self._main_file_local_path()).read_bytes(),
                    self._entry_point_path(),
                )
            else:
                log.info(f"Uploading {self._main_file_name()} to {staging}")
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


def entry_point_path(workspace_folder: str, script: Path) -> str:
    """``<workspace_folder>/<script stem>-<first 12 hex digits of its sha256>.py``."""
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    return f"{workspace_folder.rstrip('/')}/{script.stem}-{digest}.py"


def upload_workspace_file(workspace_client, data: bytes, path: str) -> None:
    """Writes ``data`` as a workspace file (not a notebook) at ``path``, creating its folder."""
    workspace_client.workspace.mkdirs(path.rsplit("/", 1)[0])
    workspace_client.workspace.import_(
        path, content=base64.b64encode(data).decode(), format=ImportFormat.AUTO, overwrite=True
    )
