"""The one place that decides where the graph runs and with which resources.

``VIDEO_ASSETS_ENV`` selects ``resources/<env>.yaml`` (``local`` by default;
``databricks``, every Spark step a Databricks run through the step launcher;
``databricks-connect``, the steps here with their Spark on Databricks through
Databricks Connect). Every environment exposes the same resource keys, so
assets never know which one they run in:

    spark         SparkResource          (lazy SparkSession)
    io_manager    DeltaIOManager         (one Delta table per asset)
    warehouse     DeltaWarehouse         (the same tables, for assets that write a sibling table)
    landing       LandingZone            (where raw files arrive)
    engagement    EngagementSettings     (the contract's parameters)
    step_launcher Databricks step launcher, or nothing locally

The environment variables are read, and the YAML found, by
``video_assets/config.py``; the names other modules import from here
(``ConfigurationError``, ``PROJECT_ROOT``, ``load_environment_config``...) are
re-exported from it.
"""

from typing import Any

import dagster as dg

from video_assets import config
from video_assets.config import (  # noqa: F401 - re-exported: the names callers have always used
    ENVIRONMENTS,
    PROJECT_ROOT,
    RESOURCES_DIR,
    ConfigurationError,
    allow_empty_overwrite,
    databricks_connect,
    landing_location,
    landing_location_source,
    load_environment_config,
    spark_remote,
    table_sources,
    warehouse_location,
)
from video_assets.io.delta import DeltaIOManager, DeltaWarehouse
from video_assets.io.landing import LandingZone
from video_assets.io.spark import SparkResource
from video_assets.settings import EngagementSettings


def current_environment() -> str:
    """VIDEO_ASSETS_ENV: ``local`` (default) or ``databricks``."""
    return config.from_environment().environment


def build_resources(env: str | None = None) -> dict[str, Any]:
    """The resources for one environment, all under the same keys."""
    env = env or current_environment()
    yaml_config = load_environment_config(env)
    sources = table_sources(yaml_config)
    spark = SparkResource(**spark_settings(env, yaml_config))
    resources: dict[str, Any] = {
        "spark": spark,
        "io_manager": DeltaIOManager(warehouse=warehouse_location(yaml_config), spark=spark),
        "warehouse": DeltaWarehouse(
            location=warehouse_location(yaml_config),
            allow_empty_overwrite=allow_empty_overwrite(yaml_config),
            spark=spark,
        ),
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
    if env == "databricks" and not config.from_environment().on_databricks:
        from video_assets.io.databricks import build_step_launcher  # noqa: PLC0415 - the launching side only

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
