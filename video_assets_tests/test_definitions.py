"""The Definitions load, and the graph reads as the contract says."""

import dagster as dg

from video_assets.definitions import defs
from video_assets.tables import TABLES


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


def test_partitioned_assets_are_daily_single_run_backfills():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if TABLES[key.to_user_string()].partition_column is None:
            assert node.partitions_def is None, key
            continue
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_every_resource_key_exists_in_both_environments(monkeypatch):
    from video_assets.environment import build_resources

    local = build_resources("local")
    assert set(local) == {"spark", "io_manager", "warehouse", "landing", "engagement", "step_launcher"}
