"""Drive the Dagster UI path from tests: `dagster dev` as a subprocess, its GraphQL API, headless Chromium.

Not a test module: the e2e tests import it. Everything here talks to the
webserver exactly as the browser does (POST /graphql), so what passes here is
what a user clicking "Materialize" / "Launch backfill" gets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from video_assets_tests.spark_settings import spark_defaults_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FROM_UI_TAG = {"key": "dagster/from_ui", "value": "true"}  # what the UI adds to every launch

# The UI's own mutation (ui-core/src/instance/backfill/BackfillUtils.tsx), trimmed to what we read.
LAUNCH_BACKFILL_MUTATION = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on RunConflict { message }
    ... on InvalidSubsetError { message }
  }
}
"""

ASSET_NODES_QUERY = """
query AssetNodes {
  assetNodes {
    assetKey { path }
    groupName
    kinds
    isPartitioned
    hasAssetChecks
    dependencyKeys { path }
  }
}
"""

BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id
      status
      numPartitions
      partitionNames
      endTimestamp
      error { message stack }
      runs(limit: 1000) {
        runId
        status
        tags { key value }
        assetSelection { path }
      }
    }
    ... on PythonError { message stack }
    ... on BackfillNotFoundError { message }
  }
}
"""

MATERIALIZATIONS_QUERY = """
query Materializations($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    __typename
    ... on AssetNode {
      assetMaterializations(limit: 10000) { partition runId timestamp }
    }
  }
}
"""

PARTITION_STATUS_QUERY = """
query PartitionStatus($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetPartitionStatuses {
        __typename
        ... on TimePartitionStatuses { ranges { status startKey endKey } }
        ... on DefaultPartitionStatuses { materializedPartitions failedPartitions }
      }
    }
  }
}
"""

ASSET_CHECKS_QUERY = """
query AssetChecks($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks {
          checks {
            name
            blocking
            executionForLatestMaterialization {
              runId
              status
              evaluation { success severity description }
            }
          }
        }
      }
    }
  }
}
"""

RUN_LOGS_QUERY = """
query RunLogs($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 5000) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on MessageEvent { message level stepKey }
      }
    }
  }
}
"""

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""

FAST_DAEMON_SITE = Path(__file__).parent / "fast_daemon"

# `dagster dev` maps SIGTERM to whatever SIGINT does; started from a shell that ran us in the
# background, SIGINT is ignored and so would SIGTERM be. Default handlers first, then exec.
RESTORE_SIGNALS_AND_EXEC = (
    "import os, signal, sys\n"
    "for number in (signal.SIGINT, signal.SIGTERM):\n"
    "    signal.signal(number, signal.SIG_DFL)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)

TERMINAL_BACKFILL_STATUSES = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_dagster_home(directory: Path) -> Path:
    """A fresh DAGSTER_HOME holding a copy of the project's dagster.yaml (as scripts/ui.sh does)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", directory / "dagster.yaml")
    return directory


def _proc_stats() -> list[tuple[int, int, int, str]]:
    """(pid, ppid, pgrp, state) of every live process, from /proc."""
    stats = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # pid (comm) state ppid pgrp ... ; comm may contain spaces and parentheses
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats.append((int(entry.name), int(fields[1]), int(fields[2]), fields[0]))
    return stats


def descendants(pid: int) -> set[int]:
    """Every live process below pid (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    for child, parent, _, _ in _proc_stats():
        children.setdefault(parent, []).append(child)
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pids: Iterable[int], pgid: int) -> set[int]:
    """Which of pids, or of the members of process group pgid, are still running (zombies excluded)."""
    pids = set(pids)
    return {pid for pid, _, group, state in _proc_stats() if state != "Z" and (pid in pids or group == pgid)}


def _signal_pids(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_process_tree(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM our process group and every descendant, wait, then SIGKILL whatever is left.

    The process must have been started with start_new_session=True, so its group
    (pgid = its pid) holds only what it started: `dagster dev` forwards SIGTERM to
    the webserver and daemon; runs and their Spark JVMs are further down. Processes
    are addressed by that group and by pid only.
    """
    pgid = process.pid
    tracked = descendants(process.pid)
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    _signal_pids(tracked, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tracked |= descendants(process.pid)
        process.poll()
        if process.returncode is not None and not _alive(tracked, pgid):
            break
        time.sleep(0.5)
    tracked |= descendants(process.pid)
    remaining = _alive(tracked, pgid)
    if remaining:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _signal_pids(remaining, signal.SIGKILL)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class GraphQLError(AssertionError):
    pass


@dataclass
class DagsterDev:
    """`dagster dev` (webserver + daemons) on a free loopback port, with its own DAGSTER_HOME."""

    dagster_home: Path
    env_overrides: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    workspace: Path = PROJECT_ROOT / "workspace.yaml"
    log_path: Path | None = None
    process: subprocess.Popen | None = None
    # Seconds between two ticks of the daemons (Dagster's is 30): see fast_daemon/sitecustomize.py.
    daemon_interval_seconds: int = 3

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> DagsterDev:
        env = {**os.environ, **self.env_overrides, "DAGSTER_HOME": str(self.dagster_home)}
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAST_DAEMON_SITE), env.get("PYTHONPATH")]))
        env["E2E_DAEMON_INTERVAL_SECONDS"] = str(self.daemon_interval_seconds)
        env["SPARK_CONF_DIR"] = str(spark_defaults_dir(self.dagster_home / "spark_conf"))
        self.log_path = self.log_path or self.dagster_home / "dagster-dev.log"
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable, "-c", RESTORE_SIGNALS_AND_EXEC,
                str(VENV_BIN / "dagster"), "dev", "-w", str(self.workspace), "-h", "127.0.0.1", "-p", str(self.port),
            ],
            cwd=self.workspace.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        try:
            self.wait_until_loaded(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process_tree(self.process)

    def __enter__(self) -> DagsterDev:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, chars: int = 6000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def graphql(self, query: str, variables: Mapping | None = None, timeout: float = 120.0) -> dict:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as error:  # GraphQL validation errors come back as 400 with a body
            raise GraphQLError(f"HTTP {error.code}: {error.read().decode(errors='replace')[:4000]}") from None
        if payload.get("errors"):
            raise GraphQLError(json.dumps(payload["errors"], indent=1)[:4000])
        return payload["data"]

    def wait_until_loaded(self, timeout: float) -> None:
        """Until the webserver answers and the code location has loaded without error."""
        deadline = time.monotonic() + timeout
        last = "webserver not answering"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                data = self.graphql(WORKSPACE_QUERY, timeout=10)
                entries = data["workspaceOrError"].get("locationEntries", [])
                statuses = [(e["loadStatus"], e["locationOrLoadError"] or {}) for e in entries]
                errors = [loc.get("message") for _, loc in statuses if loc.get("__typename") == "PythonError"]
                if errors:
                    raise RuntimeError("code location failed to load:\n" + "\n".join(errors))
                if statuses and all(s == "LOADED" and loc.get("__typename") == "RepositoryLocation" for s, loc in statuses):
                    return
                last = f"location entries: {statuses}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, GraphQLError) as error:
                last = str(error)
            time.sleep(1)
        raise TimeoutError(f"dagster dev not ready after {timeout}s ({last}):\n{self.log_tail()}")

    # --- what the UI does -------------------------------------------------------------------

    def asset_nodes(self) -> list[dict]:
        return self.graphql(ASSET_NODES_QUERY)["assetNodes"]

    def launch_backfill(self, asset_paths: list[list[str]], partition_names: list[str], title: str | None = None) -> str:
        """The "Launch backfill" button of the asset graph's materialize dialog (a pure asset backfill)."""
        params = {
            "tags": [FROM_UI_TAG],
            "assetSelection": [{"path": path} for path in asset_paths],
            "partitionNames": partition_names,
            "fromFailure": False,
        }
        if title:
            params["title"] = title
        result = self.graphql(LAUNCH_BACKFILL_MUTATION, {"backfillParams": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise GraphQLError(f"backfill not launched: {json.dumps(result)[:4000]}")
        return result["backfillId"]

    def backfill(self, backfill_id: str) -> dict:
        result = self.graphql(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
        if result["__typename"] != "PartitionBackfill":
            raise GraphQLError(json.dumps(result)[:4000])
        return result

    def wait_for_backfill(self, backfill_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            backfill = self.backfill(backfill_id)
            runs_done = all(run["status"] in {"SUCCESS", "FAILURE", "CANCELED"} for run in backfill["runs"])
            if backfill["status"] in TERMINAL_BACKFILL_STATUSES and runs_done:
                return backfill
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"backfill {backfill_id} still {backfill['status']} after {timeout}s; runs: "
                    f"{[(r['runId'][:8], r['status']) for r in backfill['runs']]}\n{self.log_tail()}"
                )
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster dev died while waiting:\n{self.log_tail()}")
            time.sleep(2)

    def materializations(self, path: list[str]) -> list[dict]:
        result = self.graphql(MATERIALIZATIONS_QUERY, {"key": {"path": path}})["assetNodeOrError"]
        return result.get("assetMaterializations", [])

    def partition_status(self, path: list[str]) -> dict:
        return self.graphql(PARTITION_STATUS_QUERY, {"key": {"path": path}})["assetNodeOrError"]["assetPartitionStatuses"]

    def asset_checks(self, path: list[str]) -> list[dict]:
        result = self.graphql(ASSET_CHECKS_QUERY, {"key": {"path": path}})["assetNodeOrError"]["assetChecksOrError"]
        return result.get("checks", []) if result["__typename"] == "AssetChecks" else []

    def run_messages(self, run_id: str) -> list[dict]:
        messages, cursor = [], None
        while True:
            connection = self.graphql(RUN_LOGS_QUERY, {"runId": run_id, "cursor": cursor})["logsForRun"]
            messages += [e for e in connection.get("events", []) if e.get("message") is not None]
            cursor = connection.get("cursor")
            if not connection.get("hasMore"):
                return messages


# --- headless Chromium ----------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_chromium() -> tuple[str | None, str]:
    """The chromium binary, installing Debian's `chromium` with apt when we are root; else (None, why)."""
    found = chromium_binary()
    if found:
        return found, ""
    if os.geteuid() != 0:
        return None, "chromium is not installed and installing it needs root (apt-get install chromium)"
    if not shutil.which("apt-get"):
        return None, "chromium is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, f"`{' '.join(command)}` did not finish: {error}"
        if done.returncode != 0:
            return None, f"`{' '.join(command)}` failed: {(done.stderr or done.stdout)[-600:]}"
    found = chromium_binary()
    return (found, "") if found else (None, "apt-get installed chromium but no chromium binary is on PATH")


def ensure_chromium_in_background() -> Future:
    """ensure_chromium() on a worker thread, so that an apt-get install overlaps with slower work."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium-install")
    future = executor.submit(ensure_chromium)
    executor.shutdown(wait=False)
    return future


def chromium(binary: str, args: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess:
    """One headless Chromium invocation with a throwaway profile, killed with its whole group on timeout."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_process_tree(process, timeout=5)
            stdout, stderr = process.communicate()
        finally:
            stop_process_tree(process, timeout=5)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
