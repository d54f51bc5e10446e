"""The HTML report: built from small aggregates (no Spark), and the `video-assets report` command end to end."""

import dataclasses
import re
from datetime import date

import pytest

from video_assets import cli
from video_assets.frames import literal_frame
from video_assets.reporting.html_report import ReportData, default_report_path, render_html
from video_assets.settings import TIERS
from video_assets_tests.builders import day, event, events_frame, run_engagement

DAY1, DAY2 = date(2025, 1, 15), date(2025, 1, 16)
IMAGE = '<img src="data:image/png;base64,'


def hand_made_data() -> ReportData:
    return ReportData(
        first_day=DAY1,
        last_day=DAY2,
        headline=[
            {"day": DAY1, "viewers": 1234, "pairs": 2000, "watch_hours": 12.345, "completion_rate": 0.625,
             "valid_events": 9000, "quarantined": 3000, "quarantine_share": 0.25},
            {"day": DAY2, "viewers": 0, "pairs": 0, "watch_hours": 0.0, "completion_rate": None,
             "valid_events": 10, "quarantined": 0, "quarantine_share": 0.0},
        ],
        top_videos=[
            {"video_id": "v1", "title": "Cooking <b>fast</b> & well", "viewers": 8, "watch_hours": 3.0,
             "completion_rate": 0.625, "retention_curve": [1.0, 0.875, 0.5, 0.375], "engaged_rate": 0.75,
             "reached_shares": [1.0, 0.875, 0.5, 0.25], "furthest_point_shares": [0.125, 0.375, 0.25, 0.25]},
        ],
        tier_mix=[(DAY1, tier, count) for tier, count in zip(TIERS, (5, 3, 2, 0), strict=True)],
        score_bins=[(5.0 * index, index % 4) for index in range(20)],
        thresholds={"High": 70.0, "Medium": 40.0, "Low": 20.0},
        source="/tmp/warehouse",
        platforms=[
            {"video_id": "v1", "platform": "web", "sessions": 6, "viewers": 5, "watch_hours": 2.5,
             "completed_sessions": 3, "completion_rate": 0.5},
            {"video_id": "v1", "platform": "unknown", "sessions": 3, "viewers": 3, "watch_hours": 0.5,
             "completed_sessions": 0, "completion_rate": 0.0},
        ],
    )


def test_the_page_shows_the_headline_numbers_and_four_inline_charts():
    page = render_html(hand_made_data())
    assert "Video engagement, 2025-01-15 to 2025-01-16" in page
    headline_row = re.search(r"<tr><td>2025-01-15</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', headline_row) == [
        "1,234", "12.35", "62.5%", "9,000", "3,000", "25.0%",
    ]
    second_day = re.search(r"<tr><td>2025-01-16</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', second_day) == ["0", "0.00", "—", "10", "0", "0.0%"]
    assert page.count(IMAGE) == 4  # retention beside where viewers stop, the milestone funnel, tiers, scores
    assert "Cooking &lt;b&gt;fast&lt;/b&gt; &amp; well" in page and "<b>fast" not in page
    assert "High ≥ 70, Medium ≥ 40, Low ≥ 20" in page
    top_row = re.search(r"<tr><td class=\"number\">1</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', top_row) == [
        "8", "3.00", "62.5%", "75.0%", "100% / 88% / 50% / 25%",
    ]


def test_the_page_has_a_table_of_the_top_videos_platforms():
    page = render_html(hand_made_data())
    section = page[page.index("<h2>Platforms of the top videos</h2>"):]
    assert re.search(r"<thead><tr>(.*?)</tr></thead>", section).group(1) == (
        "<th>Video</th><th>web</th><th>unknown</th>"  # most sessions first
    )
    row = re.search(r"<tr><td>Cooking &lt;b&gt;fast&lt;/b&gt; &amp; well</td>(.*?)</tr>", section).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', row) == ["6 · 50.0%", "3 · 0.0%"]
    without = render_html(dataclasses.replace(hand_made_data(), platforms=None))
    assert "No video_platform_summary table in this warehouse yet" in without


def test_past_six_platforms_the_rest_are_added_up_as_other():
    sessions = {"web": 9, "ios": 8, "android": 7, "tv": 6, "roku": 5, "car": 2, "fridge": 1}
    platforms = [
        {"video_id": "v1", "platform": name, "sessions": count, "viewers": count, "watch_hours": 1.0,
         "completed_sessions": 1, "completion_rate": round(1 / count, 4)}
        for name, count in sessions.items()
    ]
    page = render_html(dataclasses.replace(hand_made_data(), platforms=platforms))
    section = page[page.index("<h2>Platforms of the top videos</h2>"):]
    assert re.findall(r"<th>([^<]*)</th>", re.search(r"<thead>(.*?)</thead>", section).group(1)) == [
        "Video", "web", "ios", "android", "tv", "roku", "other",
    ]
    row = re.search(r"<tr><td>Cooking[^<]*</td>(.*?)</tr>", section).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', row)[-1] == "3 · 66.7%"  # car and fridge: 2 of 3


def test_the_page_is_self_contained():
    page = render_html(hand_made_data()).lower()
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert re.findall(r'src="([^"]{0,22})', page) == ["data:image/png;base64,"] * 4


def test_default_path_names_the_range():
    path = default_report_path(DAY1, DAY2)
    assert path.parts[-3:] == ("data", "reports", "engagement-2025-01-15_2025-01-16.html")


# --- the command against tiny Delta tables -----------------------------------------------------------

# Two viewers of v1 (100 s) on 2025-01-15: u1 plays it through (100 s, completed), u2 stops at 50 s.
EVENTS = [
    event("u1", "v1", "2025-01-15 10:00:00", "play", 0),
    event("u1", "v1", "2025-01-15 10:01:40", "end", 100),
    event("u2", "v1", "2025-01-15 11:00:00", "play", 0),
    event("u2", "v1", "2025-01-15 11:00:50", "pause", 50),
]


@pytest.fixture(scope="module")
def warehouse(spark, tmp_path_factory):
    location = tmp_path_factory.mktemp("report") / "warehouse"
    tables = run_engagement(spark, EVENTS, {"v1": 100.0}, day("2025-01-15"))
    tables["raw_video_events"] = events_frame(spark, EVENTS)
    tables["raw_video_events_quarantine"] = literal_frame(
        spark,
        [(DAY1, "bad_position", '{"currentTime": -1}', "events.jsonl")],
        "partition_date date, reason string, raw_line string, source_file string",
    )
    partition_columns = {
        "raw_video_events": "event_date", "raw_video_events_quarantine": "partition_date",
        "user_video_metrics": "metric_date", "engagement_tier_summary": "metric_date",
        "video_engagement_summary": "metric_date", "video_platform_summary": "metric_date",
    }
    for name, column in partition_columns.items():
        tables[name].write.format("delta").partitionBy(column).save(str(location / name))
    return location


@pytest.mark.slow  # a Spark warehouse of six Delta tables, then the CLI over it
def test_report_command_writes_the_page_and_prints_its_path(warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(warehouse))
    out = tmp_path / "out" / "report.html"
    assert cli.main(["report", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out.resolve())
    page = out.read_text(encoding="utf-8")
    assert "Video engagement, 2025-01-15 to 2025-01-15" in page  # the days present
    headline_row = re.search(r"<tr><td>2025-01-15</td>(.*?)</tr>", page).group(1)
    # 2 viewers, 150 s = 0.04 h, 1 of 2 pairs completed, 1 quarantined of 4 + 1 records.
    assert re.findall(r'<td class="number">([^<]*)</td>', headline_row) == ["2", "0.04", "50.0%", "4", "1", "20.0%"]
    assert "<td>Title of v1</td>" in page
    assert page.count(IMAGE) == 4
    # u1 watched all of v1, u2 half of it: 2 viewers, both engaged; 25 % reached by both, 50 % (at 50 s) by u1 only.
    top_row = re.search(r"<tr><td class=\"number\">1</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="number">([^<]*)</td>', top_row) == ["2", "0.04", "50.0%", "100.0%", "100% / 50% / 50% / 50%"]
    platforms = page[page.index("<h2>Platforms of the top videos</h2>"):]
    assert re.search(r"<tr><td>Title of v1</td>(.*?)</tr>", platforms).group(1) == '<td class="number">2 · 50.0%</td>'



@pytest.mark.slow  # a Spark warehouse of six Delta tables, then the CLI over it
def test_report_command_refuses_a_range_without_data(warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(warehouse))
    out = tmp_path / "report.html"
    assert cli.main(["report", "--from", "2025-02-01", "--to", "2025-02-02", "--out", str(out)]) == 1
    assert "No engagement_tier_summary rows from 2025-02-01 to 2025-02-02" in capsys.readouterr().err
    assert not out.exists()


def test_report_command_names_the_missing_tables_without_a_traceback(spark, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", str(tmp_path / "empty_warehouse"))
    assert cli.main(["report", "--out", str(tmp_path / "report.html")]) == 1
    error = capsys.readouterr().err
    assert "raw_video_events, raw_video_events_quarantine, user_video_metrics" in error
    assert "bash scripts/demo.sh" in error and "Traceback" not in error
    assert not (tmp_path / "report.html").exists()
