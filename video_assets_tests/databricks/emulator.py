"""A local Databricks workspace emulator: the REST endpoints the step launcher calls, nothing more.

Endpoints (found by reading dagster_databricks 0.29 and databricks-sdk 0.60,
see docs/databricks.md): DBFS create / add-block / close / read / get-status / delete, the
Files API on volumes, Workspace mkdirs / import / get-status / delete (the
entry script as a workspace file), SCIM ``Me`` (who the token is), Jobs 2.2
runs/submit, runs/get and runs/cancel. Anything else answers
404 ENDPOINT_NOT_FOUND and is recorded in ``unknown_requests``, so a new call
made by a newer dagster-databricks or SDK shows up in the tests instead of
passing silently.

* Auth: ``Authorization: Bearer <token>``; no header answers 401, a wrong token
  403 PERMISSION_DENIED "Invalid access token." (what Databricks answers).
* DBFS: ``/x``, ``dbfs:/x`` and the FUSE path ``/dbfs/x`` are all
  ``<root>/dbfs/x``. Missing files answer 404 RESOURCE_DOES_NOT_EXIST; an
  empty file reads as ``{"bytes_read": 0, "data": ""}``; uploads become
  visible on close, like Databricks.
* Runs: PENDING while the cluster starts, RUNNING while the task's process
  lives, then TERMINATED with SUCCESS / FAILED / CANCELED, or INTERNAL_ERROR
  (FAILED) when the task cannot start. ``runs/cancel`` of a finished run is a
  no-op (and still recorded).
* Clusters: an existing (all-purpose) cluster is one long-lived Spark + Delta
  JVM; each run on it is a fresh Python process attached to that JVM, so
  ``SparkSession.getActiveSession()`` finds the cluster's session. A new
  (job) cluster is a run whose process starts its own Spark. Either way the
  task process has only installed libraries (editable installs hidden), its
  own TMPDIR and cwd, and none of the test process's DATABRICKS_*,
  VIDEO_ASSETS_* or DAGSTER_* variables.
* Serverless: the task runs in a Python 3.12 environment built as Databricks
  builds it for the spec's ``environment_version`` (that version's
  databricks-connect first, then the spec's ``dependencies`` with pip;
  ``serverless.py``), against an open-source Spark Connect server of the same
  Spark line with Delta. A dependency list that would install pyspark over
  databricks-connect fails the run before the task starts (INTERNAL_ERROR).
"""

import base64
import binascii
import inspect
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from collections.abc import Callable
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlparse

from video_assets_tests.databricks import serverless

DRIVER_SCRIPT = Path(__file__).with_name("cluster_driver.py")
DEFAULT_CLUSTER_ID = "0000-000000-emulator"
MAX_BLOCK_BYTES = 1024 * 1024
MAX_READ_BYTES = 1024 * 1024
DEFAULT_READ_BYTES = 512 * 1024
ACTIVE_STATES = ("PENDING", "RUNNING", "TERMINATING")
LIBRARY_KINDS = ("pypi", "whl", "jar", "egg", "maven", "cran", "requirements")
_SITECUSTOMIZE = '''"""Emulated cluster: installed libraries only; editable installs (project checkouts) are hidden."""
import sys

def _editable(obj):
    return str(getattr(obj, "__module__", "")).startswith("__editable__")

sys.meta_path[:] = [f for f in sys.meta_path if not _editable(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if not _editable(h)]
sys.path[:] = [p for p in sys.path if "__editable__" not in str(p)]
sys.path_importer_cache.clear()
'''
_INHERITED_PREFIXES_DROPPED = ("DATABRICKS_", "VIDEO_ASSETS_", "DAGSTER_", "PYTEST_", "PYSPARK_GATEWAY_")


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass
class RecordedRequest:
    """A request as it came over the wire (the leak search reads every byte of it) and the status answered."""

    method: str
    path: str
    status: int
    request_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass
class EmulatedRun:
    run_id: int
    job_id: int
    request: dict
    task: dict
    cluster_id: str
    run_dir: Path
    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = "Waiting for cluster"
    user_cancelled: bool = False
    cancel_requested: bool = False
    start_time: int = field(default_factory=lambda: int(time.time() * 1000))
    end_time: int = 0
    process: subprocess.Popen | None = None
    exit_code: int | None = None

    @property
    def is_active(self) -> bool:
        return self.life_cycle_state in ACTIVE_STATES

    @property
    def report(self) -> dict:
        """What the task process reported (video_assets.__file__, VIDEO_ASSETS_* seen, error), if it ran."""
        path = self.run_dir / "report.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def driver_log(self) -> str:
        path = self.run_dir / "driver.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def state(self) -> dict:
        state = {
            "life_cycle_state": self.life_cycle_state,
            "state_message": self.state_message,
            "user_cancelled_or_timedout": self.user_cancelled,
        }
        if self.result_state:
            state["result_state"] = self.result_state
        return state


class EmulatedCluster:
    """An all-purpose cluster: one Spark + Delta JVM kept alive by a driver process."""

    def __init__(self, cluster_id: str, directory: Path, spark_settings: dict, env: dict):
        self.cluster_id = cluster_id
        self.directory = directory
        self.spark_settings = spark_settings
        self.env = env
        self.ready: dict | None = None
        self.error: str | None = None
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._started = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self.process is not None or self.error:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            spec = {"spark_settings": self.spark_settings, "ready_file": str(self.directory / "ready.json")}
            (self.directory / "spec.json").write_text(json.dumps(spec))
            log = open(self.directory / "driver.log", "wb")  # noqa: SIM115 - lives as long as the cluster
            self.process = subprocess.Popen(
                [sys.executable, str(self.directory.parent.parent / DRIVER_SCRIPT.name), "cluster",
                 str(self.directory / "spec.json")],
                cwd=self.directory, env=self.env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            threading.Thread(target=self._await_ready, daemon=True).start()

    def _await_ready(self) -> None:
        ready_file = self.directory / "ready.json"
        while self.process.poll() is None and not ready_file.exists():
            time.sleep(0.1)
        if ready_file.exists():
            self.ready = json.loads(ready_file.read_text())
        else:
            self.error = f"cluster driver exited with code {self.process.returncode}; see {self.directory}/driver.log"
        self._started.set()

    def wait_until_running(self, timeout: float = 300) -> dict:
        self.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"Cluster {self.cluster_id} did not start within {timeout} s")
        if self.error:
            raise RuntimeError(self.error)
        return self.ready

    def terminate(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.process.stdin.close()  # the driver stops Spark and exits
            self.process.wait(timeout=20)
        except (subprocess.TimeoutExpired, OSError):
            _kill_group(self.process)


class DatabricksEmulator:
    """The emulated workspace. Start it (or use it as a context manager), point DATABRICKS_HOST at ``url``."""

    def __init__(
        self,
        root: Path,
        token: str,
        secrets: dict[str, str] | None = None,
        spark_settings: dict[str, str] | None = None,
        existing_clusters: tuple[str, ...] = (DEFAULT_CLUSTER_ID,),
        cluster_start_seconds: float = 0.0,
        connect_server_of: Callable[[str], str] | None = None,
    ):
        """secrets: ``{"scope/key": value}`` served by dbutils.secrets.get on the cluster.

        spark_settings: the cluster's Spark configuration (the Delta packages
        of video_assets.io.spark). cluster_start_seconds: how long a new job
        cluster stays PENDING before its task starts. connect_server_of: the
        ``sc://`` address of an open-source Spark Connect server of a Spark line
        (``"4.0"``), for serverless tasks; without it the workspace has no
        serverless compute.
        """
        self.root = Path(root)
        self.dbfs_root = self.root / "dbfs"
        self.volumes_root = self.root / "volumes"
        self.workspace_root = self.root / "workspace"  # workspace files: /Workspace/<path>, or /<path> in the API
        self.user_name = "emulator@example.com"
        # A workspace created without a DBFS root (accounts opened today): DBFS calls are refused.
        self.dbfs_root_disabled = False
        self.connect_server_of = connect_server_of
        self.sdk_mismatches: list[str] = []  # request fields databricks-sdk's own classes do not know
        self.token = token
        self.secrets = dict(secrets or {})
        self.spark_settings = dict(spark_settings or {})
        self.cluster_start_seconds = cluster_start_seconds
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.cancel_requests: list[int] = []
        self.runs: dict[int, EmulatedRun] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._handles: dict[int, dict] = {}
        self._server: ThreadingHTTPServer | None = None
        for directory in (
            self.dbfs_root, self.volumes_root, self.workspace_root, self.root / "runs", self.root / "clusters",
            self.root / "site",
        ):
            directory.mkdir(parents=True, exist_ok=True)
        (self.root / "site" / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        shutil.copy(DRIVER_SCRIPT, self.root / DRIVER_SCRIPT.name)
        self.clusters = {
            cluster_id: EmulatedCluster(cluster_id, self.root / "clusters" / cluster_id, self.spark_settings,
                                        self.process_env())
            for cluster_id in existing_clusters
        }

    # ---- life cycle -------------------------------------------------------------------------

    def start(self) -> "DatabricksEmulator":
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="databricks-emulator", daemon=True).start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        with self._lock:
            runs = [run for run in self.runs.values() if run.is_active]
        for run in runs:
            self._cancel(run)
        for cluster in self.clusters.values():
            cluster.terminate()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "DatabricksEmulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def prewarm(self, cluster_id: str = DEFAULT_CLUSTER_ID) -> None:
        """Start an existing cluster's JVM now, in the background (it is started on first use otherwise)."""
        self.clusters[cluster_id].start()

    # ---- helpers for tests -------------------------------------------------------------------

    def local_path(self, path: str) -> Path:
        """The local file behind a DBFS path (``/x``, ``dbfs:/x``, ``dbfs:///x`` or FUSE ``/dbfs/x``),
        a Unity Catalog volume path (``/Volumes/<catalog>/<schema>/<volume>/…``) or a workspace file
        (``/Workspace/…``)."""
        for prefix, root in (("/Volumes", self.volumes_root), ("/Workspace", self.workspace_root)):
            if path == prefix or path.startswith(prefix + "/"):
                parts = [part for part in path.split("/")[2:] if part not in ("", ".")]
                if ".." in parts:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid path: {path}")
                return root.joinpath(*parts)
        if path.startswith("dbfs:"):
            path = path[len("dbfs:"):]
        elif path == "/dbfs" or path.startswith("/dbfs/"):
            path = path[len("/dbfs"):]
        if not path.startswith("/"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Path must be absolute: {path}")
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid path: {path}")
        return self.dbfs_root.joinpath(*parts)

    def wait_for(self, predicate, timeout: float = 120, interval: float = 0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                value = predicate(self)
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError("emulator condition not reached")

    def process_env(self) -> dict[str, str]:
        """The environment of cluster processes: this machine's, minus the launcher's own settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES_DROPPED)}
        env.update(
            {
                "PYTHONPATH": str(self.root / "site"),
                "PYSPARK_PYTHON": sys.executable,
                "PYSPARK_DRIVER_PYTHON": sys.executable,
                "DATABRICKS_RUNTIME_VERSION": "emulator",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    # ---- REST API ----------------------------------------------------------------------------

    def endpoint(self, method: str, path: str) -> str:
        """The endpoint a request calls, as ENDPOINTS names it (the Files API's path is a parameter)."""
        for prefix in (FILES_PREFIX, DIRECTORIES_PREFIX):
            if path.startswith(prefix + "/"):
                return f"{method} {prefix}/{{path}}"
        return f"{method} {path}"

    def handle(self, method: str, path: str, query: dict, raw: bytes, authorization: str | None):
        """The answer to one request: a dict (sent as JSON) or a FileAnswer (sent as it is)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(
                401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
            )
        if authorization[len("Bearer "):] != self.token:
            raise ApiError(403, "PERMISSION_DENIED", "Invalid access token.")
        for prefix, routes in ((FILES_PREFIX, _FILE_ROUTES), (DIRECTORIES_PREFIX, _DIRECTORY_ROUTES)):
            if path.startswith(prefix + "/") and method in routes:
                return routes[method](self, unquote(path[len(prefix):]), query, raw)
        route = _ROUTES.get((method, path))
        if route is None:
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            raise ApiError(400, "MALFORMED_REQUEST", "Request body is not valid JSON") from None
        if path.startswith("/api/2.0/dbfs/") and self.dbfs_root_disabled:
            raise ApiError(
                403, "PERMISSION_DENIED",
                f"Public DBFS root is disabled. Access is denied on path: {body.get('path') or query.get('path')}",
            )
        return route(self, query, body)

    # ---- Files API (Unity Catalog volumes), as databricks-sdk's WorkspaceClient().files calls it -----

    def _volume_path(self, path: str) -> Path:
        if not path.startswith("/Volumes/") or len([p for p in path.split("/") if p]) < 4:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Not a Unity Catalog volume path: {path}")
        return self.local_path(path)

    def _file_upload(self, path: str, query: dict, raw: bytes) -> dict:
        target = self._volume_path(path)
        if target.exists() and query.get("overwrite", "true").lower() == "false":
            raise ApiError(409, "ALREADY_EXISTS", f"The file being created already exists: {path}")
        target.parent.mkdir(parents=True, exist_ok=True)  # the Files API creates missing folders
        partial = target.with_name(target.name + ".uploading")
        partial.write_bytes(raw)
        os.replace(partial, target)
        return {}

    def _file_download(self, path: str, _query: dict, _raw: bytes) -> "FileAnswer":
        target = self._volume_path(path)
        if not target.is_file():
            raise ApiError(404, "NOT_FOUND", f"The file being accessed is not found: {path}")
        return FileAnswer(target.read_bytes(), target.stat().st_mtime)

    def _file_metadata(self, path: str, _query: dict, _raw: bytes) -> "FileAnswer":
        target = self._volume_path(path)
        if not target.is_file():
            raise ApiError(404, "NOT_FOUND", f"The file being accessed is not found: {path}")
        return FileAnswer(b"", target.stat().st_mtime, length=target.stat().st_size)

    def _file_delete(self, path: str, _query: dict, _raw: bytes) -> dict:
        target = self._volume_path(path)
        if not target.is_file():
            raise ApiError(404, "NOT_FOUND", f"The file being accessed is not found: {path}")
        target.unlink()
        return {}

    def _directory_list(self, path: str, _query: dict, _raw: bytes) -> dict:
        target = self._volume_path(path)
        if not target.is_dir():
            raise ApiError(404, "NOT_FOUND", f"The directory being accessed is not found: {path}")
        contents = [
            {
                "path": f"{path.rstrip('/')}/{entry.name}",
                "name": entry.name,
                "is_directory": entry.is_dir(),
                **({} if entry.is_dir() else {"file_size": entry.stat().st_size}),
            }
            for entry in sorted(target.iterdir())
            if not entry.name.endswith(".uploading")
        ]
        return {"contents": contents}

    def _directory_create(self, path: str, _query: dict, _raw: bytes) -> dict:
        self._volume_path(path).mkdir(parents=True, exist_ok=True)
        return {}

    def _directory_delete(self, path: str, _query: dict, _raw: bytes) -> dict:
        target = self._volume_path(path)
        if not target.is_dir():
            raise ApiError(404, "NOT_FOUND", f"The directory being accessed is not found: {path}")
        if any(target.iterdir()):
            raise ApiError(409, "DIRECTORY_NOT_EMPTY", f"The directory being deleted is not empty: {path}")
        target.rmdir()
        return {}

    def _directory_exists(self, path: str, _query: dict, _raw: bytes) -> "FileAnswer":
        if not self._volume_path(path).is_dir():
            raise ApiError(404, "NOT_FOUND", f"The directory being accessed is not found: {path}")
        return FileAnswer(b"", 0)

    # ---- Workspace API (workspace files), as databricks-sdk's WorkspaceClient().workspace calls it ------------

    def _workspace_path(self, path: str) -> Path:
        """The API names a workspace object ``/Users/…`` or ``/Workspace/Users/…``; both are the same object."""
        if not path or not path.startswith("/"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Path ({path}) must be absolute")
        return self.local_path(path if path == "/Workspace" or path.startswith("/Workspace/") else "/Workspace" + path)

    def _workspace_mkdirs(self, _query, body) -> dict:
        target = self._workspace_path(_required(body, "path"))
        if target.is_file():
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({body['path']}) already exists as a file.")
        target.mkdir(parents=True, exist_ok=True)
        return {}

    def _workspace_import(self, _query, body) -> dict:
        path = _required(body, "path")
        target = self._workspace_path(path)
        if not target.parent.is_dir():
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({path.rsplit('/', 1)[0]}) does not exist.")
        if body.get("format") not in ("AUTO", "RAW"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The emulator imports workspace files only (format AUTO or RAW).")
        if target.exists() and not body.get("overwrite"):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{path} already exists.")
        try:
            data = base64.b64decode(body.get("content") or "", validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "content is not valid base64") from None
        if data.startswith(b"# Databricks notebook source"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The emulator does not import notebooks.")
        target.write_bytes(data)
        return {}

    def _workspace_get_status(self, query, _body) -> dict:
        path = _required(query, "path")
        target = self._workspace_path(path)
        if not target.exists():
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        return {"path": path, "object_type": "DIRECTORY" if target.is_dir() else "FILE"}

    def _workspace_delete(self, _query, body) -> dict:
        path = _required(body, "path")
        target = self._workspace_path(path)
        if not target.exists():
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        if target.is_dir():
            if any(target.iterdir()) and not body.get("recursive"):
                raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty.")
            shutil.rmtree(target)
        else:
            target.unlink()
        return {}

    def _scim_me(self, _query, _body) -> dict:
        return {"id": "1", "userName": self.user_name, "active": True, "displayName": "Emulated user"}

    def _check_with_the_sdk(self, body: dict) -> None:
        """Parses a runs/submit body with databricks-sdk's own request classes; what they drop, they do not know."""
        from databricks.sdk.service import compute, jobs

        known = set(inspect.signature(jobs.JobsAPI.submit).parameters) - {"self"}
        problems = [f"runs/submit: unknown field {key}" for key in body if key not in known]
        for task in body.get("tasks") or []:
            problems += _dropped(task, jobs.SubmitTask.from_dict(task).as_dict(), "task")
        for environment in body.get("environments") or []:
            problems += _dropped(environment, jobs.JobEnvironment.from_dict(environment).as_dict(), "environment")
        for task in body.get("tasks") or []:
            if task.get("new_cluster"):
                problems += _dropped(
                    task["new_cluster"], compute.ClusterSpec.from_dict(task["new_cluster"]).as_dict(), "new_cluster"
                )
        with self._lock:
            self.sdk_mismatches += problems

    def _dbfs_create(self, _query, body) -> dict:
        target = self.local_path(_required(body, "path"))
        if target.exists() and not body.get("overwrite", False):
            raise ApiError(
                400, "RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at the input path {body['path']}."
            )
        with self._lock:
            handle = next(self._ids)
            self._handles[handle] = {"path": target, "data": bytearray()}
        return {"handle": handle}

    def _dbfs_add_block(self, _query, body) -> dict:
        upload = self._handle(body)
        try:
            block = base64.b64decode(_required(body, "data"), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "data is not valid base64") from None
        if len(block) > MAX_BLOCK_BYTES:
            raise ApiError(
                400, "MAX_BLOCK_SIZE_EXCEEDED", f"The block exceeded the maximum size of {MAX_BLOCK_BYTES} bytes."
            )
        upload["data"] += block
        return {}

    def _dbfs_close(self, _query, body) -> dict:
        upload = self._handle(body)
        with self._lock:
            del self._handles[int(body["handle"])]
        upload["path"].parent.mkdir(parents=True, exist_ok=True)
        temporary = upload["path"].with_name(f".{upload['path'].name}.uploading")
        temporary.write_bytes(bytes(upload["data"]))
        os.replace(temporary, upload["path"])
        return {}

    def _dbfs_delete(self, _query, body) -> dict:
        target = self.local_path(_required(body, "path"))
        if target.is_dir():
            if any(target.iterdir()) and not body.get("recursive", False):
                raise ApiError(400, "IO_ERROR", f"Directory {body['path']} is not empty: delete it recursively")
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        return {}  # deleting what is not there succeeds, as on Databricks

    def _dbfs_get_status(self, query, _body) -> dict:
        path = _required(query, "path")
        target = self.local_path(path)
        if not target.exists():
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {path}.")
        stat = target.stat()
        return {"path": path, "is_dir": target.is_dir(), "file_size": 0 if target.is_dir() else stat.st_size,
                "modification_time": int(stat.st_mtime * 1000)}

    def _dbfs_read(self, query, _body) -> dict:
        path = _required(query, "path")
        target = self.local_path(path)
        offset = _integer(query, "offset", 0)
        length = _integer(query, "length", DEFAULT_READ_BYTES)
        if offset < 0 or length < 0:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "offset and length must be non-negative")
        if length > MAX_READ_BYTES:
            raise ApiError(400, "MAX_READ_SIZE_EXCEEDED", f"Cannot read more than {MAX_READ_BYTES} bytes at once.")
        if target.is_dir():
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"The path {path} is a directory.")
        if not target.is_file():
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {path}.")
        with open(target, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
        return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}

    def _runs_submit(self, _query, body) -> dict:
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or len(tasks) != 1:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The emulator runs exactly one task per submitted run.")
        task = tasks[0]
        _required(task, "task_key")
        python_task = task.get("spark_python_task")
        if not python_task or not python_task.get("python_file"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Only spark_python_task with a python_file is emulated.")
        self._check_with_the_sdk(body)
        existing, new = task.get("existing_cluster_id"), task.get("new_cluster")
        environment_key = task.get("environment_key")
        if sum(map(bool, (existing, new, environment_key))) != 1:
            raise ApiError(
                400, "INVALID_PARAMETER_VALUE",
                "Exactly one of existing_cluster_id, new_cluster and environment_key (serverless) is required.",
            )
        if environment_key:
            environments = {e.get("environment_key"): e for e in body.get("environments") or []}
            if environment_key not in environments:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"No environment with key {environment_key} in the run")
            if task.get("libraries"):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "Libraries are not supported on serverless compute")
            if not self.connect_server_of:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "Serverless compute is not enabled in this workspace")
            version = (environments[environment_key].get("spec") or {}).get("environment_version")
            if version not in serverless.supported_versions():
                raise ApiError(
                    400, "INVALID_PARAMETER_VALUE",
                    f"The emulator runs serverless environment versions {sorted(serverless.supported_versions())} "
                    f"(the databricks-connect lines the project tests), not {version!r}.",
                )
        elif new:
            for key in ("spark_version",):
                _required(new, key)
            if not (new.get("num_workers") is not None or new.get("autoscale")):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "new_cluster needs num_workers or autoscale.")
        elif existing not in self.clusters:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Cluster {existing} does not exist")
        for library in task.get("libraries", []):
            if len(library) != 1 or next(iter(library)) not in LIBRARY_KINDS:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid library specification: {library}")
        with self._lock:
            token = body.get("idempotency_token")
            if token:
                for run in self.runs.values():
                    if run.request.get("idempotency_token") == token:
                        return {"run_id": run.run_id}
            run_id = next(self._ids)
            run = EmulatedRun(
                run_id=run_id,
                job_id=next(self._ids),
                request=body,
                task=task,
                cluster_id=existing or ("serverless" if environment_key else f"{run_id:04d}-000000-jobcluster"),
                run_dir=self.root / "runs" / str(run_id),
            )
            self.runs[run_id] = run
        run.run_dir.mkdir(parents=True)
        threading.Thread(target=self._execute, args=(run,), name=f"run-{run_id}", daemon=True).start()
        return {"run_id": run_id}

    def _runs_get(self, query, _body) -> dict:
        run = self._run(_integer(query, "run_id", None))
        with self._lock:
            cluster_instance = {"cluster_id": run.cluster_id, "spark_context_id": str(run.run_id)}
            cluster_key = {
                key: run.task[key] for key in ("existing_cluster_id", "new_cluster", "environment_key") if key in run.task
            }
            return {
                "job_id": run.job_id,
                "run_id": run.run_id,
                "number_in_job": run.run_id,
                "creator_user_name": "emulator@example.com",
                "run_name": run.request.get("run_name") or "Untitled",
                "run_type": "SUBMIT_RUN",
                "run_page_url": f"{self.url}/?o=0#job/{run.job_id}/run/{run.run_id}",
                "state": run.state(),
                "start_time": run.start_time,
                "end_time": run.end_time,
                "cluster_instance": cluster_instance,
                "tasks": [
                    {
                        "run_id": run.run_id + 100000,
                        "task_key": run.task["task_key"],
                        "state": run.state(),
                        "spark_python_task": run.task["spark_python_task"],
                        "libraries": run.task.get("libraries", []),
                        "cluster_instance": cluster_instance,
                        "start_time": run.start_time,
                        "end_time": run.end_time,
                        **cluster_key,
                    }
                ],
            }

    def _runs_cancel(self, _query, body) -> dict:
        run = self._run(body.get("run_id"))
        with self._lock:
            self.cancel_requests.append(run.run_id)
        if run.is_active:  # cancelling a finished run changes nothing
            threading.Thread(target=self._cancel, args=(run,), daemon=True).start()
        return {}

    # ---- internals ---------------------------------------------------------------------------

    def _handle(self, body) -> dict:
        with self._lock:
            upload = self._handles.get(_integer(body, "handle", None))
        if upload is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Handle {body.get('handle')} does not exist.")
        return upload

    def _run(self, run_id) -> EmulatedRun:
        try:
            run = self.runs.get(int(run_id))
        except (TypeError, ValueError):
            run = None
        if run is None:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")
        return run

    def _set_state(self, run: EmulatedRun, life_cycle: str, result: str | None = None, message: str = "") -> None:
        with self._lock:
            if run.life_cycle_state in ("TERMINATED", "INTERNAL_ERROR"):
                return
            run.life_cycle_state, run.result_state, run.state_message = life_cycle, result, message
            if life_cycle in ("TERMINATED", "INTERNAL_ERROR"):
                run.end_time = int(time.time() * 1000)

    def _execute(self, run: EmulatedRun) -> None:
        try:
            if run.task.get("existing_cluster_id"):
                ready = self.clusters[run.cluster_id].wait_until_running()
            elif run.task.get("environment_key"):
                ready = self._serverless_environment(run)
                if ready is None:
                    return
            else:
                ready = None
                deadline = time.time() + self.cluster_start_seconds
                while time.time() < deadline and not run.cancel_requested:
                    time.sleep(0.05)
            python_task = run.task["spark_python_task"]
            python_file = self.local_path(python_task["python_file"])
            with self._lock:
                if run.cancel_requested:
                    return
                if not python_file.is_file():
                    run.result_state = None
                    self._set_state(
                        run, "INTERNAL_ERROR", "FAILED",
                        f"Run failed with error message: File {python_task['python_file']} does not exist",
                    )
                    return
                run.process = self._start_task(run, python_file, python_task.get("parameters", []), ready)
                self._set_state(run, "RUNNING", message="In run")
            run.exit_code = run.process.wait()
            with self._lock:
                if run.cancel_requested:
                    return  # _cancel finishes the state
                if run.exit_code == 0:
                    self._set_state(run, "TERMINATED", "SUCCESS", "")
                else:
                    self._set_state(run, "TERMINATED", "FAILED", "Workload failed, see run output for details")
        except Exception as error:  # noqa: BLE001 - the emulator's own failure is the run's INTERNAL_ERROR
            self._set_state(run, "INTERNAL_ERROR", "FAILED", f"Emulator: {type(error).__name__}: {error}")

    def _serverless_environment(self, run: EmulatedRun) -> dict | None:
        """The task's python and Spark Connect address; None when its dependencies failed the run."""
        environments = {e["environment_key"]: e for e in run.request["environments"]}
        spec = environments[run.task["environment_key"]]["spec"]
        self._set_state(run, "PENDING", message="Installing the environment's dependencies")
        environment = serverless.task_environment(spec["environment_version"], spec.get("dependencies") or [])
        if environment.failure:
            self._set_state(run, "INTERNAL_ERROR", "FAILED", environment.failure)
            return None
        return {"spark_connect": self.connect_server_of(environment.spark_line), "python": str(environment.python)}

    def _start_task(self, run: EmulatedRun, python_file: Path, parameters: list[str], ready: dict | None):
        workdir = run.run_dir / "driver"
        temp = run.run_dir / "tmp"
        workdir.mkdir()
        temp.mkdir()
        settings = dict(self.spark_settings)
        jars = self._resolved_jars()
        if jars:  # same artifacts as spark.jars.packages, without resolving them again
            settings.pop("spark.jars.packages", None)
            settings["spark.jars"] = jars
        spec = {
            "python_file": str(python_file),
            "parameters": [
                str(self.local_path(p)) if p.startswith(("dbfs:", "/dbfs/", "/Volumes/")) else p for p in parameters
            ],
            "secrets": self.secrets,
            "spark_settings": settings,
            "report_file": str(run.run_dir / "report.json"),
        }
        (run.run_dir / "spec.json").write_text(json.dumps(spec, indent=2))
        env = self.process_env()
        env["TMPDIR"] = str(temp)
        if ready and "spark_connect" in ready:
            # Serverless: a Spark Connect session is all the task gets; no JVM of its own can start.
            env["SPARK_REMOTE"] = ready["spark_connect"]
            env["JAVA_HOME"] = str(run.run_dir / "no-java-on-serverless")
        elif ready:
            env["PYSPARK_GATEWAY_PORT"] = str(ready["port"])
            env["PYSPARK_GATEWAY_SECRET"] = ready["secret"]
        log = open(run.run_dir / "driver.log", "wb")  # noqa: SIM115 - closed by the child's exit
        try:
            return subprocess.Popen(
                [(ready or {}).get("python", sys.executable), str(self.root / DRIVER_SCRIPT.name), "run",
                 str(run.run_dir / "spec.json")],
                cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()

    def _resolved_jars(self) -> str:
        for cluster in self.clusters.values():
            if cluster.ready and cluster.ready.get("jars"):
                return cluster.ready["jars"]
        return ""

    def _cancel(self, run: EmulatedRun) -> None:
        with self._lock:
            if not run.is_active:
                return
            run.cancel_requested = True
            run.user_cancelled = True
            self._set_state(run, "TERMINATING", message="Cancelling")
            process = run.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGINT)  # the task's SparkContext cancels its Spark jobs
                process.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            _kill_group(process)
        self._set_state(run, "TERMINATED", "CANCELED", "Run cancelled.")


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _required(mapping: dict, key: str) -> Any:
    value = mapping.get(key)
    if value in (None, ""):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Missing required field: {key}")
    return value


def _integer(mapping: dict, key: str, default):
    value = mapping.get(key, default)
    if value is None:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Missing required field: {key}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"{key} must be an integer") from None


_ROUTES = {
    ("POST", "/api/2.0/dbfs/create"): DatabricksEmulator._dbfs_create,
    ("POST", "/api/2.0/dbfs/add-block"): DatabricksEmulator._dbfs_add_block,
    ("POST", "/api/2.0/dbfs/close"): DatabricksEmulator._dbfs_close,
    ("GET", "/api/2.0/dbfs/read"): DatabricksEmulator._dbfs_read,
    ("GET", "/api/2.0/dbfs/get-status"): DatabricksEmulator._dbfs_get_status,
    ("POST", "/api/2.0/dbfs/delete"): DatabricksEmulator._dbfs_delete,
    ("POST", "/api/2.2/jobs/runs/submit"): DatabricksEmulator._runs_submit,
    ("GET", "/api/2.2/jobs/runs/get"): DatabricksEmulator._runs_get,
    ("POST", "/api/2.2/jobs/runs/cancel"): DatabricksEmulator._runs_cancel,
    ("POST", "/api/2.0/workspace/mkdirs"): DatabricksEmulator._workspace_mkdirs,
    ("POST", "/api/2.0/workspace/import"): DatabricksEmulator._workspace_import,
    ("GET", "/api/2.0/workspace/get-status"): DatabricksEmulator._workspace_get_status,
    ("POST", "/api/2.0/workspace/delete"): DatabricksEmulator._workspace_delete,
    ("GET", "/api/2.0/preview/scim/v2/Me"): DatabricksEmulator._scim_me,
}
FILES_PREFIX, DIRECTORIES_PREFIX = "/api/2.0/fs/files", "/api/2.0/fs/directories"
_FILE_ROUTES = {
    "PUT": DatabricksEmulator._file_upload,
    "GET": DatabricksEmulator._file_download,
    "HEAD": DatabricksEmulator._file_metadata,
    "DELETE": DatabricksEmulator._file_delete,
}
_DIRECTORY_ROUTES = {
    "GET": DatabricksEmulator._directory_list,
    "PUT": DatabricksEmulator._directory_create,
    "DELETE": DatabricksEmulator._directory_delete,
    "HEAD": DatabricksEmulator._directory_exists,
}
ENDPOINTS = (
    *(f"{method} {path}" for method, path in _ROUTES),
    *(f"{method} {FILES_PREFIX}/{{path}}" for method in _FILE_ROUTES),
    *(f"{method} {DIRECTORIES_PREFIX}/{{path}}" for method in _DIRECTORY_ROUTES),
)


@dataclass
class FileAnswer:
    """A Files API answer: the file's bytes as the body (not JSON), with its length and modification time."""

    data: bytes
    modified: float
    length: int | None = None


def _dropped(sent: dict, parsed: dict, what: str) -> list[str]:
    """Keys of ``sent`` (nested) that databricks-sdk's parsing did not keep."""
    problems = []
    for key, value in sent.items():
        if key not in parsed:
            problems.append(f"{what}: unknown field {key}")
        elif isinstance(value, dict) and isinstance(parsed[key], dict):
            problems += _dropped(value, parsed[key], f"{what}.{key}")
    return problems


class _Handler(BaseHTTPRequestHandler):
    emulator: DatabricksEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:  # quiet; requests are recorded instead
        pass

    def _serve(self, method: str) -> None:
        parsed = urlparse(self.path)
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, payload = 200, {}
        try:
            payload = self.emulator.handle(method, parsed.path, query, raw, self.headers.get("Authorization"))
        except ApiError as error:
            status, payload = error.status, {"error_code": error.error_code, "message": error.message}
        except Exception as error:  # noqa: BLE001 - a bug in the emulator is a 500, as in a real service
            status, payload = 500, {"error_code": "INTERNAL_ERROR", "message": f"{type(error).__name__}: {error}"}
        endpoint = self.emulator.endpoint(method, parsed.path).split(" ", 1)[1]
        record = RecordedRequest(method, endpoint, status, self.requestline, list(self.headers.items()), raw)
        with self.emulator._lock:
            self.emulator.requests.append(record)
            if status == 404 and isinstance(payload, dict) and payload.get("error_code") == "ENDPOINT_NOT_FOUND":
                self.emulator.unknown_requests.append(record)
        if isinstance(payload, FileAnswer):
            data, content_type = payload.data, "application/octet-stream"
            self.send_response(status)
            self.send_header("Last-Modified", formatdate(payload.modified, usegmt=True))
            length = len(data) if payload.length is None else payload.length
        else:
            data, content_type = json.dumps(payload).encode(), "application/json"
            self.send_response(status)
            length = len(data)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")
