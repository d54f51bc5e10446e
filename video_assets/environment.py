"""The one place that decides where the graph runs and with which resources.

``VIDEO_ASSETS_ENV`` selects ``resources/<env>.yaml`` (``local`` by default,
``databricks`` in production). Both environments expose the same resource
keys, so assets never know which one they run in:

    spark         SparkResource          (lazy SparkSession)
    io_manager    DeltaIOManager         (one Delta table per asset)
    warehouse     DeltaWarehouse         (the same tables, for assets that write a sibling table)
    landing       LandingZone            (where raw files arrive)
    engagement    EngagementSettings     (the contract's parameters)
    step_launcher Databricks step launcher, or nothing locally
"""

import os
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from video_assets.io.delta import DeltaIOManager, DeltaWarehouse
from video_assets.io.landing import LandingZone
from video_assets.io.spark import SparkResource
from video_assets.settings import EngagementSettings

ENVIRONMENTS = ("local", "databricks")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESOURCES_DIR = PROJECT_ROOT / "resources"


class ConfigurationError(ValueError):
    """The environment or its resources/<env>.yaml is not usable; the message says how to fix it."""


def current_environment() -> str:
    env = os.environ.get("VIDEO_ASSETS_ENV", "local").strip().lower() or "local"
    if env not in ENVIRONMENTS:
        raise ConfigurationError(f"VIDEO_ASSETS_ENV='{env}' is not one of {', '.join(ENVIRONMENTS)}.")
    return env


def load_environment_config(env: str) -> dict[str, Any]:
    """resources/<env>.yaml as a dict (empty when the file is absent, so defaults apply)."""
    path = RESOURCES_DIR / f"{env}.yaml"
    if not path.exists():
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


def landing_location(config: dict[str, Any]) -> str:
    value = os.environ.get("VIDEO_ASSETS_LANDING_DIR") or config.get("landing", {}).get("location", "data/landing")
    return _local_path(value)


def landing_location_source(env: str) -> str:
    """Which setting chose the landing location, for error messages."""
    if os.environ.get("VIDEO_ASSETS_LANDING_DIR"):
        return "the environment variable VIDEO_ASSETS_LANDING_DIR"
    return f"resources/{env}.yaml (landing.location)"


def allow_empty_overwrite(config: dict[str, Any]) -> bool:
    """VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE=1, or warehouse.allow_empty_overwrite in the YAML (default false)."""
    text = os.environ.get("VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE", "").strip().lower()
    if text:
        if text not in ("1", "true", "yes", "0", "false", "no"):
            raise ConfigurationError(f"VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE='{text}': use 1/true/yes or 0/false/no.")
        return text in ("1", "true", "yes")
    return bool(config.get("warehouse", {}).get("allow_empty_overwrite", False))


def warehouse_location(config: dict[str, Any]) -> str:
    value = os.environ.get("VIDEO_ASSETS_WAREHOUSE_DIR") or config.get("warehouse", {}).get(
        "location", "data/warehouse"
    )
    if "." in value and "/" not in value:  # a Unity Catalog catalog.schema
        return value
    return _local_path(value)


def build_resources(env: str | None = None) -> dict[str, Any]:
    """The resources for one environment, all under the same keys."""
    env = env or current_environment()
    config = load_environment_config(env)
    spark = SparkResource(**config.get("spark", {}))
    resources: dict[str, Any] = {
        "spark": spark,
        "io_manager": DeltaIOManager(warehouse=warehouse_location(config), spark=spark),
        "warehouse": DeltaWarehouse(
            location=warehouse_location(config), allow_empty_overwrite=allow_empty_overwrite(config), spark=spark
        ),
        "landing": LandingZone(location=landing_location(config), location_source=landing_location_source(env)),
        "engagement": EngagementSettings(**config.get("engagement", {})),
        "step_launcher": dg.ResourceDefinition.none_resource(description="Steps run in this process."),
    }
    if env == "databricks":
        from video_assets.io.databricks import build_step_launcher  # noqa: PLC0415 - databricks only

        resources["step_launcher"] = build_step_launcher(config.get("databricks", {}))
    return resources
