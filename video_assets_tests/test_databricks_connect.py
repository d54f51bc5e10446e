"""spark.databricks_connect: checked when the resources are built, and the one session builder's choices (fast).

The session itself against a Spark Connect server, with databricks-connect's
own client, is video_assets_tests/test_databricks_connect_run.py's.
"""

import sys
import types

import dagster as dg
import pytest

from video_assets import config
from video_assets.config import ConfigurationError, DatabricksConnect
from video_assets.io import spark as spark_module
from video_assets.io.spark import SparkResource, SparkStartupError


@pytest.fixture(autouse=True)
def _no_remote_variables(monkeypatch):
    for name in ("VIDEO_ASSETS_SPARK_REMOTE", "SPARK_REMOTE", "DATABRICKS_RUNTIME_VERSION", "VIDEO_ASSETS_ON_DATABRICKS"):
        monkeypatch.delenv(name, raising=False)


def _yaml(**databricks_connect) -> dict:
    return {"spark": {"databricks_connect": databricks_connect}}


# --- the YAML section -----------------------------------------------------------------------------------


def test_serverless_or_a_cluster_with_an_optional_profile():
    assert config.databricks_connect({"spark": {"shuffle_partitions": 8}}) is None
    assert config.databricks_connect(_yaml(serverless=True)) == DatabricksConnect(serverless=True)
    assert config.databricks_connect(_yaml(cluster_id=" 0123-456789-abcdefgh ", profile="dev")) == DatabricksConnect(
        cluster_id="0123-456789-abcdefgh", profile="dev"
    )
    assert config.databricks_connect(_yaml(serverless=True)).describe() == (
        "Databricks Connect on serverless compute (databricks-sdk's default configuration)"
    )


def test_a_spark_connect_address_replaces_the_compute(monkeypatch):
    """How the tests reach a local server with Databricks' client: the variable wins over the YAML's compute."""
    monkeypatch.setenv("VIDEO_ASSETS_SPARK_REMOTE", "sc://localhost:15002")
    assert config.databricks_connect(_yaml(serverless=True, profile="dev")) == DatabricksConnect(
        profile="dev", remote="sc://localhost:15002"
    )
    monkeypatch.delenv("VIDEO_ASSETS_SPARK_REMOTE")
    with_yaml_remote = {"spark": {"remote": "sc://connect:15002", "databricks_connect": {}}}
    assert config.databricks_connect(with_yaml_remote) == DatabricksConnect(remote="sc://connect:15002")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"serverless": True, "token": "dapi-0123456789"}, "spark.databricks_connect.token in the resources YAML: remove it"),
        ({"serverless": True, "host": "https://adb-1.azuredatabricks.net"}, "spark.databricks_connect.host"),
        ({"serverless": True, "client_secret": "s3cr3t-value"}, "spark.databricks_connect.client_secret"),
        ({"serverless": True, "warehouse": "x"}, "spark.databricks_connect.warehouse in the resources YAML='x': unknown key"),
        ({"serverless": "yes"}, "spark.databricks_connect.serverless in the resources YAML='yes': use true or false"),
        ({"cluster_id": "my cluster"}, "spark.databricks_connect.cluster_id in the resources YAML='my cluster'"),
        ({"cluster_id": 123}, "spark.databricks_connect.cluster_id in the resources YAML=123"),
        ({"serverless": True, "cluster_id": "0123-456789-abcdefgh"}, "serverless: true and cluster_id='0123-456789-abcdefgh': choose one"),
        ({"profile": "dev"}, "say where Spark runs, serverless: true or cluster_id"),
        ({"serverless": True, "profile": ""}, "spark.databricks_connect.profile in the resources YAML=''"),
    ],
)
def test_a_bad_section_names_the_key_and_the_value(section, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        config.databricks_connect({"spark": {"databricks_connect": section}})
    # A credential's value is never repeated in the message.
    for secret in ("dapi-0123456789", "s3cr3t-value", "adb-1.azuredatabricks.net"):
        assert secret not in str(error.value)


def test_not_a_mapping_and_two_computes_in_the_yaml_are_refused():
    with pytest.raises(ConfigurationError, match="spark.databricks_connect in the resources YAML='serverless'"):
        config.databricks_connect({"spark": {"databricks_connect": "serverless"}})
    both = {"spark": {"remote": "sc://connect:15002", "databricks_connect": {"serverless": True}}}
    with pytest.raises(ConfigurationError, match="spark.remote='sc://connect:15002' and spark.databricks_connect.serverless"):
        config.databricks_connect(both)


@pytest.mark.parametrize("where", ["variable", "yaml"])
def test_a_token_in_the_spark_connect_address_is_refused_without_showing_it(monkeypatch, where):
    address = "sc://adb-1.azuredatabricks.net:443/;token=dapi-0123456789;x-databricks-cluster-id=0123-456789-abcdefgh"
    if where == "variable":
        monkeypatch.setenv("VIDEO_ASSETS_SPARK_REMOTE", address)
        name, yaml_config = "VIDEO_ASSETS_SPARK_REMOTE", _yaml(serverless=True)
    else:
        name, yaml_config = "spark.remote in the resources YAML", {"spark": {"remote": address}}
    with pytest.raises(ConfigurationError) as error:
        config.spark_remote(yaml_config)
    text = str(error.value)
    assert text.startswith(
        f"{name}='sc://adb-1.azuredatabricks.net:443/;token=***;x-databricks-cluster-id=0123-456789-abcdefgh'"
    )
    assert "dapi-0123456789" not in text and "a token never goes into the Spark Connect address" in text


def test_the_committed_environment_builds_a_serverless_session_resource():
    resources = config.build_resources("databricks-connect")
    spark = resources["spark"]
    assert spark.databricks_connect.serverless and spark.databricks_connect.cluster_id is None
    assert spark.remote is None
    # No step launcher: every step runs in the Dagster process, only its Spark is remote.
    assert resources["step_launcher"].resource_fn(dg.build_init_resource_context()) is None
    assert "databricks" not in config.load_environment_config("databricks-connect")


def test_databricks_connect_and_the_step_launcher_together_are_refused(monkeypatch):
    committed = config.load_environment_config("databricks")
    both = {**committed, "spark": {**committed["spark"], "databricks_connect": {"serverless": True}}}
    monkeypatch.setattr(config, "load_environment_config", lambda _env: both)
    with pytest.raises(ConfigurationError, match="both spark.databricks_connect .* and a databricks: section"):
        config.build_resources("databricks")


def test_the_variable_selects_the_environment(monkeypatch):
    monkeypatch.setenv("VIDEO_ASSETS_ENV", "Databricks-Connect")
    assert config.from_environment().environment == "databricks-connect"
    monkeypatch.setenv("VIDEO_ASSETS_ENV", "connect")
    with pytest.raises(ConfigurationError, match="'connect' is not one of local, databricks, databricks-connect"):
        config.from_environment()


# --- the session: which builder, with which settings -----------------------------------------------------


class _RecordingSession:
    def __init__(self, refused=()):
        self.settings: dict[str, str] = {}
        self.refused = refused
        self.conf = self

    def set(self, key, value):
        if key in self.refused:
            from pyspark.errors import PySparkException

            raise PySparkException(f"[CONFIG_NOT_AVAILABLE] {key}")
        self.settings[key] = value


class _FakeDatabricksBuilder:
    """databricks.connect.DatabricksSession.builder, recording the calls made on it."""

    calls: list = []
    session: _RecordingSession

    def __getattr__(self, name):
        def call(*args):
            _FakeDatabricksBuilder.calls.append((name, *args))
            return self

        return call

    def getOrCreate(self):  # noqa: N802 - the builder's spelling
        _FakeDatabricksBuilder.calls.append(("getOrCreate",))
        return _FakeDatabricksBuilder.session


@pytest.fixture
def fake_databricks_connect(monkeypatch):
    module = types.ModuleType("databricks.connect")
    module.DatabricksSession = type("DatabricksSession", (), {"builder": _FakeDatabricksBuilder()})
    monkeypatch.setitem(sys.modules, "databricks.connect", module)
    _FakeDatabricksBuilder.calls = []
    _FakeDatabricksBuilder.session = _RecordingSession(refused=("spark.databricks.delta.snapshotPartitions",))
    return _FakeDatabricksBuilder


def _resource(yaml_config: dict) -> SparkResource:
    return SparkResource(**config.spark_settings("databricks-connect", yaml_config))


def test_serverless_with_a_profile_goes_through_databricks_session(fake_databricks_connect):
    session = _resource(_yaml(serverless=True, profile="dev")).get_session()
    assert fake_databricks_connect.calls == [("profile", "dev"), ("serverless",), ("getOrCreate",)]
    assert session is fake_databricks_connect.session
    # Session-level settings only (no master, memory or jars); one the compute refuses is skipped.
    assert session.settings["spark.sql.session.timeZone"] == "UTC"
    assert session.settings["spark.sql.shuffle.partitions"] == "16"
    assert "spark.databricks.delta.snapshotPartitions" not in session.settings
    assert not [key for key in session.settings if not key.startswith("spark.sql.")]
    assert "spark.sql.extensions" not in session.settings


def test_a_cluster_without_a_profile_uses_the_sdk_default_configuration(fake_databricks_connect):
    _resource(_yaml(cluster_id="0123-456789-abcdefgh")).get_session()
    assert fake_databricks_connect.calls == [("clusterId", "0123-456789-abcdefgh"), ("getOrCreate",)]


def test_a_spark_connect_address_becomes_the_connection_string(fake_databricks_connect, monkeypatch):
    monkeypatch.setenv("VIDEO_ASSETS_SPARK_REMOTE", "sc://localhost:15002")
    _resource(_yaml(serverless=True)).get_session()
    assert fake_databricks_connect.calls == [("remote", "sc://localhost:15002"), ("getOrCreate",)]


def test_the_time_zone_is_required_on_a_databricks_connect_session(fake_databricks_connect):
    fake_databricks_connect.session = _RecordingSession(refused=("spark.sql.session.timeZone",))
    with pytest.raises(SparkStartupError, match="Databricks Connect on serverless compute .*CONFIG_NOT_AVAILABLE"):
        _resource(_yaml(serverless=True)).get_session()


def test_without_databricks_connect_installed_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "databricks.connect", None)  # import fails
    with pytest.raises(SparkStartupError, match="databricks-connect is not installed .*databricks-connect==17.3"):
        _resource(_yaml(serverless=True)).get_session()


class _RecordingBuilder:
    options: dict | None = None
    session = None

    def getOrCreate(self):  # noqa: N802
        _RecordingBuilder.options = dict(self._options)
        return _RecordingBuilder.session


@pytest.mark.parametrize("variable", ["DATABRICKS_RUNTIME_VERSION", "VIDEO_ASSETS_ON_DATABRICKS", "SPARK_REMOTE"])
def test_on_compute_that_provides_spark_the_builder_gets_no_local_option(monkeypatch, variable):
    from pyspark.sql import SparkSession

    monkeypatch.setenv(variable, "sc://localhost:1" if variable == "SPARK_REMOTE" else "1")
    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", _RecordingBuilder.getOrCreate)
    _RecordingBuilder.session = _RecordingSession()
    session = SparkResource(shuffle_partitions=8).get_session()
    assert _RecordingBuilder.options == {}
    assert session.settings["spark.sql.shuffle.partitions"] == "8"
    assert session.settings["spark.sql.session.timeZone"] == "UTC"


def test_locally_the_builder_gets_every_setting(monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", _RecordingBuilder.getOrCreate)
    _RecordingBuilder.session = "local session"
    resource = SparkResource(use_delta_packages=False)
    assert resource.get_session() == "local session"
    assert _RecordingBuilder.options["spark.master"] == "local[*]"
    assert _RecordingBuilder.options == resource.settings()
    assert spark_module.compute_provides_session() is False
