"""The Definitions load, and the graph reads as the contract says."""

import dagster as dg
import pytest

from video_assets.definitions import defs
from video_assets.tables import TABLES, WRITTEN_TOGETHER, rewrite_selection


def test_definitions_load_with_every_table_as_an_asset():
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == set(TABLES)


def test_lineage_reads_raw_to_sessions_to_intervals_to_metrics_to_summaries():
    graph = defs.resolve_asset_graph()

    def parents(name):
        return {key.to_user_string() for key in graph.get(dg.AssetKey(name)).parent_keys}

    assert parents("video_sessions") == {"raw_video_events", "video_catalog"}
    assert parents("watch_intervals") == {"video_sessions"}
    assert parents("user_video_metrics") == {"video_sessions", "watch_intervals"}
    assert parents("engagement_tier_summary") == {"user_video_metrics"}
    assert parents("user_video_engagement") == {"user_video_metrics", "watch_intervals"}
    # The platforms are checked against the video summary's sessions, so they come after it.
    assert parents("video_platform_summary") == {"video_sessions", "video_engagement_summary"}
    assert parents("video_lifetime_summary") == {"user_video_engagement"}


def test_partitioned_assets_are_daily_single_run_backfills():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if TABLES[key.to_user_string()].partition_column is None:
            assert node.partitions_def is None, key
            continue
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def _initialized(resources: dict) -> dict:
    """Every resource built as a run would build it (resource functions called, nested resources wired)."""
    with dg.build_resources(resources) as built:
        return {key: getattr(built, key) for key in resources}


def test_every_resource_key_exists_in_both_environments(monkeypatch, tmp_path):
    from video_assets.config import PROJECT_ROOT, build_resources
    from video_assets.databricks.launcher import VideoAssetsStepLauncher
    from video_assets.io.delta import DeltaIOManager, DeltaWarehouse
    from video_assets.sources.landing_zone import LandingZone
    from video_assets.io.spark import SparkResource
    from video_assets.settings import EngagementSettings

    monkeypatch.setenv("DATABRICKS_HOST", "adb-0.0.azuredatabricks.net")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-dummy")
    # The Databricks SDK fills what is not set from ~/.databrickscfg; keep this machine's file out.
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "absent.databrickscfg"))

    local = _initialized(build_resources("local"))
    remote = _initialized(build_resources("databricks"))

    keys = {"spark", "io_manager", "warehouse", "landing", "engagement", "step_launcher"}
    assert set(local) == set(remote) == keys
    types = {
        "spark": SparkResource,
        "io_manager": DeltaIOManager,
        "warehouse": DeltaWarehouse,
        "landing": LandingZone,
        "engagement": EngagementSettings,
    }
    for key, expected in types.items():
        assert isinstance(local[key], expected), (key, type(local[key]))
        assert isinstance(remote[key], expected), (key, type(remote[key]))
    assert local["step_launcher"] is None  # steps run in this process
    assert isinstance(remote["step_launcher"], VideoAssetsStepLauncher)
    assert remote["step_launcher"].databricks_host == "https://adb-0.0.azuredatabricks.net"

    # Each environment's own YAML, relative local folders taken from the project root.
    assert local["warehouse"].location == str(PROJECT_ROOT / "data" / "warehouse")
    assert local["landing"].location == str(PROJECT_ROOT / "data" / "landing")
    assert local["spark"].master == "local[*]" and local["spark"].use_delta_packages is True
    # A Unity Catalog schema and volume: what accounts opened today have (no DBFS root).
    assert remote["warehouse"].location == "main.video_assets"
    assert remote["io_manager"].warehouse == remote["warehouse"]  # one store: the IO manager is built on it
    assert remote["landing"].location == "/Volumes/main/video_assets/landing/landing"
    assert remote["spark"].use_delta_packages is False
    assert remote["step_launcher"].staging_prefix == "/Volumes/main/video_assets/staging/dagster"
    # The cluster is told the locations this process resolved.
    assert remote["step_launcher"].env_variables["VIDEO_ASSETS_LANDING_DIR"] == "/Volumes/main/video_assets/landing/landing"


def test_a_backfill_of_the_main_job_is_one_run_over_the_range():
    """A job backfill (Jobs -> video_engagement_job -> Materialize all...) launches one run per range.

    The backfill daemon splits a job's partitions into runs by the job's own
    backfill policy (dagster's job_backfill reads it from the partition set):
    single-run means one run with the range's start and end tags, which
    test_graph.py runs in process and checks for every asset once per day.
    """
    job = defs.resolve_job_def("video_engagement_job")
    assert job.backfill_policy == dg.BackfillPolicy.single_run()
    assert isinstance(job.partitions_def, dg.DailyPartitionsDefinition)
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == set(TABLES)


def test_the_tables_written_together_are_the_steps_that_run_whole():
    whole_steps = {
        frozenset(key.to_user_string() for key in assets.keys)
        for assets in defs.get_repository_def().assets_defs_by_key.values()
        if len(assets.keys) > 1 and not assets.can_subset
    }
    assert whole_steps == {frozenset(group) for group in WRITTEN_TOGETHER}


@pytest.mark.parametrize("table", sorted(name for name, spec in TABLES.items() if spec.partition_column))
def test_the_rewrite_command_we_print_is_one_the_dagster_cli_accepts(table):
    """What `dagster asset materialize --select S --partition-range A...B` checks before it runs anything."""
    repository = defs.get_repository_def()
    selection = rewrite_selection(table)
    keys = dg.AssetSelection.from_coercible(selection.split(",")).resolve(repository.asset_graph)
    assert dg.AssetKey(table) in keys
    job = repository.get_implicit_job_def_for_assets(keys)
    assert all(job.asset_layer.get(key).backfill_policy == dg.BackfillPolicy.single_run() for key in keys)
    job.get_subset(asset_selection=keys)  # raises DagsterInvalidSubsetError for half of a step


def test_a_selection_without_the_steps_other_table_is_refused():
    """Why rewrite_selection adds the quarantine: `raw_video_events*` alone names half of the raw step."""
    repository = defs.get_repository_def()
    keys = dg.AssetSelection.from_coercible(["raw_video_events*"]).resolve(repository.asset_graph)
    with pytest.raises(dg.DagsterInvalidSubsetError):
        repository.get_implicit_job_def_for_assets(keys).get_subset(asset_selection=keys)
    assert rewrite_selection("raw_video_events") == "raw_video_events*,raw_video_events_quarantine"
    assert rewrite_selection("raw_video_events_quarantine") == "raw_video_events_quarantine*,raw_video_events"
    assert rewrite_selection("engagement_tier_summary") == "engagement_tier_summary*"
