"""Installing the package where Databricks provides Spark never installs a pyspark over it.

pip, as Databricks runs it, into a Python 3.12 environment that has only databricks-connect 17.3 (what a
serverless environment of version 4, a Databricks Connect virtualenv and, for pyspark, a DBR 17.3 cluster have):
``pip install --dry-run --report`` says what would be installed. databricks-connect ships the ``pyspark`` module
without the PyPI distribution, so a requirement on pyspark anywhere in the tree would install one. (The
serverless dependency list is installed the same way by every emulated serverless task: databricks/serverless.py.)
"""

import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from video_assets import config
from video_assets_tests.databricks.serverless import (
    SPARK_REPLACING_DISTRIBUTIONS,
    client_python,
    pip_would_install,
)
from video_assets_tests.runtimes import SPARK_LINES

pytestmark = [pytest.mark.slow, pytest.mark.runtimes]

LTS = SPARK_LINES["4.0"]


@pytest.fixture(scope="module")
def databricks_connect_python():
    """Python 3.12 with databricks-connect 17.3 and pip, nothing else (built once per machine)."""
    return client_python(LTS.serverless_environment_version)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project as a wheel, built from a copy of its sources (a build leaves nothing in the checkout)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(config.PROJECT_ROOT / name, source / name)
    shutil.copytree(config.PROJECT_ROOT / "resources", source / "resources")
    shutil.copytree(
        config.PROJECT_ROOT / "video_assets", source / "video_assets",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = (root / "dist").glob("video_assets-*.whl")
    return path


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_package_and_its_ui_extra_install_no_pyspark_over_databricks_connect(databricks_connect_python, wheel):
    would_install = pip_would_install(databricks_connect_python, [f"{wheel}[ui]"])
    assert not set(SPARK_REPLACING_DISTRIBUTIONS) & set(would_install), would_install
    core = tomllib.loads((config.PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    # It did resolve the package: its core dependencies and the UI come with it.
    assert {"video-assets", "dagster-webserver"} | _names(core) <= set(would_install), sorted(would_install)

