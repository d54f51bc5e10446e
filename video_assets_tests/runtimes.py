"""The Spark lines the project supports, their Python environments and their Spark Connect servers.

The test process itself runs the local default (pyspark 4.2 in .venv). The older lines that
Databricks runs need other pyspark and delta-spark versions than the project's pins, so each gets a
virtualenv of its own, built once per machine under ~/.cache/video-assets/envs (keyed by Python and
requirements) and reused by every later test session, and, where a test needs one, an open-source
Spark Connect server of that line with Delta, started once per test session.

Nothing here installs the project itself: a child process finds ``video_assets`` through
``PYTHONPATH`` (``project_pythonpath``), so one cached environment serves every checkout.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENVS_ROOT = Path.home() / ".cache" / "video-assets" / "envs"


@dataclass(frozen=True)
class SparkLine:
    """One Spark line: the open-source versions that stand in for it, and what Databricks runs on it."""

    pyspark: str
    delta_spark: str
    databricks_connect: str | None
    dbr: str | None
    serverless_environment_version: str | None

    @property
    def minor(self) -> str:
        return ".".join(self.pyspark.split(".")[:2])

    @property
    def delta_maven_coordinate(self) -> str:
        """The Delta jar of this line on Maven Central, by the project's own rule."""
        from video_assets.io.spark import delta_maven_coordinate  # noqa: PLC0415

        return delta_maven_coordinate(self.pyspark, self.delta_spark)


# Serverless environment versions and their databricks-connect client: version 4 ships Databricks Connect 17
# (learn.microsoft.com/azure/databricks/release-notes/serverless/environment-version: "4 ... Python 3.12.3,
# Databricks Connect 17.2.3", updated within the 17 line since), version 5 ships 18 (databricks/cli pull
# request 6378, "only dbconnect 18.0 is compatible with Serverless v5"). Both are Python 3.12.
# delta-spark is the first Delta release built for that Spark minor. Delta's jars for Spark 4.1 (4.1.0 up to
# 4.4.0) are all built against Spark 4.1.0, and on Spark 4.1.4 Delta's ALTER TABLE fails with
# NoClassDefFoundError: .../IgnoreCachedData: the 4.1 line is pyspark 4.1.0, also the pyspark that
# databricks-connect 18.3 bundles. pyspark 4.0.1 is the version the reproduction used.
SPARK_LINES: Mapping[str, SparkLine] = {
    "4.0": SparkLine(
        pyspark="4.0.1", delta_spark="4.0.0", databricks_connect="17.3.*", dbr="17.3 LTS",
        serverless_environment_version="4",
    ),
    "4.1": SparkLine(
        pyspark="4.1.0", delta_spark="4.1.0", databricks_connect="18.3.*", dbr="18.x",
        serverless_environment_version="5",
    ),
    # The local default: the test process's own .venv (pyproject.toml's pins).
    "4.2": SparkLine(
        pyspark="4.2.0", delta_spark="4.4.0", databricks_connect=None, dbr=None, serverless_environment_version=None,
    ),
}

# What Databricks' clients require (databricks-connect 17.3 and 18.3: pyarrow<25); the lines' own
# environments keep to it so that they stand for the same client stack.
_CLIENT_PYARROW = "pyarrow<25"

# The project's runtime dependencies other than the Spark engine, by distribution name: pinned below to
# constraints.txt's versions, so that every environment runs the same dagster, pandas and pandera as .venv.
_PROJECT_DEPENDENCIES = (
    "dagster", "dagster-webserver", "dagster-databricks", "dagster-pyspark", "pandera[pyspark]", "pandas",
    "pyyaml", "matplotlib",
)
# Distributions a Databricks-provided Spark must never have installed over it.
SPARK_DISTRIBUTIONS = ("pyspark", "pyspark-client", "pyspark-connect", "delta-spark")


def _normalized(name: str) -> str:
    return name.split("[")[0].strip().lower().replace("_", "-").replace(".", "-")


def _constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[_normalized(name)] = version.split(";")[0].strip()
    return pins


def project_constraints() -> list[str]:
    """constraints.txt without the Spark distributions and pyarrow, which every line chooses for itself."""
    chosen_per_line = {*SPARK_DISTRIBUTIONS, "pyarrow"}
    return [f"{name}=={version}" for name, version in _constraint_pins().items() if name not in chosen_per_line]


def project_requirements() -> list[str]:
    """The project's runtime dependencies except pyspark, delta-spark and pyarrow, pinned as in constraints.txt."""
    pins = _constraint_pins()
    return [f"{name}=={pins[_normalized(name)]}" if _normalized(name) in pins else name for name in _PROJECT_DEPENDENCIES]


def line_requirements(line: str) -> list[str]:
    """An environment of open-source Spark of ``line`` (classic and Connect client), its Delta, and the project's
    other dependencies."""
    spark_line = SPARK_LINES[line]
    return [
        f"pyspark[connect]=={spark_line.pyspark}", f"delta-spark=={spark_line.delta_spark}", _CLIENT_PYARROW,
        *project_requirements(),
    ]


def databricks_connect_requirements(line: str) -> list[str]:
    """databricks-connect of ``line`` with the project's other dependencies; build with ``excludes=SPARK_DISTRIBUTIONS``
    so that no PyPI pyspark replaces the one databricks-connect ships."""
    client = SPARK_LINES[line].databricks_connect
    if client is None:
        raise ValueError(f"Spark {line} has no databricks-connect client")
    return [f"databricks-connect=={client}", _CLIENT_PYARROW, *project_requirements()]


def line_env(line: str) -> Path:
    """The python of ``line``'s open-source Spark environment (built on first use)."""
    return python_env(line_requirements(line), name=f"spark-{line}", constraints=project_constraints())


def databricks_connect_env(line: str) -> Path:
    """The python of an environment with databricks-connect of ``line`` and no PyPI pyspark (built on first use)."""
    return python_env(
        databricks_connect_requirements(line), name=f"databricks-connect-{line}", excludes=SPARK_DISTRIBUTIONS,
        constraints=project_constraints(),
    )


def project_pythonpath(environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environment`` (default: this process's) with this checkout first on PYTHONPATH, for a child process that
    runs ``python -m video_assets.cli`` from an environment of this module."""
    environment = dict(os.environ if environment is None else environment)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")]))
    return environment


# ----------------------------------------------------------------------------------------------------- environments


def _uv() -> list[str]:
    try:
        import uv  # noqa: F401, PLC0415 - scripts/setup.sh installs uv into .venv

        return [sys.executable, "-m", "uv"]
    except ImportError:
        found = shutil.which("uv")
        if found:
            return [found]
    pytest.fail("uv is needed to build the runtime matrix's environments: `bash scripts/setup.sh` installs it in .venv")


def find_python(version: str) -> str:
    """A Python ``version`` interpreter: pyenv's, the PATH's, or uv's (found or installed); fails the test if none."""
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"), reverse=True)
    found_on_path = shutil.which(f"python{version}")
    if found_on_path:
        candidates.append(Path(found_on_path))
    for candidate in candidates:
        if _runs(str(candidate), version):
            return str(candidate)
    for command in (["python", "find", version], ["python", "install", version]):
        result = subprocess.run([*_uv(), *command], capture_output=True, text=True, timeout=600)
        if result.returncode == 0:
            found = subprocess.run([*_uv(), "python", "find", version], capture_output=True, text=True, timeout=60)
            if found.returncode == 0 and _runs(found.stdout.strip(), version):
                return found.stdout.strip()
    pytest.fail(
        f"Python {version} is needed for the runtime matrix (Databricks runs {version}) and none was found: "
        f"not in ~/.pyenv/versions, not python{version} on the PATH, and `uv python install {version}` failed. "
        f"Install one (e.g. `pyenv install {version}` or the distribution's python{version}) and rerun."
    )


def _runs(python: str, version: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True,
            timeout=60,
        )
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def env_key(
    requirements: Sequence[str], python: str, excludes: Sequence[str] = (), constraints: Sequence[str] = (),
) -> str:
    """The cache key of an environment: a hash of its Python version, requirements, exclusions and constraints."""
    text = json.dumps({
        "python": python, "requirements": list(requirements), "excludes": sorted(excludes),
        "constraints": sorted(constraints),
    })
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def python_env(
    requirements: Sequence[str], *, python: str = "3.12", name: str, excludes: Sequence[str] = (),
    constraints: Sequence[str] = (),
) -> Path:
    """The python executable of a virtualenv with ``requirements``, built once per machine with uv.

    Cached under ~/.cache/video-assets/envs/<name>-<hash of all the arguments but name>. Built in a
    temporary folder and renamed into place, so a killed build never leaves a half environment; a lock file
    lets concurrent test sessions wait for one build instead of racing. ``excludes`` are distribution names
    left out of the resolution (uv's --excludes), e.g. a pyspark that another package already ships;
    ``constraints`` are requirement lines that pin versions without requiring the package (uv's -c).
    """
    ENVS_ROOT.mkdir(parents=True, exist_ok=True)
    final = ENVS_ROOT / f"{name}-{env_key(requirements, python, excludes, constraints)}"
    executable = final / "bin" / "python"
    if executable.exists():
        return executable
    with file_lock(ENVS_ROOT / f".{final.name}.lock"):
        if executable.exists():
            return executable
        building = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=ENVS_ROOT))
        try:
            _build(building, requirements, find_python(python), excludes, constraints)
            (building / "video-assets-env.json").write_text(json.dumps({
                "python": python, "requirements": list(requirements), "excludes": list(excludes),
                "constraints": list(constraints),
            }, indent=1))
            building.rename(final)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return executable


def _build(
    folder: Path, requirements: Sequence[str], interpreter: str, excludes: Sequence[str], constraints: Sequence[str],
) -> None:
    # --relocatable: the scripts' shebangs are relative, so the environment still works after the rename.
    commands = [[*_uv(), "venv", "--quiet", "--relocatable", "--python", interpreter, str(folder)]]
    install = [*_uv(), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(folder / "bin" / "python")]
    with tempfile.TemporaryDirectory() as scratch:
        if excludes:
            excludes_file = Path(scratch) / "excludes.txt"
            excludes_file.write_text("\n".join(excludes) + "\n")
            install += ["--excludes", str(excludes_file)]
        if constraints:
            constraints_file = Path(scratch) / "constraints.txt"
            constraints_file.write_text("\n".join(constraints) + "\n")
            install += ["--constraints", str(constraints_file)]
        commands.append([*install, *requirements])
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
            if result.returncode != 0:
                pytest.fail(
                    f"building the environment {folder.name} failed: {' '.join(command)}\n"
                    f"{result.stdout[-3000:]}{result.stderr[-5000:]}"
                )


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on ``path`` for the body: one environment build at a time per machine."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------- Connect servers

_SERVER_SCRIPT = Path(__file__).with_name("runtime_connect_server.py")
# Variables of the test process that would choose another Spark, settings or Python for a server.
_CHOOSING_SPARK = ("SPARK_HOME", "SPARK_CONF_DIR", "SPARK_REMOTE", "PYTHONPATH", "PYSPARK_PYTHON")


class ConnectServers:
    """One open-source Spark Connect server (with Delta) per Spark line, started on first request, all stopped by
    ``stop_all``."""

    def __init__(self, log_dir: Path, settings: Mapping[str, str]):
        self._log_dir = log_dir
        self._settings = dict(settings)
        self._servers: dict[str, tuple[subprocess.Popen, str]] = {}

    def address(self, line: str) -> str:
        """The line's server, started now when it has none or when the one it had has exited (its log kept)."""
        if line in self._servers and self._servers[line][0].poll() is not None:
            process, _ = self._servers.pop(line)
            log = self._log_of(line)
            kept = log.rename(log.with_name(f"connect-server-{line}-exited-{process.pid}.log"))
            warnings.warn(
                f"the Spark {line} Connect server exited with {process.returncode}; starting another "
                f"(its log: {kept}):\n{kept.read_text(errors='replace')[-2000:]}",
                stacklevel=2,
            )
        if line not in self._servers:
            self._servers[line] = self._start(line)
        return self._servers[line][1]

    def _log_of(self, line: str) -> Path:
        return self._log_dir / f"connect-server-{line}.log"

    def _start(self, line: str) -> tuple[subprocess.Popen, str]:
        from video_assets_tests.spark_settings import free_port  # noqa: PLC0415

        spark_line = SPARK_LINES[line]
        python = line_env(line)
        port = free_port()
        log = self._log_of(line)
        work = self._log_dir / f"connect-server-{line}"
        work.mkdir(parents=True, exist_ok=True)
        arguments = {
            "port": port, "delta_package": spark_line.delta_maven_coordinate, "settings": self._settings,
            "warehouse": str(work / "spark-warehouse"),
        }
        with log.open("w") as output:
            process = subprocess.Popen(
                [str(python), str(_SERVER_SCRIPT), json.dumps(arguments)],
                stdout=output, stderr=subprocess.STDOUT, cwd=work, start_new_session=True,
                env={
                    **{key: value for key, value in os.environ.items() if key not in _CHOOSING_SPARK},
                    "PYSPARK_PYTHON": str(python),
                },
            )
        _wait_until_listening(process, port, log, timeout=600)
        return process, f"sc://localhost:{port}"

    def stop_all(self) -> None:
        for process, _ in self._servers.values():
            _stop(process)
        self._servers.clear()


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    # The script prints READY once Spark has started with the Connect plugin; the first start on a machine
    # fetches the Delta jars from Maven Central.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Spark Connect server exited with {process.returncode}:\n{log.read_text()[-6000:]}")
        if "VIDEO_ASSETS_CONNECT_SERVER_READY" in log.read_text(errors="replace") and _listening(port):
            return
        time.sleep(0.5)
    _stop(process)
    pytest.fail(f"the Spark Connect server did not start within {timeout:.0f} s:\n{log.read_text()[-6000:]}")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
