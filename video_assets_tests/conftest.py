"""Shared fixtures: one SparkSession for the whole test session, isolated folders per test."""

import os

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
