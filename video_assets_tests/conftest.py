"""Shared fixtures: one SparkSession for the whole test session, isolated folders per test."""

import os
import sys

import pytest

# The suite's slowest tests and its time against the budget, printed at the end of every run.
from video_assets_tests.time_budget import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401

# Nothing a developer has set for their own runs may leak into tests.
for _name in [n for n in os.environ if n.startswith(("VIDEO_ASSETS_", "DATABRICKS_"))]:
    del os.environ[_name]
os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)


from video_assets_tests.spark_settings import free_port  # noqa: E402

SPARK_CONNECT_PORT = free_port()


@pytest.fixture(scope="session")
def spark_resource():
    from video_assets.io.spark import SparkResource, spark_connect_server_settings
    from video_assets_tests.spark_settings import TEST_SPARK_SETTINGS

    # The shared JVM also serves Spark Connect clients (spark_connect_address): the Connect tests need no JVM
    # of their own.
    conf = {**TEST_SPARK_SETTINGS, **spark_connect_server_settings(SPARK_CONNECT_PORT)}
    return SparkResource(shuffle_partitions=2, driver_memory="2g", conf=conf)


@pytest.fixture(scope="session")
def spark(spark_resource):
    """The one SparkSession (local[*], Delta) every test shares."""
    return spark_resource.get_session()


@pytest.fixture(autouse=True, scope="module")
def release_cached_frames():
    """After each module, the frames its tests cached are released. Each cached frame keeps its plan and a
    clone of the session in Spark's cache manager until released: 56 of them held much of the shared JVM's
    1.3 GB of plans by the end of the suite (docs/performance.md, "What holds the tests' heap, found")."""
    yield
    if "pyspark" not in sys.modules:  # no Spark in this process yet: nothing to release, and none to start
        return
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:
        SparkSession.builder.getOrCreate().catalog.clearCache()


@pytest.fixture(scope="session")
def spark_connect_address(spark) -> str:
    """sc://... of the shared SparkSession's Spark Connect server (Delta included)."""
    return f"sc://localhost:{SPARK_CONNECT_PORT}"


@pytest.fixture(scope="session")
def good_tables(spark, tmp_path_factory):
    """Every table of the contract, small and correct, produced by the project's transforms (good_tables.py)."""
    from video_assets_tests.good_tables import build_good_tables

    return build_good_tables(spark, tmp_path_factory)


@pytest.fixture
def landing_dir(tmp_path):
    path = tmp_path / "landing"
    (path / "events").mkdir(parents=True)
    (path / "videos").mkdir()
    return path


@pytest.fixture
def warehouse_dir(tmp_path):
    return tmp_path / "warehouse"


@pytest.fixture(scope="session")
def connect_server_of(request, tmp_path_factory):
    """``connect_server_of("4.0")`` -> "sc://localhost:PORT": an open-source Spark Connect server of that Spark line
    with Delta (video_assets_tests/runtimes.py), started on first request and shared by the whole test session.

    "4.2", the local default, is the shared SparkSession's own Connect server.
    """
    from video_assets_tests.runtimes import SPARK_LINES, ConnectServers
    from video_assets_tests.spark_settings import SHORT_LIVED_JVM_SETTINGS, TEST_SPARK_SETTINGS

    servers = ConnectServers(
        tmp_path_factory.mktemp("connect-servers"), {**TEST_SPARK_SETTINGS, **SHORT_LIVED_JVM_SETTINGS}
    )

    def address(line: str) -> str:
        if line not in SPARK_LINES:
            raise ValueError(f"unknown Spark line {line!r}: one of {sorted(SPARK_LINES)}")
        if line == "4.2":
            return request.getfixturevalue("spark_connect_address")
        return servers.address(line)

    yield address
    servers.stop_all()


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory):
    """whole_graph's small generated landing (two days), written once per session; read it, never change it."""
    from video_assets_tests.whole_graph import generate_small_landing

    return generate_small_landing(tmp_path_factory.mktemp("small_landing") / "landing")


@pytest.fixture(scope="session")
def default_run(spark, small_landing, tmp_path_factory):
    """The whole graph on ``small_landing``, both days in one run on the shared classic session (the local
    default, Spark 4.2): the reference every other runtime's run of the same landing is compared with."""
    from video_assets_tests.assets.small_landing import ALL
    from video_assets_tests.dagster_runs import materialize, use_folders
    from video_assets_tests.whole_graph import FIRST_DAY, LAST_DAY, GraphRun, checks_by_name, metadata_keys

    warehouse = tmp_path_factory.mktemp("default_run") / "warehouse"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("VIDEO_ASSETS_PARTITION_START", FIRST_DAY)
        use_folders(monkeypatch, small_landing, warehouse)
        result = materialize(ALL, FIRST_DAY, LAST_DAY)
    assert result.success
    return GraphRun(
        small_landing, warehouse, checks_by_name(result.get_asset_check_evaluations()),
        metadata_keys(e.materialization for e in result.get_asset_materialization_events()),
    )
