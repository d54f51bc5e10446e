"""Serverless environments built the way Databricks builds them, for the emulator's serverless tasks.

A serverless environment version stands for one databricks-connect client line (``runtimes.SPARK_LINES``:
version 4 is databricks-connect 17.3 on Spark 4.0, version 5 is 18.3 on Spark 4.1). A task's environment is a
Python 3.12 virtualenv with that databricks-connect installed first, then the spec's ``dependencies``
installed with pip, as Databricks installs them. databricks-connect ships the ``pyspark`` module without the
PyPI distribution, so pip installs a ``pyspark`` that a dependency requires over it: Databricks' docs say that
stops the session. Such a list fails the task, with the docs' words, before anything is installed.

Each environment is built once per machine, keyed by its version, databricks-connect requirement and
dependency list, under ~/.cache/video-assets/envs (atomically: built in a temporary folder, then renamed).
A refused list is cached too, as a folder holding only its verdict.
"""

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from video_assets_tests.runtimes import ENVS_ROOT, SPARK_LINES, file_lock, find_python, python_env

# The distributions that replace the PySpark a serverless environment provides.
SPARK_REPLACING_DISTRIBUTIONS = ("pyspark", "pyspark-client", "pyspark-connect", "delta-spark")
# https://docs.databricks.com/aws/en/compute/serverless/dependencies ("Add dependencies to the notebook").
DATABRICKS_PYSPARK_WARNING = (
    "Do not install PySpark or any library that installs PySpark as a dependency on your serverless notebooks. "
    "Doing so will stop your session and result in an error."
)
_VERDICT_FILE = "serverless-environment.json"


@dataclass(frozen=True)
class TaskEnvironment:
    """Where a serverless task runs: its python and Spark line, or why its environment could not be built."""

    spark_line: str
    python: Path | None
    failure: str | None = None


def supported_versions() -> dict[str, str]:
    """Serverless environment version -> the Spark line whose databricks-connect client it runs."""
    return {
        spark_line.serverless_environment_version: line
        for line, spark_line in SPARK_LINES.items()
        if spark_line.serverless_environment_version and spark_line.databricks_connect
    }


def client_requirements(environment_version: str) -> list[str]:
    """What a serverless environment of that version has before its dependencies: databricks-connect (and pip)."""
    spark_line = SPARK_LINES[supported_versions()[environment_version]]
    return [f"databricks-connect=={spark_line.databricks_connect}", "pip"]


def client_python(environment_version: str) -> Path:
    """The python of an environment with only that version's databricks-connect (built once per machine)."""
    return python_env(client_requirements(environment_version), name=f"serverless-{environment_version}-client")


def pip_would_install(python: Path, requirements: Sequence[str]) -> dict[str, str]:
    """{distribution: version} that ``pip install requirements`` would install into ``python``'s environment."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check",
             "--report", str(report), *requirements],
            capture_output=True, text=True, timeout=1800,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pip could not resolve {list(requirements)}:\n{result.stderr[-4000:]}")
        installs = json.loads(report.read_text())["install"]
    return {_normalized(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


def task_environment(environment_version: str, dependencies: Sequence[str]) -> TaskEnvironment:
    """The environment of a serverless task with that version and those dependencies (built on first use)."""
    line = supported_versions()[environment_version]
    requirements = client_requirements(environment_version)
    key = hashlib.sha256(json.dumps([requirements, list(dependencies)]).encode()).hexdigest()[:16]
    final = ENVS_ROOT / f"serverless-{environment_version}-task-{key}"
    if not (final / _VERDICT_FILE).exists():
        ENVS_ROOT.mkdir(parents=True, exist_ok=True)
        with file_lock(ENVS_ROOT / f".{final.name}.lock"):
            if not (final / _VERDICT_FILE).exists():
                _build(final, requirements, dependencies)
    verdict = json.loads((final / _VERDICT_FILE).read_text())
    if verdict["replaces"]:
        replaced = ", ".join(f"{name}=={version}" for name, version in sorted(verdict["replaces"].items()))
        return TaskEnvironment(
            line, None,
            f"Library installation failed for the environment's dependencies {list(dependencies)}: they install "
            f"{replaced} over the PySpark that serverless compute provides. {DATABRICKS_PYSPARK_WARNING}",
        )
    return TaskEnvironment(line, final / "bin" / "python")


def _build(final: Path, requirements: Sequence[str], dependencies: Sequence[str]) -> None:
    building = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=ENVS_ROOT))
    try:
        # databricks-connect first, as the serverless image has it (uv, from its cache); then pip, as Databricks.
        uv = [sys.executable, "-m", "uv"]
        _run([*uv, "venv", "--quiet", "--relocatable", "--python", find_python("3.12"), str(building)])
        python = building / "bin" / "python"
        _run([*uv, "pip", "install", "--quiet", "--python", str(python), *requirements])
        would_install = pip_would_install(python, dependencies) if dependencies else {}
        replaces = {name: would_install[name] for name in SPARK_REPLACING_DISTRIBUTIONS if name in would_install}
        if replaces:
            shutil.rmtree(building)
            building.mkdir()  # the verdict only: nothing of the environment is kept
        elif dependencies:
            _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *dependencies])
        verdict = {"requirements": list(requirements), "dependencies": list(dependencies), "replaces": replaces}
        (building / _VERDICT_FILE).write_text(json.dumps(verdict, indent=1))
        building.rename(final)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _run(command: Sequence[str]) -> None:
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
