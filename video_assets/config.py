"""Every setting the project takes from the environment, read here and nowhere else.

``from_environment()`` reads the process environment once per call and
returns a frozen ``Settings``: each field is one environment variable, typed,
with its default, validated (an invalid value raises ``ConfigurationError``
naming the variable and what a valid value looks like), and described in the
field's metadata. Nothing is cached, so a test that changes a variable with
``monkeypatch.setenv`` sees it on the next call. The README's Configuration
table lists the same variables (a test keeps the two in step).

The same module finds ``resources/<env>.yaml``: first as package data of the
installed distribution (``video_assets._resources``, mapped from the top-level
``resources/`` folder in pyproject.toml), then in the source tree next to the
``video_assets/`` folder (an editable install made before that mapping, or a
Databricks cluster, where code.zip carries ``resources/`` beside the
package). Where an environment variable and the YAML both set a value, the
variable wins.

Left where they are on purpose: ``DAGSTER_HOME`` (Dagster's own setting, read
by cli.py only to say where runs are stored), ``JAVA_HOME`` (echoed in
io/spark.py's error message when Spark cannot start; in io/jvm_archive.py, part
of the class archive's name: which Java it was built for), ``SPARK_REMOTE``
(Spark's own variable for a Spark Connect address, which the compute running a
step may set; io/spark.py honours it as pyspark does) and
``DATABRICKS_RUNTIME_VERSION`` (set by Databricks on its compute, where
io/spark.py takes the session the compute provides). ``export`` is the one
place that *sets* variables: on a cluster, what the launcher forwarded.

The one helper that decides where the graph runs is here too: ``VIDEO_ASSETS_ENV``
selects ``resources/<env>.yaml`` (``local`` by default; ``databricks``, every
Spark step a Databricks run through the step launcher; ``databricks-connect``,
the steps here with their Spark on Databricks through Databricks Connect), and
``build_resources`` gives every environment the same resource keys, so assets
never know which one they run in:

    spark         SparkResource          (lazy SparkSession)
    warehouse     DeltaWarehouse         (where the tables live; every asset writes through it)
    io_manager    DeltaIOManager         (one Delta table per asset, built on the warehouse)
    landing       LandingZone            (where events and the catalog come from: files or tables)
    engagement    EngagementSettings     (the contract's parameters)
    step_launcher Databricks step launcher, or nothing locally

This module imports neither Dagster nor Spark at import time (``build_resources``
imports them when called), so any module can ask it.
"""

import importlib.resources
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from video_assets import sql_names

ENVIRONMENTS = ("local", "databricks", "databricks-connect")
# The folder that contains video_assets/: a checkout, site-packages, or where a cluster unpacked code.zip.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# resources/ in the source tree (or at the top of code.zip): the fallback when the package data is absent.
RESOURCES_DIR = PROJECT_ROOT / "resources"
# The installed copy of resources/*.yaml (package data, see pyproject.toml).
RESOURCES_PACKAGE = "video_assets._resources"

ENV_VARIABLE = "VIDEO_ASSETS_ENV"
LANDING_DIR_VARIABLE = "VIDEO_ASSETS_LANDING_DIR"
WAREHOUSE_DIR_VARIABLE = "VIDEO_ASSETS_WAREHOUSE_DIR"
ALLOW_EMPTY_OVERWRITE_VARIABLE = "VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE"
PARTITION_START_VARIABLE = "VIDEO_ASSETS_PARTITION_START"
LATE_DATA_INTERVAL_VARIABLE = "VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS"
FRESHNESS_DEADLINE_CRON_VARIABLE = "VIDEO_ASSETS_FRESHNESS_DEADLINE_CRON"
DAILY_SCHEDULE_TIME_VARIABLE = "VIDEO_ASSETS_DAILY_SCHEDULE_TIME"
MAX_QUARANTINE_SHARE_VARIABLE = "VIDEO_ASSETS_MAX_QUARANTINE_SHARE"
SPARK_REMOTE_VARIABLE = "VIDEO_ASSETS_SPARK_REMOTE"
EVENTS_TABLE_VARIABLE = "VIDEO_ASSETS_EVENTS_TABLE"
EVENTS_TIME_COLUMN_VARIABLE = "VIDEO_ASSETS_EVENTS_TIME_COLUMN"
VIDEOS_TABLE_VARIABLE = "VIDEO_ASSETS_VIDEOS_TABLE"
DATABRICKS_HOST_VARIABLE = "DATABRICKS_HOST"
DATABRICKS_TOKEN_VARIABLE = "DATABRICKS_TOKEN"
# Set on the cluster only (the launcher forwards it): there the step already runs remotely.
ON_DATABRICKS_VARIABLE = "VIDEO_ASSETS_ON_DATABRICKS"
CACHE_DIR_VARIABLE = "VIDEO_ASSETS_CACHE_DIR"

DEFAULT_ENVIRONMENT = "local"
DEFAULT_LANDING_LOCATION = "data/landing"
DEFAULT_WAREHOUSE_LOCATION = "data/warehouse"
DEFAULT_PARTITION_START = "2024-01-01"
DEFAULT_LATE_DATA_INTERVAL_SECONDS = 300
DEFAULT_FRESHNESS_DEADLINE_CRON = "0 6 * * *"
DEFAULT_DAILY_SCHEDULE_TIME = "01:00"
DEFAULT_MAX_QUARANTINE_SHARE = 0.05
DEFAULT_EVENTS_TIME_COLUMN = "timestamp"

_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


class ConfigurationError(ValueError):
    """The environment or its resources/<env>.yaml is not usable; the message says how to fix it."""


def _variable(name: str, default: str, description: str, **options: Any) -> Any:
    """A Settings field for one environment variable; the metadata feeds the README table test."""
    return field(metadata={"variable": name, "default": default, "description": description}, **options)


@dataclass(frozen=True)
class Settings:
    """The environment variables of this process, parsed. None means "not set: the YAML decides"."""

    environment: str = _variable(
        ENV_VARIABLE,
        "`local`",
        "`local` (Spark in process), `databricks` (step launcher) or `databricks-connect` (Databricks Connect from "
        "this process); selects resources/<env>.yaml",
    )
    landing_dir: str | None = _variable(
        LANDING_DIR_VARIABLE,
        "`landing.location` of the YAML (`data/landing`)",
        "the landing zone (SEMANTICS.md 1); a relative folder is taken from the project root",
    )
    warehouse_dir: str | None = _variable(
        WAREHOUSE_DIR_VARIABLE,
        "`warehouse.location` of the YAML (`data/warehouse`)",
        "where the Delta tables live: a folder/URI, or a Unity Catalog `catalog.schema`",
    )
    events_table: str | None = _variable(
        EVENTS_TABLE_VARIABLE,
        "`landing.events_table` of the YAML (unset: the landing zone's files)",
        "read raw events from this table instead of the landing files: `catalog.schema.table` or a Delta path "
        "(docs/from-a-notebook.md)",
    )
    events_time_column: str | None = _variable(
        EVENTS_TIME_COLUMN_VARIABLE,
        "`landing.events_time_column` of the YAML (`timestamp`)",
        "the events table's event-time column (TIMESTAMP); a row's day is its UTC date",
    )
    videos_table: str | None = _variable(
        VIDEOS_TABLE_VARIABLE,
        "`landing.videos_table` of the YAML (unset: `videos/videos.csv` of the landing zone)",
        "read the video catalog from this table (`catalog.schema.table` or a Delta path)",
    )
    allow_empty_overwrite: bool | None = _variable(
        ALLOW_EMPTY_OVERWRITE_VARIABLE,
        "`warehouse.allow_empty_overwrite` of the YAML (false)",
        "`1`/`true`/`yes` lets a run replace a day that has rows with an empty result",
    )
    partition_start: str = _variable(PARTITION_START_VARIABLE, "`2024-01-01`", "first daily partition (YYYY-MM-DD, UTC)")
    late_data_interval_seconds: int = _variable(
        LATE_DATA_INTERVAL_VARIABLE, "`300`", "minimum seconds between two evaluations of `late_data_sensor`"
    )
    freshness_deadline_cron: str = _variable(
        FRESHNESS_DEADLINE_CRON_VARIABLE, "`0 6 * * *`", "the freshness deadline of the daily tables (cron, UTC)"
    )
    daily_schedule_time: tuple[int, int] = _variable(
        DAILY_SCHEDULE_TIME_VARIABLE, "`01:00`", "when `daily_engagement_schedule` runs (HH:MM, UTC)"
    )
    max_quarantine_share: float = _variable(
        MAX_QUARANTINE_SHARE_VARIABLE,
        "`0.05`",
        "`quarantine_share` warns above this share of quarantined lines (`0.1` or `10%`)",
    )
    spark_remote: str | None = _variable(
        SPARK_REMOTE_VARIABLE,
        "`spark.remote` of the YAML (unset: Spark starts in the process)",
        "a Spark Connect server `sc://host:port` to run the steps on, instead of starting Spark in the process "
        "(with `spark.databricks_connect`: the address Databricks Connect's client uses instead of its compute)",
    )
    databricks_host: str = _variable(
        DATABRICKS_HOST_VARIABLE,
        "none (required for `databricks`)",
        "the workspace URL, where runs are launched; `https://` is added when missing",
    )
    databricks_token: str = _variable(
        DATABRICKS_TOKEN_VARIABLE,
        "none (required for `databricks`)",
        "personal access or service principal token, where runs are launched; never read from files",
        repr=False,
    )
    on_databricks: bool = _variable(
        ON_DATABRICKS_VARIABLE,
        "unset",
        "set by the launcher on the cluster only (makes the cluster's step launcher inert); do not set it yourself",
    )
    cache_dir: str | None = _variable(
        CACHE_DIR_VARIABLE,
        "`~/.cache/video-assets`",
        "where this machine keeps what setup builds once: the JVM class archive (io/jvm_archive.py); never "
        "forwarded to Databricks",
    )


def from_environment(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of this process now (``environ`` defaults to ``os.environ``; read anew on every call).

    Surrounding blanks are ignored, and a blank value counts as not set.
    """
    environ = os.environ if environ is None else environ

    def text(name: str) -> str:
        return environ.get(name, "").strip()

    return Settings(
        environment=_environment(text(ENV_VARIABLE)),
        landing_dir=text(LANDING_DIR_VARIABLE) or None,
        warehouse_dir=text(WAREHOUSE_DIR_VARIABLE) or None,
        events_table=text(EVENTS_TABLE_VARIABLE) or None,
        events_time_column=_column_name(EVENTS_TIME_COLUMN_VARIABLE, text(EVENTS_TIME_COLUMN_VARIABLE)),
        videos_table=text(VIDEOS_TABLE_VARIABLE) or None,
        allow_empty_overwrite=_optional_flag(ALLOW_EMPTY_OVERWRITE_VARIABLE, text(ALLOW_EMPTY_OVERWRITE_VARIABLE)),
        partition_start=_partition_start(text(PARTITION_START_VARIABLE)),
        late_data_interval_seconds=_late_data_interval(text(LATE_DATA_INTERVAL_VARIABLE)),
        freshness_deadline_cron=_deadline_cron(text(FRESHNESS_DEADLINE_CRON_VARIABLE)),
        daily_schedule_time=_schedule_time(text(DAILY_SCHEDULE_TIME_VARIABLE)),
        max_quarantine_share=_share(text(MAX_QUARANTINE_SHARE_VARIABLE)),
        spark_remote=_spark_remote(SPARK_REMOTE_VARIABLE, text(SPARK_REMOTE_VARIABLE)),
        databricks_host=_host(text(DATABRICKS_HOST_VARIABLE)),
        databricks_token=text(DATABRICKS_TOKEN_VARIABLE),
        on_databricks=bool(text(ON_DATABRICKS_VARIABLE)),
        cache_dir=text(CACHE_DIR_VARIABLE) or None,
    )


def variables() -> dict[str, dict[str, str]]:
    """Every environment variable Settings reads: name -> {"field", "default", "description"}."""
    return {
        item.metadata["variable"]: {
            "field": item.name,
            "default": item.metadata["default"],
            "description": item.metadata["description"],
        }
        for item in fields(Settings)
    }


def export(variables: Mapping[str, str]) -> None:
    """Sets ``variables`` in this process's environment (a step on Databricks: what the launcher forwarded)."""
    os.environ.update(variables)


# Settings of the process that launches runs, meaningless where a step runs: never forwarded to a cluster.
LAUNCH_SIDE_ONLY_VARIABLES = (ON_DATABRICKS_VARIABLE, SPARK_REMOTE_VARIABLE, CACHE_DIR_VARIABLE)


def forwarded_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The project's own VIDEO_ASSETS_* variables (this module's list) as set in this process, for a cluster.

    Never any other variable (a VIDEO_ASSETS_* name the project does not
    define may hold anything, a credential included), nor the launching
    side's own settings (LAUNCH_SIDE_ONLY_VARIABLES).
    """
    environ = os.environ if environ is None else environ
    names = [
        name for name in variables() if name.startswith("VIDEO_ASSETS_") and name not in LAUNCH_SIDE_ONLY_VARIABLES
    ]
    return {name: environ[name] for name in names if name in environ}


# --- parsing, one function per variable -------------------------------------------------------------


def _environment(text: str) -> str:
    env = text.lower() or DEFAULT_ENVIRONMENT
    if env not in ENVIRONMENTS:
        raise ConfigurationError(f"{ENV_VARIABLE}='{env}' is not one of {', '.join(ENVIRONMENTS)}.")
    return env


def _column_name(name: str, text: str) -> str | None:
    if not text:
        return None
    if not re.fullmatch(r"[A-Za-z_][\w]*", text):
        raise ConfigurationError(f"{name}={text!r}: expected a column name (letters, digits, _), e.g. timestamp.")
    return text


def _optional_flag(name: str, text: str) -> bool | None:
    text = text.lower()
    if not text:
        return None
    if text not in _TRUE + _FALSE:
        raise ConfigurationError(f"{name}='{text}': use 1/true/yes or 0/false/no.")
    return text in _TRUE


def _partition_start(text: str) -> str:
    text = text or DEFAULT_PARTITION_START
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise ConfigurationError(
            f"{PARTITION_START_VARIABLE}='{text}': expected a day as YYYY-MM-DD, e.g. {DEFAULT_PARTITION_START}."
        ) from None
    return text


def _late_data_interval(text: str) -> int:
    if not text:
        return DEFAULT_LATE_DATA_INTERVAL_SECONDS
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"{LATE_DATA_INTERVAL_VARIABLE}='{text}' is not a whole number of seconds.") from None
    if value < 1:
        raise ConfigurationError(f"{LATE_DATA_INTERVAL_VARIABLE} must be at least 1 second, got {value}.")
    return value


def _deadline_cron(text: str) -> str:
    """Five cron fields; what each field may hold is checked by Dagster where the policy is built (freshness.py)."""
    cron = text or DEFAULT_FRESHNESS_DEADLINE_CRON
    if len(cron.split()) != 5:
        raise ConfigurationError(
            f"{FRESHNESS_DEADLINE_CRON_VARIABLE}={cron!r} is not a usable cron deadline: expected five fields "
            f"(minute hour day-of-month month day-of-week, UTC), e.g. {DEFAULT_FRESHNESS_DEADLINE_CRON!r}."
        )
    return cron


def _schedule_time(text: str) -> tuple[int, int]:
    text = text or DEFAULT_DAILY_SCHEDULE_TIME
    problem = f"{DAILY_SCHEDULE_TIME_VARIABLE}={text!r}: expected HH:MM (UTC), e.g. {DEFAULT_DAILY_SCHEDULE_TIME}"
    try:
        hour, minute = (int(part) for part in text.split(":"))
    except ValueError:
        raise ConfigurationError(problem) from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigurationError(problem)
    return hour, minute


def _share(text: str) -> float:
    if not text:
        return DEFAULT_MAX_QUARANTINE_SHARE
    problem = f"{MAX_QUARANTINE_SHARE_VARIABLE}={text!r}: give a share between 0 and 1 (0.05) or a percent (5%)."
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise ConfigurationError(problem) from None
    if not 0 <= value <= 1:  # also refuses nan
        raise ConfigurationError(problem)
    return value


# A Spark Connect connection string's parameters: sc://host:port/;name=value;name=value
_CONNECTION_PARAMETER = re.compile(r";([^=;]+)=([^;]*)")


def _spark_remote(name: str, text: str) -> str | None:
    if not text:
        return None
    if not text.startswith("sc://") or len(text) == len("sc://"):
        raise ConfigurationError(f"{name}={text!r}: expected a Spark Connect address, e.g. sc://localhost:15002.")
    if any(key.strip().lower() == "token" for key, _ in _CONNECTION_PARAMETER.findall(text)):
        masked = _CONNECTION_PARAMETER.sub(
            lambda match: f";{match[1]}=***" if match[1].strip().lower() == "token" else match[0], text
        )
        raise ConfigurationError(
            f"{name}={masked!r}: a token never goes into the Spark Connect address, which is logged and stored "
            f"with the run. Remove ';token=…': Databricks Connect reads its credentials from databricks-sdk's "
            f"configuration ({DATABRICKS_HOST_VARIABLE}/{DATABRICKS_TOKEN_VARIABLE}, or a profile of "
            "~/.databrickscfg named in spark.databricks_connect.profile)."
        )
    return text


def _host(text: str) -> str:
    if text and "://" not in text:
        return f"https://{text}"
    return text


# --- resources/<env>.yaml, and the settings where the variable wins over the YAML ---------------------


def resource_folders() -> Iterator[Traversable]:
    """Where resources/*.yaml is looked for, in order: the installed package data, then the source tree."""
    try:
        yield importlib.resources.files(RESOURCES_PACKAGE)
    except ModuleNotFoundError:
        pass  # not installed as package data (an older editable install, or code.zip on a cluster)
    yield RESOURCES_DIR


def environment_yaml(env: str) -> Traversable | None:
    """resources/<env>.yaml from the first folder that has it, or None."""
    for folder in resource_folders():
        candidate = folder / f"{env}.yaml"
        if candidate.is_file():
            return candidate
    return None


def load_environment_config(env: str) -> dict[str, Any]:
    """resources/<env>.yaml as a dict (empty when the file is absent, so defaults apply)."""
    path = environment_yaml(env)
    if path is None:
        return {}
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path} is not valid YAML: {error}") from error


def _local_path(value: str) -> str:
    """Relative local folders are taken from the project root, so the UI and CLI agree wherever they start."""
    if "://" in value or value.startswith("/") or ":" in value.split("/")[0]:
        return value
    return str((PROJECT_ROOT / value).resolve())


def landing_location(config: Mapping[str, Any]) -> str:
    """VIDEO_ASSETS_LANDING_DIR, else landing.location of the YAML, else data/landing."""
    value = from_environment().landing_dir or config.get("landing", {}).get("location", DEFAULT_LANDING_LOCATION)
    return _local_path(value)


def landing_location_source(env: str) -> str:
    """Which setting chose the landing location, for error messages."""
    if from_environment().landing_dir:
        return f"the environment variable {LANDING_DIR_VARIABLE}"
    return f"resources/{env}.yaml (landing.location)"


def warehouse_location(config: Mapping[str, Any]) -> str:
    """VIDEO_ASSETS_WAREHOUSE_DIR, else warehouse.location of the YAML, else data/warehouse.

    A folder or URI (a relative folder taken from the project root), or a
    Unity Catalog ``catalog.schema``; anything else stops here, naming the
    setting and the value (sql_names.parse_warehouse).
    """
    variable = from_environment().warehouse_dir
    value = variable or config.get("warehouse", {}).get("location", DEFAULT_WAREHOUSE_LOCATION)
    setting = WAREHOUSE_DIR_VARIABLE if variable else "warehouse.location in the resources YAML"
    try:
        reference = sql_names.parse_warehouse(str(value))
    except ValueError as error:
        raise ConfigurationError(f"{setting}={value!r}: {error}.") from None
    return _local_path(reference.path) if reference.is_path else reference.text


@dataclass(frozen=True)
class TableSources:
    """The tables the raw stage reads instead of the landing files; None where the landing files are read."""

    events_table: str | None
    events_time_column: str
    videos_table: str | None


def table_sources(config: Mapping[str, Any]) -> TableSources:
    """VIDEO_ASSETS_EVENTS_TABLE / _EVENTS_TIME_COLUMN / _VIDEOS_TABLE, else landing.events_table /
    events_time_column / videos_table of the YAML, else the landing files (time column ``timestamp``)."""
    settings = from_environment()
    landing = config.get("landing") or {}

    def yaml_text(key: str) -> str | None:
        value = landing.get(key)
        return str(value).strip() or None if value is not None else None

    time_column = settings.events_time_column or _column_name(
        "landing.events_time_column in the resources YAML", yaml_text("events_time_column") or ""
    )
    events_variable, videos_variable = settings.events_table, settings.videos_table
    return TableSources(
        events_table=_table_location(
            events_variable or yaml_text("events_table"),
            EVENTS_TABLE_VARIABLE if events_variable else "landing.events_table in the resources YAML",
        ),
        events_time_column=time_column or DEFAULT_EVENTS_TIME_COLUMN,
        videos_table=_table_location(
            videos_variable or yaml_text("videos_table"),
            VIDEOS_TABLE_VARIABLE if videos_variable else "landing.videos_table in the resources YAML",
        ),
    )


def _table_location(value: str | None, setting: str) -> str | None:
    """A catalog name as given; a Delta path (``delta.`/path``` too) with a relative folder taken from the
    project root, as the landing folder is. A value that is neither stops here, naming ``setting``."""
    if value is None:
        return None
    try:
        reference = sql_names.parse_table_reference(value)
    except ValueError as error:
        raise ConfigurationError(f"{setting}={value!r}: {error}.") from None
    return _local_path(reference.path) if reference.is_path else reference.text


def spark_remote(config: Mapping[str, Any]) -> str | None:
    """VIDEO_ASSETS_SPARK_REMOTE, else spark.remote of the YAML, else None (Spark starts in the process)."""
    value = (config.get("spark") or {}).get("remote")
    return from_environment().spark_remote or _spark_remote("spark.remote in the resources YAML", str(value or ""))


DATABRICKS_CONNECT_KEY = "databricks_connect"
_DATABRICKS_CONNECT_KEYS = ("serverless", "cluster_id", "profile")
# Keys that would put a credential (or the workspace it belongs to) into the YAML.
_CREDENTIAL_LIKE_KEY = re.compile(r"token|password|secret|credential|key|host|client_id", re.IGNORECASE)
_CLUSTER_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*")


@dataclass(frozen=True)
class DatabricksConnect:
    """spark.databricks_connect of the YAML: Spark through Databricks Connect's client from this process.

    Exactly one compute: ``serverless``, a ``cluster_id``, or a Spark Connect
    address (``remote``: VIDEO_ASSETS_SPARK_REMOTE or spark.remote, a
    connection string for ``DatabricksSession.builder.remote``). Credentials
    come from databricks-sdk's configuration, or the ``profile`` of
    ~/.databrickscfg; never from the YAML.
    """

    serverless: bool = False
    cluster_id: str | None = None
    profile: str | None = None
    remote: str | None = None

    def describe(self) -> str:
        """Where Spark runs, for logs and messages (holds no credential)."""
        compute = (
            f"the Spark Connect address {self.remote}" if self.remote
            else "serverless compute" if self.serverless
            else f"cluster {self.cluster_id}"
        )
        auth = f"profile {self.profile!r}" if self.profile else "databricks-sdk's default configuration"
        return f"Databricks Connect on {compute} ({auth})"


def databricks_connect(config: Mapping[str, Any]) -> DatabricksConnect | None:
    """spark.databricks_connect of the YAML, checked, with the Spark Connect address (variable or YAML) that
    replaces its compute; None when the section is absent (Spark is started, or reached at spark.remote)."""
    spark = config.get("spark") or {}
    if DATABRICKS_CONNECT_KEY not in spark:
        return None
    where = f"spark.{DATABRICKS_CONNECT_KEY}"
    section = spark[DATABRICKS_CONNECT_KEY]
    section = {} if section is None else section
    if not isinstance(section, Mapping):
        raise ConfigurationError(
            f"{where} in the resources YAML={section!r}: expected a mapping, e.g. "
            "{serverless: true} or {cluster_id: 0123-456789-abcdefgh, profile: my-workspace}."
        )
    for key in section:
        if _CREDENTIAL_LIKE_KEY.search(str(key)):
            raise ConfigurationError(
                f"{where}.{key} in the resources YAML: remove it (its value is not shown here). Credentials and the "
                "workspace never come from the YAML: Databricks Connect reads them from databricks-sdk's "
                f"configuration ({DATABRICKS_HOST_VARIABLE} and {DATABRICKS_TOKEN_VARIABLE}, or OAuth), or from "
                f"the profile of ~/.databrickscfg named in {where}.profile."
            )
        if key not in _DATABRICKS_CONNECT_KEYS:
            raise ConfigurationError(
                f"{where}.{key} in the resources YAML={section[key]!r}: unknown key; "
                f"{where} takes {', '.join(_DATABRICKS_CONNECT_KEYS)}."
            )
    serverless = section.get("serverless", False)
    if not isinstance(serverless, bool):
        raise ConfigurationError(f"{where}.serverless in the resources YAML={serverless!r}: use true or false.")
    cluster_id = section.get("cluster_id")
    if cluster_id is not None and not (isinstance(cluster_id, str) and _CLUSTER_ID.fullmatch(cluster_id.strip())):
        raise ConfigurationError(
            f"{where}.cluster_id in the resources YAML={cluster_id!r}: expected a cluster id, "
            "e.g. 0123-456789-abcdefgh (the cluster's page, or `databricks clusters list`)."
        )
    profile = section.get("profile")
    if profile is not None and not (isinstance(profile, str) and profile.strip()):
        raise ConfigurationError(
            f"{where}.profile in the resources YAML={profile!r}: expected the name of a ~/.databrickscfg profile."
        )
    yaml_remote = spark.get("remote")
    if yaml_remote and (serverless or cluster_id):
        raise ConfigurationError(
            f"spark.remote={yaml_remote!r} and {where}.{'serverless' if serverless else 'cluster_id'} in the "
            "resources YAML both say where Spark runs: keep one."
        )
    remote = spark_remote(config)
    if serverless and cluster_id:
        raise ConfigurationError(
            f"{where} in the resources YAML has serverless: true and cluster_id={cluster_id!r}: choose one."
        )
    if not (serverless or cluster_id or remote):
        raise ConfigurationError(
            f"{where} in the resources YAML={dict(section)!r}: say where Spark runs, serverless: true or "
            "cluster_id: <cluster id>."
        )
    return DatabricksConnect(
        serverless=serverless and not remote,
        cluster_id=cluster_id.strip() if cluster_id and not remote else None,
        profile=profile.strip() if profile else None,
        remote=remote,
    )


def allow_empty_overwrite(config: Mapping[str, Any]) -> bool:
    """VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE, else warehouse.allow_empty_overwrite of the YAML (default false)."""
    override = from_environment().allow_empty_overwrite
    if override is not None:
        return override
    return bool(config.get("warehouse", {}).get("allow_empty_overwrite", False))


# --- the environment's resources ------------------------------------------------------------------


def current_environment() -> str:
    """VIDEO_ASSETS_ENV: ``local`` (default) or ``databricks``."""
    return from_environment().environment


def build_resources(env: str | None = None, spark_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The resources for one environment, all under the same keys (Dagster and the resources' modules are
    imported here, so that the rest of this module stays cheap to import). ``spark_overrides``: Spark
    resource fields that win over the YAML's (a benchmark's variant of the same run)."""
    import dagster as dg  # noqa: PLC0415

    from video_assets.io.delta import DeltaIOManager, DeltaWarehouse  # noqa: PLC0415
    from video_assets.io.spark import SparkResource  # noqa: PLC0415
    from video_assets.settings import EngagementSettings  # noqa: PLC0415
    from video_assets.sources.landing_zone import LandingZone  # noqa: PLC0415

    env = env or current_environment()
    yaml_config = load_environment_config(env)
    sources = table_sources(yaml_config)
    spark = SparkResource(**{**spark_settings(env, yaml_config), **(spark_overrides or {})})
    warehouse = DeltaWarehouse(
        location=warehouse_location(yaml_config),
        allow_empty_overwrite=allow_empty_overwrite(yaml_config),
        spark=spark,
    )
    resources: dict[str, Any] = {
        "spark": spark,
        "io_manager": DeltaIOManager(warehouse=warehouse),
        "warehouse": warehouse,
        "landing": LandingZone(
            location=landing_location(yaml_config),
            location_source=landing_location_source(env),
            events_table=sources.events_table,
            events_time_column=sources.events_time_column,
            videos_table=sources.videos_table,
        ),
        "engagement": EngagementSettings(**yaml_config.get("engagement", {})),
        "step_launcher": dg.ResourceDefinition.none_resource(description="Steps run in this process."),
    }
    # On Databricks the step already runs remotely: its launcher stays the none resource above, and
    # dagster-databricks (whose requirements include pyspark) need not be installed there.
    if env == "databricks" and not from_environment().on_databricks:
        from video_assets.databricks.launcher import build_step_launcher  # noqa: PLC0415 - the launching side only

        resources["step_launcher"] = build_step_launcher(yaml_config.get("databricks", {}), yaml_config)
    return resources


def spark_settings(env: str, yaml_config: dict[str, Any]) -> dict[str, Any]:
    """The Spark resource's config: the YAML's `spark:` section, with its remote and Databricks Connect
    settings checked (and the variables that win over them applied)."""
    connect = databricks_connect(yaml_config)
    if connect is not None and "databricks" in yaml_config:
        raise ConfigurationError(
            f"resources/{env}.yaml has both spark.databricks_connect (Spark reached from this process) and a "
            "databricks: section (every step run on Databricks by the step launcher): keep one "
            "(docs/databricks.md, 'Databricks Connect or the step launcher')."
        )
    settings = {**(yaml_config.get("spark") or {}), "remote": spark_remote(yaml_config)}
    if connect is not None:
        settings["databricks_connect"] = {
            "serverless": connect.serverless, "cluster_id": connect.cluster_id, "profile": connect.profile
        }
    return settings
