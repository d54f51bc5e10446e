"""The UI path end to end: `dagster dev`, backfills launched as the UI launches them, the lineage page, late data.

One `dagster dev` (webserver + daemons) serves the whole module, with its own
DAGSTER_HOME (a copy of the project's dagster.yaml), landing and warehouse.
Its runs reach Spark through the tests' shared JVM (VIDEO_ASSETS_SPARK_REMOTE
at its Spark Connect server): Spark is not this module's subject, and a run
that starts a cold JVM of its own takes about twice as long on these few rows
(one run in its own JVM: assets/test_concurrent_runs.py).
The tests run in file order and build on each other's state where that saves
minutes (each backfill is a handful of Spark runs): the first backfill is a
fixture; the late-data test reuses it. A job backfill (the relaunch of a range)
is covered in process: test_definitions.py (one run per range) and
assets/test_graph.py (every asset once per day, tables unchanged).

Nothing here depends on which assets the graph has today: assets are
discovered through GraphQL and the Definitions; table contents are checked for
the tables that exist.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from video_assets.tables import table_spec
from video_assets_tests.dagster_runs import snapshot_tables
from video_assets_tests.e2e import landing_data as landing
from video_assets_tests.e2e.browser import INLINE_PNG_LOADED, HeadlessChromium
from video_assets_tests.e2e.dagster_ui import (
    FROM_UI_TAG,
    DagsterDev,
    chromium,
    ensure_chromium_in_background,
    prepare_dagster_home,
)

pytestmark = pytest.mark.e2e

BACKFILL_TIMEOUT = 1500  # seconds; a backfill here is 1-4 Spark runs
DAY_AFTER_RANGE = (date.fromisoformat(landing.BACKFILL_DAYS[-1]) + timedelta(days=1)).isoformat()


@dataclass
class UiEnvironment:
    server: DagsterDev
    landing_dir: Path
    warehouse_dir: Path
    dagster_home: Path
    chromium: Future  # (binary or None, why not), installed with apt-get meanwhile when missing


@dataclass
class BackfillOutcome:
    backfill: dict
    seconds: float
    materializations: dict[str, Counter]  # asset name -> Counter(partition or None)
    tables: dict[str, list[str]]  # table name -> its rows, canonical


@pytest.fixture(scope="module")
def ui(tmp_path_factory, spark_connect_address):
    root = tmp_path_factory.mktemp("ui_path")
    chromium_ready = ensure_chromium_in_background()
    landing_dir = landing.write_landing(root / "landing")
    warehouse_dir = root / "warehouse"
    dagster_home = prepare_dagster_home(root / "dagster_home")
    server = DagsterDev(
        dagster_home,
        {
            "VIDEO_ASSETS_LANDING_DIR": str(landing_dir),
            "VIDEO_ASSETS_WAREHOUSE_DIR": str(warehouse_dir),
            "VIDEO_ASSETS_PARTITION_START": landing.FIRST_DAY,
            "VIDEO_ASSETS_SPARK_REMOTE": spark_connect_address,
        },
    )
    server.start()
    try:
        yield UiEnvironment(server, landing_dir, warehouse_dir, dagster_home, chromium_ready)
    finally:
        server.stop()


def _asset_paths(server: DagsterDev) -> list[list[str]]:
    return sorted(node["assetKey"]["path"] for node in server.asset_nodes())


def _materialization_counts(server: DagsterDev) -> dict[str, Counter]:
    return {
        "/".join(path): Counter(event["partition"] for event in server.materializations(path))
        for path in _asset_paths(server)
    }


def run_backfill(ui: UiEnvironment, spark, launch) -> BackfillOutcome:
    started = time.monotonic()
    backfill_id = launch()
    backfill = ui.server.wait_for_backfill(backfill_id, BACKFILL_TIMEOUT)
    return BackfillOutcome(
        backfill=backfill,
        seconds=round(time.monotonic() - started, 1),
        materializations=_materialization_counts(ui.server),
        tables=snapshot_tables(spark, ui.warehouse_dir),
    )


def launch_asset_backfill(ui: UiEnvironment) -> str:
    """Lineage page -> "Materialize all..." -> choose the days -> "Launch backfill"."""
    return ui.server.launch_backfill(_asset_paths(ui.server), landing.BACKFILL_DAYS, title="e2e backfill")


@pytest.fixture(scope="module")
def first_backfill(ui, spark) -> BackfillOutcome:
    return run_backfill(ui, spark, lambda: launch_asset_backfill(ui))


def _run_summary(backfill: dict) -> list[str]:
    lines = []
    for run in backfill["runs"]:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assets = sorted("/".join(key["path"]) for key in run["assetSelection"] or [])
        window = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
        lines.append(f"{run['runId'][:8]} {run['status']} {assets} {window if window[0] else tags.get('dagster/partition', '')}")
    return lines


def _partitioned(server: DagsterDev) -> dict[str, bool]:
    return {"/".join(node["assetKey"]["path"]): node["isPartitioned"] for node in server.asset_nodes()}


# --- the backfill as launched from the lineage page ----------------------------------------------


def test_backfill_from_the_ui_materializes_every_partition_exactly_once(ui, first_backfill):
    backfill = first_backfill.backfill
    summary = "\n".join(_run_summary(backfill))
    print(f"asset backfill took {first_backfill.seconds} s in {len(backfill['runs'])} runs:\n{summary}")
    assert backfill["status"] == "COMPLETED_SUCCESS", f"{backfill['status']}: {backfill.get('error')}\n{summary}"
    assert backfill["runs"] and all(run["status"] == "SUCCESS" for run in backfill["runs"]), summary
    assert all(FROM_UI_TAG in run["tags"] for run in backfill["runs"]), "runs must carry the UI's tags"

    partitioned = _partitioned(ui.server)
    for name, counts in first_backfill.materializations.items():
        if not partitioned[name]:
            assert counts == Counter({None: 1}), f"{name}: {counts}"
            continue
        assert set(landing.BACKFILL_DAYS) <= set(counts), f"{name} misses days: {sorted(counts)}"
        # A partition-range backfill also refreshes the downstream partition that reads the range's
        # last day through the one-day lookback (session stage partition D+1 reads raw D).
        assert set(counts) <= {*landing.BACKFILL_DAYS, DAY_AFTER_RANGE}, f"{name}: {sorted(counts)}"
        assert set(counts.values()) == {1}, f"{name} materialized more than once: {counts}"

    # Single-run policy: every asset is in exactly one run, and a partitioned run covers a range.
    runs_per_asset = Counter(
        "/".join(key["path"]) for run in backfill["runs"] for key in run["assetSelection"] or []
    )
    assert set(runs_per_asset.values()) == {1}, summary
    for run in backfill["runs"]:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert "dagster/partition" not in tags, f"a run per partition, not per range:\n{summary}"
    # The fewest runs the partition mappings allow: unpartitioned upstream (catalog), raw range,
    # everything downstream of the D-1 lookback (one range), unpartitioned all-time assets.
    assert len(backfill["runs"]) <= 4, summary


def test_days_without_landing_files_are_empty_partitions_with_warnings(ui, first_backfill):
    raw_runs = [
        run for run in first_backfill.backfill["runs"]
        if ["raw_video_events"] in [key["path"] for key in run["assetSelection"] or []]
    ]
    assert len(raw_runs) == 1
    messages = ui.server.run_messages(raw_runs[0]["runId"])
    warnings = [m["message"] for m in messages if m["level"] == "WARNING"]
    for day in sorted(set(landing.BACKFILL_DAYS) - set(landing.LANDED_DAYS)):
        assert any(f"No landing files for {day}" in text for text in warnings), warnings
    # Progress is visible in the run log: the raw stage's timed steps.
    infos = [m["message"] for m in messages if m["level"] == "INFO"]
    assert any("finished in" in text for text in infos), infos


def test_backfilled_tables_hold_what_the_contract_says(ui, first_backfill, spark):
    tables = set(first_backfill.tables)

    def rows(name):
        return spark.read.format("delta").load(str(ui.warehouse_dir / name)).collect()

    def per_day(name, column):
        return dict(Counter(row[column].isoformat() for row in rows(name)))

    assert per_day("raw_video_events", "event_date") == landing.EXPECTED_RAW_EVENTS
    assert per_day("raw_video_events_quarantine", "partition_date") == landing.EXPECTED_QUARANTINE
    if "video_sessions" in tables:
        sessions: dict[str, set] = {}
        for row in rows("video_sessions"):
            sessions.setdefault(row["session_date"].isoformat(), set()).add((row["user_id"], row["video_id"]))
        assert sessions == landing.EXPECTED_SESSIONS
    if "user_video_metrics" in tables:
        pairs = {(r["metric_date"].isoformat(), r["user_id"], r["video_id"]) for r in rows("user_video_metrics")}
        assert pairs == {(day, *pair) for day, day_pairs in landing.EXPECTED_SESSIONS.items() for pair in day_pairs}
    if "user_video_engagement" in tables:
        assert {(r["user_id"], r["video_id"]) for r in rows("user_video_engagement")} == landing.EXPECTED_PAIRS
    # Every partitioned table holds rows only inside what the backfill wrote.
    allowed = {*landing.BACKFILL_DAYS, DAY_AFTER_RANGE}
    for name in tables:
        column = table_spec(name).partition_column
        if column:
            days = {row[column].isoformat() for row in rows(name)}
            assert days <= allowed, f"{name}: {sorted(days)}"


# The WARN checks that the fixture's landing data trips on purpose (landing_data.py), with the
# description each gives. Every other check evaluated by the backfill must pass.
EXPECTED_WARNINGS = {
    # 2024-01-14 and 2024-01-16 have no landing folder: no clean event on those days.
    "raw_video_events:has_events": "No clean events on 2024-01-14, 2024-01-16",
    # 2024-01-15: 1 malformed line quarantined next to 10 valid events (the retried duplicate is
    # neither): 1 / 11 = 9.1% of the day's records, above the default 5%.
    "raw_video_events_quarantine:quarantine_share": "Quarantine share above 5.0% on 2024-01-15 (9.1%)",
}
# Evaluated by freshness_checks_sensor against the wall clock (check-only runs), never by a backfill.
SENSOR_EVALUATED_CHECKS = {"freshness_check"}


def test_asset_checks_ran_and_passed_with_the_backfill(ui, first_backfill):
    backfill_runs = {run["runId"] for run in first_backfill.backfill["runs"]}
    executions = {}
    for node in ui.server.asset_nodes():
        if not node["hasAssetChecks"]:
            continue
        for check in ui.server.asset_checks(node["assetKey"]["path"]):
            if check["name"] not in SENSOR_EVALUATED_CHECKS:
                executions[f"{'/'.join(node['assetKey']['path'])}:{check['name']}"] = (
                    check["executionForLatestMaterialization"]
                )
    assert len(executions) >= 20, f"fewer checks than the graph declares: {sorted(executions)}"
    assert set(EXPECTED_WARNINGS) <= set(executions), sorted(executions)

    not_run = [
        f"{key} -> {execution}"
        for key, execution in executions.items()
        if execution is None or execution["runId"] not in backfill_runs or execution["evaluation"] is None
    ]
    assert not not_run, "checks not evaluated by the backfill's runs:\n" + "\n".join(not_run)

    failed = {
        key: (execution["status"], execution["evaluation"]["severity"], execution["evaluation"]["description"])
        for key, execution in executions.items()
        if execution["status"] != "SUCCEEDED" or not execution["evaluation"]["success"]
    }
    unexpected = {key: outcome for key, outcome in failed.items() if key not in EXPECTED_WARNINGS}
    assert not unexpected, f"checks that should pass on the fixture's data did not: {unexpected}"
    for key, text in EXPECTED_WARNINGS.items():
        assert key in failed, f"{key} passed, but the fixture's data should trip it: {executions[key]}"
        status, severity, description = failed[key]
        assert (status, severity) == ("FAILED", "WARN"), failed[key]
        assert description.startswith(text), description


def test_late_data_sensor_is_registered_and_off_by_default(ui):
    repositories = ui.server.graphql(
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name sensorState { status } } } } } }"
    )["repositoriesOrError"]["nodes"]
    states = {sensor["name"]: sensor["sensorState"]["status"] for repo in repositories for sensor in repo["sensors"]}
    assert states.get("late_data_sensor") == "STOPPED", states


# --- the lineage page in a real browser ----------------------------------------------------------


def test_asset_lineage_page_renders_every_asset_in_headless_chromium(ui):
    binary, why_not = ui.chromium.result(timeout=1200)
    if binary is None:
        pytest.skip(f"headless Chromium unavailable: {why_not}")
    nodes = ui.server.asset_nodes()
    groups = sorted({f"global@global:{node['groupName']}" for node in nodes})
    url = f"{ui.server.url}/asset-groups?expanded={quote(','.join(groups), safe=',@:')}"
    # Large enough for the graph to draw nodes in full (at small sizes it zooms out, names truncated).
    done = chromium(binary, ["--window-size=2400,1300", "--virtual-time-budget=20000", "--dump-dom", url])
    dom = done.stdout
    assert "Global asset lineage" in dom, f"rc={done.returncode}\n{done.stderr[-2000:]}\n{dom[:2000]}"
    missing = [n["assetKey"]["path"][-1] for n in nodes if n["assetKey"]["path"][-1] not in dom]
    assert not missing, f"asset names not on the rendered page: {missing}"
    for group in {node["groupName"] for node in nodes}:
        assert group in dom


def test_retention_plot_renders_on_the_materialization_page_in_headless_chromium(ui, first_backfill):
    """The Events tab of video_engagement_summary: "[Show Markdown]" of retention_top_videos shows the plots."""
    binary, why_not = ui.chromium.result(timeout=1200)
    if binary is None:
        pytest.skip(f"headless Chromium unavailable: {why_not}")
    with HeadlessChromium(binary, 1500, 1150) as browser:
        browser.open(f"{ui.server.url}/assets/video_engagement_summary?view=events")
        browser.wait_for_text(["retention_top_videos", "[Show Markdown]"], timeout=120)
        before_click = browser.dom()
        browser.show_markdown("retention_top_videos", timeout=60)
        browser.wait_for(INLINE_PNG_LOADED, timeout=60, what="the retention plot decoded")
        browser.wait_for(
            "(() => { const plots = [...document.images].filter((img) => img.src.startsWith('data:image/png;base64,'));"
            " return plots.length >= 2 && plots.every((img) => img.complete && img.naturalWidth > 0); })()",
            timeout=60, what="both plots decoded",
        )
        drawn = browser.evaluate(
            "[...document.images].filter((img) => img.src.startsWith('data:image/png;base64,'))"
            ".map((img) => [img.naturalWidth, img.naturalHeight, img.getBoundingClientRect().width])"
        )
        dom = browser.dom()
    assert "data:image/png;base64," not in before_click, "the UI shows a large picture only in its dialog"
    images = [dict(re.findall(r'\b(src|alt)="([^"]*)"', tag)) for tag in re.findall(r"<img\b[^>]*>", dom)]
    plots = [image for image in images if image.get("src", "").startswith("data:image/png;base64,")]
    assert [image.get("alt") for image in plots] == [
        "Audience retention and where viewers stop, most-viewed videos",
        "Milestone funnel of the most-viewed videos",
    ], images
    sizes = []
    for plot in plots:
        png = base64.b64decode(plot["src"].removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        sizes.append(list(struct.unpack(">II", png[16:24])))  # the IHDR chunk
    assert sizes == [size[:2] for size in drawn], drawn  # decoded by the browser, not a broken icon
    for (width, height), (_, _, shown) in zip(sizes, drawn, strict=True):
        assert width >= 400 and height >= 200 and shown >= 300, drawn  # drawn at a readable size
    # The table under the plot: the fixture's two videos, both watched in the range.
    assert "viewer-days" in dom and "First video" in dom and "Second video" in dom


# --- late data -----------------------------------------------------------------------------------


def _execute_subset(subset, defs, instance):
    """Runs a backfill's asset subset in process: one run per group of assets sharing the same partitions,
    in dependency order (what the backfill daemon does with single-run policies)."""
    from video_assets.automation.late_data import partitions_by_asset

    graph = defs.resolve_asset_graph()
    order = {key.to_user_string(): index for index, key in enumerate(graph.toposorted_asset_keys)}
    groups: dict[tuple, list[str]] = {}
    for name, keys in partitions_by_asset(subset).items():
        groups.setdefault(tuple(keys), []).append(name)
    from video_assets.config import build_resources

    results = []
    for keys, names in sorted(groups.items(), key=lambda item: min(order[n] for n in item[1])):
        tags = {}
        if keys != (None,):
            assert keys == tuple(
                (date.fromisoformat(keys[0]) + timedelta(days=i)).isoformat() for i in range(len(keys))
            ), f"not a contiguous range: {keys}"
            tags = {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]}
        result = dg.materialize(
            list(defs.assets), selection=names, resources=build_resources(), instance=instance, tags=tags
        )
        assert result.success
        results.append((names, keys))
    return results


def test_late_data_sensor_reruns_the_changed_day_and_what_reads_it(ui, first_backfill, spark, monkeypatch):
    from video_assets.automation.late_data import DAYS_TAG, late_data_sensor, partitions_by_asset
    from video_assets.definitions import defs
    from video_assets.sources.landing_zone import LandingZone

    # The UI has done its part; the sensor is evaluated in process against the same instance.
    ui.server.stop()
    monkeypatch.setenv("VIDEO_ASSETS_LANDING_DIR", str(ui.landing_dir))
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(ui.warehouse_dir))
    before = snapshot_tables(spark, ui.warehouse_dir)
    resources = {"landing": LandingZone(location=str(ui.landing_dir))}

    with dg.DagsterInstance.from_config(str(ui.dagster_home)) as instance:

        def tick(cursor):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources=resources)
            return late_data_sensor.evaluate_tick(context)

        # First tick: every materialized day is remembered; nothing landed after its run started.
        first = tick(None)
        assert not first.run_requests, first.run_requests
        remembered = json.loads(first.cursor)["days"]
        assert sorted(remembered) == landing.BACKFILL_DAYS
        assert len(first.cursor) < 200

        # A file lands late for 2024-01-15.
        landing.write_late_file(ui.landing_dir)
        second = tick(first.cursor)
        assert len(second.run_requests) == 1
        request = second.run_requests[0]
        assert request.requires_backfill_daemon()
        assert request.tags[DAYS_TAG] == "2024-01-15"
        plan = partitions_by_asset(request.asset_graph_subset)
        partitioned = {name for name, node in _partitioned_by_name(defs).items() if node}
        for name, keys in plan.items():
            if name.startswith("raw_video_events"):
                assert keys == ["2024-01-15"], (name, keys)
            elif name in partitioned:
                assert keys == ["2024-01-15", "2024-01-16"], (name, keys)
            else:
                assert keys == [None], (name, keys)
        downstream = {key.to_user_string() for key in late_data_sensor.asset_selection.resolve(defs.resolve_asset_graph())}
        assert set(plan) == downstream, "raw events, quarantine and everything downstream of them"
        assert "video_catalog" not in plan

        # Nothing changed since: no request.
        assert not tick(second.cursor).run_requests

        _execute_subset(request.asset_graph_subset, defs, instance)

    after = snapshot_tables(spark, ui.warehouse_dir)
    rows = {name: [json.loads(row) for row in table] for name, table in after.items()}
    late_ids = {event["eventId"] for event in landing.LATE_EVENTS_15}
    assert late_ids <= {row["event_id"] for row in rows["raw_video_events"]}
    if "video_sessions" in rows:
        assert any(
            (r["session_date"], r["user_id"], r["video_id"]) == ("2024-01-15", "u2", "v1") for r in rows["video_sessions"]
        )
    if "user_video_metrics" in rows:
        assert any(
            (r["metric_date"], r["user_id"], r["video_id"]) == ("2024-01-15", "u2", "v1")
            for r in rows["user_video_metrics"]
        )
    # Every other day is untouched, row for row (the late events change no session closing on 01-16).
    for name, table in after.items():
        column = table_spec(name).partition_column
        if not column:
            continue
        old = [row for row in before[name] if json.loads(row)[column] != "2024-01-15"]
        new = [row for row in table if json.loads(row)[column] != "2024-01-15"]
        assert new == old, f"{name} changed outside the late day"


def _partitioned_by_name(defs) -> dict[str, bool]:
    graph = defs.resolve_asset_graph()
    return {key.to_user_string(): graph.get(key).partitions_def is not None for key in graph.get_all_asset_keys()}
